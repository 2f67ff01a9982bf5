/* sim-profile.c — loading simulated-car profiles (format in sim-profile.h). */
#include "sim/sim-profile.h"

#include <gio/gio.h>
#include <string.h>

#include "data-dir.h"
#include "vehicle/vin.h"

#define DEFAULT_MILEAGE_KM 42000

struct _EwSimProfile {
  gatomicrefcount ref_count;
  EwFamily       *family;
  char           *name;
  char           *description;
  char           *vin;
  GHashTable     *options;  /* fitted option code -> itself */
  GPtrArray      *modules;  /* EwSimModuleProfile, in the family's order */
  guint           supply_voltage_mv;
};

static void
module_profile_free (gpointer data)
{
  EwSimModuleProfile *mp = data;

  g_free (mp->module_id);
  g_free (mp->vin);
  g_free (mp->part_number);
  g_free (mp->software_version);
  g_free (mp->hardware_version);
  g_free (mp->serial_number);
  g_free (mp->supplier);
  g_free (mp->programming_date);
  g_hash_table_unref (mp->coding);
  g_hash_table_unref (mp->mileage_km);
  g_array_unref (mp->dtcs);
  g_free (mp);
}

static const EwFeature *
find_programming_feature (EwFamily       *family,
                          const EwModule *module)
{
  for (guint i = 0; i < family->features->len; i++)
    {
      const EwFeature *f = g_ptr_array_index (family->features, i);

      if (f->work_class == EW_WORK_CLASS_PROGRAMMING && f->min_software != NULL &&
          g_strcmp0 (f->module, module->id) == 0)
        return f;
    }
  return NULL;
}

/* The software level a healthy module runs: the minimum any feature asks
 * for, else a level written the way the family writes them. */
static char *
default_software_version (EwFamily       *family,
                          const EwModule *module)
{
  const EwFeature *feature = find_programming_feature (family, module);

  if (feature != NULL)
    return g_strdup (feature->min_software);
  for (guint i = 0; i < family->features->len; i++)
    {
      const EwFeature *f = g_ptr_array_index (family->features, i);

      if (f->min_software != NULL && strchr (f->min_software, '.') != NULL)
        return g_strdup ("16.07.00");
    }
  return g_strdup ("0500");
}

/* A version that sorts below the module's minimum: the first non-zero
 * digit lowered by one ("17.07.50" -> "07.07.50", "0612" -> "0512"). */
static char *
below_minimum_software_version (EwFamily       *family,
                                const EwModule *module)
{
  char *version = default_software_version (family, module);

  for (char *p = version; *p != '\0'; p++)
    if (*p >= '1' && *p <= '9')
      {
        (*p)--;
        return version;
      }
  return version;
}

static char *
instantiate_vds (const char *pattern)
{
  GString *out = g_string_new (NULL);
  const char *p = pattern;

  /* enough of a regex for the patterns the vehicle data uses: literals,
   * [..] classes (first member) and {n} repeats */
  while (*p != '\0' && out->len < 6)
    {
      char c;

      if (*p == '^' || *p == '$')
        {
          p++;
          continue;
        }
      if (*p == '[')
        {
          const char *close = strchr (p, ']');
          if (close == NULL)
            break;
          c = p[1];
          p = close + 1;
        }
      else
        {
          c = *p++;
        }
      if (*p == '{')
        {
          guint n = (guint) g_ascii_strtoull (p + 1, NULL, 10);
          const char *close = strchr (p, '}');
          for (guint i = 0; i < n && out->len < 6; i++)
            g_string_append_c (out, c);
          p = close != NULL ? close + 1 : p + 1;
        }
      else
        {
          g_string_append_c (out, c);
        }
    }
  while (out->len < 6)
    g_string_append_c (out, 'Z');
  return g_string_free (out, FALSE);
}

