/* example-seedkey.c — a sample seed-key plugin, built against nothing but
 * seedkey-plugin.h and the C library. Its algorithm is made up for the
 * tests: key[i] = seed[n-1-i] ^ (0xA5 + level) ^ variant[0].
 *
 * Built three times: as it is, with EXAMPLE_ABI_VERSION set to a version
 * the loader does not know, and with EXAMPLE_NO_SYMBOL to leave out the
 * entry point.
 */
#include <string.h>

#include "seedkey-plugin.h"

#ifndef EXAMPLE_ABI_VERSION
#define EXAMPLE_ABI_VERSION EW_SEEDKEY_ABI_VERSION
#endif

static int
compute_key (uint8_t        level,
             const uint8_t *seed,
             size_t         seed_length,
             const char    *variant,
             const char    *options,
             uint8_t       *key,
             size_t         key_capacity,
             size_t        *key_length)
{
  uint8_t mix;

  if (level != 0x01 && level != 0x03)
    return EW_SEEDKEY_ERROR_LEVEL;
  if (seed_length == 0)
    return EW_SEEDKEY_ERROR_SEED;
  if (seed_length > key_capacity)
    return EW_SEEDKEY_ERROR_BUFFER;
  if (strcmp (options, "") != 0 && strcmp (options, "plain") != 0)
    return EW_SEEDKEY_ERROR_OPTIONS;

  mix = (uint8_t) (0xA5 + level) ^ (uint8_t) variant[0];
  for (size_t i = 0; i < seed_length; i++)
    key[i] = seed[seed_length - 1 - i] ^ mix;
  *key_length = seed_length;
  return EW_SEEDKEY_OK;
}

#ifndef EXAMPLE_NO_SYMBOL
EW_SEEDKEY_PLUGIN_EXPORT const EwSeedKeyPlugin ew_seedkey_plugin = {
  EXAMPLE_ABI_VERSION,
  "example-reverse-xor",
  compute_key,
};
#else
/* Something to export, under another name. */
EW_SEEDKEY_PLUGIN_EXPORT const EwSeedKeyPlugin ew_seedkey_plugin_misnamed = {
  EXAMPLE_ABI_VERSION,
  "example-misnamed",
  compute_key,
};
#endif
