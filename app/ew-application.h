/* ew-application.h — the ECU Workshop application: loads the vehicle data
 * once, owns the app-wide actions and opens the main window. */
#pragma once

#include <adwaita.h>

#include "vehicle/database.h"
#include "vehicle/vin.h"

G_BEGIN_DECLS

#define EW_TYPE_APPLICATION (ew_application_get_type ())
G_DECLARE_FINAL_TYPE (EwApplication, ew_application, EW, APPLICATION, AdwApplication)

EwApplication     *ew_application_new           (void);
EwVehicleDatabase *ew_application_get_database  (EwApplication *self);
const EwWmiTable  *ew_application_get_wmi_table (EwApplication *self);
/* The link scans use: --link, else the default-link setting. */
const char        *ew_application_get_link      (EwApplication *self);

G_END_DECLS
