/* vin.c — Vehicle Identification Number decoding (ISO 3779 / ISO 3780).
 *
 * Structure, the position 9 check digit and the position 10 year code. The
 * decoder only states what the VIN itself says; which years a family's
 * position 10 means is decided in vin-match.c, because most European makes
 * do not code the model year there.
 */
#include <string.h>

#include "vehicle-error.h"
#include "vin-private.h"

#define VIN_LENGTH 17

/* ISO 3779 position 10 codes, in order from the first year of a 30-year
 * cycle (1980 or 2010). I, O, Q, U, Z and 0 are never year codes. */
static const char year_codes[] = "ABCDEFGHJKLMNPRSTVWXY123456789";

/* 49 CFR 565.15 weights for positions 1-17; position 9 itself weighs 0 */
static const guint8 check_weights[VIN_LENGTH] = {
  8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2,
};

/* 49 CFR 565.15 transliteration of letters; digits stand for themselves */
static guint
transliterate (char c)
{
  static const guint8 letter_values[26] = {
    1, 2, 3, 4, 5, 6, 7, 8, 0, /* A-I (I never occurs) */
    1, 2, 3, 4, 5, 0, 7, 0, 9, /* J-R (O and Q never occur) */
    2, 3, 4, 5, 6, 7, 8, 9,    /* S-Z */
  };

  c = g_ascii_toupper (c);
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'A' && c <= 'Z')
    return letter_values[c - 'A'];
  return 0;
}

char
ew_vin_compute_check_digit (const char vin[17])
{
  guint sum = 0;

  g_return_val_if_fail (vin != NULL, '0');

  for (guint i = 0; i < VIN_LENGTH; i++)
    sum += transliterate (vin[i]) * check_weights[i];
  sum %= 11;
  return sum == 10 ? 'X' : (char) ('0' + sum);
}

guint16
ew_vin_year_from_code (char code, guint cycle)
{
  const char *p;

  if (cycle > 1 || code == '\0')
    return 0;
  p = strchr (year_codes, g_ascii_toupper (code));
  if (p == NULL)
    return 0;
  return (guint16) ((cycle == 0 ? 1980 : 2010) + (p - year_codes));
}

const char *
ew_vin_check_to_string (EwVinCheck check)
{
  switch (check)
    {
    case EW_VIN_CHECK_VALID:
      return "valid";
    case EW_VIN_CHECK_INVALID:
      return "invalid";
    case EW_VIN_CHECK_NOT_APPLICABLE:
    default:
      return "not-applicable";
    }
}

gboolean
ew_vin_is_check_digit_mandatory (const EwVin *vin)
{
  g_return_val_if_fail (vin != NULL, FALSE);

  if (vin->wmi_entry != NULL)
    return vin->wmi_entry->is_check_digit_mandatory;
  return vin->wmi[0] >= '1' && vin->wmi[0] <= '5';
}

void
ew_vin_free (EwVin *vin)
{
  g_free (vin);
}

/* Spaces and hyphens are how people group a VIN when they copy it down;
 * they are never part of it. */
static gboolean
is_separator (gunichar c)
{
  return c == ' ' || c == '-' || c == '\t' || c == '\n' || c == '\r' ||
         c == 0x00A0 /* no-break space */;
}

static gboolean
vin_character_error (GError **error, guint position, const char *what)
{
  g_set_error (error, EW_VEHICLE_ERROR, EW_VEHICLE_ERROR_VIN,
               "VIN position %u: %s is not a letter or digit; a VIN holds only "
               "0-9 and A-Z without I, O and Q (ISO 3779)", position, what);
  return FALSE;
}

/* Upper-cases text into out (at most VIN_LENGTH characters kept), dropping
 * separators, and rejects what no VIN may hold, naming the 1-based position
 * among the characters that count. */
