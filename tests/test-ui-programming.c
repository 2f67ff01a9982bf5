/* test-ui-programming.c — the Programming page in the real window, driven
 * as a technician drives it, with the simulated car's modules checked
 * afterwards. Run under Xvfb and a session bus (build-aux/ui-test.sh). */
#include <glib/gstdio.h>
#include <string.h>

#include "ui-fixture.h"
#include "ew-history-page.h"
#include "ew-programming-page.h"
#include "connect/connection.h"
#include "data-dir.h"
#include "flash/container.h"
#include "sim/sim-ecu.h"
#include "sim/sim-vehicle.h"

static char *tmp_dir;
static char *high_profile;         /* a used cluster showing more km than the car */

static EwProgrammingPage *
programming_page (UiFixture *fixture)
{
  GObject *page = gtk_widget_get_template_child (GTK_WIDGET (fixture->window), EW_TYPE_WINDOW,
                                                 "programming_page");
  g_assert_nonnull (page);
  return EW_PROGRAMMING_PAGE (page);
}

static GtkWidget *
programming_child (UiFixture *fixture, const char *name)
{
  GObject *child = gtk_widget_get_template_child (GTK_WIDGET (programming_page (fixture)),
                                                  EW_TYPE_PROGRAMMING_PAGE, name);
  g_assert_nonnull (child);
  return GTK_WIDGET (child);
}

static gboolean
check_is_done (UiFixture *fixture)
{
  return ew_programming_page_get_state (programming_page (fixture)) == EW_PROGRAMMING_PAGE_CHECKLIST;
}

static gboolean
can_start (UiFixture *fixture)
{
  return ew_programming_page_get_can_start (programming_page (fixture));
}

static gboolean
job_is_running (UiFixture *fixture)
{
  return ew_programming_page_get_state (programming_page (fixture)) == EW_PROGRAMMING_PAGE_RUNNING;
}

static gboolean
job_is_finished (UiFixture *fixture)
{
  return ew_programming_page_get_state (programming_page (fixture)) == EW_PROGRAMMING_PAGE_FINISHED;
}

static gboolean
is_past_erase (UiFixture *fixture)
{
  return !job_is_running (fixture) ||
         !gtk_widget_get_sensitive (programming_child (fixture, "cancel_button"));
}

/* The simulated module's state, read while it handles no request. */
typedef struct {
  guint16  did;
  GBytes  *bytes;
  guint32  km;
} SimRead;

static void
sim_read_cb (EwSimEcu *ecu, gpointer user_data)
{
  SimRead *r = user_data;

  r->bytes = ew_sim_ecu_read_did (ecu, r->did);
  r->km = ew_sim_ecu_get_mileage_km (ecu, 0);
}

static guint16
role_did (const EwModule *module, EwIdentificationRole role)
{
  for (guint i = 0; i < module->identification->len; i++)
    {
      const EwIdentificationDid *id = g_ptr_array_index (module->identification, i);

      if (id->role == role)
        return id->did;
    }
  g_assert_not_reached ();
}

static char *
sim_text (EwConnection *connection, const char *module_id, EwIdentificationRole role)
{
  const EwModule *module = ew_family_find_module (ew_connection_get_family (connection), module_id);
  SimRead r = { role_did (module, role), NULL, 0 };
  char *text;

  ew_sim_vehicle_with_ecu (ew_connection_get_sim_vehicle (connection), module_id, sim_read_cb, &r);
  g_assert_nonnull (r.bytes);
  text = g_strndup (g_bytes_get_data (r.bytes, NULL), g_bytes_get_size (r.bytes));
  g_bytes_unref (r.bytes);
  return g_strchomp (text);
}

static guint32
sim_km (EwConnection *connection, const char *module_id)
{
  SimRead r = { 0xF190, NULL, 0 };

  ew_sim_vehicle_with_ecu (ew_connection_get_sim_vehicle (connection), module_id, sim_read_cb, &r);
  g_clear_pointer (&r.bytes, g_bytes_unref);
  return r.km;
}

/* The highest mileage the car's other modules hold. */
static guint32
car_km (EwConnection *connection, const char *except)
{
  EwFamily *family = ew_connection_get_family (connection);
  guint32 km = 0;

  for (guint i = 0; i < family->modules->len; i++)
    {
      const EwModule *m = g_ptr_array_index (family->modules, i);

      if (m->mileage->len > 0 && g_strcmp0 (m->id, except) != 0)
        km = MAX (km, sim_km (connection, m->id));
    }
  return km;
}

