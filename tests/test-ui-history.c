/* test-ui-history.c — the History page in the real window: an
 * interrupted programming job resumed to the end, and a finished job's
 * sheet saved as a PDF. Run under Xvfb and a session bus
 * (build-aux/ui-test.sh). */
#include <glib/gstdio.h>
#include <string.h>

#include "ui-fixture.h"
#include "ew-history-page.h"
#include "ew-job-row.h"
#include "ew-programming-page.h"
#include "connect/connection.h"
#include "data-dir.h"
#include "flash/flash-engine.h"
#include "sim/sim-ecu.h"
#include "sim/sim-vehicle.h"
#include "store/job-store.h"

#define INTERRUPT_DIR_VARIABLE "EW_TEST_HISTORY_INTERRUPT_DIR"
#define INTERRUPT_AT_BYTES 3000

static EwHistoryPage *
history_page (UiFixture *fixture)
{
  return EW_HISTORY_PAGE (ew_window_get_history_page (fixture->window));
}

static EwProgrammingPage *
programming_page (UiFixture *fixture)
{
  GObject *page = gtk_widget_get_template_child (GTK_WIDGET (fixture->window), EW_TYPE_WINDOW,
                                                 "programming_page");
  g_assert_nonnull (page);
  return EW_PROGRAMMING_PAGE (page);
}

static const char *
visible_page (UiFixture *fixture)
{
  GtkWidget *stack = gtk_widget_get_ancestor (GTK_WIDGET (history_page (fixture)), ADW_TYPE_VIEW_STACK);

  g_assert_nonnull (stack);
  return adw_view_stack_get_visible_child_name (ADW_VIEW_STACK (stack));
}

static char *
car_uri (const char *dir)
{
  /* the simulated car keeps its modules in a file, as a real car keeps
   * them when the tool dies */
  return g_strdup_printf ("sim:vw-golf-mk7?state=%s/car.state", dir);
}

/* Programming job interrupted mid-flash */

static EwConnection *interrupt_connection;

static void
interrupt_on_progress (const EwFlashProgress *p, gpointer user_data)
{
  if (g_strcmp0 (p->step, "download") != 0 || p->bytes_sent < INTERRUPT_AT_BYTES)
    return;
  /* the process dies with the job RUNNING and the module half-written */
  ew_connection_close (interrupt_connection);
  _exit (0);
}

static void
interrupt_child (const char *dir)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EwVehicleDatabase) db = ew_vehicle_database_new (NULL);
  g_autofree char *store_path = g_build_filename (dir, "jobs.sqlite", NULL);
  g_autofree char *uri = car_uri (dir);
  g_autofree char *container = ew_data_path ("flash/vw-golf-mk7-cluster.xml");
  g_autoptr(EwJobStore) store = NULL;
  g_autoptr(EwConnection) connection = NULL;

  /* this process's own empty store folder is not used */
  g_rmdir (ui_test_store_dir ());
  ew_vehicle_database_add_default_dirs (db, NULL);
  store = ew_job_store_open (store_path, &error);
  g_assert_no_error (error);
  connection = ew_connection_open (uri, db, NULL, &error);
  g_assert_no_error (error);
  interrupt_connection = connection;
  ew_flash_run (connection, store, "cluster", container, NULL, interrupt_on_progress, NULL, NULL, &error);
  g_assert_not_reached ();
}

static void
test_interrupt_child (void)
{
  if (!g_test_subprocess ())
    {
      g_test_skip ("run by /ui-history/resume-programming");
      return;
    }
  interrupt_child (g_getenv (INTERRUPT_DIR_VARIABLE));
}

static gboolean
resume_is_finished (UiFixture *fixture)
{
  return ew_programming_page_get_state (programming_page (fixture)) == EW_PROGRAMMING_PAGE_FINISHED;
}

static char *
sim_software (EwConnection *connection, const char *module_id)
{
  EwSimVehicle *car = ew_connection_get_sim_vehicle (connection);
  EwSimEcu *ecu;
  const EwModule *module;
  g_autoptr(GBytes) bytes = NULL;

  g_assert_nonnull (car);
  ecu = ew_sim_vehicle_find_ecu (car, module_id);
  g_assert_nonnull (ecu);
  module = ew_sim_ecu_get_module (ecu);
  for (guint i = 0; i < module->identification->len; i++)
    {
      const EwIdentificationDid *id = g_ptr_array_index (module->identification, i);

      if (id->role == EW_ID_ROLE_SOFTWARE_VERSION)
        bytes = ew_sim_ecu_read_did (ecu, id->did);
    }
  g_assert_nonnull (bytes);
  return g_strstrip (g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes)));
}

