/* gsusb.c — gs_usb USB-CAN adapters through libusb. The protocol follows
 * the Linux kernel's drivers/net/can/usb/gs_usb.c: vendor control requests
 * on interface 0 configure the channel, and 20-byte struct gs_host_frame
 * records travel on one bulk IN and one bulk OUT endpoint. Every frame the
 * host sends carries an echo_id that the adapter returns once the frame was
 * acknowledged on the bus; a send completes on that echo.
 *
 * Each link owns a libusb context and one event thread. Several bulk IN
 * transfers stay in flight; their callbacks fill a receive queue that the
 * synchronous EwLink calls wait on under one mutex, so sending and receiving
 * from different threads is safe.
 */
#include "gsusb.h"

#include <string.h>

#include <libusb.h>
#include <linux/can.h>
#include <linux/can/error.h>

/* enum gs_usb_breq in the kernel driver */
enum {
  GS_USB_BREQ_HOST_FORMAT   = 0,
  GS_USB_BREQ_BITTIMING     = 1,
  GS_USB_BREQ_MODE          = 2,
  GS_USB_BREQ_BT_CONST      = 4,
  GS_USB_BREQ_DEVICE_CONFIG = 5,
};

#define GS_CAN_MODE_RESET      0u
#define GS_CAN_MODE_START      1u
#define GS_CAN_FLAG_OVERFLOW   0x01u
#define GS_HOST_FORMAT_MAGIC   0x0000BEEFu
#define GS_HOST_FRAME_SIZE     20      /* echo_id, can_id, dlc, channel, flags, reserved, data[8] */
#define GS_RX_ECHO_ID          0xFFFFFFFFu
#define GS_DEVICE_CONFIG_SIZE  12
#define GS_BT_CONST_SIZE       40
#define GS_BITTIMING_SIZE      20

#define CONTROL_OUT  (LIBUSB_ENDPOINT_OUT | LIBUSB_REQUEST_TYPE_VENDOR | LIBUSB_RECIPIENT_INTERFACE)
#define CONTROL_IN   (LIBUSB_ENDPOINT_IN | LIBUSB_REQUEST_TYPE_VENDOR | LIBUSB_RECIPIENT_INTERFACE)

#define CONTROL_TIMEOUT_MS   1000
#define N_RX_TRANSFERS       8
/* GS_MAX_TX_URBS in the kernel: echo ids the firmware keeps track of */
#define N_TX_SLOTS           10
/* room for a frame with a hardware timestamp or padding to the packet size */
#define RX_BUFFER_SIZE       64
#define RX_QUEUE_MAX         4096
#define MAX_RX_ERRORS_IN_ROW 16
#define UDEV_RULE            "data/udev/70-ecu-workshop-gsusb.rules"

static const struct {
  guint16     vendor_id;
  guint16     product_id;
  const char *what;
} known_ids[] = {
  { 0x1d50, 0x606f, "candleLight / CANable (gs_usb firmware)" },
  { 0x1209, 0x2323, "candleLight (pid.codes)" },
  { 0x1cd2, 0x606f, "CES CANext FD" },
  { 0x16d0, 0x10b8, "ABE CANdebugger FD" },
  { 0x1209, 0xca01, "budgetcan / candleLight clone" },
};

typedef enum {
  TX_FREE,
  TX_WAITING,     /* sent, echo outstanding, a sender waits */
  TX_ABANDONED,   /* sender gave up; the slot is free again on echo */
  TX_ECHOED,
  TX_FAILED,
} TxState;

typedef struct {
  TxState                  state;
  struct libusb_transfer  *transfer;   /* OUT transfer in flight, or NULL */
  enum libusb_transfer_status status;
} TxSlot;

struct _EwGsusbLink {
  EwLink                  parent_instance;

  libusb_context         *ctx;
  libusb_device_handle   *handle;
  guint8                  interface_number;
  guint8                  ep_in;
  guint8                  ep_out;
  gboolean                is_claimed;
  GThread                *event_thread;
  int                     stop_events;     /* atomic */
  char                   *serial;
  EwGsusbBtConst          bt_const;
  EwGsusbBittiming        bittiming;

  GMutex                  mutex;
  GCond                   cond;
  struct libusb_transfer *rx[N_RX_TRANSFERS];
  guint                   n_in_flight;     /* submitted, not yet called back */
  guint                   n_rx_errors_in_row;
  gboolean                is_shutting_down;
  gboolean                is_gone;         /* unplugged */
  char                   *failure;         /* a fatal transfer error */
  GQueue                  rx_queue;        /* EwCanFrame*, owned */
  EwCanFilter            *filters;
  gsize                   n_filters;
  TxSlot                  tx[N_TX_SLOTS];
  guint64                 n_error_frames;
  guint64                 n_overruns;
  EwCanFrame              last_error_frame;
};

G_DEFINE_FINAL_TYPE (EwGsusbLink, ew_gsusb_link, EW_TYPE_LINK)

/* ---- little-endian helpers ---- */

static void
put_le32 (guint8  *p,
          guint32  v)
{
  p[0] = v & 0xff;
  p[1] = (v >> 8) & 0xff;
  p[2] = (v >> 16) & 0xff;
  p[3] = (v >> 24) & 0xff;
}

static guint32
get_le32 (const guint8 *p)
{
  return (guint32) p[0] | (guint32) p[1] << 8 | (guint32) p[2] << 16 | (guint32) p[3] << 24;
}

/* ---- bit timing: a port of the kernel's can_calc_bittiming() ---- */

/* The kernel accepts up to 5 %; nodes on one bus tolerate far less
 * together (ISO 11898-1 allows at most 1.58 % oscillator tolerance), so
 * anything beyond 0.5 % is refused. */
#define MAX_BITRATE_ERROR_PPM 5000
#define CAN_SYNC_SEG       1

static guint32
update_sample_point (const EwGsusbBtConst *btc,
                     guint32               sample_point_nominal,
                     guint32               tseg,
                     guint32              *tseg1_out,
                     guint32              *tseg2_out,
                     guint32              *sample_point_error_out)
{
  guint32 best_error = G_MAXUINT32;
  guint32 best_sample_point = 0;

  for (guint32 i = 0; i <= 1; i++)
    {
      guint32 tseg2 = tseg + CAN_SYNC_SEG
                      - (sample_point_nominal * (tseg + CAN_SYNC_SEG)) / 1000 - i;
      guint32 tseg1;
      guint32 sample_point;
      guint32 error;

      tseg2 = CLAMP (tseg2, btc->tseg2_min, btc->tseg2_max);
      tseg1 = tseg - tseg2;
      if (tseg1 > btc->tseg1_max)
        {
          tseg1 = btc->tseg1_max;
          tseg2 = tseg - tseg1;
        }
      sample_point = 1000 * (tseg + CAN_SYNC_SEG - tseg2) / (tseg + CAN_SYNC_SEG);
      error = sample_point_nominal > sample_point ? sample_point_nominal - sample_point
                                                  : sample_point - sample_point_nominal;
      if (sample_point <= sample_point_nominal && error < best_error)
        {
          best_sample_point = sample_point;
          best_error = error;
          *tseg1_out = tseg1;
          *tseg2_out = tseg2;
        }
    }
  if (sample_point_error_out != NULL)
    *sample_point_error_out = best_error;
  return best_sample_point;
}

