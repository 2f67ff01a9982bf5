/* fake-gsusb.h — a gs_usb adapter that behaves like candleLight firmware,
 * presented to unmodified libusb through umockdev: a sysfs device with real
 * USB descriptors and a usbdevfs ioctl handler that answers control and bulk
 * URBs (SUBMITURB, REAPURB[NDELAY], DISCARDURB). It echoes transmitted
 * frames, can inject received and error frames, and can vanish like an
 * unplugged device. Needs the umockdev preload library.
 */
#pragma once

#include <glib.h>
#include <umockdev.h>

G_BEGIN_DECLS

typedef struct _FakeGsusb FakeGsusb;

/* One control request the host sent. */
typedef struct {
  guint8   request_type;
  guint8   request;
  guint16  value;
  guint16  index;
  GBytes  *data;        /* the OUT data stage, or the IN answer */
} FakeGsusbControl;

void        fake_gsusb_control_free (FakeGsusbControl *control);

/* Adds the device as bus_number/device_address to testbed. */
FakeGsusb  *fake_gsusb_new              (UMockdevTestbed *testbed,
                                         guint16          vendor_id,
                                         guint16          product_id,
                                         const char      *serial,
                                         guint8           bus_number,
                                         guint8           device_address);
void        fake_gsusb_free             (FakeGsusb       *fake);

/* The controller clock BT_CONST reports (48 MHz, as on STM32F0 boards). */
void        fake_gsusb_set_fclk         (FakeGsusb       *fake,
                                         guint32          fclk_can);
/* Whether transmitted frames come back as echoes (on by default; a real
 * adapter sends none when nothing acknowledges the frame). */
void        fake_gsusb_set_echo         (FakeGsusb       *fake,
                                         gboolean         echo);
/* CLAIMINTERFACE fails with EBUSY, as when another program has it. */
void        fake_gsusb_set_busy         (FakeGsusb       *fake,
                                         gboolean         busy);

/* Queues a received frame (echo_id 0xFFFFFFFF) for the host. can_id
 * carries the CAN_EFF/RTR/ERR flags as in linux/can.h. */
void        fake_gsusb_inject           (FakeGsusb       *fake,
                                         guint32          can_id,
                                         const guint8    *data,
                                         guint8           dlc,
                                         guint8           flags);
/* Unplugs the device: URBs in flight end with -ESHUTDOWN, every later
 * ioctl fails with ENODEV. */
void        fake_gsusb_vanish           (FakeGsusb       *fake);

/* Control requests in the order they arrived. transfer full: a
 * GPtrArray of FakeGsusbControl */
GPtrArray  *fake_gsusb_get_controls     (FakeGsusb       *fake);
/* Bulk OUT payloads in order. transfer full: a GPtrArray of GBytes */
GPtrArray  *fake_gsusb_get_out_frames   (FakeGsusb       *fake);
/* Waits up to timeout_ms until at least n bulk OUT payloads arrived. */
gboolean    fake_gsusb_wait_out_frames  (FakeGsusb       *fake,
                                         guint            n,
                                         guint            timeout_ms);
/* Bulk IN URBs the host has waiting right now. */
guint       fake_gsusb_get_n_pending_in (FakeGsusb       *fake);
gboolean    fake_gsusb_is_started       (FakeGsusb       *fake);

G_END_DECLS
