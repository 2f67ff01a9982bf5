/* isotp.c — ISO 15765-2:2016 network layer on a classic CAN link.
 *
 * Each channel reads its link from one thread, as the standard's receiver
 * must answer a first frame within N_Br whether or not anybody is waiting
 * in receive(): the thread reassembles messages, sends flow control, runs
 * the N_Cr timer and queues complete messages (or their N_Result errors);
 * flow control frames it hands to a send() in progress. send() itself runs
 * in the caller's thread and does the sender's side: segmentation, waiting
 * for flow control (N_Bs), block size and STmin.
 */
#define G_LOG_DOMAIN "ew-isotp"
#define _GNU_SOURCE   /* ppoll */

#include "isotp.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>

#include "link/wait-queue.h"

G_DEFINE_QUARK (ew-isotp-error-quark, ew_isotp_error)

/* ISO 15765-2:2016 9.6.1 protocol control information types */
enum {
  PCI_SF = 0x0,
  PCI_FF = 0x1,
  PCI_CF = 0x2,
  PCI_FC = 0x3,
};

/* 9.6.5.2 flow status */
enum {
  FS_CTS = 0x0,
  FS_WAIT = 0x1,
  FS_OVFLW = 0x2,
};

#define CAN_DL 8                 /* classic CAN: TX_DL = RX_DL = 8 */
#define FF_DL_12BIT_MAX 4095

typedef struct {
  GBytes *message;   /* or */
  GError *error;
} RxItem;

struct _EwIsotpChannel {
  GObject        parent_instance;

  EwLink        *link;
  EwIsotpConfig  config;
  char          *name;
  guint          offset;           /* 1 with extended addressing: N_TA in byte 0 */

  GMutex         send_lock;        /* one message out at a time */
  gint           is_sending;       /* atomic: route FC frames to fc_queue */
  EwWaitQueue   *fc_queue;         /* EwCanFrame * */
  EwWaitQueue   *rx_queue;         /* RxItem * */

  GThread       *reader;
  GCancellable  *reader_cancellable;
  gint           is_closed;        /* atomic */

  /* reception state, reader thread only */
  GByteArray    *rx_buffer;        /* NULL when idle */
  guint32        rx_length;
  guint8         rx_next_sn;
  guint          rx_block_count;
  gint64         rx_deadline_us;
};

