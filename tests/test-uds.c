/* test-uds.c — the UDS client against a scripted UDS server thread on the
 * other end of a real ISO-TP channel pair (0x7E0/0x7E8, functional 0x7DF)
 * on the simulated CAN bus. The server behaves like a small module unless
 * a test scripts its next answer ("7F2278 @100 620100AABB": send, wait
 * 100 ms, send; "" for silence). Every request it hears is logged as hex,
 * so the tests check what went over the wire.
 */
#include <string.h>

#include "isotp/isotp.h"
#include "link/sim-bus.h"
#include "uds/seedkey.h"
#include "uds/toy-seedkey.h"
#include "uds/uds-client.h"
#include "test-util.h"

#define MODULE "KOMBI"

typedef enum {
  ALGORITHM_TOY,
  ALGORITHM_EXAMPLE,   /* tests/plugins/example-seedkey.c */
} Algorithm;

typedef struct {
  EwSimBus       *bus;
  EwIsotpChannel *tester;              /* 7E0 → / ← 7E8 */
  EwIsotpChannel *tester_functional;   /* 7DF → */
  EwIsotpChannel *server;              /* 7E8 → / ← 7E0 */
  EwIsotpChannel *server_functional;   /* ← 7DF */
  EwUdsClient    *client;

  GThread        *thread;
  gint            stop;

  GMutex          lock;                /* everything below */
  GPtrArray      *requests;            /* char *, hex; "F:" first when functional */
  GQueue          script;              /* char *, for the next requests */
  guint8          session;
  guint16         report_p2_ms;
  guint16         report_p2_star_10ms;
  gboolean        is_unlocked;
  Algorithm       algorithm;
  char            variant0;
  guint           invalid_keys;
  guint           server_max_attempts;
  guint8          next_block;
  guint8          did_0200[4];
} Fixture;

static const guint8 test_seed[] = { 0x12, 0x34, 0x56, 0x78 };
static const char test_vin[] = "WVWZZZ1KZAW000001";

/* ---- hex, keys and waiting ---- */

static GBytes *
hex_to_bytes (const char *hex)
{
  gsize len = strlen (hex) / 2;
  guint8 *data = g_malloc (MAX (len, 1));

  g_assert_cmpuint (strlen (hex) % 2, ==, 0);
  for (gsize i = 0; i < len; i++)
    data[i] = (guint8) (g_ascii_xdigit_value (hex[2 * i]) << 4 | g_ascii_xdigit_value (hex[2 * i + 1]));
  return g_bytes_new_take (data, len);
}

static char *
bytes_to_hex (const guint8 *data,
              gsize         len)
{
  GString *s = g_string_new (NULL);

  for (gsize i = 0; i < len; i++)
    g_string_append_printf (s, "%02X", data[i]);
  return g_string_free (s, FALSE);
}

static void
example_key (guint8        level,
             const guint8 *seed,
             gsize         len,
             char          variant0,
             guint8       *key)
{
  guint8 mix = (guint8) (0xA5 + level) ^ (guint8) variant0;

  for (gsize i = 0; i < len; i++)
    key[i] = seed[len - 1 - i] ^ mix;
}

/* ---- the server ---- */

static void
server_send (Fixture      *f,
             const guint8 *data,
             gsize         len)
{
  g_autoptr(GError) error = NULL;

  if (!ew_isotp_channel_send (f->server, data, len, NULL, &error))
    g_test_message ("server send failed: %s", error->message);
}

static void
server_send_hex (Fixture    *f,
                 const char *hex)
{
  g_autoptr(GBytes) bytes = hex_to_bytes (hex);

  server_send (f, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
}

static void
run_script (Fixture    *f,
            const char *script)
{
  g_auto(GStrv) tokens = g_strsplit (script, " ", -1);

  for (guint i = 0; tokens[i] != NULL; i++)
    {
      if (tokens[i][0] == '\0')
        continue;
      if (tokens[i][0] == '@')
        g_usleep (g_ascii_strtoull (tokens[i] + 1, NULL, 10) * 1000);
      else
        server_send_hex (f, tokens[i]);
    }
}

static void
negative (Fixture *f,
          guint8   sid,
          guint8   nrc)
{
  const guint8 answer[] = { 0x7F, sid, nrc };

  server_send (f, answer, sizeof answer);
}

/* The module's own behaviour; lock held. */
static void
serve (Fixture      *f,
       const guint8 *req,
       gsize         len)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();
  guint8 sid = req[0];
  guint8 sub = len >= 2 ? req[1] & 0x7F : 0;
  /* only services with a sub-function have the suppress bit */
  gboolean suppress = len >= 2 && strchr ("\x10\x11\x19\x27\x28\x31\x3E\x85", sid) != NULL
                      && (req[1] & 0x80) != 0;
  guint8 b;

#define PUT(x) (b = (guint8) (x), g_byte_array_append (out, &b, 1))
  PUT (sid + 0x40);
  switch (sid)
    {
    case 0x10:
      f->session = sub;
      PUT (sub);
      PUT (f->report_p2_ms >> 8);
      PUT (f->report_p2_ms);
      PUT (f->report_p2_star_10ms >> 8);
      PUT (f->report_p2_star_10ms);
      break;
    case 0x11:
      f->session = 1;
      PUT (sub);
      if (sub == 0x04)
        PUT (0x0A);
      break;
    case 0x14:
      if (len != 4)
        { negative (f, sid, 0x13); return; }
      break;
    case 0x19:
      {
        static const guint8 dtcs[][4] = { { 0x01, 0x23, 0x45, 0x2F },
                                          { 0xC4, 0x56, 0x78, 0x08 },
                                          { 0xAB, 0xCD, 0xEF, 0x00 } };
        PUT (sub);
        PUT (0x7F);   /* availability mask */
        if (sub == 0x01 || sub == 0x02)
          {
            guint n = 0;

            if (len != 3)
              { negative (f, sid, 0x13); return; }
            for (guint i = 0; i < G_N_ELEMENTS (dtcs); i++)
              if (dtcs[i][3] & req[2])
                {
                  n++;
                  if (sub == 0x02)
                    g_byte_array_append (out, dtcs[i], 4);
                }
            if (sub == 0x01)
              {
                PUT (0x01);   /* ISO 14229-1 DTC format */
                PUT (n >> 8);
                PUT (n);
              }
          }
        else if (sub == 0x0A)
          for (guint i = 0; i < G_N_ELEMENTS (dtcs); i++)
            g_byte_array_append (out, dtcs[i], 4);
        else
          { negative (f, sid, 0x12); return; }
      }
      break;
    case 0x22:
      if (len < 3 || len % 2 != 1)
        { negative (f, sid, 0x13); return; }
      for (gsize i = 1; i + 1 < len; i += 2)
        {
          guint16 did = (guint16) (req[i] << 8 | req[i + 1]);

          g_byte_array_append (out, req + i, 2);
          if (did == 0xF190)
            g_byte_array_append (out, (const guint8 *) test_vin, 17);
          else if (did == 0x0100)
            {
              PUT (0xAA);
              PUT (0xBB);
            }
          else if (did == 0x0200)
            g_byte_array_append (out, f->did_0200, 4);
          else
            { negative (f, sid, 0x31); return; }
        }
      break;
    case 0x23:
      {
        guint n_addr = req[1] & 0xF, n_size = req[1] >> 4;
        guint32 address = 0, size = 0;

        if (len != 2 + n_addr + n_size)
          { negative (f, sid, 0x13); return; }
        for (guint i = 0; i < n_addr; i++)
          address = address << 8 | req[2 + i];
        for (guint i = 0; i < n_size; i++)
          size = size << 8 | req[2 + n_addr + i];
        for (guint32 i = 0; i < size; i++)
          PUT (address + i);
      }
      break;
    case 0x27:
      PUT (req[1]);
      if (sub % 2 == 1)
        {
          if (f->is_unlocked)
            for (guint i = 0; i < 4; i++)
              PUT (0);
          else
            g_byte_array_append (out, test_seed, 4);
        }
      else
        {
          guint8 key[4];

          if (f->algorithm == ALGORITHM_TOY)
            ew_toy_seedkey_compute (sub - 1, test_seed, 4, key);
          else
            example_key (sub - 1, test_seed, 4, f->variant0, key);
          if (len != 6 || memcmp (key, req + 2, 4) != 0)
            {
              f->invalid_keys++;
              { negative (f, sid, f->invalid_keys >= f->server_max_attempts ? 0x36 : 0x35); return; }
            }
          f->is_unlocked = TRUE;
        }
      break;
    case 0x28:
    case 0x85:
      PUT (sub);
      break;
    case 0x2E:
      {
        guint16 did = len >= 3 ? (guint16) (req[1] << 8 | req[2]) : 0;

        if (did != 0x0200)
          { negative (f, sid, 0x31); return; }
        if (len != 7)
          { negative (f, sid, 0x13); return; }
        if (!f->is_unlocked)
          { negative (f, sid, 0x33); return; }
        memcpy (f->did_0200, req + 3, 4);
        g_byte_array_append (out, req + 1, 2);
      }
      break;
    case 0x31:
      if (len < 4 || req[2] != 0xFF || req[3] != 0x00)
        { negative (f, sid, 0x31); return; }
      g_byte_array_append (out, req + 1, 3);
      if (sub == 0x01 || sub == 0x03)
        PUT (sub == 0x01 ? 0x01 : 0x00);   /* routineStatusRecord */
      break;
    case 0x34:
      f->next_block = 1;
      PUT (0x20);
      PUT (0x01);
      PUT (0x02);   /* maxNumberOfBlockLength 258 */
      break;
    case 0x36:
      if (len < 2 || req[1] != f->next_block)
        { negative (f, sid, 0x73); return; }
      f->next_block++;
      PUT (req[1]);
      break;
    case 0x37:
      break;
    case 0x3E:
      PUT (sub);
      break;
    default:
      { negative (f, sid, 0x11); return; }
    }
#undef PUT
  if (suppress)
    return;
  server_send (f, out->data, out->len);
}

