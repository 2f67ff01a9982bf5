/* doip-message.h — ISO 13400-2 (DoIP) messages: the generic header, the
 * payload types, their codes and names, encoders and validating decoders
 * that name the byte at fault, and a parser for a TCP byte stream that
 * arrives in arbitrary chunks. Shared by the tester (client) and the
 * simulated DoIP entity (server).
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define EW_DOIP_ERROR (ew_doip_error_quark ())

/* Failure classes of DoIP; timeouts and closed connections on a channel
 * use EW_CHANNEL_ERROR so that every transport looks alike. */
typedef enum {
  EW_DOIP_ERROR_TRUNCATED,              /* input ends inside a field */
  EW_DOIP_ERROR_INVALID_MESSAGE,        /* a field or a length is wrong */
  EW_DOIP_ERROR_INCORRECT_PATTERN,      /* header NACK 0x00 */
  EW_DOIP_ERROR_UNKNOWN_PAYLOAD_TYPE,   /* header NACK 0x01 */
  EW_DOIP_ERROR_MESSAGE_TOO_LARGE,      /* header NACK 0x02, or too large to send */
  EW_DOIP_ERROR_OUT_OF_MEMORY,          /* header NACK 0x03 */
  EW_DOIP_ERROR_INVALID_PAYLOAD_LENGTH, /* header NACK 0x04 */
  EW_DOIP_ERROR_HEADER_NACK,            /* the peer answered a generic header NACK */
  EW_DOIP_ERROR_ROUTING_ACTIVATION,     /* routing activation was refused */
  EW_DOIP_ERROR_NOT_ACTIVATED,          /* diagnostics before routing activation */
  EW_DOIP_ERROR_DIAGNOSTIC_NACK,        /* the entity refused a diagnostic message */
  EW_DOIP_ERROR_CONNECT,                /* no TCP connection / socket failure */
  EW_DOIP_ERROR_ADDRESS,                /* a doip: URI or address is wrong */
} EwDoipError;

GQuark ew_doip_error_quark (void);

#define EW_DOIP_PORT                 13400   /* UDP_DISCOVERY and TCP_DATA */
#define EW_DOIP_HEADER_LENGTH        8
#define EW_DOIP_VIN_LENGTH           17
#define EW_DOIP_EID_LENGTH           6
#define EW_DOIP_GID_LENGTH           6
#define EW_DOIP_DEFAULT_SOURCE_ADDRESS 0x0E80
/* ISO 13400-2 logical addresses of external test equipment */
#define EW_DOIP_TESTER_ADDRESS_MIN   0x0E00
#define EW_DOIP_TESTER_ADDRESS_MAX   0x0FFF

/* ISO 13400-2 protocol version (header byte 0; byte 1 is its inverse) */
typedef enum {
  EW_DOIP_VERSION_2010    = 0x01,
  EW_DOIP_VERSION_2012    = 0x02,
  EW_DOIP_VERSION_2019    = 0x03,
  /* only in vehicle identification requests */
  EW_DOIP_VERSION_DEFAULT = 0xFF,
} EwDoipVersion;

/* ISO 13400-2 payload types */
typedef enum {
  EW_DOIP_GENERIC_NACK                          = 0x0000,
  EW_DOIP_VEHICLE_IDENTIFICATION_REQUEST        = 0x0001,
  EW_DOIP_VEHICLE_IDENTIFICATION_REQUEST_EID    = 0x0002,
  EW_DOIP_VEHICLE_IDENTIFICATION_REQUEST_VIN    = 0x0003,
  EW_DOIP_VEHICLE_ANNOUNCEMENT                  = 0x0004, /* also the identification response */
  EW_DOIP_ROUTING_ACTIVATION_REQUEST            = 0x0005,
  EW_DOIP_ROUTING_ACTIVATION_RESPONSE           = 0x0006,
  EW_DOIP_ALIVE_CHECK_REQUEST                   = 0x0007,
  EW_DOIP_ALIVE_CHECK_RESPONSE                  = 0x0008,
  EW_DOIP_ENTITY_STATUS_REQUEST                 = 0x4001,
  EW_DOIP_ENTITY_STATUS_RESPONSE                = 0x4002,
  EW_DOIP_POWER_MODE_REQUEST                    = 0x4003,
  EW_DOIP_POWER_MODE_RESPONSE                   = 0x4004,
  EW_DOIP_DIAGNOSTIC_MESSAGE                    = 0x8001,
  EW_DOIP_DIAGNOSTIC_MESSAGE_ACK                = 0x8002,
  EW_DOIP_DIAGNOSTIC_MESSAGE_NACK               = 0x8003,
} EwDoipPayloadType;

