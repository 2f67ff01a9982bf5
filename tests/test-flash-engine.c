/* test-flash-engine.c — programming modules of the simulated car from the
 * shipped sample containers: success per family (each container format),
 * block retry, power loss, a corrupt download, a wrong container, a
 * missing recovery image and cancellation before the erase.
 */
#include <gio/gio.h>
#include <string.h>
#include <unistd.h>

#include "connect/connection.h"
#include "connect/supply-voltage.h"
#include "data-dir.h"
#include "flash/flash-engine.h"
#include "flash/flash-resume.h"
#include "sim/sim-ecu.h"
#include "sim/sim-faults.h"
#include "sim/sim-profile.h"
#include "sim/sim-flash.h"
#include "sim/sim-vehicle.h"
#include "store/job-store.h"
#include "test-util.h"
#include "vehicle/database.h"

static EwVehicleDatabase *db;

typedef struct {
  char         *tmp_dir;
  EwJobStore   *store;
  EwConnection *connection;
  EwSimVehicle *doip_car;      /* nullable: the car behind a doip: link */
  GArray       *fractions;     /* double */
  GPtrArray    *progress_steps;
  guint64       max_bytes_sent;
  guint64       bytes_total;
  gboolean      saw_rate;
  const char   *cancel_at;     /* cancel when this step is reported */
  GCancellable *cancellable;
  const char   *watch_step;    /* sample the other modules at this step */
  guint         n_watched;
  guint         n_others_off;  /* of the watched: DTC setting and communication off */
  guint         n_others_on;
  guint         n_requests_at_check; /* the doip car's count when check memory began */
} Fixture;

/* modules of sim:vw-golf-mk7 other than the one programmed */
static const char *const other_modules[] = { "engine", "central-electrics" };

static void
sample_other_ecu (EwSimEcu *ecu, gpointer user_data)
{
  Fixture *f = user_data;
  gboolean dtc = ew_sim_ecu_get_dtc_setting_enabled (ecu);
  gboolean comm = ew_sim_ecu_get_communication_enabled (ecu);

  f->n_watched++;
  g_test_message ("%s: DTC setting %s, communication %s", ew_sim_ecu_get_module (ecu)->id,
                  dtc ? "on" : "off", comm ? "on" : "off");
  if (!dtc && !comm)
    f->n_others_off++;
  if (dtc && comm)
    f->n_others_on++;
}

static void
fixture_open (Fixture *f, const char *uri)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  f->tmp_dir = g_dir_make_tmp ("test-flash-engine-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (f->tmp_dir, "jobs.sqlite", NULL);
  f->store = ew_job_store_open (path, &error);
  g_assert_no_error (error);
  f->connection = ew_connection_open (uri, db, NULL, &error);
  g_assert_no_error (error);
  f->fractions = g_array_new (FALSE, FALSE, sizeof (double));
  f->progress_steps = g_ptr_array_new_with_free_func (g_free);
  f->cancellable = g_cancellable_new ();
}

static void
fixture_close (Fixture *f)
{
  g_clear_object (&f->connection);
  g_clear_pointer (&f->doip_car, ew_sim_vehicle_free);
  g_clear_pointer (&f->store, ew_job_store_close);
  ew_test_remove_tree (f->tmp_dir);
  g_clear_pointer (&f->tmp_dir, g_free);
  g_clear_pointer (&f->fractions, g_array_unref);
  g_clear_pointer (&f->progress_steps, g_ptr_array_unref);
  g_clear_object (&f->cancellable);
}

static void
on_progress (const EwFlashProgress *p, gpointer user_data)
{
  Fixture *f = user_data;

  g_array_append_val (f->fractions, p->fraction);
  if (f->progress_steps->len == 0 ||
      g_strcmp0 (g_ptr_array_index (f->progress_steps, f->progress_steps->len - 1), p->step) != 0)
    g_ptr_array_add (f->progress_steps, g_strdup (p->step));
  f->max_bytes_sent = MAX (f->max_bytes_sent, p->bytes_sent);
  f->bytes_total = p->bytes_total;
  if (p->rate_bytes_per_s > 0 && p->seconds_left >= 0)
    f->saw_rate = TRUE;
  g_assert_cmpuint (p->bytes_sent, <=, p->bytes_total);
  if (f->cancel_at != NULL && g_strcmp0 (p->step, f->cancel_at) == 0)
    g_cancellable_cancel (f->cancellable);
  if (f->doip_car != NULL && f->n_requests_at_check == 0 && g_strcmp0 (p->step, "check-memory") == 0)
    f->n_requests_at_check = ew_sim_vehicle_get_n_requests (f->doip_car);
  if (f->watch_step != NULL && g_strcmp0 (p->step, f->watch_step) == 0)
    for (gsize i = 0; i < G_N_ELEMENTS (other_modules); i++)
      ew_sim_vehicle_with_ecu (ew_connection_get_sim_vehicle (f->connection), other_modules[i],
                               sample_other_ecu, f);
}

/* Every other module has DTC setting and communication on (TRUE) or off. */
static void
assert_others (Fixture *f, gboolean is_on)
{
  f->n_watched = f->n_others_off = f->n_others_on = 0;
  for (gsize i = 0; i < G_N_ELEMENTS (other_modules); i++)
    ew_sim_vehicle_with_ecu (ew_connection_get_sim_vehicle (f->connection), other_modules[i],
                             sample_other_ecu, f);
  g_assert_cmpuint (f->n_watched, ==, G_N_ELEMENTS (other_modules));
  g_assert_cmpuint (is_on ? f->n_others_on : f->n_others_off, ==, G_N_ELEMENTS (other_modules));
}

static char *
sample_path (const char *name)
{
  g_autofree char *relative = g_build_filename ("flash", name, NULL);

  return ew_data_path (relative);
}

static EwSimEcu *
sim_ecu (Fixture *f, const char *module_id)
{
  EwSimEcu *ecu = ew_sim_vehicle_find_ecu (f->doip_car != NULL ? f->doip_car
                                                             : ew_connection_get_sim_vehicle (f->connection),
                                           module_id);

  g_assert_nonnull (ecu);
  return ecu;
}

static char *
sim_software (Fixture *f, const char *module_id)
{
  EwSimEcu *ecu = sim_ecu (f, module_id);
  const EwModule *module = ew_sim_ecu_get_module (ecu);
  g_autoptr(GBytes) bytes = NULL;

  for (guint i = 0; i < module->identification->len; i++)
    {
      const EwIdentificationDid *id = g_ptr_array_index (module->identification, i);

      if (id->role == EW_ID_ROLE_SOFTWARE_VERSION)
        bytes = ew_sim_ecu_read_did (ecu, id->did);
    }
  g_assert_nonnull (bytes);
  return g_strstrip (g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes)));
}

