/* ecuw-code.c — `ecuw [--link URI] features` (the car's features as read
 * from it) and `ecuw [--link URI] code FEATURE=STATE…`: plan the coding,
 * show it (--dry-run), or apply it as a journalled job with a backup. */
#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "ecuw-command.h"
#include "coding/coding-transaction.h"

void
ecuw_progress_clear (EcuwProgress *progress)
{
  g_clear_pointer (&progress->last_step, g_free);
  g_clear_pointer (&progress->last_module, g_free);
}

void
ecuw_print_progress (const char *step,
                     const char *module_id,
                     double      fraction,
                     gpointer    user_data)
{
  EcuwProgress *progress = user_data;

  /* one line per step and module, not one per callback */
  if (g_strcmp0 (step, progress->last_step) == 0 && g_strcmp0 (module_id, progress->last_module) == 0)
    return;
  g_free (progress->last_step);
  g_free (progress->last_module);
  progress->last_step = g_strdup (step);
  progress->last_module = g_strdup (module_id);
  if (module_id != NULL)
    g_printerr ("  [%3.0f%%] %s %s\n", CLAMP (fraction, 0.0, 1.0) * 100.0, step, module_id);
  else
    g_printerr ("  [%3.0f%%] %s\n", CLAMP (fraction, 0.0, 1.0) * 100.0, step);
}

char *
ecuw_format_bytes (GBytes *bytes, const char *separator)
{
  GString *s;
  const guint8 *data;
  gsize n;

  if (bytes == NULL)
    return NULL;
  data = g_bytes_get_data (bytes, &n);
  s = g_string_sized_new (n * 3);
  for (gsize i = 0; i < n; i++)
    g_string_append_printf (s, "%s%02X", i > 0 ? separator : "", data[i]);
  return g_string_free (s, FALSE);
}

static const char *
availability_to_string (EwFeatureAvailability availability)
{
  switch (availability)
    {
    case EW_FEATURE_SWITCHABLE:        return "switchable";
    case EW_FEATURE_NOT_FITTED:        return "not-fitted";
    case EW_FEATURE_NEEDS_PROGRAMMING: return "needs-programming";
    case EW_FEATURE_UNREADABLE:        return "unreadable";
    default:                           return "unknown";
    }
}

static const char *
availability_label (EwFeatureAvailability availability)
{
  switch (availability)
    {
    case EW_FEATURE_SWITCHABLE:        return _("switchable");
    case EW_FEATURE_NOT_FITTED:        return _("not fitted");
    case EW_FEATURE_NEEDS_PROGRAMMING: return _("programming");
    case EW_FEATURE_UNREADABLE:        return _("unreadable");
    default:                           return "?";
    }
}

static void
print_features_json (const char *uri, EwFeatureCatalogue *catalogue)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  GPtrArray *features = ew_feature_catalogue_get_features (catalogue);

  json_builder_begin_object (b);
  ecuw_car_add_members (b, uri, catalogue);
  json_builder_set_member_name (b, "features");
  json_builder_begin_array (b);
  for (guint i = 0; i < features->len; i++)
    {
      const EwFeatureStatus *st = g_ptr_array_index (features, i);
      const EwFeature *f = st->feature;

      json_builder_begin_object (b);
      ecuw_json_add_string (b, "id", f->id);
      ecuw_json_add_string (b, "name", f->name);
      ecuw_json_add_string (b, "class", ew_work_class_to_string (f->work_class));
      ecuw_json_add_string (b, "category", f->category);
      ecuw_json_add_string (b, "module", f->module);
      ecuw_json_add_string (b, "availability", availability_to_string (st->availability));
      ecuw_json_add_string (b, "state", st->state != NULL ? st->state->name : NULL);
      json_builder_set_member_name (b, "raw");
      if (st->availability == EW_FEATURE_UNREADABLE || f->item == NULL)
        json_builder_add_null_value (b);
      else
        json_builder_add_int_value (b, (gint64) st->raw);
      json_builder_set_member_name (b, "states");
      json_builder_begin_array (b);
      for (guint j = 0; j < f->states->len; j++)
        json_builder_add_string_value (b, ((const EwFeatureState *) g_ptr_array_index (f->states, j))->name);
      json_builder_end_array (b);
      ecuw_json_add_string (b, "reason", st->reason);
      ecuw_json_add_string (b, "provenance", ew_provenance_to_string (f->provenance.provenance));
      json_builder_set_member_name (b, "needs_acknowledgement");
      json_builder_add_boolean_value (b, st->needs_acknowledgement);
      json_builder_set_member_name (b, "option_unconfirmed");
      json_builder_add_boolean_value (b, st->is_option_unconfirmed);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  ecuw_print_json (b);
}

