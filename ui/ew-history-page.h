/* ew-history-page.h — the History page: every job of the job store, newest
 * first, with its journal; coding jobs can be restored from their backups
 * (after a confirmation), and a job a crash left running is shown as
 * unfinished with Restore. The restore itself runs where the car's
 * connection is: the page asks for it with "restore-requested". */
#pragma once

#include <gtk/gtk.h>

#include "ew-shared-store.h"

G_BEGIN_DECLS

#define EW_TYPE_HISTORY_PAGE (ew_history_page_get_type ())
G_DECLARE_FINAL_TYPE (EwHistoryPage, ew_history_page, EW, HISTORY_PAGE, GtkWidget)

/* store (nullable: it could not be opened) is referenced; error says why. */
void       ew_history_page_set_store   (EwHistoryPage *self,
                                        EwSharedStore *store,
                                        const GError  *error);
/* Lists the store's jobs again. */
void       ew_history_page_refresh     (EwHistoryPage *self);
/* Asks to restore job_id, as its Restore button does: a confirmation. */
void       ew_history_page_ask_restore (EwHistoryPage *self,
                                        gint64         job_id);
/* The row of job_id, or NULL. transfer none */
GtkWidget *ew_history_page_find_row    (EwHistoryPage *self,
                                        gint64         job_id);
guint      ew_history_page_get_n_jobs  (EwHistoryPage *self);

G_END_DECLS
