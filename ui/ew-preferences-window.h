/* ew-preferences-window.h — the garage's preferences: its name, address
 * and logo for the job sheet; labour rate, VAT, currency and fixed prices
 * per kind of job for quotes; the link and adapter settings for the car.
 * Every row writes the app's GSettings at once; a value the quote could
 * not use (a currency that is not an ISO 4217 code, a negative rate) is
 * not stored, and its row shows the error.
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define EW_TYPE_PREFERENCES_WINDOW (ew_preferences_window_get_type ())
G_DECLARE_FINAL_TYPE (EwPreferencesWindow, ew_preferences_window, EW, PREFERENCES_WINDOW, AdwPreferencesWindow)

/* settings (of the app's schema) is referenced; parent is nullable. */
GtkWidget     *ew_preferences_window_new                 (GtkWindow *parent,
                                                          GSettings *settings);
/* The spin button of the fixed price for jobs of kind ("ecu-swap", …),
 * or NULL for another kind. transfer none */
GtkSpinButton *ew_preferences_window_get_template_spin   (EwPreferencesWindow *self,
                                                          const char          *kind);

G_END_DECLS
