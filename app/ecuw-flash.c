/* ecuw-flash.c — `ecuw [--link URI] flash MODULE FILE [--dry-run]`: check a
 * programming container against the module and show the steps, or
 * program the module as a journalled job with progress on stderr.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ecuw-command.h"
#include "connect/connection.h"
#include "flash/flash-engine.h"
#include "store/job-store.h"

#define FLASH_USAGE "usage: ecuw [--link URI] flash MODULE FILE [--dry-run] [--allow-downgrade] " \
                    "[--no-recovery-image]"

void
ecuw_print_flash_progress (const EwFlashProgress *p, gpointer user_data)
{
  EcuwFlashProgress *fp = user_data;
  gint64 now = g_get_monotonic_time ();
  gboolean is_new_step = g_strcmp0 (p->step, fp->last_step) != 0;

  /* a line per step, and during the download at most one a second */
  if (!is_new_step && now - fp->last_print_us < G_USEC_PER_SEC)
    return;
  fp->last_print_us = now;
  if (is_new_step)
    {
      g_free (fp->last_step);
      fp->last_step = g_strdup (p->step);
    }
  if (p->bytes_sent > 0 && g_str_equal (p->step, "download"))
    g_printerr ("  [%3.0f%%] %s %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT " bytes, %.1f KiB/s, "
                "%.0f s left\n", p->fraction * 100.0, p->step, p->bytes_sent, p->bytes_total,
                p->rate_bytes_per_s / 1024.0, MAX (p->seconds_left, 0.0));
  else
    g_printerr ("  [%3.0f%%] %s\n", p->fraction * 100.0, p->step);
}

