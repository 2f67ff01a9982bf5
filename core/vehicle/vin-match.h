/* vin-match.h — which vehicle families a VIN may belong to, best first.
 *
 * A family matches on a WMI of one of its VIN patterns; the VDS pattern and
 * the model years (where the VIN tells them) make the match stronger.
 */
#pragma once

#include <glib.h>
#include "database.h"
#include "vin.h"

G_BEGIN_DECLS

typedef struct {
  EwFamily *family;        /* transfer none: owned by the database */
  const char *chassis;     /* nullable: the matched pattern's chassis */
  guint     score;         /* higher is better */
  gboolean  vds_matched;
  gboolean  year_matched;  /* VIN year (if known) within the family's years */
  /* the check digit judged with this family's policy */
  EwVinCheck check;
  /* model years the VIN may mean for this family: from position 10 where
   * the family says it is a year code, else the family's years */
  guint16   years_from, years_to;
} EwVinCandidate;

/* Returns EwVinCandidate (g_free) sorted best first; empty when none match. */
GPtrArray *ew_vin_match_families (const EwVin *vin, EwVehicleDatabase *db);

G_END_DECLS
