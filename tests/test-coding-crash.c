/* test-coding-crash.c — `ecuw code` killed in the middle of a coding
 * transaction loses nothing: the next start finds the unfinished job, and
 * `ecuw restore` brings every DID back to its original bytes; and the job
 * journal's hash chain finds a row edited behind the store's back.
 *
 * The simulated car runs in a process of its own (`ecuw sim --doip`) so
 * that it outlives the SIGKILLed coding process, as a real car would. */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <sqlite3.h>
#include <string.h>

#include "ecuw-run.h"
#include "store/job-store.h"

#define POLL_MS        10
#define KILL_WINDOW_MS 30000

static char *
make_temp_dir (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("ecuw-crash-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static void
remove_dir (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *file = g_build_filename (path, name, NULL);
      g_unlink (file);
    }
  g_rmdir (path);
}

static const char *
feature_state (const char *link, const char *feature_id)
{
  static char state[64];
  g_autoptr(EcuwRun) run = run_ecuw ("--link", link, "--json", "features", NULL);
  g_autoptr(JsonNode) root = NULL;
  JsonObject *f;

  assert_ecuw_status (run, 0);
  root = parse_json (run->out);
  f = find_by_member (json_object_get_array_member (json_node_get_object (root), "features"),
                      "id", feature_id);
  g_assert_nonnull (f);
  g_strlcpy (state, json_object_get_string_member_with_default (f, "state", "(none)"), sizeof state);
  return state;
}

/* The feature coded into module, of the two this test codes. */
static const char *
feature_of_module (const char *module_id)
{
  if (g_str_equal (module_id, "fem"))
    return "cornering-lights";
  g_assert_cmpstr (module_id, ==, "kombi");
  return "needle-sweep";
}

static void
test_kill_mid_transaction (void)
{
  g_autofree char *dir = make_temp_dir ();
  g_autofree char *store_path = g_build_filename (dir, "jobs.sqlite", NULL);
  g_autofree char *original_path = g_build_filename (dir, "original.state", NULL);
  g_autofree char *car_path = g_build_filename (dir, "car.state", NULL);
  g_autofree char *original_link = g_strdup_printf ("sim:bmw-f30?profile=features-disabled&state=%s",
                                                    original_path);
  g_autofree char *original = NULL;
  g_autofree char *restored = NULL;
  g_autofree char *link = NULL;
  g_autofree char *job_text = NULL;
  g_autofree char *verified_module = NULL;
  g_autoptr(GSubprocess) sim = NULL;
  g_autoptr(GSubprocess) coder = NULL;
  g_autoptr(GDataInputStream) sim_out = NULL;
  g_autoptr(GString) announcement = g_string_new (NULL);
  g_autoptr(EwJobStore) store = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = NULL;
  gint64 job_id = 0, deadline, writing_since = 0;
  gint64 port;

  ecuw_run_job_store = store_path;

  /* the car as it left the factory, for comparing at the end */
  {
    g_autoptr(EcuwRun) run = run_ecuw ("--link", original_link, "--json", "features", NULL);

    assert_ecuw_status (run, 0);
    original = coding_state (original_path);
  }

  /* the car: its own process, the instrument cluster slow to answer so
   * that the kill lands inside the transaction */
  {
    const char *argv[] = { g_getenv ("ECUW"), "--json", "sim", "bmw-f30", "--doip", "127.0.0.1:0",
                           "--profile", "features-disabled", "--faults", "delay=kombi:150",
                           "--state", car_path, NULL };

    sim = spawn_ecuw (G_SUBPROCESS_FLAGS_STDOUT_PIPE, argv);
  }
  sim_out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (sim));
  for (;;)
    {
      g_autofree char *line = g_data_input_stream_read_line (sim_out, NULL, NULL, &error);

      g_assert_no_error (error);
      g_assert_nonnull (line);
      g_string_append (announcement, line);
      if (g_str_equal (line, "}"))
        break;
    }
  root = parse_json (announcement->str);
  port = json_object_get_int_member (json_node_get_object (root), "port");
  g_assert_cmpint (port, >, 0);
  g_clear_pointer (&root, json_node_unref);
  link = g_strdup_printf ("doip:127.0.0.1:%" G_GINT64_FORMAT, port);

  store = ew_job_store_open (store_path, &error);
  g_assert_no_error (error);

  {
    const char *argv[] = { g_getenv ("ECUW"), "--link", link, "code",
                           "cornering-lights=on", "needle-sweep=on", NULL };

    coder = spawn_ecuw (G_SUBPROCESS_FLAGS_STDOUT_SILENCE, argv);
  }

  /* Kill once one module's new coding is written and verified while the
   * other's is not; failing that, once a write has been in flight for a
   * while. Either way the backup is on disk and the car is half-coded. */
  deadline = g_get_monotonic_time () + KILL_WINDOW_MS * G_TIME_SPAN_MILLISECOND;
  for (;;)
    {
      g_autoptr(GPtrArray) unfinished = NULL;
      g_autoptr(GPtrArray) backups = NULL;
      guint n_verified = 0, n_writing = 0;

      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      /* the identifier goes once the process has ended */
      g_assert_nonnull (g_subprocess_get_identifier (coder));
      g_usleep (POLL_MS * 1000);

      unfinished = ew_job_store_list_unfinished (store, &error);
      g_assert_no_error (error);
      if (unfinished->len == 0)
        continue;
      g_assert_cmpuint (unfinished->len, ==, 1);
      job_id = ((const EwJobRecord *) g_ptr_array_index (unfinished, 0))->id;
      backups = ew_job_store_get_backups (store, job_id, &error);
      g_assert_no_error (error);
      for (guint i = 0; i < backups->len; i++)
        {
          const EwJobBackup *b = g_ptr_array_index (backups, i);

          if (b->state == EW_BACKUP_VERIFIED)
            {
              n_verified++;
              if (verified_module == NULL)
                verified_module = g_strdup (b->module_id);
            }
          n_writing += b->state == EW_BACKUP_WRITING;
        }
      if (n_verified > 0 && n_verified < backups->len)
        break;
      g_clear_pointer (&verified_module, g_free);
      if (n_writing > 0 && writing_since == 0)
        writing_since = g_get_monotonic_time ();
      if (writing_since > 0 && g_get_monotonic_time () - writing_since > 100 * G_TIME_SPAN_MILLISECOND)
        break;
    }
  g_subprocess_force_exit (coder);
  g_assert_true (g_subprocess_wait (coder, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_signaled (coder));
  g_assert_cmpint (g_subprocess_get_term_sig (coder), ==, SIGKILL);
  g_test_message ("killed job %" G_GINT64_FORMAT " with %s verified", job_id,
                  verified_module != NULL ? verified_module : "nothing");

  /* the car is half-coded: the verified module holds the new coding */
  if (verified_module != NULL)
    g_assert_cmpstr (feature_state (link, feature_of_module (verified_module)), ==, "on");

  /* the next start finds the unfinished job */
  job_text = g_strdup_printf ("%" G_GINT64_FORMAT, job_id);
  {
    g_autoptr(EcuwRun) run = run_ecuw ("--json", "jobs", NULL);
    JsonArray *jobs;
    JsonObject *job;

    assert_ecuw_status (run, 0);
    root = parse_json (run->out);
    jobs = json_object_get_array_member (json_node_get_object (root), "jobs");
    g_assert_cmpuint (json_array_get_length (jobs), ==, 1);
    job = json_array_get_object_element (jobs, 0);
    g_assert_cmpint (json_object_get_int_member (job, "id"), ==, job_id);
    g_assert_true (json_object_get_boolean_member (job, "unfinished"));
    g_assert_cmpstr (json_object_get_string_member (job, "state"), ==, "running");
    g_clear_pointer (&root, json_node_unref);
  }
  {
    g_autoptr(EcuwRun) run = run_ecuw ("jobs", NULL);

    assert_ecuw_status (run, 0);
    g_assert_nonnull (strstr (run->out, "UNFINISHED"));
    g_assert_nonnull (strstr (run->out, "ecuw restore"));
  }

  /* restore: every DID back to the bytes it had */
  {
    g_autoptr(EcuwRun) run = run_ecuw ("--link", link, "restore", job_text, NULL);

    g_test_message ("restore: %s%s", run->out, run->err);
    assert_ecuw_status (run, 0);
  }
  g_assert_cmpstr (feature_state (link, "cornering-lights"), ==, "off");
  g_assert_cmpstr (feature_state (link, "needle-sweep"), ==, "off");
  {
    g_autoptr(EcuwRun) run = run_ecuw ("--json", "job", job_text, NULL);
    JsonObject *job;

    assert_ecuw_status (run, 0);
    root = parse_json (run->out);
    job = json_node_get_object (root);
    g_assert_false (json_object_get_boolean_member (job, "unfinished"));
    g_assert_cmpstr (json_object_get_string_member (job, "state"), ==, "restored");
    g_clear_pointer (&root, json_node_unref);
  }
  {
    g_autoptr(EcuwRun) run = run_ecuw ("jobs", "--verify", NULL);

    assert_ecuw_status (run, 0);
  }

  /* the car's own record of its coding, saved when it stops */
  g_subprocess_send_signal (sim, SIGINT);
  g_assert_true (g_subprocess_wait (sim, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (sim));
  g_assert_cmpint (g_subprocess_get_exit_status (sim), ==, 0);
  restored = coding_state (car_path);
  g_assert_cmpstr (restored, ==, original);

  g_clear_pointer (&store, ew_job_store_close);
  ecuw_run_job_store = NULL;
  remove_dir (dir);
}

/* The journal table of a job store: the one with step and outcome columns. */
static char *
find_journal_table (sqlite3 *db)
{
  sqlite3_stmt *tables = NULL;
  char *found = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT name FROM sqlite_master WHERE type = 'table'",
                                       -1, &tables, NULL), ==, SQLITE_OK);
  while (found == NULL && sqlite3_step (tables) == SQLITE_ROW)
    {
      const char *name = (const char *) sqlite3_column_text (tables, 0);
      g_autofree char *sql = g_strdup_printf ("PRAGMA table_info(\"%s\")", name);
      sqlite3_stmt *columns = NULL;
      gboolean has_step = FALSE, has_outcome = FALSE;

      g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &columns, NULL), ==, SQLITE_OK);
      while (sqlite3_step (columns) == SQLITE_ROW)
        {
          const char *column = (const char *) sqlite3_column_text (columns, 1);

          has_step |= g_str_equal (column, "step");
          has_outcome |= g_str_equal (column, "outcome");
        }
      sqlite3_finalize (columns);
      if (has_step && has_outcome)
        found = g_strdup (name);
    }
  sqlite3_finalize (tables);
  g_assert_nonnull (found);
  return found;
}

