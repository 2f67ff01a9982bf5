/* doip-client.c — ISO 13400-2 tester: one TCP_DATA connection. Whoever
 * reads it answers alive checks at once (the entity closes a socket that
 * stays silent), sorts diagnostic messages by their source address into
 * per-target queues, and hands every other answer to the one request in
 * flight (requests are serialised: DoIP acknowledges in order).
 *
 * A caller waiting for an answer reads the socket itself when nobody else
 * does (the others wait for what it sorts out), so an answer wakes the
 * caller directly instead of a reader thread that then wakes the caller:
 * one thread hand-off less per request. A background thread reads only
 * while no caller has waited for CALLER_READS_US, to answer alive checks
 * and notice a closed connection between requests.
 */
#define G_LOG_DOMAIN "ew-doip"

#include "doip-client.h"
#include "doip-private.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include "link/wait-queue.h"

/* The largest payload we take from an entity: diagnostic responses carry
 * at most a few MiB (uploads); more means a broken stream. */
#define CLIENT_MAX_PAYLOAD (64u * 1024 * 1024)
/* what one receive takes from the socket */
#define READ_BUFFER_LENGTH (64u * 1024)
/* how long after the last caller's wait the background thread reads */
#define CALLER_READS_US    (20 * 1000)
/* how long the background thread waits in one poll() */
#define BACKGROUND_POLL_US (100 * 1000)


/* ---- URI ---- */

gboolean
ew_doip_parse_uri (const char  *uri,
                   char       **host,
                   guint16     *port,
                   GError     **error)
{
  const char *rest;
  const char *port_text = NULL;
  g_autofree char *h = NULL;
  guint64 value = EW_DOIP_PORT;

  g_return_val_if_fail (uri != NULL, FALSE);

  if (!g_str_has_prefix (uri, "doip:"))
    {
      g_set_error (error, EW_DOIP_ERROR, EW_DOIP_ERROR_ADDRESS,
                   "DoIP address “%s” does not start with “doip:”; use doip:HOST[:PORT]", uri);
      return FALSE;
    }
  rest = uri + strlen ("doip:");
  if (g_str_has_prefix (rest, "//"))
    rest += 2;

  if (rest[0] == '[')
    {
      const char *close = strchr (rest, ']');

      if (close == NULL)
        {
          g_set_error (error, EW_DOIP_ERROR, EW_DOIP_ERROR_ADDRESS,
                       "DoIP address “%s”: the IPv6 address has no closing “]”", uri);
          return FALSE;
        }
      h = g_strndup (rest + 1, close - rest - 1);
      if (close[1] == ':')
        port_text = close + 2;
      else if (close[1] != '\0')
        {
          g_set_error (error, EW_DOIP_ERROR, EW_DOIP_ERROR_ADDRESS,
                       "DoIP address “%s”: unexpected “%s” after the IPv6 address", uri, close + 1);
          return FALSE;
        }
      if (!g_hostname_is_ip_address (h) || strchr (h, ':') == NULL)
        {
          g_set_error (error, EW_DOIP_ERROR, EW_DOIP_ERROR_ADDRESS,
                       "DoIP address “%s”: “%s” is not an IPv6 address", uri, h);
          return FALSE;
        }
    }
  else
    {
      const char *colon = strchr (rest, ':');

      if (colon != NULL && strchr (colon + 1, ':') != NULL)
        {
          g_set_error (error, EW_DOIP_ERROR, EW_DOIP_ERROR_ADDRESS,
                       "DoIP address “%s”: write an IPv6 address in brackets, e.g. doip:[::1]:13400", uri);
          return FALSE;
        }
      h = colon != NULL ? g_strndup (rest, colon - rest) : g_strdup (rest);
      if (colon != NULL)
        port_text = colon + 1;
    }

  if (h[0] == '\0')
    {
      g_set_error (error, EW_DOIP_ERROR, EW_DOIP_ERROR_ADDRESS,
                   "DoIP address “%s” names no host; use doip:HOST[:PORT]", uri);
      return FALSE;
    }
  if (port_text != NULL)
    {
      if (!g_ascii_string_to_unsigned (port_text, 10, 1, 65535, &value, NULL))
        {
          g_set_error (error, EW_DOIP_ERROR, EW_DOIP_ERROR_ADDRESS,
                       "DoIP address “%s”: port “%s” is not a number from 1 to 65535", uri, port_text);
          return FALSE;
        }
    }

  *host = g_steal_pointer (&h);
  *port = (guint16) value;
  return TRUE;
}

/* ---- sockets ---- */

static GInetAddress *
resolve_host (const char    *host,
              GCancellable  *cancellable,
              GError       **error)
{
  GInetAddress *address = g_inet_address_new_from_string (host);
  g_autoptr(GResolver) resolver = NULL;
  GList *list;

  if (address != NULL)
    return address;
  resolver = g_resolver_get_default ();
  list = g_resolver_lookup_by_name (resolver, host, cancellable, error);
  if (list == NULL)
    {
      g_prefix_error (error, "DoIP host “%s”: ", host);
      return NULL;
    }
  address = g_object_ref (list->data);
  g_resolver_free_addresses (list);
  return address;
}

