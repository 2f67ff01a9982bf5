/* test-ui.c — the real main window, driven as a technician uses it:
 * typing a VIN decodes it as it is typed, a typo is named at once, and the
 * picked family shows in the header; a scan of a simulated car fills the
 * module list and the findings and identifies the car; its features are
 * read, switched, reviewed, applied to the simulated car and undone, and
 * the History page lists the jobs. Runs under Xvfb (build-aux/ui-test.sh).
 *
 * With EW_UI_SCREENSHOT_DIR set, the Features page, the review and the
 * History page are saved there as PNG files. */
#include <glib/gstdio.h>

#include "ui-fixture.h"
#include "ew-features-page.h"
#include "ew-feature-row.h"
#include "ew-history-page.h"
#include "ew-job-row.h"
#include "ew-jobs-page.h"
#include "ew-quote-line-row.h"
#include "ew-scan-finding-row.h"
#include "ew-scan-module-row.h"
#include "sim/sim-ecu.h"
#include "sim/sim-vehicle.h"

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
  save_screenshot (fixture, GTK_WIDGET (fixture->window), "vehicle-page.png");
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

/* Every control of every page, after a scan has filled them, has a name
 * for a screen reader and takes keyboard focus. */
static void
test_controls_named (UiFixture *fixture, gconstpointer data)
{
  const char *pages[] = { "vehicle-page", "features-page", "jobs-page", "programming-page", "history-page" };
  const char *children[] = { "vehicle_page", "features_page", "jobs_page", "programming_page", "history_page" };
  guint n_checked = 0;

  scan_link (fixture, "sim:vw-golf-mk7?profile=used-cluster");
  for (guint i = 0; i < G_N_ELEMENTS (children); i++)
    {
      GObject *page = gtk_widget_get_template_child (GTK_WIDGET (fixture->window), EW_TYPE_WINDOW,
                                                     children[i]);
      g_autoptr(GString) unnamed = g_string_new (NULL);

      g_assert_nonnull (page);
      ui_check_controls (GTK_WIDGET (page), unnamed, &n_checked);
      if (unnamed->len > 0)
        g_error ("%s:%s", pages[i], unnamed->str);
    }
  g_assert_cmpuint (n_checked, >, 20);
}

static gboolean
features_read_for_keyboard (UiFixture *fixture)
{
  EwFeaturesPage *page = EW_FEATURES_PAGE (ew_window_get_features_page (fixture->window));

  return !ew_features_page_get_is_busy (page) && ew_features_page_get_catalogue (page) != NULL;
}

static GtkWidget *
find_button (GtkWidget *widget)
{
  if (GTK_IS_BUTTON (widget) && gtk_widget_get_visible (widget))
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_button (child);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static gboolean
cornering_row_shown (UiFixture *fixture)
{
  return ew_features_page_find_row (EW_FEATURES_PAGE (ew_window_get_features_page (fixture->window)),
                                    "cornering-lights") != NULL;
}

/* Moves the focus with Tab up to n times from the start of the window and
 * tells whether it came to widget (or into it). */
static gboolean
tab_reaches (UiFixture *fixture, GtkWidget *widget, guint n)
{
  GtkWindow *window = GTK_WINDOW (fixture->window);

  gtk_window_set_focus (window, NULL);
  for (guint i = 0; i < n; i++)
    {
      GtkWidget *focus;

      if (!gtk_widget_child_focus (GTK_WIDGET (window), GTK_DIR_TAB_FORWARD))
        gtk_window_set_focus (window, NULL);   /* wrapped: from the start again */
      focus = gtk_window_get_focus (window);
      if (focus != NULL && (focus == widget || gtk_widget_is_ancestor (focus, widget)))
        return TRUE;
    }
  return FALSE;
}

/* The Tab key takes the technician to the controls of the job: the VIN,
 * Scan, a finding's Program… button; on Features the search. */
static void
test_keyboard (UiFixture *fixture, gconstpointer data)
{
  EwFeaturesPage *features = EW_FEATURES_PAGE (ew_window_get_features_page (fixture->window));
  GtkWidget *program_button = NULL;
  GtkWidget *search;
  GtkWidget *row;

  scan_link (fixture, "sim:bmw-f30?profile=used-cluster");
  g_assert_true (tab_reaches (fixture, page_child (fixture, "vin_row"), 300));
  g_assert_true (tab_reaches (fixture, page_child (fixture, "scan_button"), 300));
  program_button = find_button (page_child (fixture, "finding_list"));
  g_assert_nonnull (program_button);
  g_assert_true (tab_reaches (fixture, program_button, 300));

  iterate_until_within (features_read_for_keyboard, fixture, 15);
  ew_window_show_page (fixture->window, "features");
  search = GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (features), EW_TYPE_FEATURES_PAGE,
                                                      "search_entry"));
  g_assert_true (tab_reaches (fixture, search, 300));
  g_assert_true (ew_features_page_show_feature (features, "cornering-lights"));
  iterate_until_within (cornering_row_shown, fixture, 5);
  row = ew_features_page_find_row (features, "cornering-lights");
  g_assert_true (tab_reaches (fixture, ew_feature_row_get_control (EW_FEATURE_ROW (row)), 300));
}

/* The scan's steps, as the technician sees them. */


