/* ecuw-scan.c — `ecuw [--link URI] scan`: identify the car and every
 * module on the link, and say what was found. */
#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>

#include "ecuw-command.h"
#include "connect/supply-voltage.h"
#include "scan/scan-record.h"

static void
print_json (const char *uri, EwScanResult *result)
{
  g_autoptr(JsonNode) root = ew_scan_result_to_json (result, uri);
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  text = json_generator_to_data (generator, NULL);
  g_print ("%s\n", text);
}

/* The garage keeps every car it has scanned; a store that cannot be
 * written does not spoil the scan itself. */
static void
record_scan (const char *uri, EwScanResult *result)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EwJobStore) store = ew_job_store_open (NULL, &error);

  if (store == NULL || !ew_scan_result_record (result, uri, store, &error))
    g_printerr ("ecuw: %s %s\n", _("warning:"), error->message);
}

static const char *
state_label (EwScanModuleState state)
{
  switch (state)
    {
    case EW_SCAN_MODULE_ANSWERED:   return _("answered");
    case EW_SCAN_MODULE_BOOTLOADER: return _("bootloader");
    case EW_SCAN_MODULE_SILENT:     return _("no answer");
    case EW_SCAN_MODULE_FAILED:     return _("failed");
    case EW_SCAN_MODULE_WAITING:
    default:                        return _("not scanned");
    }
}

static void
print_text (EwScanResult *result)
{
  const EwFamily *family = result->family;

  /* TRANSLATORS: make, model, VIN */
  g_print (_("%s %s · VIN %s%s\n"), family->make, family->model,
           result->vin != NULL ? result->vin : _("unknown"),
           result->is_simulated ? _(" · simulated car") : "");
  /* TRANSLATORS: number of modules, seconds */
  g_print (_("%u modules scanned in %.2f s\n\n"), result->modules->len,
           result->duration_ms / 1000.0);

  for (guint i = 0; i < result->modules->len; i++)
    {
      const EwScanModule *m = g_ptr_array_index (result->modules, i);

      g_print ("  %-20s %-12s", m->module->id, state_label (m->state));
      if (m->part_number != NULL)
        g_print (" %s %s", _("part"), m->part_number);
      if (m->software_version != NULL)
        g_print (" · %s %s", _("software"), m->software_version);
      if (m->hardware_version != NULL)
        g_print (" · %s %s", _("hardware"), m->hardware_version);
      if (m->vin != NULL)
        g_print (" · VIN %s", m->vin);
      if (m->supply_voltage_mv != 0)
        {
          g_autofree char *volts = ew_supply_voltage_format (m->supply_voltage_mv);

          g_print (" · %s", volts);
        }
      g_print ("\n");
    }

  g_print ("\n");
  if (result->findings->len == 0)
    g_print ("%s\n", _("No findings: every module answered and belongs to this car."));
  else
    g_print ("%s\n", _("Findings:"));
  for (guint i = 0; i < result->findings->len; i++)
    {
      const EwScanFinding *f = g_ptr_array_index (result->findings, i);

      g_print ("  • %s\n    %s\n", f->title, f->explanation);
    }
}

gboolean
ecuw_cmd_scan (EcuwContext *ctx, int argc, char **argv, GError **error)
{
  g_autoptr(EwConnection) connection = NULL;
  g_autoptr(EwScanResult) result = NULL;
  const char *uri = ecuw_context_get_link (ctx);

  if (argc != 1)
    {
      g_set_error_literal (error, ECUW_ERROR, ECUW_ERROR_USAGE,
                           _("usage: ecuw [--link URI] scan (takes no arguments)"));
      return FALSE;
    }

  connection = ew_connection_open (uri, ecuw_context_get_database (ctx), NULL, error);
  if (connection == NULL)
    return FALSE;
  result = ew_scan_run (connection, 0, NULL, NULL, NULL, error);
  ew_connection_close (connection);
  if (result == NULL)
    return FALSE;
  record_scan (uri, result);

  if (ctx->json)
    print_json (uri, result);
  else
    print_text (result);
  return TRUE;
}
