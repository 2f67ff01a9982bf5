/* test-store.c — the job store: creating and reopening it, jobs and their
 * states, backups, the hash-chained journal and its tamper checks (made
 * with raw SQL behind the store's back), files that are not a store, a
 * process killed in the middle of a job, several threads and connections
 * at once, and the time a large journal takes to verify.
 */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <sqlite3.h>

#include "store/job-store.h"
#include "test-util.h"

/* ---- helpers ---- */

typedef struct {
  char *dir;
  char *path;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  (void) data;
  f->dir = g_dir_make_tmp ("ew-store-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->dir, "jobs.sqlite", NULL);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  (void) data;
  ew_test_remove_tree (f->dir);
  g_assert_false (g_file_test (f->dir, G_FILE_TEST_EXISTS));
  g_free (f->dir);
  g_free (f->path);
}

static EwJobStore *
store_open (const char *path)
{
  g_autoptr(GError) error = NULL;
  EwJobStore *store = ew_job_store_open (path, &error);

  g_assert_no_error (error);
  g_assert_nonnull (store);
  return store;
}

static gint64
begin_job (EwJobStore *store,
           const char *summary)
{
  g_autoptr(GError) error = NULL;
  gint64 id = ew_job_store_begin_job (store, EW_JOB_KIND_CODING, "WVWZZZ1KZAW000001",
                                      "demo-family", "sim:demo-family", summary, 0, &error);

  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  return id;
}

static void
journal (EwJobStore *store,
         gint64      job_id,
         const char *step,
         const char *module_id,
         const char *detail)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (ew_job_store_journal (store, job_id, step, module_id, "ok", detail, &error));
  g_assert_no_error (error);
}

/* Raw SQL on the file, behind the store's back, as a tamperer would. */
static void
raw_exec (const char *path,
          const char *sql)
{
  sqlite3 *db = NULL;
  char *message = NULL;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
  if (sqlite3_exec (db, sql, NULL, NULL, &message) != SQLITE_OK)
    g_error ("%s: %s", sql, message);
  sqlite3_close (db);
}

static gint64
raw_int (const char *path,
         const char *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 value;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  value = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return value;
}

static char *
raw_text (const char *path,
          const char *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  char *value;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  value = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return value;
}

static GBytes *
bytes_of (const char *hex)
{
  return g_bytes_new (hex, strlen (hex));
}

/* ---- open ---- */

static void
test_open_create_reopen (Fixture       *f,
                         gconstpointer  data)
{
  g_autofree char *nested = g_build_filename (f->dir, "a", "b", "jobs.sqlite", NULL);
  g_autofree char *mode = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(EwJobRecord) record = NULL;
  EwJobStore *store;
  gint64 id;

  (void) data;
  store = store_open (nested);
  g_assert_cmpstr (ew_job_store_get_path (store), ==, nested);
  id = begin_job (store, "Enable cornering lights");
  ew_job_store_close (store);

  g_assert_true (g_file_test (nested, G_FILE_TEST_IS_REGULAR));
  mode = raw_text (nested, "PRAGMA journal_mode");
  g_assert_cmpstr (mode, ==, "wal");
  g_assert_cmpint (raw_int (nested, "PRAGMA user_version"), ==, 1);
  g_assert_cmpint (raw_int (nested, "PRAGMA application_id"), ==, 0x45435557);
  g_assert_cmpint (raw_int (nested, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'"
                                    " AND name IN ('jobs', 'vehicles', 'scans', 'backups',"
                                    " 'journal', 'meta')"), ==, 6);

  /* reopening migrates nothing and keeps the job */
  store = store_open (nested);
  record = ew_job_store_get_job (store, id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (record->summary, ==, "Enable cornering lights");
  g_assert_cmpint (record->state, ==, EW_JOB_STATE_RUNNING);
  ew_job_store_close (store);
  g_assert_cmpint (raw_int (nested, "SELECT COUNT(*) FROM jobs"), ==, 1);
}

/* The default path comes from XDG_DATA_HOME, which GLib reads once per
 * process: a child process gets this test's own. */
/* Version 0 is a file with no schema: an empty file, or an SQLite
 * database with nothing in it. Both become a store. */
static void
test_open_migrate_empty (Fixture       *f,
                         gconstpointer  data)
{
  g_autofree char *zero_path = g_build_filename (f->dir, "zero.sqlite", NULL);
  g_autofree char *blank_path = g_build_filename (f->dir, "blank.sqlite", NULL);
  const char *paths[] = { zero_path, blank_path };
  sqlite3 *db = NULL;

  (void) data;
  g_assert_true (g_file_set_contents (zero_path, "", 0, NULL));
  g_assert_cmpint (sqlite3_open (blank_path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "VACUUM", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
  g_assert_cmpint (raw_int (blank_path, "PRAGMA user_version"), ==, 0);

  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      EwJobStore *store = store_open (paths[i]);

      begin_job (store, "Coding");
      ew_job_store_close (store);
      g_assert_cmpint (raw_int (paths[i], "PRAGMA user_version"), ==, 1);
      g_assert_cmpint (raw_int (paths[i], "SELECT COUNT(*) FROM jobs"), ==, 1);
    }
}

static void
test_open_default_path (Fixture       *f,
                        gconstpointer  data)
{
  g_autofree char *data_home = g_build_filename (f->dir, "data", NULL);
  g_autofree char *expected = g_build_filename (data_home, "ecu-workshop", "jobs.sqlite", NULL);
  g_autofree char *from_env = g_build_filename (f->dir, "env", "jobs.sqlite", NULL);
  g_autofree char *saved_data_home = g_strdup (g_getenv ("XDG_DATA_HOME"));
  EwJobStore *store;

  (void) data;
  if (g_test_subprocess ())
    {
      g_autofree char *default_path = ew_job_store_default_path ();
      g_autofree char *child_expected = g_build_filename (g_getenv ("XDG_DATA_HOME"),
                                                          "ecu-workshop", "jobs.sqlite", NULL);

      g_assert_null (g_getenv ("ECU_WORKSHOP_JOB_STORE"));
      g_assert_cmpstr (g_get_user_data_dir (), ==, g_getenv ("XDG_DATA_HOME"));
      g_assert_cmpstr (default_path, ==, child_expected);
      store = store_open (NULL);
      g_assert_cmpstr (ew_job_store_get_path (store), ==, child_expected);
      ew_job_store_close (store);
      return;
    }

  g_unsetenv ("ECU_WORKSHOP_JOB_STORE");
  g_setenv ("XDG_DATA_HOME", data_home, TRUE);
  g_test_trap_subprocess (NULL, 30 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  if (saved_data_home != NULL)
    g_setenv ("XDG_DATA_HOME", saved_data_home, TRUE);
  else
    g_unsetenv ("XDG_DATA_HOME");
  g_test_trap_assert_passed ();
  g_assert_true (g_file_test (expected, G_FILE_TEST_IS_REGULAR));

  g_setenv ("ECU_WORKSHOP_JOB_STORE", from_env, TRUE);
  store = store_open (NULL);
  g_assert_cmpstr (ew_job_store_get_path (store), ==, from_env);
  ew_job_store_close (store);
  g_assert_true (g_file_test (from_env, G_FILE_TEST_IS_REGULAR));

  /* an explicit path wins over both */
  store = store_open (f->path);
  g_assert_cmpstr (ew_job_store_get_path (store), ==, f->path);
  ew_job_store_close (store);
  g_unsetenv ("ECU_WORKSHOP_JOB_STORE");
}

static void
assert_refused_untouched (const char *path,
                          const char *words)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  gsize before_length = 0, after_length = 0;
  GStatBuf st_before, st_after;
  EwJobStore *store;

  g_assert_true (g_file_get_contents (path, &before, &before_length, NULL));
  g_assert_cmpint (g_stat (path, &st_before), ==, 0);

  store = ew_job_store_open (path, &error);
  g_assert_null (store);
  g_assert_error (error, EW_JOB_STORE_ERROR, EW_JOB_STORE_ERROR_OPEN);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, words));

  g_assert_true (g_file_get_contents (path, &after, &after_length, NULL));
  g_assert_cmpmem (before, before_length, after, after_length);
  g_assert_cmpint (g_stat (path, &st_after), ==, 0);
  g_assert_cmpint (st_before.st_mtime, ==, st_after.st_mtime);
  g_assert_false (g_file_test (wal, G_FILE_TEST_EXISTS));
}

