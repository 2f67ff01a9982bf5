/* test-isotp.c — ISO 15765-2:2016 transport between a tester channel and
 * a server channel on the simulated bus, each driven by its own thread,
 * and against a raw peer that writes frames by hand. Every test checks
 * the frames on the wire through a monitoring node; one log is also
 * decoded by tshark, where installed, as an independent judge.
 */
#include <string.h>

#include <glib/gstdio.h>

#include "isotp/isotp.h"
#include "link/sim-bus.h"
#include "test-util.h"

/* ---- helpers ---- */

typedef struct {
  EwSimBus   *bus;
  EwLink     *monitor;   /* sees every frame */
} Bus;

static void
bus_init (Bus *b)
{
  static guint counter;
  g_autofree char *name = g_strdup_printf ("isotp-test-%u", counter++);

  b->bus = ew_sim_bus_get (name);
  b->monitor = EW_LINK (ew_sim_link_new (b->bus));
}

static void
bus_clear (Bus *b)
{
  g_clear_object (&b->monitor);
  g_clear_pointer (&b->bus, ew_sim_bus_unref);
}

static EwIsotpChannel *
channel_new (Bus                 *b,
             const EwIsotpConfig *config)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EwSimLink) link = ew_sim_link_new (b->bus);
  EwIsotpChannel *channel = ew_isotp_channel_new (EW_LINK (link), config, &error);

  g_assert_no_error (error);
  g_assert_nonnull (channel);
  return channel;
}

/* The tester asks on 7E0 and hears 7E8; the server the other way round. */
static void
tester_config (EwIsotpConfig *config)
{
  ew_isotp_config_init (config, 0x7E0, 0x7E8);
}

static void
server_config (EwIsotpConfig *config)
{
  ew_isotp_config_init (config, 0x7E8, 0x7E0);
}

/* All frames the monitor has seen so far. */
static GArray *
drain (EwLink *monitor,
       guint   wait_ms)
{
  GArray *frames = g_array_new (FALSE, TRUE, sizeof (EwCanFrame));

  for (;;)
    {
      g_autoptr(GError) error = NULL;
      EwCanFrame frame;

      if (!ew_link_receive (monitor, &frame, wait_ms, NULL, &error))
        {
          g_assert_error (error, EW_LINK_ERROR, EW_LINK_ERROR_TIMEOUT);
          break;
        }
      g_array_append_val (frames, frame);
    }
  return frames;
}

static void
assert_frame (const EwCanFrame *frame,
              const char       *expected)
{
  g_autofree char *text = ew_can_frame_to_string (frame);

  g_assert_cmpstr (text, ==, expected);
}

static guint8 *
pattern (gsize  len,
         guint  seed)
{
  guint8 *data = g_malloc (MAX (len, 1));

  for (gsize i = 0; i < len; i++)
    data[i] = (guint8) (i * 7 + seed + (i >> 8));
  return data;
}

/* A raw node standing in for a peer: sends frames given as hex. */
static void
raw_send (EwLink     *link,
          guint32     id,
          const char *hex)
{
  g_autoptr(GError) error = NULL;
  guint8 data[8];
  gsize len = strlen (hex) / 2;
  EwCanFrame frame;

  g_assert_cmpuint (len, <=, 8);
  for (gsize i = 0; i < len; i++)
    data[i] = (g_ascii_xdigit_value (hex[2 * i]) << 4) | g_ascii_xdigit_value (hex[2 * i + 1]);
  ew_can_frame_init (&frame, id, id > 0x7FF, data, len);
  g_assert_true (ew_link_send (link, &frame, 1000, NULL, &error));
  g_assert_no_error (error);
}

static void
raw_expect (EwLink     *link,
            const char *expected)
{
  g_autoptr(GError) error = NULL;
  EwCanFrame frame;

  g_assert_true (ew_link_receive (link, &frame, 2000, NULL, &error));
  g_assert_no_error (error);
  assert_frame (&frame, expected);
}

static EwLink *
raw_peer (Bus     *b,
          guint32  listen_id)
{
  g_autoptr(GError) error = NULL;
  EwLink *link = EW_LINK (ew_sim_link_new (b->bus));
  EwCanFilter filter = { listen_id, listen_id > 0x7FF ? EW_CAN_EFF_MASK : EW_CAN_SFF_MASK,
                         listen_id > 0x7FF };

  g_assert_true (ew_link_set_filters (link, &filter, 1, &error));
  return link;
}

/* ---- an echo server in its own thread ---- */

typedef struct {
  EwIsotpChannel *channel;
  guint           n_messages;
  guint           n_done;
  GError         *error;
} Echo;

static gpointer
echo_thread (gpointer data)
{
  Echo *echo = data;

  for (; echo->n_done < echo->n_messages; echo->n_done++)
    {
      g_autoptr(GBytes) request = NULL;
      g_autofree guint8 *answer = NULL;
      gsize len;
      const guint8 *p;

      request = ew_isotp_channel_receive (echo->channel, 5000, NULL, &echo->error);
      if (request == NULL)
        break;
      /* answer with every byte inverted, so the test sees the server had
       * the exact bytes */
      p = g_bytes_get_data (request, &len);
      answer = g_malloc (len);
      for (gsize i = 0; i < len; i++)
        answer[i] = ~p[i];
      if (!ew_isotp_channel_send (echo->channel, answer, len, NULL, &echo->error))
        break;
    }
  return NULL;
}

