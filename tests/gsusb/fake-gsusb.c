/* fake-gsusb.c — candleLight-like gs_usb firmware behind usbdevfs ioctls.
 * The ioctl handler runs on umockdev's worker thread; the test thread only
 * queues frames and reads logs under the mutex, and every URB is filled
 * and completed on the worker thread when the host reaps.
 */
#include "fake-gsusb.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/usbdevice_fs.h>

#define EP_IN   0x81
#define EP_OUT  0x02
#define HOST_FRAME_SIZE 20

struct _FakeGsusb {
  UMockdevTestbed   *testbed;
  UMockdevIoctlBase *handler;
  char              *devnode;
  char              *syspath;
  char              *serial;
  guint16            vendor_id;
  guint16            product_id;

  GMutex             mutex;
  GCond              cond;
  guint32            fclk_can;
  gboolean           is_echo;
  gboolean           is_busy;
  gboolean           is_gone;
  gboolean           is_started;
  GQueue             pending_in;   /* UMockdevIoctlData of bulk IN URBs */
  GQueue             done;         /* UMockdevIoctlData waiting to be reaped */
  GQueue             to_host;      /* GBytes, gs_host_frames for bulk IN */
  GPtrArray         *controls;     /* FakeGsusbControl */
  GPtrArray         *out_frames;   /* GBytes */
};

void
fake_gsusb_control_free (FakeGsusbControl *control)
{
  g_bytes_unref (control->data);
  g_free (control);
}

static void
put_le32 (guint8 *p, guint32 v)
{
  p[0] = v & 0xff;
  p[1] = (v >> 8) & 0xff;
  p[2] = (v >> 16) & 0xff;
  p[3] = (v >> 24) & 0xff;
}

static struct usbdevfs_urb *
urb_of (UMockdevIoctlData *data)
{
  return (struct usbdevfs_urb *) data->data;
}

static guint8 *
urb_buffer (UMockdevIoctlData *data)
{
  /* after resolving, the buffer pointer points at the local copy */
  return (guint8 *) urb_of (data)->buffer;
}

/* Fills waiting bulk IN URBs with queued frames. Worker thread, locked. */
static void
match_in_locked (FakeGsusb *fake)
{
  while (fake->pending_in.length > 0 && fake->to_host.length > 0)
    {
      UMockdevIoctlData *urb_data = g_queue_pop_head (&fake->pending_in);
      g_autoptr(GBytes) frame = g_queue_pop_head (&fake->to_host);
      struct usbdevfs_urb *urb = urb_of (urb_data);
      gsize len;
      const guint8 *bytes = g_bytes_get_data (frame, &len);

      len = MIN (len, (gsize) urb->buffer_length);
      memcpy (urb_buffer (urb_data), bytes, len);
      urb->actual_length = (int) len;
      urb->status = 0;
      g_queue_push_tail (&fake->done, urb_data);
    }
}

static GBytes *
string_descriptor (const char *text)
{
  gsize n = strlen (text);
  guint8 *d = g_malloc0 (2 + 2 * n);

  d[0] = 2 + 2 * n;
  d[1] = 3;   /* STRING */
  for (gsize i = 0; i < n; i++)
    d[2 + 2 * i] = text[i];
  return g_bytes_new_take (d, 2 + 2 * n);
}