static void
test_open_foreign (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *random_path = g_build_filename (f->dir, "random.bin", NULL);
  g_autofree char *short_path = g_build_filename (f->dir, "short.txt", NULL);
  g_autofree char *other_path = g_build_filename (f->dir, "notes.sqlite", NULL);
  g_autoptr(GRand) rand = g_rand_new_with_seed (4);
  guint8 noise[8192];

  (void) data;
  for (gsize i = 0; i < sizeof noise; i++)
    noise[i] = (guint8) g_rand_int_range (rand, 0, 256);
  g_assert_true (g_file_set_contents (random_path, (const char *) noise, sizeof noise, NULL));
  assert_refused_untouched (random_path, "not an ECU Workshop job store");

  g_assert_true (g_file_set_contents (short_path, "hello", -1, NULL));
  assert_refused_untouched (short_path, "not an ECU Workshop job store");

  /* another application's database, in the default rollback journal mode */
  {
    sqlite3 *db = NULL;

    g_assert_cmpint (sqlite3_open (other_path, &db), ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_exec (db, "CREATE TABLE notes (text TEXT);"
                                       "INSERT INTO notes VALUES ('keep me')",
                                   NULL, NULL, NULL), ==, SQLITE_OK);
    sqlite3_close (db);
  }
  assert_refused_untouched (other_path, "another application");
  g_assert_cmpint (raw_int (other_path, "SELECT COUNT(*) FROM notes"), ==, 1);

  /* a store whose first page (the schema) was overwritten */
  {
    g_autofree char *damaged_path = g_build_filename (f->dir, "damaged.sqlite", NULL);
    g_autofree char *contents = NULL;
    gsize length = 0;
    EwJobStore *store = store_open (damaged_path);

    begin_job (store, "Coding");
    ew_job_store_close (store);
    g_assert_true (g_file_get_contents (damaged_path, &contents, &length, NULL));
    g_assert_cmpuint (length, >=, 4096);
    memcpy (contents + 100, noise, 4096 - 100);
    g_assert_true (g_file_set_contents (damaged_path, contents, length, NULL));
    assert_refused_untouched (damaged_path, "Cannot open job store");
  }

  /* a store of a newer schema than this code knows */
  ew_job_store_close (store_open (f->path));
  raw_exec (f->path, "PRAGMA user_version = 99");
  {
    g_autoptr(GError) error = NULL;
    EwJobStore *store = ew_job_store_open (f->path, &error);

    g_assert_null (store);
    g_assert_error (error, EW_JOB_STORE_ERROR, EW_JOB_STORE_ERROR_OPEN);
    g_assert_nonnull (strstr (error->message, "schema version 99"));
  }
}

/* ---- jobs ---- */