static void
round_trip (EwIsotpChannel *tester,
            gsize           len)
{
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *data = pattern (len, len);
  g_autoptr(GBytes) answer = NULL;
  const guint8 *p;
  gsize got;

  g_assert_true (ew_channel_send (EW_CHANNEL (tester), data, len, NULL, &error));
  g_assert_no_error (error);
  answer = ew_channel_receive (EW_CHANNEL (tester), 5000, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (answer);
  p = g_bytes_get_data (answer, &got);
  g_assert_cmpuint (got, ==, len);
  for (gsize i = 0; i < len; i++)
    if ((p[i] ^ data[i]) != 0xFF)
      g_error ("length %zu: byte %zu is %02X, expected %02X", len, i, p[i], data[i] ^ 0xFF);
}

static void
run_round_trips (const EwIsotpConfig *tc,
                 const EwIsotpConfig *sc,
                 const gsize         *lengths,
                 guint                n_lengths,
                 Bus                 *b)
{
  g_autoptr(EwIsotpChannel) tester = channel_new (b, tc);
  g_autoptr(EwIsotpChannel) server = channel_new (b, sc);
  Echo echo = { server, n_lengths, 0, NULL };
  GThread *thread = g_thread_new ("echo", echo_thread, &echo);

  for (guint i = 0; i < n_lengths; i++)
    round_trip (tester, lengths[i]);
  g_thread_join (thread);
  g_assert_no_error (echo.error);
  g_assert_cmpuint (echo.n_done, ==, n_lengths);
}

/* ---- round trips ---- */

static void
test_round_trip_lengths (void)
{
  Bus b;
  EwIsotpConfig tc, sc;
  g_autoptr(GArray) lengths = g_array_new (FALSE, FALSE, sizeof (gsize));

  /* every length up to 300 (all SF/FF/CF boundaries several times over),
   * then a spread to 4095, the 12-bit FF_DL limit */
  for (gsize len = 1; len <= 300; len++)
    g_array_append_val (lengths, len);
  for (gsize len = 301; len < 4095; len += 97)
    g_array_append_val (lengths, len);
  {
    const gsize edges[] = { 4088, 4089, 4094, 4095 };

    g_array_append_vals (lengths, edges, G_N_ELEMENTS (edges));
  }

  bus_init (&b);
  tester_config (&tc);
  server_config (&sc);
  run_round_trips (&tc, &sc, (gsize *) lengths->data, lengths->len, &b);
  bus_clear (&b);
}

static void
test_round_trip_large (void)
{
  Bus b;
  EwIsotpConfig tc, sc;
  const gsize lengths[] = { 4096, 4097, 5000, 70001 };
  g_autoptr(GArray) frames = NULL;
  guint n_escaped_ff = 0;

  bus_init (&b);
  tester_config (&tc);
  server_config (&sc);
  /* the server asks for blocks of 8 so flow control runs mid-message */
  sc.block_size = 8;
  run_round_trips (&tc, &sc, lengths, G_N_ELEMENTS (lengths), &b);

  /* 9.6.3.1: above 4095 bytes FF_DL is 0 and the length follows in 32 bits */
  frames = drain (b.monitor, 0);
  for (guint i = 0; i < frames->len; i++)
    {
      EwCanFrame *f = &g_array_index (frames, EwCanFrame, i);
      g_autofree char *text = ew_can_frame_to_string (f);

      if ((f->data[0] >> 4) != 1)
        continue;
      g_assert_cmphex (f->data[0], ==, 0x10);
      g_assert_cmphex (f->data[1], ==, 0x00);
      if (n_escaped_ff % 2 == 0)
        {
          guint32 len = lengths[n_escaped_ff / 2];

          g_assert_cmpuint (f->id, ==, 0x7E0);
          g_assert_cmphex ((f->data[2] << 24) | (f->data[3] << 16) | (f->data[4] << 8) | f->data[5],
                           ==, len);
        }
      n_escaped_ff++;
    }
  g_assert_cmpuint (n_escaped_ff, ==, 2 * G_N_ELEMENTS (lengths));
  bus_clear (&b);
}

/* ---- bytes on the wire ---- */

static void
test_wire_single_frame_padding (void)
{
  Bus b;
  EwIsotpConfig tc;
  const guint8 request[] = { 0x10, 0x03 };
  const struct {
    int         padding;
    const char *frame;
  } cases[] = {
    { 0xCC, "7E0#021003CCCCCCCCCC" },
    { 0x55, "7E0#0210035555555555" },
    { 0xAA, "7E0#021003AAAAAAAAAA" },
    { 0x00, "7E0#0210030000000000" },
    { EW_ISOTP_NO_PADDING, "7E0#021003" },
  };

  bus_init (&b);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(EwIsotpChannel) tester = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(GArray) frames = NULL;

      tester_config (&tc);
      tc.padding = cases[i].padding;
      tester = channel_new (&b, &tc);
      g_assert_true (ew_isotp_channel_send (tester, request, sizeof request, NULL, &error));
      g_assert_no_error (error);
      frames = drain (b.monitor, 100);
      g_assert_cmpuint (frames->len, ==, 1);
      assert_frame (&g_array_index (frames, EwCanFrame, 0), cases[i].frame);
    }
  bus_clear (&b);
}

static void
test_wire_segmented (void)
{
  Bus b;
  EwIsotpConfig tc, sc;
  g_autoptr(GArray) frames = NULL;
  const char *wire[] = {
    /* 20 bytes 00..13: FF with FF_DL 0x014 and 6 bytes */
    "7E0#1014000102030405",
    /* the server's FC: CTS, BS 0, STmin 0, padded */
    "7E8#300000CCCCCCCCCC",
    "7E0#21060708090A0B0C",
    /* the last CF is padded with 0xCC */
    "7E0#220D0E0F10111213",
  };
  guint8 data[20];

  for (guint i = 0; i < sizeof data; i++)
    data[i] = i;

  bus_init (&b);
  tester_config (&tc);
  server_config (&sc);
  {
    g_autoptr(EwIsotpChannel) tester = channel_new (&b, &tc);
    g_autoptr(EwIsotpChannel) server = channel_new (&b, &sc);
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) got = NULL;

    g_assert_true (ew_isotp_channel_send (tester, data, sizeof data, NULL, &error));
    g_assert_no_error (error);
    got = ew_isotp_channel_receive (server, 1000, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got), data, sizeof data);
  }
  frames = drain (b.monitor, 50);
  g_assert_cmpuint (frames->len, ==, G_N_ELEMENTS (wire));
  for (guint i = 0; i < frames->len; i++)
    assert_frame (&g_array_index (frames, EwCanFrame, i), wire[i]);

  /* a 21-byte message leaves the last CF one byte short: padding fills it */
  {
    g_autoptr(EwIsotpChannel) tester = channel_new (&b, &tc);
    g_autoptr(EwIsotpChannel) server = channel_new (&b, &sc);
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) got = NULL;
    g_autoptr(GArray) frames2 = NULL;
    guint8 d21[21];

    for (guint i = 0; i < sizeof d21; i++)
      d21[i] = 0xA0 + i;
    g_assert_true (ew_isotp_channel_send (tester, d21, 19, NULL, &error));
    got = ew_isotp_channel_receive (server, 1000, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (g_bytes_get_size (got), ==, 19);
    frames2 = drain (b.monitor, 50);
    g_assert_cmpuint (frames2->len, ==, 4);
    assert_frame (&g_array_index (frames2, EwCanFrame, 3), "7E0#22ADAEAFB0B1B2CC");
  }
  bus_clear (&b);
}