gboolean
ew_gsusb_calc_bittiming (const EwGsusbBtConst *btc,
                         guint32               bitrate_bps,
                         EwGsusbBittiming     *bt,
                         GError              **error)
{
  guint32 sample_point_nominal;
  guint32 best_bitrate_error = G_MAXUINT32;
  guint32 best_sample_point_error = G_MAXUINT32;
  guint32 best_tseg = 0;
  guint32 best_brp = 0;
  guint32 tseg1 = 0;
  guint32 tseg2 = 0;

  g_return_val_if_fail (btc != NULL && bt != NULL, FALSE);

  if (bitrate_bps == 0 || btc->fclk_can == 0 || btc->brp_inc == 0 ||
      btc->tseg1_min + btc->tseg2_min == 0 || btc->tseg1_min > btc->tseg1_max ||
      btc->tseg2_min > btc->tseg2_max || btc->brp_min > btc->brp_max)
    {
      g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_NOT_SUPPORTED,
                   "gs_usb: cannot compute bit timing for %u bit/s from the adapter's limits "
                   "(clock %u Hz, tseg1 %u..%u, tseg2 %u..%u, brp %u..%u step %u)",
                   bitrate_bps, btc->fclk_can, btc->tseg1_min, btc->tseg1_max,
                   btc->tseg2_min, btc->tseg2_max, btc->brp_min, btc->brp_max, btc->brp_inc);
      return FALSE;
    }

  /* CiA recommended sample points, as the kernel uses them */
  if (bitrate_bps > 800000)
    sample_point_nominal = 750;
  else if (bitrate_bps > 500000)
    sample_point_nominal = 800;
  else
    sample_point_nominal = 875;

  /* tseg even = round down, odd = round up */
  for (guint32 tseg = (btc->tseg1_max + btc->tseg2_max) * 2 + 1;
       tseg >= (btc->tseg1_min + btc->tseg2_min) * 2; tseg--)
    {
      guint32 tsegall = CAN_SYNC_SEG + tseg / 2;
      guint64 brp = btc->fclk_can / ((guint64) tsegall * bitrate_bps) + tseg % 2;
      guint32 bitrate;
      guint32 bitrate_error;
      guint32 sample_point_error;

      brp = (brp / btc->brp_inc) * btc->brp_inc;
      if (brp < btc->brp_min || brp > btc->brp_max || brp == 0)
        continue;
      bitrate = btc->fclk_can / (brp * tsegall);
      bitrate_error = bitrate_bps > bitrate ? bitrate_bps - bitrate : bitrate - bitrate_bps;
      if (bitrate_error > best_bitrate_error)
        continue;
      if (bitrate_error < best_bitrate_error)
        best_sample_point_error = G_MAXUINT32;
      update_sample_point (btc, sample_point_nominal, tseg / 2, &tseg1, &tseg2,
                           &sample_point_error);
      if (sample_point_error >= best_sample_point_error)
        continue;
      best_sample_point_error = sample_point_error;
      best_bitrate_error = bitrate_error;
      best_tseg = tseg / 2;
      best_brp = (guint32) brp;
      if (bitrate_error == 0 && sample_point_error == 0)
        break;
      if (tseg == 0)
        break;
    }

  if (best_brp == 0 ||
      (guint64) best_bitrate_error * 1000000 / bitrate_bps > MAX_BITRATE_ERROR_PPM)
    {
      g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_NOT_SUPPORTED,
                   "gs_usb: %u bit/s cannot be reached within 0.5 %% with a %u Hz CAN clock "
                   "(tseg1 %u..%u, tseg2 %u..%u, brp %u..%u); choose a standard bitrate "
                   "such as 125000, 250000, 500000 or 1000000",
                   bitrate_bps, btc->fclk_can, btc->tseg1_min, btc->tseg1_max,
                   btc->tseg2_min, btc->tseg2_max, btc->brp_min, btc->brp_max);
      return FALSE;
    }

  memset (bt, 0, sizeof *bt);
  bt->sample_point = update_sample_point (btc, sample_point_nominal, best_tseg,
                                          &tseg1, &tseg2, NULL);
  bt->prop_seg = tseg1 / 2;
  bt->phase_seg1 = tseg1 - bt->prop_seg;
  bt->phase_seg2 = tseg2;
  /* Linux 6.2 and later: can_sjw_set_default(); kept within the adapter's
   * limit rather than refused */
  bt->sjw = MAX (1u, MIN (bt->phase_seg1, bt->phase_seg2 / 2));
  if (btc->sjw_max > 0 && bt->sjw > btc->sjw_max)
    bt->sjw = btc->sjw_max;
  bt->brp = best_brp;
  bt->bitrate_bps = btc->fclk_can / (bt->brp * (CAN_SYNC_SEG + tseg1 + tseg2));
  return TRUE;
}

/* ---- discovery ---- */

const char *
ew_gsusb_known_ids (void)
{
  return "1d50:606f, 1209:2323, 1cd2:606f, 16d0:10b8, 1209:ca01";
}

static gboolean
is_known_id (guint16 vendor_id,
             guint16 product_id)
{
  for (gsize i = 0; i < G_N_ELEMENTS (known_ids); i++)
    if (known_ids[i].vendor_id == vendor_id && known_ids[i].product_id == product_id)
      return TRUE;
  return FALSE;
}

void
ew_gsusb_device_info_free (EwGsusbDeviceInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->serial);
  g_free (info->product);
  g_free (info->open_error);
  g_free (info);
}

static char *
describe_open_error (int r)
{
  switch (r)
    {
    case LIBUSB_ERROR_ACCESS:
      return g_strdup ("permission denied: install " UDEV_RULE " into /etc/udev/rules.d/, "
                       "run `udevadm control --reload` and plug the adapter in again");
    case LIBUSB_ERROR_BUSY:
      return g_strdup ("the device is busy: another program or driver is using it");
    case LIBUSB_ERROR_NO_DEVICE:
      return g_strdup ("the device was unplugged");
    default:
      return g_strdup_printf ("libusb: %s", libusb_strerror (r));
    }
}

static char *
read_string (libusb_device_handle *handle,
             guint8                index)
{
  unsigned char buffer[256];
  int n;

  if (index == 0)
    return NULL;
  n = libusb_get_string_descriptor_ascii (handle, index, buffer, sizeof buffer - 1);
  if (n < 0)
    return NULL;
  buffer[n] = '\0';
  return g_strdup ((const char *) buffer);
}

typedef struct {
  libusb_device     *device;   /* a reference */
  EwGsusbDeviceInfo *info;
} Candidate;

static void
candidate_free (Candidate *c)
{
  libusb_unref_device (c->device);
  ew_gsusb_device_info_free (c->info);
  g_free (c);
}

