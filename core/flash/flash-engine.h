/* flash-engine.h — programming (flashing) one module from a container.
 *
 * A flash job is prepared first: the module's identification is read, the
 * container is loaded and checked against the module, a recovery image is
 * looked for, and the steps are laid out from the module's programming
 * plan (common OEM practice fills a plan that lacks a step). Preparing
 * writes nothing, so it also serves a dry run.
 *
 * Running the job journals every step in the job store (kind
 * EW_JOB_KIND_PROGRAMMING) before and after it is done:
 *
 *   extended session, preconditions routine, DTC setting off and
 *   communication off (functional to every module with
 *   suppressPosRspMsgIndicationBit, no answers awaited, then physical to
 *   the module itself), programming
 *   session, security access, fingerprint, erase (each region with its
 *   routine), RequestDownload / TransferData / RequestTransferExit per
 *   segment, check memory (CRC-32 of the bytes sent), check dependencies,
 *   ECUReset, communication and DTC setting on (physical, then
 *   functional, with every module back to the default session), clear
 *   DTCs, and the
 *   identification read back: the new software version must be the
 *   container's.
 *
 * Failures: a TransferData block that fails is repeated with the same
 * counter (up to EW_FLASH_BLOCK_ATTEMPTS times, ISO 14229-1 14.5.2.3); a
 * download that still fails restarts once from the erase; a check memory
 * that fails restarts once from the erase. A module that stops answering
 * mid-download (power loss) is waited for, then programmed again from the
 * programming session and the erase. A failure that persists programs the
 * recovery image in the same job (journal step "recovery"): the job ends
 * ROLLED_BACK with the module running the recovery image's software, and
 * only when that fails too FAILED with the module left in its bootloader
 * ("recovery needed").
 *
 * The recovery image is a container for the module in the library
 * (FAMILY-MODULE[-…].hex/.srec/.s19/.xml in options->recovery_dir, else in
 * $XDG_DATA_HOME/ecu-workshop/flash and the shipped data/flash) that
 * checks against the module; one holding the software the module runs now
 * is preferred, being a true way back.
 *
 * Cancellation is honoured up to the erase; from the erase on the job
 * finishes or recovers. The calls block; run them in a worker thread.
 */
#pragma once

#include <gio/gio.h>

#include "connect/connection.h"
#include "flash/container-check.h"
#include "flash/container.h"
#include "store/job-store.h"

G_BEGIN_DECLS

#define EW_FLASH_BLOCK_ATTEMPTS        3
#define EW_FLASH_DEFAULT_WAKE_TIMEOUT_MS 10000

#define EW_FLASH_ENGINE_ERROR (ew_flash_engine_error_quark ())

typedef enum {
  EW_FLASH_ENGINE_ERROR_NOT_PROGRAMMABLE,  /* no flash layout or plan */
  EW_FLASH_ENGINE_ERROR_NOT_SIMULATED,     /* illustrative data on a real car */
  EW_FLASH_ENGINE_ERROR_NO_RECOVERY_IMAGE, /* no way back on disk */
  EW_FLASH_ENGINE_ERROR_STEP_FAILED,       /* a step failed before the erase */
  EW_FLASH_ENGINE_ERROR_RECOVERY_NEEDED,   /* the module is left in its bootloader */
  EW_FLASH_ENGINE_ERROR_VERIFY,            /* the module runs another version */
  EW_FLASH_ENGINE_ERROR_ROLLED_BACK,       /* failed; the recovery image runs again */
  EW_FLASH_ENGINE_ERROR_NOT_RESUMABLE,     /* the job cannot be resumed (flash-resume.h) */
  EW_FLASH_ENGINE_ERROR_NOT_IN_BOOTLOADER, /* recovery asked for a running module */
} EwFlashEngineError;

GQuark ew_flash_engine_error_quark (void);

typedef struct {
  gboolean    allow_downgrade;       /* the technician confirmed going back */
  /* flash a module already stuck in its bootloader even when no recovery
   * image exists (journalled) */
  gboolean    allow_no_recovery_image;
  const char *tester_id;             /* nullable: in the fingerprint; "ECUW01" */
  const char *recovery_dir;          /* nullable: the shipped data/flash */
  guint       wake_timeout_ms;       /* 0: EW_FLASH_DEFAULT_WAKE_TIMEOUT_MS */
} EwFlashOptions;

typedef struct {
  const char *step;                  /* step id: "erase", "download", … */
  double      fraction;              /* 0..1, never goes back */
  guint64     bytes_sent;            /* in the current download attempt */
  guint64     bytes_total;
  double      rate_bytes_per_s;      /* 0 before the download */
  double      seconds_left;          /* < 0: not known yet */
} EwFlashProgress;