/* The answer to a control request, NULL for a stall. Locked. */
static GBytes *
answer_control_locked (FakeGsusb    *fake,
                       const guint8 *setup,
                       const guint8 *out_data)
{
  guint8 type = setup[0];
  guint8 request = setup[1];
  guint16 value = setup[2] | setup[3] << 8;
  guint16 index = setup[4] | setup[5] << 8;
  guint16 length = setup[6] | setup[7] << 8;
  FakeGsusbControl *log = g_new0 (FakeGsusbControl, 1);
  GBytes *answer = NULL;

  log->request_type = type;
  log->request = request;
  log->value = value;
  log->index = index;

  if (type == 0x80 && request == 6 && (value >> 8) == 3)
    {
      static const guint8 langids[] = { 4, 3, 0x09, 0x04 };

      switch (value & 0xff)
        {
        case 0: answer = g_bytes_new_static (langids, sizeof langids); break;
        case 1: answer = string_descriptor ("bytewerk"); break;
        case 2: answer = string_descriptor ("candleLight USB to CAN adapter"); break;
        case 3: answer = string_descriptor (fake->serial); break;
        default: break;
        }
    }
  else if (type == 0xC1 && request == 5 && length >= 12)       /* DEVICE_CONFIG */
    {
      guint8 d[12] = { 0 };

      d[3] = 0;                 /* icount: one channel */
      put_le32 (d + 4, 2);      /* sw_version */
      put_le32 (d + 8, 1);      /* hw_version */
      answer = g_bytes_new (d, sizeof d);
    }
  else if (type == 0xC1 && request == 4 && length >= 40)       /* BT_CONST */
    {
      /* candleLight_fw on STM32F072 */
      const guint32 v[10] = { 0x0000001f, fake->fclk_can, 1, 16, 1, 8, 4, 1, 1024, 1 };
      guint8 d[40];

      for (int i = 0; i < 10; i++)
        put_le32 (d + 4 * i, v[i]);
      answer = g_bytes_new (d, sizeof d);
    }
  else if (type == 0x41 && request <= 2 && index == 0)
    {
      /* HOST_FORMAT, BITTIMING, MODE: accepted, recorded */
      answer = g_bytes_new (out_data, length);
      if (request == 2 && length >= 4)
        fake->is_started = out_data[0] == 1;
    }

  if (answer != NULL && (type & 0x80))
    {
      gsize n = g_bytes_get_size (answer);

      if (n > length)
        {
          GBytes *cut = g_bytes_new_from_bytes (answer, 0, length);

          g_bytes_unref (answer);
          answer = cut;
        }
    }
  log->data = answer != NULL ? g_bytes_ref (answer) : g_bytes_new (NULL, 0);
  if ((type & 0x60) == 0x40)   /* vendor requests are what tests look at */
    g_ptr_array_add (fake->controls, log);
  else
    fake_gsusb_control_free (log);
  g_cond_broadcast (&fake->cond);
  return answer;
}

static gboolean
handle_submit_locked (FakeGsusb           *fake,
                      UMockdevIoctlClient *client,
                      UMockdevIoctlData   *arg)
{
  g_autoptr(UMockdevIoctlData) urb_data = umockdev_ioctl_data_resolve (arg, 0, sizeof (struct usbdevfs_urb), NULL);
  g_autoptr(UMockdevIoctlData) buffer = NULL;
  struct usbdevfs_urb *urb;

  if (urb_data == NULL)
    {
      umockdev_ioctl_client_complete (client, -1, EFAULT);
      return TRUE;
    }
  urb = urb_of (urb_data);
  if (fake->is_gone)
    {
      umockdev_ioctl_client_complete (client, -1, ENODEV);
      return TRUE;
    }
  if (urb->buffer_length > 0)
    buffer = umockdev_ioctl_data_resolve (urb_data, G_STRUCT_OFFSET (struct usbdevfs_urb, buffer),
                                          urb->buffer_length, NULL);
  urb = urb_of (urb_data);

  if (urb->type == USBDEVFS_URB_TYPE_CONTROL && urb->buffer_length >= 8)
    {
      guint8 *b = urb_buffer (urb_data);
      g_autoptr(GBytes) answer = answer_control_locked (fake, b, b + 8);

      if (answer == NULL)
        {
          urb->status = -EPIPE;
          urb->actual_length = 0;
        }
      else
        {
          gsize n = g_bytes_get_size (answer);

          if (b[0] & 0x80)
            memcpy (b + 8, g_bytes_get_data (answer, NULL), MIN (n, (gsize) urb->buffer_length - 8));
          urb->status = 0;
          urb->actual_length = (int) n;
        }
      g_queue_push_tail (&fake->done, g_object_ref (urb_data));
    }
  else if (urb->type == USBDEVFS_URB_TYPE_BULK && urb->endpoint == EP_OUT)
    {
      GBytes *payload = g_bytes_new (urb_buffer (urb_data), urb->buffer_length);

      g_ptr_array_add (fake->out_frames, payload);
      urb->status = 0;
      urb->actual_length = urb->buffer_length;
      g_queue_push_tail (&fake->done, g_object_ref (urb_data));
      /* candleLight echoes a frame once it was sent on the bus; it only
       * sends while the channel is started */
      if (fake->is_echo && fake->is_started && urb->buffer_length >= HOST_FRAME_SIZE)
        g_queue_push_tail (&fake->to_host, g_bytes_new (urb_buffer (urb_data), HOST_FRAME_SIZE));
      g_cond_broadcast (&fake->cond);
    }
  else if (urb->type == USBDEVFS_URB_TYPE_BULK && urb->endpoint == EP_IN)
    g_queue_push_tail (&fake->pending_in, g_object_ref (urb_data));
  else
    {
      umockdev_ioctl_client_complete (client, -1, EINVAL);
      return TRUE;
    }
  umockdev_ioctl_client_complete (client, 0, 0);
  return TRUE;
}

