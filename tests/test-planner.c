/* test-planner.c — the job planner and its prices: each rule with the
 * shipped families, work raised by the scan of the simulated car, the
 * rounding of prices and VAT, refusals, and `ecuw quote`.
 */
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "coding/catalogue.h"
#include "job/planner.h"
#include "vehicle/database.h"
#include "test-util.h"

static EwVehicleDatabase *db;

static EwFamily *
family (const char *id)
{
  EwFamily *f = ew_vehicle_database_find_family (db, id);

  g_assert_nonnull (f);
  return f;
}

/* Every plan's money adds up: operations to items, items to net, and
 * net + VAT to gross, exactly. */
static void
assert_totals (const EwJobPlan *plan)
{
  gint64 net = 0;
  guint minutes = 0;

  for (guint i = 0; i < plan->items->len; i++)
    {
      const EwPlanItem *item = g_ptr_array_index (plan->items, i);
      gint64 sum = 0;
      guint item_minutes = 0;

      g_assert_cmpuint (item->operations->len, >, 0);
      g_assert_nonnull (item->reason);
      for (guint j = 0; j < item->operations->len; j++)
        {
          const EwPlanOperation *op = g_ptr_array_index (item->operations, j);

          /* a fixed price is shared out; otherwise labour time at the rate */
          if (item->is_fixed_price)
            g_assert_cmpint (op->price_minor, >=, 0);
          else
            g_assert_cmpint (op->price_minor, ==, ew_price_labour (&plan->rates, op->labour_minutes));
          sum += op->price_minor;
          item_minutes += op->labour_minutes;
        }
      g_assert_cmpint (item->price_minor, ==, sum);
      g_assert_cmpuint (item->labour_minutes, ==, item_minutes);
      net += item->price_minor;
      minutes += item->labour_minutes;
    }
  g_assert_cmpint (plan->net_minor, ==, net);
  g_assert_cmpuint (plan->labour_minutes, ==, minutes);
  g_assert_cmpint (plan->vat_minor, ==, ew_price_vat (&plan->rates, net));
  g_assert_cmpint (plan->gross_minor, ==, plan->net_minor + plan->vat_minor);
}

/* Plans items (NULL-terminated) on family_id at the default rates. */
static EwJobPlan *
plan_full (const char *family_id, const EwScanResult *scan, EwFeatureCatalogue *catalogue,
           const EwPriceRates *rates, GError **error, const char *const *items)
{
  g_autoptr(EwJobRequest) request = ew_job_request_new ();
  EwPriceRates defaults;
  EwJobPlan *plan;

  ew_price_rates_init_default (&defaults);
  for (guint i = 0; items[i] != NULL; i++)
    if (!ew_job_request_add_item (request, items[i], error))
      return NULL;
  plan = ew_job_plan_new (family (family_id), request, scan, catalogue,
                          rates != NULL ? rates : &defaults, error);
  if (plan != NULL)
    assert_totals (plan);
  return plan;
}

static EwJobPlan *
plan_ok (const char *family_id, const char *const *items)
{
  g_autoptr(GError) error = NULL;
  EwJobPlan *plan = plan_full (family_id, NULL, NULL, NULL, &error, items);

  g_assert_no_error (error);
  g_assert_nonnull (plan);
  return plan;
}

#define ITEMS(...) ((const char *const[]) { __VA_ARGS__, NULL })

static const EwPlanItem *
item_at (const EwJobPlan *plan, guint i)
{
  g_assert_cmpuint (i, <, plan->items->len);
  return g_ptr_array_index (plan->items, i);
}

static const EwPlanItem *find_item_of_kind (const EwJobPlan *plan, EwPlanItemKind kind);

static gboolean
has_operation (const EwPlanItem *item, const char *kind, EwWorkClass work_class)
{
  for (guint i = 0; i < item->operations->len; i++)
    {
      const EwPlanOperation *op = g_ptr_array_index (item->operations, i);

      if (g_str_equal (op->kind, kind) && op->work_class == work_class)
        return TRUE;
    }
  return FALSE;
}

/* ---- prices ---- */

