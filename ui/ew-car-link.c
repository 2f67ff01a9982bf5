/* ew-car-link.c — one shared connection per link URI. */
#include "config.h"

#include "ew-car-link.h"

struct _EwCarLink {
  gatomicrefcount    ref_count;
  EwVehicleDatabase *db;
  /* held while opening, so that two pages asking at once share one car */
  GMutex             lock;
  GCond              released;
  gboolean           is_in_use;    /* engine work talks to the car */
  EwConnection      *connection;   /* nullable */
};

EwCarLink *
ew_car_link_new (EwVehicleDatabase *db)
{
  EwCarLink *self = g_new0 (EwCarLink, 1);

  g_atomic_ref_count_init (&self->ref_count);
  g_mutex_init (&self->lock);
  g_cond_init (&self->released);
  self->db = db;
  return self;
}

EwCarLink *
ew_car_link_ref (EwCarLink *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
ew_car_link_unref (EwCarLink *self)
{
  g_return_if_fail (self != NULL);
  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;
  g_clear_object (&self->connection);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->released);
  g_free (self);
}

static gboolean
holds (EwCarLink *self, const char *uri)
{
  return self->connection != NULL && g_strcmp0 (ew_connection_get_uri (self->connection), uri) == 0;
}

EwConnection *
ew_car_link_acquire (EwCarLink     *self,
                     const char    *uri,
                     GCancellable  *cancellable,
                     GError       **error)
{
  g_autoptr(GMutexLocker) locker = NULL;
  EwConnection *connection;

  g_return_val_if_fail (self != NULL && uri != NULL, NULL);

  locker = g_mutex_locker_new (&self->lock);
  while (self->is_in_use)
    {
      /* woken by a release, or now and then to see a cancel */
      g_cond_wait_until (&self->released, &self->lock,
                         g_get_monotonic_time () + G_TIME_SPAN_MILLISECOND * 100);
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;
    }
  if (!holds (self, uri))
    {
      connection = ew_connection_open (uri, self->db, cancellable, error);
      if (connection == NULL)
        return NULL;
      /* work still running on the old link keeps its own reference */
      g_set_object (&self->connection, connection);
      g_object_unref (connection);
    }
  self->is_in_use = TRUE;
  return g_object_ref (self->connection);
}

void
ew_car_link_release (EwCarLink *self, EwConnection *connection)
{
  g_return_if_fail (self != NULL);

  g_mutex_lock (&self->lock);
  self->is_in_use = FALSE;
  g_cond_signal (&self->released);
  g_mutex_unlock (&self->lock);
  g_clear_object (&connection);
}

EwConnection *
ew_car_link_peek (EwCarLink *self, const char *uri)
{
  EwConnection *connection = NULL;

  g_return_val_if_fail (self != NULL, NULL);
  /* an opening in progress holds the lock: better no answer than a wait */
  if (!g_mutex_trylock (&self->lock))
    return NULL;
  if (holds (self, uri))
    connection = g_object_ref (self->connection);
  g_mutex_unlock (&self->lock);
  return connection;
}

void
ew_car_link_forget (EwCarLink *self, EwConnection *connection)
{
  g_autoptr(GMutexLocker) locker = NULL;

  g_return_if_fail (self != NULL);
  locker = g_mutex_locker_new (&self->lock);
  if (self->connection == connection)
    g_clear_object (&self->connection);
}