static void
test_resume_programming (UiFixture *fixture, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) unfinished = NULL;
  g_autoptr(EwJobRecord) after = NULL;
  g_autofree char *store_path = NULL;
  g_autofree char *software = NULL;
  g_autofree char *uri = NULL;
  EwJobStore *store;
  const EwJobRecord *record;
  EwConnection *connection;
  GtkWidget *row;
  gint64 job_id;

  /* an earlier run of the app died mid-flash */
  fixture_tear_down (fixture, data);
  fixture->store_dir = g_strdup (ui_test_store_dir ());
  g_setenv (INTERRUPT_DIR_VARIABLE, ui_test_store_dir (), TRUE);
  g_test_trap_subprocess ("/ui-history/interrupt-child", 120 * G_USEC_PER_SEC,
                          G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
  g_unsetenv (INTERRUPT_DIR_VARIABLE);

  store_path = g_build_filename (ui_test_store_dir (), "jobs.sqlite", NULL);
  store = ew_job_store_open (store_path, &error);
  g_assert_no_error (error);
  unfinished = ew_job_store_list_unfinished (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (unfinished->len, ==, 1);
  record = g_ptr_array_index (unfinished, 0);
  job_id = record->id;
  g_assert_cmpint (record->kind, ==, EW_JOB_KIND_PROGRAMMING);
  ew_job_store_close (store);

  fixture_set_up (fixture, data);

  /* the window opens on History; the job offers Resume, not Restore */
  g_assert_cmpstr (visible_page (fixture), ==, "history");
  row = ew_history_page_find_row (history_page (fixture), job_id);
  g_assert_nonnull (row);
  g_assert_cmpstr (ew_job_row_get_state_text (EW_JOB_ROW (row)), ==, "Unfinished");
  g_assert_true (ew_job_row_is_resume (EW_JOB_ROW (row)));
  g_assert_true (ew_job_row_can_restore (EW_JOB_ROW (row)));
  g_assert_cmpstr (ew_job_row_get_action_label (EW_JOB_ROW (row)), ==, "_Resume");
  g_assert_false (ew_job_row_has_job_sheet (EW_JOB_ROW (row)));

  /* no car is connected on the page: the job's own link is used */
  uri = car_uri (ui_test_store_dir ());
  g_assert_null (ew_programming_page_get_link (programming_page (fixture)));

  /* Resume asks first, then the Programming page finishes the job */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (history_page (fixture)), "history.restore",
                                             "x", job_id));
  iterate_until (dialog_is_mapped, fixture);
  respond ("resume");
  g_assert_cmpstr (visible_page (fixture), ==, "programming");
  g_assert_true (ew_programming_page_get_is_writing (programming_page (fixture)));
  iterate_until_within (resume_is_finished, fixture, 120);

  g_assert_cmpint (ew_programming_page_get_outcome (programming_page (fixture)), ==,
                   EW_PROGRAMMING_OUTCOME_DONE);
  g_assert_cmpint (ew_programming_page_get_last_job_id (programming_page (fixture)), ==, job_id);
  g_assert_false (ew_programming_page_get_is_writing (programming_page (fixture)));

  /* the simulated cluster runs the new software, out of its bootloader */
  connection = ew_programming_page_get_connection (programming_page (fixture));
  g_assert_nonnull (connection);
  g_assert_cmpstr (ew_connection_get_uri (connection), ==, uri);
  software = sim_software (connection, "cluster");
  g_assert_cmpstr (software, ==, "0700");
  g_assert_false (ew_sim_ecu_is_in_bootloader (
                    ew_sim_vehicle_find_ecu (ew_connection_get_sim_vehicle (connection), "cluster")));

  /* the same job, now done, in History with its job sheet */
  store = ew_job_store_open (store_path, &error);
  g_assert_no_error (error);
  after = ew_job_store_get_job (store, job_id, &error);
  g_assert_no_error (error);
  g_assert_cmpint (after->state, ==, EW_JOB_STATE_DONE);
  g_clear_pointer (&unfinished, g_ptr_array_unref);
  unfinished = ew_job_store_list_unfinished (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (unfinished->len, ==, 0);
  ew_job_store_close (store);
  row = ew_history_page_find_row (history_page (fixture), job_id);
  g_assert_nonnull (row);
  g_assert_cmpstr (ew_job_row_get_state_text (EW_JOB_ROW (row)), ==, "Done");
  g_assert_false (ew_job_row_can_restore (EW_JOB_ROW (row)));
  g_assert_true (ew_job_row_has_job_sheet (EW_JOB_ROW (row)));
  g_assert_cmpuint (ew_history_page_get_n_jobs (history_page (fixture)), ==, 1);
}

/* Job sheet of a finished coding job */

static gboolean
have (const char *program)
{
  g_autofree char *path = g_find_program_in_path (program);

  return path != NULL;
}

