/* ew-feature-row.c — one feature of the car on the Features page. */
#include "config.h"

#include <glib/gi18n.h>

#include "ew-feature-row.h"

struct _EwFeatureRow {
  GtkListBoxRow    parent_instance;

  GtkInscription  *title_text;
  GtkInscription  *subtitle_text;
  GtkLabel        *class_label;
  GtkLabel        *unavailable_label;
  GtkSwitch       *state_switch;
  GtkDropDown     *state_dropdown;  /* made for the first feature with a choice */
  GtkBox          *control_box;

  EwFeatureItem   *item;         /* nullable */
  gulong           pending_handler;
  GtkWidget       *control;      /* state_switch, state_dropdown or NULL */
  gboolean         is_updating;
};

G_DEFINE_FINAL_TYPE (EwFeatureRow, ew_feature_row, GTK_TYPE_LIST_BOX_ROW)

enum {
  SIGNAL_STATE_REQUESTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

const char *
ew_work_class_label (EwWorkClass work_class)
{
  switch (work_class)
    {
    case EW_WORK_CLASS_PROGRAMMING:
      return _("Programming");
    case EW_WORK_CLASS_ADAPTATION:
      return _("Adaptation");
    case EW_WORK_CLASS_CODING:
    default:
      return _("Coding");
    }
}

const char *
ew_feature_state_display (const EwFeatureState *state)
{
  if (state == NULL)
    /* TRANSLATORS: the car holds a value that matches none of the feature's states */
    return _("Unknown value");
  return state->label != NULL ? state->label : state->name;
}

/* A switch only where the two states really are off and on. */
static gboolean
is_on_off (const EwFeature *feature)
{
  const EwFeatureState *a, *b;

  if (feature->states->len != 2)
    return FALSE;
  a = g_ptr_array_index (feature->states, 0);
  b = g_ptr_array_index (feature->states, 1);
  return (g_str_equal (a->name, "off") && g_str_equal (b->name, "on"))
         || (g_str_equal (a->name, "on") && g_str_equal (b->name, "off"));
}

static void
request_state (EwFeatureRow *self, const char *state)
{
  if (self->is_updating || self->item == NULL || state == NULL
      || g_strcmp0 (state, ew_feature_item_get_shown_state (self->item)) == 0)
    return;
  g_signal_emit (self, signals[SIGNAL_STATE_REQUESTED], 0, state);
}

static void
on_switch_active (EwFeatureRow *self)
{
  request_state (self, gtk_switch_get_active (self->state_switch) ? "on" : "off");
}

static void
on_dropdown_selected (EwFeatureRow *self)
{
  guint position = gtk_drop_down_get_selected (self->state_dropdown);
  const EwFeature *feature = self->item ? ew_feature_item_get_feature (self->item) : NULL;
  const EwFeatureState *state;

  if (feature == NULL || position == GTK_INVALID_LIST_POSITION || position >= feature->states->len)
    return;
  state = g_ptr_array_index (feature->states, position);
  request_state (self, state->name);
}

static const char *
provenance_text (EwProvenance provenance)
{
  switch (provenance)
    {
    case EW_PROVENANCE_VERIFIED:
      return _("Verified data");
    case EW_PROVENANCE_COMMUNITY:
      return _("Community data: you confirm it before it is written");
    case EW_PROVENANCE_ILLUSTRATIVE:
    default:
      return _("Illustrative data: simulated cars only");
    }
}

/* The control shows the item's state: the one asked for, else the car's. */
static void
sync_state (EwFeatureRow *self)
{
  const EwFeature *feature = ew_feature_item_get_feature (self->item);
  const char *shown = ew_feature_item_get_shown_state (self->item);

  self->is_updating = TRUE;
  if (self->control == GTK_WIDGET (self->state_switch))
    gtk_switch_set_active (self->state_switch, g_strcmp0 (shown, "on") == 0);
  else if (self->control != NULL && self->control == GTK_WIDGET (self->state_dropdown))
    {
      guint selected = GTK_INVALID_LIST_POSITION;

      for (guint i = 0; i < feature->states->len; i++)
        if (g_strcmp0 (((const EwFeatureState *) g_ptr_array_index (feature->states, i))->name, shown) == 0)
          selected = i;
      gtk_drop_down_set_selected (self->state_dropdown, selected);
    }
  self->is_updating = FALSE;

  if (ew_feature_item_get_pending_state (self->item) != NULL)
    gtk_widget_add_css_class (GTK_WIDGET (self), "ew-pending");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self), "ew-pending");
}