static gint
compare_candidates (gconstpointer a,
                    gconstpointer b)
{
  const Candidate *ca = *(Candidate * const *) a;
  const Candidate *cb = *(Candidate * const *) b;

  if (ca->info->bus_number != cb->info->bus_number)
    return ca->info->bus_number - cb->info->bus_number;
  return ca->info->device_address - cb->info->device_address;
}

/* Adapters on ctx; with vendor_id == 0 those with known ids, else exactly
 * vendor_id:product_id. Strings are read when read_strings is set. */
static GPtrArray *
find_candidates (libusb_context  *ctx,
                 guint16          vendor_id,
                 guint16          product_id,
                 gboolean         read_strings,
                 GError         **error)
{
  g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func ((GDestroyNotify) candidate_free);
  libusb_device **list = NULL;
  ssize_t n = libusb_get_device_list (ctx, &list);

  if (n < 0)
    {
      g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_IO,
                   "gs_usb: listing USB devices failed: %s", libusb_strerror ((int) n));
      return NULL;
    }
  for (ssize_t i = 0; i < n; i++)
    {
      struct libusb_device_descriptor desc;
      Candidate *c;

      if (libusb_get_device_descriptor (list[i], &desc) != 0)
        continue;
      if (vendor_id == 0 ? !is_known_id (desc.idVendor, desc.idProduct)
                         : desc.idVendor != vendor_id || desc.idProduct != product_id)
        continue;

      c = g_new0 (Candidate, 1);
      c->device = libusb_ref_device (list[i]);
      c->info = g_new0 (EwGsusbDeviceInfo, 1);
      c->info->vendor_id = desc.idVendor;
      c->info->product_id = desc.idProduct;
      c->info->bus_number = libusb_get_bus_number (list[i]);
      c->info->device_address = libusb_get_device_address (list[i]);
      if (read_strings)
        {
          libusb_device_handle *handle = NULL;
          int r = libusb_open (list[i], &handle);

          if (r == 0)
            {
              c->info->serial = read_string (handle, desc.iSerialNumber);
              c->info->product = read_string (handle, desc.iProduct);
              libusb_close (handle);
            }
          else
            c->info->open_error = describe_open_error (r);
        }
      g_ptr_array_add (found, c);
    }
  libusb_free_device_list (list, TRUE);
  g_ptr_array_sort (found, compare_candidates);
  return g_steal_pointer (&found);
}

static gboolean
init_context (libusb_context **ctx,
              GError         **error)
{
  int r = libusb_init (ctx);

  if (r != 0)
    {
      *ctx = NULL;
      g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_NOT_SUPPORTED,
                   "gs_usb: libusb cannot start (%s); is /dev/bus/usb available?",
                   libusb_strerror (r));
      return FALSE;
    }
  return TRUE;
}

GPtrArray *
ew_gsusb_list_devices (GError **error)
{
  libusb_context *ctx = NULL;
  g_autoptr(GPtrArray) candidates = NULL;
  GPtrArray *result;

  if (!init_context (&ctx, error))
    return NULL;
  candidates = find_candidates (ctx, 0, 0, TRUE, error);
  if (candidates == NULL)
    {
      libusb_exit (ctx);
      return NULL;
    }
  result = g_ptr_array_new_with_free_func ((GDestroyNotify) ew_gsusb_device_info_free);
  for (guint i = 0; i < candidates->len; i++)
    {
      Candidate *c = g_ptr_array_index (candidates, i);

      g_ptr_array_add (result, g_steal_pointer (&c->info));
    }
  g_clear_pointer (&candidates, g_ptr_array_unref);
  libusb_exit (ctx);
  return result;
}

static char *
describe_candidate (const EwGsusbDeviceInfo *info)
{
  return g_strdup_printf ("%04x:%04x%s%s on bus %03u device %03u%s%s%s",
                          info->vendor_id, info->product_id,
                          info->serial != NULL ? " serial " : "",
                          info->serial != NULL ? info->serial : "",
                          info->bus_number, info->device_address,
                          info->product != NULL ? " (" : "",
                          info->product != NULL ? info->product : "",
                          info->product != NULL ? ")" : "");
}

/* ---- URI ---- */

static gboolean
parse_hex16 (const char *s,
             gsize       len,
             guint16    *out)
{
  guint v = 0;

  if (len == 0 || len > 4)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      if (!g_ascii_isxdigit (s[i]))
        return FALSE;
      v = v * 16 + g_ascii_xdigit_value (s[i]);
    }
  *out = (guint16) v;
  return TRUE;
}

typedef struct {
  guint16  vendor_id;      /* 0: any known id */
  guint16  product_id;
  char    *serial;
  guint32  bitrate_bps;
} Spec;

static gboolean
parse_spec (const char  *uri,
            const char  *spec,
            Spec        *out,
            GError     **error)
{
  const char *query = strchr (spec, '?');
  g_autofree char *device = query != NULL ? g_strndup (spec, query - spec) : g_strdup (spec);
  const char *at = strchr (device, '@');
  gsize ids_len = at != NULL ? (gsize) (at - device) : strlen (device);

  memset (out, 0, sizeof *out);
  out->bitrate_bps = EW_GSUSB_DEFAULT_BITRATE;

  if (ids_len > 0)
    {
      const char *colon = memchr (device, ':', ids_len);

      if (colon == NULL ||
          !parse_hex16 (device, colon - device, &out->vendor_id) ||
          !parse_hex16 (colon + 1, ids_len - (colon + 1 - device), &out->product_id) ||
          out->vendor_id == 0)
        {
          g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_BAD_URI,
                       "Link URI “%s”: “%.*s” is not a USB id; write VID:PID in hexadecimal, "
                       "e.g. gsusb:1d50:606f", uri, (int) ids_len, device);
          return FALSE;
        }
    }
  if (at != NULL)
    {
      if (at[1] == '\0')
        {
          g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_BAD_URI,
                       "Link URI “%s”: nothing after “@”; give the adapter's serial number, "
                       "e.g. gsusb:@0039003A4E4B5009", uri);
          return FALSE;
        }
      for (const char *p = at + 1; *p != '\0'; p++)
        if (!g_ascii_isgraph (*p) || *p == '@')
          {
            g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_BAD_URI,
                         "Link URI “%s”: character “%c” is not allowed in a serial number",
                         uri, *p);
            return FALSE;
          }
      out->serial = g_strdup (at + 1);
    }
  if (query != NULL)
    {
      g_autoptr(GError) local_error = NULL;
      g_autoptr(GHashTable) params = g_uri_parse_params (query + 1, -1, "&", G_URI_PARAMS_NONE,
                                                         &local_error);
      GHashTableIter iter;
      gpointer key, value;

      if (params == NULL)
        {
          g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_BAD_URI,
                       "Link URI “%s”: the query after “?” is malformed: %s",
                       uri, local_error->message);
          g_clear_pointer (&out->serial, g_free);
          return FALSE;
        }
      g_hash_table_iter_init (&iter, params);
      while (g_hash_table_iter_next (&iter, &key, &value))
        {
          guint64 bitrate = 0;

          if (!g_str_equal (key, "bitrate"))
            {
              g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_BAD_URI,
                           "Link URI “%s”: unknown parameter “%s”; gsusb: takes only bitrate=N",
                           uri, (const char *) key);
              g_clear_pointer (&out->serial, g_free);
              return FALSE;
            }
          if (!g_ascii_string_to_unsigned (value, 10, 1000, 1000000, &bitrate, NULL))
            {
              g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_BAD_URI,
                           "Link URI “%s”: bitrate “%s” is not a number of bit/s between "
                           "1000 and 1000000", uri, (const char *) value);
              g_clear_pointer (&out->serial, g_free);
              return FALSE;
            }
          out->bitrate_bps = (guint32) bitrate;
        }
    }
  return TRUE;
}

