/* coding-transaction.h — applying a coding plan so that it can never leave
 * a module half-coded.
 *
 *   1. provenance: illustrative data only on a simulated car; community
 *      data only with the technician's acknowledgement per feature,
 *      journalled;
 *   2. preflight per module: the coding session, security access (the
 *      module's coding level; the toy algorithm only on a simulated car),
 *      battery voltage where the module reports it;
 *   3. backup: every affected DID read again and committed to the job
 *      store before the first write;
 *   4. write, then read back every byte of every written DID;
 *   5. any error or mismatch restores every DID already written — across
 *      modules — and reads the restore back too.
 *
 * Every step is journalled in the store before and after it happens.
 */
#pragma once

#include "coding/coding-plan.h"
#include "store/job-store.h"

G_BEGIN_DECLS

/* step: "preflight", "backup", "write", "verify", "rollback", "restore";
 * fraction 0..1 of the whole transaction, never going backwards. Called
 * on the calling thread. */
typedef void (*EwCodingProgressFunc) (const char *step,
                                      const char *module_id,
                                      double      fraction,
                                      gpointer    user_data);

/* Applies plan. Returns the job id (> 0). On failure returns 0 with error:
 * EW_CODING_ERROR_ROLLED_BACK when every module is back as it was (its
 * message says what failed), EW_CODING_ERROR_ROLLBACK_FAILED when not, or
 * an error of an earlier stage when nothing was written. job_id (nullable)
 * receives the job's id in every case where a job was started.
 * acknowledged: community feature ids the technician confirmed. */
gint64   ew_coding_apply   (EwConnection         *connection,
                            EwJobStore           *store,
                            EwCodingPlan         *plan,
                            const char *const    *acknowledged,
                            EwCodingProgressFunc  progress,
                            gpointer              user_data,
                            gint64               *job_id,
                            GCancellable         *cancellable,
                            GError              **error);

/* Writes job_id's backups back (verified) as a new restore job, which it
 * returns; the restored job is marked RESTORED. Works for finished jobs
 * (undo) and for jobs a crash left RUNNING: a DID that already holds its
 * old bytes is left alone. */
gint64   ew_coding_restore (EwConnection         *connection,
                            EwJobStore           *store,
                            gint64                job_id,
                            EwCodingProgressFunc  progress,
                            gpointer              user_data,
                            GCancellable         *cancellable,
                            GError              **error);

G_END_DECLS