static char
year_code (guint16 year)
{
  /* ISO 3779 position 10: A..Y without I, O, Q, U, Z from 1980/2010, then 1..9 */
  static const char codes[] = "ABCDEFGHJKLMNPRSTVWXY123456789";
  guint16 y = year >= 2010 ? year - 2010 : (year >= 1980 ? year - 1980 : 0);
  return codes[y % 30];
}

static char *
make_vin (EwFamily   *family,
          const char *serial)
{
  char vin[18] = "WZZZZZZZZZ0000000";
  g_autofree char *vds = NULL;

  if (family->vin_patterns->len > 0)
    {
      const EwVinPattern *pattern = g_ptr_array_index (family->vin_patterns, 0);
      memcpy (vin, pattern->wmi, 3);
      vds = instantiate_vds (pattern->vds_pattern != NULL ? pattern->vds_pattern : "ZZZZZZ");
      memcpy (vin + 3, vds, 6);
    }
  vin[9] = year_code (family->years_from);
  vin[10] = 'A';
  memcpy (vin + 11, serial, 6);
  if (family->check_digit == EW_CHECK_DIGIT_REQUIRED)
    vin[8] = ew_vin_compute_check_digit (vin);
  return g_strdup (vin);
}

char *
ew_sim_profile_default_vin (EwFamily *family)
{
  return make_vin (family, "123456");
}

static EwSimModuleProfile *
module_profile_new_default (EwFamily       *family,
                            const EwModule *module,
                            const char     *vin)
{
  EwSimModuleProfile *mp = g_new0 (EwSimModuleProfile, 1);
  g_autofree char *upper = g_ascii_strup (module->id, -1);
  guint hash = g_str_hash (module->id);

  mp->module_id = g_strdup (module->id);
  mp->is_present = TRUE;
  mp->vin = g_strdup (vin);
  mp->part_number = g_strdup_printf ("EW%.8s%04X", upper, hash & 0xFFFF);
  mp->software_version = default_software_version (family, module);
  mp->hardware_version = g_strdup ("H01");
  mp->serial_number = g_strdup_printf ("SIM%09u", hash % 1000000000u);
  mp->supplier = g_strdup ("ECU Workshop Sim");
  mp->programming_date = g_strdup ("150610");
  mp->coding = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) g_bytes_unref);
  mp->mileage_km = g_hash_table_new (NULL, NULL);
  mp->dtcs = g_array_new (FALSE, TRUE, sizeof (EwSimDtc));
  for (guint i = 0; i < module->coding->len; i++)
    {
      const EwCodingDid *did = g_ptr_array_index (module->coding, i);
      GBytes *bytes;

      if (did->default_bytes != NULL && g_bytes_get_size (did->default_bytes) == did->length_bytes)
        bytes = g_bytes_ref (did->default_bytes);
      else
        bytes = g_bytes_new_take (g_malloc0 (did->length_bytes), did->length_bytes);
      g_hash_table_insert (mp->coding, GUINT_TO_POINTER (did->did), bytes);
    }
  for (guint i = 0; i < module->mileage->len; i++)
    {
      const EwMileageStore *store = g_ptr_array_index (module->mileage, i);
      g_hash_table_insert (mp->mileage_km, GUINT_TO_POINTER (store->did),
                           GUINT_TO_POINTER (DEFAULT_MILEAGE_KM));
    }
  return mp;
}

static EwSimProfile *
profile_new (EwFamily   *family,
             const char *vin)
{
  EwSimProfile *profile = g_new0 (EwSimProfile, 1);

  g_atomic_ref_count_init (&profile->ref_count);
  profile->family = ew_family_ref (family);
  profile->name = g_strdup ("default");
  profile->description = g_strdup ("Healthy car: every module present and coded with its defaults");
  profile->vin = vin != NULL ? g_strdup (vin) : ew_sim_profile_default_vin (family);
  profile->supply_voltage_mv = EW_SIM_DEFAULT_SUPPLY_VOLTAGE_MV;
  profile->options = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < family->options->len; i++)
    {
      const EwOption *option = g_ptr_array_index (family->options, i);
      g_hash_table_add (profile->options, g_strdup (option->code));
    }
  profile->modules = g_ptr_array_new_with_free_func (module_profile_free);
  for (guint i = 0; i < family->modules->len; i++)
    g_ptr_array_add (profile->modules,
                     module_profile_new_default (family, g_ptr_array_index (family->modules, i),
                                                 profile->vin));
  return profile;
}

