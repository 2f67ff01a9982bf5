/* ew-feature-row.h — one feature of the car on the Features page: what it
 * does, whether it is coding, programming or adaptation, how far its data
 * can be trusted, and its state on the car as a switch or a choice.
 *
 * A feature that cannot be switched here (not fitted, needs programming,
 * unreadable) says why and offers no control. Changing the control writes
 * nothing: it asks for the state through "state-requested".
 */
#pragma once

#include <adwaita.h>

#include "coding/catalogue.h"

G_BEGIN_DECLS

#define EW_TYPE_FEATURE_ROW (ew_feature_row_get_type ())
G_DECLARE_FINAL_TYPE (EwFeatureRow, ew_feature_row, EW, FEATURE_ROW, AdwActionRow)

/* status is read while the row is built; the feature it points to belongs
 * to its family, which must outlive the row. provenance is the one the
 * engine applies (ew_coding_feature_provenance()). pending_state
 * (nullable) is a state asked for and not applied yet. */
GtkWidget       *ew_feature_row_new            (const EwFeatureStatus *status,
                                                EwProvenance           provenance,
                                                const char            *pending_state);
const EwFeature *ew_feature_row_get_feature    (EwFeatureRow *self);
/* The GtkSwitch (two states, off and on) or GtkDropDown (more states),
 * or NULL when the feature cannot be switched here. transfer none */
GtkWidget       *ew_feature_row_get_control    (EwFeatureRow *self);
/* The state the row shows: the car's, or the one asked for. */
const char      *ew_feature_row_get_shown_state (EwFeatureRow *self);
/* Whether the feature's name or description holds every word of text. */
gboolean         ew_feature_row_matches        (EwFeatureRow *self,
                                                const char   *text);

/* Translated names, shared with the review. */
const char      *ew_work_class_label           (EwWorkClass work_class);
const char      *ew_feature_state_display      (const EwFeatureState *state);

G_END_DECLS
