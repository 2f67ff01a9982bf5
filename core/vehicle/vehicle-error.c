/* vehicle-error.c — the error domain of the vehicle database and VIN decoding. */
#include "vehicle-error.h"

G_DEFINE_QUARK (ew-vehicle-error-quark, ew_vehicle_error)
