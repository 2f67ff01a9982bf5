/* test-vin.c — VIN decoding (structure, check digit, year codes), the WMI
 * table and its loader's errors, and matching VINs to vehicle families:
 * fixture families always, the shipped families where they are present.
 */
#include <string.h>

#include <glib/gstdio.h>

#include "data-dir.h"
#include "vehicle/database.h"
#include "vehicle/vehicle-error.h"
#include "vehicle/vin-match.h"

/* Returns vin (17 characters) with position 9 set to its ISO 3779 check
 * digit, so vectors can be written down without hand arithmetic. */
static char *
with_check_digit (const char *vin)
{
  char *s = g_strdup (vin);

  g_assert_cmpuint (strlen (s), ==, 17);
  s[8] = '0';
  s[8] = ew_vin_compute_check_digit (s);
  return s;
}

/* The same VIN with a wrong check digit in position 9. */
static char *
with_wrong_check_digit (const char *vin)
{
  char *s = with_check_digit (vin);

  s[8] = s[8] == '1' ? '2' : '1';
  return s;
}

static EwWmiTable *
load_wmi_table (void)
{
  g_autoptr(GError) error = NULL;
  EwWmiTable *table = ew_wmi_table_load_default (&error);

  g_assert_no_error (error);
  g_assert_nonnull (table);
  return table;
}

static void
assert_vin_error (const char *text, const char *needle, const char *needle2)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EwWmiTable) table = load_wmi_table ();
  g_autoptr(EwVin) vin = ew_vin_decode (text, table, FALSE, &error);

  g_assert_null (vin);
  g_assert_error (error, EW_VEHICLE_ERROR, EW_VEHICLE_ERROR_VIN);
  g_autofree char *printable = g_strescape (text, NULL);

  /* escaped: TAP output must stay valid UTF-8 for hostile input too */
  g_test_message ("'%s' -> %s", printable, error->message);
  g_assert_nonnull (strstr (error->message, needle));
  if (needle2 != NULL)
    g_assert_nonnull (strstr (error->message, needle2));
}

/* ---- check digit ---- */

static void
test_check_digit_vectors (void)
{
  /* 49 CFR 565 worked example and the all-ones VIN: both valid */
  g_assert_cmpint (ew_vin_compute_check_digit ("1M8GDM9AXKP042788"), ==, 'X');
  g_assert_cmpint (ew_vin_compute_check_digit ("11111111111111111"), ==, '1');
  /* position 9 has weight 0: what stands there never changes the result */
  g_assert_cmpint (ew_vin_compute_check_digit ("1M8GDM9A0KP042788"), ==, 'X');
  /* lower case transliterates like upper case */
  g_assert_cmpint (ew_vin_compute_check_digit ("1m8gdm9axkp042788"), ==, 'X');
  /* every letter of the transliteration table: A-H 1-8, J-N 1-5, P 7, R 9,
   * S-Z 2-9; the 16 weights are known, so shift one letter through
   * position 1 (weight 8) over a base of zeros */
  {
    static const struct { char letter; guint value; } table[] = {
      { 'A', 1 }, { 'B', 2 }, { 'C', 3 }, { 'D', 4 }, { 'E', 5 }, { 'F', 6 },
      { 'G', 7 }, { 'H', 8 }, { 'J', 1 }, { 'K', 2 }, { 'L', 3 }, { 'M', 4 },
      { 'N', 5 }, { 'P', 7 }, { 'R', 9 }, { 'S', 2 }, { 'T', 3 }, { 'U', 4 },
      { 'V', 5 }, { 'W', 6 }, { 'X', 7 }, { 'Y', 8 }, { 'Z', 9 },
    };

    for (guint i = 0; i < G_N_ELEMENTS (table); i++)
      {
        char vin[18] = "00000000000000000";
        guint sum = (table[i].value * 8) % 11;

        vin[0] = table[i].letter;
        g_assert_cmpint (ew_vin_compute_check_digit (vin), ==,
                         sum == 10 ? 'X' : (char) ('0' + sum));
      }
  }
}

static void
test_decode_north_american_valid (void)
{
  g_autoptr(EwWmiTable) table = load_wmi_table ();
  g_autoptr(GError) error = NULL;
  g_autoptr(EwVin) vin = ew_vin_decode ("1M8GDM9AXKP042788", table, FALSE, &error);
  g_autoptr(EwVin) ones = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (vin->vin, ==, "1M8GDM9AXKP042788");
  g_assert_cmpstr (vin->wmi, ==, "1M8");
  g_assert_cmpstr (vin->vds, ==, "GDM9AX");
  g_assert_cmpstr (vin->vis, ==, "KP042788");
  g_assert_null (vin->wmi_entry);      /* not in the table: the region rule applies */
  g_assert_cmpint (vin->expected_check_digit, ==, 'X');
  g_assert_cmpint (vin->check, ==, EW_VIN_CHECK_VALID);
  /* position 7 is the digit 9: the 1980 cycle, K = 1989 */
  g_assert_cmpuint (vin->year_code_years[0], ==, 1989);
  g_assert_cmpuint (vin->year_code_years[1], ==, 2019);
  g_assert_cmpuint (vin->model_year, ==, 1989);

  ones = ew_vin_decode ("11111111111111111", table, FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ones->check, ==, EW_VIN_CHECK_VALID);
  g_assert_cmpuint (ones->model_year, ==, 2001);
}

