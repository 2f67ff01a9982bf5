/* sim-bus.c — the simulated CAN bus and its nodes.
 *
 * One mutex per bus guards the node list, every node's receive queue and
 * the wire; each node has its own condition variable. With a bitrate set,
 * a frame is placed on the wire at max(now, end of the previous frame)
 * and stays invisible to receivers until its last bit (the end of the
 * intermission) has passed; the sender returns once its frame has started,
 * like a controller with one transmit buffer, so a busy sender keeps the
 * wire full and the frame spacing is exactly the frame length.
 */
#include "sim-bus.h"

#include <errno.h>
#include <time.h>

struct _EwSimBus {
  gint     ref_count;          /* guarded by registry_lock */
  char    *name;
  GMutex   lock;
  GList   *nodes;              /* EwSimLink *, unowned */
  guint    bitrate_bps;
  gint64   wire_free_at_ns;
  guint64  n_frames;
};

struct _EwSimLink {
  EwLink       parent_instance;

  EwSimBus    *bus;            /* owned */
  GHashTable  *parameters;     /* owned, may be NULL */

  /* guarded by bus->lock */
  GCond        cond;
  GQueue       queue;          /* EwCanFrame *, in timestamp order */
  EwCanFilter *filters;
  gsize        n_filters;
  gboolean     loopback;
  gboolean     attached;
};

G_DEFINE_FINAL_TYPE (EwSimLink, ew_sim_link, EW_TYPE_LINK)

static GMutex registry_lock;
static GHashTable *registry;   /* name -> EwSimBus *, unowned */

