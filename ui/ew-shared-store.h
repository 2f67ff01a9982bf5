/* ew-shared-store.h — the job store shared by the window's pages and the
 * engine work they run in worker threads: reference counted, so that a
 * job still running when its window closes keeps the store open until it
 * has journalled its last step. */
#pragma once

#include <glib.h>

#include "store/job-store.h"

G_BEGIN_DECLS

typedef struct _EwSharedStore EwSharedStore;

/* Takes ownership of store. */
EwSharedStore *ew_shared_store_new       (EwJobStore    *store);
EwSharedStore *ew_shared_store_ref       (EwSharedStore *self);
void           ew_shared_store_unref     (EwSharedStore *self);
EwJobStore    *ew_shared_store_get_store (EwSharedStore *self); /* transfer none */
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EwSharedStore, ew_shared_store_unref)

G_END_DECLS
