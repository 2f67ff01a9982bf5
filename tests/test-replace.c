/* test-replace.c — fitting a used instrument cluster or a body module to
 * the simulated car of every shipped family: programmed to the
 * container's software, linked to the car's VIN, given the car's highest
 * mileage (never lowering a store), coded; refused when the used cluster
 * shows more than the car; rolled back on a fault during the VIN write.
 * The ECU swap: a used engine control unit programmed, linked, coded and
 * paired with the family's immobiliser master; refused unconfirmed; a
 * failed pairing restores the VIN and coding.
 */
#include <glib/gstdio.h>
#include <string.h>

#include "coding/coding-plan.h"
#include "flash/replace.h"
#include "uds/toy-seedkey.h"
#include "uds/uds-client.h"
#include "sim/sim-ecu.h"
#include "sim/sim-vehicle.h"
#include "vehicle/database.h"
#include "test-car.h"
#include "test-util.h"

static EwVehicleDatabase *db;
static char *tmp_dir;
static char *low_profile;          /* used cluster with fewer km than the car */
static char *high_profile;         /* used cluster with more km than the car */

/* The mileage the profile gives the car's highest store, and the used
 * cluster's; the car's other stores keep the simulator's 42000. */
#define CAR_KM     43210u
#define CLUSTER_KM 12000u
#define OTHER_KM   42000u

typedef struct {
  const char *family;
  const char *cluster;
  const char *highest;             /* the module whose store holds CAR_KM */
} ClusterCase;

static const ClusterCase cluster_cases[] = {
  { "bmw-f30",       "kombi",   "fem" },
  { "mercedes-w205", "ic",      "engine" },
  { "vw-golf-mk7",   "cluster", "engine" },
};

static guint
n_findings_for (const EwScanResult *scan, const char *module_id)
{
  guint n = 0;

  for (guint i = 0; i < scan->findings->len; i++)
    {
      const EwScanFinding *f = g_ptr_array_index (scan->findings, i);

      if (g_strcmp0 (f->module->id, module_id) == 0)
        n++;
    }
  return n;
}

static const EwScanModule *
scanned (const EwScanResult *scan, const char *module_id)
{
  for (guint i = 0; i < scan->modules->len; i++)
    {
      const EwScanModule *m = g_ptr_array_index (scan->modules, i);

      if (g_str_equal (m->module->id, module_id))
        return m;
    }
  g_assert_not_reached ();
}

typedef struct {
  guint16 did;
  guint32 km;
  GBytes *bytes;
} SimRead;

static void
sim_read_cb (EwSimEcu *ecu, gpointer user_data)
{
  SimRead *r = user_data;

  r->km = ew_sim_ecu_get_mileage_km (ecu, r->did);
  r->bytes = ew_sim_ecu_read_did (ecu, r->did);
}

static guint32
sim_km (EwConnection *connection, const char *module_id, guint16 did)
{
  SimRead r = { did, 0, NULL };

  ew_sim_vehicle_with_ecu (ew_connection_get_sim_vehicle (connection), module_id, sim_read_cb, &r);
  g_clear_pointer (&r.bytes, g_bytes_unref);
  return r.km;
}

static char *
sim_text (EwConnection *connection, const char *module_id, guint16 did)
{
  SimRead r = { did, 0, NULL };
  char *text;

  ew_sim_vehicle_with_ecu (ew_connection_get_sim_vehicle (connection), module_id, sim_read_cb, &r);
  g_assert_nonnull (r.bytes);
  text = g_strndup (g_bytes_get_data (r.bytes, NULL), g_bytes_get_size (r.bytes));
  g_bytes_unref (r.bytes);
  return text;
}

/* Every mileage store of the car, as the simulated modules hold them. */
/* The bytes the simulated module answers for did (transfer full), or NULL. */
static GBytes *
sim_bytes (EwConnection *connection, const char *module_id, guint16 did)
{
  SimRead r = { did, 0, NULL };

  ew_sim_vehicle_with_ecu (ew_connection_get_sim_vehicle (connection), module_id, sim_read_cb, &r);
  return r.bytes;
}

typedef struct {
  guint n_dtcs;
} SimDtcs;

static void
sim_dtcs_cb (EwSimEcu *ecu, gpointer user_data)
{
  ((SimDtcs *) user_data)->n_dtcs = ew_sim_ecu_get_n_dtcs (ecu);
}

static guint
sim_n_dtcs (EwConnection *connection, const char *module_id)
{
  SimDtcs d = { 0 };

  ew_sim_vehicle_with_ecu (ew_connection_get_sim_vehicle (connection), module_id, sim_dtcs_cb, &d);
  return d.n_dtcs;
}

static GHashTable *
all_stores (EwConnection *connection)
{
  EwFamily *family = ew_connection_get_family (connection);
  GHashTable *km = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; i < family->modules->len; i++)
    {
      const EwModule *m = g_ptr_array_index (family->modules, i);

      for (guint j = 0; j < m->mileage->len; j++)
        {
          const EwMileageStore *s = g_ptr_array_index (m->mileage, j);

          g_hash_table_insert (km, g_strdup_printf ("%s/0x%04X", m->id, s->did),
                               GUINT_TO_POINTER (sim_km (connection, m->id, s->did)));
        }
    }
  return km;
}

