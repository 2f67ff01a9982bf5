/* test-gsusb.c — the gs_usb link against a fake candleLight adapter on
 * umockdev's usbdevfs: discovery, URIs, the control requests and their
 * bytes, frames on the bulk endpoints with echoes, filters, error frames,
 * threads, cancellation and unplugging. Runs under libumockdev-preload.
 */
#include <string.h>

#include <linux/can.h>
#include <linux/can/error.h>

#include "link/gsusb.h"
#include "link/link.h"
#include "gsusb/fake-gsusb.h"

#define SERIAL_A "0039003A4E4B5009"
#define SERIAL_B "002F00215734570B"

typedef struct {
  UMockdevTestbed *testbed;
  FakeGsusb       *fake;
  FakeGsusb       *other;
} Fixture;

static void
fixture_setup (Fixture       *fx,
               gconstpointer  data)
{
  fx->testbed = umockdev_testbed_new ();
  if (GPOINTER_TO_INT (data) >= 1)
    fx->fake = fake_gsusb_new (fx->testbed, 0x1d50, 0x606f, SERIAL_A, 1, 5);
  if (GPOINTER_TO_INT (data) >= 2)
    fx->other = fake_gsusb_new (fx->testbed, 0x1209, 0x2323, SERIAL_B, 2, 7);
}

static void
fixture_teardown (Fixture       *fx,
                  gconstpointer  data)
{
  g_clear_pointer (&fx->fake, fake_gsusb_free);
  g_clear_pointer (&fx->other, fake_gsusb_free);
  g_clear_object (&fx->testbed);
}

static EwLink *
open_ok (const char *uri)
{
  g_autoptr(GError) error = NULL;
  EwLink *link = ew_link_open (uri, &error);

  g_assert_no_error (error);
  g_assert_true (EW_IS_GSUSB_LINK (link));
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
  g_assert_nonnull (strstr (error->message, uri));
  if (needle != NULL && strstr (error->message, needle) == NULL)
    g_error ("“%s” not in “%s”", needle, error->message);
}

static guint32
le32 (const guint8 *p)
{
  return (guint32) p[0] | (guint32) p[1] << 8 | (guint32) p[2] << 16 | (guint32) p[3] << 24;
}

/* The vendor request sent with this bRequest (and, for MODE, this mode)
 * at or after position from; -1 if none. */
static gint
find_control (GPtrArray *controls,
              guint      from,
              guint8     request,
              gint       mode)
{
  for (guint i = from; i < controls->len; i++)
    {
      FakeGsusbControl *c = g_ptr_array_index (controls, i);

      if (c->request != request)
        continue;
      if (mode >= 0 && (g_bytes_get_size (c->data) < 4 ||
                        le32 (g_bytes_get_data (c->data, NULL)) != (guint32) mode))
        continue;
      return (gint) i;
    }
  return -1;
}

static void
assert_bittiming_sent (FakeGsusb *fake,
                       guint32    prop_seg,
                       guint32    phase_seg1,
                       guint32    phase_seg2,
                       guint32    sjw,
                       guint32    brp)
{
  g_autoptr(GPtrArray) controls = fake_gsusb_get_controls (fake);
  gint i = find_control (controls, 0, 1, -1);
  FakeGsusbControl *c;
  guint8 expected[20];
  const guint32 v[5] = { prop_seg, phase_seg1, phase_seg2, sjw, brp };

  g_assert_cmpint (i, >=, 0);
  c = g_ptr_array_index (controls, i);
  g_assert_cmpuint (c->request_type, ==, 0x41);
  g_assert_cmpuint (c->value, ==, 0);    /* channel 0 */
  g_assert_cmpuint (c->index, ==, 0);    /* interface 0 */
  for (int k = 0; k < 5; k++)
    {
      expected[4 * k] = v[k] & 0xff;
      expected[4 * k + 1] = (v[k] >> 8) & 0xff;
      expected[4 * k + 2] = (v[k] >> 16) & 0xff;
      expected[4 * k + 3] = (v[k] >> 24) & 0xff;
    }
  g_assert_cmpmem (g_bytes_get_data (c->data, NULL), g_bytes_get_size (c->data),
                   expected, sizeof expected);
}

