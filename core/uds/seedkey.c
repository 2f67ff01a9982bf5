/* seedkey.c — loading seed-key plugins with GModule, and the built-in toy. */
#define G_LOG_DOMAIN "ew-uds"

#include "seedkey.h"

#include <string.h>

#include <gmodule.h>

#include "seedkey-plugin.h"
#include "toy-seedkey.h"
#include "uds.h"

struct _EwSeedKeyProvider {
  char                  *name;
  char                  *path;           /* NULL: built in */
  GModule               *module;         /* NULL: built in */
  const EwSeedKeyPlugin *plugin;         /* NULL: built in */
  gboolean               is_simulation_only;
};

char *
ew_seedkey_plugin_dir (const char *override)
{
  const char *env;

  if (override != NULL)
    return g_strdup (override);
  env = g_getenv ("ECU_WORKSHOP_PLUGIN_DIR");
  if (env != NULL && *env != '\0')
    return g_strdup (env);
  return g_build_filename (g_get_user_data_dir (), "ecu-workshop", "plugins", NULL);
}

EwSeedKeyProvider *
ew_seedkey_provider_new_toy (void)
{
  EwSeedKeyProvider *provider = g_new0 (EwSeedKeyProvider, 1);

  provider->name = g_strdup (EW_TOY_SEEDKEY_ALGORITHM);
  provider->is_simulation_only = TRUE;
  return provider;
}

EwSeedKeyProvider *
ew_seedkey_provider_load (const char  *name,
                          const char  *plugin_dir,
                          GError     **error)
{
  g_autofree char *path = NULL;
  g_autoptr(EwSeedKeyProvider) provider = NULL;
  const EwSeedKeyPlugin *plugin = NULL;
  gpointer symbol = NULL;

  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (g_str_equal (name, EW_TOY_SEEDKEY_ALGORITHM))
    return ew_seedkey_provider_new_toy ();

  if (strchr (name, '/') != NULL)
    path = g_strdup (name);
  else
    {
      g_autofree char *dir = ew_seedkey_plugin_dir (plugin_dir);
      g_autofree char *file = g_strconcat (name, ".so", NULL);

      path = g_build_filename (dir, file, NULL);
    }

  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, EW_UDS_ERROR, EW_UDS_ERROR_PLUGIN_MISSING,
                   "Seed-key plugin “%s” not found: %s does not exist; install the "
                   "plugin there or set ECU_WORKSHOP_PLUGIN_DIR", name, path);
      return NULL;
    }

  provider = g_new0 (EwSeedKeyProvider, 1);
  provider->path = g_steal_pointer (&path);
  /* LOCAL: two plugins may well export the same symbol name */
  provider->module = g_module_open (provider->path, G_MODULE_BIND_LOCAL);
  if (provider->module == NULL)
    {
      g_set_error (error, EW_UDS_ERROR, EW_UDS_ERROR_PLUGIN_INVALID,
                   "Seed-key plugin %s cannot be loaded: %s",
                   provider->path, g_module_error ());
      return NULL;
    }
  if (!g_module_symbol (provider->module, EW_SEEDKEY_PLUGIN_SYMBOL, &symbol) || symbol == NULL)
    {
      g_set_error (error, EW_UDS_ERROR, EW_UDS_ERROR_PLUGIN_INVALID,
                   "Seed-key plugin %s does not export the symbol “%s”; "
                   "it was not built against seedkey-plugin.h",
                   provider->path, EW_SEEDKEY_PLUGIN_SYMBOL);
      return NULL;
    }
  plugin = symbol;
  /* Only abi_version may be read before it has been checked. */
  if (plugin->abi_version != EW_SEEDKEY_ABI_VERSION)
    {
      g_set_error (error, EW_UDS_ERROR, EW_UDS_ERROR_PLUGIN_INVALID,
                   "Seed-key plugin %s has ABI version %u, but this version of "
                   "ECU Workshop needs version %u; rebuild the plugin",
                   provider->path, plugin->abi_version, EW_SEEDKEY_ABI_VERSION);
      return NULL;
    }
  if (plugin->compute_key == NULL)
    {
      g_set_error (error, EW_UDS_ERROR, EW_UDS_ERROR_PLUGIN_INVALID,
                   "Seed-key plugin %s has no compute_key function", provider->path);
      return NULL;
    }
  provider->plugin = plugin;
  provider->name = g_strdup (plugin->name != NULL && g_utf8_validate (plugin->name, -1, NULL)
                             ? plugin->name : name);
  return g_steal_pointer (&provider);
}

