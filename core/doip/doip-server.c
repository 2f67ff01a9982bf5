/* doip-server.c — a DoIP entity on its own thread and GMainContext. The
 * thread accepts testers, reads their sockets and the UDP socket, and
 * answers everything of DoIP itself; diagnostic requests go to the
 * handler, whose answers may come from any thread: each connection has a
 * lock that serialises writes and closing.
 */
#define G_LOG_DOMAIN "ew-doip"

#include "doip-server.h"
#include "doip-private.h"
#include "link/channel.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#define WRITE_TIMEOUT_MS        2000
#define ANNOUNCE_COUNT          3     /* A_DoIP_Announce_Num */
#define ANNOUNCE_INTERVAL_MS    500   /* A_DoIP_Announce_Interval */
#define UDP_MAX_DATAGRAM        1500
#define ALIVE_CHECK_TIMEOUT_MS  500   /* A_DoIP_Alive_Check */

typedef struct {
  gint                 ref;
  EwDoipServer        *server;     /* unowned; valid while listed in server->conns */
  GSocket             *socket;
  GSource             *source;     /* server thread only */
  EwDoipStreamParser  *parser;
  GMutex               lock;       /* writes and closing */
  gboolean             is_closed;
  /* under lock: a diagnostic ACK held back so that it leaves in one
   * segment with the answer that follows it (one wake-up of the tester
   * instead of two); flushed at the latest when the handler returns */
  GByteArray          *held;
  /* server thread only */
  gboolean             has_tester;
  guint16              tester_address;
  guint8               version;
  struct _AliveCheck  *alive_check;  /* asked of this socket, answer awaited */
  GSource             *alive_source; /* its timeout */
} Conn;

/* A routing activation waiting for the alive check of the socket that
 * holds the same tester address (ISO 13400-2 socket handling). */
typedef struct _AliveCheck {
  EwDoipServer                   *server;   /* unowned: the sources die with the server */
  Conn                           *old;      /* owned */
  Conn                           *waiter;   /* owned: the socket asking for activation */
  EwDoipRoutingActivationRequest  request;
  guint8                          version;
} AliveCheck;

struct _EwDoipResponder {
  gint           ref;
  EwDoipServer  *server;          /* owned */
  Conn          *conn;            /* owned */
  guint16        tester_address;
  guint16        ecu_address;
  guint8         version;
};

struct _EwDoipServer {
  GObject                   parent_instance;

  /* settings */
  char                     *host;
  guint16                   port;
  char                      vin[EW_DOIP_VIN_LENGTH + 1];
  guint8                    eid[EW_DOIP_EID_LENGTH];
  guint8                    gid[EW_DOIP_GID_LENGTH];
  guint16                   logical_address;
  guint8                    version;
  guint32                   max_data_size;
  gint                      max_sockets;    /* atomic: may change while running */
  GArray                   *testers;        /* guint16 */
  GArray                   *targets;        /* guint16 */
  char                     *announce_host;
  guint16                   announce_port;
  EwDoipDiagnosticHandler   handler;
  gpointer                  handler_data;
  GDestroyNotify            handler_destroy;
  EwDoipFaultFunc           fault_func;
  gpointer                  fault_data;
  GDestroyNotify            fault_destroy;

  /* running */
  GMutex                    lock;           /* conns, is_running, counters */
  GPtrArray                *conns;          /* Conn, owned */
  gboolean                  is_running;
  GMainContext             *context;
  GMainLoop                *loop;
  GThread                  *thread;
  GSocket                  *listener;
  GSocket                  *udp;
  guint16                   bound_port;
  guint                     alive_check_responses;
  guint                     announcements_sent;
};

G_DEFINE_FINAL_TYPE (EwDoipServer, ew_doip_server, G_TYPE_OBJECT)

/* ---- connections ---- */

static Conn *
conn_ref (Conn *conn)
{
  g_atomic_int_inc (&conn->ref);
  return conn;
}

static void
conn_unref (Conn *conn)
{
  if (!g_atomic_int_dec_and_test (&conn->ref))
    return;
  g_clear_object (&conn->socket);
  g_clear_pointer (&conn->held, g_byte_array_unref);
  ew_doip_stream_parser_free (conn->parser);
  g_mutex_clear (&conn->lock);
  g_free (conn);
}

/* Writes head and data (either may be empty) after whatever is held
 * back, in one sendmsg() where the socket takes it; conn->lock held. */
static gboolean
conn_write_locked (Conn          *conn,
                   const guint8  *head,
                   gsize          head_length,
                   const guint8  *data,
                   gsize          length,
                   GError       **error)
{
  g_autoptr(GByteArray) held = g_steal_pointer (&conn->held);
  GOutputVector vectors[3] = {
    { held != NULL ? held->data : NULL, held != NULL ? held->len : 0 },
    { head, head_length },
    { data, length },
  };

  if (conn->is_closed)
    {
      g_set_error (error, EW_CHANNEL_ERROR, EW_CHANNEL_ERROR_CLOSED,
                   "DoIP entity: the tester's connection is closed");
      return FALSE;
    }
  return ew_doip_socket_send_vectors (conn->socket, vectors, G_N_ELEMENTS (vectors),
                                      WRITE_TIMEOUT_MS, NULL, error);
}

static gboolean
conn_write_data (Conn          *conn,
                 const guint8  *data,
                 gsize          length,
                 GError       **error)
{
  gboolean ok;

  g_mutex_lock (&conn->lock);
  ok = conn_write_locked (conn, NULL, 0, data, length, error);
  g_mutex_unlock (&conn->lock);
  return ok;
}

static gboolean
conn_write (Conn     *conn,
            GBytes   *message,
            GError  **error)
{
  return conn_write_data (conn, g_bytes_get_data (message, NULL), g_bytes_get_size (message), error);
}