gboolean
ew_doip_socket_send_vectors (GSocket        *socket,
                             GOutputVector  *vectors,
                             guint           n_vectors,
                             guint           timeout_ms,
                             GCancellable   *cancellable,
                             GError        **error)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  for (;;)
    {
      g_autoptr(GError) local_error = NULL;
      gint64 remaining;
      gssize n;

      /* skip what is written (and empty vectors) */
      while (n_vectors > 0 && vectors[0].size == 0)
        vectors++, n_vectors--;
      if (n_vectors == 0)
        return TRUE;

      /* try first: a socket with room takes it without a poll() */
      n = g_socket_send_message (socket, NULL, vectors, (gint) n_vectors, NULL, 0,
                                 G_SOCKET_MSG_NONE, cancellable, &local_error);
      if (n < 0)
        {
          if (!g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            {
              g_propagate_error (error, g_steal_pointer (&local_error));
              return FALSE;
            }
          g_clear_error (&local_error);
          remaining = deadline - g_get_monotonic_time ();
          if (remaining <= 0)
            {
              g_set_error (error, EW_CHANNEL_ERROR, EW_CHANNEL_ERROR_TIMEOUT,
                           "DoIP: the peer did not take data within %u ms", timeout_ms);
              return FALSE;
            }
          if (!g_socket_condition_timed_wait (socket, G_IO_OUT, remaining, cancellable, &local_error) &&
              !g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
            {
              g_propagate_error (error, g_steal_pointer (&local_error));
              return FALSE;
            }
          continue;
        }
      for (guint i = 0; i < n_vectors && n > 0; i++)
        {
          gsize taken = MIN ((gsize) n, vectors[i].size);

          vectors[i].buffer = (const guint8 *) vectors[i].buffer + taken;
          vectors[i].size -= taken;
          n -= (gssize) taken;
        }
    }
}

gboolean
ew_doip_socket_send_all (GSocket       *socket,
                         const guint8  *data,
                         gsize          length,
                         guint          timeout_ms,
                         GCancellable  *cancellable,
                         GError       **error)
{
  GOutputVector vector = { data, length };

  return ew_doip_socket_send_vectors (socket, &vector, 1, timeout_ms, cancellable, error);
}

/* ---- vehicle identification (UDP) ---- */

static GSocket *
udp_socket_for (GInetAddress  *to,
                GError       **error)
{
  GSocketFamily family = g_inet_address_get_family (to);
  g_autoptr(GSocket) socket = g_socket_new (family, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, error);
  g_autoptr(GInetAddress) any = NULL;
  g_autoptr(GSocketAddress) local = NULL;

  if (socket == NULL)
    return NULL;
  any = g_inet_address_new_any (family);
  local = g_inet_socket_address_new (any, 0);
  if (!g_socket_bind (socket, local, FALSE, error))
    return NULL;
  g_socket_set_blocking (socket, FALSE);
  return g_steal_pointer (&socket);
}

/* Waits for one datagram until deadline; NULL on timeout (no error). */
static GBytes *
udp_receive (GSocket         *socket,
             gint64           deadline,
             GSocketAddress **from,
             GCancellable    *cancellable,
             GError         **error)
{
  guint8 buffer[1500];

  for (;;)
    {
      gint64 remaining = deadline - g_get_monotonic_time ();
      g_autoptr(GError) local_error = NULL;
      gssize n;

      if (remaining <= 0)
        return NULL;
      if (!g_socket_condition_timed_wait (socket, G_IO_IN, remaining, cancellable, &local_error))
        {
          if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
            return NULL;
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
      n = g_socket_receive_from (socket, from, (char *) buffer, sizeof buffer, cancellable, &local_error);
      if (n < 0)
        {
          if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            continue;
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
      return g_bytes_new (buffer, n);
    }
}

GPtrArray *
ew_doip_identify_vehicles (const char    *host,
                           guint16        port,
                           guint8         protocol_version,
                           const char    *vin,
                           const guint8  *eid,
                           guint          timeout_ms,
                           GCancellable  *cancellable,
                           GError       **error)
{
  g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GInetAddress) to = NULL;
  g_autoptr(GSocketAddress) to_address = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GBytes) request = NULL;
  gint64 deadline;

  if (vin != NULL && strlen (vin) != EW_DOIP_VIN_LENGTH)
    {
      g_set_error (error, EW_DOIP_ERROR, EW_DOIP_ERROR_INVALID_MESSAGE,
                   "DoIP vehicle identification: VIN “%s” is not 17 characters", vin);
      return NULL;
    }
  if (host != NULL)
    to = resolve_host (host, cancellable, error);
  else
    to = g_inet_address_new_from_string ("255.255.255.255");
  if (to == NULL)
    return NULL;
  to_address = g_inet_socket_address_new (to, port != 0 ? port : EW_DOIP_PORT);
  socket = udp_socket_for (to, error);
  if (socket == NULL)
    return NULL;
  if (host == NULL)
    g_socket_set_broadcast (socket, TRUE);

  request = ew_doip_encode_vehicle_identification_request (protocol_version, vin, eid);
  if (g_socket_send_to (socket, to_address, g_bytes_get_data (request, NULL),
                        g_bytes_get_size (request), cancellable, error) < 0)
    {
      g_prefix_error (error, "DoIP vehicle identification request: ");
      return NULL;
    }

  deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  for (;;)
    {
      g_autoptr(GSocketAddress) from = NULL;
      g_autoptr(GBytes) datagram = NULL;
      g_autoptr(EwDoipMessage) message = NULL;
      g_autoptr(GError) local_error = NULL;
      EwDoipVehicleAnnouncement *an;

      datagram = udp_receive (socket, deadline, &from, cancellable, error);
      if (datagram == NULL)
        {
          if (error != NULL && *error != NULL)
            return NULL;
          break;
        }
      message = ew_doip_message_decode (g_bytes_get_data (datagram, NULL), g_bytes_get_size (datagram),
                                        1500, &local_error);
      if (message == NULL || message->payload_type != EW_DOIP_VEHICLE_ANNOUNCEMENT)
        {
          g_debug ("DoIP identification: ignoring a datagram: %s",
                   local_error != NULL ? local_error->message : "not an identification response");
          continue;
        }
      an = g_new0 (EwDoipVehicleAnnouncement, 1);
      if (!ew_doip_decode_vehicle_announcement (message->payload, an, &local_error))
        {
          g_debug ("DoIP identification: %s", local_error->message);
          g_free (an);
          continue;
        }
      if (G_IS_INET_SOCKET_ADDRESS (from))
        {
          g_autofree char *text = g_inet_address_to_string (
            g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (from)));

          g_strlcpy (an->entity_host, text, sizeof an->entity_host);
          an->entity_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (from));
        }
      g_ptr_array_add (found, an);
      if (host != NULL)
        break;
    }
  return g_steal_pointer (&found);
}

/* ---- client ---- */

typedef struct {
  EwDoipMessage *message;
  GError        *error;
} Response;

static void
response_free (Response *r)
{
  ew_doip_message_free (r->message);
  g_clear_error (&r->error);
  g_free (r);
}

struct _EwDoipClient {
  GObject         parent_instance;

  guint8          protocol_version;
  guint16         source_address;
  guint           ack_timeout_ms;
  guint32         max_data_size;     /* 0: unknown */

