/* ecuw-quote.c — `ecuw quote (--family FAMILY | --vin VIN | --link URI)
 * ITEM…`: what the customer asks for, as a priced job plan. With --link
 * the car is scanned first and its findings add work of their own.
 *
 * Rates and the fixed prices per kind of job come from the app's settings
 * when its schema is installed, else from the schema's defaults (90.00 GBP
 * an hour, 20 % VAT, no fixed prices); the planner itself never reads
 * settings. */
#include "config.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <string.h>

#include "ecuw-command.h"
#include "job/job-sheet.h"
#include "job/planner.h"
#include "vehicle/vin-match.h"

#define QUOTE_USAGE N_("usage: ecuw quote (--family FAMILY | --vin VIN | --link URI) " \
                       "[--pdf FILE [--registration REG] [--garage NAME]] ITEM… where ITEM is FEATURE=STATE, " \
                       "replace:MODULE[:used|:new] or recover:MODULE")

static gboolean
read_rates (EwPriceRates *rates, GError **error)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = NULL;
  g_autoptr(GSettings) settings = NULL;

  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, APP_ID, TRUE);
  /* run from the build folder, the schema may not be installed */
  if (schema == NULL || !g_settings_schema_has_key (schema, "labour-rate") ||
      !g_settings_schema_has_key (schema, "vat-percent") || !g_settings_schema_has_key (schema, "currency"))
    {
      ew_price_rates_init_default (rates);
      return TRUE;
    }
  settings = g_settings_new_full (schema, NULL, NULL);
  return ew_price_rates_init_from_settings (rates, settings, error);
}

static EwFamily *
family_from_vin (EcuwContext *ctx, const char *text, GError **error)
{
  g_autoptr(EwWmiTable) wmi_table = ew_wmi_table_load_default (error);
  g_autoptr(EwVin) vin = NULL;
  g_autoptr(GPtrArray) candidates = NULL;

  if (wmi_table == NULL)
    return NULL;
  vin = ew_vin_decode (text, wmi_table, FALSE, error);
  if (vin == NULL)
    return NULL;
  candidates = ew_vin_match_families (vin, ecuw_context_get_database (ctx));
  g_ptr_array_set_free_func (candidates, g_free);
  if (candidates->len == 0)
    {
      /* TRANSLATORS: %s is the VIN */
      g_set_error (error, ECUW_ERROR, ECUW_ERROR_NOT_FOUND,
                   _("No known vehicle family matches VIN %s; give --family instead"), text);
      return NULL;
    }
  return ((EwVinCandidate *) g_ptr_array_index (candidates, 0))->family;
}

static char *
format_minutes (guint minutes)
{
  if (minutes < 60)
    /* TRANSLATORS: labour time */
    return g_strdup_printf (_("%u min"), minutes);
  /* TRANSLATORS: labour time, hours and minutes */
  return g_strdup_printf (_("%u h %02u min"), minutes / 60, minutes % 60);
}

static void
add_money (JsonBuilder *b, const char *name, gint64 minor)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, minor);
}

