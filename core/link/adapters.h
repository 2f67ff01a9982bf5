/* adapters.h — the CAN hardware a car can be reached through: the SocketCAN
 * network interfaces the kernel has, and gs_usb USB-CAN adapters as they
 * are plugged in and out (libusb hot-plug), so that a connection dialog can
 * offer exactly what is there.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* ARPHRD_CAN (linux/if_arp.h): /sys/class/net/IFACE/type of a CAN device */
#define EW_ARPHRD_CAN 280

/* One SocketCAN network interface. */
typedef struct {
  char     *name;        /* "can0", "vcan0", "slcan0" … */
  char     *operstate;   /* as sysfs says it: "up", "down", "unknown" … */
  gboolean  is_up;       /* the IFF_UP flag: frames can be sent */
} EwSocketcanInterface;

void ew_socketcan_interface_free (EwSocketcanInterface *iface);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EwSocketcanInterface, ew_socketcan_interface_free)

/* Lists the CAN interfaces under sysfs_net_dir (NULL: /sys/class/net),
 * sorted by name: those whose "type" file says EW_ARPHRD_CAN. A folder
 * that does not exist means no interfaces (no network sysfs, or a
 * sandbox), not an error. transfer full: a GPtrArray of
 * EwSocketcanInterface that frees them. */
GPtrArray *ew_socketcan_list_interfaces (const char  *sysfs_net_dir,
                                         GError     **error);

/* Watches for gs_usb adapters (the VID:PIDs of ew_gsusb_known_ids()) being
 * plugged in or out, on a thread of its own; func runs on the context
 * given, once per burst of changes, and the caller lists the adapters anew
 * (ew_gsusb_list_devices). */
typedef struct _EwAdapterMonitor EwAdapterMonitor;

typedef void (*EwAdaptersChangedFunc) (gpointer user_data);

typedef enum {
  EW_ADAPTER_MONITOR_FLAGS_NONE       = 0,
  /* behave as on a platform whose libusb has no hot-plug support */
  EW_ADAPTER_MONITOR_FLAGS_NO_HOTPLUG = 1 << 0,
} EwAdapterMonitorFlags;

/* Starts watching. context NULL: the thread-default context of the
 * caller. Fails only when libusb cannot start at all (no USB in this
 * system or sandbox). Without hot-plug support in libusb the monitor is
 * still made but never calls func: see ew_adapter_monitor_has_hotplug().
 * transfer full */
EwAdapterMonitor *ew_adapter_monitor_new          (EwAdapterMonitorFlags  flags,
                                                   GMainContext          *context,
                                                   EwAdaptersChangedFunc  func,
                                                   gpointer               user_data,
                                                   GDestroyNotify         user_data_free,
                                                   GError               **error);
/* Whether changes are reported as they happen; if not, a person must ask
 * for the list again after plugging an adapter in. */
gboolean          ew_adapter_monitor_has_hotplug  (EwAdapterMonitor      *self);
/* Stops the thread and waits for it; func is not called afterwards, even
 * for a change already on its way. Call on the thread that runs context. */
void              ew_adapter_monitor_free         (EwAdapterMonitor      *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EwAdapterMonitor, ew_adapter_monitor_free)

G_END_DECLS