  char           *host;
  guint16         port;
  char           *peer_name;
  GSocket        *socket;
  GMutex          write_lock;        /* one message on the wire at a time */
  GMutex          request_lock;      /* one request waiting for its answer */

  GThread        *reader;
  GCancellable   *reader_cancellable;

  /* the reading role's, touched only by whoever holds it */
  EwDoipStreamParser *parser;
  guint8         *read_buffer;

  GMutex          lock;              /* guards the fields below */
  GCond           cond;              /* an item queued, the reading role free, or closed */
  GCond           idle_cond;         /* the background thread: closed */
  gboolean        is_reading;        /* someone holds the reading role */
  guint           n_waiting;         /* callers waiting for an item */
  gint64          last_wait_us;      /* when a caller last stopped waiting */
  GHashTable     *diag_queues;       /* source address → GQueue of GBytes */
  GQueue          responses;         /* Response */
  gboolean        is_closed;
  char           *close_reason;
  gboolean        is_activated;
  guint16         entity_address;
  guint           alive_checks_answered;
};

G_DEFINE_FINAL_TYPE (EwDoipClient, ew_doip_client, G_TYPE_OBJECT)

static void
diag_queue_free (GQueue *queue)
{
  g_queue_free_full (queue, (GDestroyNotify) g_bytes_unref);
}

static void
ew_doip_client_init (EwDoipClient *self)
{
  self->protocol_version = EW_DOIP_VERSION_2012;
  self->source_address = EW_DOIP_DEFAULT_SOURCE_ADDRESS;
  self->ack_timeout_ms = EW_DOIP_DIAGNOSTIC_ACK_TIMEOUT_MS;
  g_mutex_init (&self->write_lock);
  g_mutex_init (&self->request_lock);
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  g_cond_init (&self->idle_cond);
  self->diag_queues = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) diag_queue_free);
  g_queue_init (&self->responses);
  self->parser = ew_doip_stream_parser_new (CLIENT_MAX_PAYLOAD);
  self->read_buffer = g_malloc (READ_BUFFER_LENGTH);
}

static void
ew_doip_client_finalize (GObject *object)
{
  EwDoipClient *self = EW_DOIP_CLIENT (object);

  ew_doip_client_close (self);
  g_clear_object (&self->socket);
  g_clear_object (&self->reader_cancellable);
  g_hash_table_unref (self->diag_queues);
  g_queue_clear_full (&self->responses, (GDestroyNotify) response_free);
  ew_doip_stream_parser_free (self->parser);
  g_free (self->read_buffer);
  g_cond_clear (&self->cond);
  g_cond_clear (&self->idle_cond);
  g_free (self->host);
  g_free (self->peer_name);
  g_free (self->close_reason);
  g_mutex_clear (&self->write_lock);
  g_mutex_clear (&self->request_lock);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (ew_doip_client_parent_class)->finalize (object);
}

static void
ew_doip_client_class_init (EwDoipClientClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ew_doip_client_finalize;
}

EwDoipClient *
ew_doip_client_new (void)
{
  return g_object_new (EW_TYPE_DOIP_CLIENT, NULL);
}

void
ew_doip_client_set_protocol_version (EwDoipClient *self,
                                     guint8        protocol_version)
{
  g_return_if_fail (EW_IS_DOIP_CLIENT (self));
  g_return_if_fail (protocol_version >= EW_DOIP_VERSION_2010 && protocol_version <= EW_DOIP_VERSION_2019);
  self->protocol_version = protocol_version;
}

guint8
ew_doip_client_get_protocol_version (EwDoipClient *self)
{
  g_return_val_if_fail (EW_IS_DOIP_CLIENT (self), 0);
  return self->protocol_version;
}

void
ew_doip_client_set_source_address (EwDoipClient *self,
                                   guint16       source_address)
{
  g_return_if_fail (EW_IS_DOIP_CLIENT (self));
  self->source_address = source_address;
}

guint16
ew_doip_client_get_source_address (EwDoipClient *self)
{
  g_return_val_if_fail (EW_IS_DOIP_CLIENT (self), 0);
  return self->source_address;
}

void
ew_doip_client_set_ack_timeout (EwDoipClient *self,
                                guint         timeout_ms)
{
  g_return_if_fail (EW_IS_DOIP_CLIENT (self));
  self->ack_timeout_ms = timeout_ms;
}

void
ew_doip_client_set_max_data_size (EwDoipClient *self,
                                  guint32       max_data_size)
{
  g_return_if_fail (EW_IS_DOIP_CLIENT (self));
  self->max_data_size = max_data_size;
}

guint32
ew_doip_client_get_max_data_size (EwDoipClient *self)
{
  g_return_val_if_fail (EW_IS_DOIP_CLIENT (self), 0);
  return self->max_data_size;
}

guint16
ew_doip_client_get_entity_address (EwDoipClient *self)
{
  g_return_val_if_fail (EW_IS_DOIP_CLIENT (self), 0);
  return self->entity_address;
}

guint
ew_doip_client_get_alive_checks_answered (EwDoipClient *self)
{
  guint n;

  g_return_val_if_fail (EW_IS_DOIP_CLIENT (self), 0);
  g_mutex_lock (&self->lock);
  n = self->alive_checks_answered;
  g_mutex_unlock (&self->lock);
  return n;
}

gboolean
ew_doip_client_is_connected (EwDoipClient *self)
{
  gboolean connected;

  g_return_val_if_fail (EW_IS_DOIP_CLIENT (self), FALSE);
  g_mutex_lock (&self->lock);
  connected = self->socket != NULL && !self->is_closed;
  g_mutex_unlock (&self->lock);
  return connected;
}

const char *
ew_doip_client_get_peer_name (EwDoipClient *self)
{
  g_return_val_if_fail (EW_IS_DOIP_CLIENT (self), NULL);
  return self->peer_name;
}

static void
set_closed_error (EwDoipClient  *self,
                  GError       **error)
{
  g_mutex_lock (&self->lock);
  g_set_error (error, EW_CHANNEL_ERROR, EW_CHANNEL_ERROR_CLOSED,
               "DoIP connection to %s is closed%s%s",
               self->peer_name != NULL ? self->peer_name : "(none)",
               self->close_reason != NULL ? ": " : "",
               self->close_reason != NULL ? self->close_reason : "");
  g_mutex_unlock (&self->lock);
}

