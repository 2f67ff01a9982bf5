/* doip-message.c — ISO 13400-2 message encoding and decoding. Every length
 * from the wire is checked before it is used; errors name the byte. */
#define G_LOG_DOMAIN "ew-doip"

#include "doip-message.h"

#include <string.h>

G_DEFINE_QUARK (ew-doip-error-quark, ew_doip_error)

const char *
ew_doip_payload_type_name (guint16 payload_type)
{
  switch (payload_type)
    {
    case EW_DOIP_GENERIC_NACK: return "generic DoIP header negative acknowledge";
    case EW_DOIP_VEHICLE_IDENTIFICATION_REQUEST: return "vehicle identification request";
    case EW_DOIP_VEHICLE_IDENTIFICATION_REQUEST_EID: return "vehicle identification request with EID";
    case EW_DOIP_VEHICLE_IDENTIFICATION_REQUEST_VIN: return "vehicle identification request with VIN";
    case EW_DOIP_VEHICLE_ANNOUNCEMENT: return "vehicle announcement/identification response";
    case EW_DOIP_ROUTING_ACTIVATION_REQUEST: return "routing activation request";
    case EW_DOIP_ROUTING_ACTIVATION_RESPONSE: return "routing activation response";
    case EW_DOIP_ALIVE_CHECK_REQUEST: return "alive check request";
    case EW_DOIP_ALIVE_CHECK_RESPONSE: return "alive check response";
    case EW_DOIP_ENTITY_STATUS_REQUEST: return "DoIP entity status request";
    case EW_DOIP_ENTITY_STATUS_RESPONSE: return "DoIP entity status response";
    case EW_DOIP_POWER_MODE_REQUEST: return "diagnostic power mode information request";
    case EW_DOIP_POWER_MODE_RESPONSE: return "diagnostic power mode information response";
    case EW_DOIP_DIAGNOSTIC_MESSAGE: return "diagnostic message";
    case EW_DOIP_DIAGNOSTIC_MESSAGE_ACK: return "diagnostic message positive acknowledgement";
    case EW_DOIP_DIAGNOSTIC_MESSAGE_NACK: return "diagnostic message negative acknowledgement";
    default: return "reserved";
    }
}

const char *
ew_doip_header_nack_name (guint8 code)
{
  switch (code)
    {
    case EW_DOIP_NACK_INCORRECT_PATTERN: return "incorrect pattern format";
    case EW_DOIP_NACK_UNKNOWN_PAYLOAD_TYPE: return "unknown payload type";
    case EW_DOIP_NACK_MESSAGE_TOO_LARGE: return "message too large";
    case EW_DOIP_NACK_OUT_OF_MEMORY: return "out of memory";
    case EW_DOIP_NACK_INVALID_PAYLOAD_LENGTH: return "invalid payload length";
    default: return "reserved";
    }
}

const char *
ew_doip_routing_code_name (guint8 code)
{
  switch (code)
    {
    case EW_DOIP_ROUTING_UNKNOWN_SOURCE_ADDRESS: return "denied: unknown source address";
    case EW_DOIP_ROUTING_NO_FREE_SOCKET: return "denied: all TCP_DATA sockets are registered and active";
    case EW_DOIP_ROUTING_SOURCE_ADDRESS_MISMATCH: return "denied: source address differs from the one activated on this socket";
    case EW_DOIP_ROUTING_SOURCE_ADDRESS_IN_USE: return "denied: source address already active on another socket";
    case EW_DOIP_ROUTING_MISSING_AUTHENTICATION: return "denied: missing authentication";
    case EW_DOIP_ROUTING_REJECTED_CONFIRMATION: return "denied: rejected confirmation";
    case EW_DOIP_ROUTING_UNSUPPORTED_TYPE: return "denied: unsupported routing activation type";
    case EW_DOIP_ROUTING_SUCCESS: return "routing successfully activated";
    case EW_DOIP_ROUTING_CONFIRMATION_REQUIRED: return "routing will be activated; confirmation required";
    default: return "reserved";
    }
}

