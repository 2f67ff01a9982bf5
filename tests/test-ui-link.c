/* test-ui-link.c — "Connect to a Car", driven from the Vehicle page as a
 * technician does: Change… opens the dialog, a simulated car with a
 * scenario or the DoIP address of a simulated car on loopback is chosen,
 * Connect makes it the page's link (and the remembered last link), and a
 * scan over it identifies that very car. A mistyped address is refused on
 * its row. Runs under Xvfb (build-aux/ui-test.sh).
 *
 * With EW_UI_SCREENSHOT_DIR set, the dialog is saved there as
 * link-dialog.png. */
#include "config.h"

#include <string.h>

#include "ui-fixture.h"
#include "ew-link-dialog.h"
#include "ew-scan-finding-row.h"
#include "sim/sim-profile.h"
#include "sim/sim-vehicle.h"

static EwLinkDialog *
find_link_dialog (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GObject) window = g_list_model_get_item (toplevels, i);

      if (EW_IS_LINK_DIALOG (window) && gtk_widget_get_visible (GTK_WIDGET (window)))
        return EW_LINK_DIALOG (window);
    }
  return NULL;
}

static gboolean
link_dialog_is_ready (UiFixture *fixture)
{
  EwLinkDialog *dialog = find_link_dialog ();

  return dialog != NULL && gtk_widget_get_mapped (GTK_WIDGET (dialog))
         && !ew_link_dialog_get_is_refreshing (dialog);
}

static gboolean
link_dialog_is_gone (UiFixture *fixture)
{
  return find_link_dialog () == NULL;
}

static GtkWidget *
dialog_child (EwLinkDialog *dialog, const char *name)
{
  GObject *child = gtk_widget_get_template_child (GTK_WIDGET (dialog), EW_TYPE_LINK_DIALOG, name);

  g_assert_nonnull (child);
  return GTK_WIDGET (child);
}

/* The button in the tree under widget that activates action_name. */
static GtkWidget *
find_action_button (GtkWidget *widget, const char *action_name)
{
  if (GTK_IS_BUTTON (widget)
      && g_strcmp0 (gtk_actionable_get_action_name (GTK_ACTIONABLE (widget)), action_name) == 0)
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_action_button (child, action_name);

      if (found != NULL)
        return found;
    }
  return NULL;
}

/* Change… on the link row, as a click does. */
static EwLinkDialog *
open_link_dialog (UiFixture *fixture)
{
  GtkWidget *change = find_action_button (page_child (fixture, "link_row"), "vehicle.choose-link");
  EwLinkDialog *dialog;

  g_assert_nonnull (change);
  g_assert_true (gtk_widget_get_visible (change));
  g_assert_null (find_link_dialog ());
  g_signal_emit_by_name (change, "clicked");
  iterate_until (link_dialog_is_ready, fixture);
  dialog = find_link_dialog ();
  g_assert_true (gtk_window_get_modal (GTK_WINDOW (dialog)));
  g_assert_true (gtk_window_get_transient_for (GTK_WINDOW (dialog)) == GTK_WINDOW (fixture->window));
  return dialog;
}

static void
click (EwLinkDialog *dialog, const char *button)
{
  g_signal_emit_by_name (dialog_child (dialog, button), "clicked");
}

static void
select_family (UiFixture *fixture, EwLinkDialog *dialog, const char *row, const char *family_id)
{
  GPtrArray *families = ew_vehicle_database_get_families (fixture->db);

  for (guint i = 0; i < families->len; i++)
    if (g_str_equal (((EwFamily *) g_ptr_array_index (families, i))->id, family_id))
      {
        adw_combo_row_set_selected (ADW_COMBO_ROW (dialog_child (dialog, row)), i);
        return;
      }
  g_assert_not_reached ();
}

/* Picks the scenario whose title in the list starts with title. */
static void
select_scenario (EwLinkDialog *dialog, const char *title)
{
  AdwComboRow *row = ADW_COMBO_ROW (dialog_child (dialog, "scenario_row"));
  GListModel *model = adw_combo_row_get_model (row);

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    if (g_str_has_prefix (gtk_string_list_get_string (GTK_STRING_LIST (model), i), title))
      {
        adw_combo_row_set_selected (row, i);
        return;
      }
  g_error ("no scenario “%s…” in the list", title);
}

