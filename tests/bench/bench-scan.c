/* bench-scan.c — how long a full module scan takes on a car of 30 modules
 * that each answer 20 ms late.
 *
 * Writes a vehicle family with 30 modules on 11-bit CAN ids, each with the
 * usual identification DIDs and the simulation marker, into a temporary
 * folder, loads it with schema validation, and scans the in-process
 * simulated car (sim:…?faults=delay=20) with ew_scan_run: all modules at
 * once, then one module after another (max_parallel 1) for comparison.
 * It prints each figure beside its target and exits 0 whatever they are.
 * Options: --bitrate BPS (the simulated bus's timing model; default off),
 * --runs N (parallel scans, default 3), --keep (leave the generated family
 * for a look).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>

#include "connect/connection.h"
#include "data-dir.h"
#include "scan/scan.h"
#include "vehicle/database.h"

#define FAMILY_ID       "bench-scan-30"
#define N_MODULES       30
#define DELAY_MS        20
#define TARGET_MS       1000
#define SERIAL_CLAIM_MS 2400

static const char * const kinds[] = {
  "gateway", "engine", "gearbox", "instrument-cluster", "body", "head-unit",
  "lighting", "parking", "seat", "camera", "chassis", "driver-assistance",
  "climate", "other",
};

/* The identification a scan reads: every role but "other". */
static const char identification[] =
  "        <did id=\"0xF190\" role=\"vin\" name=\"VIN\" length=\"17\"/>\n"
  "        <did id=\"0xF187\" role=\"part-number\" name=\"Spare part number\"/>\n"
  "        <did id=\"0xF189\" role=\"software-version\" name=\"Software version\"/>\n"
  "        <did id=\"0xF191\" role=\"hardware-version\" name=\"Hardware version\"/>\n"
  "        <did id=\"0xF18C\" role=\"serial-number\" name=\"Serial number\"/>\n"
  "        <did id=\"0xF18A\" role=\"supplier\" name=\"System supplier\"/>\n"
  "        <did id=\"0xF199\" role=\"programming-date\" name=\"Programming date\" length=\"3\" encoding=\"bcd\"/>\n"
  "        <did id=\"0xF186\" role=\"active-session\" name=\"Active session\" length=\"1\" encoding=\"hex\"/>\n"
  "        <did id=\"0xFD00\" role=\"simulation-marker\" name=\"Simulated module marker\"/>\n";

static char *
generate_family (void)
{
  GString *s = g_string_new (NULL);

  g_string_append (s,
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<family id=\"" FAMILY_ID "\" schema-version=\"1\" provenance=\"illustrative\">\n"
    "  <identification make=\"Generated\" model=\"Scan bench\" years-from=\"2015\" years-to=\"2020\">\n"
    "    <chassis code=\"S30\" body=\"saloon\"/>\n"
    "    <vin wmi=\"ZSB\" vds=\"^BENCH[0-9X]$\" chassis=\"S30\"/>\n"
    "  </identification>\n"
    "  <buses><bus id=\"diag\" name=\"Diagnostic CAN\" type=\"can\" bitrate=\"500000\"/></buses>\n"
    "  <modules>\n");
  for (guint m = 0; m < N_MODULES; m++)
    g_string_append_printf (s,
      "    <module id=\"m%02u\" name=\"Module %02u\" kind=\"%s\">\n"
      "      <addressing><can bus=\"diag\" request-id=\"0x%03X\" response-id=\"0x%03X\"/></addressing>\n"
      "      <identification>\n%s      </identification>\n"
      "    </module>\n",
      m, m, kinds[m % G_N_ELEMENTS (kinds)], 0x600 + m, 0x680 + m, identification);
  g_string_append (s,
    "  </modules>\n"
    "  <features>\n"
    "    <feature id=\"software-update\" class=\"programming\" category=\"bench\" labour-minutes=\"30\">\n"
    "      <name>Software update</name>\n"
    "      <description>New software for the first module.</description>\n"
    "      <programming module=\"m00\"/>\n"
    "    </feature>\n"
    "  </features>\n"
    "</family>\n");
  return g_string_free (s, FALSE);
}