static void
test_sequence_wrap (void)
{
  Bus b;
  EwIsotpConfig tc, sc;
  /* FF carries 6, then 40 CFs of 7: SN runs 1..15, 0..15, 0..8 */
  gsize len = 6 + 40 * 7;
  g_autoptr(GArray) frames = NULL;
  guint8 expected_sn = 1;
  guint n_cf = 0;

  bus_init (&b);
  tester_config (&tc);
  server_config (&sc);
  run_round_trips (&tc, &sc, &len, 1, &b);
  frames = drain (b.monitor, 0);
  for (guint i = 0; i < frames->len; i++)
    {
      EwCanFrame *f = &g_array_index (frames, EwCanFrame, i);

      if (f->id != 0x7E0 || (f->data[0] >> 4) != 2)
        continue;
      g_assert_cmphex (f->data[0], ==, 0x20 | expected_sn);
      expected_sn = (expected_sn + 1) & 0xF;
      n_cf++;
    }
  g_assert_cmpuint (n_cf, ==, 40);
  bus_clear (&b);
}

/* Sends len bytes tester→server with the server asking for block_size and
 * st_min; returns the frames seen. */
static GArray *
transfer_with_flow_control (Bus    *b,
                            gsize   len,
                            guint8  block_size,
                            guint8  st_min)
{
  EwIsotpConfig tc, sc;
  g_autoptr(EwIsotpChannel) tester = NULL;
  g_autoptr(EwIsotpChannel) server = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) got = NULL;
  g_autofree guint8 *data = pattern (len, 3);

  tester_config (&tc);
  server_config (&sc);
  sc.block_size = block_size;
  sc.st_min = st_min;
  tester = channel_new (b, &tc);
  server = channel_new (b, &sc);
  g_assert_true (ew_isotp_channel_send (tester, data, len, NULL, &error));
  g_assert_no_error (error);
  got = ew_isotp_channel_receive (server, 5000, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got), data, len);
  return drain (b->monitor, 50);
}

static void
test_block_size_and_st_min (void)
{
  Bus b;
  g_autoptr(GArray) frames = NULL;
  guint n_cf_in_block = 0, n_fc = 0, n_cf = 0;
  gint64 last_cf_us = 0;
  gint64 min_gap = G_MAXINT64;

  bus_init (&b);
  /* 6 + 12 × 7 bytes: 12 CFs in blocks of 4 → 3 FC; STmin 10 ms */
  frames = transfer_with_flow_control (&b, 6 + 12 * 7, 4, 10);
  for (guint i = 0; i < frames->len; i++)
    {
      EwCanFrame *f = &g_array_index (frames, EwCanFrame, i);

      if (f->id == 0x7E8)
        {
          /* the FC is exactly CTS, BS 4, STmin 10 */
          assert_frame (f, "7E8#30040ACCCCCCCCCC");
          /* a FC comes only after the FF and after each full block */
          g_assert_true (n_fc == 0 ? n_cf == 0 : n_cf_in_block == 4);
          n_fc++;
          n_cf_in_block = 0;
          last_cf_us = 0;
        }
      else if ((f->data[0] >> 4) == 2)
        {
          if (last_cf_us != 0)
            min_gap = MIN (min_gap, f->timestamp_us - last_cf_us);
          last_cf_us = f->timestamp_us;
          n_cf_in_block++;
          n_cf++;
          g_assert_cmpuint (n_cf_in_block, <=, 4);
        }
    }
  g_assert_cmpuint (n_fc, ==, 3);
  g_assert_cmpuint (n_cf, ==, 12);
  g_test_message ("smallest CF gap within a block at STmin 10 ms: %" G_GINT64_FORMAT " µs", min_gap);
  g_assert_cmpint (min_gap, >=, 10000);
  g_clear_pointer (&frames, g_array_unref);

  /* 9.6.5.4: 0xF5 is 500 µs */
  frames = transfer_with_flow_control (&b, 6 + 30 * 7, 0, 0xF5);
  last_cf_us = 0;
  min_gap = G_MAXINT64;
  for (guint i = 0; i < frames->len; i++)
    {
      EwCanFrame *f = &g_array_index (frames, EwCanFrame, i);

      if (f->id == 0x7E8)
        assert_frame (f, "7E8#3000F5CCCCCCCCCC");
      else if ((f->data[0] >> 4) == 2)
        {
          if (last_cf_us != 0)
            min_gap = MIN (min_gap, f->timestamp_us - last_cf_us);
          last_cf_us = f->timestamp_us;
        }
    }
  g_test_message ("smallest CF gap at STmin 0xF5: %" G_GINT64_FORMAT " µs", min_gap);
  g_assert_cmpint (min_gap, >=, 500);
  g_assert_cmpint (min_gap, <, 10000);
  bus_clear (&b);
}

static void
test_st_min_codes (void)
{
  /* ISO 15765-2:2016 9.6.5.4 */
  g_assert_cmpuint (ew_isotp_st_min_to_us (0x00), ==, 0);
  g_assert_cmpuint (ew_isotp_st_min_to_us (0x01), ==, 1000);
  g_assert_cmpuint (ew_isotp_st_min_to_us (0x7F), ==, 127000);
  g_assert_cmpuint (ew_isotp_st_min_to_us (0xF1), ==, 100);
  g_assert_cmpuint (ew_isotp_st_min_to_us (0xF9), ==, 900);
  /* reserved values count as 127 ms */
  g_assert_cmpuint (ew_isotp_st_min_to_us (0x80), ==, 127000);
  g_assert_cmpuint (ew_isotp_st_min_to_us (0xF0), ==, 127000);
  g_assert_cmpuint (ew_isotp_st_min_to_us (0xFA), ==, 127000);
  g_assert_cmpuint (ew_isotp_st_min_to_us (0xFF), ==, 127000);
}