static void
type_into (EwLinkDialog *dialog, const char *row, const char *text)
{
  gtk_editable_set_text (GTK_EDITABLE (dialog_child (dialog, row)), "");
  for (const char *p = text; *p != '\0'; p++)
    {
      int position = -1;

      gtk_editable_insert_text (GTK_EDITABLE (dialog_child (dialog, row)), p, 1, &position);
      g_main_context_iteration (NULL, FALSE);
    }
}

static gboolean
has_error_style (EwLinkDialog *dialog, const char *row)
{
  return gtk_widget_has_css_class (dialog_child (dialog, row), "error");
}

static char *
last_link (void)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = source ? g_settings_schema_source_lookup (source, APP_ID, TRUE) : NULL;
  g_autoptr(GSettings) settings = NULL;

  /* the test runs with the build's compiled schema */
  g_assert_nonnull (schema);
  settings = g_settings_new_full (schema, NULL, NULL);
  return g_settings_get_string (settings, "last-link");
}

static gboolean
has_finding (UiFixture *fixture, EwFindingKind kind, const char *module_id)
{
  for (GtkWidget *child = gtk_widget_get_first_child (page_child (fixture, "finding_list"));
       child != NULL; child = gtk_widget_get_next_sibling (child))
    if (EW_IS_SCAN_FINDING_ROW (child)
        && ew_scan_finding_row_get_kind (EW_SCAN_FINDING_ROW (child)) == kind
        && g_strcmp0 (ew_scan_finding_row_get_module_id (EW_SCAN_FINDING_ROW (child)), module_id) == 0)
      return TRUE;
  return FALSE;
}

/* The simulated car with the used-cluster scenario: the page's link names
 * it, it is remembered, and a scan finds that car's foreign cluster. */
static void
test_simulated_scenario (UiFixture *fixture, gconstpointer data)
{
  const char *expected = "sim:mercedes-w205?profile=used-cluster";
  EwFamily *family = ew_vehicle_database_find_family (fixture->db, "mercedes-w205");
  g_autoptr(GError) error = NULL;
  g_autoptr(EwSimProfile) profile = ew_sim_profile_load (family, "used-cluster", &error);
  g_autofree char *vin = NULL;
  g_autofree char *remembered = NULL;
  g_autofree char *uri = NULL;
  EwLinkDialog *dialog;

  g_assert_no_error (error);
  ew_vehicle_page_set_link (fixture->page, "sim:bmw-f30");
  dialog = open_link_dialog (fixture);
  /* the link in use is the first choice */
  g_assert_true (gtk_check_button_get_active (GTK_CHECK_BUTTON (dialog_child (dialog, "sim_check"))));
  uri = ew_link_dialog_build_uri (dialog, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (uri, "sim:bmw-f30"));

  /* a real connection chosen first, then back to the simulator */
  type_into (dialog, "doip_host_row", "192.0.2.10");
  g_assert_true (gtk_check_button_get_active (GTK_CHECK_BUTTON (dialog_child (dialog, "doip_check"))));
  select_family (fixture, dialog, "sim_family_row", "mercedes-w205");
  select_scenario (dialog, "Used instrument cluster");
  g_assert_true (gtk_check_button_get_active (GTK_CHECK_BUTTON (dialog_child (dialog, "sim_check"))));
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (dialog_child (dialog, "scenario_row"))),
                            "foreign VIN"));
  save_screenshot (fixture, GTK_WIDGET (dialog), "link-dialog.png");

  click (dialog, "connect_button");
  iterate_until (link_dialog_is_gone, fixture);
  g_assert_cmpstr (ew_vehicle_page_get_link (fixture->page), ==, expected);
  remembered = last_link ();
  g_assert_cmpstr (remembered, ==, expected);

  /* the car on that link is the scenario's car */
  scan_link (fixture, ew_vehicle_page_get_link (fixture->page));
  g_assert_false (gtk_widget_get_visible (page_child (fixture, "scan_error_box")));
  g_assert_cmpstr (ew_vehicle_page_get_family (fixture->page)->id, ==, "mercedes-w205");
  vin = g_strdup (ew_sim_profile_get_vin (profile));
  g_assert_cmpstr (ew_vehicle_page_get_vin (fixture->page), ==, vin);
  g_assert_true (has_finding (fixture, EW_FINDING_VIN_MISMATCH, "ic"));
  g_assert_true (has_finding (fixture, EW_FINDING_SOFTWARE_BEHIND, "ic"));
  g_assert_true (gtk_widget_get_visible (page_child (fixture, "simulated_label")));
}

