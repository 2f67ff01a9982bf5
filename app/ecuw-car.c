/* ecuw-car.c — what the coding commands share: the car behind the link
 * (connected, scanned, its features read) and how a plan's writes are
 * shown. */
#include "config.h"

#include <glib/gi18n.h>

#include "ecuw-command.h"

void
ecuw_car_clear (EcuwCar *car)
{
  g_clear_pointer (&car->catalogue, ew_feature_catalogue_free);
  g_clear_pointer (&car->scan, ew_scan_result_free);
  if (car->connection != NULL)
    ew_connection_close (car->connection);
  g_clear_object (&car->connection);
}

gboolean
ecuw_car_read (EcuwContext *ctx, EcuwCar *car, GError **error)
{
  car->connection = ew_connection_open (ecuw_context_get_link (ctx), ecuw_context_get_database (ctx),
                                        NULL, error);
  if (car->connection == NULL)
    return FALSE;
  car->scan = ew_scan_run (car->connection, 0, NULL, NULL, NULL, error);
  if (car->scan == NULL)
    return FALSE;
  car->catalogue = ew_feature_catalogue_read (car->connection, car->scan, NULL, error);
  return car->catalogue != NULL;
}

void
ecuw_car_add_members (JsonBuilder *b, const char *uri, EwFeatureCatalogue *catalogue)
{
  ecuw_json_add_string (b, "link", uri);
  ecuw_json_add_string (b, "family", ew_feature_catalogue_get_family (catalogue)->id);
  ecuw_json_add_string (b, "vin", ew_feature_catalogue_get_vin (catalogue));
  json_builder_set_member_name (b, "simulated");
  json_builder_add_boolean_value (b, ew_feature_catalogue_is_simulated (catalogue));
}

void
ecuw_car_print_line (EwFeatureCatalogue *catalogue)
{
  const EwFamily *family = ew_feature_catalogue_get_family (catalogue);
  const char *vin = ew_feature_catalogue_get_vin (catalogue);

  /* TRANSLATORS: make, model, VIN, and " · simulated car" or nothing */
  g_print (_("%s %s · VIN %s%s\n"), family->make, family->model,
           vin != NULL ? vin : _("unknown"),
           ew_feature_catalogue_is_simulated (catalogue) ? _(" · simulated car") : "");
}

void
ecuw_plan_add_writes (JsonBuilder *b, const EwCodingPlan *plan)
{
  json_builder_set_member_name (b, "writes");
  json_builder_begin_array (b);
  for (guint i = 0; i < plan->changes->len; i++)
    {
      const EwCodingChange *c = g_ptr_array_index (plan->changes, i);
      g_autofree char *did = g_strdup_printf ("0x%04X", c->did->did);
      g_autofree char *before = ecuw_format_bytes (c->before, "");
      g_autofree char *after = ecuw_format_bytes (c->after, "");

      json_builder_begin_object (b);
      ecuw_json_add_string (b, "module", c->module->id);
      ecuw_json_add_string (b, "did", did);
      ecuw_json_add_string (b, "name", c->did->name);
      ecuw_json_add_string (b, "before", before);
      ecuw_json_add_string (b, "after", after);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
}

void
ecuw_plan_print_writes (const EwCodingPlan *plan)
{
  for (guint i = 0; i < plan->changes->len; i++)
    {
      const EwCodingChange *c = g_ptr_array_index (plan->changes, i);
      g_autofree char *before = ecuw_format_bytes (c->before, " ");
      g_autofree char *after = ecuw_format_bytes (c->after, " ");

      g_print ("  %s 0x%04X (%s)\n", c->module->id, c->did->did, c->did->name);
      /* TRANSLATORS: the bytes a DID holds now and the bytes the job writes */
      g_print ("      %-7s %s\n      %-7s %s\n", _("before"), before, _("after"), after);
    }
}