static char *
sample_version (const char *family_id, const char *module_id)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_build_filename (g_getenv ("ECU_WORKSHOP_DATA_DIR"), "flash", NULL);
  static const char *const ext[] = { "hex", "srec", "xml" };

  for (gsize i = 0; i < G_N_ELEMENTS (ext); i++)
    {
      g_autofree char *name = g_strdup_printf ("%s-%s.%s", family_id, module_id, ext[i]);
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autoptr(EwFlashContainer) c = NULL;

      if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
        continue;
      c = ew_flash_container_load (path, NULL, &error);
      g_assert_no_error (error);
      return g_strdup (ew_flash_container_get_software_version (c));
    }
  g_assert_not_reached ();
}

typedef struct {
  double last;
  guint  n_calls;
  gboolean went_back;
} Progress;

static void
on_progress (const char *step, double fraction, const char *detail, gpointer user_data)
{
  Progress *p = user_data;

  (void) step;
  (void) detail;
  if (fraction < p->last)
    p->went_back = TRUE;
  p->last = fraction;
  p->n_calls++;
}

static gboolean
journal_has (EwJobStore *store, gint64 job_id, const char *step, const char *outcome)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) entries = ew_job_store_get_journal (store, job_id, &error);

  g_assert_no_error (error);
  for (guint i = 0; i < entries->len; i++)
    {
      const EwJournalEntry *e = g_ptr_array_index (entries, i);

      if (g_str_equal (e->step, step) && g_str_equal (e->outcome, outcome))
        return TRUE;
    }
  return FALSE;
}

/* The detail of the first entry of step with outcome (transfer full), or NULL. */
static char *
journal_detail (EwJobStore *store, gint64 job_id, const char *step, const char *outcome)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) entries = ew_job_store_get_journal (store, job_id, &error);

  g_assert_no_error (error);
  for (guint i = 0; i < entries->len; i++)
    {
      const EwJournalEntry *e = g_ptr_array_index (entries, i);

      if (g_str_equal (e->step, step) && g_str_equal (e->outcome, outcome))
        return g_strdup (e->detail);
    }
  return NULL;
}

static EwJobState
job_state (EwJobStore *store, gint64 job_id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EwJobRecord) record = ew_job_store_get_job (store, job_id, &error);

  g_assert_no_error (error);
  return record->state;
}

static void
test_used_cluster (gconstpointer data)
{
  const ClusterCase *c = data;
  g_autofree char *uri = g_strdup_printf ("sim:%s?profile=%s", c->family, low_profile);
  g_autoptr(EwConnection) connection = ew_test_open_car (db, uri);
  g_autoptr(EwJobStore) store = ew_test_open_store (tmp_dir);
  g_autoptr(EwScanResult) before = ew_test_scan_car (connection);
  g_autoptr(EwScanResult) after = NULL;
  g_autoptr(GHashTable) km_before = all_stores (connection);
  g_autoptr(GHashTable) km_after = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *version = sample_version (c->family, c->cluster);
  const EwModule *module = ew_family_find_module (ew_connection_get_family (connection), c->cluster);
  EwReplaceJobs jobs;
  Progress progress = { 0 };
  GHashTableIter iter;
  gpointer key, value;
  gint64 job_id;
  guint n_writable = 0;

  /* the scenario holds: another car's VIN, old software, fewer km */
  g_assert_cmpuint (n_findings_for (before, c->cluster), >=, 2);
  g_assert_cmpstr (scanned (before, c->cluster)->vin, !=, before->vin);

  job_id = ew_replace_module (connection, store, c->cluster, NULL, NULL, on_progress, &progress,
                              &jobs, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (job_id, >, 0);
  g_assert_cmpint (jobs.job_id, ==, job_id);
  g_assert_cmpint (jobs.flash_job_id, >, 0);
  g_assert_cmpint (jobs.coding_job_id, >, 0);
  g_assert_cmpint (job_state (store, job_id), ==, EW_JOB_STATE_DONE);
  g_assert_cmpint (job_state (store, jobs.coding_job_id), ==, EW_JOB_STATE_DONE);
  g_assert_true (journal_has (store, job_id, "mileage", "ok"));
  g_assert_true (journal_has (store, job_id, "verify", "ok"));
  g_assert_false (progress.went_back);
  g_assert_cmpfloat (progress.last, ==, 1.0);

  after = ew_test_scan_car (connection);
  g_assert_cmpuint (n_findings_for (after, c->cluster), ==, 0);
  g_assert_cmpstr (scanned (after, c->cluster)->software_version, ==, version);
  g_assert_cmpstr (scanned (after, c->cluster)->vin, ==, before->vin);
  for (guint i = 0; i < module->mileage->len; i++)
    {
      const EwMileageStore *s = g_ptr_array_index (module->mileage, i);

      if (!s->is_writable)
        continue;
      n_writable++;
      g_assert_cmpuint (sim_km (connection, c->cluster, s->did), ==, CAR_KM);
    }
  g_assert_cmpuint (n_writable, >, 0);

  /* no store anywhere went down */
  km_after = all_stores (connection);
  g_hash_table_iter_init (&iter, km_before);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (km_after, key)), >=,
                      GPOINTER_TO_UINT (value));
}

