/* wait-queue.c — see wait-queue.h. */
#include "wait-queue.h"

struct _EwWaitQueue {
  GMutex          lock;
  GCond           cond;
  GQueue          items;
  GDestroyNotify  free_item;
  gboolean        is_closed;
};

EwWaitQueue *
ew_wait_queue_new (GDestroyNotify free_item)
{
  EwWaitQueue *q = g_new0 (EwWaitQueue, 1);

  g_mutex_init (&q->lock);
  g_cond_init (&q->cond);
  g_queue_init (&q->items);
  q->free_item = free_item;
  return q;
}

void
ew_wait_queue_free (EwWaitQueue *q)
{
  if (q == NULL)
    return;
  g_queue_clear_full (&q->items, q->free_item);
  g_cond_clear (&q->cond);
  g_mutex_clear (&q->lock);
  g_free (q);
}

void
ew_wait_queue_push (EwWaitQueue *q,
                    gpointer     item)
{
  g_mutex_lock (&q->lock);
  if (q->is_closed)
    q->free_item (item);
  else
    g_queue_push_tail (&q->items, item);
  g_cond_broadcast (&q->cond);
  g_mutex_unlock (&q->lock);
}

void
ew_wait_queue_close (EwWaitQueue *q)
{
  g_mutex_lock (&q->lock);
  q->is_closed = TRUE;
  g_cond_broadcast (&q->cond);
  g_mutex_unlock (&q->lock);
}

void
ew_wait_queue_flush (EwWaitQueue *q)
{
  g_mutex_lock (&q->lock);
  g_queue_clear_full (&q->items, q->free_item);
  g_queue_init (&q->items);
  g_mutex_unlock (&q->lock);
}

static void
wake (GCancellable *cancellable,
      EwWaitQueue  *q)
{
  g_mutex_lock (&q->lock);
  g_cond_broadcast (&q->cond);
  g_mutex_unlock (&q->lock);
}

EwWaitResult
ew_wait_queue_pop (EwWaitQueue  *q,
                   gint64        deadline_us,
                   GCancellable *cancellable,
                   gpointer     *item)
{
  gulong handler = 0;
  EwWaitResult result;

  if (cancellable != NULL)
    handler = g_cancellable_connect (cancellable, G_CALLBACK (wake), q, NULL);

  g_mutex_lock (&q->lock);
  for (;;)
    {
      if (g_cancellable_is_cancelled (cancellable))
        {
          result = EW_WAIT_CANCELLED;
          break;
        }
      if (!g_queue_is_empty (&q->items))
        {
          *item = g_queue_pop_head (&q->items);
          result = EW_WAIT_OK;
          break;
        }
      if (q->is_closed)
        {
          result = EW_WAIT_CLOSED;
          break;
        }
      if (g_get_monotonic_time () >= deadline_us)
        {
          result = EW_WAIT_TIMEOUT;
          break;
        }
      if (deadline_us == G_MAXINT64)
        g_cond_wait (&q->cond, &q->lock);
      else
        g_cond_wait_until (&q->cond, &q->lock, deadline_us);
    }
  g_mutex_unlock (&q->lock);

  if (handler != 0)
    g_cancellable_disconnect (cancellable, handler);
  return result;
}

gint64
ew_wait_deadline_after (gint timeout_ms)
{
  return timeout_ms < 0 ? G_MAXINT64 : g_get_monotonic_time () + (gint64) timeout_ms * 1000;
}