const char *
ew_doip_diagnostic_code_name (guint8 code)
{
  switch (code)
    {
    case EW_DOIP_DIAG_ACK: return "routing confirmation";
    case EW_DOIP_DIAG_NACK_INVALID_SOURCE_ADDRESS: return "invalid source address";
    case EW_DOIP_DIAG_NACK_UNKNOWN_TARGET_ADDRESS: return "unknown target address";
    case EW_DOIP_DIAG_NACK_MESSAGE_TOO_LARGE: return "diagnostic message too large";
    case EW_DOIP_DIAG_NACK_OUT_OF_MEMORY: return "out of memory";
    case EW_DOIP_DIAG_NACK_TARGET_UNREACHABLE: return "target unreachable";
    case EW_DOIP_DIAG_NACK_UNKNOWN_NETWORK: return "unknown network";
    case EW_DOIP_DIAG_NACK_TRANSPORT_ERROR: return "transport protocol error";
    default: return "reserved";
    }
}

gboolean
ew_doip_payload_type_is_known (guint16 payload_type)
{
  return g_strcmp0 (ew_doip_payload_type_name (payload_type), "reserved") != 0;
}

gboolean
ew_doip_payload_length_is_valid (guint16 payload_type,
                                 gsize   n)
{
  switch (payload_type)
    {
    case EW_DOIP_GENERIC_NACK: return n == 1;
    case EW_DOIP_VEHICLE_IDENTIFICATION_REQUEST: return n == 0;
    case EW_DOIP_VEHICLE_IDENTIFICATION_REQUEST_EID: return n == EW_DOIP_EID_LENGTH;
    case EW_DOIP_VEHICLE_IDENTIFICATION_REQUEST_VIN: return n == EW_DOIP_VIN_LENGTH;
    case EW_DOIP_VEHICLE_ANNOUNCEMENT: return n == 32 || n == 33;
    case EW_DOIP_ROUTING_ACTIVATION_REQUEST: return n == 7 || n == 11;
    case EW_DOIP_ROUTING_ACTIVATION_RESPONSE: return n == 9 || n == 13;
    case EW_DOIP_ALIVE_CHECK_REQUEST: return n == 0;
    case EW_DOIP_ALIVE_CHECK_RESPONSE: return n == 2;
    case EW_DOIP_ENTITY_STATUS_REQUEST: return n == 0;
    case EW_DOIP_ENTITY_STATUS_RESPONSE: return n == 3 || n == 7;
    case EW_DOIP_POWER_MODE_REQUEST: return n == 0;
    case EW_DOIP_POWER_MODE_RESPONSE: return n == 1;
    case EW_DOIP_DIAGNOSTIC_MESSAGE: return n >= 5;
    case EW_DOIP_DIAGNOSTIC_MESSAGE_ACK:
    case EW_DOIP_DIAGNOSTIC_MESSAGE_NACK: return n >= 5;
    default: return FALSE;
    }
}

EwDoipMessage *
ew_doip_message_new (guint8        protocol_version,
                     guint16       payload_type,
                     const guint8 *payload,
                     gsize         payload_length)
{
  EwDoipMessage *m = g_new0 (EwDoipMessage, 1);

  m->protocol_version = protocol_version;
  m->payload_type = payload_type;
  m->payload = g_bytes_new (payload, payload_length);
  return m;
}

void
ew_doip_message_free (EwDoipMessage *message)
{
  if (message == NULL)
    return;
  g_bytes_unref (message->payload);
  g_free (message);
}

/* ---- encoding ---- */

static void
put_u16 (GByteArray *a,
         guint16     v)
{
  guint8 b[2] = { v >> 8, v & 0xFF };
  g_byte_array_append (a, b, 2);
}

static void
put_u32 (GByteArray *a,
         guint32     v)
{
  guint8 b[4] = { v >> 24, (v >> 16) & 0xFF, (v >> 8) & 0xFF, v & 0xFF };
  g_byte_array_append (a, b, 4);
}

static guint16
get_u16 (const guint8 *p)
{
  return (guint16) ((p[0] << 8) | p[1]);
}

static guint32
get_u32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