static char *
sample_version (const char *file)
{
  g_autofree char *dir = ew_data_path ("flash");
  g_autofree char *path = g_build_filename (dir, file, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(EwFlashContainer) container = ew_flash_container_load (path, NULL, &error);

  g_assert_no_error (error);
  return g_strdup (ew_flash_container_get_software_version (container));
}

/* Ticks the battery support check as a click on its row does. */
static void
tick_battery (UiFixture *fixture)
{
  GtkCheckButton *check = GTK_CHECK_BUTTON (programming_child (fixture, "battery_check"));

  g_assert_false (gtk_check_button_get_active (check));
  gtk_widget_activate (programming_child (fixture, "battery_row"));
  g_assert_true (gtk_check_button_get_active (check));
}

static void
confirm_start (UiFixture *fixture)
{
  AdwMessageDialog *dialog;

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (programming_page (fixture)),
                                             "programming.start", NULL));
  iterate_until (dialog_is_mapped, fixture);
  dialog = open_message_dialog ();
  /* it says this is programming, that the module is out of action, and how long */
  g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), "programming"));
  g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), "out of action"));
  g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), "minute"));
  respond ("start");
}

static void
record_fraction (EwProgrammingPage *page, GParamSpec *pspec, GArray *fractions)
{
  double f = ew_programming_page_get_fraction (page);

  g_array_append_val (fractions, f);
}

static void
test_used_cluster (UiFixture *fixture, gconstpointer data)
{
  EwProgrammingPage *page = programming_page (fixture);
  EwHistoryPage *history = EW_HISTORY_PAGE (ew_window_get_history_page (fixture->window));
  g_autofree char *vin = NULL;
  g_autofree char *software = NULL;
  g_autofree char *expected = sample_version ("vw-golf-mk7-cluster.xml");
  g_autofree char *vin_before = NULL;
  EwConnection *connection;
  gint64 job_id;
  guint32 km_before;

  scan_link (fixture, "sim:vw-golf-mk7?profile=used-cluster");
  ew_window_show_page (fixture->window, "programming");
  g_assert_cmpint (ew_programming_page_get_state (page), ==, EW_PROGRAMMING_PAGE_EMPTY);

  /* the family's used-cluster job: the checklist, nothing written */
  g_assert_true (ew_programming_page_select_job (page, "used-cluster"));
  iterate_until_within (check_is_done, fixture, 20);
  g_assert_true (gtk_widget_get_visible (programming_child (fixture, "checklist_group")));
  g_assert_true (gtk_widget_get_visible (programming_child (fixture, "mileage_row")));
  g_assert_null (ew_programming_page_get_refusal (page));
  g_assert_false (can_start (fixture));
  g_assert_false (gtk_widget_get_sensitive (programming_child (fixture, "start_button")));

  connection = ew_programming_page_get_connection (page);
  g_assert_nonnull (connection);
  vin_before = sim_text (connection, "cluster", EW_ID_ROLE_VIN);
  g_assert_cmpstr (vin_before, !=, ew_sim_vehicle_get_vin (ew_connection_get_sim_vehicle (connection)));
  km_before = sim_km (connection, "cluster");
  g_assert_cmpuint (km_before, <, car_km (connection, "cluster"));
  /* the voltage the engine unit measured, beside the technician's tick */
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (programming_child (fixture, "battery_row"))),
                            "Engine electronics measures 13.6 V"));

  tick_battery (fixture);
  iterate_until (can_start, fixture);
  g_assert_true (gtk_widget_get_sensitive (programming_child (fixture, "start_button")));
  save_screenshot (fixture, GTK_WIDGET (fixture->window), "programming-checklist.png");

  confirm_start (fixture);
  g_assert_true (ew_programming_page_get_is_writing (page));
  iterate_until_within (job_is_finished, fixture, 60);
  if (ew_programming_page_get_outcome (page) != EW_PROGRAMMING_OUTCOME_DONE)
    g_test_message ("the job ended: %s",
                    adw_status_page_get_description (ADW_STATUS_PAGE (programming_child (fixture, "result_status"))));
  g_assert_cmpint (ew_programming_page_get_outcome (page), ==, EW_PROGRAMMING_OUTCOME_DONE);
  job_id = ew_programming_page_get_last_job_id (page);
  g_assert_cmpint (job_id, >, 0);
  g_assert_null (ew_programming_page_get_progress_title (page));
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (fixture->window)), ==, "ECU Workshop");

  /* the car's real state: this car's VIN, the container's software, the
   * car's mileage (never lower than before) */
  connection = ew_programming_page_get_connection (page);
  vin = sim_text (connection, "cluster", EW_ID_ROLE_VIN);
  g_assert_cmpstr (vin, ==, ew_sim_vehicle_get_vin (ew_connection_get_sim_vehicle (connection)));
  software = sim_text (connection, "cluster", EW_ID_ROLE_SOFTWARE_VERSION);
  g_assert_cmpstr (software, ==, expected);
  g_assert_cmpuint (sim_km (connection, "cluster"), >=, car_km (connection, "cluster"));
  g_assert_cmpuint (sim_km (connection, "cluster"), >=, km_before);
  g_assert_true (strstr (adw_status_page_get_description (ADW_STATUS_PAGE (programming_child (fixture, "result_status"))),
                         expected) != NULL);
  save_screenshot (fixture, GTK_WIDGET (fixture->window), "programming-done.png");

  /* History lists the job, and the page leads there */
  g_assert_nonnull (ew_history_page_find_row (history, job_id));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "programming.show-history", NULL));
  g_assert_cmpstr (adw_view_stack_get_visible_child_name (ADW_VIEW_STACK (gtk_widget_get_ancestor (GTK_WIDGET (history), ADW_TYPE_VIEW_STACK))),
                   ==, "history");
}