static void
test_more_km_refused (gconstpointer data)
{
  const ClusterCase *c = data;
  /* the used cluster shows 131072 km, the car 42000 */
  g_autofree char *uri = g_strdup_printf ("sim:%s?profile=%s", c->family, high_profile);
  g_autoptr(EwConnection) connection = ew_test_open_car (db, uri);
  g_autoptr(EwJobStore) store = ew_test_open_store (tmp_dir);
  g_autoptr(EwScanResult) before = ew_test_scan_car (connection);
  g_autoptr(EwScanResult) after = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *vin_before = NULL;
  g_autofree char *vin_after = NULL;
  guint32 km_before = sim_km (connection, c->cluster, 0);
  guint n_requests;
  gint64 job_id;
  EwReplaceJobs jobs;

  g_assert_cmpuint (km_before, >, OTHER_KM);
  vin_before = g_strdup (scanned (before, c->cluster)->vin);
  n_requests = ew_sim_vehicle_get_n_requests (ew_connection_get_sim_vehicle (connection));
  job_id = ew_replace_module (connection, store, c->cluster, NULL, NULL, NULL, NULL, &jobs, NULL,
                              &error);
  g_assert_error (error, EW_REPLACE_ERROR, EW_REPLACE_ERROR_MILEAGE_HIGHER);
  g_assert_nonnull (strstr (error->message, "lowered"));
  g_assert_cmpint (job_id, ==, 0);
  g_assert_cmpint (jobs.job_id, >, 0);
  g_assert_cmpint (jobs.flash_job_id, ==, 0);
  g_assert_cmpint (jobs.coding_job_id, ==, 0);
  g_assert_true (journal_has (store, jobs.job_id, "mileage-transfer", "refused"));
  g_assert_cmpint (job_state (store, jobs.job_id), ==, EW_JOB_STATE_ROLLED_BACK);
  g_assert_cmpuint (ew_sim_vehicle_get_n_requests (ew_connection_get_sim_vehicle (connection)), >,
                    n_requests);

  /* nothing written: same software, same VIN, same mileage */
  after = ew_test_scan_car (connection);
  g_assert_cmpstr (scanned (after, c->cluster)->software_version, ==,
                   scanned (before, c->cluster)->software_version);
  vin_after = g_strdup (scanned (after, c->cluster)->vin);
  g_assert_cmpstr (vin_after, ==, vin_before);
  g_assert_cmpuint (sim_km (connection, c->cluster, 0), ==, km_before);
}

/* A weak battery refuses the replacement before its first write, the
 * programming and the VIN link alike; the job says why. */
