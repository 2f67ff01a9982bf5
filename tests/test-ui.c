/* test-ui.c — the real main window, driven as a technician uses it:
 * typing a VIN decodes it as it is typed, a typo is named at once, and the
 * picked family shows in the header; a scan of a simulated car fills the
 * module list and the findings and identifies the car. Runs under Xvfb
 * (build-aux/ui-test.sh). */
#include <adwaita.h>

#include "ew-window.h"
#include "ew-vehicle-page.h"
#include "ew-scan-finding-row.h"
#include "ew-scan-module-row.h"

typedef struct {
  EwVehicleDatabase *db;
  EwWmiTable        *wmi_table;
  EwWindow          *window;
  EwVehiclePage     *page;
} UiFixture;

static void
iterate_until_within (gboolean (*done) (UiFixture *), UiFixture *fixture, guint seconds)
{
  gint64 deadline = g_get_monotonic_time () + seconds * G_USEC_PER_SEC;

  while (!done (fixture))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

static void
iterate_until (gboolean (*done) (UiFixture *), UiFixture *fixture)
{
  iterate_until_within (done, fixture, 5);
}

static gboolean
window_is_mapped (UiFixture *fixture)
{
  return gtk_widget_get_mapped (GTK_WIDGET (fixture->window));
}

static void
fixture_set_up (UiFixture *fixture, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  fixture->db = ew_vehicle_database_new (NULL);
  ew_vehicle_database_add_default_dirs (fixture->db, NULL);
  fixture->wmi_table = ew_wmi_table_load_default (&error);
  g_assert_no_error (error);

  fixture->window = ew_window_new (NULL, fixture->db, fixture->wmi_table);
  fixture->page = EW_VEHICLE_PAGE (ew_window_get_vehicle_page (fixture->window));
  gtk_window_present (GTK_WINDOW (fixture->window));
  iterate_until (window_is_mapped, fixture);
}

static void
fixture_tear_down (UiFixture *fixture, gconstpointer data)
{
  gtk_window_destroy (GTK_WINDOW (fixture->window));
  while (g_main_context_iteration (NULL, FALSE))
    ;
  ew_wmi_table_free (fixture->wmi_table);
  ew_vehicle_database_free (fixture->db);
}

static GtkWidget *
page_child (UiFixture *fixture, const char *name)
{
  GObject *child = gtk_widget_get_template_child (GTK_WIDGET (fixture->page),
                                                  EW_TYPE_VEHICLE_PAGE, name);
  g_assert_nonnull (child);
  return GTK_WIDGET (child);
}

static const char *
label_text (UiFixture *fixture, const char *name)
{
  return gtk_label_get_label (GTK_LABEL (page_child (fixture, name)));
}

static const char *
header_subtitle (UiFixture *fixture)
{
  GObject *title = gtk_widget_get_template_child (GTK_WIDGET (fixture->window),
                                                  EW_TYPE_WINDOW, "switcher_title");
  return adw_view_switcher_title_get_subtitle (ADW_VIEW_SWITCHER_TITLE (title));
}

/* Types into the VIN row one character at a time, as a person does. */
static void
type_vin (UiFixture *fixture, const char *text)
{
  GtkEditable *entry = GTK_EDITABLE (page_child (fixture, "vin_row"));

  for (const char *p = text; *p != '\0'; p++)
    {
      int position = -1;

      gtk_editable_insert_text (entry, p, 1, &position);
      g_main_context_iteration (NULL, FALSE);
    }
}

static void
clear_vin (UiFixture *fixture)
{
  gtk_editable_set_text (GTK_EDITABLE (page_child (fixture, "vin_row")), "");
}

static void
test_decoded_while_typing (UiFixture *fixture, gconstpointer data)
{
  type_vin (fixture, "WVW");
  /* the manufacturer is known from the first three characters */
  g_assert_nonnull (strstr (label_text (fixture, "manufacturer_label"), "Volkswagen"));
  g_assert_nonnull (strstr (label_text (fixture, "status_label"), "3"));
  g_assert_null (ew_vehicle_page_get_family (fixture->page));

  type_vin (fixture, "ZZZAUZFW123456");
  g_assert_cmpstr (label_text (fixture, "vds_label"), ==, "ZZZAUZ");
  g_assert_cmpstr (label_text (fixture, "vis_label"), ==, "FW123456");
  g_assert_nonnull (strstr (label_text (fixture, "year_label"), "2015"));
  g_assert_nonnull (ew_vehicle_page_get_family (fixture->page));
  g_assert_cmpstr (ew_vehicle_page_get_family (fixture->page)->id, ==, "vw-golf-mk7");
  /* the identified car is in the header */
  g_assert_nonnull (strstr (header_subtitle (fixture), "Volkswagen Golf"));
  g_assert_false (gtk_widget_has_css_class (page_child (fixture, "vin_row"), "error"));
}

static void
test_typo_named (UiFixture *fixture, gconstpointer data)
{
  type_vin (fixture, "WDD2050O");
  /* the letter O at position 8 is flagged while typing */
  g_assert_nonnull (strstr (label_text (fixture, "status_label"), "8"));
  g_assert_true (gtk_widget_has_css_class (page_child (fixture, "vin_row"), "error"));

  clear_vin (fixture);
  g_assert_false (gtk_widget_has_css_class (page_child (fixture, "vin_row"), "error"));
}

static void
test_pick_family_by_hand (UiFixture *fixture, gconstpointer data)
{
  GtkWidget *list = page_child (fixture, "family_list");
  GtkWidget *row = NULL;

  for (GtkWidget *child = gtk_widget_get_first_child (list); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (g_strcmp0 (gtk_widget_get_name (child), "mercedes-w205") == 0)
      row = child;
  g_assert_nonnull (row);

  /* activating the row is what a click or Enter on it does */
  gtk_widget_activate (row);
  g_assert_nonnull (ew_vehicle_page_get_family (fixture->page));
  g_assert_cmpstr (ew_vehicle_page_get_family (fixture->page)->id, ==, "mercedes-w205");
  g_assert_nonnull (strstr (header_subtitle (fixture), "Mercedes-Benz C-Class"));
}

static void
test_pages_present (UiFixture *fixture, gconstpointer data)
{
  GObject *stack = gtk_widget_get_template_child (GTK_WIDGET (fixture->window),
                                                  EW_TYPE_WINDOW, "stack");
  const char *pages[] = { "vehicle", "features", "jobs", "history" };

  for (guint i = 0; i < G_N_ELEMENTS (pages); i++)
    {
      g_assert_nonnull (adw_view_stack_get_child_by_name (ADW_VIEW_STACK (stack), pages[i]));
      ew_window_show_page (fixture->window, pages[i]);
      g_assert_cmpstr (adw_view_stack_get_visible_child_name (ADW_VIEW_STACK (stack)), ==, pages[i]);
    }
}

/* The scan's steps, as the technician sees them. */

static gboolean
scan_is_done (UiFixture *fixture)
{
  return !ew_vehicle_page_get_is_scanning (fixture->page);
}

static gboolean
module_rows_exist (UiFixture *fixture)
{
  return gtk_widget_get_first_child (page_child (fixture, "module_list")) != NULL;
}

/* Starts a scan on link the way the Scan button does, and waits for it. */
static void
scan_link (UiFixture *fixture, const char *link)
{
  ew_vehicle_page_set_link (fixture->page, link);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->page), "vehicle.scan", NULL));
  g_assert_true (ew_vehicle_page_get_is_scanning (fixture->page));
  /* the window does not wait: the Scan button gave way to Cancel */
  g_assert_false (gtk_widget_get_visible (page_child (fixture, "scan_button")));
  g_assert_true (gtk_widget_get_visible (page_child (fixture, "cancel_button")));
  iterate_until_within (scan_is_done, fixture, 10);
  g_assert_true (gtk_widget_get_visible (page_child (fixture, "scan_button")));
  g_assert_false (gtk_widget_get_visible (page_child (fixture, "cancel_button")));
}