static gint64
now_ns (void)
{
  struct timespec ts;

  /* the clock g_get_monotonic_time() reads */
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
sleep_until_ns (gint64 deadline_ns)
{
  struct timespec ts = {
    .tv_sec = deadline_ns / 1000000000,
    .tv_nsec = deadline_ns % 1000000000,
  };

  while (clock_nanosleep (CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
    ;
}

EwSimBus *
ew_sim_bus_get (const char *name)
{
  EwSimBus *bus;

  g_return_val_if_fail (name != NULL, NULL);

  g_mutex_lock (&registry_lock);
  if (registry == NULL)
    registry = g_hash_table_new (g_str_hash, g_str_equal);
  bus = g_hash_table_lookup (registry, name);
  if (bus != NULL)
    bus->ref_count++;
  else
    {
      bus = g_new0 (EwSimBus, 1);
      bus->ref_count = 1;
      bus->name = g_strdup (name);
      g_mutex_init (&bus->lock);
      g_hash_table_insert (registry, bus->name, bus);
    }
  g_mutex_unlock (&registry_lock);
  return bus;
}

EwSimBus *
ew_sim_bus_ref (EwSimBus *bus)
{
  g_return_val_if_fail (bus != NULL, NULL);

  g_mutex_lock (&registry_lock);
  g_assert (bus->ref_count > 0);
  bus->ref_count++;
  g_mutex_unlock (&registry_lock);
  return bus;
}

void
ew_sim_bus_unref (EwSimBus *bus)
{
  gboolean is_last;

  g_return_if_fail (bus != NULL);

  /* under the registry lock, so ew_sim_bus_get() never finds a bus that
   * is being freed */
  g_mutex_lock (&registry_lock);
  g_assert (bus->ref_count > 0);
  is_last = --bus->ref_count == 0;
  if (is_last)
    {
      g_hash_table_remove (registry, bus->name);
      if (g_hash_table_size (registry) == 0)
        g_clear_pointer (&registry, g_hash_table_unref);
    }
  g_mutex_unlock (&registry_lock);

  if (!is_last)
    return;
  g_assert (bus->nodes == NULL);
  g_mutex_clear (&bus->lock);
  g_free (bus->name);
  g_free (bus);
}

const char *
ew_sim_bus_get_name (EwSimBus *bus)
{
  g_return_val_if_fail (bus != NULL, NULL);
  return bus->name;
}

void
ew_sim_bus_set_bitrate (EwSimBus *bus,
                        guint     bitrate_bps)
{
  g_return_if_fail (bus != NULL);

  g_mutex_lock (&bus->lock);
  bus->bitrate_bps = bitrate_bps;
  g_mutex_unlock (&bus->lock);
}

guint
ew_sim_bus_get_bitrate (EwSimBus *bus)
{
  guint bitrate;

  g_return_val_if_fail (bus != NULL, 0);

  g_mutex_lock (&bus->lock);
  bitrate = bus->bitrate_bps;
  g_mutex_unlock (&bus->lock);
  return bitrate;
}

guint
ew_sim_bus_get_n_nodes (EwSimBus *bus)
{
  guint n;

  g_return_val_if_fail (bus != NULL, 0);

  g_mutex_lock (&bus->lock);
  n = g_list_length (bus->nodes);
  g_mutex_unlock (&bus->lock);
  return n;
}

guint64
ew_sim_bus_get_n_frames (EwSimBus *bus)
{
  guint64 n;

  g_return_val_if_fail (bus != NULL, 0);

  g_mutex_lock (&bus->lock);
  n = bus->n_frames;
  g_mutex_unlock (&bus->lock);
  return n;
}

/* bus->lock held */
static void
detach_locked (EwSimLink *self)
{
  if (!self->attached)
    return;
  self->attached = FALSE;
  self->bus->nodes = g_list_remove (self->bus->nodes, self);
  g_cond_broadcast (&self->cond);
}

static gboolean
ew_sim_link_send (EwLink            *link,
                  const EwCanFrame  *frame,
                  gint               timeout_ms,
                  GCancellable      *cancellable,
                  GError           **error)
{
  EwSimLink *self = EW_SIM_LINK (link);
  EwSimBus *bus = self->bus;
  gint64 now, start_ns, end_ns;

  g_mutex_lock (&bus->lock);
  /* read under the lock, so timestamps follow the order of delivery */
  now = start_ns = end_ns = now_ns ();
  if (!self->attached)
    {
      g_mutex_unlock (&bus->lock);
      g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_CLOSED,
                   "Link %s is closed", ew_link_get_name (link));
      return FALSE;
    }

  if (bus->bitrate_bps > 0)
    {
      guint bits = ew_can_frame_wire_bits (frame);

      start_ns = MAX (now, bus->wire_free_at_ns);
      if (timeout_ms >= 0 && start_ns - now > (gint64) timeout_ms * 1000000)
        {
          g_mutex_unlock (&bus->lock);
          g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_TIMEOUT,
                       "Link %s: the bus stayed busy for more than %d ms",
                       ew_link_get_name (link), timeout_ms);
          return FALSE;
        }
      end_ns = start_ns + (gint64) bits * 1000000000 / bus->bitrate_bps;
      bus->wire_free_at_ns = end_ns;
    }

  for (GList *l = bus->nodes; l != NULL; l = l->next)
    {
      EwSimLink *node = l->data;
      EwCanFrame *copy;

      if (node == self && !node->loopback)
        continue;
      if (!ew_can_filter_matches (node->filters, node->n_filters, frame))
        continue;
      copy = ew_can_frame_copy (frame);
      copy->timestamp_us = end_ns / 1000;
      g_queue_push_tail (&node->queue, copy);
      g_cond_broadcast (&node->cond);
    }
  bus->n_frames++;
  g_mutex_unlock (&bus->lock);

  if (start_ns > now)
    sleep_until_ns (start_ns);
  return TRUE;
}

static void
wake_on_cancel (GCancellable *cancellable,
                EwSimLink    *self)
{
  g_mutex_lock (&self->bus->lock);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->bus->lock);
}

static gboolean
ew_sim_link_receive (EwLink        *link,
                     EwCanFrame    *frame,
                     gint           timeout_ms,
                     GCancellable  *cancellable,
                     GError       **error)
{
  EwSimLink *self = EW_SIM_LINK (link);
  EwSimBus *bus = self->bus;
  gint64 deadline = timeout_ms < 0 ? G_MAXINT64
                                   : g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  gulong handler = 0;
  gboolean ok = FALSE;

  if (cancellable != NULL)
    handler = g_cancellable_connect (cancellable, G_CALLBACK (wake_on_cancel), self, NULL);

  g_mutex_lock (&bus->lock);
  for (;;)
    {
      EwCanFrame *head;
      gint64 now, wake_at;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        break;
      if (!self->attached)
        {
          g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_CLOSED,
                       "Link %s is closed", ew_link_get_name (link));
          break;
        }

      now = g_get_monotonic_time ();
      head = g_queue_peek_head (&self->queue);
      if (head != NULL && head->timestamp_us <= now)
        {
          *frame = *head;
          ew_can_frame_free (g_queue_pop_head (&self->queue));
          ok = TRUE;
          break;
        }
      if (now >= deadline)
        {
          g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_TIMEOUT,
                       "Link %s: no frame within %d ms", ew_link_get_name (link), timeout_ms);
          break;
        }

      wake_at = deadline;
      if (head != NULL)
        wake_at = MIN (wake_at, head->timestamp_us);
      if (wake_at == G_MAXINT64)
        g_cond_wait (&self->cond, &bus->lock);
      else
        g_cond_wait_until (&self->cond, &bus->lock, wake_at);
    }
  g_mutex_unlock (&bus->lock);

  if (handler != 0)
    g_cancellable_disconnect (cancellable, handler);
  return ok;
}