/* ---- discovery and opening ---- */

static void
test_discovery (Fixture       *fx,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) devices = ew_gsusb_list_devices (&error);
  EwGsusbDeviceInfo *a, *b;

  g_assert_no_error (error);
  g_assert_cmpuint (devices->len, ==, 2);
  a = g_ptr_array_index (devices, 0);
  b = g_ptr_array_index (devices, 1);
  g_assert_cmphex (a->vendor_id, ==, 0x1d50);
  g_assert_cmphex (a->product_id, ==, 0x606f);
  g_assert_cmpstr (a->serial, ==, SERIAL_A);
  g_assert_cmpstr (a->product, ==, "candleLight USB to CAN adapter");
  g_assert_cmpuint (a->bus_number, ==, 1);
  g_assert_cmpuint (a->device_address, ==, 5);
  g_assert_null (a->open_error);
  g_assert_cmphex (b->vendor_id, ==, 0x1209);
  g_assert_cmphex (b->product_id, ==, 0x2323);
  g_assert_cmpstr (b->serial, ==, SERIAL_B);
  g_assert_cmpuint (b->bus_number, ==, 2);
  g_assert_cmpuint (b->device_address, ==, 7);
}

static void
test_open_default (Fixture       *fx,
                   gconstpointer  data)
{
  g_autoptr(EwLink) link = open_ok ("gsusb:");
  g_autoptr(GPtrArray) controls = fake_gsusb_get_controls (fx->fake);
  FakeGsusbControl *host_format;
  gint i_bittiming, i_start;
  const EwGsusbBittiming *bt;
  const guint8 beef[] = { 0xEF, 0xBE, 0x00, 0x00 };

  g_assert_cmpstr (ew_link_get_uri (link), ==, "gsusb:");
  g_assert_cmpstr (ew_gsusb_link_get_serial (EW_GSUSB_LINK (link)), ==, SERIAL_A);
  g_assert_nonnull (strstr (ew_link_get_name (link), SERIAL_A));

  /* gs_usb_probe() order: HOST_FORMAT first, then the channel set-up,
   * MODE start last */
  g_assert_cmpuint (controls->len, >=, 6);
  host_format = g_ptr_array_index (controls, 0);
  g_assert_cmpuint (host_format->request, ==, 0);
  g_assert_cmpuint (host_format->request_type, ==, 0x41);
  g_assert_cmpuint (host_format->value, ==, 1);
  g_assert_cmpuint (host_format->index, ==, 0);
  g_assert_cmpmem (g_bytes_get_data (host_format->data, NULL),
                   g_bytes_get_size (host_format->data), beef, sizeof beef);
  g_assert_cmpint (find_control (controls, 0, 5, -1), >, 0);   /* DEVICE_CONFIG */
  g_assert_cmpint (find_control (controls, 0, 4, -1), >, 0);   /* BT_CONST */
  i_bittiming = find_control (controls, 0, 1, -1);
  i_start = find_control (controls, 0, 2, 1);
  g_assert_cmpint (i_bittiming, >, find_control (controls, 0, 4, -1));
  g_assert_cmpint (i_start, >, i_bittiming);
  g_assert_cmpint (i_start, ==, (gint) controls->len - 1);
  {
    FakeGsusbControl *start = g_ptr_array_index (controls, i_start);
    const guint8 mode_start[] = { 1, 0, 0, 0, 0, 0, 0, 0 };

    g_assert_cmpuint (start->request_type, ==, 0x41);
    g_assert_cmpmem (g_bytes_get_data (start->data, NULL), g_bytes_get_size (start->data),
                     mode_start, sizeof mode_start);
  }
  g_assert_true (fake_gsusb_is_started (fx->fake));

  /* 500 kbit/s on the 48 MHz clock: what `ip link set can0 type can
   * bitrate 500000` gives on a candleLight (tq 125 ns, sample point 87.5 %) */
  assert_bittiming_sent (fx->fake, 6, 7, 2, 1, 6);
  bt = ew_gsusb_link_get_bittiming (EW_GSUSB_LINK (link));
  g_assert_cmpuint (bt->sample_point, ==, 875);
  g_assert_cmpuint (bt->bitrate_bps, ==, 500000);
  g_assert_cmpuint (ew_gsusb_link_get_bt_const (EW_GSUSB_LINK (link))->fclk_can, ==, 48000000);

  /* several bulk IN transfers wait at once */
  g_assert_cmpuint (fake_gsusb_get_n_pending_in (fx->fake), >=, 4);

  ew_link_close (link);
  g_assert_false (fake_gsusb_is_started (fx->fake));
  g_assert_cmpuint (fake_gsusb_get_n_pending_in (fx->fake), ==, 0);
  ew_link_close (link);
}

