/* test-link.c — CAN links: URIs, the simulated bus (delivery to many
 * nodes from many threads, filters, timeouts, cancellation, closing), the
 * exact frame timing model with its CRC-15 and stuff bits, and SocketCAN
 * where a vcan interface exists.
 */
#include <string.h>

#include "link/link.h"
#include "link/link-mux.h"
#include "link/sim-bus.h"
#include "link/socketcan.h"

static EwLink *
open_ok (const char *uri)
{
  g_autoptr(GError) error = NULL;
  EwLink *link = ew_link_open (uri, &error);

  g_assert_no_error (error);
  g_assert_nonnull (link);
  return link;
}

static void
assert_open_fails (const char *uri,
                   gint        code,
                   const char *needle)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EwLink) link = ew_link_open (uri, &error);

  g_assert_null (link);
  g_assert_error (error, EW_LINK_ERROR, code);
  g_test_message ("“%s” -> %s", uri, error->message);
  if (uri != NULL && *uri != '\0')
    g_assert_nonnull (strstr (error->message, uri));
  if (needle != NULL)
    g_assert_nonnull (strstr (error->message, needle));
}

static void
send_ok (EwLink       *link,
         guint32       id,
         gboolean      is_extended,
         const guint8 *data,
         gsize         len)
{
  g_autoptr(GError) error = NULL;
  EwCanFrame frame;

  ew_can_frame_init (&frame, id, is_extended, data, len);
  g_assert_true (ew_link_send (link, &frame, 1000, NULL, &error));
  g_assert_no_error (error);
}

static void
receive_ok (EwLink     *link,
            EwCanFrame *frame)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (ew_link_receive (link, frame, 2000, NULL, &error));
  g_assert_no_error (error);
}

static void
assert_nothing_queued (EwLink *link)
{
  g_autoptr(GError) error = NULL;
  EwCanFrame frame;

  g_assert_false (ew_link_receive (link, &frame, 0, NULL, &error));
  g_assert_error (error, EW_LINK_ERROR, EW_LINK_ERROR_TIMEOUT);
}

/* ---- URIs ---- */

static void
test_uri_sim (void)
{
  g_autoptr(EwLink) a = open_ok ("sim:golf7?profile=healthy&faults=bcm-boot%2Cvoltage");
  g_autoptr(EwLink) b = open_ok ("sim:golf7");
  g_autoptr(EwLink) other = open_ok ("sim:w205");
  EwSimBus *bus;

  g_assert_true (EW_IS_SIM_LINK (a));
  g_assert_cmpstr (ew_link_get_uri (a), ==, "sim:golf7?profile=healthy&faults=bcm-boot%2Cvoltage");
  g_assert_cmpstr (ew_link_get_name (a), ==, "sim:golf7");
  g_assert_cmpstr (ew_sim_link_get_parameter (EW_SIM_LINK (a), "profile"), ==, "healthy");
  g_assert_cmpstr (ew_sim_link_get_parameter (EW_SIM_LINK (a), "faults"), ==, "bcm-boot,voltage");
  g_assert_null (ew_sim_link_get_parameter (EW_SIM_LINK (a), "vin"));
  g_assert_null (ew_sim_link_get_parameter (EW_SIM_LINK (b), "profile"));

  /* both golf7 links are nodes of one bus; w205 is another bus */
  bus = ew_sim_link_get_bus (EW_SIM_LINK (a));
  g_assert_true (bus == ew_sim_link_get_bus (EW_SIM_LINK (b)));
  g_assert_false (bus == ew_sim_link_get_bus (EW_SIM_LINK (other)));
  g_assert_cmpstr (ew_sim_bus_get_name (bus), ==, "golf7");
  g_assert_cmpuint (ew_sim_bus_get_n_nodes (bus), ==, 2);

  {
    g_autoptr(EwSimBus) again = ew_sim_bus_get ("golf7");

    g_assert_true (again == bus);
  }

  /* a frame from a reaches b, not the other bus */
  {
    const guint8 data[] = { 0x02, 0x3E, 0x00 };
    EwCanFrame frame;

    send_ok (a, 0x7DF, FALSE, data, sizeof data);
    receive_ok (b, &frame);
    g_assert_cmpuint (frame.id, ==, 0x7DF);
    g_assert_cmpmem (frame.data, frame.len, data, sizeof data);
    assert_nothing_queued (other);
    assert_nothing_queued (a);
  }

  g_clear_object (&b);
  g_assert_cmpuint (ew_sim_bus_get_n_nodes (bus), ==, 1);
}