static void
handle (Fixture *f,
        GBytes  *request,
        gboolean is_functional)
{
  gsize len;
  const guint8 *req = g_bytes_get_data (request, &len);
  g_autofree char *hex = bytes_to_hex (req, len);
  g_autofree char *script = NULL;
  gboolean is_keep_alive = len == 2 && req[0] == 0x3E && req[1] == 0x80;

  g_mutex_lock (&f->lock);
  g_ptr_array_add (f->requests, g_strconcat (is_functional ? "F:" : "", hex, NULL));
  if (!is_keep_alive)
    script = g_queue_pop_head (&f->script);
  if (script == NULL)
    serve (f, req, len);
  g_mutex_unlock (&f->lock);

  /* scripts run unlocked, so the test can look at the log meanwhile */
  if (script != NULL)
    run_script (f, script);
}

static gpointer
server_thread (gpointer data)
{
  Fixture *f = data;

  while (!g_atomic_int_get (&f->stop))
    {
      g_autoptr(GBytes) request = NULL;
      g_autoptr(GBytes) functional = NULL;

      request = ew_isotp_channel_receive (f->server, 5, NULL, NULL);
      if (request != NULL)
        handle (f, request, FALSE);
      functional = ew_isotp_channel_receive (f->server_functional, 0, NULL, NULL);
      if (functional != NULL)
        handle (f, functional, TRUE);
    }
  return NULL;
}

static EwIsotpChannel *
channel_new (Fixture  *f,
             guint32   tx_id,
             guint32   rx_id,
             gboolean  is_functional)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EwSimLink) link = ew_sim_link_new (f->bus);
  EwIsotpConfig config;
  EwIsotpChannel *channel;

  ew_isotp_config_init (&config, tx_id, rx_id);
  config.is_functional = is_functional;
  channel = ew_isotp_channel_new (EW_LINK (link), &config, &error);
  g_assert_no_error (error);
  return channel;
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  static guint counter;
  g_autofree char *name = g_strdup_printf ("uds-test-%u", counter++);

  f->bus = ew_sim_bus_get (name);
  f->tester = channel_new (f, 0x7E0, 0x7E8, FALSE);
  f->tester_functional = channel_new (f, 0x7DF, 0x7FF, TRUE);
  f->server = channel_new (f, 0x7E8, 0x7E0, FALSE);
  f->server_functional = channel_new (f, 0x7E9, 0x7DF, FALSE);

  g_mutex_init (&f->lock);
  g_queue_init (&f->script);
  f->requests = g_ptr_array_new_with_free_func (g_free);
  f->session = 1;
  f->report_p2_ms = 50;
  f->report_p2_star_10ms = 500;
  f->algorithm = ALGORITHM_TOY;
  f->variant0 = 'K';
  f->server_max_attempts = 100;
  memcpy (f->did_0200, "\x01\x02\x03\x04", 4);
  f->thread = g_thread_new ("uds-server", server_thread, f);

  f->client = ew_uds_client_new (EW_CHANNEL (f->tester), MODULE);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_clear_object (&f->client);
  g_atomic_int_set (&f->stop, TRUE);
  g_thread_join (f->thread);
  ew_isotp_channel_close (f->tester);
  ew_isotp_channel_close (f->tester_functional);
  ew_isotp_channel_close (f->server);
  ew_isotp_channel_close (f->server_functional);
  g_clear_object (&f->tester);
  g_clear_object (&f->tester_functional);
  g_clear_object (&f->server);
  g_clear_object (&f->server_functional);
  g_queue_clear_full (&f->script, g_free);
  g_ptr_array_unref (f->requests);
  g_mutex_clear (&f->lock);
  g_clear_pointer (&f->bus, ew_sim_bus_unref);
}

static void
script (Fixture    *f,
        const char *text)
{
  g_mutex_lock (&f->lock);
  g_queue_push_tail (&f->script, g_strdup (text));
  g_mutex_unlock (&f->lock);
}

/* How many logged requests equal hex. */
static guint
count_requests (Fixture    *f,
                const char *hex)
{
  guint n = 0;

  g_mutex_lock (&f->lock);
  for (guint i = 0; i < f->requests->len; i++)
    if (g_str_equal (g_ptr_array_index (f->requests, i), hex))
      n++;
  g_mutex_unlock (&f->lock);
  return n;
}

/* How many logged requests start with prefix. */
static guint
count_prefix (Fixture    *f,
              const char *prefix)
{
  guint n = 0;

  g_mutex_lock (&f->lock);
  for (guint i = 0; i < f->requests->len; i++)
    if (g_str_has_prefix (g_ptr_array_index (f->requests, i), prefix))
      n++;
  g_mutex_unlock (&f->lock);
  return n;
}

/* Waits (bounded) until the server has logged n requests equal to hex. */
static gboolean
wait_requests (Fixture    *f,
               const char *hex,
               guint       n,
               guint       timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  while (count_requests (f, hex) < n)
    {
      if (g_get_monotonic_time () > deadline)
        return FALSE;
      g_usleep (2000);
    }
  return TRUE;
}

static void
assert_bytes (GBytes     *bytes,
              const char *hex)
{
  g_autofree char *got = bytes_to_hex (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));

  g_assert_cmpstr (got, ==, hex);
}

static void
assert_message_has (const GError *error,
                    const char   *part)
{
  g_assert_nonnull (error);
  if (strstr (error->message, part) == NULL)
    g_error ("“%s” not in the message “%s”", part, error->message);
}

static gint64
elapsed_ms (gint64 start_us)
{
  return (g_get_monotonic_time () - start_us) / 1000;
}

/* ---- NRCs ---- */