static GByteArray *
message_begin (guint8  protocol_version,
               guint16 payload_type,
               gsize   payload_length)
{
  GByteArray *a = g_byte_array_sized_new (EW_DOIP_HEADER_LENGTH + payload_length);
  guint8 v[2] = { protocol_version, (guint8) ~protocol_version };

  g_byte_array_append (a, v, 2);
  put_u16 (a, payload_type);
  put_u32 (a, (guint32) payload_length);
  return a;
}

GBytes *
ew_doip_encode (guint8        protocol_version,
                guint16       payload_type,
                const guint8 *payload,
                gsize         payload_length)
{
  GByteArray *a;

  g_return_val_if_fail (payload != NULL || payload_length == 0, NULL);
  g_return_val_if_fail (payload_length <= G_MAXUINT32, NULL);

  a = message_begin (protocol_version, payload_type, payload_length);
  if (payload_length > 0)
    g_byte_array_append (a, payload, payload_length);
  return g_byte_array_free_to_bytes (a);
}

GBytes *
ew_doip_encode_vehicle_identification_request (guint8        protocol_version,
                                               const char   *vin,
                                               const guint8 *eid)
{
  if (vin != NULL)
    {
      g_return_val_if_fail (strlen (vin) == EW_DOIP_VIN_LENGTH, NULL);
      return ew_doip_encode (protocol_version, EW_DOIP_VEHICLE_IDENTIFICATION_REQUEST_VIN,
                             (const guint8 *) vin, EW_DOIP_VIN_LENGTH);
    }
  if (eid != NULL)
    return ew_doip_encode (protocol_version, EW_DOIP_VEHICLE_IDENTIFICATION_REQUEST_EID,
                           eid, EW_DOIP_EID_LENGTH);
  return ew_doip_encode (protocol_version, EW_DOIP_VEHICLE_IDENTIFICATION_REQUEST, NULL, 0);
}

GBytes *
ew_doip_encode_vehicle_announcement (guint8                           protocol_version,
                                     const EwDoipVehicleAnnouncement *an)
{
  gsize n = an->has_sync_status ? 33 : 32;
  GByteArray *a = message_begin (protocol_version, EW_DOIP_VEHICLE_ANNOUNCEMENT, n);
  guint8 vin[EW_DOIP_VIN_LENGTH];
  gsize vin_length = strnlen (an->vin, EW_DOIP_VIN_LENGTH);

  /* ISO 13400-2:2019: a VIN not (yet) configured is sent as 0x00 or 0xFF */
  memset (vin, 0x00, sizeof vin);
  memcpy (vin, an->vin, vin_length);
  g_byte_array_append (a, vin, EW_DOIP_VIN_LENGTH);
  put_u16 (a, an->logical_address);
  g_byte_array_append (a, an->eid, EW_DOIP_EID_LENGTH);
  g_byte_array_append (a, an->gid, EW_DOIP_GID_LENGTH);
  g_byte_array_append (a, &an->further_action, 1);
  if (an->has_sync_status)
    g_byte_array_append (a, &an->sync_status, 1);
  return g_byte_array_free_to_bytes (a);
}

GBytes *
ew_doip_encode_routing_activation_request (guint8                                protocol_version,
                                           const EwDoipRoutingActivationRequest *request)
{
  static const guint8 reserved[4] = { 0 };
  GByteArray *a = message_begin (protocol_version, EW_DOIP_ROUTING_ACTIVATION_REQUEST,
                                 request->has_oem_specific ? 11 : 7);

  put_u16 (a, request->source_address);
  g_byte_array_append (a, &request->activation_type, 1);
  g_byte_array_append (a, reserved, 4);
  if (request->has_oem_specific)
    g_byte_array_append (a, request->oem_specific, 4);
  return g_byte_array_free_to_bytes (a);
}

GBytes *
ew_doip_encode_routing_activation_response (guint8                                 protocol_version,
                                            const EwDoipRoutingActivationResponse *response)
{
  static const guint8 reserved[4] = { 0 };
  GByteArray *a = message_begin (protocol_version, EW_DOIP_ROUTING_ACTIVATION_RESPONSE,
                                 response->has_oem_specific ? 13 : 9);

  put_u16 (a, response->tester_address);
  put_u16 (a, response->entity_address);
  g_byte_array_append (a, &response->response_code, 1);
  g_byte_array_append (a, reserved, 4);
  if (response->has_oem_specific)
    g_byte_array_append (a, response->oem_specific, 4);
  return g_byte_array_free_to_bytes (a);
}