static void
test_uri_bad (void)
{
  assert_open_fails ("", EW_LINK_ERROR_BAD_URI, "empty");
  assert_open_fails (NULL, EW_LINK_ERROR_BAD_URI, "empty");
  assert_open_fails ("golf7", EW_LINK_ERROR_BAD_URI, "no scheme");
  assert_open_fails (":golf7", EW_LINK_ERROR_BAD_URI, "no scheme");
  assert_open_fails ("ftp:golf7", EW_LINK_ERROR_BAD_URI, "unknown scheme “ftp”");
  assert_open_fails ("sim:", EW_LINK_ERROR_BAD_URI, "needs a vehicle family");
  assert_open_fails ("sim:?profile=x", EW_LINK_ERROR_BAD_URI, "needs a vehicle family");
  assert_open_fails ("sim:golf 7", EW_LINK_ERROR_BAD_URI, "“ ” at position 8");
  assert_open_fails ("sim:golf7?profile=%zz", EW_LINK_ERROR_BAD_URI, "query");
  assert_open_fails ("socketcan:", EW_LINK_ERROR_BAD_URI, "interface name");
  assert_open_fails ("socketcan:averyveryverylongname", EW_LINK_ERROR_BAD_URI, "longer than 15");
  assert_open_fails ("socketcan:can/0", EW_LINK_ERROR_BAD_URI, "“/”");
}

static void
test_uri_not_supported (void)
{
  /* gs_usb opening is tested against a fake adapter in test-gsusb */
  assert_open_fails ("doip:127.0.0.1:13400", EW_LINK_ERROR_NOT_SUPPORTED, "DoIP");
  assert_open_fails ("doip:gateway.local", EW_LINK_ERROR_NOT_SUPPORTED, "not CAN frames");
}

static void
test_uri_socketcan_missing (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EwLink) link = ew_link_open ("socketcan:ewnone0", &error);

  /* without the interface (or without CAN in the kernel) the error names
   * the URI and says what is missing */
  g_assert_null (link);
  g_assert_true (g_error_matches (error, EW_LINK_ERROR, EW_LINK_ERROR_NOT_FOUND)
                 || g_error_matches (error, EW_LINK_ERROR, EW_LINK_ERROR_NOT_SUPPORTED));
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "socketcan:ewnone0"));
}

/* ---- the simulated bus ---- */

#define N_NODES 5
#define N_SENDERS 4
#define FRAMES_PER_SENDER 300

typedef struct {
  EwLink *link;
  guint   index;
} Sender;

static gpointer
sender_thread (gpointer data)
{
  Sender *s = data;

  for (guint i = 0; i < FRAMES_PER_SENDER; i++)
    {
      guint8 payload[4] = { s->index, i >> 8, i & 0xFF, 0xA5 };
      EwCanFrame frame;
      g_autoptr(GError) error = NULL;

      ew_can_frame_init (&frame, 0x100 + s->index, FALSE, payload, sizeof payload);
      if (!ew_link_send (s->link, &frame, 1000, NULL, &error))
        g_error ("send: %s", error->message);
      if (i % 37 == 0)
        g_thread_yield ();
    }
  return NULL;
}