static void ew_isotp_channel_iface_init (EwChannelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (EwIsotpChannel, ew_isotp_channel, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (EW_TYPE_CHANNEL, ew_isotp_channel_iface_init))

static void
rx_item_free (RxItem *item)
{
  g_clear_pointer (&item->message, g_bytes_unref);
  g_clear_error (&item->error);
  g_free (item);
}

/* ---- configuration ---- */

void
ew_isotp_config_init (EwIsotpConfig *config,
                      guint32        tx_id,
                      guint32        rx_id)
{
  g_return_if_fail (config != NULL);

  memset (config, 0, sizeof *config);
  config->addressing = EW_ISOTP_ADDRESSING_NORMAL;
  config->tx_id = tx_id;
  config->rx_id = rx_id;
  config->padding = 0xCC;
  /* ISO 15765-2:2016 9.7: N_As, N_Ar, N_Bs and N_Cr time out at 1000 ms */
  config->n_as_ms = 1000;
  config->n_ar_ms = 1000;
  config->n_bs_ms = 1000;
  config->n_cr_ms = 1000;
  config->n_wft_max = 10;
  config->max_rx_length_bytes = 16 * 1024 * 1024;
}

guint
ew_isotp_st_min_to_us (guint8 st_min)
{
  /* ISO 15765-2:2016 9.6.5.4 */
  if (st_min <= 0x7F)
    return st_min * 1000u;
  if (st_min >= 0xF1 && st_min <= 0xF9)
    return (st_min - 0xF0) * 100u;
  /* 9.6.5.4: a reserved value means the longest STmin, 127 ms */
  return 127000u;
}

/* ---- frames ---- */

static gsize
pdu_capacity (EwIsotpChannel *self)
{
  return CAN_DL - self->offset;
}

/* Puts the address byte (extended addressing), pdu and padding into a
 * frame for tx_id. */
static void
build_frame (EwIsotpChannel *self,
             EwCanFrame     *frame,
             const guint8   *pdu,
             gsize           pdu_len)
{
  g_assert (pdu_len <= pdu_capacity (self));

  memset (frame, 0, sizeof *frame);
  frame->id = self->config.tx_id;
  frame->is_extended = self->config.is_extended_id;
  if (self->offset > 0)
    frame->data[0] = self->config.tx_address;
  memcpy (frame->data + self->offset, pdu, pdu_len);
  frame->len = self->offset + pdu_len;
  /* 9.4.2: padding fills the rest of the frame; without it the frame
   * carries only what is used (CAN frame data optimisation) */
  if (self->config.padding >= 0)
    {
      memset (frame->data + frame->len, self->config.padding, CAN_DL - frame->len);
      frame->len = CAN_DL;
    }
}

static gboolean
send_pdu (EwIsotpChannel  *self,
          const guint8    *pdu,
          gsize            pdu_len,
          guint            timeout_ms,
          const char      *timer_name,
          GCancellable    *cancellable,
          GError         **error)
{
  g_autoptr(GError) local_error = NULL;
  EwCanFrame frame;

  build_frame (self, &frame, pdu, pdu_len);
  if (ew_link_send (self->link, &frame, timeout_ms, cancellable, &local_error))
    return TRUE;

  if (g_error_matches (local_error, EW_LINK_ERROR, EW_LINK_ERROR_TIMEOUT))
    g_set_error (error, EW_ISOTP_ERROR, EW_ISOTP_ERROR_TIMEOUT_A,
                 "%s: the link did not take a frame within %s = %u ms",
                 self->name, timer_name, timeout_ms);
  else if (g_error_matches (local_error, EW_LINK_ERROR, EW_LINK_ERROR_CLOSED))
    g_set_error (error, EW_CHANNEL_ERROR, EW_CHANNEL_ERROR_CLOSED,
                 "%s: %s", self->name, local_error->message);
  else if (local_error->domain == G_IO_ERROR)
    g_propagate_error (error, g_steal_pointer (&local_error));
  else
    g_set_error (error, EW_CHANNEL_ERROR, EW_CHANNEL_ERROR_TRANSPORT,
                 "%s: %s", self->name, local_error->message);
  return FALSE;
}

/* Sleeps until deadline_us unless cancelled; ppoll keeps µs precision
 * for the STmin codes 0xF1..0xF9. */
static gboolean
sleep_until (gint64         deadline_us,
             GCancellable  *cancellable,
             GError       **error)
{
  GPollFD pfd;
  gboolean has_fd = cancellable != NULL && g_cancellable_make_pollfd (cancellable, &pfd);
  gboolean ok = TRUE;

  for (;;)
    {
      gint64 left = deadline_us - g_get_monotonic_time ();
      struct timespec ts;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          ok = FALSE;
          break;
        }
      if (left <= 0)
        break;
      ts.tv_sec = left / G_USEC_PER_SEC;
      ts.tv_nsec = (left % G_USEC_PER_SEC) * 1000;
      if (has_fd)
        {
          struct pollfd p = { .fd = pfd.fd, .events = POLLIN };

          ppoll (&p, 1, &ts, NULL);
        }
      else
        nanosleep (&ts, NULL);
    }
  if (has_fd)
    g_cancellable_release_fd (cancellable);
  return ok;
}

/* ---- receiving (reader thread) ---- */

static void
push_message (EwIsotpChannel *self,
              GBytes         *message)
{
  RxItem *item = g_new0 (RxItem, 1);

  item->message = message;
  ew_wait_queue_push (self->rx_queue, item);
}

static void G_GNUC_PRINTF (3, 4)
push_error (EwIsotpChannel *self,
            gint            code,
            const char     *format,
            ...)
{
  RxItem *item = g_new0 (RxItem, 1);
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  item->error = g_error_new (EW_ISOTP_ERROR, code, "%s: %s", self->name, text);
  g_debug ("%s", item->error->message);
  ew_wait_queue_push (self->rx_queue, item);
}

static void
push_gerror (EwIsotpChannel *self,
             GError         *error)
{
  RxItem *item = g_new0 (RxItem, 1);

  item->error = error;
  ew_wait_queue_push (self->rx_queue, item);
}

static void
rx_reset (EwIsotpChannel *self)
{
  g_clear_pointer (&self->rx_buffer, g_byte_array_unref);
  self->rx_length = 0;
  self->rx_next_sn = 0;
  self->rx_block_count = 0;
}

/* 9.8.3: a new SF or FF while a reception runs ends that reception with
 * N_UNEXP_PDU and starts the new one. */
