/* doip-private.h — socket plumbing shared by the DoIP client and server. */
#pragma once

#include <gio/gio.h>

/* Writes all of data within timeout_ms, also on a non-blocking socket. */
gboolean ew_doip_socket_send_all (GSocket       *socket,
                                  const guint8  *data,
                                  gsize          length,
                                  guint          timeout_ms,
                                  GCancellable  *cancellable,
                                  GError       **error);
