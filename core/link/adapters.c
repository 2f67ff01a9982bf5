/* adapters.c — SocketCAN interfaces from sysfs, gs_usb adapters through
 * libusb hot-plug. */
#include "adapters.h"

#include <errno.h>
#include <string.h>

#include <libusb.h>

#include "gsusb.h"

/* linux/if.h; not included, so the core builds where it is missing */
#define EW_IFF_UP 0x1

/* How long the event thread sleeps in libusb between checks that it
 * should stop; stopping also interrupts it, so this only bounds a lost
 * wake-up. */
#define EVENT_TIMEOUT_MS 500

void
ew_socketcan_interface_free (EwSocketcanInterface *iface)
{
  if (iface == NULL)
    return;
  g_free (iface->name);
  g_free (iface->operstate);
  g_free (iface);
}

/* The first line of dir/name/file, or NULL when it cannot be read. */
static char *
read_attribute (const char *dir,
                const char *name,
                const char *file)
{
  g_autofree char *path = g_build_filename (dir, name, file, NULL);
  g_autofree char *contents = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return NULL;
  contents[strcspn (contents, "\n")] = '\0';
  return g_strdup (g_strstrip (contents));
}

static int
compare_interfaces (gconstpointer a,
                    gconstpointer b)
{
  const EwSocketcanInterface *ia = *(const EwSocketcanInterface * const *) a;
  const EwSocketcanInterface *ib = *(const EwSocketcanInterface * const *) b;

  return strcmp (ia->name, ib->name);
}

GPtrArray *
ew_socketcan_list_interfaces (const char  *sysfs_net_dir,
                              GError     **error)
{
  const char *dir_path = sysfs_net_dir != NULL ? sysfs_net_dir : "/sys/class/net";
  g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func ((GDestroyNotify) ew_socketcan_interface_free);
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, &local_error);
  const char *name;

  if (dir == NULL)
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return g_steal_pointer (&found);
      g_set_error (error, G_IO_ERROR, g_io_error_from_file_error (local_error->code),
                   "SocketCAN: cannot list the network interfaces in %s: %s",
                   dir_path, local_error->message);
      return NULL;
    }

  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *type = read_attribute (dir_path, name, "type");
      g_autofree char *flags = NULL;
      EwSocketcanInterface *iface;
      guint64 type_value = 0;
      guint64 flags_value = 0;

      /* an interface that vanished meanwhile, or a stray file: skipped */
      if (type == NULL || !g_ascii_string_to_unsigned (type, 10, 0, G_MAXUINT16, &type_value, NULL)
          || type_value != EW_ARPHRD_CAN)
        continue;

      iface = g_new0 (EwSocketcanInterface, 1);
      iface->name = g_strdup (name);
      iface->operstate = read_attribute (dir_path, name, "operstate");
      if (iface->operstate == NULL || iface->operstate[0] == '\0')
        {
          g_free (iface->operstate);
          iface->operstate = g_strdup ("unknown");
        }
      /* vcan says "unknown" while up: the interface flags tell for sure */
      flags = read_attribute (dir_path, name, "flags");
      if (flags != NULL && g_str_has_prefix (flags, "0x")
          && g_ascii_string_to_unsigned (flags + 2, 16, 0, G_MAXUINT32, &flags_value, NULL))
        iface->is_up = (flags_value & EW_IFF_UP) != 0;
      else
        iface->is_up = g_str_equal (iface->operstate, "up");
      g_ptr_array_add (found, iface);
    }
  g_ptr_array_sort (found, compare_interfaces);
  return g_steal_pointer (&found);
}

/* ---- hot-plug ---- */

/* What the event thread and the context share; it outlives the monitor
 * while a dispatch is queued. */
typedef struct {
  GMutex                 mutex;
  GMainContext          *context;
  EwAdaptersChangedFunc  func;            /* NULL once the monitor is gone */
  gpointer               user_data;
  GDestroyNotify         user_data_free;
  gboolean               is_pending;      /* a dispatch is queued */
} Notifier;