static gint
find_by_client_addr (gconstpointer a,
                     gconstpointer b)
{
  return ((const UMockdevIoctlData *) a)->client_addr == (gulong) b ? 0 : 1;
}

static gboolean
handle_ioctl (UMockdevIoctlBase   *handler,
              UMockdevIoctlClient *client,
              FakeGsusb           *fake)
{
  gulong request = umockdev_ioctl_client_get_request (client);
  UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg (client);
  gboolean handled = TRUE;

  g_mutex_lock (&fake->mutex);
  switch (request)
    {
    case USBDEVFS_GET_CAPABILITIES:
      {
        g_autoptr(UMockdevIoctlData) d = umockdev_ioctl_data_resolve (arg, 0, sizeof (guint32), NULL);

        *(guint32 *) d->data = USBDEVFS_CAP_BULK_SCATTER_GATHER | USBDEVFS_CAP_BULK_CONTINUATION |
                               USBDEVFS_CAP_NO_PACKET_SIZE_LIM | USBDEVFS_CAP_REAP_AFTER_DISCONNECT |
                               USBDEVFS_CAP_ZERO_PACKET;
        umockdev_ioctl_client_complete (client, 0, 0);
        break;
      }
    case USBDEVFS_GETDRIVER:
      /* no kernel driver bound */
      umockdev_ioctl_client_complete (client, -1, ENODATA);
      break;
    case USBDEVFS_CLAIMINTERFACE:
      if (fake->is_gone)
        umockdev_ioctl_client_complete (client, -1, ENODEV);
      else if (fake->is_busy)
        umockdev_ioctl_client_complete (client, -1, EBUSY);
      else
        umockdev_ioctl_client_complete (client, 0, 0);
      break;
    case USBDEVFS_RELEASEINTERFACE:
    case USBDEVFS_CLEAR_HALT:
    case USBDEVFS_RESET:
    case USBDEVFS_RESETEP:
    case USBDEVFS_SETINTERFACE:
    case USBDEVFS_SETCONFIGURATION:
      if (fake->is_gone)
        umockdev_ioctl_client_complete (client, -1, ENODEV);
      else
        umockdev_ioctl_client_complete (client, 0, 0);
      break;
    case USBDEVFS_SUBMITURB:
      handle_submit_locked (fake, client, arg);
      break;
    case USBDEVFS_REAPURB:
    case USBDEVFS_REAPURBNDELAY:
      {
        g_autoptr(UMockdevIoctlData) urb_ptr = NULL;
        g_autoptr(UMockdevIoctlData) urb_data = NULL;

        match_in_locked (fake);
        urb_data = g_queue_pop_head (&fake->done);
        if (urb_data == NULL)
          {
            umockdev_ioctl_client_complete (client, -1, fake->is_gone ? ENODEV : EAGAIN);
            break;
          }
        urb_ptr = umockdev_ioctl_data_resolve (arg, 0, sizeof (gpointer), NULL);
        umockdev_ioctl_data_set_ptr (urb_ptr, 0, urb_data);
        umockdev_ioctl_client_complete (client, 0, 0);
        break;
      }
    case USBDEVFS_DISCARDURB:
      {
        GList *l = g_queue_find_custom (&fake->pending_in, (gconstpointer) *(gulong *) arg->data,
                                        find_by_client_addr);

        if (l != NULL)
          {
            UMockdevIoctlData *urb_data = l->data;

            g_queue_delete_link (&fake->pending_in, l);
            urb_of (urb_data)->status = -ENOENT;
            urb_of (urb_data)->actual_length = 0;
            g_queue_push_tail (&fake->done, urb_data);
            umockdev_ioctl_client_complete (client, 0, 0);
          }
        else
          umockdev_ioctl_client_complete (client, -1, EINVAL);
        break;
      }
    default:
      g_printerr ("# fake gs_usb: unhandled ioctl 0x%lx\n", request);
      handled = FALSE;
      break;
    }
  g_mutex_unlock (&fake->mutex);
  return handled;
}

