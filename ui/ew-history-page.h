/* ew-history-page.h — the History page: every job of the job store, newest
 * first, with its journal; coding jobs can be restored from their backups
 * (after a confirmation), and a job a crash left running is shown as
 * unfinished with Restore — or Resume for a programming job, which goes
 * on rather than being undone. The work itself runs where the car's
 * connection is: the page asks for it with "restore-requested" (coding)
 * or "resume-requested" (programming). Every finished job offers its
 * customer job sheet as a PDF ("history.job-sheet"). */
#pragma once

#include <gtk/gtk.h>

#include "ew-shared-store.h"
#include "vehicle/database.h"

G_BEGIN_DECLS

#define EW_TYPE_HISTORY_PAGE (ew_history_page_get_type ())
G_DECLARE_FINAL_TYPE (EwHistoryPage, ew_history_page, EW, HISTORY_PAGE, GtkWidget)

/* store (nullable: it could not be opened) is referenced; error says why. */
void       ew_history_page_set_store   (EwHistoryPage *self,
                                        EwSharedStore *store,
                                        const GError  *error);
/* The vehicle data, for the job sheets' vehicle and feature names; db is
 * borrowed and must outlive the page. */
void       ew_history_page_set_database (EwHistoryPage     *self,
                                         EwVehicleDatabase *db);
/* Writes the customer's job sheet of finished job job_id (done, rolled
 * back or undone) to path as a PDF: the work carried out, from its
 * journal, with the garage from the app's settings. */
gboolean   ew_history_page_save_job_sheet (EwHistoryPage *self,
                                           gint64         job_id,
                                           const char    *path,
                                           GError       **error);
/* Lists the store's jobs again. */
void       ew_history_page_refresh     (EwHistoryPage *self);
/* Asks to restore (coding) or resume (programming) job_id, as its
 * button does: a confirmation. */
void       ew_history_page_ask_restore (EwHistoryPage *self,
                                        gint64         job_id);
/* Shows message for a moment (a result, or why something could not run). */
void       ew_history_page_add_toast   (EwHistoryPage *self,
                                        const char    *message);
/* The row of job_id, or NULL. transfer none */
GtkWidget *ew_history_page_find_row    (EwHistoryPage *self,
                                        gint64         job_id);
guint      ew_history_page_get_n_jobs  (EwHistoryPage *self);

G_END_DECLS