void
ew_seedkey_provider_free (EwSeedKeyProvider *provider)
{
  if (provider == NULL)
    return;
  g_clear_pointer (&provider->module, g_module_close);
  g_free (provider->name);
  g_free (provider->path);
  g_free (provider);
}

const char *
ew_seedkey_provider_get_name (EwSeedKeyProvider *provider)
{
  g_return_val_if_fail (provider != NULL, NULL);
  return provider->name;
}

const char *
ew_seedkey_provider_get_path (EwSeedKeyProvider *provider)
{
  g_return_val_if_fail (provider != NULL, NULL);
  return provider->path;
}

gboolean
ew_seedkey_provider_is_simulation_only (EwSeedKeyProvider *provider)
{
  g_return_val_if_fail (provider != NULL, FALSE);
  return provider->is_simulation_only;
}

static const char *
status_to_string (int status)
{
  switch (status)
    {
    case EW_SEEDKEY_ERROR_LEVEL:    return "security level not supported";
    case EW_SEEDKEY_ERROR_SEED:     return "seed not accepted";
    case EW_SEEDKEY_ERROR_BUFFER:   return "key longer than the buffer";
    case EW_SEEDKEY_ERROR_VARIANT:  return "module variant not supported";
    case EW_SEEDKEY_ERROR_OPTIONS:  return "options not understood";
    case EW_SEEDKEY_ERROR_INTERNAL: return "internal error";
    default:                        return "unknown status";
    }
}

GBytes *
ew_seedkey_provider_compute_key (EwSeedKeyProvider  *provider,
                                 guint8              level,
                                 const guint8       *seed,
                                 gsize               seed_length,
                                 const char         *variant,
                                 const char         *options,
                                 gboolean            is_simulated_car,
                                 GError            **error)
{
  g_autofree guint8 *key = NULL;
  size_t key_length = 0;
  int status;

  g_return_val_if_fail (provider != NULL, NULL);
  g_return_val_if_fail (seed != NULL || seed_length == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (provider->is_simulation_only && !is_simulated_car)
    {
      g_set_error (error, EW_UDS_ERROR, EW_UDS_ERROR_NOT_PERMITTED,
                   "The seed-key algorithm “%s” is for simulated cars only, and "
                   "this car did not identify itself as simulated; a real module "
                   "needs its manufacturer's algorithm as a plugin", provider->name);
      return NULL;
    }

  if (provider->plugin == NULL)
    {
      key = g_malloc (MAX (seed_length, 1));
      ew_toy_seedkey_compute (level, seed, seed_length, key);
      return g_bytes_new (key, seed_length);
    }

  key = g_malloc0 (EW_SEEDKEY_MAX_KEY_LENGTH);
  status = provider->plugin->compute_key (level, seed, seed_length,
                                          variant != NULL ? variant : "",
                                          options != NULL ? options : "",
                                          key, EW_SEEDKEY_MAX_KEY_LENGTH, &key_length);
  if (status != EW_SEEDKEY_OK)
    {
      g_set_error (error, EW_UDS_ERROR, EW_UDS_ERROR_PLUGIN_FAILED,
                   "Seed-key plugin %s (“%s”) failed for level 0x%02X: %s (status %d)",
                   provider->path, provider->name, level, status_to_string (status), status);
      return NULL;
    }
  if (key_length == 0 || key_length > EW_SEEDKEY_MAX_KEY_LENGTH)
    {
      g_set_error (error, EW_UDS_ERROR, EW_UDS_ERROR_PLUGIN_FAILED,
                   "Seed-key plugin %s (“%s”) returned a key of %zu bytes for level 0x%02X; "
                   "1 to %d bytes are possible",
                   provider->path, provider->name, key_length, level, EW_SEEDKEY_MAX_KEY_LENGTH);
      return NULL;
    }
  return g_bytes_new (key, key_length);
}