/* ---- flow control from a raw peer ---- */

typedef struct {
  EwIsotpChannel *channel;
  const guint8   *data;
  gsize           len;
  GError         *error;
  gboolean        ok;
  gint64          elapsed_us;
} Sending;

static gpointer
send_thread (gpointer data)
{
  Sending *s = data;
  gint64 start = g_get_monotonic_time ();

  s->ok = ew_isotp_channel_send (s->channel, s->data, s->len, NULL, &s->error);
  s->elapsed_us = g_get_monotonic_time () - start;
  return NULL;
}

static void
test_wait_frames (void)
{
  Bus b;
  EwIsotpConfig tc;
  g_autoptr(EwIsotpChannel) tester = NULL;
  g_autoptr(EwLink) peer = NULL;
  guint8 data[13];
  Sending s = { 0 };
  GThread *thread;

  for (guint i = 0; i < sizeof data; i++)
    data[i] = 0x30 + i;

  bus_init (&b);
  tester_config (&tc);
  tc.n_wft_max = 3;
  tc.n_bs_ms = 200;
  tester = channel_new (&b, &tc);
  peer = raw_peer (&b, 0x7E0);

  /* three FC.WAIT (the most N_WFTmax = 3 allows), each within N_Bs, then CTS */
  s = (Sending) { tester, data, sizeof data };
  thread = g_thread_new ("send", send_thread, &s);
  raw_expect (peer, "7E0#100D303132333435");
  for (guint i = 0; i < 3; i++)
    {
      g_usleep (100000);
      raw_send (peer, 0x7E8, "31000000");
    }
  raw_send (peer, 0x7E8, "30000000");
  raw_expect (peer, "7E0#21363738393A3B3C");
  g_thread_join (thread);
  g_assert_no_error (s.error);
  g_assert_true (s.ok);
  /* 300 ms of waiting is more than N_Bs: each WAIT restarted the timer */
  g_assert_cmpint (s.elapsed_us, >=, 300000);

  /* a fourth WAIT is one too many: N_WFT_OVRN */
  s = (Sending) { tester, data, sizeof data };
  thread = g_thread_new ("send", send_thread, &s);
  raw_expect (peer, "7E0#100D303132333435");
  for (guint i = 0; i < 4; i++)
    raw_send (peer, 0x7E8, "31000000");
  g_thread_join (thread);
  g_assert_false (s.ok);
  g_assert_error (s.error, EW_ISOTP_ERROR, EW_ISOTP_ERROR_WFT_OVRN);
  g_test_message ("%s", s.error->message);
  g_assert_nonnull (strstr (s.error->message, "N_WFTmax = 3"));
  g_clear_error (&s.error);
  bus_clear (&b);
}

static void
test_invalid_flow_status (void)
{
  Bus b;
  EwIsotpConfig tc;
  g_autoptr(EwIsotpChannel) tester = NULL;
  g_autoptr(EwLink) peer = NULL;
  guint8 data[10] = { 0 };
  Sending s;
  GThread *thread;

  bus_init (&b);
  tester_config (&tc);
  tester = channel_new (&b, &tc);
  peer = raw_peer (&b, 0x7E0);
  s = (Sending) { tester, data, sizeof data };
  thread = g_thread_new ("send", send_thread, &s);
  raw_expect (peer, "7E0#100A000000000000");
  /* too short to be flow control: ignored; then flow status 5 */
  raw_send (peer, 0x7E8, "30");
  raw_send (peer, 0x7E8, "350000");
  g_thread_join (thread);
  g_assert_error (s.error, EW_ISOTP_ERROR, EW_ISOTP_ERROR_INVALID_FS);
  g_test_message ("%s", s.error->message);
  g_assert_nonnull (strstr (s.error->message, "flow status 5"));
  g_clear_error (&s.error);
  bus_clear (&b);
}

static void
test_overflow (void)
{
  Bus b;
  EwIsotpConfig tc, sc;
  g_autoptr(EwIsotpChannel) tester = NULL;
  g_autoptr(EwIsotpChannel) server = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) frames = NULL;
  g_autofree guint8 *data = pattern (200, 0);

  bus_init (&b);
  tester_config (&tc);
  server_config (&sc);
  sc.max_rx_length_bytes = 100;
  tester = channel_new (&b, &tc);
  server = channel_new (&b, &sc);

  g_assert_false (ew_isotp_channel_send (tester, data, 200, NULL, &error));
  g_assert_error (error, EW_ISOTP_ERROR, EW_ISOTP_ERROR_BUFFER_OVFLW);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "200-byte"));
  frames = drain (b.monitor, 50);
  g_assert_cmpuint (frames->len, ==, 2);
  assert_frame (&g_array_index (frames, EwCanFrame, 0), "7E0#10C800070E151C23");
  assert_frame (&g_array_index (frames, EwCanFrame, 1), "7E8#320000CCCCCCCCCC");
  bus_clear (&b);
}

/* ---- timeouts ---- */

static void
test_timeout_bs (void)
{
  Bus b;
  EwIsotpConfig tc;
  g_autoptr(EwIsotpChannel) tester = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) frames = NULL;
  guint8 data[30] = { 0 };
  gint64 start, elapsed;

  bus_init (&b);
  tester_config (&tc);
  tc.n_bs_ms = 150;
  tester = channel_new (&b, &tc);

  /* nobody answers the first frame */
  start = g_get_monotonic_time ();
  g_assert_false (ew_isotp_channel_send (tester, data, sizeof data, NULL, &error));
  elapsed = g_get_monotonic_time () - start;
  g_assert_error (error, EW_ISOTP_ERROR, EW_ISOTP_ERROR_TIMEOUT_BS);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "N_Bs = 150 ms"));
  g_assert_nonnull (strstr (error->message, "first frame"));
  g_assert_cmpint (elapsed, >=, 150000);
  g_assert_cmpint (elapsed, <, 2000000);
  frames = drain (b.monitor, 0);
  g_assert_cmpuint (frames->len, ==, 1);
  assert_frame (&g_array_index (frames, EwCanFrame, 0), "7E0#101E000000000000");
  bus_clear (&b);
}

