/* channel.h — a channel moves whole diagnostic messages to and from one
 * module: ISO-TP over a CAN link, DoIP, or a kernel ISO-TP socket. The
 * UDS client sees only this interface, so it works on every transport.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define EW_CHANNEL_ERROR (ew_channel_error_quark ())

/* Failures any transport can report. Transport-specific failures (ISO-TP
 * flow control, DoIP routing …) use their own domain. */
typedef enum {
  EW_CHANNEL_ERROR_TIMEOUT,          /* no message within the timeout */
  EW_CHANNEL_ERROR_CLOSED,           /* the channel or its link is closed */
  EW_CHANNEL_ERROR_MESSAGE_LENGTH,   /* empty or longer than the channel carries */
  EW_CHANNEL_ERROR_TRANSPORT,        /* the link below failed */
} EwChannelError;

GQuark ew_channel_error_quark (void);

#define EW_TYPE_CHANNEL (ew_channel_get_type ())
G_DECLARE_INTERFACE (EwChannel, ew_channel, EW, CHANNEL, GObject)

struct _EwChannelInterface {
  GTypeInterface g_iface;

  gboolean    (*send)                   (EwChannel     *channel,
                                         const guint8  *data,
                                         gsize          length_bytes,
                                         GCancellable  *cancellable,
                                         GError       **error);
  GBytes     *(*receive)                (EwChannel     *channel,
                                         gint           timeout_ms,
                                         GCancellable  *cancellable,
                                         GError       **error);
  gsize       (*get_max_message_length) (EwChannel     *channel);
  const char *(*get_name)               (EwChannel     *channel);
};

/* Sends one whole message; returns when it has left completely. */
gboolean    ew_channel_send                   (EwChannel     *channel,
                                               const guint8  *data,
                                               gsize          length_bytes,
                                               GCancellable  *cancellable,
                                               GError       **error);
/* The next whole message, waiting up to timeout_ms (negative: no limit).
 * transfer full */
GBytes     *ew_channel_receive                (EwChannel     *channel,
                                               gint           timeout_ms,
                                               GCancellable  *cancellable,
                                               GError       **error);
/* The longest message send() accepts, in bytes. */
gsize       ew_channel_get_max_message_length (EwChannel     *channel);
/* For logs and messages, e.g. "ISO-TP 7E0/7E8 on sim:golf7". */
const char *ew_channel_get_name               (EwChannel     *channel);

G_END_DECLS