static void
test_nrc_names (void)
{
  /* ISO 14229-1:2020 Annex A.1 */
  static const guint8 annex_a[] = {
    0x10, 0x11, 0x12, 0x13, 0x14, 0x21, 0x22, 0x24, 0x25, 0x26, 0x31, 0x33, 0x34,
    0x35, 0x36, 0x37, 0x38, 0x39, 0x3A, 0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56,
    0x57, 0x58, 0x59, 0x5A, 0x5B, 0x5C, 0x5D, 0x70, 0x71, 0x72, 0x73, 0x78, 0x7E,
    0x7F, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x8B, 0x8C,
    0x8D, 0x8F, 0x90, 0x91, 0x92, 0x93, 0x94,
  };
  g_autoptr(GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) explanations = g_hash_table_new (g_str_hash, g_str_equal);

  for (gsize i = 0; i < G_N_ELEMENTS (annex_a); i++)
    {
      const char *name = ew_uds_nrc_to_string (annex_a[i]);
      const char *explanation = ew_uds_nrc_explain (annex_a[i]);

      g_assert_true (ew_uds_nrc_is_defined (annex_a[i]));
      g_assert_nonnull (name);
      g_assert_cmpuint (strlen (name), >, 5);
      g_assert_cmpstr (name, !=, "ISOSAEReserved");
      g_assert_false (g_hash_table_contains (names, name));
      g_hash_table_add (names, (gpointer) name);
      g_assert_cmpuint (strlen (explanation), >, 10);
      g_assert_false (g_hash_table_contains (explanations, explanation));
      g_hash_table_add (explanations, (gpointer) explanation);
    }
  /* nothing else between 0x01 and 0xEF is defined */
  for (guint nrc = 0x01; nrc < 0xF0; nrc++)
    if (memchr (annex_a, nrc, sizeof annex_a) == NULL)
      {
        g_assert_false (ew_uds_nrc_is_defined (nrc));
        g_assert_cmpstr (ew_uds_nrc_to_string (nrc), ==, "ISOSAEReserved");
      }

  g_assert_cmpstr (ew_uds_nrc_to_string (EW_UDS_NRC_GENERAL_REJECT), ==, "generalReject");
  g_assert_cmpstr (ew_uds_nrc_to_string (EW_UDS_NRC_REQUEST_OUT_OF_RANGE), ==, "requestOutOfRange");
  g_assert_cmpstr (ew_uds_nrc_to_string (0x78), ==, "requestCorrectlyReceivedResponsePending");
  g_assert_cmpstr (ew_uds_nrc_to_string (0x7E), ==, "subFunctionNotSupportedInActiveSession");
  g_assert_cmpstr (ew_uds_nrc_to_string (0x7F), ==, "serviceNotSupportedInActiveSession");
  g_assert_cmpstr (ew_uds_nrc_to_string (EW_UDS_NRC_VOLTAGE_TOO_LOW), ==, "voltageTooLow");
  g_assert_cmpstr (ew_uds_nrc_to_string (0xF3), ==, "vehicleManufacturerSpecificConditionsNotCorrect");
  g_assert_true (ew_uds_nrc_is_defined (0xF3));
  g_assert_cmpstr (ew_uds_service_name (0x2E), ==, "WriteDataByIdentifier");
  g_assert_cmpstr (ew_uds_service_name (0x85), ==, "ControlDTCSetting");
  g_assert_cmpstr (ew_uds_service_name (0xA5), ==, "service 0xA5");
}

/* ---- services ---- */