static gboolean
module_rows_exist (UiFixture *fixture)
{
  return gtk_widget_get_first_child (page_child (fixture, "module_list")) != NULL;
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
  save_screenshot (fixture, GTK_WIDGET (fixture->window), "vehicle-scan.png");

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
  /* the engine unit reports the supply voltage, the cluster does not */
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (find_module_row (fixture, "dme"))),
                            "supply 13.6 V"));
  g_assert_null (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (kombi)), "supply"));

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

/* Features and History */

#define FEATURES_LINK "sim:bmw-f30?profile=features-disabled"


static EwFeaturesPage *
features_page (UiFixture *fixture)
{
  return EW_FEATURES_PAGE (ew_window_get_features_page (fixture->window));
}

static EwHistoryPage *
history_page (UiFixture *fixture)
{
  return EW_HISTORY_PAGE (ew_window_get_history_page (fixture->window));
}

static GtkWidget *
features_child (UiFixture *fixture, const char *name)
{
  GObject *child = gtk_widget_get_template_child (GTK_WIDGET (features_page (fixture)),
                                                  EW_TYPE_FEATURES_PAGE, name);
  g_assert_nonnull (child);
  return GTK_WIDGET (child);
}

static gboolean
features_are_read (UiFixture *fixture)
{
  return !ew_features_page_get_is_busy (features_page (fixture))
         && ew_features_page_get_catalogue (features_page (fixture)) != NULL;
}

static gboolean
features_are_idle (UiFixture *fixture)
{
  return !ew_features_page_get_is_busy (features_page (fixture));
}

/* Scans the car on the Vehicle page; the Features page follows by itself. */
static void
scan_and_read_features (UiFixture *fixture, const char *link)
{
  scan_link (fixture, link);
  iterate_until_within (features_are_read, fixture, 15);
  ew_window_show_page (fixture->window, "features");
  g_assert_cmpstr (gtk_stack_get_visible_child_name (GTK_STACK (features_child (fixture, "main_stack"))),
                   ==, "list");
}

/* the feature feature_row () waits for */
static const char *wanted_feature;

static gboolean
feature_row_is_made (UiFixture *fixture)
{
  GtkWidget *row = ew_features_page_find_row (features_page (fixture), wanted_feature);

  /* bound to a list item, and on screen */
  return row != NULL && gtk_widget_get_mapped (row);
}

/* The list makes rows only for what is in view: the feature is scrolled
 * into view and its row waited for, as it is drawn on screen. */
static EwFeatureRow *
feature_row (UiFixture *fixture, const char *feature_id)
{
  GtkWidget *row;

  g_assert_true (ew_features_page_show_feature (features_page (fixture), feature_id));
  wanted_feature = feature_id;
  iterate_until (feature_row_is_made, fixture);
  row = ew_features_page_find_row (features_page (fixture), feature_id);
  g_assert_true (gtk_widget_is_ancestor (row, GTK_WIDGET (features_page (fixture))));
  g_assert_true (gtk_widget_get_mapped (row));
  g_assert_cmpstr (ew_feature_row_get_feature (EW_FEATURE_ROW (row))->id, ==, feature_id);
  return EW_FEATURE_ROW (row);
}

/* Whether the list shows the feature; a listed one gets its row in view. */
static gboolean
feature_is_listed (UiFixture *fixture, const char *feature_id)
{
  if (!ew_features_page_show_feature (features_page (fixture), feature_id))
    {
      g_assert_null (ew_features_page_find_row (features_page (fixture), feature_id));
      return FALSE;
    }
  return gtk_widget_get_visible (GTK_WIDGET (feature_row (fixture, feature_id)));
}

typedef struct {
  guint16  did;
  GBytes  *bytes;
} DidRead;

static void
read_did_of_ecu (EwSimEcu *ecu, gpointer user_data)
{
  DidRead *read = user_data;

  read->bytes = ew_sim_ecu_read_did (ecu, read->did);
}

/* The coding byte the simulated module really holds. */
static guint8
car_coding_byte (UiFixture *fixture, const char *module_id, guint16 did, guint offset)
{
  EwConnection *connection = ew_features_page_get_connection (features_page (fixture));
  EwSimVehicle *vehicle;
  DidRead read = { did, NULL };
  guint8 value;

  g_assert_nonnull (connection);
  vehicle = ew_connection_get_sim_vehicle (connection);
  g_assert_nonnull (vehicle);
  ew_sim_vehicle_with_ecu (vehicle, module_id, read_did_of_ecu, &read);
  g_assert_nonnull (read.bytes);
  g_assert_cmpuint (g_bytes_get_size (read.bytes), >, offset);
  value = ((const guint8 *) g_bytes_get_data (read.bytes, NULL))[offset];
  g_bytes_unref (read.bytes);
  return value;
}

/* Cornering lights: FEM coding DID 0x3000, byte 0, mask 0x02. */
static gboolean
car_has_cornering_lights (UiFixture *fixture)
{
  return (car_coding_byte (fixture, "fem", 0x3000, 0) & 0x02) != 0;
}





