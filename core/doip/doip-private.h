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

/* Writes the vectors, in order, within timeout_ms, as few segments as the
 * kernel allows (one sendmsg() when the socket takes it all); the vectors
 * are advanced past what was written. */
gboolean ew_doip_socket_send_vectors (GSocket        *socket,
                                      GOutputVector  *vectors,
                                      guint           n_vectors,
                                      guint           timeout_ms,
                                      GCancellable   *cancellable,
                                      GError        **error);