EwSimProfile *
ew_sim_profile_new_default (EwFamily   *family,
                            const char *vin)
{
  g_return_val_if_fail (family != NULL, NULL);
  return profile_new (family, vin);
}

EwSimProfile *
ew_sim_profile_ref (EwSimProfile *profile)
{
  g_return_val_if_fail (profile != NULL, NULL);
  g_atomic_ref_count_inc (&profile->ref_count);
  return profile;
}

void
ew_sim_profile_unref (EwSimProfile *profile)
{
  if (profile == NULL || !g_atomic_ref_count_dec (&profile->ref_count))
    return;
  g_ptr_array_unref (profile->modules);
  g_hash_table_unref (profile->options);
  g_free (profile->vin);
  g_free (profile->description);
  g_free (profile->name);
  ew_family_unref (profile->family);
  g_free (profile);
}

/* Loading --------------------------------------------------------------- */

typedef struct {
  const char *path;
  const char *contents;
  GKeyFile   *key_file;
  EwSimProfile *profile;
  GError    **error;
} Loader;

/* GKeyFile keeps no line numbers: find the key's line in the text. */
static guint
find_line (Loader     *loader,
           const char *group,
           const char *key)
{
  g_auto(GStrv) lines = g_strsplit (loader->contents, "\n", -1);
  g_autofree char *header = g_strdup_printf ("[%s]", group);
  gboolean in_group = FALSE;
  guint group_line = 0;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *line = lines[i];
      while (*line == ' ' || *line == '\t')
        line++;
      if (*line == '[')
        {
          in_group = g_str_has_prefix (line, header);
          if (in_group)
            group_line = i + 1;
          continue;
        }
      if (in_group && key != NULL && g_str_has_prefix (line, key))
        {
          const char *rest = line + strlen (key);
          while (*rest == ' ')
            rest++;
          if (*rest == '=')
            return i + 1;
        }
    }
  return group_line;
}

G_GNUC_PRINTF (4, 5)
static gboolean
fail (Loader     *loader,
      const char *group,
      const char *key,
      const char *format,
      ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (loader->error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               "%s:%u: [%s] %s%s%s", loader->path, find_line (loader, group, key),
               group, key != NULL ? key : "", key != NULL ? ": " : "", message);
  return FALSE;
}

static gboolean
get_bool (Loader     *loader,
          const char *group,
          const char *key,
          gboolean   *out)
{
  g_autofree char *value = g_key_file_get_string (loader->key_file, group, key, NULL);

  if (value == NULL)
    return TRUE;
  g_strstrip (value);
  if (strcmp (value, "true") == 0 || strcmp (value, "yes") == 0)
    *out = TRUE;
  else if (strcmp (value, "false") == 0 || strcmp (value, "no") == 0)
    *out = FALSE;
  else
    return fail (loader, group, key, "expected true or false, not \"%s\"", value);
  return TRUE;
}

static gboolean
parse_uint (const char *text,
            guint64     max,
            guint64    *out)
{
  char *end = NULL;

  if (text == NULL || *text == '\0' || *text == '-' || *text == '+')
    return FALSE;
  *out = g_ascii_strtoull (text, &end, 0);
  return end != text && *end == '\0' && *out <= max;
}

static GBytes *
parse_hex (const char *text)
{
  g_autoptr(GByteArray) bytes = g_byte_array_new ();
  const char *p = text;

  while (*p != '\0')
    {
      int hi, lo;
      guint8 byte;

      if (*p == ' ')
        {
          p++;
          continue;
        }
      hi = g_ascii_xdigit_value (p[0]);
      lo = p[1] != '\0' ? g_ascii_xdigit_value (p[1]) : -1;
      if (hi < 0 || lo < 0)
        return NULL;
      byte = (guint8) (hi << 4 | lo);
      g_byte_array_append (bytes, &byte, 1);
      p += 2;
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&bytes));
}

