/* flash-resume.c — finishing a programming job from its journal. */
#include "config.h"
#include "flash-resume.h"

#include <string.h>

void
ew_flash_resume_info_free (EwFlashResumeInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->module_id);
  g_free (info->container_path);
  g_free (info->recovery_image);
  g_free (info->software_before);
  g_free (info);
}

/* The text of detail before the last occurrence of marker. */
static char *
text_before (const char *detail, const char *marker)
{
  const char *at = detail != NULL ? g_strrstr (detail, marker) : NULL;

  return at != NULL ? g_strndup (detail, (gsize) (at - detail)) : NULL;
}

EwFlashResumeInfo *
ew_flash_resume_info_read (EwJobStore  *store,
                           gint64       job_id,
                           GError     **error)
{
  g_autoptr(EwJobRecord) record = NULL;
  g_autoptr(GPtrArray) journal = NULL;
  g_autoptr(EwFlashResumeInfo) info = g_new0 (EwFlashResumeInfo, 1);

  record = ew_job_store_get_job (store, job_id, error);
  if (record == NULL)
    return NULL;
  if (record->kind != EW_JOB_KIND_PROGRAMMING)
    {
      g_set_error (error, EW_FLASH_ENGINE_ERROR, EW_FLASH_ENGINE_ERROR_NOT_RESUMABLE,
                   "Job %" G_GINT64_FORMAT " is a %s job, not a programming job", job_id,
                   ew_job_record_kind_to_string (record->kind));
      return NULL;
    }
  journal = ew_job_store_get_journal (store, job_id, error);
  if (journal == NULL)
    return NULL;

  for (guint i = 0; i < journal->len; i++)
    {
      const EwJournalEntry *e = g_ptr_array_index (journal, i);

      if (info->module_id == NULL && e->module_id != NULL)
        info->module_id = g_strdup (e->module_id);
      if (g_strcmp0 (e->outcome, "ok") == 0 && g_strcmp0 (e->step, "container-check") == 0)
        {
          g_free (info->container_path);
          info->container_path = text_before (e->detail, ": software ");
          info->is_downgrade_confirmed = e->detail != NULL &&
                                         strstr (e->detail, ", downgrade confirmed") != NULL;
        }
      else if (g_strcmp0 (e->outcome, "ok") == 0 && g_strcmp0 (e->step, "recovery-image") == 0)
        {
          g_free (info->recovery_image);
          info->recovery_image = text_before (e->detail, " (software ");
          if (info->recovery_image == NULL)
            info->recovery_image = g_strdup (e->detail);
        }
      else if (g_strcmp0 (e->outcome, "ok") == 0 && g_strcmp0 (e->step, "identification") == 0 &&
               info->software_before == NULL && e->detail != NULL &&
               g_str_has_prefix (e->detail, "software "))
        info->software_before = text_before (e->detail, ", part ");
      /* the last word decides: a resume that ended well clears it */
      if (g_strcmp0 (e->step, "recovery-needed") == 0)
        info->is_recovery_needed = TRUE;
      else if (g_strcmp0 (e->step, "resume") == 0)
        info->is_recovery_needed = FALSE;
    }
  if (info->software_before != NULL && g_str_has_prefix (info->software_before, "software "))
    memmove (info->software_before, info->software_before + strlen ("software "),
             strlen (info->software_before) - strlen ("software ") + 1);

  if (record->state != EW_JOB_STATE_RUNNING &&
      !(record->state == EW_JOB_STATE_FAILED && info->is_recovery_needed))
    {
      g_set_error (error, EW_FLASH_ENGINE_ERROR, EW_FLASH_ENGINE_ERROR_NOT_RESUMABLE,
                   "Programming job %" G_GINT64_FORMAT " is %s: there is nothing to resume",
                   job_id, ew_job_state_to_string (record->state));
      return NULL;
    }
  if (info->module_id == NULL || info->container_path == NULL)
    {
      g_set_error (error, EW_FLASH_ENGINE_ERROR, EW_FLASH_ENGINE_ERROR_NOT_RESUMABLE,
                   "The journal of programming job %" G_GINT64_FORMAT " names no module and "
                   "container: nothing was written, start the flash again", job_id);
      return NULL;
    }
  return g_steal_pointer (&info);
}

static void
note (EwJobStore *store, gint64 job_id, const char *module_id, const char *step,
      const char *outcome, const char *detail)
{
  g_autoptr(GError) error = NULL;

  if (!ew_job_store_journal (store, job_id, step, module_id, outcome, detail, &error))
    g_warning ("Journal entry '%s' of job %" G_GINT64_FORMAT " not written: %s", step, job_id,
               error->message);
}

