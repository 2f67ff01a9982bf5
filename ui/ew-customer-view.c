/* ew-customer-view.c — the quote in large, plain words for the customer. */
#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "ew-customer-view.h"
#include "ew-feature-row.h"
#include "ew-quote-line-row.h"

typedef struct {
  GtkWidget *box;                /* in lines_box */
  GtkLabel  *title;
  GtkLabel  *badge;
} Line;

struct _EwCustomerView {
  GtkWidget  parent_instance;

  GtkLabel  *vehicle_label;
  GtkLabel  *empty_label;
  GtkBox    *lines_box;
  GtkLabel  *risk_label;
  GtkLabel  *time_label;
  GtkLabel  *total_caption;
  GtkLabel  *total_label;

  GArray    *lines;              /* Line */
};

G_DEFINE_FINAL_TYPE (EwCustomerView, ew_customer_view, GTK_TYPE_WIDGET)

static const char *
class_name (EwWorkClass work_class)
{
  switch (work_class)
    {
    case EW_WORK_CLASS_PROGRAMMING: return "programming";
    case EW_WORK_CLASS_ADAPTATION:  return "adaptation";
    case EW_WORK_CLASS_CODING:
    default:                        return "coding";
    }
}

static GtkWidget *
text_label (const char *text, const char *style)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, style);
  return label;
}

/* What the line does, in words: the family's description, else its steps. */
static char *
what_is_done (const EwPlanItem *item)
{
  g_autoptr(GString) steps = NULL;

  if (item->description != NULL && item->description[0] != '\0')
    return g_strdup (item->description);
  steps = g_string_new (NULL);
  for (guint i = 0; i < item->operations->len; i++)
    {
      const EwPlanOperation *op = g_ptr_array_index (item->operations, i);

      /* TRANSLATORS: separates the steps of a job in the customer view */
      g_string_append_printf (steps, "%s%s", i > 0 ? _("; ") : "", op->name);
    }
  return g_string_free (g_steal_pointer (&steps), FALSE);
}

static void
add_line (EwCustomerView *self, const EwPlanItem *item)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 8);
  GtkWidget *head = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *badge = gtk_label_new (ew_work_class_label (item->work_class));
  GtkWidget *title = text_label (item->title, "ew-customer-title");
  g_autofree char *time = ew_format_labour_minutes (item->labour_minutes);
  GtkWidget *time_label = gtk_label_new (time);
  g_autofree char *what = what_is_done (item);
  g_autofree char *style = g_strdup_printf ("ew-customer-%s", class_name (item->work_class));
  g_autofree char *badge_style = g_strdup_printf ("ew-badge-%s", class_name (item->work_class));
  /* TRANSLATORS: the customer view: what will be done on the car */
  g_autofree char *what_text = g_strdup_printf (_("What we do: %s"), what);
  /* TRANSLATORS: the customer view: why it is coding or programming */
  g_autofree char *why_text = g_strdup_printf (_("Why: %s"), item->reason != NULL ? item->reason : "");
  Line line = { box, GTK_LABEL (title), GTK_LABEL (badge) };

  gtk_widget_add_css_class (box, "card");
  gtk_widget_add_css_class (box, "ew-customer-line");
  gtk_widget_add_css_class (box, style);

  /* the badge on a row of its own, so that the view fits a narrow window */
  gtk_widget_set_halign (badge, GTK_ALIGN_START);
  gtk_widget_add_css_class (badge, "ew-badge");
  gtk_widget_add_css_class (badge, badge_style);
  gtk_widget_add_css_class (badge, "ew-customer-badge");
  gtk_widget_set_hexpand (title, TRUE);
  gtk_widget_set_valign (time_label, GTK_ALIGN_START);
  gtk_widget_add_css_class (time_label, "ew-customer-time");
  gtk_widget_add_css_class (time_label, "numeric");
  gtk_box_append (GTK_BOX (box), badge);
  gtk_box_append (GTK_BOX (head), title);
  gtk_box_append (GTK_BOX (head), time_label);
  gtk_box_append (GTK_BOX (box), head);
  gtk_box_append (GTK_BOX (box), text_label (what_text, "ew-customer-text"));
  gtk_box_append (GTK_BOX (box), text_label (why_text, "ew-customer-why"));
  if (item->is_from_scan && item->finding != NULL)
    {
      /* TRANSLATORS: the customer view: what the check of the car found */
      g_autofree char *found = g_strdup_printf (_("Found when we checked your car: %s"), item->finding);

      gtk_box_append (GTK_BOX (box), text_label (found, "ew-customer-why"));
    }

  gtk_box_append (self->lines_box, box);
  g_array_append_val (self->lines, line);
}