struct _EwAdapterMonitor {
  libusb_context *ctx;
  GThread        *thread;
  int             is_stopping;            /* atomic; libusb reads it too */
  GArray         *handles;                /* libusb_hotplug_callback_handle */
  gboolean        has_hotplug;
  Notifier       *notifier;
};

static void
notifier_clear (Notifier *notifier)
{
  g_main_context_unref (notifier->context);
  g_mutex_clear (&notifier->mutex);
}

static void
notifier_unref (Notifier *notifier)
{
  g_atomic_rc_box_release_full (notifier, (GDestroyNotify) notifier_clear);
}

static gboolean
notifier_dispatch (gpointer data)
{
  Notifier *notifier = data;
  EwAdaptersChangedFunc func;
  gpointer user_data;

  g_mutex_lock (&notifier->mutex);
  notifier->is_pending = FALSE;
  func = notifier->func;
  user_data = notifier->user_data;
  g_mutex_unlock (&notifier->mutex);
  /* the monitor is freed on this same thread, so func cannot go away
   * while it runs */
  if (func != NULL)
    func (user_data);
  return G_SOURCE_REMOVE;
}

/* Event thread: one dispatch for a burst of plug events. An idle source
 * rather than g_main_context_invoke(), which would run func right here
 * when nobody iterates the context at this moment. */
static void
notifier_post (Notifier *notifier)
{
  g_autoptr(GSource) source = NULL;

  g_mutex_lock (&notifier->mutex);
  if (notifier->func == NULL || notifier->is_pending)
    {
      g_mutex_unlock (&notifier->mutex);
      return;
    }
  notifier->is_pending = TRUE;
  g_mutex_unlock (&notifier->mutex);

  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_static_name (source, "[ew] gs_usb adapters changed");
  g_source_set_callback (source, notifier_dispatch,
                         g_atomic_rc_box_acquire (notifier), (GDestroyNotify) notifier_unref);
  g_source_attach (source, notifier->context);
}

static int LIBUSB_CALL
on_hotplug (libusb_context        *ctx,
            libusb_device         *device,
            libusb_hotplug_event   event,
            void                  *user_data)
{
  EwAdapterMonitor *self = user_data;

  if (!g_atomic_int_get (&self->is_stopping))
    notifier_post (self->notifier);
  return 0;   /* stay registered */
}

static gpointer
event_thread (gpointer data)
{
  EwAdapterMonitor *self = data;

  while (!g_atomic_int_get (&self->is_stopping))
    {
      struct timeval timeout = { 0, EVENT_TIMEOUT_MS * 1000 };
      int r = libusb_handle_events_timeout_completed (self->ctx, &timeout, &self->is_stopping);

      if (r != LIBUSB_SUCCESS && r != LIBUSB_ERROR_INTERRUPTED)
        {
          g_warning ("gs_usb hot-plug: libusb event handling failed (%s); "
                     "adapters are no longer watched", libusb_strerror (r));
          break;
        }
    }
  return NULL;
}

/* "1d50:606f, 1209:2323 …" from the gs_usb link, so the lists never
 * disagree. */
static gboolean
parse_known_id (const char *text,
                guint16    *vendor_id,
                guint16    *product_id)
{
  g_auto(GStrv) parts = g_strsplit (text, ":", 2);
  guint64 v, p;

  if (g_strv_length (parts) != 2
      || !g_ascii_string_to_unsigned (parts[0], 16, 0, G_MAXUINT16, &v, NULL)
      || !g_ascii_string_to_unsigned (parts[1], 16, 0, G_MAXUINT16, &p, NULL))
    return FALSE;
  *vendor_id = (guint16) v;
  *product_id = (guint16) p;
  return TRUE;
}