static void
test_decode_north_american_invalid (void)
{
  g_autofree char *wrong_ford = with_wrong_check_digit ("1FA6P8TH0J5100001");

  /* the classic vector with 9 instead of X */
  assert_vin_error ("1M8GDM9AXKP042789", "position 9", "is X, but the other 16 characters give 1");
  assert_vin_error ("1M8GDM9A5KP042788", "position 9", "is 5, but the other 16 characters give X");
  assert_vin_error ("11111111211111111", "position 9", "give 1");
  /* a listed WMI with a mandatory check digit */
  assert_vin_error (wrong_ford, "position 9", NULL);
}

static void
test_decode_european_without_check_digit (void)
{
  g_autoptr(EwWmiTable) table = load_wmi_table ();
  static const char * const vins[] = {
    "WVWZZZAUZFW123456",   /* VW: ZZZ fillers, Z in position 9 */
    "WBA8A11000K123456",   /* BMW: position 9 not a check digit */
    "WDD2050461F123456",   /* Mercedes-Benz */
  };

  for (guint i = 0; i < G_N_ELEMENTS (vins); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(EwVin) vin = ew_vin_decode (vins[i], table, FALSE, &error);

      g_assert_no_error (error);
      g_assert_nonnull (vin->wmi_entry);
      g_assert_false (vin->wmi_entry->is_check_digit_mandatory);
      /* the vector is only meaningful if position 9 really is wrong */
      g_assert_cmpint (vin->expected_check_digit, !=, vin->vin[8]);
      g_assert_cmpint (vin->check, ==, EW_VIN_CHECK_NOT_APPLICABLE);
      /* the North-American year rule does not apply in Europe */
      g_assert_cmpuint (vin->model_year, ==, 0);
    }
}

static void
test_decode_uses_check_digit (void)
{
  g_autoptr(EwWmiTable) table = load_wmi_table ();
  g_autoptr(GError) error = NULL;
  g_autofree char *good = with_check_digit ("WVWZZZAUZFW123456");
  g_autoptr(EwVin) invalid = ew_vin_decode ("WVWZZZAUZFW123456", table, TRUE, &error);
  g_autoptr(EwVin) valid = NULL;

  /* asked for, but not mandatory for the WMI: reported, never an error */
  g_assert_no_error (error);
  g_assert_cmpint (invalid->check, ==, EW_VIN_CHECK_INVALID);

  valid = ew_vin_decode (good, table, TRUE, &error);
  g_assert_no_error (error);
  g_assert_cmpint (valid->check, ==, EW_VIN_CHECK_VALID);
  g_assert_cmpint (valid->expected_check_digit, ==, valid->vin[8]);
}

static void
test_decode_without_table (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EwVin) eu = ew_vin_decode ("WVWZZZAUZFW123456", NULL, FALSE, &error);
  g_autoptr(EwVin) na = NULL;

  g_assert_no_error (error);
  g_assert_null (eu->wmi_entry);
  g_assert_cmpint (eu->check, ==, EW_VIN_CHECK_NOT_APPLICABLE);

  /* North America is known from the first character alone */
  na = ew_vin_decode ("1M8GDM9AXKP042789", NULL, FALSE, &error);
  g_assert_null (na);
  g_assert_error (error, EW_VEHICLE_ERROR, EW_VEHICLE_ERROR_VIN);
}

/* ---- normalisation and rejection ---- */

static void
test_decode_normalises (void)
{
  static const char * const inputs[] = {
    "1m8gdm9axkp042788",
    "1M8 GDM9AX KP042788",
    "1M8-GDM9AX-KP042788",
    "  1m8\tgdm9ax kp-042788\n",
  };

  for (guint i = 0; i < G_N_ELEMENTS (inputs); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(EwVin) vin = ew_vin_decode (inputs[i], NULL, FALSE, &error);

      g_assert_no_error (error);
      g_assert_cmpstr (vin->vin, ==, "1M8GDM9AXKP042788");
    }
}

static void
test_decode_rejects_letters (void)
{
  assert_vin_error ("WVWZOZAUZFW123456", "VIN position 5", "letter O is never used in a VIN (ISO 3779); did you mean 0?");
  assert_vin_error ("WVWZZZAUZFW12345I", "VIN position 17", "letter I");
  assert_vin_error ("qVWZZZAUZFW123456", "VIN position 1", "letter Q");
  assert_vin_error ("WVWZZZAUZFW123I56", "did you mean 1?", NULL);
  /* separators do not count as positions */
  assert_vin_error ("WVW ZZZ AOZ FW123456", "VIN position 8", "letter O");
}

