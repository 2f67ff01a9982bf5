/* seedkey.h — seed-key providers for SecurityAccess: plugins loaded from
 * the user's plugin folder (see seedkey-plugin.h) and the built-in
 * "sim-xor-toy" algorithm, which is allowed only on simulated cars.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _EwSeedKeyProvider EwSeedKeyProvider;

/* Longest key a provider may return. */
#define EW_SEEDKEY_MAX_KEY_LENGTH 512

/* The folder plugins are loaded from: override if not NULL, else
 * $ECU_WORKSHOP_PLUGIN_DIR if set and not empty, else
 * $XDG_DATA_HOME/ecu-workshop/plugins. transfer full */
char *ew_seedkey_plugin_dir (const char *override);

/* The provider called name: "sim-xor-toy" is built in; a name containing
 * '/' is the path of a plugin file; any other name loads NAME.so from
 * ew_seedkey_plugin_dir (plugin_dir). Fails with EW_UDS_ERROR_PLUGIN_MISSING
 * or EW_UDS_ERROR_PLUGIN_INVALID (wrong ABI version, missing symbol),
 * naming the file. transfer full */
EwSeedKeyProvider *ew_seedkey_provider_load         (const char         *name,
                                                     const char         *plugin_dir,
                                                     GError            **error);
EwSeedKeyProvider *ew_seedkey_provider_new_toy      (void);
void               ew_seedkey_provider_free         (EwSeedKeyProvider  *provider);
/* The algorithm's name as the provider gives it. */
const char        *ew_seedkey_provider_get_name     (EwSeedKeyProvider  *provider);
/* The plugin file, or NULL for a built-in algorithm. */
const char        *ew_seedkey_provider_get_path     (EwSeedKeyProvider  *provider);
/* Whether the provider may be used only on simulated cars. */
gboolean           ew_seedkey_provider_is_simulation_only (EwSeedKeyProvider *provider);

/* The key for seed at level. variant and options may be NULL (passed as
 * ""). is_simulated_car: whether the car identified itself as simulated;
 * a simulation-only provider refuses otherwise (EW_UDS_ERROR_NOT_PERMITTED).
 * A plugin's failure is EW_UDS_ERROR_PLUGIN_FAILED naming file and status.
 * transfer full */
GBytes            *ew_seedkey_provider_compute_key  (EwSeedKeyProvider  *provider,
                                                     guint8              level,
                                                     const guint8       *seed,
                                                     gsize               seed_length,
                                                     const char         *variant,
                                                     const char         *options,
                                                     gboolean            is_simulated_car,
                                                     GError            **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EwSeedKeyProvider, ew_seedkey_provider_free)

G_END_DECLS