static void
test_journal_tamper (void)
{
  g_autofree char *dir = make_temp_dir ();
  g_autofree char *store_path = g_build_filename (dir, "jobs.sqlite", NULL);
  g_autofree char *table = NULL;
  g_autofree char *sql = NULL;
  g_autofree char *seq_text = NULL;
  g_autofree char *entry_text = NULL;
  g_autoptr(EwJobStore) store = NULL;
  g_autoptr(GPtrArray) journal = NULL;
  g_autoptr(GError) error = NULL;
  const EwJournalEntry *victim;
  sqlite3 *db = NULL;

  ecuw_run_job_store = store_path;
  {
    g_autoptr(EcuwRun) run = run_ecuw ("--link", "sim:bmw-f30?profile=features-disabled", "--json",
                                       "code", "cornering-lights=on", "mirror-fold-on-lock=on", NULL);

    g_test_message ("code: %s", run->err);
    assert_ecuw_status (run, 0);
  }
  {
    g_autoptr(EcuwRun) run = run_ecuw ("--json", "jobs", "--verify", NULL);
    g_autoptr(JsonNode) root = NULL;
    JsonObject *journal_object;

    assert_ecuw_status (run, 0);
    root = parse_json (run->out);
    journal_object = json_object_get_object_member (json_node_get_object (root), "journal");
    g_assert_true (json_object_get_boolean_member (journal_object, "verified"));
    g_assert_cmpint (json_object_get_int_member (journal_object, "entries"), >=, 3);
  }

  /* the entry to edit: one in the middle of the chain */
  store = ew_job_store_open (store_path, &error);
  g_assert_no_error (error);
  journal = ew_job_store_get_journal (store, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (journal->len, >=, 3);
  victim = g_ptr_array_index (journal, journal->len / 2);
  seq_text = g_strdup_printf ("%" G_GINT64_FORMAT, victim->seq);
  entry_text = g_strdup_printf ("entry %s", seq_text);
  g_clear_pointer (&store, ew_job_store_close);

  g_assert_cmpint (sqlite3_open_v2 (store_path, &db, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
  table = find_journal_table (db);
  /* seq is the journal's own numbering, as the store names entries */
  sql = g_strdup_printf ("UPDATE \"%s\" SET outcome = 'ok' || outcome WHERE seq = %s", table, seq_text);
  g_assert_cmpint (sqlite3_exec (db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_changes (db), ==, 1);
  g_assert_cmpint (sqlite3_close (db), ==, SQLITE_OK);

  {
    g_autoptr(EcuwRun) run = run_ecuw ("jobs", "--verify", NULL);

    g_test_message ("verify after tampering: %s", run->err);
    assert_ecuw_status (run, 1);
    g_assert_cmpstr (run->out, ==, "");
    g_assert_true (g_str_has_prefix (run->err, "ecuw: "));
    g_assert_nonnull (strstr (run->err, entry_text));
    g_assert_nonnull (strchr (run->err, '\n'));
    g_assert_cmpstr (strchr (run->err, '\n') + 1, ==, "");
  }
  {
    /* listing still works: the jobs are readable, only not trusted */
    g_autoptr(EcuwRun) run = run_ecuw ("jobs", NULL);

    assert_ecuw_status (run, 0);
  }

  ecuw_run_job_store = NULL;
  remove_dir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  if (g_getenv ("ECUW") == NULL)
    g_error ("ECUW must name the ecuw program to test");

  g_test_add_func ("/coding-crash/kill-mid-transaction", test_kill_mid_transaction);
  g_test_add_func ("/coding-crash/journal-tamper", test_journal_tamper);
  return g_test_run ();
}