static void
rx_interrupt (EwIsotpChannel *self,
              const char     *what)
{
  if (self->rx_buffer == NULL)
    return;
  push_error (self, EW_ISOTP_ERROR_UNEXP_PDU,
              "a %s arrived after %u of %u bytes of a segmented message; "
              "the partial message is dropped (ISO 15765-2:2016 9.8.3)",
              what, self->rx_buffer->len, self->rx_length);
  rx_reset (self);
}

static gboolean
send_flow_control (EwIsotpChannel *self,
                   guint8          flow_status)
{
  g_autoptr(GError) error = NULL;
  guint8 pdu[3] = {
    (PCI_FC << 4) | flow_status,
    self->config.block_size,
    self->config.st_min,
  };

  if (send_pdu (self, pdu, sizeof pdu, self->config.n_ar_ms, "N_Ar",
                self->reader_cancellable, &error))
    return TRUE;
  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    push_gerror (self, g_steal_pointer (&error));
  return FALSE;
}

static void
rx_single_frame (EwIsotpChannel   *self,
                 const EwCanFrame *frame)
{
  guint off = self->offset;
  guint sf_dl = frame->data[off] & 0x0F;

  /* 9.6.2.1: SF_DL 0 is the CAN FD escape; on classic CAN it, and any
   * SF_DL beyond what the frame holds, is ignored */
  if (sf_dl == 0 || sf_dl > pdu_capacity (self) - 1 || off + 1u + sf_dl > frame->len)
    {
      g_debug ("%s: single frame ignored: SF_DL %u in byte %u does not fit a %u-byte frame",
               self->name, sf_dl, off, frame->len);
      return;
    }
  rx_interrupt (self, "single frame");
  push_message (self, g_bytes_new (frame->data + off + 1, sf_dl));
}

static void
rx_first_frame (EwIsotpChannel   *self,
                const EwCanFrame *frame)
{
  guint off = self->offset;
  guint32 ff_dl;
  guint header;

  /* 9.6.3.1: a first frame always fills the CAN frame */
  if (frame->len < CAN_DL)
    {
      g_debug ("%s: first frame ignored: %u data bytes, a first frame has %u",
               self->name, frame->len, CAN_DL);
      return;
    }
  ff_dl = ((frame->data[off] & 0x0F) << 8) | frame->data[off + 1];
  header = 2;
  if (ff_dl == 0)
    {
      /* 9.6.3.1: FF_DL escape, 32-bit length in bytes 2..5 */
      ff_dl = ((guint32) frame->data[off + 2] << 24) | ((guint32) frame->data[off + 3] << 16)
              | ((guint32) frame->data[off + 4] << 8) | frame->data[off + 5];
      header = 6;
      /* 9.6.3.2: the escape is for lengths above 4095 only */
      if (ff_dl <= FF_DL_12BIT_MAX)
        {
          g_debug ("%s: first frame ignored: escaped FF_DL %u in bytes %u..%u fits 12 bits",
                   self->name, ff_dl, off + 2, off + 5);
          return;
        }
    }
  else if (ff_dl <= pdu_capacity (self) - 1)
    {
      /* 9.6.3.2: FF_DL below FF_DLmin (what a single frame would carry) */
      g_debug ("%s: first frame ignored: FF_DL %u in bytes %u..%u is below the minimum %u",
               self->name, ff_dl, off, off + 1, (guint) pdu_capacity (self));
      return;
    }

  rx_interrupt (self, "first frame");

  /* 9.6.5.2: a message larger than the receive buffer is refused */
  if (ff_dl > self->config.max_rx_length_bytes)
    {
      g_debug ("%s: first frame announces %u bytes, more than the %u accepted: FC.OVFLW",
               self->name, ff_dl, self->config.max_rx_length_bytes);
      send_flow_control (self, FS_OVFLW);
      return;
    }

  self->rx_length = ff_dl;
  self->rx_buffer = g_byte_array_sized_new (ff_dl);
  g_byte_array_append (self->rx_buffer, frame->data + off + header, CAN_DL - off - header);
  self->rx_next_sn = 1;
  self->rx_block_count = 0;
  if (!send_flow_control (self, FS_CTS))
    {
      rx_reset (self);
      return;
    }
  self->rx_deadline_us = g_get_monotonic_time () + (gint64) self->config.n_cr_ms * 1000;
}