static GPtrArray *
journal_of (Fixture *f, gint64 job_id)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *journal = ew_job_store_get_journal (f->store, job_id, &error);

  g_assert_no_error (error);
  for (guint i = 0; i < journal->len; i++)
    {
      const EwJournalEntry *e = g_ptr_array_index (journal, i);
      g_test_message ("  %s %s: %s", e->step, e->outcome, e->detail != NULL ? e->detail : "");
    }
  return journal;
}

static guint
count_entries (GPtrArray *journal, const char *step, const char *outcome)
{
  guint n = 0;

  for (guint i = 0; i < journal->len; i++)
    {
      const EwJournalEntry *e = g_ptr_array_index (journal, i);

      if (g_strcmp0 (e->step, step) == 0 && (outcome == NULL || g_strcmp0 (e->outcome, outcome) == 0))
        n++;
    }
  return n;
}

static EwJobState
job_state (Fixture *f, gint64 job_id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EwJobRecord) record = ew_job_store_get_job (f->store, job_id, &error);

  g_assert_no_error (error);
  g_assert_cmpint (record->kind, ==, EW_JOB_KIND_PROGRAMMING);
  return record->state;
}

static void
assert_progress_monotonic (Fixture *f)
{
  g_assert_cmpuint (f->fractions->len, >, 0);
  for (guint i = 1; i < f->fractions->len; i++)
    g_assert_cmpfloat (g_array_index (f->fractions, double, i), >=,
                       g_array_index (f->fractions, double, i - 1));
}

/* Every plan step journalled "ok" once, in the plan's order (erase and
 * download once per segment). */
static void
assert_steps_in_order (EwFlashJob *job, GPtrArray *journal, gboolean is_exact)
{
  GArray *infos = ew_flash_job_get_steps (job);
  guint n_segments = ew_flash_job_get_check_result (job)->segments->len;
  g_autoptr(GPtrArray) expected = g_ptr_array_new ();
  g_autoptr(GPtrArray) seen = g_ptr_array_new ();
  g_autoptr(GHashTable) ids = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < infos->len; i++)
    {
      const EwFlashStepInfo *info = &g_array_index (infos, EwFlashStepInfo, i);
      guint n = info->kind == EW_STEP_ERASE || info->kind == EW_STEP_DOWNLOAD ? n_segments : 1;

      for (guint k = 0; k < n; k++)
        g_ptr_array_add (expected, (gpointer) info->id);
      g_hash_table_add (ids, (gpointer) info->id);
    }
  for (guint i = 0; i < journal->len; i++)
    {
      const EwJournalEntry *e = g_ptr_array_index (journal, i);

      if (g_hash_table_contains (ids, e->step) && g_strcmp0 (e->outcome, "ok") == 0)
        g_ptr_array_add (seen, e->step);
    }
  if (is_exact)
    {
      g_assert_cmpuint (seen->len, ==, expected->len);
      for (guint i = 0; i < seen->len; i++)
        g_assert_cmpstr (g_ptr_array_index (seen, i), ==, g_ptr_array_index (expected, i));
    }
  else
    {
      /* after a recovery some steps come again (a step sent once more
       * after a reconnection is journalled "ok" once): the plan is still
       * a subsequence, and it ends the same way */
      guint k = 0;

      for (guint i = 0; i < seen->len && k < expected->len; i++)
        if (g_str_equal (g_ptr_array_index (seen, i), g_ptr_array_index (expected, k)))
          k++;
      g_assert_cmpuint (k, ==, expected->len);
      g_assert_cmpuint (seen->len, >=, expected->len);
      g_assert_cmpstr (g_ptr_array_index (seen, seen->len - 1), ==,
                       g_ptr_array_index (expected, expected->len - 1));
    }
}

/* Flashes and checks the common outcome of a flash that succeeds. */
static void
flash_and_expect_done (Fixture *f, const char *module_id, const char *sample, GPtrArray **journal_out)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = sample_path (sample);
  g_autoptr(EwFlashJob) job = ew_flash_job_prepare (f->connection, module_id, path, NULL, NULL, &error);
  g_autofree char *before = sim_software (f, module_id);
  g_autofree char *after = NULL;
  g_autoptr(GPtrArray) journal = NULL;
  const char *version;
  gint64 job_id;

  g_assert_no_error (error);
  g_assert_true (ew_flash_job_is_simulated (job));
  g_assert_nonnull (ew_flash_job_get_recovery_image (job));
  version = ew_flash_container_get_software_version (ew_flash_job_get_container (job));
  g_assert_cmpstr (before, !=, version);
  g_assert_cmpstr (ew_flash_job_get_current_software (job), ==, before);

  job_id = ew_flash_job_run (job, f->store, on_progress, f, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (job_id, >, 0);
  g_assert_cmpint (job_id, ==, ew_flash_job_get_job_id (job));
  g_assert_cmpint (job_state (f, job_id), ==, EW_JOB_STATE_DONE);

  after = sim_software (f, module_id);
  g_test_message ("%s: %s -> %s", module_id, before, after);
  g_assert_cmpstr (after, ==, version);
  g_assert_false (ew_sim_ecu_is_in_bootloader (sim_ecu (f, module_id)));

  journal = journal_of (f, job_id);
  g_assert_cmpuint (count_entries (journal, "identification", "ok"), ==, 1);
  assert_steps_in_order (job, journal, count_entries (journal, "wake", NULL) == 0 &&
                                      count_entries (journal, "restart", NULL) == 0);
  {
    /* the software it replaced is journalled before any write */
    const EwJournalEntry *first = g_ptr_array_index (journal, 0);
    g_assert_cmpstr (first->step, ==, "identification");
    g_assert_nonnull (strstr (first->detail, before));
  }

  assert_progress_monotonic (f);
  g_assert_cmpfloat (g_array_index (f->fractions, double, f->fractions->len - 1), ==, 1.0);
  g_assert_cmpuint (f->max_bytes_sent, ==, ew_flash_job_get_total_bytes (job));
  g_assert_cmpuint (f->bytes_total, ==, ew_flash_job_get_total_bytes (job));
  g_assert_true (f->saw_rate);
  if (journal_out != NULL)
    *journal_out = g_steal_pointer (&journal);
}

typedef struct {
  const char *uri;
  const char *module;
  const char *sample;
} Case;

static void
test_success (gconstpointer data)
{
  const Case *c = data;
  Fixture f = { 0 };

  fixture_open (&f, c->uri);
  flash_and_expect_done (&f, c->module, c->sample, NULL);
  fixture_close (&f);
}

/* The fifth TransferData fails with generalProgrammingFailure: the block
 * is sent again with the same counter and the flash succeeds. */
static void
test_block_retry (void)
{
  Fixture f = { 0 };
  g_autoptr(GPtrArray) journal = NULL;

  fixture_open (&f, "sim:vw-golf-mk7?faults=nrc%3Dcluster:0x36:0x72%405");
  flash_and_expect_done (&f, "cluster", "vw-golf-mk7-cluster.xml", &journal);
  g_assert_cmpuint (count_entries (journal, "retry", "retry"), ==, 1);
  g_assert_cmpuint (count_entries (journal, "restart", NULL), ==, 0);
  g_assert_cmpuint (count_entries (journal, "erase", "ok"), ==, 2);
  fixture_close (&f);
}