/* ISO 13400-2 generic DoIP header NACK codes */
typedef enum {
  EW_DOIP_NACK_INCORRECT_PATTERN       = 0x00,   /* the socket is closed */
  EW_DOIP_NACK_UNKNOWN_PAYLOAD_TYPE    = 0x01,
  EW_DOIP_NACK_MESSAGE_TOO_LARGE       = 0x02,
  EW_DOIP_NACK_OUT_OF_MEMORY           = 0x03,
  EW_DOIP_NACK_INVALID_PAYLOAD_LENGTH  = 0x04,   /* the socket is closed */
} EwDoipHeaderNack;

/* ISO 13400-2 routing activation response codes */
typedef enum {
  EW_DOIP_ROUTING_UNKNOWN_SOURCE_ADDRESS   = 0x00,
  EW_DOIP_ROUTING_NO_FREE_SOCKET           = 0x01,
  EW_DOIP_ROUTING_SOURCE_ADDRESS_MISMATCH  = 0x02,
  EW_DOIP_ROUTING_SOURCE_ADDRESS_IN_USE    = 0x03,
  EW_DOIP_ROUTING_MISSING_AUTHENTICATION   = 0x04,
  EW_DOIP_ROUTING_REJECTED_CONFIRMATION    = 0x05,
  EW_DOIP_ROUTING_UNSUPPORTED_TYPE         = 0x06,
  EW_DOIP_ROUTING_SUCCESS                  = 0x10,
  EW_DOIP_ROUTING_CONFIRMATION_REQUIRED    = 0x11,
} EwDoipRoutingResponseCode;

/* ISO 13400-2 routing activation types */
#define EW_DOIP_ACTIVATION_DEFAULT         0x00
#define EW_DOIP_ACTIVATION_WWH_OBD         0x01
#define EW_DOIP_ACTIVATION_CENTRAL_SECURITY 0xE0

/* ISO 13400-2 diagnostic message ACK and NACK codes */
typedef enum {
  EW_DOIP_DIAG_ACK                         = 0x00,
  EW_DOIP_DIAG_NACK_INVALID_SOURCE_ADDRESS = 0x02,
  EW_DOIP_DIAG_NACK_UNKNOWN_TARGET_ADDRESS = 0x03,
  EW_DOIP_DIAG_NACK_MESSAGE_TOO_LARGE      = 0x04,
  EW_DOIP_DIAG_NACK_OUT_OF_MEMORY          = 0x05,
  EW_DOIP_DIAG_NACK_TARGET_UNREACHABLE     = 0x06,
  EW_DOIP_DIAG_NACK_UNKNOWN_NETWORK        = 0x07,
  EW_DOIP_DIAG_NACK_TRANSPORT_ERROR        = 0x08,
} EwDoipDiagnosticCode;

/* Names for logs and error messages; unknown values give "reserved". */
const char *ew_doip_payload_type_name   (guint16 payload_type);
const char *ew_doip_header_nack_name    (guint8  code);
const char *ew_doip_routing_code_name   (guint8  code);
const char *ew_doip_diagnostic_code_name (guint8 code);

/* Whether the payload length is allowed for the payload type (the payload
 * type definitions); FALSE also for unknown types. */
