/* test-doip.c — ISO 13400-2 between EwDoipClient and EwDoipServer on
 * 127.0.0.1 (ports the kernel picks), against raw sockets that write bytes
 * by hand, and the message codec against truncated and hostile input. One
 * session is captured and decoded by tshark, where installed, as an
 * independent judge.
 */
#include <string.h>

#include <glib/gstdio.h>

#include "doip/doip-client.h"
#include "doip/doip-message.h"
#include "doip/doip-server.h"
#include "test-util.h"

#define VIN        "WVWZZZAUZGW000001"
#define ENTITY     0x1000
#define ECU_ECHO   0x1010   /* answers at once */
#define ECU_SLOW   0x1011   /* 0x7F SID 0x78, then the final answer */
#define ECU_MUTE   0x1012   /* never answers */
#define TESTER     0x0E80

static const guint8 eid[6] = { 0x00, 0x1A, 0x2B, 0x3C, 0x4D, 0x5E };
static const guint8 gid[6] = { 0x00, 0x00, 0x00, 0x00, 0x00, 0x07 };

/* ---- the simulated ECUs behind the entity ---- */

static GBytes *
ecu_answer (GBytes *request)
{
  gsize n;
  const guint8 *p = g_bytes_get_data (request, &n);
  g_autoptr(GByteArray) a = g_byte_array_new ();
  guint8 sid = p[0] + 0x40;

  if (p[0] == 0x22 && n == 3 && p[1] == 0xF1 && p[2] == 0x90)
    {
      g_byte_array_append (a, (const guint8 *) "\x62\xF1\x90", 3);
      g_byte_array_append (a, (const guint8 *) VIN, 17);
    }
  else if (p[0] == 0x22)
    {
      guint8 nrc[3] = { 0x7F, 0x22, 0x31 };   /* requestOutOfRange */
      g_byte_array_append (a, nrc, 3);
    }
  else
    {
      g_byte_array_append (a, &sid, 1);
      g_byte_array_append (a, p + 1, n - 1);
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&a));
}

typedef struct {
  EwDoipResponder *responder;
  GBytes          *request;
} SlowJob;

static gpointer
slow_job_thread (gpointer data)
{
  SlowJob *job = data;
  g_autoptr(GBytes) answer = ecu_answer (job->request);
  g_autoptr(GError) error = NULL;

  g_usleep (150 * 1000);
  ew_doip_responder_send (job->responder, g_bytes_get_data (answer, NULL), g_bytes_get_size (answer), &error);
  ew_doip_responder_unref (job->responder);
  g_bytes_unref (job->request);
  g_free (job);
  return NULL;
}

static void
handler (EwDoipServer    *server,
         guint16          tester_address,
         guint16          target_address,
         GBytes          *request,
         EwDoipResponder *responder,
         gpointer         user_data)
{
  g_assert_cmpuint (ew_doip_responder_get_ecu_address (responder), ==, target_address);
  g_assert_cmpuint (ew_doip_responder_get_tester_address (responder), ==, tester_address);

  if (target_address == ECU_ECHO || target_address == ENTITY)
    {
      g_autoptr(GBytes) answer = ecu_answer (request);

      g_assert_true (ew_doip_responder_send (responder, g_bytes_get_data (answer, NULL),
                                             g_bytes_get_size (answer), NULL));
    }
  else if (target_address == ECU_SLOW)
    {
      guint8 pending[3] = { 0x7F, ((const guint8 *) g_bytes_get_data (request, NULL))[0], 0x78 };
      SlowJob *job = g_new0 (SlowJob, 1);

      g_assert_true (ew_doip_responder_send (responder, pending, 3, NULL));
      job->responder = ew_doip_responder_ref (responder);
      job->request = g_bytes_ref (request);
      g_thread_unref (g_thread_new ("slow-ecu", slow_job_thread, job));
    }
}

/* ---- fixture ---- */

typedef struct {
  EwDoipServer *server;
  guint16       port;
} Fixture;

static EwDoipServer *
server_new (guint16 port)
{
  EwDoipServer *server = ew_doip_server_new ();

  ew_doip_server_set_address (server, "127.0.0.1", port);
  ew_doip_server_set_vin (server, VIN);
  ew_doip_server_set_eid (server, eid);
  ew_doip_server_set_gid (server, gid);
  ew_doip_server_set_logical_address (server, ENTITY);
  ew_doip_server_add_target_address (server, ECU_ECHO);
  ew_doip_server_add_target_address (server, ECU_SLOW);
  ew_doip_server_add_target_address (server, ECU_MUTE);
  ew_doip_server_set_handler (server, handler, NULL, NULL);
  return server;
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->server = server_new (0);
  g_assert_true (ew_doip_server_start (f->server, &error));
  g_assert_no_error (error);
  f->port = ew_doip_server_get_port (f->server);
  g_assert_cmpuint (f->port, !=, 0);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  ew_doip_server_stop (f->server);
  g_clear_object (&f->server);
}

static EwDoipClient *
client_connect (Fixture *f,
                guint16  source,
                guint8   version)
{
  g_autoptr(GError) error = NULL;
  EwDoipClient *client = ew_doip_client_new ();

  ew_doip_client_set_source_address (client, source);
  ew_doip_client_set_protocol_version (client, version);
  g_assert_true (ew_doip_client_connect (client, "127.0.0.1", f->port, 1000, NULL, &error));
  g_assert_no_error (error);
  return client;
}

static EwDoipClient *
client_activated (Fixture *f,
                  guint16  source,
                  guint8   version)
{
  g_autoptr(GError) error = NULL;
  EwDoipClient *client = client_connect (f, source, version);

  g_assert_true (ew_doip_client_activate_routing (client, EW_DOIP_ACTIVATION_DEFAULT, NULL, NULL,
                                                  NULL, &error));
  g_assert_no_error (error);
  return client;
}

/* Waits, bounded, until the condition holds. */
#define WAIT_UNTIL(cond, timeout_ms) \
  G_STMT_START { \
    gint64 _deadline = g_get_monotonic_time () + (timeout_ms) * 1000; \
    while (!(cond) && g_get_monotonic_time () < _deadline) \
      g_usleep (5000); \
  } G_STMT_END

/* ---- raw sockets ---- */

static GSocket *
raw_connect (guint16 port)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) address = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) to = g_inet_socket_address_new (address, port);
  GSocket *socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                  G_SOCKET_PROTOCOL_TCP, &error);

  g_assert_no_error (error);
  g_socket_set_timeout (socket, 2);   /* seconds: every read is bounded */
  g_assert_true (g_socket_connect (socket, to, NULL, &error));
  g_assert_no_error (error);
  return socket;
}

static void
raw_send (GSocket      *socket,
          const guint8 *data,
          gsize         length)
{
  g_autoptr(GError) error = NULL;

  while (length > 0)
    {
      gssize n = g_socket_send (socket, (const char *) data, length, NULL, &error);

      g_assert_no_error (error);
      data += n;
      length -= n;
    }
}

static void
raw_send_bytes (GSocket *socket,
                GBytes  *bytes)
{
  raw_send (socket, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
}

/* Reads exactly length bytes; FALSE at the end of the stream. */
static gboolean
raw_read (GSocket *socket,
          guint8  *buffer,
          gsize    length)
{
  while (length > 0)
    {
      g_autoptr(GError) error = NULL;
      gssize n = g_socket_receive (socket, (char *) buffer, length, NULL, &error);

      if (n <= 0)
        {
          g_assert_true (n == 0 || !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT));
          return FALSE;
        }
      buffer += n;
      length -= n;
    }
  return TRUE;
}

/* One whole message, or NULL at the end of the stream. */
static EwDoipMessage *
raw_read_message (GSocket *socket)
{
  guint8 header[8];
  g_autofree guint8 *buffer = NULL;
  guint32 length;
  g_autoptr(GError) error = NULL;
  EwDoipMessage *message;

  if (!raw_read (socket, header, 8))
    return NULL;
  length = ((guint32) header[4] << 24) | (header[5] << 16) | (header[6] << 8) | header[7];
  g_assert_cmpuint (length, <, 1 << 20);
  buffer = g_malloc (8 + length);
  memcpy (buffer, header, 8);
  g_assert_true (raw_read (socket, buffer + 8, length));
  message = ew_doip_message_decode (buffer, 8 + length, 1 << 20, &error);
  g_assert_no_error (error);
  return message;
}

static void
assert_generic_nack (GSocket *socket,
                     guint8   version,
                     guint8   code)
{
  g_autoptr(EwDoipMessage) m = raw_read_message (socket);
  guint8 got;

  g_assert_nonnull (m);
  g_assert_cmpuint (m->payload_type, ==, EW_DOIP_GENERIC_NACK);
  g_assert_cmpuint (m->protocol_version, ==, version);
  g_assert_true (ew_doip_decode_generic_nack (m->payload, &got, NULL));
  g_assert_cmpuint (got, ==, code);
}

static void
assert_closed (GSocket *socket)
{
  guint8 byte;

  g_assert_false (raw_read (socket, &byte, 1));
}

static void
raw_activate_as (GSocket *socket,
                 guint8   version,
                 guint16  source)
{
  EwDoipRoutingActivationRequest request = { .source_address = source };
  g_autoptr(GBytes) bytes = ew_doip_encode_routing_activation_request (version, &request);
  g_autoptr(EwDoipMessage) m = NULL;
  EwDoipRoutingActivationResponse response;

  raw_send_bytes (socket, bytes);
  m = raw_read_message (socket);
  g_assert_nonnull (m);
  g_assert_cmpuint (m->payload_type, ==, EW_DOIP_ROUTING_ACTIVATION_RESPONSE);
  g_assert_cmpuint (m->protocol_version, ==, version);
  g_assert_true (ew_doip_decode_routing_activation_response (m->payload, &response, NULL));
  g_assert_cmpuint (response.response_code, ==, EW_DOIP_ROUTING_SUCCESS);
}