/* N_As: on a 10 kbit/s wire an 8-byte frame occupies it for ~11 ms; the
 * peer's flow control allows back-to-back consecutive frames, so with
 * N_As = 0 ms the second one cannot get onto the wire in time. */
static void
test_timeout_as (void)
{
  Bus b;
  EwIsotpConfig tc;
  EwIsotpConfig sc;
  g_autoptr(EwIsotpChannel) tester = NULL;
  g_autoptr(EwIsotpChannel) server = NULL;
  g_autoptr(GError) error = NULL;
  guint8 data[40] = { 0 };

  bus_init (&b);
  ew_sim_bus_set_bitrate (b.bus, 10000);
  tester_config (&tc);
  tc.n_as_ms = 0;
  server_config (&sc);
  tester = channel_new (&b, &tc);
  server = channel_new (&b, &sc);

  g_assert_false (ew_isotp_channel_send (tester, data, sizeof data, NULL, &error));
  g_assert_error (error, EW_ISOTP_ERROR, EW_ISOTP_ERROR_TIMEOUT_A);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "N_As = 0 ms"));
  bus_clear (&b);
}

static void
test_timeout_cr (void)
{
  Bus b;
  EwIsotpConfig sc;
  g_autoptr(EwIsotpChannel) server = NULL;
  g_autoptr(EwLink) peer = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) got = NULL;
  gint64 start;

  bus_init (&b);
  server_config (&sc);
  sc.n_cr_ms = 120;
  server = channel_new (&b, &sc);
  peer = raw_peer (&b, 0x7E8);

  raw_send (peer, 0x7E0, "1014000102030405");
  raw_expect (peer, "7E8#300000CCCCCCCCCC");
  raw_send (peer, 0x7E0, "2106070809101112");
  start = g_get_monotonic_time ();
  /* the second CF never comes */
  got = ew_isotp_channel_receive (server, 3000, NULL, &error);
  g_assert_null (got);
  g_assert_error (error, EW_ISOTP_ERROR, EW_ISOTP_ERROR_TIMEOUT_CR);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "N_Cr = 120 ms"));
  g_assert_nonnull (strstr (error->message, "13 of 20 bytes"));
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 100000);

  /* the channel recovers: a single frame afterwards arrives */
  g_clear_error (&error);
  raw_send (peer, 0x7E0, "023E00");
  got = ew_isotp_channel_receive (server, 1000, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got), "\x3E\x00", 2);
  bus_clear (&b);
}

static void
test_wrong_sequence_number (void)
{
  Bus b;
  EwIsotpConfig sc;
  g_autoptr(EwIsotpChannel) server = NULL;
  g_autoptr(EwLink) peer = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) got = NULL;

  bus_init (&b);
  server_config (&sc);
  server = channel_new (&b, &sc);
  peer = raw_peer (&b, 0x7E8);

  raw_send (peer, 0x7E0, "101A000102030405");
  raw_expect (peer, "7E8#300000CCCCCCCCCC");
  raw_send (peer, 0x7E0, "2106070809101112");
  raw_send (peer, 0x7E0, "2313141516171819");   /* SN 3 where 2 is due */
  got = ew_isotp_channel_receive (server, 1000, NULL, &error);
  g_assert_null (got);
  g_assert_error (error, EW_ISOTP_ERROR, EW_ISOTP_ERROR_WRONG_SN);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "byte 0"));
  g_assert_nonnull (strstr (error->message, "sequence number 3, expected 2"));

  /* the rest of that message is ignored, nothing more arrives */
  raw_send (peer, 0x7E0, "2420212223242526");
  g_clear_error (&error);
  got = ew_isotp_channel_receive (server, 100, NULL, &error);
  g_assert_error (error, EW_CHANNEL_ERROR, EW_CHANNEL_ERROR_TIMEOUT);
  bus_clear (&b);
}

/* ---- frames the standard says to ignore ---- */

static void
test_ignored_frames (void)
{
  Bus b;
  EwIsotpConfig sc;
  g_autoptr(EwIsotpChannel) server = NULL;
  g_autoptr(EwLink) peer = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) got = NULL;
  g_autoptr(GArray) frames = NULL;

  bus_init (&b);
  server_config (&sc);
  server = channel_new (&b, &sc);
  peer = raw_peer (&b, 0x7E8);

  raw_send (peer, 0x7E0, "2101020304050607");   /* CF outside a message */
  raw_send (peer, 0x7E0, "300000");             /* FC nobody waits for */
  raw_send (peer, 0x7E0, "4001020304050607");   /* reserved PCI type 4 */
  raw_send (peer, 0x7E0, "0011223344556677");   /* SF_DL 0 (CAN FD escape) */
  raw_send (peer, 0x7E0, "0811223344556677");   /* SF_DL 8 does not fit */
  raw_send (peer, 0x7E0, "05112233");           /* SF_DL 5, only 3 bytes */
  raw_send (peer, 0x7E0, "1007010203040506");   /* FF_DL 7 < FF_DLmin 8 */
  raw_send (peer, 0x7E0, "1000000003E80102");   /* escaped FF_DL 1000 ≤ 4095 */
  raw_send (peer, 0x7E0, "100A0102");           /* FF shorter than 8 bytes */
  raw_send (peer, 0x7E0, "");                   /* no data at all */
  raw_send (peer, 0x7E1, "023E00");             /* another module's id */
  raw_send (peer, 0x7E0, "03221234");           /* at last, a good SF */

  got = ew_isotp_channel_receive (server, 1000, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got), "\x22\x12\x34", 3);
  g_clear_pointer (&got, g_bytes_unref);
  got = ew_isotp_channel_receive (server, 100, NULL, &error);
  g_assert_error (error, EW_CHANNEL_ERROR, EW_CHANNEL_ERROR_TIMEOUT);

  /* and none of the ignored first frames got a flow control */
  frames = drain (b.monitor, 0);
  for (guint i = 0; i < frames->len; i++)
    g_assert_cmpuint (g_array_index (frames, EwCanFrame, i).id, !=, 0x7E8);
  bus_clear (&b);
}