static void
test_weak_battery_refused (void)
{
  g_autoptr(EwConnection) connection = ew_test_open_car (db, "sim:vw-golf-mk7?profile=weak-battery");
  g_autoptr(EwJobStore) store = ew_test_open_store (tmp_dir);
  g_autoptr(EwScanResult) before = ew_test_scan_car (connection);
  g_autoptr(EwScanResult) after = NULL;
  g_autoptr(EwReplacePlan) plan = NULL;
  g_autoptr(GError) error = NULL;
  guint32 km_before = sim_km (connection, "cluster", 0);
  gint64 job_id;
  EwReplaceJobs jobs;

  plan = ew_replace_plan_new (connection, "cluster", NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (plan->supply_voltage_mv, ==, 11800);
  g_assert_cmpint (plan->refusal_code, ==, EW_REPLACE_ERROR_SUPPLY_VOLTAGE);
  g_assert_nonnull (strstr (plan->refusal, "11.8 V"));

  job_id = ew_replace_module (connection, store, "cluster", NULL, NULL, NULL, NULL, &jobs, NULL,
                              &error);
  g_assert_error (error, EW_REPLACE_ERROR, EW_REPLACE_ERROR_SUPPLY_VOLTAGE);
  g_assert_cmpint (job_id, ==, 0);
  g_assert_cmpint (jobs.flash_job_id, ==, 0);
  g_assert_cmpint (jobs.coding_job_id, ==, 0);
  g_assert_true (journal_has (store, jobs.job_id, "battery", "refused"));
  g_assert_cmpint (job_state (store, jobs.job_id), ==, EW_JOB_STATE_ROLLED_BACK);

  after = ew_test_scan_car (connection);
  g_assert_cmpstr (scanned (after, "cluster")->software_version, ==,
                   scanned (before, "cluster")->software_version);
  g_assert_cmpstr (scanned (after, "cluster")->vin, ==, scanned (before, "cluster")->vin);
  g_assert_cmpuint (sim_km (connection, "cluster", 0), ==, km_before);
}

static void
test_body_module_bootloader (void)
{
  g_autoptr(EwConnection) connection = ew_test_open_car (db, "sim:bmw-f30?profile=body-module-bootloader");
  g_autoptr(EwJobStore) store = ew_test_open_store (tmp_dir);
  g_autoptr(EwScanResult) before = ew_test_scan_car (connection);
  g_autoptr(EwScanResult) after = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *version = sample_version ("bmw-f30", "fem");
  g_autofree char *vin = NULL;
  EwReplaceJobs jobs;
  gint64 job_id;

  g_assert_cmpint (scanned (before, "fem")->state, ==, EW_SCAN_MODULE_BOOTLOADER);
  job_id = ew_replace_module (connection, store, "fem", NULL, NULL, NULL, NULL, &jobs, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (job_id, >, 0);
  g_assert_cmpint (jobs.flash_job_id, >, 0);
  after = ew_test_scan_car (connection);
  g_assert_cmpint (scanned (after, "fem")->state, ==, EW_SCAN_MODULE_ANSWERED);
  g_assert_cmpuint (n_findings_for (after, "fem"), ==, 0);
  g_assert_cmpstr (scanned (after, "fem")->software_version, ==, version);
  vin = sim_text (connection, "fem", 0xF190);
  g_assert_cmpstr (vin, ==, after->vin);
  /* the FEM's mileage copy is not the module's to write: untouched */
  g_assert_cmpuint (sim_km (connection, "fem", 0x1000), ==, OTHER_KM);
}

static void
test_vin_fault_rolls_back (void)
{
  /* the first WriteDataByIdentifier to the KOMBI is the flash fingerprint,
   * the second the VIN */
  g_autofree char *uri = g_strdup_printf ("sim:bmw-f30?profile=%s&faults=nrc=kombi:0x2E:0x72@2",
                                          low_profile);
  g_autoptr(EwConnection) connection = ew_test_open_car (db, uri);
  g_autoptr(EwJobStore) store = ew_test_open_store (tmp_dir);
  g_autoptr(EwScanResult) before = ew_test_scan_car (connection);
  g_autoptr(EwScanResult) after = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *vin_before = g_strdup (scanned (before, "kombi")->vin);
  g_autofree char *vin_after = NULL;
  EwReplaceJobs jobs;
  gint64 job_id;

  job_id = ew_replace_module (connection, store, "kombi", NULL, NULL, NULL, NULL, &jobs, NULL, &error);
  g_assert_error (error, EW_CODING_ERROR, EW_CODING_ERROR_ROLLED_BACK);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "0xF190"));
  g_assert_cmpint (job_id, ==, 0);
  g_assert_cmpint (jobs.flash_job_id, >, 0);
  g_assert_cmpint (jobs.coding_job_id, >, 0);
  g_assert_cmpint (job_state (store, jobs.coding_job_id), ==, EW_JOB_STATE_ROLLED_BACK);
  g_assert_true (journal_has (store, jobs.job_id, "coding", "failed"));
  g_assert_false (journal_has (store, jobs.job_id, "verify", "ok"));

  after = ew_test_scan_car (connection);
  vin_after = g_strdup (scanned (after, "kombi")->vin);
  g_assert_cmpstr (vin_after, ==, vin_before);
  g_assert_cmpuint (sim_km (connection, "kombi", 0x1000), ==, CLUSTER_KM);
}

