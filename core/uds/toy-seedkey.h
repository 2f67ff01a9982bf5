/* toy-seedkey.h — "sim-xor-toy", the simulator's documented seed-key
 * algorithm. Simulated modules declare it in the vehicle data; the engine
 * uses it only when the car identifies itself as simulated. No real
 * control unit accepts it, and it protects nothing: it exists so that
 * security access, attempt counting and lock-out run end to end.
 *
 *   key[i] = rotate_left (seed[i] ^ (0x5A + level + 0x11 * i), 3)
 *
 * with the byte arithmetic modulo 256 and the key as long as the seed.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define EW_TOY_SEEDKEY_ALGORITHM "sim-xor-toy"

/* Writes length_bytes key bytes for seed at security level (the odd
 * requestSeed sub-function). */
void ew_toy_seedkey_compute (guint8        level,
                             const guint8 *seed,
                             gsize         length_bytes,
                             guint8       *key);

G_END_DECLS
