/* isotp.h — ISO 15765-2:2016 transport (ISO-TP): whole messages of up to
 * 4 GiB over a classic CAN link, with segmentation, flow control and the
 * N_As/N_Bs/N_Cr timers. An EwIsotpChannel is an EwChannel; it serves a
 * tester (client) and a simulated ECU (server) alike.
 */
#pragma once

#include "link/channel.h"
#include "link/link.h"

G_BEGIN_DECLS

#define EW_ISOTP_ERROR (ew_isotp_error_quark ())

/* The N_Result values of ISO 15765-2:2016 8.3.7 that end a transfer. */
typedef enum {
  EW_ISOTP_ERROR_TIMEOUT_A,      /* N_TIMEOUT_A: a frame was not sent in N_As/N_Ar */
  EW_ISOTP_ERROR_TIMEOUT_BS,     /* N_TIMEOUT_Bs: no flow control in N_Bs */
  EW_ISOTP_ERROR_TIMEOUT_CR,     /* N_TIMEOUT_Cr: no consecutive frame in N_Cr */
  EW_ISOTP_ERROR_WRONG_SN,       /* N_WRONG_SN */
  EW_ISOTP_ERROR_INVALID_FS,     /* N_INVALID_FS */
  EW_ISOTP_ERROR_UNEXP_PDU,      /* N_UNEXP_PDU: a new message interrupted one */
  EW_ISOTP_ERROR_WFT_OVRN,       /* N_WFT_OVRN: more FC.WAIT than N_WFTmax */
  EW_ISOTP_ERROR_BUFFER_OVFLW,   /* N_BUFFER_OVFLW: receiver answered FC.OVFLW */
  EW_ISOTP_ERROR_FUNCTIONAL,     /* a functional request needs more than one frame */
} EwIsotpError;

GQuark ew_isotp_error_quark (void);

/* ISO 15765-2:2016 10.3 addressing formats (mixed addressing is not used
 * by the vehicles we serve). */
typedef enum {
  EW_ISOTP_ADDRESSING_NORMAL,        /* the CAN id alone addresses (10.3.2) */
  EW_ISOTP_ADDRESSING_NORMAL_FIXED,  /* 29-bit 0x18DA/0x18DB TA SA (10.3.3) */
  EW_ISOTP_ADDRESSING_EXTENDED,      /* first data byte is N_TA (10.3.4) */
} EwIsotpAddressing;

#define EW_ISOTP_NO_PADDING (-1)

typedef struct {
  EwIsotpAddressing addressing;
  guint32  tx_id;            /* CAN id we send on (normal, extended) */
  guint32  rx_id;            /* CAN id we listen to */
  gboolean is_extended_id;   /* 29-bit CAN ids */
  /* Extended addressing: byte 0 of frames we send, and expected in byte 0
   * of frames we receive. Normal fixed addressing: our peer's (target)
   * and our own (source) address, from which the ids follow. */
  guint8   tx_address;
  guint8   rx_address;
  /* tx_id is a functional address: only single frames may be sent, and
   * only single frames go out (1:n communication). */
  gboolean is_functional;

  int      padding;          /* 0..255, or EW_ISOTP_NO_PADDING */

  /* What our flow control asks of a sender (9.6.5.3, 9.6.5.4): block
   * size (0 = no further FC) and STmin as its raw byte. */
  guint8   block_size;
  guint8   st_min;

  /* Timers of 9.7, in ms; the standard's limits are 1000 ms each. */
  guint    n_as_ms;
  guint    n_ar_ms;
  guint    n_bs_ms;
  guint    n_cr_ms;
  guint    n_wft_max;        /* FC.WAIT frames accepted in a row (9.6.5.2) */

  /* A first frame announcing more is refused with FC.OVFLW. */
  guint32  max_rx_length_bytes;
} EwIsotpConfig;

/* Normal addressing, 11-bit ids, padding 0xCC, BS 0, STmin 0, 1000 ms
 * timers, N_WFTmax 10, 16 MiB receive limit. */
void ew_isotp_config_init (EwIsotpConfig *config,
                           guint32        tx_id,
                           guint32        rx_id);

/* STmin byte to µs (9.6.5.4): 0x00..0x7F ms, 0xF1..0xF9 100..900 µs, the
 * reserved values as 127 ms. */
guint ew_isotp_st_min_to_us (guint8 st_min);

#define EW_TYPE_ISOTP_CHANNEL (ew_isotp_channel_get_type ())
G_DECLARE_FINAL_TYPE (EwIsotpChannel, ew_isotp_channel, EW, ISOTP_CHANNEL, GObject)

/* A channel on link, which it then owns for receiving: it sets the link's
 * filters and reads it from its own thread. transfer full */
EwIsotpChannel *ew_isotp_channel_new     (EwLink              *link,
                                          const EwIsotpConfig *config,
                                          GError             **error);
gboolean        ew_isotp_channel_send    (EwIsotpChannel      *self,
                                          const guint8        *data,
                                          gsize                length_bytes,
                                          GCancellable        *cancellable,
                                          GError             **error);
/* transfer full */
GBytes         *ew_isotp_channel_receive (EwIsotpChannel      *self,
                                          gint                 timeout_ms,
                                          GCancellable        *cancellable,
                                          GError             **error);
EwLink         *ew_isotp_channel_get_link (EwIsotpChannel     *self);   /* transfer none */
const EwIsotpConfig *ew_isotp_channel_get_config (EwIsotpChannel *self);
/* Stops the receive thread and fails waiting calls; the link stays open. */
void            ew_isotp_channel_close   (EwIsotpChannel      *self);

G_END_DECLS