static void
test_dry_plan (void)
{
  g_autofree char *uri = g_strdup_printf ("sim:vw-golf-mk7?profile=%s", low_profile);
  g_autoptr(EwConnection) connection = ew_test_open_car (db, uri);
  g_autoptr(GError) error = NULL;
  g_autoptr(EwReplacePlan) plan = NULL;
  guint n_requests;
  gboolean saw_engine = FALSE;

  plan = ew_replace_plan_new (connection, "cluster", NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (plan->refusal);
  g_assert_nonnull (plan->job_template);
  g_assert_cmpuint (plan->mileage_km, ==, CAR_KM);
  g_assert_true (plan->needs_programming);
  g_assert_cmpuint (plan->steps->len, ==, plan->job_template->operations->len);
  for (guint i = 0; i < plan->car_readings->len; i++)
    {
      const EwMileageReading *r = g_ptr_array_index (plan->car_readings, i);

      g_assert_true (r->is_credible);
      if (g_str_equal (r->module->id, "engine"))
        {
          saw_engine = TRUE;
          g_assert_cmpuint (r->km, ==, CAR_KM);
        }
      else
        g_assert_cmpuint (r->km, ==, OTHER_KM);
    }
  g_assert_true (saw_engine);
  g_assert_nonnull (strstr (plan->mileage_choice, "43210"));

  /* planning wrote nothing */
  n_requests = ew_sim_vehicle_get_n_requests (ew_connection_get_sim_vehicle (connection));
  g_assert_cmpuint (n_requests, >, 0);
  g_assert_cmpuint (sim_km (connection, "cluster", 0), ==, CLUSTER_KM);

  g_clear_pointer (&plan, ew_replace_plan_free);
  plan = ew_replace_plan_new (connection, "no-such-module", NULL, NULL, NULL, &error);
  g_assert_error (error, EW_REPLACE_ERROR, EW_REPLACE_ERROR_NOT_REPLACEABLE);
  g_assert_null (plan);
}

static void
test_mileage_encoding (void)
{
  EwMileageStore km3 = { 0x1000, NULL, 3, FALSE, 1, TRUE };
  EwMileageStore miles = { 0x1000, NULL, 4, TRUE, 10, TRUE };
  g_autoptr(GBytes) a = ew_mileage_store_encode_km (&km3, 43210);
  g_autoptr(GBytes) b = ew_mileage_store_encode_km (&miles, 43210);
  const guint8 *d = g_bytes_get_data (a, NULL);

  g_assert_cmpuint (g_bytes_get_size (a), ==, 3);
  g_assert_cmpuint (d[0] << 16 | d[1] << 8 | d[2], ==, 43210);
  g_assert_cmpuint (ew_mileage_store_decode_km (&km3, a), ==, 43210);
  /* writing rounds up: what reads back is never below what was asked */
  g_assert_cmpuint (ew_mileage_store_decode_km (&miles, b), >=, 43210);
  g_assert_cmpuint (ew_mileage_store_decode_km (&miles, b), <, 43210 + 17);
}

/* ECU swap ------------------------------------------------------------------ */

typedef struct {
  const char *family;
  const char *engine;
  const char *master;
} SwapCase;

static const SwapCase swap_cases[] = {
  { "bmw-f30",       "dme",    "fem" },
  { "mercedes-w205", "engine", "eis" },
  { "vw-golf-mk7",   "engine", "cluster" },
};

/* The master's serial number record, as the simulated master answers it. */
static GBytes *
master_serial (EwConnection *connection, const char *master_id)
{
  const EwModule *master = ew_family_find_module (ew_connection_get_family (connection), master_id);

  for (guint i = 0; i < master->identification->len; i++)
    {
      const EwIdentificationDid *id = g_ptr_array_index (master->identification, i);

      if (id->role == EW_ID_ROLE_SERIAL_NUMBER)
        return sim_bytes (connection, master_id, id->did);
    }
  g_assert_not_reached ();
}

static void
assert_paired (EwConnection *connection, const SwapCase *c, gboolean is_paired)
{
  const EwModule *module = ew_family_find_module (ew_connection_get_family (connection), c->engine);
  g_autoptr(GBytes) status = sim_bytes (connection, c->engine, module->immobiliser->status_did);
  g_autoptr(GBytes) serial = master_serial (connection, c->master);
  const guint8 *data;
  gsize n;

  g_assert_nonnull (status);
  data = g_bytes_get_data (status, &n);
  g_assert_cmpuint (n, >=, 1);
  if (!is_paired)
    {
      g_assert_cmpuint (data[0], ==, EW_IMMOBILISER_NOT_PAIRED);
      return;
    }
  g_assert_cmpuint (data[0], ==, EW_IMMOBILISER_PAIRED);
  g_assert_cmpmem (data + 1, n - 1, g_bytes_get_data (serial, NULL), g_bytes_get_size (serial));
}

/* Every coding DID of the module, as the simulated module holds it. */
static GPtrArray *
sim_coding (EwConnection *connection, const EwModule *module)
{
  GPtrArray *all = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);

  for (guint i = 0; i < module->coding->len; i++)
    g_ptr_array_add (all, sim_bytes (connection, module->id,
                                     ((EwCodingDid *) g_ptr_array_index (module->coding, i))->did));
  return all;
}