static void
print_json (EcuwContext *ctx, const EwJobPlan *plan, EwFeatureCatalogue *catalogue)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autofree char *vat = ew_price_format_vat_percent (&plan->rates);

  json_builder_begin_object (b);
  if (catalogue != NULL)
    ecuw_car_add_members (b, ecuw_context_get_link (ctx), catalogue);
  else
    ecuw_json_add_string (b, "family", plan->family->id);
  ecuw_json_add_string (b, "currency", plan->rates.currency);
  json_builder_set_member_name (b, "minor_digits");
  json_builder_add_int_value (b, plan->rates.minor_digits);
  add_money (b, "labour_rate_minor", plan->rates.labour_rate_minor);
  ecuw_json_add_string (b, "vat_percent", vat);

  json_builder_set_member_name (b, "items");
  json_builder_begin_array (b);
  for (guint i = 0; i < plan->items->len; i++)
    {
      const EwPlanItem *item = g_ptr_array_index (plan->items, i);

      json_builder_begin_object (b);
      ecuw_json_add_string (b, "kind", ew_plan_item_kind_to_string (item->kind));
      ecuw_json_add_string (b, "class", ew_work_class_to_string (item->work_class));
      ecuw_json_add_string (b, "title", item->title);
      ecuw_json_add_string (b, "reason", item->reason);
      ecuw_json_add_string (b, "description", item->description);
      ecuw_json_add_string (b, "module", item->module->id);
      ecuw_json_add_string (b, "feature", item->feature != NULL ? item->feature->id : NULL);
      ecuw_json_add_string (b, "job", item->job != NULL ? item->job->id : NULL);
      json_builder_set_member_name (b, "from_scan");
      json_builder_add_boolean_value (b, item->is_from_scan);
      ecuw_json_add_string (b, "finding", item->finding);
      json_builder_set_member_name (b, "labour_minutes");
      json_builder_add_int_value (b, item->labour_minutes);
      add_money (b, "price_minor", item->price_minor);
      json_builder_set_member_name (b, "fixed_price");
      json_builder_add_boolean_value (b, item->is_fixed_price);
      json_builder_set_member_name (b, "operations");
      json_builder_begin_array (b);
      for (guint j = 0; j < item->operations->len; j++)
        {
          const EwPlanOperation *op = g_ptr_array_index (item->operations, j);

          json_builder_begin_object (b);
          ecuw_json_add_string (b, "kind", op->kind);
          ecuw_json_add_string (b, "class", ew_work_class_to_string (op->work_class));
          ecuw_json_add_string (b, "name", op->name);
          json_builder_set_member_name (b, "labour_minutes");
          json_builder_add_int_value (b, op->labour_minutes);
          add_money (b, "price_minor", op->price_minor);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "refused");
  json_builder_begin_array (b);
  for (guint i = 0; i < plan->refusals->len; i++)
    {
      const EwPlanRefusal *r = g_ptr_array_index (plan->refusals, i);

      json_builder_begin_object (b);
      ecuw_json_add_string (b, "subject", r->subject);
      ecuw_json_add_string (b, "title", r->title);
      ecuw_json_add_string (b, "reason", r->reason);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "labour_minutes");
  json_builder_add_int_value (b, plan->labour_minutes);
  add_money (b, "net_minor", plan->net_minor);
  add_money (b, "vat_minor", plan->vat_minor);
  add_money (b, "gross_minor", plan->gross_minor);
  json_builder_end_object (b);
  ecuw_print_json (b);
}

static const char *
class_label (EwWorkClass work_class)
{
  switch (work_class)
    {
    case EW_WORK_CLASS_PROGRAMMING: return _("programming");
    case EW_WORK_CLASS_ADAPTATION:  return _("adaptation");
    case EW_WORK_CLASS_CODING:
    default:                        return _("coding");
    }
}

static void
print_text (const EwJobPlan *plan, EwFeatureCatalogue *catalogue)
{
  const EwPriceRates *rates = &plan->rates;
  g_autofree char *vat_percent = ew_price_format_vat_percent (rates);
  g_autofree char *net = ew_money_format (rates, plan->net_minor);
  g_autofree char *vat = ew_money_format (rates, plan->vat_minor);
  g_autofree char *gross = ew_money_format (rates, plan->gross_minor);
  g_autofree char *total_time = format_minutes (plan->labour_minutes);
  g_autofree char *vat_label = NULL;

  if (catalogue != NULL)
    ecuw_car_print_line (catalogue);
  else
    g_print ("%s %s\n", plan->family->make, plan->family->model);

  if (plan->items->len == 0)
    g_print ("%s\n", _("No work to quote."));
  for (guint i = 0; i < plan->items->len; i++)
    {
      const EwPlanItem *item = g_ptr_array_index (plan->items, i);
      g_autofree char *time = format_minutes (item->labour_minutes);
      g_autofree char *price = ew_money_format (rates, item->price_minor);

      g_print ("\n%u. [%s] %s — %s, %s%s%s\n", i + 1, class_label (item->work_class), item->title,
               time, price, item->is_fixed_price ? _(" (fixed price)") : "",
               item->is_from_scan ? _(" (found by the scan)") : "");
      /* TRANSLATORS: the reason for the class of work, for the customer */
      g_print ("   %s %s\n", _("Why:"), item->reason);
      if (item->finding != NULL)
        g_print ("   %s %s\n", _("Found:"), item->finding);
      if (item->operations->len > 1)
        for (guint j = 0; j < item->operations->len; j++)
          {
            const EwPlanOperation *op = g_ptr_array_index (item->operations, j);
            g_autofree char *op_time = format_minutes (op->labour_minutes);
            g_autofree char *op_price = ew_money_format (rates, op->price_minor);

            g_print ("   - %-11s %s — %s, %s\n", class_label (op->work_class), op->name, op_time, op_price);
          }
    }

  if (plan->refusals->len > 0)
    {
      g_print ("\n%s\n", _("Not quoted:"));
      for (guint i = 0; i < plan->refusals->len; i++)
        {
          const EwPlanRefusal *r = g_ptr_array_index (plan->refusals, i);

          g_print ("  %s: %s\n", r->title, r->reason);
        }
    }

  /* TRANSLATORS: %s is the VAT rate, e.g. "20" */
  vat_label = g_strdup_printf (_("VAT %s %%"), vat_percent);
  g_print ("\n%-12s %s\n", _("Labour"), total_time);
  g_print ("%-12s %s\n", _("Net"), net);
  g_print ("%-12s %s\n", vat_label, vat);
  g_print ("%-12s %s\n", _("Total"), gross);
}