/* The DoIP address of a simulated car listening on loopback. */
static void
test_doip_address (UiFixture *fixture, gconstpointer data)
{
  EwFamily *family = ew_vehicle_database_find_family (fixture->db, "vw-golf-mk7");
  g_autoptr(GError) error = NULL;
  g_autoptr(EwSimProfile) profile = ew_sim_profile_load (family, "healthy", &error);
  g_autofree char *port = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *remembered = NULL;
  EwSimVehicle *vehicle;
  EwLinkDialog *dialog;

  g_assert_no_error (error);
  vehicle = ew_sim_vehicle_new (family, profile, NULL);
  g_assert_true (ew_sim_vehicle_start_doip (vehicle, "127.0.0.1", 0, FALSE, &error));
  g_assert_no_error (error);
  port = g_strdup_printf ("%u", ew_sim_vehicle_get_doip_port (vehicle));
  expected = g_strdup_printf ("doip:127.0.0.1:%s", port);

  dialog = open_link_dialog (fixture);
  type_into (dialog, "doip_host_row", "127.0.0.1");
  type_into (dialog, "doip_port_row", port);
  g_assert_true (gtk_check_button_get_active (GTK_CHECK_BUTTON (dialog_child (dialog, "doip_check"))));
  g_assert_false (has_error_style (dialog, "doip_host_row"));
  g_assert_false (has_error_style (dialog, "doip_port_row"));
  click (dialog, "connect_button");
  iterate_until (link_dialog_is_gone, fixture);
  g_assert_cmpstr (ew_vehicle_page_get_link (fixture->page), ==, expected);
  remembered = last_link ();
  g_assert_cmpstr (remembered, ==, expected);

  /* the scan went over TCP to that car: it was asked, and it is the car
   * the page now shows */
  scan_link (fixture, expected);
  g_assert_false (gtk_widget_get_visible (page_child (fixture, "scan_error_box")));
  g_assert_cmpuint (ew_sim_vehicle_get_n_requests (vehicle), >, 0);
  g_assert_cmpstr (ew_vehicle_page_get_family (fixture->page)->id, ==, "vw-golf-mk7");
  g_assert_cmpstr (ew_vehicle_page_get_vin (fixture->page), ==, ew_sim_vehicle_get_vin (vehicle));
  /* the car says it is simulated, over DoIP too */
  g_assert_true (gtk_widget_get_visible (page_child (fixture, "simulated_label")));

  /* the page lets go of the connection before the car goes away */
  ew_vehicle_page_set_link (fixture->page, "sim:bmw-f30");
  ew_sim_vehicle_free (vehicle);
}

/* A mistyped address or port is refused on its row; nothing changes. */
static void
test_invalid_address (UiFixture *fixture, gconstpointer data)
{
  EwLinkDialog *dialog;
  GtkWidget *error_label;

  ew_vehicle_page_set_link (fixture->page, "sim:bmw-f30");
  dialog = open_link_dialog (fixture);
  error_label = dialog_child (dialog, "doip_error_label");

  /* said while typing */
  type_into (dialog, "doip_host_row", "192.168.1.300");
  g_assert_true (has_error_style (dialog, "doip_host_row"));
  g_assert_true (gtk_widget_get_visible (error_label));

  /* and Connect refuses it: the dialog stays, the link is unchanged */
  click (dialog, "connect_button");
  for (guint i = 0; i < 50; i++)
    g_main_context_iteration (NULL, FALSE);
  g_assert_true (find_link_dialog () == dialog);
  g_assert_true (has_error_style (dialog, "doip_host_row"));
  g_assert_nonnull (strstr (gtk_label_get_label (GTK_LABEL (error_label)), "192.168.1.300"));
  g_assert_cmpstr (ew_vehicle_page_get_link (fixture->page), ==, "sim:bmw-f30");

  type_into (dialog, "doip_host_row", "garage gateway");
  g_assert_true (has_error_style (dialog, "doip_host_row"));

  /* a good host with a bad port: the port row is the one marked */
  type_into (dialog, "doip_host_row", "gateway.local");
  type_into (dialog, "doip_port_row", "70000");
  g_assert_false (has_error_style (dialog, "doip_host_row"));
  g_assert_true (has_error_style (dialog, "doip_port_row"));
  click (dialog, "connect_button");
  for (guint i = 0; i < 50; i++)
    g_main_context_iteration (NULL, FALSE);
  g_assert_true (find_link_dialog () == dialog);
  g_assert_cmpstr (ew_vehicle_page_get_link (fixture->page), ==, "sim:bmw-f30");

  /* corrected, the marks go */
  type_into (dialog, "doip_port_row", "");
  g_assert_false (has_error_style (dialog, "doip_port_row"));
  g_assert_false (gtk_widget_get_visible (error_label));

  /* Cancel keeps the link */
  click (dialog, "cancel_button");
  iterate_until (link_dialog_is_gone, fixture);
  g_assert_cmpstr (ew_vehicle_page_get_link (fixture->page), ==, "sim:bmw-f30");
}

