/* ew-feature-row.h — one feature of the car on the Features page: what it
 * does, whether it is coding, programming or adaptation, how far its data
 * can be trusted, and its state on the car as a switch or a choice.
 *
 * A feature that cannot be switched here (not fitted, needs programming,
 * unreadable) says why and offers no control. Changing the control writes
 * nothing: it asks for the state through "state-requested"; the row shows
 * the state its item holds as pending, marked with the ew-pending class.
 */
#pragma once

#include <adwaita.h>

#include "coding/catalogue.h"
#include "ew-feature-item.h"

G_BEGIN_DECLS

#define EW_TYPE_FEATURE_ROW (ew_feature_row_get_type ())
G_DECLARE_FINAL_TYPE (EwFeatureRow, ew_feature_row, EW, FEATURE_ROW, GtkListBoxRow)

/* An empty row; ew_feature_row_set_item () shows a feature in it. Rows
 * are recycled by the page's list view: one row shows one item after
 * another. */
GtkWidget       *ew_feature_row_new            (void);
/* Makes the parts of the row that are made only when needed (the
 * drop-down of a choice) now, so that showing a feature later is quick. */
void             ew_feature_row_prepare        (EwFeatureRow  *self);
/* Shows item (a feature, not a heading; nullable: none) and follows its
 * pending state. The item is referenced. */
void             ew_feature_row_set_item       (EwFeatureRow  *self,
                                                EwFeatureItem *item);
/* transfer none, nullable */
EwFeatureItem   *ew_feature_row_get_item       (EwFeatureRow *self);
const EwFeature *ew_feature_row_get_feature    (EwFeatureRow *self);
/* The GtkSwitch (two states, off and on) or GtkDropDown (more states),
 * or NULL when the feature cannot be switched here. transfer none */
GtkWidget       *ew_feature_row_get_control    (EwFeatureRow *self);
/* What activating the row does (a click, Enter): the switch toggles, the
 * choice opens. Its list box's "row-activated" calls it. */
void             ew_feature_row_activate_control (EwFeatureRow *self);
/* What the row says under the feature's name: its description, why it
 * cannot be switched, and where its data comes from. transfer none */
const char      *ew_feature_row_get_subtitle   (EwFeatureRow *self);
/* The state the row shows: the car's, or the one asked for. */
const char      *ew_feature_row_get_shown_state (EwFeatureRow *self);

/* Translated names, shared with the review. */
const char      *ew_work_class_label           (EwWorkClass work_class);
const char      *ew_feature_state_display      (const EwFeatureState *state);

G_END_DECLS
