/* test-adapters.c — the CAN hardware offered for a connection: SocketCAN
 * interfaces read from a fake sysfs tree, and gs_usb adapters plugged in
 * and out of umockdev's testbed, whose uevents reach libusb's udev
 * hot-plug backend under the umockdev preload. Without umockdev only the
 * SocketCAN tests and the monitor's start and stop run.
 */
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>

#include "link/adapters.h"
#include "link/gsusb.h"

#ifdef HAVE_UMOCKDEV
#include "gsusb/fake-gsusb.h"
#endif

#define SERIAL_A "0039003A4E4B5009"

/* ---- SocketCAN ---- */

static void
write_attribute (const char *root,
                 const char *iface,
                 const char *file,
                 const char *contents)
{
  g_autofree char *dir = g_build_filename (root, iface, NULL);
  g_autofree char *path = g_build_filename (dir, file, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (path, contents, -1, &error));
  g_assert_no_error (error);
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static EwSocketcanInterface *
find_interface (GPtrArray *list, const char *name)
{
  for (guint i = 0; i < list->len; i++)
    {
      EwSocketcanInterface *iface = g_ptr_array_index (list, i);

      if (g_str_equal (iface->name, name))
        return iface;
    }
  return NULL;
}

static void
test_socketcan_fake_sysfs (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *root = g_dir_make_tmp ("ew-sysfs-net-XXXXXX", &error);
  g_autoptr(GPtrArray) list = NULL;
  EwSocketcanInterface *iface;

  g_assert_no_error (error);
  /* a CAN adapter that is up and running */
  write_attribute (root, "can0", "type", "280\n");
  write_attribute (root, "can0", "operstate", "up\n");
  write_attribute (root, "can0", "flags", "0x40c1\n");
  /* vcan says "unknown" while up; IFF_UP tells */
  write_attribute (root, "vcan0", "type", "280\n");
  write_attribute (root, "vcan0", "operstate", "unknown\n");
  write_attribute (root, "vcan0", "flags", "0xc1\n");
  /* configured but down */
  write_attribute (root, "slcan1", "type", "280\n");
  write_attribute (root, "slcan1", "operstate", "down\n");
  write_attribute (root, "slcan1", "flags", "0x80\n");
  /* CAN, but neither operstate nor flags readable */
  write_attribute (root, "can9", "type", "280\n");
  /* not CAN: Ethernet, loopback, a bad type, no type at all */
  write_attribute (root, "eth0", "type", "1\n");
  write_attribute (root, "eth0", "operstate", "up\n");
  write_attribute (root, "lo", "type", "772\n");
  write_attribute (root, "weird0", "type", "two hundred and eighty\n");
  write_attribute (root, "gone0", "operstate", "down\n");

  list = ew_socketcan_list_interfaces (root, &error);
  g_assert_no_error (error);
  g_assert_nonnull (list);
  g_assert_cmpuint (list->len, ==, 4);
  /* sorted by name */
  g_assert_cmpstr (((EwSocketcanInterface *) g_ptr_array_index (list, 0))->name, ==, "can0");
  g_assert_cmpstr (((EwSocketcanInterface *) g_ptr_array_index (list, 1))->name, ==, "can9");
  g_assert_cmpstr (((EwSocketcanInterface *) g_ptr_array_index (list, 2))->name, ==, "slcan1");
  g_assert_cmpstr (((EwSocketcanInterface *) g_ptr_array_index (list, 3))->name, ==, "vcan0");

  iface = find_interface (list, "can0");
  g_assert_cmpstr (iface->operstate, ==, "up");
  g_assert_true (iface->is_up);
  iface = find_interface (list, "vcan0");
  g_assert_cmpstr (iface->operstate, ==, "unknown");
  g_assert_true (iface->is_up);
  iface = find_interface (list, "slcan1");
  g_assert_cmpstr (iface->operstate, ==, "down");
  g_assert_false (iface->is_up);
  iface = find_interface (list, "can9");
  g_assert_cmpstr (iface->operstate, ==, "unknown");
  g_assert_false (iface->is_up);
  g_assert_null (find_interface (list, "eth0"));
  g_assert_null (find_interface (list, "lo"));
  g_assert_null (find_interface (list, "weird0"));
  g_assert_null (find_interface (list, "gone0"));

  remove_tree (root);
}

static void
test_socketcan_missing_folder (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *root = g_dir_make_tmp ("ew-sysfs-net-XXXXXX", &error);
  g_autofree char *missing = g_build_filename (root, "no-such-folder", NULL);
  g_autofree char *file = g_build_filename (root, "a-file", NULL);
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(GPtrArray) not_a_folder = NULL;

  g_assert_no_error (error);
  /* no network sysfs at all: nothing to offer, not a failure */
  list = ew_socketcan_list_interfaces (missing, &error);
  g_assert_no_error (error);
  g_assert_nonnull (list);
  g_assert_cmpuint (list->len, ==, 0);

  /* something else in the way is an error that names the folder */
  g_assert_true (g_file_set_contents (file, "x", -1, &error));
  not_a_folder = ew_socketcan_list_interfaces (file, &error);
  g_assert_null (not_a_folder);
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, file));

  g_unlink (file);
  g_rmdir (root);
}