GBytes *
ew_doip_encode_alive_check_response (guint8  protocol_version,
                                     guint16 source_address)
{
  GByteArray *a = message_begin (protocol_version, EW_DOIP_ALIVE_CHECK_RESPONSE, 2);

  put_u16 (a, source_address);
  return g_byte_array_free_to_bytes (a);
}

GBytes *
ew_doip_encode_entity_status_response (guint8                    protocol_version,
                                       const EwDoipEntityStatus *status)
{
  GByteArray *a = message_begin (protocol_version, EW_DOIP_ENTITY_STATUS_RESPONSE,
                                 status->has_max_data_size ? 7 : 3);

  g_byte_array_append (a, &status->node_type, 1);
  g_byte_array_append (a, &status->max_open_sockets, 1);
  g_byte_array_append (a, &status->open_sockets, 1);
  if (status->has_max_data_size)
    put_u32 (a, status->max_data_size);
  return g_byte_array_free_to_bytes (a);
}

GBytes *
ew_doip_encode_diagnostic_message (guint8        protocol_version,
                                   guint16       source_address,
                                   guint16       target_address,
                                   const guint8 *user_data,
                                   gsize         length)
{
  GByteArray *a;

  g_return_val_if_fail (user_data != NULL || length == 0, NULL);
  g_return_val_if_fail (length <= G_MAXUINT32 - 4, NULL);

  a = message_begin (protocol_version, EW_DOIP_DIAGNOSTIC_MESSAGE, 4 + length);
  put_u16 (a, source_address);
  put_u16 (a, target_address);
  if (length > 0)
    g_byte_array_append (a, user_data, length);
  return g_byte_array_free_to_bytes (a);
}

void
ew_doip_diagnostic_message_header (guint8  *out,
                                   guint8   protocol_version,
                                   guint16  source_address,
                                   guint16  target_address,
                                   gsize    length)
{
  guint32 payload_length;

  g_return_if_fail (length <= G_MAXUINT32 - 4);

  payload_length = (guint32) length + 4;
  out[0] = protocol_version;
  out[1] = (guint8) ~protocol_version;
  out[2] = EW_DOIP_DIAGNOSTIC_MESSAGE >> 8;
  out[3] = EW_DOIP_DIAGNOSTIC_MESSAGE & 0xFF;
  out[4] = payload_length >> 24;
  out[5] = (payload_length >> 16) & 0xFF;
  out[6] = (payload_length >> 8) & 0xFF;
  out[7] = payload_length & 0xFF;
  out[8] = source_address >> 8;
  out[9] = source_address & 0xFF;
  out[10] = target_address >> 8;
  out[11] = target_address & 0xFF;
}

GBytes *
ew_doip_encode_diagnostic_ack (guint8  protocol_version,
                               guint16 source_address,
                               guint16 target_address,
                               guint8  code)
{
  GByteArray *a = message_begin (protocol_version,
                                 code == EW_DOIP_DIAG_ACK ? EW_DOIP_DIAGNOSTIC_MESSAGE_ACK
                                                          : EW_DOIP_DIAGNOSTIC_MESSAGE_NACK,
                                 5);

  put_u16 (a, source_address);
  put_u16 (a, target_address);
  g_byte_array_append (a, &code, 1);
  return g_byte_array_free_to_bytes (a);
}

GBytes *
ew_doip_encode_generic_nack (guint8 protocol_version,
                             guint8 code)
{
  return ew_doip_encode (protocol_version, EW_DOIP_GENERIC_NACK, &code, 1);
}

/* ---- decoding ---- */

