/* ew-feature-row.c — one feature of the car on the Features page. */
#include "config.h"

#include <glib/gi18n.h>

#include "ew-feature-row.h"

struct _EwFeatureRow {
  AdwActionRow     parent_instance;

  GtkLabel        *class_label;
  GtkLabel        *unavailable_label;
  GtkSwitch       *state_switch;
  GtkDropDown     *state_dropdown;

  const EwFeature *feature;      /* borrowed from the family */
  char            *car_state;    /* the state read from the car, or NULL */
  char            *shown_state;  /* what the control shows */
  GtkWidget       *control;      /* state_switch, state_dropdown or NULL */
  gboolean         is_updating;
};

G_DEFINE_FINAL_TYPE (EwFeatureRow, ew_feature_row, ADW_TYPE_ACTION_ROW)

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
  if (self->is_updating || state == NULL || g_strcmp0 (state, self->shown_state) == 0)
    return;
  g_free (self->shown_state);
  self->shown_state = g_strdup (state);
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
  const EwFeatureState *state;

  if (position == GTK_INVALID_LIST_POSITION || position >= self->feature->states->len)
    return;
  state = g_ptr_array_index (self->feature->states, position);
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

static void
show_control (EwFeatureRow *self, const EwFeatureStatus *status, const char *shown)
{
  const EwFeature *feature = status->feature;

  if (status->state != NULL && is_on_off (feature))
    {
      self->control = GTK_WIDGET (self->state_switch);
      gtk_switch_set_active (self->state_switch, g_strcmp0 (shown, "on") == 0);
      adw_action_row_set_activatable_widget (ADW_ACTION_ROW (self), self->control);
    }
  else
    {
      g_autoptr(GtkStringList) labels = gtk_string_list_new (NULL);
      guint selected = GTK_INVALID_LIST_POSITION;

      for (guint i = 0; i < feature->states->len; i++)
        {
          const EwFeatureState *state = g_ptr_array_index (feature->states, i);

          gtk_string_list_append (labels, ew_feature_state_display (state));
          if (g_strcmp0 (state->name, shown) == 0)
            selected = i;
        }
      self->control = GTK_WIDGET (self->state_dropdown);
      gtk_drop_down_set_model (self->state_dropdown, G_LIST_MODEL (labels));
      gtk_drop_down_set_selected (self->state_dropdown, selected);
    }
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->control),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, feature->name, -1);
  gtk_widget_set_visible (self->control, TRUE);
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

GtkWidget *
ew_feature_row_new (const EwFeatureStatus *status,
                    EwProvenance           provenance,
                    const char            *pending_state)
{
  EwFeatureRow *self;
  const EwFeature *feature;
  g_autoptr(GString) subtitle = g_string_new (NULL);
  const char *shown;

  g_return_val_if_fail (status != NULL && status->feature != NULL, NULL);

  self = g_object_new (EW_TYPE_FEATURE_ROW, NULL);
  feature = status->feature;
  self->feature = feature;
  self->car_state = g_strdup (status->state ? status->state->name : NULL);
  shown = pending_state != NULL ? pending_state : self->car_state;
  self->shown_state = g_strdup (shown);
  gtk_widget_set_name (GTK_WIDGET (self), feature->id);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self), feature->name);
  g_string_append (subtitle, feature->description);
  if (status->availability != EW_FEATURE_SWITCHABLE && status->reason != NULL)
    g_string_append_printf (subtitle, "\n%s", status->reason);
  else if (status->availability == EW_FEATURE_NEEDS_PROGRAMMING && feature->reason != NULL)
    g_string_append_printf (subtitle, "\n%s", feature->reason);
  if (status->is_option_unconfirmed && status->availability == EW_FEATURE_SWITCHABLE)
    g_string_append_printf (subtitle, "\n%s",
                            _("The car does not list its options: check that the equipment is fitted."));
  g_string_append_printf (subtitle, "\n%s", provenance_text (provenance));
  if (provenance == EW_PROVENANCE_COMMUNITY && feature->provenance.source != NULL)
    /* TRANSLATORS: where community data comes from */
    g_string_append_printf (subtitle, _(" (source: %s)"), feature->provenance.source);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self), subtitle->str);

  gtk_label_set_label (self->class_label, ew_work_class_label (feature->work_class));
  gtk_widget_add_css_class (GTK_WIDGET (self->class_label),
                            feature->work_class == EW_WORK_CLASS_PROGRAMMING ? "ew-badge-programming"
                            : feature->work_class == EW_WORK_CLASS_ADAPTATION ? "ew-badge-adaptation"
                            : "ew-badge-coding");

  self->is_updating = TRUE;
  if (status->availability == EW_FEATURE_SWITCHABLE && feature->states->len > 0)
    show_control (self, status, shown);
  else
    {
      gtk_label_set_label (self->unavailable_label, unavailable_text (status->availability));
      gtk_widget_set_visible (GTK_WIDGET (self->unavailable_label), TRUE);
      gtk_widget_add_css_class (GTK_WIDGET (self), "ew-unavailable");
    }
  self->is_updating = FALSE;

  if (pending_state != NULL)
    gtk_widget_add_css_class (GTK_WIDGET (self), "ew-pending");
  return GTK_WIDGET (self);
}