static void
test_open_explicit (Fixture       *fx,
                    gconstpointer  data)
{
  {
    g_autoptr(EwLink) link = open_ok ("gsusb:1d50:606f");

    g_assert_cmpstr (ew_gsusb_link_get_serial (EW_GSUSB_LINK (link)), ==, SERIAL_A);
  }
  {
    g_autoptr(EwLink) link = open_ok ("gsusb:@" SERIAL_A);

    g_assert_cmpstr (ew_gsusb_link_get_serial (EW_GSUSB_LINK (link)), ==, SERIAL_A);
  }
  {
    g_autoptr(EwLink) link = open_ok ("gsusb:1D50:606F@" SERIAL_A "?bitrate=125000");
    g_autoptr(GPtrArray) controls = fake_gsusb_get_controls (fx->fake);
    guint last_host_format = 0;

    g_assert_cmpuint (ew_gsusb_link_get_bittiming (EW_GSUSB_LINK (link))->bitrate_bps, ==, 125000);
    /* this third opening's BITTIMING: the last one in the log */
    for (gint i = 0; (i = find_control (controls, i, 0, -1)) >= 0; i++)
      last_host_format = i;
    {
      gint i = find_control (controls, last_host_format, 1, -1);
      FakeGsusbControl *c = g_ptr_array_index (controls, i);
      const guint8 expected[] = { 6, 0, 0, 0, 7, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 24, 0, 0, 0 };

      g_assert_cmpmem (g_bytes_get_data (c->data, NULL), g_bytes_get_size (c->data),
                       expected, sizeof expected);
    }
  }
}