static void
raw_activate (GSocket *socket,
              guint8   version)
{
  raw_activate_as (socket, version, TESTER);
}

/* ---- codec ---- */

static void
test_names (void)
{
  g_assert_cmpstr (ew_doip_payload_type_name (0x8001), ==, "diagnostic message");
  g_assert_cmpstr (ew_doip_payload_type_name (0x4002), ==, "DoIP entity status response");
  g_assert_cmpstr (ew_doip_payload_type_name (0x1234), ==, "reserved");
  g_assert_cmpstr (ew_doip_header_nack_name (0x04), ==, "invalid payload length");
  g_assert_cmpstr (ew_doip_routing_code_name (0x06), ==, "denied: unsupported routing activation type");
  g_assert_cmpstr (ew_doip_routing_code_name (0x10), ==, "routing successfully activated");
  g_assert_cmpstr (ew_doip_routing_code_name (0x11), ==, "routing will be activated; confirmation required");
  g_assert_cmpstr (ew_doip_routing_code_name (0x07), ==, "reserved");
  g_assert_cmpstr (ew_doip_diagnostic_code_name (0x03), ==, "unknown target address");
  g_assert_cmpstr (ew_doip_diagnostic_code_name (0x08), ==, "transport protocol error");
  g_assert_cmpstr (ew_doip_diagnostic_code_name (0x01), ==, "reserved");
}

static void
test_encode_decode (void)
{
  static const guint8 uds[3] = { 0x22, 0xF1, 0x90 };
  static const guint8 expected_diag[] = {
    0x02, 0xFD, 0x80, 0x01, 0x00, 0x00, 0x00, 0x07, 0x0E, 0x80, 0x10, 0x10, 0x22, 0xF1, 0x90
  };
  static const guint8 expected_ra[] = {
    0x03, 0xFC, 0x00, 0x05, 0x00, 0x00, 0x00, 0x0B, 0x0E, 0x80, 0x00, 0, 0, 0, 0, 1, 2, 3, 4
  };
  EwDoipRoutingActivationRequest ra = { .source_address = 0x0E80, .has_oem_specific = TRUE,
                                        .oem_specific = { 1, 2, 3, 4 } };
  EwDoipRoutingActivationRequest ra2;
  EwDoipVehicleAnnouncement an = { .vin = VIN, .logical_address = 0x1000, .further_action = 0x10,
                                   .has_sync_status = TRUE, .sync_status = 0x10 };
  EwDoipVehicleAnnouncement an2;
  EwDoipEntityStatus st = { 0, 4, 1, TRUE, 4096 }, st2;
  g_autoptr(GBytes) diag = ew_doip_encode_diagnostic_message (2, 0x0E80, 0x1010, uds, 3);
  g_autoptr(GBytes) rab = ew_doip_encode_routing_activation_request (3, &ra);
  g_autoptr(GBytes) anb = NULL;
  g_autoptr(GBytes) stb = NULL;
  g_autoptr(EwDoipMessage) m = NULL;
  g_autoptr(GError) error = NULL;
  const guint8 *data;
  gsize length;
  guint16 sa, ta;

  g_assert_cmpmem (g_bytes_get_data (diag, NULL), g_bytes_get_size (diag), expected_diag, sizeof expected_diag);
  g_assert_cmpmem (g_bytes_get_data (rab, NULL), g_bytes_get_size (rab), expected_ra, sizeof expected_ra);

  m = ew_doip_message_decode (g_bytes_get_data (diag, NULL), g_bytes_get_size (diag), 4096, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (m->protocol_version, ==, 2);
  g_assert_true (ew_doip_decode_diagnostic_message (m->payload, &sa, &ta, &data, &length, &error));
  g_assert_cmpuint (sa, ==, 0x0E80);
  g_assert_cmpuint (ta, ==, 0x1010);
  g_assert_cmpmem (data, length, uds, 3);
  g_clear_pointer (&m, ew_doip_message_free);

  m = ew_doip_message_decode (g_bytes_get_data (rab, NULL), g_bytes_get_size (rab), 4096, &error);
  g_assert_no_error (error);
  g_assert_true (ew_doip_decode_routing_activation_request (m->payload, &ra2, &error));
  g_assert_cmpuint (ra2.source_address, ==, 0x0E80);
  g_assert_true (ra2.has_oem_specific);
  g_assert_cmpmem (ra2.oem_specific, 4, ra.oem_specific, 4);
  g_clear_pointer (&m, ew_doip_message_free);

  memcpy (an.eid, eid, 6);
  memcpy (an.gid, gid, 6);
  anb = ew_doip_encode_vehicle_announcement (2, &an);
  g_assert_cmpuint (g_bytes_get_size (anb), ==, 8 + 33);
  m = ew_doip_message_decode (g_bytes_get_data (anb, NULL), g_bytes_get_size (anb), 4096, &error);
  g_assert_no_error (error);
  g_assert_true (ew_doip_decode_vehicle_announcement (m->payload, &an2, &error));
  g_assert_cmpstr (an2.vin, ==, VIN);
  g_assert_cmpuint (an2.logical_address, ==, 0x1000);
  g_assert_cmpmem (an2.eid, 6, eid, 6);
  g_assert_cmpmem (an2.gid, 6, gid, 6);
  g_assert_cmpuint (an2.further_action, ==, 0x10);
  g_assert_true (an2.has_sync_status);
  g_assert_cmpuint (an2.sync_status, ==, 0x10);
  g_clear_pointer (&m, ew_doip_message_free);

  stb = ew_doip_encode_entity_status_response (3, &st);
  m = ew_doip_message_decode (g_bytes_get_data (stb, NULL), g_bytes_get_size (stb), 4096, &error);
  g_assert_no_error (error);
  g_assert_true (ew_doip_decode_entity_status_response (m->payload, &st2, &error));
  g_assert_cmpuint (st2.max_open_sockets, ==, 4);
  g_assert_cmpuint (st2.open_sockets, ==, 1);
  g_assert_true (st2.has_max_data_size);
  g_assert_cmpuint (st2.max_data_size, ==, 4096);
}

static void
assert_decode_error (const guint8 *data,
                     gsize         length,
                     gint          code,
                     const char   *where)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EwDoipMessage) m = ew_doip_message_decode (data, length, 4096, &error);

  g_assert_null (m);
  g_assert_error (error, EW_DOIP_ERROR, code);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, where));
}

static void
test_hostile (void)
{
  static const guint8 short_header[] = { 0x02, 0xFD, 0x80 };
  static const guint8 bad_inverse[] = { 0x02, 0xFC, 0x80, 0x01, 0, 0, 0, 5, 0, 0, 0, 0, 0 };
  static const guint8 bad_version[] = { 0x07, 0xF8, 0x80, 0x01, 0, 0, 0, 5, 0, 0, 0, 0, 0 };
  static const guint8 ff_diag[] = { 0xFF, 0x00, 0x80, 0x01, 0, 0, 0, 5, 0, 0, 0, 0, 0 };
  static const guint8 unknown[] = { 0x02, 0xFD, 0x12, 0x34, 0, 0, 0, 0 };
  static const guint8 huge[] = { 0x02, 0xFD, 0x80, 0x01, 0xFF, 0xFF, 0xFF, 0xFF };
  static const guint8 bad_length[] = { 0x02, 0xFD, 0x00, 0x05, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0 };
  static const guint8 short_diag[] = { 0x02, 0xFD, 0x80, 0x01, 0, 0, 0, 3, 0x0E, 0x80, 0x10 };
  static const guint8 truncated[] = { 0x02, 0xFD, 0x80, 0x01, 0, 0, 0, 7, 0x0E, 0x80, 0x10, 0x10 };
  static const guint8 trailing[] = { 0x02, 0xFD, 0x00, 0x07, 0, 0, 0, 0, 0xAA };
  static const guint8 bad_vin[] = {
    0x02, 0xFD, 0x00, 0x04, 0, 0, 0, 32,
    'W', 'V', 'W', 0x07, 'Z', 'Z', 'A', 'U', 'Z', 'G', 'W', '0', '0', '0', '0', '0', '1',
    0x10, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
  };
  g_autoptr(GBytes) payload = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (13400);
  EwDoipVehicleAnnouncement an;
  EwDoipMessage *m;

  assert_decode_error (short_header, sizeof short_header, EW_DOIP_ERROR_TRUNCATED, "byte 3");
  assert_decode_error (bad_inverse, sizeof bad_inverse, EW_DOIP_ERROR_INCORRECT_PATTERN, "byte 1");
  assert_decode_error (bad_version, sizeof bad_version, EW_DOIP_ERROR_INCORRECT_PATTERN, "byte 0");
  assert_decode_error (ff_diag, sizeof ff_diag, EW_DOIP_ERROR_INCORRECT_PATTERN, "byte 0");
  assert_decode_error (unknown, sizeof unknown, EW_DOIP_ERROR_UNKNOWN_PAYLOAD_TYPE, "byte 2");
  assert_decode_error (huge, sizeof huge, EW_DOIP_ERROR_MESSAGE_TOO_LARGE, "byte 4");
  assert_decode_error (bad_length, sizeof bad_length, EW_DOIP_ERROR_INVALID_PAYLOAD_LENGTH, "byte 4");
  assert_decode_error (short_diag, sizeof short_diag, EW_DOIP_ERROR_INVALID_PAYLOAD_LENGTH, "byte 4");
  assert_decode_error (truncated, sizeof truncated, EW_DOIP_ERROR_TRUNCATED, "byte 12");
  assert_decode_error (trailing, sizeof trailing, EW_DOIP_ERROR_INVALID_MESSAGE, "byte 8");

  /* a payload decoder on its own names the byte, too */
  payload = g_bytes_new (bad_vin + 8, 32);
  g_assert_false (ew_doip_decode_vehicle_announcement (payload, &an, &error));
  g_assert_error (error, EW_DOIP_ERROR, EW_DOIP_ERROR_INVALID_MESSAGE);
  g_assert_nonnull (strstr (error->message, "byte 11"));
  g_clear_error (&error);
  g_clear_pointer (&payload, g_bytes_unref);
  payload = g_bytes_new (bad_vin + 8, 20);
  g_assert_false (ew_doip_decode_vehicle_announcement (payload, &an, &error));
  g_assert_error (error, EW_DOIP_ERROR, EW_DOIP_ERROR_INVALID_PAYLOAD_LENGTH);
  g_assert_nonnull (strstr (error->message, "byte 28"));
  g_clear_error (&error);

  /* random bytes, and random mutations of a valid message, never crash
   * and never decode without being valid */
  for (guint i = 0; i < 20000; i++)
    {
      guint8 buffer[64];
      gsize length = g_rand_int_range (rand, 0, sizeof buffer);

      if (i % 2 == 0)
        for (gsize j = 0; j < length; j++)
          buffer[j] = g_rand_int_range (rand, 0, 256);
      else
        {
          length = sizeof bad_vin;
          memcpy (buffer, bad_vin, length);
          buffer[3] = 0x01 + g_rand_int_range (rand, 0, 8);
          buffer[g_rand_int_range (rand, 0, length)] = g_rand_int_range (rand, 0, 256);
          length = g_rand_int_range (rand, 0, length + 1);
        }
      m = ew_doip_message_decode (buffer, length, 4096, &error);
      if (m != NULL)
        {
          g_assert_no_error (error);
          g_assert_true (ew_doip_payload_length_is_valid (m->payload_type, g_bytes_get_size (m->payload)));
          ew_doip_message_free (m);
        }
      else
        g_assert_nonnull (error);
      g_clear_error (&error);
    }
}

