/* ecuw-retrofit.c — `ecuw [--link URI] retrofit MODULE`: code the car to
 * know a used module is fitted and the module to the car, from the
 * vehicle data's retrofit; show the plan (--dry-run) or apply it as a
 * journalled coding job with a backup, like `ecuw code`. */
#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "ecuw-command.h"
#include "coding/coding-transaction.h"
#include "coding/retrofit.h"

#define RETROFIT_USAGE N_("usage: ecuw [--link URI] retrofit MODULE [--dry-run] [--acknowledge retrofit:MODULE]")

static void
add_members (JsonBuilder        *b,
             EcuwContext        *ctx,
             EwFeatureCatalogue *catalogue,
             const char         *module_id,
             gboolean            is_dry_run)
{
  ecuw_car_add_members (b, ecuw_context_get_link (ctx), catalogue);
  ecuw_json_add_string (b, "module", module_id);
  json_builder_set_member_name (b, "dry_run");
  json_builder_add_boolean_value (b, is_dry_run);
}

static void
add_plan (JsonBuilder *b, const EwCodingPlan *plan)
{
  ecuw_json_add_string (b, "summary", plan->summary);
  ecuw_json_add_string (b, "provenance", ew_provenance_to_string (plan->subject_provenance));
  json_builder_set_member_name (b, "changes");
  json_builder_begin_array (b);
  for (guint i = 0; i < plan->notes->len; i++)
    json_builder_add_string_value (b, g_ptr_array_index (plan->notes, i));
  json_builder_end_array (b);

  ecuw_plan_add_writes (b, plan);
}

static void
print_plan (EwFeatureCatalogue *catalogue, const EwCodingPlan *plan)
{
  ecuw_car_print_line (catalogue);
  g_print ("%s\n", plan->subject_name);
  for (guint i = 0; i < plan->notes->len; i++)
    g_print ("  %s\n", (const char *) g_ptr_array_index (plan->notes, i));
  ecuw_plan_print_writes (plan);
}

/* A failed transaction's error, made to say what became of the car. */
static void
explain_apply_error (GError **error, GError *local_error, gint64 job_id)
{
  g_autofree char *job = g_strdup_printf ("%" G_GINT64_FORMAT, job_id);

  if (g_error_matches (local_error, EW_CODING_ERROR, EW_CODING_ERROR_ROLLED_BACK))
    /* TRANSLATORS: the job number, then what failed */
    g_set_error (error, EW_CODING_ERROR, local_error->code,
                 _("retrofit job %s was rolled back, the car and the module are as they were: %s"),
                 job, local_error->message);
  else if (g_error_matches (local_error, EW_CODING_ERROR, EW_CODING_ERROR_ROLLBACK_FAILED))
    /* TRANSLATORS: the job number, then what failed */
    g_set_error (error, EW_CODING_ERROR, local_error->code,
                 _("retrofit failed and restoring the backup failed too: the car needs attention; "
                   "see ecuw jobs %s (%s)"), job, local_error->message);
  else if (job_id > 0)
    /* TRANSLATORS: what failed, then the job number */
    g_set_error (error, local_error->domain, local_error->code,
                 _("%s (job %s; nothing was written)"), local_error->message, job);
  else
    g_propagate_error (error, g_error_copy (local_error));
}

gboolean
ecuw_cmd_retrofit (EcuwContext *ctx, int argc, char **argv, GError **error)
{
  g_auto(EcuwCar) car = { 0 };
  g_autoptr(EwCodingPlan) plan = NULL;
  g_autoptr(EwJobStore) store = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(JsonBuilder) b = NULL;
  g_autoptr(GPtrArray) acknowledged = g_ptr_array_new ();
  EcuwProgress progress = { 0 };
  const char *module_id = NULL;
  gboolean is_dry_run = FALSE;
  gint64 job_id = 0, done_id;

  for (int i = 1; i < argc; i++)
    {
      if (g_str_equal (argv[i], "--dry-run"))
        is_dry_run = TRUE;
      else if (g_str_has_prefix (argv[i], "--acknowledge="))
        g_ptr_array_add (acknowledged, argv[i] + strlen ("--acknowledge="));
      else if (g_str_equal (argv[i], "--acknowledge") && i + 1 < argc)
        g_ptr_array_add (acknowledged, argv[++i]);
      else if (argv[i][0] == '-' || module_id != NULL)
        {
          g_set_error_literal (error, ECUW_ERROR, ECUW_ERROR_USAGE, _(RETROFIT_USAGE));
          return FALSE;
        }
      else
        module_id = argv[i];
    }
  g_ptr_array_add (acknowledged, NULL);
  if (module_id == NULL)
    {
      g_set_error_literal (error, ECUW_ERROR, ECUW_ERROR_USAGE, _(RETROFIT_USAGE));
      return FALSE;
    }

  if (!ecuw_car_read (ctx, &car, error))
    return FALSE;

  plan = ew_retrofit_plan_new (car.connection, car.catalogue, module_id, NULL, &local_error);
  if (plan == NULL && g_error_matches (local_error, EW_CODING_ERROR, EW_CODING_ERROR_NOTHING_TO_DO))
    {
      /* a module already retrofitted is not a failure for a script */
      if (ctx->json)
        {
          b = json_builder_new ();
          json_builder_begin_object (b);
          add_members (b, ctx, car.catalogue, module_id, is_dry_run);
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
          print_plan (car.catalogue, plan);
          fflush (stdout);
        }
      done_id = ew_coding_apply (car.connection, store, plan,
                                 (const char *const *) acknowledged->pdata,
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
          if (g_error_matches (local_error, EW_CODING_ERROR, EW_CODING_ERROR_PROVENANCE) &&
              plan->subject_provenance == EW_PROVENANCE_COMMUNITY)
            /* TRANSLATORS: the reason, then the id to type */
            g_set_error (error, local_error->domain, local_error->code,
                         _("%s; to confirm it, add --acknowledge %s"), local_error->message,
                         plan->subject_id);
          else
            explain_apply_error (error, local_error, job_id);
          return FALSE;
        }
    }

  if (ctx->json)
    {
      b = json_builder_new ();
      json_builder_begin_object (b);
      add_members (b, ctx, car.catalogue, module_id, is_dry_run);
      add_plan (b, plan);
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
      print_plan (car.catalogue, plan);
      g_print ("%s\n", _("Dry run: nothing was written to the car."));
    }
  else
    {
      /* TRANSLATORS: %s is the job number */
      g_autofree char *job = g_strdup_printf ("%" G_GINT64_FORMAT, job_id);

      g_print (_("Done: the car and the module were coded and read back (job %s).\n"), job);
      g_print (_("To undo it: ecuw restore %s\n"), job);
    }
  return TRUE;
}