static void
test_ecu_swap (gconstpointer data)
{
  const SwapCase *c = data;
  g_autofree char *uri = g_strdup_printf ("sim:%s?profile=used-engine-unit", c->family);
  g_autoptr(EwConnection) connection = ew_test_open_car (db, uri);
  g_autoptr(EwJobStore) store = ew_test_open_store (tmp_dir);
  g_autoptr(EwScanResult) before = ew_test_scan_car (connection);
  g_autoptr(EwScanResult) after = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) serial = master_serial (connection, c->master);
  g_autofree char *version = sample_version (c->family, c->engine);
  g_autofree char *vin = NULL;
  g_autofree char *serial_text = g_strndup (g_bytes_get_data (serial, NULL), g_bytes_get_size (serial));
  g_autofree char *confirmed = NULL;
  g_autofree char *paired = NULL;
  const EwModule *module = ew_family_find_module (ew_connection_get_family (connection), c->engine);
  EwReplaceOptions options = { 0 };
  EwReplaceJobs jobs;
  Progress progress = { 0 };
  gint64 job_id;

  /* the scenario holds: another car's VIN, older software, not paired */
  g_assert_nonnull (module->immobiliser);
  g_assert_cmpstr (module->immobiliser->master, ==, c->master);
  g_assert_cmpstr (scanned (before, c->engine)->vin, !=, before->vin);
  g_assert_cmpuint (n_findings_for (before, c->engine), >=, 2);
  g_assert_cmpint (scanned (before, c->engine)->immobiliser_status, ==, EW_IMMOBILISER_NOT_PAIRED);
  g_assert_cmpstr (scanned (before, c->engine)->software_version, !=, version);
  g_assert_cmpuint (sim_n_dtcs (connection, c->engine), >, 0);
  assert_paired (connection, c, FALSE);

  options.confirm_immobiliser = TRUE;
  job_id = ew_replace_module (connection, store, c->engine, NULL, &options, on_progress, &progress,
                              &jobs, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (job_id, >, 0);
  g_assert_cmpint (jobs.flash_job_id, >, 0);
  g_assert_cmpint (jobs.coding_job_id, >, 0);
  g_assert_cmpint (jobs.restore_job_id, ==, 0);
  g_assert_cmpint (job_state (store, job_id), ==, EW_JOB_STATE_DONE);
  g_assert_false (progress.went_back);
  g_assert_cmpfloat (progress.last, ==, 1.0);

  /* the car's software, VIN and coding; paired with this car's master */
  after = ew_test_scan_car (connection);
  /* no VIN mismatch, and the scan finds it paired too */
  g_assert_cmpuint (n_findings_for (after, c->engine), ==, 0);
  g_assert_cmpint (scanned (after, c->engine)->immobiliser_status, ==, EW_IMMOBILISER_PAIRED);
  g_assert_cmpstr (scanned (after, c->engine)->software_version, ==, version);
  vin = sim_text (connection, c->engine, 0xF190);
  g_assert_cmpstr (vin, ==, before->vin);
  for (guint i = 0; i < module->coding->len; i++)
    {
      const EwCodingDid *did = g_ptr_array_index (module->coding, i);
      g_autoptr(GBytes) now = sim_bytes (connection, c->engine, did->did);

      g_assert_nonnull (did->default_bytes);
      g_assert_true (g_bytes_equal (now, did->default_bytes));
    }
  assert_paired (connection, c, TRUE);
  g_assert_cmpuint (sim_n_dtcs (connection, c->engine), ==, 0);

  /* the journal: confirmed, then paired, naming what went with what */
  confirmed = journal_detail (store, job_id, "immobiliser-pairing", "confirmed");
  g_assert_nonnull (confirmed);
  paired = journal_detail (store, job_id, "immobiliser-pairing", "ok");
  g_assert_nonnull (paired);
  g_test_message ("%s", paired);
  g_assert_nonnull (strstr (paired, c->engine));
  g_assert_nonnull (strstr (paired, c->master));
  g_assert_nonnull (strstr (paired, g_strstrip (serial_text)));
  g_assert_true (journal_has (store, job_id, "immobiliser-pairing", "started"));
  g_assert_true (journal_has (store, job_id, "verify", "ok"));
}

static void
test_ecu_swap_unconfirmed (void)
{
  const SwapCase *c = &swap_cases[0];
  g_autoptr(EwConnection) connection = ew_test_open_car (db, "sim:bmw-f30?profile=used-engine-unit");
  g_autoptr(EwJobStore) store = ew_test_open_store (tmp_dir);
  g_autoptr(EwReplacePlan) plan = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) coding_before = NULL;
  g_autoptr(GPtrArray) coding_after = NULL;
  g_autofree char *vin_before = sim_text (connection, c->engine, 0xF190);
  g_autofree char *vin_after = NULL;
  g_autofree char *software_before = sim_text (connection, c->engine, 0xF189);
  g_autofree char *software_after = NULL;
  const EwModule *module = ew_family_find_module (ew_connection_get_family (connection), c->engine);
  const EwReplaceStep *pairing = NULL;
  EwReplaceJobs jobs;
  gint64 job_id;

  coding_before = sim_coding (connection, module);

  /* the dry run lists the pairing and says it waits for a yes */
  plan = ew_replace_plan_new (connection, c->engine, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (plan->refusal);
  g_assert_true (plan->needs_confirmation);
  g_assert_false (plan->is_paired);
  g_assert_true (plan->immobiliser_master == ew_family_find_module (plan->family, c->master));
  for (guint i = 0; i < plan->steps->len; i++)
    {
      const EwReplaceStep *s = g_ptr_array_index (plan->steps, i);

      if (g_str_equal (s->kind, "immobiliser-pairing"))
        pairing = s;
    }
  g_assert_nonnull (pairing);
  g_assert_false (pairing->is_skipped);
  g_assert_nonnull (strstr (pairing->detail, "confirmation"));

  job_id = ew_replace_module (connection, store, c->engine, NULL, NULL, NULL, NULL, &jobs, NULL,
                              &error);
  g_assert_error (error, EW_REPLACE_ERROR, EW_REPLACE_ERROR_NOT_CONFIRMED);
  g_assert_nonnull (strstr (error->message, "confirmed"));
  g_assert_cmpint (job_id, ==, 0);
  g_assert_cmpint (jobs.job_id, >, 0);
  g_assert_cmpint (jobs.flash_job_id, ==, 0);
  g_assert_cmpint (jobs.coding_job_id, ==, 0);
  g_assert_true (journal_has (store, jobs.job_id, "immobiliser-pairing", "refused"));
  g_assert_false (journal_has (store, jobs.job_id, "program", "started"));
  g_assert_cmpint (job_state (store, jobs.job_id), ==, EW_JOB_STATE_ROLLED_BACK);

  /* nothing written: same software, VIN, coding, still not paired */
  software_after = sim_text (connection, c->engine, 0xF189);
  g_assert_cmpstr (software_after, ==, software_before);
  vin_after = sim_text (connection, c->engine, 0xF190);
  g_assert_cmpstr (vin_after, ==, vin_before);
  coding_after = sim_coding (connection, module);
  for (guint i = 0; i < coding_before->len; i++)
    g_assert_true (g_bytes_equal (g_ptr_array_index (coding_before, i),
                                  g_ptr_array_index (coding_after, i)));
  assert_paired (connection, c, FALSE);
}