static void
test_stream_parser (void)
{
  static const guint8 uds[2] = { 0x3E, 0x00 };
  static const guint8 unknown[] = { 0x02, 0xFD, 0x12, 0x34, 0, 0, 0, 3, 0xAA, 0xBB, 0xCC };
  static const guint8 bad_inverse[] = { 0x02, 0x00, 0x80, 0x01, 0, 0, 0, 5 };
  g_autoptr(EwDoipStreamParser) parser = ew_doip_stream_parser_new (64);
  g_autoptr(GByteArray) stream = g_byte_array_new ();
  g_autoptr(GBytes) a = ew_doip_encode_diagnostic_message (2, 0x0E80, 0x1010, uds, 2);
  g_autoptr(GBytes) b = ew_doip_encode_alive_check_response (3, 0x0E80);
  g_autoptr(GBytes) big = NULL;
  g_autoptr(GError) error = NULL;
  guint8 filler[100] = { 0 };
  guint messages = 0, errors = 0;
  EwDoipMessage *m;

  big = ew_doip_encode_diagnostic_message (2, 0x0E80, 0x1010, filler, sizeof filler);
  g_byte_array_append (stream, g_bytes_get_data (a, NULL), g_bytes_get_size (a));
  g_byte_array_append (stream, unknown, sizeof unknown);     /* NACK 0x01, skipped */
  g_byte_array_append (stream, g_bytes_get_data (big, NULL), g_bytes_get_size (big)); /* 0x02, skipped */
  g_byte_array_append (stream, g_bytes_get_data (b, NULL), g_bytes_get_size (b));

  /* byte by byte: every split point of every message */
  for (guint i = 0; i < stream->len; i++)
    {
      ew_doip_stream_parser_push (parser, stream->data + i, 1);
      while ((m = ew_doip_stream_parser_next (parser, &error)) != NULL || error != NULL)
        {
          if (m != NULL)
            {
              if (messages == 0)
                g_assert_cmpuint (m->payload_type, ==, EW_DOIP_DIAGNOSTIC_MESSAGE);
              else
                {
                  g_assert_cmpuint (m->payload_type, ==, EW_DOIP_ALIVE_CHECK_RESPONSE);
                  g_assert_cmpuint (m->protocol_version, ==, 3);
                }
              messages++;
              ew_doip_message_free (m);
              continue;
            }
          g_assert_true (errors == 0 ? g_error_matches (error, EW_DOIP_ERROR, EW_DOIP_ERROR_UNKNOWN_PAYLOAD_TYPE)
                                     : g_error_matches (error, EW_DOIP_ERROR, EW_DOIP_ERROR_MESSAGE_TOO_LARGE));
          errors++;
          g_clear_error (&error);
        }
    }
  g_assert_cmpuint (messages, ==, 2);
  g_assert_cmpuint (errors, ==, 2);

  /* a broken pattern ends the stream for good */
  ew_doip_stream_parser_push (parser, bad_inverse, sizeof bad_inverse);
  g_assert_null (ew_doip_stream_parser_next (parser, &error));
  g_assert_error (error, EW_DOIP_ERROR, EW_DOIP_ERROR_INCORRECT_PATTERN);
  g_clear_error (&error);
  ew_doip_stream_parser_push (parser, g_bytes_get_data (a, NULL), g_bytes_get_size (a));
  g_assert_null (ew_doip_stream_parser_next (parser, &error));
  g_assert_error (error, EW_DOIP_ERROR, EW_DOIP_ERROR_INCORRECT_PATTERN);
}

