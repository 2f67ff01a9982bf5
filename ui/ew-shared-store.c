/* ew-shared-store.c — the job store, shared between pages and workers. */
#include "config.h"

#include "ew-shared-store.h"

struct _EwSharedStore {
  EwJobStore *store;
};

EwSharedStore *
ew_shared_store_new (EwJobStore *store)
{
  EwSharedStore *self;

  g_return_val_if_fail (store != NULL, NULL);
  self = g_atomic_rc_box_new0 (EwSharedStore);
  self->store = store;
  return self;
}

EwSharedStore *
ew_shared_store_ref (EwSharedStore *self)
{
  return g_atomic_rc_box_acquire (self);
}

static void
shared_store_clear (EwSharedStore *self)
{
  g_clear_pointer (&self->store, ew_job_store_close);
}

void
ew_shared_store_unref (EwSharedStore *self)
{
  g_atomic_rc_box_release_full (self, (GDestroyNotify) shared_store_clear);
}

EwJobStore *
ew_shared_store_get_store (EwSharedStore *self)
{
  return self->store;
}
