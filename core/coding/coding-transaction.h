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
/* More on ew_coding_apply:
 *  - a provenance refusal starts no job (job_id stays 0); it is journalled
 *    as an entry of no job (step "provenance", outcome "refused");
 *  - a failure before the first write (preflight, backup, cancel) ends the
 *    job ROLLED_BACK, as the car is untouched, and returns that stage's
 *    error (EW_CODING_ERROR_PRECONDITION, the UDS error of a backup read,
 *    G_IO_ERROR_CANCELLED);
 *  - a backup read that differs from the plan's before bytes (the module
 *    changed since the catalogue was read) is EW_CODING_ERROR_PRECONDITION;
 *  - modules are written and verified one after another in the plan's
 *    order; a rollback restores newest first, leaves alone a DID that
 *    already holds its old bytes, and tries one fresh session and
 *    security access for a module that lost them;
 *  - journal steps: "acknowledge", "preflight", "battery", "backup",
 *    "write", "verify", "cancel", "rollback", "job"; outcomes "started",
 *    "ok", "failed", "skipped", "done", "rolled-back";
 *  - battery voltage: the vehicle data has no role for a voltage DID yet,
 *    so the check is journalled as skipped. */

/* Writes job_id's backups back (verified) as a new restore job, which it
 * returns; the restored job is marked RESTORED. Works for finished jobs
 * (undo) and for jobs a crash left RUNNING: a DID that already holds its
 * old bytes is left alone (journalled "restore" "skipped"); one holding
 * the new bytes or anything else gets the old bytes. The restore job
 * backs up what it replaces, so it can be undone in turn. When a DID
 * cannot be restored the others still are, the restore job ends FAILED
 * and the error is EW_CODING_ERROR_ROLLBACK_FAILED; the job's backups
 * stay for another try. */
gint64   ew_coding_restore (EwConnection         *connection,
                            EwJobStore           *store,
                            gint64                job_id,
                            EwCodingProgressFunc  progress,
                            gpointer              user_data,
                            GCancellable         *cancellable,
                            GError              **error);

G_END_DECLS