static void
test_uri (void)
{
  struct {
    const char *uri;
    const char *host;
    guint16     port;
    const char *error_part;
  } cases[] = {
    { "doip:127.0.0.1", "127.0.0.1", 13400, NULL },
    { "doip:127.0.0.1:13401", "127.0.0.1", 13401, NULL },
    { "doip:gateway.local", "gateway.local", 13400, NULL },
    { "doip://10.0.0.5:6801", "10.0.0.5", 6801, NULL },
    { "doip:[::1]", "::1", 13400, NULL },
    { "doip:[fe80::1]:13400", "fe80::1", 13400, NULL },
    { "doip:", NULL, 0, "names no host" },
    { "doip::13400", NULL, 0, "names no host" },
    { "doip:host:0", NULL, 0, "not a number from 1 to 65535" },
    { "doip:host:70000", NULL, 0, "not a number from 1 to 65535" },
    { "doip:host:abc", NULL, 0, "not a number" },
    { "doip:::1", NULL, 0, "in brackets" },
    { "doip:[::1", NULL, 0, "closing" },
    { "doip:[::1]x", NULL, 0, "unexpected" },
    { "doip:[host]", NULL, 0, "not an IPv6 address" },
    { "sim:golf7", NULL, 0, "does not start with" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *host = NULL;
      guint16 port = 0;
      gboolean ok = ew_doip_parse_uri (cases[i].uri, &host, &port, &error);

      if (cases[i].host != NULL)
        {
          g_assert_no_error (error);
          g_assert_true (ok);
          g_assert_cmpstr (host, ==, cases[i].host);
          g_assert_cmpuint (port, ==, cases[i].port);
        }
      else
        {
          g_assert_false (ok);
          g_assert_error (error, EW_DOIP_ERROR, EW_DOIP_ERROR_ADDRESS);
          g_assert_nonnull (strstr (error->message, cases[i].error_part));
          g_assert_nonnull (strstr (error->message, cases[i].uri));
        }
    }
}

/* ---- UDP ---- */

static void
test_identification (Fixture       *f,
                     gconstpointer  data)
{
  static const guint8 other_eid[6] = { 1, 2, 3, 4, 5, 6 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) found = NULL;
  EwDoipVehicleAnnouncement *an;

  found = ew_doip_identify_vehicles ("127.0.0.1", f->port, 2, NULL, NULL, 1000, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (found->len, ==, 1);
  an = found->pdata[0];
  g_assert_cmpstr (an->vin, ==, VIN);
  g_assert_cmpuint (an->logical_address, ==, ENTITY);
  g_assert_cmpmem (an->eid, 6, eid, 6);
  g_assert_cmpmem (an->gid, 6, gid, 6);
  g_assert_cmpuint (an->further_action, ==, 0);
  g_assert_cmpstr (an->entity_host, ==, "127.0.0.1");
  g_assert_cmpuint (an->entity_port, ==, f->port);
  g_clear_pointer (&found, g_ptr_array_unref);

  found = ew_doip_identify_vehicles ("127.0.0.1", f->port, 3, VIN, NULL, 1000, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (found->len, ==, 1);
  g_clear_pointer (&found, g_ptr_array_unref);

  found = ew_doip_identify_vehicles ("127.0.0.1", f->port, 2, NULL, eid, 1000, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (found->len, ==, 1);
  g_clear_pointer (&found, g_ptr_array_unref);

  /* only a matching entity answers: nothing comes for another car */
  found = ew_doip_identify_vehicles ("127.0.0.1", f->port, 2, "WVWZZZAUZGW999999", NULL, 300, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (found->len, ==, 0);
  g_clear_pointer (&found, g_ptr_array_unref);
  found = ew_doip_identify_vehicles ("127.0.0.1", f->port, 2, NULL, other_eid, 300, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (found->len, ==, 0);
  g_clear_pointer (&found, g_ptr_array_unref);

  g_assert_null (ew_doip_identify_vehicles ("127.0.0.1", f->port, 2, "SHORT", NULL, 300, NULL, &error));
  g_assert_error (error, EW_DOIP_ERROR, EW_DOIP_ERROR_INVALID_MESSAGE);
}

/* The answer's version: the request's, or the entity's for 0xFF. */
static guint8
udp_exchange_version (guint16  port,
                      GBytes  *request,
                      guint16  expected_type)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                                            G_SOCKET_PROTOCOL_UDP, &error);
  g_autoptr(GInetAddress) address = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) to = g_inet_socket_address_new (address, port);
  g_autoptr(EwDoipMessage) m = NULL;
  guint8 buffer[1500];
  gssize n;

  g_socket_set_timeout (socket, 2);
  g_assert_cmpint (g_socket_send_to (socket, to, g_bytes_get_data (request, NULL),
                                     g_bytes_get_size (request), NULL, &error), >, 0);
  n = g_socket_receive (socket, (char *) buffer, sizeof buffer, NULL, &error);
  g_assert_no_error (error);
  m = ew_doip_message_decode (buffer, n, 1500, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (m->payload_type, ==, expected_type);
  return m->protocol_version;
}

static void
test_udp_versions (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GBytes) any = ew_doip_encode_vehicle_identification_request (0xFF, NULL, NULL);
  g_autoptr(GBytes) v3 = ew_doip_encode_vehicle_identification_request (0x03, VIN, NULL);
  g_autoptr(GBytes) v2 = ew_doip_encode_vehicle_identification_request (0x02, NULL, eid);
  g_autoptr(GBytes) status = ew_doip_encode (0x03, EW_DOIP_ENTITY_STATUS_REQUEST, NULL, 0);
  g_autoptr(GBytes) power = ew_doip_encode (0x02, EW_DOIP_POWER_MODE_REQUEST, NULL, 0);
  static const guint8 bad[] = { 0x02, 0xFD, 0x00, 0x01, 0, 0, 0, 1, 0 };
  g_autoptr(GBytes) bad_length = g_bytes_new_static (bad, sizeof bad);

  g_assert_cmpuint (udp_exchange_version (f->port, any, EW_DOIP_VEHICLE_ANNOUNCEMENT), ==, 0x02);
  g_assert_cmpuint (udp_exchange_version (f->port, v3, EW_DOIP_VEHICLE_ANNOUNCEMENT), ==, 0x03);
  g_assert_cmpuint (udp_exchange_version (f->port, v2, EW_DOIP_VEHICLE_ANNOUNCEMENT), ==, 0x02);
  g_assert_cmpuint (udp_exchange_version (f->port, status, EW_DOIP_ENTITY_STATUS_RESPONSE), ==, 0x03);
  g_assert_cmpuint (udp_exchange_version (f->port, power, EW_DOIP_POWER_MODE_RESPONSE), ==, 0x02);
  g_assert_cmpuint (udp_exchange_version (f->port, bad_length, EW_DOIP_GENERIC_NACK), ==, 0x02);
}

static void
test_announcement (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) listener = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                                              G_SOCKET_PROTOCOL_UDP, &error);
  g_autoptr(GInetAddress) address = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any_port = g_inet_socket_address_new (address, 0);
  g_autoptr(GSocketAddress) local = NULL;
  g_autoptr(EwDoipServer) server = server_new (0);
  g_autoptr(EwDoipMessage) m = NULL;
  EwDoipVehicleAnnouncement an;
  guint8 buffer[1500];
  gssize n;

  g_assert_true (g_socket_bind (listener, any_port, FALSE, &error));
  g_socket_set_timeout (listener, 2);
  local = g_socket_get_local_address (listener, &error);
  ew_doip_server_set_announce_address (server, "127.0.0.1",
                                       g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local)));
  g_assert_true (ew_doip_server_start (server, &error));
  g_assert_no_error (error);

  n = g_socket_receive (listener, (char *) buffer, sizeof buffer, NULL, &error);
  g_assert_no_error (error);
  m = ew_doip_message_decode (buffer, n, 1500, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (m->payload_type, ==, EW_DOIP_VEHICLE_ANNOUNCEMENT);
  g_assert_true (ew_doip_decode_vehicle_announcement (m->payload, &an, &error));
  g_assert_cmpstr (an.vin, ==, VIN);
  g_assert_cmpuint (an.logical_address, ==, ENTITY);
  ew_doip_server_stop (server);
}

/* ---- routing activation ---- */

static void
assert_routing_refused (Fixture *f,
                        guint16  source,
                        guint8   type,
                        guint8   code)
{
  g_autoptr(EwDoipClient) client = client_connect (f, source, 2);
  g_autoptr(GError) error = NULL;
  EwDoipRoutingActivationResponse response;
  char hex[8];

  g_assert_false (ew_doip_client_activate_routing (client, type, NULL, &response, NULL, &error));
  g_assert_error (error, EW_DOIP_ERROR, EW_DOIP_ERROR_ROUTING_ACTIVATION);
  g_test_message ("%s", error->message);
  g_snprintf (hex, sizeof hex, "0x%02X", code);
  g_assert_nonnull (strstr (error->message, hex));
  g_assert_nonnull (strstr (error->message, ew_doip_routing_code_name (code)));
  g_assert_cmpuint (response.response_code, ==, code);
  /* every denial here closes the socket */
  WAIT_UNTIL (!ew_doip_client_is_connected (client), 2000);
  g_assert_false (ew_doip_client_is_connected (client));
}

