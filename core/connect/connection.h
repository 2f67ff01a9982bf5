/* connection.h — a connection to one car, opened from a link URI, that
 * gives a diagnostic channel to each module of the car's family.
 *
 *   sim:FAMILY[?profile=NAME-or-FILE&faults=SPEC&bitrate=BPS&state=FILE]
 *       the in-process simulated car on a private simulated CAN bus
 *   doip:HOST[:PORT][?family=FAMILY]
 *       a DoIP entity; the family follows from the VIN it announces
 *   socketcan:IFACE?family=FAMILY, gsusb:[VID:PID][@SERIAL][&bitrate=]?family=FAMILY
 *       a CAN link with ISO-TP on the module's CAN ids; on CAN the family
 *       must be named, as nothing on the bus says which it is
 *
 * Channels are independent: one per module, usable from different threads
 * at once, so that work on several modules runs concurrently.
 */
#pragma once

#include <gio/gio.h>

#include "link/channel.h"
#include "vehicle/database.h"

G_BEGIN_DECLS

typedef struct _EwSimVehicle EwSimVehicle;

#define EW_CONNECTION_ERROR (ew_connection_error_quark ())

typedef enum {
  EW_CONNECTION_ERROR_BAD_URI,          /* malformed, unknown scheme or parameter */
  EW_CONNECTION_ERROR_UNKNOWN_FAMILY,   /* no such family, or none could be told */
  EW_CONNECTION_ERROR_NO_ADDRESS,       /* the module cannot be reached on this link */
} EwConnectionError;

GQuark ew_connection_error_quark (void);

#define EW_TYPE_CONNECTION (ew_connection_get_type ())
G_DECLARE_FINAL_TYPE (EwConnection, ew_connection, EW, CONNECTION, GObject)

/* Opens uri; db resolves family ids and VINs (a ref is not taken: it must
 * outlive the connection). transfer full */
EwConnection *ew_connection_open                (const char         *uri,
                                                 EwVehicleDatabase  *db,
                                                 GCancellable       *cancellable,
                                                 GError            **error);

const char   *ew_connection_get_uri             (EwConnection  *self);
/* The family the car belongs to, or NULL when not known yet. transfer none */
EwFamily     *ew_connection_get_family          (EwConnection  *self);
void          ew_connection_set_family          (EwConnection  *self,
                                                 EwFamily      *family);
/* The VIN the link itself announced (DoIP vehicle identification), or NULL. */
const char   *ew_connection_get_announced_vin   (EwConnection  *self);
/* The in-process simulated car behind a sim: link, else NULL. transfer none */
EwSimVehicle *ew_connection_get_sim_vehicle     (EwConnection  *self);

/* A channel to module. transfer full */
EwChannel    *ew_connection_open_channel        (EwConnection    *self,
                                                 const EwModule  *module,
                                                 GError         **error);
/* The channel functional requests go out on, for the modules addressed
 * like module (answers come on each module's own channel). transfer full */
EwChannel    *ew_connection_open_functional_channel (EwConnection    *self,
                                                     const EwModule  *module,
                                                     GError         **error);

/* Connects a DoIP link again after it dropped (new TCP connection and
 * routing activation); channels opened before fail from then on, so
 * callers open theirs again. Other links have nothing to connect: TRUE. */
gboolean      ew_connection_reconnect           (EwConnection  *self,
                                                 GCancellable  *cancellable,
                                                 GError       **error);

/* Ends the link; channels already open fail from then on. */
void          ew_connection_close               (EwConnection  *self);

G_END_DECLS