static void
add_steps_json (JsonBuilder *b, EwFlashJob *job)
{
  GArray *steps = ew_flash_job_get_steps (job);
  const EwFlashCheckResult *check = ew_flash_job_get_check_result (job);

  json_builder_set_member_name (b, "segments");
  json_builder_begin_array (b);
  for (guint i = 0; i < check->segments->len; i++)
    {
      const EwFlashSegment *seg = &g_array_index (check->segments, EwFlashSegment, i);

      json_builder_begin_object (b);
      ecuw_json_add_string (b, "region", seg->region->name);
      json_builder_set_member_name (b, "address");
      json_builder_add_int_value (b, seg->address);
      json_builder_set_member_name (b, "length");
      json_builder_add_int_value (b, seg->length);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "steps");
  json_builder_begin_array (b);
  for (guint i = 0; i < steps->len; i++)
    {
      const EwFlashStepInfo *info = &g_array_index (steps, EwFlashStepInfo, i);

      json_builder_begin_object (b);
      ecuw_json_add_string (b, "step", info->id);
      ecuw_json_add_string (b, "description", info->description);
      json_builder_set_member_name (b, "bytes");
      json_builder_add_int_value (b, (gint64) info->length_bytes);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
}

static void
print_check_text (EwFlashJob *job, const char *uri)
{
  const EwModule *module = ew_flash_job_get_module (job);
  const EwFlashContainer *c = ew_flash_job_get_container (job);
  const EwFlashCheckResult *check = ew_flash_job_get_check_result (job);
  GArray *steps = ew_flash_job_get_steps (job);

  g_print ("Module %s (%s) on %s%s\n", module->id, module->name, uri,
           ew_flash_job_is_simulated (job) ? " · simulated car" : "");
  g_print ("  now:       %s%s\n", ew_flash_job_get_current_software (job) != NULL
                                   ? ew_flash_job_get_current_software (job) : "(unknown)",
           ew_flash_job_is_in_bootloader (job) ? " (in its bootloader)" : "");
  g_print ("  container: %s, software %s%s\n", ew_flash_container_get_path (c),
           ew_flash_container_get_software_version (c),
           check->is_downgrade ? " (downgrade)" : check->is_same_version ? " (same version)" : "");
  g_print ("  recovery:  %s\n", ew_flash_job_get_recovery_image (job) != NULL
                                ? ew_flash_job_get_recovery_image (job) : "none (override given)");
  g_print ("  check:     ok, %" G_GUINT64_FORMAT " bytes in %u segment(s)\n",
           ew_flash_job_get_total_bytes (job), check->segments->len);
  for (guint i = 0; i < check->segments->len; i++)
    {
      const EwFlashSegment *seg = &g_array_index (check->segments, EwFlashSegment, i);

      g_print ("    0x%08X  %8u bytes  %s\n", seg->address, seg->length, seg->region->name);
    }
  g_print ("Steps:\n");
  for (guint i = 0; i < steps->len; i++)
    {
      const EwFlashStepInfo *info = &g_array_index (steps, EwFlashStepInfo, i);

      if (info->length_bytes > 0)
        g_print ("  %2u. %-20s %s (%" G_GUINT64_FORMAT " bytes)\n", i + 1, info->id,
                 info->description, info->length_bytes);
      else
        g_print ("  %2u. %-20s %s\n", i + 1, info->id, info->description);
    }
}

gboolean
ecuw_cmd_flash (EcuwContext *ctx, int argc, char **argv, GError **error)
{
  g_autoptr(EwConnection) connection = NULL;
  g_autoptr(EwFlashJob) job = NULL;
  g_autoptr(EwJobStore) store = NULL;
  g_autoptr(GError) run_error = NULL;
  EwFlashOptions options = { 0 };
  EcuwFlashProgress progress = { 0 };
  const char *module_id = NULL, *path = NULL;
  gboolean is_dry_run = FALSE;
  gint64 job_id;

  for (int i = 1; i < argc; i++)
    {
      if (g_str_equal (argv[i], "--dry-run"))
        is_dry_run = TRUE;
      else if (g_str_equal (argv[i], "--allow-downgrade"))
        options.allow_downgrade = TRUE;
      else if (g_str_equal (argv[i], "--no-recovery-image"))
        options.allow_no_recovery_image = TRUE;
      else if (argv[i][0] == '-' || (module_id != NULL && path != NULL))
        {
          g_set_error_literal (error, ECUW_ERROR, ECUW_ERROR_USAGE, FLASH_USAGE);
          return FALSE;
        }
      else if (module_id == NULL)
        module_id = argv[i];
      else
        path = argv[i];
    }
  if (module_id == NULL || path == NULL)
    {
      g_set_error_literal (error, ECUW_ERROR, ECUW_ERROR_USAGE, FLASH_USAGE);
      return FALSE;
    }

  connection = ew_connection_open (ecuw_context_get_link (ctx), ecuw_context_get_database (ctx),
                                   NULL, error);
  if (connection == NULL)
    return FALSE;
  job = ew_flash_job_prepare (connection, module_id, path, &options, NULL, error);
  if (job == NULL)
    return FALSE;

  if (is_dry_run)
    {
      if (ctx->json)
        {
          g_autoptr(JsonBuilder) b = json_builder_new ();

          json_builder_begin_object (b);
          ecuw_json_add_string (b, "link", ecuw_context_get_link (ctx));
          ecuw_json_add_string (b, "module", module_id);
          ecuw_json_add_string (b, "container", path);
          ecuw_json_add_string (b, "software_now", ew_flash_job_get_current_software (job));
          ecuw_json_add_string (b, "software_new",
                                ew_flash_container_get_software_version (ew_flash_job_get_container (job)));
          json_builder_set_member_name (b, "in_bootloader");
          json_builder_add_boolean_value (b, ew_flash_job_is_in_bootloader (job));
          json_builder_set_member_name (b, "simulated");
          json_builder_add_boolean_value (b, ew_flash_job_is_simulated (job));
          ecuw_json_add_string (b, "recovery_image", ew_flash_job_get_recovery_image (job));
          ecuw_json_add_string (b, "check", "ok");
          json_builder_set_member_name (b, "bytes");
          json_builder_add_int_value (b, (gint64) ew_flash_job_get_total_bytes (job));
          add_steps_json (b, job);
          json_builder_end_object (b);
          ecuw_print_json (b);
        }
      else
        {
          print_check_text (job, ecuw_context_get_link (ctx));
          g_print ("Dry run: nothing was written.\n");
        }
      return TRUE;
    }

  store = ew_job_store_open (NULL, error);
  if (store == NULL)
    return FALSE;
  if (!ctx->json)
    {
      print_check_text (job, ecuw_context_get_link (ctx));
      fflush (stdout);
    }
  job_id = ew_flash_job_run (job, store, ecuw_print_flash_progress, &progress, NULL, &run_error);
  g_free (progress.last_step);

  if (ctx->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      ecuw_json_add_string (b, "module", module_id);
      ecuw_json_add_string (b, "container", path);
      json_builder_set_member_name (b, "job");
      json_builder_add_int_value (b, ew_flash_job_get_job_id (job));
      ecuw_json_add_string (b, "result", job_id != 0 ? "done"
                            : g_error_matches (run_error, EW_FLASH_ENGINE_ERROR,
                                               EW_FLASH_ENGINE_ERROR_ROLLED_BACK) ? "rolled-back"
                            : "failed");
      ecuw_json_add_string (b, "software_before", ew_flash_job_get_current_software (job));
      ecuw_json_add_string (b, "software_after", job_id != 0
                            ? ew_flash_container_get_software_version (ew_flash_job_get_container (job))
                            : NULL);
      ecuw_json_add_string (b, "error", run_error != NULL ? run_error->message : NULL);
      json_builder_end_object (b);
      ecuw_print_json (b);
    }
  else if (job_id != 0)
    g_print ("Done: module %s runs software %s, verified (job %" G_GINT64_FORMAT ").\n", module_id,
             ew_flash_container_get_software_version (ew_flash_job_get_container (job)), job_id);
  else if (ew_flash_job_get_job_id (job) != 0)
    g_print ("Failed (job %" G_GINT64_FORMAT "); see: ecuw job %" G_GINT64_FORMAT "\n",
             ew_flash_job_get_job_id (job), ew_flash_job_get_job_id (job));

  if (run_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&run_error));
      return FALSE;
    }
  return TRUE;
}