static void
rx_consecutive_frame (EwIsotpChannel   *self,
                      const EwCanFrame *frame)
{
  guint off = self->offset;
  guint sn = frame->data[off] & 0x0F;
  guint32 remaining;
  guint avail, take;

  /* 9.8.3: a consecutive frame outside a reception is ignored */
  if (self->rx_buffer == NULL)
    {
      g_debug ("%s: consecutive frame ignored: no reception in progress", self->name);
      return;
    }

  remaining = self->rx_length - self->rx_buffer->len;
  avail = frame->len - off - 1;
  /* 9.6.4.1: only the last consecutive frame may be shorter */
  if (avail < MIN (remaining, pdu_capacity (self) - 1))
    {
      g_debug ("%s: consecutive frame ignored: %u data bytes where %u were due",
               self->name, frame->len, CAN_DL);
      return;
    }

  /* 9.6.4.3 */
  if (sn != self->rx_next_sn)
    {
      push_error (self, EW_ISOTP_ERROR_WRONG_SN,
                  "consecutive frame byte %u has sequence number %u, expected %u "
                  "(after %u of %u bytes); the message is dropped",
                  off, sn, self->rx_next_sn, self->rx_buffer->len, self->rx_length);
      rx_reset (self);
      return;
    }

  take = MIN (remaining, avail);
  g_byte_array_append (self->rx_buffer, frame->data + off + 1, take);
  self->rx_next_sn = (self->rx_next_sn + 1) & 0x0F;

  if (self->rx_buffer->len == self->rx_length)
    {
      push_message (self, g_byte_array_free_to_bytes (g_steal_pointer (&self->rx_buffer)));
      rx_reset (self);
      return;
    }

  self->rx_block_count++;
  if (self->config.block_size != 0 && self->rx_block_count == self->config.block_size)
    {
      self->rx_block_count = 0;
      if (!send_flow_control (self, FS_CTS))
        {
          rx_reset (self);
          return;
        }
    }
  self->rx_deadline_us = g_get_monotonic_time () + (gint64) self->config.n_cr_ms * 1000;
}

static void
rx_frame (EwIsotpChannel   *self,
          const EwCanFrame *frame)
{
  guint off = self->offset;

  if (frame->is_rtr || frame->is_error)
    return;
  if (frame->id != self->config.rx_id || !frame->is_extended != !self->config.is_extended_id)
    return;
  if (frame->len > CAN_DL || frame->len < off + 1)
    return;
  if (off > 0 && frame->data[0] != self->config.rx_address)
    return;

  switch (frame->data[off] >> 4)
    {
    case PCI_SF:
      rx_single_frame (self, frame);
      break;
    case PCI_FF:
      rx_first_frame (self, frame);
      break;
    case PCI_CF:
      rx_consecutive_frame (self, frame);
      break;
    case PCI_FC:
      /* 9.8.3: flow control nobody waits for is ignored */
      if (g_atomic_int_get (&self->is_sending))
        ew_wait_queue_push (self->fc_queue, ew_can_frame_copy (frame));
      else
        g_debug ("%s: flow control ignored: nothing is being sent", self->name);
      break;
    default:
      /* 9.8.3: reserved N_PCItype values are ignored */
      g_debug ("%s: frame ignored: byte %u has the reserved PCI type %u",
               self->name, off, frame->data[off] >> 4);
      break;
    }
}

static gpointer
reader_thread (gpointer data)
{
  EwIsotpChannel *self = data;

  for (;;)
    {
      g_autoptr(GError) error = NULL;
      EwCanFrame frame;
      gint timeout_ms = -1;

      if (self->rx_buffer != NULL)
        timeout_ms = (gint) CLAMP ((self->rx_deadline_us - g_get_monotonic_time () + 999) / 1000,
                                   0, G_MAXINT);

      if (ew_link_receive (self->link, &frame, timeout_ms, self->reader_cancellable, &error))
        {
          rx_frame (self, &frame);
          continue;
        }

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        break;
      if (g_error_matches (error, EW_LINK_ERROR, EW_LINK_ERROR_TIMEOUT) && self->rx_buffer != NULL)
        {
          /* 9.7: N_Cr, the receiver's wait for the next consecutive frame */
          push_error (self, EW_ISOTP_ERROR_TIMEOUT_CR,
                      "no consecutive frame within N_Cr = %u ms after %u of %u bytes "
                      "(next sequence number %u); the message is dropped",
                      self->config.n_cr_ms, self->rx_buffer->len, self->rx_length,
                      self->rx_next_sn);
          rx_reset (self);
          continue;
        }
      if (g_error_matches (error, EW_LINK_ERROR, EW_LINK_ERROR_TIMEOUT))
        continue;

      /* the link is closed or broken: fail everything that waits */
      push_gerror (self, g_error_new (EW_CHANNEL_ERROR,
                                      g_error_matches (error, EW_LINK_ERROR, EW_LINK_ERROR_CLOSED)
                                        ? EW_CHANNEL_ERROR_CLOSED : EW_CHANNEL_ERROR_TRANSPORT,
                                      "%s: %s", self->name, error->message));
      break;
    }

  rx_reset (self);
  ew_wait_queue_close (self->rx_queue);
  ew_wait_queue_close (self->fc_queue);
  return NULL;
}