/* The system's own list: whatever is there, only CAN devices. */
static void
test_socketcan_system (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = ew_socketcan_list_interfaces (NULL, &error);

  g_assert_no_error (error);
  for (guint i = 0; i < list->len; i++)
    {
      EwSocketcanInterface *iface = g_ptr_array_index (list, i);
      g_autofree char *path = g_build_filename ("/sys/class/net", iface->name, "type", NULL);
      g_autofree char *type = NULL;

      g_assert_true (g_file_get_contents (path, &type, NULL, NULL));
      g_assert_cmpint (atoi (type), ==, EW_ARPHRD_CAN);
    }
}

/* ---- hot-plug ---- */

typedef struct {
  guint n_changes;
  guint n_freed;
} Counter;

static void
on_changed (gpointer user_data)
{
  Counter *counter = user_data;

  counter->n_changes++;
}

static void
on_freed (gpointer user_data)
{
  Counter *counter = user_data;

  counter->n_freed++;
}

/* Iterates the default context for ms, or until counter reaches n. */
static gboolean
wait_changes (Counter *counter, guint n, guint ms)
{
  gint64 deadline = g_get_monotonic_time () + ms * (G_USEC_PER_SEC / 1000);

  while (counter->n_changes < n && g_get_monotonic_time () < deadline)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (2000);
    }
  return counter->n_changes >= n;
}

/* Starting and stopping never hangs, and stopping ends the callbacks and
 * frees the user data once. */
static void
test_monitor_start_stop (void)
{
  for (guint i = 0; i < 5; i++)
    {
      Counter counter = { 0 };
      g_autoptr(GError) error = NULL;
      EwAdapterMonitor *monitor = ew_adapter_monitor_new (EW_ADAPTER_MONITOR_FLAGS_NONE, NULL,
                                                          on_changed, &counter, on_freed, &error);

      if (monitor == NULL)
        {
          /* no USB at all here: said clearly, and only that */
          g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
          g_assert_nonnull (strstr (error->message, "libusb"));
          g_assert_cmpuint (counter.n_freed, ==, 1);
          g_test_skip ("libusb cannot start in this system");
          return;
        }
      g_assert_no_error (error);
      /* Linux libusb always watches: udev or netlink */
      g_assert_true (ew_adapter_monitor_has_hotplug (monitor));
      if (i % 2 == 1)
        g_usleep (20000);   /* let the thread sit inside libusb */
      ew_adapter_monitor_free (monitor);
      g_assert_cmpuint (counter.n_freed, ==, 1);
      g_assert_cmpuint (counter.n_changes, ==, 0);
    }
}

#ifdef HAVE_UMOCKDEV

typedef struct {
  UMockdevTestbed *testbed;
  FakeGsusb       *fake;
  Counter          counter;
} Fixture;

static void
fixture_setup (Fixture *fx, gconstpointer data)
{
  fx->testbed = umockdev_testbed_new ();
}

static void
fixture_teardown (Fixture *fx, gconstpointer data)
{
  g_clear_pointer (&fx->fake, fake_gsusb_free);
  g_clear_object (&fx->testbed);
}

/* A candleLight plugged in, as the kernel announces it. */
static void
plug_in (Fixture *fx, guint16 vendor_id, guint16 product_id)
{
  fx->fake = fake_gsusb_new (fx->testbed, vendor_id, product_id, SERIAL_A, 1, 5);
  umockdev_testbed_uevent (fx->testbed, "/sys/devices/usb1", "add");
}

static void
unplug (Fixture *fx)
{
  fake_gsusb_vanish (fx->fake);
  umockdev_testbed_uevent (fx->testbed, "/sys/devices/usb1", "remove");
  umockdev_testbed_remove_device (fx->testbed, "/sys/devices/usb1");
}

static guint
n_adapters (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = ew_gsusb_list_devices (&error);

  g_assert_no_error (error);
  return list->len;
}

