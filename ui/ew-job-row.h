/* ew-job-row.h — one job of the job store on the History page: what it
 * did, how it ended, when and on which car; expanded, its journal step by
 * step. Coding jobs that can be undone offer Restore ("history.restore"
 * with the job id); a job a crash left running shows as unfinished. */
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
/* Whether the row offers Restore. */
gboolean    ew_job_row_can_restore    (EwJobRow *self);
/* "Done", "Unfinished", … as shown. */
const char *ew_job_row_get_state_text (EwJobRow *self);
guint       ew_job_row_get_n_journal  (EwJobRow *self);

G_END_DECLS
