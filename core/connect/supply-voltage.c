/* supply-voltage.c — the car's supply voltage before a write. */
#include "config.h"

#include "supply-voltage.h"

#include <glib/gi18n-lib.h>

G_DEFINE_QUARK (ew-supply-voltage-error-quark, ew_supply_voltage_error)

guint
ew_supply_voltage_from_bytes (GBytes *bytes)
{
  const guint8 *data;

  if (bytes == NULL || g_bytes_get_size (bytes) != 2)
    return 0;
  data = g_bytes_get_data (bytes, NULL);
  return ((guint) data[0] << 8) | data[1];
}

static const EwIdentificationDid *
supply_did (const EwModule *module)
{
  for (guint i = 0; i < module->identification->len; i++)
    {
      const EwIdentificationDid *did = g_ptr_array_index (module->identification, i);

      if (did->role == EW_ID_ROLE_SUPPLY_VOLTAGE)
        return did;
    }
  return NULL;
}

guint
ew_supply_voltage_read_at (EwConnection   *connection,
                           const EwModule *module,
                           EwUdsClient    *client,
                           GCancellable   *cancellable)
{
  const EwIdentificationDid *did = supply_did (module);
  g_autoptr(EwChannel) channel = NULL;
  g_autoptr(EwUdsClient) own_client = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;

  if (did == NULL)
    return 0;
  if (client == NULL)
    {
      channel = ew_connection_open_channel (connection, module, &error);
      if (channel == NULL)
        {
          g_debug ("%s: supply voltage not read: %s", module->id, error->message);
          return 0;
        }
      client = own_client = ew_uds_client_new (channel, module->id);
    }
  bytes = ew_uds_client_read_did (client, did->did, cancellable, &error);
  if (bytes == NULL)
    g_debug ("%s: supply voltage not read: %s", module->id, error->message);
  return ew_supply_voltage_from_bytes (bytes);
}

guint
ew_supply_voltage_read (EwConnection    *connection,
                        const EwModule  *module,
                        EwUdsClient     *module_client,
                        GCancellable    *cancellable,
                        const EwModule **from)
{
  EwFamily *family;
  guint mv;

  g_return_val_if_fail (EW_IS_CONNECTION (connection), 0);
  g_return_val_if_fail (module != NULL, 0);

  if (from != NULL)
    *from = NULL;
  mv = ew_supply_voltage_read_at (connection, module, module_client, cancellable);
  if (mv != 0)
    {
      if (from != NULL)
        *from = module;
      return mv;
    }
  family = ew_connection_get_family (connection);
  for (guint i = 0; family != NULL && i < family->modules->len; i++)
    {
      const EwModule *other = g_ptr_array_index (family->modules, i);

      if (other == module || supply_did (other) == NULL)
        continue;
      mv = ew_supply_voltage_read_at (connection, other, NULL, cancellable);
      if (mv != 0)
        {
          if (from != NULL)
            *from = other;
          return mv;
        }
    }
  return 0;
}

char *
ew_supply_voltage_format (guint mv)
{
  guint tenths = (mv + 50) / 100;

  /* TRANSLATORS: a voltage in volts and tenths, e.g. 12.4 V */
  return g_strdup_printf (_("%u.%u V"), tenths / 10, tenths % 10);
}

gboolean
ew_supply_voltage_check (guint           mv,
                         EwWorkClass     work,
                         const EwModule *from,
                         GError        **error)
{
  guint min = work == EW_WORK_CLASS_PROGRAMMING ? EW_SUPPLY_MIN_PROGRAMMING_MV
                                                : EW_SUPPLY_MIN_CODING_MV;
  g_autofree char *now = NULL;
  g_autofree char *limit = NULL;

  if (mv == 0)
    return TRUE;
  now = ew_supply_voltage_format (mv);
  if (mv < min)
    {
      limit = ew_supply_voltage_format (min);
      g_set_error (error, EW_SUPPLY_VOLTAGE_ERROR, EW_SUPPLY_VOLTAGE_ERROR_TOO_LOW,
                   /* TRANSLATORS: the voltage, the module that measured it, the minimum */
                   _("The supply voltage is %s at the %s, below the %s this work needs: connect "
                     "a battery support unit and start again"),
                   now, from != NULL ? from->name : "?", limit);
      return FALSE;
    }
  if (mv > EW_SUPPLY_MAX_MV)
    {
      limit = ew_supply_voltage_format (EW_SUPPLY_MAX_MV);
      g_set_error (error, EW_SUPPLY_VOLTAGE_ERROR, EW_SUPPLY_VOLTAGE_ERROR_TOO_HIGH,
                   /* TRANSLATORS: the voltage, the module that measured it, the maximum */
                   _("The supply voltage is %s at the %s, above %s: check the charger's "
                     "setting (no jump-start mode) and start again"),
                   now, from != NULL ? from->name : "?", limit);
      return FALSE;
    }
  return TRUE;
}