/* ---- transfers (called on the event thread) ---- */

static void submit_rx_locked (EwGsusbLink *self, struct libusb_transfer *transfer);

static void
set_gone_locked (EwGsusbLink *self)
{
  if (!self->is_gone)
    g_debug ("gs_usb %s: the adapter was unplugged", ew_link_get_name (EW_LINK (self)));
  self->is_gone = TRUE;
  g_cond_broadcast (&self->cond);
}

static void
handle_host_frame_locked (EwGsusbLink  *self,
                          const guint8 *buffer,
                          int           length)
{
  guint32 echo_id;
  guint32 can_id;
  guint8 dlc;
  guint8 flags;
  EwCanFrame *frame;

  /* shorter packets are not gs_host_frames; the kernel drops them too */
  if (length < GS_HOST_FRAME_SIZE)
    return;
  echo_id = get_le32 (buffer);
  can_id = get_le32 (buffer + 4);
  dlc = buffer[8];
  flags = buffer[10];

  if (echo_id != GS_RX_ECHO_ID)
    {
      TxSlot *slot;

      if (echo_id >= N_TX_SLOTS)
        return;
      slot = &self->tx[echo_id];
      if (slot->state == TX_WAITING)
        slot->state = TX_ECHOED;
      else if (slot->state == TX_ABANDONED)
        slot->state = TX_FREE;
      g_cond_broadcast (&self->cond);
      return;
    }

  if (flags & GS_CAN_FLAG_OVERFLOW)
    self->n_overruns++;

  if (can_id & CAN_ERR_FLAG)
    {
      /* bus errors say something about the wire, not the data: counted and
       * kept for the caller to inspect, never handed out as frames */
      memset (&self->last_error_frame, 0, sizeof self->last_error_frame);
      self->last_error_frame.id = can_id & CAN_ERR_MASK;
      self->last_error_frame.is_error = TRUE;
      self->last_error_frame.len = MIN (dlc, CAN_MAX_DLEN);
      memcpy (self->last_error_frame.data, buffer + 12, self->last_error_frame.len);
      self->last_error_frame.timestamp_us = g_get_monotonic_time ();
      self->n_error_frames++;
      return;
    }

  frame = g_new0 (EwCanFrame, 1);
  frame->is_extended = (can_id & CAN_EFF_FLAG) != 0;
  frame->is_rtr = (can_id & CAN_RTR_FLAG) != 0;
  frame->id = can_id & (frame->is_extended ? CAN_EFF_MASK : CAN_SFF_MASK);
  /* DLC 9..15 still means 8 bytes on classic CAN */
  frame->len = MIN (dlc, CAN_MAX_DLEN);
  if (!frame->is_rtr)
    memcpy (frame->data, buffer + 12, frame->len);
  frame->timestamp_us = g_get_monotonic_time ();

  if (self->rx_queue.length >= RX_QUEUE_MAX)
    {
      ew_can_frame_free (g_queue_pop_head (&self->rx_queue));
      self->n_overruns++;
    }
  g_queue_push_tail (&self->rx_queue, frame);
  g_cond_broadcast (&self->cond);
}

static void LIBUSB_CALL
rx_callback (struct libusb_transfer *transfer)
{
  EwGsusbLink *self = transfer->user_data;

  g_mutex_lock (&self->mutex);
  self->n_in_flight--;
  switch (transfer->status)
    {
    case LIBUSB_TRANSFER_COMPLETED:
      self->n_rx_errors_in_row = 0;
      handle_host_frame_locked (self, transfer->buffer, transfer->actual_length);
      submit_rx_locked (self, transfer);
      break;
    case LIBUSB_TRANSFER_CANCELLED:
      break;
    case LIBUSB_TRANSFER_NO_DEVICE:
      set_gone_locked (self);
      break;
    default:
      /* a glitch on the USB (CRC error, babble) is survivable, a stream of
       * them is not */
      if (++self->n_rx_errors_in_row >= MAX_RX_ERRORS_IN_ROW && self->failure == NULL)
        {
          self->failure = g_strdup_printf ("the bulk IN endpoint 0x%02x failed %u times in a row "
                                           "(last status %d)", self->ep_in,
                                           self->n_rx_errors_in_row, transfer->status);
          g_cond_broadcast (&self->cond);
        }
      else
        submit_rx_locked (self, transfer);
      break;
    }
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->mutex);
}

static void
submit_rx_locked (EwGsusbLink            *self,
                  struct libusb_transfer *transfer)
{
  int r;

  if (self->is_shutting_down || self->is_gone || self->failure != NULL)
    return;
  r = libusb_submit_transfer (transfer);
  if (r == 0)
    self->n_in_flight++;
  else if (r == LIBUSB_ERROR_NO_DEVICE)
    set_gone_locked (self);
  else
    {
      self->failure = g_strdup_printf ("submitting a bulk IN transfer failed: %s",
                                       libusb_strerror (r));
      g_cond_broadcast (&self->cond);
    }
}

static void LIBUSB_CALL
tx_callback (struct libusb_transfer *transfer)
{
  EwGsusbLink *self = transfer->user_data;
  guint32 echo_id = get_le32 (transfer->buffer);

  g_mutex_lock (&self->mutex);
  self->n_in_flight--;
  if (transfer->status == LIBUSB_TRANSFER_NO_DEVICE)
    set_gone_locked (self);
  if (echo_id < N_TX_SLOTS && self->tx[echo_id].transfer == transfer)
    {
      TxSlot *slot = &self->tx[echo_id];

      slot->transfer = NULL;
      if (transfer->status != LIBUSB_TRANSFER_COMPLETED)
        {
          slot->status = transfer->status;
          if (slot->state == TX_WAITING)
            slot->state = TX_FAILED;
          else if (slot->state == TX_ABANDONED)
            slot->state = TX_FREE;
        }
    }
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->mutex);
  libusb_free_transfer (transfer);   /* LIBUSB_TRANSFER_FREE_BUFFER frees the buffer */
}

static gpointer
event_thread_func (gpointer data)
{
  EwGsusbLink *self = data;

  while (!g_atomic_int_get (&self->stop_events))
    {
      struct timeval tv = { .tv_sec = 0, .tv_usec = 100000 };

      libusb_handle_events_timeout_completed (self->ctx, &tv, &self->stop_events);
    }
  return NULL;
}