/* The module loses power at block 5 (of 10) for 300 ms: the engine waits,
 * finds it in its bootloader and programs it again from the programming
 * session and the erase. */
static void
test_power_loss (void)
{
  Fixture f = { 0 };
  g_autoptr(GPtrArray) journal = NULL;

  fixture_open (&f, "sim:vw-golf-mk7?faults=power-loss%3Dcluster:5:300");
  flash_and_expect_done (&f, "cluster", "vw-golf-mk7-cluster.xml", &journal);
  g_assert_cmpuint (count_entries (journal, "power-loss", "failed"), ==, 1);
  g_assert_cmpuint (count_entries (journal, "wake", "ok"), ==, 1);
  /* erased twice: before and after the power loss */
  g_assert_cmpuint (count_entries (journal, "erase", "ok"), ==, 4);
  fixture_close (&f);
}

/* The DoIP connection drops in the middle of the download and the car's
 * entity takes connections again 1.5 s later: the engine connects again
 * and the same job goes on, from the bootloader, to the new software. */
static void
test_link_drop_doip (void)
{
  EwFamily *family = ew_vehicle_database_find_family (db, "vw-golf-mk7");
  Fixture f = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(EwSimProfile) profile = ew_sim_profile_load (family, "healthy", &error);
  g_autoptr(EwSimFaults) faults = NULL;
  g_autoptr(GPtrArray) journal = NULL;
  g_autofree char *uri = NULL;

  g_assert_no_error (error);
  /* the preparation and the functional requests to the other modules
   * take about fifty requests: this drops the link at the erase or in the
   * download (a drop from 52 to 64 is handled the same way) */
  faults = ew_sim_faults_parse ("link-drop=56:1500", &error);
  g_assert_no_error (error);
  f.doip_car = ew_sim_vehicle_new (family, profile, faults);
  g_assert_true (ew_sim_vehicle_start_doip (f.doip_car, "127.0.0.1", 0, FALSE, &error));
  g_assert_no_error (error);
  uri = g_strdup_printf ("doip:127.0.0.1:%u", ew_sim_vehicle_get_doip_port (f.doip_car));
  fixture_open (&f, uri);

  flash_and_expect_done (&f, "cluster", "vw-golf-mk7-cluster.xml", &journal);
  g_assert_cmpuint (count_entries (journal, "link-lost", "failed"), ==, 1);
  g_assert_cmpuint (count_entries (journal, "reconnect", "ok"), ==, 1);
  g_assert_cmpuint (count_entries (journal, "power-loss", NULL), ==, 0);
  fixture_close (&f);
}

/* Flashes the cluster of a simulated Golf behind a DoIP entity with the
 * faults of spec (nullable); expects the job DONE with the new software.
 * Returns the entity's request count when check memory began and at the
 * end, and the number of "link-lost" journal entries. */
static guint
flash_over_doip (const char *spec, guint *n_at_check, guint *n_total)
{
  EwFamily *family = ew_vehicle_database_find_family (db, "vw-golf-mk7");
  Fixture f = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(EwSimProfile) profile = ew_sim_profile_load (family, "healthy", &error);
  g_autoptr(EwSimFaults) faults = ew_sim_faults_parse (spec, &error);
  g_autoptr(GPtrArray) journal = NULL;
  g_autofree char *uri = NULL;
  guint n_lost;

  g_assert_no_error (error);
  f.doip_car = ew_sim_vehicle_new (family, profile, faults);
  g_assert_true (ew_sim_vehicle_start_doip (f.doip_car, "127.0.0.1", 0, FALSE, &error));
  g_assert_no_error (error);
  uri = g_strdup_printf ("doip:127.0.0.1:%u", ew_sim_vehicle_get_doip_port (f.doip_car));
  fixture_open (&f, uri);
  flash_and_expect_done (&f, "cluster", "vw-golf-mk7-cluster.xml", &journal);
  if (n_at_check != NULL)
    *n_at_check = f.n_requests_at_check;
  if (n_total != NULL)
    *n_total = ew_sim_vehicle_get_n_requests (f.doip_car);
  n_lost = count_entries (journal, "link-lost", "failed");
  if (n_lost > 0)
    g_assert_cmpuint (count_entries (journal, "reconnect", "ok"), >=, 1);
  fixture_close (&f);
  return n_lost;
}

/* The DoIP link drops after the download — at check memory, the reset,
 * reading the software back, the requests that end the job — and the
 * entity takes connections again 300 ms later: each time the engine
 * connects again and the same job ends with the module on the new
 * software (programmed once more from the erase when the drop took the
 * check with it). */
static void
test_link_drop_after_download (void)
{
  guint n_at_check = 0, n_total = 0, n_runs = 0, n_lost = 0;

  /* a run without faults tells where the checks begin and the job ends */
  g_assert_cmpuint (flash_over_doip (NULL, &n_at_check, &n_total), ==, 0);
  g_assert_cmpuint (n_at_check, >, 0);
  g_assert_cmpuint (n_total, >, n_at_check);
  g_test_message ("checks from request %u, %u requests in all", n_at_check + 1, n_total);
  for (guint n = n_at_check + 1; n <= n_total; n += MAX ((n_total - n_at_check) / 8, 1u))
    {
      g_autofree char *spec = g_strdup_printf ("link-drop=%u:300", n);
      guint lost = flash_over_doip (spec, NULL, NULL);

      g_test_message ("link dropped at request %u: %u link-lost entries", n, lost);
      n_runs++;
      n_lost += lost > 0;
    }
  /* a drop at the job's very last request (back to the default session)
   * needs no reconnection; every other one was reconnected */
  g_assert_cmpuint (n_lost, >=, n_runs - 1);
}

/* Check memory always fails: one restart from the erase, then the job
 * fails with the module in its bootloader and recovery needed. */
