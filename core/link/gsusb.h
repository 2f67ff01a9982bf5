/* gsusb.h — a CAN link on a gs_usb USB-CAN adapter (candleLight, CANable
 * and compatible firmware), spoken to through libusb exactly as the Linux
 * kernel's gs_usb driver speaks to it, so no kernel CAN support is needed.
 * URI: "gsusb:[VID:PID][@SERIAL][?bitrate=N]" (bitrate default 500000).
 */
#pragma once

#include "link.h"

G_BEGIN_DECLS

#define EW_GSUSB_DEFAULT_BITRATE 500000u

/* One attached adapter with a known gs_usb VID:PID. */
typedef struct {
  guint16  vendor_id;
  guint16  product_id;
  char    *serial;          /* NULL when the device could not be opened */
  char    *product;         /* NULL when the device could not be opened */
  guint8   bus_number;
  guint8   device_address;
  char    *open_error;      /* why the strings are missing, or NULL */
} EwGsusbDeviceInfo;

void ew_gsusb_device_info_free (EwGsusbDeviceInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EwGsusbDeviceInfo, ew_gsusb_device_info_free)

/* Lists attached adapters with a known gs_usb VID:PID (1d50:606f,
 * 1209:2323, 1cd2:606f, 16d0:10b8, 1209:ca01), in bus order.
 * transfer full: a GPtrArray of EwGsusbDeviceInfo that frees them. */
GPtrArray  *ew_gsusb_list_devices (GError **error);

/* "1d50:606f 1209:2323 …", the VID:PIDs the link looks for. */
const char *ew_gsusb_known_ids    (void);

/* The timing limits the adapter reports with GS_USB_BREQ_BT_CONST. */
typedef struct {
  guint32 feature;
  guint32 fclk_can;     /* CAN controller clock in Hz */
  guint32 tseg1_min;
  guint32 tseg1_max;
  guint32 tseg2_min;
  guint32 tseg2_max;
  guint32 sjw_max;
  guint32 brp_min;
  guint32 brp_max;
  guint32 brp_inc;
} EwGsusbBtConst;

/* What GS_USB_BREQ_BITTIMING carries. */
typedef struct {
  guint32 prop_seg;
  guint32 phase_seg1;
  guint32 phase_seg2;
  guint32 sjw;
  guint32 brp;
  guint32 sample_point;   /* in tenths of a percent, e.g. 875 */
  guint32 bitrate_bps;    /* the bitrate these values really give */
} EwGsusbBittiming;

/* Bit timing for bitrate_bps the way the kernel's can_calc_bittiming()
 * chooses it (CiA sample points: 87.5 % up to 500 kbit/s, 80 % up to
 * 800 kbit/s, 75 % above; SJW as Linux 6.2 and later default it). Fails
 * with EW_LINK_ERROR_NOT_SUPPORTED when no setting is within 0.5 %. */
gboolean    ew_gsusb_calc_bittiming (const EwGsusbBtConst *bt_const,
                                     guint32               bitrate_bps,
                                     EwGsusbBittiming     *bittiming,
                                     GError              **error);

#define EW_TYPE_GSUSB_LINK (ew_gsusb_link_get_type ())
G_DECLARE_FINAL_TYPE (EwGsusbLink, ew_gsusb_link, EW, GSUSB_LINK, EwLink)

/* Opens the adapter named by spec, the part of the URI after "gsusb:".
 * uri is kept for ew_link_get_uri() and may be NULL. transfer full */
EwLink     *ew_gsusb_link_open           (const char   *uri,
                                          const char   *spec,
                                          GError      **error);

const EwGsusbBittiming *ew_gsusb_link_get_bittiming (EwGsusbLink *self);
const EwGsusbBtConst   *ew_gsusb_link_get_bt_const  (EwGsusbLink *self);
const char *ew_gsusb_link_get_serial     (EwGsusbLink  *self);

/* Error frames the controller reported (CAN_ERR_FLAG set in can_id). They
 * are counted, not delivered by ew_link_receive(); the last one is kept
 * so a caller can see its class bits (linux/can/error.h). */
guint64     ew_gsusb_link_get_n_error_frames (EwGsusbLink *self);
gboolean    ew_gsusb_link_get_last_error_frame (EwGsusbLink *self,
                                                EwCanFrame  *frame);
/* Frames the adapter lost (GS_CAN_FLAG_OVERFLOW) or the receive queue
 * dropped because nobody read it. */
guint64     ew_gsusb_link_get_n_overruns     (EwGsusbLink *self);

G_END_DECLS