/* Keeps message to go out with the next write. */
static void
conn_hold (Conn   *conn,
           GBytes *message)
{
  g_mutex_lock (&conn->lock);
  if (!conn->is_closed)
    {
      if (conn->held == NULL)
        conn->held = g_byte_array_sized_new (64);
      g_byte_array_append (conn->held, g_bytes_get_data (message, NULL), g_bytes_get_size (message));
    }
  g_mutex_unlock (&conn->lock);
}

/* Sends what is held back, if anything. */
static void
conn_flush (Conn *conn)
{
  g_autoptr(GError) error = NULL;

  g_mutex_lock (&conn->lock);
  if (conn->held != NULL && !conn_write_locked (conn, NULL, 0, NULL, 0, &error))
    g_debug ("DoIP entity: %s", error->message);
  g_mutex_unlock (&conn->lock);
}

static void
conn_write_or_log (Conn   *conn,
                   GBytes *message)
{
  g_autoptr(GError) error = NULL;

  if (!conn_write (conn, message, &error))
    g_debug ("DoIP entity: %s", error->message);
}

/* Marks closed and closes the socket; any thread. */
static void
conn_shut (Conn *conn)
{
  g_mutex_lock (&conn->lock);
  if (!conn->is_closed)
    {
      conn->is_closed = TRUE;
      g_socket_close (conn->socket, NULL);
    }
  g_mutex_unlock (&conn->lock);
}

static void alive_check_finish (AliveCheck *check,
                                gboolean    is_alive);

/* Server thread: ends an alive check of conn that is waited for. */
static void
conn_end_alive_check (Conn     *conn,
                      gboolean  is_alive)
{
  AliveCheck *check = g_steal_pointer (&conn->alive_check);
  GSource *source = g_steal_pointer (&conn->alive_source);

  if (check != NULL)
    alive_check_finish (check, is_alive);
  if (source != NULL)
    {
      /* frees check */
      g_source_destroy (source);
      g_source_unref (source);
    }
}

/* Server thread: closes and forgets the connection. */
static void
conn_close (EwDoipServer *self,
            Conn         *conn)
{
  conn_shut (conn);
  if (conn->source != NULL)
    {
      g_source_destroy (conn->source);
      g_clear_pointer (&conn->source, g_source_unref);
    }
  g_mutex_lock (&self->lock);
  conn_ref (conn);
  g_ptr_array_remove (self->conns, conn);
  g_mutex_unlock (&self->lock);
  /* a socket that closes does not answer its alive check */
  conn_end_alive_check (conn, FALSE);
  conn_unref (conn);
}

/* ---- responder ---- */

EwDoipResponder *
ew_doip_responder_ref (EwDoipResponder *responder)
{
  g_return_val_if_fail (responder != NULL, NULL);
  g_atomic_int_inc (&responder->ref);
  return responder;
}

void
ew_doip_responder_unref (EwDoipResponder *responder)
{
  if (responder == NULL || !g_atomic_int_dec_and_test (&responder->ref))
    return;
  conn_unref (responder->conn);
  g_object_unref (responder->server);
  g_free (responder);
}

guint16
ew_doip_responder_get_tester_address (EwDoipResponder *responder)
{
  return responder->tester_address;
}

guint16
ew_doip_responder_get_ecu_address (EwDoipResponder *responder)
{
  return responder->ecu_address;
}

typedef struct {
  Conn   *conn;
  GBytes *message;
} DelayedWrite;

static void
delayed_write_free (DelayedWrite *d)
{
  conn_unref (d->conn);
  g_bytes_unref (d->message);
  g_free (d);
}

static gboolean
delayed_write_cb (gpointer data)
{
  DelayedWrite *d = data;

  conn_write_or_log (d->conn, d->message);
  return G_SOURCE_REMOVE;
}

/* Runs func on the server thread after delay_ms; FALSE when stopped. */
static gboolean
schedule (EwDoipServer   *self,
          guint           delay_ms,
          GSourceFunc     func,
          gpointer        data,
          GDestroyNotify  destroy)
{
  gboolean scheduled = FALSE;

  g_mutex_lock (&self->lock);
  if (self->is_running)
    {
      GSource *source = g_timeout_source_new (delay_ms);

      g_source_set_callback (source, func, data, destroy);
      g_source_attach (source, self->context);
      g_source_unref (source);
      scheduled = TRUE;
    }
  g_mutex_unlock (&self->lock);
  if (!scheduled)
    destroy (data);
  return scheduled;
}

static EwDoipFaultAction
consult_fault (EwDoipServer *self,
               gboolean      is_to_entity,
               guint16       source_address,
               guint16       target_address,
               GBytes       *data,
               guint        *delay_ms)
{
  *delay_ms = 0;
  if (self->fault_func == NULL)
    return EW_DOIP_FAULT_PASS;
  return self->fault_func (self, is_to_entity, source_address, target_address, data, delay_ms,
                           self->fault_data);
}