static void
replace_string (char      **field,
                const char *value)
{
  g_free (*field);
  *field = g_strdup (value);
}

/* Coding fields are little-endian across bytes: mask bit 8 is in byte + 1,
 * as the loader's width check counts them. */
static void
set_field (guint8  *data,
           gsize    length,
           guint    byte,
           guint    bit,
           guint32  mask,
           guint64  raw)
{
  guint64 word = 0;

  for (guint i = 0; i < 4 && byte + i < length; i++)
    word |= (guint64) data[byte + i] << (8 * i);
  word = (word & ~(guint64) mask) | ((raw << bit) & mask);
  for (guint i = 0; i < 4 && byte + i < length; i++)
    data[byte + i] = (guint8) (word >> (8 * i));
}

static gboolean
apply_feature (Loader     *loader,
               const char *feature_id,
               const char *state_name)
{
  EwFamily *family = loader->profile->family;
  const EwFeature *feature = ew_family_find_feature (family, feature_id);
  const EwModule *module;
  const EwCodingDid *did;
  const EwCodingItem *item;
  const EwCodingValue *value = NULL;
  EwSimModuleProfile *mp;
  GBytes *old;
  g_autofree guint8 *data = NULL;
  gsize length;

  if (feature == NULL || feature->item == NULL)
    return TRUE;  /* another family's feature */
  module = ew_family_find_module (family, feature->module);
  did = module != NULL ? ew_module_find_coding_did (module, feature->did) : NULL;
  item = did != NULL ? ew_coding_did_find_item (did, feature->item) : NULL;
  if (item == NULL)
    return TRUE;
  for (guint i = 0; i < feature->states->len; i++)
    {
      const EwFeatureState *state = g_ptr_array_index (feature->states, i);
      if (strcmp (state->name, state_name) == 0)
        value = ew_coding_item_find_value (item, state->value);
    }
  if (value == NULL)
    return fail (loader, "features", feature_id, "feature has no state \"%s\"", state_name);
  mp = (EwSimModuleProfile *) ew_sim_profile_get_module (loader->profile, module->id);
  old = g_hash_table_lookup (mp->coding, GUINT_TO_POINTER (did->did));
  data = g_bytes_unref_to_data (g_bytes_ref (old), &length);
  set_field (data, length, item->byte, item->bit, item->mask, value->raw);
  g_hash_table_insert (mp->coding, GUINT_TO_POINTER (did->did),
                       g_bytes_new_take (g_steal_pointer (&data), length));
  return TRUE;
}