static void
test_sim_many_nodes (void)
{
  g_autoptr(EwSimBus) bus = ew_sim_bus_get ("test-many-nodes");
  EwLink *nodes[N_NODES];
  GThread *threads[N_SENDERS];
  Sender senders[N_SENDERS];

  for (guint n = 0; n < N_NODES; n++)
    nodes[n] = EW_LINK (ew_sim_link_new (bus));
  g_assert_cmpuint (ew_sim_bus_get_n_nodes (bus), ==, N_NODES);

  /* nodes 0..3 send at once from their own threads; node 4 only listens */
  for (guint t = 0; t < N_SENDERS; t++)
    {
      senders[t].link = nodes[t];
      senders[t].index = t;
      threads[t] = g_thread_new ("sender", sender_thread, &senders[t]);
    }
  for (guint t = 0; t < N_SENDERS; t++)
    g_thread_join (threads[t]);
  g_assert_cmpuint (ew_sim_bus_get_n_frames (bus), ==, N_SENDERS * FRAMES_PER_SENDER);

  /* each node has every frame of the others, in each sender's order, and
   * none of its own */
  for (guint n = 0; n < N_NODES; n++)
    {
      guint next[N_SENDERS] = { 0 };
      guint expected_total = (n < N_SENDERS ? N_SENDERS - 1 : N_SENDERS) * FRAMES_PER_SENDER;
      gint64 last_timestamp = 0;

      for (guint k = 0; k < expected_total; k++)
        {
          EwCanFrame frame;
          guint from;

          receive_ok (nodes[n], &frame);
          from = frame.data[0];
          g_assert_cmpuint (frame.len, ==, 4);
          g_assert_cmpuint (from, <, N_SENDERS);
          g_assert_cmpuint (from, !=, n);
          g_assert_cmpuint (frame.id, ==, 0x100 + from);
          g_assert_cmpuint ((frame.data[1] << 8) | frame.data[2], ==, next[from]);
          g_assert_cmpuint (frame.data[3], ==, 0xA5);
          g_assert_cmpint (frame.timestamp_us, >=, last_timestamp);
          last_timestamp = frame.timestamp_us;
          next[from]++;
        }
      assert_nothing_queued (nodes[n]);
    }

  for (guint n = 0; n < N_NODES; n++)
    g_object_unref (nodes[n]);
  g_assert_cmpuint (ew_sim_bus_get_n_nodes (bus), ==, 0);
}

static void
test_sim_loopback (void)
{
  g_autoptr(EwSimBus) bus = ew_sim_bus_get ("test-loopback");
  g_autoptr(EwSimLink) a = ew_sim_link_new (bus);
  g_autoptr(EwSimLink) b = ew_sim_link_new (bus);
  const guint8 data[] = { 0x11 };
  EwCanFrame frame;

  send_ok (EW_LINK (a), 0x10, FALSE, data, 1);
  assert_nothing_queued (EW_LINK (a));
  receive_ok (EW_LINK (b), &frame);

  ew_sim_link_set_loopback (a, TRUE);
  send_ok (EW_LINK (a), 0x11, FALSE, data, 1);
  receive_ok (EW_LINK (a), &frame);
  g_assert_cmpuint (frame.id, ==, 0x11);
  receive_ok (EW_LINK (b), &frame);
  g_assert_cmpuint (frame.id, ==, 0x11);
}

static void
test_sim_filters (void)
{
  g_autoptr(EwSimBus) bus = ew_sim_bus_get ("test-filters");
  g_autoptr(EwSimLink) tx = ew_sim_link_new (bus);
  g_autoptr(EwSimLink) rx = ew_sim_link_new (bus);
  g_autoptr(GError) error = NULL;
  const EwCanFilter filters[] = {
    { 0x7E8, 0x7FF, FALSE },           /* one 11-bit id */
    { 0x18DAF100, 0x1FFFFF00, TRUE },  /* every 29-bit id to tester F1 */
  };
  const guint8 data[] = { 0xAB, 0xCD };
  EwCanFrame frame;

  g_assert_true (ew_link_set_filters (EW_LINK (rx), filters, G_N_ELEMENTS (filters), &error));
  g_assert_no_error (error);

  send_ok (EW_LINK (tx), 0x7E0, FALSE, data, 2);        /* no */
  send_ok (EW_LINK (tx), 0x7E8, FALSE, data, 2);        /* yes */
  send_ok (EW_LINK (tx), 0x7E8, TRUE, data, 2);         /* no: 29-bit 0x7E8 */
  send_ok (EW_LINK (tx), 0x18DAF110, TRUE, data, 2);    /* yes */
  send_ok (EW_LINK (tx), 0x18DA10F1, TRUE, data, 2);    /* no */
  send_ok (EW_LINK (tx), 0x18DAF140, TRUE, data, 1);    /* yes */

  receive_ok (EW_LINK (rx), &frame);
  g_assert_cmpuint (frame.id, ==, 0x7E8);
  g_assert_false (frame.is_extended);
  receive_ok (EW_LINK (rx), &frame);
  g_assert_cmpuint (frame.id, ==, 0x18DAF110);
  g_assert_true (frame.is_extended);
  receive_ok (EW_LINK (rx), &frame);
  g_assert_cmpuint (frame.id, ==, 0x18DAF140);
  g_assert_cmpuint (frame.len, ==, 1);
  assert_nothing_queued (EW_LINK (rx));

  /* no filters: everything */
  g_assert_true (ew_link_set_filters (EW_LINK (rx), NULL, 0, &error));
  send_ok (EW_LINK (tx), 0x7E0, FALSE, data, 2);
  receive_ok (EW_LINK (rx), &frame);
  g_assert_cmpuint (frame.id, ==, 0x7E0);
}

