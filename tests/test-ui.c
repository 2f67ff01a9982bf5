/* test-ui.c — the real main window, driven as a technician uses it:
 * typing a VIN decodes it as it is typed, a typo is named at once, and the
 * picked family shows in the header. Runs under Xvfb (build-aux/ui-test.sh). */
#include <adwaita.h>

#include "ew-window.h"
#include "ew-vehicle-page.h"

typedef struct {
  EwVehicleDatabase *db;
  EwWmiTable        *wmi_table;
  EwWindow          *window;
  EwVehiclePage     *page;
} UiFixture;

static void
iterate_until (gboolean (*done) (UiFixture *), UiFixture *fixture)
{
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  while (!done (fixture))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
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
  return g_test_run ();
}