static void
test_decode_rejects_length (void)
{
  assert_vin_error ("WVWZZZAUZFW12345", "17 characters", "has 16");
  assert_vin_error ("WVWZZZAUZFW1234567", "17 characters", "has 18");
  assert_vin_error ("", "has 0", NULL);
  assert_vin_error (" - ", "has 0", NULL);
}

static void
test_decode_rejects_other_characters (void)
{
  assert_vin_error ("WVWZZZAU!FW123456", "VIN position 9", "'!'");
  assert_vin_error ("WVWZZZAUZFW12345_", "VIN position 17", "'_'");
  assert_vin_error ("WVW\xc3\x89ZZAUZFW123456", "VIN position 4", "\xc3\x89");
  assert_vin_error ("WVWZZZAUZFW1234\xff", "VIN position 16", "0xFF");
}

/* ---- model year codes ---- */

static void
test_year_codes (void)
{
  const char *codes = "ABCDEFGHJKLMNPRSTVWXY123456789";

  g_assert_cmpuint (ew_vin_year_from_code ('A', 0), ==, 1980);
  g_assert_cmpuint (ew_vin_year_from_code ('A', 1), ==, 2010);
  g_assert_cmpuint (ew_vin_year_from_code ('Y', 0), ==, 2000);
  g_assert_cmpuint (ew_vin_year_from_code ('Y', 1), ==, 2030);
  g_assert_cmpuint (ew_vin_year_from_code ('1', 0), ==, 2001);
  g_assert_cmpuint (ew_vin_year_from_code ('1', 1), ==, 2031);
  g_assert_cmpuint (ew_vin_year_from_code ('9', 0), ==, 2009);
  g_assert_cmpuint (ew_vin_year_from_code ('9', 1), ==, 2039);
  g_assert_cmpuint (ew_vin_year_from_code ('F', 1), ==, 2015);
  g_assert_cmpuint (ew_vin_year_from_code ('f', 1), ==, 2015);

  /* 30 codes, 30 consecutive years per cycle */
  g_assert_cmpuint (strlen (codes), ==, 30);
  for (guint i = 0; codes[i] != '\0'; i++)
    {
      g_assert_cmpuint (ew_vin_year_from_code (codes[i], 0), ==, 1980 + i);
      g_assert_cmpuint (ew_vin_year_from_code (codes[i], 1), ==, 2010 + i);
    }

  /* never year codes */
  for (const char *p = "IOQUZ0"; *p != '\0'; p++)
    {
      g_assert_cmpuint (ew_vin_year_from_code (*p, 0), ==, 0);
      g_assert_cmpuint (ew_vin_year_from_code (*p, 1), ==, 0);
    }
  g_assert_cmpuint (ew_vin_year_from_code ('A', 2), ==, 0);
}