static void
test_bittiming (void)
{
  const EwGsusbBtConst candlelight = {
    .fclk_can = 48000000, .tseg1_min = 1, .tseg1_max = 16, .tseg2_min = 1, .tseg2_max = 8,
    .sjw_max = 4, .brp_min = 1, .brp_max = 1024, .brp_inc = 1,
  };
  const struct {
    guint32 bitrate, prop_seg, phase_seg1, phase_seg2, sjw, brp, sample_point;
  } cases[] = {
    { 125000, 6, 7, 2, 1, 24, 875 },
    { 250000, 6, 7, 2, 1, 12, 875 },
    { 500000, 6, 7, 2, 1, 6, 875 },
    /* above 800 kbit/s the CiA sample point is 75 % */
    { 1000000, 5, 6, 4, 2, 3, 750 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      EwGsusbBittiming bt;

      g_assert_true (ew_gsusb_calc_bittiming (&candlelight, cases[i].bitrate, &bt, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (bt.prop_seg, ==, cases[i].prop_seg);
      g_assert_cmpuint (bt.phase_seg1, ==, cases[i].phase_seg1);
      g_assert_cmpuint (bt.phase_seg2, ==, cases[i].phase_seg2);
      g_assert_cmpuint (bt.sjw, ==, cases[i].sjw);
      g_assert_cmpuint (bt.brp, ==, cases[i].brp);
      g_assert_cmpuint (bt.sample_point, ==, cases[i].sample_point);
      g_assert_cmpuint (bt.bitrate_bps, ==, cases[i].bitrate);
    }

  /* 8 MHz cannot make 900 kbit/s closer than 1.2 % */
  {
    EwGsusbBtConst slow = candlelight;
    g_autoptr(GError) error = NULL;
    EwGsusbBittiming bt;

    slow.fclk_can = 8000000;
    g_assert_false (ew_gsusb_calc_bittiming (&slow, 900000, &bt, &error));
    g_assert_error (error, EW_LINK_ERROR, EW_LINK_ERROR_NOT_SUPPORTED);
    g_assert_nonnull (strstr (error->message, "0.5"));
  }
}

static void
test_unreachable_bitrate (Fixture       *fx,
                          gconstpointer  data)
{
  fake_gsusb_set_fclk (fx->fake, 8000000);
  assert_open_fails ("gsusb:?bitrate=900000", EW_LINK_ERROR_NOT_SUPPORTED, "900000");
}

/* ---- frames ---- */

static void
assert_out_frame (GBytes       *bytes,
                  guint32       can_id,
                  const guint8 *payload,
                  guint8        dlc)
{
  const guint8 *b = g_bytes_get_data (bytes, NULL);

  g_assert_cmpuint (g_bytes_get_size (bytes), ==, 20);
  g_assert_cmpuint (le32 (b), <, 10);           /* echo_id: one of GS_MAX_TX_URBS */
  g_assert_cmphex (le32 (b + 4), ==, can_id);
  g_assert_cmpuint (b[8], ==, dlc);
  g_assert_cmpuint (b[9], ==, 0);               /* channel */
  g_assert_cmpuint (b[10], ==, 0);              /* flags */
  if (payload != NULL)
    g_assert_cmpmem (b + 12, dlc, payload, dlc);
}

static void
test_send (Fixture       *fx,
           gconstpointer  data)
{
  g_autoptr(EwLink) link = open_ok ("gsusb:");
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) frames = NULL;
  const guint8 payload[] = { 0x02, 0x10, 0x03, 0x55, 0x55, 0x55, 0x55, 0x55 };
  EwCanFrame frame;

  ew_can_frame_init (&frame, 0x7E0, FALSE, payload, sizeof payload);
  g_assert_true (ew_link_send (link, &frame, 2000, NULL, &error));
  g_assert_no_error (error);

  ew_can_frame_init (&frame, 0x18DA10F1, TRUE, payload, 3);
  g_assert_true (ew_link_send (link, &frame, 2000, NULL, &error));
  g_assert_no_error (error);

  ew_can_frame_init (&frame, 0x123, FALSE, NULL, 0);
  frame.is_rtr = TRUE;
  frame.len = 2;
  g_assert_true (ew_link_send (link, &frame, 2000, NULL, &error));
  g_assert_no_error (error);

  frames = fake_gsusb_get_out_frames (fx->fake);
  g_assert_cmpuint (frames->len, ==, 3);
  assert_out_frame (g_ptr_array_index (frames, 0), 0x7E0, payload, 8);
  assert_out_frame (g_ptr_array_index (frames, 1), 0x18DA10F1 | CAN_EFF_FLAG, payload, 3);
  assert_out_frame (g_ptr_array_index (frames, 2), 0x123 | CAN_RTR_FLAG, NULL, 2);

  /* echoes complete the sends; they are not received frames */
  g_assert_false (ew_link_receive (link, &frame, 100, NULL, &error));
  g_assert_error (error, EW_LINK_ERROR, EW_LINK_ERROR_TIMEOUT);
}

static void
test_send_without_echo (Fixture       *fx,
                        gconstpointer  data)
{
  g_autoptr(EwLink) link = open_ok ("gsusb:");
  g_autoptr(GError) error = NULL;
  const guint8 payload[] = { 0x01, 0x02 };
  EwCanFrame frame;
  gint64 start;

  /* nothing acknowledges the frame on the bus: the adapter never echoes */
  fake_gsusb_set_echo (fx->fake, FALSE);
  ew_can_frame_init (&frame, 0x7DF, FALSE, payload, sizeof payload);
  start = g_get_monotonic_time ();
  g_assert_false (ew_link_send (link, &frame, 300, NULL, &error));
  g_assert_error (error, EW_LINK_ERROR, EW_LINK_ERROR_TIMEOUT);
  g_assert_nonnull (strstr (error->message, "echo"));
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 290 * 1000);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 3 * G_TIME_SPAN_SECOND);
  /* the frame did go out on bulk OUT */
  g_assert_true (fake_gsusb_wait_out_frames (fx->fake, 1, 2000));
}