static void
test_unexpected_pdu (void)
{
  Bus b;
  EwIsotpConfig sc;
  g_autoptr(EwIsotpChannel) server = NULL;
  g_autoptr(EwLink) peer = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) got = NULL;

  bus_init (&b);
  server_config (&sc);
  server = channel_new (&b, &sc);
  peer = raw_peer (&b, 0x7E8);

  /* 9.8.3: a SF in the middle of a segmented message ends it with
   * N_UNEXP_PDU, and the SF is received */
  raw_send (peer, 0x7E0, "1014000102030405");
  raw_expect (peer, "7E8#300000CCCCCCCCCC");
  raw_send (peer, 0x7E0, "023E00");
  got = ew_isotp_channel_receive (server, 1000, NULL, &error);
  g_assert_error (error, EW_ISOTP_ERROR, EW_ISOTP_ERROR_UNEXP_PDU);
  g_assert_nonnull (strstr (error->message, "6 of 20 bytes"));
  g_clear_error (&error);
  got = ew_isotp_channel_receive (server, 1000, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got), "\x3E\x00", 2);
  bus_clear (&b);
}

/* ---- addressing ---- */

static void
test_extended_addressing (void)
{
  Bus b;
  EwIsotpConfig tc, sc;
  g_autoptr(GArray) frames = NULL;
  const gsize lengths[] = { 1, 5, 6, 7, 12, 13, 14, 100, 4095, 5000 };

  /* the tester talks to module 0x40 on 6F1 and hears it on 640, with
   * N_TA in the first byte both ways (10.3.4) */
  bus_init (&b);
  ew_isotp_config_init (&tc, 0x6F1, 0x640);
  tc.addressing = EW_ISOTP_ADDRESSING_EXTENDED;
  tc.tx_address = 0x40;
  tc.rx_address = 0xF1;
  ew_isotp_config_init (&sc, 0x640, 0x6F1);
  sc.addressing = EW_ISOTP_ADDRESSING_EXTENDED;
  sc.tx_address = 0xF1;
  sc.rx_address = 0x40;
  run_round_trips (&tc, &sc, lengths, G_N_ELEMENTS (lengths), &b);

  frames = drain (b.monitor, 0);
  /* 1 byte: SF 40 01 xx and its inverted echo; 6 bytes still fit a SF
   * (SF_DL 6 in byte 1), 7 bytes need a FF with 5 data bytes */
  assert_frame (&g_array_index (frames, EwCanFrame, 0), "6F1#400101CCCCCCCCCC");
  assert_frame (&g_array_index (frames, EwCanFrame, 1), "640#F101FECCCCCCCCCC");
  g_assert_cmphex (g_array_index (frames, EwCanFrame, 4).data[1], ==, 0x06);
  assert_frame (&g_array_index (frames, EwCanFrame, 6), "6F1#401007070E151C23");
  assert_frame (&g_array_index (frames, EwCanFrame, 7), "640#F1300000CCCCCCCC");
  assert_frame (&g_array_index (frames, EwCanFrame, 8), "6F1#40212A31CCCCCCCC");
  for (guint i = 0; i < frames->len; i++)
    {
      EwCanFrame *f = &g_array_index (frames, EwCanFrame, i);

      g_assert_cmphex (f->data[0], ==, f->id == 0x6F1 ? 0x40 : 0xF1);
    }

  /* a frame for another address on the same id is not ours */
  {
    g_autoptr(EwIsotpChannel) server = channel_new (&b, &sc);
    g_autoptr(EwLink) peer = raw_peer (&b, 0x640);
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) got = NULL;

    raw_send (peer, 0x6F1, "41023E00");
    raw_send (peer, 0x6F1, "40023E80");
    got = ew_isotp_channel_receive (server, 1000, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got), "\x3E\x80", 2);
  }
  bus_clear (&b);
}

static void
test_29bit_ids (void)
{
  Bus b;
  EwIsotpConfig tc, sc;
  g_autoptr(GArray) frames = NULL;
  const gsize lengths[] = { 2, 30 };

  /* normal fixed addressing (10.3.3): tester F1 to module 10 */
  bus_init (&b);
  ew_isotp_config_init (&tc, 0, 0);
  tc.addressing = EW_ISOTP_ADDRESSING_NORMAL_FIXED;
  tc.tx_address = 0x10;
  tc.rx_address = 0xF1;
  ew_isotp_config_init (&sc, 0, 0);
  sc.addressing = EW_ISOTP_ADDRESSING_NORMAL_FIXED;
  sc.tx_address = 0xF1;
  sc.rx_address = 0x10;
  run_round_trips (&tc, &sc, lengths, G_N_ELEMENTS (lengths), &b);
  frames = drain (b.monitor, 0);
  assert_frame (&g_array_index (frames, EwCanFrame, 0), "18DA10F1#020209CCCCCCCCCC");
  assert_frame (&g_array_index (frames, EwCanFrame, 1), "18DAF110#02FDF6CCCCCCCCCC");
  assert_frame (&g_array_index (frames, EwCanFrame, 3), "18DAF110#300000CCCCCCCCCC");
  g_clear_pointer (&frames, g_array_unref);

  /* plain 29-bit ids with normal addressing */
  {
    const gsize more[] = { 7, 8, 300 };

    ew_isotp_config_init (&tc, 0x18DB33F1, 0x18DAF133);
    tc.is_extended_id = TRUE;
    ew_isotp_config_init (&sc, 0x18DAF133, 0x18DB33F1);
    sc.is_extended_id = TRUE;
    run_round_trips (&tc, &sc, more, G_N_ELEMENTS (more), &b);
    frames = drain (b.monitor, 0);
    for (guint i = 0; i < frames->len; i++)
      g_assert_true (g_array_index (frames, EwCanFrame, i).is_extended);
    assert_frame (&g_array_index (frames, EwCanFrame, 0), "18DB33F1#07070E151C232A31");
  }
  bus_clear (&b);
}