static void
test_bad_crc (void)
{
  Fixture f = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *path = sample_path ("vw-golf-mk7-cluster.xml");
  g_autoptr(EwFlashJob) job = NULL;
  g_autoptr(GPtrArray) journal = NULL;
  gint64 job_id;

  fixture_open (&f, "sim:vw-golf-mk7?faults=bad-crc%3Dcluster");
  job = ew_flash_job_prepare (f.connection, "cluster", path, NULL, NULL, &error);
  g_assert_no_error (error);
  job_id = ew_flash_job_run (job, f.store, on_progress, &f, NULL, &error);
  g_assert_cmpint (job_id, ==, 0);
  g_assert_error (error, EW_FLASH_ENGINE_ERROR, EW_FLASH_ENGINE_ERROR_RECOVERY_NEEDED);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "recovery is needed"));
  g_assert_cmpint (ew_flash_job_get_job_id (job), >, 0);
  g_assert_cmpint (job_state (&f, ew_flash_job_get_job_id (job)), ==, EW_JOB_STATE_FAILED);
  g_assert_true (ew_sim_ecu_is_in_bootloader (sim_ecu (&f, "cluster")));

  journal = journal_of (&f, ew_flash_job_get_job_id (job));
  g_assert_cmpuint (count_entries (journal, "check-memory", "failed"), ==, 2);
  g_assert_cmpuint (count_entries (journal, "restart", "ok"), ==, 1);
  g_assert_cmpuint (count_entries (journal, "recovery-needed", "failed"), ==, 1);
  g_assert_cmpuint (count_entries (journal, "reset", NULL), ==, 0);
  assert_progress_monotonic (&f);
  fixture_close (&f);
}

/* A container for another module, or another car, is refused before any
 * write: no job, the module untouched. */
static void
test_wrong_container (void)
{
  static const char *const samples[] = { "vw-golf-mk7-cluster.xml", "bmw-f30-dme.hex" };
  Fixture f = { 0 };

  fixture_open (&f, "sim:vw-golf-mk7");
  for (gsize i = 0; i < G_N_ELEMENTS (samples); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *path = sample_path (samples[i]);
      g_autofree char *before = sim_software (&f, "engine");
      g_autofree char *after = NULL;
      g_autoptr(GPtrArray) jobs = NULL;
      gint64 job_id;

      job_id = ew_flash_run (f.connection, f.store, "engine", path, NULL, on_progress, &f, NULL, &error);
      g_assert_cmpint (job_id, ==, 0);
      g_assert_nonnull (error);
      g_assert_true (error->domain == EW_FLASH_ERROR);
      g_test_message ("%s", error->message);
      if (i == 0)
        g_assert_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_WRONG_MODULE);

      after = sim_software (&f, "engine");
      g_assert_cmpstr (after, ==, before);
      g_assert_false (ew_sim_ecu_is_in_bootloader (sim_ecu (&f, "engine")));
      g_assert_cmpuint (ew_sim_ecu_get_session (sim_ecu (&f, "engine")), ==, 0x01);
      g_clear_error (&error);
      jobs = ew_job_store_list_jobs (f.store, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (jobs->len, ==, 0);
    }
  g_assert_cmpuint (f.fractions->len, ==, 0);
  fixture_close (&f);
}

/* The supply voltage is read before anything: a weak battery or a charger
 * set too high refuses the flash with the module untouched; a good one is
 * journalled with the module that measured it (the cluster reports none,
 * the engine does). */
static void
test_supply_voltage (void)
{
  static const struct {
    const char *volts;
    gint        code;
    const char *needle;
  } cases[] = {
    { "11.8", EW_SUPPLY_VOLTAGE_ERROR_TOO_LOW, "11.8 V" },
    { "12.4", EW_SUPPLY_VOLTAGE_ERROR_TOO_LOW, "12.4 V" },
    { "16.2", EW_SUPPLY_VOLTAGE_ERROR_TOO_HIGH, "16.2 V" },
  };
  g_autofree char *path = sample_path ("vw-golf-mk7-cluster.xml");

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *dir = g_dir_make_tmp ("test-flash-supply-XXXXXX", NULL);
      g_autofree char *profile = g_build_filename (dir, "battery.ini", NULL);
      g_autofree char *text = g_strdup_printf ("[profile]\ndescription=battery\nsupply-voltage=%s\n",
                                               cases[i].volts);
      g_autofree char *uri = g_strdup_printf ("sim:vw-golf-mk7?profile=%s", profile);
      g_autofree char *before = NULL;
      g_autofree char *after = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) jobs = NULL;
      Fixture f = { 0 };

      g_assert_true (g_file_set_contents (profile, text, -1, NULL));
      fixture_open (&f, uri);
      before = sim_software (&f, "cluster");
      g_assert_cmpint (ew_flash_run (f.connection, f.store, "cluster", path, NULL, on_progress, &f,
                                     NULL, &error), ==, 0);
      g_test_message ("%s V: %s", cases[i].volts, error->message);
      g_assert_error (error, EW_SUPPLY_VOLTAGE_ERROR, cases[i].code);
      g_assert_nonnull (strstr (error->message, cases[i].needle));
      g_assert_nonnull (strstr (error->message, "Engine electronics"));
      after = sim_software (&f, "cluster");
      g_assert_cmpstr (after, ==, before);
      g_assert_cmpuint (ew_sim_ecu_get_session (sim_ecu (&f, "cluster")), ==, 0x01);
      g_clear_error (&error);
      jobs = ew_job_store_list_jobs (f.store, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (jobs->len, ==, 0);
      fixture_close (&f);
      ew_test_remove_tree (dir);
    }

  {
    Fixture f = { 0 };
    g_autoptr(GError) error = NULL;
    g_autoptr(EwFlashJob) job = NULL;
    g_autoptr(GPtrArray) journal = NULL;
    gint64 job_id;

    fixture_open (&f, "sim:vw-golf-mk7");
    job = ew_flash_job_prepare (f.connection, "cluster", path, NULL, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (ew_flash_job_get_supply_voltage_mv (job), ==, EW_SIM_DEFAULT_SUPPLY_VOLTAGE_MV);
    job_id = ew_flash_job_run (job, f.store, on_progress, &f, NULL, &error);
    g_assert_no_error (error);
    journal = journal_of (&f, job_id);
    g_assert_cmpuint (count_entries (journal, "battery", "ok"), ==, 1);
    for (guint i = 0; i < journal->len; i++)
      {
        const EwJournalEntry *e = g_ptr_array_index (journal, i);

        if (g_str_equal (e->step, "battery"))
          g_assert_cmpstr (e->detail, ==, "13.6 V at the engine");
      }
    fixture_close (&f);
  }
}

/* No recovery image for the module: refused, and the override is only for
 * a module already in its bootloader. */
static void
test_no_recovery_image (void)
{
  Fixture f = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *path = sample_path ("vw-golf-mk7-cluster.xml");
  EwFlashOptions options = { 0 };
  g_autoptr(EwFlashJob) job = NULL;

  fixture_open (&f, "sim:vw-golf-mk7");
  options.recovery_dir = f.tmp_dir;
  job = ew_flash_job_prepare (f.connection, "cluster", path, &options, NULL, &error);
  g_assert_null (job);
  g_assert_error (error, EW_FLASH_ENGINE_ERROR, EW_FLASH_ENGINE_ERROR_NO_RECOVERY_IMAGE);
  g_test_message ("%s", error->message);
  g_clear_error (&error);

  options.allow_no_recovery_image = TRUE;
  job = ew_flash_job_prepare (f.connection, "cluster", path, &options, NULL, &error);
  g_assert_null (job);
  g_assert_error (error, EW_FLASH_ENGINE_ERROR, EW_FLASH_ENGINE_ERROR_NO_RECOVERY_IMAGE);
  fixture_close (&f);
}

