/* bench-isotp.c — ISO-TP throughput over the simulated bus with the
 * 500 kbit/s timing model, BS 0 and STmin 0: one message (1 MiB unless
 * given in bytes as the first argument) from a tester to a server channel,
 * against the best the wire allows for the same frames.
 */
#include <stdlib.h>
#include <string.h>

#include "isotp/isotp.h"
#include "link/sim-bus.h"

#define BITRATE_BPS 500000

typedef struct {
  EwIsotpChannel *server;
  GBytes         *message;
  GError         *error;
} Server;

static gpointer
server_thread (gpointer data)
{
  Server *s = data;

  s->message = ew_isotp_channel_receive (s->server, 600000, NULL, &s->error);
  return NULL;
}

/* Wire time of the frames that carry a message of len bytes with normal
 * addressing and 0xCC padding, from their exact bit lengths; worst_case
 * instead counts the most stuff bits any 8-byte frame can have. */
static gdouble
wire_seconds (const guint8 *data,
              gsize         len)
{
  guint64 bits = 0;
  EwCanFrame frame;
  guint8 pdu[8];
  gsize pos = 0;
  guint sn = 1;

  /* FF (12-bit or escaped length) */
  if (len <= 4095)
    {
      pdu[0] = 0x10 | (len >> 8);
      pdu[1] = len & 0xFF;
      memcpy (pdu + 2, data, 6);
      pos = 6;
    }
  else
    {
      pdu[0] = 0x10;
      pdu[1] = 0;
      pdu[2] = len >> 24;
      pdu[3] = len >> 16;
      pdu[4] = len >> 8;
      pdu[5] = len;
      memcpy (pdu + 6, data, 2);
      pos = 2;
    }
  ew_can_frame_init (&frame, 0x7E0, FALSE, pdu, 8);
  bits += ew_can_frame_wire_bits (&frame);
  /* the single flow control */
  ew_can_frame_init (&frame, 0x7E8, FALSE, (const guint8 *) "\x30\x00\x00\xCC\xCC\xCC\xCC\xCC", 8);
  bits += ew_can_frame_wire_bits (&frame);
  while (pos < len)
    {
      gsize n = MIN (7, len - pos);

      memset (pdu, 0xCC, sizeof pdu);
      pdu[0] = 0x20 | sn;
      memcpy (pdu + 1, data + pos, n);
      ew_can_frame_init (&frame, 0x7E0, FALSE, pdu, 8);
      bits += ew_can_frame_wire_bits (&frame);
      sn = (sn + 1) & 0xF;
      pos += n;
    }
  return (gdouble) bits / BITRATE_BPS;
}

int
main (int   argc,
      char *argv[])
{
  gsize len = argc > 1 ? strtoull (argv[1], NULL, 0) : 1024 * 1024;
  g_autoptr(EwSimBus) bus = ew_sim_bus_get ("bench-isotp");
  g_autoptr(EwSimLink) tester_link = ew_sim_link_new (bus);
  g_autoptr(EwSimLink) server_link = ew_sim_link_new (bus);
  g_autoptr(EwIsotpChannel) tester = NULL;
  g_autoptr(EwIsotpChannel) server = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *data = NULL;
  EwIsotpConfig tc, sc;
  Server s = { 0 };
  GThread *thread;
  gint64 start, end;
  gdouble seconds, exact, no_stuff, worst;
  guint64 n_cf;

  if (len == 0)
    {
      g_printerr ("bench-isotp: the message length must be at least 1 byte\n");
      return 2;
    }

  data = g_malloc (len);
  for (gsize i = 0; i < len; i++)
    data[i] = g_random_int_range (0, 256);

  ew_sim_bus_set_bitrate (bus, BITRATE_BPS);
  ew_isotp_config_init (&tc, 0x7E0, 0x7E8);
  ew_isotp_config_init (&sc, 0x7E8, 0x7E0);
  sc.block_size = 0;
  sc.st_min = 0;
  sc.max_rx_length_bytes = G_MAXUINT32;
  tester = ew_isotp_channel_new (EW_LINK (tester_link), &tc, &error);
  g_assert_no_error (error);
  server = ew_isotp_channel_new (EW_LINK (server_link), &sc, &error);
  g_assert_no_error (error);

  s.server = server;
  thread = g_thread_new ("server", server_thread, &s);
  start = g_get_monotonic_time ();
  if (!ew_isotp_channel_send (tester, data, len, NULL, &error))
    {
      g_printerr ("bench-isotp: %s\n", error->message);
      return 1;
    }
  g_thread_join (thread);
  end = g_get_monotonic_time ();
  if (s.message == NULL)
    {
      g_printerr ("bench-isotp: %s\n", s.error->message);
      return 1;
    }
  if (g_bytes_get_size (s.message) != len || memcmp (g_bytes_get_data (s.message, NULL), data, len) != 0)
    {
      g_printerr ("bench-isotp: the received message differs from the one sent\n");
      return 1;
    }
  g_bytes_unref (s.message);

  seconds = (end - start) / 1e6;
  exact = wire_seconds (data, len);
  /* 8-byte standard frame: 111 bits without stuffing; at most 24 stuff
   * bits over its 98 stuffed bits (1 after the first 5, then 1 every 4) */
  n_cf = (len - (len <= 4095 ? 6 : 2) + 6) / 7;
  no_stuff = (gdouble) (n_cf + 2) * 111 / BITRATE_BPS;
  worst = (gdouble) (n_cf + 2) * (111 + 24) / BITRATE_BPS;

  g_print ("ISO-TP over the simulated bus at %u bit/s, BS 0, STmin 0, 0xCC padding\n", BITRATE_BPS);
  g_print ("message:                 %zu bytes in %" G_GUINT64_FORMAT " consecutive frames\n", len, n_cf);
  g_print ("measured:                %.3f s, %.0f bytes/s\n", seconds, len / seconds);
  g_print ("wire limit, these frames: %.3f s, %.0f bytes/s (exact stuff bits)\n", exact, len / exact);
  g_print ("wire limit, no stuffing:  %.0f bytes/s; worst-case stuffing: %.0f bytes/s\n",
           len / no_stuff, len / worst);
  g_print ("efficiency:              %.1f %% of the wire limit\n", 100.0 * exact / seconds);
  return 0;
}
