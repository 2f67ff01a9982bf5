/* link-mux.c — branches of one CAN link, each with its own queue. */
#include "link-mux.h"

#define READ_SLICE_MS 50

#define EW_TYPE_MUX_LINK (ew_mux_link_get_type ())
G_DECLARE_FINAL_TYPE (EwMuxLink, ew_mux_link, EW, MUX_LINK, EwLink)

struct _EwLinkMux {
  gint       ref_count;
  EwLink    *trunk;
  GThread   *reader;
  gint       is_stopping;     /* atomic */
  GMutex     lock;            /* branches */
  GPtrArray *branches;        /* EwMuxLink, weak: a branch removes itself */
  GError    *failure;         /* why the trunk stopped, for later branches */
};

struct _EwMuxLink {
  EwLink       parent_instance;
  EwLinkMux   *mux;           /* strong */
  GMutex       lock;          /* filters and queue */
  GCond        arrived;
  GQueue       frames;        /* EwCanFrame */
  EwCanFilter *filters;
  gsize        n_filters;
  GError      *trunk_error;   /* why the shared link stopped */
};

/* Lock order: the mux's lock, then a branch's; never the other way. */

G_DEFINE_FINAL_TYPE (EwMuxLink, ew_mux_link, EW_TYPE_LINK)

static void
deliver (EwMuxLink *branch, const EwCanFrame *frame)
{
  g_mutex_lock (&branch->lock);
  if (ew_can_filter_matches (branch->filters, branch->n_filters, frame))
    {
      g_queue_push_tail (&branch->frames, g_memdup2 (frame, sizeof *frame));
      g_cond_broadcast (&branch->arrived);
    }
  g_mutex_unlock (&branch->lock);
}

static void
fail_all (EwLinkMux *mux, const GError *error)
{
  g_mutex_lock (&mux->lock);
  if (mux->failure == NULL)
    mux->failure = g_error_copy (error);
  for (guint i = 0; i < mux->branches->len; i++)
    {
      EwMuxLink *branch = g_ptr_array_index (mux->branches, i);

      g_mutex_lock (&branch->lock);
      if (branch->trunk_error == NULL)
        branch->trunk_error = g_error_copy (error);
      g_cond_broadcast (&branch->arrived);
      g_mutex_unlock (&branch->lock);
    }
  g_mutex_unlock (&mux->lock);
}

static gpointer
reader_thread (gpointer data)
{
  EwLinkMux *mux = data;

  while (!g_atomic_int_get (&mux->is_stopping))
    {
      g_autoptr(GError) error = NULL;
      EwCanFrame frame;

      if (!ew_link_receive (mux->trunk, &frame, READ_SLICE_MS, NULL, &error))
        {
          if (g_error_matches (error, EW_LINK_ERROR, EW_LINK_ERROR_TIMEOUT))
            continue;
          /* the adapter is gone or failed: every branch hears why */
          fail_all (mux, error);
          break;
        }
      g_mutex_lock (&mux->lock);
      for (guint i = 0; i < mux->branches->len; i++)
        deliver (g_ptr_array_index (mux->branches, i), &frame);
      g_mutex_unlock (&mux->lock);
    }
  return NULL;
}

EwLinkMux *
ew_link_mux_new (EwLink *trunk)
{
  EwLinkMux *mux = g_new0 (EwLinkMux, 1);

  g_return_val_if_fail (EW_IS_LINK (trunk), NULL);

  mux->ref_count = 1;
  mux->trunk = g_object_ref (trunk);
  g_mutex_init (&mux->lock);
  mux->branches = g_ptr_array_new ();
  /* the trunk hears everything; branches filter for themselves */
  ew_link_set_filters (trunk, NULL, 0, NULL);
  mux->reader = g_thread_new ("link-mux", reader_thread, mux);
  return mux;
}

EwLinkMux *
ew_link_mux_ref (EwLinkMux *mux)
{
  g_atomic_int_inc (&mux->ref_count);
  return mux;
}

void
ew_link_mux_unref (EwLinkMux *mux)
{
  if (mux == NULL || !g_atomic_int_dec_and_test (&mux->ref_count))
    return;

  g_atomic_int_set (&mux->is_stopping, TRUE);
  g_thread_join (mux->reader);
  g_assert (mux->branches->len == 0);
  g_ptr_array_unref (mux->branches);
  g_clear_error (&mux->failure);
  g_mutex_clear (&mux->lock);
  g_object_unref (mux->trunk);
  g_free (mux);
}

EwLink *
ew_link_mux_get_trunk (EwLinkMux *mux)
{
  return mux->trunk;
}