static void
test_routing (Fixture       *f,
              gconstpointer  data)
{
  static const guint8 oem[4] = { 0xDE, 0xAD, 0xBE, 0xEF };
  g_autoptr(EwDoipClient) client = client_connect (f, TESTER, 2);
  g_autoptr(EwDoipClient) second = NULL;
  g_autoptr(GError) error = NULL;
  EwDoipRoutingActivationResponse response;
  g_autoptr(GSocket) raw = NULL;
  g_autoptr(EwDoipMessage) m = NULL;
  EwDoipRoutingActivationRequest request = { .source_address = 0x0E81 };
  g_autoptr(GBytes) bytes = NULL;

  /* diagnostics before activation are refused locally */
  g_assert_false (ew_doip_client_send_diagnostic (client, ECU_ECHO, (const guint8 *) "\x3E\x00", 2,
                                                  NULL, &error));
  g_assert_error (error, EW_DOIP_ERROR, EW_DOIP_ERROR_NOT_ACTIVATED);
  g_clear_error (&error);

  g_assert_true (ew_doip_client_activate_routing (client, EW_DOIP_ACTIVATION_DEFAULT, oem, &response,
                                                  NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (response.response_code, ==, EW_DOIP_ROUTING_SUCCESS);
  g_assert_cmpuint (response.tester_address, ==, TESTER);
  g_assert_cmpuint (response.entity_address, ==, ENTITY);
  g_assert_true (response.has_oem_specific);
  g_assert_cmpmem (response.oem_specific, 4, oem, 4);
  g_assert_cmpuint (ew_doip_client_get_entity_address (client), ==, ENTITY);
  /* activating again with the same address is fine */
  g_assert_true (ew_doip_client_activate_routing (client, EW_DOIP_ACTIVATION_WWH_OBD, NULL, NULL,
                                                  NULL, &error));
  g_assert_no_error (error);

  assert_routing_refused (f, 0x1234, EW_DOIP_ACTIVATION_DEFAULT, EW_DOIP_ROUTING_UNKNOWN_SOURCE_ADDRESS);
  assert_routing_refused (f, 0x0E81, 0x42, EW_DOIP_ROUTING_UNSUPPORTED_TYPE);
  assert_routing_refused (f, TESTER, EW_DOIP_ACTIVATION_DEFAULT, EW_DOIP_ROUTING_SOURCE_ADDRESS_IN_USE);

  /* another address on an activated socket */
  raw = raw_connect (f->port);
  raw_activate_as (raw, 2, 0x0E82);
  bytes = ew_doip_encode_routing_activation_request (2, &request);
  raw_send_bytes (raw, bytes);
  m = raw_read_message (raw);
  g_assert_nonnull (m);
  g_assert_true (ew_doip_decode_routing_activation_response (m->payload, &response, NULL));
  g_assert_cmpuint (response.response_code, ==, EW_DOIP_ROUTING_SOURCE_ADDRESS_MISMATCH);
  assert_closed (raw);
  g_clear_object (&raw);   /* closes the socket */

  /* the entity's sockets are all taken */
  ew_doip_server_set_max_sockets (f->server, 1);
  assert_routing_refused (f, 0x0E81, EW_DOIP_ACTIVATION_DEFAULT, EW_DOIP_ROUTING_NO_FREE_SOCKET);
  ew_doip_server_set_max_sockets (f->server, 4);
  second = client_activated (f, 0x0E81, 2);
}

/* Reads the next message, which must be of type, from a raw socket. */
static EwDoipMessage *
raw_expect (GSocket *socket,
            guint16  type)
{
  EwDoipMessage *m = raw_read_message (socket);

  g_assert_nonnull (m);
  g_assert_cmpuint (m->payload_type, ==, type);
  return m;
}

/* A raw tester asks ECU_ECHO for the VIN and gets the ACK and the answer. */
static void
raw_assert_serves (GSocket *socket,
                   guint16  tester)
{
  static const guint8 rdbi[3] = { 0x22, 0xF1, 0x90 };
  g_autoptr(GBytes) request = ew_doip_encode_diagnostic_message (2, tester, ECU_ECHO, rdbi, 3);
  g_autoptr(EwDoipMessage) ack = NULL;
  g_autoptr(EwDoipMessage) answer = NULL;
  const guint8 *data;
  gsize n;
  guint16 sa, ta;

  raw_send_bytes (socket, request);
  ack = raw_expect (socket, EW_DOIP_DIAGNOSTIC_MESSAGE_ACK);
  answer = raw_expect (socket, EW_DOIP_DIAGNOSTIC_MESSAGE);
  g_assert_true (ew_doip_decode_diagnostic_message (answer->payload, &sa, &ta, &data, &n, NULL));
  g_assert_cmpuint (ta, ==, tester);
  g_assert_cmpmem (data, 3, "\x62\xF1\x90", 3);
}

/* ISO 13400-2 socket handling: a second socket with a tester address
 * that is active elsewhere makes the entity alive-check the first. */
static void
test_alive_check_takeover (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(GSocket) silent = raw_connect (f->port);
  g_autoptr(GSocket) alive = raw_connect (f->port);
  g_autoptr(GSocket) intruder = raw_connect (f->port);
  g_autoptr(EwDoipClient) client = NULL;
  g_autoptr(EwDoipChannel) channel = NULL;
  g_autoptr(GBytes) answer = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(EwDoipMessage) check = NULL;
  g_autoptr(EwDoipMessage) m = NULL;
  EwDoipRoutingActivationRequest request = { .source_address = 0x0E81 };
  EwDoipRoutingActivationResponse response;
  g_autoptr(GBytes) bytes = NULL;
  gint64 start, elapsed_ms;

  /* a tester that went away without closing: it never answers */
  raw_activate_as (silent, 2, TESTER);
  start = g_get_monotonic_time ();
  client = client_activated (f, TESTER, 2);
  elapsed_ms = (g_get_monotonic_time () - start) / 1000;
  g_test_message ("the new socket was activated after %" G_GINT64_FORMAT " ms", elapsed_ms);
  /* only after A_DoIP_Alive_Check (500 ms) went by unanswered */
  g_assert_cmpint (elapsed_ms, >=, 400);
  g_assert_cmpint (elapsed_ms, <, 1900);
  /* the old socket got the alive check, then was closed */
  check = raw_expect (silent, EW_DOIP_ALIVE_CHECK_REQUEST);
  g_assert_cmpuint (g_bytes_get_size (check->payload), ==, 0);
  assert_closed (silent);
  /* the new one carries diagnostics */
  channel = ew_doip_channel_new (client, ECU_ECHO);
  g_assert_true (ew_channel_send (EW_CHANNEL (channel), (const guint8 *) "\x22\xF1\x90", 3, NULL, &error));
  g_assert_no_error (error);
  answer = ew_channel_receive (EW_CHANNEL (channel), 2000, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (answer), ==, 20);
  g_clear_object (&channel);
  g_clear_object (&client);

  /* a tester that answers keeps its address; the newcomer is refused */
  raw_activate_as (alive, 2, 0x0E81);
  bytes = ew_doip_encode_routing_activation_request (2, &request);
  raw_send_bytes (intruder, bytes);
  g_clear_pointer (&check, ew_doip_message_free);
  check = raw_expect (alive, EW_DOIP_ALIVE_CHECK_REQUEST);
  g_clear_pointer (&bytes, g_bytes_unref);
  bytes = ew_doip_encode_alive_check_response (2, 0x0E81);
  raw_send_bytes (alive, bytes);
  m = raw_expect (intruder, EW_DOIP_ROUTING_ACTIVATION_RESPONSE);
  g_assert_true (ew_doip_decode_routing_activation_response (m->payload, &response, NULL));
  g_assert_cmpuint (response.response_code, ==, EW_DOIP_ROUTING_SOURCE_ADDRESS_IN_USE);
  assert_closed (intruder);
  raw_assert_serves (alive, 0x0E81);
  WAIT_UNTIL (ew_doip_server_get_connection_count (f->server) == 1, 2000);
  g_assert_cmpuint (ew_doip_server_get_connection_count (f->server), ==, 1);
  g_assert_cmpuint (ew_doip_server_get_alive_check_responses (f->server), ==, 1);
}

static void
test_registered_testers (void)
{
  g_autoptr(EwDoipServer) server = server_new (0);
  g_autoptr(GError) error = NULL;
  Fixture f;

  ew_doip_server_add_tester_address (server, 0x0F10);
  g_assert_true (ew_doip_server_start (server, &error));
  f.server = server;
  f.port = ew_doip_server_get_port (server);
  /* a registered tester outside the range is accepted … */
  g_object_unref (client_activated (&f, 0x0F10, 2));
  /* … and an unregistered one inside it is not */
  assert_routing_refused (&f, TESTER, EW_DOIP_ACTIVATION_DEFAULT, EW_DOIP_ROUTING_UNKNOWN_SOURCE_ADDRESS);
  ew_doip_server_stop (server);
}

/* ---- diagnostics ---- */

static void
test_diagnostic (Fixture       *f,
                 gconstpointer  data)
{
  static const guint8 rdbi[3] = { 0x22, 0xF1, 0x90 };
  g_autoptr(EwDoipClient) client = client_activated (f, TESTER, 2);
  g_autoptr(EwDoipChannel) channel = ew_doip_channel_new (client, ECU_ECHO);
  g_autoptr(EwDoipChannel) unknown = ew_doip_channel_new (client, 0x1F00);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) answer = NULL;
  g_autofree char *name = g_strdup_printf ("DoIP 0x0E80→0x1010 at 127.0.0.1:%u", f->port);
  gsize n;
  const guint8 *p;

  g_assert_cmpstr (ew_channel_get_name (EW_CHANNEL (channel)), ==, name);
  g_assert_true (ew_channel_send (EW_CHANNEL (channel), rdbi, 3, NULL, &error));
  g_assert_no_error (error);
  answer = ew_channel_receive (EW_CHANNEL (channel), 2000, NULL, &error);
  g_assert_no_error (error);
  p = g_bytes_get_data (answer, &n);
  g_assert_cmpuint (n, ==, 20);
  g_assert_cmpmem (p, 3, "\x62\xF1\x90", 3);
  g_assert_cmpmem (p + 3, 17, VIN, 17);
  g_clear_pointer (&answer, g_bytes_unref);

  /* the entity's own address is a target too */
  g_assert_true (ew_doip_client_send_diagnostic (client, ENTITY, (const guint8 *) "\x3E\x00", 2, NULL, &error));
  answer = ew_doip_client_receive_diagnostic (client, ENTITY, 2000, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (answer, NULL), g_bytes_get_size (answer), "\x7E\x00", 2);
  g_clear_pointer (&answer, g_bytes_unref);

  /* nothing else is queued for the ECU */
  g_assert_null (ew_channel_receive (EW_CHANNEL (channel), 50, NULL, &error));
  g_assert_error (error, EW_CHANNEL_ERROR, EW_CHANNEL_ERROR_TIMEOUT);
  g_clear_error (&error);

  /* an unknown target: negative ACK 0x03 */
  g_assert_false (ew_channel_send (EW_CHANNEL (unknown), rdbi, 3, NULL, &error));
  g_assert_error (error, EW_DOIP_ERROR, EW_DOIP_ERROR_DIAGNOSTIC_NACK);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "0x03 (unknown target address)"));
  g_clear_error (&error);

  /* the connection carries on after the NACK */
  g_assert_true (ew_channel_send (EW_CHANNEL (channel), rdbi, 3, NULL, &error));
  answer = ew_channel_receive (EW_CHANNEL (channel), 2000, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (answer), ==, 20);
  g_clear_pointer (&answer, g_bytes_unref);

  /* a cancelled receive returns at once */
  {
    g_autoptr(GCancellable) cancellable = g_cancellable_new ();

    g_cancellable_cancel (cancellable);
    g_assert_null (ew_channel_receive (EW_CHANNEL (channel), 5000, cancellable, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_clear_error (&error);
  }

  g_assert_false (ew_channel_send (EW_CHANNEL (channel), rdbi, 0, NULL, &error));
  g_assert_error (error, EW_CHANNEL_ERROR, EW_CHANNEL_ERROR_MESSAGE_LENGTH);
}

static void
test_pending (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(EwDoipClient) client = client_activated (f, TESTER, 2);
  g_autoptr(EwDoipChannel) slow = ew_doip_channel_new (client, ECU_SLOW);
  g_autoptr(EwDoipChannel) echo = ew_doip_channel_new (client, ECU_ECHO);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) pending = NULL;
  g_autoptr(GBytes) echoed = NULL;
  g_autoptr(GBytes) final = NULL;

  g_assert_true (ew_channel_send (EW_CHANNEL (slow), (const guint8 *) "\x31\x01\xFF\x00", 4, NULL, &error));
  g_assert_no_error (error);
  /* while the slow ECU works, another answers at once */
  g_assert_true (ew_channel_send (EW_CHANNEL (echo), (const guint8 *) "\x10\x03", 2, NULL, &error));
  g_assert_no_error (error);

  pending = ew_channel_receive (EW_CHANNEL (slow), 2000, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (pending, NULL), g_bytes_get_size (pending), "\x7F\x31\x78", 3);
  echoed = ew_channel_receive (EW_CHANNEL (echo), 2000, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (echoed, NULL), g_bytes_get_size (echoed), "\x50\x03", 2);
  final = ew_channel_receive (EW_CHANNEL (slow), 2000, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (final, NULL), g_bytes_get_size (final), "\x71\x01\xFF\x00", 4);
}