static gboolean
normalise (const char *text, char out[VIN_LENGTH + 1], GError **error)
{
  const char *p = text;
  const char *end = text + strlen (text);
  guint position = 0;

  while (p < end)
    {
      gunichar uc = g_utf8_get_char_validated (p, end - p);
      char c;

      if (uc == (gunichar) -1 || uc == (gunichar) -2)
        {
          g_autofree char *what = g_strdup_printf ("the byte 0x%02X", (guint8) *p);

          return vin_character_error (error, position + 1, what);
        }
      if (is_separator (uc))
        {
          p = g_utf8_next_char (p);
          continue;
        }
      position++;
      if (uc >= 0x80)
        {
          char utf8[7] = { 0 };
          g_autofree char *what = NULL;

          g_unichar_to_utf8 (uc, utf8);
          what = g_strdup_printf ("'%s'", utf8);
          return vin_character_error (error, position, what);
        }

      c = g_ascii_toupper ((char) uc);
      if (c == 'I' || c == 'O' || c == 'Q')
        {
          g_set_error (error, EW_VEHICLE_ERROR, EW_VEHICLE_ERROR_VIN,
                       "VIN position %u: the letter %c is never used in a VIN "
                       "(ISO 3779); did you mean %c?",
                       position, c, c == 'I' ? '1' : '0');
          return FALSE;
        }
      if (!g_ascii_isalnum (c))
        {
          g_autofree char *what = g_ascii_isprint (c)
            ? g_strdup_printf ("'%c'", c)
            : g_strdup_printf ("the control character 0x%02X", (guint8) c);

          return vin_character_error (error, position, what);
        }
      if (position <= VIN_LENGTH)
        out[position - 1] = c;
      p++;
    }

  if (position != VIN_LENGTH)
    {
      g_set_error (error, EW_VEHICLE_ERROR, EW_VEHICLE_ERROR_VIN,
                   "A VIN has 17 characters; this one has %u", position);
      return FALSE;
    }
  out[VIN_LENGTH] = '\0';
  return TRUE;
}

EwVin *
ew_vin_decode (const char *text,
               const EwWmiTable *table,
               gboolean uses_check_digit,
               GError **error)
{
  g_autoptr(EwVin) vin = NULL;
  gboolean is_mandatory;

  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  vin = g_new0 (EwVin, 1);
  if (!normalise (text, vin->vin, error))
    return NULL;

  memcpy (vin->wmi, vin->vin, 3);
  memcpy (vin->vds, vin->vin + 3, 6);
  memcpy (vin->vis, vin->vin + 9, 8);
  vin->wmi_entry = table != NULL ? ew_wmi_table_lookup (table, vin->wmi) : NULL;

  vin->expected_check_digit = ew_vin_compute_check_digit (vin->vin);
  is_mandatory = ew_vin_is_check_digit_mandatory (vin);
  if (is_mandatory || uses_check_digit)
    vin->check = vin->vin[8] == vin->expected_check_digit
      ? EW_VIN_CHECK_VALID : EW_VIN_CHECK_INVALID;
  else
    vin->check = EW_VIN_CHECK_NOT_APPLICABLE;

  if (is_mandatory && vin->check == EW_VIN_CHECK_INVALID)
    {
      g_set_error (error, EW_VEHICLE_ERROR, EW_VEHICLE_ERROR_VIN,
                   "VIN position 9: the check digit is %c, but the other 16 "
                   "characters give %c (ISO 3779, 49 CFR 565); check the VIN "
                   "for a typing error", vin->vin[8], vin->expected_check_digit);
      return NULL;
    }

  vin->year_code_years[0] = ew_vin_year_from_code (vin->vin[9], 0);
  vin->year_code_years[1] = ew_vin_year_from_code (vin->vin[9], 1);

  /* 49 CFR 565.15: a letter in position 7 puts position 10 in the
   * cycle from 2010, a digit in the cycle from 1980. Only where the
   * North-American rules bind the maker does that hold. */
  if (is_mandatory && vin->year_code_years[0] != 0)
    vin->model_year = vin->year_code_years[g_ascii_isdigit (vin->vin[6]) ? 0 : 1];

  return g_steal_pointer (&vin);
}
