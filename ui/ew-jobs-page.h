/* ew-jobs-page.h — the Jobs page: the quote for the car in the bay.
 *
 * After a scan the page reads the car once more in a worker (its modules
 * and features) and plans the work the findings call for by themselves: a
 * used cluster from another car, a module stuck in its bootloader. The
 * technician adds what the customer asks for — features to switch, a
 * module replaced, a module dead after a failed update — and the quote
 * lists every line with its class (coding, programming, adaptation), the
 * reason in plain words, time and price, what cannot be done and why, and
 * the totals with VAT. Prices follow the garage's settings as they change.
 */
#pragma once

#include <gtk/gtk.h>

#include "ew-car-link.h"
#include "job/planner.h"
#include "vehicle/database.h"

G_BEGIN_DECLS

#define EW_TYPE_JOBS_PAGE (ew_jobs_page_get_type ())
G_DECLARE_FINAL_TYPE (EwJobsPage, ew_jobs_page, EW, JOBS_PAGE, GtkWidget)

/* db is borrowed and must outlive the page; car_link, the window's
 * connection to the car, is referenced. */
void              ew_jobs_page_set_data      (EwJobsPage        *self,
                                              EwVehicleDatabase *db,
                                              EwCarLink         *car_link);
/* The car's link; a new link forgets the quote. */
void              ew_jobs_page_set_link      (EwJobsPage *self,
                                              const char *uri);
const char       *ew_jobs_page_get_link      (EwJobsPage *self);
/* Reads the car (modules, findings, features) in a worker and plans the
 * quote again (the "jobs.scan" action). */
void              ew_jobs_page_scan          (EwJobsPage *self);
gboolean          ew_jobs_page_get_is_busy   (EwJobsPage *self);
/* Adds FEATURE=STATE, replace:MODULE[:used|:new] or recover:MODULE to the
 * quote, as the Add buttons do; a feature asked again replaces its state.
 * Fails, and leaves the quote as it was, when the planner refuses the
 * request. */
gboolean          ew_jobs_page_add_item      (EwJobsPage  *self,
                                              const char  *item,
                                              GError     **error);
/* The quote as planned, or NULL before a scan. transfer none */
const EwJobPlan  *ew_jobs_page_get_plan      (EwJobsPage *self);
/* Writes the quote as an A4 PDF job sheet to path (the Save PDF button
 * asks for the path first; Print draws the same pages). */
gboolean          ew_jobs_page_save_pdf      (EwJobsPage  *self,
                                              const char  *path,
                                              GError     **error);
/* The quote's lines (EwQuoteLineRow), in the order of the work. */
guint             ew_jobs_page_get_n_lines   (EwJobsPage *self);
GtkWidget        *ew_jobs_page_get_line      (EwJobsPage *self,
                                              guint       index);
/* The customer view: the quote large and plain, for the customer (the
 * "jobs.customer-view" action toggles it). */
void              ew_jobs_page_set_customer_view        (EwJobsPage *self,
                                                         gboolean    is_customer_view);
gboolean          ew_jobs_page_get_customer_view        (EwJobsPage *self);
/* The EwCustomerView. transfer none */
GtkWidget        *ew_jobs_page_get_customer_view_widget (EwJobsPage *self);

G_END_DECLS