static void
print_features_text (EwFeatureCatalogue *catalogue)
{
  GPtrArray *features = ew_feature_catalogue_get_features (catalogue);

  ecuw_car_print_line (catalogue);
  g_print ("\n");
  for (guint i = 0; i < features->len; i++)
    {
      const EwFeatureStatus *st = g_ptr_array_index (features, i);
      const EwFeature *f = st->feature;
      g_autofree char *state = NULL;

      if (st->state != NULL)
        state = g_strdup (st->state->name);
      else if (f->item != NULL && st->availability == EW_FEATURE_SWITCHABLE)
        state = g_strdup_printf ("0x%" G_GINT64_MODIFIER "X", st->raw);
      else
        state = g_strdup ("–");

      g_print ("  %-28s %-12s %-12s %-8s %-13s %s\n", f->id,
               ew_work_class_to_string (f->work_class), availability_label (st->availability),
               state, ew_provenance_to_string (f->provenance.provenance), f->name);
      if (st->availability == EW_FEATURE_SWITCHABLE && f->states->len > 0)
        {
          g_autoptr(GString) states = g_string_new (NULL);

          for (guint j = 0; j < f->states->len; j++)
            g_string_append_printf (states, "%s%s", j > 0 ? ", " : "",
                                    ((const EwFeatureState *) g_ptr_array_index (f->states, j))->name);
          /* TRANSLATORS: the states a feature can be coded to, "off, on" */
          g_print ("      %s %s%s\n", _("states:"), states->str,
                   st->needs_acknowledgement ? _(" · community data: needs --acknowledge") : "");
        }
      if (st->reason != NULL)
        g_print ("      %s\n", st->reason);
    }
}

gboolean
ecuw_cmd_live_features (EcuwContext *ctx, int argc, char **argv, GError **error)
{
  g_auto(EcuwCar) car = { 0 };

  if (argc != 1)
    {
      g_set_error_literal (error, ECUW_ERROR, ECUW_ERROR_USAGE,
                           _("usage: ecuw [--link URI] features, or ecuw features FAMILY"));
      return FALSE;
    }
  if (!ecuw_car_read (ctx, &car, error))
    return FALSE;

  if (ctx->json)
    print_features_json (ecuw_context_get_link (ctx), car.catalogue);
  else
    print_features_text (car.catalogue);
  return TRUE;
}