static void
receive_ok (EwLink     *link,
            EwCanFrame *frame)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (ew_link_receive (link, frame, 3000, NULL, &error));
  g_assert_no_error (error);
}

static void
test_receive (Fixture       *fx,
              gconstpointer  data)
{
  g_autoptr(EwLink) link = open_ok ("gsusb:");
  const guint8 a[] = { 0x06, 0x50, 0x03, 0x00, 0x32, 0x01, 0xF4, 0xAA };
  const guint8 b[] = { 0x03, 0x7F, 0x22, 0x31 };
  EwCanFrame frame;

  fake_gsusb_inject (fx->fake, 0x7E8, a, sizeof a, 0);
  fake_gsusb_inject (fx->fake, 0x18DAF110 | CAN_EFF_FLAG, b, sizeof b, 0);
  fake_gsusb_inject (fx->fake, 0x321 | CAN_RTR_FLAG, NULL, 4, 0);

  receive_ok (link, &frame);
  g_assert_cmphex (frame.id, ==, 0x7E8);
  g_assert_false (frame.is_extended);
  g_assert_false (frame.is_rtr);
  g_assert_false (frame.is_error);
  g_assert_cmpmem (frame.data, frame.len, a, sizeof a);
  g_assert_cmpint (frame.timestamp_us, >, 0);

  receive_ok (link, &frame);
  g_assert_cmphex (frame.id, ==, 0x18DAF110);
  g_assert_true (frame.is_extended);
  g_assert_cmpmem (frame.data, frame.len, b, sizeof b);

  receive_ok (link, &frame);
  g_assert_cmphex (frame.id, ==, 0x321);
  g_assert_true (frame.is_rtr);
  g_assert_cmpuint (frame.len, ==, 4);
}

static void
test_filters (Fixture       *fx,
              gconstpointer  data)
{
  g_autoptr(EwLink) link = open_ok ("gsusb:");
  g_autoptr(GError) error = NULL;
  const EwCanFilter filters[] = {
    { .id = 0x7E8, .mask = 0x7FF, .is_extended = FALSE },
    { .id = 0x18DAF100, .mask = 0x1FFFFF00, .is_extended = TRUE },
  };
  const guint8 d[] = { 0x01 };
  EwCanFrame frame;

  g_assert_true (ew_link_set_filters (link, filters, G_N_ELEMENTS (filters), &error));
  g_assert_no_error (error);
  fake_gsusb_inject (fx->fake, 0x123, d, 1, 0);
  fake_gsusb_inject (fx->fake, 0x7E8 | CAN_EFF_FLAG, d, 1, 0);   /* extended 0x7E8: no */
  fake_gsusb_inject (fx->fake, 0x7E8, d, 1, 0);
  fake_gsusb_inject (fx->fake, 0x18DA00F1 | CAN_EFF_FLAG, d, 1, 0);
  fake_gsusb_inject (fx->fake, 0x18DAF1AB | CAN_EFF_FLAG, d, 1, 0);

  receive_ok (link, &frame);
  g_assert_cmphex (frame.id, ==, 0x7E8);
  g_assert_false (frame.is_extended);
  receive_ok (link, &frame);
  g_assert_cmphex (frame.id, ==, 0x18DAF1AB);
  g_assert_false (ew_link_receive (link, &frame, 200, NULL, &error));
  g_assert_error (error, EW_LINK_ERROR, EW_LINK_ERROR_TIMEOUT);
  g_clear_error (&error);

  /* no filters: everything again */
  g_assert_true (ew_link_set_filters (link, NULL, 0, &error));
  fake_gsusb_inject (fx->fake, 0x123, d, 1, 0);
  receive_ok (link, &frame);
  g_assert_cmphex (frame.id, ==, 0x123);
}