static void
test_ecu_swap_pairing_fault (void)
{
  const SwapCase *c = &swap_cases[0];
  g_autoptr(GError) error = NULL;
  g_autofree char *version = sample_version (c->family, c->engine);
  g_autofree char *profile = g_build_filename (tmp_dir, "used-engine-same-software.ini", NULL);
  g_autofree char *text = NULL;
  g_autofree char *uri = NULL;
  g_autoptr(EwConnection) connection = NULL;
  g_autoptr(EwJobStore) store = ew_test_open_store (tmp_dir);
  g_autoptr(GPtrArray) coding_before = NULL;
  g_autoptr(GPtrArray) coding_after = NULL;
  g_autofree char *vin_before = NULL;
  g_autofree char *vin_after = NULL;
  g_autofree char *failed = NULL;
  const EwModule *module;
  EwReplaceOptions options = { 0 };
  EwReplaceJobs jobs;
  gint64 job_id;

  /* the unit already runs the car's software, so the pairing is the
   * only RoutineControl the job sends it: the fault hits the pairing */
  text = g_strdup_printf ("[profile]\n"
                          "description=Used engine unit on the car's software level\n"
                          "[module:%s]\n"
                          "vin=@other-car\n"
                          "software-version=%s\n"
                          "coded=false\n", c->engine, version);
  g_file_set_contents (profile, text, -1, &error);
  g_assert_no_error (error);
  uri = g_strdup_printf ("sim:%s?profile=%s&faults=nrc=%s:0x31:0x22@1", c->family, profile, c->engine);
  connection = ew_test_open_car (db, uri);
  module = ew_family_find_module (ew_connection_get_family (connection), c->engine);
  vin_before = sim_text (connection, c->engine, 0xF190);
  coding_before = sim_coding (connection, module);

  options.confirm_immobiliser = TRUE;
  job_id = ew_replace_module (connection, store, c->engine, NULL, &options, NULL, NULL, &jobs, NULL,
                              &error);
  g_assert_error (error, EW_REPLACE_ERROR, EW_REPLACE_ERROR_IMMOBILISER);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "0x0A10"));
  g_assert_nonnull (strstr (error->message, "restored"));
  g_assert_cmpint (job_id, ==, 0);
  g_assert_cmpint (jobs.flash_job_id, ==, 0);
  g_assert_cmpint (jobs.coding_job_id, >, 0);
  g_assert_cmpint (jobs.restore_job_id, >, 0);
  g_assert_cmpint (job_state (store, jobs.coding_job_id), ==, EW_JOB_STATE_RESTORED);
  g_assert_cmpint (job_state (store, jobs.job_id), ==, EW_JOB_STATE_ROLLED_BACK);
  failed = journal_detail (store, jobs.job_id, "immobiliser-pairing", "failed");
  g_assert_nonnull (failed);
  g_assert_nonnull (strstr (failed, c->master));
  g_assert_true (journal_has (store, jobs.job_id, "rollback", "rolled-back"));
  g_assert_false (journal_has (store, jobs.job_id, "verify", "ok"));

  /* the VIN and coding the job wrote are back; still not paired */
  vin_after = sim_text (connection, c->engine, 0xF190);
  g_assert_cmpstr (vin_after, ==, vin_before);
  coding_after = sim_coding (connection, module);
  for (guint i = 0; i < coding_before->len; i++)
    g_assert_true (g_bytes_equal (g_ptr_array_index (coding_before, i),
                                  g_ptr_array_index (coding_after, i)));
  assert_paired (connection, c, FALSE);
}

static void
unlock_toy (EwUdsClient *client, guint8 level)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) seed = ew_uds_client_request_seed (client, level, NULL, &error);
  guint8 key[4];

  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (seed), ==, sizeof key);
  ew_toy_seedkey_compute (level, g_bytes_get_data (seed, NULL), sizeof key, key);
  g_assert_true (ew_uds_client_send_key (client, level, key, sizeof key, NULL, &error));
  g_assert_no_error (error);
}

static void
assert_pairing_nrc (EwUdsClient *client, guint16 rid, GBytes *serial, guint8 nrc)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) result = ew_uds_client_routine_control (client, EW_UDS_ROUTINE_START, rid,
                                                            g_bytes_get_data (serial, NULL),
                                                            g_bytes_get_size (serial), NULL,
                                                            &error);

  g_assert_null (result);
  g_assert_error (error, EW_UDS_NRC_ERROR, nrc);
}

/* The simulated unit pairs only in its session, at its level, with this
 * car's master. */
