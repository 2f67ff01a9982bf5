/* doip-client.h — the tester's side of ISO 13400-2: vehicle identification
 * over UDP, one TCP_DATA connection with routing activation, diagnostic
 * messages with their acknowledgements, and EwDoipChannel, an EwChannel to
 * one target logical address over a shared connection.
 */
#pragma once

#include "doip/doip-message.h"
#include "link/channel.h"

G_BEGIN_DECLS

/* ISO 13400-2 timing parameters */
#define EW_DOIP_CTRL_TIMEOUT_MS               2000  /* A_DoIP_Ctrl */
#define EW_DOIP_DIAGNOSTIC_ACK_TIMEOUT_MS     2000  /* A_DoIP_Diagnostic_Message */
#define EW_DOIP_CONNECT_TIMEOUT_MS            2000

/* Parses "doip:HOST[:PORT]" (IPv6 literals in brackets, e.g.
 * "doip:[::1]:13400"); the port defaults to 13400. */
gboolean ew_doip_parse_uri (const char  *uri,
                            char       **host,
                            guint16     *port,
                            GError     **error);

/* Sends one vehicle identification request to host (NULL: the broadcast
 * address 255.255.255.255) and collects answers for timeout_ms; to a host
 * it returns with the first answer. With vin the request is 0x0003, with
 * eid 0x0002, else 0x0001. An empty array means nobody answered.
 * transfer full: array of EwDoipVehicleAnnouncement (g_free) */
GPtrArray *ew_doip_identify_vehicles (const char    *host,
                                      guint16        port,
                                      guint8         protocol_version,
                                      const char    *vin,
                                      const guint8  *eid,
                                      guint          timeout_ms,
                                      GCancellable  *cancellable,
                                      GError       **error);

#define EW_TYPE_DOIP_CLIENT (ew_doip_client_get_type ())
G_DECLARE_FINAL_TYPE (EwDoipClient, ew_doip_client, EW, DOIP_CLIENT, GObject)

/* Protocol version 2012, source address 0x0E80. */
EwDoipClient *ew_doip_client_new                    (void);
void          ew_doip_client_set_protocol_version   (EwDoipClient  *self,
                                                     guint8         protocol_version);
guint8        ew_doip_client_get_protocol_version   (EwDoipClient  *self);
void          ew_doip_client_set_source_address     (EwDoipClient  *self,
                                                     guint16        source_address);
guint16       ew_doip_client_get_source_address     (EwDoipClient  *self);
/* How long to wait for the entity's ACK of a diagnostic message. */
void          ew_doip_client_set_ack_timeout        (EwDoipClient  *self,
                                                     guint          timeout_ms);
/* The largest DoIP payload the entity accepts (its max data size); a
 * diagnostic message that would exceed it fails before it is sent.
 * 0: unknown, no limit. ew_doip_client_request_entity_status() sets it. */
void          ew_doip_client_set_max_data_size      (EwDoipClient  *self,
                                                     guint32        max_data_size);
guint32       ew_doip_client_get_max_data_size      (EwDoipClient  *self);

/* Opens the TCP_DATA connection (port 0 means 13400). */
gboolean      ew_doip_client_connect                (EwDoipClient  *self,
                                                     const char    *host,
                                                     guint16        port,
                                                     guint          timeout_ms,
                                                     GCancellable  *cancellable,
                                                     GError       **error);
/* Asks the entity for its status over UDP at the connected host and
 * remembers its max data size. */
gboolean      ew_doip_client_request_entity_status  (EwDoipClient        *self,
                                                     EwDoipEntityStatus  *status,
                                                     guint                timeout_ms,
                                                     GCancellable        *cancellable,
                                                     GError             **error);
/* Routing activation (activation type 0x00 is the default); oem_specific
 * is NULL or 4 bytes. A response other than 0x10 fails with
 * EW_DOIP_ERROR_ROUTING_ACTIVATION naming the code; response, if not
 * NULL, receives the entity's answer either way. */
gboolean      ew_doip_client_activate_routing       (EwDoipClient                     *self,
                                                     guint8                            activation_type,
                                                     const guint8                     *oem_specific,
                                                     EwDoipRoutingActivationResponse  *response,
                                                     GCancellable                     *cancellable,
                                                     GError                          **error);
/* The entity's logical address from routing activation. */
guint16       ew_doip_client_get_entity_address     (EwDoipClient  *self);
/* Sends a diagnostic message and waits for the entity's ACK; a NACK
 * fails with EW_DOIP_ERROR_DIAGNOSTIC_NACK, its code in the message. */
gboolean      ew_doip_client_send_diagnostic        (EwDoipClient  *self,
                                                     guint16        target_address,
                                                     const guint8  *data,
                                                     gsize          length,
                                                     GCancellable  *cancellable,
                                                     GError       **error);
/* The next diagnostic message from target_address. transfer full */
GBytes       *ew_doip_client_receive_diagnostic     (EwDoipClient  *self,
                                                     guint16        target_address,
                                                     gint           timeout_ms,
                                                     GCancellable  *cancellable,
                                                     GError       **error);
/* The alive check requests the entity sent and we answered. */
guint         ew_doip_client_get_alive_checks_answered (EwDoipClient *self);
gboolean      ew_doip_client_is_connected           (EwDoipClient  *self);
/* "127.0.0.1:13400", or NULL before connecting. */
const char   *ew_doip_client_get_peer_name          (EwDoipClient  *self);
/* Closes the connection and fails waiting calls. */
void          ew_doip_client_close                  (EwDoipClient  *self);

#define EW_TYPE_DOIP_CHANNEL (ew_doip_channel_get_type ())
G_DECLARE_FINAL_TYPE (EwDoipChannel, ew_doip_channel, EW, DOIP_CHANNEL, GObject)

/* A channel to target_address over client, which it keeps a reference
 * to; several channels share one client. transfer full */
EwDoipChannel *ew_doip_channel_new                (EwDoipClient  *client,
                                                   guint16        target_address);
EwDoipClient  *ew_doip_channel_get_client         (EwDoipChannel *self);   /* transfer none */
guint16        ew_doip_channel_get_target_address (EwDoipChannel *self);

G_END_DECLS