/* Marks the connection closed and wakes every waiter. */
static void
mark_closed (EwDoipClient *self,
             const char   *reason)
{
  g_mutex_lock (&self->lock);
  if (!self->is_closed)
    {
      self->is_closed = TRUE;
      if (self->close_reason == NULL && reason != NULL)
        self->close_reason = g_strdup (reason);
    }
  g_cond_broadcast (&self->cond);
  g_cond_broadcast (&self->idle_cond);
  g_mutex_unlock (&self->lock);
}

/* lock held */
static GQueue *
diag_queue_locked (EwDoipClient *self,
                   guint16       source_address)
{
  GQueue *q = g_hash_table_lookup (self->diag_queues, GUINT_TO_POINTER (source_address));

  if (q == NULL)
    {
      q = g_queue_new ();
      g_hash_table_insert (self->diag_queues, GUINT_TO_POINTER (source_address), q);
    }
  return q;
}

static GQueue *
diag_queue (EwDoipClient *self,
            guint16       source_address)
{
  GQueue *q;

  g_mutex_lock (&self->lock);
  q = diag_queue_locked (self, source_address);
  g_mutex_unlock (&self->lock);
  return q;
}

/* Queues item and wakes the waiters; after closing, item is freed. */
static void
queue_push (EwDoipClient   *self,
            GQueue         *queue,
            gpointer        item,
            GDestroyNotify  free_item)
{
  g_mutex_lock (&self->lock);
  if (self->is_closed)
    free_item (item);
  else
    {
      g_queue_push_tail (queue, item);
      g_cond_broadcast (&self->cond);
    }
  g_mutex_unlock (&self->lock);
}

static void
flush_responses (EwDoipClient *self)
{
  g_mutex_lock (&self->lock);
  g_queue_clear_full (&self->responses, (GDestroyNotify) response_free);
  g_mutex_unlock (&self->lock);
}

static gboolean
write_vectors (EwDoipClient   *self,
               GOutputVector  *vectors,
               guint           n_vectors,
               GCancellable   *cancellable,
               GError        **error)
{
  gboolean ok;

  g_mutex_lock (&self->write_lock);
  ok = ew_doip_socket_send_vectors (self->socket, vectors, n_vectors, EW_DOIP_CTRL_TIMEOUT_MS,
                                    cancellable, error);
  g_mutex_unlock (&self->write_lock);
  if (!ok)
    g_prefix_error (error, "DoIP connection to %s: ", self->peer_name);
  return ok;
}

static gboolean
write_message (EwDoipClient  *self,
               GBytes        *message,
               GCancellable  *cancellable,
               GError       **error)
{
  GOutputVector vector = { g_bytes_get_data (message, NULL), g_bytes_get_size (message) };

  return write_vectors (self, &vector, 1, cancellable, error);
}

static void
dispatch (EwDoipClient  *self,
          EwDoipMessage *message)
{
  g_autoptr(GError) error = NULL;

  switch (message->payload_type)
    {
    case EW_DOIP_DIAGNOSTIC_MESSAGE:
      {
        guint16 sa, ta;
        const guint8 *data;
        gsize length;

        if (!ew_doip_decode_diagnostic_message (message->payload, &sa, &ta, &data, &length, &error))
          g_debug ("%s", error->message);
        else if (ta != self->source_address)
          g_debug ("DoIP: ignoring a diagnostic message from 0x%04X to 0x%04X, not to us (0x%04X)",
                   sa, ta, self->source_address);
        else
          queue_push (self, diag_queue (self, sa), g_bytes_new_from_bytes (message->payload, 4, length),
                      (GDestroyNotify) g_bytes_unref);
        ew_doip_message_free (message);
        break;
      }
    case EW_DOIP_ALIVE_CHECK_REQUEST:
      {
        /* ISO 13400-2 alive check: the tester answers with its source address */
        g_autoptr(GBytes) answer = ew_doip_encode_alive_check_response (message->protocol_version,
                                                                        self->source_address);

        if (write_message (self, answer, self->reader_cancellable, &error))
          {
            g_mutex_lock (&self->lock);
            self->alive_checks_answered++;
            g_mutex_unlock (&self->lock);
          }
        else
          g_debug ("%s", error->message);
        ew_doip_message_free (message);
        break;
      }
    case EW_DOIP_GENERIC_NACK:
    case EW_DOIP_ROUTING_ACTIVATION_RESPONSE:
    case EW_DOIP_ALIVE_CHECK_RESPONSE:
    case EW_DOIP_DIAGNOSTIC_MESSAGE_ACK:
    case EW_DOIP_DIAGNOSTIC_MESSAGE_NACK:
      {
        Response *r = g_new0 (Response, 1);

        r->message = message;
        queue_push (self, &self->responses, r, (GDestroyNotify) response_free);
        break;
      }
    default:
      g_debug ("DoIP: ignoring a %s from %s", ew_doip_payload_type_name (message->payload_type),
               self->peer_name);
      ew_doip_message_free (message);
      break;
    }
}

/* One read by the holder of the reading role: waits up to timeout_us
 * (negative: no limit; 0: takes only what is there) for data, for
 * cancellable or for the client's closing, then dispatches every whole
 * message. FALSE when the connection has ended, *reason saying why. */
