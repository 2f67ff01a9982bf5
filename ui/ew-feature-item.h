/* ew-feature-item.h — one entry of the Features page's list model: a
 * feature of the car with the state read from it and the state asked for,
 * or the heading of a group of features (a category or a module).
 *
 * The page lists headings and features in one flat model so that one
 * list view draws only the rows on screen, however large the family.
 */
#pragma once

#include <gio/gio.h>

#include "coding/catalogue.h"

G_BEGIN_DECLS

#define EW_TYPE_FEATURE_ITEM (ew_feature_item_get_type ())
G_DECLARE_FINAL_TYPE (EwFeatureItem, ew_feature_item, EW, FEATURE_ITEM, GObject)

/* The item copies what it shows of status; the feature, its states and
 * module belong to the family, which must outlive the item. provenance
 * is the one the engine applies (ew_coding_feature_provenance()). */
EwFeatureItem         *ew_feature_item_new                (const EwFeatureStatus *status,
                                                           EwProvenance           provenance);
EwFeatureItem         *ew_feature_item_new_heading        (const char            *title);

gboolean               ew_feature_item_is_heading         (EwFeatureItem *self);
/* The heading's title, or the feature's name. */
const char            *ew_feature_item_get_title          (EwFeatureItem *self);
/* NULL for a heading. */
const EwFeature       *ew_feature_item_get_feature        (EwFeatureItem *self);
const EwModule        *ew_feature_item_get_module         (EwFeatureItem *self);
EwFeatureAvailability  ew_feature_item_get_availability   (EwFeatureItem *self);
/* Why the feature cannot be switched, or NULL. */
const char            *ew_feature_item_get_reason         (EwFeatureItem *self);
gboolean               ew_feature_item_get_is_option_unconfirmed (EwFeatureItem *self);
EwProvenance           ew_feature_item_get_provenance     (EwFeatureItem *self);
/* The state the car holds, or NULL (unreadable, or no state matches). */
const EwFeatureState  *ew_feature_item_get_car_state      (EwFeatureItem *self);

/* The state asked for and not applied yet (its name), or NULL; the
 * "pending-state" property notifies changes. */
const char            *ew_feature_item_get_pending_state  (EwFeatureItem *self);
void                   ew_feature_item_set_pending_state  (EwFeatureItem *self,
                                                           const char    *state);
/* The state a row shows: the one asked for, else the car's. */
const char            *ew_feature_item_get_shown_state    (EwFeatureItem *self);

/* Whether the feature's name, description, id or module name holds every
 * word (casefolded with g_utf8_casefold(), none empty). A heading never
 * matches by itself. */
gboolean               ew_feature_item_matches            (EwFeatureItem      *self,
                                                           const char * const *folded_words);
/* Whether the page lists the item under the current search. */
gboolean               ew_feature_item_get_is_listed      (EwFeatureItem *self);
void                   ew_feature_item_set_is_listed      (EwFeatureItem *self,
                                                           gboolean       is_listed);

G_END_DECLS
