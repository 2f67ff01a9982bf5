/* scan-record.c — scans as JSON and as job-store snapshots. */
#include "scan-record.h"

static void
add_string (JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name (b, name);
  if (value != NULL)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

static void
add_module (JsonBuilder *b, const EwScanModule *m)
{
  json_builder_begin_object (b);
  add_string (b, "id", m->module->id);
  add_string (b, "name", m->module->name);
  add_string (b, "kind", ew_module_kind_to_string (m->module->kind));
  add_string (b, "state", ew_scan_module_state_to_string (m->state));
  add_string (b, "vin", m->vin);
  add_string (b, "part_number", m->part_number);
  add_string (b, "software_version", m->software_version);
  add_string (b, "hardware_version", m->hardware_version);
  add_string (b, "serial_number", m->serial_number);
  add_string (b, "supplier", m->supplier);
  add_string (b, "programming_date", m->programming_date);
  json_builder_set_member_name (b, "simulated");
  json_builder_add_boolean_value (b, m->is_simulated);
  /* millivolts; null where the module does not report it */
  json_builder_set_member_name (b, "supply_voltage_mv");
  if (m->supply_voltage_mv != 0)
    json_builder_add_int_value (b, m->supply_voltage_mv);
  else
    json_builder_add_null_value (b);
  add_string (b, "error", m->error_message);
  json_builder_set_member_name (b, "duration_ms");
  json_builder_add_int_value (b, m->duration_ms);
  json_builder_end_object (b);
}

static void
add_finding (JsonBuilder *b, const EwScanFinding *f)
{
  json_builder_begin_object (b);
  add_string (b, "kind", ew_finding_kind_to_string (f->kind));
  add_string (b, "module", f->module->id);
  add_string (b, "title", f->title);
  add_string (b, "explanation", f->explanation);
  add_string (b, "expected", f->expected);
  add_string (b, "actual", f->actual);
  json_builder_end_object (b);
}

JsonNode *
ew_scan_result_to_json (const EwScanResult *result,
                        const char         *link_uri)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  add_string (b, "link", link_uri);
  add_string (b, "family", result->family->id);
  add_string (b, "vin", result->vin);
  json_builder_set_member_name (b, "simulated");
  json_builder_add_boolean_value (b, result->is_simulated);
  json_builder_set_member_name (b, "duration_ms");
  json_builder_add_int_value (b, result->duration_ms);

  json_builder_set_member_name (b, "modules");
  json_builder_begin_array (b);
  for (guint i = 0; i < result->modules->len; i++)
    add_module (b, g_ptr_array_index (result->modules, i));
  json_builder_end_array (b);

  json_builder_set_member_name (b, "findings");
  json_builder_begin_array (b);
  for (guint i = 0; i < result->findings->len; i++)
    add_finding (b, g_ptr_array_index (result->findings, i));
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

gboolean
ew_scan_result_record (const EwScanResult *result,
                       const char         *link_uri,
                       EwJobStore         *store,
                       GError            **error)
{
  g_autoptr(JsonNode) root = ew_scan_result_to_json (result, link_uri);
  g_autofree char *json = json_to_string (root, FALSE);

  if (result->vin != NULL
      && !ew_job_store_note_vehicle (store, result->vin, result->family->id, NULL, error))
    return FALSE;
  return ew_job_store_add_scan (store, result->vin, result->family->id, json, error);
}