/* Every module answered from its application and said it is simulated. */
static gboolean
check_result (EwScanResult *result, GError **error)
{
  for (guint i = 0; i < result->modules->len; i++)
    {
      EwScanModule *m = g_ptr_array_index (result->modules, i);

      if (m->state != EW_SCAN_MODULE_ANSWERED || !m->is_simulated || m->part_number == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "module %s: %s%s%s",
                       m->module->id, ew_scan_module_state_to_string (m->state),
                       m->error_message != NULL ? ": " : "",
                       m->error_message != NULL ? m->error_message : "");
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
timed_scan (EwConnection *connection, guint max_parallel, guint *ms, guint *slowest_ms, GError **error)
{
  g_autoptr(EwScanResult) result = NULL;
  gint64 start = g_get_monotonic_time ();

  result = ew_scan_run (connection, max_parallel, NULL, NULL, NULL, error);
  if (result == NULL)
    return FALSE;
  *ms = (guint) ((g_get_monotonic_time () - start) / 1000);
  *slowest_ms = 0;
  for (guint i = 0; i < result->modules->len; i++)
    *slowest_ms = MAX (*slowest_ms, ((EwScanModule *) g_ptr_array_index (result->modules, i))->duration_ms);
  return check_result (result, error);
}

static void
remove_tree (const char *root)
{
  g_autoptr(GDir) d = g_dir_open (root, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (root, name, NULL);

      g_remove (path);
    }
  g_rmdir (root);
}

int
main (int argc, char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EwVehicleDatabase) db = NULL;
  g_autoptr(EwConnection) connection = NULL;
  g_autofree char *root = NULL;
  g_autofree char *path = NULL;
  g_autofree char *xml = NULL;
  g_autofree char *uri = NULL;
  EwFamily *family;
  GPtrArray *errors;
  guint bitrate = 0, runs = 3, n_requests = 0;
  guint ms, slowest, best = G_MAXUINT, serial_ms, serial_slowest;
  gboolean keep = FALSE;

  for (int i = 1; i < argc; i++)
    {
      guint64 v;

      if (g_str_equal (argv[i], "--keep"))
        keep = TRUE;
      else if (g_str_equal (argv[i], "--bitrate") && i + 1 < argc
               && g_ascii_string_to_unsigned (argv[i + 1], 10, 10000, 1000000, &v, NULL))
        bitrate = (guint) v, i++;
      else if (g_str_equal (argv[i], "--runs") && i + 1 < argc
               && g_ascii_string_to_unsigned (argv[i + 1], 10, 1, 100, &v, NULL))
        runs = (guint) v, i++;
      else
        {
          g_printerr ("usage: %s [--bitrate BPS] [--runs N] [--keep]\n", argv[0]);
          return 2;
        }
    }

  /* Uninstalled, the schema is the source tree's. */
  if (g_getenv ("ECU_WORKSHOP_DATA_DIR") == NULL)
    g_setenv ("ECU_WORKSHOP_DATA_DIR", EW_SOURCE_DATADIR, TRUE);

  root = g_dir_make_tmp ("ew-bench-scan-XXXXXX", &error);
  if (root == NULL)
    g_error ("%s", error->message);
  path = g_build_filename (root, FAMILY_ID ".xml", NULL);
  xml = generate_family ();
  if (!g_file_set_contents (path, xml, -1, &error))
    g_error ("%s", error->message);

  db = ew_vehicle_database_new (NULL);
  ew_vehicle_database_add_dir (db, root);
  errors = ew_vehicle_database_get_errors (db);
  for (guint i = 0; i < errors->len; i++)
    g_printerr ("bench-scan: %s\n", ((GError *) g_ptr_array_index (errors, i))->message);
  family = ew_vehicle_database_find_family (db, FAMILY_ID);
  if (errors->len > 0 || family == NULL)
    {
      g_printerr ("bench-scan: the generated family did not load (kept in %s)\n", root);
      return 1;
    }
  for (guint i = 0; i < family->modules->len; i++)
    {
      const EwModule *module = g_ptr_array_index (family->modules, i);

      for (guint d = 0; d < module->identification->len; d++)
        if (((EwIdentificationDid *) g_ptr_array_index (module->identification, d))->role != EW_ID_ROLE_OTHER)
          n_requests++;
    }

  if (bitrate > 0)
    uri = g_strdup_printf ("sim:" FAMILY_ID "?faults=delay=%u&bitrate=%u", DELAY_MS, bitrate);
  else
    uri = g_strdup_printf ("sim:" FAMILY_ID "?faults=delay=%u", DELAY_MS);
  connection = ew_connection_open (uri, db, NULL, &error);
  if (connection == NULL)
    {
      g_printerr ("bench-scan: %s\n", error->message);
      return 1;
    }

  printf ("car:        %u modules on 11-bit CAN ids (generated, validated against the schema)\n",
          family->modules->len);
  printf ("link:       %s (every module answers %u ms late; bus %s)\n", uri, DELAY_MS,
          bitrate > 0 ? "with the timing model" : "without the timing model");
  printf ("scan:       %u identification requests, %u a module, one DID each\n",
          n_requests, n_requests / family->modules->len);
  for (guint r = 0; r < runs; r++)
    {
      if (!timed_scan (connection, 0, &ms, &slowest, &error))
        {
          g_printerr ("bench-scan: parallel scan: %s\n", error->message);
          return 1;
        }
      printf ("parallel:   run %u: %u ms (slowest module %u ms)\n", r + 1, ms, slowest);
      best = MIN (best, ms);
    }
  printf ("parallel:   best %u ms (target <= %u ms) %s; floor %u ms (%u requests a module x %u ms)\n",
          best, TARGET_MS, best <= TARGET_MS ? "met" : "MISSED",
          n_requests / family->modules->len * DELAY_MS, n_requests / family->modules->len, DELAY_MS);

  if (!timed_scan (connection, 1, &serial_ms, &serial_slowest, &error))
    {
      g_printerr ("bench-scan: serial scan: %s\n", error->message);
      return 1;
    }
  printf ("serial:     max_parallel 1: %u ms (floor %u ms = %u requests x %u ms; "
          "the issue's figure: at least %u ms)\n",
          serial_ms, n_requests * DELAY_MS, n_requests, DELAY_MS, SERIAL_CLAIM_MS);
  printf ("speed-up:   %.1fx\n", (double) serial_ms / best);

  if (keep)
    printf ("family kept in %s\n", root);
  else
    remove_tree (root);
  return 0;
}