static void
test_session_and_reset (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  guint8 power_down = 0;

  g_assert_cmpuint (ew_uds_client_get_p2_ms (f->client), ==, 50);
  g_assert_cmpuint (ew_uds_client_get_p2_star_ms (f->client), ==, 5000);

  f->report_p2_ms = 25;
  f->report_p2_star_10ms = 200;
  g_assert_true (ew_uds_client_diagnostic_session_control (f->client, 0x03, FALSE, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_requests (f, "1003"), ==, 1);
  g_assert_cmpuint (f->session, ==, 3);
  g_assert_cmpuint (ew_uds_client_get_session (f->client), ==, 3);
  g_assert_cmpuint (ew_uds_client_get_p2_ms (f->client), ==, 25);
  g_assert_cmpuint (ew_uds_client_get_p2_star_ms (f->client), ==, 2000);

  g_assert_true (ew_uds_client_ecu_reset (f->client, 0x04, FALSE, &power_down, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (power_down, ==, 0x0A);
  g_assert_cmpuint (count_requests (f, "1104"), ==, 1);
  g_assert_cmpuint (ew_uds_client_get_session (f->client), ==, 1);
  g_assert_cmpuint (ew_uds_client_get_p2_ms (f->client), ==, 50);

  g_assert_true (ew_uds_client_ecu_reset (f->client, 0x01, FALSE, &power_down, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (power_down, ==, 0xFF);

  /* a refused session: the NRC travels in the code */
  script (f, "7F107E");
  g_assert_false (ew_uds_client_diagnostic_session_control (f->client, 0x02, FALSE, NULL, &error));
  g_assert_error (error, EW_UDS_NRC_ERROR, EW_UDS_NRC_SUB_FUNCTION_NOT_SUPPORTED_IN_ACTIVE_SESSION);
  assert_message_has (error, "KOMBI: DiagnosticSessionControl session 0x02 refused: "
                             "subFunctionNotSupportedInActiveSession (0x7E)");
  g_assert_cmpuint (ew_uds_client_get_session (f->client), ==, 1);
}

static void
test_dtc (Fixture       *f,
          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) records = NULL;
  guint8 availability = 0, format = 0;
  guint16 count = 0;
  EwUdsDtcRecord *r;

  g_assert_true (ew_uds_client_read_dtc_count (f->client, 0x08, &availability, &format,
                                               &count, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_requests (f, "190108"), ==, 1);
  g_assert_cmpuint (availability, ==, 0x7F);
  g_assert_cmpuint (format, ==, 0x01);
  g_assert_cmpuint (count, ==, 2);

  records = ew_uds_client_read_dtcs_by_status_mask (f->client, 0x08, &availability, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (records->len, ==, 2);
  r = &g_array_index (records, EwUdsDtcRecord, 0);
  g_assert_cmphex (r->dtc, ==, 0x012345);
  g_assert_cmphex (r->status, ==, 0x2F);
  r = &g_array_index (records, EwUdsDtcRecord, 1);
  g_assert_cmphex (r->dtc, ==, 0xC45678);
  g_assert_cmphex (r->status, ==, 0x08);
  g_clear_pointer (&records, g_array_unref);

  records = ew_uds_client_read_supported_dtcs (f->client, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (count_requests (f, "190A"), ==, 1);
  g_assert_cmpuint (records->len, ==, 3);
  g_assert_cmphex (g_array_index (records, EwUdsDtcRecord, 2).dtc, ==, 0xABCDEF);
  g_clear_pointer (&records, g_array_unref);

  /* a record cut short */
  script (f, "590A7F0123452FC456");
  records = ew_uds_client_read_supported_dtcs (f->client, NULL, NULL, &error);
  g_assert_null (records);
  g_assert_error (error, EW_UDS_ERROR, EW_UDS_ERROR_INVALID_RESPONSE);
  assert_message_has (error, "byte 9");
  g_clear_error (&error);

  g_assert_true (ew_uds_client_clear_diagnostic_information (f->client, 0xFFFFFF, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_requests (f, "14FFFFFF"), ==, 1);

  script (f, "7F1422");
  g_assert_false (ew_uds_client_clear_diagnostic_information (f->client, 0xFFFFFF, NULL, &error));
  g_assert_error (error, EW_UDS_NRC_ERROR, EW_UDS_NRC_CONDITIONS_NOT_CORRECT);
}

static void
test_read_dids (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) records = NULL;
  g_autoptr(GBytes) vin = NULL;
  const EwUdsDidSpec three[] = { { 0xF190, 17 }, { 0x0100, 2 }, { 0x0200, 4 } };
  const EwUdsDidSpec open_end[] = { { 0x0100, 2 }, { 0xF190, 0 } };
  const EwUdsDidSpec bad[] = { { 0xF190, 0 }, { 0x0100, 2 } };
  const EwUdsDidSpec unknown[] = { { 0x0100, 2 }, { 0x1234, 2 } };

  records = ew_uds_client_read_dids (f->client, three, 3, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (count_requests (f, "22F19001000200"), ==, 1);
  g_assert_cmpuint (records->len, ==, 3);
  g_assert_cmpmem (g_bytes_get_data (records->pdata[0], NULL), g_bytes_get_size (records->pdata[0]),
                   test_vin, 17);
  assert_bytes (records->pdata[1], "AABB");
  assert_bytes (records->pdata[2], "01020304");
  g_clear_pointer (&records, g_ptr_array_unref);

  records = ew_uds_client_read_dids (f->client, open_end, 2, NULL, &error);
  g_assert_no_error (error);
  assert_bytes (records->pdata[0], "AABB");
  g_assert_cmpuint (g_bytes_get_size (records->pdata[1]), ==, 17);
  g_clear_pointer (&records, g_ptr_array_unref);

  vin = ew_uds_client_read_did (f->client, 0xF190, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (vin, NULL), g_bytes_get_size (vin), test_vin, 17);

  /* an open length before the end cannot be split: refused before sending */
  records = ew_uds_client_read_dids (f->client, bad, 2, NULL, &error);
  g_assert_null (records);
  g_assert_error (error, EW_UDS_ERROR, EW_UDS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_cmpuint (count_requests (f, "22F1900100"), ==, 0);

  /* a length the vehicle data got wrong shows up as extra bytes */
  records = ew_uds_client_read_dids (f->client, three, 2, NULL, &error);
  g_assert_no_error (error);
  g_clear_pointer (&records, g_ptr_array_unref);
  {
    const EwUdsDidSpec too_short[] = { { 0x0100, 1 } };

    records = ew_uds_client_read_dids (f->client, too_short, 1, NULL, &error);
    g_assert_null (records);
    g_assert_error (error, EW_UDS_ERROR, EW_UDS_ERROR_INVALID_RESPONSE);
    assert_message_has (error, "byte 4");
    g_clear_error (&error);
  }

  records = ew_uds_client_read_dids (f->client, unknown, 2, NULL, &error);
  g_assert_null (records);
  g_assert_error (error, EW_UDS_NRC_ERROR, EW_UDS_NRC_REQUEST_OUT_OF_RANGE);
  assert_message_has (error, "KOMBI: ReadDataByIdentifier 0x0100+0x1234 refused: "
                             "requestOutOfRange (0x31) — ");
}

static void
test_read_memory (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) memory = NULL;

  memory = ew_uds_client_read_memory (f->client, 0x00012340, 4, 8, 2, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (count_requests (f, "2324000123400008"), ==, 1);
  assert_bytes (memory, "4041424344454647");
  g_clear_pointer (&memory, g_bytes_unref);

  memory = ew_uds_client_read_memory (f->client, 0x1234, 2, 3, 1, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (count_requests (f, "2312123403"), ==, 1);
  assert_bytes (memory, "343536");
  g_clear_pointer (&memory, g_bytes_unref);

  /* an address that does not fit its format is refused before sending */
  memory = ew_uds_client_read_memory (f->client, 0x12345, 2, 3, 1, NULL, &error);
  g_assert_null (memory);
  g_assert_error (error, EW_UDS_ERROR, EW_UDS_ERROR_INVALID_ARGUMENT);
}

static void
test_write_did (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EwSeedKeyProvider) toy = ew_seedkey_provider_new_toy ();
  const EwSecurityLevel level = { .level = 0x01, .max_attempts = 3, .lockout_ms = 1000 };
  const guint8 value[] = { 0xDE, 0xAD, 0xBE, 0xEF };

  g_assert_false (ew_uds_client_write_did (f->client, 0x0200, value, 4, NULL, &error));
  g_assert_error (error, EW_UDS_NRC_ERROR, EW_UDS_NRC_SECURITY_ACCESS_DENIED);
  g_assert_true (g_str_has_prefix (error->message, "KOMBI: WriteDataByIdentifier 0x0200 refused: "
                                                   "securityAccessDenied (0x33) — "));
  g_clear_error (&error);
  g_assert_cmpmem (f->did_0200, 4, "\x01\x02\x03\x04", 4);

  g_assert_true (ew_uds_client_security_access (f->client, &level, toy, NULL, NULL, TRUE, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (ew_uds_client_write_did (f->client, 0x0200, value, 4, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_requests (f, "2E0200DEADBEEF"), ==, 2);
  g_mutex_lock (&f->lock);
  g_assert_cmpmem (f->did_0200, 4, value, 4);
  g_mutex_unlock (&f->lock);

  /* the echo must name the DID written */
  script (f, "6E0201");
  g_assert_false (ew_uds_client_write_did (f->client, 0x0200, value, 4, NULL, &error));
  g_assert_error (error, EW_UDS_ERROR, EW_UDS_ERROR_INVALID_RESPONSE);
  assert_message_has (error, "byte 2");
}

static void
test_routine_and_download (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) status = NULL;
  g_autoptr(GBytes) exit_record = NULL;
  const guint8 block[] = { 1, 2, 3, 4, 5 };
  const guint8 option[] = { 0x44, 0x00, 0x01, 0x00, 0x00 };
  guint32 max_block;

  status = ew_uds_client_routine_control (f->client, EW_UDS_ROUTINE_START, 0xFF00, option,
                                          sizeof option, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (count_requests (f, "3101FF004400010000"), ==, 1);
  assert_bytes (status, "01");
  g_clear_pointer (&status, g_bytes_unref);
  status = ew_uds_client_routine_control (f->client, EW_UDS_ROUTINE_REQUEST_RESULTS, 0xFF00,
                                          NULL, 0, NULL, &error);
  g_assert_no_error (error);
  assert_bytes (status, "00");
  g_clear_pointer (&status, g_bytes_unref);
  status = ew_uds_client_routine_control (f->client, EW_UDS_ROUTINE_STOP, 0xFF00, NULL, 0,
                                          NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (status), ==, 0);
  g_clear_pointer (&status, g_bytes_unref);
  status = ew_uds_client_routine_control (f->client, EW_UDS_ROUTINE_START, 0x0202, NULL, 0,
                                          NULL, &error);
  g_assert_null (status);
  g_assert_error (error, EW_UDS_NRC_ERROR, EW_UDS_NRC_REQUEST_OUT_OF_RANGE);
  assert_message_has (error, "RoutineControl 0x0202");
  g_clear_error (&error);

  max_block = ew_uds_client_request_download (f->client, 0x00, 0x00080000, 4, 0x200, 4, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (max_block, ==, 258);
  g_assert_cmpuint (count_requests (f, "34004400080000" "00000200"), ==, 1);
  g_assert_true (ew_uds_client_transfer_data (f->client, 1, block, sizeof block, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (ew_uds_client_transfer_data (f->client, 2, block, sizeof block, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_requests (f, "36020102030405"), ==, 1);
  /* a repeated counter is refused by the module */
  g_assert_false (ew_uds_client_transfer_data (f->client, 2, block, sizeof block, NULL, &error));
  g_assert_error (error, EW_UDS_NRC_ERROR, EW_UDS_NRC_WRONG_BLOCK_SEQUENCE_COUNTER);
  assert_message_has (error, "TransferData block 0x02 refused: wrongBlockSequenceCounter (0x73)");
  g_clear_error (&error);
  /* and a wrong echo from the module is caught */
  script (f, "7605");
  g_assert_false (ew_uds_client_transfer_data (f->client, 3, block, sizeof block, NULL, &error));
  g_assert_error (error, EW_UDS_ERROR, EW_UDS_ERROR_INVALID_RESPONSE);
  assert_message_has (error, "byte 1");
  g_clear_error (&error);
  exit_record = ew_uds_client_request_transfer_exit (f->client, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (exit_record), ==, 0);
  g_assert_cmpuint (count_requests (f, "37"), ==, 1);

  /* a lengthFormatIdentifier announcing no length */
  script (f, "7400");
  max_block = ew_uds_client_request_download (f->client, 0x00, 0x1000, 2, 0x10, 1, NULL, &error);
  g_assert_cmpuint (max_block, ==, 0);
  g_assert_error (error, EW_UDS_ERROR, EW_UDS_ERROR_INVALID_RESPONSE);
  assert_message_has (error, "byte 1");
  g_clear_error (&error);
  script (f, "7F3470");
  max_block = ew_uds_client_request_download (f->client, 0x00, 0x1000, 2, 0x10, 1, NULL, &error);
  g_assert_error (error, EW_UDS_NRC_ERROR, EW_UDS_NRC_UPLOAD_DOWNLOAD_NOT_ACCEPTED);
}

static void
test_control_services (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (ew_uds_client_communication_control (f->client, 0x03, 0x01, FALSE, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_requests (f, "280301"), ==, 1);
  g_assert_true (ew_uds_client_control_dtc_setting (f->client, 0x02, FALSE, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_requests (f, "8502"), ==, 1);
  g_assert_true (ew_uds_client_tester_present (f->client, FALSE, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_requests (f, "3E00"), ==, 1);

  /* suppressed variants put bit 7 on the wire */
  g_assert_true (ew_uds_client_communication_control (f->client, 0x00, 0x01, TRUE, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (ew_uds_client_control_dtc_setting (f->client, 0x01, TRUE, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (wait_requests (f, "288001", 1, 2000));
  g_assert_true (wait_requests (f, "8581", 1, 2000));

  script (f, "7F8522");
  g_assert_false (ew_uds_client_control_dtc_setting (f->client, 0x01, FALSE, NULL, &error));
  g_assert_error (error, EW_UDS_NRC_ERROR, EW_UDS_NRC_CONDITIONS_NOT_CORRECT);
  g_clear_error (&error);
  script (f, "7F3E12");
  g_assert_false (ew_uds_client_tester_present (f->client, FALSE, NULL, &error));
  g_assert_error (error, EW_UDS_NRC_ERROR, EW_UDS_NRC_SUB_FUNCTION_NOT_SUPPORTED);
}

/* Every service passes a negative response on with the NRC as its code
 * and module, service and NRC name in its message. */
static void
test_negative_each (Fixture       *f,
                    gconstpointer  data)
{
  static const struct {
    guint8      sid;
    guint8      nrc;
    const char *message;
  } cases[] = {
    { 0x10, 0x12, "KOMBI: DiagnosticSessionControl session 0x03 refused: subFunctionNotSupported (0x12) — " },
    { 0x11, 0x22, "KOMBI: ECUReset refused: conditionsNotCorrect (0x22) — " },
    { 0x14, 0x31, "KOMBI: ClearDiagnosticInformation group 0xFFFFFF refused: requestOutOfRange (0x31) — " },
    { 0x19, 0x12, "KOMBI: ReadDTCInformation reportDTCByStatusMask refused: subFunctionNotSupported (0x12) — " },
    { 0x22, 0x14, "KOMBI: ReadDataByIdentifier 0xF190 refused: responseTooLong (0x14) — " },
    { 0x23, 0x33, "KOMBI: ReadMemoryByAddress 0x1000+16 refused: securityAccessDenied (0x33) — " },
    { 0x27, 0x37, "KOMBI: SecurityAccess requestSeed 0x01 refused: requiredTimeDelayNotExpired (0x37) — " },
    { 0x28, 0x7F, "KOMBI: CommunicationControl refused: serviceNotSupportedInActiveSession (0x7F) — " },
    { 0x2E, 0x72, "KOMBI: WriteDataByIdentifier 0x0200 refused: generalProgrammingFailure (0x72) — " },
    { 0x31, 0x24, "KOMBI: RoutineControl 0xFF00 refused: requestSequenceError (0x24) — " },
    { 0x34, 0x70, "KOMBI: RequestDownload 0x1000+16 refused: uploadDownloadNotAccepted (0x70) — " },
    { 0x36, 0x71, "KOMBI: TransferData block 0x01 refused: transferDataSuspended (0x71) — " },
    { 0x37, 0x24, "KOMBI: RequestTransferExit refused: requestSequenceError (0x24) — " },
    { 0x3E, 0x13, "KOMBI: TesterPresent refused: incorrectMessageLengthOrInvalidFormat (0x13) — " },
    { 0x85, 0x93, "KOMBI: ControlDTCSetting refused: voltageTooLow (0x93) — " },
  };
  const guint8 value[] = { 1, 2, 3, 4 };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *answer = g_strdup_printf ("7F%02X%02X", cases[i].sid, cases[i].nrc);
      gboolean ok = TRUE;

      script (f, answer);
      switch (cases[i].sid)
        {
        case 0x10:
          ok = ew_uds_client_diagnostic_session_control (f->client, 0x03, FALSE, NULL, &error);
          break;
        case 0x11:
          ok = ew_uds_client_ecu_reset (f->client, 0x01, FALSE, NULL, NULL, &error);
          break;
        case 0x14:
          ok = ew_uds_client_clear_diagnostic_information (f->client, 0xFFFFFF, NULL, &error);
          break;
        case 0x19:
          {
            g_autoptr(GArray) r = ew_uds_client_read_dtcs_by_status_mask (f->client, 0xFF, NULL, NULL, &error);
            ok = r != NULL;
          }
          break;
        case 0x22:
          {
            g_autoptr(GBytes) r = ew_uds_client_read_did (f->client, 0xF190, NULL, &error);
            ok = r != NULL;
          }
          break;
        case 0x23:
          {
            g_autoptr(GBytes) r = ew_uds_client_read_memory (f->client, 0x1000, 2, 16, 1, NULL, &error);
            ok = r != NULL;
          }
          break;
        case 0x27:
          {
            g_autoptr(GBytes) r = ew_uds_client_request_seed (f->client, 0x01, NULL, &error);
            ok = r != NULL;
          }
          break;
        case 0x28:
          ok = ew_uds_client_communication_control (f->client, 0x03, 0x01, FALSE, NULL, &error);
          break;
        case 0x2E:
          ok = ew_uds_client_write_did (f->client, 0x0200, value, 4, NULL, &error);
          break;
        case 0x31:
          {
            g_autoptr(GBytes) r = ew_uds_client_routine_control (f->client, EW_UDS_ROUTINE_START,
                                                                 0xFF00, NULL, 0, NULL, &error);
            ok = r != NULL;
          }
          break;
        case 0x34:
          ok = ew_uds_client_request_download (f->client, 0, 0x1000, 2, 16, 1, NULL, &error) != 0;
          break;
        case 0x36:
          ok = ew_uds_client_transfer_data (f->client, 1, value, 4, NULL, &error);
          break;
        case 0x37:
          {
            g_autoptr(GBytes) r = ew_uds_client_request_transfer_exit (f->client, NULL, &error);
            ok = r != NULL;
          }
          break;
        case 0x3E:
          ok = ew_uds_client_tester_present (f->client, FALSE, NULL, &error);
          break;
        case 0x85:
          ok = ew_uds_client_control_dtc_setting (f->client, 0x01, FALSE, NULL, &error);
          break;
        default:
          g_assert_not_reached ();
        }
      g_assert_false (ok);
      g_assert_error (error, EW_UDS_NRC_ERROR, cases[i].nrc);
      g_assert_true (g_str_has_prefix (error->message, cases[i].message));
      g_assert_true (g_str_has_suffix (error->message, ew_uds_nrc_explain (cases[i].nrc)));
    }
  g_assert_cmpuint (count_requests (f, "2E020001020304"), ==, 1);
}

/* ---- suppressPosRspMsgIndicationBit ---- */

static void
test_suppress (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) vin = NULL;
  gint64 start;

  /* the module takes long to refuse; the client does not wait for it */
  script (f, "@300 7F1122");
  start = g_get_monotonic_time ();
  g_assert_true (ew_uds_client_ecu_reset (f->client, 0x01, TRUE, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (elapsed_ms (start), <, 100);
  g_assert_true (wait_requests (f, "1181", 1, 2000));
  /* the negative response is still reported */
  g_assert_false (ew_uds_client_check_suppressed (f->client, 2000, NULL, &error));
  g_assert_error (error, EW_UDS_NRC_ERROR, EW_UDS_NRC_CONDITIONS_NOT_CORRECT);
  assert_message_has (error, "KOMBI: ECUReset");
  g_clear_error (&error);

  /* a suppressed request the module accepts: nothing comes back */
  start = g_get_monotonic_time ();
  g_assert_true (ew_uds_client_tester_present (f->client, TRUE, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (elapsed_ms (start), <, 100);
  g_assert_true (wait_requests (f, "3E80", 1, 2000));
  g_assert_true (ew_uds_client_check_suppressed (f->client, 100, NULL, &error));
  g_assert_no_error (error);

  /* a late NRC left in the channel does not confuse the next request,
   * and is kept for check_suppressed() */
  script (f, "@50 7F8531");
  g_assert_true (ew_uds_client_control_dtc_setting (f->client, 0x02, TRUE, NULL, &error));
  g_assert_true (wait_requests (f, "8582", 1, 2000));
  g_usleep (150 * 1000);
  vin = ew_uds_client_read_did (f->client, 0xF190, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (vin), ==, 17);
  g_assert_false (ew_uds_client_check_suppressed (f->client, 0, NULL, &error));
  g_assert_error (error, EW_UDS_NRC_ERROR, EW_UDS_NRC_REQUEST_OUT_OF_RANGE);
  g_clear_error (&error);
  g_clear_pointer (&vin, g_bytes_unref);

  /* a module that answers 0x78 to a suppressed request sends its final
   * positive response too (7.5); it does not pass for the next answer */
  g_assert_true (ew_uds_client_ecu_reset (f->client, 0x01, TRUE, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (wait_requests (f, "1181", 2, 2000));
  script (f, "7F1178 5101 7F3E78 7E00 620100AABB");
  vin = ew_uds_client_read_did (f->client, 0x0100, NULL, &error);
  g_assert_no_error (error);
  assert_bytes (vin, "AABB");
  g_clear_pointer (&vin, g_bytes_unref);

  /* the same NRC arriving while the next request waits, and one to a
   * keep-alive TesterPresent: neither is taken for the answer */
  g_assert_true (ew_uds_client_control_dtc_setting (f->client, 0x02, TRUE, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (wait_requests (f, "8582", 2, 2000));
  script (f, "7F8522 7F3E12 620100AABB");
  vin = ew_uds_client_read_did (f->client, 0x0100, NULL, &error);
  g_assert_no_error (error);
  assert_bytes (vin, "AABB");
  g_assert_false (ew_uds_client_check_suppressed (f->client, 0, NULL, &error));
  g_assert_error (error, EW_UDS_NRC_ERROR, EW_UDS_NRC_CONDITIONS_NOT_CORRECT);
}

/* ---- timing ---- */

static void
test_pending_storm (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) value = NULL;
  gint64 start;

  /* P2 50 ms, P2* 300 ms from the session response */
  f->report_p2_star_10ms = 30;
  g_assert_true (ew_uds_client_diagnostic_session_control (f->client, 0x03, FALSE, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (ew_uds_client_get_p2_star_ms (f->client), ==, 300);

  /* six 0x78 spaced 100 ms: 600 ms in all, beyond P2 and P2*, but each
   * within P2* of the one before */
  script (f, "7F2278 @100 7F2278 @100 7F2278 @100 7F2278 @100 7F2278 @100 7F2278 @100 620100AABB");
  start = g_get_monotonic_time ();
  value = ew_uds_client_read_did (f->client, 0x0100, NULL, &error);
  g_assert_no_error (error);
  assert_bytes (value, "AABB");
  g_assert_cmpint (elapsed_ms (start), >=, 550);
}

/* busyRepeatRequest (0x21) asks for the same request again: it is sent
 * again, up to EW_UDS_BUSY_REPEATS times, and then the refusal stands. */
static void
test_busy_repeat (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) value = NULL;
  g_autoptr(GBytes) refused = NULL;

  script (f, "7F2221");
  script (f, "7F2221");
  script (f, "620100AABB");
  value = ew_uds_client_read_did (f->client, 0x0100, NULL, &error);
  g_assert_no_error (error);
  assert_bytes (value, "AABB");
  g_assert_cmpuint (count_requests (f, "220100"), ==, 3);

  for (guint i = 0; i <= EW_UDS_BUSY_REPEATS; i++)
    script (f, "7F2221");
  refused = ew_uds_client_read_did (f->client, 0x0100, NULL, &error);
  g_assert_null (refused);
  g_assert_error (error, EW_UDS_NRC_ERROR, EW_UDS_NRC_BUSY_REPEAT_REQUEST);
  g_assert_nonnull (strstr (error->message, "busyRepeatRequest"));
  g_assert_cmpuint (count_requests (f, "220100"), ==, 3 + 1 + EW_UDS_BUSY_REPEATS);
}

static void
test_pending_then_silence (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) value = NULL;
  gint64 start, took;

  ew_uds_client_set_timing_margin (f->client, 0);
  ew_uds_client_set_timing (f->client, 50, 300);
  script (f, "@20 7F2278 @100 7F2278");
  start = g_get_monotonic_time ();
  value = ew_uds_client_read_did (f->client, 0xF190, NULL, &error);
  took = elapsed_ms (start);
  g_assert_null (value);
  g_assert_error (error, EW_UDS_ERROR, EW_UDS_ERROR_TIMEOUT);
  assert_message_has (error, "KOMBI: ReadDataByIdentifier 0xF190: ");
  assert_message_has (error, "P2* = 300 ms");
  /* the second 0x78 restarted P2*: 120 + 300 */
  g_assert_cmpint (took, >=, 400);
  g_assert_cmpint (took, <, 1500);
}

static void
test_silence (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) value = NULL;
  gint64 start, took;

  ew_uds_client_set_timing_margin (f->client, 0);
  script (f, "");
  start = g_get_monotonic_time ();
  value = ew_uds_client_read_did (f->client, 0xF190, NULL, &error);
  took = elapsed_ms (start);
  g_assert_null (value);
  g_assert_error (error, EW_UDS_ERROR, EW_UDS_ERROR_TIMEOUT);
  assert_message_has (error, "KOMBI: no answer to ReadDataByIdentifier 0xF190 within P2 = 50 ms");
  g_assert_cmpint (took, >=, 45);
  g_assert_cmpint (took, <, 1000);
  g_clear_error (&error);

  /* the module recovers: the client works on */
  value = ew_uds_client_read_did (f->client, 0x0100, NULL, &error);
  g_assert_no_error (error);
  assert_bytes (value, "AABB");
}

static void
test_timing_from_session (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) value = NULL;
  gint64 start, took;

  ew_uds_client_set_timing_margin (f->client, 0);

  /* a long P2 from the module: the client waits that long */
  f->report_p2_ms = 400;
  g_assert_true (ew_uds_client_diagnostic_session_control (f->client, 0x03, FALSE, NULL, &error));
  g_assert_no_error (error);
  script (f, "@250 620100AABB");
  value = ew_uds_client_read_did (f->client, 0x0100, NULL, &error);
  g_assert_no_error (error);
  assert_bytes (value, "AABB");
  g_clear_pointer (&value, g_bytes_unref);

  /* a short P2: the client gives up sooner */
  f->report_p2_ms = 10;
  g_assert_true (ew_uds_client_diagnostic_session_control (f->client, 0x03, FALSE, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (ew_uds_client_get_p2_ms (f->client), ==, 10);
  script (f, "@250 620100AABB");
  start = g_get_monotonic_time ();
  value = ew_uds_client_read_did (f->client, 0x0100, NULL, &error);
  took = elapsed_ms (start);
  g_assert_null (value);
  g_assert_error (error, EW_UDS_ERROR, EW_UDS_ERROR_TIMEOUT);
  assert_message_has (error, "P2 = 10 ms");
  g_assert_cmpint (took, <, 200);
  g_clear_error (&error);
  /* the late answer is not taken for the next request's */
  g_usleep (300 * 1000);
  value = ew_uds_client_read_did (f->client, 0xF190, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (value), ==, 17);
}

static void
test_keep_alive (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  ew_uds_client_set_tester_present_interval (f->client, 40);

  /* none in the default session */
  g_usleep (200 * 1000);
  g_assert_cmpuint (count_requests (f, "3E80"), ==, 0);

  g_assert_true (ew_uds_client_diagnostic_session_control (f->client, 0x03, FALSE, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (wait_requests (f, "3E80", 3, 2000));
  /* requests in between still get their own answers */
  for (guint i = 0; i < 10; i++)
    {
      g_autoptr(GBytes) value = ew_uds_client_read_did (f->client, 0x0100, NULL, &error);

      g_assert_no_error (error);
      assert_bytes (value, "AABB");
      g_usleep (15 * 1000);
    }
  g_assert_true (wait_requests (f, "3E80", 6, 2000));

  /* back to default: it stops */
  g_assert_true (ew_uds_client_diagnostic_session_control (f->client, 0x01, FALSE, NULL, &error));
  g_assert_no_error (error);
  g_usleep (60 * 1000);
  {
    guint before = count_requests (f, "3E80");

    g_usleep (250 * 1000);
    g_assert_cmpuint (count_requests (f, "3E80"), ==, before);
  }

  /* after a reset too */
  g_assert_true (ew_uds_client_diagnostic_session_control (f->client, 0x02, FALSE, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (wait_requests (f, "3E80", count_requests (f, "3E80") + 1, 2000));
  g_assert_true (ew_uds_client_ecu_reset (f->client, 0x01, FALSE, NULL, NULL, &error));
  g_assert_no_error (error);
  g_usleep (60 * 1000);
  {
    guint before = count_requests (f, "3E80");

    g_usleep (250 * 1000);
    g_assert_cmpuint (count_requests (f, "3E80"), ==, before);
  }

  /* and disposing a client in a session ends its thread */
  g_assert_true (ew_uds_client_diagnostic_session_control (f->client, 0x03, FALSE, NULL, &error));
  g_assert_no_error (error);
  g_clear_object (&f->client);
  g_usleep (60 * 1000);
  {
    guint before = count_requests (f, "3E80");

    g_usleep (200 * 1000);
    g_assert_cmpuint (count_requests (f, "3E80"), ==, before);
  }
}

/* ---- hostile answers ---- */

static void
expect_invalid (Fixture    *f,
                const char *answer,
                const char *part)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) value = NULL;
  const EwUdsDidSpec spec = { 0x0100, 2 };

  script (f, answer);
  value = ew_uds_client_read_dids (f->client, &spec, 1, NULL, &error);
  g_assert_null (value);
  g_assert_error (error, EW_UDS_ERROR, EW_UDS_ERROR_INVALID_RESPONSE);
  assert_message_has (error, "KOMBI: ReadDataByIdentifier 0x0100: ");
  assert_message_has (error, part);
}

static void
test_hostile (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  expect_invalid (f, "6E0100AABB", "response id 0x6E in byte 0");
  expect_invalid (f, "50", "response id 0x50 in byte 0");
  expect_invalid (f, "62", "byte 1 (dataIdentifier echo) missing");
  expect_invalid (f, "6201", "byte 2 (dataIdentifier echo) missing");
  expect_invalid (f, "620100AA", "byte 4 (dataRecord) missing");
  expect_invalid (f, "620101AABB", "bytes 1–2 of the response name DID 0x0101");
  expect_invalid (f, "620100AABBCC", "1 unexpected byte(s) from byte 5 on");
  expect_invalid (f, "7F22", "byte 2, the response code, missing");
  expect_invalid (f, "7F", "byte 1, the service id, missing");
  expect_invalid (f, "7F2E31", "service 0x2E in byte 1");

  /* an echo of the wrong sub-function */
  script (f, "5002003201F4");
  g_assert_false (ew_uds_client_diagnostic_session_control (f->client, 0x03, FALSE, NULL, &error));
  g_assert_error (error, EW_UDS_ERROR, EW_UDS_ERROR_INVALID_RESPONSE);
  assert_message_has (error, "byte 1 of the response (sub-function echo) is 0x02, expected 0x03");
  g_clear_error (&error);
  /* a session response with half a parameter record */
  script (f, "50030032");
  g_assert_false (ew_uds_client_diagnostic_session_control (f->client, 0x03, FALSE, NULL, &error));
  g_assert_error (error, EW_UDS_ERROR, EW_UDS_ERROR_INVALID_RESPONSE);
  assert_message_has (error, "byte 4 (sessionParameterRecord) missing");
  g_clear_error (&error);
  g_assert_cmpuint (ew_uds_client_get_session (f->client), ==, 1);
}

/* ---- security access ---- */

static gint64 fake_now_us;

static gint64
fake_clock (gpointer user_data)
{
  return fake_now_us;
}

static char *
plugin_dir (void)
{
  return g_test_build_filename (G_TEST_BUILT, "plugins", NULL);
}

static void
test_security_toy (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EwSeedKeyProvider) toy = NULL;
  const EwSecurityLevel level = { .level = 0x01, .max_attempts = 3, .lockout_ms = 1000 };
  guint8 key[4];
  g_autofree char *key_hex = NULL;
  g_autofree char *send_key = NULL;

  /* the toy comes by name through the same loader */
  toy = ew_seedkey_provider_load (EW_TOY_SEEDKEY_ALGORITHM, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ew_seedkey_provider_is_simulation_only (toy));
  g_assert_null (ew_seedkey_provider_get_path (toy));

  g_assert_true (ew_uds_client_security_access (f->client, &level, toy, "", NULL, TRUE, NULL, &error));
  g_assert_no_error (error);
  ew_toy_seedkey_compute (0x01, test_seed, 4, key);
  key_hex = bytes_to_hex (key, 4);
  send_key = g_strconcat ("2702", key_hex, NULL);
  g_assert_cmpuint (count_requests (f, "2701"), ==, 1);
  g_assert_cmpuint (count_requests (f, send_key), ==, 1);
  g_assert_true (f->is_unlocked);

  /* unlocked already: a zero seed, and no key is sent */
  g_assert_true (ew_uds_client_security_access (f->client, &level, toy, "", NULL, TRUE, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_requests (f, "2701"), ==, 2);
  g_assert_cmpuint (count_prefix (f, "2702"), ==, 1);
}

static void
test_security_toy_real_car (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EwSeedKeyProvider) toy = ew_seedkey_provider_new_toy ();
  const EwSecurityLevel level = { .level = 0x01, .max_attempts = 3, .lockout_ms = 1000 };

  g_assert_false (ew_uds_client_security_access (f->client, &level, toy, "", NULL, FALSE, NULL, &error));
  g_assert_error (error, EW_UDS_ERROR, EW_UDS_ERROR_NOT_PERMITTED);
  assert_message_has (error, "sim-xor-toy");
  assert_message_has (error, "simulated cars only");
  g_assert_cmpuint (count_prefix (f, "2702"), ==, 0);
  g_assert_false (f->is_unlocked);
}

static void
test_security_plugin (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EwSeedKeyProvider) by_folder = NULL;
  g_autoptr(EwSeedKeyProvider) by_path = NULL;
  g_autoptr(GBytes) key = NULL;
  g_autofree char *dir = plugin_dir ();
  g_autofree char *path = g_build_filename (dir, "example-seedkey.so", NULL);
  const EwSecurityLevel level = { .level = 0x03, .max_attempts = 3, .lockout_ms = 1000 };
  guint8 expected[4];

  by_folder = ew_seedkey_provider_load ("example-seedkey", dir, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (ew_seedkey_provider_get_name (by_folder), ==, "example-reverse-xor");
  g_assert_cmpstr (ew_seedkey_provider_get_path (by_folder), ==, path);
  g_assert_false (ew_seedkey_provider_is_simulation_only (by_folder));

  by_path = ew_seedkey_provider_load (path, NULL, &error);
  g_assert_no_error (error);

  /* the plugin's key is the one the module expects */
  key = ew_seedkey_provider_compute_key (by_folder, 0x03, test_seed, 4, "K", "", FALSE, &error);
  g_assert_no_error (error);
  example_key (0x03, test_seed, 4, 'K', expected);
  g_assert_cmpmem (g_bytes_get_data (key, NULL), g_bytes_get_size (key), expected, 4);

  f->algorithm = ALGORITHM_EXAMPLE;
  /* a real car is fine for a plugin */
  g_assert_true (ew_uds_client_security_access (f->client, &level, by_path, "K123", "plain",
                                                FALSE, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (f->is_unlocked);

  /* a plugin that fails */
  f->is_unlocked = FALSE;
  g_assert_false (ew_uds_client_security_access (f->client, &(EwSecurityLevel) { .level = 0x05 },
                                                 by_folder, "K", "", FALSE, NULL, &error));
  g_assert_error (error, EW_UDS_ERROR, EW_UDS_ERROR_PLUGIN_FAILED);
  assert_message_has (error, path);
  assert_message_has (error, "security level not supported");
  g_clear_error (&error);
  f->is_unlocked = FALSE;
  g_assert_false (ew_uds_client_security_access (f->client, &level, by_folder, "K", "bogus",
                                                 FALSE, NULL, &error));
  g_assert_error (error, EW_UDS_ERROR, EW_UDS_ERROR_PLUGIN_FAILED);
  assert_message_has (error, "options not understood");
  g_assert_cmpuint (count_prefix (f, "2704"), ==, 1);
}

/* The folder from the environment; in a subprocess, as setenv() is not
 * safe once threads run. */
static void
test_plugin_dir_env (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(EwSeedKeyProvider) by_env = NULL;
      g_autofree char *dir = plugin_dir ();
      g_autofree char *default_dir = NULL;
      g_autofree char *env_dir = NULL;

      g_unsetenv ("ECU_WORKSHOP_PLUGIN_DIR");
      default_dir = ew_seedkey_plugin_dir (NULL);
      g_assert_true (g_str_has_suffix (default_dir, "/ecu-workshop/plugins"));
      g_assert_true (g_str_has_prefix (default_dir, g_get_user_data_dir ()));
      by_env = ew_seedkey_provider_load ("example-seedkey", NULL, &error);
      g_assert_error (error, EW_UDS_ERROR, EW_UDS_ERROR_PLUGIN_MISSING);
      assert_message_has (error, default_dir);
      g_clear_error (&error);

      g_setenv ("ECU_WORKSHOP_PLUGIN_DIR", dir, TRUE);
      env_dir = ew_seedkey_plugin_dir (NULL);
      g_assert_cmpstr (env_dir, ==, dir);
      g_clear_pointer (&env_dir, g_free);
      env_dir = ew_seedkey_plugin_dir ("/elsewhere");
      g_assert_cmpstr (env_dir, ==, "/elsewhere");
      by_env = ew_seedkey_provider_load ("example-seedkey", NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (ew_seedkey_provider_get_name (by_env), ==, "example-reverse-xor");
      return;
    }
  g_test_trap_subprocess (NULL, 10 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

static void
test_plugin_invalid (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EwSeedKeyProvider) provider = NULL;
  g_autofree char *dir = plugin_dir ();
  g_autofree char *wrong_abi = g_build_filename (dir, "wrong-abi-seedkey.so", NULL);
  g_autofree char *no_symbol = g_build_filename (dir, "no-symbol-seedkey.so", NULL);
  g_autofree char *missing = g_build_filename (dir, "nope.so", NULL);

  provider = ew_seedkey_provider_load ("wrong-abi-seedkey", dir, &error);
  g_assert_null (provider);
  g_assert_error (error, EW_UDS_ERROR, EW_UDS_ERROR_PLUGIN_INVALID);
  assert_message_has (error, wrong_abi);
  assert_message_has (error, "ABI version 99");
  g_clear_error (&error);

  provider = ew_seedkey_provider_load (no_symbol, NULL, &error);
  g_assert_null (provider);
  g_assert_error (error, EW_UDS_ERROR, EW_UDS_ERROR_PLUGIN_INVALID);
  assert_message_has (error, no_symbol);
  assert_message_has (error, "ew_seedkey_plugin");
  g_clear_error (&error);

  provider = ew_seedkey_provider_load ("nope", dir, &error);
  g_assert_null (provider);
  g_assert_error (error, EW_UDS_ERROR, EW_UDS_ERROR_PLUGIN_MISSING);
  assert_message_has (error, missing);
}

static void
test_security_lockout (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EwSeedKeyProvider) toy = ew_seedkey_provider_new_toy ();
  g_autoptr(EwSeedKeyProvider) example = NULL;
  g_autofree char *dir = plugin_dir ();
  const EwSecurityLevel level = { .level = 0x01, .max_attempts = 3, .lockout_ms = 10000 };

  example = ew_seedkey_provider_load ("example-seedkey", dir, &error);
  g_assert_no_error (error);
  fake_now_us = 1000000;
  ew_uds_client_set_clock (f->client, fake_clock, NULL);
  f->algorithm = ALGORITHM_EXAMPLE;   /* so the toy's keys are wrong */

  for (guint i = 1; i <= 3; i++)
    {
      g_assert_false (ew_uds_client_security_access (f->client, &level, toy, "K", NULL, TRUE,
                                                     NULL, &error));
      g_assert_error (error, EW_UDS_NRC_ERROR, EW_UDS_NRC_INVALID_KEY);
      assert_message_has (error, "invalidKey (0x35)");
      if (i == 3)
        assert_message_has (error, "failed attempt 3 of 3; security access is now locked out");
      g_clear_error (&error);
      g_assert_cmpuint (ew_uds_client_get_failed_attempts (f->client, 0x01), ==, i);
    }
  g_assert_cmpuint (count_prefix (f, "2702"), ==, 3);

  /* the fourth is refused without touching the module */
  fake_now_us += 9000 * 1000;
  g_assert_false (ew_uds_client_security_access (f->client, &level, example, "K", NULL, TRUE,
                                                 NULL, &error));
  g_assert_error (error, EW_UDS_ERROR, EW_UDS_ERROR_SECURITY_LOCKED_OUT);
  assert_message_has (error, "KOMBI: SecurityAccess level 0x01 is locked out after 3 failed attempts");
  assert_message_has (error, "1000 ms");
  g_clear_error (&error);
  g_assert_cmpuint (count_requests (f, "2701"), ==, 3);

  /* other levels are counted apart */
  g_assert_cmpuint (ew_uds_client_get_failed_attempts (f->client, 0x03), ==, 0);

  /* after the delay, the next attempt goes out and succeeds */
  fake_now_us += 1001 * 1000;
  g_assert_true (ew_uds_client_security_access (f->client, &level, example, "K", NULL, TRUE,
                                                NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_requests (f, "2701"), ==, 4);
  g_assert_cmpuint (ew_uds_client_get_failed_attempts (f->client, 0x01), ==, 0);
  g_assert_true (f->is_unlocked);
}

static void
test_security_module_lockout (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EwSeedKeyProvider) toy = ew_seedkey_provider_new_toy ();
  const EwSecurityLevel level = { .level = 0x01, .max_attempts = 0, .lockout_ms = 5000 };

  fake_now_us = 1000000;
  ew_uds_client_set_clock (f->client, fake_clock, NULL);

  /* the module counts lower than the vehicle data says */
  f->algorithm = ALGORITHM_EXAMPLE;
  f->server_max_attempts = 1;
  g_assert_false (ew_uds_client_security_access (f->client, &level, toy, "K", NULL, TRUE, NULL, &error));
  g_assert_error (error, EW_UDS_NRC_ERROR, EW_UDS_NRC_EXCEEDED_NUMBER_OF_ATTEMPTS);
  assert_message_has (error, "wait 5000 ms before the next attempt");
  assert_message_has (error, "exceededNumberOfAttempts (0x36)");
  g_clear_error (&error);
  g_assert_false (ew_uds_client_security_access (f->client, &level, toy, "K", NULL, TRUE, NULL, &error));
  g_assert_error (error, EW_UDS_ERROR, EW_UDS_ERROR_SECURITY_LOCKED_OUT);
  g_clear_error (&error);
  g_assert_cmpuint (count_requests (f, "2701"), ==, 1);

  /* after the delay the module still wants time: 0x37 on requestSeed */
  fake_now_us += 5001 * 1000;
  script (f, "7F2737");
  g_assert_false (ew_uds_client_security_access (f->client, &level, toy, "K", NULL, TRUE, NULL, &error));
  g_assert_error (error, EW_UDS_NRC_ERROR, EW_UDS_NRC_REQUIRED_TIME_DELAY_NOT_EXPIRED);
  assert_message_has (error, "requiredTimeDelayNotExpired (0x37)");
  assert_message_has (error, "KOMBI: SecurityAccess requestSeed 0x01");
  g_clear_error (&error);
  g_assert_false (ew_uds_client_security_access (f->client, &level, toy, "K", NULL, TRUE, NULL, &error));
  g_assert_error (error, EW_UDS_ERROR, EW_UDS_ERROR_SECURITY_LOCKED_OUT);
  g_clear_error (&error);

  fake_now_us += 5001 * 1000;
  f->algorithm = ALGORITHM_TOY;
  g_assert_true (ew_uds_client_security_access (f->client, &level, toy, "K", NULL, TRUE, NULL, &error));
  g_assert_no_error (error);
}

/* ---- functional addressing ---- */

static void
test_functional (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EwUdsClient) all = NULL;
  g_autoptr(GPtrArray) answers = NULL;
  g_autoptr(GBytes) nothing = NULL;
  EwChannel *physical[] = { EW_CHANNEL (f->tester) };
  static const guint8 read_vin[] = { 0x22, 0xF1, 0x90 };
  EwUdsFunctionalResponse *answer;
  gint64 start;

  all = ew_uds_client_new_functional (EW_CHANNEL (f->tester_functional), "all modules",
                                      physical, 1);
  g_assert_true (ew_uds_client_is_functional (all));

  answers = ew_uds_client_request_functional (all, read_vin, sizeof read_vin, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (count_requests (f, "F:22F190"), ==, 1);
  g_assert_cmpuint (answers->len, ==, 1);
  answer = answers->pdata[0];
  g_assert_cmpuint (answer->channel_index, ==, 0);
  g_assert_cmpuint (g_bytes_get_size (answer->response), ==, 20);
  g_clear_pointer (&answers, g_ptr_array_unref);

  /* silence is no error: the module is just absent */
  script (f, "");
  answers = ew_uds_client_request_functional (all, read_vin, sizeof read_vin, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (answers->len, ==, 0);

  /* suppressed: sent, not awaited */
  start = g_get_monotonic_time ();
  g_assert_true (ew_uds_client_tester_present (all, TRUE, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (elapsed_ms (start), <, 100);
  g_assert_true (wait_requests (f, "F:3E80", 1, 2000));

  /* answers are only collected through request_functional */
  nothing = ew_uds_client_request (all, read_vin, sizeof read_vin, FALSE, NULL, &error);
  g_assert_null (nothing);
  g_assert_error (error, EW_UDS_ERROR, EW_UDS_ERROR_INVALID_ARGUMENT);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)

  g_test_add_func ("/uds/nrc/names", test_nrc_names);
  ADD ("/uds/service/session-and-reset", test_session_and_reset);
  ADD ("/uds/service/dtc", test_dtc);
  ADD ("/uds/service/read-dids", test_read_dids);
  ADD ("/uds/service/read-memory", test_read_memory);
  ADD ("/uds/service/write-did", test_write_did);
  ADD ("/uds/service/routine-and-download", test_routine_and_download);
  ADD ("/uds/service/control", test_control_services);
  ADD ("/uds/service/negative-each", test_negative_each);
  ADD ("/uds/suppress", test_suppress);
  ADD ("/uds/timing/pending-storm", test_pending_storm);
  ADD ("/uds/timing/pending-then-silence", test_pending_then_silence);
  ADD ("/uds/timing/busy-repeat", test_busy_repeat);
  ADD ("/uds/timing/silence", test_silence);
  ADD ("/uds/timing/from-session", test_timing_from_session);
  ADD ("/uds/timing/keep-alive", test_keep_alive);
  ADD ("/uds/hostile", test_hostile);
  ADD ("/uds/security/toy", test_security_toy);
  ADD ("/uds/security/toy-refused-on-real-car", test_security_toy_real_car);
  ADD ("/uds/security/plugin", test_security_plugin);
  g_test_add_func ("/uds/security/plugin-invalid", test_plugin_invalid);
  g_test_add_func ("/uds/security/plugin-dir-env", test_plugin_dir_env);
  ADD ("/uds/security/lockout", test_security_lockout);
  ADD ("/uds/security/module-lockout", test_security_module_lockout);
  ADD ("/uds/functional", test_functional);

  return g_test_run ();
}