/* Cancelled during the preparation: the module is left as it was. */
static void
test_cancel_before_erase (void)
{
  Fixture f = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *path = sample_path ("vw-golf-mk7-cluster.xml");
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autoptr(EwFlashJob) job = NULL;
  g_autoptr(GPtrArray) journal = NULL;
  EwSimEcu *ecu;
  gint64 job_id;

  fixture_open (&f, "sim:vw-golf-mk7");
  ecu = sim_ecu (&f, "cluster");
  before = sim_software (&f, "cluster");
  f.cancel_at = "security";
  job = ew_flash_job_prepare (f.connection, "cluster", path, NULL, NULL, &error);
  g_assert_no_error (error);
  job_id = ew_flash_job_run (job, f.store, on_progress, &f, f.cancellable, &error);
  g_assert_cmpint (job_id, ==, 0);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (job_state (&f, ew_flash_job_get_job_id (job)), ==, EW_JOB_STATE_ROLLED_BACK);

  after = sim_software (&f, "cluster");
  g_assert_cmpstr (after, ==, before);
  g_assert_false (ew_sim_ecu_is_in_bootloader (ecu));
  g_assert_cmpuint (ew_sim_ecu_get_session (ecu), ==, 0x01);
  g_assert_true (ew_sim_ecu_get_communication_enabled (ecu));
  g_assert_true (ew_sim_ecu_get_dtc_setting_enabled (ecu));

  journal = journal_of (&f, ew_flash_job_get_job_id (job));
  g_assert_cmpuint (count_entries (journal, "cancel", "ok"), ==, 1);
  g_assert_cmpuint (count_entries (journal, "erase", NULL), ==, 0);
  g_assert_cmpuint (count_entries (journal, "security", NULL), ==, 0);
  g_assert_cmpuint (count_entries (journal, "communication-off", "ok"), ==, 1);
  assert_progress_monotonic (&f);
  fixture_close (&f);
}

/* A body module left in its bootloader by a failed update (the profile):
 * the steps of the extended session are skipped, the module is programmed
 * from its bootloader; with no recovery image on disk the override is
 * allowed for it, and journalled. */
