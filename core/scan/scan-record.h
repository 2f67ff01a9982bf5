/* scan-record.h — a scan as a JSON document (what `ecuw scan --json`
 * prints), and as a snapshot in the job store. */
#pragma once

#include <json-glib/json-glib.h>

#include "scan/scan.h"
#include "store/job-store.h"

G_BEGIN_DECLS

/* The scan as a JSON object: link, family, vin, simulated, duration_ms,
 * modules [...], findings [...]. transfer full */
JsonNode *ew_scan_result_to_json (const EwScanResult *result,
                                  const char         *link_uri);

/* Notes the car among the vehicles seen and keeps the scan as a snapshot. */
gboolean  ew_scan_result_record  (const EwScanResult *result,
                                  const char         *link_uri,
                                  EwJobStore         *store,
                                  GError            **error);

G_END_DECLS