/* ---- sending (caller's thread) ---- */

static gboolean
wait_flow_control (EwIsotpChannel  *self,
                   gsize            sent,
                   gsize            length,
                   guint8          *flow_status,
                   guint8          *block_size,
                   guint8          *st_min,
                   GCancellable    *cancellable,
                   GError         **error)
{
  guint off = self->offset;
  guint n_wait = 0;
  gint64 deadline = g_get_monotonic_time () + (gint64) self->config.n_bs_ms * 1000;

  for (;;)
    {
      g_autoptr(EwCanFrame) frame = NULL;
      guint8 fs;

      switch (ew_wait_queue_pop (self->fc_queue, deadline, cancellable, (gpointer *) &frame))
        {
        case EW_WAIT_OK:
          break;
        case EW_WAIT_TIMEOUT:
          /* 9.7: N_Bs, the sender's wait for flow control */
          g_set_error (error, EW_ISOTP_ERROR, EW_ISOTP_ERROR_TIMEOUT_BS,
                       "%s: no flow control within N_Bs = %u ms after %s (%zu of %zu bytes sent)",
                       self->name, self->config.n_bs_ms,
                       sent <= CAN_DL ? "the first frame" : "a block of consecutive frames",
                       sent, length);
          return FALSE;
        case EW_WAIT_CANCELLED:
          g_cancellable_set_error_if_cancelled (cancellable, error);
          return FALSE;
        case EW_WAIT_CLOSED:
        default:
          g_set_error (error, EW_CHANNEL_ERROR, EW_CHANNEL_ERROR_CLOSED,
                       "%s: closed while waiting for flow control", self->name);
          return FALSE;
        }

      /* 9.6.5.1: FS, BS and STmin; a shorter frame cannot be flow control */
      if (frame->len < off + 3)
        {
          g_debug ("%s: flow control ignored: %u data bytes", self->name, frame->len);
          continue;
        }
      fs = frame->data[off] & 0x0F;
      switch (fs)
        {
        case FS_CTS:
          *flow_status = fs;
          *block_size = frame->data[off + 1];
          *st_min = frame->data[off + 2];
          return TRUE;
        case FS_WAIT:
          /* 9.6.5.2: each FC.WAIT restarts N_Bs; N_WFTmax bounds them */
          if (++n_wait > self->config.n_wft_max)
            {
              g_set_error (error, EW_ISOTP_ERROR, EW_ISOTP_ERROR_WFT_OVRN,
                           "%s: the receiver sent %u flow control WAIT frames in a row, "
                           "more than N_WFTmax = %u (%zu of %zu bytes sent)",
                           self->name, n_wait, self->config.n_wft_max, sent, length);
              return FALSE;
            }
          deadline = g_get_monotonic_time () + (gint64) self->config.n_bs_ms * 1000;
          continue;
        case FS_OVFLW:
          g_set_error (error, EW_ISOTP_ERROR, EW_ISOTP_ERROR_BUFFER_OVFLW,
                       "%s: the receiver has no room for a %zu-byte message "
                       "(flow control OVFLW in byte %u)", self->name, length, off);
          return FALSE;
        default:
          g_set_error (error, EW_ISOTP_ERROR, EW_ISOTP_ERROR_INVALID_FS,
                       "%s: flow control byte %u has the reserved flow status %u "
                       "(ISO 15765-2:2016 9.6.5.2); the transfer is aborted",
                       self->name, off, fs);
          return FALSE;
        }
    }
}

