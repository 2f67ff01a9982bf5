/* ew-quote-line-row.h — one line of a quote on the Jobs page: what is done
 * and why, its class (coding, programming, adaptation) as a badge, labour
 * time and price; expanded, the operations it is made of. */
#pragma once

#include <adwaita.h>

#include "job/planner.h"

G_BEGIN_DECLS

#define EW_TYPE_QUOTE_LINE_ROW (ew_quote_line_row_get_type ())
G_DECLARE_FINAL_TYPE (EwQuoteLineRow, ew_quote_line_row, EW, QUOTE_LINE_ROW, AdwExpanderRow)

/* request_index: the asked-for entry the line comes from, which its
 * Remove button takes out ("jobs.remove-line"); -1 for a line a finding of
 * the scan raised, which cannot be removed. item and rates are copied
 * from. */
GtkWidget     *ew_quote_line_row_new             (const EwPlanItem   *item,
                                                  const EwPriceRates *rates,
                                                  int                 request_index);
EwPlanItemKind ew_quote_line_row_get_kind        (EwQuoteLineRow *self);
EwWorkClass    ew_quote_line_row_get_work_class  (EwQuoteLineRow *self);
gint64         ew_quote_line_row_get_price_minor (EwQuoteLineRow *self);
guint          ew_quote_line_row_get_n_operations (EwQuoteLineRow *self);
gboolean       ew_quote_line_row_get_is_from_scan (EwQuoteLineRow *self);
/* Whether the garage's fixed price for the line's kind of job applies. */
gboolean       ew_quote_line_row_get_is_fixed_price (EwQuoteLineRow *self);
/* The text on the class badge: "Coding", "Programming", "Adaptation". */
const char    *ew_quote_line_row_get_badge_text  (EwQuoteLineRow *self);

/* "1 h 15 min", "20 min". transfer full */
char          *ew_format_labour_minutes          (guint minutes);

G_END_DECLS
