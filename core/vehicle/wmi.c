/* wmi.c — the table of World Manufacturer Identifiers (ISO 3780).
 *
 * A small tab-separated file, read once at start-up: which manufacturer a
 * VIN's first three characters name, and whether that manufacturer's VINs
 * must carry the position 9 check digit.
 */
#include <string.h>

#include "data-dir.h"
#include "vehicle-error.h"
#include "vin.h"

#define WMI_COLUMNS 6

struct _EwWmiTable {
  GHashTable *entries;          /* wmi -> EwWmiEntry, owned */
  GHashTable *lines;            /* wmi -> line number, for duplicate errors */
};

static void
wmi_entry_free (EwWmiEntry *entry)
{
  g_free (entry->wmi);
  g_free (entry->manufacturer);
  g_free (entry->make);
  g_free (entry->country);
  g_free (entry->source);
  g_free (entry);
}

static EwWmiTable *
wmi_table_new (void)
{
  EwWmiTable *table = g_new0 (EwWmiTable, 1);

  table->entries = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                          (GDestroyNotify) wmi_entry_free);
  table->lines = g_hash_table_new (g_str_hash, g_str_equal);
  return table;
}

void
ew_wmi_table_free (EwWmiTable *table)
{
  if (table == NULL)
    return;
  /* lines borrows its keys from the entries */
  g_hash_table_unref (table->lines);
  g_hash_table_unref (table->entries);
  g_free (table);
}

/* ISO 3779: only 0-9 and A-Z without I, O and Q appear in a VIN. */
static gboolean
is_vin_character (char c)
{
  return g_ascii_isdigit (c) ||
         (c >= 'A' && c <= 'Z' && c != 'I' && c != 'O' && c != 'Q');
}

static gboolean
parse_error (GError **error, const char *path, guint line, const char *format, ...) G_GNUC_PRINTF (4, 5);

static gboolean
parse_error (GError **error, const char *path, guint line, const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, EW_VEHICLE_ERROR, EW_VEHICLE_ERROR_PARSE,
               "%s:%u: %s", path, line, message);
  return FALSE;
}

static gboolean
parse_row (EwWmiTable *table, const char *path, guint line_no, char *line, GError **error)
{
  static const char * const column_names[WMI_COLUMNS] = {
    "wmi", "make", "manufacturer", "country", "check digit mandatory", "source",
  };
  g_auto(GStrv) fields = g_strsplit (line, "\t", -1);
  guint n_fields = g_strv_length (fields);
  EwWmiEntry *entry;
  gboolean is_mandatory;
  gpointer other_line;

  if (n_fields != WMI_COLUMNS)
    return parse_error (error, path, line_no,
                        "expected %u tab-separated columns (wmi, make, manufacturer, "
                        "country, check digit mandatory, source), found %u",
                        WMI_COLUMNS, n_fields);

  for (guint i = 0; i < n_fields; i++)
    {
      g_strstrip (fields[i]);
      if (fields[i][0] == '\0')
        return parse_error (error, path, line_no, "column %u (%s) is empty",
                            i + 1, column_names[i]);
    }

  if (strlen (fields[0]) != 3 ||
      !is_vin_character (fields[0][0]) ||
      !is_vin_character (fields[0][1]) ||
      !is_vin_character (fields[0][2]))
    return parse_error (error, path, line_no,
                        "'%s' is not a WMI: three characters 0-9 or A-Z, "
                        "never I, O or Q (ISO 3780)", fields[0]);

  if (g_strcmp0 (fields[4], "yes") == 0)
    is_mandatory = TRUE;
  else if (g_strcmp0 (fields[4], "no") == 0)
    is_mandatory = FALSE;
  else
    return parse_error (error, path, line_no,
                        "column 5 (check digit mandatory) is '%s', expected 'yes' or 'no'",
                        fields[4]);

  if (g_hash_table_lookup_extended (table->lines, fields[0], NULL, &other_line))
    return parse_error (error, path, line_no, "WMI %s is already listed on line %u",
                        fields[0], GPOINTER_TO_UINT (other_line));

  entry = g_new0 (EwWmiEntry, 1);
  entry->wmi = g_strdup (fields[0]);
  entry->make = g_strdup (fields[1]);
  entry->manufacturer = g_strdup (fields[2]);
  entry->country = g_strdup (fields[3]);
  entry->is_check_digit_mandatory = is_mandatory;
  entry->source = g_strdup (fields[5]);
  g_hash_table_insert (table->entries, entry->wmi, entry);
  g_hash_table_insert (table->lines, entry->wmi, GUINT_TO_POINTER (line_no));
  return TRUE;
}

EwWmiTable *
ew_wmi_table_load (const char *path, GError **error)
{
  g_autoptr(EwWmiTable) table = NULL;
  g_autofree char *contents = NULL;
  g_autoptr(GError) local_error = NULL;
  g_auto(GStrv) lines = NULL;
  gsize length;

  g_return_val_if_fail (path != NULL, NULL);

  if (!g_file_get_contents (path, &contents, &length, &local_error))
    {
      g_set_error (error, EW_VEHICLE_ERROR, EW_VEHICLE_ERROR_IO,
                   "Cannot read the WMI table: %s", local_error->message);
      return NULL;
    }
  if (!g_utf8_validate (contents, length, NULL))
    {
      g_set_error (error, EW_VEHICLE_ERROR, EW_VEHICLE_ERROR_PARSE,
                   "%s: not UTF-8 text", path);
      return NULL;
    }

  table = wmi_table_new ();
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = lines[i];
      gsize len = strlen (line);

      if (len > 0 && line[len - 1] == '\r')
        line[len - 1] = '\0';
      if (line[0] == '#' || line[strspn (line, " \t")] == '\0')
        continue;
      if (!parse_row (table, path, i + 1, line, error))
        return NULL;
    }

  return g_steal_pointer (&table);
}

EwWmiTable *
ew_wmi_table_load_default (GError **error)
{
  g_autofree char *path = ew_data_path ("vin/wmi.tsv");

  return ew_wmi_table_load (path, error);
}

const EwWmiEntry *
ew_wmi_table_lookup (const EwWmiTable *table, const char *wmi)
{
  char key[4];

  g_return_val_if_fail (table != NULL, NULL);
  g_return_val_if_fail (wmi != NULL, NULL);

  /* accept a whole VIN or a lower-case WMI as well */
  for (guint i = 0; i < 3; i++)
    {
      if (wmi[i] == '\0')
        return NULL;
      key[i] = g_ascii_toupper (wmi[i]);
    }
  key[3] = '\0';
  return g_hash_table_lookup (table->entries, key);
}

guint
ew_wmi_table_get_size (const EwWmiTable *table)
{
  g_return_val_if_fail (table != NULL, 0);

  return g_hash_table_size (table->entries);
}