static void
test_features_apply_undo (UiFixture *fixture, gconstpointer data)
{
  EwFeaturesPage *page;
  EwFeatureRow *row;
  GtkWidget *control;
  AdwMessageDialog *review;
  GtkWidget *review_list;
  GtkWidget *line;
  const EwFeatureStatus *status;
  GtkWidget *coding_row, *restore_row;
  gint64 coding_job, restore_job;

  if (!ui_is_narrow_variant ())
    gtk_window_set_default_size (GTK_WINDOW (fixture->window), 900, 900);
  scan_and_read_features (fixture, FEATURES_LINK);
  page = features_page (fixture);

  /* the profile leaves the cornering lights off: the car and the page agree */
  g_assert_false (car_has_cornering_lights (fixture));
  row = feature_row (fixture, "cornering-lights");
  control = ew_feature_row_get_control (row);
  g_assert_nonnull (control);
  g_assert_true (GTK_IS_SWITCH (control));
  g_assert_false (gtk_switch_get_active (GTK_SWITCH (control)));
  /* every row says where its data comes from, plainly */
  g_assert_nonnull (strstr (ew_feature_row_get_subtitle (row), "Illustrative data: simulated cars only"));
  /* more than two states: a choice, not a switch */
  g_assert_true (GTK_IS_DROP_DOWN (ew_feature_row_get_control (feature_row (fixture, "headlight-delay"))));
  /* programming is never offered as a switch */
  g_assert_null (ew_feature_row_get_control (feature_row (fixture, "carplay-software")));

  /* switching writes nothing: the change waits in the pending bar */
  gtk_widget_activate (GTK_WIDGET (row));
  g_assert_true (gtk_switch_get_active (GTK_SWITCH (control)));
  g_assert_cmpuint (ew_features_page_get_n_pending (page), ==, 1);
  g_assert_true (gtk_revealer_get_reveal_child (GTK_REVEALER (features_child (fixture, "pending_revealer"))));
  g_assert_nonnull (strstr (gtk_button_get_label (GTK_BUTTON (features_child (fixture, "apply_button"))),
                            "Apply 1 Change"));
  g_assert_false (car_has_cornering_lights (fixture));
  save_screenshot (fixture, GTK_WIDGET (fixture->window), "features-page.png");

  /* Apply opens the review: every change, before → after */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "features.apply", NULL));
  iterate_until (dialog_is_mapped, fixture);
  review = open_message_dialog ();
  review_list = adw_message_dialog_get_extra_child (review);
  g_assert_true (GTK_IS_LIST_BOX (review_list));
  line = GTK_WIDGET (gtk_list_box_get_row_at_index (GTK_LIST_BOX (review_list), 0));
  g_assert_nonnull (line);
  g_assert_null (gtk_list_box_get_row_at_index (GTK_LIST_BOX (review_list), 1));
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (line)), ==, "Cornering lights");
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (line)), ==, "Off → On");
  g_assert_true (adw_message_dialog_get_response_enabled (review, "apply"));
  g_assert_false (car_has_cornering_lights (fixture));
  save_screenshot (fixture, GTK_WIDGET (review), "features-review.png");

  respond ("apply");
  g_assert_true (ew_features_page_get_is_busy (page));
  iterate_until_within (features_are_idle, fixture, 20);

  /* written to the car, and the page shows what the car now holds */
  g_assert_false (gtk_widget_get_visible (features_child (fixture, "failure_box")));
  coding_job = ew_features_page_get_last_job_id (page);
  g_assert_cmpint (coding_job, >, 0);
  g_assert_true (car_has_cornering_lights (fixture));
  status = ew_feature_catalogue_find (ew_features_page_get_catalogue (page), "cornering-lights");
  g_assert_nonnull (status->state);
  g_assert_cmpstr (status->state->name, ==, "on");
  row = feature_row (fixture, "cornering-lights");
  g_assert_true (gtk_switch_get_active (GTK_SWITCH (ew_feature_row_get_control (row))));
  g_assert_cmpuint (ew_features_page_get_n_pending (page), ==, 0);
  g_assert_false (gtk_revealer_get_reveal_child (GTK_REVEALER (features_child (fixture, "pending_revealer"))));

  /* the History page lists the job at once */
  coding_row = ew_history_page_find_row (history_page (fixture), coding_job);
  g_assert_nonnull (coding_row);
  g_assert_cmpstr (ew_job_row_get_state_text (EW_JOB_ROW (coding_row)), ==, "Done");
  g_assert_true (ew_job_row_can_restore (EW_JOB_ROW (coding_row)));
  g_assert_cmpuint (ew_job_row_get_n_journal (EW_JOB_ROW (coding_row)), >, 0);

  /* Undo, as the toast's button does */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "features.undo", "x", coding_job));
  iterate_until_within (features_are_idle, fixture, 20);
  g_assert_false (gtk_widget_get_visible (features_child (fixture, "failure_box")));
  g_assert_false (car_has_cornering_lights (fixture));
  row = feature_row (fixture, "cornering-lights");
  g_assert_false (gtk_switch_get_active (GTK_SWITCH (ew_feature_row_get_control (row))));

  /* both jobs in the history, newest first; the undone one cannot be undone twice */
  restore_job = ew_features_page_get_last_job_id (page);
  g_assert_cmpint (restore_job, >, coding_job);
  restore_row = ew_history_page_find_row (history_page (fixture), restore_job);
  g_assert_nonnull (restore_row);
  coding_row = ew_history_page_find_row (history_page (fixture), coding_job);
  g_assert_nonnull (coding_row);
  g_assert_false (ew_job_row_can_restore (EW_JOB_ROW (coding_row)));
  g_assert_false (ew_job_row_can_restore (EW_JOB_ROW (restore_row)));
  g_assert_true (gtk_widget_get_next_sibling (restore_row) == coding_row);
  g_assert_cmpuint (ew_history_page_get_n_jobs (history_page (fixture)), ==, 2);

  /* once more, and this time restored from the History page */
  ew_window_show_page (fixture->window, "features");
  gtk_widget_activate (GTK_WIDGET (feature_row (fixture, "cornering-lights")));
  g_assert_cmpuint (ew_features_page_get_n_pending (page), ==, 1);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "features.apply", NULL));
  iterate_until (dialog_is_mapped, fixture);
  respond ("apply");

  iterate_until_within (features_are_idle, fixture, 20);
  g_assert_cmpstr (gtk_label_get_label (GTK_LABEL (features_child (fixture, "failure_label"))), ==, "");
  g_assert_true (car_has_cornering_lights (fixture));
  coding_job = ew_features_page_get_last_job_id (page);
  coding_row = ew_history_page_find_row (history_page (fixture), coding_job);
  g_assert_true (ew_job_row_can_restore (EW_JOB_ROW (coding_row)));

  ew_window_show_page (fixture->window, "history");
  adw_expander_row_set_expanded (ADW_EXPANDER_ROW (coding_row), TRUE);
  save_screenshot (fixture, GTK_WIDGET (fixture->window), "history-page.png");

  /* Restore asks first; cancelling changes nothing */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (history_page (fixture)), "history.restore",
                                             "x", coding_job));
  iterate_until (dialog_is_mapped, fixture);
  respond ("cancel");
  g_assert_false (ew_features_page_get_is_busy (page));
  g_assert_true (car_has_cornering_lights (fixture));

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (history_page (fixture)), "history.restore",
                                             "x", coding_job));
  iterate_until (dialog_is_mapped, fixture);
  respond ("restore");
  g_assert_true (ew_features_page_get_is_busy (page));
  iterate_until_within (features_are_idle, fixture, 20);
  g_assert_false (car_has_cornering_lights (fixture));
  coding_row = ew_history_page_find_row (history_page (fixture), coding_job);
  g_assert_cmpstr (ew_job_row_get_state_text (EW_JOB_ROW (coding_row)), ==, "Undone");
  g_assert_cmpuint (ew_history_page_get_n_jobs (history_page (fixture)), ==, 4);
}