static GtkWidget *
find_module_row (UiFixture *fixture, const char *module_id)
{
  GtkWidget *list = page_child (fixture, "module_list");

  for (GtkWidget *child = gtk_widget_get_first_child (list); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (g_strcmp0 (gtk_widget_get_name (child), module_id) == 0)
      return child;
  return NULL;
}

/* The finding rows, in the order the list shows them. */
static GPtrArray *
finding_rows (UiFixture *fixture)
{
  GPtrArray *rows = g_ptr_array_new ();

  for (GtkWidget *child = gtk_widget_get_first_child (page_child (fixture, "finding_list"));
       child != NULL; child = gtk_widget_get_next_sibling (child))
    if (EW_IS_SCAN_FINDING_ROW (child))
      g_ptr_array_add (rows, child);
  return rows;
}

static int
find_finding (GPtrArray *rows, EwFindingKind kind, const char *module_id)
{
  for (guint i = 0; i < rows->len; i++)
    {
      EwScanFindingRow *row = g_ptr_array_index (rows, i);

      if (ew_scan_finding_row_get_kind (row) == kind
          && g_strcmp0 (ew_scan_finding_row_get_module_id (row), module_id) == 0)
        return (int) i;
    }
  return -1;
}

/* Every module of the family has a row, and every row ended. */
static void
assert_module_rows_final (UiFixture *fixture, const char *family_id)
{
  EwFamily *family = ew_vehicle_database_find_family (fixture->db, family_id);
  GtkWidget *list = page_child (fixture, "module_list");
  guint n_rows = 0;

  g_assert_nonnull (family);
  for (GtkWidget *child = gtk_widget_get_first_child (list); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      g_assert_true (EW_IS_SCAN_MODULE_ROW (child));
      g_assert_true (ew_scan_module_row_is_final (EW_SCAN_MODULE_ROW (child)));
      g_assert_cmpint (ew_scan_module_row_get_state (EW_SCAN_MODULE_ROW (child)), !=,
                       EW_SCAN_MODULE_WAITING);
      n_rows++;
    }
  g_assert_cmpuint (n_rows, ==, family->modules->len);
}

static void
test_scan_used_cluster (UiFixture *fixture, gconstpointer data)
{
  g_autoptr(GPtrArray) findings = NULL;
  GtkWidget *kombi;
  int foreign, behind;

  scan_link (fixture, "sim:bmw-f30?profile=used-cluster");

  g_assert_false (gtk_widget_get_visible (page_child (fixture, "scan_error_box")));
  g_assert_true (gtk_widget_get_visible (page_child (fixture, "result_group")));
  assert_module_rows_final (fixture, "bmw-f30");

  /* the cluster answered, and holds the VIN of the car it came from */
  kombi = find_module_row (fixture, "kombi");
  g_assert_nonnull (kombi);
  g_assert_cmpint (ew_scan_module_row_get_state (EW_SCAN_MODULE_ROW (kombi)), ==,
                   EW_SCAN_MODULE_ANSWERED);
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (kombi)),
                            "WBAZZZZZZCA654321"));
  /* a module of this car shows no VIN line */
  g_assert_null (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (find_module_row (fixture, "dme"))),
                         "VIN"));

  /* both findings are listed, the module from another car first */
  findings = finding_rows (fixture);
  foreign = find_finding (findings, EW_FINDING_VIN_MISMATCH, "kombi");
  behind = find_finding (findings, EW_FINDING_SOFTWARE_BEHIND, "kombi");
  g_assert_cmpint (foreign, >=, 0);
  g_assert_cmpint (behind, >, foreign);
  g_assert_nonnull (strstr (adw_preferences_row_get_title (g_ptr_array_index (findings, foreign)),
                            "another car"));
  g_assert_cmpstr (adw_action_row_get_subtitle (g_ptr_array_index (findings, foreign)), !=, "");
  g_assert_true (gtk_widget_get_visible (page_child (fixture, "simulated_label")));

  /* the car identified itself: VIN entry, family and header follow it */
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (page_child (fixture, "vin_row"))), ==,
                   "WBAZZZZZZCA123456");
  g_assert_cmpstr (ew_vehicle_page_get_family (fixture->page)->id, ==, "bmw-f30");
  g_assert_nonnull (strstr (header_subtitle (fixture), "BMW 3 Series"));
  g_assert_nonnull (strstr (header_subtitle (fixture), "WBAZZZZZZCA123456"));

  /* scanning again replaces the findings rather than adding to them */
  scan_link (fixture, "sim:bmw-f30?profile=used-cluster");
  g_ptr_array_unref (findings);
  findings = finding_rows (fixture);
  g_assert_cmpuint (findings->len, ==, 2);
}