static void
test_alive_check (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(EwDoipClient) client = client_activated (f, TESTER, 2);
  g_autoptr(GSocket) raw = raw_connect (f->port);
  g_autoptr(EwDoipMessage) m = NULL;
  g_autoptr(GBytes) request = ew_doip_encode (3, EW_DOIP_ALIVE_CHECK_REQUEST, NULL, 0);
  guint16 address = 0;

  WAIT_UNTIL (ew_doip_server_get_connection_count (f->server) == 2, 2000);
  ew_doip_server_send_alive_checks (f->server);
  WAIT_UNTIL (ew_doip_client_get_alive_checks_answered (client) == 1, 2000);
  g_assert_cmpuint (ew_doip_client_get_alive_checks_answered (client), ==, 1);
  WAIT_UNTIL (ew_doip_server_get_alive_check_responses (f->server) == 1, 2000);
  g_assert_cmpuint (ew_doip_server_get_alive_check_responses (f->server), ==, 1);

  /* the raw socket got the request too, in the entity's version */
  m = raw_read_message (raw);
  g_assert_nonnull (m);
  g_assert_cmpuint (m->payload_type, ==, EW_DOIP_ALIVE_CHECK_REQUEST);
  g_assert_cmpuint (g_bytes_get_size (m->payload), ==, 0);
  g_clear_pointer (&m, ew_doip_message_free);

  /* and a tester that asks is answered in its version */
  raw_send_bytes (raw, request);
  m = raw_read_message (raw);
  g_assert_cmpuint (m->payload_type, ==, EW_DOIP_ALIVE_CHECK_RESPONSE);
  g_assert_cmpuint (m->protocol_version, ==, 3);
  g_assert_true (ew_doip_decode_alive_check_response (m->payload, &address, NULL));
  g_assert_cmpuint (address, ==, ENTITY);
}

static void
test_header_nack (Fixture       *f,
                  gconstpointer  data)
{
  static const guint8 bad_inverse[] = { 0x02, 0xFC, 0x00, 0x05, 0, 0, 0, 7, 0x0E, 0x80, 0, 0, 0, 0, 0 };
  static const guint8 unknown[] = { 0x03, 0xFC, 0x12, 0x34, 0, 0, 0, 2, 0xAA, 0xBB };
  static const guint8 too_large[] = { 0x02, 0xFD, 0x80, 0x01, 0x00, 0x01, 0x00, 0x01 };
  static const guint8 bad_length[] = { 0x02, 0xFD, 0x00, 0x05, 0, 0, 0, 2, 0x0E, 0x80 };
  static const guint8 udp_only[] = { 0x02, 0xFD, 0x00, 0x01, 0, 0, 0, 0 };
  g_autoptr(GSocket) raw = NULL;
  g_autofree guint8 *filler = g_malloc0 (65537);

  raw = raw_connect (f->port);
  raw_send (raw, bad_inverse, sizeof bad_inverse);
  assert_generic_nack (raw, 0x02, EW_DOIP_NACK_INCORRECT_PATTERN);
  assert_closed (raw);
  g_clear_object (&raw);

  /* unknown payload type and message too large: discarded, the socket
   * stays open and the next message is served */
  raw = raw_connect (f->port);
  raw_send (raw, unknown, sizeof unknown);
  assert_generic_nack (raw, 0x03, EW_DOIP_NACK_UNKNOWN_PAYLOAD_TYPE);
  raw_send (raw, udp_only, sizeof udp_only);
  assert_generic_nack (raw, 0x02, EW_DOIP_NACK_UNKNOWN_PAYLOAD_TYPE);
  raw_send (raw, too_large, sizeof too_large);
  raw_send (raw, filler, 65537);
  assert_generic_nack (raw, 0x02, EW_DOIP_NACK_MESSAGE_TOO_LARGE);
  raw_activate (raw, 2);

  /* invalid payload length closes */
  raw_send (raw, bad_length, sizeof bad_length);
  assert_generic_nack (raw, 0x02, EW_DOIP_NACK_INVALID_PAYLOAD_LENGTH);
  assert_closed (raw);
  g_clear_object (&raw);

  /* a diagnostic message from an address not activated: NACK 0x02, closed */
  raw = raw_connect (f->port);
  {
    g_autoptr(GBytes) diag = ew_doip_encode_diagnostic_message (2, TESTER, ECU_ECHO,
                                                                (const guint8 *) "\x3E\x00", 2);
    g_autoptr(EwDoipMessage) m = NULL;
    guint16 sa, ta;
    guint8 code;

    raw_send_bytes (raw, diag);
    m = raw_read_message (raw);
    g_assert_nonnull (m);
    g_assert_cmpuint (m->payload_type, ==, EW_DOIP_DIAGNOSTIC_MESSAGE_NACK);
    g_assert_true (ew_doip_decode_diagnostic_ack (m->payload, &sa, &ta, &code, NULL));
    g_assert_cmpuint (code, ==, EW_DOIP_DIAG_NACK_INVALID_SOURCE_ADDRESS);
    g_assert_cmpuint (sa, ==, ECU_ECHO);
    g_assert_cmpuint (ta, ==, TESTER);
    assert_closed (raw);
  }
}

static void
test_stream_split (Fixture       *f,
                   gconstpointer  data)
{
  EwDoipRoutingActivationRequest request = { .source_address = TESTER };
  g_autoptr(GBytes) ra = ew_doip_encode_routing_activation_request (2, &request);
  g_autoptr(GBytes) diag = ew_doip_encode_diagnostic_message (2, TESTER, ECU_ECHO,
                                                              (const guint8 *) "\x22\xF1\x90", 3);
  g_autoptr(GSocket) raw = raw_connect (f->port);
  g_autoptr(EwDoipMessage) m = NULL;
  g_autoptr(GByteArray) stream = g_byte_array_new ();
  EwDoipRoutingActivationResponse response;
  const guint8 *p;
  gsize n;
  guint16 sa, ta;

  g_byte_array_append (stream, g_bytes_get_data (ra, NULL), g_bytes_get_size (ra));
  g_byte_array_append (stream, g_bytes_get_data (diag, NULL), g_bytes_get_size (diag));
  for (guint i = 0; i < stream->len; i++)
    {
      raw_send (raw, stream->data + i, 1);
      g_usleep (1000);   /* each byte its own TCP segment */
    }

  m = raw_read_message (raw);
  g_assert_cmpuint (m->payload_type, ==, EW_DOIP_ROUTING_ACTIVATION_RESPONSE);
  g_assert_true (ew_doip_decode_routing_activation_response (m->payload, &response, NULL));
  g_assert_cmpuint (response.response_code, ==, EW_DOIP_ROUTING_SUCCESS);
  g_clear_pointer (&m, ew_doip_message_free);
  m = raw_read_message (raw);
  g_assert_cmpuint (m->payload_type, ==, EW_DOIP_DIAGNOSTIC_MESSAGE_ACK);
  g_clear_pointer (&m, ew_doip_message_free);
  m = raw_read_message (raw);
  g_assert_cmpuint (m->payload_type, ==, EW_DOIP_DIAGNOSTIC_MESSAGE);
  g_assert_true (ew_doip_decode_diagnostic_message (m->payload, &sa, &ta, &p, &n, NULL));
  g_assert_cmpuint (sa, ==, ECU_ECHO);
  g_assert_cmpuint (ta, ==, TESTER);
  g_assert_cmpuint (n, ==, 20);
  g_assert_cmpmem (p, 3, "\x62\xF1\x90", 3);
}