static void
test_error_frames (Fixture       *fx,
                   gconstpointer  data)
{
  g_autoptr(EwLink) link = open_ok ("gsusb:");
  EwGsusbLink *gs = EW_GSUSB_LINK (link);
  const guint8 err_data[8] = { 0, CAN_ERR_CRTL_RX_WARNING, 0, 0, 0, 0, 97, 0 };
  const guint8 d[] = { 0x42 };
  EwCanFrame frame;
  EwCanFrame last;

  g_assert_false (ew_gsusb_link_get_last_error_frame (gs, &last));
  fake_gsusb_inject (fx->fake, CAN_ERR_FLAG | CAN_ERR_CRTL | CAN_ERR_BUSERROR, err_data, 8, 0);
  fake_gsusb_inject (fx->fake, 0x7E8, d, 1, 0x01 /* GS_CAN_FLAG_OVERFLOW */);

  /* the error frame is not delivered as data; the next frame is */
  receive_ok (link, &frame);
  g_assert_cmphex (frame.id, ==, 0x7E8);
  g_assert_false (frame.is_error);
  g_assert_cmpuint (ew_gsusb_link_get_n_error_frames (gs), ==, 1);
  g_assert_true (ew_gsusb_link_get_last_error_frame (gs, &last));
  g_assert_true (last.is_error);
  g_assert_cmphex (last.id, ==, CAN_ERR_CRTL | CAN_ERR_BUSERROR);
  g_assert_cmpmem (last.data, last.len, err_data, sizeof err_data);
  g_assert_cmpuint (ew_gsusb_link_get_n_overruns (gs), ==, 1);
}

/* ---- threads, cancellation, closing, unplugging ---- */

typedef struct {
  EwLink  *link;
  guint    n;
  gboolean ok;
  char    *message;
} SendJob;

static gpointer
send_thread (gpointer data)
{
  SendJob *job = data;

  job->ok = TRUE;
  for (guint i = 0; i < job->n && job->ok; i++)
    {
      g_autoptr(GError) error = NULL;
      guint8 payload[2] = { i >> 8, i & 0xff };
      EwCanFrame frame;

      ew_can_frame_init (&frame, 0x600, FALSE, payload, sizeof payload);
      if (!ew_link_send (job->link, &frame, 3000, NULL, &error))
        {
          job->ok = FALSE;
          job->message = g_strdup (error->message);
        }
    }
  return NULL;
}

static void
test_threads (Fixture       *fx,
              gconstpointer  data)
{
  g_autoptr(EwLink) link = open_ok ("gsusb:");
  SendJob job = { .link = link, .n = 40 };
  GThread *thread = g_thread_new ("sender", send_thread, &job);
  g_autoptr(GPtrArray) frames = NULL;

  for (guint i = 0; i < 40; i++)
    {
      guint8 payload[2] = { i >> 8, i & 0xff };
      EwCanFrame frame;

      fake_gsusb_inject (fx->fake, 0x700, payload, 2, 0);
      receive_ok (link, &frame);
      g_assert_cmphex (frame.id, ==, 0x700);
      g_assert_cmpmem (frame.data, frame.len, payload, sizeof payload);
    }
  g_thread_join (thread);
  if (!job.ok)
    g_error ("sender: %s", job.message);
  frames = fake_gsusb_get_out_frames (fx->fake);
  g_assert_cmpuint (frames->len, ==, 40);
  for (guint i = 0; i < 40; i++)
    {
      const guint8 *b = g_bytes_get_data (g_ptr_array_index (frames, i), NULL);

      g_assert_cmpuint (b[12] << 8 | b[13], ==, i);
    }
}

typedef struct {
  guint     delay_ms;
  void    (*action) (gpointer);
  gpointer  target;
} Later;

static gpointer
later_thread (gpointer data)
{
  Later *later = data;

  g_usleep (later->delay_ms * 1000);
  later->action (later->target);
  return NULL;
}

static GThread *
do_later (Later *later)
{
  return g_thread_new ("later", later_thread, later);
}