EwLink *
ew_link_mux_open_branch (EwLinkMux *mux)
{
  EwMuxLink *branch = g_object_new (EW_TYPE_MUX_LINK,
                                    "uri", ew_link_get_uri (mux->trunk),
                                    "name", ew_link_get_name (mux->trunk),
                                    NULL);

  branch->mux = ew_link_mux_ref (mux);
  g_mutex_lock (&mux->lock);
  if (mux->failure != NULL)
    branch->trunk_error = g_error_copy (mux->failure);
  g_ptr_array_add (mux->branches, branch);
  g_mutex_unlock (&mux->lock);
  return EW_LINK (branch);
}

/* ---- the branch link ---- */

static void
detach (EwMuxLink *self)
{
  if (self->mux == NULL)
    return;
  g_mutex_lock (&self->mux->lock);
  g_ptr_array_remove (self->mux->branches, self);
  g_mutex_unlock (&self->mux->lock);
}

static gboolean
ew_mux_link_send (EwLink            *link,
                  const EwCanFrame  *frame,
                  gint               timeout_ms,
                  GCancellable      *cancellable,
                  GError           **error)
{
  EwMuxLink *self = EW_MUX_LINK (link);

  if (ew_link_is_closed (link))
    {
      g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_CLOSED, "Link %s is closed",
                   ew_link_get_name (link));
      return FALSE;
    }
  return ew_link_send (self->mux->trunk, frame, timeout_ms, cancellable, error);
}

static gboolean
ew_mux_link_receive (EwLink        *link,
                     EwCanFrame    *frame,
                     gint           timeout_ms,
                     GCancellable  *cancellable,
                     GError       **error)
{
  EwMuxLink *self = EW_MUX_LINK (link);
  gint64 deadline = timeout_ms < 0 ? G_MAXINT64
                                   : g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  gboolean ok = FALSE;

  g_mutex_lock (&self->lock);
  for (;;)
    {
      EwCanFrame *queued;
      gint64 slice_end;

      if (ew_link_is_closed (link))
        {
          g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_CLOSED, "Link %s is closed",
                       ew_link_get_name (link));
          break;
        }
      queued = g_queue_pop_head (&self->frames);
      if (queued != NULL)
        {
          *frame = *queued;
          g_free (queued);
          ok = TRUE;
          break;
        }
      if (self->trunk_error != NULL)
        {
          g_propagate_error (error, g_error_copy (self->trunk_error));
          break;
        }
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        break;
      if (g_get_monotonic_time () >= deadline)
        {
          g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_TIMEOUT,
                       "Link %s: no frame within %d ms", ew_link_get_name (link), timeout_ms);
          break;
        }
      /* wake now and then to see a cancellation */
      slice_end = MIN (deadline, g_get_monotonic_time () + READ_SLICE_MS * 1000);
      g_cond_wait_until (&self->arrived, &self->lock, slice_end);
    }
  g_mutex_unlock (&self->lock);
  return ok;
}

static gboolean
ew_mux_link_set_filters (EwLink             *link,
                         const EwCanFilter  *filters,
                         gsize               n_filters,
                         GError            **error)
{
  EwMuxLink *self = EW_MUX_LINK (link);

  g_mutex_lock (&self->lock);
  g_free (self->filters);
  self->filters = n_filters > 0 ? g_memdup2 (filters, n_filters * sizeof *filters) : NULL;
  self->n_filters = n_filters;
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static void
ew_mux_link_close (EwLink *link)
{
  EwMuxLink *self = EW_MUX_LINK (link);

  detach (self);
  g_mutex_lock (&self->lock);
  g_cond_broadcast (&self->arrived);
  g_mutex_unlock (&self->lock);
}

static void
ew_mux_link_finalize (GObject *object)
{
  EwMuxLink *self = EW_MUX_LINK (object);

  detach (self);
  g_queue_clear_full (&self->frames, g_free);
  g_free (self->filters);
  g_clear_error (&self->trunk_error);
  g_clear_pointer (&self->mux, ew_link_mux_unref);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->arrived);
  G_OBJECT_CLASS (ew_mux_link_parent_class)->finalize (object);
}

static void
ew_mux_link_class_init (EwMuxLinkClass *klass)
{
  EwLinkClass *link_class = EW_LINK_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = ew_mux_link_finalize;
  link_class->send = ew_mux_link_send;
  link_class->receive = ew_mux_link_receive;
  link_class->set_filters = ew_mux_link_set_filters;
  link_class->close = ew_mux_link_close;
}

static void
ew_mux_link_init (EwMuxLink *self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->arrived);
  g_queue_init (&self->frames);
}
