/* test-scan.c — the module scan against the simulated car: the shipped
 * scenarios give exactly their findings, in-process and over DoIP; modules
 * are read concurrently; progress, cancellation and failure are reported.
 */
#include <glib/gstdio.h>
#include <string.h>

#include "scan/scan.h"
#include "sim/sim-vehicle.h"
#include "vehicle/database.h"
#include "test-util.h"

static EwVehicleDatabase *db;

static EwScanResult *
scan (const char *uri, guint max_parallel, GError **error)
{
  g_autoptr(EwConnection) connection = ew_connection_open (uri, db, NULL, error);

  if (connection == NULL)
    return NULL;
  return ew_scan_run (connection, max_parallel, NULL, NULL, NULL, error);
}

static EwScanResult *
scan_ok (const char *uri)
{
  g_autoptr(GError) error = NULL;
  EwScanResult *result = scan (uri, 0, &error);

  g_assert_no_error (error);
  g_assert_nonnull (result);
  return result;
}

static const EwScanModule *
module_result (EwScanResult *result, const char *module_id)
{
  for (guint i = 0; i < result->modules->len; i++)
    {
      const EwScanModule *m = g_ptr_array_index (result->modules, i);

      if (g_str_equal (m->module->id, module_id))
        return m;
    }
  g_error ("no module %s in the scan", module_id);
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char *const *) a, *(char *const *) b);
}

/* The findings as "kind:module" strings, sorted, joined by spaces. */
static char *
findings_summary (EwScanResult *result)
{
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < result->findings->len; i++)
    {
      const EwScanFinding *f = g_ptr_array_index (result->findings, i);

      g_assert_nonnull (f->title);
      g_assert_nonnull (f->explanation);
      g_assert_cmpuint (strlen (f->explanation), >, 40);
      g_ptr_array_add (items, g_strdup_printf ("%s:%s", ew_finding_kind_to_string (f->kind),
                                              f->module->id));
    }
  g_ptr_array_sort (items, compare_strings);
  g_ptr_array_add (items, NULL);
  return g_strjoinv (" ", (GStrv) items->pdata);
}

static void
test_healthy (void)
{
  const char *families[] = { "bmw-f30", "mercedes-w205", "vw-golf-mk7" };

  for (guint f = 0; f < G_N_ELEMENTS (families); f++)
    {
      g_autofree char *uri = g_strdup_printf ("sim:%s?profile=healthy", families[f]);
      g_autoptr(EwScanResult) result = scan_ok (uri);

      g_assert_cmpuint (result->findings->len, ==, 0);
      g_assert_true (result->is_simulated);
      g_assert_nonnull (result->vin);
      g_assert_cmpuint (strlen (result->vin), ==, 17);
      for (guint i = 0; i < result->modules->len; i++)
        {
          const EwScanModule *m = g_ptr_array_index (result->modules, i);

          g_assert_cmpint (m->state, ==, EW_SCAN_MODULE_ANSWERED);
          g_assert_nonnull (m->part_number);
          g_assert_nonnull (m->software_version);
          g_assert_cmpstr (m->vin, ==, result->vin);
          g_assert_true (m->is_simulated);
        }
    }
}