static void
cancel_action (gpointer target)
{
  g_cancellable_cancel (target);
}

static void
test_cancel (Fixture       *fx,
             gconstpointer  data)
{
  g_autoptr(EwLink) link = open_ok ("gsusb:");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  Later later = { 100, cancel_action, cancellable };
  GThread *thread = do_later (&later);
  EwCanFrame frame;
  gint64 start = g_get_monotonic_time ();

  g_assert_false (ew_link_receive (link, &frame, 5000, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 2 * G_TIME_SPAN_SECOND);
  g_thread_join (thread);
}

static void
close_action (gpointer target)
{
  ew_link_close (target);
}

static void
test_close_while_receiving (Fixture       *fx,
                            gconstpointer  data)
{
  g_autoptr(EwLink) link = open_ok ("gsusb:");
  g_autoptr(GError) error = NULL;
  Later later = { 100, close_action, link };
  GThread *thread = do_later (&later);
  EwCanFrame frame;

  g_assert_false (ew_link_receive (link, &frame, 5000, NULL, &error));
  g_assert_error (error, EW_LINK_ERROR, EW_LINK_ERROR_CLOSED);
  g_thread_join (thread);
  g_clear_error (&error);
  ew_can_frame_init (&frame, 0x7E0, FALSE, NULL, 0);
  g_assert_false (ew_link_send (link, &frame, 100, NULL, &error));
  g_assert_error (error, EW_LINK_ERROR, EW_LINK_ERROR_CLOSED);
  g_assert_false (fake_gsusb_is_started (fx->fake));
}

static void
vanish_action (gpointer target)
{
  fake_gsusb_vanish (target);
}

static void
test_unplug (Fixture       *fx,
             gconstpointer  data)
{
  g_autoptr(EwLink) link = open_ok ("gsusb:");
  g_autoptr(GError) error = NULL;
  Later later = { 150, vanish_action, fx->fake };
  GThread *thread = do_later (&later);
  const guint8 d[] = { 0x01 };
  EwCanFrame frame;
  gint64 start = g_get_monotonic_time ();

  g_assert_false (ew_link_receive (link, &frame, 5000, NULL, &error));
  g_assert_error (error, EW_LINK_ERROR, EW_LINK_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "unplugged"));
  g_assert_cmpint (g_get_monotonic_time () - start, <, 3 * G_TIME_SPAN_SECOND);
  g_thread_join (thread);

  /* later calls fail the same way, at once */
  g_clear_error (&error);
  ew_can_frame_init (&frame, 0x7E0, FALSE, d, 1);
  g_assert_false (ew_link_send (link, &frame, 1000, NULL, &error));
  g_assert_error (error, EW_LINK_ERROR, EW_LINK_ERROR_IO);
  g_clear_error (&error);
  g_assert_false (ew_link_receive (link, &frame, 0, NULL, &error));
  g_assert_error (error, EW_LINK_ERROR, EW_LINK_ERROR_IO);

  ew_link_close (link);
  ew_link_close (link);
}

/* ---- errors ---- */

static void
test_bad_uris (void)
{
  assert_open_fails ("gsusb:xyz", EW_LINK_ERROR_BAD_URI, "VID:PID");
  assert_open_fails ("gsusb:1d50", EW_LINK_ERROR_BAD_URI, "VID:PID");
  assert_open_fails ("gsusb:1d50:", EW_LINK_ERROR_BAD_URI, NULL);
  assert_open_fails ("gsusb:12345:606f", EW_LINK_ERROR_BAD_URI, NULL);
  assert_open_fails ("gsusb:@", EW_LINK_ERROR_BAD_URI, "serial");
  assert_open_fails ("gsusb:@a b", EW_LINK_ERROR_BAD_URI, "serial");
  assert_open_fails ("gsusb:?bitrate=fast", EW_LINK_ERROR_BAD_URI, "bitrate");
  assert_open_fails ("gsusb:?bitrate=12", EW_LINK_ERROR_BAD_URI, "bitrate");
  assert_open_fails ("gsusb:?bitrate=2000000", EW_LINK_ERROR_BAD_URI, "bitrate");
  assert_open_fails ("gsusb:?speed=1", EW_LINK_ERROR_BAD_URI, "speed");
}

