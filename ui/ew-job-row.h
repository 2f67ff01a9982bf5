/* ew-job-row.h — one job of the job store on the History page: what it
 * did, how it ended, when and on which car; expanded, its journal step by
 * step. Coding jobs that can be undone offer Restore ("history.restore"
 * with the job id), programming jobs that did not finish offer Resume
 * (the same action); a job a crash left running shows as unfinished. */
#pragma once

#include <adwaita.h>

#include "store/job-store.h"

G_BEGIN_DECLS

#define EW_TYPE_JOB_ROW (ew_job_row_get_type ())
G_DECLARE_FINAL_TYPE (EwJobRow, ew_job_row, EW, JOB_ROW, AdwExpanderRow)

/* journal: element-type EwJournalEntry, read while the row is built. */
GtkWidget  *ew_job_row_new            (const EwJobRecord *record,
                                       GPtrArray         *journal);
gint64      ew_job_row_get_job_id     (EwJobRow *self);
/* Whether the row offers Restore (Resume for a programming job). */
gboolean    ew_job_row_can_restore    (EwJobRow *self);
/* A programming job: the action resumes it ("_Resume") instead of
 * restoring a backup. */
gboolean    ew_job_row_is_resume      (EwJobRow *self);
/* For a programming job: whether it can be resumed (flash-resume.h). */
void        ew_job_row_set_can_resume (EwJobRow *self,
                                       gboolean  can_resume);
/* "_Restore" or "_Resume", as the button shows it. */
const char *ew_job_row_get_action_label (EwJobRow *self);
/* A finished job (done, rolled back, undone) offers its job sheet
 * ("history.job-sheet" with the job id). */
gboolean    ew_job_row_has_job_sheet  (EwJobRow *self);
/* "Done", "Unfinished", … as shown. */
const char *ew_job_row_get_state_text (EwJobRow *self);
guint       ew_job_row_get_n_journal  (EwJobRow *self);

G_END_DECLS