/* A module refuses the write: the page says so plainly, and the car and
 * the switch are as they were. */
static void
test_features_failure (UiFixture *fixture, gconstpointer data)
{
  EwFeaturesPage *page;
  const char *text;
  gint64 job_id;
  GtkWidget *job_row;

  scan_and_read_features (fixture, FEATURES_LINK "&faults=nrc=fem:0x2E:0x72@1");
  page = features_page (fixture);

  gtk_widget_activate (GTK_WIDGET (feature_row (fixture, "cornering-lights")));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "features.apply", NULL));
  iterate_until (dialog_is_mapped, fixture);
  respond ("apply");
  iterate_until_within (features_are_idle, fixture, 20);

  g_assert_true (gtk_widget_get_visible (features_child (fixture, "failure_box")));
  text = gtk_label_get_label (GTK_LABEL (features_child (fixture, "failure_label")));
  g_assert_true (g_str_has_prefix (text, "Nothing was changed: "));
  g_assert_false (car_has_cornering_lights (fixture));
  g_assert_false (gtk_switch_get_active (GTK_SWITCH (ew_feature_row_get_control (feature_row (fixture, "cornering-lights")))));
  save_screenshot (fixture, GTK_WIDGET (fixture->window), "features-failure.png");

  /* the failed job is in the history, and has nothing to undo */
  job_id = ew_features_page_get_last_job_id (page);
  g_assert_cmpint (job_id, >, 0);
  job_row = ew_history_page_find_row (history_page (fixture), job_id);
  g_assert_nonnull (job_row);
  g_assert_false (ew_job_row_can_restore (EW_JOB_ROW (job_row)));
}

/* The list has grown to every feature listed (a short family's all fit
 * in the rows GTK keeps). */
static gboolean
every_listed_feature_has_a_row (UiFixture *fixture)
{
  EwFeaturesPage *page = features_page (fixture);
  EwFamily *family = ew_vehicle_database_find_family (fixture->db, "bmw-f30");

  for (guint i = 0; i < family->features->len; i++)
    {
      const EwFeature *feature = g_ptr_array_index (family->features, i);

      if (ew_features_page_get_group_title (page, feature->id) != NULL
          && ew_features_page_find_row (page, feature->id) == NULL)
        return FALSE;
    }
  return TRUE;
}