static void
test_divide_round (void)
{
  static const struct { gint64 n, d, q; } cases[] = {
    { 0, 60, 0 }, { 29, 60, 0 }, { 30, 60, 1 }, { 31, 60, 1 }, { 89, 60, 1 }, { 90, 60, 2 },
    { -29, 60, 0 }, { -30, 60, -1 }, { -90, 60, -2 }, { 5, 10, 1 }, { 15, 10, 2 }, { 25, 10, 3 },
    { 49999, 100000, 0 }, { 50000, 100000, 1 }, { G_GINT64_CONSTANT (9000000000000000000), 1, G_GINT64_CONSTANT (9000000000000000000) },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    g_assert_cmpint (ew_money_divide_round (cases[i].n, cases[i].d), ==, cases[i].q);
}

static void
test_rates (void)
{
  g_autoptr(GError) error = NULL;
  EwPriceRates rates;

  ew_price_rates_init_default (&rates);
  g_assert_cmpint (rates.labour_rate_minor, ==, 9000);
  g_assert_cmpuint (rates.vat_millipercent, ==, 20000);
  g_assert_cmpstr (rates.currency, ==, "GBP");
  g_assert_cmpuint (rates.minor_digits, ==, 2);

  /* 7.7 and 85.55 are not exact in binary; the rates are still exact */
  g_assert_true (ew_price_rates_init (&rates, 85.55, 7.7, "CHF", &error));
  g_assert_no_error (error);
  g_assert_cmpint (rates.labour_rate_minor, ==, 8555);
  g_assert_cmpuint (rates.vat_millipercent, ==, 7700);
  g_assert_true (ew_price_rates_init (&rates, 0.005, 17.5, "EUR", &error));
  g_assert_cmpint (rates.labour_rate_minor, ==, 1);       /* half a cent rounds up */
  g_assert_true (ew_price_rates_init (&rates, 9000, 10, "JPY", &error));
  g_assert_cmpuint (rates.minor_digits, ==, 0);
  g_assert_cmpint (rates.labour_rate_minor, ==, 9000);
  g_assert_true (ew_price_rates_init (&rates, 30.5, 5, "KWD", &error));
  g_assert_cmpint (rates.labour_rate_minor, ==, 30500);

  g_assert_false (ew_price_rates_init (&rates, -1, 20, "GBP", &error));
  g_assert_error (error, EW_PRICE_ERROR, EW_PRICE_ERROR_INVALID_RATE);
  g_clear_error (&error);
  g_assert_false (ew_price_rates_init (&rates, NAN, 20, "GBP", &error));
  g_assert_error (error, EW_PRICE_ERROR, EW_PRICE_ERROR_INVALID_RATE);
  g_clear_error (&error);
  g_assert_false (ew_price_rates_init (&rates, 90, 101, "GBP", &error));
  g_assert_error (error, EW_PRICE_ERROR, EW_PRICE_ERROR_INVALID_RATE);
  g_clear_error (&error);
  g_assert_false (ew_price_rates_init (&rates, 90, 20, "gbp", &error));
  g_assert_error (error, EW_PRICE_ERROR, EW_PRICE_ERROR_INVALID_CURRENCY);
  g_clear_error (&error);
  g_assert_false (ew_price_rates_init (&rates, 90, 20, "GB", &error));
  g_assert_error (error, EW_PRICE_ERROR, EW_PRICE_ERROR_INVALID_CURRENCY);
}

static void
test_labour_and_vat (void)
{
  EwPriceRates rates;

  ew_price_rates_init_default (&rates);
  g_assert_cmpint (ew_price_labour (&rates, 0), ==, 0);
  g_assert_cmpint (ew_price_labour (&rates, 1), ==, 150);
  g_assert_cmpint (ew_price_labour (&rates, 15), ==, 2250);
  g_assert_cmpint (ew_price_labour (&rates, 90), ==, 13500);

  /* 85.55 an hour: 7 min = 9.98083… -> 9.98; 11 min = 15.68416… -> 15.68 */
  g_assert_true (ew_price_rates_init (&rates, 85.55, 20, "GBP", NULL));
  g_assert_cmpint (ew_price_labour (&rates, 7), ==, 998);
  g_assert_cmpint (ew_price_labour (&rates, 11), ==, 1568);
  /* 0.30 an hour: one minute is exactly half a penny: away from zero */
  g_assert_true (ew_price_rates_init (&rates, 0.30, 20, "GBP", NULL));
  g_assert_cmpint (ew_price_labour (&rates, 1), ==, 1);
  g_assert_cmpint (ew_price_labour (&rates, 3), ==, 2);   /* 1.5 -> 2 */

  g_assert_true (ew_price_rates_init (&rates, 90, 20, "GBP", NULL));
  g_assert_cmpint (ew_price_vat (&rates, 2), ==, 0);      /* 0.4 */
  g_assert_cmpint (ew_price_vat (&rates, 3), ==, 1);      /* 0.6 */
  g_assert_cmpint (ew_price_vat (&rates, 38250), ==, 7650);
  g_assert_true (ew_price_rates_init (&rates, 90, 10, "GBP", NULL));
  g_assert_cmpint (ew_price_vat (&rates, 5), ==, 1);      /* 0.5 exactly */
  g_assert_cmpint (ew_price_vat (&rates, 15), ==, 2);     /* 1.5 exactly */
  g_assert_true (ew_price_rates_init (&rates, 90, 17.5, "GBP", NULL));
  g_assert_cmpint (ew_price_vat (&rates, 20), ==, 4);     /* 3.5 exactly */
  g_assert_cmpint (ew_price_vat (&rates, 2), ==, 0);      /* 0.35 */
  g_assert_true (ew_price_rates_init (&rates, 90, 7.7, "CHF", NULL));
  g_assert_cmpint (ew_price_vat (&rates, 10000), ==, 770);
  g_assert_cmpint (ew_price_vat (&rates, 65), ==, 5);     /* 5.005 */
  g_assert_true (ew_price_rates_init (&rates, 90, 0, "GBP", NULL));
  g_assert_cmpint (ew_price_vat (&rates, 12345), ==, 0);
}

static void
test_format (void)
{
  EwPriceRates rates;
  g_autofree char *a = ew_money_format_amount (12345, 2);
  g_autofree char *b = ew_money_format_amount (5, 2);
  g_autofree char *c = ew_money_format_amount (-5, 2);
  g_autofree char *d = ew_money_format_amount (9000, 0);
  g_autofree char *e = ew_money_format_amount (30500, 3);
  g_autofree char *f = NULL, *g = NULL, *h = NULL;

  g_assert_cmpstr (a, ==, "123.45");
  g_assert_cmpstr (b, ==, "0.05");
  g_assert_cmpstr (c, ==, "-0.05");
  g_assert_cmpstr (d, ==, "9000");
  g_assert_cmpstr (e, ==, "30.500");
  ew_price_rates_init_default (&rates);
  f = ew_money_format (&rates, 45900);
  g_assert_cmpstr (f, ==, "459.00 GBP");
  g = ew_price_format_vat_percent (&rates);
  g_assert_cmpstr (g, ==, "20");
  g_assert_true (ew_price_rates_init (&rates, 90, 7.7, "CHF", NULL));
  h = ew_price_format_vat_percent (&rates);
  g_assert_cmpstr (h, ==, "7.7");
}

/* Each line is rounded, then summed: two 15-minute lines at 0.02 an hour
 * are half a penny each, so a penny each, 0.02 together, where the
 * 30 minutes as one sum would be 0.01. */
static void
test_round_each_line (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EwJobPlan) plan = NULL;
  EwPriceRates rates;

  g_assert_true (ew_price_rates_init (&rates, 0.02, 20, "GBP", NULL));
  plan = plan_full ("bmw-f30", NULL, NULL, &rates, &error,
                    ITEMS ("cornering-lights=on", "video-in-motion=on"));
  g_assert_no_error (error);
  g_assert_cmpuint (plan->items->len, ==, 2);
  g_assert_cmpint (item_at (plan, 0)->price_minor, ==, 1);
  g_assert_cmpint (item_at (plan, 1)->price_minor, ==, 1);
  g_assert_cmpint (plan->net_minor, ==, 2);
  g_assert_cmpint (ew_price_labour (&rates, plan->labour_minutes), ==, 1);
  g_assert_cmpint (plan->vat_minor, ==, 0);   /* 0.4 */
  g_assert_cmpint (plan->gross_minor, ==, 2);
}

/* ---- rules ---- */

static void
test_feature_coding (void)
{
  g_autoptr(EwJobPlan) plan = plan_ok ("bmw-f30", ITEMS ("cornering-lights=on"));
  const EwFeature *feature = ew_family_find_feature (plan->family, "cornering-lights");
  const EwPlanItem *item = item_at (plan, 0);

  g_assert_cmpuint (plan->items->len, ==, 1);
  g_assert_cmpint (item->kind, ==, EW_PLAN_ITEM_FEATURE);
  g_assert_cmpint (item->work_class, ==, EW_WORK_CLASS_CODING);
  g_assert_true (item->feature == feature);
  g_assert_cmpstr (item->reason, ==, feature->reason);
  g_assert_cmpstr (item->title, ==, "Cornering lights: On");
  g_assert_cmpstr (item->module->id, ==, "fem");
  g_assert_false (item->is_from_scan);
  g_assert_cmpuint (item->labour_minutes, ==, 15);
  g_assert_cmpint (item->price_minor, ==, 2250);
  g_assert_cmpint (plan->net_minor, ==, 2250);
  g_assert_cmpint (plan->vat_minor, ==, 450);
  g_assert_cmpint (plan->gross_minor, ==, 2700);
}