static gboolean
send_segmented (EwIsotpChannel  *self,
                const guint8    *data,
                gsize            length,
                GCancellable    *cancellable,
                GError         **error)
{
  guint8 pdu[CAN_DL];
  gsize cap = pdu_capacity (self);
  gsize pos, n;
  guint8 sn = 1;
  guint8 flow_status, block_size = 0, st_min = 0;
  guint st_min_us = 0;
  gboolean have_first_fc = FALSE;

  /* 9.6.3.1: FF_DL in 12 bits, or 0 and then 32 bits */
  if (length <= FF_DL_12BIT_MAX)
    {
      pdu[0] = (PCI_FF << 4) | (length >> 8);
      pdu[1] = length & 0xFF;
      n = cap - 2;
      memcpy (pdu + 2, data, n);
    }
  else
    {
      pdu[0] = PCI_FF << 4;
      pdu[1] = 0;
      pdu[2] = (length >> 24) & 0xFF;
      pdu[3] = (length >> 16) & 0xFF;
      pdu[4] = (length >> 8) & 0xFF;
      pdu[5] = length & 0xFF;
      n = cap - 6;
      memcpy (pdu + 6, data, n);
    }
  if (!send_pdu (self, pdu, cap, self->config.n_as_ms, "N_As", cancellable, error))
    return FALSE;
  pos = n;

  while (pos < length)
    {
      guint in_block = 0;
      gint64 last_cf_us = 0;
      guint8 bs, stm;

      if (!wait_flow_control (self, pos, length, &flow_status, &bs, &stm, cancellable, error))
        return FALSE;
      /* the first FC.CTS fixes BS and STmin for the whole message, as
       * the Linux kernel's implementation also does */
      if (!have_first_fc)
        {
          block_size = bs;
          st_min = stm;
          st_min_us = ew_isotp_st_min_to_us (st_min);
          have_first_fc = TRUE;
        }

      while (pos < length && (block_size == 0 || in_block < block_size))
        {
          /* 9.6.5.4: STmin is the gap between consecutive frames */
          if (in_block > 0 && st_min_us > 0
              && !sleep_until (last_cf_us + st_min_us, cancellable, error))
            return FALSE;

          n = MIN (cap - 1, length - pos);
          pdu[0] = (PCI_CF << 4) | sn;
          memcpy (pdu + 1, data + pos, n);
          if (!send_pdu (self, pdu, n + 1, self->config.n_as_ms, "N_As", cancellable, error))
            return FALSE;
          last_cf_us = g_get_monotonic_time ();
          /* 9.6.4.3: SN counts 1..15, then wraps to 0 */
          sn = (sn + 1) & 0x0F;
          pos += n;
          in_block++;
        }
    }
  return TRUE;
}