static void
test_recover_dead_module (void)
{
  Fixture f = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *path = sample_path ("vw-golf-mk7-central-electrics.xml");
  g_autofree char *after = NULL;
  EwFlashOptions options = { 0 };
  g_autoptr(EwFlashJob) job = NULL;
  g_autoptr(GPtrArray) journal = NULL;
  gint64 job_id;

  fixture_open (&f, "sim:vw-golf-mk7?profile=body-module-bootloader");
  g_assert_true (ew_sim_ecu_is_in_bootloader (sim_ecu (&f, "central-electrics")));
  options.recovery_dir = f.tmp_dir;
  options.allow_no_recovery_image = TRUE;
  job = ew_flash_job_prepare (f.connection, "central-electrics", path, &options, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ew_flash_job_is_in_bootloader (job));
  g_assert_null (ew_flash_job_get_recovery_image (job));
  job_id = ew_flash_job_run (job, f.store, on_progress, &f, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (job_state (&f, job_id), ==, EW_JOB_STATE_DONE);
  g_assert_false (ew_sim_ecu_is_in_bootloader (sim_ecu (&f, "central-electrics")));
  after = sim_software (&f, "central-electrics");
  g_assert_cmpstr (after, ==, ew_flash_container_get_software_version (ew_flash_job_get_container (job)));

  journal = journal_of (&f, job_id);
  g_assert_cmpuint (count_entries (journal, "recovery-image", "overridden"), ==, 1);
  /* extended session, preconditions, DTC setting and communication off */
  g_assert_cmpuint (count_entries (journal, "session", "skipped"), ==, 1);
  g_assert_cmpuint (count_entries (journal, "routine", "skipped"), ==, 1);
  g_assert_cmpuint (count_entries (journal, "dtc-setting-off", "skipped"), ==, 1);
  g_assert_cmpuint (count_entries (journal, "communication-off", "skipped"), ==, 1);
  g_assert_cmpuint (count_entries (journal, "read-identification", "ok"), ==, 1);
  assert_progress_monotonic (&f);
  fixture_close (&f);
}

static void
ihex_line (GString *out, guint type, guint16 address, const guint8 *data, guint n)
{
  guint sum = n + (address >> 8) + (address & 0xFF) + type;

  g_string_append_printf (out, ":%02X%04X%02X", n, address, type);
  for (guint i = 0; i < n; i++)
    {
      g_string_append_printf (out, "%02X", data[i]);
      sum += data[i];
    }
  g_string_append_printf (out, "%02X\n", (0x100 - (sum & 0xFF)) & 0xFF);
}

/* More than 256 blocks: the block sequence counter wraps 0xFF -> 0x00. */
static void
test_counter_wraps (void)
{
  const guint32 start = 0x00040000;          /* the cluster's application region */
  const gsize length = 300 * 1024;           /* 300 blocks of 1024 bytes */
  Fixture f = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) header = ew_sim_app_header_build ("0800", "DEMO-CLUSTER-0800");
  g_autofree guint8 *image = g_malloc (length);
  g_autoptr(GString) hex = g_string_new (NULL);
  g_autofree char *path = NULL;
  g_autofree char *after = NULL;
  g_autoptr(GPtrArray) journal = NULL;
  gint64 job_id;

  for (gsize i = 0; i < length; i++)
    image[i] = (guint8) (i * 13 + (i >> 9));
  memcpy (image, g_bytes_get_data (header, NULL), g_bytes_get_size (header));
  for (gsize off = 0; off < length; off += 16)
    {
      guint32 address = start + (guint32) off;

      if (off == 0 || (address & 0xFFFF) == 0)
        {
          guint8 upper[2] = { (guint8) (address >> 24), (guint8) (address >> 16) };
          ihex_line (hex, 0x04, 0, upper, 2);
        }
      ihex_line (hex, 0x00, (guint16) address, image + off, 16);
    }
  ihex_line (hex, 0x01, 0, NULL, 0);

  fixture_open (&f, "sim:vw-golf-mk7");
  path = g_build_filename (f.tmp_dir, "cluster-0800.hex", NULL);
  g_assert_true (g_file_set_contents (path, hex->str, (gssize) hex->len, &error));
  g_assert_no_error (error);
  job_id = ew_flash_run (f.connection, f.store, "cluster", path, NULL, on_progress, &f, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (job_state (&f, job_id), ==, EW_JOB_STATE_DONE);
  after = sim_software (&f, "cluster");
  g_assert_cmpstr (after, ==, "0800");
  g_assert_cmpuint (f.max_bytes_sent, ==, length);
  journal = journal_of (&f, job_id);
  /* 300 blocks: the counter went 0x01 … 0xFF, 0x00 … and ended at 300 % 256 */
  {
    g_autofree char *expect = g_strdup_printf ("counter ended at 0x%02X", 300 % 256);
    gboolean found = FALSE;

    for (guint i = 0; i < journal->len; i++)
      {
        const EwJournalEntry *e = g_ptr_array_index (journal, i);
        found = found || (g_str_equal (e->step, "download") && e->detail != NULL &&
                          strstr (e->detail, expect) != NULL);
      }
    g_assert_true (found);
  }
  fixture_close (&f);
}

/* DTC setting and communication off for the whole car (functional,
 * suppressed, no answers awaited) while the cluster is programmed, and on
 * again after the job. */
static void
test_functional_control (void)
{
  Fixture f = { 0 };

  fixture_open (&f, "sim:vw-golf-mk7");
  assert_others (&f, TRUE);
  f.n_watched = f.n_others_off = f.n_others_on = 0;
  f.watch_step = "download";
  flash_and_expect_done (&f, "cluster", "vw-golf-mk7-cluster.xml", NULL);
  g_assert_cmpuint (f.n_watched, >, 0);
  g_assert_cmpuint (f.n_others_off, ==, f.n_watched);
  assert_others (&f, TRUE);
  fixture_close (&f);
}

/* Cancelled before the erase: the rest of the car was switched off and is
 * on again. */
static void
test_functional_cancel (void)
{
  Fixture f = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *path = sample_path ("vw-golf-mk7-cluster.xml");
  g_autoptr(EwFlashJob) job = NULL;
  g_autoptr(GPtrArray) journal = NULL;

  fixture_open (&f, "sim:vw-golf-mk7");
  f.cancel_at = "security";
  f.watch_step = "security";
  job = ew_flash_job_prepare (f.connection, "cluster", path, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ew_flash_job_run (job, f.store, on_progress, &f, f.cancellable, &error), ==, 0);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (f.n_watched, ==, G_N_ELEMENTS (other_modules));
  g_assert_cmpuint (f.n_others_off, ==, f.n_watched);
  assert_others (&f, TRUE);
  journal = journal_of (&f, ew_flash_job_get_job_id (job));
  g_assert_cmpuint (count_entries (journal, "functional", "ok"), ==, 1);
  fixture_close (&f);
}

/* Intel HEX of the cluster's application region starting with the
 * simulator's application header for version; extra bytes follow. */
static char *
write_cluster_hex (const char *dir, const char *name, const char *version)
{
  const guint32 start = 0x00040000;
  const gsize length = 2048;
  g_autoptr(GBytes) header = ew_sim_app_header_build (version, "DEMO-CLUSTER");
  g_autofree guint8 *image = g_malloc (length);
  g_autoptr(GString) hex = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (dir, name, NULL);
  guint8 upper[2] = { (guint8) (start >> 24), (guint8) (start >> 16) };

  for (gsize i = 0; i < length; i++)
    image[i] = (guint8) (i * 7 + 3);
  memcpy (image, g_bytes_get_data (header, NULL), g_bytes_get_size (header));
  ihex_line (hex, 0x04, 0, upper, 2);
  for (gsize off = 0; off < length; off += 16)
    ihex_line (hex, 0x00, (guint16) (start + off), image + off, 16);
  ihex_line (hex, 0x01, 0, NULL, 0);
  g_assert_true (g_file_set_contents (path, hex->str, (gssize) hex->len, &error));
  g_assert_no_error (error);
  return path;
}

/* A container that checks (descriptor with a version) but whose software
 * the module rejects: no application header, so check dependencies
 * fails every time. */
static char *
write_broken_cluster_container (const char *dir)
{
  const gsize length = 10 * 1024;   /* 10 blocks, as the sample */
  g_autofree guint8 *image = g_malloc (length);
  g_autofree char *bin = g_build_filename (dir, "broken-cluster.bin", NULL);
  g_autofree char *xml = NULL;
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (dir, "broken-cluster.xml", NULL);
  guint32 crc;

  for (gsize i = 0; i < length; i++)
    image[i] = (guint8) (i * 31 + 5);
  crc = ew_flash_crc32 (0, image, length);
  g_assert_true (g_file_set_contents (bin, (const char *) image, (gssize) length, &error));
  xml = g_strdup_printf ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                         "<flash-container format-version=\"1\" provenance=\"illustrative\">\n"
                         "  <description>Software the module rejects</description>\n"
                         "  <target module=\"cluster\" family=\"vw-golf-mk7\"/>\n"
                         "  <data-format>0x00</data-format>\n"
                         "  <software-version>0900</software-version>\n"
                         "  <image file=\"broken-cluster.bin\" length=\"%zu\" crc32=\"0x%08X\"/>\n"
                         "  <block address=\"0x00040000\" length=\"%zu\" offset=\"0\" crc32=\"0x%08X\"/>\n"
                         "</flash-container>\n", length, crc, length, crc);
  g_assert_true (g_file_set_contents (path, xml, -1, &error));
  g_assert_no_error (error);
  return path;
}

static const EwJournalEntry *
last_entry (GPtrArray *journal, const char *step)
{
  for (guint i = journal->len; i > 0; i--)
    {
      const EwJournalEntry *e = g_ptr_array_index (journal, i - 1);

      if (g_strcmp0 (e->step, step) == 0)
        return e;
    }
  return NULL;
}

/* The new software fails every time: the recovery image (the software the
 * module ran) is programmed in the same job, which ends ROLLED_BACK with
 * the old version running. */