static void
test_jobs_lifecycle (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(EwJobStore) store = store_open (f->path);
  g_autoptr(GError) error = NULL;
  g_autoptr(GDateTime) start = g_date_time_new_now_utc ();
  g_autoptr(GPtrArray) jobs = NULL;
  g_autoptr(GPtrArray) unfinished = NULL;
  gint64 a, b, c;

  (void) data;
  a = begin_job (store, "Enable cornering lights");
  b = ew_job_store_begin_job (store, EW_JOB_KIND_PROGRAMMING, NULL, NULL, "doip:127.0.0.1",
                              "Instrument cluster software", 0, &error);
  g_assert_no_error (error);
  c = ew_job_store_begin_job (store, EW_JOB_KIND_RESTORE, "WVWZZZ1KZAW000001", "demo-family",
                              "sim:demo-family", "Undo cornering lights", a, &error);
  g_assert_no_error (error);
  g_assert_cmpint (a, <, b);
  g_assert_cmpint (b, <, c);

  {
    g_autoptr(EwJobRecord) record = ew_job_store_get_job (store, c, &error);
    g_autoptr(GDateTime) now = g_date_time_new_now_utc ();

    g_assert_no_error (error);
    g_assert_cmpint (record->id, ==, c);
    g_assert_cmpint (record->kind, ==, EW_JOB_KIND_RESTORE);
    g_assert_cmpint (record->state, ==, EW_JOB_STATE_RUNNING);
    g_assert_cmpstr (record->vin, ==, "WVWZZZ1KZAW000001");
    g_assert_cmpstr (record->family_id, ==, "demo-family");
    g_assert_cmpstr (record->link_uri, ==, "sim:demo-family");
    g_assert_cmpint (record->restores_job_id, ==, a);
    g_assert_null (record->finished);
    g_assert_cmpint (g_date_time_get_utc_offset (record->started), ==, 0);
    g_assert_cmpint (g_date_time_compare (record->started, start), >=, 0);
    g_assert_cmpint (g_date_time_compare (record->started, now), <=, 0);
  }
  {
    g_autoptr(EwJobRecord) record = ew_job_store_get_job (store, b, &error);

    g_assert_no_error (error);
    g_assert_null (record->vin);
    g_assert_null (record->family_id);
    g_assert_cmpint (record->kind, ==, EW_JOB_KIND_PROGRAMMING);
    g_assert_cmpint (record->restores_job_id, ==, 0);
  }

  /* ending one sets its finish time */
  g_assert_true (ew_job_store_set_job_state (store, a, EW_JOB_STATE_DONE, &error));
  g_assert_no_error (error);
  {
    g_autoptr(EwJobRecord) record = ew_job_store_get_job (store, a, &error);

    g_assert_no_error (error);
    g_assert_cmpint (record->state, ==, EW_JOB_STATE_DONE);
    g_assert_nonnull (record->finished);
    g_assert_cmpint (g_date_time_compare (record->finished, record->started), >=, 0);
  }

  /* never back to RUNNING; on to another finished state is fine */
  g_assert_false (ew_job_store_set_job_state (store, a, EW_JOB_STATE_RUNNING, &error));
  g_assert_error (error, EW_JOB_STORE_ERROR, EW_JOB_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_true (ew_job_store_set_job_state (store, a, EW_JOB_STATE_RESTORED, &error));
  g_assert_no_error (error);
  g_assert_true (ew_job_store_set_job_state (store, b, EW_JOB_STATE_RUNNING, &error));
  g_assert_no_error (error);

  jobs = ew_job_store_list_jobs (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (jobs->len, ==, 3);
  g_assert_cmpint (((EwJobRecord *) jobs->pdata[0])->id, ==, c);
  g_assert_cmpint (((EwJobRecord *) jobs->pdata[1])->id, ==, b);
  g_assert_cmpint (((EwJobRecord *) jobs->pdata[2])->id, ==, a);
  g_assert_cmpint (((EwJobRecord *) jobs->pdata[2])->state, ==, EW_JOB_STATE_RESTORED);

  unfinished = ew_job_store_list_unfinished (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (unfinished->len, ==, 2);
  g_assert_cmpint (((EwJobRecord *) unfinished->pdata[0])->id, ==, c);
  g_assert_cmpint (((EwJobRecord *) unfinished->pdata[1])->id, ==, b);

  /* unknown jobs */
  g_assert_null (ew_job_store_get_job (store, 999, &error));
  g_assert_error (error, EW_JOB_STORE_ERROR, EW_JOB_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (ew_job_store_set_job_state (store, 999, EW_JOB_STATE_DONE, &error));
  g_assert_error (error, EW_JOB_STORE_ERROR, EW_JOB_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_cmpint (ew_job_store_begin_job (store, EW_JOB_KIND_RESTORE, NULL, NULL, "sim:x",
                                           "Undo nothing", 999, &error), ==, 0);
  g_assert_error (error, EW_JOB_STORE_ERROR, EW_JOB_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_cmpstr (ew_job_state_to_string (EW_JOB_STATE_ROLLED_BACK), ==, "rolled-back");
  g_assert_cmpstr (ew_job_record_kind_to_string (EW_JOB_KIND_PROGRAMMING), ==, "programming");
  g_assert_cmpstr (ew_backup_state_to_string (EW_BACKUP_WRITING), ==, "writing");
}

/* A process that dies mid-job: the child begins a job, backs a DID up,
 * marks it WRITING and then dies without closing the store. */
static void
test_jobs_crash (gconstpointer data)
{
  gboolean by_signal = GPOINTER_TO_INT (data);
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autoptr(EwJobStore) store = NULL;
  g_autoptr(GPtrArray) unfinished = NULL;
  g_autoptr(GPtrArray) backups = NULL;
  g_autoptr(GBytes) before = bytes_of ("\x01\x02\x00\xff");
  g_autoptr(GBytes) after = bytes_of ("\x01\x03\x00\xff");
  guint64 n_entries = 0;

  if (g_test_subprocess ())
    {
      EwJobStore *child = ew_job_store_open (NULL, &error);   /* path from the environment */
      gint64 id;

      g_assert_no_error (error);
      id = begin_job (child, "Enable cornering lights");
      g_assert_true (ew_job_store_add_backup (child, id, "BCM", 0x0600, before, after, &error));
      g_assert_no_error (error);
      journal (child, id, "backup", "BCM", "DID 0x0600");
      g_assert_true (ew_job_store_set_backup_state (child, id, "BCM", 0x0600,
                                                    EW_BACKUP_WRITING, &error));
      g_assert_no_error (error);
      if (by_signal)
        raise (SIGKILL);
      _exit (0);
    }

  dir = g_dir_make_tmp ("ew-store-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (dir, "jobs.sqlite", NULL);
  g_setenv ("ECU_WORKSHOP_JOB_STORE", path, TRUE);
  g_test_trap_subprocess (NULL, 30 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_unsetenv ("ECU_WORKSHOP_JOB_STORE");
  if (by_signal)
    g_test_trap_assert_failed ();
  else
    g_test_trap_assert_passed ();

  store = store_open (path);
  unfinished = ew_job_store_list_unfinished (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (unfinished->len, ==, 1);
  {
    EwJobRecord *record = unfinished->pdata[0];

    g_assert_cmpint (record->state, ==, EW_JOB_STATE_RUNNING);
    g_assert_cmpstr (record->summary, ==, "Enable cornering lights");
    backups = ew_job_store_get_backups (store, record->id, &error);
    g_assert_no_error (error);
  }
  g_assert_cmpuint (backups->len, ==, 1);
  {
    EwJobBackup *backup = backups->pdata[0];

    g_assert_cmpstr (backup->module_id, ==, "BCM");
    g_assert_cmpuint (backup->did, ==, 0x0600);
    g_assert_true (g_bytes_equal (backup->before, before));
    g_assert_true (g_bytes_equal (backup->after, after));
    g_assert_cmpint (backup->state, ==, EW_BACKUP_WRITING);
  }
  g_assert_true (ew_job_store_verify (store, &n_entries, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n_entries, ==, 1);

  g_clear_pointer (&store, ew_job_store_close);
  ew_test_remove_tree (dir);
}

/* ---- backups ---- */

static void
test_backups (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(EwJobStore) store = store_open (f->path);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) old1 = bytes_of ("\x10\x20");
  g_autoptr(GBytes) new1 = bytes_of ("\x10\x21");
  g_autoptr(GBytes) old2 = bytes_of ("\xaa");
  g_autoptr(GBytes) new2 = bytes_of ("\xbb");
  g_autoptr(GBytes) empty = g_bytes_new (NULL, 0);
  g_autoptr(GPtrArray) backups = NULL;
  gint64 job = begin_job (store, "Coding");
  gint64 other = begin_job (store, "Other coding");

  (void) data;
  g_assert_true (ew_job_store_add_backup (store, job, "BCM", 0x0600, old1, new1, &error));
  g_assert_no_error (error);
  g_assert_true (ew_job_store_add_backup (store, job, "BCM", 0x0601, old2, new2, &error));
  g_assert_no_error (error);
  /* the same DID in another module, and in another job, is another backup */
  g_assert_true (ew_job_store_add_backup (store, job, "IC", 0x0600, empty, new2, &error));
  g_assert_no_error (error);
  g_assert_true (ew_job_store_add_backup (store, other, "BCM", 0x0600, old2, new2, &error));
  g_assert_no_error (error);

  /* the same bytes again: nothing new; other bytes: refused, first kept */
  g_assert_true (ew_job_store_add_backup (store, job, "BCM", 0x0600, old1, new1, &error));
  g_assert_no_error (error);
  g_assert_false (ew_job_store_add_backup (store, job, "BCM", 0x0600, new1, new1, &error));
  g_assert_error (error, EW_JOB_STORE_ERROR, EW_JOB_STORE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "0x0600"));
  g_clear_error (&error);
  g_assert_cmpint (raw_int (f->path, "SELECT COUNT(*) FROM backups"), ==, 4);

  g_assert_true (ew_job_store_set_backup_state (store, job, "BCM", 0x0600, EW_BACKUP_WRITING, &error));
  g_assert_no_error (error);
  g_assert_true (ew_job_store_set_backup_state (store, job, "BCM", 0x0600, EW_BACKUP_VERIFIED, &error));
  g_assert_no_error (error);
  g_assert_false (ew_job_store_set_backup_state (store, job, "BCM", 0x0700, EW_BACKUP_WRITING, &error));
  g_assert_error (error, EW_JOB_STORE_ERROR, EW_JOB_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  backups = ew_job_store_get_backups (store, job, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (backups->len, ==, 3);
  {
    EwJobBackup *b0 = backups->pdata[0], *b1 = backups->pdata[1], *b2 = backups->pdata[2];

    g_assert_cmpint (b0->job_id, ==, job);
    g_assert_cmpstr (b0->module_id, ==, "BCM");
    g_assert_cmpuint (b0->did, ==, 0x0600);
    g_assert_true (g_bytes_equal (b0->before, old1));
    g_assert_true (g_bytes_equal (b0->after, new1));
    g_assert_cmpint (b0->state, ==, EW_BACKUP_VERIFIED);
    g_assert_cmpuint (b1->did, ==, 0x0601);
    g_assert_cmpint (b1->state, ==, EW_BACKUP_SAVED);
    g_assert_cmpstr (b2->module_id, ==, "IC");
    g_assert_cmpuint (g_bytes_get_size (b2->before), ==, 0);
  }
  g_clear_pointer (&backups, g_ptr_array_unref);
  backups = ew_job_store_get_backups (store, other, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (backups->len, ==, 1);
  g_assert_cmpint (((EwJobBackup *) backups->pdata[0])->state, ==, EW_BACKUP_SAVED);

  /* a finished job takes no new backup, but a restore may mark its old ones */
  g_assert_true (ew_job_store_set_job_state (store, job, EW_JOB_STATE_DONE, &error));
  g_assert_no_error (error);
  g_assert_false (ew_job_store_add_backup (store, job, "BCM", 0x0602, old1, new1, &error));
  g_assert_error (error, EW_JOB_STORE_ERROR, EW_JOB_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_true (ew_job_store_set_backup_state (store, job, "BCM", 0x0600, EW_BACKUP_RESTORED, &error));
  g_assert_no_error (error);

  g_assert_false (ew_job_store_add_backup (store, 999, "BCM", 0x0600, old1, new1, &error));
  g_assert_error (error, EW_JOB_STORE_ERROR, EW_JOB_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_null (ew_job_store_get_backups (store, 999, &error));
  g_assert_error (error, EW_JOB_STORE_ERROR, EW_JOB_STORE_ERROR_NOT_FOUND);
}

/* ---- journal ---- */

static void
test_journal_chain (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(EwJobStore) store = store_open (f->path);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) all = NULL;
  g_autoptr(GPtrArray) of_job = NULL;
  g_autofree char *first_prev = NULL;
  guint64 n_entries = 99;
  gint64 job;

  (void) data;
  /* an empty journal verifies */
  g_assert_true (ew_job_store_verify (store, &n_entries, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n_entries, ==, 0);

  job = begin_job (store, "Coding");
  journal (store, 0, "acknowledge", NULL, NULL);
  journal (store, job, "backup", "BCM", "DID 0x0600: 10 20");
  journal (store, job, "write", "BCM", NULL);
  journal (store, job, "verify", "BCM", "");

  g_assert_true (ew_job_store_verify (store, &n_entries, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n_entries, ==, 4);

  all = ew_job_store_get_journal (store, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (all->len, ==, 4);
  for (guint i = 0; i < all->len; i++)
    {
      EwJournalEntry *entry = all->pdata[i];

      g_assert_cmpint (entry->seq, ==, i + 1);
      g_assert_cmpuint (strlen (entry->hash), ==, 64);
      g_assert_cmpint (g_date_time_get_utc_offset (entry->time), ==, 0);
      if (i > 0)
        {
          EwJournalEntry *previous = all->pdata[i - 1];

          g_assert_cmpstr (entry->hash, !=, previous->hash);
          g_assert_cmpint (g_date_time_compare (entry->time, previous->time), >=, 0);
        }
    }
  g_assert_cmpint (((EwJournalEntry *) all->pdata[0])->job_id, ==, 0);
  g_assert_null (((EwJournalEntry *) all->pdata[0])->module_id);
  g_assert_null (((EwJournalEntry *) all->pdata[2])->detail);
  g_assert_cmpstr (((EwJournalEntry *) all->pdata[3])->detail, ==, "");

  of_job = ew_job_store_get_journal (store, job, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (of_job->len, ==, 3);
  g_assert_cmpstr (((EwJournalEntry *) of_job->pdata[0])->step, ==, "backup");
  g_assert_cmpstr (((EwJournalEntry *) of_job->pdata[0])->detail, ==, "DID 0x0600: 10 20");
  g_assert_cmpint (((EwJournalEntry *) of_job->pdata[0])->job_id, ==, job);

  /* the chain starts at 64 zeros and the stored time has microseconds */
  first_prev = raw_text (f->path, "SELECT prev_hash FROM journal WHERE seq = 1");
  g_assert_cmpstr (first_prev, ==,
                   "0000000000000000000000000000000000000000000000000000000000000000");
  {
    g_autofree char *time = raw_text (f->path, "SELECT time FROM journal WHERE seq = 2");
    g_autoptr(GRegex) iso = g_regex_new ("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}Z$",
                                         0, 0, NULL);

    g_assert_true (g_regex_match (iso, time, 0, NULL));
  }

  g_assert_false (ew_job_store_journal (store, 999, "write", "BCM", "ok", NULL, &error));
  g_assert_error (error, EW_JOB_STORE_ERROR, EW_JOB_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_null (ew_job_store_get_journal (store, 999, &error));
  g_assert_error (error, EW_JOB_STORE_ERROR, EW_JOB_STORE_ERROR_NOT_FOUND);
}

typedef struct {
  const char *name;
  const char *sql;        /* run behind the store's back */
  const char *expected;   /* words of the error message */
  guint64     n_verified; /* entries that still verify, from the first */
} TamperCase;

static const TamperCase tamper_cases[] = {
  { "edited-detail", "UPDATE journal SET detail = 'DID 0x0600: 10 21' WHERE seq = 3",
    "journal entry 3 does not match its hash", 2 },
  /* a character moved from one field to the next */
  { "moved-character", "UPDATE journal SET step = 'backu', module_id = 'pBCM' WHERE seq = 3",
    "journal entry 3 does not match its hash", 2 },
  { "null-for-empty", "UPDATE journal SET detail = NULL WHERE seq = 4 AND detail = ''",
    "journal entry 4 does not match its hash", 3 },
  { "deleted-middle", "DELETE FROM journal WHERE seq = 3",
    "journal entry 3 is missing", 2 },
  { "deleted-last", "DELETE FROM journal WHERE seq = 5",
    "journal entry 5 is missing at the end", 4 },
  { "deleted-last-two", "DELETE FROM journal WHERE seq >= 4",
    "entries 4 to 5 are missing at the end", 3 },
  { "inserted-forged",
    "INSERT INTO journal (seq, job_id, time, step, module_id, outcome, detail, prev_hash, hash)"
    " SELECT 6, job_id, time, 'write', 'BCM', 'ok', NULL, hash,"
    " '1111111111111111111111111111111111111111111111111111111111111111'"
    " FROM journal WHERE seq = 5",
    "journal entry 6 does not match its hash", 5 },
  { "swapped-times",
    "UPDATE journal SET time = CASE seq WHEN 2 THEN (SELECT time FROM journal WHERE seq = 3)"
    " ELSE (SELECT time FROM journal WHERE seq = 2) END WHERE seq IN (2, 3)",
    "journal entry 2 does not match its hash", 1 },
  { "reordered-rows",
    "UPDATE journal SET seq = -3 WHERE seq = 3;"
    "UPDATE journal SET seq = 3 WHERE seq = 2;"
    "UPDATE journal SET seq = 2 WHERE seq = -3",
    "journal entry 2 does not follow", 1 },
  { "head-moved", "UPDATE meta SET value = 4 WHERE key = 'chain_seq'",
    "journal entry 5 lies beyond", 5 },
};

static void
test_journal_tamper (gconstpointer data)
{
  const TamperCase *tc = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ew-store-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "jobs.sqlite", NULL);
  EwJobStore *store;
  guint64 n_entries = 0;
  gint64 job;

  g_assert_no_error (error);
  store = store_open (path);
  job = begin_job (store, "Coding");
  journal (store, job, "preflight", "BCM", NULL);
  journal (store, job, "backup", "BCM", "DID 0x0600: 10 20");
  journal (store, job, "backup", "BCM", "DID 0x0601: aa");
  journal (store, job, "write", "BCM", "");
  journal (store, job, "verify", "BCM", "ok");
  g_assert_true (ew_job_store_verify (store, &n_entries, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n_entries, ==, 5);
  ew_job_store_close (store);

  raw_exec (path, tc->sql);

  store = store_open (path);
  g_assert_false (ew_job_store_verify (store, &n_entries, &error));
  g_assert_error (error, EW_JOB_STORE_ERROR, EW_JOB_STORE_ERROR_TAMPERED);
  g_test_message ("%s: %s", tc->name, error->message);
  g_assert_nonnull (strstr (error->message, tc->expected));
  g_assert_cmpuint (n_entries, ==, tc->n_verified);
  ew_job_store_close (store);
  ew_test_remove_tree (dir);
}

/* The encoding written down in job-store.c, computed again here. */
static void
encode_field (GChecksum  *checksum,
              const char *text)
{
  g_autofree char *prefix = NULL;

  if (text == NULL)
    {
      g_checksum_update (checksum, (const guchar *) "-", 1);
      return;
    }
  prefix = g_strdup_printf ("%zu:", strlen (text));
  g_checksum_update (checksum, (const guchar *) prefix, -1);
  g_checksum_update (checksum, (const guchar *) text, -1);
}

static char *
compute_hash (gint64      seq,
              gint64      job_id,
              const char *time,
              const char *step,
              const char *module_id,
              const char *outcome,
              const char *detail,
              const char *prev_hash)
{
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree char *seq_text = g_strdup_printf ("%" G_GINT64_FORMAT, seq);
  g_autofree char *job_text = g_strdup_printf ("%" G_GINT64_FORMAT, job_id);

  encode_field (checksum, "ecu-workshop-journal-1");
  encode_field (checksum, seq_text);
  encode_field (checksum, job_text);
  encode_field (checksum, time);
  encode_field (checksum, step);
  encode_field (checksum, module_id);
  encode_field (checksum, outcome);
  encode_field (checksum, detail);
  encode_field (checksum, prev_hash);
  return g_strdup (g_checksum_get_string (checksum));
}

static char *
expected_hash (sqlite3_stmt *row)   /* seq, job_id, time, step, module, outcome, detail, prev */
{
  return compute_hash (sqlite3_column_int64 (row, 0), sqlite3_column_int64 (row, 1),
                       (const char *) sqlite3_column_text (row, 2),
                       (const char *) sqlite3_column_text (row, 3),
                       (const char *) sqlite3_column_text (row, 4),
                       (const char *) sqlite3_column_text (row, 5),
                       (const char *) sqlite3_column_text (row, 6),
                       (const char *) sqlite3_column_text (row, 7));
}

static void
test_journal_encoding (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(EwJobStore) store = store_open (f->path);
  g_autoptr(GError) error = NULL;
  g_autofree char *forged_hash = NULL;
  guint64 n_entries = 0;
  sqlite3 *db = NULL;
  sqlite3_stmt *row = NULL;
  gint64 job = begin_job (store, "Coding");
  guint n_rows = 0;

  (void) data;
  journal (store, 0, "acknowledge", NULL, NULL);
  journal (store, job, "backup", "BCM", "DID 0x0600: 10 20");

  g_assert_cmpint (sqlite3_open_v2 (f->path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT seq, job_id, time, step, module_id, outcome,"
                                           " detail, prev_hash, hash FROM journal ORDER BY seq",
                                       -1, &row, NULL), ==, SQLITE_OK);
  while (sqlite3_step (row) == SQLITE_ROW)
    {
      g_autofree char *hash = expected_hash (row);

      g_assert_cmpstr (hash, ==, (const char *) sqlite3_column_text (row, 8));
      n_rows++;
    }
  g_assert_cmpuint (n_rows, ==, 2);
  sqlite3_finalize (row);

  /* a third entry whose hash and link are right, appended behind the
   * store's back: only the head in meta gives it away */
  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT 3, job_id, time, 'write', 'BCM', 'ok', NULL,"
                                           " hash FROM journal WHERE seq = 2",
                                       -1, &row, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (row), ==, SQLITE_ROW);
  forged_hash = expected_hash (row);
  sqlite3_finalize (row);
  sqlite3_close (db);

  g_assert_cmpint (sqlite3_open_v2 (f->path, &db, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "INSERT INTO journal (seq, job_id, time, step, module_id,"
                                           " outcome, detail, prev_hash, hash)"
                                           " SELECT 3, job_id, time, 'write', 'BCM', 'ok', NULL,"
                                           " hash, ? FROM journal WHERE seq = 2",
                                       -1, &row, NULL), ==, SQLITE_OK);
  sqlite3_bind_text (row, 1, forged_hash, -1, SQLITE_STATIC);
  g_assert_cmpint (sqlite3_step (row), ==, SQLITE_DONE);
  sqlite3_finalize (row);
  sqlite3_close (db);

  g_assert_false (ew_job_store_verify (store, &n_entries, &error));
  g_assert_error (error, EW_JOB_STORE_ERROR, EW_JOB_STORE_ERROR_TAMPERED);
  g_assert_nonnull (strstr (error->message, "journal entry 3 lies beyond"));
  g_assert_cmpuint (n_entries, ==, 3);
}

/* ---- vehicles and scans ---- */

static void
test_vehicles_scans (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(EwJobStore) store = store_open (f->path);
  g_autoptr(GError) error = NULL;
  g_autofree char *first_seen = NULL;
  g_autofree char *first_seen_after = NULL;
  g_autofree char *last_seen = NULL;
  g_autofree char *registration = NULL;
  g_autofree char *family = NULL;
  g_autofree char *json = NULL;
  const char *snapshot = "{\"vin\": \"WVWZZZ1KZAW000001\", \"modules\": [{\"id\": \"BCM\"}]}";

  (void) data;
  g_assert_true (ew_job_store_note_vehicle (store, "WVWZZZ1KZAW000001", "demo-family",
                                            "B-EW 123", &error));
  g_assert_no_error (error);
  first_seen = raw_text (f->path, "SELECT first_seen FROM vehicles");
  g_usleep (2000);
  g_assert_true (ew_job_store_note_vehicle (store, "WVWZZZ1KZAW000001", "demo-family-2",
                                            NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (raw_int (f->path, "SELECT COUNT(*) FROM vehicles"), ==, 1);
  first_seen_after = raw_text (f->path, "SELECT first_seen FROM vehicles");
  last_seen = raw_text (f->path, "SELECT last_seen FROM vehicles");
  registration = raw_text (f->path, "SELECT registration FROM vehicles");
  family = raw_text (f->path, "SELECT family_id FROM vehicles");
  g_assert_cmpstr (first_seen_after, ==, first_seen);
  g_assert_cmpstr (last_seen, >, first_seen);
  g_assert_cmpstr (registration, ==, "B-EW 123");
  g_assert_cmpstr (family, ==, "demo-family-2");

  g_assert_true (ew_job_store_add_scan (store, "WVWZZZ1KZAW000001", "demo-family", snapshot, &error));
  g_assert_no_error (error);
  g_assert_true (ew_job_store_add_scan (store, NULL, NULL, "{}", &error));
  g_assert_no_error (error);
  g_assert_cmpint (raw_int (f->path, "SELECT COUNT(*) FROM scans"), ==, 2);
  json = raw_text (f->path, "SELECT json FROM scans WHERE vin = 'WVWZZZ1KZAW000001'");
  g_assert_cmpstr (json, ==, snapshot);

  /* read back through the store */
  {
    g_autoptr(GPtrArray) vehicles = NULL;
    g_autofree char *latest = NULL;
    g_autofree char *none = NULL;
    EwVehicleRecord *v;

    g_assert_true (ew_job_store_note_vehicle (store, "WDD2050421F000002", NULL, NULL, &error));
    vehicles = ew_job_store_list_vehicles (store, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (vehicles->len, ==, 2);
    v = g_ptr_array_index (vehicles, 0);   /* last seen first */
    g_assert_cmpstr (v->vin, ==, "WDD2050421F000002");
    g_assert_null (v->family_id);
    v = g_ptr_array_index (vehicles, 1);
    g_assert_cmpstr (v->vin, ==, "WVWZZZ1KZAW000001");
    g_assert_cmpstr (v->registration, ==, "B-EW 123");
    g_assert_cmpint (g_date_time_compare (v->first_seen, v->last_seen), <, 0);

    g_assert_true (ew_job_store_add_scan (store, "WVWZZZ1KZAW000001", "demo-family", "{\"n\": 2}",
                                          &error));
    latest = ew_job_store_get_latest_scan (store, "WVWZZZ1KZAW000001", &error);
    g_assert_no_error (error);
    g_assert_cmpstr (latest, ==, "{\"n\": 2}");
    none = ew_job_store_get_latest_scan (store, "WDD2050421F000002", &error);
    g_assert_no_error (error);
    g_assert_null (none);
  }
}

/* ---- threads ---- */

#define N_THREADS 4
#define N_PER_THREAD 100

typedef struct {
  EwJobStore *store;
  gint64      job_id;
} Worker;

static gpointer
worker_run (gpointer data)
{
  Worker *worker = data;

  for (guint i = 0; i < N_PER_THREAD; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *detail = g_strdup_printf ("%u", i);

      if (!ew_job_store_journal (worker->store, worker->job_id, "write", "BCM", "ok",
                                 detail, &error))
        g_error ("journal from a thread: %s", error->message);
    }
  return NULL;
}

static void
test_threads (Fixture       *f,
              gconstpointer  data)
{
  /* two connections on one file as well, as two processes would have */
  g_autoptr(EwJobStore) store = store_open (f->path);
  g_autoptr(EwJobStore) second = store_open (f->path);
  g_autoptr(GError) error = NULL;
  Worker workers[N_THREADS];
  GThread *threads[N_THREADS];
  guint64 n_entries = 0;

  (void) data;
  for (guint t = 0; t < N_THREADS; t++)
    {
      workers[t].store = t % 2 == 0 ? store : second;
      workers[t].job_id = begin_job (store, "Threaded coding");
      threads[t] = g_thread_new ("journal", worker_run, &workers[t]);
    }
  /* the main thread journals at the same time, as the UI would */
  for (guint i = 0; i < N_PER_THREAD; i++)
    journal (store, 0, "acknowledge", NULL, NULL);
  for (guint t = 0; t < N_THREADS; t++)
    g_thread_join (threads[t]);

  g_assert_true (ew_job_store_verify (second, &n_entries, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n_entries, ==, (N_THREADS + 1) * N_PER_THREAD);
  for (guint t = 0; t < N_THREADS; t++)
    {
      g_autoptr(GPtrArray) entries = ew_job_store_get_journal (store, workers[t].job_id, &error);

      g_assert_no_error (error);
      g_assert_cmpuint (entries->len, ==, N_PER_THREAD);
      for (guint i = 0; i < entries->len; i++)
        {
          g_autofree char *detail = g_strdup_printf ("%u", i);
          EwJournalEntry *entry = entries->pdata[i];

          g_assert_cmpstr (entry->detail, ==, detail);
          if (i > 0)
            g_assert_cmpint (entry->seq, >, ((EwJournalEntry *) entries->pdata[i - 1])->seq);
        }
    }
}

static void
task_journal (GTask        *task,
              gpointer      source,
              gpointer      data,
              GCancellable *cancellable)
{
  Worker *worker = data;
  g_autoptr(GError) error = NULL;
  guint64 n_entries = 0;

  worker_run (worker);
  if (!ew_job_store_verify (worker->store, &n_entries, &error))
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_int (task, (gssize) n_entries);
}

static void
task_done (GObject      *source,
           GAsyncResult *result,
           gpointer      data)
{
  GAsyncResult **out = data;

  *out = g_object_ref (result);
}

static gboolean
timed_out (gpointer data)
{
  g_error ("the job store task did not finish in time");
  return G_SOURCE_REMOVE;
}

/* The way the application uses it: engine work in a GTask worker, the
 * result back on the main thread, which reads the store meanwhile. */
static void
test_gtask (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(EwJobStore) store = store_open (f->path);
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GTask) task = g_task_new (NULL, NULL, task_done, &result);
  Worker worker = { store, begin_job (store, "Coding") };
  guint timeout_id;
  gssize n_entries;

  (void) data;
  g_task_set_task_data (task, &worker, NULL);
  g_task_run_in_thread (task, task_journal);

  timeout_id = g_timeout_add_seconds (30, timed_out, NULL);
  while (result == NULL)
    {
      g_autoptr(GPtrArray) jobs = ew_job_store_list_jobs (store, &error);

      g_assert_no_error (error);
      g_assert_cmpuint (jobs->len, ==, 1);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  g_source_remove (timeout_id);

  n_entries = g_task_propagate_int (G_TASK (result), &error);
  g_assert_no_error (error);
  g_assert_cmpint (n_entries, ==, N_PER_THREAD);
}

/* ---- performance ---- */

/* Appends rows that chain correctly, in one transaction, the way the
 * store would have written them one by one: a large journal in a moment,
 * where 10 000 durable commits would take as long as the disk's syncs. */
static void
append_raw (const char *path,
            gint64      job_id,
            guint       n)
{
  g_autofree char *head_hash = raw_text (path, "SELECT value FROM meta WHERE key = 'chain_hash'");
  gint64 head_seq = raw_int (path, "SELECT value FROM meta WHERE key = 'chain_seq'");
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *time = g_date_time_format (now, "%Y-%m-%dT%H:%M:%S.%fZ");
  sqlite3 *db = NULL;
  sqlite3_stmt *insert = NULL;
  sqlite3_stmt *head = NULL;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 10000);
  g_assert_cmpint (sqlite3_exec (db, "BEGIN IMMEDIATE", NULL, NULL, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "INSERT INTO journal (seq, job_id, time, step,"
                                           " module_id, outcome, detail, prev_hash, hash)"
                                           " VALUES (?, ?, ?, 'transfer', 'ECM', 'ok', ?, ?, ?)",
                                       -1, &insert, NULL), ==, SQLITE_OK);
  for (guint i = 0; i < n; i++)
    {
      gint64 seq = head_seq + 1;
      g_autofree char *detail = g_strdup_printf ("block %u of %u", i + 1, n);
      char *hash = compute_hash (seq, job_id, time, "transfer", "ECM", "ok", detail, head_hash);

      sqlite3_bind_int64 (insert, 1, seq);
      sqlite3_bind_int64 (insert, 2, job_id);
      sqlite3_bind_text (insert, 3, time, -1, SQLITE_STATIC);
      sqlite3_bind_text (insert, 4, detail, -1, SQLITE_STATIC);
      sqlite3_bind_text (insert, 5, head_hash, -1, SQLITE_STATIC);
      sqlite3_bind_text (insert, 6, hash, -1, SQLITE_STATIC);
      g_assert_cmpint (sqlite3_step (insert), ==, SQLITE_DONE);
      sqlite3_reset (insert);
      g_free (head_hash);
      head_hash = hash;
      head_seq = seq;
    }
  sqlite3_finalize (insert);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "UPDATE meta SET value = CASE key"
                                           " WHEN 'chain_seq' THEN ? ELSE ? END"
                                           " WHERE key IN ('chain_seq', 'chain_hash')",
                                       -1, &head, NULL), ==, SQLITE_OK);
  sqlite3_bind_int64 (head, 1, head_seq);
  sqlite3_bind_text (head, 2, head_hash, -1, SQLITE_STATIC);
  g_assert_cmpint (sqlite3_step (head), ==, SQLITE_DONE);
  sqlite3_finalize (head);
  g_assert_cmpint (sqlite3_exec (db, "COMMIT", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
}

static void
test_verify_performance (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(EwJobStore) store = store_open (f->path);
  g_autoptr(GError) error = NULL;
  guint64 n_entries = 0;
  gint64 job = begin_job (store, "A long flash");
  double append_s, verify_s;
  const guint n_durable = 100, n_bulk = 10000;

  (void) data;
  /* through the store, each entry its own synced commit */
  g_test_timer_start ();
  for (guint i = 0; i < n_durable; i++)
    journal (store, job, "erase", "ECM", NULL);
  append_s = g_test_timer_elapsed ();
  append_raw (f->path, job, n_bulk);
  /* and the store goes on from the head the bulk rows left */
  journal (store, job, "verify", "ECM", "checksum ok");

  g_test_timer_start ();
  g_assert_true (ew_job_store_verify (store, &n_entries, &error));
  verify_s = g_test_timer_elapsed ();
  g_assert_no_error (error);
  g_assert_cmpuint (n_entries, ==, n_durable + n_bulk + 1);
  g_test_message ("%u durable appends took %.3f s (%.2f ms each); %" G_GUINT64_FORMAT
                  " journal entries verified in %.3f s",
                  n_durable, append_s, append_s * 1000 / n_durable, n_entries, verify_s);
  g_assert_cmpfloat (verify_s, <, 1.0);

  /* the same large journal with one entry changed in the middle */
  raw_exec (f->path, "UPDATE journal SET detail = 'block 5001 of 10001' WHERE seq = 5100");
  g_assert_false (ew_job_store_verify (store, &n_entries, &error));
  g_assert_error (error, EW_JOB_STORE_ERROR, EW_JOB_STORE_ERROR_TAMPERED);
  g_assert_nonnull (strstr (error->message, "journal entry 5100 "));
  g_assert_cmpuint (n_entries, ==, 5099);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/store/open/create-reopen", Fixture, NULL,
              fixture_setup, test_open_create_reopen, fixture_teardown);
  g_test_add ("/store/open/migrate-empty", Fixture, NULL,
              fixture_setup, test_open_migrate_empty, fixture_teardown);
  g_test_add ("/store/open/default-path", Fixture, NULL,
              fixture_setup, test_open_default_path, fixture_teardown);
  g_test_add ("/store/open/foreign-file", Fixture, NULL,
              fixture_setup, test_open_foreign, fixture_teardown);
  g_test_add ("/store/jobs/lifecycle", Fixture, NULL,
              fixture_setup, test_jobs_lifecycle, fixture_teardown);
  g_test_add_data_func ("/store/jobs/crash-kill", GINT_TO_POINTER (TRUE), test_jobs_crash);
  g_test_add_data_func ("/store/jobs/crash-exit", GINT_TO_POINTER (FALSE), test_jobs_crash);
  g_test_add ("/store/backups", Fixture, NULL,
              fixture_setup, test_backups, fixture_teardown);
  g_test_add ("/store/journal/chain", Fixture, NULL,
              fixture_setup, test_journal_chain, fixture_teardown);
  g_test_add ("/store/journal/encoding", Fixture, NULL,
              fixture_setup, test_journal_encoding, fixture_teardown);
  for (guint i = 0; i < G_N_ELEMENTS (tamper_cases); i++)
    {
      g_autofree char *name = g_strdup_printf ("/store/journal/tamper/%s", tamper_cases[i].name);

      g_test_add_data_func (name, &tamper_cases[i], test_journal_tamper);
    }
  g_test_add ("/store/vehicles-scans", Fixture, NULL,
              fixture_setup, test_vehicles_scans, fixture_teardown);
  g_test_add ("/store/threads", Fixture, NULL,
              fixture_setup, test_threads, fixture_teardown);
  g_test_add ("/store/gtask", Fixture, NULL,
              fixture_setup, test_gtask, fixture_teardown);
  g_test_add ("/store/journal/verify-10000", Fixture, NULL,
              fixture_setup, test_verify_performance, fixture_teardown);

  return g_test_run ();
}