gboolean
ew_isotp_channel_send (EwIsotpChannel  *self,
                       const guint8    *data,
                       gsize            length_bytes,
                       GCancellable    *cancellable,
                       GError         **error)
{
  gsize cap;
  gboolean ok;

  g_return_val_if_fail (EW_IS_ISOTP_CHANNEL (self), FALSE);
  g_return_val_if_fail (data != NULL || length_bytes == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  cap = pdu_capacity (self);
  if (length_bytes == 0)
    {
      g_set_error (error, EW_CHANNEL_ERROR, EW_CHANNEL_ERROR_MESSAGE_LENGTH,
                   "%s: cannot send an empty message; ISO-TP carries 1 byte or more",
                   self->name);
      return FALSE;
    }
  if ((guint64) length_bytes > G_MAXUINT32)
    {
      g_set_error (error, EW_CHANNEL_ERROR, EW_CHANNEL_ERROR_MESSAGE_LENGTH,
                   "%s: a %zu-byte message is longer than ISO-TP's 4294967295 bytes",
                   self->name, length_bytes);
      return FALSE;
    }
  if (self->config.is_functional && length_bytes > cap - 1)
    {
      g_set_error (error, EW_ISOTP_ERROR, EW_ISOTP_ERROR_FUNCTIONAL,
                   "%s: a functional request of %zu bytes needs several frames, but "
                   "functionally addressed messages are single frames of at most %zu bytes "
                   "(ISO 15765-2:2016 functional addressing)",
                   self->name, length_bytes, cap - 1);
      return FALSE;
    }
  if (g_atomic_int_get (&self->is_closed))
    {
      g_set_error (error, EW_CHANNEL_ERROR, EW_CHANNEL_ERROR_CLOSED,
                   "%s is closed", self->name);
      return FALSE;
    }

  g_mutex_lock (&self->send_lock);
  if (length_bytes <= cap - 1)
    {
      guint8 pdu[CAN_DL];

      /* 9.6.2.1 */
      pdu[0] = (PCI_SF << 4) | length_bytes;
      memcpy (pdu + 1, data, length_bytes);
      ok = send_pdu (self, pdu, length_bytes + 1, self->config.n_as_ms, "N_As", cancellable, error);
    }
  else
    {
      ew_wait_queue_flush (self->fc_queue);
      g_atomic_int_set (&self->is_sending, TRUE);
      ok = send_segmented (self, data, length_bytes, cancellable, error);
      g_atomic_int_set (&self->is_sending, FALSE);
    }
  g_mutex_unlock (&self->send_lock);
  return ok;
}

GBytes *
ew_isotp_channel_receive (EwIsotpChannel  *self,
                          gint             timeout_ms,
                          GCancellable    *cancellable,
                          GError         **error)
{
  gint64 deadline;
  RxItem *item = NULL;
  GBytes *message;

  g_return_val_if_fail (EW_IS_ISOTP_CHANNEL (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  deadline = ew_wait_deadline_after (timeout_ms);
  switch (ew_wait_queue_pop (self->rx_queue, deadline, cancellable, (gpointer *) &item))
    {
    case EW_WAIT_OK:
      break;
    case EW_WAIT_TIMEOUT:
      g_set_error (error, EW_CHANNEL_ERROR, EW_CHANNEL_ERROR_TIMEOUT,
                   "%s: no message within %d ms", self->name, timeout_ms);
      return NULL;
    case EW_WAIT_CANCELLED:
      g_cancellable_set_error_if_cancelled (cancellable, error);
      return NULL;
    case EW_WAIT_CLOSED:
    default:
      g_set_error (error, EW_CHANNEL_ERROR, EW_CHANNEL_ERROR_CLOSED,
                   "%s is closed", self->name);
      return NULL;
    }

  if (item->error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&item->error));
      rx_item_free (item);
      return NULL;
    }
  message = g_steal_pointer (&item->message);
  rx_item_free (item);
  return message;
}

/* ---- object ---- */

void
ew_isotp_channel_close (EwIsotpChannel *self)
{
  g_return_if_fail (EW_IS_ISOTP_CHANNEL (self));

  if (g_atomic_int_exchange (&self->is_closed, TRUE))
    return;
  g_cancellable_cancel (self->reader_cancellable);
  if (self->reader != NULL)
    g_thread_join (g_steal_pointer (&self->reader));
  ew_wait_queue_close (self->rx_queue);
  ew_wait_queue_close (self->fc_queue);
}

static void
ew_isotp_channel_dispose (GObject *object)
{
  ew_isotp_channel_close (EW_ISOTP_CHANNEL (object));
  G_OBJECT_CLASS (ew_isotp_channel_parent_class)->dispose (object);
}

static void
ew_isotp_channel_finalize (GObject *object)
{
  EwIsotpChannel *self = EW_ISOTP_CHANNEL (object);

  rx_reset (self);
  ew_wait_queue_free (self->rx_queue);
  ew_wait_queue_free (self->fc_queue);
  g_mutex_clear (&self->send_lock);
  g_clear_object (&self->reader_cancellable);
  g_clear_object (&self->link);
  g_free (self->name);
  G_OBJECT_CLASS (ew_isotp_channel_parent_class)->finalize (object);
}

static void
ew_isotp_channel_class_init (EwIsotpChannelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = ew_isotp_channel_dispose;
  object_class->finalize = ew_isotp_channel_finalize;
}

static void
ew_isotp_channel_init (EwIsotpChannel *self)
{
  g_mutex_init (&self->send_lock);
  self->fc_queue = ew_wait_queue_new ((GDestroyNotify) ew_can_frame_free);
  self->rx_queue = ew_wait_queue_new ((GDestroyNotify) rx_item_free);
  self->reader_cancellable = g_cancellable_new ();
}

static char *
format_id (guint32  id,
           gboolean is_extended)
{
  return is_extended ? g_strdup_printf ("%08X", id) : g_strdup_printf ("%03X", id);
}

EwIsotpChannel *
ew_isotp_channel_new (EwLink               *link,
                      const EwIsotpConfig  *config,
                      GError              **error)
{
  g_autoptr(EwIsotpChannel) self = NULL;
  g_autofree char *tx = NULL;
  g_autofree char *rx = NULL;
  EwCanFilter filter;
  guint32 id_mask;

  g_return_val_if_fail (EW_IS_LINK (link), NULL);
  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (config->padding >= EW_ISOTP_NO_PADDING && config->padding <= 0xFF, NULL);

  self = g_object_new (EW_TYPE_ISOTP_CHANNEL, NULL);
  self->link = g_object_ref (link);
  self->config = *config;

  if (config->addressing == EW_ISOTP_ADDRESSING_NORMAL_FIXED)
    {
      /* 10.3.3: 29-bit ids 0x18DA (physical) or 0x18DB (functional),
       * then N_TA and N_SA; we answer to our own address */
      self->config.is_extended_id = TRUE;
      self->config.tx_id = (config->is_functional ? 0x18DB0000u : 0x18DA0000u)
                           | ((guint32) config->tx_address << 8) | config->rx_address;
      self->config.rx_id = 0x18DA0000u | ((guint32) config->rx_address << 8) | config->tx_address;
    }
  self->offset = config->addressing == EW_ISOTP_ADDRESSING_EXTENDED ? 1 : 0;

  id_mask = self->config.is_extended_id ? EW_CAN_EFF_MASK : EW_CAN_SFF_MASK;
  if ((self->config.tx_id & ~id_mask) != 0 || (self->config.rx_id & ~id_mask) != 0)
    {
      g_set_error (error, EW_CHANNEL_ERROR, EW_CHANNEL_ERROR_TRANSPORT,
                   "ISO-TP ids %X/%X do not fit %s CAN ids",
                   self->config.tx_id, self->config.rx_id,
                   self->config.is_extended_id ? "29-bit" : "11-bit");
      return NULL;
    }

  tx = format_id (self->config.tx_id, self->config.is_extended_id);
  rx = format_id (self->config.rx_id, self->config.is_extended_id);
  if (self->offset > 0)
    self->name = g_strdup_printf ("ISO-TP %s.%02X/%s.%02X on %s", tx, self->config.tx_address,
                                  rx, self->config.rx_address, ew_link_get_name (link));
  else
    self->name = g_strdup_printf ("ISO-TP %s/%s on %s", tx, rx, ew_link_get_name (link));

  filter.id = self->config.rx_id;
  filter.mask = id_mask;
  filter.is_extended = self->config.is_extended_id;
  if (!ew_link_set_filters (link, &filter, 1, error))
    return NULL;

  self->reader = g_thread_try_new ("isotp-rx", reader_thread, self, error);
  if (self->reader == NULL)
    return NULL;
  return g_steal_pointer (&self);
}

EwLink *
ew_isotp_channel_get_link (EwIsotpChannel *self)
{
  g_return_val_if_fail (EW_IS_ISOTP_CHANNEL (self), NULL);
  return self->link;
}

const EwIsotpConfig *
ew_isotp_channel_get_config (EwIsotpChannel *self)
{
  g_return_val_if_fail (EW_IS_ISOTP_CHANNEL (self), NULL);
  return &self->config;
}

/* ---- EwChannel ---- */

static gboolean
channel_send (EwChannel     *channel,
              const guint8  *data,
              gsize          length_bytes,
              GCancellable  *cancellable,
              GError       **error)
{
  return ew_isotp_channel_send (EW_ISOTP_CHANNEL (channel), data, length_bytes, cancellable, error);
}

static GBytes *
channel_receive (EwChannel     *channel,
                 gint           timeout_ms,
                 GCancellable  *cancellable,
                 GError       **error)
{
  return ew_isotp_channel_receive (EW_ISOTP_CHANNEL (channel), timeout_ms, cancellable, error);
}

static gsize
channel_get_max_message_length (EwChannel *channel)
{
  EwIsotpChannel *self = EW_ISOTP_CHANNEL (channel);

  if (self->config.is_functional)
    return pdu_capacity (self) - 1;
  return G_MAXUINT32;
}

static const char *
channel_get_name (EwChannel *channel)
{
  return EW_ISOTP_CHANNEL (channel)->name;
}

static void
ew_isotp_channel_iface_init (EwChannelInterface *iface)
{
  iface->send = channel_send;
  iface->receive = channel_receive;
  iface->get_max_message_length = channel_get_max_message_length;
  iface->get_name = channel_get_name;
}