static void
test_feature_adaptation (void)
{
  g_autoptr(EwJobPlan) plan = plan_ok ("vw-golf-mk7", ITEMS ("battery-adaptation=agm-70ah"));

  g_assert_cmpint (item_at (plan, 0)->work_class, ==, EW_WORK_CLASS_ADAPTATION);
  g_assert_true (has_operation (item_at (plan, 0), "adapt", EW_WORK_CLASS_ADAPTATION));
}

static void
test_feature_programming (void)
{
  static const struct { const char *family, *feature; } cases[] = {
    { "bmw-f30", "carplay-software" }, { "mercedes-w205", "smartphone-integration-software" },
    { "vw-golf-mk7", "app-connect-software" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *on = g_strdup_printf ("%s=on", cases[i].feature);
      g_autofree char *off = g_strdup_printf ("%s=off", cases[i].feature);
      g_autoptr(EwJobPlan) plan = plan_ok (cases[i].family, ITEMS (on));
      g_autoptr(EwJobPlan) refused = NULL;
      g_autoptr(GError) error = NULL;
      const EwFeature *feature = ew_family_find_feature (plan->family, cases[i].feature);

      g_assert_cmpuint (plan->items->len, ==, 1);
      g_assert_cmpint (item_at (plan, 0)->work_class, ==, EW_WORK_CLASS_PROGRAMMING);
      g_assert_cmpstr (item_at (plan, 0)->reason, ==, feature->reason);
      g_assert_cmpuint (item_at (plan, 0)->labour_minutes, ==, feature->labour_minutes);

      refused = plan_full (cases[i].family, NULL, NULL, NULL, &error, ITEMS (off));
      g_assert_error (error, EW_PLANNER_ERROR, EW_PLANNER_ERROR_UNKNOWN_STATE);
      g_assert_null (refused);
    }
}

/* Replacing a module picks the family's template by the module's kind. */
static void
test_replacements (void)
{
  static const struct {
    const char *family, *item, *job;
    EwPlanItemKind kind;
    EwWorkClass work_class;
    const char *must_have;      /* an operation kind of that class */
  } cases[] = {
    { "bmw-f30", "replace:dme", "dme-swap", EW_PLAN_ITEM_ECU_SWAP, EW_WORK_CLASS_PROGRAMMING, "program" },
    { "mercedes-w205", "replace:engine:new", "engine-swap", EW_PLAN_ITEM_ECU_SWAP, EW_WORK_CLASS_PROGRAMMING, "program" },
    { "vw-golf-mk7", "replace:engine:used", "engine-swap", EW_PLAN_ITEM_ECU_SWAP, EW_WORK_CLASS_PROGRAMMING, "program" },
    { "bmw-f30", "replace:kombi:used", "used-kombi", EW_PLAN_ITEM_USED_CLUSTER, EW_WORK_CLASS_PROGRAMMING, "program" },
    { "mercedes-w205", "replace:ic", "used-cluster", EW_PLAN_ITEM_USED_CLUSTER, EW_WORK_CLASS_PROGRAMMING, "program" },
    { "vw-golf-mk7", "replace:cluster", "used-cluster", EW_PLAN_ITEM_USED_CLUSTER, EW_WORK_CLASS_PROGRAMMING, "program" },
    { "bmw-f30", "replace:fem:new", "fem-replace", EW_PLAN_ITEM_BODY_MODULE, EW_WORK_CLASS_PROGRAMMING, "program" },
    { "mercedes-w205", "replace:sam-front", "sam-front-replace", EW_PLAN_ITEM_BODY_MODULE, EW_WORK_CLASS_PROGRAMMING, "program" },
    { "vw-golf-mk7", "replace:central-electrics", "central-electrics-replace", EW_PLAN_ITEM_BODY_MODULE, EW_WORK_CLASS_PROGRAMMING, "program" },
    { "bmw-f30", "replace:pma:used", "pdc-retrofit", EW_PLAN_ITEM_RETROFIT, EW_WORK_CLASS_CODING, "vin-write" },
    { "mercedes-w205", "replace:parktronic", "parktronic-retrofit", EW_PLAN_ITEM_RETROFIT, EW_WORK_CLASS_CODING, "vin-write" },
    { "vw-golf-mk7", "replace:park-assist", "park-assist-retrofit", EW_PLAN_ITEM_RETROFIT, EW_WORK_CLASS_CODING, "code-module" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(EwJobPlan) plan = plan_ok (cases[i].family, ITEMS (cases[i].item));
      const EwPlanItem *item = item_at (plan, 0);

      g_test_message ("%s %s", cases[i].family, cases[i].item);
      g_assert_cmpuint (plan->items->len, ==, 1);
      g_assert_nonnull (item->job);
      g_assert_cmpstr (item->job->id, ==, cases[i].job);
      g_assert_cmpint (item->kind, ==, cases[i].kind);
      g_assert_cmpint (item->work_class, ==, cases[i].work_class);
      g_assert_cmpuint (item->operations->len, ==, item->job->operations->len);
      g_assert_true (has_operation (item, cases[i].must_have, cases[i].kind == EW_PLAN_ITEM_RETROFIT
                                                              ? EW_WORK_CLASS_CODING : EW_WORK_CLASS_PROGRAMMING));
      if (cases[i].kind == EW_PLAN_ITEM_RETROFIT)
        for (guint j = 0; j < item->operations->len; j++)
          g_assert_cmpint (((EwPlanOperation *) g_ptr_array_index (item->operations, j))->work_class,
                           ==, EW_WORK_CLASS_CODING);
      if (cases[i].kind == EW_PLAN_ITEM_USED_CLUSTER)
        {
          g_assert_true (has_operation (item, "vin-write", EW_WORK_CLASS_CODING));
          g_assert_true (has_operation (item, "mileage-transfer", EW_WORK_CLASS_ADAPTATION));
        }
      if (cases[i].kind == EW_PLAN_ITEM_ECU_SWAP)
        g_assert_nonnull (strstr (item->reason, "oding alone will not"));
    }
}

/* The garage's fixed prices per kind of job: a line of that kind costs
 * exactly the fixed price, its operations share it out by labour time, a
 * feature line and other kinds stay priced by labour time, and the totals
 * and VAT are exact. */
static void
test_fixed_price (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EwJobPlan) labour_plan = NULL;
  g_autoptr(EwJobPlan) plan = NULL;
  g_autoptr(GVariant) prices = NULL;
  GVariantBuilder builder;
  EwPriceRates rates;
  const EwPlanItem *swap, *cluster, *coding, *by_labour;
  gint64 shares = 0;

  ew_price_rates_init_default (&rates);
  g_assert_cmpint (ew_price_rates_get_template_price (&rates, EW_JOB_ECU_SWAP), ==, 0);
  /* 333.33 net: 20 % VAT of the whole quote is rounded once */
  g_assert_true (ew_price_rates_set_template_price (&rates, "ecu-swap", 33333, &error));
  g_assert_no_error (error);
  g_assert_cmpint (ew_price_rates_get_template_price (&rates, EW_JOB_ECU_SWAP), ==, 33333);

  /* bad kinds and prices change nothing */
  g_assert_false (ew_price_rates_set_template_price (&rates, "oil-change", 100, &error));
  g_assert_error (error, EW_PRICE_ERROR, EW_PRICE_ERROR_INVALID_TEMPLATE);
  g_clear_error (&error);
  g_assert_false (ew_price_rates_set_template_price (&rates, "ecu-swap", -1, &error));
  g_assert_error (error, EW_PRICE_ERROR, EW_PRICE_ERROR_INVALID_RATE);
  g_clear_error (&error);
  g_assert_cmpint (ew_price_rates_get_template_price (&rates, EW_JOB_ECU_SWAP), ==, 33333);
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{sx}"));
  g_variant_builder_add (&builder, "{sx}", "used-cluster", (gint64) 12000);
  g_variant_builder_add (&builder, "{sx}", "no-such-kind", (gint64) 100);
  prices = g_variant_ref_sink (g_variant_builder_end (&builder));
  g_assert_false (ew_price_rates_set_template_prices (&rates, prices, &error));
  g_assert_error (error, EW_PRICE_ERROR, EW_PRICE_ERROR_INVALID_TEMPLATE);
  g_clear_error (&error);
  g_assert_cmpint (ew_price_rates_get_template_price (&rates, EW_JOB_USED_CLUSTER), ==, 0);
  g_assert_cmpint (ew_price_rates_get_template_price (&rates, EW_JOB_ECU_SWAP), ==, 33333);

  labour_plan = plan_ok ("bmw-f30", ITEMS ("replace:dme", "replace:kombi:used", "cornering-lights=on"));
  plan = plan_full ("bmw-f30", NULL, NULL, &rates, &error,
                    ITEMS ("replace:dme", "replace:kombi:used", "cornering-lights=on"));
  g_assert_no_error (error);
  g_assert_cmpuint (plan->items->len, ==, 3);
  swap = find_item_of_kind (plan, EW_PLAN_ITEM_ECU_SWAP);
  cluster = find_item_of_kind (plan, EW_PLAN_ITEM_USED_CLUSTER);
  coding = find_item_of_kind (plan, EW_PLAN_ITEM_FEATURE);
  by_labour = find_item_of_kind (labour_plan, EW_PLAN_ITEM_ECU_SWAP);

  g_assert_true (swap->is_fixed_price);
  g_assert_cmpint (swap->price_minor, ==, 33333);
  g_assert_cmpint (swap->work_class, ==, EW_WORK_CLASS_PROGRAMMING);
  /* the time is still the work's: the customer's car is needed as long */
  g_assert_cmpuint (swap->labour_minutes, ==, by_labour->labour_minutes);
  g_assert_cmpint (by_labour->price_minor, !=, 33333);
  g_assert_false (by_labour->is_fixed_price);
  for (guint i = 0; i < swap->operations->len; i++)
    {
      const EwPlanOperation *op = g_ptr_array_index (swap->operations, i);

      /* each share is the operation's part of the time, to a penny */
      g_assert_cmpint (llabs (op->price_minor * swap->labour_minutes - 33333 * (gint64) op->labour_minutes),
                       <=, swap->labour_minutes);
      shares += op->price_minor;
    }
  g_assert_cmpint (shares, ==, 33333);

  g_assert_false (cluster->is_fixed_price);
  g_assert_cmpint (cluster->price_minor, ==, ew_price_labour (&rates, cluster->labour_minutes));
  g_assert_false (coding->is_fixed_price);
  g_assert_cmpint (coding->price_minor, ==, ew_price_labour (&rates, coding->labour_minutes));

  g_assert_cmpint (plan->net_minor, ==, 33333 + cluster->price_minor + coding->price_minor);
  /* 90 min cluster (135.00) + 15 min coding (22.50) + 333.33 = 490.83;
   * VAT 98.166 → 98.17; total 589.00 */
  g_assert_cmpint (plan->net_minor, ==, 49083);
  g_assert_cmpint (plan->vat_minor, ==, 9817);
  g_assert_cmpint (plan->gross_minor, ==, 58900);
  g_assert_cmpuint (plan->labour_minutes, ==, labour_plan->labour_minutes);

  /* a recovery is priced as a recovery, not as the template it borrows */
  g_assert_true (ew_price_rates_set_template_price (&rates, "recovery", 5000, &error));
  g_assert_true (ew_price_rates_set_template_price (&rates, "ecu-swap", 0, &error));
  {
    g_autoptr(EwJobPlan) recovery = plan_full ("bmw-f30", NULL, NULL, &rates, &error, ITEMS ("recover:fem"));

    g_assert_no_error (error);
    g_assert_true (item_at (recovery, 0)->is_fixed_price);
    g_assert_cmpint (recovery->net_minor, ==, 5000);
    g_assert_cmpint (recovery->gross_minor, ==, 6000);
  }
}

static const EwPlanItem *
find_item_of_kind (const EwJobPlan *plan, EwPlanItemKind kind)
{
  for (guint i = 0; i < plan->items->len; i++)
    {
      const EwPlanItem *item = g_ptr_array_index (plan->items, i);

      if (item->kind == kind)
        return item;
    }
  g_error ("no line of kind %s", ew_plan_item_kind_to_string (kind));
  return NULL;
}

/* A used seat module: retrofit data but no template; the planner's own
 * coding steps, with the VIN only where the module stores it. */
static void
test_retrofit_without_template (void)
{
  g_autoptr(EwJobPlan) plan = plan_ok ("bmw-f30", ITEMS ("replace:sm:used"));
  const EwPlanItem *item = item_at (plan, 0);
  const EwModule *sm = ew_family_find_module (plan->family, "sm");

  g_assert_nonnull (sm->retrofit);
  g_assert_cmpint (item->kind, ==, EW_PLAN_ITEM_RETROFIT);
  g_assert_cmpint (item->work_class, ==, EW_WORK_CLASS_CODING);
  g_assert_null (item->job);
  g_assert_true (has_operation (item, "code-module", EW_WORK_CLASS_CODING));
  g_assert_cmpint (has_operation (item, "vin-write", EW_WORK_CLASS_CODING), ==, sm->retrofit->has_vin_link);
  g_assert_cmpint (has_operation (item, "code-car", EW_WORK_CLASS_CODING), ==, sm->retrofit->car_coding->len > 0);
}

static void
test_recovery (void)
{
  static const struct { const char *family, *module, *job; } cases[] = {
    { "bmw-f30", "fem", "fem-recovery" },
    { "mercedes-w205", "sam-front", "sam-front-recovery" },
    { "mercedes-w205", "head-unit", "head-unit-recovery" },
    { "vw-golf-mk7", "infotainment", "infotainment-recovery" },
    /* no recovery template: the replacement job reloads the software */
    { "vw-golf-mk7", "central-electrics", "central-electrics-replace" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *req = g_strdup_printf ("recover:%s", cases[i].module);
      g_autoptr(EwJobPlan) plan = plan_ok (cases[i].family, ITEMS (req));
      const EwPlanItem *item = item_at (plan, 0);

      g_assert_cmpint (item->kind, ==, EW_PLAN_ITEM_RECOVERY);
      g_assert_cmpint (item->work_class, ==, EW_WORK_CLASS_PROGRAMMING);
      g_assert_cmpstr (item->job->id, ==, cases[i].job);
      g_assert_nonnull (strstr (item->reason, "coding cannot fix it"));
    }
}

/* Dead modules first, then modules fitted, new software, then coding,
 * adaptations last; whatever order they were asked in. */
static void
test_order (void)
{
  g_autoptr(EwJobPlan) plan = plan_ok ("bmw-f30", ITEMS ("battery-registration=agm-80ah", "cornering-lights=on",
                                                         "replace:pma", "carplay-software=on",
                                                         "replace:kombi", "recover:fem", "needle-sweep=on"));
  static const EwPlanItemKind kinds[] = {
    EW_PLAN_ITEM_RECOVERY, EW_PLAN_ITEM_USED_CLUSTER, EW_PLAN_ITEM_FEATURE, EW_PLAN_ITEM_RETROFIT,
    EW_PLAN_ITEM_FEATURE, EW_PLAN_ITEM_FEATURE, EW_PLAN_ITEM_FEATURE,
  };

  g_assert_cmpuint (plan->items->len, ==, G_N_ELEMENTS (kinds));
  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    g_assert_cmpint (item_at (plan, i)->kind, ==, kinds[i]);
  g_assert_cmpstr (item_at (plan, 2)->feature->id, ==, "carplay-software");
  /* the coding lines keep the order they were asked in */
  g_assert_cmpstr (item_at (plan, 4)->feature->id, ==, "cornering-lights");
  g_assert_cmpstr (item_at (plan, 5)->feature->id, ==, "needle-sweep");
  g_assert_cmpint (item_at (plan, 6)->work_class, ==, EW_WORK_CLASS_ADAPTATION);
}

/* Software that a job programs anyway is not sold twice; one job per
 * module. */
static void
test_no_double_work (void)
{
  g_autoptr(EwJobPlan) plan = plan_ok ("bmw-f30", ITEMS ("replace:kombi", "kombi-software-update=on",
                                                         "replace:kombi:new", "cornering-lights=on",
                                                         "cornering-lights=on"));
  const EwPlanRefusal *r;

  g_assert_cmpuint (plan->items->len, ==, 2);
  g_assert_cmpuint (plan->refusals->len, ==, 1);
  r = g_ptr_array_index (plan->refusals, 0);
  g_assert_cmpstr (r->subject, ==, "kombi-software-update");
  g_assert_nonnull (strstr (r->reason, "Included in"));
}

static void
test_refusals (void)
{
  static const struct { const char *item; int code; } cases[] = {
    { "no-such-feature=on", EW_PLANNER_ERROR_UNKNOWN_FEATURE },
    { "cornering-lights=blue", EW_PLANNER_ERROR_UNKNOWN_STATE },
    { "replace:no-such-module", EW_PLANNER_ERROR_UNKNOWN_MODULE },
    { "recover:no-such-module", EW_PLANNER_ERROR_UNKNOWN_MODULE },
    { "replace:egs", EW_PLANNER_ERROR_NO_JOB },       /* no template, no retrofit */
    { "recover:pma", EW_PLANNER_ERROR_NO_JOB },       /* nothing reloads its software */
    { "cornering-lights", EW_PLANNER_ERROR_BAD_ITEM },
    { "=on", EW_PLANNER_ERROR_BAD_ITEM },
    { "cornering-lights=", EW_PLANNER_ERROR_BAD_ITEM },
    { "replace:", EW_PLANNER_ERROR_BAD_ITEM },
    { "replace:kombi:old", EW_PLANNER_ERROR_BAD_ITEM },
    { "recover:", EW_PLANNER_ERROR_BAD_ITEM },
    { "swap:dme", EW_PLANNER_ERROR_BAD_ITEM },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(EwJobPlan) plan = plan_full ("bmw-f30", NULL, NULL, NULL, &error,
                                             ITEMS ("cornering-lights=on", cases[i].item));

      g_test_message ("%s", cases[i].item);
      g_assert_null (plan);
      g_assert_error (error, EW_PLANNER_ERROR, cases[i].code);
    }
}

/* ---- with the simulated car ---- */

typedef struct {
  EwConnection       *connection;
  EwScanResult       *scan;
  EwFeatureCatalogue *catalogue;
} Car;

static void
car_read (Car *car, const char *uri)
{
  g_autoptr(GError) error = NULL;

  car->connection = ew_connection_open (uri, db, NULL, &error);
  g_assert_no_error (error);
  car->scan = ew_scan_run (car->connection, 0, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  car->catalogue = ew_feature_catalogue_read (car->connection, car->scan, NULL, &error);
  g_assert_no_error (error);
}

static void
car_clear (Car *car)
{
  g_clear_pointer (&car->catalogue, ew_feature_catalogue_free);
  g_clear_pointer (&car->scan, ew_scan_result_free);
  if (car->connection != NULL)
    ew_connection_close (car->connection);
  g_clear_object (&car->connection);
}

/* "FEATURE=STATE" with a state the car's feature is not in now, so that
 * the request is real work. transfer full */
static char *
change_item (const Car *car, const char *feature_id)
{
  const EwFeatureStatus *status = ew_feature_catalogue_find (car->catalogue, feature_id);

  g_assert_nonnull (status);
  for (guint i = 0; i < status->feature->states->len; i++)
    {
      const EwFeatureState *state = g_ptr_array_index (status->feature->states, i);

      if (state != status->state)
        return g_strdup_printf ("%s=%s", feature_id, state->name);
    }
  g_assert_not_reached ();
}

static EwJobPlan *
plan_car (const Car *car, const char *const *items)
{
  g_autoptr(GError) error = NULL;
  EwJobPlan *plan = plan_full (car->scan->family->id, car->scan, car->catalogue, NULL, &error, items);

  g_assert_no_error (error);
  g_assert_nonnull (plan);
  return plan;
}

static const EwPlanItem *
find_item (const EwJobPlan *plan, EwPlanItemKind kind, const char *module_id)
{
  for (guint i = 0; i < plan->items->len; i++)
    {
      const EwPlanItem *item = g_ptr_array_index (plan->items, i);

      if (item->kind == kind && g_str_equal (item->module->id, module_id))
        return item;
    }
  return NULL;
}

/* vin-mismatch on the cluster: the used-cluster job by itself. */
static void
test_scan_used_cluster (void)
{
  static const struct { const char *family, *cluster, *update; } cases[] = {
    { "bmw-f30", "kombi", "kombi-software-update" },
    { "mercedes-w205", "ic", "ic-software-update" },
    { "vw-golf-mk7", "cluster", "cluster-software-update" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *uri = g_strdup_printf ("sim:%s?profile=used-cluster", cases[i].family);
      g_autofree char *update = g_strdup_printf ("%s=on", cases[i].update);
      g_autofree char *replace = g_strdup_printf ("replace:%s", cases[i].cluster);
      Car car = { 0 };
      g_autoptr(EwJobPlan) found = NULL;
      g_autoptr(EwJobPlan) asked = NULL;
      const EwPlanItem *item;

      car_read (&car, uri);
      found = plan_car (&car, ITEMS (update));
      g_assert_cmpuint (found->items->len, ==, 1);
      item = find_item (found, EW_PLAN_ITEM_USED_CLUSTER, cases[i].cluster);
      g_assert_nonnull (item);
      g_assert_true (item->is_from_scan);
      g_assert_nonnull (item->finding);
      g_assert_cmpint (item->work_class, ==, EW_WORK_CLASS_PROGRAMMING);
      /* the cluster software comes with the job */
      g_assert_cmpuint (found->refusals->len, ==, 1);

      /* asked for and found: one job, as asked */
      asked = plan_car (&car, ITEMS (replace));
      g_assert_cmpuint (asked->items->len, ==, 1);
      g_assert_false (item_at (asked, 0)->is_from_scan);
      car_clear (&car);
    }
}

/* bootloader: recovery by itself, before the coding asked for. */
static void
test_scan_bootloader (void)
{
  static const struct { const char *family, *body, *job; } cases[] = {
    { "bmw-f30", "fem", "fem-recovery" },
    { "mercedes-w205", "sam-front", "sam-front-recovery" },
    { "vw-golf-mk7", "central-electrics", "central-electrics-replace" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *uri = g_strdup_printf ("sim:%s?profile=body-module-bootloader", cases[i].family);
      Car car = { 0 };
      g_autoptr(EwJobPlan) plan = NULL;

      g_autofree char *video = NULL;

      car_read (&car, uri);
      video = change_item (&car, "video-in-motion");
      plan = plan_car (&car, ITEMS (video));
      g_assert_cmpuint (plan->items->len, ==, 2);
      g_assert_cmpint (item_at (plan, 0)->kind, ==, EW_PLAN_ITEM_RECOVERY);
      g_assert_cmpstr (item_at (plan, 0)->module->id, ==, cases[i].body);
      g_assert_cmpstr (item_at (plan, 0)->job->id, ==, cases[i].job);
      g_assert_true (item_at (plan, 0)->is_from_scan);
      g_assert_cmpint (item_at (plan, 1)->kind, ==, EW_PLAN_ITEM_FEATURE);
      car_clear (&car);
    }
}

/* A used seat module from another car: retrofit coding by itself; a
 * feature the car's options rule out is refused with the catalogue's
 * reason. */
static void
test_scan_used_seat (void)
{
  Car car = { 0 };
  g_autoptr(EwJobPlan) plan = NULL;
  const EwPlanItem *item;
  const EwPlanRefusal *r;

  car_read (&car, "sim:bmw-f30?profile=used-heated-seat");
  plan = plan_car (&car, ITEMS ("seat-heating-memory=on"));
  item = find_item (plan, EW_PLAN_ITEM_RETROFIT, "sm");
  g_assert_nonnull (item);
  g_assert_true (item->is_from_scan);
  g_assert_cmpint (item->work_class, ==, EW_WORK_CLASS_CODING);
  g_assert_cmpuint (plan->items->len, ==, 1);
  g_assert_cmpuint (plan->refusals->len, ==, 1);
  r = g_ptr_array_index (plan->refusals, 0);
  g_assert_cmpstr (r->subject, ==, "seat-heating-memory");
  g_assert_cmpstr (r->reason, ==, ew_feature_catalogue_find (car.catalogue, "seat-heating-memory")->reason);
  car_clear (&car);
}

/* A module found absent refuses its features; a state the car already
 * has is not sold. */
static void
test_scan_not_fitted_and_unchanged (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ew-planner-XXXXXX", NULL);
  g_autofree char *profile = g_build_filename (dir, "no-pdc.ini", NULL);
  g_autofree char *uri = g_strdup_printf ("sim:bmw-f30?profile=%s", profile);
  g_autofree char *same = NULL;
  g_autofree char *cornering = NULL;
  Car car = { 0 };
  g_autoptr(EwJobPlan) plan = NULL;
  const EwFeatureStatus *drl;
  const EwPlanRefusal *r;

  g_assert_true (g_file_set_contents (profile, "[profile]\ndescription=No parking sensors\n"
                                      "[module:pma]\npresent=false\n", -1, NULL));
  car_read (&car, uri);
  drl = ew_feature_catalogue_find (car.catalogue, "daytime-running-lights");
  g_assert_nonnull (drl->state);
  same = g_strdup_printf ("daytime-running-lights=%s", drl->state->name);

  cornering = change_item (&car, "cornering-lights");
  plan = plan_car (&car, ITEMS ("pdc-volume=high", same, cornering));
  g_assert_cmpuint (plan->refusals->len, ==, 2);
  r = g_ptr_array_index (plan->refusals, 0);
  g_assert_cmpstr (r->subject, ==, "pdc-volume");
  r = g_ptr_array_index (plan->refusals, 1);
  g_assert_cmpstr (r->subject, ==, "daytime-running-lights");
  g_assert_nonnull (strstr (r->reason, "already"));

  /* without the car, the same request is quoted in full */
  {
    g_autoptr(EwJobPlan) blind = plan_ok ("bmw-f30", ITEMS ("pdc-volume=high", same));

    g_assert_cmpuint (blind->items->len, ==, 2);
    g_assert_cmpuint (blind->refusals->len, ==, 0);
  }
  car_clear (&car);
  ew_test_remove_tree (dir);
}

/* software-behind on the head unit: the software that a requested feature
 * needs is programmed first; a feature that does not need it adds none. */
static void
test_scan_software_behind (void)
{
  static const struct { const char *family, *kind, *feature, *other, *software; } cases[] = {
    { "bmw-f30", "head-unit", "apple-carplay", "video-in-motion", "carplay-software" },
    { "mercedes-w205", "head-unit", "smartphone-integration", NULL, "smartphone-integration-software" },
    { "vw-golf-mk7", "head-unit", "app-connect", "video-in-motion", "app-connect-software" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *dir = g_dir_make_tmp ("ew-planner-XXXXXX", NULL);
      g_autofree char *profile = g_build_filename (dir, "old-hu.ini", NULL);
      g_autofree char *uri = g_strdup_printf ("sim:%s?profile=%s", cases[i].family, profile);
      g_autofree char *ini = g_strdup_printf ("[profile]\ndescription=Old head unit software\n"
                                              "[kind:%s]\nsoftware-version=@below-minimum\n", cases[i].kind);
      g_autofree char *want = NULL;
      Car car = { 0 };
      g_autoptr(EwJobPlan) plan = NULL;
      const EwPlanItem *prog;

      g_assert_true (g_file_set_contents (profile, ini, -1, NULL));
      car_read (&car, uri);
      want = change_item (&car, cases[i].feature);
      plan = plan_car (&car, ITEMS (want));
      g_assert_cmpuint (plan->items->len, ==, 2);
      prog = item_at (plan, 0);
      g_assert_cmpint (prog->work_class, ==, EW_WORK_CLASS_PROGRAMMING);
      g_assert_cmpstr (prog->feature->id, ==, cases[i].software);
      g_assert_true (prog->is_from_scan);
      g_assert_cmpstr (prog->reason, ==, prog->feature->reason);
      g_assert_cmpstr (item_at (plan, 1)->feature->id, ==, cases[i].feature);
      g_assert_cmpint (item_at (plan, 1)->work_class, ==, EW_WORK_CLASS_CODING);

      if (cases[i].other != NULL)
        {
          g_autofree char *other = change_item (&car, cases[i].other);
          g_autoptr(EwJobPlan) plain = plan_car (&car, ITEMS (other));

          g_assert_cmpuint (plain->items->len, ==, 1);
          g_assert_cmpint (item_at (plain, 0)->work_class, ==, EW_WORK_CLASS_CODING);
        }
      car_clear (&car);
      ew_test_remove_tree (dir);
    }
}

/* A healthy car: no findings, no extra work; software already at the
 * level is not sold. */
static void
test_scan_healthy (void)
{
  Car car = { 0 };
  g_autoptr(EwJobPlan) plan = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(EwJobPlan) wrong = NULL;
  g_autofree char *cornering = NULL;

  car_read (&car, "sim:bmw-f30?profile=healthy");
  cornering = change_item (&car, "cornering-lights");
  plan = plan_car (&car, ITEMS ("carplay-software=on", cornering));
  g_assert_cmpuint (plan->items->len, ==, 1);
  g_assert_cmpuint (plan->refusals->len, ==, 1);
  g_assert_nonnull (strstr (((EwPlanRefusal *) g_ptr_array_index (plan->refusals, 0))->reason, "already"));

  wrong = plan_full ("vw-golf-mk7", car.scan, car.catalogue, NULL, &error, ITEMS ("needle-sweep=on"));
  g_assert_error (error, EW_PLANNER_ERROR, EW_PLANNER_ERROR_WRONG_FAMILY);
  g_assert_null (wrong);
  car_clear (&car);
}

/* ---- ecuw quote ---- */

typedef struct {
  GMainLoop *loop;
  char      *out;
  char      *err;
  gboolean   is_done;
} Run;

static void
on_communicated (GObject *source, GAsyncResult *result, gpointer data)
{
  Run *run = data;
  g_autoptr(GError) error = NULL;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), result, &run->out, &run->err, &error);
  g_assert_no_error (error);
  run->is_done = TRUE;
  g_main_loop_quit (run->loop);
}

static gboolean
on_timeout (gpointer data)
{
  g_main_loop_quit (((Run *) data)->loop);
  return G_SOURCE_REMOVE;
}

/* Runs ecuw with argv, bounded by 60 s, with environment variables
 * setenv (NAME, VALUE, …, NULL; nullable) set on top of the test's; its
 * exit status, stdout and stderr. */
static int
run_ecuw_env (const char *const *args, const char *const *setenv, char **out, char **err)
{
  g_autofree char *ecuw = g_test_build_filename (G_TEST_BUILT, "..", "app", "ecuw", NULL);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GMainContext) context = g_main_context_new ();
  Run run = { 0 };

  g_assert_true (g_file_test (ecuw, G_FILE_TEST_IS_EXECUTABLE));
  g_ptr_array_add (argv, ecuw);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);

  g_main_context_push_thread_default (context);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  for (guint i = 0; setenv != NULL && setenv[i] != NULL && setenv[i + 1] != NULL; i += 2)
    g_subprocess_launcher_setenv (launcher, setenv[i], setenv[i + 1], TRUE);
  process = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  run.loop = g_main_loop_new (context, FALSE);
  g_subprocess_communicate_utf8_async (process, NULL, NULL, on_communicated, &run);
  {
    g_autoptr(GSource) source = g_timeout_source_new_seconds (60);

    g_source_set_callback (source, on_timeout, &run, NULL);
    g_source_attach (source, context);
    g_main_loop_run (run.loop);
    g_source_destroy (source);
  }
  if (!run.is_done)
    {
      g_subprocess_force_exit (process);
      g_main_loop_unref (run.loop);
      g_main_context_pop_thread_default (context);
      g_error ("ecuw did not finish within 60 s");
    }
  g_main_loop_unref (run.loop);
  g_main_context_pop_thread_default (context);
  *out = run.out;
  *err = run.err;
  return g_subprocess_get_exit_status (process);
}

static int
run_ecuw (const char *const *args, char **out, char **err)
{
  return run_ecuw_env (args, NULL, out, err);
}

/* ecuw quote reads the fixed prices from the app's settings (here a key
 * file, as a garage's would be) and says which lines have one. */
static void
test_cli_fixed_price (void)
{
  g_autofree char *schema_dir = g_test_build_filename (G_TEST_BUILT, "..", "data", NULL);
  g_autofree char *compiled = g_build_filename (schema_dir, "gschemas.compiled", NULL);
  g_autofree char *config = NULL;
  g_autofree char *settings_dir = NULL;
  g_autofree char *keyfile = NULL;
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *root, *swap, *coding;
  JsonArray *items;
  int status;

  if (!g_file_test (compiled, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("the settings schema is not compiled in the build folder");
      return;
    }
  config = g_dir_make_tmp ("ew-planner-config-XXXXXX", &error);
  g_assert_no_error (error);
  settings_dir = g_build_filename (config, "glib-2.0", "settings", NULL);
  g_assert_cmpint (g_mkdir_with_parents (settings_dir, 0700), ==, 0);
  keyfile = g_build_filename (settings_dir, "keyfile", NULL);
  g_file_set_contents (keyfile,
                       "[io/github/ecuworkshop/EcuWorkshop]\n"
                       "labour-rate=80.0\n"
                       "template-prices={'ecu-swap': int64 29999}\n", -1, &error);
  g_assert_no_error (error);

  status = run_ecuw_env ((const char *const[]) { "quote", "--json", "--family", "bmw-f30", "replace:dme",
                                                 "cornering-lights=on", NULL },
                         (const char *const[]) { "GSETTINGS_SCHEMA_DIR", schema_dir, "GSETTINGS_BACKEND", "keyfile",
                                                 "XDG_CONFIG_HOME", config, NULL },
                         &out, &err);
  ew_test_remove_tree (config);
  g_assert_cmpstr (err, ==, "");
  g_assert_cmpint (status, ==, 0);
  json_parser_load_from_data (parser, out, -1, &error);
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpint (json_object_get_int_member (root, "labour_rate_minor"), ==, 8000);
  items = json_object_get_array_member (root, "items");
  g_assert_cmpuint (json_array_get_length (items), ==, 2);
  swap = json_array_get_object_element (items, 0);
  coding = json_array_get_object_element (items, 1);
  g_assert_cmpstr (json_object_get_string_member (swap, "kind"), ==, "ecu-swap");
  g_assert_true (json_object_get_boolean_member (swap, "fixed_price"));
  g_assert_cmpint (json_object_get_int_member (swap, "price_minor"), ==, 29999);
  g_assert_false (json_object_get_boolean_member (coding, "fixed_price"));
  /* 15 min at 80.00 */
  g_assert_cmpint (json_object_get_int_member (coding, "price_minor"), ==, 2000);
  /* 319.99 + 20 % = 383.988 → 383.99 */
  g_assert_cmpint (json_object_get_int_member (root, "net_minor"), ==, 31999);
  g_assert_cmpint (json_object_get_int_member (root, "vat_minor"), ==, 6400);
  g_assert_cmpint (json_object_get_int_member (root, "gross_minor"), ==, 38399);
}

static void
test_cli (void)
{
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *root;
  JsonArray *items;
  gint64 net = 0;
  int status;

  status = run_ecuw ((const char *const[]) { "quote", "--json", "--family", "bmw-f30", "cornering-lights=on",
                                             "replace:kombi:used", "no-such-feature=on", NULL },
                     &out, &err);
  /* an unknown feature fails the whole quote, naming it */
  g_assert_cmpint (status, !=, 0);
  g_assert_nonnull (strstr (err, "no-such-feature"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  status = run_ecuw ((const char *const[]) { "quote", "--json", "--family", "bmw-f30", "cornering-lights=on",
                                             "replace:kombi:used", NULL }, &out, &err);
  g_assert_cmpstr (err, ==, "");
  g_assert_cmpint (status, ==, 0);
  json_parser_load_from_data (parser, out, -1, &error);
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (root, "family"), ==, "bmw-f30");
  g_assert_cmpstr (json_object_get_string_member (root, "currency"), ==, "GBP");
  items = json_object_get_array_member (root, "items");
  g_assert_cmpuint (json_array_get_length (items), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (items, 0), "class"), ==, "programming");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (items, 0), "kind"), ==, "used-cluster");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (items, 1), "class"), ==, "coding");
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (items, 1), "price_minor"), ==, 2250);
  for (guint i = 0; i < json_array_get_length (items); i++)
    net += json_object_get_int_member (json_array_get_object_element (items, i), "price_minor");
  g_assert_cmpint (json_object_get_int_member (root, "net_minor"), ==, net);
  g_assert_cmpint (json_object_get_int_member (root, "net_minor") + json_object_get_int_member (root, "vat_minor"),
                   ==, json_object_get_int_member (root, "gross_minor"));
  /* 90 minutes of cluster work and 15 of coding at 90.00: 157.50 + 20 % */
  g_assert_cmpint (json_object_get_int_member (root, "net_minor"), ==, 15750);
  g_assert_cmpint (json_object_get_int_member (root, "gross_minor"), ==, 18900);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* text, with the car scanned first: the used cluster is found */
  status = run_ecuw ((const char *const[]) { "quote", "--link", "sim:vw-golf-mk7?profile=used-cluster",
                                             "needle-sweep=on", NULL }, &out, &err);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (out, "[programming] Fit a used instrument cluster"));
  g_assert_nonnull (strstr (out, "[coding] Needle sweep: On"));
  g_assert_nonnull (strstr (out, "Total        180.00 GBP"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* no car named, or two: usage */
  status = run_ecuw ((const char *const[]) { "quote", "cornering-lights=on", NULL }, &out, &err);
  g_assert_cmpint (status, ==, 2);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  status = run_ecuw ((const char *const[]) { "quote", "--family", "bmw-f30", "replace:kombi:old", NULL }, &out, &err);
  g_assert_cmpint (status, !=, 0);
  g_assert_nonnull (strstr (err, "replace:kombi:old"));
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);

  db = ew_vehicle_database_new (NULL);
  ew_vehicle_database_add_default_dirs (db, NULL);
  g_assert_cmpuint (ew_vehicle_database_get_errors (db)->len, ==, 0);

  g_test_add_func ("/planner/prices/divide-round", test_divide_round);
  g_test_add_func ("/planner/prices/rates", test_rates);
  g_test_add_func ("/planner/prices/labour-and-vat", test_labour_and_vat);
  g_test_add_func ("/planner/prices/format", test_format);
  g_test_add_func ("/planner/prices/round-each-line", test_round_each_line);
  g_test_add_func ("/planner/feature/coding", test_feature_coding);
  g_test_add_func ("/planner/feature/adaptation", test_feature_adaptation);
  g_test_add_func ("/planner/feature/programming", test_feature_programming);
  g_test_add_func ("/planner/replacements", test_replacements);
  g_test_add_func ("/planner/fixed-price", test_fixed_price);
  g_test_add_func ("/planner/retrofit-without-template", test_retrofit_without_template);
  g_test_add_func ("/planner/recovery", test_recovery);
  g_test_add_func ("/planner/order", test_order);
  g_test_add_func ("/planner/no-double-work", test_no_double_work);
  g_test_add_func ("/planner/refusals", test_refusals);
  g_test_add_func ("/planner/scan/used-cluster", test_scan_used_cluster);
  g_test_add_func ("/planner/scan/bootloader", test_scan_bootloader);
  g_test_add_func ("/planner/scan/used-seat", test_scan_used_seat);
  g_test_add_func ("/planner/scan/not-fitted-and-unchanged", test_scan_not_fitted_and_unchanged);
  g_test_add_func ("/planner/scan/software-behind", test_scan_software_behind);
  g_test_add_func ("/planner/scan/healthy", test_scan_healthy);
  g_test_add_func ("/planner/cli", test_cli);
  g_test_add_func ("/planner/cli/fixed-price", test_cli_fixed_price);

  status = g_test_run ();
  ew_vehicle_database_free (db);
  return status;
}
