/* prices.c — the garage's rates and the arithmetic of a quote. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "job/prices.h"

G_DEFINE_QUARK (ew-price-error-quark, ew_price_error)

/* Half away from zero, like the rest of the quote; x is in range. */
static gint64
round_half_away (double x)
{
  return x >= 0 ? (gint64) (x + 0.5) : -(gint64) (-x + 0.5);
}

/* Large enough for any garage, small enough that minutes x rate and
 * net x VAT never overflow 64 bits. */
#define MAX_RATE_MAJOR 1.0e6
#define MAX_VAT_PERCENT 100.0

guint
ew_currency_minor_digits (const char *currency)
{
  static const char *const zero[] = { "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW",
                                      "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF", NULL };
  static const char *const three[] = { "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND", NULL };

  if (currency == NULL)
    return 2;
  if (g_strv_contains (zero, currency))
    return 0;
  if (g_strv_contains (three, currency))
    return 3;
  return 2;
}

static gint64
power_of_ten (guint digits)
{
  gint64 p = 1;

  for (guint i = 0; i < digits; i++)
    p *= 10;
  return p;
}

void
ew_price_rates_init_default (EwPriceRates *rates)
{
  gboolean ok = ew_price_rates_init (rates, 90.0, 20.0, "GBP", NULL);

  g_assert (ok);
}

gboolean
ew_price_rates_init (EwPriceRates *rates,
                     double        labour_rate_per_hour,
                     double        vat_percent,
                     const char   *currency,
                     GError      **error)
{
  g_return_val_if_fail (rates != NULL, FALSE);

  if (currency == NULL || strlen (currency) != 3 ||
      !g_ascii_isupper (currency[0]) || !g_ascii_isupper (currency[1]) || !g_ascii_isupper (currency[2]))
    {
      /* TRANSLATORS: %s is the currency as set, e.g. "pounds" */
      g_set_error (error, EW_PRICE_ERROR, EW_PRICE_ERROR_INVALID_CURRENCY,
                   _("Currency “%s” is not an ISO 4217 code such as GBP or EUR"),
                   currency != NULL ? currency : "");
      return FALSE;
    }
  if (!isfinite (labour_rate_per_hour) || labour_rate_per_hour < 0 || labour_rate_per_hour > MAX_RATE_MAJOR)
    {
      g_set_error (error, EW_PRICE_ERROR, EW_PRICE_ERROR_INVALID_RATE,
                   _("Labour rate %g is not between 0 and %g an hour"),
                   labour_rate_per_hour, MAX_RATE_MAJOR);
      return FALSE;
    }
  if (!isfinite (vat_percent) || vat_percent < 0 || vat_percent > MAX_VAT_PERCENT)
    {
      g_set_error (error, EW_PRICE_ERROR, EW_PRICE_ERROR_INVALID_RATE,
                   _("VAT rate %g %% is not between 0 and 100 %%"), vat_percent);
      return FALSE;
    }

  memset (rates->template_price_minor, 0, sizeof rates->template_price_minor);
  memcpy (rates->currency, currency, 4);
  rates->minor_digits = ew_currency_minor_digits (currency);
  rates->labour_rate_minor = round_half_away (labour_rate_per_hour * (double) power_of_ten (rates->minor_digits));
  rates->vat_millipercent = (guint) round_half_away (vat_percent * 1000.0);
  return TRUE;
}

gboolean
ew_job_kind_from_string (const char *kind,
                         EwJobKind  *out)
{
  for (EwJobKind k = 0; k < EW_PRICE_N_JOB_KINDS; k++)
    if (g_strcmp0 (kind, ew_job_kind_to_string (k)) == 0)
      {
        *out = k;
        return TRUE;
      }
  return FALSE;
}

gboolean
ew_price_rates_set_template_price (EwPriceRates *rates,
                                   const char   *job_kind,
                                   gint64        price_minor,
                                   GError      **error)
{
  gint64 max_minor = (gint64) MAX_RATE_MAJOR * power_of_ten (rates->minor_digits);
  EwJobKind kind;

  g_return_val_if_fail (rates != NULL, FALSE);

  if (!ew_job_kind_from_string (job_kind, &kind))
    {
      /* TRANSLATORS: %s is the kind as set; keep the kinds as they are */
      g_set_error (error, EW_PRICE_ERROR, EW_PRICE_ERROR_INVALID_TEMPLATE,
                   _("“%s” is not a kind of job: ecu-swap, used-cluster, body-module, retrofit or recovery"),
                   job_kind != NULL ? job_kind : "");
      return FALSE;
    }
  if (price_minor < 0 || price_minor > max_minor)
    {
      g_autofree char *price = ew_money_format_amount (price_minor, rates->minor_digits);

      /* TRANSLATORS: the price, then the kind of job */
      g_set_error (error, EW_PRICE_ERROR, EW_PRICE_ERROR_INVALID_RATE,
                   _("Fixed price %s for %s is not between 0 and %g"), price, job_kind, MAX_RATE_MAJOR);
      return FALSE;
    }
  rates->template_price_minor[kind] = price_minor;
  return TRUE;
}