/* Most features are switches, and a drop-down is costly to make: it is
 * made for the first choice the row shows, or ahead of time. */
void
ew_feature_row_prepare (EwFeatureRow *self)
{
  g_return_if_fail (EW_IS_FEATURE_ROW (self));
  if (self->state_dropdown != NULL)
    return;
  self->state_dropdown = GTK_DROP_DOWN (gtk_drop_down_new (NULL, NULL));
  gtk_widget_set_valign (GTK_WIDGET (self->state_dropdown), GTK_ALIGN_CENTER);
  gtk_widget_set_visible (GTK_WIDGET (self->state_dropdown), FALSE);
  g_signal_connect_swapped (self->state_dropdown, "notify::selected",
                            G_CALLBACK (on_dropdown_selected), self);
  gtk_box_append (self->control_box, GTK_WIDGET (self->state_dropdown));
}

static void
show_control (EwFeatureRow *self, const EwFeature *feature)
{
  if (ew_feature_item_get_car_state (self->item) != NULL && is_on_off (feature))
    {
      self->control = GTK_WIDGET (self->state_switch);
    }
  else
    {
      g_autoptr(GtkStringList) labels = gtk_string_list_new (NULL);

      for (guint i = 0; i < feature->states->len; i++)
        gtk_string_list_append (labels,
                                ew_feature_state_display (g_ptr_array_index (feature->states, i)));
      ew_feature_row_prepare (self);
      self->control = GTK_WIDGET (self->state_dropdown);
      self->is_updating = TRUE;
      gtk_drop_down_set_model (self->state_dropdown, G_LIST_MODEL (labels));
      self->is_updating = FALSE;
    }
  /* the control is named after its feature for screen readers */
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->control),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, feature->name, -1);
  gtk_widget_set_visible (self->control, TRUE);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (self), TRUE);
}

static const char *
unavailable_text (EwFeatureAvailability availability)
{
  switch (availability)
    {
    case EW_FEATURE_NOT_FITTED:
      return _("Not fitted");
    case EW_FEATURE_NEEDS_PROGRAMMING:
      return _("Needs programming");
    case EW_FEATURE_UNREADABLE:
      return _("Not readable");
    case EW_FEATURE_SWITCHABLE:
    default:
      return NULL;
    }
}

/* The lines the subtitle is given: one per paragraph, and one more for a
 * long paragraph, as a row of the usual width wraps it. The whole text is
 * in the tooltip and in what screen readers say. */
#define CHARS_PER_LINE 80
#define MAX_SUBTITLE_LINES 5

static guint
subtitle_lines (const char *text)
{
  g_auto(GStrv) paragraphs = g_strsplit (text, "\n", -1);
  guint lines = 0;

  for (guint i = 0; paragraphs[i] != NULL; i++)
    lines += 1 + MAX (g_utf8_strlen (paragraphs[i], -1) - 1, 0) / CHARS_PER_LINE;
  return MIN (MAX (lines, 1), MAX_SUBTITLE_LINES);
}

static gboolean
on_query_tooltip (EwFeatureRow *self,
                  int           x,
                  int           y,
                  gboolean      keyboard_mode,
                  GtkTooltip   *tooltip)
{
  const char *text = gtk_inscription_get_text (self->subtitle_text);

  if (self->item == NULL || text == NULL)
    return FALSE;
  gtk_tooltip_set_text (tooltip, text);
  return TRUE;
}

