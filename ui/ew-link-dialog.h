/* ew-link-dialog.h — "Connect to a Car": choose the link to the car in the
 * bay. The simulated car with a scenario, a DoIP address, or a CAN link on
 * a gs_usb adapter (listed live as adapters are plugged in and out) or a
 * SocketCAN interface. Connect emits "link-chosen" with the link URI,
 * remembers it as the last link, and closes the window.
 */
#pragma once

#include <adwaita.h>

#include "vehicle/database.h"

G_BEGIN_DECLS

#define EW_TYPE_LINK_DIALOG (ew_link_dialog_get_type ())
G_DECLARE_FINAL_TYPE (EwLinkDialog, ew_link_dialog, EW, LINK_DIALOG, AdwWindow)

/* db is borrowed and must outlive the dialog; current_uri (nullable) is
 * the link in use, shown as the first choice. transfer none: like any
 * window, it belongs to GTK's list of toplevels until it is closed. */
EwLinkDialog *ew_link_dialog_new       (GtkWindow         *parent,
                                        EwVehicleDatabase *db,
                                        const char        *current_uri);

/* The link URI the current choice gives, or NULL with an error saying in
 * the garage's words what is missing or wrong. transfer full */
char         *ew_link_dialog_build_uri (EwLinkDialog  *self,
                                        GError       **error);

/* Lists the adapters and interfaces again, as the Refresh button does. */
void          ew_link_dialog_refresh   (EwLinkDialog  *self);
/* Whether a listing of adapters is under way (tests wait for it). */
gboolean      ew_link_dialog_get_is_refreshing (EwLinkDialog *self);

G_END_DECLS