gboolean
ew_doip_header_decode (const guint8  *data,
                       gsize          length,
                       gsize          max_payload_length,
                       EwDoipHeader  *header,
                       GError       **error)
{
  guint8 version;
  guint16 type;
  guint32 payload_length;

  g_return_val_if_fail (data != NULL || length == 0, FALSE);

  if (length < EW_DOIP_HEADER_LENGTH)
    {
      g_set_error (error, EW_DOIP_ERROR, EW_DOIP_ERROR_TRUNCATED,
                   "DoIP header truncated at byte %" G_GSIZE_FORMAT ": it needs %d bytes",
                   length, EW_DOIP_HEADER_LENGTH);
      return FALSE;
    }

  version = data[0];
  type = get_u16 (data + 2);
  payload_length = get_u32 (data + 4);

  /* ISO 13400-2 generic header handling: the pattern first */
  if ((guint) data[1] != 0xFFu - version)
    {
      g_set_error (error, EW_DOIP_ERROR, EW_DOIP_ERROR_INCORRECT_PATTERN,
                   "DoIP header byte 1: inverse protocol version 0x%02X does not match version 0x%02X",
                   data[1], version);
      return FALSE;
    }
  if (version == EW_DOIP_VERSION_DEFAULT)
    {
      /* 0xFF only asks "any version" in vehicle identification requests */
      if (type < EW_DOIP_VEHICLE_IDENTIFICATION_REQUEST || type > EW_DOIP_VEHICLE_IDENTIFICATION_REQUEST_VIN)
        {
          g_set_error (error, EW_DOIP_ERROR, EW_DOIP_ERROR_INCORRECT_PATTERN,
                       "DoIP header byte 0: default protocol version 0xFF is allowed only in "
                       "vehicle identification requests, not in payload type 0x%04X", type);
          return FALSE;
        }
    }
  else if (version < EW_DOIP_VERSION_2010 || version > EW_DOIP_VERSION_2019)
    {
      g_set_error (error, EW_DOIP_ERROR, EW_DOIP_ERROR_INCORRECT_PATTERN,
                   "DoIP header byte 0: unsupported protocol version 0x%02X", version);
      return FALSE;
    }

  if (!ew_doip_payload_type_is_known (type))
    {
      g_set_error (error, EW_DOIP_ERROR, EW_DOIP_ERROR_UNKNOWN_PAYLOAD_TYPE,
                   "DoIP header byte 2: unknown payload type 0x%04X", type);
      header->protocol_version = version;
      header->payload_type = type;
      header->payload_length = payload_length;
      return FALSE;
    }
  if (payload_length > max_payload_length)
    {
      g_set_error (error, EW_DOIP_ERROR, EW_DOIP_ERROR_MESSAGE_TOO_LARGE,
                   "DoIP header byte 4: payload length %u exceeds the limit of %" G_GSIZE_FORMAT " bytes",
                   payload_length, max_payload_length);
      header->protocol_version = version;
      header->payload_type = type;
      header->payload_length = payload_length;
      return FALSE;
    }
  if (!ew_doip_payload_length_is_valid (type, payload_length))
    {
      g_set_error (error, EW_DOIP_ERROR, EW_DOIP_ERROR_INVALID_PAYLOAD_LENGTH,
                   "DoIP header byte 4: payload length %u is invalid for a %s (0x%04X)",
                   payload_length, ew_doip_payload_type_name (type), type);
      return FALSE;
    }

  header->protocol_version = version;
  header->payload_type = type;
  header->payload_length = payload_length;
  return TRUE;
}

EwDoipMessage *
ew_doip_message_decode (const guint8  *data,
                        gsize          length,
                        gsize          max_payload_length,
                        GError       **error)
{
  EwDoipHeader header;

  if (!ew_doip_header_decode (data, length, max_payload_length, &header, error))
    return NULL;
  if (length - EW_DOIP_HEADER_LENGTH < header.payload_length)
    {
      g_set_error (error, EW_DOIP_ERROR, EW_DOIP_ERROR_TRUNCATED,
                   "DoIP %s truncated at byte %" G_GSIZE_FORMAT ": the header announces %u payload bytes",
                   ew_doip_payload_type_name (header.payload_type), length, header.payload_length);
      return NULL;
    }
  if (length - EW_DOIP_HEADER_LENGTH > header.payload_length)
    {
      g_set_error (error, EW_DOIP_ERROR, EW_DOIP_ERROR_INVALID_MESSAGE,
                   "DoIP %s: unexpected data at byte %u after the announced payload",
                   ew_doip_payload_type_name (header.payload_type),
                   EW_DOIP_HEADER_LENGTH + header.payload_length);
      return NULL;
    }
  return ew_doip_message_new (header.protocol_version, header.payload_type,
                              data + EW_DOIP_HEADER_LENGTH, header.payload_length);
}

