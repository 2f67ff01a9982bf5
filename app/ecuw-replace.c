/* ecuw-replace.c — `ecuw [--link URI] replace MODULE [FILE] [--dry-run]
 * [--confirm-immobiliser]`: fit a used instrument cluster, body module or
 * engine control unit to the car: its software, the car's VIN, the car's
 * mileage and coding, and for an engine control unit the immobiliser
 * pairing, which runs only when confirmed on the command line; all as a
 * journalled job. The dry run prints the steps with every mileage store
 * read, the immobiliser state and the values to be written.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>

#include "ecuw-command.h"
#include "connect/connection.h"
#include "flash/replace.h"
#include "store/job-store.h"

#define REPLACE_USAGE "usage: ecuw [--link URI] replace MODULE [FILE] [--dry-run] [--allow-downgrade] " \
                      "[--confirm-immobiliser]"

static void
print_replace_progress (const char *step, double fraction, const char *detail, gpointer user_data)
{
  char **last = user_data;
  g_autofree char *line = g_strdup_printf ("%s %s", step, detail != NULL ? detail : "");

  /* one line for each new step or sub-step */
  if (g_strcmp0 (line, *last) == 0)
    return;
  g_free (*last);
  *last = g_steal_pointer (&line);
  g_printerr ("  [%3.0f%%] %s\n", fraction * 100.0, *last);
}

static void
add_readings_json (JsonBuilder *b, const char *name, GPtrArray *readings)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  for (guint i = 0; i < readings->len; i++)
    {
      const EwMileageReading *r = g_ptr_array_index (readings, i);
      g_autofree char *did = g_strdup_printf ("0x%04X", r->store->did);

      json_builder_begin_object (b);
      ecuw_json_add_string (b, "module", r->module->id);
      ecuw_json_add_string (b, "store", r->store->name);
      ecuw_json_add_string (b, "did", did);
      json_builder_set_member_name (b, "writable");
      json_builder_add_boolean_value (b, r->store->is_writable);
      json_builder_set_member_name (b, "km");
      if (r->is_read)
        json_builder_add_int_value (b, r->km);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "credible");
      json_builder_add_boolean_value (b, r->is_credible);
      ecuw_json_add_string (b, "note", r->note);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
}