static gboolean
apply_module_section (Loader             *loader,
                      const char         *group,
                      const EwModule     *module,
                      EwSimModuleProfile *mp)
{
  g_auto(GStrv) keys = g_key_file_get_keys (loader->key_file, group, NULL, NULL);

  for (guint k = 0; keys != NULL && keys[k] != NULL; k++)
    {
      const char *key = keys[k];
      g_autofree char *value = g_key_file_get_string (loader->key_file, group, key, NULL);
      guint64 number;

      if (value == NULL)
        return fail (loader, group, key, "not a valid UTF-8 string");
      g_strstrip (value);
      if (strcmp (key, "present") == 0)
        {
          if (!get_bool (loader, group, key, &mp->is_present))
            return FALSE;
        }
      else if (strcmp (key, "bootloader") == 0)
        {
          if (!get_bool (loader, group, key, &mp->is_in_bootloader))
            return FALSE;
        }
      else if (strcmp (key, "coded") == 0)
        {
          gboolean is_coded = TRUE;
          if (!get_bool (loader, group, key, &is_coded))
            return FALSE;
          /* an uncoded module holds zeros in every coding DID */
          for (guint i = 0; !is_coded && i < module->coding->len; i++)
            {
              const EwCodingDid *did = g_ptr_array_index (module->coding, i);
              g_hash_table_insert (mp->coding, GUINT_TO_POINTER (did->did),
                                   g_bytes_new_take (g_malloc0 (did->length_bytes),
                                                     did->length_bytes));
            }
        }
      else if (strcmp (key, "vin") == 0)
        {
          if (strcmp (value, "@other-car") == 0)
            {
              g_free (mp->vin);
              mp->vin = make_vin (loader->profile->family, "654321");
            }
          else if (strlen (value) != 17)
            return fail (loader, group, key, "a VIN has 17 characters, not %zu", strlen (value));
          else
            replace_string (&mp->vin, value);
        }
      else if (strcmp (key, "software-version") == 0)
        {
          if (strcmp (value, "@below-minimum") == 0)
            {
              g_free (mp->software_version);
              mp->software_version = below_minimum_software_version (loader->profile->family, module);
            }
          else
            replace_string (&mp->software_version, value);
        }
      else if (strcmp (key, "part-number") == 0)
        replace_string (&mp->part_number, value);
      else if (strcmp (key, "hardware-version") == 0)
        replace_string (&mp->hardware_version, value);
      else if (strcmp (key, "serial-number") == 0)
        replace_string (&mp->serial_number, value);
      else if (strcmp (key, "supplier") == 0)
        replace_string (&mp->supplier, value);
      else if (strcmp (key, "programming-date") == 0)
        {
          if (strlen (value) != 6 || !parse_uint (value, 999999, &number))
            return fail (loader, group, key, "expected YYMMDD, not \"%s\"", value);
          replace_string (&mp->programming_date, value);
        }
      else if (strcmp (key, "mileage") == 0)
        {
          GHashTableIter iter;
          gpointer did;

          if (!parse_uint (value, G_MAXUINT32, &number))
            return fail (loader, group, key, "expected a mileage in km, not \"%s\"", value);
          g_hash_table_iter_init (&iter, mp->mileage_km);
          while (g_hash_table_iter_next (&iter, &did, NULL))
            g_hash_table_iter_replace (&iter, GUINT_TO_POINTER ((guint) number));
        }
      else if (g_str_has_prefix (key, "mileage-"))
        {
          guint64 did;

          if (!parse_uint (key + strlen ("mileage-"), 0xFFFF, &did))
            return fail (loader, group, key, "expected mileage-0xDID");
          if (!parse_uint (value, G_MAXUINT32, &number))
            return fail (loader, group, key, "expected a mileage in km, not \"%s\"", value);
          if (!g_hash_table_contains (mp->mileage_km, GUINT_TO_POINTER ((guint) did)))
            continue;  /* another family's store */
          g_hash_table_insert (mp->mileage_km, GUINT_TO_POINTER ((guint) did),
                               GUINT_TO_POINTER ((guint) number));
        }
      else if (g_str_has_prefix (key, "coding-"))
        {
          g_autofree char *did_text = g_strdup (key + strlen ("coding-"));
          char *suffix = strstr (did_text, "-bits");
          const EwCodingDid *did;
          guint64 did_number;

          if (suffix != NULL)
            *suffix = '\0';
          if (!parse_uint (did_text, 0xFFFF, &did_number))
            return fail (loader, group, key, "expected coding-0xDID or coding-0xDID-bits");
          did = ew_module_find_coding_did (module, (guint16) did_number);
          if (did == NULL)
            continue;  /* another family's DID */
          if (suffix == NULL)
            {
              g_autoptr(GBytes) bytes = parse_hex (value);
              if (bytes == NULL)
                return fail (loader, group, key, "expected hex bytes, not \"%s\"", value);
              if (g_bytes_get_size (bytes) != did->length_bytes)
                return fail (loader, group, key, "DID 0x%04X has %u bytes, the value %zu",
                             did->did, did->length_bytes, g_bytes_get_size (bytes));
              g_hash_table_insert (mp->coding, GUINT_TO_POINTER (did->did), g_steal_pointer (&bytes));
            }
          else
            {
              g_auto(GStrv) fields = g_strsplit (value, ",", -1);
              GBytes *old = g_hash_table_lookup (mp->coding, GUINT_TO_POINTER (did->did));
              gsize length;
              g_autofree guint8 *data = g_bytes_unref_to_data (g_bytes_ref (old), &length);

              for (guint f = 0; fields[f] != NULL; f++)
                {
                  g_auto(GStrv) parts = g_strsplit (g_strstrip (fields[f]), ":", -1);
                  guint64 byte, mask, raw;

                  if (g_strv_length (parts) != 3 || !parse_uint (parts[0], length - 1, &byte) ||
                      !parse_uint (parts[1], 0xFF, &mask) || !parse_uint (parts[2], 0xFF, &raw))
                    return fail (loader, group, key, "expected BYTE:MASK:VALUE, not \"%s\"", fields[f]);
                  data[byte] = (guint8) ((data[byte] & ~mask) | (raw & mask));
                }
              g_hash_table_insert (mp->coding, GUINT_TO_POINTER (did->did),
                                   g_bytes_new_take (g_steal_pointer (&data), length));
            }
        }
      else if (strcmp (key, "dtcs") == 0)
        {
          g_auto(GStrv) items = g_strsplit (value, ";", -1);

          g_array_set_size (mp->dtcs, 0);
          for (guint d = 0; items[d] != NULL; d++)
            {
              g_auto(GStrv) parts = g_strsplit (g_strstrip (items[d]), ":", -1);
              guint64 code, status;
              EwSimDtc dtc;

              if (items[d][0] == '\0')
                continue;
              if (g_strv_length (parts) != 2 || !parse_uint (parts[0], 0xFFFFFF, &code) ||
                  !parse_uint (parts[1], 0xFF, &status))
                return fail (loader, group, key, "expected 0xDTC:0xSTATUS, not \"%s\"", items[d]);
              dtc.code[0] = (guint8) (code >> 16);
              dtc.code[1] = (guint8) (code >> 8);
              dtc.code[2] = (guint8) code;
              dtc.status = (guint8) status;
              g_array_append_val (mp->dtcs, dtc);
            }
        }
      else
        return fail (loader, group, key, "unknown key");
    }
  return TRUE;
}

