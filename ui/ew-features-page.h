/* ew-features-page.h — the Features page: what the car in the bay can do.
 *
 * Once the car is scanned (or on "Read Features") the page reads every
 * feature of the car's family from the car: switchable ones with a switch
 * or a choice, the others with the reason (not fitted, needs programming).
 * Changes wait in a pending bar until Apply, which reviews them first;
 * the engine then writes them with backup, read-back and rollback, and the
 * page reads the car again so that it shows what the car really holds.
 * Every job can be undone from the toast that reports it.
 */
#pragma once

#include <gtk/gtk.h>

#include "connect/connection.h"
#include "coding/catalogue.h"
#include "ew-car-link.h"
#include "ew-shared-store.h"

G_BEGIN_DECLS

#define EW_TYPE_FEATURES_PAGE (ew_features_page_get_type ())
G_DECLARE_FINAL_TYPE (EwFeaturesPage, ew_features_page, EW, FEATURES_PAGE, GtkWidget)

/* db is borrowed and must outlive the page; car_link (the window's
 * connection to the car) and store (nullable: the job store could not be
 * opened, nothing can be written) are referenced. */
void                ew_features_page_set_data        (EwFeaturesPage    *self,
                                                      EwVehicleDatabase *db,
                                                      EwCarLink         *car_link,
                                                      EwSharedStore     *store);
/* The car's link. A sim: link keeps its car while the URI stays the same. */
void                ew_features_page_set_link        (EwFeaturesPage    *self,
                                                      const char        *uri);
const char         *ew_features_page_get_link        (EwFeaturesPage    *self);
/* Reads the car's features in a worker (the "features.read" action). */
void                ew_features_page_read            (EwFeaturesPage    *self);
/* Restores a coding job from its backups (Undo, or Restore on the History
 * page) on the page's connection, then reads the car again. */
void                ew_features_page_restore         (EwFeaturesPage    *self,
                                                      gint64             job_id);
/* "42 % — Coding" while coding or a restore is written, else NULL. */
const char         *ew_features_page_get_progress_title (EwFeaturesPage *self);
/* Coding or a restore is being written to the car. */
gboolean            ew_features_page_get_is_writing  (EwFeaturesPage    *self);
gboolean            ew_features_page_get_is_busy     (EwFeaturesPage    *self);
/* The connection features are read and written through, or NULL. transfer none */
EwConnection       *ew_features_page_get_connection  (EwFeaturesPage    *self);
/* The catalogue last read, or NULL. transfer none */
EwFeatureCatalogue *ew_features_page_get_catalogue   (EwFeaturesPage    *self);
/* The row showing feature_id, or NULL: the list makes rows only for the
 * features in view (and none for those the search leaves out);
 * ew_features_page_show_feature () brings one into view, and its row
 * exists once the list is laid out again. transfer none */
GtkWidget          *ew_features_page_find_row        (EwFeaturesPage    *self,
                                                      const char        *feature_id);
/* Scrolls feature_id into view; FALSE when the list does not show it
 * (no such feature, or the search leaves it out). */
gboolean            ew_features_page_show_feature    (EwFeaturesPage    *self,
                                                      const char        *feature_id);
/* The heading feature_id is listed under (its category or module), or
 * NULL when it is not listed. */
const char         *ew_features_page_get_group_title (EwFeaturesPage    *self,
                                                      const char        *feature_id);
/* How many entries the list shows: features and their headings. */
guint               ew_features_page_get_n_listed    (EwFeaturesPage    *self);
guint               ew_features_page_get_n_pending   (EwFeaturesPage    *self);
/* The job the last apply or restore started, or 0. */
gint64              ew_features_page_get_last_job_id (EwFeaturesPage    *self);

G_END_DECLS