static gboolean
ew_sim_link_set_filters (EwLink             *link,
                         const EwCanFilter  *filters,
                         gsize               n_filters,
                         GError            **error)
{
  EwSimLink *self = EW_SIM_LINK (link);
  EwCanFilter *copy = n_filters > 0 ? g_memdup2 (filters, n_filters * sizeof *filters) : NULL;

  g_mutex_lock (&self->bus->lock);
  g_free (self->filters);
  self->filters = copy;
  self->n_filters = n_filters;
  g_mutex_unlock (&self->bus->lock);
  return TRUE;
}

static void
ew_sim_link_close (EwLink *link)
{
  EwSimLink *self = EW_SIM_LINK (link);

  g_mutex_lock (&self->bus->lock);
  detach_locked (self);
  g_mutex_unlock (&self->bus->lock);
}

static void
ew_sim_link_finalize (GObject *object)
{
  EwSimLink *self = EW_SIM_LINK (object);

  g_mutex_lock (&self->bus->lock);
  detach_locked (self);
  g_mutex_unlock (&self->bus->lock);

  g_queue_clear_full (&self->queue, (GDestroyNotify) ew_can_frame_free);
  g_free (self->filters);
  g_cond_clear (&self->cond);
  g_clear_pointer (&self->parameters, g_hash_table_unref);
  g_clear_pointer (&self->bus, ew_sim_bus_unref);

  G_OBJECT_CLASS (ew_sim_link_parent_class)->finalize (object);
}

static void
ew_sim_link_class_init (EwSimLinkClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  EwLinkClass *link_class = EW_LINK_CLASS (klass);

  object_class->finalize = ew_sim_link_finalize;
  link_class->send = ew_sim_link_send;
  link_class->receive = ew_sim_link_receive;
  link_class->set_filters = ew_sim_link_set_filters;
  link_class->close = ew_sim_link_close;
}

static void
ew_sim_link_init (EwSimLink *self)
{
  g_cond_init (&self->cond);
  g_queue_init (&self->queue);
}

EwSimLink *
ew_sim_link_new_full (EwSimBus   *bus,
                      const char *uri,
                      GHashTable *parameters)
{
  g_autofree char *name = NULL;
  EwSimLink *self;

  g_return_val_if_fail (bus != NULL, NULL);

  name = g_strconcat ("sim:", bus->name, NULL);
  if (uri == NULL)
    uri = name;
  self = g_object_new (EW_TYPE_SIM_LINK, "uri", uri, "name", name, NULL);
  self->bus = ew_sim_bus_ref (bus);
  if (parameters != NULL)
    self->parameters = g_hash_table_ref (parameters);

  g_mutex_lock (&bus->lock);
  bus->nodes = g_list_append (bus->nodes, self);
  self->attached = TRUE;
  g_mutex_unlock (&bus->lock);
  return self;
}

EwSimLink *
ew_sim_link_new (EwSimBus *bus)
{
  return ew_sim_link_new_full (bus, NULL, NULL);
}

EwSimBus *
ew_sim_link_get_bus (EwSimLink *self)
{
  g_return_val_if_fail (EW_IS_SIM_LINK (self), NULL);
  return self->bus;
}

const char *
ew_sim_link_get_parameter (EwSimLink  *self,
                           const char *key)
{
  g_return_val_if_fail (EW_IS_SIM_LINK (self), NULL);
  g_return_val_if_fail (key != NULL, NULL);

  if (self->parameters == NULL)
    return NULL;
  return g_hash_table_lookup (self->parameters, key);
}

void
ew_sim_link_set_loopback (EwSimLink *self,
                          gboolean   loopback)
{
  g_return_if_fail (EW_IS_SIM_LINK (self));

  g_mutex_lock (&self->bus->lock);
  self->loopback = !!loopback;
  g_mutex_unlock (&self->bus->lock);
}
