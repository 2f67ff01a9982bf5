/* ecuw-recover.c — `ecuw [--link URI] recover MODULE [FILE]`: program a
 * module found dead in its bootloader with its recovery image from the
 * library (or with FILE), as a journalled job. A module that runs its
 * application is refused unless FILE is given (then it is a plain flash).
 */
#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>

#include "ecuw-command.h"
#include "connect/connection.h"
#include "flash/flash-engine.h"
#include "store/job-store.h"

gboolean
ecuw_cmd_recover (EcuwContext *ctx, int argc, char **argv, GError **error)
{
  g_autoptr(EwConnection) connection = NULL;
  g_autoptr(EwFlashJob) job = NULL;
  g_autoptr(EwJobStore) store = NULL;
  g_autoptr(GError) run_error = NULL;
  EwFlashOptions options = { 0 };
  EcuwFlashProgress progress = { 0 };
  const char *module_id = NULL, *path = NULL;
  const char *software_new;
  gint64 job_id;

  for (int i = 1; i < argc; i++)
    {
      if (argv[i][0] == '-' || (module_id != NULL && path != NULL))
        {
          g_set_error_literal (error, ECUW_ERROR, ECUW_ERROR_USAGE,
                               _("usage: ecuw [--link URI] recover MODULE [FILE]"));
          return FALSE;
        }
      if (module_id == NULL)
        module_id = argv[i];
      else
        path = argv[i];
    }
  if (module_id == NULL)
    {
      g_set_error_literal (error, ECUW_ERROR, ECUW_ERROR_USAGE,
                           _("usage: ecuw [--link URI] recover MODULE [FILE]"));
      return FALSE;
    }

  connection = ew_connection_open (ecuw_context_get_link (ctx), ecuw_context_get_database (ctx),
                                   NULL, error);
  if (connection == NULL)
    return FALSE;
  /* a module dead in its bootloader may be recovered with a named
   * container even without a recovery image: it is its way back */
  options.allow_no_recovery_image = path != NULL;
  job = ew_flash_job_prepare (connection, module_id, path, &options, NULL, error);
  if (job == NULL)
    {
      if (g_error_matches (*error, EW_FLASH_ENGINE_ERROR, EW_FLASH_ENGINE_ERROR_NOT_IN_BOOTLOADER))
        /* TRANSLATORS: the module id, then why it is refused */
        g_prefix_error (error, _("Module %s is not dead, nothing to recover: "), module_id);
      return FALSE;
    }
  software_new = ew_flash_container_get_software_version (ew_flash_job_get_container (job));

  store = ew_job_store_open (NULL, error);
  if (store == NULL)
    return FALSE;
  if (!ctx->json)
    {
      /* TRANSLATORS: module id, software now (or "bootloader"), container path, its software */
      g_print (_("Module %s: %s; programming %s (software %s)\n"), module_id,
               ew_flash_job_is_in_bootloader (job) ? _("in its bootloader (corrupt firmware)")
                                                   : ew_flash_job_get_current_software (job),
               ew_flash_container_get_path (ew_flash_job_get_container (job)), software_new);
      fflush (stdout);
    }
  job_id = ew_flash_job_run (job, store, ecuw_print_flash_progress, &progress, NULL, &run_error);
  g_free (progress.last_step);
  ew_connection_close (connection);

  if (ctx->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      ecuw_json_add_string (b, "link", ecuw_context_get_link (ctx));
      ecuw_json_add_string (b, "module", module_id);
      ecuw_json_add_string (b, "container",
                            ew_flash_container_get_path (ew_flash_job_get_container (job)));
      json_builder_set_member_name (b, "in_bootloader");
      json_builder_add_boolean_value (b, ew_flash_job_is_in_bootloader (job));
      json_builder_set_member_name (b, "job");
      json_builder_add_int_value (b, ew_flash_job_get_job_id (job));
      ecuw_json_add_string (b, "result", job_id != 0 ? "done" : "failed");
      ecuw_json_add_string (b, "software_before", ew_flash_job_get_current_software (job));
      ecuw_json_add_string (b, "software_after", job_id != 0 ? software_new : NULL);
      ecuw_json_add_string (b, "error", run_error != NULL ? run_error->message : NULL);
      json_builder_end_object (b);
      ecuw_print_json (b);
    }
  else if (job_id != 0)
    {
      g_autofree char *job_text = g_strdup_printf ("%" G_GINT64_FORMAT, job_id);

      /* TRANSLATORS: module id, software version, job number */
      g_print (_("Recovered: module %s runs software %s, verified (job %s).\n"), module_id,
               software_new, job_text);
    }

  if (run_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&run_error));
      return FALSE;
    }
  return TRUE;
}