static void
test_rollback_to_recovery_image (void)
{
  Fixture f = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *recovery = NULL;
  g_autofree char *other = NULL;
  g_autofree char *broken = NULL;
  EwFlashOptions options = { 0 };
  g_autoptr(EwFlashJob) job = NULL;
  g_autoptr(GPtrArray) journal = NULL;
  const EwJournalEntry *e;
  gint64 job_id;

  fixture_open (&f, "sim:vw-golf-mk7");
  before = sim_software (&f, "cluster");
  /* two images: the one with the running version is preferred */
  other = write_cluster_hex (f.tmp_dir, "vw-golf-mk7-cluster-0700.hex", "0700");
  recovery = write_cluster_hex (f.tmp_dir, "vw-golf-mk7-cluster.hex", before);
  broken = write_broken_cluster_container (f.tmp_dir);
  options.recovery_dir = f.tmp_dir;
  job = ew_flash_job_prepare (f.connection, "cluster", broken, &options, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (ew_flash_job_get_recovery_image (job), ==, recovery);
  g_assert_cmpstr (ew_flash_job_get_recovery_software (job), ==, before);

  job_id = ew_flash_job_run (job, f.store, on_progress, &f, NULL, &error);
  g_assert_cmpint (job_id, ==, 0);
  g_assert_error (error, EW_FLASH_ENGINE_ERROR, EW_FLASH_ENGINE_ERROR_ROLLED_BACK);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, before));
  g_assert_nonnull (strstr (error->message, "check dependencies"));
  g_assert_cmpint (job_state (&f, ew_flash_job_get_job_id (job)), ==, EW_JOB_STATE_ROLLED_BACK);

  after = sim_software (&f, "cluster");
  g_assert_cmpstr (after, ==, before);
  g_assert_false (ew_sim_ecu_is_in_bootloader (sim_ecu (&f, "cluster")));
  assert_others (&f, TRUE);

  journal = journal_of (&f, ew_flash_job_get_job_id (job));
  g_assert_cmpuint (count_entries (journal, "check-dependencies", "failed"), ==, 1);
  g_assert_cmpuint (count_entries (journal, "recovery", "started"), ==, 1);
  g_assert_cmpuint (count_entries (journal, "recovery", "ok"), ==, 1);
  g_assert_cmpuint (count_entries (journal, "recovery-needed", NULL), ==, 0);
  e = g_ptr_array_index (journal, journal->len - 1);
  g_assert_cmpstr (e->step, ==, "rolled-back");
  g_assert_nonnull (strstr (e->detail, before));
  e = last_entry (journal, "read-identification");
  g_assert_cmpstr (e->outcome, ==, "ok");
  g_assert_nonnull (strstr (e->detail, before));
  assert_progress_monotonic (&f);
  fixture_close (&f);
}

static void
set_no_sleeps (EwSimEcu *ecu, gpointer user_data)
{
  ew_sim_ecu_set_sleeps (ecu, FALSE);
}

/* Power lost at 100 seeded random blocks, half of the runs with software
 * the module rejects: every run ends with the new software (DONE) or the
 * old one restored (ROLLED_BACK), and the journal says which. */
static void
test_power_loss_random (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (20240611);
  g_autofree char *tmp_dir = g_dir_make_tmp ("test-flash-random-XXXXXX", NULL);
  g_autofree char *good = sample_path ("vw-golf-mk7-cluster.xml");
  g_autofree char *broken = NULL;
  g_autofree char *store_path = g_build_filename (tmp_dir, "jobs.sqlite", NULL);
  g_autoptr(EwJobStore) store = NULL;
  g_autoptr(GError) error = NULL;
  guint n_done = 0, n_rolled_back = 0;
  gint64 start = g_get_monotonic_time ();

  broken = write_broken_cluster_container (tmp_dir);
  store = ew_job_store_open (store_path, &error);
  g_assert_no_error (error);
  for (guint run = 0; run < 100; run++)
    {
      Fixture f = { 0 };
      gboolean is_broken = g_rand_boolean (rand);
      guint block = (guint) g_rand_int_range (rand, 1, 11);   /* the sample has 10 blocks */
      g_autofree char *uri = g_strdup_printf ("sim:vw-golf-mk7?faults=power-loss%%3Dcluster:%u:20", block);
      g_autofree char *before = NULL;
      g_autofree char *after = NULL;
      g_autofree char *recovery = NULL;
      g_autoptr(EwFlashJob) job = NULL;
      g_autoptr(GPtrArray) journal = NULL;
      EwFlashOptions options = { 0 };
      g_autoptr(GError) run_error = NULL;
      const EwJournalEntry *last;
      EwJobState state;

      f.store = store;
      f.connection = ew_connection_open (uri, db, NULL, &error);
      g_assert_no_error (error);
      f.fractions = g_array_new (FALSE, FALSE, sizeof (double));
      f.progress_steps = g_ptr_array_new_with_free_func (g_free);
      ew_sim_vehicle_with_ecu (ew_connection_get_sim_vehicle (f.connection), "cluster",
                               set_no_sleeps, NULL);
      before = sim_software (&f, "cluster");
      if (run == 0)
        recovery = write_cluster_hex (tmp_dir, "vw-golf-mk7-cluster.hex", before);
      options.recovery_dir = tmp_dir;
      options.wake_timeout_ms = 3000;
      job = ew_flash_job_prepare (f.connection, "cluster", is_broken ? broken : good, &options,
                                  NULL, &error);
      g_assert_no_error (error);
      ew_flash_job_run (job, store, on_progress, &f, NULL, &run_error);
      state = job_state (&f, ew_flash_job_get_job_id (job));
      after = sim_software (&f, "cluster");
      journal = ew_job_store_get_journal (store, ew_flash_job_get_job_id (job), &error);
      g_assert_no_error (error);
      last = g_ptr_array_index (journal, journal->len - 1);
      g_test_message ("run %u: %s, power lost at block %u: %s, %s -> %s (%s)", run,
                      is_broken ? "rejected software" : "good software", block,
                      ew_job_state_to_string (state), before, after, last->step);
      g_assert_false (ew_sim_ecu_is_in_bootloader (sim_ecu (&f, "cluster")));
      if (!is_broken)
        {
          g_assert_no_error (run_error);
          g_assert_cmpint (state, ==, EW_JOB_STATE_DONE);
          g_assert_cmpstr (after, ==, "0700");
          g_assert_cmpstr (last->step, ==, "done");
          g_assert_nonnull (strstr (last->detail, after));
          n_done++;
        }
      else
        {
          g_assert_error (run_error, EW_FLASH_ENGINE_ERROR, EW_FLASH_ENGINE_ERROR_ROLLED_BACK);
          g_assert_cmpint (state, ==, EW_JOB_STATE_ROLLED_BACK);
          g_assert_cmpstr (after, ==, before);
          g_assert_cmpstr (last->step, ==, "rolled-back");
          g_assert_nonnull (strstr (last->detail, after));
          g_assert_cmpuint (count_entries (journal, "recovery", "ok"), ==, 1);
          n_rolled_back++;
        }
      /* the power loss happened and was journalled */
      g_assert_cmpuint (count_entries (journal, "power-loss", "failed"), ==, 1);
      g_assert_cmpuint (count_entries (journal, "wake", "ok"), ==, 1);
      g_clear_error (&error);
      f.store = NULL;
      g_clear_object (&f.connection);
      g_clear_pointer (&f.fractions, g_array_unref);
      g_clear_pointer (&f.progress_steps, g_ptr_array_unref);
    }
  g_test_message ("100 runs: %u done, %u rolled back, %.1f s", n_done, n_rolled_back,
                  (g_get_monotonic_time () - start) / 1e6);
  g_assert_cmpuint (n_done, >, 0);
  g_assert_cmpuint (n_rolled_back, >, 0);
  g_clear_pointer (&store, ew_job_store_close);
  ew_test_remove_tree (tmp_dir);
}

/* ---- resume after the process died ---- */

#define RESUME_DIR_VARIABLE "EW_TEST_FLASH_RESUME_DIR"
#define RESUME_KILL_AT_BYTES 3000

static EwConnection *kill_connection;