static void
test_flash_progress (UiFixture *fixture, gconstpointer data)
{
  EwProgrammingPage *page = programming_page (fixture);
  g_autoptr(GArray) fractions = g_array_new (FALSE, FALSE, sizeof (double));
  g_autofree char *expected = sample_version ("vw-golf-mk7-engine.xml");
  g_autofree char *software = NULL;
  g_autofree char *title = NULL;
  GtkWidget *cancel = programming_child (fixture, "cancel_button");
  guint n_distinct = 1;
  gulong handler;

  /* a slow bus, so that the progress can be watched */
  scan_link (fixture, "sim:vw-golf-mk7?faults=delay=engine:40");
  ew_window_show_page (fixture->window, "programming");
  g_assert_true (ew_programming_page_select_module (page, "engine", NULL));
  iterate_until_within (check_is_done, fixture, 20);
  g_assert_false (gtk_widget_get_visible (programming_child (fixture, "mileage_row")));
  tick_battery (fixture);
  iterate_until (can_start, fixture);

  handler = g_signal_connect (page, "notify::fraction", G_CALLBACK (record_fraction), fractions);
  confirm_start (fixture);
  /* before the erase the job can be cancelled; the window says how far it is */
  g_assert_true (job_is_running (fixture));
  g_assert_true (gtk_widget_get_sensitive (cancel));
  title = g_strdup (gtk_window_get_title (GTK_WINDOW (fixture->window)));
  g_assert_nonnull (strstr (title, "Programming ENGINE"));

  iterate_until_within (is_past_erase, fixture, 30);
  if (job_is_running (fixture))
    {
      /* from the erase on, it must finish */
      g_assert_false (gtk_widget_get_sensitive (cancel));
      g_assert_cmpstr (gtk_button_get_label (GTK_BUTTON (cancel)), ==, "The Job Must Finish");
      gtk_expander_set_expanded (GTK_EXPANDER (programming_child (fixture, "log_expander")), TRUE);
      save_screenshot (fixture, GTK_WIDGET (fixture->window), "programming-progress.png");
    }
  iterate_until_within (job_is_finished, fixture, 60);
  g_signal_handler_disconnect (page, handler);
  g_assert_cmpint (ew_programming_page_get_outcome (page), ==, EW_PROGRAMMING_OUTCOME_DONE);

  /* the progress went up step by step, never back, to the end */
  g_assert_cmpuint (fractions->len, >, 3);
  for (guint i = 1; i < fractions->len; i++)
    {
      g_assert_cmpfloat (g_array_index (fractions, double, i), >=, g_array_index (fractions, double, i - 1));
      if (g_array_index (fractions, double, i) > g_array_index (fractions, double, i - 1))
        n_distinct++;
    }
  g_assert_cmpuint (n_distinct, >, 3);
  g_assert_cmpfloat (g_array_index (fractions, double, fractions->len - 1), ==, 1.0);

  software = sim_text (ew_programming_page_get_connection (page), "engine", EW_ID_ROLE_SOFTWARE_VERSION);
  g_assert_cmpstr (software, ==, expected);
}