static void
test_functional (void)
{
  Bus b;
  EwIsotpConfig tc, sc;
  g_autoptr(EwIsotpChannel) tester = NULL;
  g_autoptr(EwIsotpChannel) server_a = NULL;
  g_autoptr(EwIsotpChannel) server_b = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) got = NULL;
  g_autoptr(GArray) frames = NULL;
  const guint8 tester_present[] = { 0x3E, 0x80 };
  guint8 too_long[8] = { 0x22 };

  bus_init (&b);
  ew_isotp_config_init (&tc, 0x7DF, 0x7E8);
  tc.is_functional = TRUE;
  tester = channel_new (&b, &tc);
  g_assert_cmpuint (ew_channel_get_max_message_length (EW_CHANNEL (tester)), ==, 7);

  /* two modules both listen to the functional id */
  ew_isotp_config_init (&sc, 0x7E8, 0x7DF);
  server_a = channel_new (&b, &sc);
  ew_isotp_config_init (&sc, 0x7E9, 0x7DF);
  server_b = channel_new (&b, &sc);

  g_assert_true (ew_isotp_channel_send (tester, tester_present, 2, NULL, &error));
  g_assert_no_error (error);
  got = ew_isotp_channel_receive (server_a, 1000, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got), tester_present, 2);
  g_clear_pointer (&got, g_bytes_unref);
  got = ew_isotp_channel_receive (server_b, 1000, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got), tester_present, 2);

  /* more than a single frame is refused before anything is sent */
  g_assert_false (ew_isotp_channel_send (tester, too_long, sizeof too_long, NULL, &error));
  g_assert_error (error, EW_ISOTP_ERROR, EW_ISOTP_ERROR_FUNCTIONAL);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "8 bytes"));
  frames = drain (b.monitor, 50);
  g_assert_cmpuint (frames->len, ==, 1);
  assert_frame (&g_array_index (frames, EwCanFrame, 0), "7DF#023E80CCCCCCCCCC");
  bus_clear (&b);
}

/* ---- the channel interface, lengths, cancellation, closing ---- */

static void
test_channel_interface (void)
{
  Bus b;
  EwIsotpConfig tc;
  g_autoptr(EwIsotpChannel) tester = NULL;
  g_autoptr(GError) error = NULL;
  EwChannel *channel;

  bus_init (&b);
  tester_config (&tc);
  tester = channel_new (&b, &tc);
  channel = EW_CHANNEL (tester);

  g_assert_true (EW_IS_CHANNEL (tester));
  g_assert_cmpuint (ew_channel_get_max_message_length (channel), ==, G_MAXUINT32);
  g_assert_nonnull (strstr (ew_channel_get_name (channel), "7E0/7E8"));
  g_assert_nonnull (strstr (ew_channel_get_name (channel), ew_sim_bus_get_name (b.bus)));

  g_assert_false (ew_channel_send (channel, (const guint8 *) "", 0, NULL, &error));
  g_assert_error (error, EW_CHANNEL_ERROR, EW_CHANNEL_ERROR_MESSAGE_LENGTH);
  g_clear_error (&error);

  g_assert_null (ew_channel_receive (channel, 30, NULL, &error));
  g_assert_error (error, EW_CHANNEL_ERROR, EW_CHANNEL_ERROR_TIMEOUT);
  g_assert_nonnull (strstr (error->message, "30 ms"));
  bus_clear (&b);
}

static gpointer
cancel_soon (gpointer data)
{
  g_usleep (50000);
  g_cancellable_cancel (data);
  return NULL;
}

static gpointer
close_link_soon (gpointer data)
{
  g_usleep (50000);
  ew_link_close (data);
  return NULL;
}

