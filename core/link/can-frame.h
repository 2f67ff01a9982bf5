/* can-frame.h — one CAN frame as a plain value, its candump text form, and
 * its exact length on the wire (ISO 11898-1 bit stream with CRC-15 and
 * stuff bits), which the simulated bus uses to model time.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define EW_CAN_MAX_DLEN   8     /* classic CAN */
#define EW_CANFD_MAX_DLEN 64    /* CAN FD; room kept, not used yet */
#define EW_CAN_SFF_MASK   0x000007FFu
#define EW_CAN_EFF_MASK   0x1FFFFFFFu

typedef struct {
  guint32  id;             /* 11-bit or 29-bit identifier, no flags */
  gboolean is_extended;    /* 29-bit identifier (CAN 2.0B) */
  gboolean is_rtr;         /* remote transmission request: no data bytes */
  gboolean is_error;       /* error frame reported by the controller */
  guint8   len;            /* data length in bytes, 0..8 on classic CAN */
  guint8   data[EW_CANFD_MAX_DLEN];
  gint64   timestamp_us;   /* monotonic time the frame ended on the wire */
} EwCanFrame;

void        ew_can_frame_init       (EwCanFrame   *frame,
                                     guint32       id,
                                     gboolean      is_extended,
                                     const guint8 *data,
                                     gsize         len);
EwCanFrame *ew_can_frame_new        (guint32       id,
                                     gboolean      is_extended,
                                     const guint8 *data,
                                     gsize         len);   /* transfer full */
EwCanFrame *ew_can_frame_copy       (const EwCanFrame *frame);   /* transfer full */
void        ew_can_frame_free       (EwCanFrame *frame);

/* "7E0#0210030000000000" (the candump/cansend compact form; 8 hex digits
 * for extended ids, "R" for remote frames). transfer full */
char       *ew_can_frame_to_string  (const EwCanFrame *frame);
/* "(1700000000.123456) can0 7E0#02100300" — one line of a candump -L log,
 * without the newline. transfer full */
char       *ew_can_frame_to_candump_line (const EwCanFrame *frame,
                                          const char       *interface_name);

/* CRC-15 (polynomial 0x4599) over the unstuffed bits from start-of-frame to
 * the end of the data field, as the controller sends it. */
guint16     ew_can_frame_crc15      (const EwCanFrame *frame);
/* Stuff bits the controller inserts between start-of-frame and the end of
 * the CRC sequence for this exact frame. */
guint       ew_can_frame_stuff_bits (const EwCanFrame *frame);
/* Bits the frame occupies on the wire: SOF through CRC with its stuff bits,
 * then CRC delimiter, ACK slot and delimiter, 7-bit EOF and the 3-bit
 * intermission. */
guint       ew_can_frame_wire_bits  (const EwCanFrame *frame);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EwCanFrame, ew_can_frame_free)

G_END_DECLS