static void
test_features_not_fitted (UiFixture *fixture, gconstpointer data)
{
  g_autofree char *profile = g_build_filename (fixture->store_dir, "no-cornering.ini", NULL);
  g_autofree char *link = g_strdup_printf ("sim:bmw-f30?profile=%s", profile);
  g_autoptr(GError) error = NULL;
  EwFamily *family = ew_vehicle_database_find_family (fixture->db, "bmw-f30");
  EwFeaturesPage *page;
  EwFeatureRow *row;
  GtkWidget *needle;
  guint n_measured = 0;
  int minimum = 0;

  /* the car lacks the cornering lamps' option (524) */
  g_file_set_contents (profile,
                       "[profile]\n"
                       "description=Features off, no cornering lamps fitted\n"
                       "options-absent=524\n"
                       "[features]\n"
                       "needle-sweep=off\n", -1, &error);
  g_assert_no_error (error);
  scan_and_read_features (fixture, link);
  page = features_page (fixture);

  row = feature_row (fixture, "cornering-lights");
  g_assert_null (ew_feature_row_get_control (row));
  g_assert_true (gtk_widget_has_css_class (GTK_WIDGET (row), "ew-unavailable"));
  g_assert_nonnull (strstr (ew_feature_row_get_subtitle (row), "524"));

  /* a change can be discarded: nothing was written */
  row = feature_row (fixture, "needle-sweep");
  needle = ew_feature_row_get_control (row);
  g_assert_true (GTK_IS_SWITCH (needle));
  g_assert_false (gtk_switch_get_active (GTK_SWITCH (needle)));
  gtk_widget_activate (GTK_WIDGET (row));
  g_assert_cmpuint (ew_features_page_get_n_pending (page), ==, 1);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "features.discard", NULL));
  g_assert_cmpuint (ew_features_page_get_n_pending (page), ==, 0);
  g_assert_false (gtk_switch_get_active (GTK_SWITCH (ew_feature_row_get_control (feature_row (fixture, "needle-sweep")))));
  g_assert_cmpuint (car_coding_byte (fixture, "kombi", 0x3000, 0) & 0x01, ==, 0);

  /* the search narrows the list */
  gtk_editable_set_text (GTK_EDITABLE (features_child (fixture, "search_entry")), "mirrors");
  g_signal_emit_by_name (features_child (fixture, "search_entry"), "search-changed");
  g_assert_true (feature_is_listed (fixture, "mirror-fold-on-lock"));
  g_assert_false (feature_is_listed (fixture, "cornering-lights"));

  /* grouped by module, the head unit's features sit together */
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (features_child (fixture, "by_module_button")), TRUE);
  g_assert_true (feature_is_listed (fixture, "mirror-fold-on-lock"));
  g_assert_false (feature_is_listed (fixture, "cornering-lights"));
  g_assert_false (gtk_widget_get_visible (features_child (fixture, "no_match_label")));
  gtk_editable_set_text (GTK_EDITABLE (features_child (fixture, "search_entry")), "mirrors xyzzy");
  g_signal_emit_by_name (features_child (fixture, "search_entry"), "search-changed");
  g_assert_false (feature_is_listed (fixture, "mirror-fold-on-lock"));
  g_assert_cmpuint (ew_features_page_get_n_listed (page), ==, 0);
  g_assert_true (gtk_widget_get_visible (features_child (fixture, "no_match_label")));
  gtk_editable_set_text (GTK_EDITABLE (features_child (fixture, "search_entry")), "");
  g_signal_emit_by_name (features_child (fixture, "search_entry"), "search-changed");
  g_assert_cmpstr (ew_features_page_get_group_title (page, "video-in-motion"),
                   ==, "HU_NBT (head unit, NBT / NBT EVO)");
  g_assert_cmpstr (ew_features_page_get_group_title (page, "video-in-motion"),
                   ==, ew_features_page_get_group_title (page, "apple-carplay"));
  g_assert_cmpstr (ew_features_page_get_group_title (page, "video-in-motion"),
                   !=, ew_features_page_get_group_title (page, "lap-timer"));

  /* the page still fits a phone-sized window */
  gtk_editable_set_text (GTK_EDITABLE (features_child (fixture, "search_entry")), "");
  g_signal_emit_by_name (features_child (fixture, "search_entry"), "search-changed");
  gtk_widget_measure (GTK_WIDGET (page), GTK_ORIENTATION_HORIZONTAL, -1, &minimum, NULL, NULL, NULL);
  g_assert_cmpint (minimum, <=, 360);
  /* and so does every row: GTK 4.8's list view gives a row its own
   * minimum width even where the list is narrower (the row then loses its
   * switch off the edge), and a 360 px window leaves the list 336 px */
  iterate_until (every_listed_feature_has_a_row, fixture);
  for (guint i = 0; i < family->features->len; i++)
    {
      const EwFeature *feature = g_ptr_array_index (family->features, i);
      GtkWidget *feature_row_widget = ew_features_page_find_row (page, feature->id);

      if (feature_row_widget == NULL)
        continue;
      n_measured++;
      gtk_widget_measure (feature_row_widget, GTK_ORIENTATION_HORIZONTAL, -1, &minimum, NULL, NULL, NULL);
      if (minimum > 336)
        g_error ("The row of %s needs %d px, more than a phone-sized window's list has", feature->id, minimum);
    }
  g_assert_cmpuint (n_measured, >=, 20);
}

static gboolean
history_is_busy (UiFixture *fixture)
{
  gboolean is_busy = FALSE;

  g_object_get (history_page (fixture), "is-busy", &is_busy, NULL);
  return is_busy;
}

