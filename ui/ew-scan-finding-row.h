/* ew-scan-finding-row.h — one finding of the scan in plain language: an
 * icon by its kind, a one-line title and the explanation below it.
 */
#pragma once

#include <adwaita.h>

#include "scan/scan.h"

G_BEGIN_DECLS

#define EW_TYPE_SCAN_FINDING_ROW (ew_scan_finding_row_get_type ())
G_DECLARE_FINAL_TYPE (EwScanFindingRow, ew_scan_finding_row, EW, SCAN_FINDING_ROW, AdwActionRow)

GtkWidget     *ew_scan_finding_row_new       (const EwScanFinding *finding);
EwFindingKind  ew_scan_finding_row_get_kind  (EwScanFindingRow *self);
/* The module the finding is about, by its id. */
const char    *ew_scan_finding_row_get_module_id (EwScanFindingRow *self);

/* How urgent a finding is, 0 first: a module from another car or without
 * software stops the job; an optional module not fitted is only noted. */
guint          ew_scan_finding_kind_rank     (EwFindingKind kind);

G_END_DECLS
