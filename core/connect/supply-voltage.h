/* supply-voltage.h — the car's supply voltage before a write.
 *
 * A module written while the battery sags may stop half-way; a charger set
 * too high can damage it. Coding and programming read the voltage from the
 * modules whose vehicle data declare a supply-voltage DID (millivolts, as
 * OBD PID 0x42) and refuse to start outside the range below. A car whose
 * modules report none is written on the technician's word alone, and the
 * journal says so. */
#pragma once

#include <gio/gio.h>
#include "connect/connection.h"
#include "uds/uds-client.h"
#include "vehicle/family.h"

G_BEGIN_DECLS

/* Below this a battery is too weak to finish a job without a support unit. */
#define EW_SUPPLY_MIN_CODING_MV      12000
/* Programming takes minutes with every module awake: a support unit is due. */
#define EW_SUPPLY_MIN_PROGRAMMING_MV 12500
/* Above this a charger is set wrong (jump-start mode) or failing. */
#define EW_SUPPLY_MAX_MV             15500

#define EW_SUPPLY_VOLTAGE_ERROR (ew_supply_voltage_error_quark ())
GQuark ew_supply_voltage_error_quark (void);

typedef enum {
  EW_SUPPLY_VOLTAGE_ERROR_TOO_LOW,
  EW_SUPPLY_VOLTAGE_ERROR_TOO_HIGH,
} EwSupplyVoltageError;

/* The millivolts of a supply-voltage record, 0 when it is not 2 bytes. */
guint     ew_supply_voltage_from_bytes (GBytes *bytes);

/* Reads the voltage at `module` when its data declare it (through
 * `module_client`, when one is open to it already), else at the first
 * module of the car's family that declares it. Returns millivolts and sets
 * *from, or 0 and NULL when no module reports it. */
guint     ew_supply_voltage_read       (EwConnection     *connection,
                                        const EwModule   *module,
                                        EwUdsClient      *module_client,
                                        GCancellable     *cancellable,
                                        const EwModule  **from);

/* Reads the voltage at `module` only, through `client` when one is open
 * to it already; 0 when its data declare none or it does not answer. */
guint     ew_supply_voltage_read_at    (EwConnection     *connection,
                                        const EwModule   *module,
                                        EwUdsClient      *client,
                                        GCancellable     *cancellable);

/* Whether `mv`, read at `from`, allows work of class `work`; an error that
 * says what to connect otherwise. 0 (not reported) passes. Callers check
 * before their first write, so the message asks to start again. */
gboolean  ew_supply_voltage_check      (guint             mv,
                                        EwWorkClass       work,
                                        const EwModule   *from,
                                        GError          **error);

/* "12.4 V" */
char     *ew_supply_voltage_format     (guint             mv);

G_END_DECLS