gboolean
ew_doip_responder_send (EwDoipResponder  *responder,
                        const guint8     *data,
                        gsize             length,
                        GError          **error)
{
  g_autoptr(GBytes) user_data = NULL;
  EwDoipFaultAction action = EW_DOIP_FAULT_PASS;
  guint delay_ms = 0;
  guint8 head[EW_DOIP_DIAGNOSTIC_HEADER_LENGTH];
  gboolean ok;

  g_return_val_if_fail (responder != NULL, FALSE);
  g_return_val_if_fail (data != NULL && length > 0, FALSE);
  g_return_val_if_fail (length <= G_MAXUINT32 - 4, FALSE);

  if (responder->server->fault_func != NULL)
    {
      user_data = g_bytes_new (data, length);
      action = consult_fault (responder->server, FALSE, responder->ecu_address,
                              responder->tester_address, user_data, &delay_ms);
    }
  switch (action)
    {
    case EW_DOIP_FAULT_DROP:
      return TRUE;
    case EW_DOIP_FAULT_DELAY:
      {
        DelayedWrite *d = g_new0 (DelayedWrite, 1);

        d->conn = conn_ref (responder->conn);
        d->message = ew_doip_encode_diagnostic_message (responder->version, responder->ecu_address,
                                                        responder->tester_address, data, length);
        if (!schedule (responder->server, delay_ms, delayed_write_cb, d,
                       (GDestroyNotify) delayed_write_free))
          {
            g_set_error (error, EW_CHANNEL_ERROR, EW_CHANNEL_ERROR_CLOSED,
                         "DoIP entity 0x%04X: stopped", responder->ecu_address);
            return FALSE;
          }
        return TRUE;
      }
    case EW_DOIP_FAULT_PASS:
    default:
      /* header and user data in place, without building the message */
      ew_doip_diagnostic_message_header (head, responder->version, responder->ecu_address,
                                         responder->tester_address, length);
      g_mutex_lock (&responder->conn->lock);
      ok = conn_write_locked (responder->conn, head, sizeof head, data, length, error);
      g_mutex_unlock (&responder->conn->lock);
      return ok;
    }
}

/* ---- TCP: routing activation, alive check, diagnostics ---- */

static gboolean
array_has (GArray  *array,
           guint16  value)
{
  for (guint i = 0; i < array->len; i++)
    if (g_array_index (array, guint16, i) == value)
      return TRUE;
  return FALSE;
}

/* *in_use_by (nullable): the other socket that holds the tester address,
 * when the answer is 0x03. */
static guint8
routing_decision (EwDoipServer                         *self,
                  Conn                                 *conn,
                  const EwDoipRoutingActivationRequest *request,
                  Conn                                **in_use_by)
{
  guint registered = 0;
  Conn *in_use = NULL;

  if (request->activation_type != EW_DOIP_ACTIVATION_DEFAULT &&
      request->activation_type != EW_DOIP_ACTIVATION_WWH_OBD)
    return EW_DOIP_ROUTING_UNSUPPORTED_TYPE;
  if (self->testers->len > 0 ? !array_has (self->testers, request->source_address)
                             : (request->source_address < EW_DOIP_TESTER_ADDRESS_MIN ||
                                request->source_address > EW_DOIP_TESTER_ADDRESS_MAX))
    return EW_DOIP_ROUTING_UNKNOWN_SOURCE_ADDRESS;
  if (conn->has_tester && conn->tester_address != request->source_address)
    return EW_DOIP_ROUTING_SOURCE_ADDRESS_MISMATCH;

  g_mutex_lock (&self->lock);
  for (guint i = 0; i < self->conns->len; i++)
    {
      Conn *other = g_ptr_array_index (self->conns, i);

      if (other == conn || !other->has_tester)
        continue;
      registered++;
      if (other->tester_address == request->source_address)
        in_use = other;
    }
  g_mutex_unlock (&self->lock);

  if (in_use != NULL)
    {
      if (in_use_by != NULL)
        *in_use_by = in_use;
      return EW_DOIP_ROUTING_SOURCE_ADDRESS_IN_USE;
    }
  if (!conn->has_tester && registered >= (guint) g_atomic_int_get (&self->max_sockets))
    return EW_DOIP_ROUTING_NO_FREE_SOCKET;
  return EW_DOIP_ROUTING_SUCCESS;
}

/* Answers a routing activation with code; returns FALSE when the
 * connection was closed. */
static gboolean
routing_answer (EwDoipServer                         *self,
                Conn                                 *conn,
                const EwDoipRoutingActivationRequest *request,
                guint8                                version,
                guint8                                code)
{
  EwDoipRoutingActivationResponse response = { 0 };
  g_autoptr(GBytes) answer = NULL;

  response.tester_address = request->source_address;
  response.entity_address = self->logical_address;
  response.response_code = code;
  if (request->has_oem_specific)
    {
      response.has_oem_specific = TRUE;
      memcpy (response.oem_specific, request->oem_specific, 4);
    }
  answer = ew_doip_encode_routing_activation_response (version, &response);
  conn_write_or_log (conn, answer);

  if (code == EW_DOIP_ROUTING_SUCCESS)
    {
      conn->has_tester = TRUE;
      conn->tester_address = request->source_address;
      return TRUE;
    }
  /* ISO 13400-2 routing activation: every denial but missing authentication closes */
  if (code != EW_DOIP_ROUTING_MISSING_AUTHENTICATION)
    {
      conn_close (self, conn);
      return FALSE;
    }
  return TRUE;
}

static void
alive_check_free (AliveCheck *check)
{
  conn_unref (check->old);
  conn_unref (check->waiter);
  g_free (check);
}

/* Server thread: the old socket answered (it stays, the new one is
 * refused) or did not (it was closed, the new one is decided afresh). */
static void
alive_check_finish (AliveCheck *check,
                    gboolean    is_alive)
{
  Conn *waiter = check->waiter;
  gboolean is_closed;
  guint8 code;

  g_mutex_lock (&waiter->lock);
  is_closed = waiter->is_closed;
  g_mutex_unlock (&waiter->lock);
  if (is_closed)
    return;
  code = is_alive ? EW_DOIP_ROUTING_SOURCE_ADDRESS_IN_USE
                  : routing_decision (check->server, waiter, &check->request, NULL);
  routing_answer (check->server, waiter, &check->request, check->version, code);
}

static gboolean
alive_check_timeout_cb (gpointer data)
{
  AliveCheck *check = data;
  Conn *old = check->old;

  /* the source is being dispatched: conn_end_alive_check must not destroy it */
  g_clear_pointer (&old->alive_source, g_source_unref);
  old->alive_check = NULL;
  g_debug ("DoIP entity: tester 0x%04X did not answer the alive check within %u ms; "
           "its socket is closed for the new one", old->tester_address, ALIVE_CHECK_TIMEOUT_MS);
  conn_close (check->server, old);
  alive_check_finish (check, FALSE);
  return G_SOURCE_REMOVE;
}

