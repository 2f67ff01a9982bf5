/* database.h — every vehicle family the app knows, loaded from folders.
 *
 * Families come from the installed data folder, the user's own folder
 * ($XDG_DATA_HOME/ecu-workshop/vehicles) and any folder given on the command
 * line. One bad file never stops the others from loading: its error is kept
 * in the database's list of load errors instead.
 */
#pragma once

#include <glib.h>
#include "family.h"

G_BEGIN_DECLS

typedef struct _EwVehicleDatabase EwVehicleDatabase;

/* Loads and validates one family file against the schema at schema_path.
 * On bad input returns NULL and an EW_VEHICLE_ERROR naming file, line and
 * element. Never expands entities and never touches the network. */
EwFamily          *ew_family_load_file              (const char  *path,
                                                     const char  *schema_path,
                                                     GError     **error);

EwVehicleDatabase *ew_vehicle_database_new          (const char  *schema_path);
void               ew_vehicle_database_free         (EwVehicleDatabase *db);

/* Loads every *.xml in dir, in name order. A missing dir is not an error.
 * A family whose id is already known replaces the earlier one (later
 * folders override: the user's folder overrides the installed data).
 * Returns the number of families loaded from dir. */
guint              ew_vehicle_database_add_dir      (EwVehicleDatabase *db,
                                                     const char  *dir);
/* Installed data dir, then user dir, then extra_dir (nullable). */
void               ew_vehicle_database_add_default_dirs (EwVehicleDatabase *db,
                                                     const char  *extra_dir);

GPtrArray         *ew_vehicle_database_get_families (EwVehicleDatabase *db); /* transfer none, EwFamily, sorted by id */
EwFamily          *ew_vehicle_database_find_family  (EwVehicleDatabase *db,
                                                     const char  *family_id); /* transfer none */
GPtrArray         *ew_vehicle_database_get_errors   (EwVehicleDatabase *db); /* transfer none, GError */

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EwVehicleDatabase, ew_vehicle_database_free)

G_END_DECLS