static void
test_no_device (Fixture       *fx,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) devices = ew_gsusb_list_devices (&error);

  g_assert_no_error (error);
  g_assert_cmpuint (devices->len, ==, 0);
  assert_open_fails ("gsusb:", EW_LINK_ERROR_NOT_FOUND,
                     "no gs_usb adapter found (looked for 1d50:606f");
  assert_open_fails ("gsusb:1209:ca01?bitrate=250000", EW_LINK_ERROR_NOT_FOUND, "1209:ca01");
}

static void
test_wrong_id_or_serial (Fixture       *fx,
                         gconstpointer  data)
{
  assert_open_fails ("gsusb:1209:2323", EW_LINK_ERROR_NOT_FOUND, "no gs_usb adapter found");
  assert_open_fails ("gsusb:@NOPE", EW_LINK_ERROR_NOT_FOUND, SERIAL_A);
}

static void
test_two_adapters (Fixture       *fx,
                   gconstpointer  data)
{
  assert_open_fails ("gsusb:", EW_LINK_ERROR_NOT_FOUND, SERIAL_B);
  {
    g_autoptr(EwLink) link = open_ok ("gsusb:@" SERIAL_B);

    g_assert_cmpstr (ew_gsusb_link_get_serial (EW_GSUSB_LINK (link)), ==, SERIAL_B);
    g_assert_true (fake_gsusb_is_started (fx->other));
    g_assert_false (fake_gsusb_is_started (fx->fake));
  }
  {
    g_autoptr(EwLink) link = open_ok ("gsusb:1209:2323");

    g_assert_cmpstr (ew_gsusb_link_get_serial (EW_GSUSB_LINK (link)), ==, SERIAL_B);
  }
}

static void
test_busy (Fixture       *fx,
           gconstpointer  data)
{
  fake_gsusb_set_busy (fx->fake, TRUE);
  assert_open_fails ("gsusb:", EW_LINK_ERROR_IO, "busy");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/gsusb/bittiming", test_bittiming);
  g_test_add_func ("/gsusb/bad-uris", test_bad_uris);

  /* umockdev_in_mock_environment() is only TRUE once a testbed exists */
  if (strstr (g_getenv ("LD_PRELOAD") ? g_getenv ("LD_PRELOAD") : "", "umockdev-preload") == NULL)
    {
      g_test_message ("not under libumockdev-preload; the fake adapter tests are skipped");
      return g_test_run ();
    }

#define ADD(path, n, func) \
  g_test_add (path, Fixture, GINT_TO_POINTER (n), fixture_setup, func, fixture_teardown)
  ADD ("/gsusb/discovery", 2, test_discovery);
  ADD ("/gsusb/open-default", 1, test_open_default);
  ADD ("/gsusb/open-explicit", 1, test_open_explicit);
  ADD ("/gsusb/unreachable-bitrate", 1, test_unreachable_bitrate);
  ADD ("/gsusb/send", 1, test_send);
  ADD ("/gsusb/send-without-echo", 1, test_send_without_echo);
  ADD ("/gsusb/receive", 1, test_receive);
  ADD ("/gsusb/filters", 1, test_filters);
  ADD ("/gsusb/error-frames", 1, test_error_frames);
  ADD ("/gsusb/threads", 1, test_threads);
  ADD ("/gsusb/cancel", 1, test_cancel);
  ADD ("/gsusb/close-while-receiving", 1, test_close_while_receiving);
  ADD ("/gsusb/unplug", 1, test_unplug);
  ADD ("/gsusb/no-device", 0, test_no_device);
  ADD ("/gsusb/wrong-id-or-serial", 1, test_wrong_id_or_serial);
  ADD ("/gsusb/two-adapters", 2, test_two_adapters);
  ADD ("/gsusb/busy", 1, test_busy);
#undef ADD

  return g_test_run ();
}