const EwFeature *
ew_feature_row_get_feature (EwFeatureRow *self)
{
  g_return_val_if_fail (EW_IS_FEATURE_ROW (self), NULL);
  return self->feature;
}

GtkWidget *
ew_feature_row_get_control (EwFeatureRow *self)
{
  g_return_val_if_fail (EW_IS_FEATURE_ROW (self), NULL);
  return self->control;
}

const char *
ew_feature_row_get_shown_state (EwFeatureRow *self)
{
  g_return_val_if_fail (EW_IS_FEATURE_ROW (self), NULL);
  return self->shown_state;
}

static gboolean
contains_folded (const char *haystack, const char *needle)
{
  g_autofree char *h = NULL;

  if (haystack == NULL)
    return FALSE;
  h = g_utf8_casefold (haystack, -1);
  return strstr (h, needle) != NULL;
}

gboolean
ew_feature_row_matches (EwFeatureRow *self, const char *text)
{
  g_autofree char *folded = NULL;
  g_auto(GStrv) words = NULL;

  g_return_val_if_fail (EW_IS_FEATURE_ROW (self), FALSE);

  if (text == NULL || *text == '\0')
    return TRUE;
  folded = g_utf8_casefold (text, -1);
  words = g_strsplit_set (folded, " \t", -1);
  for (guint i = 0; words[i] != NULL; i++)
    if (*words[i] != '\0'
        && !contains_folded (self->feature->name, words[i])
        && !contains_folded (self->feature->description, words[i])
        && !contains_folded (self->feature->id, words[i]))
      return FALSE;
  return TRUE;
}

static void
ew_feature_row_finalize (GObject *object)
{
  EwFeatureRow *self = EW_FEATURE_ROW (object);

  g_free (self->car_state);
  g_free (self->shown_state);
  G_OBJECT_CLASS (ew_feature_row_parent_class)->finalize (object);
}

static void
ew_feature_row_class_init (EwFeatureRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = ew_feature_row_finalize;

  /* The technician asked for a state (its name); nothing is written yet. */
  signals[SIGNAL_STATE_REQUESTED] =
    g_signal_new ("state-requested", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/ecuworkshop/EcuWorkshop/ew-feature-row.ui");
  gtk_widget_class_bind_template_child (widget_class, EwFeatureRow, class_label);
  gtk_widget_class_bind_template_child (widget_class, EwFeatureRow, unavailable_label);
  gtk_widget_class_bind_template_child (widget_class, EwFeatureRow, state_switch);
  gtk_widget_class_bind_template_child (widget_class, EwFeatureRow, state_dropdown);
  gtk_widget_class_bind_template_callback (widget_class, on_switch_active);
  gtk_widget_class_bind_template_callback (widget_class, on_dropdown_selected);
}

static void
ew_feature_row_init (EwFeatureRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}
