/* ecuw-vin.c — `ecuw vin VIN`: decode a VIN and match vehicle families. */
#include "config.h"

#include <glib/gi18n.h>

#include "ecuw-command.h"
#include "vehicle/vin-match.h"

static void
add_year_range (JsonBuilder *b, const char *name, guint from, guint to)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  json_builder_add_int_value (b, from);
  json_builder_add_int_value (b, to);
  json_builder_end_array (b);
}

static void
print_json (const EwVin *vin, GPtrArray *candidates)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  char actual[2] = { vin->vin[8], 0 };
  char expected[2] = { vin->expected_check_digit, 0 };
  char year_char[2] = { vin->vin[9], 0 };

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "vin");
  json_builder_add_string_value (b, vin->vin);

  json_builder_set_member_name (b, "wmi");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, vin->wmi);
  if (vin->wmi_entry != NULL)
    {
      json_builder_set_member_name (b, "make");
      json_builder_add_string_value (b, vin->wmi_entry->make);
      json_builder_set_member_name (b, "manufacturer");
      json_builder_add_string_value (b, vin->wmi_entry->manufacturer);
      json_builder_set_member_name (b, "country");
      json_builder_add_string_value (b, vin->wmi_entry->country);
      json_builder_set_member_name (b, "source");
      json_builder_add_string_value (b, vin->wmi_entry->source);
    }
  json_builder_end_object (b);

  json_builder_set_member_name (b, "vds");
  json_builder_add_string_value (b, vin->vds);
  json_builder_set_member_name (b, "vis");
  json_builder_add_string_value (b, vin->vis);

  json_builder_set_member_name (b, "check_digit");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "status");
  json_builder_add_string_value (b, ew_vin_check_to_string (vin->check));
  json_builder_set_member_name (b, "position_9");
  json_builder_add_string_value (b, actual);
  json_builder_set_member_name (b, "expected");
  json_builder_add_string_value (b, expected);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "year_code");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "character");
  json_builder_add_string_value (b, year_char);
  json_builder_set_member_name (b, "years");
  json_builder_begin_array (b);
  for (guint i = 0; i < G_N_ELEMENTS (vin->year_code_years); i++)
    if (vin->year_code_years[i] != 0)
      json_builder_add_int_value (b, vin->year_code_years[i]);
  json_builder_end_array (b);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "model_year");
  if (vin->model_year != 0)
    json_builder_add_int_value (b, vin->model_year);
  else
    json_builder_add_null_value (b);

  json_builder_set_member_name (b, "candidates");
  json_builder_begin_array (b);
  for (guint i = 0; i < candidates->len; i++)
    {
      const EwVinCandidate *c = g_ptr_array_index (candidates, i);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "family");
      json_builder_add_string_value (b, c->family->id);
      json_builder_set_member_name (b, "make");
      json_builder_add_string_value (b, c->family->make);
      json_builder_set_member_name (b, "model");
      json_builder_add_string_value (b, c->family->model);
      json_builder_set_member_name (b, "chassis");
      if (c->chassis != NULL)
        json_builder_add_string_value (b, c->chassis);
      else
        json_builder_add_null_value (b);
      add_year_range (b, "years", c->years_from, c->years_to);
      json_builder_set_member_name (b, "vds_matched");
      json_builder_add_boolean_value (b, c->vds_matched);
      json_builder_set_member_name (b, "year_matched");
      json_builder_add_boolean_value (b, c->year_matched);
      json_builder_set_member_name (b, "check_digit");
      json_builder_add_string_value (b, ew_vin_check_to_string (c->check));
      json_builder_set_member_name (b, "score");
      json_builder_add_int_value (b, c->score);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);

  ecuw_print_json (b);
}

static const char *
check_text (EwVinCheck check)
{
  switch (check)
    {
    case EW_VIN_CHECK_VALID:
      return _("valid");
    case EW_VIN_CHECK_INVALID:
      return _("invalid");
    case EW_VIN_CHECK_NOT_APPLICABLE:
    default:
      return _("not applicable");
    }
}

static void
print_text (const EwVin *vin, GPtrArray *candidates)
{
  g_print ("%-14s %s\n", _("VIN"), vin->vin);
  if (vin->wmi_entry != NULL)
    g_print ("%-14s %s — %s, %s\n", _("WMI"), vin->wmi,
             vin->wmi_entry->manufacturer, vin->wmi_entry->country);
  else
    g_print ("%-14s %s — %s\n", _("WMI"), vin->wmi, _("unknown manufacturer"));
  g_print ("%-14s %s\n", _("VDS"), vin->vds);
  g_print ("%-14s %s\n", _("VIS"), vin->vis);
  /* TRANSLATORS: "valid (position 9: 5, computed: 5)" */
  g_print ("%-14s %s (%s %c, %s %c)\n", _("Check digit"), check_text (vin->check),
           _("position 9:"), vin->vin[8], _("computed:"), vin->expected_check_digit);
  if (vin->model_year != 0)
    g_print ("%-14s %u\n", _("Model year"), vin->model_year);
  else if (vin->year_code_years[0] != 0)
    g_print ("%-14s %u %s %u %s\n", _("Year code"), vin->year_code_years[0], _("or"),
             vin->year_code_years[1], _("if position 10 is a year code for this make"));

  if (candidates->len == 0)
    {
      g_print ("%-14s %s\n", _("Families"), _("no known vehicle family matches this VIN"));
      return;
    }
  for (guint i = 0; i < candidates->len; i++)
    {
      const EwVinCandidate *c = g_ptr_array_index (candidates, i);

      g_print ("%-14s %-16s %s %s%s%s %u–%u\n", i == 0 ? _("Families") : "",
               c->family->id, c->family->make, c->family->model,
               c->chassis ? " " : "", c->chassis ? c->chassis : "",
               c->years_from, c->years_to);
    }
}

gboolean
ecuw_cmd_vin (EcuwContext *ctx, int argc, char **argv, GError **error)
{
  g_autoptr(EwWmiTable) wmi_table = NULL;
  g_autoptr(EwVin) vin = NULL;
  g_autoptr(GPtrArray) candidates = NULL;

  if (argc != 2)
    {
      g_set_error_literal (error, ECUW_ERROR, ECUW_ERROR_USAGE,
                           _("usage: ecuw vin VIN (17 characters)"));
      return FALSE;
    }

  wmi_table = ew_wmi_table_load_default (error);
  if (wmi_table == NULL)
    return FALSE;

  vin = ew_vin_decode (argv[1], wmi_table, FALSE, error);
  if (vin == NULL)
    return FALSE;

  candidates = ew_vin_match_families (vin, ecuw_context_get_database (ctx));

  if (ctx->json)
    print_json (vin, candidates);
  else
    print_text (vin, candidates);
  return TRUE;
}
