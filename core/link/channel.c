/* channel.c — the EwChannel interface. */
#include "channel.h"

G_DEFINE_QUARK (ew-channel-error-quark, ew_channel_error)

G_DEFINE_INTERFACE (EwChannel, ew_channel, G_TYPE_OBJECT)

static void
ew_channel_default_init (EwChannelInterface *iface)
{
}

gboolean
ew_channel_send (EwChannel     *channel,
                 const guint8  *data,
                 gsize          length_bytes,
                 GCancellable  *cancellable,
                 GError       **error)
{
  g_return_val_if_fail (EW_IS_CHANNEL (channel), FALSE);
  g_return_val_if_fail (data != NULL || length_bytes == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return EW_CHANNEL_GET_IFACE (channel)->send (channel, data, length_bytes, cancellable, error);
}

GBytes *
ew_channel_receive (EwChannel     *channel,
                    gint           timeout_ms,
                    GCancellable  *cancellable,
                    GError       **error)
{
  g_return_val_if_fail (EW_IS_CHANNEL (channel), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return EW_CHANNEL_GET_IFACE (channel)->receive (channel, timeout_ms, cancellable, error);
}

gsize
ew_channel_get_max_message_length (EwChannel *channel)
{
  g_return_val_if_fail (EW_IS_CHANNEL (channel), 0);
  return EW_CHANNEL_GET_IFACE (channel)->get_max_message_length (channel);
}

const char *
ew_channel_get_name (EwChannel *channel)
{
  g_return_val_if_fail (EW_IS_CHANNEL (channel), NULL);
  return EW_CHANNEL_GET_IFACE (channel)->get_name (channel);
}