/* Returns FALSE when the connection was closed. */
static gboolean
handle_routing_activation (EwDoipServer  *self,
                           Conn          *conn,
                           EwDoipMessage *message)
{
  EwDoipRoutingActivationRequest request;
  Conn *in_use_by = NULL;
  guint8 code;

  if (!ew_doip_decode_routing_activation_request (message->payload, &request, NULL))
    return TRUE;   /* the header check already vouched for the length */

  code = routing_decision (self, conn, &request, &in_use_by);
  /* ISO 13400-2 socket handling: the tester address is registered on
   * another socket; an alive check there decides: a socket that answers
   * keeps it, a silent one is closed and gives way */
  if (code == EW_DOIP_ROUTING_SOURCE_ADDRESS_IN_USE && in_use_by != NULL &&
      in_use_by->alive_check == NULL)
    {
      AliveCheck *check = g_new0 (AliveCheck, 1);
      g_autoptr(GBytes) alive_request = ew_doip_encode (in_use_by->version, EW_DOIP_ALIVE_CHECK_REQUEST,
                                                        NULL, 0);

      check->server = self;
      check->old = conn_ref (in_use_by);
      check->waiter = conn_ref (conn);
      check->request = request;
      check->version = message->protocol_version;
      in_use_by->alive_check = check;
      in_use_by->alive_source = g_timeout_source_new (ALIVE_CHECK_TIMEOUT_MS);
      g_source_set_callback (in_use_by->alive_source, alive_check_timeout_cb, check,
                             (GDestroyNotify) alive_check_free);
      g_source_attach (in_use_by->alive_source, self->context);
      conn_write_or_log (in_use_by, alive_request);
      return TRUE;
    }
  return routing_answer (self, conn, &request, message->protocol_version, code);
}

typedef struct {
  EwDoipServer    *server;        /* owned */
  guint16          tester_address;
  guint16          target_address;
  GBytes          *request;
  EwDoipResponder *responder;
} Delivery;

static void
delivery_free (Delivery *d)
{
  g_object_unref (d->server);
  g_bytes_unref (d->request);
  ew_doip_responder_unref (d->responder);
  g_free (d);
}

static gboolean
delivery_cb (gpointer data)
{
  Delivery *d = data;

  d->server->handler (d->server, d->tester_address, d->target_address, d->request,
                      d->responder, d->server->handler_data);
  return G_SOURCE_REMOVE;
}

static gboolean
handle_diagnostic_message (EwDoipServer  *self,
                           Conn          *conn,
                           EwDoipMessage *message)
{
  g_autoptr(GBytes) answer = NULL;
  Delivery *d;
  const guint8 *data;
  gsize length;
  guint16 sa, ta;
  guint delay_ms;

  if (!ew_doip_decode_diagnostic_message (message->payload, &sa, &ta, &data, &length, NULL))
    return TRUE;

  /* ISO 13400-2 diagnostic message handling: a source address not activated on this socket is
   * refused and the socket closed */
  if (!conn->has_tester || conn->tester_address != sa)
    {
      answer = ew_doip_encode_diagnostic_ack (message->protocol_version, ta, sa,
                                              EW_DOIP_DIAG_NACK_INVALID_SOURCE_ADDRESS);
      conn_write_or_log (conn, answer);
      conn_close (self, conn);
      return FALSE;
    }
  if (ta != self->logical_address && !array_has (self->targets, ta))
    {
      answer = ew_doip_encode_diagnostic_ack (message->protocol_version, ta, sa,
                                              EW_DOIP_DIAG_NACK_UNKNOWN_TARGET_ADDRESS);
      conn_write_or_log (conn, answer);
      return TRUE;
    }
  if (self->handler == NULL)
    {
      answer = ew_doip_encode_diagnostic_ack (message->protocol_version, ta, sa,
                                              EW_DOIP_DIAG_NACK_TARGET_UNREACHABLE);
      conn_write_or_log (conn, answer);
      return TRUE;
    }

  /* the ACK goes out with the handler's first answer, or when it returns */
  answer = ew_doip_encode_diagnostic_ack (message->protocol_version, ta, sa, EW_DOIP_DIAG_ACK);
  conn_hold (conn, answer);

  d = g_new0 (Delivery, 1);
  d->server = g_object_ref (self);
  d->tester_address = sa;
  d->target_address = ta;
  d->request = g_bytes_new_from_bytes (message->payload, 4, length);
  d->responder = g_new0 (EwDoipResponder, 1);
  d->responder->ref = 1;
  d->responder->server = g_object_ref (self);
  d->responder->conn = conn_ref (conn);
  d->responder->tester_address = sa;
  d->responder->ecu_address = ta;
  d->responder->version = message->protocol_version;

  switch (consult_fault (self, TRUE, sa, ta, d->request, &delay_ms))
    {
    case EW_DOIP_FAULT_DROP:
      delivery_free (d);
      break;
    case EW_DOIP_FAULT_DELAY:
      schedule (self, delay_ms, delivery_cb, d, (GDestroyNotify) delivery_free);
      break;
    case EW_DOIP_FAULT_PASS:
    default:
      delivery_cb (d);
      delivery_free (d);
      break;
    }
  conn_flush (conn);
  return TRUE;
}