static gboolean
parse_kind (const char   *text,
            EwModuleKind *kind)
{
  for (EwModuleKind k = EW_MODULE_ENGINE; k <= EW_MODULE_OTHER; k++)
    if (strcmp (ew_module_kind_to_string (k), text) == 0)
      {
        *kind = k;
        return TRUE;
      }
  return FALSE;
}

static const EwModule *
resolve_kind (EwFamily     *family,
              EwModuleKind  kind)
{
  const EwModule *first = NULL;

  for (guint i = 0; i < family->modules->len; i++)
    {
      const EwModule *module = g_ptr_array_index (family->modules, i);

      if (module->kind != kind)
        continue;
      if (module->flash != NULL)
        return module;
      if (first == NULL)
        first = module;
    }
  return first;
}

static gboolean
load_contents (Loader *loader)
{
  EwSimProfile *profile = loader->profile;
  EwFamily *family = profile->family;
  g_auto(GStrv) groups = NULL;
  g_autofree char *vin = NULL;
  g_autofree char *description = NULL;

  if (!g_key_file_has_group (loader->key_file, "profile"))
    return fail (loader, "profile", NULL, "the [profile] group is missing");
  description = g_key_file_get_string (loader->key_file, "profile", "description", NULL);
  if (description == NULL || *g_strstrip (description) == '\0')
    return fail (loader, "profile", "description", "a description is required");
  replace_string (&profile->description, description);

  vin = g_key_file_get_string (loader->key_file, "profile", "vin", NULL);
  if (vin != NULL)
    {
      g_strstrip (vin);
      if (strlen (vin) != 17)
        return fail (loader, "profile", "vin", "a VIN has 17 characters, not %zu", strlen (vin));
      replace_string (&profile->vin, vin);
      for (guint i = 0; i < profile->modules->len; i++)
        replace_string (&((EwSimModuleProfile *) g_ptr_array_index (profile->modules, i))->vin, vin);
    }

  if (g_key_file_has_key (loader->key_file, "profile", "options", NULL))
    {
      g_auto(GStrv) codes = g_key_file_get_string_list (loader->key_file, "profile", "options", NULL, NULL);
      g_hash_table_remove_all (profile->options);
      for (guint i = 0; codes != NULL && codes[i] != NULL; i++)
        if (ew_family_find_option (family, g_strstrip (codes[i])) != NULL)
          g_hash_table_add (profile->options, g_strdup (codes[i]));
    }
  if (g_key_file_has_key (loader->key_file, "profile", "options-absent", NULL))
    {
      g_auto(GStrv) codes = g_key_file_get_string_list (loader->key_file, "profile", "options-absent", NULL, NULL);
      for (guint i = 0; codes != NULL && codes[i] != NULL; i++)
        g_hash_table_remove (profile->options, g_strstrip (codes[i]));
    }
  if (g_key_file_has_key (loader->key_file, "profile", "supply-voltage", NULL))
    {
      g_autofree char *text = g_key_file_get_string (loader->key_file, "profile", "supply-voltage", NULL);
      char *end = NULL;
      double volts = g_ascii_strtod (g_strstrip (text), &end);

      if (end == text || *end != '\0' || !(volts >= 0.0 && volts <= 65.0))
        return fail (loader, "profile", "supply-voltage",
                     "“%s” is not a voltage from 0 to 65 (volts, e.g. 12.4)", text);
      profile->supply_voltage_mv = (guint) (volts * 1000.0 + 0.5);
    }
  {
    g_auto(GStrv) keys = g_key_file_get_keys (loader->key_file, "profile", NULL, NULL);
    for (guint i = 0; keys[i] != NULL; i++)
      if (strcmp (keys[i], "description") != 0 && strcmp (keys[i], "vin") != 0 &&
          strcmp (keys[i], "options") != 0 && strcmp (keys[i], "options-absent") != 0 &&
          strcmp (keys[i], "supply-voltage") != 0)
        return fail (loader, "profile", keys[i], "unknown key");
  }

  groups = g_key_file_get_groups (loader->key_file, NULL);
  /* kind sections first, then module sections, so an id wins */
  for (guint pass = 0; pass < 2; pass++)
    for (guint i = 0; groups[i] != NULL; i++)
      {
        const char *group = groups[i];
        const EwModule *module = NULL;
        EwModuleKind kind;

        if (strcmp (group, "profile") == 0 || strcmp (group, "features") == 0)
          continue;
        if (g_str_has_prefix (group, "kind:"))
          {
            if (pass != 0)
              continue;
            if (!parse_kind (group + strlen ("kind:"), &kind))
              return fail (loader, group, NULL, "unknown module kind \"%s\"", group + strlen ("kind:"));
            module = resolve_kind (family, kind);
          }
        else if (g_str_has_prefix (group, "module:"))
          {
            if (pass != 1)
              continue;
            module = ew_family_find_module (family, group + strlen ("module:"));
          }
        else
          return fail (loader, group, NULL, "expected [profile], [features], [module:ID] or [kind:KIND]");
        if (module == NULL)
          continue;  /* the family lacks it */
        if (!apply_module_section (loader, group, module,
                                   (EwSimModuleProfile *) ew_sim_profile_get_module (profile, module->id)))
          return FALSE;
      }

  if (g_key_file_has_group (loader->key_file, "features"))
    {
      g_auto(GStrv) keys = g_key_file_get_keys (loader->key_file, "features", NULL, NULL);
      for (guint i = 0; keys[i] != NULL; i++)
        {
          g_autofree char *state = g_key_file_get_string (loader->key_file, "features", keys[i], NULL);
          if (state == NULL || !apply_feature (loader, keys[i], g_strstrip (state)))
            return state == NULL ? fail (loader, "features", keys[i], "no state given") : FALSE;
        }
    }
  return TRUE;
}