void
ew_feature_row_activate_control (EwFeatureRow *self)
{
  g_return_if_fail (EW_IS_FEATURE_ROW (self));
  if (self->control != NULL)
    gtk_widget_mnemonic_activate (self->control, FALSE);
}

GtkWidget *
ew_feature_row_new (void)
{
  return g_object_new (EW_TYPE_FEATURE_ROW, NULL);
}

static void
clear_item (EwFeatureRow *self)
{
  static const char * const classes[] = {
    "ew-pending", "ew-unavailable",
  };
  static const char * const badges[] = {
    "ew-badge-coding", "ew-badge-programming", "ew-badge-adaptation",
  };

  if (self->item != NULL)
    {
      g_clear_signal_handler (&self->pending_handler, self->item);
      g_clear_object (&self->item);
    }
  for (guint i = 0; i < G_N_ELEMENTS (classes); i++)
    gtk_widget_remove_css_class (GTK_WIDGET (self), classes[i]);
  for (guint i = 0; i < G_N_ELEMENTS (badges); i++)
    gtk_widget_remove_css_class (GTK_WIDGET (self->class_label), badges[i]);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (self), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->state_switch), FALSE);
  if (self->state_dropdown != NULL)
    gtk_widget_set_visible (GTK_WIDGET (self->state_dropdown), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->unavailable_label), FALSE);
  self->control = NULL;
}

void
ew_feature_row_set_item (EwFeatureRow *self, EwFeatureItem *item)
{
  const EwFeature *feature;
  EwFeatureAvailability availability;
  EwProvenance provenance;
  const char *reason;
  g_autoptr(GString) subtitle = g_string_new (NULL);
  guint lines;

  g_return_if_fail (EW_IS_FEATURE_ROW (self));
  g_return_if_fail (item == NULL || !ew_feature_item_is_heading (item));

  if (item == self->item)
    return;
  clear_item (self);
  if (item == NULL)
    return;

  self->item = g_object_ref (item);
  feature = ew_feature_item_get_feature (item);
  availability = ew_feature_item_get_availability (item);
  provenance = ew_feature_item_get_provenance (item);
  reason = ew_feature_item_get_reason (item);
  gtk_widget_set_name (GTK_WIDGET (self), feature->id);

  gtk_inscription_set_text (self->title_text, feature->name);
  g_string_append (subtitle, feature->description);
  if (availability != EW_FEATURE_SWITCHABLE && reason != NULL)
    g_string_append_printf (subtitle, "\n%s", reason);
  else if (availability == EW_FEATURE_NEEDS_PROGRAMMING && feature->reason != NULL)
    g_string_append_printf (subtitle, "\n%s", feature->reason);
  if (ew_feature_item_get_is_option_unconfirmed (item) && availability == EW_FEATURE_SWITCHABLE)
    g_string_append_printf (subtitle, "\n%s",
                            _("The car does not list its options: check that the equipment is fitted."));
  g_string_append_printf (subtitle, "\n%s", provenance_text (provenance));
  if (provenance == EW_PROVENANCE_COMMUNITY && feature->provenance.source != NULL)
    /* TRANSLATORS: where community data comes from */
    g_string_append_printf (subtitle, _(" (source: %s)"), feature->provenance.source);
  gtk_inscription_set_text (self->subtitle_text, subtitle->str);
  /* GTK 4.8's list view gives a row its minimum height */
  lines = subtitle_lines (subtitle->str);
  gtk_inscription_set_min_lines (self->subtitle_text, lines);
  gtk_inscription_set_nat_lines (self->subtitle_text, lines);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, feature->name,
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, subtitle->str, -1);

  gtk_label_set_label (self->class_label, ew_work_class_label (feature->work_class));
  gtk_widget_add_css_class (GTK_WIDGET (self->class_label),
                            feature->work_class == EW_WORK_CLASS_PROGRAMMING ? "ew-badge-programming"
                            : feature->work_class == EW_WORK_CLASS_ADAPTATION ? "ew-badge-adaptation"
                            : "ew-badge-coding");

  if (availability == EW_FEATURE_SWITCHABLE && feature->states->len > 0)
    show_control (self, feature);
  else
    {
      gtk_label_set_label (self->unavailable_label, unavailable_text (availability));
      gtk_widget_set_visible (GTK_WIDGET (self->unavailable_label), TRUE);
      gtk_widget_add_css_class (GTK_WIDGET (self), "ew-unavailable");
    }
  sync_state (self);
  self->pending_handler = g_signal_connect_swapped (item, "notify::pending-state",
                                                    G_CALLBACK (sync_state), self);
}

