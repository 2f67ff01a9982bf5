/* seedkey-plugin.h — the plain C interface of seed-key plugins for UDS
 * SecurityAccess (ISO 14229-1:2020 10.4). A plugin is a shared object that
 * exports one constant EwSeedKeyPlugin named "ew_seedkey_plugin"; it needs
 * only a C compiler and this header, no GLib.
 *
 *   #include "seedkey-plugin.h"
 *   static int compute (...) { ... }
 *   EW_SEEDKEY_PLUGIN_EXPORT const EwSeedKeyPlugin ew_seedkey_plugin = {
 *     EW_SEEDKEY_ABI_VERSION, "my-algorithm", compute,
 *   };
 *
 * Installed as NAME.so in the user's plugin folder
 * ($XDG_DATA_HOME/ecu-workshop/plugins, or $ECU_WORKSHOP_PLUGIN_DIR), it is
 * loaded by NAME. The application keeps no key material of its own.
 */
#ifndef EW_SEEDKEY_PLUGIN_H
#define EW_SEEDKEY_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Raised whenever the layout of EwSeedKeyPlugin or the meaning of a
 * field changes; the loader refuses any other version. */
#define EW_SEEDKEY_ABI_VERSION 1u

#define EW_SEEDKEY_PLUGIN_SYMBOL "ew_seedkey_plugin"

#if defined(__GNUC__) || defined(__clang__)
#define EW_SEEDKEY_PLUGIN_EXPORT __attribute__ ((visibility ("default")))
#else
#define EW_SEEDKEY_PLUGIN_EXPORT
#endif

/* compute_key results */
typedef enum {
  EW_SEEDKEY_OK = 0,
  EW_SEEDKEY_ERROR_LEVEL = 1,        /* security level not supported */
  EW_SEEDKEY_ERROR_SEED = 2,         /* seed of a length or form not expected */
  EW_SEEDKEY_ERROR_BUFFER = 3,       /* key_capacity too small */
  EW_SEEDKEY_ERROR_VARIANT = 4,      /* module variant not supported */
  EW_SEEDKEY_ERROR_OPTIONS = 5,      /* options string not understood */
  EW_SEEDKEY_ERROR_INTERNAL = 6,
} EwSeedKeyStatus;

typedef struct {
  /* Always the first field, so any version can be told apart. */
  uint32_t    abi_version;
  /* The algorithm's name, for messages and logs; UTF-8. */
  const char *name;
  /* A pure function: the key for seed at level (the odd requestSeed
   * sub-function), for the module variant (e.g. a part number or
   * diagnostic variant, may be "") and the options string from the vehicle
   * data (may be ""). Writes at most key_capacity bytes to key and their
   * number to *key_length; returns an EwSeedKeyStatus. It must not keep
   * pointers, block, or touch global state: it may be called from any
   * thread. */
  int       (*compute_key) (uint8_t        level,
                            const uint8_t *seed,
                            size_t         seed_length,
                            const char    *variant,
                            const char    *options,
                            uint8_t       *key,
                            size_t         key_capacity,
                            size_t        *key_length);
} EwSeedKeyPlugin;

#ifdef __cplusplus
}
#endif

#endif /* EW_SEEDKEY_PLUGIN_H */