/* A used cluster: VIN of another car, software below the family's level. */
static void
test_used_cluster (void)
{
  static const struct { const char *family; const char *cluster; } cases[] = {
    { "bmw-f30", "kombi" }, { "mercedes-w205", "ic" }, { "vw-golf-mk7", "cluster" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *uri = g_strdup_printf ("sim:%s?profile=used-cluster", cases[i].family);
      g_autoptr(EwScanResult) result = scan_ok (uri);
      g_autofree char *summary = findings_summary (result);
      g_autofree char *expected = g_strdup_printf ("software-behind:%s vin-mismatch:%s",
                                                   cases[i].cluster, cases[i].cluster);
      const EwScanModule *cluster = module_result (result, cases[i].cluster);

      g_test_message ("%s: %s", cases[i].family, summary);
      g_assert_cmpstr (summary, ==, expected);
      g_assert_cmpstr (cluster->vin, !=, result->vin);
      /* the car's VIN is the one the other modules agree on */
      g_assert_cmpstr (module_result (result, ((EwModule *) g_ptr_array_index (result->family->modules, 0))->id)->vin,
                       ==, result->vin);
    }
}

static void
test_body_module_bootloader (void)
{
  static const struct { const char *family; const char *body; } cases[] = {
    { "bmw-f30", "fem" }, { "mercedes-w205", "sam-front" }, { "vw-golf-mk7", "central-electrics" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *uri = g_strdup_printf ("sim:%s?profile=body-module-bootloader", cases[i].family);
      g_autoptr(EwScanResult) result = scan_ok (uri);
      g_autofree char *summary = findings_summary (result);
      g_autofree char *expected = g_strdup_printf ("bootloader:%s", cases[i].body);

      g_assert_cmpstr (summary, ==, expected);
      g_assert_cmpint (module_result (result, cases[i].body)->state, ==, EW_SCAN_MODULE_BOOTLOADER);
    }
}

/* An optional module that does not answer is "not fitted"; a module every
 * car has is "not answering". */
static void
test_absent_modules (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ew-scan-XXXXXX", NULL);
  g_autofree char *profile = g_build_filename (dir, "absent.ini", NULL);
  g_autofree char *uri = g_strdup_printf ("sim:bmw-f30?profile=%s", profile);
  g_autoptr(EwScanResult) result = NULL;
  g_autofree char *summary = NULL;

  g_assert_true (g_file_set_contents (profile,
                                      "[profile]\ndescription=Seat module missing, DSC dead\n"
                                      "[module:sm]\npresent=false\n"
                                      "[module:dsc]\npresent=false\n", -1, NULL));
  result = scan_ok (uri);
  summary = findings_summary (result);
  g_assert_cmpstr (summary, ==, "not-answering:dsc not-fitted:sm");
  g_assert_cmpint (module_result (result, "sm")->state, ==, EW_SCAN_MODULE_SILENT);
  ew_test_remove_tree (dir);
}

/* An engine unit from another car is not paired with this car's
 * immobiliser: the scan says so beside the VIN mismatch, for each
 * family; the healthy car's unit is paired. */
static void
test_immobiliser_unpaired (void)
{
  static const struct { const char *family; const char *unit; } cases[] = {
    { "bmw-f30", "dme" }, { "mercedes-w205", "engine" }, { "vw-golf-mk7", "engine" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *uri = g_strdup_printf ("sim:%s?profile=used-engine-unit", cases[i].family);
      g_autofree char *healthy_uri = g_strdup_printf ("sim:%s", cases[i].family);
      g_autoptr(EwScanResult) result = scan_ok (uri);
      g_autoptr(EwScanResult) healthy = scan_ok (healthy_uri);
      g_autofree char *summary = findings_summary (result);
      g_autofree char *unpaired = g_strdup_printf ("immobiliser-unpaired:%s", cases[i].unit);
      g_autofree char *mismatch = g_strdup_printf ("vin-mismatch:%s", cases[i].unit);
      g_autofree char *healthy_summary = findings_summary (healthy);

      g_test_message ("%s: %s", cases[i].family, summary);
      g_assert_nonnull (strstr (summary, unpaired));
      g_assert_nonnull (strstr (summary, mismatch));
      g_assert_cmpint (module_result (result, cases[i].unit)->immobiliser_status, ==, EW_IMMOBILISER_NOT_PAIRED);
      g_assert_cmpint (module_result (healthy, cases[i].unit)->immobiliser_status, ==, EW_IMMOBILISER_PAIRED);
      g_assert_null (strstr (healthy_summary, "immobiliser"));
    }
}

/* A module slower than its P2 time (busy, or answering a loaded tester)
 * is identified, not taken for absent. */
static void
test_slow_module (void)
{
  g_autoptr(EwScanResult) result = scan_ok ("sim:bmw-f30?faults=delay%3Dkombi:300");
  const EwScanModule *kombi = module_result (result, "kombi");

  g_assert_cmpint (kombi->state, ==, EW_SCAN_MODULE_ANSWERED);
  g_assert_nonnull (kombi->software_version);
  g_assert_nonnull (kombi->part_number);
  g_assert_cmpint (module_result (result, "dme")->state, ==, EW_SCAN_MODULE_ANSWERED);
}

/* With every module answering after 20 ms, the concurrent scan takes
 * about one module's time, one after another the sum of all. */
static void
test_concurrent (void)
{
  const char *uri = "sim:vw-golf-mk7?faults=delay%3D20";
  g_autoptr(GError) error = NULL;
  g_autoptr(EwScanResult) parallel = scan (uri, 0, &error);
  g_autoptr(EwScanResult) serial = NULL;

  g_assert_no_error (error);
  serial = scan (uri, 1, &error);
  g_assert_no_error (error);
  g_test_message ("%u modules: concurrent %u ms, one after another %u ms",
                  parallel->modules->len, parallel->duration_ms, serial->duration_ms);
  /* each module takes at least its identification requests × 20 ms */
  g_assert_cmpuint (serial->duration_ms, >=, parallel->modules->len * 20 * 4);
  g_assert_cmpuint (parallel->duration_ms * 4, <, serial->duration_ms);
}

typedef struct {
  guint n_started;
  guint n_finished;
  guint last_done;
  gboolean went_backwards;
  GCancellable *cancel_after_first;
} Progress;

static void
on_progress (const EwScanModule *module, guint n_done, guint n_total, gpointer user_data)
{
  Progress *p = user_data;

  if (module->state == EW_SCAN_MODULE_WAITING)
    p->n_started++;
  else
    p->n_finished++;
  if (n_done < p->last_done)
    p->went_backwards = TRUE;
  p->last_done = n_done;
  g_assert_cmpuint (n_done, <=, n_total);
  if (p->cancel_after_first != NULL && n_done >= 1)
    g_cancellable_cancel (p->cancel_after_first);
}

static void
test_progress (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EwConnection) connection = ew_connection_open ("sim:bmw-f30", db, NULL, &error);
  g_autoptr(EwScanResult) result = NULL;
  Progress p = { 0 };

  g_assert_no_error (error);
  result = ew_scan_run (connection, 3, on_progress, &p, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (p.n_started, ==, result->modules->len);
  g_assert_cmpuint (p.n_finished, ==, result->modules->len);
  g_assert_cmpuint (p.last_done, ==, result->modules->len);
  g_assert_false (p.went_backwards);
}

static void
test_cancel (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EwConnection) connection = ew_connection_open ("sim:bmw-f30?faults=delay%3D10", db,
                                                           NULL, &error);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(EwScanResult) result = NULL;
  Progress p = { .cancel_after_first = cancellable };

  g_assert_no_error (error);
  result = ew_scan_run (connection, 1, on_progress, &p, cancellable, &error);
  g_assert_null (result);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* A car that has gone from the link: a clear error, not an empty result. */
static void
test_nobody_answers (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EwScanResult) result = scan ("sim:vw-golf-mk7?faults=link-drop%3D1", 0, &error);

  g_assert_null (result);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_nonnull (strstr (error->message, "No module answered"));
}

/* The same scan over DoIP to the simulated car's entity. */
static void
test_over_doip (void)
{
  EwFamily *family = ew_vehicle_database_find_family (db, "mercedes-w205");
  g_autoptr(GError) error = NULL;
  g_autoptr(EwSimProfile) profile = ew_sim_profile_load (family, "used-cluster", &error);
  g_autoptr(EwSimVehicle) vehicle = NULL;
  g_autoptr(EwScanResult) result = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *summary = NULL;

  g_assert_no_error (error);
  vehicle = ew_sim_vehicle_new (family, profile, NULL);
  g_assert_true (ew_sim_vehicle_start_doip (vehicle, "127.0.0.1", 0, FALSE, &error));
  g_assert_no_error (error);
  uri = g_strdup_printf ("doip:127.0.0.1:%u", ew_sim_vehicle_get_doip_port (vehicle));
  result = scan_ok (uri);
  summary = findings_summary (result);
  g_assert_cmpstr (result->family->id, ==, "mercedes-w205");
  g_assert_cmpstr (result->vin, ==, ew_sim_vehicle_get_vin (vehicle));
  g_assert_cmpstr (summary, ==, "software-behind:ic vin-mismatch:ic");
  g_assert_true (result->is_simulated);
}

static void
test_version_compare (void)
{
  g_assert_cmpint (ew_software_version_compare ("17.07.50", "18.03.00"), <, 0);
  g_assert_cmpint (ew_software_version_compare ("18.03.00", "18.03.00"), ==, 0);
  g_assert_cmpint (ew_software_version_compare ("0612", "0245"), >, 0);
  g_assert_cmpint (ew_software_version_compare ("9.1", "10.0"), <, 0);
  g_assert_cmpint (ew_software_version_compare ("18.03", "18.03.01"), <, 0);
  g_assert_cmpint (ew_software_version_compare ("A12", "A9"), >, 0);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);

  db = ew_vehicle_database_new (NULL);
  ew_vehicle_database_add_default_dirs (db, NULL);

  g_test_add_func ("/scan/healthy", test_healthy);
  g_test_add_func ("/scan/used-cluster", test_used_cluster);
  g_test_add_func ("/scan/body-module-bootloader", test_body_module_bootloader);
  g_test_add_func ("/scan/absent-modules", test_absent_modules);
  g_test_add_func ("/scan/slow-module", test_slow_module);
  g_test_add_func ("/scan/immobiliser-unpaired", test_immobiliser_unpaired);
  g_test_add_func ("/scan/concurrent", test_concurrent);
  g_test_add_func ("/scan/progress", test_progress);
  g_test_add_func ("/scan/cancel", test_cancel);
  g_test_add_func ("/scan/nobody-answers", test_nobody_answers);
  g_test_add_func ("/scan/over-doip", test_over_doip);
  g_test_add_func ("/scan/version-compare", test_version_compare);

  status = g_test_run ();
  ew_vehicle_database_free (db);
  return status;
}
