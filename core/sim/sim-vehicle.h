/* sim-vehicle.h — the simulated car: one simulated ECU per module of a
 * vehicle family, carried either on the in-process simulated CAN bus
 * (ISO-TP, the module's own CAN ids, functional requests included) or by a
 * DoIP entity on a TCP/UDP address (the car's gateway, routing by logical
 * address), or both at once.
 *
 * Each module has its own worker thread, so modules answer concurrently as
 * in a real car; a module handles one request at a time. Over DoIP, a
 * request the module answers without modelled processing time (TransferData,
 * TesterPresent, ReadDataByIdentifier, RequestDownload/-TransferExit) is
 * handled on the DoIP entity's thread when the module is idle and no
 * fault is injected, which spares two thread hand-offs per request; the
 * order of requests is kept either way. The frame- and
 * link-level faults of the profile's fault spec (drop, delay, link-drop)
 * are applied here, the UDS-level ones by the ECUs.
 */
#pragma once

#include <gio/gio.h>

#include "link/sim-bus.h"
#include "sim/sim-ecu.h"

G_BEGIN_DECLS

typedef struct _EwSimVehicle EwSimVehicle;

/* A simulated car of family, starting from profile (a ref is kept);
 * faults may be NULL. No module answers until a front end is started.
 * transfer full */
EwSimVehicle *ew_sim_vehicle_new          (EwFamily      *family,
                                           EwSimProfile  *profile,
                                           EwSimFaults   *faults);
/* Stops every front end and thread. */
void          ew_sim_vehicle_free         (EwSimVehicle  *self);

/* Puts every present module with a CAN address on bus. */
gboolean      ew_sim_vehicle_start_bus    (EwSimVehicle  *self,
                                           EwSimBus      *bus,
                                           GError       **error);
/* Listens as a DoIP entity on address:port (port 0: the kernel picks one,
 * see get_doip_port). Only loopback unless allow_remote. */
gboolean      ew_sim_vehicle_start_doip   (EwSimVehicle  *self,
                                           const char    *address,
                                           guint16        port,
                                           gboolean       allow_remote,
                                           GError       **error);
guint16       ew_sim_vehicle_get_doip_port (EwSimVehicle *self);
/* Ends the front ends; the modules keep their state. Safe to call twice. */
void          ew_sim_vehicle_stop         (EwSimVehicle  *self);

EwFamily     *ew_sim_vehicle_get_family   (EwSimVehicle  *self);   /* transfer none */
EwSimProfile *ew_sim_vehicle_get_profile  (EwSimVehicle  *self);   /* transfer none */
/* The module's ECU, or NULL. transfer none */
EwSimEcu     *ew_sim_vehicle_find_ecu     (EwSimVehicle  *self,
                                           const char    *module_id);
/* The VIN the car identifies with (DoIP vehicle identification). */
const char   *ew_sim_vehicle_get_vin      (EwSimVehicle  *self);
/* Requests the modules have received (after faults) since the start. */
guint         ew_sim_vehicle_get_n_requests (EwSimVehicle *self);
/* Whether a link-drop fault has taken the car off the link. */
gboolean      ew_sim_vehicle_is_link_down (EwSimVehicle  *self);

/* Runs func with the module's ECU while no request is being handled,
 * so a caller may read or change its state safely. */
typedef void (*EwSimEcuFunc) (EwSimEcu *ecu, gpointer user_data);
void          ew_sim_vehicle_with_ecu     (EwSimVehicle  *self,
                                           const char    *module_id,
                                           EwSimEcuFunc   func,
                                           gpointer       user_data);

/* Every module's state, as `ecuw sim --state FILE` keeps it across
 * restarts. Saving writes a new file and renames it into place. */
gboolean      ew_sim_vehicle_save_state   (EwSimVehicle  *self,
                                           const char    *path,
                                           GError       **error);
/* Loads state saved for the same family; a missing file is not an
 * error (the car starts from its profile). */
gboolean      ew_sim_vehicle_load_state   (EwSimVehicle  *self,
                                           const char    *path,
                                           GError       **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EwSimVehicle, ew_sim_vehicle_free)

G_END_DECLS