static gboolean
is_name (const char *name_or_path)
{
  return strchr (name_or_path, '/') == NULL && !g_str_has_suffix (name_or_path, ".ini");
}

EwSimProfile *
ew_sim_profile_load (EwFamily    *family,
                     const char  *name_or_path,
                     GError     **error)
{
  g_autofree char *path = NULL;
  g_autofree char *contents = NULL;
  g_autoptr(GKeyFile) key_file = g_key_file_new ();
  g_autoptr(EwSimProfile) profile = NULL;
  g_autoptr(GError) local_error = NULL;
  Loader loader = { 0 };

  g_return_val_if_fail (family != NULL, NULL);
  g_return_val_if_fail (name_or_path != NULL, NULL);

  if (is_name (name_or_path))
    {
      g_autofree char *file = g_strconcat (name_or_path, ".ini", NULL);
      g_autofree char *relative = g_build_filename ("sim-profiles", file, NULL);
      path = ew_data_path (relative);
    }
  else
    path = g_strdup (name_or_path);

  if (!g_file_get_contents (path, &contents, NULL, &local_error))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "Simulation profile \"%s\": %s", name_or_path, local_error->message);
      return NULL;
    }
  if (!g_key_file_load_from_data (key_file, contents, (gsize) -1, G_KEY_FILE_NONE, &local_error))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s: %s", path, local_error->message);
      return NULL;
    }
  profile = profile_new (family, NULL);
  g_free (profile->name);
  if (is_name (name_or_path))
    profile->name = g_strdup (name_or_path);
  else
    {
      g_autofree char *base = g_path_get_basename (path);
      if (g_str_has_suffix (base, ".ini"))
        base[strlen (base) - 4] = '\0';
      profile->name = g_steal_pointer (&base);
    }
  loader.path = path;
  loader.contents = contents;
  loader.key_file = key_file;
  loader.profile = profile;
  loader.error = error;
  if (!load_contents (&loader))
    return NULL;
  return g_steal_pointer (&profile);
}