static void
test_job_sheet (UiFixture *fixture, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) before = NULL;
  g_autoptr(GBytes) after_bytes = NULL;
  g_autofree char *store_path = NULL;
  g_autofree char *pdf = NULL;
  g_autofree char *running_pdf = NULL;
  static const guint8 before_data[] = { 0x00, 0x10 };
  static const guint8 after_data[] = { 0x02, 0x10 };
  EwJobStore *store;
  GtkWidget *row;
  gint64 job_id, running_id;

  /* a coding job done on an earlier day, and one that did not finish */
  fixture_tear_down (fixture, data);
  fixture->store_dir = g_strdup (ui_test_store_dir ());
  store_path = g_build_filename (ui_test_store_dir (), "jobs.sqlite", NULL);
  store = ew_job_store_open (store_path, &error);
  g_assert_no_error (error);
  job_id = ew_job_store_begin_job (store, EW_JOB_KIND_CODING, "WBA8E9C50GK123456", "bmw-f30",
                                   "sim:bmw-f30?profile=features-disabled",
                                   "Cornering lights: off → on", 0, &error);
  g_assert_no_error (error);
  before = g_bytes_new_static (before_data, sizeof before_data);
  after_bytes = g_bytes_new_static (after_data, sizeof after_data);
  g_assert_true (ew_job_store_add_backup (store, job_id, "fem", 0x3000, before, after_bytes, &error));
  g_assert_true (ew_job_store_journal (store, job_id, "write", "fem", "ok", NULL, &error));
  g_assert_true (ew_job_store_journal (store, job_id, "verify", "fem", "ok", NULL, &error));
  g_assert_true (ew_job_store_set_job_state (store, job_id, EW_JOB_STATE_DONE, &error));
  g_assert_no_error (error);
  running_id = ew_job_store_begin_job (store, EW_JOB_KIND_CODING, "WBA8E9C50GK123456", "bmw-f30",
                                       "sim:bmw-f30", "Video in motion: off → on", 0, &error);
  g_assert_no_error (error);
  ew_job_store_close (store);
  fixture_set_up (fixture, data);

  row = ew_history_page_find_row (history_page (fixture), job_id);
  g_assert_nonnull (row);
  g_assert_true (ew_job_row_has_job_sheet (EW_JOB_ROW (row)));
  g_assert_false (ew_job_row_is_resume (EW_JOB_ROW (row)));
  g_assert_cmpstr (ew_job_row_get_action_label (EW_JOB_ROW (row)), ==, "_Restore");
  row = ew_history_page_find_row (history_page (fixture), running_id);
  g_assert_nonnull (row);
  g_assert_false (ew_job_row_has_job_sheet (EW_JOB_ROW (row)));

  /* the file chooser's answer, as Job Sheet… saves it */
  pdf = g_build_filename (ui_test_store_dir (), "job-sheet.pdf", NULL);
  g_assert_true (ew_history_page_save_job_sheet (history_page (fixture), job_id, pdf, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_test (pdf, G_FILE_TEST_IS_REGULAR));

  /* an unfinished job has no sheet, and no file is written */
  running_pdf = g_build_filename (ui_test_store_dir (), "running.pdf", NULL);
  g_assert_false (ew_history_page_save_job_sheet (history_page (fixture), running_id, running_pdf, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (g_file_test (running_pdf, G_FILE_TEST_EXISTS));

  if (have ("pdftotext"))
    {
      g_autofree char *text = NULL;
      g_autofree char *flat = NULL;
      const char *argv[] = { "pdftotext", pdf, "-", NULL };
      int status = 0;

      g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                    NULL, NULL, &text, NULL, &status, &error);
      g_assert_no_error (error);
      g_assert_true (g_spawn_check_wait_status (status, NULL));
      g_assert_nonnull (strstr (text, "Work carried out"));
      g_assert_nonnull (strstr (text, "Cornering lights"));
      g_assert_nonnull (strstr (text, "WBA8E9C50GK123456"));
      /* the done work alone: no empty quote */
      g_assert_null (strstr (text, "Work quoted"));
    }
  else
    g_test_skip ("pdftotext (poppler-utils) not installed: the sheet's text is not checked");
}

int
main (int argc, char **argv)
{
  int status;

  ui_test_init (&argc, &argv);
  g_test_add_func ("/ui-history/interrupt-child", test_interrupt_child);
  g_test_add ("/ui-history/resume-programming", UiFixture, NULL,
              fixture_set_up, test_resume_programming, fixture_tear_down);
  g_test_add ("/ui-history/job-sheet", UiFixture, NULL,
              fixture_set_up, test_job_sheet, fixture_tear_down);
  status = g_test_run ();
  return ui_test_finish (status);
}