static void
test_refused (UiFixture *fixture, gconstpointer data)
{
  EwProgrammingPage *page = programming_page (fixture);
  g_autofree char *link = g_strdup_printf ("sim:vw-golf-mk7?profile=%s", high_profile);
  g_autofree char *vin_before = NULL;
  g_autofree char *vin_after = NULL;
  EwConnection *connection;
  AdwViewStack *stack;
  guint32 km_before;

  scan_link (fixture, link);
  /* the scan's finding leads to the job: a cluster from another car */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->window), "window.program-finding",
                                             "s", "vin-mismatch:cluster"));
  stack = ADW_VIEW_STACK (gtk_widget_get_ancestor (GTK_WIDGET (page), ADW_TYPE_VIEW_STACK));
  g_assert_cmpstr (adw_view_stack_get_visible_child_name (stack), ==, "programming");
  iterate_until_within (check_is_done, fixture, 20);

  connection = ew_programming_page_get_connection (page);
  km_before = sim_km (connection, "cluster");
  vin_before = sim_text (connection, "cluster", EW_ID_ROLE_VIN);
  g_assert_cmpuint (km_before, >, car_km (connection, "cluster"));

  g_assert_nonnull (ew_programming_page_get_refusal (page));
  g_assert_nonnull (strstr (ew_programming_page_get_refusal (page), "lowered"));
  g_assert_true (gtk_widget_get_visible (programming_child (fixture, "refusal_label")));
  g_assert_cmpstr (gtk_label_get_label (GTK_LABEL (programming_child (fixture, "refusal_label"))), ==,
                   ew_programming_page_get_refusal (page));

  /* every other check may pass: Start stays off */
  tick_battery (fixture);
  g_assert_false (can_start (fixture));
  g_assert_false (gtk_widget_get_sensitive (programming_child (fixture, "start_button")));
  gtk_widget_activate_action (GTK_WIDGET (page), "programming.start", NULL);
  g_assert_null (open_message_dialog ());
  g_assert_false (ew_programming_page_get_is_busy (page));

  /* nothing was written */
  vin_after = sim_text (connection, "cluster", EW_ID_ROLE_VIN);
  g_assert_cmpstr (vin_after, ==, vin_before);
  g_assert_cmpuint (sim_km (connection, "cluster"), ==, km_before);
}

static gboolean
window_is_visible (UiFixture *fixture)
{
  return gtk_widget_get_visible (GTK_WIDGET (fixture->window));
}

static void
test_close_while_busy (UiFixture *fixture, gconstpointer data)
{
  EwProgrammingPage *page = programming_page (fixture);
  AdwMessageDialog *dialog;

  scan_link (fixture, "sim:vw-golf-mk7?faults=delay=engine:40");
  ew_window_show_page (fixture->window, "programming");
  g_assert_true (ew_programming_page_select_module (page, "engine", NULL));
  iterate_until_within (check_is_done, fixture, 20);
  tick_battery (fixture);
  iterate_until (can_start, fixture);
  confirm_start (fixture);
  g_assert_true (ew_programming_page_get_is_writing (page));

  /* closing asks first, and says what happens to the job */
  gtk_window_close (GTK_WINDOW (fixture->window));
  iterate_until (dialog_is_mapped, fixture);
  dialog = open_message_dialog ();
  g_assert_cmpstr (adw_message_dialog_get_heading (dialog), ==, "Programming Is Running");
  g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), "does not stop the job"));
  g_assert_true (window_is_visible (fixture));
  respond ("keep");
  g_assert_true (window_is_visible (fixture));
  g_assert_true (ew_programming_page_get_is_writing (page));

  iterate_until_within (job_is_finished, fixture, 60);
  g_assert_cmpint (ew_programming_page_get_outcome (page), ==, EW_PROGRAMMING_OUTCOME_DONE);
  /* once done, the window closes without asking */
  g_assert_false (ew_programming_page_get_is_writing (page));
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  int status;

  ui_test_init (&argc, &argv);

  tmp_dir = g_dir_make_tmp ("test-ui-programming-XXXXXX", &error);
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

  g_test_add ("/ui/programming/used-cluster", UiFixture, NULL,
              store_fixture_set_up, test_used_cluster, fixture_tear_down);
  g_test_add ("/ui/programming/flash-progress", UiFixture, NULL,
              store_fixture_set_up, test_flash_progress, fixture_tear_down);
  g_test_add ("/ui/programming/refused", UiFixture, NULL,
              store_fixture_set_up, test_refused, fixture_tear_down);
  g_test_add ("/ui/programming/close-while-busy", UiFixture, NULL,
              store_fixture_set_up, test_close_while_busy, fixture_tear_down);
  status = g_test_run ();

  g_unlink (high_profile);
  g_rmdir (tmp_dir);
  g_free (high_profile);
  g_free (tmp_dir);
  return ui_test_finish (status);
}