gboolean
ecuw_cmd_quote (EcuwContext *ctx, int argc, char **argv, GError **error)
{
  g_autoptr(EwJobRequest) request = ew_job_request_new ();
  g_autoptr(EwJobPlan) plan = NULL;
  g_auto(EcuwCar) car = { 0 };
  EwPriceRates rates;
  const char *family_id = NULL, *vin = NULL;
  const char *pdf_path = NULL, *registration = NULL, *garage = NULL;
  EwFamily *family = NULL;
  guint n_items = 0, n_sources;

  for (int i = 1; i < argc; i++)
    {
      if ((g_str_equal (argv[i], "--family") || g_str_equal (argv[i], "--vin")) && i + 1 < argc)
        {
          if (g_str_equal (argv[i], "--family"))
            family_id = argv[++i];
          else
            vin = argv[++i];
        }
      else if ((g_str_equal (argv[i], "--pdf") || g_str_equal (argv[i], "--registration") ||
                g_str_equal (argv[i], "--garage")) && i + 1 < argc)
        {
          const char *name = argv[i++];

          if (g_str_equal (name, "--pdf"))
            pdf_path = argv[i];
          else if (g_str_equal (name, "--registration"))
            registration = argv[i];
          else
            garage = argv[i];
        }
      else if (g_str_has_prefix (argv[i], "--pdf="))
        pdf_path = argv[i] + strlen ("--pdf=");
      else if (g_str_has_prefix (argv[i], "--registration="))
        registration = argv[i] + strlen ("--registration=");
      else if (g_str_has_prefix (argv[i], "--garage="))
        garage = argv[i] + strlen ("--garage=");
      else if (g_str_has_prefix (argv[i], "--family="))
        family_id = argv[i] + strlen ("--family=");
      else if (g_str_has_prefix (argv[i], "--vin="))
        vin = argv[i] + strlen ("--vin=");
      else if (argv[i][0] == '-')
        {
          g_set_error_literal (error, ECUW_ERROR, ECUW_ERROR_USAGE, _(QUOTE_USAGE));
          return FALSE;
        }
      else
        {
          if (!ew_job_request_add_item (request, argv[i], error))
            return FALSE;
          n_items++;
        }
    }
  n_sources = (family_id != NULL) + (vin != NULL) + (ctx->link_uri != NULL);
  if (n_items == 0 || n_sources != 1)
    {
      g_set_error_literal (error, ECUW_ERROR, ECUW_ERROR_USAGE, _(QUOTE_USAGE));
      return FALSE;
    }

  if (!read_rates (&rates, error))
    return FALSE;

  if (family_id != NULL)
    {
      family = ew_vehicle_database_find_family (ecuw_context_get_database (ctx), family_id);
      if (family == NULL)
        {
          /* TRANSLATORS: %s is the family id as typed */
          g_set_error (error, ECUW_ERROR, ECUW_ERROR_NOT_FOUND,
                       _("No vehicle family “%s”; see ecuw vehicles"), family_id);
          return FALSE;
        }
    }
  else if (vin != NULL)
    {
      family = family_from_vin (ctx, vin, error);
      if (family == NULL)
        return FALSE;
    }
  else
    {
      if (!ecuw_car_read (ctx, &car, error))
        return FALSE;
      family = ew_feature_catalogue_get_family (car.catalogue);
    }

  plan = ew_job_plan_new (family, request, car.scan, car.catalogue, &rates, error);
  if (plan == NULL)
    return FALSE;

  if (pdf_path != NULL)
    {
      EwJobSheetInfo info = { 0 };
      g_autoptr(EwJobSheet) sheet = NULL;

      info.garage_name = garage;
      info.registration = registration;
      info.vin = vin != NULL ? vin : (car.catalogue != NULL ? ew_feature_catalogue_get_vin (car.catalogue) : NULL);
      sheet = ew_job_sheet_new (plan, &info, NULL, error);
      if (sheet == NULL || !ew_job_sheet_write_pdf (sheet, pdf_path, error))
        return FALSE;
    }

  if (ctx->json)
    print_json (ctx, plan, car.catalogue);
  else
    print_text (plan, car.catalogue);
  return TRUE;
}
