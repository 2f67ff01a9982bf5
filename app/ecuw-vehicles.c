/* ecuw-vehicles.c — `ecuw vehicles` and `ecuw features FAMILY`: what the
 * vehicle database holds. */
#include "config.h"

#include <glib/gi18n.h>

#include "ecuw-command.h"

static void
add_string (JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name (b, name);
  if (value != NULL)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

static void
add_int (JsonBuilder *b, const char *name, gint64 value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, value);
}

static void
add_provenance (JsonBuilder *b, const EwProvenanceInfo *provenance)
{
  add_string (b, "provenance", ew_provenance_to_string (provenance->provenance));
  if (provenance->source != NULL)
    add_string (b, "source", provenance->source);
}

static char *
chassis_list (const EwFamily *family)
{
  g_autoptr(GString) s = g_string_new (NULL);

  for (guint i = 0; i < family->chassis->len; i++)
    {
      const EwChassis *c = g_ptr_array_index (family->chassis, i);
      g_string_append_printf (s, "%s%s", i ? ", " : "", c->code);
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

gboolean
ecuw_cmd_vehicles (EcuwContext *ctx, int argc, char **argv, GError **error)
{
  EwVehicleDatabase *db;
  GPtrArray *families;

  if (argc != 1)
    {
      g_set_error_literal (error, ECUW_ERROR, ECUW_ERROR_USAGE,
                           _("usage: ecuw vehicles (takes no arguments)"));
      return FALSE;
    }

  db = ecuw_context_get_database (ctx);
  families = ew_vehicle_database_get_families (db);

  if (ctx->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      GPtrArray *errors = ew_vehicle_database_get_errors (db);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "families");
      json_builder_begin_array (b);
      for (guint i = 0; i < families->len; i++)
        {
          const EwFamily *f = g_ptr_array_index (families, i);

          json_builder_begin_object (b);
          add_string (b, "id", f->id);
          add_string (b, "make", f->make);
          add_string (b, "model", f->model);
          add_int (b, "years_from", f->years_from);
          add_int (b, "years_to", f->years_to);
          json_builder_set_member_name (b, "chassis");
          json_builder_begin_array (b);
          for (guint j = 0; j < f->chassis->len; j++)
            json_builder_add_string_value (b, ((const EwChassis *) g_ptr_array_index (f->chassis, j))->code);
          json_builder_end_array (b);
          add_int (b, "modules", f->modules->len);
          add_int (b, "features", f->features->len);
          add_int (b, "jobs", f->jobs->len);
          add_provenance (b, &f->provenance);
          add_string (b, "file", f->path);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_set_member_name (b, "errors");
      json_builder_begin_array (b);
      for (guint i = 0; i < errors->len; i++)
        json_builder_add_string_value (b, ((const GError *) g_ptr_array_index (errors, i))->message);
      json_builder_end_array (b);
      json_builder_end_object (b);
      ecuw_print_json (b);
      return TRUE;
    }

  for (guint i = 0; i < families->len; i++)
    {
      const EwFamily *f = g_ptr_array_index (families, i);
      g_autofree char *chassis = chassis_list (f);
      g_autofree char *title = g_strdup_printf ("%s %s", f->make, f->model);
      /* TRANSLATORS: "10 modules, 14 features" */
      g_autofree char *counts = g_strdup_printf (_("%u modules, %u features"),
                                                 f->modules->len, f->features->len);

      g_print ("%-16s %-24s %u–%u  %-16s %s  [%s]\n", f->id, title, f->years_from,
               f->years_to, chassis, counts, ew_provenance_to_string (f->provenance.provenance));
    }
  return TRUE;
}

static void
add_feature_json (JsonBuilder *b, const EwFeature *feature)
{
  json_builder_begin_object (b);
  add_string (b, "id", feature->id);
  add_string (b, "name", feature->name);
  add_string (b, "description", feature->description);
  add_string (b, "class", ew_work_class_to_string (feature->work_class));
  add_string (b, "category", feature->category);
  add_string (b, "module", feature->module);
  add_int (b, "labour_minutes", feature->labour_minutes);
  if (feature->reason != NULL)
    add_string (b, "reason", feature->reason);
  if (feature->item != NULL)
    {
      g_autofree char *did = g_strdup_printf ("0x%04X", feature->did);
      add_string (b, "did", did);
      add_string (b, "item", feature->item);
    }
  if (feature->min_software != NULL)
    add_string (b, "min_software", feature->min_software);

  json_builder_set_member_name (b, "states");
  json_builder_begin_array (b);
  for (guint i = 0; i < feature->states->len; i++)
    {
      const EwFeatureState *s = g_ptr_array_index (feature->states, i);
      json_builder_add_string_value (b, s->name);
    }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "requires");
  json_builder_begin_array (b);
  for (guint i = 0; i < feature->requires->len; i++)
    {
      const EwRequirement *r = g_ptr_array_index (feature->requires, i);

      json_builder_begin_object (b);
      add_string (b, "kind", r->kind == EW_REQUIREMENT_OPTION ? "option" : "module");
      add_string (b, "id", r->id);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  add_provenance (b, &feature->provenance);
  json_builder_end_object (b);
}

gboolean
ecuw_cmd_features (EcuwContext *ctx, int argc, char **argv, GError **error)
{
  EwFamily *family;

  if (argc != 2)
    {
      g_set_error_literal (error, ECUW_ERROR, ECUW_ERROR_USAGE,
                           _("usage: ecuw features FAMILY (see ecuw vehicles)"));
      return FALSE;
    }

  family = ew_vehicle_database_find_family (ecuw_context_get_database (ctx), argv[1]);
  if (family == NULL)
    {
      /* TRANSLATORS: %s is a vehicle family id such as bmw-f30 */
      g_set_error (error, ECUW_ERROR, ECUW_ERROR_NOT_FOUND,
                   _("unknown vehicle family “%s”; ecuw vehicles lists the known ones"), argv[1]);
      return FALSE;
    }

  if (ctx->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      add_string (b, "family", family->id);
      json_builder_set_member_name (b, "features");
      json_builder_begin_array (b);
      for (guint i = 0; i < family->features->len; i++)
        add_feature_json (b, g_ptr_array_index (family->features, i));
      json_builder_end_array (b);
      json_builder_end_object (b);
      ecuw_print_json (b);
      return TRUE;
    }

  for (guint i = 0; i < family->features->len; i++)
    {
      const EwFeature *f = g_ptr_array_index (family->features, i);

      g_print ("%-28s %-12s %-12s %-14s %3u min  %s\n", f->id,
               ew_work_class_to_string (f->work_class), f->category, f->module,
               f->labour_minutes, f->name);
    }
  return TRUE;
}