static gboolean
handle_tcp_message (EwDoipServer  *self,
                    Conn          *conn,
                    EwDoipMessage *message)
{
  conn->version = message->protocol_version;
  switch (message->payload_type)
    {
    case EW_DOIP_ROUTING_ACTIVATION_REQUEST:
      return handle_routing_activation (self, conn, message);
    case EW_DOIP_DIAGNOSTIC_MESSAGE:
      return handle_diagnostic_message (self, conn, message);
    case EW_DOIP_ALIVE_CHECK_RESPONSE:
      g_mutex_lock (&self->lock);
      self->alive_check_responses++;
      g_mutex_unlock (&self->lock);
      conn_end_alive_check (conn, TRUE);
      return TRUE;
    case EW_DOIP_ALIVE_CHECK_REQUEST:
      {
        /* answered like a tester would; harmless and helps probing */
        g_autoptr(GBytes) answer = ew_doip_encode_alive_check_response (message->protocol_version,
                                                                        self->logical_address);
        conn_write_or_log (conn, answer);
        return TRUE;
      }
    default:
      {
        /* ISO 13400-2: the UDP-only payload types are not supported on
         * TCP_DATA, which is answered like an unknown type */
        g_autoptr(GBytes) nack = ew_doip_encode_generic_nack (message->protocol_version,
                                                              EW_DOIP_NACK_UNKNOWN_PAYLOAD_TYPE);
        conn_write_or_log (conn, nack);
        return TRUE;
      }
    }
}

static guint8
answer_version (EwDoipServer *self,
                guint8        version)
{
  return version >= EW_DOIP_VERSION_2010 && version <= EW_DOIP_VERSION_2019 ? version : self->version;
}

static gboolean
conn_readable_cb (GSocket      *socket,
                  GIOCondition  condition,
                  gpointer      data)
{
  Conn *conn = data;
  EwDoipServer *self = conn->server;
  g_autoptr(GError) error = NULL;
  guint8 buffer[16384];
  gssize n;

  n = g_socket_receive_with_blocking (socket, (char *) buffer, sizeof buffer, FALSE, NULL, &error);
  if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    return G_SOURCE_CONTINUE;
  if (n <= 0)
    {
      conn_close (self, conn);
      return G_SOURCE_REMOVE;
    }

  ew_doip_stream_parser_push (conn->parser, buffer, n);
  for (;;)
    {
      g_autoptr(EwDoipMessage) message = ew_doip_stream_parser_next (conn->parser, &error);
      guint8 code;
      gboolean must_close = TRUE;

      if (message != NULL)
        {
          if (!handle_tcp_message (self, conn, message))
            return G_SOURCE_REMOVE;
          continue;
        }
      if (error == NULL)
        break;

      g_debug ("DoIP entity: %s", error->message);
      if (ew_doip_error_get_header_nack (error, &code, &must_close))
        {
          guint8 version = answer_version (self, ew_doip_stream_parser_get_last_version (conn->parser));
          g_autoptr(GBytes) nack = ew_doip_encode_generic_nack (version, code);

          conn_write_or_log (conn, nack);
        }
      g_clear_error (&error);
      if (must_close)
        {
          conn_close (self, conn);
          return G_SOURCE_REMOVE;
        }
    }
  return G_SOURCE_CONTINUE;
}

static gboolean
listener_cb (GSocket      *listener,
             GIOCondition  condition,
             gpointer      data)
{
  EwDoipServer *self = data;
  g_autoptr(GError) error = NULL;
  GSocket *socket = g_socket_accept (listener, NULL, &error);
  Conn *conn;

  if (socket == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        g_debug ("DoIP entity: accept failed: %s", error->message);
      return G_SOURCE_CONTINUE;
    }
  g_socket_set_blocking (socket, FALSE);
  g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, 1, NULL);

  conn = g_new0 (Conn, 1);
  conn->ref = 1;
  conn->server = self;
  conn->socket = socket;
  conn->parser = ew_doip_stream_parser_new (self->max_data_size);
  conn->version = self->version;
  g_mutex_init (&conn->lock);
  conn->source = g_socket_create_source (socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
  g_source_set_callback (conn->source, G_SOURCE_FUNC (conn_readable_cb), conn_ref (conn),
                         (GDestroyNotify) conn_unref);
  /* nothing iterates the context inside the callback; without this, each
   * dispatch blocks and unblocks the source, which wakes the context and
   * costs another poll() for every message */
  g_source_set_can_recurse (conn->source, TRUE);
  g_source_attach (conn->source, self->context);

  g_mutex_lock (&self->lock);
  g_ptr_array_add (self->conns, conn);   /* takes the first reference */
  g_mutex_unlock (&self->lock);
  return G_SOURCE_CONTINUE;
}

/* ---- UDP: identification, entity status, power mode ---- */

static GBytes *
announcement (EwDoipServer *self,
              guint8        version)
{
  EwDoipVehicleAnnouncement an = { 0 };

  g_strlcpy (an.vin, self->vin, sizeof an.vin);
  an.logical_address = self->logical_address;
  memcpy (an.eid, self->eid, EW_DOIP_EID_LENGTH);
  memcpy (an.gid, self->gid, EW_DOIP_GID_LENGTH);
  an.further_action = 0x00;
  return ew_doip_encode_vehicle_announcement (version, &an);
}

