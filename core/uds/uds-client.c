/* uds-client.c — ISO 14229-1:2020 client services over an EwChannel.
 *
 * One mutex (io_lock) owns the channel for a whole request/response
 * exchange, so the keep-alive thread's TesterPresent never lands between
 * a request and its answer. A second one (lock) guards the client's state:
 * timing, session, security counters and the keep-alive schedule.
 */
#define G_LOG_DOMAIN "ew-uds"

#include "uds-client.h"

#include <string.h>

typedef struct {
  guint  failed_attempts;
  gint64 locked_until_us;     /* 0: not locked */
} SecurityState;

struct _EwUdsClient {
  GObject         parent_instance;

  EwChannel      *channel;           /* physical, or functional */
  char           *module_name;
  gboolean        is_functional;
  GPtrArray      *physical;          /* EwChannel *, functional clients */

  GMutex          io_lock;
  GMutex          lock;
  guint           p2_ms;
  guint           p2_star_ms;
  guint           margin_ms;
  guint8          session;
  gint            last_suppressed_sid;   /* -1: none */
  GError         *suppressed_error;
  GHashTable     *security;             /* level → SecurityState */
  EwUdsClockFunc  clock;
  gpointer        clock_data;

  /* keep-alive, under lock */
  GThread        *keep_alive;
  GCond           keep_alive_cond;
  GCancellable   *keep_alive_cancellable;
  gboolean        keep_alive_active;
  gboolean        keep_alive_quit;
  guint           keep_alive_interval_ms;
  gint64          keep_alive_next_us;
};

G_DEFINE_TYPE (EwUdsClient, ew_uds_client, G_TYPE_OBJECT)

static void
ew_uds_client_dispose (GObject *object)
{
  EwUdsClient *self = EW_UDS_CLIENT (object);

  g_mutex_lock (&self->lock);
  self->keep_alive_quit = TRUE;
  g_cond_broadcast (&self->keep_alive_cond);
  g_mutex_unlock (&self->lock);
  g_cancellable_cancel (self->keep_alive_cancellable);
  g_clear_pointer (&self->keep_alive, g_thread_join);

  g_clear_object (&self->channel);
  g_clear_pointer (&self->physical, g_ptr_array_unref);
  G_OBJECT_CLASS (ew_uds_client_parent_class)->dispose (object);
}

static void
ew_uds_client_finalize (GObject *object)
{
  EwUdsClient *self = EW_UDS_CLIENT (object);

  g_clear_object (&self->keep_alive_cancellable);
  g_clear_error (&self->suppressed_error);
  g_hash_table_unref (self->security);
  g_free (self->module_name);
  g_cond_clear (&self->keep_alive_cond);
  g_mutex_clear (&self->io_lock);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (ew_uds_client_parent_class)->finalize (object);
}

static void
ew_uds_client_class_init (EwUdsClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = ew_uds_client_dispose;
  object_class->finalize = ew_uds_client_finalize;
}

static void
ew_uds_client_init (EwUdsClient *self)
{
  g_mutex_init (&self->io_lock);
  g_mutex_init (&self->lock);
  g_cond_init (&self->keep_alive_cond);
  self->p2_ms = EW_UDS_DEFAULT_P2_MS;
  self->p2_star_ms = EW_UDS_DEFAULT_P2_STAR_MS;
  self->margin_ms = EW_UDS_DEFAULT_TIMING_MARGIN_MS;
  self->session = EW_UDS_SESSION_DEFAULT;
  self->last_suppressed_sid = -1;
  self->security = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  self->keep_alive_cancellable = g_cancellable_new ();
  self->keep_alive_interval_ms = EW_UDS_DEFAULT_TESTER_PRESENT_INTERVAL_MS;
}

EwUdsClient *
ew_uds_client_new (EwChannel  *channel,
                   const char *module_name)
{
  EwUdsClient *self;

  g_return_val_if_fail (EW_IS_CHANNEL (channel), NULL);
  g_return_val_if_fail (module_name != NULL, NULL);

  self = g_object_new (EW_TYPE_UDS_CLIENT, NULL);
  self->channel = g_object_ref (channel);
  self->module_name = g_strdup (module_name);
  return self;
}

EwUdsClient *
ew_uds_client_new_functional (EwChannel  *functional_channel,
                              const char *name,
                              EwChannel **physical_channels,
                              guint       n_physical_channels)
{
  EwUdsClient *self;

  g_return_val_if_fail (EW_IS_CHANNEL (functional_channel), NULL);
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (physical_channels != NULL || n_physical_channels == 0, NULL);

  self = ew_uds_client_new (functional_channel, name);
  self->is_functional = TRUE;
  self->physical = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < n_physical_channels; i++)
    g_ptr_array_add (self->physical, g_object_ref (physical_channels[i]));
  return self;
}

const char *
ew_uds_client_get_module_name (EwUdsClient *self)
{
  g_return_val_if_fail (EW_IS_UDS_CLIENT (self), NULL);
  return self->module_name;
}

EwChannel *
ew_uds_client_get_channel (EwUdsClient *self)
{
  g_return_val_if_fail (EW_IS_UDS_CLIENT (self), NULL);
  return self->channel;
}

gboolean
ew_uds_client_is_functional (EwUdsClient *self)
{
  g_return_val_if_fail (EW_IS_UDS_CLIENT (self), FALSE);
  return self->is_functional;
}

guint
ew_uds_client_get_p2_ms (EwUdsClient *self)
{
  guint value;

  g_return_val_if_fail (EW_IS_UDS_CLIENT (self), 0);
  g_mutex_lock (&self->lock);
  value = self->p2_ms;
  g_mutex_unlock (&self->lock);
  return value;
}

guint
ew_uds_client_get_p2_star_ms (EwUdsClient *self)
{
  guint value;

  g_return_val_if_fail (EW_IS_UDS_CLIENT (self), 0);
  g_mutex_lock (&self->lock);
  value = self->p2_star_ms;
  g_mutex_unlock (&self->lock);
  return value;
}

void
ew_uds_client_set_timing (EwUdsClient *self,
                          guint        p2_ms,
                          guint        p2_star_ms)
{
  g_return_if_fail (EW_IS_UDS_CLIENT (self));
  g_mutex_lock (&self->lock);
  self->p2_ms = p2_ms;
  self->p2_star_ms = p2_star_ms;
  g_mutex_unlock (&self->lock);
}

void
ew_uds_client_set_timing_margin (EwUdsClient *self,
                                 guint        margin_ms)
{
  g_return_if_fail (EW_IS_UDS_CLIENT (self));
  g_mutex_lock (&self->lock);
  self->margin_ms = margin_ms;
  g_mutex_unlock (&self->lock);
}

guint8
ew_uds_client_get_session (EwUdsClient *self)
{
  guint8 value;

  g_return_val_if_fail (EW_IS_UDS_CLIENT (self), 0);
  g_mutex_lock (&self->lock);
  value = self->session;
  g_mutex_unlock (&self->lock);
  return value;
}

