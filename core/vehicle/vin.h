/* vin.h — Vehicle Identification Number decoding (ISO 3779 / ISO 3780).
 *
 * Structure (WMI, VDS, VIS), the check digit of position 9, model year
 * candidates and the manufacturer from the WMI table. Matching a VIN to the
 * vehicle families is in vin-match.h.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  EW_VIN_CHECK_NOT_APPLICABLE, /* the make does not use a check digit */
  EW_VIN_CHECK_VALID,
  EW_VIN_CHECK_INVALID,
} EwVinCheck;

typedef struct {
  char     *wmi;          /* 3 characters; positions 1-3 */
  char     *manufacturer; /* e.g. "BMW AG" */
  char     *make;         /* e.g. "BMW" */
  char     *country;
  char     *source;       /* citation for the row */
  gboolean  is_check_digit_mandatory; /* North American WMIs */
} EwWmiEntry;

typedef struct _EwWmiTable EwWmiTable;

/* A tab-separated file: wmi, make, manufacturer, country, check digit
 * mandatory (yes/no), source. Lines starting with # are comments. */
EwWmiTable       *ew_wmi_table_load         (const char *path, GError **error);
EwWmiTable       *ew_wmi_table_load_default (GError **error); /* installed data */
void              ew_wmi_table_free         (EwWmiTable *table);
const EwWmiEntry *ew_wmi_table_lookup       (const EwWmiTable *table, const char *wmi);
guint             ew_wmi_table_get_size     (const EwWmiTable *table);

typedef struct {
  char       vin[18];     /* normalised: upper case, NUL-terminated */
  char       wmi[4];
  char       vds[7];      /* positions 4-9 */
  char       vis[9];      /* positions 10-17 */
  const EwWmiEntry *wmi_entry; /* nullable; borrowed from the table */
  char       expected_check_digit; /* '0'..'9' or 'X' */
  EwVinCheck check;       /* against position 9, where the make uses it */
  /* ISO 3779 year code of position 10 in both 30-year cycles, where
   * position 10 is a year code at all; 0 when the character is no year code */
  guint16    year_code_years[2];
  /* the year the 30-year rule (position 7: letter = 2010 cycle, digit =
   * 1980 cycle, North America) picks, or 0 when that rule does not apply */
  guint16    model_year;
} EwVin;

/* Decodes text (spaces and case ignored). Rejects a wrong length or the
 * letters I, O, Q, or any non-alphanumeric character, naming the position.
 * Check digit: computed always; reported VALID/INVALID when the WMI row says
 * it is mandatory or when uses_check_digit is TRUE, NOT_APPLICABLE otherwise;
 * an INVALID mandatory check digit is an error. table may be NULL. */
EwVin   *ew_vin_decode          (const char *text,
                                 const EwWmiTable *table,
                                 gboolean uses_check_digit,
                                 GError **error);
void     ew_vin_free            (EwVin *vin);
char     ew_vin_compute_check_digit (const char vin[17]);
/* ISO 3779 position 10 code -> the year in the cycle starting at 1980 or
 * 2010 (cycle 0 / 1); 0 when code is not a year code. */
guint16  ew_vin_year_from_code  (char code, guint cycle);
const char *ew_vin_check_to_string (EwVinCheck check);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EwVin, ew_vin_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EwWmiTable, ew_wmi_table_free)

G_END_DECLS