static void
add_plan_members (JsonBuilder *b, const EwCodingPlan *plan)
{
  ecuw_json_add_string (b, "summary", plan->summary);
  json_builder_set_member_name (b, "changes");
  json_builder_begin_array (b);
  for (guint i = 0; i < plan->lines->len; i++)
    {
      const EwCodingPlanLine *line = g_ptr_array_index (plan->lines, i);

      json_builder_begin_object (b);
      ecuw_json_add_string (b, "feature", line->feature->id);
      ecuw_json_add_string (b, "name", line->feature->name);
      ecuw_json_add_string (b, "module", line->feature->module);
      ecuw_json_add_string (b, "from", line->from != NULL ? line->from->name : NULL);
      ecuw_json_add_string (b, "to", line->to->name);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  ecuw_plan_add_writes (b, plan);
}

static void
print_plan_text (const EwCodingPlan *plan)
{
  for (guint i = 0; i < plan->lines->len; i++)
    {
      const EwCodingPlanLine *line = g_ptr_array_index (plan->lines, i);

      /* TRANSLATORS: feature name, old state → new state */
      g_print ("  %s: %s → %s\n", line->feature->name,
               line->from != NULL ? line->from->name : _("(unknown)"), line->to->name);
    }
  ecuw_plan_print_writes (plan);
}

/* A failed transaction's error, made to say what became of the car. */
static void
explain_apply_error (GError **error, GError *local_error, gint64 job_id)
{
  g_autofree char *job = g_strdup_printf ("%" G_GINT64_FORMAT, job_id);

  if (g_error_matches (local_error, EW_CODING_ERROR, EW_CODING_ERROR_ROLLED_BACK))
    /* the engine's message already says every module was restored */
    /* TRANSLATORS: the job number, then what failed and what was done */
    g_set_error (error, EW_CODING_ERROR, local_error->code,
                 _("coding job %s was rolled back: %s"), job, local_error->message);
  else if (g_error_matches (local_error, EW_CODING_ERROR, EW_CODING_ERROR_ROLLBACK_FAILED))
    /* TRANSLATORS: the job number, then what failed */
    g_set_error (error, EW_CODING_ERROR, local_error->code,
                 _("coding failed and restoring the backup failed too: the car needs attention; "
                   "see ecuw jobs %s (%s)"), job, local_error->message);
  else if (job_id > 0)
    /* TRANSLATORS: what failed, then the job number */
    g_set_error (error, local_error->domain, local_error->code,
                 _("%s (job %s; nothing was written)"), local_error->message, job);
  else
    g_propagate_error (error, g_error_copy (local_error));
}

static gboolean
code_car (EcuwContext        *ctx,
          EcuwCar            *car,
          EwFeatureRequest   *requests,
          guint               n_requests,
          const char *const  *acknowledged,
          gboolean            is_dry_run,
          GError            **error)
{
  g_autoptr(EwCodingPlan) plan = NULL;
  g_autoptr(EwJobStore) store = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(JsonBuilder) b = NULL;
  EcuwProgress progress = { 0 };
  gint64 job_id = 0, done_id;

  plan = ew_coding_plan_new (car->catalogue, requests, n_requests, &local_error);
  if (plan == NULL && g_error_matches (local_error, EW_CODING_ERROR, EW_CODING_ERROR_NOTHING_TO_DO))
    {
      /* asking for what the car already has is not a failure for a script */
      if (ctx->json)
        {
          b = json_builder_new ();
          json_builder_begin_object (b);
          ecuw_car_add_members (b, ecuw_context_get_link (ctx), car->catalogue);
          json_builder_set_member_name (b, "dry_run");
          json_builder_add_boolean_value (b, is_dry_run);
          json_builder_set_member_name (b, "nothing_to_do");
          json_builder_add_boolean_value (b, TRUE);
          json_builder_set_member_name (b, "job");
          json_builder_add_null_value (b);
          json_builder_end_object (b);
          ecuw_print_json (b);
        }
      else
        g_print ("%s\n", local_error->message);
      return TRUE;
    }
  if (plan == NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  if (!is_dry_run)
    {
      store = ew_job_store_open (NULL, error);
      if (store == NULL)
        return FALSE;
      if (!ctx->json)
        {
          ecuw_car_print_line (car->catalogue);
          print_plan_text (plan);
          fflush (stdout);
        }
      done_id = ew_coding_apply (car->connection, store, plan, acknowledged,
                                 ctx->json ? NULL : ecuw_print_progress, &progress,
                                 &job_id, NULL, &local_error);
      ecuw_progress_clear (&progress);
      if (done_id > 0)
        job_id = done_id;
      if (done_id <= 0 && local_error == NULL)
        g_set_error_literal (&local_error, EW_CODING_ERROR, EW_CODING_ERROR_ROLLBACK_FAILED,
                             _("the coding engine failed without saying why"));
      if (done_id <= 0)
        {
          const char *unconfirmed = NULL;

          for (guint i = 0; i < plan->lines->len && unconfirmed == NULL; i++)
            {
              const EwCodingPlanLine *line = g_ptr_array_index (plan->lines, i);
              const EwFeatureStatus *st = ew_feature_catalogue_find (car->catalogue, line->feature->id);

              if (st != NULL && st->needs_acknowledgement && !g_strv_contains (acknowledged, line->feature->id))
                unconfirmed = line->feature->id;
            }
          if (g_error_matches (local_error, EW_CODING_ERROR, EW_CODING_ERROR_PROVENANCE) && unconfirmed != NULL)
            /* TRANSLATORS: the reason, then the feature id in the option to type */
            g_set_error (error, local_error->domain, local_error->code,
                         _("%s; to confirm it, add --acknowledge %s"), local_error->message, unconfirmed);
          else
            explain_apply_error (error, local_error, job_id);
          return FALSE;
        }
    }

  if (ctx->json)
    {
      b = json_builder_new ();
      json_builder_begin_object (b);
      ecuw_car_add_members (b, ecuw_context_get_link (ctx), car->catalogue);
      json_builder_set_member_name (b, "dry_run");
      json_builder_add_boolean_value (b, is_dry_run);
      add_plan_members (b, plan);
      json_builder_set_member_name (b, "job");
      if (job_id > 0)
        json_builder_add_int_value (b, job_id);
      else
        json_builder_add_null_value (b);
      ecuw_json_add_string (b, "state", is_dry_run ? NULL : ew_job_state_to_string (EW_JOB_STATE_DONE));
      json_builder_end_object (b);
      ecuw_print_json (b);
    }
  else if (is_dry_run)
    {
      ecuw_car_print_line (car->catalogue);
      print_plan_text (plan);
      g_print ("%s\n", _("Dry run: nothing was written to the car."));
    }
  else
    {
      /* TRANSLATORS: %s is the job number */
      g_autofree char *job = g_strdup_printf ("%" G_GINT64_FORMAT, job_id);

      g_print (_("Done: every change was written and read back (job %s).\n"), job);
      g_print (_("To undo it: ecuw restore %s\n"), job);
    }
  return TRUE;
}

gboolean
ecuw_cmd_code (EcuwContext *ctx, int argc, char **argv, GError **error)
{
  g_auto(EcuwCar) car = { 0 };
  g_autoptr(GArray) requests = g_array_new (FALSE, TRUE, sizeof (EwFeatureRequest));
  g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) acknowledged = g_ptr_array_new ();
  gboolean is_dry_run = FALSE;

  for (int i = 1; i < argc; i++)
    {
      if (g_str_equal (argv[i], "--dry-run"))
        is_dry_run = TRUE;
      else if (g_str_has_prefix (argv[i], "--acknowledge="))
        g_ptr_array_add (acknowledged, argv[i] + strlen ("--acknowledge="));
      else if (g_str_equal (argv[i], "--acknowledge") && i + 1 < argc)
        g_ptr_array_add (acknowledged, argv[++i]);
      else if (argv[i][0] == '-')
        {
          g_set_error (error, ECUW_ERROR, ECUW_ERROR_USAGE,
                       _("usage: ecuw [--link URI] code FEATURE=STATE… [--dry-run] [--acknowledge FEATURE]…"));
          return FALSE;
        }
      else
        {
          EwFeatureRequest r = { 0 };
          char *feature_id = NULL, *state = NULL;

          if (!ew_feature_request_parse (argv[i], &feature_id, &state, error))
            return FALSE;
          g_ptr_array_add (texts, feature_id);
          g_ptr_array_add (texts, state);
          r.feature_id = feature_id;
          r.state = state;
          g_array_append_val (requests, r);
        }
    }
  g_ptr_array_add (acknowledged, NULL);

  if (requests->len == 0)
    {
      g_set_error (error, ECUW_ERROR, ECUW_ERROR_USAGE,
                   _("usage: ecuw [--link URI] code FEATURE=STATE… [--dry-run] [--acknowledge FEATURE]…"));
      return FALSE;
    }

  if (!ecuw_car_read (ctx, &car, error))
    return FALSE;
  return code_car (ctx, &car, (EwFeatureRequest *) requests->data, requests->len,
                   (const char *const *) acknowledged->pdata, is_dry_run, error);
}