static gboolean
read_pass (EwDoipClient  *self,
           gint64         timeout_us,
           GCancellable  *cancellable,
           char         **reason)
{
  g_autoptr(GError) error = NULL;
  gssize n;

  /* read first: an answer already there costs no poll() */
  n = g_socket_receive_with_blocking (self->socket, (char *) self->read_buffer, READ_BUFFER_LENGTH,
                                      FALSE, NULL, &error);
  if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    {
      GPollFD fds[3] = { { g_socket_get_fd (self->socket), G_IO_IN | G_IO_HUP | G_IO_ERR, 0 } };
      gboolean has_close_fd, has_cancel_fd = FALSE;
      guint n_fds = 1;

      g_clear_error (&error);
      if (timeout_us == 0)
        return TRUE;
      has_close_fd = g_cancellable_make_pollfd (self->reader_cancellable, &fds[n_fds]);
      if (has_close_fd)
        n_fds++;
      if (cancellable != NULL)
        {
          has_cancel_fd = g_cancellable_make_pollfd (cancellable, &fds[n_fds]);
          if (has_cancel_fd)
            n_fds++;
        }
      g_poll (fds, n_fds, timeout_us < 0 ? -1 : (gint) MIN ((timeout_us + 999) / 1000, G_MAXINT));
      if (has_close_fd)
        g_cancellable_release_fd (self->reader_cancellable);
      if (has_cancel_fd)
        g_cancellable_release_fd (cancellable);
      if (g_cancellable_is_cancelled (self->reader_cancellable))
        {
          *reason = g_strdup ("closed by the tester");
          return FALSE;
        }
      if (fds[0].revents == 0)
        return TRUE;
      n = g_socket_receive_with_blocking (self->socket, (char *) self->read_buffer, READ_BUFFER_LENGTH,
                                          FALSE, NULL, &error);
      if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        return TRUE;
    }
  if (n < 0)
    {
      *reason = g_strdup (error->message);
      return FALSE;
    }
  if (n == 0)
    {
      *reason = g_strdup ("the entity closed the connection");
      return FALSE;
    }

  ew_doip_stream_parser_push (self->parser, self->read_buffer, n);
  for (;;)
    {
      EwDoipMessage *message = ew_doip_stream_parser_next (self->parser, &error);
      guint8 code;
      gboolean must_close = TRUE;

      if (message != NULL)
        {
          dispatch (self, message);
          continue;
        }
      if (error == NULL)
        return TRUE;
      /* the tester answers bad input with a header NACK, as an entity does */
      if (ew_doip_error_get_header_nack (error, &code, &must_close))
        {
          g_autoptr(GBytes) nack = ew_doip_encode_generic_nack (self->protocol_version, code);
          g_autoptr(GError) write_error = NULL;

          write_message (self, nack, self->reader_cancellable, &write_error);
        }
      if (must_close)
        {
          *reason = g_strdup_printf ("bad data from the entity: %s", error->message);
          return FALSE;
        }
      g_debug ("%s", error->message);
      g_clear_error (&error);
    }
}

/* Takes the reading role for one read_pass(); lock held on entry and on
 * return. */
static void
read_as_holder (EwDoipClient  *self,
                gint64         timeout_us,
                GCancellable  *cancellable)
{
  g_autofree char *reason = NULL;
  gboolean ok;

  self->is_reading = TRUE;
  g_mutex_unlock (&self->lock);
  ok = read_pass (self, timeout_us, cancellable, &reason);
  if (!ok)
    mark_closed (self, reason);
  g_mutex_lock (&self->lock);
  self->is_reading = FALSE;
  g_cond_broadcast (&self->cond);
}

static void
wake_waiters (GCancellable *cancellable,
              gpointer      data)
{
  EwDoipClient *self = data;

  g_mutex_lock (&self->lock);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

/* Waits for an item of queue until deadline_us (G_MAXINT64: no limit),
 * reading the socket meanwhile when nobody else does. Items queued
 * before the connection closed are still handed out. */
static EwWaitResult
wait_item (EwDoipClient  *self,
           GQueue        *queue,
           gint64         deadline_us,
           GCancellable  *cancellable,
           gpointer      *item)
{
  EwWaitResult result;
  gboolean has_read = FALSE;
  gulong handler = 0;

  if (cancellable != NULL)
    handler = g_cancellable_connect (cancellable, G_CALLBACK (wake_waiters), self, NULL);
  g_mutex_lock (&self->lock);
  self->n_waiting++;
  for (;;)
    {
      gint64 now;

      if (!g_queue_is_empty (queue))
        {
          *item = g_queue_pop_head (queue);
          result = EW_WAIT_OK;
          break;
        }
      if (self->is_closed)
        {
          result = EW_WAIT_CLOSED;
          break;
        }
      if (g_cancellable_is_cancelled (cancellable))
        {
          result = EW_WAIT_CANCELLED;
          break;
        }
      now = g_get_monotonic_time ();
      /* at least one look at the socket, even with no time left */
      if (!self->is_reading && (!has_read || now < deadline_us))
        {
          read_as_holder (self, deadline_us == G_MAXINT64 ? -1 : MAX (deadline_us - now, 0), cancellable);
          has_read = TRUE;
          continue;
        }
      if (now >= deadline_us)
        {
          result = EW_WAIT_TIMEOUT;
          break;
        }
      if (deadline_us == G_MAXINT64)
        g_cond_wait (&self->cond, &self->lock);
      else
        g_cond_wait_until (&self->cond, &self->lock, deadline_us);
    }
  self->n_waiting--;
  self->last_wait_us = g_get_monotonic_time ();
  g_mutex_unlock (&self->lock);
  if (handler != 0)
    g_cancellable_disconnect (cancellable, handler);
  return result;
}

/* Reads while no caller does: alive checks between requests, and the
 * entity closing the connection. */
static gpointer
reader_thread (gpointer data)
{
  EwDoipClient *self = data;
  GPollFD cancel_fd;

  /* keeps the cancellable's wake-up fd open for the connection's life:
   * each poll() would otherwise create and close one */
  g_cancellable_make_pollfd (self->reader_cancellable, &cancel_fd);
  g_mutex_lock (&self->lock);
  while (!self->is_closed && !g_cancellable_is_cancelled (self->reader_cancellable))
    {
      gint64 now = g_get_monotonic_time ();
      gint64 idle_at = self->last_wait_us + CALLER_READS_US;

      if (self->is_reading || self->n_waiting > 0 || now < idle_at)
        {
          g_cond_wait_until (&self->idle_cond, &self->lock, MAX (idle_at, now + CALLER_READS_US / 4));
          continue;
        }
      read_as_holder (self, BACKGROUND_POLL_US, NULL);
    }
  g_mutex_unlock (&self->lock);
  g_cancellable_release_fd (self->reader_cancellable);
  return NULL;
}

gboolean
ew_doip_client_connect (EwDoipClient  *self,
                        const char    *host,
                        guint16        port,
                        guint          timeout_ms,
                        GCancellable  *cancellable,
                        GError       **error)
{
  g_autoptr(GInetAddress) address = NULL;
  g_autoptr(GSocketAddress) socket_address = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *address_text = NULL;

  g_return_val_if_fail (EW_IS_DOIP_CLIENT (self), FALSE);
  g_return_val_if_fail (host != NULL, FALSE);
  g_return_val_if_fail (self->socket == NULL, FALSE);

  if (port == 0)
    port = EW_DOIP_PORT;
  address = resolve_host (host, cancellable, error);
  if (address == NULL)
    return FALSE;
  address_text = g_inet_address_to_string (address);
  socket_address = g_inet_socket_address_new (address, port);
  socket = g_socket_new (g_inet_address_get_family (address), G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_TCP, error);
  if (socket == NULL)
    return FALSE;
  g_socket_set_blocking (socket, FALSE);

  if (!g_socket_connect (socket, socket_address, cancellable, &local_error))
    {
      if (!g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_PENDING))
        goto fail;
      g_clear_error (&local_error);
      if (!g_socket_condition_timed_wait (socket, G_IO_OUT, (gint64) timeout_ms * 1000,
                                          cancellable, &local_error))
        {
          if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
            {
              g_set_error (error, EW_CHANNEL_ERROR, EW_CHANNEL_ERROR_TIMEOUT,
                           "DoIP: no TCP connection to %s port %u within %u ms",
                           address_text, port, timeout_ms);
              return FALSE;
            }
          if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            {
              g_propagate_error (error, g_steal_pointer (&local_error));
              return FALSE;
            }
          goto fail;
        }
      if (!g_socket_check_connect_result (socket, &local_error))
        goto fail;
    }
  g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, 1, NULL);

  self->socket = g_steal_pointer (&socket);
  self->host = g_strdup (host);
  self->port = port;
  self->peer_name = strchr (address_text, ':') != NULL
                    ? g_strdup_printf ("[%s]:%u", address_text, port)
                    : g_strdup_printf ("%s:%u", address_text, port);
  self->reader_cancellable = g_cancellable_new ();
  self->reader = g_thread_new ("doip-client-rx", reader_thread, self);
  return TRUE;