static GBytes *
udp_answer (EwDoipServer  *self,
            const guint8  *data,
            gsize          length)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EwDoipMessage) message = ew_doip_message_decode (data, length, UDP_MAX_DATAGRAM, &error);
  guint8 version;
  gsize n;
  const guint8 *p;

  if (message == NULL)
    {
      guint8 code;
      gboolean must_close;

      g_debug ("DoIP entity (UDP): %s", error->message);
      if (length >= 1 && ew_doip_error_get_header_nack (error, &code, &must_close))
        return ew_doip_encode_generic_nack (answer_version (self, data[0]), code);
      return NULL;
    }

  version = answer_version (self, message->protocol_version);
  p = g_bytes_get_data (message->payload, &n);
  switch (message->payload_type)
    {
    case EW_DOIP_VEHICLE_IDENTIFICATION_REQUEST:
      return announcement (self, version);
    case EW_DOIP_VEHICLE_IDENTIFICATION_REQUEST_EID:
      /* ISO 13400-2: only the entity whose EID (or VIN) matches answers */
      if (memcmp (p, self->eid, EW_DOIP_EID_LENGTH) != 0)
        return NULL;
      return announcement (self, version);
    case EW_DOIP_VEHICLE_IDENTIFICATION_REQUEST_VIN:
      if (strlen (self->vin) != EW_DOIP_VIN_LENGTH || memcmp (p, self->vin, EW_DOIP_VIN_LENGTH) != 0)
        return NULL;
      return announcement (self, version);
    case EW_DOIP_ENTITY_STATUS_REQUEST:
      {
        EwDoipEntityStatus status = { 0 };

        status.node_type = 0x00;   /* DoIP gateway */
        status.max_open_sockets = (guint8) g_atomic_int_get (&self->max_sockets);
        g_mutex_lock (&self->lock);
        status.open_sockets = (guint8) MIN (self->conns->len, 255);
        g_mutex_unlock (&self->lock);
        status.has_max_data_size = TRUE;
        status.max_data_size = self->max_data_size;
        return ew_doip_encode_entity_status_response (version, &status);
      }
    case EW_DOIP_POWER_MODE_REQUEST:
      {
        guint8 ready = 0x01;   /* diagnostic power mode: ready */

        return ew_doip_encode (version, EW_DOIP_POWER_MODE_RESPONSE, &ready, 1);
      }
    default:
      return NULL;
    }
}

static gboolean
udp_cb (GSocket      *socket,
        GIOCondition  condition,
        gpointer      data)
{
  EwDoipServer *self = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketAddress) from = NULL;
  g_autoptr(GBytes) answer = NULL;
  guint8 buffer[UDP_MAX_DATAGRAM];
  gssize n;

  n = g_socket_receive_from (socket, &from, (char *) buffer, sizeof buffer, NULL, &error);
  if (n < 0)
    return G_SOURCE_CONTINUE;
  answer = udp_answer (self, buffer, n);
  if (answer != NULL &&
      g_socket_send_to (socket, from, g_bytes_get_data (answer, NULL), g_bytes_get_size (answer),
                        NULL, &error) < 0)
    g_debug ("DoIP entity (UDP): %s", error->message);
  return G_SOURCE_CONTINUE;
}