static void
kill_on_progress (const EwFlashProgress *p, gpointer user_data)
{
  if (g_strcmp0 (p->step, "download") != 0 || p->bytes_sent < RESUME_KILL_AT_BYTES)
    return;
  /* the car keeps its state (as a real module would); the process dies
   * with the job RUNNING */
  ew_connection_close (kill_connection);
  _exit (0);
}

static char *
resume_uri (const char *dir)
{
  return g_strdup_printf ("sim:vw-golf-mk7?state=%s/car.state", dir);
}

static void
resume_child (const char *dir)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *store_path = g_build_filename (dir, "jobs.sqlite", NULL);
  g_autofree char *uri = resume_uri (dir);
  g_autofree char *path = sample_path ("vw-golf-mk7-cluster.xml");
  g_autoptr(EwJobStore) store = ew_job_store_open (store_path, &error);
  g_autoptr(EwConnection) connection = NULL;

  g_assert_no_error (error);
  connection = ew_connection_open (uri, db, NULL, &error);
  g_assert_no_error (error);
  kill_connection = connection;
  ew_flash_run (connection, store, "cluster", path, NULL, kill_on_progress, NULL, NULL, &error);
  g_assert_not_reached ();
}

/* The process running a flash dies mid-download (job RUNNING, module in
 * its bootloader); a new process resumes the same job, which ends DONE. */
static void
test_resume_after_kill (void)
{
  Fixture f = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) unfinished = NULL;
  g_autoptr(GPtrArray) jobs = NULL;
  g_autoptr(GPtrArray) journal = NULL;
  g_autoptr(EwFlashResumeInfo) info = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *store_path = NULL;
  g_autofree char *after = NULL;
  const EwJobRecord *record;
  const EwJournalEntry *e;
  gint64 job_id, resumed;

  if (g_test_subprocess ())
    {
      resume_child (g_getenv (RESUME_DIR_VARIABLE));
      return;
    }

  f.tmp_dir = g_dir_make_tmp ("test-flash-resume-XXXXXX", &error);
  g_assert_no_error (error);
  g_setenv (RESUME_DIR_VARIABLE, f.tmp_dir, TRUE);
  g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_unsetenv (RESUME_DIR_VARIABLE);

  store_path = g_build_filename (f.tmp_dir, "jobs.sqlite", NULL);
  f.store = ew_job_store_open (store_path, &error);
  g_assert_no_error (error);
  unfinished = ew_job_store_list_unfinished (f.store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (unfinished->len, ==, 1);
  record = g_ptr_array_index (unfinished, 0);
  job_id = record->id;
  g_assert_cmpint (record->kind, ==, EW_JOB_KIND_PROGRAMMING);

  info = ew_flash_resume_info_read (f.store, job_id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (info->module_id, ==, "cluster");
  g_assert_true (g_str_has_suffix (info->container_path, "vw-golf-mk7-cluster.xml"));

  uri = resume_uri (f.tmp_dir);
  f.connection = ew_connection_open (uri, db, NULL, &error);
  g_assert_no_error (error);
  f.fractions = g_array_new (FALSE, FALSE, sizeof (double));
  f.progress_steps = g_ptr_array_new_with_free_func (g_free);
  f.cancellable = g_cancellable_new ();
  /* the module was left half-programmed in its bootloader */
  g_assert_true (ew_sim_ecu_is_in_bootloader (sim_ecu (&f, "cluster")));

  resumed = ew_flash_resume (f.connection, f.store, job_id, NULL, on_progress, &f, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (resumed, ==, job_id);
  g_assert_cmpint (job_state (&f, job_id), ==, EW_JOB_STATE_DONE);
  after = sim_software (&f, "cluster");
  g_assert_cmpstr (after, ==, "0700");
  g_assert_false (ew_sim_ecu_is_in_bootloader (sim_ecu (&f, "cluster")));

  /* one job: the journal went on in it */
  jobs = ew_job_store_list_jobs (f.store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (jobs->len, ==, 1);
  journal = journal_of (&f, job_id);
  g_assert_cmpuint (count_entries (journal, "download", "ok"), >=, 1);
  g_assert_cmpuint (count_entries (journal, "resume", "started"), ==, 1);
  e = g_ptr_array_index (journal, journal->len - 1);
  g_assert_cmpstr (e->step, ==, "done");
  g_assert_nonnull (strstr (e->detail, "0700"));
  g_assert_true (ew_job_store_verify (f.store, NULL, &error));
  g_assert_no_error (error);

  /* done now: nothing more to resume */
  g_clear_pointer (&info, ew_flash_resume_info_free);
  info = ew_flash_resume_info_read (f.store, job_id, &error);
  g_assert_null (info);
  g_assert_error (error, EW_FLASH_ENGINE_ERROR, EW_FLASH_ENGINE_ERROR_NOT_RESUMABLE);
  fixture_close (&f);
}

static const Case cases[] = {
  { "sim:bmw-f30", "kombi", "bmw-f30-kombi.hex" },
  { "sim:mercedes-w205", "ic", "mercedes-w205-ic.srec" },
  { "sim:vw-golf-mk7", "engine", "vw-golf-mk7-engine.xml" },
};

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);

  db = ew_vehicle_database_new (NULL);
  ew_vehicle_database_add_default_dirs (db, NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *name = g_strdup_printf ("/flash-engine/success/%s", cases[i].sample);
      g_test_add_data_func (name, &cases[i], test_success);
    }
  g_test_add_func ("/flash-engine/fault/block-retry", test_block_retry);
  g_test_add_func ("/flash-engine/fault/power-loss", test_power_loss);
  g_test_add_func ("/flash-engine/fault/link-drop-doip", test_link_drop_doip);
  g_test_add_func ("/flash-engine/fault/link-drop-after-download", test_link_drop_after_download);
  g_test_add_func ("/flash-engine/fault/bad-crc", test_bad_crc);
  g_test_add_func ("/flash-engine/refuse/wrong-container", test_wrong_container);
  g_test_add_func ("/flash-engine/refuse/no-recovery-image", test_no_recovery_image);
  g_test_add_func ("/flash-engine/refuse/supply-voltage", test_supply_voltage);
  g_test_add_func ("/flash-engine/cancel-before-erase", test_cancel_before_erase);
  g_test_add_func ("/flash-engine/recover-dead-module", test_recover_dead_module);
  g_test_add_func ("/flash-engine/counter-wraps", test_counter_wraps);
  g_test_add_func ("/flash-engine/functional/control", test_functional_control);
  g_test_add_func ("/flash-engine/functional/cancel", test_functional_cancel);
  g_test_add_func ("/flash-engine/recovery/rollback", test_rollback_to_recovery_image);
  g_test_add_func ("/flash-engine/recovery/power-loss-random", test_power_loss_random);
  g_test_add_func ("/flash-engine/recovery/resume-after-kill", test_resume_after_kill);

  status = g_test_run ();
  ew_vehicle_database_free (db);
  return status;
}