typedef void (*EwFlashProgressFunc) (const EwFlashProgress *progress,
                                     gpointer               user_data);

/* One step as the job will take it; bytes only for downloads. */
typedef struct {
  EwProgrammingStepKind kind;
  const char           *id;          /* "session", "erase" … (journal step) */
  char                 *description; /* "Programming session (0x02)" */
  guint64               length_bytes;
} EwFlashStepInfo;

typedef struct _EwFlashJob EwFlashJob;

/* Reads the module's identification (no write), loads and checks the
 * container, finds the recovery image. container_path NULL: recover a
 * module dead in its bootloader with its recovery image (refused with
 * EW_FLASH_ENGINE_ERROR_NOT_IN_BOOTLOADER for a running module).
 * transfer full */
EwFlashJob *ew_flash_job_prepare (EwConnection         *connection,
                                  const char           *module_id,
                                  const char           *container_path,
                                  const EwFlashOptions *options,
                                  GCancellable         *cancellable,
                                  GError              **error);
void        ew_flash_job_free    (EwFlashJob *job);

const EwModule           *ew_flash_job_get_module           (EwFlashJob *job);
const EwFlashContainer   *ew_flash_job_get_container        (EwFlashJob *job);
const EwFlashCheckResult *ew_flash_job_get_check_result     (EwFlashJob *job);
/* As read from the module; "bootloader" or NULL for a dead one. */
const char               *ew_flash_job_get_current_software (EwFlashJob *job);
gboolean                  ew_flash_job_is_in_bootloader     (EwFlashJob *job);
gboolean                  ew_flash_job_is_simulated         (EwFlashJob *job);
/* The supply voltage read before the job, in millivolts; 0 when no module
 * of the car reports it. */
guint                     ew_flash_job_get_supply_voltage_mv (EwFlashJob *job);
/* nullable: the module that measured it. */
const EwModule           *ew_flash_job_get_supply_voltage_module (EwFlashJob *job);
/* nullable: no recovery image (allowed only with the override). */
const char               *ew_flash_job_get_recovery_image   (EwFlashJob *job);
/* nullable: the recovery image's software version. */
const char               *ew_flash_job_get_recovery_software (EwFlashJob *job);
guint64                   ew_flash_job_get_total_bytes      (EwFlashJob *job);
/* element-type EwFlashStepInfo, in order. transfer none */
GArray                   *ew_flash_job_get_steps            (EwFlashJob *job);

/* Runs the job; returns the job id, or 0 with error. The job id of a
 * failed run is still ew_flash_job_get_job_id(); a run that was rolled
 * back to the recovery image fails with EW_FLASH_ENGINE_ERROR_ROLLED_BACK.
 * progress may be NULL. */
gint64      ew_flash_job_run     (EwFlashJob          *job,
                                  EwJobStore          *store,
                                  EwFlashProgressFunc  progress,
                                  gpointer             user_data,
                                  GCancellable        *cancellable,
                                  GError             **error);
gint64      ew_flash_job_get_job_id (EwFlashJob *job);

/* Runs a freshly prepared job as the continuation of job_id, a stored
 * programming job that did not finish (see flash-resume.h): the journal
 * goes on in that job. is_recovery_image: the job was prepared with its
 * recovery image as the container; success then ends ROLLED_BACK
 * (EW_FLASH_ENGINE_ERROR_ROLLED_BACK) instead of DONE. */
gint64      ew_flash_job_continue (EwFlashJob          *job,
                                   EwJobStore          *store,
                                   gint64               job_id,
                                   gboolean             is_recovery_image,
                                   EwFlashProgressFunc  progress,
                                   gpointer             user_data,
                                   GCancellable        *cancellable,
                                   GError             **error);
/* Ends job_id DONE when the module, as the prepared job read it, already
 * runs the container's software; else fails with
 * EW_FLASH_ENGINE_ERROR_VERIFY. Journalled in job_id. */
gint64      ew_flash_job_confirm  (EwFlashJob  *job,
                                   EwJobStore  *store,
                                   gint64       job_id,
                                   GError     **error);

/* Prepare and run in one call. */
gint64      ew_flash_run         (EwConnection         *connection,
                                  EwJobStore           *store,
                                  const char           *module_id,
                                  const char           *container_path,
                                  const EwFlashOptions *options,
                                  EwFlashProgressFunc   progress,
                                  gpointer              user_data,
                                  GCancellable         *cancellable,
                                  GError              **error);

const char *ew_programming_step_kind_to_string (EwProgrammingStepKind kind);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EwFlashJob, ew_flash_job_free)

G_END_DECLS