static gboolean
announce_cb (gpointer data)
{
  EwDoipServer *self = data;
  g_autoptr(GInetAddress) address = g_inet_address_new_from_string (self->announce_host);
  g_autoptr(GSocketAddress) to = NULL;
  g_autoptr(GBytes) message = NULL;
  g_autoptr(GError) error = NULL;

  if (address == NULL)
    return G_SOURCE_REMOVE;
  to = g_inet_socket_address_new (address, self->announce_port);
  message = announcement (self, self->version);
  if (g_socket_send_to (self->udp, to, g_bytes_get_data (message, NULL), g_bytes_get_size (message),
                        NULL, &error) < 0)
    g_debug ("DoIP entity: announcement: %s", error->message);
  return ++self->announcements_sent < ANNOUNCE_COUNT ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

/* ---- life cycle ---- */

static void
ew_doip_server_init (EwDoipServer *self)
{
  self->host = g_strdup ("127.0.0.1");
  self->port = EW_DOIP_PORT;
  self->logical_address = 0x1000;
  self->version = EW_DOIP_VERSION_2012;
  self->max_data_size = 65536;
  self->max_sockets = 4;
  self->testers = g_array_new (FALSE, FALSE, sizeof (guint16));
  self->targets = g_array_new (FALSE, FALSE, sizeof (guint16));
  self->conns = g_ptr_array_new_with_free_func ((GDestroyNotify) conn_unref);
  g_mutex_init (&self->lock);
}

static void
ew_doip_server_dispose (GObject *object)
{
  EwDoipServer *self = EW_DOIP_SERVER (object);

  ew_doip_server_stop (self);
  if (self->handler_destroy != NULL)
    g_clear_pointer (&self->handler_data, self->handler_destroy);
  if (self->fault_destroy != NULL)
    g_clear_pointer (&self->fault_data, self->fault_destroy);
  G_OBJECT_CLASS (ew_doip_server_parent_class)->dispose (object);
}

static void
ew_doip_server_finalize (GObject *object)
{
  EwDoipServer *self = EW_DOIP_SERVER (object);

  g_free (self->host);
  g_free (self->announce_host);
  g_array_unref (self->testers);
  g_array_unref (self->targets);
  g_ptr_array_unref (self->conns);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (ew_doip_server_parent_class)->finalize (object);
}

static void
ew_doip_server_class_init (EwDoipServerClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = ew_doip_server_dispose;
  G_OBJECT_CLASS (klass)->finalize = ew_doip_server_finalize;
}

EwDoipServer *
ew_doip_server_new (void)
{
  return g_object_new (EW_TYPE_DOIP_SERVER, NULL);
}

void
ew_doip_server_set_address (EwDoipServer *self,
                            const char   *host,
                            guint16       port)
{
  g_return_if_fail (EW_IS_DOIP_SERVER (self));
  g_return_if_fail (host != NULL);
  g_free (self->host);
  self->host = g_strdup (host);
  self->port = port;
}

void
ew_doip_server_set_vin (EwDoipServer *self,
                        const char   *vin)
{
  g_return_if_fail (EW_IS_DOIP_SERVER (self));
  g_strlcpy (self->vin, vin != NULL ? vin : "", sizeof self->vin);
}

void
ew_doip_server_set_eid (EwDoipServer *self,
                        const guint8 *eid)
{
  g_return_if_fail (EW_IS_DOIP_SERVER (self));
  memcpy (self->eid, eid, EW_DOIP_EID_LENGTH);
}

void
ew_doip_server_set_gid (EwDoipServer *self,
                        const guint8 *gid)
{
  g_return_if_fail (EW_IS_DOIP_SERVER (self));
  memcpy (self->gid, gid, EW_DOIP_GID_LENGTH);
}

void
ew_doip_server_set_logical_address (EwDoipServer *self,
                                    guint16       logical_address)
{
  g_return_if_fail (EW_IS_DOIP_SERVER (self));
  self->logical_address = logical_address;
}

void
ew_doip_server_set_protocol_version (EwDoipServer *self,
                                     guint8        protocol_version)
{
  g_return_if_fail (EW_IS_DOIP_SERVER (self));
  g_return_if_fail (protocol_version >= EW_DOIP_VERSION_2010 && protocol_version <= EW_DOIP_VERSION_2019);
  self->version = protocol_version;
}

void
ew_doip_server_set_max_data_size (EwDoipServer *self,
                                  guint32       max_data_size)
{
  g_return_if_fail (EW_IS_DOIP_SERVER (self));
  g_return_if_fail (max_data_size >= 5);
  self->max_data_size = max_data_size;
}

void
ew_doip_server_set_max_sockets (EwDoipServer *self,
                                guint8        max_sockets)
{
  g_return_if_fail (EW_IS_DOIP_SERVER (self));
  g_atomic_int_set (&self->max_sockets, max_sockets);
}

void
ew_doip_server_add_tester_address (EwDoipServer *self,
                                   guint16       tester_address)
{
  g_return_if_fail (EW_IS_DOIP_SERVER (self));
  g_array_append_val (self->testers, tester_address);
}

void
ew_doip_server_add_target_address (EwDoipServer *self,
                                   guint16       target_address)
{
  g_return_if_fail (EW_IS_DOIP_SERVER (self));
  g_array_append_val (self->targets, target_address);
}

void
ew_doip_server_set_announce_address (EwDoipServer *self,
                                     const char   *host,
                                     guint16       port)
{
  g_return_if_fail (EW_IS_DOIP_SERVER (self));
  g_free (self->announce_host);
  self->announce_host = g_strdup (host);
  self->announce_port = port != 0 ? port : EW_DOIP_PORT;
}

void
ew_doip_server_set_handler (EwDoipServer            *self,
                            EwDoipDiagnosticHandler  handler,
                            gpointer                 user_data,
                            GDestroyNotify           destroy)
{
  g_return_if_fail (EW_IS_DOIP_SERVER (self));
  g_return_if_fail (!self->is_running);
  if (self->handler_destroy != NULL)
    g_clear_pointer (&self->handler_data, self->handler_destroy);
  self->handler = handler;
  self->handler_data = user_data;
  self->handler_destroy = destroy;
}

void
ew_doip_server_set_fault_func (EwDoipServer    *self,
                               EwDoipFaultFunc  func,
                               gpointer         user_data,
                               GDestroyNotify   destroy)
{
  g_return_if_fail (EW_IS_DOIP_SERVER (self));
  g_return_if_fail (!self->is_running);
  if (self->fault_destroy != NULL)
    g_clear_pointer (&self->fault_data, self->fault_destroy);
  self->fault_func = func;
  self->fault_data = user_data;
  self->fault_destroy = destroy;
}

static gpointer
server_thread (gpointer data)
{
  EwDoipServer *self = data;

  g_main_context_push_thread_default (self->context);
  g_main_loop_run (self->loop);
  g_main_context_pop_thread_default (self->context);
  return NULL;
}

static GSocket *
bind_socket (GInetAddress   *address,
             guint16         port,
             GSocketType     type,
             GError        **error)
{
  g_autoptr(GSocketAddress) socket_address = g_inet_socket_address_new (address, port);
  g_autoptr(GSocket) socket = g_socket_new (g_inet_address_get_family (address), type,
                                            type == G_SOCKET_TYPE_STREAM ? G_SOCKET_PROTOCOL_TCP
                                                                         : G_SOCKET_PROTOCOL_UDP,
                                            error);

  if (socket == NULL)
    return NULL;
  if (!g_socket_bind (socket, socket_address, type == G_SOCKET_TYPE_STREAM, error))
    return NULL;
  if (type == G_SOCKET_TYPE_STREAM && !g_socket_listen (socket, error))
    return NULL;
  g_socket_set_blocking (socket, FALSE);
  return g_steal_pointer (&socket);
}

static guint16
local_port (GSocket *socket)
{
  g_autoptr(GSocketAddress) address = g_socket_get_local_address (socket, NULL);

  return address != NULL ? g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (address)) : 0;
}

gboolean
ew_doip_server_start (EwDoipServer  *self,
                      GError       **error)
{
  g_autoptr(GInetAddress) address = NULL;
  g_autoptr(GError) local_error = NULL;
  GSource *source;

  g_return_val_if_fail (EW_IS_DOIP_SERVER (self), FALSE);
  g_return_val_if_fail (!self->is_running, FALSE);

  address = g_inet_address_new_from_string (self->host);
  if (address == NULL)
    {
      g_set_error (error, EW_DOIP_ERROR, EW_DOIP_ERROR_ADDRESS,
                   "DoIP entity: “%s” is not an IP address to listen on", self->host);
      return FALSE;
    }

  /* with port 0 the kernel picks the TCP port; UDP must get the same,
   * which another program may hold: try a few times */
  for (guint attempt = 0; attempt < 10; attempt++)
    {
      g_clear_error (&local_error);
      g_clear_object (&self->listener);
      self->listener = bind_socket (address, self->port, G_SOCKET_TYPE_STREAM, &local_error);
      if (self->listener == NULL)
        break;
      self->udp = bind_socket (address, local_port (self->listener), G_SOCKET_TYPE_DATAGRAM, &local_error);
      if (self->udp != NULL || self->port != 0)
        break;
    }
  if (self->listener == NULL || self->udp == NULL)
    {
      g_set_error (error, EW_DOIP_ERROR, EW_DOIP_ERROR_CONNECT,
                   "DoIP entity: cannot listen on %s port %u: %s",
                   self->host, self->port, local_error->message);
      g_clear_object (&self->listener);
      return FALSE;
    }
  self->bound_port = local_port (self->listener);

  self->context = g_main_context_new ();
  self->loop = g_main_loop_new (self->context, FALSE);
  source = g_socket_create_source (self->listener, G_IO_IN, NULL);
  g_source_set_callback (source, G_SOURCE_FUNC (listener_cb), self, NULL);
  g_source_attach (source, self->context);
  g_source_unref (source);
  source = g_socket_create_source (self->udp, G_IO_IN, NULL);
  g_source_set_callback (source, G_SOURCE_FUNC (udp_cb), self, NULL);
  g_source_attach (source, self->context);
  g_source_unref (source);
  self->announcements_sent = 0;
  if (self->announce_host != NULL)
    {
      /* the first at once, then at A_DoIP_Announce_Interval */
      source = g_timeout_source_new (ANNOUNCE_INTERVAL_MS);
      g_source_set_callback (source, announce_cb, self, NULL);
      g_source_attach (source, self->context);
      g_source_unref (source);
      announce_cb (self);
    }

  g_mutex_lock (&self->lock);
  self->is_running = TRUE;
  g_mutex_unlock (&self->lock);
  self->thread = g_thread_new ("doip-entity", server_thread, self);
  return TRUE;
}