FakeGsusb *
fake_gsusb_new (UMockdevTestbed *testbed,
                guint16          vendor_id,
                guint16          product_id,
                const char      *serial,
                guint8           bus_number,
                guint8           device_address)
{
  FakeGsusb *fake = g_new0 (FakeGsusb, 1);
  g_autoptr(GError) error = NULL;
  g_autofree char *description = NULL;
  g_autofree char *descriptors = NULL;

  g_mutex_init (&fake->mutex);
  g_cond_init (&fake->cond);
  fake->testbed = g_object_ref (testbed);
  fake->vendor_id = vendor_id;
  fake->product_id = product_id;
  fake->serial = g_strdup (serial);
  fake->fclk_can = 48000000;
  fake->is_echo = TRUE;
  fake->controls = g_ptr_array_new_with_free_func ((GDestroyNotify) fake_gsusb_control_free);
  fake->out_frames = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  fake->devnode = g_strdup_printf ("/dev/bus/usb/%03u/%03u", bus_number, device_address);

  fake->handler = umockdev_ioctl_base_new ();
  g_signal_connect (fake->handler, "handle-ioctl", G_CALLBACK (handle_ioctl), fake);
  /* the handler first, so that libusb never opens an unanswered node */
  g_assert_true (umockdev_testbed_attach_ioctl (testbed, fake->devnode, fake->handler, &error));
  g_assert_no_error (error);

  /* device descriptor, then one configuration: interface 0 (vendor class)
   * with bulk IN 0x81 and bulk OUT 0x02, as candleLight_fw has them */
  descriptors = g_strdup_printf ("12010002000000 40 %02x%02x %02x%02x 0000 010203 01"
                                 "09022000010100 80 32"
                                 "090400000 2ffffff00"
                                 "0705810240000 0"
                                 "0705020240000 0",
                                 vendor_id & 0xff, vendor_id >> 8,
                                 product_id & 0xff, product_id >> 8);
  g_strdelimit (descriptors, " ", '\n');
  {
    g_autoptr(GString) hex = g_string_new (NULL);

    for (const char *p = descriptors; *p != '\0'; p++)
      if (*p != '\n')
        g_string_append_c (hex, *p);
    g_free (descriptors);
    descriptors = g_string_free (g_steal_pointer (&hex), FALSE);
  }
  description = g_strdup_printf ("P: /devices/usb%u\n"
                                 "N: bus/usb/%03u/%03u\n"
                                 "E: SUBSYSTEM=usb\n"
                                 "E: DEVTYPE=usb_device\n"
                                 "E: DEVNAME=%s\n"
                                 "E: BUSNUM=%03u\n"
                                 "E: DEVNUM=%03u\n"
                                 "A: idVendor=%04x\\n\n"
                                 "A: idProduct=%04x\\n\n"
                                 "A: serial=%s\\n\n"
                                 "A: product=candleLight USB to CAN adapter\\n\n"
                                 "A: busnum=%u\\n\n"
                                 "A: devnum=%u\\n\n"
                                 "A: bConfigurationValue=1\\n\n"
                                 "A: speed=12\\n\n"
                                 "H: descriptors=%s\n",
                                 bus_number, bus_number, device_address, fake->devnode,
                                 bus_number, device_address, vendor_id, product_id, serial,
                                 bus_number, device_address, descriptors);
  g_assert_true (umockdev_testbed_add_from_string (testbed, description, &error));
  g_assert_no_error (error);
  fake->syspath = g_strdup_printf ("/sys/devices/usb%u", bus_number);
  return fake;
}

void
fake_gsusb_free (FakeGsusb *fake)
{
  if (fake == NULL)
    return;
  umockdev_testbed_detach_ioctl (fake->testbed, fake->devnode, NULL);
  g_object_unref (fake->handler);
  g_queue_clear_full (&fake->pending_in, g_object_unref);
  g_queue_clear_full (&fake->done, g_object_unref);
  g_queue_clear_full (&fake->to_host, (GDestroyNotify) g_bytes_unref);
  g_ptr_array_unref (fake->controls);
  g_ptr_array_unref (fake->out_frames);
  g_object_unref (fake->testbed);
  g_free (fake->devnode);
  g_free (fake->syspath);
  g_free (fake->serial);
  g_mutex_clear (&fake->mutex);
  g_cond_clear (&fake->cond);
  g_free (fake);
}