fail:
  g_set_error (error, EW_DOIP_ERROR, EW_DOIP_ERROR_CONNECT,
               "DoIP: cannot connect to %s port %u: %s", address_text, port, local_error->message);
  return FALSE;
}

void
ew_doip_client_close (EwDoipClient *self)
{
  g_return_if_fail (EW_IS_DOIP_CLIENT (self));

  if (self->reader != NULL)
    {
      /* wakes whoever polls the socket, and the background thread */
      g_cancellable_cancel (self->reader_cancellable);
      g_mutex_lock (&self->lock);
      g_cond_broadcast (&self->idle_cond);
      g_mutex_unlock (&self->lock);
      g_thread_join (g_steal_pointer (&self->reader));
    }
  mark_closed (self, "closed by the tester");
  /* a caller still reading leaves at the cancellation above */
  g_mutex_lock (&self->lock);
  while (self->is_reading)
    g_cond_wait (&self->cond, &self->lock);
  g_mutex_unlock (&self->lock);
  if (self->socket != NULL)
    g_socket_close (self->socket, NULL);
}

static gboolean
check_connected (EwDoipClient  *self,
                 GError       **error)
{
  gboolean closed;

  if (self->socket == NULL)
    {
      g_set_error (error, EW_CHANNEL_ERROR, EW_CHANNEL_ERROR_CLOSED,
                   "DoIP: not connected to an entity");
      return FALSE;
    }
  g_mutex_lock (&self->lock);
  closed = self->is_closed;
  g_mutex_unlock (&self->lock);
  if (closed)
    {
      set_closed_error (self, error);
      return FALSE;
    }
  return TRUE;
}

/* Waits for the answer of one of the types wanted; a generic header NACK
 * answers any request. Called with request_lock held. */
static EwDoipMessage *
wait_response (EwDoipClient  *self,
               const char    *what,
               guint16        type_a,
               guint16        type_b,
               guint          timeout_ms,
               GCancellable  *cancellable,
               GError       **error)
{
  gint64 deadline = ew_wait_deadline_after (timeout_ms);

  for (;;)
    {
      Response *r = NULL;
      EwDoipMessage *message;

      switch (wait_item (self, &self->responses, deadline, cancellable, (gpointer *) &r))
        {
        case EW_WAIT_OK:
          break;
        case EW_WAIT_TIMEOUT:
          g_set_error (error, EW_CHANNEL_ERROR, EW_CHANNEL_ERROR_TIMEOUT,
                       "DoIP %s: no answer from %s within %u ms", what, self->peer_name, timeout_ms);
          return NULL;
        case EW_WAIT_CANCELLED:
          g_cancellable_set_error_if_cancelled (cancellable, error);
          return NULL;
        case EW_WAIT_CLOSED:
        default:
          set_closed_error (self, error);
          g_prefix_error (error, "DoIP %s: ", what);
          return NULL;
        }

      message = g_steal_pointer (&r->message);
      response_free (r);
      if (message->payload_type == EW_DOIP_GENERIC_NACK)
        {
          guint8 code = 0;

          ew_doip_decode_generic_nack (message->payload, &code, NULL);
          ew_doip_message_free (message);
          g_set_error (error, EW_DOIP_ERROR, EW_DOIP_ERROR_HEADER_NACK,
                       "DoIP %s: %s answered a generic header NACK 0x%02X (%s)",
                       what, self->peer_name, code, ew_doip_header_nack_name (code));
          return NULL;
        }
      if (message->payload_type == type_a || message->payload_type == type_b)
        return message;
      g_debug ("DoIP %s: ignoring a stray %s", what, ew_doip_payload_type_name (message->payload_type));
      ew_doip_message_free (message);
    }
}

