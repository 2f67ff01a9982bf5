/* scan.h — the module scan: read the VIN and every module's identification
 * concurrently, then judge what was read.
 *
 * Findings, in the garage's words:
 *   - a module from another car (its stored VIN is not the car's);
 *   - a module stuck in its bootloader (no application software running);
 *   - a module absent or not answering (an optional one is "not fitted");
 *   - software behind the level the family's programming features need.
 */
#pragma once

#include <gio/gio.h>

#include "connect/connection.h"

G_BEGIN_DECLS

typedef enum {
  EW_SCAN_MODULE_WAITING,       /* not asked yet */
  EW_SCAN_MODULE_ANSWERED,      /* running its application */
  EW_SCAN_MODULE_BOOTLOADER,    /* answered from its bootloader */
  EW_SCAN_MODULE_SILENT,        /* no answer in time */
  EW_SCAN_MODULE_FAILED,        /* answered, but not to identification */
} EwScanModuleState;

typedef struct {
  const EwModule    *module;             /* owned by the family */
  EwScanModuleState  state;
  char              *vin;                /* each nullable: not read */
  char              *part_number;
  char              *software_version;
  char              *hardware_version;
  char              *serial_number;
  char              *supplier;
  char              *programming_date;
  guint8             active_session;     /* 0 = not read */
  /* A module paired with the car's immobiliser (an engine unit): its
   * status DID's first byte, EW_IMMOBILISER_PAIRED or _NOT_PAIRED; -1
   * when the module has none or did not say. */
  gint               immobiliser_status;
  guint              supply_voltage_mv;  /* 0 = the module does not report it */
  gboolean           is_simulated;       /* answered the simulation marker */
  char              *error_message;      /* SILENT, FAILED */
  guint              duration_ms;
} EwScanModule;

/* A module's result outlives the scan's worker in a copy. transfer full */
EwScanModule *ew_scan_module_copy (const EwScanModule *module);
void          ew_scan_module_free (EwScanModule       *module);

typedef enum {
  EW_FINDING_VIN_MISMATCH,
  EW_FINDING_BOOTLOADER,
  EW_FINDING_NOT_ANSWERING,
  EW_FINDING_NOT_FITTED,
  EW_FINDING_SOFTWARE_BEHIND,
  EW_FINDING_IMMOBILISER_UNPAIRED,
} EwFindingKind;

typedef struct {
  EwFindingKind   kind;
  const EwModule *module;
  char           *title;                 /* one line, for a list */
  char           *explanation;           /* plain language for the technician */
  char           *expected;              /* nullable: the car's VIN, the level */
  char           *actual;                /* nullable: what the module holds */
} EwScanFinding;

typedef struct {
  EwFamily  *family;
  char      *vin;                        /* nullable: the car's VIN */
  gboolean   is_simulated;               /* every answering module said so */
  GPtrArray *modules;                    /* EwScanModule, in the family's order */
  GPtrArray *findings;                   /* EwScanFinding */
  guint      duration_ms;
} EwScanResult;

void ew_scan_result_free (EwScanResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EwScanResult, ew_scan_result_free)

const char *ew_scan_module_state_to_string (EwScanModuleState state);
const char *ew_finding_kind_to_string      (EwFindingKind     kind);

/* Called from the scan's worker threads, one call at a time, when a
 * module starts (state WAITING) and when it is done. */
typedef void (*EwScanProgressFunc) (const EwScanModule *module,
                                    guint               n_done,
                                    guint               n_total,
                                    gpointer            user_data);

/* Scans every module of the connection's family, up to max_parallel at a
 * time (0: all at once). transfer full */
EwScanResult *ew_scan_run (EwConnection        *connection,
                           guint                max_parallel,
                           EwScanProgressFunc   progress,
                           gpointer             user_data,
                           GCancellable        *cancellable,
                           GError             **error);

/* Compares dotted software levels numerically ("17.07.50" < "18.03.00",
 * "0245" < "0612"); <0, 0, >0 as strcmp. */
int ew_software_version_compare (const char *a,
                                 const char *b);

G_END_DECLS