gboolean    ew_doip_payload_type_is_known    (guint16 payload_type);
gboolean    ew_doip_payload_length_is_valid  (guint16 payload_type,
                                              gsize   payload_length);

typedef struct {
  guint8  protocol_version;
  guint16 payload_type;
  guint32 payload_length;
} EwDoipHeader;

/* One whole message. */
typedef struct {
  guint8   protocol_version;
  guint16  payload_type;
  GBytes  *payload;          /* owned */
} EwDoipMessage;

EwDoipMessage *ew_doip_message_new  (guint8         protocol_version,
                                     guint16        payload_type,
                                     const guint8  *payload,
                                     gsize          payload_length);
void           ew_doip_message_free (EwDoipMessage *message);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EwDoipMessage, ew_doip_message_free)

/* ---- encoding: each returns the whole message, header included ---- */

GBytes *ew_doip_encode (guint8         protocol_version,
                        guint16        payload_type,
                        const guint8  *payload,
                        gsize          payload_length);

typedef struct {
  char    vin[EW_DOIP_VIN_LENGTH + 1];  /* NUL-terminated */
  guint16 logical_address;
  guint8  eid[EW_DOIP_EID_LENGTH];
  guint8  gid[EW_DOIP_GID_LENGTH];
  guint8  further_action;               /* 0x00 none, 0x10 central security */
  gboolean has_sync_status;
  guint8  sync_status;                  /* 0x00 synchronised, 0x10 not */
  /* filled in by ew_doip_identify_vehicles(): who answered */
  char    entity_host[64];
  guint16 entity_port;
} EwDoipVehicleAnnouncement;

typedef struct {
  guint16  tester_address;
  guint16  entity_address;
  guint8   response_code;
  gboolean has_oem_specific;
  guint8   oem_specific[4];
} EwDoipRoutingActivationResponse;

typedef struct {
  guint16  source_address;
  guint8   activation_type;
  gboolean has_oem_specific;
  guint8   oem_specific[4];
} EwDoipRoutingActivationRequest;

typedef struct {
  guint8   node_type;                 /* 0x00 gateway, 0x01 node */
  guint8   max_open_sockets;
  guint8   open_sockets;
  gboolean has_max_data_size;
  guint32  max_data_size;
} EwDoipEntityStatus;

/* vin and eid may be NULL; with vin the request is 0x0003, with eid
 * 0x0002, otherwise 0x0001. vin must be 17 characters. */
GBytes *ew_doip_encode_vehicle_identification_request (guint8                               protocol_version,
                                                       const char                          *vin,
                                                       const guint8                        *eid);
GBytes *ew_doip_encode_vehicle_announcement           (guint8                               protocol_version,
                                                       const EwDoipVehicleAnnouncement     *announcement);
GBytes *ew_doip_encode_routing_activation_request     (guint8                               protocol_version,
                                                       const EwDoipRoutingActivationRequest *request);
GBytes *ew_doip_encode_routing_activation_response    (guint8                               protocol_version,
                                                       const EwDoipRoutingActivationResponse *response);
GBytes *ew_doip_encode_alive_check_response           (guint8                               protocol_version,
                                                       guint16                              source_address);
GBytes *ew_doip_encode_entity_status_response         (guint8                               protocol_version,
                                                       const EwDoipEntityStatus            *status);
GBytes *ew_doip_encode_diagnostic_message             (guint8                               protocol_version,
                                                       guint16                              source_address,
                                                       guint16                              target_address,
                                                       const guint8                        *user_data,
                                                       gsize                                length);
/* The generic header, source and target address of a diagnostic message
 * with length bytes of user data: what goes before the user data, so that
 * a sender can write both without copying the data into one buffer. */
#define EW_DOIP_DIAGNOSTIC_HEADER_LENGTH (EW_DOIP_HEADER_LENGTH + 4)
void    ew_doip_diagnostic_message_header             (guint8                              *out,
                                                       guint8                               protocol_version,
                                                       guint16                              source_address,
                                                       guint16                              target_address,
                                                       gsize                                length);
