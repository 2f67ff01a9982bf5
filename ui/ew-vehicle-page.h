/* ew-vehicle-page.h — the Vehicle page: identify the car in the bay.
 *
 * Type or paste a VIN; it is decoded as it is typed (manufacturer, check
 * digit, year candidates) and the matching vehicle families are offered,
 * best first, for the technician to pick. Or scan the car over its link:
 * every module's identification is read at once, the car identifies
 * itself, and what was found is said in plain language.
 */
#pragma once

#include <gtk/gtk.h>

#include "ew-car-link.h"
#include "vehicle/database.h"
#include "vehicle/vin.h"

G_BEGIN_DECLS

#define EW_TYPE_VEHICLE_PAGE (ew_vehicle_page_get_type ())
G_DECLARE_FINAL_TYPE (EwVehiclePage, ew_vehicle_page, EW, VEHICLE_PAGE, GtkWidget)

/* db and wmi_table are borrowed and must outlive the page; car_link, the
 * window's connection to the car, is referenced. */
void        ew_vehicle_page_set_data       (EwVehiclePage     *self,
                                            EwVehicleDatabase *db,
                                            const EwWmiTable  *wmi_table,
                                            EwCarLink         *car_link);
void        ew_vehicle_page_set_vin        (EwVehiclePage *self, const char *vin);
/* the family the technician picked, or NULL */
EwFamily   *ew_vehicle_page_get_family     (EwVehiclePage *self);
void        ew_vehicle_page_select_family  (EwVehiclePage *self, const char *family_id);
/* The complete VIN typed in or read from the car, or NULL. */
const char *ew_vehicle_page_get_vin        (EwVehiclePage *self);

/* The link URI scans use (sim:, doip:, …); NULL: no link, no scan. */
void        ew_vehicle_page_set_link       (EwVehiclePage *self, const char *uri);
const char *ew_vehicle_page_get_link       (EwVehiclePage *self);
/* Starts a scan in a worker thread (the "vehicle.scan" action); the
 * "car-scanned" signal (link URI) follows a scan that identified the car. */
void        ew_vehicle_page_scan           (EwVehiclePage *self);
gboolean    ew_vehicle_page_get_is_scanning (EwVehiclePage *self);

G_END_DECLS
