/* ew-feature-item.c — one entry of the Features page's list model. */
#include "config.h"

#include <string.h>

#include "ew-feature-item.h"

struct _EwFeatureItem {
  GObject                parent_instance;

  char                  *title;         /* headings only */
  const EwFeature       *feature;       /* borrowed from the family; NULL for a heading */
  const EwModule        *module;        /* borrowed, nullable */
  const EwFeatureState  *car_state;     /* borrowed, nullable */
  EwFeatureAvailability  availability;
  char                  *reason;
  gboolean               is_option_unconfirmed;
  EwProvenance           provenance;
  char                  *pending_state;
  /* name, description, id and module name, casefolded once, so that a
   * keystroke in the search costs one strstr () per word and feature */
  char                  *haystack;
  gboolean               is_listed;
};

G_DEFINE_FINAL_TYPE (EwFeatureItem, ew_feature_item, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_PENDING_STATE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

EwFeatureItem *
ew_feature_item_new (const EwFeatureStatus *status, EwProvenance provenance)
{
  EwFeatureItem *self;
  const EwFeature *feature;
  g_autofree char *text = NULL;

  g_return_val_if_fail (status != NULL && status->feature != NULL, NULL);

  feature = status->feature;
  self = g_object_new (EW_TYPE_FEATURE_ITEM, NULL);
  self->feature = feature;
  self->module = status->module;
  self->car_state = status->state;
  self->availability = status->availability;
  self->reason = g_strdup (status->reason);
  self->is_option_unconfirmed = status->is_option_unconfirmed;
  self->provenance = provenance;
  text = g_strjoin ("\n", feature->name ? feature->name : "",
                    feature->description ? feature->description : "",
                    feature->id,
                    status->module && status->module->name ? status->module->name : "",
                    NULL);
  self->haystack = g_utf8_casefold (text, -1);
  self->is_listed = TRUE;
  return self;
}

EwFeatureItem *
ew_feature_item_new_heading (const char *title)
{
  EwFeatureItem *self = g_object_new (EW_TYPE_FEATURE_ITEM, NULL);

  self->title = g_strdup (title);
  self->is_listed = TRUE;
  return self;
}

gboolean
ew_feature_item_is_heading (EwFeatureItem *self)
{
  g_return_val_if_fail (EW_IS_FEATURE_ITEM (self), FALSE);
  return self->feature == NULL;
}

const char *
ew_feature_item_get_title (EwFeatureItem *self)
{
  g_return_val_if_fail (EW_IS_FEATURE_ITEM (self), NULL);
  return self->feature != NULL ? self->feature->name : self->title;
}

const EwFeature *
ew_feature_item_get_feature (EwFeatureItem *self)
{
  g_return_val_if_fail (EW_IS_FEATURE_ITEM (self), NULL);
  return self->feature;
}

const EwModule *
ew_feature_item_get_module (EwFeatureItem *self)
{
  g_return_val_if_fail (EW_IS_FEATURE_ITEM (self), NULL);
  return self->module;
}

EwFeatureAvailability
ew_feature_item_get_availability (EwFeatureItem *self)
{
  g_return_val_if_fail (EW_IS_FEATURE_ITEM (self), EW_FEATURE_UNREADABLE);
  return self->availability;
}

const char *
ew_feature_item_get_reason (EwFeatureItem *self)
{
  g_return_val_if_fail (EW_IS_FEATURE_ITEM (self), NULL);
  return self->reason;
}

gboolean
ew_feature_item_get_is_option_unconfirmed (EwFeatureItem *self)
{
  g_return_val_if_fail (EW_IS_FEATURE_ITEM (self), FALSE);
  return self->is_option_unconfirmed;
}

EwProvenance
ew_feature_item_get_provenance (EwFeatureItem *self)
{
  g_return_val_if_fail (EW_IS_FEATURE_ITEM (self), EW_PROVENANCE_ILLUSTRATIVE);
  return self->provenance;
}

const EwFeatureState *
ew_feature_item_get_car_state (EwFeatureItem *self)
{
  g_return_val_if_fail (EW_IS_FEATURE_ITEM (self), NULL);
  return self->car_state;
}

const char *
ew_feature_item_get_pending_state (EwFeatureItem *self)
{
  g_return_val_if_fail (EW_IS_FEATURE_ITEM (self), NULL);
  return self->pending_state;
}

void
ew_feature_item_set_pending_state (EwFeatureItem *self, const char *state)
{
  g_return_if_fail (EW_IS_FEATURE_ITEM (self));

  if (g_strcmp0 (self->pending_state, state) == 0)
    return;
  g_free (self->pending_state);
  self->pending_state = g_strdup (state);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PENDING_STATE]);
}

const char *
ew_feature_item_get_shown_state (EwFeatureItem *self)
{
  g_return_val_if_fail (EW_IS_FEATURE_ITEM (self), NULL);

  if (self->pending_state != NULL)
    return self->pending_state;
  return self->car_state != NULL ? self->car_state->name : NULL;
}

gboolean
ew_feature_item_matches (EwFeatureItem *self, const char * const *folded_words)
{
  g_return_val_if_fail (EW_IS_FEATURE_ITEM (self), FALSE);

  if (self->feature == NULL)
    return FALSE;
  for (guint i = 0; folded_words != NULL && folded_words[i] != NULL; i++)
    if (strstr (self->haystack, folded_words[i]) == NULL)
      return FALSE;
  return TRUE;
}

gboolean
ew_feature_item_get_is_listed (EwFeatureItem *self)
{
  g_return_val_if_fail (EW_IS_FEATURE_ITEM (self), FALSE);
  return self->is_listed;
}

void
ew_feature_item_set_is_listed (EwFeatureItem *self, gboolean is_listed)
{
  g_return_if_fail (EW_IS_FEATURE_ITEM (self));
  self->is_listed = is_listed;
}

static void
ew_feature_item_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  EwFeatureItem *self = EW_FEATURE_ITEM (object);

  switch (prop_id)
    {
    case PROP_PENDING_STATE:
      g_value_set_string (value, self->pending_state);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ew_feature_item_finalize (GObject *object)
{
  EwFeatureItem *self = EW_FEATURE_ITEM (object);

  g_free (self->title);
  g_free (self->reason);
  g_free (self->pending_state);
  g_free (self->haystack);
  G_OBJECT_CLASS (ew_feature_item_parent_class)->finalize (object);
}

static void
ew_feature_item_class_init (EwFeatureItemClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = ew_feature_item_get_property;
  object_class->finalize = ew_feature_item_finalize;

  properties[PROP_PENDING_STATE] =
    g_param_spec_string ("pending-state", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
ew_feature_item_init (EwFeatureItem *self)
{
}