void
ew_uds_client_set_tester_present_interval (EwUdsClient *self,
                                           guint        interval_ms)
{
  g_return_if_fail (EW_IS_UDS_CLIENT (self));
  g_return_if_fail (interval_ms > 0);
  g_mutex_lock (&self->lock);
  self->keep_alive_interval_ms = interval_ms;
  self->keep_alive_next_us = g_get_monotonic_time () + (gint64) interval_ms * 1000;
  g_cond_broadcast (&self->keep_alive_cond);
  g_mutex_unlock (&self->lock);
}

void
ew_uds_client_set_clock (EwUdsClient    *self,
                         EwUdsClockFunc  clock,
                         gpointer        user_data)
{
  g_return_if_fail (EW_IS_UDS_CLIENT (self));
  g_mutex_lock (&self->lock);
  self->clock = clock;
  self->clock_data = user_data;
  g_mutex_unlock (&self->lock);
}

/* ---- keep-alive ---- */

/* ISO 14229-1:2020 10.5: TesterPresent with the suppress bit keeps a
 * non-default session from timing out (S3server). */
static gpointer
keep_alive_thread (gpointer data)
{
  EwUdsClient *self = data;
  static const guint8 request[] = { EW_UDS_SID_TESTER_PRESENT, 0x80 };

  g_mutex_lock (&self->lock);
  while (!self->keep_alive_quit)
    {
      gint64 now = g_get_monotonic_time ();

      if (!self->keep_alive_active)
        {
          g_cond_wait (&self->keep_alive_cond, &self->lock);
          continue;
        }
      if (now < self->keep_alive_next_us)
        {
          g_cond_wait_until (&self->keep_alive_cond, &self->lock, self->keep_alive_next_us);
          continue;
        }
      self->keep_alive_next_us = now + (gint64) self->keep_alive_interval_ms * 1000;
      g_mutex_unlock (&self->lock);

      g_mutex_lock (&self->io_lock);
      /* the session may have ended while we waited for the channel */
      if (g_atomic_int_get (&self->keep_alive_active))
        {
          g_autoptr(GError) error = NULL;

          if (!ew_channel_send (self->channel, request, sizeof request,
                                self->keep_alive_cancellable, &error))
            g_debug ("%s: TesterPresent keep-alive not sent: %s",
                     self->module_name, error->message);
        }
      g_mutex_unlock (&self->io_lock);

      g_mutex_lock (&self->lock);
    }
  g_mutex_unlock (&self->lock);
  return NULL;
}

/* Called with lock held. */
static void
keep_alive_set_active (EwUdsClient *self,
                       gboolean     active)
{
  g_atomic_int_set (&self->keep_alive_active, active);
  if (active)
    {
      self->keep_alive_next_us = g_get_monotonic_time ()
                                 + (gint64) self->keep_alive_interval_ms * 1000;
      if (self->keep_alive == NULL && !self->keep_alive_quit)
        self->keep_alive = g_thread_new ("ew-uds-keep-alive", keep_alive_thread, self);
    }
  g_cond_broadcast (&self->keep_alive_cond);
}

/* ---- request / response ---- */

static char *
label_for (guint8      sid,
           const char *detail)
{
  if (detail != NULL)
    return g_strdup_printf ("%s %s", ew_uds_service_name (sid), detail);
  return g_strdup (ew_uds_service_name (sid));
}

static gboolean is_stray_negative (EwUdsClient *self,
                                   guint8       nrc_sid,
                                   guint8       nrc);

/* Reads, without waiting, what is left in channel from earlier exchanges:
 * late answers to suppressed requests, answers to keep-alives. */
static void
drain_channel (EwUdsClient *self,
               EwChannel   *channel)
{
  for (guint i = 0; i < 256; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) message = ew_channel_receive (channel, 0, NULL, &error);
      const guint8 *data;
      gsize length;

      if (message == NULL)
        {
          if (g_error_matches (error, EW_CHANNEL_ERROR, EW_CHANNEL_ERROR_TIMEOUT)
              || g_error_matches (error, EW_CHANNEL_ERROR, EW_CHANNEL_ERROR_CLOSED))
            return;
          g_debug ("%s: discarding failed reception: %s", self->module_name, error->message);
          continue;
        }
      data = g_bytes_get_data (message, &length);
      if (length >= 3 && data[0] == EW_UDS_NEGATIVE_RESPONSE
          && is_stray_negative (self, data[1], data[2]))
        continue;
      g_debug ("%s: discarding a late message of %zu bytes", self->module_name, length);
    }
}

static void
drain_all (EwUdsClient *self)
{
  drain_channel (self, self->channel);
  if (self->physical != NULL)
    for (guint i = 0; i < self->physical->len; i++)
      drain_channel (self, g_ptr_array_index (self->physical, i));
}

static void
get_timing_us (EwUdsClient *self,
               gint64      *p2_us,
               gint64      *p2_star_us)
{
  g_mutex_lock (&self->lock);
  *p2_us = (gint64) (self->p2_ms + self->margin_ms) * 1000;
  *p2_star_us = (gint64) (self->p2_star_ms + self->margin_ms) * 1000;
  g_mutex_unlock (&self->lock);
}

/* A negative response that belongs to no request in progress: to the
 * keep-alive's TesterPresent, or to the last suppressed request (kept for
 * check_suppressed()). Either may arrive while another request waits,
 * since neither is awaited itself. */
static gboolean
is_stray_negative (EwUdsClient *self,
                   guint8       nrc_sid,
                   guint8       nrc)
{
  gboolean is_stray;

  g_mutex_lock (&self->lock);
  is_stray = nrc_sid == EW_UDS_SID_TESTER_PRESENT || (gint) nrc_sid == self->last_suppressed_sid;
  if ((gint) nrc_sid == self->last_suppressed_sid
      && nrc != EW_UDS_NRC_REQUEST_CORRECTLY_RECEIVED_RESPONSE_PENDING)
    {
      g_clear_error (&self->suppressed_error);
      self->suppressed_error =
        g_error_new (EW_UDS_NRC_ERROR, nrc,
                     "%s: %s (positive response suppressed) refused: %s (0x%02X) — %s",
                     self->module_name, ew_uds_service_name (nrc_sid),
                     ew_uds_nrc_to_string (nrc), nrc, ew_uds_nrc_explain (nrc));
    }
  g_mutex_unlock (&self->lock);
  if (is_stray)
    g_debug ("%s: ignoring a negative response to %s", self->module_name,
             ew_uds_service_name (nrc_sid));
  return is_stray;
}

/* A positive response that belongs to no request in progress: a server
 * that answered 0x78 to a suppressed request still sends its final
 * positive response (ISO 14229-1:2020 7.5); some also answer 0x3E 0x80. */
static gboolean
is_stray_positive (EwUdsClient *self,
                   guint8       response_sid)
{
  gboolean is_stray;

  g_mutex_lock (&self->lock);
  is_stray = response_sid == EW_UDS_SID_TESTER_PRESENT + EW_UDS_POSITIVE_RESPONSE_OFFSET
             || (self->last_suppressed_sid >= 0
                 && response_sid == self->last_suppressed_sid + EW_UDS_POSITIVE_RESPONSE_OFFSET);
  g_mutex_unlock (&self->lock);
  if (is_stray)
    g_debug ("%s: ignoring a late positive response 0x%02X", self->module_name, response_sid);
  return is_stray;
}