/* code 0x00 gives a positive ACK (0x8002), any other a NACK (0x8003) */
GBytes *ew_doip_encode_diagnostic_ack                 (guint8                               protocol_version,
                                                       guint16                              source_address,
                                                       guint16                              target_address,
                                                       guint8                               code);
GBytes *ew_doip_encode_generic_nack                   (guint8                               protocol_version,
                                                       guint8                               code);

/* ---- decoding ----
 * Byte offsets in error messages count from the start of the DoIP
 * message: the header is bytes 0–7, the payload starts at byte 8. */

/* Checks the 8 header bytes (in the order of ISO 13400-2 header handling: pattern,
 * payload type, length against max_payload_length, length for the type).
 * The error code tells which header NACK answers it. */
gboolean ew_doip_header_decode (const guint8  *data,
                                gsize          length,
                                gsize          max_payload_length,
                                EwDoipHeader  *header,
                                GError       **error);

/* A whole datagram or buffer holding exactly one message. */
EwDoipMessage *ew_doip_message_decode (const guint8  *data,
                                       gsize          length,
                                       gsize          max_payload_length,
                                       GError       **error);

gboolean ew_doip_decode_vehicle_announcement        (GBytes                           *payload,
                                                     EwDoipVehicleAnnouncement        *announcement,
                                                     GError                          **error);
gboolean ew_doip_decode_routing_activation_request  (GBytes                           *payload,
                                                     EwDoipRoutingActivationRequest   *request,
                                                     GError                          **error);
gboolean ew_doip_decode_routing_activation_response (GBytes                           *payload,
                                                     EwDoipRoutingActivationResponse  *response,
                                                     GError                          **error);
gboolean ew_doip_decode_entity_status_response      (GBytes                           *payload,
                                                     EwDoipEntityStatus               *status,
                                                     GError                          **error);
gboolean ew_doip_decode_alive_check_response        (GBytes                           *payload,
                                                     guint16                          *source_address,
                                                     GError                          **error);
/* user_data points into payload. */
gboolean ew_doip_decode_diagnostic_message          (GBytes                           *payload,
                                                     guint16                          *source_address,
                                                     guint16                          *target_address,
                                                     const guint8                    **user_data,
                                                     gsize                            *user_data_length,
                                                     GError                          **error);
gboolean ew_doip_decode_diagnostic_ack              (GBytes                           *payload,
                                                     guint16                          *source_address,
                                                     guint16                          *target_address,
                                                     guint8                           *code,
                                                     GError                          **error);
gboolean ew_doip_decode_generic_nack                (GBytes                           *payload,
                                                     guint8                           *code,
                                                     GError                          **error);

/* Which header NACK code answers a decoding error; FALSE when none does.
 * *must_close tells whether the standard then closes the TCP socket. */
gboolean ew_doip_error_get_header_nack (const GError *error,
                                        guint8       *code,
                                        gboolean     *must_close);

/* ---- stream parser ---- */

typedef struct _EwDoipStreamParser EwDoipStreamParser;

EwDoipStreamParser *ew_doip_stream_parser_new  (gsize               max_payload_length);
void                ew_doip_stream_parser_free (EwDoipStreamParser *parser);
void                ew_doip_stream_parser_push (EwDoipStreamParser *parser,
                                                const guint8       *data,
                                                gsize               length);
/* The next complete message (transfer full), or NULL: with *error set
 * when the stream holds a bad header, else when more bytes are needed.
 * After an error whose header NACK does not close the socket, the bad
 * message's payload is skipped and parsing goes on; after one that does,
 * every further call fails the same way. */
EwDoipMessage      *ew_doip_stream_parser_next (EwDoipStreamParser *parser,
                                                GError            **error);
/* The protocol version of the last header seen (for answering a NACK in
 * the peer's version), or 0 before any. */
guint8              ew_doip_stream_parser_get_last_version (EwDoipStreamParser *parser);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EwDoipStreamParser, ew_doip_stream_parser_free)

G_END_DECLS