gboolean
ew_doip_client_request_entity_status (EwDoipClient        *self,
                                      EwDoipEntityStatus  *status,
                                      guint                timeout_ms,
                                      GCancellable        *cancellable,
                                      GError             **error)
{
  g_autoptr(GInetAddress) address = NULL;
  g_autoptr(GSocketAddress) to = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GBytes) request = NULL;
  gint64 deadline;

  g_return_val_if_fail (EW_IS_DOIP_CLIENT (self), FALSE);
  g_return_val_if_fail (status != NULL, FALSE);
  if (!check_connected (self, error))
    return FALSE;

  address = resolve_host (self->host, cancellable, error);
  if (address == NULL)
    return FALSE;
  to = g_inet_socket_address_new (address, self->port);
  socket = udp_socket_for (address, error);
  if (socket == NULL)
    return FALSE;
  request = ew_doip_encode (self->protocol_version, EW_DOIP_ENTITY_STATUS_REQUEST, NULL, 0);
  if (g_socket_send_to (socket, to, g_bytes_get_data (request, NULL), g_bytes_get_size (request),
                        cancellable, error) < 0)
    return FALSE;

  deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  for (;;)
    {
      g_autoptr(GBytes) datagram = NULL;
      g_autoptr(EwDoipMessage) message = NULL;
      g_autoptr(GError) local_error = NULL;

      datagram = udp_receive (socket, deadline, NULL, cancellable, error);
      if (datagram == NULL)
        {
          if (error != NULL && *error != NULL)
            return FALSE;
          g_set_error (error, EW_CHANNEL_ERROR, EW_CHANNEL_ERROR_TIMEOUT,
                       "DoIP entity status: no answer from %s within %u ms", self->peer_name, timeout_ms);
          return FALSE;
        }
      message = ew_doip_message_decode (g_bytes_get_data (datagram, NULL), g_bytes_get_size (datagram),
                                        1500, &local_error);
      if (message == NULL || message->payload_type != EW_DOIP_ENTITY_STATUS_RESPONSE)
        continue;
      if (!ew_doip_decode_entity_status_response (message->payload, status, error))
        return FALSE;
      if (status->has_max_data_size)
        self->max_data_size = status->max_data_size;
      return TRUE;
    }
}

gboolean
ew_doip_client_activate_routing (EwDoipClient                     *self,
                                 guint8                            activation_type,
                                 const guint8                     *oem_specific,
                                 EwDoipRoutingActivationResponse  *response_out,
                                 GCancellable                     *cancellable,
                                 GError                          **error)
{
  EwDoipRoutingActivationRequest request = { 0 };
  EwDoipRoutingActivationResponse response;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(EwDoipMessage) answer = NULL;

  g_return_val_if_fail (EW_IS_DOIP_CLIENT (self), FALSE);
  if (!check_connected (self, error))
    return FALSE;

  request.source_address = self->source_address;
  request.activation_type = activation_type;
  if (oem_specific != NULL)
    {
      request.has_oem_specific = TRUE;
      memcpy (request.oem_specific, oem_specific, 4);
    }
  bytes = ew_doip_encode_routing_activation_request (self->protocol_version, &request);

  g_mutex_lock (&self->request_lock);
  flush_responses (self);
  if (write_message (self, bytes, cancellable, error))
    answer = wait_response (self, "routing activation", EW_DOIP_ROUTING_ACTIVATION_RESPONSE,
                            EW_DOIP_ROUTING_ACTIVATION_RESPONSE, EW_DOIP_CTRL_TIMEOUT_MS,
                            cancellable, error);
  g_mutex_unlock (&self->request_lock);
  if (answer == NULL)
    return FALSE;

  if (!ew_doip_decode_routing_activation_response (answer->payload, &response, error))
    return FALSE;
  if (response_out != NULL)
    *response_out = response;
  if (response.response_code != EW_DOIP_ROUTING_SUCCESS)
    {
      g_set_error (error, EW_DOIP_ERROR, EW_DOIP_ERROR_ROUTING_ACTIVATION,
                   "DoIP routing activation of tester 0x%04X at %s: response code 0x%02X (%s)",
                   self->source_address, self->peer_name, response.response_code,
                   ew_doip_routing_code_name (response.response_code));
      return FALSE;
    }
  if (response.tester_address != self->source_address)
    {
      g_set_error (error, EW_DOIP_ERROR, EW_DOIP_ERROR_INVALID_MESSAGE,
                   "DoIP routing activation at %s: byte 8 names tester 0x%04X, we are 0x%04X",
                   self->peer_name, response.tester_address, self->source_address);
      return FALSE;
    }
  g_mutex_lock (&self->lock);
  self->is_activated = TRUE;
  self->entity_address = response.entity_address;
  g_mutex_unlock (&self->lock);
  return TRUE;
}

gboolean
ew_doip_client_send_diagnostic (EwDoipClient  *self,
                                guint16        target_address,
                                const guint8  *data,
                                gsize          length,
                                GCancellable  *cancellable,
                                GError       **error)
{
  guint8 head[EW_DOIP_DIAGNOSTIC_HEADER_LENGTH];
  GOutputVector vectors[2];
  g_autoptr(EwDoipMessage) answer = NULL;
  gboolean activated;
  guint16 sa, ta;
  guint8 code;

  g_return_val_if_fail (EW_IS_DOIP_CLIENT (self), FALSE);
  g_return_val_if_fail (data != NULL || length == 0, FALSE);

  if (length == 0)
    {
      g_set_error (error, EW_CHANNEL_ERROR, EW_CHANNEL_ERROR_MESSAGE_LENGTH,
                   "DoIP diagnostic message to 0x%04X: empty", target_address);
      return FALSE;
    }
  if ((self->max_data_size != 0 && length + 4 > self->max_data_size) || length > G_MAXUINT32 - 4)
    {
      g_set_error (error, EW_CHANNEL_ERROR, EW_CHANNEL_ERROR_MESSAGE_LENGTH,
                   "DoIP diagnostic message to 0x%04X: %" G_GSIZE_FORMAT " bytes exceed the "
                   "entity's max data size of %u bytes (4 of them for the addresses)",
                   target_address, length, self->max_data_size);
      return FALSE;
    }
  if (!check_connected (self, error))
    return FALSE;
  g_mutex_lock (&self->lock);
  activated = self->is_activated;
  g_mutex_unlock (&self->lock);
  if (!activated)
    {
      g_set_error (error, EW_DOIP_ERROR, EW_DOIP_ERROR_NOT_ACTIVATED,
                   "DoIP diagnostic message to 0x%04X: routing is not activated at %s",
                   target_address, self->peer_name);
      return FALSE;
    }

  /* header and user data straight from the caller's buffer, one sendmsg() */
  ew_doip_diagnostic_message_header (head, self->protocol_version, self->source_address,
                                     target_address, length);
  vectors[0].buffer = head;
  vectors[0].size = sizeof head;
  vectors[1].buffer = data;
  vectors[1].size = length;
  g_mutex_lock (&self->request_lock);
  flush_responses (self);
  if (write_vectors (self, vectors, G_N_ELEMENTS (vectors), cancellable, error))
    answer = wait_response (self, "diagnostic message", EW_DOIP_DIAGNOSTIC_MESSAGE_ACK,
                            EW_DOIP_DIAGNOSTIC_MESSAGE_NACK, self->ack_timeout_ms, cancellable, error);
  g_mutex_unlock (&self->request_lock);
  if (answer == NULL)
    return FALSE;

  if (!ew_doip_decode_diagnostic_ack (answer->payload, &sa, &ta, &code, error))
    return FALSE;
  if (answer->payload_type == EW_DOIP_DIAGNOSTIC_MESSAGE_NACK)
    {
      g_set_error (error, EW_DOIP_ERROR, EW_DOIP_ERROR_DIAGNOSTIC_NACK,
                   "DoIP diagnostic message 0x%04X→0x%04X (service 0x%02X): negative acknowledgement "
                   "0x%02X (%s)", self->source_address, target_address, data[0], code,
                   ew_doip_diagnostic_code_name (code));
      return FALSE;
    }
  return TRUE;
}

