/* ecuw-scan.c — `ecuw [--link URI] scan`: identify the car and every
 * module on the link, and say what was found. */
#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>

#include "ecuw-command.h"
#include "scan/scan.h"

static void
print_json (const char *uri, EwScanResult *result)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  ecuw_json_add_string (b, "link", uri);
  ecuw_json_add_string (b, "family", result->family->id);
  ecuw_json_add_string (b, "vin", result->vin);
  json_builder_set_member_name (b, "simulated");
  json_builder_add_boolean_value (b, result->is_simulated);
  json_builder_set_member_name (b, "duration_ms");
  json_builder_add_int_value (b, result->duration_ms);

  json_builder_set_member_name (b, "modules");
  json_builder_begin_array (b);
  for (guint i = 0; i < result->modules->len; i++)
    {
      const EwScanModule *m = g_ptr_array_index (result->modules, i);

      json_builder_begin_object (b);
      ecuw_json_add_string (b, "id", m->module->id);
      ecuw_json_add_string (b, "name", m->module->name);
      ecuw_json_add_string (b, "kind", ew_module_kind_to_string (m->module->kind));
      ecuw_json_add_string (b, "state", ew_scan_module_state_to_string (m->state));
      ecuw_json_add_string (b, "vin", m->vin);
      ecuw_json_add_string (b, "part_number", m->part_number);
      ecuw_json_add_string (b, "software_version", m->software_version);
      ecuw_json_add_string (b, "hardware_version", m->hardware_version);
      ecuw_json_add_string (b, "serial_number", m->serial_number);
      ecuw_json_add_string (b, "supplier", m->supplier);
      ecuw_json_add_string (b, "programming_date", m->programming_date);
      json_builder_set_member_name (b, "simulated");
      json_builder_add_boolean_value (b, m->is_simulated);
      ecuw_json_add_string (b, "error", m->error_message);
      json_builder_set_member_name (b, "duration_ms");
      json_builder_add_int_value (b, m->duration_ms);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "findings");
  json_builder_begin_array (b);
  for (guint i = 0; i < result->findings->len; i++)
    {
      const EwScanFinding *f = g_ptr_array_index (result->findings, i);

      json_builder_begin_object (b);
      ecuw_json_add_string (b, "kind", ew_finding_kind_to_string (f->kind));
      ecuw_json_add_string (b, "module", f->module->id);
      ecuw_json_add_string (b, "title", f->title);
      ecuw_json_add_string (b, "explanation", f->explanation);
      ecuw_json_add_string (b, "expected", f->expected);
      ecuw_json_add_string (b, "actual", f->actual);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  ecuw_print_json (b);
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

  if (ctx->json)
    print_json (uri, result);
  else
    print_text (result);
  return TRUE;
}
