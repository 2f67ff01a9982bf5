/* flash-resume.h — finishing a programming job that did not finish: the
 * process died mid-flash (the job is still RUNNING in the job store) or
 * the job failed with the module left in its bootloader.
 *
 * The job's journal says which module, which container and which
 * recovery image; the module says where it stands. The same job goes on:
 * a module that already runs the new software is verified and the job
 * ends DONE; otherwise it is programmed again from the programming session
 * and the erase with the job's container, or with the recovery image when
 * the container no longer checks against the module (the job then ends
 * ROLLED_BACK).
 */
#pragma once

#include "flash/flash-engine.h"

G_BEGIN_DECLS

/* What a programming job's journal says it was doing. */
typedef struct {
  char     *module_id;
  char     *container_path;      /* nullable: the job never got that far */
  char     *recovery_image;      /* nullable: none or overridden */
  char     *software_before;     /* nullable: "(none)" or unknown */
  gboolean  is_downgrade_confirmed;
  gboolean  is_recovery_needed;  /* the journal ends "recovery-needed" */
} EwFlashResumeInfo;

void ew_flash_resume_info_free (EwFlashResumeInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EwFlashResumeInfo, ew_flash_resume_info_free)

/* Reads job_id's journal. Fails with EW_FLASH_ENGINE_ERROR_NOT_RESUMABLE
 * for a job that is no programming job, is finished (DONE, ROLLED_BACK,
 * RESTORED, or FAILED without recovery needed), or names no module and
 * container. transfer full */
EwFlashResumeInfo *ew_flash_resume_info_read (EwJobStore  *store,
                                              gint64       job_id,
                                              GError     **error);

/* Resumes job_id on connection (the car it was done on); call it only
 * when the process that ran the job has ended. Returns job_id when the
 * job ends DONE, else 0 with error (EW_FLASH_ENGINE_ERROR_ROLLED_BACK when
 * the recovery image was programmed instead). options may be NULL; the
 * override for a missing recovery image is implied for a module in its
 * bootloader, journalled. Blocks; progress may be NULL. */
gint64 ew_flash_resume (EwConnection         *connection,
                        EwJobStore           *store,
                        gint64                job_id,
                        const EwFlashOptions *options,
                        EwFlashProgressFunc   progress,
                        gpointer              user_data,
                        GCancellable         *cancellable,
                        GError              **error);

G_END_DECLS