/* ---- waiting ---- */

static void
wake_on_cancel (GCancellable *cancellable,
                gpointer      data)
{
  EwGsusbLink *self = data;

  g_mutex_lock (&self->mutex);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->mutex);
}

/* Sets error and returns FALSE when the link can no longer be used. */
static gboolean
check_usable_locked (EwGsusbLink   *self,
                     GCancellable  *cancellable,
                     GError       **error)
{
  EwLink *link = EW_LINK (self);

  if (ew_link_is_closed (link) || self->is_shutting_down)
    {
      g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_CLOSED,
                   "Link %s is closed", ew_link_get_name (link));
      return FALSE;
    }
  if (self->is_gone)
    {
      g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_IO,
                   "Link %s: the gs_usb adapter was unplugged; plug it in and open the link again",
                   ew_link_get_name (link));
      return FALSE;
    }
  if (self->failure != NULL)
    {
      g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_IO,
                   "Link %s: %s", ew_link_get_name (link), self->failure);
      return FALSE;
    }
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  return TRUE;
}

/* Waits on the condition until deadline_us (negative: no limit). Returns
 * FALSE once the deadline has passed. */
static gboolean
wait_locked (EwGsusbLink *self,
             gint64       deadline_us)
{
  if (deadline_us < 0)
    {
      g_cond_wait (&self->cond, &self->mutex);
      return TRUE;
    }
  if (g_get_monotonic_time () >= deadline_us)
    return FALSE;
  g_cond_wait_until (&self->cond, &self->mutex, deadline_us);
  return TRUE;
}

/* ---- EwLink ---- */

static gboolean
ew_gsusb_link_send (EwLink            *link,
                    const EwCanFrame  *frame,
                    gint               timeout_ms,
                    GCancellable      *cancellable,
                    GError           **error)
{
  EwGsusbLink *self = EW_GSUSB_LINK (link);
  gint64 deadline = timeout_ms < 0 ? -1 : g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  gulong cancel_id = 0;
  gboolean ok = FALSE;
  guint slot_index = N_TX_SLOTS;
  guint32 can_id;
  guint8 *buffer;
  struct libusb_transfer *transfer;
  int r;

  if (cancellable != NULL)
    cancel_id = g_cancellable_connect (cancellable, G_CALLBACK (wake_on_cancel), self, NULL);
  g_mutex_lock (&self->mutex);

  /* a free echo id; all of them taken means the adapter has not confirmed
   * the last frames, usually because nothing acknowledges them on the bus */
  for (;;)
    {
      if (!check_usable_locked (self, cancellable, error))
        goto out;
      for (guint i = 0; i < N_TX_SLOTS && slot_index == N_TX_SLOTS; i++)
        if (self->tx[i].state == TX_FREE && self->tx[i].transfer == NULL)
          slot_index = i;
      if (slot_index < N_TX_SLOTS)
        break;
      if (!wait_locked (self, deadline))
        {
          g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_TIMEOUT,
                       "Link %s: the adapter has not confirmed its last %d frames within %d ms; "
                       "is the adapter connected to a running bus with another node on it?",
                       ew_link_get_name (link), N_TX_SLOTS, timeout_ms);
          goto out;
        }
    }

  can_id = frame->is_extended ? (frame->id & CAN_EFF_MASK) | CAN_EFF_FLAG
                              : frame->id & CAN_SFF_MASK;
  if (frame->is_rtr)
    can_id |= CAN_RTR_FLAG;
  buffer = g_malloc0 (GS_HOST_FRAME_SIZE);
  put_le32 (buffer, slot_index);
  put_le32 (buffer + 4, can_id);
  buffer[8] = frame->len;
  buffer[9] = 0;     /* channel */
  buffer[10] = 0;    /* flags */
  if (!frame->is_rtr)
    memcpy (buffer + 12, frame->data, MIN (frame->len, CAN_MAX_DLEN));

  transfer = libusb_alloc_transfer (0);
  libusb_fill_bulk_transfer (transfer, self->handle, self->ep_out, buffer, GS_HOST_FRAME_SIZE,
                             tx_callback, self, CONTROL_TIMEOUT_MS);
  transfer->flags = LIBUSB_TRANSFER_FREE_BUFFER;
  r = libusb_submit_transfer (transfer);
  if (r != 0)
    {
      libusb_free_transfer (transfer);
      if (r == LIBUSB_ERROR_NO_DEVICE)
        {
          set_gone_locked (self);
          check_usable_locked (self, cancellable, error);
        }
      else
        g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_IO,
                     "Link %s: submitting a frame to bulk OUT endpoint 0x%02x failed: %s",
                     ew_link_get_name (link), self->ep_out, libusb_strerror (r));
      goto out;
    }
  self->n_in_flight++;
  self->tx[slot_index].state = TX_WAITING;
  self->tx[slot_index].transfer = transfer;

  for (;;)
    {
      TxSlot *slot = &self->tx[slot_index];

      if (slot->state == TX_ECHOED)
        {
          slot->state = TX_FREE;
          ok = TRUE;
          break;
        }
      if (slot->state == TX_FAILED)
        {
          slot->state = TX_FREE;
          g_set_error (error, EW_LINK_ERROR,
                       slot->status == LIBUSB_TRANSFER_TIMED_OUT ? EW_LINK_ERROR_TIMEOUT
                                                                 : EW_LINK_ERROR_IO,
                       "Link %s: the adapter did not take the frame on bulk OUT endpoint "
                       "0x%02x (%s)", ew_link_get_name (link), self->ep_out,
                       libusb_error_name (slot->status));
          break;
        }
      if (!check_usable_locked (self, cancellable, error))
        {
          slot->state = TX_ABANDONED;
          break;
        }
      if (!wait_locked (self, deadline))
        {
          slot->state = TX_ABANDONED;
          g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_TIMEOUT,
                       "Link %s: no echo from the adapter within %d ms; the frame was not "
                       "acknowledged on the bus (is another node connected and powered?)",
                       ew_link_get_name (link), timeout_ms);
          break;
        }
    }

out:
  g_mutex_unlock (&self->mutex);
  if (cancel_id != 0)
    g_cancellable_disconnect (cancellable, cancel_id);
  return ok;
}

static gboolean
ew_gsusb_link_receive (EwLink        *link,
                       EwCanFrame    *frame,
                       gint           timeout_ms,
                       GCancellable  *cancellable,
                       GError       **error)
{
  EwGsusbLink *self = EW_GSUSB_LINK (link);
  gint64 deadline = timeout_ms < 0 ? -1 : g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  gulong cancel_id = 0;
  gboolean ok = FALSE;

  if (cancellable != NULL)
    cancel_id = g_cancellable_connect (cancellable, G_CALLBACK (wake_on_cancel), self, NULL);
  g_mutex_lock (&self->mutex);
  for (;;)
    {
      EwCanFrame *queued;

      if (ew_link_is_closed (link) || self->is_shutting_down)
        {
          check_usable_locked (self, cancellable, error);
          break;
        }
      /* frames that arrived before an unplug are still handed out */
      while ((queued = g_queue_pop_head (&self->rx_queue)) != NULL)
        {
          gboolean passes = ew_can_filter_matches (self->filters, self->n_filters, queued);

          if (passes)
            *frame = *queued;
          ew_can_frame_free (queued);
          if (passes)
            {
              ok = TRUE;
              goto out;
            }
        }
      if (!check_usable_locked (self, cancellable, error))
        break;
      if (!wait_locked (self, deadline))
        {
          g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_TIMEOUT,
                       "Link %s: no frame within %d ms", ew_link_get_name (link), timeout_ms);
          break;
        }
    }