static void
test_max_size (void)
{
  g_autoptr(EwDoipServer) server = server_new (0);
  g_autoptr(GError) error = NULL;
  g_autoptr(EwDoipClient) client = NULL;
  g_autoptr(EwDoipChannel) channel = NULL;
  g_autoptr(GBytes) answer = NULL;
  EwDoipEntityStatus status;
  guint8 data[100];
  Fixture f;

  memset (data, 0x2E, sizeof data);
  ew_doip_server_set_max_data_size (server, 64);
  g_assert_true (ew_doip_server_start (server, &error));
  f.server = server;
  f.port = ew_doip_server_get_port (server);
  client = client_activated (&f, TESTER, 2);
  channel = ew_doip_channel_new (client, ECU_ECHO);

  g_assert_true (ew_doip_client_request_entity_status (client, &status, 1000, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (status.node_type, ==, 0);
  g_assert_cmpuint (status.max_open_sockets, ==, 4);
  g_assert_cmpuint (status.open_sockets, ==, 1);
  g_assert_cmpuint (status.max_data_size, ==, 64);
  g_assert_cmpuint (ew_doip_client_get_max_data_size (client), ==, 64);
  g_assert_cmpuint (ew_channel_get_max_message_length (EW_CHANNEL (channel)), ==, 60);

  g_assert_false (ew_channel_send (EW_CHANNEL (channel), data, 61, NULL, &error));
  g_assert_error (error, EW_CHANNEL_ERROR, EW_CHANNEL_ERROR_MESSAGE_LENGTH);
  g_assert_nonnull (strstr (error->message, "max data size of 64"));
  g_clear_error (&error);

  /* the largest that fits goes through */
  g_assert_true (ew_channel_send (EW_CHANNEL (channel), data, 60, NULL, &error));
  g_assert_no_error (error);
  answer = ew_channel_receive (EW_CHANNEL (channel), 2000, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (answer), ==, 60);

  /* without knowing the limit, the entity refuses with a header NACK */
  ew_doip_client_set_max_data_size (client, 0);
  g_assert_false (ew_channel_send (EW_CHANNEL (channel), data, 61, NULL, &error));
  g_assert_error (error, EW_DOIP_ERROR, EW_DOIP_ERROR_HEADER_NACK);
  g_assert_nonnull (strstr (error->message, "0x02 (message too large)"));
  ew_doip_server_stop (server);
}

static gpointer
stop_later (gpointer data)
{
  EwDoipServer *server = data;

  g_usleep (200 * 1000);
  ew_doip_server_stop (server);
  return NULL;
}

static void
test_server_stop (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(EwDoipClient) client = client_activated (f, TESTER, 2);
  g_autoptr(EwDoipChannel) channel = ew_doip_channel_new (client, ECU_MUTE);
  g_autoptr(GError) error = NULL;
  GThread *stopper;
  gint64 start;

  g_assert_true (ew_channel_send (EW_CHANNEL (channel), (const guint8 *) "\x22\xF1\x90", 3, NULL, &error));
  g_assert_no_error (error);

  start = g_get_monotonic_time ();
  stopper = g_thread_new ("stopper", stop_later, f->server);
  g_assert_null (ew_channel_receive (EW_CHANNEL (channel), 5000, NULL, &error));
  g_assert_error (error, EW_CHANNEL_ERROR, EW_CHANNEL_ERROR_CLOSED);
  g_test_message ("%s", error->message);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 2 * G_USEC_PER_SEC);
  g_thread_join (stopper);
  g_assert_false (ew_doip_server_is_running (f->server));
  g_clear_error (&error);

  /* and a send fails as clearly */
  g_assert_false (ew_channel_send (EW_CHANNEL (channel), (const guint8 *) "\x3E\x00", 2, NULL, &error));
  g_assert_error (error, EW_CHANNEL_ERROR, EW_CHANNEL_ERROR_CLOSED);
}

static void
test_versions (Fixture       *f,
               gconstpointer  data)
{
  for (guint8 version = 2; version <= 3; version++)
    {
      g_autoptr(EwDoipClient) client = client_activated (f, TESTER + version, version);
      g_autoptr(EwDoipChannel) channel = ew_doip_channel_new (client, ECU_ECHO);
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) answer = NULL;
      g_autoptr(GSocket) raw = raw_connect (f->port);
      g_autoptr(GBytes) diag = ew_doip_encode_diagnostic_message (version, TESTER, ECU_ECHO,
                                                                  (const guint8 *) "\x3E\x00", 2);
      g_autoptr(EwDoipMessage) ack = NULL;
      g_autoptr(EwDoipMessage) response = NULL;

      g_assert_true (ew_channel_send (EW_CHANNEL (channel), (const guint8 *) "\x22\xF1\x90", 3, NULL, &error));
      g_assert_no_error (error);
      answer = ew_channel_receive (EW_CHANNEL (channel), 2000, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (g_bytes_get_size (answer), ==, 20);

      /* every answer comes in the tester's version */
      raw_activate (raw, version);
      raw_send_bytes (raw, diag);
      ack = raw_read_message (raw);
      g_assert_cmpuint (ack->payload_type, ==, EW_DOIP_DIAGNOSTIC_MESSAGE_ACK);
      g_assert_cmpuint (ack->protocol_version, ==, version);
      response = raw_read_message (raw);
      g_assert_cmpuint (response->payload_type, ==, EW_DOIP_DIAGNOSTIC_MESSAGE);
      g_assert_cmpuint (response->protocol_version, ==, version);
    }
}

typedef struct {
  Fixture *f;
  guint16  tester;
  gboolean ok;
} TesterJob;

static gpointer
tester_thread (gpointer data)
{
  TesterJob *job = data;
  g_autoptr(EwDoipClient) client = client_activated (job->f, job->tester, 2);
  g_autoptr(EwDoipChannel) echo = ew_doip_channel_new (client, ECU_ECHO);
  g_autoptr(EwDoipChannel) slow = ew_doip_channel_new (client, ECU_SLOW);

  job->ok = TRUE;
  for (guint i = 0; i < 5; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) a = NULL;
      g_autoptr(GBytes) b = NULL;
      g_autoptr(GBytes) c = NULL;
      guint8 request[3] = { 0x31, (guint8) i, (guint8) (job->tester & 0xFF) };

      if (!ew_channel_send (EW_CHANNEL (slow), request, 3, NULL, &error) ||
          !ew_channel_send (EW_CHANNEL (echo), request, 3, NULL, &error) ||
          (a = ew_channel_receive (EW_CHANNEL (echo), 2000, NULL, &error)) == NULL ||
          (b = ew_channel_receive (EW_CHANNEL (slow), 2000, NULL, &error)) == NULL ||
          (c = ew_channel_receive (EW_CHANNEL (slow), 2000, NULL, &error)) == NULL)
        {
          g_test_message ("tester 0x%04X: %s", job->tester, error->message);
          job->ok = FALSE;
          break;
        }
      request[0] = 0x71;
      if (g_bytes_get_size (a) != 3 || memcmp (g_bytes_get_data (a, NULL), request, 3) != 0 ||
          g_bytes_get_size (c) != 3 || memcmp (g_bytes_get_data (c, NULL), request, 3) != 0)
        job->ok = FALSE;
    }
  return NULL;
}

static void
test_concurrent_testers (Fixture       *f,
                         gconstpointer  data)
{
  TesterJob jobs[3];
  GThread *threads[3];

  for (guint i = 0; i < 3; i++)
    {
      jobs[i] = (TesterJob) { f, 0x0E80 + i, FALSE };
      threads[i] = g_thread_new ("tester", tester_thread, &jobs[i]);
    }
  for (guint i = 0; i < 3; i++)
    {
      g_thread_join (threads[i]);
      g_assert_true (jobs[i].ok);
    }
}

/* ---- fault injection ---- */

typedef struct {
  gint drop_incoming;
  gint delay_outgoing_ms;
  gint seen_incoming;
  gint seen_outgoing;
} Faults;

static EwDoipFaultAction
fault_func (EwDoipServer *server,
            gboolean      is_to_entity,
            guint16       source_address,
            guint16       target_address,
            GBytes       *data,
            guint        *delay_ms,
            gpointer      user_data)
{
  Faults *faults = user_data;

  if (is_to_entity)
    {
      g_atomic_int_inc (&faults->seen_incoming);
      if (g_atomic_int_get (&faults->drop_incoming))
        return EW_DOIP_FAULT_DROP;
      return EW_DOIP_FAULT_PASS;
    }
  g_atomic_int_inc (&faults->seen_outgoing);
  if (g_atomic_int_get (&faults->delay_outgoing_ms) > 0)
    {
      *delay_ms = g_atomic_int_get (&faults->delay_outgoing_ms);
      return EW_DOIP_FAULT_DELAY;
    }
  return EW_DOIP_FAULT_PASS;
}

static void
test_faults (void)
{
  g_autoptr(EwDoipServer) server = server_new (0);
  g_autoptr(GError) error = NULL;
  g_autoptr(EwDoipClient) client = NULL;
  g_autoptr(EwDoipChannel) channel = NULL;
  g_autoptr(GBytes) answer = NULL;
  Faults faults = { 0 };
  gint64 start;
  Fixture f;

  ew_doip_server_set_fault_func (server, fault_func, &faults, NULL);
  g_assert_true (ew_doip_server_start (server, &error));
  f.server = server;
  f.port = ew_doip_server_get_port (server);
  client = client_activated (&f, TESTER, 2);
  channel = ew_doip_channel_new (client, ECU_ECHO);

  /* a delayed answer arrives late, but arrives */
  g_atomic_int_set (&faults.delay_outgoing_ms, 300);
  start = g_get_monotonic_time ();
  g_assert_true (ew_channel_send (EW_CHANNEL (channel), (const guint8 *) "\x3E\x00", 2, NULL, &error));
  g_assert_null (ew_channel_receive (EW_CHANNEL (channel), 100, NULL, &error));
  g_assert_error (error, EW_CHANNEL_ERROR, EW_CHANNEL_ERROR_TIMEOUT);
  g_clear_error (&error);
  answer = ew_channel_receive (EW_CHANNEL (channel), 2000, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 290 * 1000);
  g_clear_pointer (&answer, g_bytes_unref);
  g_atomic_int_set (&faults.delay_outgoing_ms, 0);

  /* a dropped request is acknowledged but never answered */
  g_atomic_int_set (&faults.drop_incoming, 1);
  g_assert_true (ew_channel_send (EW_CHANNEL (channel), (const guint8 *) "\x3E\x00", 2, NULL, &error));
  g_assert_no_error (error);
  g_assert_null (ew_channel_receive (EW_CHANNEL (channel), 200, NULL, &error));
  g_assert_error (error, EW_CHANNEL_ERROR, EW_CHANNEL_ERROR_TIMEOUT);
  g_clear_error (&error);
  g_assert_cmpint (g_atomic_int_get (&faults.seen_incoming), ==, 2);
  g_assert_cmpint (g_atomic_int_get (&faults.seen_outgoing), ==, 1);
  g_atomic_int_set (&faults.drop_incoming, 0);

  /* a link drop ends the connection; the entity listens on */
  ew_doip_server_drop_connections (server);
  g_assert_null (ew_channel_receive (EW_CHANNEL (channel), 2000, NULL, &error));
  g_assert_error (error, EW_CHANNEL_ERROR, EW_CHANNEL_ERROR_CLOSED);
  g_clear_error (&error);
  WAIT_UNTIL (ew_doip_server_get_connection_count (server) == 0, 2000);
  g_assert_cmpuint (ew_doip_server_get_connection_count (server), ==, 0);
  g_clear_object (&channel);
  g_clear_object (&client);
  client = client_activated (&f, TESTER, 2);
  channel = ew_doip_channel_new (client, ECU_ECHO);
  g_assert_true (ew_channel_send (EW_CHANNEL (channel), (const guint8 *) "\x3E\x00", 2, NULL, &error));
  answer = ew_channel_receive (EW_CHANNEL (channel), 2000, NULL, &error);
  g_assert_no_error (error);
  ew_doip_server_stop (server);
}