GBytes *
ew_doip_client_receive_diagnostic (EwDoipClient  *self,
                                   guint16        target_address,
                                   gint           timeout_ms,
                                   GCancellable  *cancellable,
                                   GError       **error)
{
  GBytes *message = NULL;

  g_return_val_if_fail (EW_IS_DOIP_CLIENT (self), NULL);
  if (self->socket == NULL)
    {
      g_set_error (error, EW_CHANNEL_ERROR, EW_CHANNEL_ERROR_CLOSED, "DoIP: not connected to an entity");
      return NULL;
    }

  switch (wait_item (self, diag_queue (self, target_address), ew_wait_deadline_after (timeout_ms),
                     cancellable, (gpointer *) &message))
    {
    case EW_WAIT_OK:
      return message;
    case EW_WAIT_TIMEOUT:
      g_set_error (error, EW_CHANNEL_ERROR, EW_CHANNEL_ERROR_TIMEOUT,
                   "DoIP: no diagnostic message from 0x%04X at %s within %d ms",
                   target_address, self->peer_name, timeout_ms);
      return NULL;
    case EW_WAIT_CANCELLED:
      g_cancellable_set_error_if_cancelled (cancellable, error);
      return NULL;
    case EW_WAIT_CLOSED:
    default:
      set_closed_error (self, error);
      return NULL;
    }
}

/* ---- channel ---- */

struct _EwDoipChannel {
  GObject        parent_instance;
  EwDoipClient  *client;
  guint16        target_address;
  char          *name;
};

static void ew_doip_channel_iface_init (EwChannelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (EwDoipChannel, ew_doip_channel, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (EW_TYPE_CHANNEL, ew_doip_channel_iface_init))

static void
ew_doip_channel_finalize (GObject *object)
{
  EwDoipChannel *self = EW_DOIP_CHANNEL (object);

  g_clear_object (&self->client);
  g_free (self->name);
  G_OBJECT_CLASS (ew_doip_channel_parent_class)->finalize (object);
}

static void
ew_doip_channel_class_init (EwDoipChannelClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ew_doip_channel_finalize;
}

static void
ew_doip_channel_init (EwDoipChannel *self)
{
}

EwDoipChannel *
ew_doip_channel_new (EwDoipClient *client,
                     guint16       target_address)
{
  EwDoipChannel *self;

  g_return_val_if_fail (EW_IS_DOIP_CLIENT (client), NULL);

  self = g_object_new (EW_TYPE_DOIP_CHANNEL, NULL);
  self->client = g_object_ref (client);
  self->target_address = target_address;
  self->name = g_strdup_printf ("DoIP 0x%04X→0x%04X at %s", client->source_address, target_address,
                                client->peer_name != NULL ? client->peer_name : "(not connected)");
  return self;
}

EwDoipClient *
ew_doip_channel_get_client (EwDoipChannel *self)
{
  g_return_val_if_fail (EW_IS_DOIP_CHANNEL (self), NULL);
  return self->client;
}

guint16
ew_doip_channel_get_target_address (EwDoipChannel *self)
{
  g_return_val_if_fail (EW_IS_DOIP_CHANNEL (self), 0);
  return self->target_address;
}

static gboolean
channel_send (EwChannel     *channel,
              const guint8  *data,
              gsize          length_bytes,
              GCancellable  *cancellable,
              GError       **error)
{
  EwDoipChannel *self = EW_DOIP_CHANNEL (channel);

  return ew_doip_client_send_diagnostic (self->client, self->target_address, data, length_bytes,
                                         cancellable, error);
}

static GBytes *
channel_receive (EwChannel     *channel,
                 gint           timeout_ms,
                 GCancellable  *cancellable,
                 GError       **error)
{
  EwDoipChannel *self = EW_DOIP_CHANNEL (channel);

  return ew_doip_client_receive_diagnostic (self->client, self->target_address, timeout_ms,
                                            cancellable, error);
}

static gsize
channel_get_max_message_length (EwChannel *channel)
{
  EwDoipChannel *self = EW_DOIP_CHANNEL (channel);
  guint32 max = self->client->max_data_size;

  /* the payload also carries source and target address */
  return max >= 5 ? max - 4 : G_MAXUINT32 - 4;
}

static const char *
channel_get_name (EwChannel *channel)
{
  return EW_DOIP_CHANNEL (channel)->name;
}

static void
ew_doip_channel_iface_init (EwChannelInterface *iface)
{
  iface->send = channel_send;
  iface->receive = channel_receive;
  iface->get_max_message_length = channel_get_max_message_length;
  iface->get_name = channel_get_name;
}
