/* can-frame.c — CAN frame values, their text form, and their exact bit
 * length on the wire (ISO 11898-1).
 */
#include "can-frame.h"

#include <string.h>

void
ew_can_frame_init (EwCanFrame   *frame,
                   guint32       id,
                   gboolean      is_extended,
                   const guint8 *data,
                   gsize         len)
{
  g_return_if_fail (frame != NULL);
  g_return_if_fail (len <= EW_CANFD_MAX_DLEN);
  g_return_if_fail (len == 0 || data != NULL);

  memset (frame, 0, sizeof *frame);
  frame->id = id & (is_extended ? EW_CAN_EFF_MASK : EW_CAN_SFF_MASK);
  frame->is_extended = is_extended;
  frame->len = (guint8) len;
  if (len > 0)
    memcpy (frame->data, data, len);
}

EwCanFrame *
ew_can_frame_new (guint32       id,
                  gboolean      is_extended,
                  const guint8 *data,
                  gsize         len)
{
  EwCanFrame *frame = g_new0 (EwCanFrame, 1);

  ew_can_frame_init (frame, id, is_extended, data, len);
  return frame;
}

EwCanFrame *
ew_can_frame_copy (const EwCanFrame *frame)
{
  g_return_val_if_fail (frame != NULL, NULL);
  return g_memdup2 (frame, sizeof *frame);
}

void
ew_can_frame_free (EwCanFrame *frame)
{
  g_free (frame);
}

char *
ew_can_frame_to_string (const EwCanFrame *frame)
{
  GString *s;

  g_return_val_if_fail (frame != NULL, NULL);

  s = g_string_new (NULL);
  if (frame->is_extended)
    g_string_append_printf (s, "%08X#", frame->id & EW_CAN_EFF_MASK);
  else
    g_string_append_printf (s, "%03X#", frame->id & EW_CAN_SFF_MASK);
  if (frame->is_rtr)
    {
      g_string_append_c (s, 'R');
      return g_string_free (s, FALSE);
    }
  for (guint i = 0; i < frame->len && i < EW_CANFD_MAX_DLEN; i++)
    g_string_append_printf (s, "%02X", frame->data[i]);
  return g_string_free (s, FALSE);
}

char *
ew_can_frame_to_candump_line (const EwCanFrame *frame,
                              const char       *interface_name)
{
  g_autofree char *text = NULL;
  gint64 t;

  g_return_val_if_fail (frame != NULL, NULL);

  text = ew_can_frame_to_string (frame);
  t = MAX (frame->timestamp_us, 0);
  return g_strdup_printf ("(%" G_GINT64_FORMAT ".%06d) %s %s",
                          t / G_USEC_PER_SEC, (int) (t % G_USEC_PER_SEC),
                          interface_name != NULL ? interface_name : "can0", text);
}

/* The longest classic frame: 54 bits of extended header, 64 data bits and
 * 15 CRC bits. */
#define MAX_STUFFED_REGION (54 + 64 + 15)

typedef struct {
  guint8 bits[MAX_STUFFED_REGION];
  guint  n;
} BitStream;

static void
put_bits (BitStream *bs,
          guint32    value,
          guint      count)
{
  for (guint i = count; i > 0; i--)
    bs->bits[bs->n++] = (value >> (i - 1)) & 1;
}

/* The bits from SOF to the end of the data field (ISO 11898-1 10.4.2),
 * unstuffed, dominant = 0. Only classic frames are modelled. */
static void
build_header_and_data (const EwCanFrame *frame,
                       BitStream        *bs)
{
  guint len = MIN (frame->len, EW_CAN_MAX_DLEN);

  bs->n = 0;
  put_bits (bs, 0, 1);                                  /* SOF */
  if (frame->is_extended)
    {
      guint32 id = frame->id & EW_CAN_EFF_MASK;

      put_bits (bs, id >> 18, 11);                      /* base identifier */
      put_bits (bs, 1, 1);                              /* SRR, recessive */
      put_bits (bs, 1, 1);                              /* IDE, recessive */
      put_bits (bs, id & 0x3FFFF, 18);                  /* identifier extension */
      put_bits (bs, frame->is_rtr ? 1 : 0, 1);          /* RTR */
      put_bits (bs, 0, 2);                              /* r1, r0 */
    }
  else
    {
      put_bits (bs, frame->id & EW_CAN_SFF_MASK, 11);
      put_bits (bs, frame->is_rtr ? 1 : 0, 1);          /* RTR */
      put_bits (bs, 0, 1);                              /* IDE, dominant */
      put_bits (bs, 0, 1);                              /* r0 */
    }
  put_bits (bs, len, 4);                                /* DLC */
  if (!frame->is_rtr)
    for (guint i = 0; i < len; i++)
      put_bits (bs, frame->data[i], 8);
}

static guint16
crc15_of_bits (const BitStream *bs)
{
  guint16 crc = 0;

  /* ISO 11898-1 10.4.2.6: shift each bit in; when the bit leaving the
   * register differs from the next stream bit, xor in the generator
   * x^15 + x^14 + x^10 + x^8 + x^7 + x^4 + x^3 + 1. */
  for (guint i = 0; i < bs->n; i++)
    {
      gboolean crc_next = bs->bits[i] ^ ((crc >> 14) & 1);

      crc = (crc << 1) & 0x7FFF;
      if (crc_next)
        crc ^= 0x4599;
    }
  return crc;
}

guint16
ew_can_frame_crc15 (const EwCanFrame *frame)
{
  BitStream bs;

  g_return_val_if_fail (frame != NULL, 0);
  build_header_and_data (frame, &bs);
  return crc15_of_bits (&bs);
}

guint
ew_can_frame_stuff_bits (const EwCanFrame *frame)
{
  BitStream bs;
  guint stuff = 0;
  guint run = 0;
  guint8 last = 2;

  g_return_val_if_fail (frame != NULL, 0);

  build_header_and_data (frame, &bs);
  put_bits (&bs, crc15_of_bits (&bs), 15);

  /* ISO 11898-1 10.5: after five equal bits the transmitter inserts one
   * complementary bit, which itself starts the next run; this covers SOF
   * through the last CRC bit. */
  for (guint i = 0; i < bs.n; i++)
    {
      if (bs.bits[i] == last)
        run++;
      else
        {
          last = bs.bits[i];
          run = 1;
        }
      if (run == 5)
        {
          stuff++;
          last = !last;
          run = 1;
        }
    }
  return stuff;
}

guint
ew_can_frame_wire_bits (const EwCanFrame *frame)
{
  BitStream bs;

  g_return_val_if_fail (frame != NULL, 0);

  build_header_and_data (frame, &bs);
  /* + 15 CRC, then the fixed-form tail: CRC delimiter 1, ACK slot 1, ACK
   * delimiter 1, EOF 7, intermission 3 */
  return bs.n + 15 + ew_can_frame_stuff_bits (frame) + 13;
}