/* Payload decoders: lengths the type allows, with the byte at fault. */
static const guint8 *
payload_check (GBytes        *payload,
               guint16        type,
               gsize         *length,
               GError       **error)
{
  gsize n = 0;
  const guint8 *p = payload != NULL ? g_bytes_get_data (payload, &n) : NULL;

  *length = n;
  if (!ew_doip_payload_length_is_valid (type, n))
    {
      g_set_error (error, EW_DOIP_ERROR,
                   n == 0 || (type == EW_DOIP_DIAGNOSTIC_MESSAGE && n < 5) ? EW_DOIP_ERROR_TRUNCATED
                                                                          : EW_DOIP_ERROR_INVALID_PAYLOAD_LENGTH,
                   "DoIP %s: payload of %" G_GSIZE_FORMAT " bytes is invalid (ends at byte %" G_GSIZE_FORMAT ")",
                   ew_doip_payload_type_name (type), n, EW_DOIP_HEADER_LENGTH + n);
      return NULL;
    }
  /* a zero-length valid payload has no data pointer */
  return p != NULL ? p : (const guint8 *) "";
}

gboolean
ew_doip_decode_vehicle_announcement (GBytes                     *payload,
                                     EwDoipVehicleAnnouncement  *an,
                                     GError                    **error)
{
  gsize n;
  const guint8 *p = payload_check (payload, EW_DOIP_VEHICLE_ANNOUNCEMENT, &n, error);
  guint i;

  if (p == NULL)
    return FALSE;
  memset (an, 0, sizeof *an);
  for (i = 0; i < EW_DOIP_VIN_LENGTH; i++)
    {
      /* ISO 13400-2:2019: 0x00 or 0xFF bytes stand for a VIN not configured */
      if (p[i] == 0x00 || p[i] == 0xFF)
        break;
      if (p[i] < 0x20 || p[i] > 0x7E)
        {
          g_set_error (error, EW_DOIP_ERROR, EW_DOIP_ERROR_INVALID_MESSAGE,
                       "DoIP vehicle announcement byte %u: VIN character 0x%02X is not printable",
                       EW_DOIP_HEADER_LENGTH + i, p[i]);
          return FALSE;
        }
      an->vin[i] = (char) p[i];
    }
  an->logical_address = get_u16 (p + 17);
  memcpy (an->eid, p + 19, EW_DOIP_EID_LENGTH);
  memcpy (an->gid, p + 25, EW_DOIP_GID_LENGTH);
  an->further_action = p[31];
  if (n == 33)
    {
      an->has_sync_status = TRUE;
      an->sync_status = p[32];
    }
  return TRUE;
}

gboolean
ew_doip_decode_routing_activation_request (GBytes                          *payload,
                                           EwDoipRoutingActivationRequest  *request,
                                           GError                         **error)
{
  gsize n;
  const guint8 *p = payload_check (payload, EW_DOIP_ROUTING_ACTIVATION_REQUEST, &n, error);

  if (p == NULL)
    return FALSE;
  memset (request, 0, sizeof *request);
  request->source_address = get_u16 (p);
  request->activation_type = p[2];
  if (n == 11)
    {
      request->has_oem_specific = TRUE;
      memcpy (request->oem_specific, p + 7, 4);
    }
  return TRUE;
}