static void
test_year_code_in_vin (void)
{
  g_autoptr(EwWmiTable) table = load_wmi_table ();
  g_autoptr(GError) error = NULL;
  /* position 10 '0' and 'Z' are no year codes */
  g_autoptr(EwVin) zero = ew_vin_decode ("WBA8A11000K123456", table, FALSE, &error);
  g_autoptr(EwVin) z = NULL;
  g_autoptr(EwVin) f = NULL;

  g_assert_no_error (error);
  g_assert_cmpuint (zero->year_code_years[0], ==, 0);
  g_assert_cmpuint (zero->year_code_years[1], ==, 0);

  z = ew_vin_decode ("WVWZZZAUZZW123456", table, FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (z->year_code_years[0], ==, 0);
  g_assert_cmpuint (z->year_code_years[1], ==, 0);

  /* a European VIN tells both cycles, but no model year on its own */
  f = ew_vin_decode ("WVWZZZAUZFW123456", table, FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (f->year_code_years[0], ==, 1985);
  g_assert_cmpuint (f->year_code_years[1], ==, 2015);
  g_assert_cmpuint (f->model_year, ==, 0);
}

static void
test_year_position_7_rule (void)
{
  g_autoptr(EwWmiTable) table = load_wmi_table ();
  struct {
    const char *vin;
    guint16     model_year;
  } cases[] = {
    { "1FA6P8TH0J5100001", 2018 },   /* position 7 'T' letter: J = 2018 */
    { "1FA6P8040J5100001", 1988 },   /* position 7 '0' digit:  J = 1988 */
    { "5UXKR0C50E0000001", 2014 },   /* BMW US, letter 'C': E = 2014 */
    { "4JGDA5HB0A0000001", 2010 },   /* Mercedes US, letter 'H': A = 2010 */
    { "1VWAA7330A0000001", 1980 },   /* digit '3': A = 1980 */
    { "3VW1K7AJ0Y0000001", 2030 },   /* letter 'A': Y = 2030 */
    { "1FA6P8TH099100001", 2039 },   /* letter 'T': 9 = 2039 */
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = with_check_digit (cases[i].vin);
      g_autoptr(GError) error = NULL;
      g_autoptr(EwVin) vin = ew_vin_decode (text, table, FALSE, &error);

      g_assert_no_error (error);
      g_test_message ("%s -> %u", text, vin->model_year);
      g_assert_cmpint (vin->check, ==, EW_VIN_CHECK_VALID);
      g_assert_cmpuint (vin->model_year, ==, cases[i].model_year);
    }

  /* position 10 '0' is no year code: no model year even in North America */
  {
    g_autofree char *text = with_check_digit ("1FA6P8TH000100001");
    g_autoptr(GError) error = NULL;
    g_autoptr(EwVin) vin = ew_vin_decode (text, table, FALSE, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (vin->model_year, ==, 0);
  }
}

static void
test_check_to_string (void)
{
  g_assert_cmpstr (ew_vin_check_to_string (EW_VIN_CHECK_VALID), ==, "valid");
  g_assert_cmpstr (ew_vin_check_to_string (EW_VIN_CHECK_INVALID), ==, "invalid");
  g_assert_cmpstr (ew_vin_check_to_string (EW_VIN_CHECK_NOT_APPLICABLE), ==, "not-applicable");
}

/* ---- WMI table ---- */

static void
test_wmi_required_makes (void)
{
  g_autoptr(EwWmiTable) table = load_wmi_table ();
  static const struct {
    const char *wmi;
    const char *make;
    gboolean    is_mandatory;
  } rows[] = {
    { "WBA", "BMW", FALSE }, { "WBS", "BMW", FALSE }, { "WBY", "BMW", FALSE },
    { "WBX", "BMW", FALSE }, { "4US", "BMW", TRUE }, { "5UX", "BMW", TRUE },
    { "5YM", "BMW", TRUE },
    { "WMW", "MINI", FALSE },
    { "WDB", "Mercedes-Benz", FALSE }, { "WDD", "Mercedes-Benz", FALSE },
    { "WDC", "Mercedes-Benz", FALSE }, { "W1K", "Mercedes-Benz", FALSE },
    { "W1N", "Mercedes-Benz", FALSE }, { "W1V", "Mercedes-Benz", FALSE },
    { "4JG", "Mercedes-Benz", TRUE }, { "55S", "Mercedes-Benz", TRUE },
    { "WME", "smart", FALSE },
    { "WVW", "Volkswagen", FALSE }, { "WVG", "Volkswagen", FALSE },
    { "WV1", "Volkswagen", FALSE }, { "WV2", "Volkswagen", FALSE },
    { "3VW", "Volkswagen", TRUE }, { "1VW", "Volkswagen", TRUE },
    { "WAU", "Audi", FALSE }, { "WA1", "Audi", FALSE }, { "WUA", "Audi", FALSE },
    { "TRU", "Audi", FALSE },
    { "TMB", "Škoda", FALSE },
    { "VSS", "SEAT", FALSE },
    { "WP0", "Porsche", FALSE }, { "WP1", "Porsche", FALSE },
    { "WF0", "Ford", FALSE }, { "1FA", "Ford", TRUE }, { "1FM", "Ford", TRUE },
    { "1FT", "Ford", TRUE },
    { "W0L", "Opel", FALSE }, { "W0V", "Opel", FALSE },
  };

  g_assert_cmpuint (ew_wmi_table_get_size (table), >=, G_N_ELEMENTS (rows));
  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      const EwWmiEntry *entry = ew_wmi_table_lookup (table, rows[i].wmi);

      g_test_message ("WMI %s", rows[i].wmi);
      g_assert_nonnull (entry);
      g_assert_cmpstr (entry->wmi, ==, rows[i].wmi);
      g_assert_cmpstr (entry->make, ==, rows[i].make);
      g_assert_true (entry->is_check_digit_mandatory == rows[i].is_mandatory);
      g_assert_cmpuint (strlen (entry->manufacturer), >, 0);
      g_assert_cmpuint (strlen (entry->country), >, 0);
      /* every row cites where it comes from */
      g_assert_cmpuint (strlen (entry->source), >, 10);
    }

  /* lower case and whole VINs look up the same row */
  g_assert_true (ew_wmi_table_lookup (table, "wba") == ew_wmi_table_lookup (table, "WBA"));
  g_assert_true (ew_wmi_table_lookup (table, "WBA8A11000K123456") == ew_wmi_table_lookup (table, "WBA"));
  g_assert_null (ew_wmi_table_lookup (table, "ZZD"));
  g_assert_null (ew_wmi_table_lookup (table, "WB"));
}

/* The shipped file itself: every row's WMI from North America (1-5) says
 * the check digit is mandatory, and nothing else does. */
static void
test_wmi_file_consistent (void)
{
  g_autofree char *path = ew_data_path ("vin/wmi.tsv");
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) lines = NULL;
  guint rows = 0;

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) fields = NULL;
      gboolean is_north_american;

      if (lines[i][0] == '#' || lines[i][0] == '\0')
        continue;
      fields = g_strsplit (lines[i], "\t", -1);
      g_assert_cmpuint (g_strv_length (fields), ==, 6);
      is_north_american = fields[0][0] >= '1' && fields[0][0] <= '5';
      g_assert_cmpstr (fields[4], ==, is_north_american ? "yes" : "no");
      rows++;
    }
  g_assert_cmpuint (rows, >=, 30);
}