gint64
ew_price_rates_get_template_price (const EwPriceRates *rates,
                                   EwJobKind           kind)
{
  g_return_val_if_fail (rates != NULL, 0);
  if ((guint) kind >= EW_PRICE_N_JOB_KINDS)
    return 0;
  return rates->template_price_minor[kind];
}

gboolean
ew_price_rates_set_template_prices (EwPriceRates *rates,
                                    GVariant     *prices,
                                    GError      **error)
{
  EwPriceRates copy;
  GVariantIter iter;
  const char *kind;
  gint64 price;

  g_return_val_if_fail (rates != NULL, FALSE);
  g_return_val_if_fail (prices != NULL && g_variant_is_of_type (prices, G_VARIANT_TYPE ("a{sx}")), FALSE);

  copy = *rates;
  memset (copy.template_price_minor, 0, sizeof copy.template_price_minor);
  g_variant_iter_init (&iter, prices);
  while (g_variant_iter_next (&iter, "{&sx}", &kind, &price))
    if (!ew_price_rates_set_template_price (&copy, kind, price, error))
      return FALSE;
  *rates = copy;
  return TRUE;
}

gboolean
ew_price_rates_init_from_settings (EwPriceRates *rates,
                                   GSettings    *settings,
                                   GError      **error)
{
  g_autofree char *currency = NULL;
  g_autoptr(GVariant) prices = NULL;
  g_autoptr(GSettingsSchema) schema = NULL;

  g_return_val_if_fail (rates != NULL, FALSE);
  g_return_val_if_fail (G_IS_SETTINGS (settings), FALSE);

  currency = g_settings_get_string (settings, "currency");
  if (!ew_price_rates_init (rates, g_settings_get_double (settings, "labour-rate"),
                            g_settings_get_double (settings, "vat-percent"), currency, error))
    return FALSE;
  /* an older schema may not have the fixed prices yet */
  g_object_get (settings, "settings-schema", &schema, NULL);
  if (schema == NULL || !g_settings_schema_has_key (schema, "template-prices"))
    return TRUE;
  prices = g_settings_get_value (settings, "template-prices");
  return ew_price_rates_set_template_prices (rates, prices, error);
}

gint64
ew_money_divide_round (gint64 numerator,
                       gint64 denominator)
{
  gint64 quotient, remainder;

  g_return_val_if_fail (denominator > 0, 0);

  quotient = numerator / denominator;
  remainder = numerator % denominator;
  /* C truncates towards zero; a remainder of half or more moves away */
  if (remainder >= 0 && 2 * remainder >= denominator)
    quotient++;
  else if (remainder < 0 && -2 * remainder >= denominator)
    quotient--;
  return quotient;
}

gint64
ew_price_labour (const EwPriceRates *rates,
                 guint               labour_minutes)
{
  return ew_money_divide_round ((gint64) labour_minutes * rates->labour_rate_minor, 60);
}

gint64
ew_price_vat (const EwPriceRates *rates,
              gint64              net_minor)
{
  /* percent x 1000 per unit: divide by 100 (percent) x 1000 */
  return ew_money_divide_round (net_minor * (gint64) rates->vat_millipercent, 100000);
}

char *
ew_money_format_amount (gint64 minor,
                        guint  minor_digits)
{
  gint64 scale = power_of_ten (minor_digits);
  guint64 magnitude = minor < 0 ? -(guint64) minor : (guint64) minor;
  const char *sign = minor < 0 ? "-" : "";

  if (minor_digits == 0)
    return g_strdup_printf ("%s%" G_GUINT64_FORMAT, sign, magnitude);
  return g_strdup_printf ("%s%" G_GUINT64_FORMAT ".%0*" G_GUINT64_FORMAT, sign,
                          magnitude / (guint64) scale, (int) minor_digits, magnitude % (guint64) scale);
}

char *
ew_money_format (const EwPriceRates *rates,
                 gint64              minor)
{
  g_autofree char *amount = ew_money_format_amount (minor, rates->minor_digits);

  return g_strdup_printf ("%s %s", amount, rates->currency);
}

char *
ew_price_format_vat_percent (const EwPriceRates *rates)
{
  g_autofree char *text = ew_money_format_amount (rates->vat_millipercent, 3);
  char *end = text + strlen (text) - 1;

  while (*end == '0')
    *end-- = '\0';
  if (*end == '.')
    *end = '\0';
  return g_steal_pointer (&text);
}