gboolean
ew_doip_decode_routing_activation_response (GBytes                           *payload,
                                            EwDoipRoutingActivationResponse  *response,
                                            GError                          **error)
{
  gsize n;
  const guint8 *p = payload_check (payload, EW_DOIP_ROUTING_ACTIVATION_RESPONSE, &n, error);

  if (p == NULL)
    return FALSE;
  memset (response, 0, sizeof *response);
  response->tester_address = get_u16 (p);
  response->entity_address = get_u16 (p + 2);
  response->response_code = p[4];
  if (n == 13)
    {
      response->has_oem_specific = TRUE;
      memcpy (response->oem_specific, p + 9, 4);
    }
  return TRUE;
}

gboolean
ew_doip_decode_entity_status_response (GBytes              *payload,
                                       EwDoipEntityStatus  *status,
                                       GError             **error)
{
  gsize n;
  const guint8 *p = payload_check (payload, EW_DOIP_ENTITY_STATUS_RESPONSE, &n, error);

  if (p == NULL)
    return FALSE;
  memset (status, 0, sizeof *status);
  status->node_type = p[0];
  status->max_open_sockets = p[1];
  status->open_sockets = p[2];
  if (n == 7)
    {
      status->has_max_data_size = TRUE;
      status->max_data_size = get_u32 (p + 3);
    }
  return TRUE;
}

gboolean
ew_doip_decode_alive_check_response (GBytes   *payload,
                                     guint16  *source_address,
                                     GError  **error)
{
  gsize n;
  const guint8 *p = payload_check (payload, EW_DOIP_ALIVE_CHECK_RESPONSE, &n, error);

  if (p == NULL)
    return FALSE;
  *source_address = get_u16 (p);
  return TRUE;
}

gboolean
ew_doip_decode_diagnostic_message (GBytes         *payload,
                                   guint16        *source_address,
                                   guint16        *target_address,
                                   const guint8  **user_data,
                                   gsize          *user_data_length,
                                   GError        **error)
{
  gsize n;
  const guint8 *p = payload_check (payload, EW_DOIP_DIAGNOSTIC_MESSAGE, &n, error);

  if (p == NULL)
    return FALSE;
  *source_address = get_u16 (p);
  *target_address = get_u16 (p + 2);
  *user_data = p + 4;
  *user_data_length = n - 4;
  return TRUE;
}

gboolean
ew_doip_decode_diagnostic_ack (GBytes   *payload,
                               guint16  *source_address,
                               guint16  *target_address,
                               guint8   *code,
                               GError  **error)
{
  gsize n;
  const guint8 *p = payload_check (payload, EW_DOIP_DIAGNOSTIC_MESSAGE_ACK, &n, error);

  if (p == NULL)
    return FALSE;
  *source_address = get_u16 (p);
  *target_address = get_u16 (p + 2);
  *code = p[4];
  return TRUE;
}

gboolean
ew_doip_decode_generic_nack (GBytes   *payload,
                             guint8   *code,
                             GError  **error)
{
  gsize n;
  const guint8 *p = payload_check (payload, EW_DOIP_GENERIC_NACK, &n, error);

  if (p == NULL)
    return FALSE;
  *code = p[0];
  return TRUE;
}

gboolean
ew_doip_error_get_header_nack (const GError *error,
                               guint8       *code,
                               gboolean     *must_close)
{
  if (error == NULL || error->domain != EW_DOIP_ERROR)
    return FALSE;
  /* ISO 13400-2 generic header handling: pattern and payload length errors close
   * the socket, the others only discard the message */
  switch (error->code)
    {
    case EW_DOIP_ERROR_INCORRECT_PATTERN:
      *code = EW_DOIP_NACK_INCORRECT_PATTERN;
      *must_close = TRUE;
      return TRUE;
    case EW_DOIP_ERROR_UNKNOWN_PAYLOAD_TYPE:
      *code = EW_DOIP_NACK_UNKNOWN_PAYLOAD_TYPE;
      *must_close = FALSE;
      return TRUE;
    case EW_DOIP_ERROR_MESSAGE_TOO_LARGE:
      *code = EW_DOIP_NACK_MESSAGE_TOO_LARGE;
      *must_close = FALSE;
      return TRUE;
    case EW_DOIP_ERROR_OUT_OF_MEMORY:
      *code = EW_DOIP_NACK_OUT_OF_MEMORY;
      *must_close = FALSE;
      return TRUE;
    case EW_DOIP_ERROR_INVALID_PAYLOAD_LENGTH:
      *code = EW_DOIP_NACK_INVALID_PAYLOAD_LENGTH;
      *must_close = TRUE;
      return TRUE;
    default:
      return FALSE;
    }
}