const char *
ew_sim_profile_get_name (EwSimProfile *profile)
{
  return profile->name;
}

const char *
ew_sim_profile_get_description (EwSimProfile *profile)
{
  return profile->description;
}

const char *
ew_sim_profile_get_vin (EwSimProfile *profile)
{
  return profile->vin;
}

guint
ew_sim_profile_get_supply_voltage_mv (EwSimProfile *profile)
{
  g_return_val_if_fail (profile != NULL, 0);

  return profile->supply_voltage_mv;
}

EwFamily *
ew_sim_profile_get_family (EwSimProfile *profile)
{
  return profile->family;
}

const EwSimModuleProfile *
ew_sim_profile_get_module (EwSimProfile *profile,
                           const char   *module_id)
{
  for (guint i = 0; i < profile->modules->len; i++)
    {
      const EwSimModuleProfile *mp = g_ptr_array_index (profile->modules, i);
      if (strcmp (mp->module_id, module_id) == 0)
        return mp;
    }
  return NULL;
}

gboolean
ew_sim_profile_module_is_present (EwSimProfile *profile,
                                  const char   *module_id)
{
  const EwSimModuleProfile *mp = ew_sim_profile_get_module (profile, module_id);
  return mp != NULL && mp->is_present;
}

gboolean
ew_sim_profile_option_is_fitted (EwSimProfile *profile,
                                 const char   *option_code)
{
  return g_hash_table_contains (profile->options, option_code);
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(char * const *) a, *(char * const *) b);
}

GStrv
ew_sim_profile_list_shipped (void)
{
  g_autofree char *dir_path = ew_data_path ("sim-profiles");
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  const char *entry;

  while (dir != NULL && (entry = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (entry, ".ini"))
      g_ptr_array_add (names, g_strndup (entry, strlen (entry) - 4));
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&names), FALSE);
}