EwFeatureItem *
ew_feature_row_get_item (EwFeatureRow *self)
{
  g_return_val_if_fail (EW_IS_FEATURE_ROW (self), NULL);
  return self->item;
}

const EwFeature *
ew_feature_row_get_feature (EwFeatureRow *self)
{
  g_return_val_if_fail (EW_IS_FEATURE_ROW (self), NULL);
  return self->item ? ew_feature_item_get_feature (self->item) : NULL;
}

GtkWidget *
ew_feature_row_get_control (EwFeatureRow *self)
{
  g_return_val_if_fail (EW_IS_FEATURE_ROW (self), NULL);
  return self->control;
}

const char *
ew_feature_row_get_subtitle (EwFeatureRow *self)
{
  g_return_val_if_fail (EW_IS_FEATURE_ROW (self), NULL);
  return gtk_inscription_get_text (self->subtitle_text);
}

const char *
ew_feature_row_get_shown_state (EwFeatureRow *self)
{
  g_return_val_if_fail (EW_IS_FEATURE_ROW (self), NULL);
  return self->item ? ew_feature_item_get_shown_state (self->item) : NULL;
}

static void
ew_feature_row_dispose (GObject *object)
{
  EwFeatureRow *self = EW_FEATURE_ROW (object);

  if (self->item != NULL)
    {
      g_clear_signal_handler (&self->pending_handler, self->item);
      g_clear_object (&self->item);
    }
  G_OBJECT_CLASS (ew_feature_row_parent_class)->dispose (object);
}

static void
ew_feature_row_class_init (EwFeatureRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ew_feature_row_dispose;

  /* The technician asked for a state (its name); nothing is written yet. */
  signals[SIGNAL_STATE_REQUESTED] =
    g_signal_new ("state-requested", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/ecuworkshop/EcuWorkshop/ew-feature-row.ui");
  gtk_widget_class_bind_template_child (widget_class, EwFeatureRow, title_text);
  gtk_widget_class_bind_template_child (widget_class, EwFeatureRow, subtitle_text);
  gtk_widget_class_bind_template_child (widget_class, EwFeatureRow, control_box);
  gtk_widget_class_bind_template_child (widget_class, EwFeatureRow, class_label);
  gtk_widget_class_bind_template_child (widget_class, EwFeatureRow, unavailable_label);
  gtk_widget_class_bind_template_child (widget_class, EwFeatureRow, state_switch);
  gtk_widget_class_bind_template_callback (widget_class, on_switch_active);
  gtk_widget_class_bind_template_callback (widget_class, on_query_tooltip);
}

static void
ew_feature_row_init (EwFeatureRow *self)
{
  g_autoptr(PangoAttrList) smaller = pango_attr_list_new ();

  gtk_widget_init_template (GTK_WIDGET (self));
  /* GTK 4.8's inscription keeps the font size it had when a recycled row
   * is put back into the list, if CSS sets it: the subtitle's size is
   * its own attribute, as libadwaita's subtitles are smaller */
  pango_attr_list_insert (smaller, pango_attr_scale_new (PANGO_SCALE_SMALL));
  gtk_inscription_set_attributes (self->subtitle_text, smaller);
}