out:
  g_mutex_unlock (&self->mutex);
  if (cancel_id != 0)
    g_cancellable_disconnect (cancellable, cancel_id);
  return ok;
}

static gboolean
ew_gsusb_link_set_filters (EwLink             *link,
                           const EwCanFilter  *filters,
                           gsize               n_filters,
                           GError            **error)
{
  EwGsusbLink *self = EW_GSUSB_LINK (link);

  /* gs_usb firmware has no acceptance filters: frames are filtered here */
  g_mutex_lock (&self->mutex);
  g_clear_pointer (&self->filters, g_free);
  self->n_filters = n_filters;
  if (n_filters > 0)
    self->filters = g_memdup2 (filters, n_filters * sizeof *filters);
  g_mutex_unlock (&self->mutex);
  return TRUE;
}

static int
control_out (EwGsusbLink  *self,
             guint8        request,
             guint16       value,
             guint8       *data,
             guint16       length)
{
  return libusb_control_transfer (self->handle, CONTROL_OUT, request, value,
                                  self->interface_number, data, length, CONTROL_TIMEOUT_MS);
}

static void
send_mode (EwGsusbLink *self,
           guint32      mode,
           int         *result)
{
  guint8 data[8];

  put_le32 (data, mode);
  put_le32 (data + 4, 0);    /* flags: normal mode, no timestamps or padding */
  *result = control_out (self, GS_USB_BREQ_MODE, 0, data, sizeof data);
}

static void
ew_gsusb_link_close (EwLink *link)
{
  EwGsusbLink *self = EW_GSUSB_LINK (link);
  gint64 deadline;
  gboolean is_gone;

  g_mutex_lock (&self->mutex);
  self->is_shutting_down = TRUE;
  is_gone = self->is_gone;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->mutex);

  if (self->handle == NULL)
    goto no_device;

  /* stop the channel so the adapter no longer acknowledges frames */
  if (!is_gone && self->event_thread != NULL)
    {
      int r;

      send_mode (self, GS_CAN_MODE_RESET, &r);
      if (r < 0)
        g_debug ("gs_usb %s: resetting the channel failed: %s",
                 ew_link_get_name (link), libusb_strerror (r));
    }

  g_mutex_lock (&self->mutex);
  for (guint i = 0; i < N_RX_TRANSFERS; i++)
    if (self->rx[i] != NULL)
      libusb_cancel_transfer (self->rx[i]);
  for (guint i = 0; i < N_TX_SLOTS; i++)
    if (self->tx[i].transfer != NULL)
      libusb_cancel_transfer (self->tx[i].transfer);
  deadline = g_get_monotonic_time () + 2 * G_TIME_SPAN_SECOND;
  while (self->n_in_flight > 0 && self->event_thread != NULL &&
         g_cond_wait_until (&self->cond, &self->mutex, deadline))
    ;
  g_mutex_unlock (&self->mutex);

  if (self->event_thread != NULL)
    {
      g_atomic_int_set (&self->stop_events, 1);
      libusb_interrupt_event_handler (self->ctx);
      g_clear_pointer (&self->event_thread, g_thread_join);
    }

  if (self->n_in_flight > 0)
    {
      /* freeing a transfer libusb still owns would corrupt memory: keep
       * the handle and its transfers instead */
      g_warning ("gs_usb %s: %u USB transfers did not finish; leaving the device open",
                 ew_link_get_name (link), self->n_in_flight);
      return;
    }
  for (guint i = 0; i < N_RX_TRANSFERS; i++)
    g_clear_pointer (&self->rx[i], libusb_free_transfer);
  if (self->is_claimed)
    libusb_release_interface (self->handle, self->interface_number);
  self->is_claimed = FALSE;
  g_clear_pointer (&self->handle, libusb_close);

no_device:
  g_clear_pointer (&self->ctx, libusb_exit);
}

static void
ew_gsusb_link_dispose (GObject *object)
{
  ew_link_close (EW_LINK (object));
  G_OBJECT_CLASS (ew_gsusb_link_parent_class)->dispose (object);
}

static void
ew_gsusb_link_finalize (GObject *object)
{
  EwGsusbLink *self = EW_GSUSB_LINK (object);

  g_queue_clear_full (&self->rx_queue, (GDestroyNotify) ew_can_frame_free);
  g_free (self->filters);
  g_free (self->failure);
  g_free (self->serial);
  g_mutex_clear (&self->mutex);
  g_cond_clear (&self->cond);
  G_OBJECT_CLASS (ew_gsusb_link_parent_class)->finalize (object);
}

static void
ew_gsusb_link_class_init (EwGsusbLinkClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  EwLinkClass *link_class = EW_LINK_CLASS (klass);

  object_class->dispose = ew_gsusb_link_dispose;
  object_class->finalize = ew_gsusb_link_finalize;
  link_class->send = ew_gsusb_link_send;
  link_class->receive = ew_gsusb_link_receive;
  link_class->set_filters = ew_gsusb_link_set_filters;
  link_class->close = ew_gsusb_link_close;
}

static void
ew_gsusb_link_init (EwGsusbLink *self)
{
  g_mutex_init (&self->mutex);
  g_cond_init (&self->cond);
  g_queue_init (&self->rx_queue);
}

/* ---- opening ---- */

static const char *
request_name (guint8 request)
{
  switch (request)
    {
    case GS_USB_BREQ_HOST_FORMAT: return "HOST_FORMAT";
    case GS_USB_BREQ_BITTIMING: return "BITTIMING";
    case GS_USB_BREQ_MODE: return "MODE";
    case GS_USB_BREQ_BT_CONST: return "BT_CONST";
    case GS_USB_BREQ_DEVICE_CONFIG: return "DEVICE_CONFIG";
    default: return "?";
    }
}