/* While coding is written the title shows the progress and closing the
 * window asks first; keeping it open lets the job finish, and History
 * offers no restore meanwhile. */
static void
test_features_close_while_writing (UiFixture *fixture, gconstpointer data)
{
  EwFeaturesPage *page;
  AdwMessageDialog *dialog;

  /* every FEM request answered 150 ms late: the job takes a while */
  scan_and_read_features (fixture, FEATURES_LINK "&faults=delay=fem:150");
  page = features_page (fixture);

  gtk_widget_activate (GTK_WIDGET (feature_row (fixture, "cornering-lights")));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "features.apply", NULL));
  iterate_until (dialog_is_mapped, fixture);
  respond ("apply");
  g_assert_true (ew_features_page_get_is_writing (page));
  g_assert_true (history_is_busy (fixture));
  /* the title says how far it is */
  g_assert_true (g_str_has_suffix (gtk_window_get_title (GTK_WINDOW (fixture->window)), "% — Coding"));

  gtk_window_close (GTK_WINDOW (fixture->window));
  iterate_until (dialog_is_mapped, fixture);
  dialog = open_message_dialog ();
  g_assert_cmpstr (adw_message_dialog_get_heading (dialog), ==, "Coding Is Being Written");
  respond ("keep");
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (fixture->window)));

  iterate_until_within (features_are_idle, fixture, 30);
  g_assert_false (ew_features_page_get_is_writing (page));
  g_assert_false (history_is_busy (fixture));
  g_assert_true (car_has_cornering_lights (fixture));
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (fixture->window)), ==, "ECU Workshop");
}

/* A job a crash left running is shown as unfinished, with Restore. */
static void
test_history_unfinished (UiFixture *fixture, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  EwJobStore *store;
  gint64 job_id;
  GtkWidget *row;
  int minimum = 0;

  /* a store written by an earlier run that died mid-job */
  fixture_tear_down (fixture, data);
  fixture->store_dir = g_strdup (ui_test_store_dir ());
  path = g_build_filename (ui_test_store_dir (), "jobs.sqlite", NULL);
  store = ew_job_store_open (path, &error);
  g_assert_no_error (error);
  job_id = ew_job_store_begin_job (store, EW_JOB_KIND_CODING, "WBAZZZZZZCA123456", "bmw-f30",
                                   FEATURES_LINK, "Cornering lights: off → on", 0, &error);
  g_assert_no_error (error);
  g_assert_true (ew_job_store_journal (store, job_id, "write", "fem", "started", NULL, &error));
  ew_job_store_close (store);
  fixture_set_up (fixture, data);

  /* the window opens on History, where the unfinished job waits */
  g_assert_true (gtk_widget_get_ancestor (GTK_WIDGET (history_page (fixture)), ADW_TYPE_VIEW_STACK) != NULL);
  g_assert_cmpstr (adw_view_stack_get_visible_child_name (
                     ADW_VIEW_STACK (gtk_widget_get_ancestor (GTK_WIDGET (history_page (fixture)),
                                                              ADW_TYPE_VIEW_STACK))), ==, "history");
  row = ew_history_page_find_row (history_page (fixture), job_id);
  g_assert_nonnull (row);
  g_assert_cmpstr (ew_job_row_get_state_text (EW_JOB_ROW (row)), ==, "Unfinished");
  g_assert_true (ew_job_row_can_restore (EW_JOB_ROW (row)));
  g_assert_cmpuint (ew_job_row_get_n_journal (EW_JOB_ROW (row)), ==, 1);
  /* the history fits a phone-sized window */
  gtk_widget_measure (GTK_WIDGET (history_page (fixture)), GTK_ORIENTATION_HORIZONTAL, -1,
                      &minimum, NULL, NULL, NULL);
  g_assert_cmpint (minimum, <=, 360);

  /* Restore asks first */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (history_page (fixture)), "history.restore",
                                             "x", job_id));
  iterate_until (dialog_is_mapped, fixture);
  respond ("cancel");
  g_assert_false (ew_features_page_get_is_busy (features_page (fixture)));
}

/* Jobs */

static EwJobsPage *
jobs_page (UiFixture *fixture)
{
  GObject *page = gtk_widget_get_template_child (GTK_WIDGET (fixture->window),
                                                 EW_TYPE_WINDOW, "jobs_page");
  g_assert_nonnull (page);
  return EW_JOBS_PAGE (page);
}

static GtkWidget *
jobs_child (UiFixture *fixture, const char *name)
{
  GObject *child = gtk_widget_get_template_child (GTK_WIDGET (jobs_page (fixture)),
                                                  EW_TYPE_JOBS_PAGE, name);
  g_assert_nonnull (child);
  return GTK_WIDGET (child);
}

static gboolean
quote_is_planned (UiFixture *fixture)
{
  return !ew_jobs_page_get_is_busy (jobs_page (fixture))
         && ew_jobs_page_get_plan (jobs_page (fixture)) != NULL;
}

/* Scans on the Vehicle page; the Jobs page reads the car and plans by itself. */
static void
scan_and_plan (UiFixture *fixture, const char *link)
{
  scan_link (fixture, link);
  iterate_until_within (quote_is_planned, fixture, 15);
  ew_window_show_page (fixture->window, "jobs");
  g_assert_cmpstr (gtk_stack_get_visible_child_name (GTK_STACK (jobs_child (fixture, "main_stack"))),
                   ==, "quote");
}