static gboolean
quit_cb (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

void
ew_doip_server_stop (EwDoipServer *self)
{
  g_autoptr(GPtrArray) conns = NULL;

  g_return_if_fail (EW_IS_DOIP_SERVER (self));
  if (self->thread == NULL)
    return;

  g_mutex_lock (&self->lock);
  self->is_running = FALSE;
  g_mutex_unlock (&self->lock);
  /* quit from inside the loop: a quit before the thread reached
   * g_main_loop_run() would be lost */
  {
    GSource *source = g_idle_source_new ();

    g_source_set_callback (source, quit_cb, self->loop, NULL);
    g_source_attach (source, self->context);
    g_source_unref (source);
  }
  g_thread_join (g_steal_pointer (&self->thread));

  /* the thread is gone: what it owned is ours now */
  g_mutex_lock (&self->lock);
  conns = g_steal_pointer (&self->conns);
  self->conns = g_ptr_array_new_with_free_func ((GDestroyNotify) conn_unref);
  g_mutex_unlock (&self->lock);
  for (guint i = 0; i < conns->len; i++)
    {
      Conn *conn = g_ptr_array_index (conns, i);

      conn_shut (conn);
      if (conn->source != NULL)
        {
          g_source_destroy (conn->source);
          g_clear_pointer (&conn->source, g_source_unref);
        }
      /* an activation still waiting is dropped with its socket */
      conn->alive_check = NULL;
      if (conn->alive_source != NULL)
        {
          g_source_destroy (conn->alive_source);
          g_clear_pointer (&conn->alive_source, g_source_unref);
        }
    }
  g_socket_close (self->listener, NULL);
  g_socket_close (self->udp, NULL);
  g_clear_object (&self->listener);
  g_clear_object (&self->udp);
  g_clear_pointer (&self->loop, g_main_loop_unref);
  /* destroys what is still scheduled (delayed messages) */
  g_clear_pointer (&self->context, g_main_context_unref);
}

gboolean
ew_doip_server_is_running (EwDoipServer *self)
{
  gboolean running;

  g_return_val_if_fail (EW_IS_DOIP_SERVER (self), FALSE);
  g_mutex_lock (&self->lock);
  running = self->is_running;
  g_mutex_unlock (&self->lock);
  return running;
}

guint16
ew_doip_server_get_port (EwDoipServer *self)
{
  g_return_val_if_fail (EW_IS_DOIP_SERVER (self), 0);
  return self->bound_port;
}

void
ew_doip_server_drop_connections (EwDoipServer *self)
{
  g_return_if_fail (EW_IS_DOIP_SERVER (self));

  /* shutting the sockets down wakes the server thread, which then
   * forgets them; the testers see the connection end at once */
  g_mutex_lock (&self->lock);
  for (guint i = 0; i < self->conns->len; i++)
    {
      Conn *conn = g_ptr_array_index (self->conns, i);

      g_mutex_lock (&conn->lock);
      if (!conn->is_closed)
        g_socket_shutdown (conn->socket, TRUE, TRUE, NULL);
      g_mutex_unlock (&conn->lock);
    }
  g_mutex_unlock (&self->lock);
}

guint
ew_doip_server_get_connection_count (EwDoipServer *self)
{
  guint n;

  g_return_val_if_fail (EW_IS_DOIP_SERVER (self), 0);
  g_mutex_lock (&self->lock);
  n = self->conns->len;
  g_mutex_unlock (&self->lock);
  return n;
}

void
ew_doip_server_send_alive_checks (EwDoipServer *self)
{
  g_autoptr(GPtrArray) conns = g_ptr_array_new_with_free_func ((GDestroyNotify) conn_unref);

  g_return_if_fail (EW_IS_DOIP_SERVER (self));
  g_mutex_lock (&self->lock);
  for (guint i = 0; i < self->conns->len; i++)
    g_ptr_array_add (conns, conn_ref (g_ptr_array_index (self->conns, i)));
  g_mutex_unlock (&self->lock);

  for (guint i = 0; i < conns->len; i++)
    {
      Conn *conn = g_ptr_array_index (conns, i);
      g_autoptr(GBytes) request = ew_doip_encode (conn->version, EW_DOIP_ALIVE_CHECK_REQUEST, NULL, 0);

      conn_write_or_log (conn, request);
    }
}

guint
ew_doip_server_get_alive_check_responses (EwDoipServer *self)
{
  guint n;

  g_return_val_if_fail (EW_IS_DOIP_SERVER (self), 0);
  g_mutex_lock (&self->lock);
  n = self->alive_check_responses;
  g_mutex_unlock (&self->lock);
  return n;
}
