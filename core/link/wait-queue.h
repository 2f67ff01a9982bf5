/* wait-queue.h — a queue that one thread fills and others wait on, with a
 * deadline and a GCancellable, and closing that wakes every waiter. The
 * transports' reader threads hand messages and frames to callers with it.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _EwWaitQueue EwWaitQueue;

typedef enum {
  EW_WAIT_OK,
  EW_WAIT_TIMEOUT,
  EW_WAIT_CANCELLED,
  EW_WAIT_CLOSED,
} EwWaitResult;

/* free_item frees items left in the queue, or pushed after closing. */
EwWaitQueue *ew_wait_queue_new   (GDestroyNotify  free_item);
void         ew_wait_queue_free  (EwWaitQueue    *queue);
void         ew_wait_queue_push  (EwWaitQueue    *queue,
                                  gpointer        item);
/* Wakes every waiter; items queued before are still handed out. */
void         ew_wait_queue_close (EwWaitQueue    *queue);
/* Drops every queued item. */
void         ew_wait_queue_flush (EwWaitQueue    *queue);
/* Waits until an item arrives, deadline_us (monotonic; G_MAXINT64: no
 * limit) passes, cancellable fires or the queue is closed. */
EwWaitResult ew_wait_queue_pop   (EwWaitQueue    *queue,
                                  gint64          deadline_us,
                                  GCancellable   *cancellable,
                                  gpointer       *item);

/* The monotonic deadline timeout_ms from now; negative: no limit. */
gint64       ew_wait_deadline_after (gint         timeout_ms);

G_END_DECLS