static void
test_scan_healthy (UiFixture *fixture, gconstpointer data)
{
  g_autoptr(GPtrArray) findings = NULL;

  scan_link (fixture, "sim:bmw-f30?profile=healthy");
  assert_module_rows_final (fixture, "bmw-f30");
  findings = finding_rows (fixture);
  g_assert_cmpuint (findings->len, ==, 0);
  g_assert_true (gtk_widget_get_mapped (page_child (fixture, "no_findings_label")));
}

static gboolean
scan_button_clicked (UiFixture *fixture)
{
  return ew_vehicle_page_get_is_scanning (fixture->page)
         || gtk_widget_get_visible (page_child (fixture, "result_group"));
}

static void
test_scan_bootloader (UiFixture *fixture, gconstpointer data)
{
  g_autoptr(GPtrArray) findings = NULL;
  GtkWidget *body;

  /* this time through the button, as a click does */
  ew_vehicle_page_set_link (fixture->page, "sim:vw-golf-mk7?profile=body-module-bootloader");
  gtk_widget_activate (page_child (fixture, "scan_button"));
  iterate_until (scan_button_clicked, fixture);
  iterate_until_within (scan_is_done, fixture, 10);

  assert_module_rows_final (fixture, "vw-golf-mk7");
  body = find_module_row (fixture, "central-electrics");
  g_assert_nonnull (body);
  g_assert_cmpint (ew_scan_module_row_get_state (EW_SCAN_MODULE_ROW (body)), ==,
                   EW_SCAN_MODULE_BOOTLOADER);
  findings = finding_rows (fixture);
  g_assert_cmpint (find_finding (findings, EW_FINDING_BOOTLOADER, "central-electrics"), ==, 0);
  g_assert_nonnull (strstr (header_subtitle (fixture), "Volkswagen Golf"));
}