static void
test_cancel_and_close (void)
{
  Bus b;
  EwIsotpConfig tc;
  g_autoptr(EwIsotpChannel) tester = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  guint8 data[40] = { 0 };
  GThread *thread;

  bus_init (&b);
  tester_config (&tc);
  tester = channel_new (&b, &tc);

  /* a receive without timeout ends when cancelled */
  thread = g_thread_new ("cancel", cancel_soon, cancellable);
  g_assert_null (ew_isotp_channel_receive (tester, -1, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_thread_join (thread);
  g_clear_error (&error);

  /* so does a send waiting for flow control */
  g_cancellable_reset (cancellable);
  thread = g_thread_new ("cancel", cancel_soon, cancellable);
  g_assert_false (ew_isotp_channel_send (tester, data, sizeof data, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_thread_join (thread);
  g_clear_error (&error);

  /* closing the link fails a waiting receive with "closed" */
  thread = g_thread_new ("close", close_link_soon, ew_isotp_channel_get_link (tester));
  g_assert_null (ew_isotp_channel_receive (tester, 5000, NULL, &error));
  g_assert_error (error, EW_CHANNEL_ERROR, EW_CHANNEL_ERROR_CLOSED);
  g_thread_join (thread);
  g_clear_error (&error);
  g_assert_false (ew_isotp_channel_send (tester, data, 3, NULL, &error));
  g_assert_error (error, EW_CHANNEL_ERROR, EW_CHANNEL_ERROR_CLOSED);
  bus_clear (&b);
}

/* ---- a frame log, decoded by tshark ---- */

static void
test_candump_log_tshark (void)
{
  Bus b;
  EwIsotpConfig tc, sc;
  g_autoptr(GArray) frames = NULL;
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *tshark = NULL;
  g_autofree char *out = NULL;
  g_auto(GStrv) lines = NULL;
  int status = 0;
  /* request SF, response: FF, FC (BS 2, STmin 0xF3), CFs */
  /* per frame: message type, flow status, BS, STmin, SN; -1 = absent */
  const gint64 expected[][5] = {
    { 0, -1, -1, -1, -1 },      /* SF request */
    { 1, -1, -1, -1, -1 },      /* FF */
    { 3, 0, 2, 0xF3, -1 },      /* FC CTS, BS 2, STmin 300 µs */
    { 2, -1, -1, -1, 1 },       /* CF */
    { 2, -1, -1, -1, 2 },
    { 3, 0, 2, 0xF3, -1 },
    { 2, -1, -1, -1, 3 },
  };

  bus_init (&b);
  tester_config (&tc);
  tc.block_size = 2;
  tc.st_min = 0xF3;
  server_config (&sc);
  {
    g_autoptr(EwIsotpChannel) tester = channel_new (&b, &tc);
    g_autoptr(EwIsotpChannel) server = channel_new (&b, &sc);
    g_autoptr(GBytes) request = NULL;
    g_autoptr(GBytes) response = NULL;
    /* a ReadDataByIdentifier answer with the VIN (F190) and a serial
     * number (F18C), 27 bytes: a FF and 3 CFs */
    const guint8 vin_answer[] = { 0x62, 0xF1, 0x90, 'W', 'V', 'W', 'Z', 'Z', 'Z', 'A', 'U',
                                  'Z', 'F', 'W', '0', '0', '0', '0', '0', '1',
                                  0xF1, 0x8C, '1', '2', '3', '4', '5' };

    g_assert_true (ew_isotp_channel_send (tester, (const guint8 *) "\x22\xF1\x90", 3, NULL, &error));
    g_assert_no_error (error);
    request = ew_isotp_channel_receive (server, 1000, NULL, &error);
    g_assert_no_error (error);
    g_assert_true (ew_isotp_channel_send (server, vin_answer, sizeof vin_answer, NULL, &error));
    g_assert_no_error (error);
    response = ew_isotp_channel_receive (tester, 1000, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpmem (g_bytes_get_data (response, NULL), g_bytes_get_size (response),
                     vin_answer, sizeof vin_answer);
  }
  frames = drain (b.monitor, 50);
  g_assert_cmpuint (frames->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < frames->len; i++)
    {
      g_autofree char *line = ew_can_frame_to_candump_line (&g_array_index (frames, EwCanFrame, i), "can0");

      g_string_append_printf (log, "%s\n", line);
    }
  g_test_message ("frame log:\n%s", log->str);
  assert_frame (&g_array_index (frames, EwCanFrame, 0), "7E0#0322F190CCCCCCCC");
  assert_frame (&g_array_index (frames, EwCanFrame, 1), "7E8#101B62F190575657");
  assert_frame (&g_array_index (frames, EwCanFrame, 2), "7E0#3002F3CCCCCCCCCC");
  assert_frame (&g_array_index (frames, EwCanFrame, 6), "7E8#23F18C3132333435");

  dir = g_dir_make_tmp ("ew-isotp-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (dir, "isotp.log", NULL);
  g_assert_true (g_file_set_contents (path, log->str, -1, &error));

  tshark = g_find_program_in_path ("tshark");
  if (tshark == NULL)
    {
      ew_test_remove_tree (dir);
      bus_clear (&b);
      g_test_skip ("tshark is not installed; the frame log is not decoded independently "
                   "(apt-get install tshark)");
      return;
    }

  {
    const char *argv[] = {
      tshark, "-r", path, "-d", "can.subdissector,iso15765",
      "-T", "fields", "-e", "iso15765.message_type", "-e", "iso15765.flow_status",
      "-e", "iso15765.flow_control.bs", "-e", "iso15765.flow_control.stmin",
      "-e", "iso15765.sequence_number", NULL,
    };

    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL,
                                 NULL, NULL, &out, NULL, &status, &error));
    g_assert_no_error (error);
    g_assert_true (g_spawn_check_wait_status (status, &error));
    g_assert_no_error (error);
  }
  g_test_message ("tshark:\n%s", out);
  lines = g_strsplit (g_strchomp (out), "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_auto(GStrv) fields = g_strsplit (lines[i], "\t", -1);

      /* tshark prints some fields in hex, others in decimal */
      g_assert_cmpuint (g_strv_length (fields), ==, 5);
      for (guint f = 0; f < 5; f++)
        {
          g_strstrip (fields[f]);
          if (expected[i][f] < 0)
            g_assert_cmpstr (fields[f], ==, "");
          else
            g_assert_cmpint ((gint64) g_ascii_strtoull (fields[f], NULL, 0), ==, expected[i][f]);
        }
    }

  ew_test_remove_tree (dir);
  bus_clear (&b);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/isotp/round-trip/lengths", test_round_trip_lengths);
  g_test_add_func ("/isotp/round-trip/large", test_round_trip_large);
  g_test_add_func ("/isotp/wire/single-frame-padding", test_wire_single_frame_padding);
  g_test_add_func ("/isotp/wire/segmented", test_wire_segmented);
  g_test_add_func ("/isotp/wire/sequence-wrap", test_sequence_wrap);
  g_test_add_func ("/isotp/flow-control/block-size-st-min", test_block_size_and_st_min);
  g_test_add_func ("/isotp/flow-control/st-min-codes", test_st_min_codes);
  g_test_add_func ("/isotp/flow-control/wait", test_wait_frames);
  g_test_add_func ("/isotp/flow-control/invalid-status", test_invalid_flow_status);
  g_test_add_func ("/isotp/flow-control/overflow", test_overflow);
  g_test_add_func ("/isotp/timeout/n-as", test_timeout_as);
  g_test_add_func ("/isotp/timeout/n-bs", test_timeout_bs);
  g_test_add_func ("/isotp/timeout/n-cr", test_timeout_cr);
  g_test_add_func ("/isotp/receive/wrong-sequence-number", test_wrong_sequence_number);
  g_test_add_func ("/isotp/receive/ignored-frames", test_ignored_frames);
  g_test_add_func ("/isotp/receive/unexpected-pdu", test_unexpected_pdu);
  g_test_add_func ("/isotp/addressing/extended", test_extended_addressing);
  g_test_add_func ("/isotp/addressing/29-bit", test_29bit_ids);
  g_test_add_func ("/isotp/addressing/functional", test_functional);
  g_test_add_func ("/isotp/channel/interface", test_channel_interface);
  g_test_add_func ("/isotp/channel/cancel-and-close", test_cancel_and_close);
  g_test_add_func ("/isotp/wire/candump-log-tshark", test_candump_log_tshark);

  return g_test_run ();
}