static gboolean
check_control (EwGsusbLink  *self,
               const char   *uri,
               guint8        request,
               int           r,
               int           expected_length,
               GError      **error)
{
  if (r == expected_length)
    return TRUE;
  if (r >= 0)
    g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_NOT_SUPPORTED,
                 "Link URI “%s”: gs_usb request %s (0x%02x) moved %d bytes, expected %d; "
                 "is this a gs_usb adapter?", uri, request_name (request), request, r,
                 expected_length);
  else
    g_set_error (error, EW_LINK_ERROR,
                 r == LIBUSB_ERROR_TIMEOUT ? EW_LINK_ERROR_TIMEOUT
                 : r == LIBUSB_ERROR_PIPE ? EW_LINK_ERROR_NOT_SUPPORTED : EW_LINK_ERROR_IO,
                 "Link URI “%s”: gs_usb request %s (0x%02x) failed: %s", uri,
                 request_name (request), request,
                 r == LIBUSB_ERROR_NO_DEVICE ? "the adapter was unplugged"
                 : r == LIBUSB_ERROR_PIPE ? "the adapter refused it (stall)"
                 : libusb_strerror (r));
  return FALSE;
}

static gboolean
find_endpoints (EwGsusbLink  *self,
                const char   *uri,
                GError      **error)
{
  struct libusb_config_descriptor *config = NULL;
  const struct libusb_interface_descriptor *alt = NULL;
  int r = libusb_get_active_config_descriptor (libusb_get_device (self->handle), &config);

  if (r != 0)
    {
      g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_IO,
                   "Link URI “%s”: reading the USB configuration failed: %s",
                   uri, libusb_strerror (r));
      return FALSE;
    }
  for (int i = 0; i < config->bNumInterfaces && alt == NULL; i++)
    if (config->interface[i].num_altsetting > 0 &&
        config->interface[i].altsetting[0].bInterfaceNumber == 0)
      alt = &config->interface[i].altsetting[0];
  if (alt != NULL)
    for (int i = 0; i < alt->bNumEndpoints; i++)
      {
        const struct libusb_endpoint_descriptor *ep = &alt->endpoint[i];

        if ((ep->bmAttributes & LIBUSB_TRANSFER_TYPE_MASK) != LIBUSB_TRANSFER_TYPE_BULK)
          continue;
        if ((ep->bEndpointAddress & LIBUSB_ENDPOINT_DIR_MASK) == LIBUSB_ENDPOINT_IN)
          {
            if (self->ep_in == 0)
              self->ep_in = ep->bEndpointAddress;
          }
        else if (self->ep_out == 0)
          self->ep_out = ep->bEndpointAddress;
      }
  libusb_free_config_descriptor (config);
  if (alt == NULL || self->ep_in == 0 || self->ep_out == 0)
    {
      g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_NOT_SUPPORTED,
                   "Link URI “%s”: USB interface 0 has no bulk IN and OUT endpoints; "
                   "this is not a gs_usb adapter", uri);
      return FALSE;
    }
  self->interface_number = 0;
  return TRUE;
}

static Candidate *
choose_candidate (const char  *uri,
                  const Spec  *spec,
                  GPtrArray   *candidates,
                  GError     **error)
{
  g_autoptr(GString) listing = g_string_new (NULL);
  Candidate *chosen = NULL;
  guint n_matching = 0;

  for (guint i = 0; i < candidates->len; i++)
    {
      Candidate *c = g_ptr_array_index (candidates, i);
      g_autofree char *text = describe_candidate (c->info);

      g_string_append_printf (listing, "%s%s", listing->len > 0 ? "; " : "", text);
      if (spec->serial != NULL && g_strcmp0 (c->info->serial, spec->serial) != 0)
        continue;
      n_matching++;
      if (chosen == NULL)
        chosen = c;
    }

  if (candidates->len == 0)
    {
      g_autofree char *ids = spec->vendor_id != 0
        ? g_strdup_printf ("%04x:%04x", spec->vendor_id, spec->product_id)
        : g_strdup (ew_gsusb_known_ids ());

      g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_NOT_FOUND,
                   "Link URI “%s”: no gs_usb adapter found (looked for %s); "
                   "is it plugged in?", uri, ids);
      return NULL;
    }
  if (n_matching == 0)
    {
      Candidate *first = g_ptr_array_index (candidates, 0);

      if (candidates->len == 1 && first->info->open_error != NULL)
        g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_IO,
                     "Link URI “%s”: cannot read the serial number of %04x:%04x on bus %03u "
                     "device %03u: %s", uri, first->info->vendor_id, first->info->product_id,
                     first->info->bus_number, first->info->device_address,
                     first->info->open_error);
      else
        g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_NOT_FOUND,
                     "Link URI “%s”: no gs_usb adapter with serial “%s” (attached: %s)",
                     uri, spec->serial, listing->str);
      return NULL;
    }
  if (n_matching > 1)
    {
      g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_NOT_FOUND,
                   "Link URI “%s”: %u gs_usb adapters are attached (%s); choose one with "
                   "gsusb:VID:PID or gsusb:@SERIAL", uri, n_matching, listing->str);
      return NULL;
    }
  return chosen;
}