static void
test_sim_timeout (void)
{
  g_autoptr(EwLink) link = open_ok ("sim:test-timeout");
  g_autoptr(GError) error = NULL;
  EwCanFrame frame;
  gint64 start = g_get_monotonic_time ();
  gint64 elapsed;

  g_assert_false (ew_link_receive (link, &frame, 80, NULL, &error));
  elapsed = g_get_monotonic_time () - start;
  g_assert_error (error, EW_LINK_ERROR, EW_LINK_ERROR_TIMEOUT);
  g_assert_nonnull (strstr (error->message, "80 ms"));
  g_assert_cmpint (elapsed, >=, 80000);
  g_assert_cmpint (elapsed, <, 1000000);
}

static gboolean
cancel_later (gpointer data)
{
  g_cancellable_cancel (data);
  return G_SOURCE_REMOVE;
}

static gpointer
cancel_thread (gpointer data)
{
  g_usleep (50000);
  cancel_later (data);
  return NULL;
}

static void
test_sim_cancel (void)
{
  g_autoptr(EwLink) link = open_ok ("sim:test-cancel");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  GThread *thread = g_thread_new ("cancel", cancel_thread, cancellable);
  gint64 start = g_get_monotonic_time ();
  EwCanFrame frame;

  /* no timeout: only the cancellable ends the wait */
  g_assert_false (ew_link_receive (link, &frame, -1, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 2000000);
  g_thread_join (thread);

  /* already cancelled: fails at once, also for send */
  g_clear_error (&error);
  g_assert_false (ew_link_receive (link, &frame, 1000, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  ew_can_frame_init (&frame, 0x1, FALSE, NULL, 0);
  g_assert_false (ew_link_send (link, &frame, 1000, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static gpointer
close_thread (gpointer data)
{
  g_usleep (50000);
  ew_link_close (data);
  return NULL;
}

static void
test_sim_close (void)
{
  g_autoptr(EwLink) link = open_ok ("sim:test-close");
  g_autoptr(EwLink) peer = open_ok ("sim:test-close");
  g_autoptr(GError) error = NULL;
  GThread *thread = g_thread_new ("close", close_thread, link);
  EwCanFrame frame;

  g_assert_false (ew_link_receive (link, &frame, 5000, NULL, &error));
  g_assert_error (error, EW_LINK_ERROR, EW_LINK_ERROR_CLOSED);
  g_thread_join (thread);
  g_assert_true (ew_link_is_closed (link));

  g_clear_error (&error);
  ew_can_frame_init (&frame, 0x1, FALSE, NULL, 0);
  g_assert_false (ew_link_send (link, &frame, 1000, NULL, &error));
  g_assert_error (error, EW_LINK_ERROR, EW_LINK_ERROR_CLOSED);

  /* a closed node no longer receives; closing again is harmless */
  send_ok (peer, 0x2, FALSE, NULL, 0);
  ew_link_close (link);
  g_assert_cmpuint (ew_sim_bus_get_n_nodes (ew_sim_link_get_bus (EW_SIM_LINK (peer))), ==, 1);
}

/* ---- frames on the wire ---- */

/* An independent CRC-15: the remainder of (message · x^15) divided by the
 * generator polynomial 0xC599 (x^15+x^14+x^10+x^8+x^7+x^4+x^3+1), by long
 * division on a bit string rather than the controller's shift register. */
static guint
crc15_long_division (const char *bits)
{
  gsize n = strlen (bits);
  g_autofree guint8 *r = g_new0 (guint8, n + 15);
  const char *gen = "1100010110011001";
  guint crc = 0;

  for (gsize i = 0; i < n; i++)
    r[i] = bits[i] == '1';
  for (gsize i = 0; i < n; i++)
    if (r[i])
      for (gsize j = 0; j < 16; j++)
        r[i + j] ^= gen[j] == '1';
  for (gsize i = n; i < n + 15; i++)
    crc = (crc << 1) | r[i];
  return crc;
}

/* Stuff bits of a bit string, counted independently of the library. */
static guint
count_stuff_bits (const char *bits)
{
  guint stuff = 0, run = 0;
  char last = 0;

  for (const char *p = bits; *p != '\0'; p++)
    {
      run = *p == last ? run + 1 : 1;
      last = *p;
      if (run == 5)
        {
          stuff++;
          last = last == '1' ? '0' : '1';
          run = 1;
        }
    }
  return stuff;
}

static void
test_frame_crc_and_bits (void)
{
  /* 7E0#0210030000000000 (a DiagnosticSessionControl request), written
   * out by hand, dominant = 0:
   *   SOF 0 | id 111 1110 0000 | RTR 0 IDE 0 r0 0 | DLC 1000 |
   *   02 00000010 10 00010000 03 00000011 and five 00000000
   * = 83 bits before the CRC. */
  const char *stream =
    "0" "11111100000" "000" "1000"
    "00000010" "00010000" "00000011" "00000000" "00000000" "00000000" "00000000" "00000000";
  const guint8 data[] = { 0x02, 0x10, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00 };
  g_autoptr(EwCanFrame) frame = ew_can_frame_new (0x7E0, FALSE, data, sizeof data);
  g_autofree char *with_crc = NULL;
  guint crc;

  g_assert_cmpuint (strlen (stream), ==, 83);
  crc = crc15_long_division (stream);
  /* The division gives 0x7B0D = 111 1011 0000 1101. */
  g_assert_cmphex (crc, ==, 0x7B0D);
  g_assert_cmphex (ew_can_frame_crc15 (frame), ==, crc);

  /* Stuff bits from SOF through the CRC: the 1s of the id (6 in a row),
   * then the long runs of 0s: 14 in all. */
  with_crc = g_strconcat (stream, "111101100001101", NULL);
  g_assert_cmpuint (count_stuff_bits (with_crc), ==, 14);
  g_assert_cmpuint (ew_can_frame_stuff_bits (frame), ==, 14);
  /* 83 + 15 CRC + 14 stuff + 1 CRC delimiter + 2 ACK + 7 EOF + 3 IFS */
  g_assert_cmpuint (ew_can_frame_wire_bits (frame), ==, 125);

  /* a frame without data: 0x123, DLC 0 → 19 bits, CRC 0x6858, one stuff
   * bit (the run of five 0s from r0 into the DLC) */
  {
    g_autoptr(EwCanFrame) empty = ew_can_frame_new (0x123, FALSE, NULL, 0);

    g_assert_cmphex (ew_can_frame_crc15 (empty), ==, crc15_long_division ("0" "00100100011" "000" "0000"));
    g_assert_cmphex (ew_can_frame_crc15 (empty), ==, 0x6858);
    g_assert_cmpuint (ew_can_frame_stuff_bits (empty), ==, 1);
    g_assert_cmpuint (ew_can_frame_wire_bits (empty), ==, 19 + 15 + 1 + 13);
  }

  /* a 29-bit frame 18DA10F1#023E005555555555: SOF, base id 11000110110,
   * SRR 1, IDE 1, extension 100001000011110001, RTR r1 r0 000, DLC 1000 */
  {
    const guint8 d[] = { 0x02, 0x3E, 0x00, 0x55, 0x55, 0x55, 0x55, 0x55 };
    g_autoptr(EwCanFrame) ext = ew_can_frame_new (0x18DA10F1, TRUE, d, sizeof d);
    const char *ext_stream =
      "0" "11000110110" "11" "100001000011110001" "000" "1000"
      "00000010" "00111110" "00000000" "01010101" "01010101" "01010101" "01010101" "01010101";
    g_autofree char *ext_with_crc = NULL;
    guint ext_crc = crc15_long_division (ext_stream);

    g_assert_cmpuint (strlen (ext_stream), ==, 103);
    g_assert_cmphex (ew_can_frame_crc15 (ext), ==, ext_crc);
    g_assert_cmphex (ext_crc, ==, 0x7FB6);
    ext_with_crc = g_strconcat (ext_stream, "111111110110110", NULL);
    g_assert_cmpuint (ew_can_frame_stuff_bits (ext), ==, count_stuff_bits (ext_with_crc));
    g_assert_cmpuint (ew_can_frame_wire_bits (ext), ==, 103 + 15 + 5 + 13);
  }
}

static void
test_frame_text (void)
{
  const guint8 data[] = { 0x02, 0x10, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00 };
  g_autoptr(EwCanFrame) frame = ew_can_frame_new (0x7E0, FALSE, data, sizeof data);
  g_autoptr(EwCanFrame) ext = ew_can_frame_new (0x18DAF110, TRUE, data, 3);
  g_autofree char *s = ew_can_frame_to_string (frame);
  g_autofree char *e = ew_can_frame_to_string (ext);
  g_autofree char *line = NULL;

  g_assert_cmpstr (s, ==, "7E0#0210030000000000");
  g_assert_cmpstr (e, ==, "18DAF110#021003");
  frame->timestamp_us = 12 * G_USEC_PER_SEC + 345;
  line = ew_can_frame_to_candump_line (frame, "can0");
  g_assert_cmpstr (line, ==, "(12.000345) can0 7E0#0210030000000000");
}

/* ---- the timing model ---- */

typedef struct {
  EwLink     *link;
  EwCanFrame  frame;
  guint       count;
} Burst;

static gpointer
burst_thread (gpointer data)
{
  Burst *b = data;

  for (guint i = 0; i < b->count; i++)
    {
      g_autoptr(GError) error = NULL;

      if (!ew_link_send (b->link, &b->frame, 1000, NULL, &error))
        g_error ("send: %s", error->message);
    }
  return NULL;
}

static void
assert_frame_spacing (EwSimBus         *bus,
                      const EwCanFrame *frame,
                      guint             bitrate_bps,
                      gint64            expected_us)
{
  g_autoptr(EwSimLink) tx = ew_sim_link_new (bus);
  g_autoptr(EwSimLink) rx = ew_sim_link_new (bus);
  Burst burst = { EW_LINK (tx), *frame, 60 };
  g_autofree gint64 *stamps = g_new0 (gint64, burst.count);
  GThread *thread;
  guint exact = 0;
  gint64 t0 = g_get_monotonic_time ();

  ew_sim_bus_set_bitrate (bus, bitrate_bps);
  thread = g_thread_new ("burst", burst_thread, &burst);
  for (guint i = 0; i < burst.count; i++)
    {
      EwCanFrame got;

      receive_ok (EW_LINK (rx), &got);
      g_assert_cmpmem (got.data, got.len, frame->data, frame->len);
      /* a frame is seen only after its last bit */
      g_assert_cmpint (got.timestamp_us, >=, t0 + expected_us);
      stamps[i] = got.timestamp_us;
    }
  g_thread_join (thread);

  /* back to back, the frames are spaced by their wire time exactly; a
   * sender thread that wakes late on a loaded machine only makes a gap
   * longer, never shorter */
  for (guint i = 1; i < burst.count; i++)
    {
      gint64 gap = stamps[i] - stamps[i - 1];

      g_assert_cmpint (gap, >=, expected_us - 1);
      if (gap >= expected_us - 1 && gap <= expected_us + 1)
        exact++;
    }
  g_test_message ("%u of %u gaps exactly %" G_GINT64_FORMAT " µs", exact, burst.count - 1, expected_us);
  g_assert_cmpuint (exact, >=, (burst.count - 1) / 2);
  ew_sim_bus_set_bitrate (bus, 0);
}

static void
test_sim_timing (void)
{
  g_autoptr(EwSimBus) bus = ew_sim_bus_get ("test-timing");
  const guint8 data[] = { 0x02, 0x10, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00 };
  const guint8 d29[] = { 0x02, 0x3E, 0x00, 0x55, 0x55, 0x55, 0x55, 0x55 };
  EwCanFrame frame;

  /* 7E0#0210030000000000: 125 bits at 500 kbit/s (2 µs a bit) = 250 µs */
  ew_can_frame_init (&frame, 0x7E0, FALSE, data, sizeof data);
  assert_frame_spacing (bus, &frame, 500000, 250);
  /* the same frame at 125 kbit/s: 1000 µs */
  assert_frame_spacing (bus, &frame, 125000, 1000);
  /* 18DA10F1#023E005555555555: 136 bits at 500 kbit/s = 272 µs */
  ew_can_frame_init (&frame, 0x18DA10F1, TRUE, d29, sizeof d29);
  assert_frame_spacing (bus, &frame, 500000, 272);
}

static void
test_sim_timing_send_timeout (void)
{
  g_autoptr(EwSimBus) bus = ew_sim_bus_get ("test-timing-timeout");
  g_autoptr(EwSimLink) a = ew_sim_link_new (bus);
  g_autoptr(EwSimLink) b = ew_sim_link_new (bus);
  g_autoptr(GError) error = NULL;
  const guint8 data[8] = { 0 };
  EwCanFrame frame;
  guint n_ok = 0;

  /* at 10 kbit/s an 8-byte frame takes over 10 ms; with a timeout of 0 the
   * second frame finds the wire busy */
  ew_sim_bus_set_bitrate (bus, 10000);
  ew_can_frame_init (&frame, 0x7E0, FALSE, data, sizeof data);
  for (guint i = 0; i < 3 && error == NULL; i++)
    if (ew_link_send (EW_LINK (a), &frame, 0, NULL, &error))
      n_ok++;
  g_assert_error (error, EW_LINK_ERROR, EW_LINK_ERROR_TIMEOUT);
  g_assert_cmpuint (n_ok, >=, 1);
  g_assert_cmpuint (n_ok, <=, 2);
}

/* ---- SocketCAN ---- */

static void
test_socketcan_vcan (void)
{
  const char *iface = g_getenv ("EW_TEST_VCAN");
  g_autofree char *sys = NULL;
  g_autofree char *uri = NULL;
  g_autoptr(EwLink) a = NULL;
  g_autoptr(EwLink) b = NULL;
  g_autoptr(GError) error = NULL;
  const EwCanFilter filter = { 0x7E8, 0x7FF, FALSE };
  const guint8 data[] = { 0x03, 0x22, 0xF1, 0x90 };
  EwCanFrame frame;

  if (iface == NULL)
    iface = "vcan0";
  sys = g_build_filename ("/sys/class/net", iface, NULL);
  if (!g_file_test (sys, G_FILE_TEST_EXISTS))
    {
      g_autofree char *reason =
        g_strdup_printf ("no virtual CAN interface %s (modprobe vcan; ip link add dev %s type vcan; "
                         "ip link set up %s), or set EW_TEST_VCAN", iface, iface, iface);
      g_test_skip (reason);
      return;
    }

  uri = g_strconcat ("socketcan:", iface, NULL);
  a = open_ok (uri);
  b = open_ok (uri);
  g_assert_true (EW_IS_SOCKETCAN_LINK (a));
  g_assert_cmpstr (ew_link_get_name (a), ==, iface);
  g_assert_true (ew_link_set_filters (b, &filter, 1, &error));
  g_assert_no_error (error);

  send_ok (a, 0x7E0, FALSE, data, sizeof data);
  send_ok (a, 0x7E8, TRUE, data, sizeof data);
  send_ok (a, 0x7E8, FALSE, data, sizeof data);
  receive_ok (b, &frame);
  g_assert_cmpuint (frame.id, ==, 0x7E8);
  g_assert_false (frame.is_extended);
  g_assert_cmpmem (frame.data, frame.len, data, sizeof data);

  g_assert_false (ew_link_receive (b, &frame, 50, NULL, &error));
  g_assert_error (error, EW_LINK_ERROR, EW_LINK_ERROR_TIMEOUT);
  g_clear_error (&error);
  /* its own frames do not come back */
  g_assert_false (ew_link_receive (a, &frame, 0, NULL, &error));
  g_assert_error (error, EW_LINK_ERROR, EW_LINK_ERROR_TIMEOUT);
  g_clear_error (&error);

  {
    g_autoptr(GCancellable) cancellable = g_cancellable_new ();
    GThread *thread = g_thread_new ("cancel", cancel_thread, cancellable);

    g_assert_false (ew_link_receive (b, &frame, -1, cancellable, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_thread_join (thread);
    g_clear_error (&error);
  }
  {
    GThread *thread = g_thread_new ("close", close_thread, b);

    g_assert_false (ew_link_receive (b, &frame, 5000, NULL, &error));
    g_assert_error (error, EW_LINK_ERROR, EW_LINK_ERROR_CLOSED);
    g_thread_join (thread);
  }
}

/* ---- one link shared by branches ---- */

static void
test_mux_branches (void)
{
  g_autoptr(EwSimBus) bus = ew_sim_bus_get ("test-mux");
  g_autoptr(EwSimLink) trunk = ew_sim_link_new (bus);
  g_autoptr(EwSimLink) peer = ew_sim_link_new (bus);
  g_autoptr(EwLinkMux) mux = ew_link_mux_new (EW_LINK (trunk));
  g_autoptr(EwLink) a = ew_link_mux_open_branch (mux);
  g_autoptr(EwLink) b = ew_link_mux_open_branch (mux);
  g_autoptr(GError) error = NULL;
  const EwCanFilter only_7e8 = { 0x7E8, 0x7FF, FALSE };
  const EwCanFilter only_7e9 = { 0x7E9, 0x7FF, FALSE };
  const guint8 data[] = { 0x02, 0x3E, 0x00 };
  EwCanFrame frame;

  g_assert_true (ew_link_set_filters (a, &only_7e8, 1, &error));
  g_assert_true (ew_link_set_filters (b, &only_7e9, 1, &error));

  /* each branch hears only its own answers */
  ew_can_frame_init (&frame, 0x7E9, FALSE, data, sizeof data);
  g_assert_true (ew_link_send (EW_LINK (peer), &frame, 100, NULL, &error));
  ew_can_frame_init (&frame, 0x7E8, FALSE, data, sizeof data);
  g_assert_true (ew_link_send (EW_LINK (peer), &frame, 100, NULL, &error));
  g_assert_true (ew_link_receive (a, &frame, 1000, NULL, &error));
  g_assert_cmphex (frame.id, ==, 0x7E8);
  g_assert_true (ew_link_receive (b, &frame, 1000, NULL, &error));
  g_assert_cmphex (frame.id, ==, 0x7E9);
  g_assert_false (ew_link_receive (a, &frame, 50, NULL, &error));
  g_assert_error (error, EW_LINK_ERROR, EW_LINK_ERROR_TIMEOUT);
  g_clear_error (&error);

  /* a branch sends on the shared link */
  ew_can_frame_init (&frame, 0x7E0, FALSE, data, sizeof data);
  g_assert_true (ew_link_send (b, &frame, 100, NULL, &error));
  g_assert_true (ew_link_receive (EW_LINK (peer), &frame, 1000, NULL, &error));
  g_assert_cmphex (frame.id, ==, 0x7E0);

  /* a closed branch fails; the other goes on */
  ew_link_close (a);
  g_assert_false (ew_link_receive (a, &frame, 10, NULL, &error));
  g_assert_error (error, EW_LINK_ERROR, EW_LINK_ERROR_CLOSED);
  g_clear_error (&error);
  ew_can_frame_init (&frame, 0x7E9, FALSE, data, sizeof data);
  g_assert_true (ew_link_send (EW_LINK (peer), &frame, 100, NULL, &error));
  g_assert_true (ew_link_receive (b, &frame, 1000, NULL, &error));
  g_assert_no_error (error);
}

/* When the shared link goes (an adapter unplugged), every branch hears it. */
static void
test_mux_trunk_lost (void)
{
  g_autoptr(EwSimBus) bus = ew_sim_bus_get ("test-mux-lost");
  g_autoptr(EwSimLink) trunk = ew_sim_link_new (bus);
  g_autoptr(EwLinkMux) mux = ew_link_mux_new (EW_LINK (trunk));
  g_autoptr(EwLink) a = ew_link_mux_open_branch (mux);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  EwCanFrame frame;
  gint64 start;

  g_cancellable_cancel (cancellable);
  g_assert_false (ew_link_receive (a, &frame, 1000, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  ew_link_close (EW_LINK (trunk));
  start = g_get_monotonic_time ();
  g_assert_false (ew_link_receive (a, &frame, 5000, NULL, &error));
  g_assert_error (error, EW_LINK_ERROR, EW_LINK_ERROR_CLOSED);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 2 * G_USEC_PER_SEC);
}


int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/link/uri/sim", test_uri_sim);
  g_test_add_func ("/link/uri/bad", test_uri_bad);
  g_test_add_func ("/link/uri/not-supported", test_uri_not_supported);
  g_test_add_func ("/link/uri/socketcan-missing", test_uri_socketcan_missing);
  g_test_add_func ("/link/frame/crc-and-bits", test_frame_crc_and_bits);
  g_test_add_func ("/link/frame/text", test_frame_text);
  g_test_add_func ("/link/sim/many-nodes", test_sim_many_nodes);
  g_test_add_func ("/link/sim/loopback", test_sim_loopback);
  g_test_add_func ("/link/sim/filters", test_sim_filters);
  g_test_add_func ("/link/sim/timeout", test_sim_timeout);
  g_test_add_func ("/link/sim/cancel", test_sim_cancel);
  g_test_add_func ("/link/sim/close", test_sim_close);
  g_test_add_func ("/link/sim/timing", test_sim_timing);
  g_test_add_func ("/link/sim/timing-send-timeout", test_sim_timing_send_timeout);
  g_test_add_func ("/link/socketcan/vcan", test_socketcan_vcan);
  g_test_add_func ("/link/mux/branches", test_mux_branches);
  g_test_add_func ("/link/mux/trunk-lost", test_mux_trunk_lost);

  return g_test_run ();
}
