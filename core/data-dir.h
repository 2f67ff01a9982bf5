/* data-dir.h — where the app's shipped data lives.
 *
 * The installed folder, unless ECU_WORKSHOP_DATA_DIR points elsewhere (the
 * tests and the uninstalled quick start use the source tree's data/).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

const char *ew_data_dir           (void);
char       *ew_data_path          (const char *relative); /* transfer full */
/* $XDG_DATA_HOME/ecu-workshop/vehicles */
char       *ew_user_vehicles_dir  (void);                  /* transfer full */

G_END_DECLS
