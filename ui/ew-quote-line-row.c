/* ew-quote-line-row.c — one line of a quote: badge, reason, time, price
 * and, expanded, its operations. */
#include "config.h"

#include <glib/gi18n.h>

#include "ew-quote-line-row.h"
#include "ew-feature-row.h"

struct _EwQuoteLineRow {
  AdwExpanderRow  parent_instance;

  GtkLabel       *badge_label;
  GtkLabel       *price_label;
  GtkButton      *remove_button;

  EwPlanItemKind  kind;
  EwWorkClass     work_class;
  gint64          price_minor;
  guint           n_operations;
  gboolean        is_from_scan;
  gboolean        is_fixed_price;
};

G_DEFINE_FINAL_TYPE (EwQuoteLineRow, ew_quote_line_row, ADW_TYPE_EXPANDER_ROW)

static const char *
work_class_style (EwWorkClass work_class)
{
  switch (work_class)
    {
    case EW_WORK_CLASS_CODING:
      return "ew-badge-coding";
    case EW_WORK_CLASS_PROGRAMMING:
      return "ew-badge-programming";
    default:
      return "ew-badge-adaptation";
    }
}

char *
ew_format_labour_minutes (guint minutes)
{
  if (minutes < 60)
    /* TRANSLATORS: labour time under an hour */
    return g_strdup_printf (_("%u min"), minutes);
  if (minutes % 60 == 0)
    /* TRANSLATORS: labour time in whole hours */
    return g_strdup_printf (_("%u h"), minutes / 60);
  /* TRANSLATORS: labour time, hours and minutes */
  return g_strdup_printf (_("%u h %u min"), minutes / 60, minutes % 60);
}

/* One operation of the line: its name, class, time and price. */
static GtkWidget *
operation_row_new (const EwPlanOperation *operation, const EwPriceRates *rates)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *price = gtk_label_new (NULL);
  g_autofree char *time = ew_format_labour_minutes (operation->labour_minutes);
  g_autofree char *money = ew_money_format (rates, operation->price_minor);
  g_autofree char *subtitle = NULL;

  /* TRANSLATORS: an operation's class and labour time: "Programming · 30 min" */
  subtitle = g_strdup_printf (_("%s · %s"), ew_work_class_label (operation->work_class), time);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), operation->name);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  gtk_label_set_label (GTK_LABEL (price), money);
  gtk_widget_add_css_class (price, "numeric");
  gtk_widget_add_css_class (price, "dim-label");
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), price);
  return row;
}

GtkWidget *
ew_quote_line_row_new (const EwPlanItem   *item,
                       const EwPriceRates *rates,
                       int                 request_index)
{
  EwQuoteLineRow *self;
  g_autofree char *time = NULL;
  g_autofree char *money = NULL;
  g_autofree char *subtitle = NULL;
  g_autofree char *remove_name = NULL;

  g_return_val_if_fail (item != NULL && rates != NULL, NULL);

  self = g_object_new (EW_TYPE_QUOTE_LINE_ROW, NULL);
  self->kind = item->kind;
  self->work_class = item->work_class;
  self->price_minor = item->price_minor;
  self->n_operations = item->operations->len;
  self->is_from_scan = item->is_from_scan;
  self->is_fixed_price = item->is_fixed_price;

  time = ew_format_labour_minutes (item->labour_minutes);
  if (item->is_fixed_price)
    {
      /* TRANSLATORS: a line's labour time, then that the garage's fixed price applies */
      char *with_price = g_strdup_printf (_("%s · fixed price"), time);

      g_free (time);
      time = with_price;
    }
  money = ew_money_format (rates, item->price_minor);
  if (item->is_from_scan && item->finding != NULL)
    /* TRANSLATORS: why the line is there, the finding, then the labour time */
    subtitle = g_strdup_printf (_("%s\nFound by the scan: %s · %s"), item->reason, item->finding, time);
  else
    /* TRANSLATORS: why the line has its class, then the labour time */
    subtitle = g_strdup_printf (_("%s\n%s"), item->reason ? item->reason : "", time);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self), item->title);
  adw_expander_row_set_subtitle (ADW_EXPANDER_ROW (self), subtitle);
  gtk_label_set_label (self->badge_label, ew_work_class_label (item->work_class));
  gtk_widget_add_css_class (GTK_WIDGET (self->badge_label), work_class_style (item->work_class));
  gtk_label_set_label (self->price_label, money);

  if (request_index >= 0)
    {
      gtk_actionable_set_action_name (GTK_ACTIONABLE (self->remove_button), "jobs.remove-line");
      gtk_actionable_set_action_target (GTK_ACTIONABLE (self->remove_button), "i", request_index);
      /* TRANSLATORS: accessible name of a quote line's Remove button */
      remove_name = g_strdup_printf (_("Remove “%s” from the quote"), item->title);
      gtk_accessible_update_property (GTK_ACCESSIBLE (self->remove_button),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, remove_name, -1);
      gtk_widget_set_visible (GTK_WIDGET (self->remove_button), TRUE);
    }

  for (guint i = 0; i < item->operations->len; i++)
    adw_expander_row_add_row (ADW_EXPANDER_ROW (self),
                              operation_row_new (g_ptr_array_index (item->operations, i), rates));
  return GTK_WIDGET (self);
}

EwPlanItemKind
ew_quote_line_row_get_kind (EwQuoteLineRow *self)
{
  g_return_val_if_fail (EW_IS_QUOTE_LINE_ROW (self), 0);
  return self->kind;
}

EwWorkClass
ew_quote_line_row_get_work_class (EwQuoteLineRow *self)
{
  g_return_val_if_fail (EW_IS_QUOTE_LINE_ROW (self), 0);
  return self->work_class;
}

gint64
ew_quote_line_row_get_price_minor (EwQuoteLineRow *self)
{
  g_return_val_if_fail (EW_IS_QUOTE_LINE_ROW (self), 0);
  return self->price_minor;
}

guint
ew_quote_line_row_get_n_operations (EwQuoteLineRow *self)
{
  g_return_val_if_fail (EW_IS_QUOTE_LINE_ROW (self), 0);
  return self->n_operations;
}

gboolean
ew_quote_line_row_get_is_from_scan (EwQuoteLineRow *self)
{
  g_return_val_if_fail (EW_IS_QUOTE_LINE_ROW (self), FALSE);
  return self->is_from_scan;
}

gboolean
ew_quote_line_row_get_is_fixed_price (EwQuoteLineRow *self)
{
  g_return_val_if_fail (EW_IS_QUOTE_LINE_ROW (self), FALSE);
  return self->is_fixed_price;
}

const char *
ew_quote_line_row_get_badge_text (EwQuoteLineRow *self)
{
  g_return_val_if_fail (EW_IS_QUOTE_LINE_ROW (self), NULL);
  return gtk_label_get_label (self->badge_label);
}

static void
ew_quote_line_row_class_init (EwQuoteLineRowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/ecuworkshop/EcuWorkshop/ew-quote-line-row.ui");
  gtk_widget_class_bind_template_child (widget_class, EwQuoteLineRow, badge_label);
  gtk_widget_class_bind_template_child (widget_class, EwQuoteLineRow, price_label);
  gtk_widget_class_bind_template_child (widget_class, EwQuoteLineRow, remove_button);
}

static void
ew_quote_line_row_init (EwQuoteLineRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}