static void
test_wmi_decode_entry (void)
{
  g_autoptr(EwWmiTable) table = load_wmi_table ();
  g_autoptr(GError) error = NULL;
  g_autoptr(EwVin) vin = ew_vin_decode ("wvwzzzauzfw123456", table, FALSE, &error);

  g_assert_no_error (error);
  g_assert_nonnull (vin->wmi_entry);
  g_assert_true (vin->wmi_entry == ew_wmi_table_lookup (table, "WVW"));
  g_assert_cmpstr (vin->wmi_entry->make, ==, "Volkswagen");
  g_assert_cmpstr (vin->wmi_entry->country, ==, "Germany");
}

static char *
write_tmp (const char *dir, const char *name, const char *contents)
{
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (dir, name, NULL);

  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
  return path;
}

static void
test_wmi_malformed (void)
{
  static const struct {
    const char *contents;
    const char *needle;
    guint       line;
  } cases[] = {
    { "# comment\nWBA\tBMW\tBMW AG\tGermany\tno\n", "expected 6 tab-separated columns", 2 },
    { "WBA\tBMW\tBMW AG\tGermany\tno\tsrc\tmore\n", "found 7", 1 },
    { "\n\nWBA BMW BMW AG Germany no src\n", "found 1", 3 },
    { "WBA\tBMW\tBMW AG\tGermany\tmaybe\tsrc\n", "'maybe', expected 'yes' or 'no'", 1 },
    { "WOL\tOpel\tAdam Opel AG\tGermany\tno\tsrc\n", "'WOL' is not a WMI", 1 },
    { "WB\tBMW\tBMW AG\tGermany\tno\tsrc\n", "'WB' is not a WMI", 1 },
    { "wba\tBMW\tBMW AG\tGermany\tno\tsrc\n", "'wba' is not a WMI", 1 },
    { "WBA\t\tBMW AG\tGermany\tno\tsrc\n", "column 2 (make) is empty", 1 },
    { "WBA\tBMW\tBMW AG\tGermany\tno\t \n", "column 6 (source) is empty", 1 },
    { "WBA\tBMW\tBMW AG\tGermany\tno\tsrc\r\n# x\nWBA\tBMW\tBMW AG\tGermany\tno\tsrc\n",
      "WBA is already listed on line 1", 3 },
    { "WBA\tBMW\tBMW AG\tGermany\tno\tsrc\n\xff\n", "not UTF-8", 0 },
  };
  g_autoptr(GError) dir_error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ew-wmi-XXXXXX", &dir_error);

  g_assert_no_error (dir_error);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = write_tmp (dir, "wmi.tsv", cases[i].contents);
      g_autofree char *where = cases[i].line > 0
        ? g_strdup_printf ("%s:%u: ", path, cases[i].line)
        : g_strdup_printf ("%s: ", path);
      g_autoptr(GError) error = NULL;
      g_autoptr(EwWmiTable) table = ew_wmi_table_load (path, &error);

      g_assert_null (table);
      g_assert_error (error, EW_VEHICLE_ERROR, EW_VEHICLE_ERROR_PARSE);
      g_test_message ("%s", error->message);
      g_assert_true (g_str_has_prefix (error->message, where));
      g_assert_nonnull (strstr (error->message, cases[i].needle));
      g_unlink (path);
    }

  /* comments, blank lines and CRLF are fine */
  {
    g_autofree char *path = write_tmp (dir, "wmi.tsv",
                                       "# header\r\n\r\nWBA\tBMW\tBMW AG\tGermany\tno\tsrc\r\n"
                                       "1FA\tFord\tFord Motor Company\tUnited States\tyes\tsrc\n");
    g_autoptr(GError) error = NULL;
    g_autoptr(EwWmiTable) table = ew_wmi_table_load (path, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (ew_wmi_table_get_size (table), ==, 2);
    g_assert_cmpstr (ew_wmi_table_lookup (table, "WBA")->source, ==, "src");
    g_assert_true (ew_wmi_table_lookup (table, "1FA")->is_check_digit_mandatory);
    g_unlink (path);
  }

  /* a missing file is an I/O error naming the file */
  {
    g_autofree char *path = g_build_filename (dir, "missing.tsv", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(EwWmiTable) table = ew_wmi_table_load (path, &error);

    g_assert_null (table);
    g_assert_error (error, EW_VEHICLE_ERROR, EW_VEHICLE_ERROR_IO);
    g_assert_nonnull (strstr (error->message, "missing.tsv"));
  }

  g_rmdir (dir);
}

/* ---- family matching: fixture families ---- */

static char *
schema_path (void)
{
  return ew_data_path ("vehicles/vehicle-family.xsd");
}

/* The good fixture family with its id and identification replaced. */
static char *
family_variant (const char *id, const char *identification)
{
  g_autofree char *fixture = g_test_build_filename (G_TEST_DIST, "fixtures", "families",
                                                    "good", "demo-coupe.xml", NULL);
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) s = NULL;
  g_autofree char *family_attr = g_strdup_printf ("<family id=\"%s\"", id);
  const char *start, *end;

  g_file_get_contents (fixture, &text, NULL, &error);
  g_assert_no_error (error);
  start = strstr (text, "<identification");
  end = strstr (text, "</identification>");
  g_assert_nonnull (start);
  g_assert_nonnull (end);
  end += strlen ("</identification>");

  s = g_string_new_len (text, start - text);
  g_string_append (s, identification);
  g_string_append (s, end);
  g_assert_cmpuint (g_string_replace (s, "<family id=\"demo-coupe\"", family_attr, 1), ==, 1);
  return g_string_free (g_steal_pointer (&s), FALSE);
}