/* Waits on channel for the answer to sid: the positive response, or a
 * negative one that is not responsePending, as it came. Anything else is
 * an invalid response. io_lock held. */
static GBytes *
wait_answer (EwUdsClient   *self,
             EwChannel     *channel,
             guint8         sid,
             const char    *label,
             gint64         start_us,
             GCancellable  *cancellable,
             GError       **error)
{
  gint64 p2_us, p2_star_us, deadline;
  gboolean is_pending = FALSE;
  guint n_pending = 0;

  get_timing_us (self, &p2_us, &p2_star_us);
  deadline = start_us + p2_us;

  for (;;)
    {
      g_autoptr(GError) local_error = NULL;
      g_autoptr(GBytes) message = NULL;
      gint64 now = g_get_monotonic_time ();
      const guint8 *data;
      gsize length;

      if (now >= deadline)
        goto timeout;
      message = ew_channel_receive (channel, (gint) ((deadline - now + 999) / 1000),
                                    cancellable, &local_error);
      if (message == NULL)
        {
          if (g_error_matches (local_error, EW_CHANNEL_ERROR, EW_CHANNEL_ERROR_TIMEOUT))
            goto timeout;
          g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                      "%s: %s: ", self->module_name, label);
          return NULL;
        }

      data = g_bytes_get_data (message, &length);
      if (length == 0)
        {
          g_set_error (error, EW_UDS_ERROR, EW_UDS_ERROR_INVALID_RESPONSE,
                       "%s: %s: empty response (byte 0 missing)", self->module_name, label);
          return NULL;
        }
      if (data[0] == EW_UDS_NEGATIVE_RESPONSE)
        {
          if (length < 3)
            {
              g_set_error (error, EW_UDS_ERROR, EW_UDS_ERROR_INVALID_RESPONSE,
                           "%s: %s: negative response truncated after %zu bytes "
                           "(byte %zu, the %s, missing)", self->module_name, label, length,
                           length, length == 1 ? "service id" : "response code");
              return NULL;
            }
          if (data[1] != sid && is_stray_negative (self, data[1], data[2]))
            continue;
          if (data[1] != sid)
            {
              g_set_error (error, EW_UDS_ERROR, EW_UDS_ERROR_INVALID_RESPONSE,
                           "%s: %s: negative response names service 0x%02X in byte 1, "
                           "expected 0x%02X", self->module_name, label, data[1], sid);
              return NULL;
            }
          if (data[2] == EW_UDS_NRC_REQUEST_CORRECTLY_RECEIVED_RESPONSE_PENDING)
            {
              /* ISO 14229-2:2013 7.2: each 0x78 restarts P2*client */
              is_pending = TRUE;
              n_pending++;
              deadline = g_get_monotonic_time () + p2_star_us;
              continue;
            }
          return g_steal_pointer (&message);
        }
      if (data[0] != (guint8) (sid + EW_UDS_POSITIVE_RESPONSE_OFFSET)
          && is_stray_positive (self, data[0]))
        continue;
      if (data[0] != (guint8) (sid + EW_UDS_POSITIVE_RESPONSE_OFFSET))
        {
          g_set_error (error, EW_UDS_ERROR, EW_UDS_ERROR_INVALID_RESPONSE,
                       "%s: %s: unexpected response id 0x%02X in byte 0, expected 0x%02X "
                       "(positive) or 0x7F (negative)", self->module_name, label,
                       data[0], (guint8) (sid + EW_UDS_POSITIVE_RESPONSE_OFFSET));
          return NULL;
        }
      return g_steal_pointer (&message);

timeout:
      if (is_pending)
        g_set_error (error, EW_UDS_ERROR, EW_UDS_ERROR_TIMEOUT,
                     "%s: %s: the module answered responsePending (0x78, %u times) "
                     "and then nothing within P2* = %" G_GINT64_FORMAT " ms",
                     self->module_name, label, n_pending, p2_star_us / 1000);
      else
        g_set_error (error, EW_UDS_ERROR, EW_UDS_ERROR_TIMEOUT,
                     "%s: no answer to %s within P2 = %" G_GINT64_FORMAT " ms; "
                     "check that the module is powered and connected",
                     self->module_name, label, p2_us / 1000);
      return NULL;
    }
}

static GError *
nrc_error_new (EwUdsClient *self,
               const char  *label,
               guint8       nrc)
{
  return g_error_new (EW_UDS_NRC_ERROR, nrc, "%s: %s refused: %s (0x%02X) — %s",
                      self->module_name, label, ew_uds_nrc_to_string (nrc), nrc,
                      ew_uds_nrc_explain (nrc));
}

/* The exchange every service goes through. detail (nullable) follows the
 * service name in messages ("0xF190"). */
