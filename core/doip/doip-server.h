/* doip-server.h — a DoIP entity (ISO 13400-2), what a vehicle's gateway
 * is: vehicle identification and entity status over UDP, routing
 * activation, alive check and diagnostic messages over TCP, for several
 * testers at once. The simulated vehicle puts its ECUs behind it; a fault
 * injector can drop connections and drop or delay diagnostic messages.
 *
 * A routing activation for a tester address already active on another
 * socket sends that socket an alive check request: if it answers within
 * A_DoIP_Alive_Check (500 ms), the new socket is refused (0x03, source
 * address in use); if not, the old socket is closed and the new one is
 * activated.
 */
#pragma once

#include "doip/doip-message.h"

G_BEGIN_DECLS

#define EW_TYPE_DOIP_SERVER (ew_doip_server_get_type ())
G_DECLARE_FINAL_TYPE (EwDoipServer, ew_doip_server, EW, DOIP_SERVER, GObject)

/* Through a responder a handler answers one diagnostic request: zero or
 * more messages (e.g. 0x7F SID 0x78 "response pending", then the final
 * response), from any thread, also after the handler has returned. */
typedef struct _EwDoipResponder EwDoipResponder;

EwDoipResponder *ew_doip_responder_ref                (EwDoipResponder *responder);
void             ew_doip_responder_unref              (EwDoipResponder *responder);
/* Sends one diagnostic message from the ECU to the tester. Fails with
 * EW_CHANNEL_ERROR_CLOSED once the tester's connection is gone. */
gboolean         ew_doip_responder_send               (EwDoipResponder *responder,
                                                       const guint8    *data,
                                                       gsize            length,
                                                       GError         **error);
guint16          ew_doip_responder_get_tester_address (EwDoipResponder *responder);
guint16          ew_doip_responder_get_ecu_address    (EwDoipResponder *responder);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EwDoipResponder, ew_doip_responder_unref)

/* Called on the server's thread for each diagnostic message to a known
 * target, after the positive ACK was queued: the ACK leaves together with
 * the first answer sent during the call (one TCP segment), or when the
 * handler returns. It must not block: work that takes time keeps a
 * reference to the responder and answers later from another thread, so
 * that requests to different targets run concurrently; quick work may
 * answer within the call. */
typedef void (*EwDoipDiagnosticHandler) (EwDoipServer    *server,
                                         guint16          tester_address,
                                         guint16          target_address,
                                         GBytes          *request,
                                         EwDoipResponder *responder,
                                         gpointer         user_data);

typedef enum {
  EW_DOIP_FAULT_PASS,
  EW_DOIP_FAULT_DROP,    /* incoming: ACKed but never reaches the ECU; outgoing: lost */
  EW_DOIP_FAULT_DELAY,   /* by *delay_ms */
} EwDoipFaultAction;

/* Consulted for every diagnostic message, from any thread. */
typedef EwDoipFaultAction (*EwDoipFaultFunc) (EwDoipServer *server,
                                              gboolean      is_to_entity,
                                              guint16       source_address,
                                              guint16       target_address,
                                              GBytes       *data,
                                              guint        *delay_ms,
                                              gpointer      user_data);

/* VIN "", EID and GID zero, logical address 0x1000, version 2012,
 * 127.0.0.1 port 13400, up to 4 sockets, max data size 65536 bytes. */
EwDoipServer *ew_doip_server_new                   (void);

/* Settings, before start. Port 0 lets the kernel choose (see get_port). */
void     ew_doip_server_set_address                (EwDoipServer  *self,
                                                    const char    *host,
                                                    guint16        port);
void     ew_doip_server_set_vin                    (EwDoipServer  *self,
                                                    const char    *vin);
void     ew_doip_server_set_eid                    (EwDoipServer  *self,
                                                    const guint8  *eid);
void     ew_doip_server_set_gid                    (EwDoipServer  *self,
                                                    const guint8  *gid);
void     ew_doip_server_set_logical_address        (EwDoipServer  *self,
                                                    guint16        logical_address);
/* The version of announcements and of answers to version 0xFF requests;
 * every other answer uses the version of the message it answers. */
void     ew_doip_server_set_protocol_version       (EwDoipServer  *self,
                                                    guint8         protocol_version);
void     ew_doip_server_set_max_data_size          (EwDoipServer  *self,
                                                    guint32        max_data_size);
void     ew_doip_server_set_max_sockets            (EwDoipServer  *self,
                                                    guint8         max_sockets);
/* With registered testers, only they may activate routing; without any,
 * every external tester address 0x0E00–0x0FFF may. */
void     ew_doip_server_add_tester_address         (EwDoipServer  *self,
                                                    guint16        tester_address);
/* Logical addresses of the ECUs behind the entity. */
void     ew_doip_server_add_target_address         (EwDoipServer  *self,
                                                    guint16        target_address);
/* Where vehicle announcements go on start (three, 500 ms apart);
 * NULL host: none are sent. */
void     ew_doip_server_set_announce_address       (EwDoipServer  *self,
                                                    const char    *host,
                                                    guint16        port);
void     ew_doip_server_set_handler                (EwDoipServer            *self,
                                                    EwDoipDiagnosticHandler  handler,
                                                    gpointer                 user_data,
                                                    GDestroyNotify           destroy);
void     ew_doip_server_set_fault_func             (EwDoipServer            *self,
                                                    EwDoipFaultFunc          func,
                                                    gpointer                 user_data,
                                                    GDestroyNotify           destroy);

/* Binds TCP and UDP and starts the server thread. */
gboolean ew_doip_server_start                      (EwDoipServer  *self,
                                                    GError       **error);
/* Stops the thread and closes every socket; waiting testers see the
 * connection close. */
void     ew_doip_server_stop                       (EwDoipServer  *self);
gboolean ew_doip_server_is_running                 (EwDoipServer  *self);
guint16  ew_doip_server_get_port                   (EwDoipServer  *self);
/* Closes every tester connection (a link drop); the server listens on. */
void     ew_doip_server_drop_connections           (EwDoipServer  *self);
guint    ew_doip_server_get_connection_count       (EwDoipServer  *self);
/* Sends an alive check request on every connection. */
void     ew_doip_server_send_alive_checks          (EwDoipServer  *self);
/* Alive check responses received so far. */
guint    ew_doip_server_get_alive_check_responses  (EwDoipServer  *self);

G_END_DECLS
