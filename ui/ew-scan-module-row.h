/* ew-scan-module-row.h — one module of the car in the scan: its progress
 * (waiting, answered, bootloader, no answer) and what it said about itself.
 */
#pragma once

#include <adwaita.h>

#include "scan/scan.h"

G_BEGIN_DECLS

#define EW_TYPE_SCAN_MODULE_ROW (ew_scan_module_row_get_type ())
G_DECLARE_FINAL_TYPE (EwScanModuleRow, ew_scan_module_row, EW, SCAN_MODULE_ROW, AdwActionRow)

/* module is borrowed from its family, which must outlive the row. */
GtkWidget         *ew_scan_module_row_new       (const EwModule *module);
const EwModule    *ew_scan_module_row_get_module (EwScanModuleRow *self);
EwScanModuleState  ew_scan_module_row_get_state (EwScanModuleRow *self);
/* TRUE once the module answered or the scan gave up on it */
gboolean           ew_scan_module_row_is_final  (EwScanModuleRow *self);
/* Shows what the scan knows of the module; car_vin (nullable) is the VIN
 * the car was identified by, to tell a module from another car. */
void               ew_scan_module_row_update    (EwScanModuleRow    *self,
                                                 const EwScanModule *scanned,
                                                 const char         *car_vin);
/* The scan ended (cancelled or failed) before the module was asked. */
void               ew_scan_module_row_stop      (EwScanModuleRow *self);

G_END_DECLS