void
fake_gsusb_set_fclk (FakeGsusb *fake,
                     guint32    fclk_can)
{
  g_mutex_lock (&fake->mutex);
  fake->fclk_can = fclk_can;
  g_mutex_unlock (&fake->mutex);
}

void
fake_gsusb_set_echo (FakeGsusb *fake,
                     gboolean   echo)
{
  g_mutex_lock (&fake->mutex);
  fake->is_echo = echo;
  g_mutex_unlock (&fake->mutex);
}

void
fake_gsusb_set_busy (FakeGsusb *fake,
                     gboolean   busy)
{
  g_mutex_lock (&fake->mutex);
  fake->is_busy = busy;
  g_mutex_unlock (&fake->mutex);
}

void
fake_gsusb_inject (FakeGsusb    *fake,
                   guint32       can_id,
                   const guint8 *data,
                   guint8        dlc,
                   guint8        flags)
{
  guint8 frame[HOST_FRAME_SIZE] = { 0 };

  put_le32 (frame, 0xFFFFFFFFu);
  put_le32 (frame + 4, can_id);
  frame[8] = dlc;
  frame[9] = 0;
  frame[10] = flags;
  if (data != NULL)
    memcpy (frame + 12, data, MIN (dlc, 8));
  g_mutex_lock (&fake->mutex);
  g_queue_push_tail (&fake->to_host, g_bytes_new (frame, sizeof frame));
  g_mutex_unlock (&fake->mutex);
}

void
fake_gsusb_vanish (FakeGsusb *fake)
{
  UMockdevIoctlData *urb_data;

  g_mutex_lock (&fake->mutex);
  fake->is_gone = TRUE;
  /* what the kernel does to URBs of a device that disappears */
  while ((urb_data = g_queue_pop_head (&fake->pending_in)) != NULL)
    {
      urb_of (urb_data)->status = -ESHUTDOWN;
      urb_of (urb_data)->actual_length = 0;
      g_queue_push_tail (&fake->done, urb_data);
    }
  g_queue_clear_full (&fake->to_host, (GDestroyNotify) g_bytes_unref);
  g_mutex_unlock (&fake->mutex);
}

GPtrArray *
fake_gsusb_get_controls (FakeGsusb *fake)
{
  GPtrArray *copy = g_ptr_array_new_with_free_func ((GDestroyNotify) fake_gsusb_control_free);

  g_mutex_lock (&fake->mutex);
  for (guint i = 0; i < fake->controls->len; i++)
    {
      FakeGsusbControl *c = g_ptr_array_index (fake->controls, i);
      FakeGsusbControl *d = g_memdup2 (c, sizeof *c);

      d->data = g_bytes_ref (c->data);
      g_ptr_array_add (copy, d);
    }
  g_mutex_unlock (&fake->mutex);
  return copy;
}

GPtrArray *
fake_gsusb_get_out_frames (FakeGsusb *fake)
{
  GPtrArray *copy = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);

  g_mutex_lock (&fake->mutex);
  for (guint i = 0; i < fake->out_frames->len; i++)
    g_ptr_array_add (copy, g_bytes_ref (g_ptr_array_index (fake->out_frames, i)));
  g_mutex_unlock (&fake->mutex);
  return copy;
}

gboolean
fake_gsusb_wait_out_frames (FakeGsusb *fake,
                            guint      n,
                            guint      timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  gboolean ok;

  g_mutex_lock (&fake->mutex);
  while (fake->out_frames->len < n && g_cond_wait_until (&fake->cond, &fake->mutex, deadline))
    ;
  ok = fake->out_frames->len >= n;
  g_mutex_unlock (&fake->mutex);
  return ok;
}

guint
fake_gsusb_get_n_pending_in (FakeGsusb *fake)
{
  guint n;

  g_mutex_lock (&fake->mutex);
  n = fake->pending_in.length;
  g_mutex_unlock (&fake->mutex);
  return n;
}

gboolean
fake_gsusb_is_started (FakeGsusb *fake)
{
  gboolean started;

  g_mutex_lock (&fake->mutex);
  started = fake->is_started;
  g_mutex_unlock (&fake->mutex);
  return started;
}
