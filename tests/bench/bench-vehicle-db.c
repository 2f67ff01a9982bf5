/* bench-vehicle-db.c — how long the vehicle database takes to load.
 *
 * Copies the shipped families and generates 100 more (20,000 features in
 * all, valid against the schema) into a temporary folder, then loads each
 * set with a fresh database, schema parsing and validation included.
 * It prints; it does not judge. --keep leaves the files for a look.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include <glib/gstdio.h>

#include "data-dir.h"
#include "vehicle/database.h"
#include "../test-util.h"

#define N_FAMILIES            100
#define FEATURES_PER_FAMILY   200
#define MODULES_PER_FAMILY    10
#define DIDS_PER_MODULE       4
#define ITEMS_PER_DID         (FEATURES_PER_FAMILY / (MODULES_PER_FAMILY * DIDS_PER_MODULE))
#define RUNS                  5

static const char * const module_kinds[MODULES_PER_FAMILY] = {
  "engine", "gearbox", "instrument-cluster", "body", "gateway",
  "head-unit", "lighting", "parking", "seat", "climate",
};

static void
generate_family (GString *s, guint n)
{
  g_string_append_printf (s,
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<family id=\"gen-%03u\" schema-version=\"1\" provenance=\"illustrative\">\n"
    "  <identification make=\"Generated %u\" model=\"Bench %u\" years-from=\"2010\" years-to=\"2020\">\n"
    "    <chassis code=\"G%03u\" body=\"saloon\"/>\n"
    "    <vin wmi=\"Z%02u\" vds=\"^[A-Z0-9]{2}%03u[A-Z0-9]$\" chassis=\"G%03u\"/>\n"
    "  </identification>\n"
    "  <options>\n"
    "    <option code=\"OPT1\" name=\"First option\"/>\n"
    "    <option code=\"OPT2\" name=\"Second option\"/>\n"
    "  </options>\n"
    "  <buses><bus id=\"pt\" name=\"PT-CAN\" type=\"can\" bitrate=\"500000\"/></buses>\n"
    "  <security-algorithms><algorithm id=\"toy\">Toy algorithm.</algorithm></security-algorithms>\n"
    "  <modules>\n",
    n, n, n, n, n % 100, n, n);

  for (guint m = 0; m < MODULES_PER_FAMILY; m++)
    {
      g_string_append_printf (s,
        "    <module id=\"m%u\" name=\"Module %u\" kind=\"%s\">\n"
        "      <addressing><can bus=\"pt\" request-id=\"0x%03X\" response-id=\"0x%03X\"/></addressing>\n"
        "      <identification>\n"
        "        <did id=\"0xF190\" role=\"vin\" length=\"17\"/>\n"
        "        <did id=\"0xF187\" role=\"part-number\"/>\n"
        "        <did id=\"0xF189\" role=\"software-version\"/>\n"
        "      </identification>\n"
        "      <security><level level=\"0x03\" algorithm=\"toy\" purpose=\"coding\"/></security>\n"
        "      <coding security-level=\"0x03\">\n",
        m, m, module_kinds[m], 0x600 + m, 0x680 + m);
      for (guint d = 0; d < DIDS_PER_MODULE; d++)
        {
          g_string_append_printf (s, "        <did id=\"0x%04X\" name=\"Coding block %u\" length=\"%u\">\n",
                                  0x3000 + d, d, ITEMS_PER_DID);
          for (guint i = 0; i < ITEMS_PER_DID; i++)
            g_string_append_printf (s,
              "          <item id=\"i%u\" name=\"Item %u\" byte=\"%u\" bit=\"1\" mask=\"0x06\">"
              "<value raw=\"0x0\" name=\"off\" label=\"Off\"/><value raw=\"0x1\" name=\"on\" label=\"On\"/>"
              "<value raw=\"0x2\" name=\"auto\" label=\"Automatic\"/></item>\n",
              i, i, i);
          g_string_append (s, "        </did>\n");
        }
      g_string_append (s, "      </coding>\n    </module>\n");
    }
  g_string_append (s, "  </modules>\n  <features>\n");

  for (guint f = 0; f < FEATURES_PER_FAMILY; f++)
    {
      guint m = f / (DIDS_PER_MODULE * ITEMS_PER_DID);
      guint d = (f / ITEMS_PER_DID) % DIDS_PER_MODULE;
      guint i = f % ITEMS_PER_DID;

      g_string_append_printf (s,
        "    <feature id=\"f%u\" class=\"coding\" category=\"comfort\" labour-minutes=\"10\"%s>\n"
        "      <name>Feature %u of family %u</name>\n"
        "      <description>Switches feature %u on, off or to automatic, as the customer prefers.</description>\n"
        "      <reason>A value in the module's configuration; no new software is needed.</reason>\n"
        "      <requires><option code=\"OPT%u\"/></requires>\n"
        "      <coding module=\"m%u\" did=\"0x%04X\" item=\"i%u\">"
        "<state name=\"off\" value=\"off\"/><state name=\"on\" value=\"on\"/>"
        "<state name=\"auto\" value=\"auto\"/></coding>\n"
        "    </feature>\n",
        f, f % 3 == 0 ? " provenance=\"community\" source=\"Bench forum thread\"" : "",
        f, n, f, 1 + f % 2, m, 0x3000 + d, i);
    }
  g_string_append (s, "  </features>\n</family>\n");
}

static void
write_or_die (const char *dir, const char *name, const char *data, gssize length)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;

  if (!g_file_set_contents (path, data, length, &error))
    g_error ("%s", error->message);
}


/* Loads dir with a fresh database RUNS times; returns the best time. */
static double
time_load (const char *dir, guint *n_families, guint *n_features, double *first_ms)
{
  double best = G_MAXDOUBLE;

  for (guint run = 0; run < RUNS; run++)
    {
      gint64 start = g_get_monotonic_time ();
      g_autoptr(EwVehicleDatabase) db = ew_vehicle_database_new (NULL);
      GPtrArray *families, *errors;
      double ms;

      ew_vehicle_database_add_dir (db, dir);
      ms = (g_get_monotonic_time () - start) / 1000.0;
      if (run == 0)
        *first_ms = ms;
      best = MIN (best, ms);

      errors = ew_vehicle_database_get_errors (db);
      for (guint i = 0; i < errors->len; i++)
        g_printerr ("%s\n", ((GError *) g_ptr_array_index (errors, i))->message);
      families = ew_vehicle_database_get_families (db);
      *n_families = families->len;
      *n_features = 0;
      for (guint i = 0; i < families->len; i++)
        *n_features += ((EwFamily *) g_ptr_array_index (families, i))->features->len;
    }
  return best;
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *root = NULL;
  g_autofree char *shipped_src = NULL;
  g_autofree char *shipped = NULL;
  g_autofree char *generated = NULL;
  g_autoptr(GDir) d = NULL;
  struct rusage usage;
  guint n_families, n_features;
  double best, first;
  gsize bytes = 0;
  const char *name;
  gboolean keep = argc > 1 && strcmp (argv[1], "--keep") == 0;

  /* Uninstalled, the shipped data is the source tree's. */
  if (g_getenv ("ECU_WORKSHOP_DATA_DIR") == NULL)
    g_setenv ("ECU_WORKSHOP_DATA_DIR", EW_SOURCE_DATADIR, TRUE);

  root = g_dir_make_tmp ("ew-bench-vehicle-db-XXXXXX", &error);
  if (root == NULL)
    g_error ("%s", error->message);
  shipped = g_build_filename (root, "shipped", NULL);
  generated = g_build_filename (root, "generated", NULL);
  g_mkdir (shipped, 0755);
  g_mkdir (generated, 0755);

  shipped_src = ew_data_path ("vehicles");
  d = g_dir_open (shipped_src, 0, NULL);
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (shipped_src, name, NULL);
      g_autofree char *contents = NULL;
      gsize length;

      if (!g_str_has_suffix (name, ".xml"))
        continue;
      if (g_file_get_contents (path, &contents, &length, NULL))
        write_or_die (shipped, name, contents, length);
    }

  for (guint n = 0; n < N_FAMILIES; n++)
    {
      g_autoptr(GString) s = g_string_sized_new (256 * 1024);
      g_autofree char *file = g_strdup_printf ("gen-%03u.xml", n);

      generate_family (s, n);
      bytes += s->len;
      write_or_die (generated, file, s->str, s->len);
    }

  printf ("threads available: %u\n", g_get_num_processors ());
  best = time_load (shipped, &n_families, &n_features, &first);
  printf ("shipped families: %u families, %u features: %.1f ms (first run %.1f ms)\n",
          n_families, n_features, best, first);
  best = time_load (generated, &n_families, &n_features, &first);
  printf ("generated database: %u families, %u features, %.1f MiB of XML: %.1f ms (first run %.1f ms)\n",
          n_families, n_features, bytes / (1024.0 * 1024.0), best, first);

  getrusage (RUSAGE_SELF, &usage);
  printf ("peak memory: %.1f MiB\n", usage.ru_maxrss / 1024.0);

  if (keep)
    printf ("files kept in %s\n", root);
  else
    ew_test_remove_tree (root);
  return 0;
}
