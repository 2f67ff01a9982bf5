/* prices.h — the garage's rates and the arithmetic of a quote.
 *
 * Money is held in integer minor units of the currency (pence, cents)
 * everywhere; floating point is used only once, to read the rates.
 *
 * Rounding rule: each line is priced on its own and rounded to a whole
 * minor unit, half away from zero; the net total is the sum of the lines;
 * VAT is computed once, on the net total, and rounded the same way; the
 * gross total is net + VAT, exactly.
 *
 * A job template's kind may carry a fixed net price (the garage's price for
 * an ECU swap, say); a line of that kind costs exactly that, whatever its
 * labour time, and is still part of the same sums.
 */
#pragma once

#include <gio/gio.h>

#include "vehicle/family.h"

G_BEGIN_DECLS

#define EW_PRICE_ERROR (ew_price_error_quark ())

/* The job template kinds a fixed price can be set for (EwJobKind). */
#define EW_PRICE_N_JOB_KINDS (EW_JOB_RECOVERY + 1)

typedef enum {
  EW_PRICE_ERROR_INVALID_RATE,      /* negative, not a number, or too large */
  EW_PRICE_ERROR_INVALID_CURRENCY,  /* not three letters A-Z */
  EW_PRICE_ERROR_INVALID_TEMPLATE,  /* not a job template kind */
} EwPriceError;

GQuark ew_price_error_quark (void);

typedef struct {
  gint64 labour_rate_minor;         /* per hour, before VAT, in minor units */
  guint  vat_millipercent;          /* 20 % = 20000 */
  char   currency[4];               /* ISO 4217, NUL-terminated */
  guint  minor_digits;              /* 2 for GBP: 1 pound = 100 pence */
  /* fixed net price of a job of each EwJobKind, in minor units; 0: priced
   * by its labour time */
  gint64 template_price_minor[EW_PRICE_N_JOB_KINDS];
} EwPriceRates;

/* The schema's defaults: 90.00 GBP an hour, 20 % VAT, no fixed prices. */
void     ew_price_rates_init_default (EwPriceRates *rates);

/* Fills rates from the settings' values: labour_rate_per_hour in major
 * units (90.0 = 90.00 GBP), rounded to a minor unit; vat_percent rounded
 * to a thousandth of a percent. */
gboolean ew_price_rates_init         (EwPriceRates *rates,
                                      double        labour_rate_per_hour,
                                      double        vat_percent,
                                      const char   *currency,
                                      GError      **error);

/* Fixed net price price_minor (0: none) for job templates of kind
 * job_kind ("ecu-swap", "used-cluster", "body-module", "retrofit",
 * "recovery"); fails on another kind or a price below 0 or above a million
 * in major units, and then changes nothing. */
gboolean ew_price_rates_set_template_price (EwPriceRates *rates,
                                            const char   *job_kind,
                                            gint64        price_minor,
                                            GError      **error);
/* The fixed price of kind, or 0 when the kind is priced by labour time. */
gint64   ew_price_rates_get_template_price (const EwPriceRates *rates,
                                            EwJobKind           kind);
/* Every fixed price of prices (a GVariant of type a{sx}, kind → minor
 * units), after clearing the ones set; all or nothing. */
gboolean ew_price_rates_set_template_prices (EwPriceRates *rates,
                                             GVariant     *prices,
                                             GError      **error);
/* Fills rates from the application's settings: the keys labour-rate,
 * vat-percent, currency and template-prices. */
gboolean ew_price_rates_init_from_settings (EwPriceRates *rates,
                                            GSettings    *settings,
                                            GError      **error);
/* EwJobKind of kind, e.g. "ecu-swap"; FALSE when it is none. */
gboolean ew_job_kind_from_string     (const char *kind,
                                      EwJobKind  *out);

/* Digits after the decimal point of an ISO 4217 currency: 0 for JPY,
 * 3 for KWD, 2 for the rest. */
guint    ew_currency_minor_digits    (const char *currency);

/* numerator / denominator rounded half away from zero; denominator > 0. */
gint64   ew_money_divide_round       (gint64 numerator,
                                      gint64 denominator);

/* The price of labour_minutes at the rate, rounded: one line. */
gint64   ew_price_labour             (const EwPriceRates *rates,
                                      guint               labour_minutes);

/* VAT on a net total, rounded. */
gint64   ew_price_vat                (const EwPriceRates *rates,
                                      gint64              net_minor);

/* "1234.50" for 123450 with two digits; no currency. transfer full */
char    *ew_money_format_amount      (gint64 minor,
                                      guint  minor_digits);
/* "1234.50 GBP". transfer full */
char    *ew_money_format             (const EwPriceRates *rates,
                                      gint64              minor);
/* "20", "7.7": the VAT rate in percent, without trailing zeros. transfer full */
char    *ew_price_format_vat_percent (const EwPriceRates *rates);

G_END_DECLS