static void
test_pairing_routine_guarded (void)
{
  const SwapCase *c = &swap_cases[0];
  g_autoptr(EwConnection) connection = ew_test_open_car (db, "sim:bmw-f30?profile=used-engine-unit");
  const EwModule *module = ew_family_find_module (ew_connection_get_family (connection), c->engine);
  const EwImmobiliser *immo = module->immobiliser;
  g_autoptr(EwChannel) channel = NULL;
  g_autoptr(EwUdsClient) client = NULL;
  g_autoptr(GBytes) serial = master_serial (connection, c->master);
  g_autoptr(GBytes) wrong = g_bytes_new ("SIM000000000", g_bytes_get_size (serial));
  g_autoptr(GBytes) result = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_cmpuint (g_bytes_get_size (serial), ==, 12);
  channel = ew_connection_open_channel (connection, module, &error);
  g_assert_no_error (error);
  client = ew_uds_client_new (channel, module->name);

  /* the default session has no RoutineControl at all (the service
   * table); the programming session has, but not this routine */
  assert_pairing_nrc (client, immo->pairing_rid, serial, 0x7F);
  g_assert_true (ew_uds_client_diagnostic_session_control (client, 0x02, FALSE, NULL, &error));
  g_assert_no_error (error);
  assert_pairing_nrc (client, immo->pairing_rid, serial, 0x22);
  g_assert_true (ew_uds_client_diagnostic_session_control (client, immo->session, FALSE, NULL, &error));
  g_assert_no_error (error);
  assert_pairing_nrc (client, immo->pairing_rid, serial, 0x33);   /* locked */
  unlock_toy (client, module->coding_security_level);
  g_assert_cmpuint (module->coding_security_level, !=, immo->security_level);
  assert_pairing_nrc (client, immo->pairing_rid, serial, 0x33);   /* the coding level */
  unlock_toy (client, immo->security_level);
  assert_pairing_nrc (client, immo->pairing_rid, wrong, 0x31);    /* another master */
  assert_paired (connection, c, FALSE);

  result = ew_uds_client_routine_control (client, EW_UDS_ROUTINE_START, immo->pairing_rid,
                                          g_bytes_get_data (serial, NULL), g_bytes_get_size (serial),
                                          NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (result), ==, 1);
  g_assert_cmpuint (((const guint8 *) g_bytes_get_data (result, NULL))[0], ==, 0x00);
  assert_paired (connection, c, TRUE);
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);

  tmp_dir = g_dir_make_tmp ("test-replace-XXXXXX", &error);
  g_assert_no_error (error);
  db = ew_vehicle_database_new (NULL);
  ew_vehicle_database_add_default_dirs (db, NULL);

  /* the shipped used cluster, with fewer km than the car; one of the
   * car's stores is ahead of the others */
  low_profile = g_build_filename (tmp_dir, "used-cluster-fewer-km.ini", NULL);
  g_file_set_contents (low_profile,
                       "[profile]\n"
                       "description=Used cluster from another car with fewer km than this car\n"
                       "[kind:instrument-cluster]\n"
                       "vin=@other-car\n"
                       "software-version=@below-minimum\n"
                       "mileage=12000\n"
                       "[kind:body]\n"
                       "mileage=43210\n"
                       "[kind:engine]\n"
                       "mileage=43210\n",
                       -1, &error);
  g_assert_no_error (error);
  high_profile = g_build_filename (tmp_dir, "used-cluster-more-km.ini", NULL);
  g_file_set_contents (high_profile,
                       "[profile]\n"
                       "description=Used cluster from another car with more km than this car\n"
                       "[kind:instrument-cluster]\n"
                       "vin=@other-car\n"
                       "software-version=@below-minimum\n"
                       "mileage=131072\n",
                       -1, &error);
  g_assert_no_error (error);

  g_test_add_func ("/replace/mileage-encoding", test_mileage_encoding);
  g_test_add_func ("/replace/plan", test_dry_plan);
  for (guint i = 0; i < G_N_ELEMENTS (cluster_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/replace/used-cluster/%s", cluster_cases[i].family);
      g_autofree char *refused = g_strdup_printf ("/replace/more-km-refused/%s",
                                                  cluster_cases[i].family);

      g_test_add_data_func (path, &cluster_cases[i], test_used_cluster);
      g_test_add_data_func (refused, &cluster_cases[i], test_more_km_refused);
    }
  g_test_add_func ("/replace/body-module-bootloader", test_body_module_bootloader);
  g_test_add_func ("/replace/weak-battery-refused", test_weak_battery_refused);
  g_test_add_func ("/replace/vin-fault-rolls-back", test_vin_fault_rolls_back);
  for (guint i = 0; i < G_N_ELEMENTS (swap_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/replace/ecu-swap/%s", swap_cases[i].family);

      g_test_add_data_func (path, &swap_cases[i], test_ecu_swap);
    }
  g_test_add_func ("/replace/ecu-swap/unconfirmed", test_ecu_swap_unconfirmed);
  g_test_add_func ("/replace/ecu-swap/pairing-fault-rolls-back", test_ecu_swap_pairing_fault);
  g_test_add_func ("/replace/ecu-swap/pairing-routine-guarded", test_pairing_routine_guarded);

  status = g_test_run ();
  ew_vehicle_database_free (db);
  ew_test_remove_tree (tmp_dir);
  g_free (tmp_dir);
  g_free (low_profile);
  g_free (high_profile);
  return status;
}
