/* vehicle-error.h — errors of the vehicle database and VIN decoding. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define EW_VEHICLE_ERROR (ew_vehicle_error_quark ())

typedef enum {
  EW_VEHICLE_ERROR_IO,            /* file missing or unreadable */
  EW_VEHICLE_ERROR_PARSE,         /* not well-formed XML */
  EW_VEHICLE_ERROR_FORBIDDEN,     /* DOCTYPE, entities, external references */
  EW_VEHICLE_ERROR_SCHEMA,        /* does not validate against the schema */
  EW_VEHICLE_ERROR_INVALID,       /* validates, but is inconsistent */
  EW_VEHICLE_ERROR_VIN,           /* bad VIN */
} EwVehicleError;

GQuark ew_vehicle_error_quark (void);

G_END_DECLS