static void
add_plan_json (JsonBuilder *b, const EwReplacePlan *plan, const char *uri)
{
  ecuw_json_add_string (b, "link", uri);
  ecuw_json_add_string (b, "family", plan->family->id);
  ecuw_json_add_string (b, "module", plan->module->id);
  ecuw_json_add_string (b, "template", plan->job_template != NULL ? plan->job_template->id : NULL);
  json_builder_set_member_name (b, "simulated");
  json_builder_add_boolean_value (b, plan->is_simulated);
  ecuw_json_add_string (b, "vin", plan->car_vin);
  ecuw_json_add_string (b, "module_vin", plan->module_vin);
  ecuw_json_add_string (b, "software_now", plan->software_now);
  ecuw_json_add_string (b, "software_new", plan->software_new);
  json_builder_set_member_name (b, "in_bootloader");
  json_builder_add_boolean_value (b, plan->is_in_bootloader);
  ecuw_json_add_string (b, "container", plan->container_path);
  add_readings_json (b, "car_mileage", plan->car_readings);
  add_readings_json (b, "module_mileage", plan->module_readings);
  json_builder_set_member_name (b, "mileage_km");
  json_builder_add_int_value (b, plan->mileage_km);
  ecuw_json_add_string (b, "mileage_choice", plan->mileage_choice);
  ecuw_json_add_string (b, "refusal", plan->refusal);
  json_builder_set_member_name (b, "immobiliser");
  if (plan->immobiliser_master == NULL)
    json_builder_add_null_value (b);
  else
    {
      json_builder_begin_object (b);
      ecuw_json_add_string (b, "master", plan->immobiliser_master->id);
      ecuw_json_add_string (b, "master_serial", plan->master_serial_text);
      ecuw_json_add_string (b, "now", plan->pairing_now);
      json_builder_set_member_name (b, "paired");
      json_builder_add_boolean_value (b, plan->is_paired);
      json_builder_set_member_name (b, "needs_confirmation");
      json_builder_add_boolean_value (b, plan->needs_confirmation);
      json_builder_end_object (b);
    }
  json_builder_set_member_name (b, "steps");
  json_builder_begin_array (b);
  for (guint i = 0; i < plan->steps->len; i++)
    {
      const EwReplaceStep *s = g_ptr_array_index (plan->steps, i);

      json_builder_begin_object (b);
      ecuw_json_add_string (b, "step", s->kind);
      ecuw_json_add_string (b, "name", s->name);
      ecuw_json_add_string (b, "detail", s->detail);
      json_builder_set_member_name (b, "skipped");
      json_builder_add_boolean_value (b, s->is_skipped);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
}

static void
print_readings (GPtrArray *readings)
{
  for (guint i = 0; i < readings->len; i++)
    {
      const EwMileageReading *r = g_ptr_array_index (readings, i);
      g_autofree char *km = r->is_read ? g_strdup_printf ("%u km", r->km) : g_strdup ("—");

      g_print ("    %-12s 0x%04X  %-34s %12s%s%s%s\n", r->module->id, r->store->did, r->store->name, km,
               r->store->is_writable ? _(" (writable)") : "",
               r->note != NULL ? " · " : "", r->note != NULL ? r->note : "");
    }
}

static void
print_plan_text (const EwReplacePlan *plan, const char *uri)
{
  g_print (_("Replace %s (%s) on %s%s\n"), plan->module->id, plan->module->name, uri,
           plan->is_simulated ? _(" · simulated car") : "");
  g_print (_("  job:       %s\n"), plan->job_template != NULL ? plan->job_template->name
                                                              : _("the default replacement"));
  g_print (_("  car VIN:   %s\n"), plan->car_vin);
  g_print (_("  module:    VIN %s, software %s%s\n"),
           plan->module_vin != NULL ? plan->module_vin : "—",
           plan->software_now != NULL ? plan->software_now : "—",
           plan->is_in_bootloader ? _(" (in its bootloader)") : "");
  g_print (_("  container: %s, software %s\n"), plan->container_path, plan->software_new);
  if (plan->car_readings->len > 0)
    {
      g_print ("%s\n", _("  mileage in the car's stores:"));
      print_readings (plan->car_readings);
    }
  if (plan->module_readings->len > 0)
    {
      g_print ("%s\n", _("  mileage in the module:"));
      print_readings (plan->module_readings);
    }
  g_print (_("  mileage:   %s\n"), plan->mileage_choice);
  if (plan->immobiliser_master != NULL)
    /* TRANSLATORS: master id, master name, serial number, the module's state */
    g_print (_("  immobiliser: master %s (%s), serial %s; the module reads %s\n"),
             plan->immobiliser_master->id, plan->immobiliser_master->name,
             plan->master_serial_text != NULL ? plan->master_serial_text : "—",
             plan->pairing_now != NULL ? plan->pairing_now : "—");
  g_print ("%s\n", _("Steps:"));
  for (guint i = 0; i < plan->steps->len; i++)
    {
      const EwReplaceStep *s = g_ptr_array_index (plan->steps, i);

      g_print ("  %2u. %-17s %s%s\n", i + 1, s->kind, s->name, s->is_skipped ? _(" (skipped)") : "");
      g_print ("      %s\n", s->detail);
    }
  if (plan->refusal != NULL)
    g_print (_("Refused: %s\n"), plan->refusal);
  else if (plan->needs_confirmation)
    g_print ("%s\n", _("The immobiliser pairing changes which keys start the car: the job runs only "
                       "with --confirm-immobiliser."));
}

gboolean
ecuw_cmd_replace (EcuwContext *ctx, int argc, char **argv, GError **error)
{
  g_autoptr(EwConnection) connection = NULL;
  g_autoptr(EwJobStore) store = NULL;
  g_autoptr(GError) run_error = NULL;
  EwReplaceOptions options = { 0 };
  EwReplaceJobs jobs = { 0 };
  g_autofree char *last = NULL;
  const char *module_id = NULL, *path = NULL;
  gboolean is_dry_run = FALSE;
  gint64 job_id;

  for (int i = 1; i < argc; i++)
    {
      if (g_str_equal (argv[i], "--dry-run"))
        is_dry_run = TRUE;
      else if (g_str_equal (argv[i], "--allow-downgrade"))
        options.allow_downgrade = TRUE;
      else if (g_str_equal (argv[i], "--confirm-immobiliser"))
        options.confirm_immobiliser = TRUE;
      else if (argv[i][0] == '-' || (module_id != NULL && path != NULL))
        {
          g_set_error_literal (error, ECUW_ERROR, ECUW_ERROR_USAGE, REPLACE_USAGE);
          return FALSE;
        }
      else if (module_id == NULL)
        module_id = argv[i];
      else
        path = argv[i];
    }
  if (module_id == NULL)
    {
      g_set_error_literal (error, ECUW_ERROR, ECUW_ERROR_USAGE, REPLACE_USAGE);
      return FALSE;
    }

  connection = ew_connection_open (ecuw_context_get_link (ctx), ecuw_context_get_database (ctx),
                                   NULL, error);
  if (connection == NULL)
    return FALSE;

  if (is_dry_run)
    {
      g_autoptr(EwReplacePlan) plan = ew_replace_plan_new (connection, module_id, path, &options,
                                                           NULL, error);

      if (plan == NULL)
        return FALSE;
      if (ctx->json)
        {
          g_autoptr(JsonBuilder) b = json_builder_new ();

          json_builder_begin_object (b);
          add_plan_json (b, plan, ecuw_context_get_link (ctx));
          json_builder_end_object (b);
          ecuw_print_json (b);
        }
      else
        {
          print_plan_text (plan, ecuw_context_get_link (ctx));
          g_print ("%s\n", _("Dry run: nothing was written."));
        }
      return TRUE;
    }

  store = ew_job_store_open (NULL, error);
  if (store == NULL)
    return FALSE;
  job_id = ew_replace_module (connection, store, module_id, path, &options, print_replace_progress,
                              &last, &jobs, NULL, &run_error);

  if (ctx->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      ecuw_json_add_string (b, "module", module_id);
      json_builder_set_member_name (b, "job");
      json_builder_add_int_value (b, jobs.job_id);
      json_builder_set_member_name (b, "flash_job");
      json_builder_add_int_value (b, jobs.flash_job_id);
      json_builder_set_member_name (b, "coding_job");
      json_builder_add_int_value (b, jobs.coding_job_id);
      json_builder_set_member_name (b, "restore_job");
      json_builder_add_int_value (b, jobs.restore_job_id);
      ecuw_json_add_string (b, "result", job_id != 0 ? "done" : "failed");
      ecuw_json_add_string (b, "error", run_error != NULL ? run_error->message : NULL);
      json_builder_end_object (b);
      ecuw_print_json (b);
    }
  else if (jobs.job_id != 0)
    {
      g_autofree char *job = g_strdup_printf ("%" G_GINT64_FORMAT, jobs.job_id);

      if (job_id != 0)
        g_print (_("Done: %s programmed, linked and coded to this car, verified (job %s).\n"),
                 module_id, job);
      else
        g_print (_("Not done (job %s); see: ecuw job %s\n"), job, job);
      if (g_error_matches (run_error, EW_REPLACE_ERROR, EW_REPLACE_ERROR_NOT_CONFIRMED))
        g_print ("%s\n", _("Check that the customer's keys are at hand, then run the job again "
                           "with --confirm-immobiliser."));
    }

  if (run_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&run_error));
      return FALSE;
    }
  return TRUE;
}