/* ---- stream parser ---- */

struct _EwDoipStreamParser {
  GByteArray *buffer;
  gsize       start;          /* buffer bytes before it are parsed already */
  gsize       max_payload_length;
  guint64     skip_bytes;     /* payload of a discarded message still to come */
  GError     *fatal;          /* set once the stream cannot be resynchronised */
  guint8      last_version;
};

EwDoipStreamParser *
ew_doip_stream_parser_new (gsize max_payload_length)
{
  EwDoipStreamParser *parser = g_new0 (EwDoipStreamParser, 1);

  parser->buffer = g_byte_array_new ();
  parser->max_payload_length = max_payload_length;
  return parser;
}

void
ew_doip_stream_parser_free (EwDoipStreamParser *parser)
{
  if (parser == NULL)
    return;
  g_byte_array_unref (parser->buffer);
  g_clear_error (&parser->fatal);
  g_free (parser);
}

void
ew_doip_stream_parser_push (EwDoipStreamParser *parser,
                            const guint8       *data,
                            gsize               length)
{
  if (parser->fatal != NULL || length == 0)
    return;
  if (parser->skip_bytes > 0)
    {
      gsize skip = MIN (parser->skip_bytes, length);

      parser->skip_bytes -= skip;
      data += skip;
      length -= skip;
    }
  if (length == 0)
    return;
  /* parsed bytes go before new ones come: at once when nothing is left,
   * else once they are the larger part, so that each is moved rarely */
  if (parser->start > 0 && parser->start * 2 >= parser->buffer->len)
    {
      g_byte_array_remove_range (parser->buffer, 0, parser->start);
      parser->start = 0;
    }
  g_byte_array_append (parser->buffer, data, length);
}

/* Drops n parsed bytes from the front. */
static void
parser_consume (EwDoipStreamParser *parser,
                gsize               n)
{
  parser->start += n;
  if (parser->start >= parser->buffer->len)
    {
      g_byte_array_set_size (parser->buffer, 0);
      parser->start = 0;
    }
}

guint8
ew_doip_stream_parser_get_last_version (EwDoipStreamParser *parser)
{
  return parser->last_version;
}

EwDoipMessage *
ew_doip_stream_parser_next (EwDoipStreamParser  *parser,
                            GError             **error)
{
  EwDoipHeader header = { 0 };
  g_autoptr(GError) local_error = NULL;
  EwDoipMessage *message;
  const guint8 *data;
  gsize length, total;

  if (parser->fatal != NULL)
    {
      g_propagate_error (error, g_error_copy (parser->fatal));
      return NULL;
    }
  data = parser->buffer->data + parser->start;
  length = parser->buffer->len - parser->start;
  if (length < EW_DOIP_HEADER_LENGTH)
    return NULL;

  parser->last_version = data[0];
  if (!ew_doip_header_decode (data, length, parser->max_payload_length, &header, &local_error))
    {
      guint8 code;
      gboolean must_close = TRUE;

      ew_doip_error_get_header_nack (local_error, &code, &must_close);
      if (must_close)
        {
          parser->fatal = g_error_copy (local_error);
          parser_consume (parser, length);
        }
      else
        {
          /* discard this message, payload and all, and go on */
          guint64 have = length - EW_DOIP_HEADER_LENGTH;

          if (have >= header.payload_length)
            parser_consume (parser, EW_DOIP_HEADER_LENGTH + header.payload_length);
          else
            {
              parser->skip_bytes = header.payload_length - have;
              parser_consume (parser, length);
            }
        }
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  total = EW_DOIP_HEADER_LENGTH + (gsize) header.payload_length;
  if (length < total)
    return NULL;

  message = ew_doip_message_new (header.protocol_version, header.payload_type,
                                 data + EW_DOIP_HEADER_LENGTH, header.payload_length);
  parser_consume (parser, total);
  return message;
}