typedef struct {
  char              *dir;
  EwVehicleDatabase *db;
} MatchFixture;

static void
match_fixture_set_up (MatchFixture *f, gconstpointer data)
{
  static const struct {
    const char *id;
    const char *identification;
  } families[] = {
    /* check digit and year code like North-American rules, two patterns */
    { "demo-coupe", NULL },
    /* no check digit, no year code, WMI only */
    { "demo-estate-b",
      "<identification make=\"Demo Motors\" model=\"Estate\" years-from=\"2005\" years-to=\"2012\">\n"
      "    <chassis code=\"DE1\"/>\n"
      "    <vin wmi=\"ZZD\"/>\n"
      "  </identification>" },
    { "demo-estate-a",
      "<identification make=\"Demo Motors\" model=\"Estate\" years-from=\"2005\" years-to=\"2012\">\n"
      "    <chassis code=\"DE1\"/>\n"
      "    <vin wmi=\"ZZD\"/>\n"
      "  </identification>" },
    /* every VIN must carry a check digit */
    { "demo-van",
      "<identification make=\"Demo Motors\" model=\"Van\" years-from=\"2010\" years-to=\"2020\"\n"
      "                  check-digit=\"required\">\n"
      "    <chassis code=\"DV1\"/>\n"
      "    <vin wmi=\"ZZV\" chassis=\"DV1\"/>\n"
      "  </identification>" },
  };
  g_autoptr(GError) error = NULL;
  g_autofree char *schema = schema_path ();

  f->dir = g_dir_make_tmp ("ew-vin-match-XXXXXX", &error);
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (families); i++)
    {
      g_autofree char *name = g_strconcat (families[i].id, ".xml", NULL);
      g_autofree char *text = NULL;

      if (families[i].identification == NULL)
        {
          g_autofree char *fixture = g_test_build_filename (G_TEST_DIST, "fixtures", "families",
                                                            "good", "demo-coupe.xml", NULL);
          g_file_get_contents (fixture, &text, NULL, &error);
          g_assert_no_error (error);
        }
      else
        text = family_variant (families[i].id, families[i].identification);
      g_free (write_tmp (f->dir, name, text));
    }

  f->db = ew_vehicle_database_new (schema);
  g_assert_cmpuint (ew_vehicle_database_add_dir (f->db, f->dir), ==, G_N_ELEMENTS (families));
  g_assert_cmpuint (ew_vehicle_database_get_errors (f->db)->len, ==, 0);
}

static void
match_fixture_tear_down (MatchFixture *f, gconstpointer data)
{
  g_autoptr(GDir) d = g_dir_open (f->dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (f->dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (f->dir);
  g_free (f->dir);
  ew_vehicle_database_free (f->db);
}

static GPtrArray *
match (MatchFixture *f, const char *text, gboolean uses_check_digit)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EwVin) vin = ew_vin_decode (text, NULL, uses_check_digit, &error);
  GPtrArray *candidates;

  g_assert_no_error (error);
  candidates = ew_vin_match_families (vin, f->db);
  g_assert_nonnull (candidates);
  for (guint i = 0; i < candidates->len; i++)
    {
      const EwVinCandidate *c = g_ptr_array_index (candidates, i);

      g_test_message ("%s: %s score %u vds %d year %d %u-%u check %s", text, c->family->id,
                      c->score, c->vds_matched, c->year_matched, c->years_from, c->years_to,
                      ew_vin_check_to_string (c->check));
    }
  return candidates;
}

static const EwVinCandidate *
candidate (GPtrArray *candidates, guint i)
{
  g_assert_cmpuint (i, <, candidates->len);
  return g_ptr_array_index (candidates, i);
}

