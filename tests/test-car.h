/* test-car.h — the engine tests' simulated car, scan, catalogue and job
 * store, each asserted to open. */
#pragma once

#include "coding/catalogue.h"
#include "connect/connection.h"
#include "scan/scan.h"
#include "store/job-store.h"

G_BEGIN_DECLS

/* transfer full, each */
EwConnection       *ew_test_open_car       (EwVehicleDatabase *db,
                                            const char        *uri);
/* A new store file in dir, numbered so each call gets its own. */
EwJobStore         *ew_test_open_store     (const char        *dir);
EwScanResult       *ew_test_scan_car       (EwConnection      *connection);
EwFeatureCatalogue *ew_test_read_catalogue (EwConnection      *connection);

G_END_DECLS