static void
test_connect_refused (void)
{
  g_autoptr(EwDoipServer) server = server_new (0);
  g_autoptr(EwDoipClient) client = ew_doip_client_new ();
  g_autoptr(GError) error = NULL;
  guint16 port;

  /* a port that was just free */
  g_assert_true (ew_doip_server_start (server, &error));
  port = ew_doip_server_get_port (server);
  ew_doip_server_stop (server);

  g_assert_false (ew_doip_client_connect (client, "127.0.0.1", port, 1000, NULL, &error));
  g_assert_error (error, EW_DOIP_ERROR, EW_DOIP_ERROR_CONNECT);
  g_assert_nonnull (strstr (error->message, "127.0.0.1"));
}

/* ---- tshark ---- */

static void
wait_done (GObject      *source,
           GAsyncResult *result,
           gpointer      data)
{
  gboolean *done = data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  *done = TRUE;
}

static gboolean
line_has (char      **lines,
          const char *a,
          const char *b,
          const char *c)
{
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autofree char *lower = g_ascii_strdown (lines[i], -1);

      if (strstr (lower, a) && (b == NULL || strstr (lower, b)) && (c == NULL || strstr (lower, c)))
        return TRUE;
    }
  return FALSE;
}

/* tshark prints one line a frame; a TCP segment carrying several DoIP
 * messages gives comma-separated values. One row a message: the address
 * columns by position, the UDS columns to the diagnostic messages in
 * turn, the others to every row. */
static char **
rows_per_message (char **lines)
{
  g_autoptr(GStrvBuilder) rows = g_strv_builder_new ();

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) columns = g_strsplit (lines[i], "\t", -1);
      g_auto(GStrv) types = NULL;
      guint n_columns = g_strv_length (columns);
      guint n_diagnostic = 0;

      if (n_columns < 8 || columns[0][0] == '\0')
        continue;
      types = g_strsplit (columns[0], ",", -1);
      for (guint m = 0; types[m] != NULL; m++)
        {
          g_autoptr(GString) row = g_string_new (types[m]);
          gboolean is_diagnostic = g_str_equal (types[m], "0x8001");

          for (guint c = 1; c < 8; c++)
            {
              g_auto(GStrv) values = g_strsplit (columns[c], ",", -1);
              guint n_values = g_strv_length (values);
              const char *value = "";

              if (c <= 2)
                value = m < n_values ? values[m] : "";
              else if (c >= 5)
                value = is_diagnostic && n_diagnostic < n_values ? values[n_diagnostic] : "";
              else
                value = columns[c];
              g_string_append_printf (row, "\t%s", value);
            }
          if (is_diagnostic)
            n_diagnostic++;
          g_strv_builder_add (rows, row->str);
        }
    }
  return g_strv_builder_end (rows);
}

static void
test_wireshark (void)
{
  g_autofree char *tshark = g_find_program_in_path ("tshark");
  g_autoptr(EwDoipServer) server = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) capture = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *out = NULL;
  g_auto(GStrv) lines = NULL;
  g_auto(GStrv) rows = NULL;
  gboolean done = FALSE;
  gint64 deadline;
  int status = 0;
  Fixture f;

  if (tshark == NULL)
    {
      g_test_skip ("tshark is not installed; DoIP is not decoded independently (apt-get install tshark)");
      return;
    }
  server = server_new (EW_DOIP_PORT);
  if (!ew_doip_server_start (server, &error))
    {
      g_autofree char *reason = g_strdup_printf ("port 13400 is busy, no capture: %s", error->message);
      g_test_skip (reason);
      return;
    }
  f.server = server;
  f.port = EW_DOIP_PORT;

  dir = g_dir_make_tmp ("test-doip-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (dir, "doip.pcapng", NULL);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  capture = g_subprocess_launcher_spawn (launcher, &error, tshark, "-i", "lo", "-f", "tcp port 13400",
                                         "-w", path, NULL);
  g_assert_no_error (error);
  g_subprocess_wait_async (capture, NULL, wait_done, &done);

  /* capturing once the file has its header; then a little more */
  deadline = g_get_monotonic_time () + 4 * G_USEC_PER_SEC;
  while (!done && g_get_monotonic_time () < deadline)
    {
      GStatBuf st;

      g_main_context_iteration (NULL, FALSE);
      if (g_stat (path, &st) == 0 && st.st_size > 0)
        break;
      g_usleep (20 * 1000);
    }
  if (done || g_get_monotonic_time () >= deadline)
    {
      if (!done)
        g_subprocess_force_exit (capture);
      while (!done)
        g_main_context_iteration (NULL, TRUE);
      ew_doip_server_stop (server);
      ew_test_remove_tree (dir);
      g_test_skip ("tshark could not capture on lo (no permission?)");
      return;
    }
  g_usleep (700 * 1000);

  {
    g_autoptr(EwDoipClient) client = client_activated (&f, TESTER, 2);
    g_autoptr(EwDoipChannel) channel = ew_doip_channel_new (client, ECU_ECHO);
    g_autoptr(GBytes) answer = NULL;

    g_assert_true (ew_channel_send (EW_CHANNEL (channel), (const guint8 *) "\x22\xF1\x90", 3, NULL, &error));
    answer = ew_channel_receive (EW_CHANNEL (channel), 2000, NULL, &error);
    g_assert_no_error (error);
  }
  g_usleep (500 * 1000);
  g_subprocess_send_signal (capture, SIGINT);
  deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (!done && g_get_monotonic_time () < deadline)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (10 * 1000);
    }
  if (!done)
    {
      g_subprocess_force_exit (capture);
      while (!done)
        g_main_context_iteration (NULL, TRUE);
    }
  ew_doip_server_stop (server);

  {
    const char *argv[] = {
      tshark, "-r", path, "-T", "fields",
      "-e", "doip.type", "-e", "doip.source_address", "-e", "doip.target_address",
      "-e", "doip.activation_type", "-e", "doip.response_code",
      "-e", "uds.sid", "-e", "uds.rdbi.data_identifier", "-e", "uds.reply", NULL
    };

    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                                 &out, NULL, &status, &error));
    g_assert_no_error (error);
  }
  g_test_message ("tshark:\n%s", out);
  lines = g_strsplit (out, "\n", -1);
  /* the ECU answered within the handler: its answer shares a segment with
   * the ACK, and Wireshark still finds both messages in it */
  g_assert_true (line_has (lines, "0x8002,0x8001\t0x1010,0x1010\t0x0e80,0x0e80", NULL, NULL));
  rows = rows_per_message (lines);

  /* routing activation request and response */
  g_assert_true (line_has (rows, "0x0005\t0x0e80", NULL, NULL));
  g_assert_true (line_has (rows, "0x0006", "\t0x10\t", NULL));
  /* the request 0x22 F190 to 0x1010 and the ECU's reply (Wireshark shows
   * the reply's SID without its 0x40 bit, and uds.reply set) */
  g_assert_true (line_has (rows, "0x8001\t0x0e80\t0x1010", "\t0x22\t0xf190\t0x00", NULL));
  g_assert_true (line_has (rows, "0x8001\t0x1010\t0x0e80", "\t0x22\t0xf190\t0x01", NULL));
  g_assert_true (line_has (rows, "0x8002\t0x1010\t0x0e80", NULL, NULL));
  ew_test_remove_tree (dir);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/doip/message/names", test_names);
  g_test_add_func ("/doip/message/encode-decode", test_encode_decode);
  g_test_add_func ("/doip/message/hostile", test_hostile);
  g_test_add_func ("/doip/message/stream-parser", test_stream_parser);
  g_test_add_func ("/doip/uri", test_uri);
  g_test_add ("/doip/udp/identification", Fixture, NULL, fixture_set_up, test_identification, fixture_tear_down);
  g_test_add ("/doip/udp/versions", Fixture, NULL, fixture_set_up, test_udp_versions, fixture_tear_down);
  g_test_add_func ("/doip/udp/announcement", test_announcement);
  g_test_add ("/doip/tcp/routing", Fixture, NULL, fixture_set_up, test_routing, fixture_tear_down);
  g_test_add ("/doip/tcp/alive-check-takeover", Fixture, NULL, fixture_set_up, test_alive_check_takeover,
              fixture_tear_down);
  g_test_add_func ("/doip/tcp/registered-testers", test_registered_testers);
  g_test_add ("/doip/tcp/diagnostic", Fixture, NULL, fixture_set_up, test_diagnostic, fixture_tear_down);
  g_test_add ("/doip/tcp/pending", Fixture, NULL, fixture_set_up, test_pending, fixture_tear_down);
  g_test_add ("/doip/tcp/alive-check", Fixture, NULL, fixture_set_up, test_alive_check, fixture_tear_down);
  g_test_add ("/doip/tcp/header-nack", Fixture, NULL, fixture_set_up, test_header_nack, fixture_tear_down);
  g_test_add ("/doip/tcp/stream-split", Fixture, NULL, fixture_set_up, test_stream_split, fixture_tear_down);
  g_test_add_func ("/doip/tcp/max-size", test_max_size);
  g_test_add ("/doip/tcp/server-stop", Fixture, NULL, fixture_set_up, test_server_stop, fixture_tear_down);
  g_test_add ("/doip/tcp/versions", Fixture, NULL, fixture_set_up, test_versions, fixture_tear_down);
  g_test_add ("/doip/tcp/concurrent-testers", Fixture, NULL, fixture_set_up, test_concurrent_testers, fixture_tear_down);
  g_test_add_func ("/doip/tcp/faults", test_faults);
  g_test_add_func ("/doip/tcp/connect-refused", test_connect_refused);
  g_test_add_func ("/doip/wireshark", test_wireshark);

  return g_test_run ();
}