static void
test_match_vds_and_year (MatchFixture *f, gconstpointer data)
{
  /* coupe pattern ^C[12]...., position 10 F: 1985 or 2015, only 2015 fits */
  g_autofree char *text = with_check_digit ("ZZDC1ABC0FW123456");
  g_autoptr(GPtrArray) candidates = match (f, text, FALSE);
  const EwVinCandidate *c;

  g_assert_cmpuint (candidates->len, ==, 3);
  c = candidate (candidates, 0);
  g_assert_cmpstr (c->family->id, ==, "demo-coupe");
  g_assert_cmpstr (c->chassis, ==, "DC1");
  g_assert_true (c->vds_matched);
  g_assert_true (c->year_matched);
  g_assert_cmpuint (c->years_from, ==, 2015);
  g_assert_cmpuint (c->years_to, ==, 2015);
  g_assert_cmpint (c->check, ==, EW_VIN_CHECK_VALID);

  /* no year code in these families: their own years, and no check digit;
   * equal scores are ordered by family id */
  c = candidate (candidates, 1);
  g_assert_cmpstr (c->family->id, ==, "demo-estate-a");
  g_assert_false (c->vds_matched);
  g_assert_false (c->year_matched);
  g_assert_cmpuint (c->years_from, ==, 2005);
  g_assert_cmpuint (c->years_to, ==, 2012);
  g_assert_cmpint (c->check, ==, EW_VIN_CHECK_NOT_APPLICABLE);
  g_assert_null (c->chassis);
  g_assert_cmpstr (candidate (candidates, 2)->family->id, ==, "demo-estate-b");
  g_assert_cmpuint (candidate (candidates, 1)->score, ==, candidate (candidates, 2)->score);
  g_assert_cmpuint (candidate (candidates, 0)->score, >, candidate (candidates, 1)->score);
}

static void
test_match_best_pattern (MatchFixture *f, gconstpointer data)
{
  /* convertible pattern ^V[12]...., years from 2016; position 10 E = 2014
   * fits the family but not the pattern: the VDS still makes DC2 best */
  g_autofree char *text = with_check_digit ("ZZDV2ABC0EW123456");
  g_autoptr(GPtrArray) candidates = match (f, text, FALSE);
  const EwVinCandidate *c = candidate (candidates, 0);

  g_assert_cmpstr (c->family->id, ==, "demo-coupe");
  g_assert_cmpstr (c->chassis, ==, "DC2");
  g_assert_true (c->vds_matched);
  g_assert_false (c->year_matched);
  g_assert_cmpuint (c->years_from, ==, 2016);
  g_assert_cmpuint (c->years_to, ==, 2020);
}

static void
test_match_check_digit_policy (MatchFixture *f, gconstpointer data)
{
  g_autofree char *wrong = with_wrong_check_digit ("ZZDC1ABC0FW123456");
  g_autofree char *van_good = with_check_digit ("ZZV1234500A123456");
  g_autofree char *van_wrong = with_wrong_check_digit ("ZZV1234500A123456");
  g_autoptr(GPtrArray) coupe = match (f, wrong, FALSE);
  g_autoptr(GPtrArray) good = match (f, van_good, FALSE);
  g_autoptr(GPtrArray) bad = match (f, van_wrong, FALSE);

  /* optional, outside North America: position 9 holds something else on
   * the markets without a check digit, so a mismatch is not applicable */
  g_assert_cmpstr (candidate (coupe, 0)->family->id, ==, "demo-coupe");
  g_assert_cmpint (candidate (coupe, 0)->check, ==, EW_VIN_CHECK_NOT_APPLICABLE);
  g_assert_cmpint (candidate (coupe, 1)->check, ==, EW_VIN_CHECK_NOT_APPLICABLE);

  /* required: valid scores higher than invalid */
  g_assert_cmpuint (good->len, ==, 1);
  g_assert_cmpuint (bad->len, ==, 1);
  g_assert_cmpstr (candidate (good, 0)->family->id, ==, "demo-van");
  g_assert_cmpint (candidate (good, 0)->check, ==, EW_VIN_CHECK_VALID);
  g_assert_cmpint (candidate (bad, 0)->check, ==, EW_VIN_CHECK_INVALID);
  g_assert_cmpuint (candidate (good, 0)->score, >, candidate (bad, 0)->score);
  g_assert_cmpuint (candidate (bad, 0)->score, >, 0);
}

static void
test_match_none (MatchFixture *f, gconstpointer data)
{
  g_autoptr(GPtrArray) candidates = match (f, "WVWZZZAUZFW123456", FALSE);

  g_assert_cmpuint (candidates->len, ==, 0);
}

/* ---- family matching: the shipped families ---- */

static EwVehicleDatabase *
shipped_database (void)
{
  g_autofree char *schema = schema_path ();
  g_autofree char *dir = ew_data_path ("vehicles");
  EwVehicleDatabase *db = ew_vehicle_database_new (schema);

  ew_vehicle_database_add_dir (db, dir);
  return db;
}