static void
test_hotplug_add_remove (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EwAdapterMonitor) monitor = NULL;
  g_autoptr(GPtrArray) list = NULL;
  EwGsusbDeviceInfo *info;

  monitor = ew_adapter_monitor_new (EW_ADAPTER_MONITOR_FLAGS_NONE, NULL,
                                    on_changed, &fx->counter, on_freed, &error);
  g_assert_no_error (error);
  g_assert_true (ew_adapter_monitor_has_hotplug (monitor));
  g_assert_cmpuint (n_adapters (), ==, 0);

  plug_in (fx, 0x1d50, 0x606f);
  g_assert_true (wait_changes (&fx->counter, 1, 5000));
  /* the change was reported on this thread's context, and the adapter is
   * now there with its strings */
  list = ew_gsusb_list_devices (&error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 1);
  info = g_ptr_array_index (list, 0);
  g_assert_cmphex (info->vendor_id, ==, 0x1d50);
  g_assert_cmphex (info->product_id, ==, 0x606f);
  g_assert_cmpstr (info->serial, ==, SERIAL_A);
  g_assert_null (info->open_error);

  unplug (fx);
  g_assert_true (wait_changes (&fx->counter, 2, 5000));
  g_assert_cmpuint (n_adapters (), ==, 0);

  g_clear_pointer (&monitor, ew_adapter_monitor_free);
  g_assert_cmpuint (fx->counter.n_freed, ==, 1);
}

/* A USB device that is not a gs_usb adapter is not reported. */
static void
test_hotplug_other_device (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EwAdapterMonitor) monitor = NULL;

  monitor = ew_adapter_monitor_new (EW_ADAPTER_MONITOR_FLAGS_NONE, NULL,
                                    on_changed, &fx->counter, on_freed, &error);
  g_assert_no_error (error);
  plug_in (fx, 0x046d, 0xc077);   /* a mouse */
  g_assert_false (wait_changes (&fx->counter, 1, 500));
  g_assert_cmpuint (fx->counter.n_changes, ==, 0);
}

/* A change still on its way when the monitor stops is dropped. */
static void
test_hotplug_stop_drops_pending (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  EwAdapterMonitor *monitor;
  gint64 until;

  monitor = ew_adapter_monitor_new (EW_ADAPTER_MONITOR_FLAGS_NONE, NULL,
                                    on_changed, &fx->counter, on_freed, &error);
  g_assert_no_error (error);
  plug_in (fx, 0x1d50, 0x606f);
  /* the event thread posts the change; nobody runs the context yet */
  g_usleep (500000);
  g_assert_true (g_main_context_pending (NULL));
  ew_adapter_monitor_free (monitor);
  g_assert_cmpuint (fx->counter.n_freed, ==, 1);

  until = g_get_monotonic_time () + G_USEC_PER_SEC / 5;
  while (g_get_monotonic_time () < until)
    g_main_context_iteration (NULL, FALSE);
  g_assert_cmpuint (fx->counter.n_changes, ==, 0);
}

/* Without hot-plug support the monitor says so and stays silent. */
static void
test_no_hotplug (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EwAdapterMonitor) monitor = NULL;

  monitor = ew_adapter_monitor_new (EW_ADAPTER_MONITOR_FLAGS_NO_HOTPLUG, NULL,
                                    on_changed, &fx->counter, on_freed, &error);
  g_assert_no_error (error);
  g_assert_false (ew_adapter_monitor_has_hotplug (monitor));
  plug_in (fx, 0x1d50, 0x606f);
  g_assert_false (wait_changes (&fx->counter, 1, 500));
  /* listing anew, as the Refresh button does, finds it */
  g_assert_cmpuint (n_adapters (), ==, 1);
  g_clear_pointer (&monitor, ew_adapter_monitor_free);
  g_assert_cmpuint (fx->counter.n_freed, ==, 1);
}

#endif /* HAVE_UMOCKDEV */

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/adapters/socketcan/fake-sysfs", test_socketcan_fake_sysfs);
  g_test_add_func ("/adapters/socketcan/missing-folder", test_socketcan_missing_folder);
  g_test_add_func ("/adapters/socketcan/system", test_socketcan_system);
  g_test_add_func ("/adapters/monitor/start-stop", test_monitor_start_stop);
#ifdef HAVE_UMOCKDEV
  g_test_add ("/adapters/hotplug/add-remove", Fixture, NULL,
              fixture_setup, test_hotplug_add_remove, fixture_teardown);
  g_test_add ("/adapters/hotplug/other-device", Fixture, NULL,
              fixture_setup, test_hotplug_other_device, fixture_teardown);
  g_test_add ("/adapters/hotplug/stop-drops-pending", Fixture, NULL,
              fixture_setup, test_hotplug_stop_drops_pending, fixture_teardown);
  g_test_add ("/adapters/hotplug/no-hotplug", Fixture, NULL,
              fixture_setup, test_no_hotplug, fixture_teardown);
#endif
  return g_test_run ();
}