EwLink *
ew_gsusb_link_open (const char  *uri,
                    const char  *spec_text,
                    GError     **error)
{
  g_autoptr(EwGsusbLink) self = NULL;
  g_autoptr(GPtrArray) candidates = NULL;
  g_autofree char *default_uri = NULL;
  g_autofree char *name = NULL;
  Spec spec;
  Candidate *chosen;
  guint8 data[GS_BT_CONST_SIZE];
  int r;

  g_return_val_if_fail (spec_text != NULL, NULL);

  if (uri == NULL)
    uri = default_uri = g_strconcat ("gsusb:", spec_text, NULL);
  if (!parse_spec (uri, spec_text, &spec, error))
    return NULL;

  {
    libusb_context *ctx = NULL;

    if (!init_context (&ctx, error))
      {
        g_free (spec.serial);
        return NULL;
      }
    /* with one adapter and no serial asked for, its strings are read only
     * for the link's name, after it is open */
    candidates = find_candidates (ctx, spec.vendor_id, spec.product_id, TRUE, error);
    if (candidates == NULL)
      {
        libusb_exit (ctx);
        g_free (spec.serial);
        return NULL;
      }
    chosen = choose_candidate (uri, &spec, candidates, error);
    g_free (spec.serial);
    if (chosen == NULL)
      {
        g_clear_pointer (&candidates, g_ptr_array_unref);
        libusb_exit (ctx);
        return NULL;
      }
    name = chosen->info->serial != NULL
      ? g_strdup_printf ("gsusb:%04x:%04x@%s", chosen->info->vendor_id,
                         chosen->info->product_id, chosen->info->serial)
      : g_strdup_printf ("gsusb:%03u/%03u", chosen->info->bus_number,
                         chosen->info->device_address);
    self = g_object_new (EW_TYPE_GSUSB_LINK, "uri", uri, "name", name, NULL);
    self->ctx = ctx;
    self->serial = g_strdup (chosen->info->serial);
    r = libusb_open (chosen->device, &self->handle);
    g_clear_pointer (&candidates, g_ptr_array_unref);
  }
  if (r != 0)
    {
      g_autofree char *why = describe_open_error (r);

      self->handle = NULL;
      g_set_error (error, EW_LINK_ERROR,
                   r == LIBUSB_ERROR_NO_DEVICE ? EW_LINK_ERROR_NOT_FOUND : EW_LINK_ERROR_IO,
                   "Link URI “%s”: cannot open the adapter: %s", uri, why);
      return NULL;
    }

  if (!find_endpoints (self, uri, error))
    return NULL;

  if (libusb_kernel_driver_active (self->handle, self->interface_number) == 1)
    {
      g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_IO,
                   "Link URI “%s”: the device is busy: the kernel's gs_usb driver has it as a "
                   "SocketCAN interface; use socketcan:can0 (see `ip link`), or unload the "
                   "gs_usb module", uri);
      return NULL;
    }
  r = libusb_claim_interface (self->handle, self->interface_number);
  if (r != 0)
    {
      g_autofree char *why = describe_open_error (r);

      g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_IO,
                   "Link URI “%s”: cannot claim USB interface %u: %s",
                   uri, self->interface_number, why);
      return NULL;
    }
  self->is_claimed = TRUE;

  /* gs_usb_probe(): the byte order this host uses, then the channel count */
  put_le32 (data, GS_HOST_FORMAT_MAGIC);
  r = libusb_control_transfer (self->handle, CONTROL_OUT, GS_USB_BREQ_HOST_FORMAT, 1,
                               self->interface_number, data, 4, CONTROL_TIMEOUT_MS);
  if (!check_control (self, uri, GS_USB_BREQ_HOST_FORMAT, r, 4, error))
    return NULL;
  r = libusb_control_transfer (self->handle, CONTROL_IN, GS_USB_BREQ_DEVICE_CONFIG, 1,
                               self->interface_number, data, GS_DEVICE_CONFIG_SIZE,
                               CONTROL_TIMEOUT_MS);
  if (!check_control (self, uri, GS_USB_BREQ_DEVICE_CONFIG, r, GS_DEVICE_CONFIG_SIZE, error))
    return NULL;
  g_debug ("gs_usb %s: %u channel(s), firmware %u, hardware %u", name, data[3] + 1u,
           get_le32 (data + 4), get_le32 (data + 8));

  r = libusb_control_transfer (self->handle, CONTROL_IN, GS_USB_BREQ_BT_CONST, 0,
                               self->interface_number, data, GS_BT_CONST_SIZE,
                               CONTROL_TIMEOUT_MS);
  if (!check_control (self, uri, GS_USB_BREQ_BT_CONST, r, GS_BT_CONST_SIZE, error))
    return NULL;
  self->bt_const.feature = get_le32 (data);
  self->bt_const.fclk_can = get_le32 (data + 4);
  self->bt_const.tseg1_min = get_le32 (data + 8);
  self->bt_const.tseg1_max = get_le32 (data + 12);
  self->bt_const.tseg2_min = get_le32 (data + 16);
  self->bt_const.tseg2_max = get_le32 (data + 20);
  self->bt_const.sjw_max = get_le32 (data + 24);
  self->bt_const.brp_min = get_le32 (data + 28);
  self->bt_const.brp_max = get_le32 (data + 32);
  self->bt_const.brp_inc = get_le32 (data + 36);

  {
    g_autoptr(GError) local_error = NULL;

    if (!ew_gsusb_calc_bittiming (&self->bt_const, spec.bitrate_bps, &self->bittiming,
                                  &local_error))
      {
        g_set_error (error, EW_LINK_ERROR, EW_LINK_ERROR_NOT_SUPPORTED,
                     "Link URI “%s”: %s", uri, local_error->message);
        return NULL;
      }
  }

  /* a channel left running by an earlier session refuses new timing */
  send_mode (self, GS_CAN_MODE_RESET, &r);
  if (!check_control (self, uri, GS_USB_BREQ_MODE, r, 8, error))
    return NULL;

  put_le32 (data, self->bittiming.prop_seg);
  put_le32 (data + 4, self->bittiming.phase_seg1);
  put_le32 (data + 8, self->bittiming.phase_seg2);
  put_le32 (data + 12, self->bittiming.sjw);
  put_le32 (data + 16, self->bittiming.brp);
  r = control_out (self, GS_USB_BREQ_BITTIMING, 0, data, GS_BITTIMING_SIZE);
  if (!check_control (self, uri, GS_USB_BREQ_BITTIMING, r, GS_BITTIMING_SIZE, error))
    return NULL;

  g_mutex_lock (&self->mutex);
  for (guint i = 0; i < N_RX_TRANSFERS; i++)
    {
      self->rx[i] = libusb_alloc_transfer (0);
      libusb_fill_bulk_transfer (self->rx[i], self->handle, self->ep_in,
                                 g_malloc0 (RX_BUFFER_SIZE), RX_BUFFER_SIZE,
                                 rx_callback, self, 0);
      self->rx[i]->flags = LIBUSB_TRANSFER_FREE_BUFFER;
      submit_rx_locked (self, self->rx[i]);
    }
  g_mutex_unlock (&self->mutex);
  self->event_thread = g_thread_new ("gsusb-events", event_thread_func, self);

  g_mutex_lock (&self->mutex);
  if (!check_usable_locked (self, NULL, error))
    {
      g_mutex_unlock (&self->mutex);
      return NULL;
    }
  g_mutex_unlock (&self->mutex);

  send_mode (self, GS_CAN_MODE_START, &r);
  if (!check_control (self, uri, GS_USB_BREQ_MODE, r, 8, error))
    return NULL;

  return EW_LINK (g_steal_pointer (&self));
}

const EwGsusbBittiming *
ew_gsusb_link_get_bittiming (EwGsusbLink *self)
{
  g_return_val_if_fail (EW_IS_GSUSB_LINK (self), NULL);
  return &self->bittiming;
}

const EwGsusbBtConst *
ew_gsusb_link_get_bt_const (EwGsusbLink *self)
{
  g_return_val_if_fail (EW_IS_GSUSB_LINK (self), NULL);
  return &self->bt_const;
}

const char *
ew_gsusb_link_get_serial (EwGsusbLink *self)
{
  g_return_val_if_fail (EW_IS_GSUSB_LINK (self), NULL);
  return self->serial;
}

guint64
ew_gsusb_link_get_n_error_frames (EwGsusbLink *self)
{
  guint64 n;

  g_return_val_if_fail (EW_IS_GSUSB_LINK (self), 0);
  g_mutex_lock (&self->mutex);
  n = self->n_error_frames;
  g_mutex_unlock (&self->mutex);
  return n;
}

gboolean
ew_gsusb_link_get_last_error_frame (EwGsusbLink *self,
                                    EwCanFrame  *frame)
{
  gboolean has;

  g_return_val_if_fail (EW_IS_GSUSB_LINK (self), FALSE);
  g_mutex_lock (&self->mutex);
  has = self->n_error_frames > 0;
  if (has && frame != NULL)
    *frame = self->last_error_frame;
  g_mutex_unlock (&self->mutex);
  return has;
}

guint64
ew_gsusb_link_get_n_overruns (EwGsusbLink *self)
{
  guint64 n;

  g_return_val_if_fail (EW_IS_GSUSB_LINK (self), 0);
  g_mutex_lock (&self->mutex);
  n = self->n_overruns;
  g_mutex_unlock (&self->mutex);
  return n;
}