static gboolean
register_callbacks (EwAdapterMonitor  *self,
                    GError           **error)
{
  g_auto(GStrv) ids = g_strsplit_set (ew_gsusb_known_ids (), ", ", -1);

  for (guint i = 0; ids[i] != NULL; i++)
    {
      libusb_hotplug_callback_handle handle;
      guint16 vendor_id, product_id;
      int r;

      if (ids[i][0] == '\0')
        continue;
      if (!parse_known_id (ids[i], &vendor_id, &product_id))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "gs_usb hot-plug: “%s” is not a VID:PID", ids[i]);
          return FALSE;
        }
      r = libusb_hotplug_register_callback (self->ctx,
                                            LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED
                                            | LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT,
                                            LIBUSB_HOTPLUG_NO_FLAGS, vendor_id, product_id,
                                            LIBUSB_HOTPLUG_MATCH_ANY, on_hotplug, self, &handle);
      if (r != LIBUSB_SUCCESS)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                       "gs_usb hot-plug: libusb cannot watch %04x:%04x (%s)",
                       vendor_id, product_id, libusb_strerror (r));
          return FALSE;
        }
      g_array_append_val (self->handles, handle);
    }
  return TRUE;
}

EwAdapterMonitor *
ew_adapter_monitor_new (EwAdapterMonitorFlags  flags,
                        GMainContext          *context,
                        EwAdaptersChangedFunc  func,
                        gpointer               user_data,
                        GDestroyNotify         user_data_free,
                        GError               **error)
{
  g_autoptr(EwAdapterMonitor) self = NULL;
  int r;

  g_return_val_if_fail (func != NULL, NULL);

  self = g_new0 (EwAdapterMonitor, 1);
  self->handles = g_array_new (FALSE, FALSE, sizeof (libusb_hotplug_callback_handle));
  self->notifier = g_atomic_rc_box_new0 (Notifier);
  g_mutex_init (&self->notifier->mutex);
  self->notifier->context = context != NULL ? g_main_context_ref (context)
                                            : g_main_context_ref_thread_default ();
  self->notifier->func = func;
  self->notifier->user_data = user_data;
  self->notifier->user_data_free = user_data_free;

  r = libusb_init (&self->ctx);
  if (r != LIBUSB_SUCCESS)
    {
      self->ctx = NULL;
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "gs_usb hot-plug: libusb cannot start (%s); is /dev/bus/usb available?",
                   libusb_strerror (r));
      return NULL;
    }

  self->has_hotplug = (flags & EW_ADAPTER_MONITOR_FLAGS_NO_HOTPLUG) == 0
                      && libusb_has_capability (LIBUSB_CAP_HAS_HOTPLUG);
  if (!self->has_hotplug)
    return g_steal_pointer (&self);

  if (!register_callbacks (self, error))
    return NULL;
  self->thread = g_thread_new ("ew-gsusb-hotplug", event_thread, self);
  return g_steal_pointer (&self);
}

gboolean
ew_adapter_monitor_has_hotplug (EwAdapterMonitor *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return self->has_hotplug;
}

void
ew_adapter_monitor_free (EwAdapterMonitor *self)
{
  Notifier *notifier;

  if (self == NULL)
    return;

  g_atomic_int_set (&self->is_stopping, 1);
  if (self->ctx != NULL)
    {
      /* each deregistration wakes the event handler, the interrupt makes
       * sure of it when there was nothing to deregister */
      for (guint i = 0; i < self->handles->len; i++)
        libusb_hotplug_deregister_callback (self->ctx,
                                            g_array_index (self->handles,
                                                           libusb_hotplug_callback_handle, i));
      libusb_interrupt_event_handler (self->ctx);
    }
  if (self->thread != NULL)
    g_thread_join (self->thread);
  g_clear_pointer (&self->ctx, libusb_exit);
  g_array_unref (self->handles);

  notifier = self->notifier;
  g_mutex_lock (&notifier->mutex);
  notifier->func = NULL;
  g_mutex_unlock (&notifier->mutex);
  if (notifier->user_data_free != NULL)
    notifier->user_data_free (notifier->user_data);
  notifier_unref (notifier);
  g_free (self);
}