/* The link in use comes back as the dialog's choice, unchanged. */
static void
test_current_link_shown (UiFixture *fixture, gconstpointer data)
{
  static const char *const links[] = {
    "sim:vw-golf-mk7?profile=used-heated-seat",
    "doip:192.0.2.10",
    "doip:192.0.2.10:13401",
    "doip:[fd00::10]",
  };

  for (guint i = 0; i < G_N_ELEMENTS (links); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *uri = NULL;
      EwLinkDialog *dialog;

      ew_vehicle_page_set_link (fixture->page, links[i]);
      dialog = open_link_dialog (fixture);
      uri = ew_link_dialog_build_uri (dialog, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (uri, ==, links[i]);
      click (dialog, "cancel_button");
      iterate_until (link_dialog_is_gone, fixture);
    }
}

/* The adapter lists always say something: an adapter, none, or why not. */
static void
test_adapter_lists (UiFixture *fixture, gconstpointer data)
{
  EwLinkDialog *dialog = open_link_dialog (fixture);
  GtkWidget *usb_first = gtk_widget_get_first_child (dialog_child (dialog, "usb_list"));
  GtkWidget *can_first = gtk_widget_get_first_child (dialog_child (dialog, "socketcan_list"));
  int minimum;

  g_assert_true (ADW_IS_ACTION_ROW (usb_first));
  g_assert_true (ADW_IS_ACTION_ROW (can_first));
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (usb_first)), !=, "");
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (can_first)), !=, "");
  /* the dialog fits a phone-sized screen */
  gtk_widget_measure (GTK_WIDGET (dialog), GTK_ORIENTATION_HORIZONTAL, -1, &minimum, NULL, NULL, NULL);
  g_assert_cmpint (minimum, <=, 360);

  /* Refresh lists again without trouble */
  ew_link_dialog_refresh (dialog);
  g_assert_true (ew_link_dialog_get_is_refreshing (dialog));
  iterate_until (link_dialog_is_ready, fixture);
  click (dialog, "cancel_button");
  iterate_until (link_dialog_is_gone, fixture);
}

/* Every control of the dialog, with a DoIP address typed so that its
 * rows open, has a name for a screen reader and takes keyboard focus. */
static void
test_link_dialog_controls_named (UiFixture *fixture, gconstpointer data)
{
  EwLinkDialog *dialog = open_link_dialog (fixture);
  g_autoptr(GString) problems = g_string_new (NULL);
  guint n_checked = 0;

  type_into (dialog, "doip_host_row", "192.0.2.10");
  ui_check_controls (GTK_WIDGET (dialog), problems, &n_checked);
  if (problems->len > 0)
    g_error ("Connect to a Car:%s", problems->str);
  /* the four kinds of link, the scenario, the address, Connect and Cancel */
  g_assert_cmpuint (n_checked, >=, 8);
  click (dialog, "cancel_button");
  iterate_until (link_dialog_is_gone, fixture);
}

int
main (int argc, char **argv)
{
  ui_test_init (&argc, &argv);

  g_test_add ("/ui-link/simulated-scenario", UiFixture, NULL,
              fixture_set_up, test_simulated_scenario, fixture_tear_down);
  g_test_add ("/ui-link/doip-address", UiFixture, NULL,
              fixture_set_up, test_doip_address, fixture_tear_down);
  g_test_add ("/ui-link/invalid-address", UiFixture, NULL,
              fixture_set_up, test_invalid_address, fixture_tear_down);
  g_test_add ("/ui-link/current-link-shown", UiFixture, NULL,
              fixture_set_up, test_current_link_shown, fixture_tear_down);
  g_test_add ("/ui-link/controls-named", UiFixture, NULL,
              fixture_set_up, test_link_dialog_controls_named, fixture_tear_down);
  g_test_add ("/ui-link/adapter-lists", UiFixture, NULL,
              fixture_set_up, test_adapter_lists, fixture_tear_down);

  return ui_test_finish (g_test_run ());
}