gint64
ew_flash_resume (EwConnection         *connection,
                 EwJobStore           *store,
                 gint64                job_id,
                 const EwFlashOptions *options,
                 EwFlashProgressFunc   progress,
                 gpointer              user_data,
                 GCancellable         *cancellable,
                 GError              **error)
{
  static const EwFlashOptions no_options = { 0 };
  g_autoptr(EwFlashResumeInfo) info = NULL;
  g_autoptr(EwJobRecord) record = NULL;
  g_autoptr(EwFlashJob) job = NULL;
  g_autoptr(GError) local_error = NULL;
  EwFlashOptions opts;
  EwFamily *family;
  const char *version;

  g_return_val_if_fail (EW_IS_CONNECTION (connection), 0);
  g_return_val_if_fail (store != NULL && job_id > 0, 0);

  info = ew_flash_resume_info_read (store, job_id, error);
  if (info == NULL)
    return 0;
  record = ew_job_store_get_job (store, job_id, error);
  if (record == NULL)
    return 0;
  family = ew_connection_get_family (connection);
  if (record->family_id != NULL && family != NULL && g_strcmp0 (family->id, record->family_id) != 0)
    {
      g_set_error (error, EW_FLASH_ENGINE_ERROR, EW_FLASH_ENGINE_ERROR_NOT_RESUMABLE,
                   "Programming job %" G_GINT64_FORMAT " was done on a %s car; %s is a %s",
                   job_id, record->family_id, ew_connection_get_uri (connection), family->id);
      return 0;
    }

  opts = options != NULL ? *options : no_options;
  opts.allow_downgrade = opts.allow_downgrade || info->is_downgrade_confirmed;
  /* the module may be dead in its bootloader: the job itself is its way
   * back, so the override is implied (and journalled by the engine) */
  opts.allow_no_recovery_image = TRUE;

  job = ew_flash_job_prepare (connection, info->module_id, info->container_path, &opts, cancellable,
                              &local_error);
  if (job != NULL && !ew_flash_job_is_in_bootloader (job) && ew_flash_job_get_recovery_image (job) == NULL)
    {
      /* a running module needs a way back before it is erased again */
      g_set_error (&local_error, EW_FLASH_ENGINE_ERROR, EW_FLASH_ENGINE_ERROR_NO_RECOVERY_IMAGE,
                   "No recovery image for module %s: it runs its application, so it is not "
                   "programmed again without one", info->module_id);
      g_clear_pointer (&job, ew_flash_job_free);
      note (store, job_id, info->module_id, "resume", "failed", local_error->message);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return 0;
    }
  if (job != NULL)
    {
      version = ew_flash_container_get_software_version (ew_flash_job_get_container (job));
      if (!ew_flash_job_is_in_bootloader (job) &&
          g_strcmp0 (ew_flash_job_get_current_software (job), version) == 0)
        {
          g_autofree char *detail = g_strdup_printf ("module %s answers with software %s, the "
                                                     "container's: verifying it", info->module_id,
                                                     version);

          note (store, job_id, info->module_id, "resume", "started", detail);
          return ew_flash_job_confirm (job, store, job_id, error);
        }
      return ew_flash_job_continue (job, store, job_id, FALSE, progress, user_data, cancellable,
                                    error);
    }

  /* the container is gone, changed or no longer fits: the way back */
  if (local_error->domain != EW_FLASH_ERROR || info->recovery_image == NULL)
    {
      note (store, job_id, info->module_id, "resume", "failed", local_error->message);
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                  "Programming job %" G_GINT64_FORMAT " cannot be resumed: ", job_id);
      return 0;
    }
  {
    g_autofree char *detail = g_strdup_printf ("%s no longer checks against module %s: %s; "
                                               "programming the recovery image %s instead",
                                               info->container_path, info->module_id,
                                               local_error->message, info->recovery_image);

    note (store, job_id, info->module_id, "container-check", "failed", detail);
  }
  g_clear_error (&local_error);
  opts.allow_downgrade = TRUE;
  job = ew_flash_job_prepare (connection, info->module_id, info->recovery_image, &opts, cancellable,
                              &local_error);
  if (job == NULL)
    {
      note (store, job_id, info->module_id, "resume", "failed", local_error->message);
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                  "Programming job %" G_GINT64_FORMAT " cannot be resumed with "
                                  "the recovery image: ", job_id);
      return 0;
    }
  return ew_flash_job_continue (job, store, job_id, TRUE, progress, user_data, cancellable, error);
}