static GBytes *
transact (EwUdsClient   *self,
          const guint8  *request,
          gsize          length_bytes,
          gboolean       suppress,
          const char    *detail,
          GCancellable  *cancellable,
          GError       **error)
{
  g_autofree char *label = NULL;
  g_autoptr(GBytes) answer = NULL;
  const guint8 *data;
  gsize length;
  guint8 sid;
  gint64 start;

  g_return_val_if_fail (EW_IS_UDS_CLIENT (self), NULL);
  g_return_val_if_fail (request != NULL && length_bytes > 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  sid = request[0];
  label = label_for (sid, detail);
  if (self->is_functional && !suppress)
    {
      g_set_error (error, EW_UDS_ERROR, EW_UDS_ERROR_INVALID_ARGUMENT,
                   "%s: %s: a functional request that expects answers goes through "
                   "ew_uds_client_request_functional()", self->module_name, label);
      return NULL;
    }

  for (guint n_repeats = 0;; n_repeats++)
    {
      g_mutex_lock (&self->io_lock);
      drain_all (self);
      if (!ew_channel_send (self->channel, request, length_bytes, cancellable, error))
        {
          g_mutex_unlock (&self->io_lock);
          g_prefix_error (error, "%s: %s: ", self->module_name, label);
          return NULL;
        }
      start = g_get_monotonic_time ();
      if (suppress)
        {
          g_mutex_lock (&self->lock);
          self->last_suppressed_sid = sid;
          g_clear_error (&self->suppressed_error);
          g_mutex_unlock (&self->lock);
          g_mutex_unlock (&self->io_lock);
          return g_bytes_new (NULL, 0);
        }
      g_clear_pointer (&answer, g_bytes_unref);
      answer = wait_answer (self, self->channel, sid, label, start, cancellable, error);
      g_mutex_unlock (&self->io_lock);
      if (answer == NULL)
        return NULL;

      data = g_bytes_get_data (answer, &length);
      if (data[0] != EW_UDS_NEGATIVE_RESPONSE)
        return g_steal_pointer (&answer);
      /* ISO 14229-1 busyRepeatRequest: the module is busy with something
       * else and asks for the same request again, a moment later */
      if (data[2] == EW_UDS_NRC_BUSY_REPEAT_REQUEST && n_repeats < EW_UDS_BUSY_REPEATS)
        {
          g_debug ("%s: %s: busyRepeatRequest, sending it again", self->module_name, label);
          if (g_cancellable_set_error_if_cancelled (cancellable, error))
            return NULL;
          g_usleep ((gulong) EW_UDS_BUSY_REPEAT_DELAY_MS * 1000);
          continue;
        }
      {
        GError *refusal = nrc_error_new (self, label, data[2]);

        if (n_repeats > 0)
          {
            char *message = g_strdup_printf ("%s (asked %u times)", refusal->message, n_repeats + 1);

            g_free (refusal->message);
            refusal->message = message;
          }
        g_propagate_error (error, refusal);
      }
      return NULL;
    }
}

GBytes *
ew_uds_client_request (EwUdsClient   *self,
                       const guint8  *request,
                       gsize          length_bytes,
                       gboolean       suppress,
                       GCancellable  *cancellable,
                       GError       **error)
{
  return transact (self, request, length_bytes, suppress, NULL, cancellable, error);
}

void
ew_uds_functional_response_free (EwUdsFunctionalResponse *response)
{
  if (response == NULL)
    return;
  g_clear_pointer (&response->response, g_bytes_unref);
  g_free (response);
}

GPtrArray *
ew_uds_client_request_functional (EwUdsClient   *self,
                                  const guint8  *request,
                                  gsize          length_bytes,
                                  GCancellable  *cancellable,
                                  GError       **error)
{
  g_autoptr(GPtrArray) answers = NULL;
  g_autofree char *label = NULL;
  gint64 start;

  g_return_val_if_fail (EW_IS_UDS_CLIENT (self), NULL);
  g_return_val_if_fail (request != NULL && length_bytes > 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  label = label_for (request[0], NULL);
  if (!self->is_functional)
    {
      g_set_error (error, EW_UDS_ERROR, EW_UDS_ERROR_INVALID_ARGUMENT,
                   "%s: %s: this client addresses one module physically",
                   self->module_name, label);
      return NULL;
    }

  answers = g_ptr_array_new_with_free_func ((GDestroyNotify) ew_uds_functional_response_free);
  g_mutex_lock (&self->io_lock);
  drain_all (self);
  if (!ew_channel_send (self->channel, request, length_bytes, cancellable, error))
    {
      g_mutex_unlock (&self->io_lock);
      g_prefix_error (error, "%s: %s: ", self->module_name, label);
      return NULL;
    }
  start = g_get_monotonic_time ();
  /* Every physical channel queues its answers on its own, so waiting for
   * them one after another still gives each the same P2 from the send. */
  for (guint i = 0; i < self->physical->len; i++)
    {
      g_autoptr(GError) local_error = NULL;
      EwChannel *channel = g_ptr_array_index (self->physical, i);
      GBytes *answer = wait_answer (self, channel, request[0], label, start,
                                    cancellable, &local_error);
      EwUdsFunctionalResponse *item;

      if (answer == NULL)
        {
          if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            {
              g_mutex_unlock (&self->io_lock);
              g_propagate_error (error, g_steal_pointer (&local_error));
              return NULL;
            }
          g_debug ("%s: %s", ew_channel_get_name (channel), local_error->message);
          continue;
        }
      item = g_new0 (EwUdsFunctionalResponse, 1);
      item->channel_index = i;
      item->response = answer;
      g_ptr_array_add (answers, item);
    }
  g_mutex_unlock (&self->io_lock);
  return g_steal_pointer (&answers);
}

gboolean
ew_uds_client_check_suppressed (EwUdsClient   *self,
                                guint          wait_ms,
                                GCancellable  *cancellable,
                                GError       **error)
{
  gint64 deadline;

  g_return_val_if_fail (EW_IS_UDS_CLIENT (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  deadline = g_get_monotonic_time () + (gint64) wait_ms * 1000;
  for (;;)
    {
      GError *found;

      g_mutex_lock (&self->io_lock);
      drain_all (self);
      g_mutex_unlock (&self->io_lock);

      g_mutex_lock (&self->lock);
      found = g_steal_pointer (&self->suppressed_error);
      g_mutex_unlock (&self->lock);
      if (found != NULL)
        {
          g_propagate_error (error, found);
          return FALSE;
        }
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      if (g_get_monotonic_time () >= deadline)
        return TRUE;
      /* polling keeps the channel free for the keep-alive between looks */
      g_usleep (MIN (5000, MAX (0, deadline - g_get_monotonic_time ())));
    }
}

/* ---- response checks ---- */

static gboolean
check_length (EwUdsClient  *self,
              GBytes       *answer,
              gsize         min_length,
              const char   *label,
              const char   *what,
              GError      **error)
{
  gsize length = g_bytes_get_size (answer);

  if (length >= min_length)
    return TRUE;
  g_set_error (error, EW_UDS_ERROR, EW_UDS_ERROR_INVALID_RESPONSE,
               "%s: %s: response truncated after %zu bytes: byte %zu (%s) missing",
               self->module_name, label, length, length, what);
  return FALSE;
}

static gboolean
check_echo (EwUdsClient  *self,
            GBytes       *answer,
            gsize         index,
            guint8        expected,
            const char   *label,
            const char   *what,
            GError      **error)
{
  const guint8 *data;
  gsize length;

  if (!check_length (self, answer, index + 1, label, what, error))
    return FALSE;
  data = g_bytes_get_data (answer, &length);
  if (data[index] == expected)
    return TRUE;
  g_set_error (error, EW_UDS_ERROR, EW_UDS_ERROR_INVALID_RESPONSE,
               "%s: %s: byte %zu of the response (%s) is 0x%02X, expected 0x%02X",
               self->module_name, label, index, what, data[index], expected);
  return FALSE;
}

/* A request with a sub-function: send, and check the echo unless
 * suppressed. Returns the positive response (empty when suppressed). */
static GBytes *
sub_function_request (EwUdsClient   *self,
                      const guint8  *request,
                      gsize          length_bytes,
                      gboolean       suppress,
                      const char    *detail,
                      GCancellable  *cancellable,
                      GError       **error)
{
  g_autofree guint8 *copy = g_memdup2 (request, length_bytes);
  g_autofree char *label = label_for (request[0], detail);
  g_autoptr(GBytes) answer = NULL;

  if (suppress)
    copy[1] |= EW_UDS_SUPPRESS_POSITIVE_RESPONSE;
  answer = transact (self, copy, length_bytes, suppress, detail, cancellable, error);
  if (answer == NULL)
    return NULL;
  if (!suppress && !check_echo (self, answer, 1, request[1] & 0x7F, label, "sub-function echo", error))
    return NULL;
  return g_steal_pointer (&answer);
}

/* ---- services ---- */

gboolean
ew_uds_client_diagnostic_session_control (EwUdsClient   *self,
                                          guint8         session,
                                          gboolean       suppress,
                                          GCancellable  *cancellable,
                                          GError       **error)
{
  const guint8 request[] = { EW_UDS_SID_DIAGNOSTIC_SESSION_CONTROL, session & 0x7F };
  g_autofree char *detail = g_strdup_printf ("session 0x%02X", session & 0x7F);
  g_autoptr(GBytes) answer = NULL;
  guint p2 = EW_UDS_DEFAULT_P2_MS, p2_star = EW_UDS_DEFAULT_P2_STAR_MS;

  answer = sub_function_request (self, request, sizeof request, suppress, detail,
                                 cancellable, error);
  if (answer == NULL)
    return FALSE;

  if (!suppress)
    {
      const guint8 *data;
      gsize length;

      data = g_bytes_get_data (answer, &length);
      /* ISO 14229-1:2020 10.2.3: sessionParameterRecord = P2server_max
       * (1 ms) and P2*server_max (10 ms). Servers of the 2006 edition send
       * none; the defaults then stay. */
      if (length >= 6)
        {
          p2 = (guint) data[2] << 8 | data[3];
          p2_star = ((guint) data[4] << 8 | data[5]) * 10;
        }
      else if (length != 2)
        {
          g_autofree char *label = label_for (request[0], detail);

          check_length (self, answer, 6, label, "sessionParameterRecord", error);
          return FALSE;
        }
    }

  g_mutex_lock (&self->lock);
  self->session = session & 0x7F;
  if (!suppress)
    {
      self->p2_ms = p2;
      self->p2_star_ms = p2_star;
    }
  keep_alive_set_active (self, self->session != EW_UDS_SESSION_DEFAULT);
  g_mutex_unlock (&self->lock);
  return TRUE;
}

gboolean
ew_uds_client_ecu_reset (EwUdsClient   *self,
                         guint8         reset_type,
                         gboolean       suppress,
                         guint8        *power_down_time_s,
                         GCancellable  *cancellable,
                         GError       **error)
{
  const guint8 request[] = { EW_UDS_SID_ECU_RESET, reset_type & 0x7F };
  g_autoptr(GBytes) answer = NULL;
  const guint8 *data;
  gsize length;

  if (power_down_time_s != NULL)
    *power_down_time_s = 0xFF;
  answer = sub_function_request (self, request, sizeof request, suppress, NULL,
                                 cancellable, error);
  if (answer == NULL)
    return FALSE;
  data = g_bytes_get_data (answer, &length);
  if (power_down_time_s != NULL && length >= 3)
    *power_down_time_s = data[2];

  /* after a reset the server is back in its default session (10.3) */
  g_mutex_lock (&self->lock);
  self->session = EW_UDS_SESSION_DEFAULT;
  self->p2_ms = EW_UDS_DEFAULT_P2_MS;
  self->p2_star_ms = EW_UDS_DEFAULT_P2_STAR_MS;
  keep_alive_set_active (self, FALSE);
  g_mutex_unlock (&self->lock);
  return TRUE;
}

gboolean
ew_uds_client_clear_diagnostic_information (EwUdsClient   *self,
                                            guint32        group_of_dtc,
                                            GCancellable  *cancellable,
                                            GError       **error)
{
  const guint8 request[] = { EW_UDS_SID_CLEAR_DIAGNOSTIC_INFORMATION,
                             (group_of_dtc >> 16) & 0xFF, (group_of_dtc >> 8) & 0xFF,
                             group_of_dtc & 0xFF };
  g_autofree char *detail = g_strdup_printf ("group 0x%06X", group_of_dtc & 0xFFFFFF);
  g_autoptr(GBytes) answer = transact (self, request, sizeof request, FALSE, detail,
                                       cancellable, error);

  return answer != NULL;
}

gboolean
ew_uds_client_read_dtc_count (EwUdsClient   *self,
                              guint8         status_mask,
                              guint8        *availability_mask,
                              guint8        *format_identifier,
                              guint16       *count,
                              GCancellable  *cancellable,
                              GError       **error)
{
  const guint8 request[] = { EW_UDS_SID_READ_DTC_INFORMATION, 0x01, status_mask };
  g_autoptr(GBytes) answer = NULL;
  const guint8 *data;

  answer = sub_function_request (self, request, sizeof request, FALSE,
                                 "reportNumberOfDTCByStatusMask", cancellable, error);
  if (answer == NULL
      || !check_length (self, answer, 6, "ReadDTCInformation reportNumberOfDTCByStatusMask",
                        "DTCCount", error))
    return FALSE;
  data = g_bytes_get_data (answer, NULL);
  if (availability_mask != NULL)
    *availability_mask = data[2];
  if (format_identifier != NULL)
    *format_identifier = data[3];
  if (count != NULL)
    *count = (guint16) (data[4] << 8 | data[5]);
  return TRUE;
}

static GArray *
read_dtc_records (EwUdsClient   *self,
                  const guint8  *request,
                  gsize          length_bytes,
                  const char    *detail,
                  guint8        *availability_mask,
                  GCancellable  *cancellable,
                  GError       **error)
{
  g_autofree char *label = label_for (request[0], detail);
  g_autoptr(GBytes) answer = NULL;
  g_autoptr(GArray) records = NULL;
  const guint8 *data;
  gsize length;

  answer = sub_function_request (self, request, length_bytes, FALSE, detail, cancellable, error);
  if (answer == NULL
      || !check_length (self, answer, 3, label, "DTCStatusAvailabilityMask", error))
    return NULL;
  data = g_bytes_get_data (answer, &length);
  if ((length - 3) % 4 != 0)
    {
      g_set_error (error, EW_UDS_ERROR, EW_UDS_ERROR_INVALID_RESPONSE,
                   "%s: %s: DTC record truncated at byte %zu (records are 4 bytes each)",
                   self->module_name, label, length);
      return NULL;
    }
  if (availability_mask != NULL)
    *availability_mask = data[2];
  records = g_array_new (FALSE, TRUE, sizeof (EwUdsDtcRecord));
  for (gsize i = 3; i + 4 <= length; i += 4)
    {
      EwUdsDtcRecord record = {
        .dtc = (guint32) data[i] << 16 | (guint32) data[i + 1] << 8 | data[i + 2],
        .status = data[i + 3],
      };
      g_array_append_val (records, record);
    }
  return g_steal_pointer (&records);
}

GArray *
ew_uds_client_read_dtcs_by_status_mask (EwUdsClient   *self,
                                        guint8         status_mask,
                                        guint8        *availability_mask,
                                        GCancellable  *cancellable,
                                        GError       **error)
{
  const guint8 request[] = { EW_UDS_SID_READ_DTC_INFORMATION, 0x02, status_mask };

  return read_dtc_records (self, request, sizeof request, "reportDTCByStatusMask",
                           availability_mask, cancellable, error);
}

GArray *
ew_uds_client_read_supported_dtcs (EwUdsClient   *self,
                                   guint8        *availability_mask,
                                   GCancellable  *cancellable,
                                   GError       **error)
{
  const guint8 request[] = { EW_UDS_SID_READ_DTC_INFORMATION, 0x0A };

  return read_dtc_records (self, request, sizeof request, "reportSupportedDTC",
                           availability_mask, cancellable, error);
}

GPtrArray *
ew_uds_client_read_dids (EwUdsClient        *self,
                         const EwUdsDidSpec *dids,
                         guint               n_dids,
                         GCancellable       *cancellable,
                         GError            **error)
{
  g_autoptr(GByteArray) request = g_byte_array_new ();
  g_autoptr(GString) detail = g_string_new (NULL);
  g_autoptr(GBytes) answer = NULL;
  g_autoptr(GPtrArray) records = NULL;
  g_autofree char *label = NULL;
  const guint8 *data;
  gsize length, offset = 1;
  const guint8 sid = EW_UDS_SID_READ_DATA_BY_IDENTIFIER;

  g_return_val_if_fail (EW_IS_UDS_CLIENT (self), NULL);
  g_return_val_if_fail (dids != NULL && n_dids > 0, NULL);

  g_byte_array_append (request, &sid, 1);
  for (guint i = 0; i < n_dids; i++)
    {
      guint8 did[2] = { dids[i].did >> 8, dids[i].did & 0xFF };

      g_byte_array_append (request, did, 2);
      g_string_append_printf (detail, "%s0x%04X", i > 0 ? "+" : "", dids[i].did);
      if (dids[i].length_bytes == 0 && i + 1 < n_dids)
        {
          g_set_error (error, EW_UDS_ERROR, EW_UDS_ERROR_INVALID_ARGUMENT,
                       "%s: ReadDataByIdentifier: DID 0x%04X has no known length and is "
                       "not the last one asked, so the response cannot be split",
                       self->module_name, dids[i].did);
          return NULL;
        }
    }
  label = label_for (sid, detail->str);
  answer = transact (self, request->data, request->len, FALSE, detail->str, cancellable, error);
  if (answer == NULL)
    return NULL;

  data = g_bytes_get_data (answer, &length);
  records = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  for (guint i = 0; i < n_dids; i++)
    {
      gsize record_length;

      if (!check_length (self, answer, offset + 2, label, "dataIdentifier echo", error))
        return NULL;
      if ((guint16) (data[offset] << 8 | data[offset + 1]) != dids[i].did)
        {
          g_set_error (error, EW_UDS_ERROR, EW_UDS_ERROR_INVALID_RESPONSE,
                       "%s: %s: bytes %zu–%zu of the response name DID 0x%02X%02X, "
                       "expected 0x%04X", self->module_name, label, offset, offset + 1,
                       data[offset], data[offset + 1], dids[i].did);
          return NULL;
        }
      offset += 2;
      record_length = dids[i].length_bytes != 0 ? dids[i].length_bytes : length - offset;
      if (!check_length (self, answer, offset + record_length, label, "dataRecord", error))
        return NULL;
      g_ptr_array_add (records, g_bytes_new (data + offset, record_length));
      offset += record_length;
    }
  if (offset != length)
    {
      g_set_error (error, EW_UDS_ERROR, EW_UDS_ERROR_INVALID_RESPONSE,
                   "%s: %s: %zu unexpected byte(s) from byte %zu on; the data records are "
                   "longer than the vehicle data says", self->module_name, label,
                   length - offset, offset);
      return NULL;
    }
  return g_steal_pointer (&records);
}

GBytes *
ew_uds_client_read_did (EwUdsClient   *self,
                        guint16        did,
                        GCancellable  *cancellable,
                        GError       **error)
{
  const EwUdsDidSpec spec = { did, 0 };
  g_autoptr(GPtrArray) records = ew_uds_client_read_dids (self, &spec, 1, cancellable, error);

  if (records == NULL)
    return NULL;
  return g_bytes_ref (g_ptr_array_index (records, 0));
}

/* addressAndLengthFormatIdentifier followed by address and size, most
 * significant byte first (ISO 14229-1:2020 table H.1). */
static gboolean
append_address_and_size (EwUdsClient *self,
                         GByteArray  *request,
                         guint32      address,
                         guint8       address_bytes,
                         guint32      size,
                         guint8       size_bytes,
                         GError     **error)
{
  guint8 alfid;

  if (address_bytes < 1 || address_bytes > 4 || size_bytes < 1 || size_bytes > 4
      || (address_bytes < 4 && address >> (8 * address_bytes) != 0)
      || (size_bytes < 4 && size >> (8 * size_bytes) != 0))
    {
      g_set_error (error, EW_UDS_ERROR, EW_UDS_ERROR_INVALID_ARGUMENT,
                   "%s: address 0x%X or size %u does not fit in %u/%u bytes",
                   self->module_name, address, size, address_bytes, size_bytes);
      return FALSE;
    }
  alfid = (guint8) (size_bytes << 4 | address_bytes);
  g_byte_array_append (request, &alfid, 1);
  for (gint i = address_bytes - 1; i >= 0; i--)
    {
      guint8 b = (address >> (8 * i)) & 0xFF;
      g_byte_array_append (request, &b, 1);
    }
  for (gint i = size_bytes - 1; i >= 0; i--)
    {
      guint8 b = (size >> (8 * i)) & 0xFF;
      g_byte_array_append (request, &b, 1);
    }
  return TRUE;
}

GBytes *
ew_uds_client_read_memory (EwUdsClient   *self,
                           guint32        address,
                           guint8         address_bytes,
                           guint32        size,
                           guint8         size_bytes,
                           GCancellable  *cancellable,
                           GError       **error)
{
  g_autoptr(GByteArray) request = g_byte_array_new ();
  g_autofree char *detail = g_strdup_printf ("0x%X+%u", address, size);
  g_autoptr(GBytes) answer = NULL;
  const guint8 sid = EW_UDS_SID_READ_MEMORY_BY_ADDRESS;

  g_byte_array_append (request, &sid, 1);
  if (!append_address_and_size (self, request, address, address_bytes, size, size_bytes, error))
    return NULL;
  answer = transact (self, request->data, request->len, FALSE, detail, cancellable, error);
  if (answer == NULL)
    return NULL;
  return g_bytes_new_from_bytes (answer, 1, g_bytes_get_size (answer) - 1);
}

GBytes *
ew_uds_client_request_seed (EwUdsClient   *self,
                            guint8         level,
                            GCancellable  *cancellable,
                            GError       **error)
{
  const guint8 request[] = { EW_UDS_SID_SECURITY_ACCESS, level };
  g_autofree char *detail = g_strdup_printf ("requestSeed 0x%02X", level);
  g_autofree char *label = label_for (request[0], detail);
  g_autoptr(GBytes) answer = NULL;

  answer = sub_function_request (self, request, sizeof request, FALSE, detail,
                                 cancellable, error);
  if (answer == NULL || !check_length (self, answer, 3, label, "securitySeed", error))
    return NULL;
  return g_bytes_new_from_bytes (answer, 2, g_bytes_get_size (answer) - 2);
}

gboolean
ew_uds_client_send_key (EwUdsClient   *self,
                        guint8         level,
                        const guint8  *key,
                        gsize          key_length,
                        GCancellable  *cancellable,
                        GError       **error)
{
  g_autoptr(GByteArray) request = g_byte_array_sized_new (2 + key_length);
  g_autofree char *detail = g_strdup_printf ("sendKey 0x%02X", (guint8) (level + 1));
  g_autoptr(GBytes) answer = NULL;
  const guint8 head[] = { EW_UDS_SID_SECURITY_ACCESS, level + 1 };

  g_byte_array_append (request, head, 2);
  g_byte_array_append (request, key, key_length);
  answer = sub_function_request (self, request->data, request->len, FALSE, detail,
                                 cancellable, error);
  return answer != NULL;
}

/* Adds advice to the end of a message the service call made. */
static void
append_advice (GError     *error,
               const char *format,
               ...) G_GNUC_PRINTF (2, 3);

static void
append_advice (GError     *error,
               const char *format,
               ...)
{
  g_autofree char *advice = NULL;
  char *message;
  va_list args;

  va_start (args, format);
  advice = g_strdup_vprintf (format, args);
  va_end (args);
  message = g_strconcat (error->message, " ", advice, NULL);
  g_free (error->message);
  error->message = message;
}

static gint64
client_now_us (EwUdsClient *self)
{
  /* lock held */
  return self->clock != NULL ? self->clock (self->clock_data) : g_get_monotonic_time ();
}

static SecurityState *
security_state (EwUdsClient *self,
                guint8       level)
{
  /* lock held */
  SecurityState *state = g_hash_table_lookup (self->security, GUINT_TO_POINTER (level));

  if (state == NULL)
    {
      state = g_new0 (SecurityState, 1);
      g_hash_table_insert (self->security, GUINT_TO_POINTER (level), state);
    }
  return state;
}

guint
ew_uds_client_get_failed_attempts (EwUdsClient *self,
                                   guint8       level)
{
  guint value;

  g_return_val_if_fail (EW_IS_UDS_CLIENT (self), 0);
  g_mutex_lock (&self->lock);
  value = security_state (self, level)->failed_attempts;
  g_mutex_unlock (&self->lock);
  return value;
}

static void
security_lock_out (EwUdsClient           *self,
                   const EwSecurityLevel *level)
{
  SecurityState *state;

  g_mutex_lock (&self->lock);
  state = security_state (self, level->level);
  state->locked_until_us = client_now_us (self) + (gint64) level->lockout_ms * 1000;
  g_mutex_unlock (&self->lock);
}

gboolean
ew_uds_client_security_access (EwUdsClient           *self,
                               const EwSecurityLevel *level,
                               EwSeedKeyProvider     *provider,
                               const char            *variant,
                               const char            *options,
                               gboolean               is_simulated_car,
                               GCancellable          *cancellable,
                               GError               **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GBytes) seed = NULL;
  g_autoptr(GBytes) key = NULL;
  const guint8 *seed_data;
  gsize seed_length;
  gboolean is_unlocked = TRUE;

  g_return_val_if_fail (EW_IS_UDS_CLIENT (self), FALSE);
  g_return_val_if_fail (level != NULL, FALSE);
  g_return_val_if_fail (provider != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (level->level % 2 == 0 || level->level > 0x7D)
    {
      g_set_error (error, EW_UDS_ERROR, EW_UDS_ERROR_INVALID_ARGUMENT,
                   "%s: SecurityAccess: 0x%02X is not a requestSeed level (odd, 0x01–0x7D)",
                   self->module_name, level->level);
      return FALSE;
    }

  /* the client's own count: stop before the module's counter locks it */
  g_mutex_lock (&self->lock);
  {
    SecurityState *state = security_state (self, level->level);
    gint64 now = client_now_us (self);

    if (state->locked_until_us != 0 && now >= state->locked_until_us)
      {
        state->locked_until_us = 0;
        state->failed_attempts = 0;
      }
    if (state->locked_until_us != 0)
      {
        gint64 remaining_ms = (state->locked_until_us - now + 999) / 1000;

        g_mutex_unlock (&self->lock);
        g_set_error (error, EW_UDS_ERROR, EW_UDS_ERROR_SECURITY_LOCKED_OUT,
                     "%s: SecurityAccess level 0x%02X is locked out after %u failed "
                     "attempts; try again in %" G_GINT64_FORMAT " ms",
                     self->module_name, level->level, state->failed_attempts, remaining_ms);
        return FALSE;
      }
  }
  g_mutex_unlock (&self->lock);

  seed = ew_uds_client_request_seed (self, level->level, cancellable, &local_error);
  if (seed == NULL)
    {
      if (g_error_matches (local_error, EW_UDS_NRC_ERROR, EW_UDS_NRC_EXCEEDED_NUMBER_OF_ATTEMPTS)
          || g_error_matches (local_error, EW_UDS_NRC_ERROR, EW_UDS_NRC_REQUIRED_TIME_DELAY_NOT_EXPIRED))
        {
          security_lock_out (self, level);
          append_advice (local_error, "The client will wait %u ms before the next attempt.",
                         level->lockout_ms);
        }
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  /* 10.4.2: a seed of zeros means the level is already unlocked */
  seed_data = g_bytes_get_data (seed, &seed_length);
  for (gsize i = 0; i < seed_length; i++)
    if (seed_data[i] != 0)
      is_unlocked = FALSE;
  if (is_unlocked)
    return TRUE;

  key = ew_seedkey_provider_compute_key (provider, level->level, seed_data, seed_length,
                                         variant, options, is_simulated_car, &local_error);
  if (key == NULL)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                  "%s: SecurityAccess level 0x%02X: ",
                                  self->module_name, level->level);
      return FALSE;
    }

  if (!ew_uds_client_send_key (self, level->level, g_bytes_get_data (key, NULL),
                               g_bytes_get_size (key), cancellable, &local_error))
    {
      if (g_error_matches (local_error, EW_UDS_NRC_ERROR, EW_UDS_NRC_INVALID_KEY))
        {
          SecurityState *state;
          guint failed;

          g_mutex_lock (&self->lock);
          state = security_state (self, level->level);
          failed = ++state->failed_attempts;
          if (level->max_attempts > 0 && failed >= level->max_attempts)
            state->locked_until_us = client_now_us (self) + (gint64) level->lockout_ms * 1000;
          g_mutex_unlock (&self->lock);
          if (level->max_attempts > 0)
            append_advice (local_error, "Key from “%s”: failed attempt %u of %u%s.",
                           ew_seedkey_provider_get_name (provider), failed, level->max_attempts,
                           failed >= level->max_attempts ? "; security access is now locked out" : "");
        }
      else if (g_error_matches (local_error, EW_UDS_NRC_ERROR, EW_UDS_NRC_EXCEEDED_NUMBER_OF_ATTEMPTS)
               || g_error_matches (local_error, EW_UDS_NRC_ERROR, EW_UDS_NRC_REQUIRED_TIME_DELAY_NOT_EXPIRED))
        {
          security_lock_out (self, level);
          append_advice (local_error, "The client will wait %u ms before the next attempt.",
                         level->lockout_ms);
        }
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  g_mutex_lock (&self->lock);
  security_state (self, level->level)->failed_attempts = 0;
  g_mutex_unlock (&self->lock);
  return TRUE;
}

gboolean
ew_uds_client_communication_control (EwUdsClient   *self,
                                     guint8         control_type,
                                     guint8         communication_type,
                                     gboolean       suppress,
                                     GCancellable  *cancellable,
                                     GError       **error)
{
  const guint8 request[] = { EW_UDS_SID_COMMUNICATION_CONTROL, control_type & 0x7F,
                             communication_type };
  g_autoptr(GBytes) answer = sub_function_request (self, request, sizeof request, suppress,
                                                   NULL, cancellable, error);

  return answer != NULL;
}

gboolean
ew_uds_client_write_did (EwUdsClient   *self,
                         guint16        did,
                         const guint8  *data,
                         gsize          length_bytes,
                         GCancellable  *cancellable,
                         GError       **error)
{
  g_autoptr(GByteArray) request = g_byte_array_sized_new (3 + length_bytes);
  g_autofree char *detail = g_strdup_printf ("0x%04X", did);
  g_autofree char *label = label_for (EW_UDS_SID_WRITE_DATA_BY_IDENTIFIER, detail);
  g_autoptr(GBytes) answer = NULL;
  const guint8 head[] = { EW_UDS_SID_WRITE_DATA_BY_IDENTIFIER, did >> 8, did & 0xFF };

  g_return_val_if_fail (data != NULL && length_bytes > 0, FALSE);

  g_byte_array_append (request, head, 3);
  g_byte_array_append (request, data, length_bytes);
  answer = transact (self, request->data, request->len, FALSE, detail, cancellable, error);
  return answer != NULL
         && check_echo (self, answer, 1, did >> 8, label, "dataIdentifier echo", error)
         && check_echo (self, answer, 2, did & 0xFF, label, "dataIdentifier echo", error);
}

GBytes *
ew_uds_client_routine_control (EwUdsClient             *self,
                               EwUdsRoutineControlType  type,
                               guint16                  routine_id,
                               const guint8            *option,
                               gsize                    option_length,
                               GCancellable            *cancellable,
                               GError                 **error)
{
  g_autoptr(GByteArray) request = g_byte_array_new ();
  g_autofree char *detail = g_strdup_printf ("0x%04X", routine_id);
  g_autofree char *label = label_for (EW_UDS_SID_ROUTINE_CONTROL, detail);
  g_autoptr(GBytes) answer = NULL;
  const guint8 head[] = { EW_UDS_SID_ROUTINE_CONTROL, type, routine_id >> 8, routine_id & 0xFF };

  g_byte_array_append (request, head, 4);
  if (option_length > 0)
    g_byte_array_append (request, option, option_length);
  answer = sub_function_request (self, request->data, request->len, FALSE, detail,
                                 cancellable, error);
  if (answer == NULL
      || !check_echo (self, answer, 2, routine_id >> 8, label, "routineIdentifier echo", error)
      || !check_echo (self, answer, 3, routine_id & 0xFF, label, "routineIdentifier echo", error))
    return NULL;
  return g_bytes_new_from_bytes (answer, 4, g_bytes_get_size (answer) - 4);
}

guint32
ew_uds_client_request_download (EwUdsClient   *self,
                                guint8         data_format,
                                guint32        address,
                                guint8         address_bytes,
                                guint32        size,
                                guint8         size_bytes,
                                GCancellable  *cancellable,
                                GError       **error)
{
  g_autoptr(GByteArray) request = g_byte_array_new ();
  g_autofree char *detail = g_strdup_printf ("0x%X+%u", address, size);
  g_autofree char *label = label_for (EW_UDS_SID_REQUEST_DOWNLOAD, detail);
  g_autoptr(GBytes) answer = NULL;
  const guint8 head[] = { EW_UDS_SID_REQUEST_DOWNLOAD, data_format };
  const guint8 *data;
  gsize length, n;
  guint32 max_block = 0;

  g_byte_array_append (request, head, 2);
  if (!append_address_and_size (self, request, address, address_bytes, size, size_bytes, error))
    return 0;
  answer = transact (self, request->data, request->len, FALSE, detail, cancellable, error);
  if (answer == NULL || !check_length (self, answer, 2, label, "lengthFormatIdentifier", error))
    return 0;
  data = g_bytes_get_data (answer, &length);
  /* 14.2.3: the high nibble is the length of maxNumberOfBlockLength */
  n = data[1] >> 4;
  if (n < 1 || n > 4)
    {
      g_set_error (error, EW_UDS_ERROR, EW_UDS_ERROR_INVALID_RESPONSE,
                   "%s: %s: lengthFormatIdentifier 0x%02X in byte 1 announces a "
                   "maxNumberOfBlockLength of %zu bytes; 1 to 4 are usable",
                   self->module_name, label, data[1], n);
      return 0;
    }
  if (!check_length (self, answer, 2 + n, label, "maxNumberOfBlockLength", error))
    return 0;
  for (gsize i = 0; i < n; i++)
    max_block = max_block << 8 | data[2 + i];
  if (max_block < 3)
    {
      g_set_error (error, EW_UDS_ERROR, EW_UDS_ERROR_INVALID_RESPONSE,
                   "%s: %s: maxNumberOfBlockLength %u (bytes 2–%zu) leaves no room for data",
                   self->module_name, label, max_block, 1 + n);
      return 0;
    }
  return max_block;
}

gboolean
ew_uds_client_transfer_data (EwUdsClient   *self,
                             guint8         block_sequence_counter,
                             const guint8  *data,
                             gsize          length_bytes,
                             GCancellable  *cancellable,
                             GError       **error)
{
  g_autoptr(GByteArray) request = g_byte_array_sized_new (2 + length_bytes);
  g_autofree char *detail = g_strdup_printf ("block 0x%02X", block_sequence_counter);
  g_autofree char *label = label_for (EW_UDS_SID_TRANSFER_DATA, detail);
  g_autoptr(GBytes) answer = NULL;
  const guint8 head[] = { EW_UDS_SID_TRANSFER_DATA, block_sequence_counter };

  g_byte_array_append (request, head, 2);
  if (length_bytes > 0)
    g_byte_array_append (request, data, length_bytes);
  answer = transact (self, request->data, request->len, FALSE, detail, cancellable, error);
  return answer != NULL
         && check_echo (self, answer, 1, block_sequence_counter, label,
                        "blockSequenceCounter echo", error);
}

GBytes *
ew_uds_client_request_transfer_exit (EwUdsClient   *self,
                                     GCancellable  *cancellable,
                                     GError       **error)
{
  const guint8 request[] = { EW_UDS_SID_REQUEST_TRANSFER_EXIT };
  g_autoptr(GBytes) answer = transact (self, request, sizeof request, FALSE, NULL,
                                       cancellable, error);

  if (answer == NULL)
    return NULL;
  return g_bytes_new_from_bytes (answer, 1, g_bytes_get_size (answer) - 1);
}

gboolean
ew_uds_client_tester_present (EwUdsClient   *self,
                              gboolean       suppress,
                              GCancellable  *cancellable,
                              GError       **error)
{
  const guint8 request[] = { EW_UDS_SID_TESTER_PRESENT, 0x00 };
  g_autoptr(GBytes) answer = sub_function_request (self, request, sizeof request, suppress,
                                                   NULL, cancellable, error);

  return answer != NULL;
}

gboolean
ew_uds_client_control_dtc_setting (EwUdsClient   *self,
                                   guint8         setting,
                                   gboolean       suppress,
                                   GCancellable  *cancellable,
                                   GError       **error)
{
  const guint8 request[] = { EW_UDS_SID_CONTROL_DTC_SETTING, setting & 0x7F };
  g_autoptr(GBytes) answer = sub_function_request (self, request, sizeof request, suppress,
                                                   NULL, cancellable, error);

  return answer != NULL;
}
