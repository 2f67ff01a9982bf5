/* ew-car-link.h — the one connection to the car in the bay, shared by the
 * window's pages and the engine work they run in worker threads.
 *
 * A simulated car lives inside its connection: pages that each opened
 * their own would each talk to a different car. The holder opens the
 * connection for a link URI on first use, from any thread, and hands the
 * same connection to every caller asking for that URI until the link
 * changes or the connection is given up after a failure. Work already
 * running keeps its reference; a connection is closed when its last user
 * lets go of it.
 *
 * One piece of engine work talks to the car at a time, as with one tester
 * on a real car: two requests to the same module from two pages would
 * share its CAN ids and tester address. */
#pragma once

#include <glib.h>

#include "connect/connection.h"
#include "vehicle/database.h"

G_BEGIN_DECLS

typedef struct _EwCarLink EwCarLink;

/* db must outlive the holder (as for ew_connection_open). */
EwCarLink    *ew_car_link_new     (EwVehicleDatabase *db);
EwCarLink    *ew_car_link_ref     (EwCarLink         *self);
void          ew_car_link_unref   (EwCarLink         *self);

/* Waits until no other work uses the car, then gives the connection to
 * uri, opened now when there is none for it yet (the holder then forgets
 * any connection to another URI). Blocking: call it from a worker thread;
 * every successful call is paired with ew_car_link_release. transfer full */
EwConnection *ew_car_link_acquire (EwCarLink         *self,
                                   const char        *uri,
                                   GCancellable      *cancellable,
                                   GError           **error);
/* Ends the use begun by ew_car_link_acquire; takes connection's reference. */
void          ew_car_link_release (EwCarLink         *self,
                                   EwConnection      *connection);
/* The connection held for uri, or NULL; never blocks. transfer full */
EwConnection *ew_car_link_peek    (EwCarLink         *self,
                                   const char        *uri);
/* Gives up connection (a link failure): the next open reconnects. A
 * connection the holder no longer holds is left alone. */
void          ew_car_link_forget  (EwCarLink         *self,
                                   EwConnection      *connection);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EwCarLink, ew_car_link_unref)

G_END_DECLS