static void
test_match_shipped (void)
{
  static const struct {
    const char *vin;
    const char *family;
    guint16     year;      /* 0: not checked */
  } cases[] = {
    { "WVWZZZAUZFW123456", "vw-golf-mk7", 2015 },
    { "WBA8A11000K123456", "bmw-f30", 0 },
    { "WDD2050461F123456", "mercedes-w205", 0 },
  };
  g_autoptr(EwVehicleDatabase) db = shipped_database ();
  g_autoptr(EwWmiTable) table = load_wmi_table ();
  guint n_tested = 0;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(EwVin) vin = NULL;
      g_autoptr(GPtrArray) candidates = NULL;
      EwFamily *family = ew_vehicle_database_find_family (db, cases[i].family);
      const EwVinCandidate *best;

      if (family == NULL)
        {
          g_test_message ("family %s is not shipped yet", cases[i].family);
          continue;
        }
      vin = ew_vin_decode (cases[i].vin, table, FALSE, &error);
      g_assert_no_error (error);
      candidates = ew_vin_match_families (vin, db);
      g_assert_cmpuint (candidates->len, >=, 1);
      best = g_ptr_array_index (candidates, 0);
      g_test_message ("%s -> %s (%u)", cases[i].vin, best->family->id, best->score);
      g_assert_cmpstr (best->family->id, ==, cases[i].family);
      /* sorted best first */
      for (guint j = 1; j < candidates->len; j++)
        g_assert_cmpuint (candidate (candidates, j - 1)->score, >=, candidate (candidates, j)->score);
      if (cases[i].year != 0)
        g_assert_cmpuint (best->years_from, ==, cases[i].year);
      /* European VINs: judged by the family, never an error */
      g_assert_true (best->check != EW_VIN_CHECK_VALID ||
                     vin->vin[8] == vin->expected_check_digit);
      n_tested++;
    }

  if (n_tested == 0)
    g_test_skip ("no shipped vehicle families in data/vehicles");
}

/* Every shipped family's WMIs are in the WMI table, so the app can name the
 * manufacturer of every car it has data for. */
static void
test_shipped_wmis_listed (void)
{
  g_autoptr(EwVehicleDatabase) db = shipped_database ();
  g_autoptr(EwWmiTable) table = load_wmi_table ();
  GPtrArray *families = ew_vehicle_database_get_families (db);

  if (families->len == 0)
    {
      g_test_skip ("no shipped vehicle families in data/vehicles");
      return;
    }
  for (guint i = 0; i < families->len; i++)
    {
      EwFamily *family = g_ptr_array_index (families, i);

      for (guint j = 0; j < family->vin_patterns->len; j++)
        {
          const EwVinPattern *pattern = g_ptr_array_index (family->vin_patterns, j);

          g_test_message ("%s: WMI %s", family->id, pattern->wmi);
          g_assert_nonnull (ew_wmi_table_lookup (table, pattern->wmi));
        }
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/vin/check-digit/vectors", test_check_digit_vectors);
  g_test_add_func ("/vin/decode/north-american-valid", test_decode_north_american_valid);
  g_test_add_func ("/vin/decode/north-american-invalid", test_decode_north_american_invalid);
  g_test_add_func ("/vin/decode/european-without-check-digit", test_decode_european_without_check_digit);
  g_test_add_func ("/vin/decode/uses-check-digit", test_decode_uses_check_digit);
  g_test_add_func ("/vin/decode/without-table", test_decode_without_table);
  g_test_add_func ("/vin/decode/normalises", test_decode_normalises);
  g_test_add_func ("/vin/decode/rejects-letters", test_decode_rejects_letters);
  g_test_add_func ("/vin/decode/rejects-length", test_decode_rejects_length);
  g_test_add_func ("/vin/decode/rejects-other-characters", test_decode_rejects_other_characters);
  g_test_add_func ("/vin/year/codes", test_year_codes);
  g_test_add_func ("/vin/year/in-vin", test_year_code_in_vin);
  g_test_add_func ("/vin/year/position-7-rule", test_year_position_7_rule);
  g_test_add_func ("/vin/check-to-string", test_check_to_string);
  g_test_add_func ("/vin/wmi/required-makes", test_wmi_required_makes);
  g_test_add_func ("/vin/wmi/file-consistent", test_wmi_file_consistent);
  g_test_add_func ("/vin/wmi/decode-entry", test_wmi_decode_entry);
  g_test_add_func ("/vin/wmi/malformed", test_wmi_malformed);
  g_test_add ("/vin/match/vds-and-year", MatchFixture, NULL,
              match_fixture_set_up, test_match_vds_and_year, match_fixture_tear_down);
  g_test_add ("/vin/match/best-pattern", MatchFixture, NULL,
              match_fixture_set_up, test_match_best_pattern, match_fixture_tear_down);
  g_test_add ("/vin/match/check-digit-policy", MatchFixture, NULL,
              match_fixture_set_up, test_match_check_digit_policy, match_fixture_tear_down);
  g_test_add ("/vin/match/none", MatchFixture, NULL,
              match_fixture_set_up, test_match_none, match_fixture_tear_down);
  g_test_add_func ("/vin/match/shipped", test_match_shipped);
  g_test_add_func ("/vin/match/shipped-wmis-listed", test_shipped_wmis_listed);

  return g_test_run ();
}
