/* ew-window.h — the main window: the page structure of a job
 * (Vehicle, Features, Jobs, History) and the identified car in the header. */
#pragma once

#include <adwaita.h>

#include "vehicle/database.h"
#include "vehicle/vin.h"

G_BEGIN_DECLS

#define EW_TYPE_WINDOW (ew_window_get_type ())
G_DECLARE_FINAL_TYPE (EwWindow, ew_window, EW, WINDOW, AdwApplicationWindow)

/* db and wmi_table are borrowed and must outlive the window. */
EwWindow      *ew_window_new              (GtkApplication    *application,
                                           EwVehicleDatabase *db,
                                           const EwWmiTable  *wmi_table);
GtkWidget     *ew_window_get_vehicle_page (EwWindow *self);
GtkWidget     *ew_window_get_features_page (EwWindow *self);
GtkWidget     *ew_window_get_history_page (EwWindow *self);
void           ew_window_show_page        (EwWindow *self, const char *page_name);

G_END_DECLS