static void
test_scan_bad_link (UiFixture *fixture, gconstpointer data)
{
  scan_link (fixture, "bogus:nowhere");

  /* said on the page, not a crash and not a frozen window */
  g_assert_true (gtk_widget_get_visible (page_child (fixture, "scan_error_box")));
  g_assert_nonnull (strstr (label_text (fixture, "scan_error_label"), "bogus"));
  g_assert_false (gtk_widget_get_visible (page_child (fixture, "result_group")));
  g_assert_null (ew_vehicle_page_get_family (fixture->page));

  /* the window stays usable: a VIN still decodes, and a good link scans */
  type_vin (fixture, "WVWZZZAUZFW123456");
  g_assert_cmpstr (ew_vehicle_page_get_family (fixture->page)->id, ==, "vw-golf-mk7");
  scan_link (fixture, "sim:bmw-f30");
  g_assert_false (gtk_widget_get_visible (page_child (fixture, "scan_error_box")));
  g_assert_true (gtk_widget_get_visible (page_child (fixture, "result_group")));
  g_assert_cmpstr (ew_vehicle_page_get_family (fixture->page)->id, ==, "bmw-f30");
}

static void
test_scan_no_answer (UiFixture *fixture, gconstpointer data)
{
  /* every message lost: the link opens, but no module answers */
  scan_link (fixture, "sim:bmw-f30?faults=drop=100%25");

  g_assert_true (gtk_widget_get_visible (page_child (fixture, "scan_error_box")));
  g_assert_nonnull (strstr (label_text (fixture, "scan_error_label"), "No module answered"));
  assert_module_rows_final (fixture, "bmw-f30");
  g_assert_cmpint (ew_scan_module_row_get_state (EW_SCAN_MODULE_ROW (find_module_row (fixture, "kombi"))),
                   ==, EW_SCAN_MODULE_SILENT);
}