static EwQuoteLineRow *
find_line (UiFixture *fixture, EwPlanItemKind kind)
{
  EwJobsPage *page = jobs_page (fixture);

  for (guint i = 0; i < ew_jobs_page_get_n_lines (page); i++)
    {
      EwQuoteLineRow *row = EW_QUOTE_LINE_ROW (ew_jobs_page_get_line (page, i));

      if (ew_quote_line_row_get_kind (row) == kind)
        return row;
    }
  return NULL;
}

/* The totals add up, and the labels show the plan's. */
static void
assert_totals (UiFixture *fixture)
{
  const EwJobPlan *plan = ew_jobs_page_get_plan (jobs_page (fixture));
  g_autofree char *net = ew_money_format (&plan->rates, plan->net_minor);
  g_autofree char *gross = ew_money_format (&plan->rates, plan->gross_minor);
  gint64 sum = 0;

  for (guint i = 0; i < plan->items->len; i++)
    sum += ((const EwPlanItem *) g_ptr_array_index (plan->items, i))->price_minor;
  g_assert_cmpint (plan->net_minor, ==, sum);
  g_assert_cmpint (plan->vat_minor, >, 0);
  g_assert_cmpint (plan->net_minor + plan->vat_minor, ==, plan->gross_minor);
  g_assert_cmpstr (gtk_label_get_label (GTK_LABEL (jobs_child (fixture, "net_label"))), ==, net);
  g_assert_cmpstr (gtk_label_get_label (GTK_LABEL (jobs_child (fixture, "total_label"))), ==, gross);
}

static guint
feature_index (EwFamily *family, const char *feature_id)
{
  for (guint i = 0; i < family->features->len; i++)
    if (g_str_equal (((const EwFeature *) g_ptr_array_index (family->features, i))->id, feature_id))
      return i;
  g_assert_not_reached ();
}

static void
test_jobs_used_cluster (UiFixture *fixture, gconstpointer data)
{
  EwFamily *family = ew_vehicle_database_find_family (fixture->db, "bmw-f30");
  const EwJobPlan *plan;
  EwQuoteLineRow *cluster, *cornering;
  gint64 net_before;
  guint n_lines;
  int minimum = 0;

  scan_and_plan (fixture, "sim:bmw-f30?profile=used-cluster");

  /* the cluster from another car is quoted without being asked for */
  cluster = find_line (fixture, EW_PLAN_ITEM_USED_CLUSTER);
  g_assert_nonnull (cluster);
  g_assert_true (ew_quote_line_row_get_is_from_scan (cluster));
  g_assert_cmpint (ew_quote_line_row_get_work_class (cluster), ==, EW_WORK_CLASS_PROGRAMMING);
  g_assert_cmpstr (ew_quote_line_row_get_badge_text (cluster), ==, "Programming");
  g_assert_cmpint (ew_quote_line_row_get_price_minor (cluster), >, 0);
  g_assert_cmpuint (ew_quote_line_row_get_n_operations (cluster), >, 1);
  g_assert_cmpstr (adw_expander_row_get_subtitle (ADW_EXPANDER_ROW (cluster)), !=, "");
  g_assert_null (find_line (fixture, EW_PLAN_ITEM_FEATURE));
  assert_totals (fixture);
  plan = ew_jobs_page_get_plan (jobs_page (fixture));
  net_before = plan->net_minor;
  n_lines = ew_jobs_page_get_n_lines (jobs_page (fixture));

  /* the customer asks for cornering lights: a coding line is added */
  adw_combo_row_set_selected (ADW_COMBO_ROW (jobs_child (fixture, "feature_combo")),
                              feature_index (family, "cornering-lights"));
  adw_combo_row_set_selected (ADW_COMBO_ROW (jobs_child (fixture, "state_combo")), 1);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (jobs_page (fixture)), "jobs.add-feature", NULL));
  cornering = find_line (fixture, EW_PLAN_ITEM_FEATURE);
  g_assert_nonnull (cornering);
  g_assert_false (ew_quote_line_row_get_is_from_scan (cornering));
  g_assert_cmpint (ew_quote_line_row_get_work_class (cornering), ==, EW_WORK_CLASS_CODING);
  g_assert_cmpstr (ew_quote_line_row_get_badge_text (cornering), ==, "Coding");
  g_assert_nonnull (strstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (cornering)),
                            "Cornering"));
  g_assert_cmpuint (ew_jobs_page_get_n_lines (jobs_page (fixture)), ==, n_lines + 1);
  plan = ew_jobs_page_get_plan (jobs_page (fixture));
  g_assert_cmpint (plan->net_minor, ==, net_before + ew_quote_line_row_get_price_minor (cornering));
  assert_totals (fixture);

  /* asking again for the same feature does not add a second line */
  g_assert_true (ew_jobs_page_add_item (jobs_page (fixture), "cornering-lights=on", NULL));
  g_assert_cmpuint (ew_jobs_page_get_n_lines (jobs_page (fixture)), ==, n_lines + 1);

  /* the page fits a phone-sized window */
  gtk_widget_measure (GTK_WIDGET (jobs_page (fixture)), GTK_ORIENTATION_HORIZONTAL, -1,
                      &minimum, NULL, NULL, NULL);
  g_assert_cmpint (minimum, <=, 360);

  /* the quote is drawn again on every change: its rows are new */
  cluster = find_line (fixture, EW_PLAN_ITEM_USED_CLUSTER);
  adw_expander_row_set_expanded (ADW_EXPANDER_ROW (cluster), TRUE);
  if (g_getenv ("EW_UI_SCREENSHOT_DIR") != NULL)
    {
      /* tall enough to show the whole quote and its totals */
      gtk_window_set_default_size (GTK_WINDOW (fixture->window), 1000, 1560);
      save_screenshot (fixture, GTK_WIDGET (fixture->window), "jobs-page.png");
    }

  /* the quote goes to the customer as a PDF job sheet */
  {
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp ("ew-ui-quote-XXXXXX", &error);
    g_autofree char *path = NULL;
    g_autofree char *contents = NULL;
    gsize length = 0;

    g_assert_no_error (error);
    path = g_build_filename (dir, "quote.pdf", NULL);
    g_assert_true (ew_jobs_page_save_pdf (jobs_page (fixture), path, &error));
    g_assert_no_error (error);
    g_assert_true (g_file_get_contents (path, &contents, &length, &error));
    g_assert_cmpuint (length, >, 1000);
    g_assert_true (g_str_has_prefix (contents, "%PDF-"));
    g_unlink (path);
    g_rmdir (dir);
  }

  /* its Remove button takes the asked-for line out again; the scan's stays */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (jobs_page (fixture)), "jobs.remove-line",
                                             "i", 0));
  g_assert_null (find_line (fixture, EW_PLAN_ITEM_FEATURE));
  g_assert_nonnull (find_line (fixture, EW_PLAN_ITEM_USED_CLUSTER));
  g_assert_cmpint (ew_jobs_page_get_plan (jobs_page (fixture))->net_minor, ==, net_before);
}