void
ew_customer_view_set_plan (EwCustomerView  *self,
                           const EwJobPlan *plan,
                           const char      *vehicle)
{
  gboolean has_programming = FALSE;
  g_autofree char *time = NULL;
  g_autofree char *total = NULL;
  g_autofree char *caption = NULL;
  g_autofree char *vat_percent = NULL;

  g_return_if_fail (EW_IS_CUSTOMER_VIEW (self));

  for (guint i = 0; i < self->lines->len; i++)
    gtk_box_remove (self->lines_box, g_array_index (self->lines, Line, i).box);
  g_array_set_size (self->lines, 0);

  gtk_label_set_label (self->vehicle_label, vehicle != NULL ? vehicle : "");
  gtk_widget_set_visible (GTK_WIDGET (self->vehicle_label), vehicle != NULL);
  for (guint i = 0; plan != NULL && i < plan->items->len; i++)
    {
      const EwPlanItem *item = g_ptr_array_index (plan->items, i);

      add_line (self, item);
      has_programming |= item->work_class == EW_WORK_CLASS_PROGRAMMING;
    }
  gtk_widget_set_visible (GTK_WIDGET (self->empty_label), self->lines->len == 0);
  gtk_widget_set_visible (GTK_WIDGET (self->risk_label), has_programming);

  time = ew_format_labour_minutes (plan != NULL ? plan->labour_minutes : 0);
  gtk_label_set_label (self->time_label, time);
  if (plan != NULL)
    {
      vat_percent = ew_price_format_vat_percent (&plan->rates);
      total = ew_money_format (&plan->rates, plan->gross_minor);
      /* TRANSLATORS: the customer view's total; %s is the VAT rate, e.g. "20" */
      caption = g_strdup_printf (_("Total to pay, VAT (%s %%) included"), vat_percent);
    }
  gtk_label_set_label (self->total_label, total != NULL ? total : "");
  gtk_label_set_label (self->total_caption, caption != NULL ? caption : _("Total to pay, VAT included"));
}

guint
ew_customer_view_get_n_lines (EwCustomerView *self)
{
  g_return_val_if_fail (EW_IS_CUSTOMER_VIEW (self), 0);
  return self->lines->len;
}

const char *
ew_customer_view_get_line_title (EwCustomerView *self, guint index)
{
  g_return_val_if_fail (EW_IS_CUSTOMER_VIEW (self), NULL);
  g_return_val_if_fail (index < self->lines->len, NULL);
  return gtk_label_get_label (g_array_index (self->lines, Line, index).title);
}

const char *
ew_customer_view_get_line_badge (EwCustomerView *self, guint index)
{
  g_return_val_if_fail (EW_IS_CUSTOMER_VIEW (self), NULL);
  g_return_val_if_fail (index < self->lines->len, NULL);
  return gtk_label_get_label (g_array_index (self->lines, Line, index).badge);
}

const char *
ew_customer_view_get_total_text (EwCustomerView *self)
{
  g_return_val_if_fail (EW_IS_CUSTOMER_VIEW (self), NULL);
  return gtk_label_get_label (self->total_label);
}

const char *
ew_customer_view_get_time_text (EwCustomerView *self)
{
  g_return_val_if_fail (EW_IS_CUSTOMER_VIEW (self), NULL);
  return gtk_label_get_label (self->time_label);
}

GtkWidget *
ew_customer_view_new (void)
{
  return g_object_new (EW_TYPE_CUSTOMER_VIEW, NULL);
}

static void
ew_customer_view_dispose (GObject *object)
{
  EwCustomerView *self = EW_CUSTOMER_VIEW (object);
  GtkWidget *child;

  gtk_widget_dispose_template (GTK_WIDGET (self), EW_TYPE_CUSTOMER_VIEW);
  /* the template's scrolled window is not a bound child */
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);
  G_OBJECT_CLASS (ew_customer_view_parent_class)->dispose (object);
}

static void
ew_customer_view_finalize (GObject *object)
{
  EwCustomerView *self = EW_CUSTOMER_VIEW (object);

  g_array_unref (self->lines);
  G_OBJECT_CLASS (ew_customer_view_parent_class)->finalize (object);
}

static void
ew_customer_view_class_init (EwCustomerViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ew_customer_view_dispose;
  object_class->finalize = ew_customer_view_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/ecuworkshop/EcuWorkshop/ew-customer-view.ui");
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_bind_template_child (widget_class, EwCustomerView, vehicle_label);
  gtk_widget_class_bind_template_child (widget_class, EwCustomerView, empty_label);
  gtk_widget_class_bind_template_child (widget_class, EwCustomerView, lines_box);
  gtk_widget_class_bind_template_child (widget_class, EwCustomerView, risk_label);
  gtk_widget_class_bind_template_child (widget_class, EwCustomerView, time_label);
  gtk_widget_class_bind_template_child (widget_class, EwCustomerView, total_caption);
  gtk_widget_class_bind_template_child (widget_class, EwCustomerView, total_label);
}

static void
ew_customer_view_init (EwCustomerView *self)
{
  self->lines = g_array_new (FALSE, FALSE, sizeof (Line));
  gtk_widget_init_template (GTK_WIDGET (self));
}
