/* sim-ecu.h — one simulated control unit: a UDS server (ISO 14229-1)
 * built from a module of the vehicle data and a profile.
 *
 * The ECU only turns request messages into response messages; the bus
 * runner (ISO-TP on the simulated CAN bus) or the DoIP front end carries
 * them, and applies the frame-level faults of EwSimFaults. A simulated ECU
 * answers the simulation-marker DID with EW_SIM_ECU_MARKER.
 *
 * Services: 0x10 (sessions 01/02/03, P2 50 ms, P2* 5000 ms), 0x11, 0x14,
 * 0x19 (01, 02, 0A), 0x22 (several DIDs), 0x23, 0x27 (sim-xor-toy), 0x28,
 * 0x2E, 0x31 (the routines of the programming plan), 0x34/0x36/0x37,
 * 0x3E, 0x85. NRCs follow ISO 14229-1 7.5 priority order.
 */
#pragma once

#include <glib.h>
#include "vehicle/family.h"
#include "sim/sim-profile.h"
#include "sim/sim-faults.h"

G_BEGIN_DECLS

/* What the simulation-marker DID answers (16 bytes ASCII, no NUL). */
#define EW_SIM_ECU_MARKER "ECU-WORKSHOP-SIM"

/* ISO 14229-1 session timing the simulator announces and keeps */
#define EW_SIM_ECU_P2_MS       50
#define EW_SIM_ECU_P2_STAR_MS  5000
#define EW_SIM_ECU_S3_MS       5000
#define EW_SIM_ECU_RESET_MS    50

/* Default routine identifiers, used when the programming plan does not
 * name a routine for a step (common OEM practice on top of ISO 14229-1). */
#define EW_SIM_RID_ERASE_MEMORY        0xFF00
#define EW_SIM_RID_CHECK_DEPENDENCIES  0xFF01
#define EW_SIM_RID_CHECK_MEMORY        0x0202
#define EW_SIM_RID_CHECK_PRECONDITIONS 0x0203

typedef struct _EwSimEcu EwSimEcu;

typedef void (*EwSimRespondFunc) (const guint8 *response,
                                  gsize         length_bytes,
                                  gpointer      user_data);

/* profile: the module's start state (transfer none, a ref is kept).
 * faults: nullable (a ref is kept). */
EwSimEcu       *ew_sim_ecu_new             (EwFamily       *family,
                                            const EwModule *module,
                                            EwSimProfile   *profile,
                                            EwSimFaults    *faults);
void            ew_sim_ecu_free            (EwSimEcu       *ecu);

/* Handles one request (physical or functional). Calls respond zero times
 * (suppressed positive response, functional request not for it / negative
 * answer to a functional request that ISO 14229-1 suppresses, power lost,
 * module absent or resetting) or more (0x7F SID 0x78 responsePending, then
 * the final answer). May sleep to model processing time. One caller at a
 * time per ECU; different ECUs may run in different threads. */
void            ew_sim_ecu_handle_request  (EwSimEcu       *ecu,
                                            const guint8   *request,
                                            gsize           length_bytes,
                                            gboolean        is_functional,
                                            EwSimRespondFunc respond,
                                            gpointer        user_data);

/* Called every ~100 ms by the runner with g_get_monotonic_time (): ends a
 * non-default session after S3 without a request, finishes a reset, wakes
 * a module after a power loss. */
void            ew_sim_ecu_tick            (EwSimEcu       *ecu,
                                            gint64          now_us);

/* The clock the ECU uses for S3, lock-out and reset; tests replace it.
 * NULL restores g_get_monotonic_time. */
typedef gint64 (*EwSimClockFunc) (gpointer user_data);
void            ew_sim_ecu_set_clock       (EwSimEcu       *ecu,
                                            EwSimClockFunc  clock,
                                            gpointer        user_data);
/* When FALSE, the ECU does not sleep to model processing time (erase,
 * pending storms) but still sends the same answers. Default TRUE. */
void            ew_sim_ecu_set_sleeps      (EwSimEcu       *ecu,
                                            gboolean        sleeps);

void            ew_sim_ecu_set_max_block_length (EwSimEcu  *ecu,
                                                 guint      max_block_length);
const EwModule *ew_sim_ecu_get_module      (EwSimEcu       *ecu);
gboolean        ew_sim_ecu_is_present      (EwSimEcu       *ecu);
gboolean        ew_sim_ecu_is_in_bootloader (EwSimEcu      *ecu);
/* TRUE while resetting or without power: the ECU does not answer. */
gboolean        ew_sim_ecu_is_silent       (EwSimEcu       *ecu);

/* Persist and restore the state (coding bytes, identification, VIN,
 * mileage, DTCs, flash summary, bootloader flag) in the group
 * "module:ID" of key_file. */
void            ew_sim_ecu_save_state      (EwSimEcu       *ecu,
                                            GKeyFile       *key_file);
gboolean        ew_sim_ecu_load_state      (EwSimEcu       *ecu,
                                            GKeyFile       *key_file,
                                            GError        **error);

/* Test-facing accessors. */
/* The bytes 0x22 would answer for did (transfer full), or NULL. */
GBytes         *ew_sim_ecu_read_did        (EwSimEcu       *ecu,
                                            guint16         did);
/* The first mileage store's value (or of did when non-zero), in km. */
guint32         ew_sim_ecu_get_mileage_km  (EwSimEcu       *ecu,
                                            guint16         did);
guint8          ew_sim_ecu_get_session     (EwSimEcu       *ecu);
guint8          ew_sim_ecu_get_unlocked_level (EwSimEcu    *ecu); /* 0 = locked */
gboolean        ew_sim_ecu_get_communication_enabled (EwSimEcu *ecu);
gboolean        ew_sim_ecu_get_dtc_setting_enabled   (EwSimEcu *ecu);
guint           ew_sim_ecu_get_n_dtcs      (EwSimEcu       *ecu);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EwSimEcu, ew_sim_ecu_free)

G_END_DECLS
