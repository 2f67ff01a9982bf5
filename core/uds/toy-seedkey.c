/* toy-seedkey.c — see toy-seedkey.h for the algorithm. */
#include "toy-seedkey.h"

void
ew_toy_seedkey_compute (guint8        level,
                        const guint8 *seed,
                        gsize         length_bytes,
                        guint8       *key)
{
  for (gsize i = 0; i < length_bytes; i++)
    {
      guint8 mixed = seed[i] ^ (guint8) (0x5A + level + 0x11 * i);

      key[i] = (guint8) ((mixed << 3) | (mixed >> 5));
    }
}
