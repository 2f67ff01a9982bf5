/* vin-private.h — VIN rules shared by the decoder and the family matcher. */
#pragma once

#include "vin.h"

G_BEGIN_DECLS

/* Whether the VIN's WMI makes the position 9 check digit mandatory: the WMI
 * table's word where the WMI is listed, else the region rule (ISO 3780
 * assigns 1-5 to North America, where 49 CFR 565.15 requires it). */
gboolean ew_vin_is_check_digit_mandatory (const EwVin *vin);

G_END_DECLS