static void
test_jobs_bootloader (UiFixture *fixture, gconstpointer data)
{
  EwQuoteLineRow *recovery;
  g_autoptr(GError) error = NULL;

  scan_and_plan (fixture, "sim:vw-golf-mk7?profile=body-module-bootloader");

  recovery = find_line (fixture, EW_PLAN_ITEM_RECOVERY);
  g_assert_nonnull (recovery);
  g_assert_true (ew_quote_line_row_get_is_from_scan (recovery));
  g_assert_cmpint (ew_quote_line_row_get_work_class (recovery), ==, EW_WORK_CLASS_PROGRAMMING);
  g_assert_cmpint (ew_quote_line_row_get_price_minor (recovery), >, 0);
  assert_totals (fixture);

  /* a name the car does not know is refused, and the quote stays as it was */
  g_assert_false (ew_jobs_page_add_item (jobs_page (fixture), "no-such-feature=on", &error));
  g_assert_error (error, EW_PLANNER_ERROR, EW_PLANNER_ERROR_UNKNOWN_FEATURE);
  g_assert_nonnull (find_line (fixture, EW_PLAN_ITEM_RECOVERY));
}

int
main (int argc, char **argv)
{
  ui_test_init (&argc, &argv);

  g_test_add ("/ui/vehicle/decoded-while-typing", UiFixture, NULL,
              fixture_set_up, test_decoded_while_typing, fixture_tear_down);
  g_test_add ("/ui/vehicle/typo-named", UiFixture, NULL,
              fixture_set_up, test_typo_named, fixture_tear_down);
  g_test_add ("/ui/vehicle/pick-family-by-hand", UiFixture, NULL,
              fixture_set_up, test_pick_family_by_hand, fixture_tear_down);
  g_test_add ("/ui/window/pages", UiFixture, NULL,
              fixture_set_up, test_pages_present, fixture_tear_down);
  g_test_add ("/ui/window/controls-named", UiFixture, NULL,
              fixture_set_up, test_controls_named, fixture_tear_down);
  g_test_add ("/ui/window/keyboard", UiFixture, NULL,
              fixture_set_up, test_keyboard, fixture_tear_down);
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
  g_test_add ("/ui/features/apply-undo", UiFixture, NULL,
              store_fixture_set_up, test_features_apply_undo, fixture_tear_down);
  g_test_add ("/ui/features/failure", UiFixture, NULL,
              store_fixture_set_up, test_features_failure, fixture_tear_down);
  g_test_add ("/ui/features/not-fitted", UiFixture, NULL,
              store_fixture_set_up, test_features_not_fitted, fixture_tear_down);
  g_test_add ("/ui/features/close-while-writing", UiFixture, NULL,
              store_fixture_set_up, test_features_close_while_writing, fixture_tear_down);
  g_test_add ("/ui/history/unfinished", UiFixture, NULL,
              store_fixture_set_up, test_history_unfinished, fixture_tear_down);
  g_test_add ("/ui/jobs/used-cluster", UiFixture, NULL,
              fixture_set_up, test_jobs_used_cluster, fixture_tear_down);
  g_test_add ("/ui/jobs/bootloader", UiFixture, NULL,
              fixture_set_up, test_jobs_bootloader, fixture_tear_down);
  return ui_test_finish (g_test_run ());
}