static void
test_scan_cancel (UiFixture *fixture, gconstpointer data)
{
  /* slow answers, so that the scan is still running when cancelled */
  ew_vehicle_page_set_link (fixture->page, "sim:bmw-f30?faults=delay=40");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->page), "vehicle.scan", NULL));
  iterate_until (module_rows_exist, fixture);
  g_assert_true (ew_vehicle_page_get_is_scanning (fixture->page));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->page), "vehicle.cancel-scan", NULL));
  iterate_until_within (scan_is_done, fixture, 10);

  g_assert_false (gtk_widget_get_visible (page_child (fixture, "result_group")));
  g_assert_false (gtk_widget_get_visible (page_child (fixture, "scan_error_box")));
  g_assert_nonnull (strstr (label_text (fixture, "scan_status_label"), "cancelled"));
  for (GtkWidget *child = gtk_widget_get_first_child (page_child (fixture, "module_list"));
       child != NULL; child = gtk_widget_get_next_sibling (child))
    g_assert_true (ew_scan_module_row_is_final (EW_SCAN_MODULE_ROW (child)));
}

/* After a scan, with the longest texts on the page, the page still fits
 * a phone-sized window of 360 px (the window's own chrome aside). */
static void
test_scan_fits_narrow (UiFixture *fixture, gconstpointer data)
{
  int minimum = 0;
  int natural_height = 0;

  scan_link (fixture, "sim:bmw-f30?profile=used-cluster");
  gtk_widget_measure (GTK_WIDGET (fixture->page), GTK_ORIENTATION_HORIZONTAL, -1,
                      &minimum, NULL, NULL, NULL);
  g_assert_cmpint (minimum, <=, 360);
  /* every row wraps rather than asking for more width */
  for (GtkWidget *child = gtk_widget_get_first_child (page_child (fixture, "finding_list"));
       child != NULL; child = gtk_widget_get_next_sibling (child))
    {
      gtk_widget_measure (child, GTK_ORIENTATION_HORIZONTAL, -1, &minimum, NULL, NULL, NULL);
      g_assert_cmpint (minimum, <=, 300);
      gtk_widget_measure (child, GTK_ORIENTATION_VERTICAL, 300, NULL, &natural_height, NULL, NULL);
      g_assert_cmpint (natural_height, >, 0);
    }
}

int
main (int argc, char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  g_object_set (gtk_settings_get_default (), "gtk-enable-animations", FALSE, NULL);

  g_test_add ("/ui/vehicle/decoded-while-typing", UiFixture, NULL,
              fixture_set_up, test_decoded_while_typing, fixture_tear_down);
  g_test_add ("/ui/vehicle/typo-named", UiFixture, NULL,
              fixture_set_up, test_typo_named, fixture_tear_down);
  g_test_add ("/ui/vehicle/pick-family-by-hand", UiFixture, NULL,
              fixture_set_up, test_pick_family_by_hand, fixture_tear_down);
  g_test_add ("/ui/window/pages", UiFixture, NULL,
              fixture_set_up, test_pages_present, fixture_tear_down);
  g_test_add ("/ui/scan/used-cluster", UiFixture, NULL,
              fixture_set_up, test_scan_used_cluster, fixture_tear_down);
  g_test_add ("/ui/scan/healthy", UiFixture, NULL,
              fixture_set_up, test_scan_healthy, fixture_tear_down);
  g_test_add ("/ui/scan/bootloader", UiFixture, NULL,
              fixture_set_up, test_scan_bootloader, fixture_tear_down);
  g_test_add ("/ui/scan/bad-link", UiFixture, NULL,
              fixture_set_up, test_scan_bad_link, fixture_tear_down);
  g_test_add ("/ui/scan/no-answer", UiFixture, NULL,
              fixture_set_up, test_scan_no_answer, fixture_tear_down);
  g_test_add ("/ui/scan/fits-narrow", UiFixture, NULL,
              fixture_set_up, test_scan_fits_narrow, fixture_tear_down);
  g_test_add ("/ui/scan/cancel", UiFixture, NULL,
              fixture_set_up, test_scan_cancel, fixture_tear_down);
  return g_test_run ();
}
