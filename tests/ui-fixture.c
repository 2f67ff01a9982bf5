/* ui-fixture.c — the real main window for UI tests: opened on a job store
 * of the tests' own, driven through its widgets and actions. */
#include <glib/gstdio.h>
#include <string.h>

#include "ui-fixture.h"
#include "ew-features-page.h"
#include "ew-jobs-page.h"
#include "ew-programming-page.h"

/* the folder ECU_WORKSHOP_JOB_STORE points into, set before any thread runs */
static char *store_dir;

static void
remove_store_files (void)
{
  g_autoptr(GDir) dir = g_dir_open (store_dir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (store_dir, name, NULL);
      g_unlink (path);
    }
}

void
iterate_until_named (const char *name, gboolean (*done) (UiFixture *), UiFixture *fixture, guint seconds)
{
  gint64 deadline = g_get_monotonic_time () + seconds * G_USEC_PER_SEC;

  while (!done (fixture))
    {
      if (g_get_monotonic_time () >= deadline)
        g_error ("%s did not come true within %u s", name, seconds);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

static gboolean
window_is_mapped (UiFixture *fixture)
{
  return gtk_widget_get_mapped (GTK_WIDGET (fixture->window));
}

/* EW_UI_SCREENSHOT_VARIANT "dark", "narrow" or "dark-narrow": the same
 * tests in the dark style or on a phone-sized window, for screenshots. */
static const char *
screenshot_variant (void)
{
  const char *variant = g_getenv ("EW_UI_SCREENSHOT_VARIANT");

  return variant != NULL && *variant != '\0' ? variant : NULL;
}

gboolean
ui_is_narrow_variant (void)
{
  const char *variant = screenshot_variant ();

  return variant != NULL && strstr (variant, "narrow") != NULL;
}

static void
apply_screenshot_variant (UiFixture *fixture)
{
  const char *variant = screenshot_variant ();
  AdwStyleManager *style = adw_style_manager_get_default ();

  adw_style_manager_set_color_scheme (style, variant != NULL && strstr (variant, "dark") != NULL
                                             ? ADW_COLOR_SCHEME_FORCE_DARK
                                             : ADW_COLOR_SCHEME_DEFAULT);
  if (variant != NULL && strstr (variant, "narrow") != NULL)
    {
      /* as a phone-sized GNOME session draws it: a close button only */
      g_object_set (gtk_settings_get_default (), "gtk-decoration-layout", ":close", NULL);
      gtk_window_set_default_size (GTK_WINDOW (fixture->window), 360, 720);
    }
  else
    gtk_window_set_default_size (GTK_WINDOW (fixture->window), 1100, 760);
}

void
fixture_set_up (UiFixture *fixture, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  fixture->db = ew_vehicle_database_new (NULL);
  ew_vehicle_database_add_default_dirs (fixture->db, NULL);
  fixture->wmi_table = ew_wmi_table_load_default (&error);
  g_assert_no_error (error);

  fixture->window = ew_window_new (NULL, fixture->db, fixture->wmi_table);
  fixture->page = EW_VEHICLE_PAGE (ew_window_get_vehicle_page (fixture->window));
  apply_screenshot_variant (fixture);
  gtk_window_present (GTK_WINDOW (fixture->window));
  iterate_until (window_is_mapped, fixture);
}

void
fixture_tear_down (UiFixture *fixture, gconstpointer data)
{
  EwFeaturesPage *features = EW_FEATURES_PAGE (ew_window_get_features_page (fixture->window));
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  /* engine work still running finishes before the car goes away */
  EwJobsPage *jobs = EW_JOBS_PAGE (gtk_widget_get_template_child (GTK_WIDGET (fixture->window),
                                                                   EW_TYPE_WINDOW, "jobs_page"));

  EwProgrammingPage *programming = EW_PROGRAMMING_PAGE (gtk_widget_get_template_child (GTK_WIDGET (fixture->window),
                                                                                    EW_TYPE_WINDOW,
                                                                                    "programming_page"));

  while ((ew_features_page_get_is_busy (features) || ew_jobs_page_get_is_busy (jobs) ||
          ew_programming_page_get_is_busy (programming))
         && g_get_monotonic_time () < deadline)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  gtk_window_destroy (GTK_WINDOW (fixture->window));
  while (g_main_context_iteration (NULL, FALSE))
    ;
  ew_wmi_table_free (fixture->wmi_table);
  ew_vehicle_database_free (fixture->db);

  if (fixture->store_dir != NULL)
    {
      remove_store_files ();
      g_clear_pointer (&fixture->store_dir, g_free);
    }
}

GtkWidget *
page_child (UiFixture *fixture, const char *name)
{
  GObject *child = gtk_widget_get_template_child (GTK_WIDGET (fixture->page),
                                                  EW_TYPE_VEHICLE_PAGE, name);
  g_assert_nonnull (child);
  return GTK_WIDGET (child);
}

gboolean
scan_is_done (UiFixture *fixture)
{
  return !ew_vehicle_page_get_is_scanning (fixture->page);
}

/* Starts a scan on link the way the Scan button does, and waits for it. */
void
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

/* The features tests keep their job store in a folder of their own. */
void
store_fixture_set_up (UiFixture *fixture, gconstpointer data)
{
  remove_store_files ();
  fixture->store_dir = g_strdup (store_dir);
  fixture_set_up (fixture, data);
}

AdwMessageDialog *
open_message_dialog (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GObject) window = g_list_model_get_item (toplevels, i);

      if (ADW_IS_MESSAGE_DIALOG (window) && gtk_widget_get_visible (GTK_WIDGET (window)))
        return ADW_MESSAGE_DIALOG (window);
    }
  return NULL;
}

/* Answers the open dialog as a click on its button does: the response,
 * then the dialog closes. */
void
respond (const char *response)
{
  AdwMessageDialog *dialog = open_message_dialog ();

  g_assert_nonnull (dialog);
  adw_message_dialog_response (dialog, response);
  gtk_window_close (GTK_WINDOW (dialog));
}

gboolean
dialog_is_mapped (UiFixture *fixture)
{
  AdwMessageDialog *dialog = open_message_dialog ();

  return dialog != NULL && gtk_widget_get_mapped (GTK_WIDGET (dialog));
}

/* Renders widget as it is drawn into dir/name, when EW_UI_SCREENSHOT_DIR
 * asks for it. */
void
save_screenshot (UiFixture *fixture, GtkWidget *widget, const char *name)
{
  const char *dir = g_getenv ("EW_UI_SCREENSHOT_DIR");
  g_autoptr(GdkPaintable) paintable = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree char *path = NULL;
  g_autofree char *variant_name = NULL;
  GskRenderer *renderer;
  int width = 0, height = 0;
  gint64 until = g_get_monotonic_time () + G_USEC_PER_SEC / 2;

  if (dir == NULL)
    return;
  if (screenshot_variant () != NULL)
    {
      /* name.png → name-VARIANT.png */
      g_autofree char *stem = g_strndup (name, strlen (name) - strlen (".png"));

      g_assert_true (g_str_has_suffix (name, ".png"));
      variant_name = g_strdup_printf ("%s-%s.png", stem, screenshot_variant ());
      name = variant_name;
    }
  /* let layout and drawing settle; a window shown a moment ago may not
   * have drawn anything yet (Xvfb), so wait for something to draw too */
  paintable = gtk_widget_paintable_new (widget);
  for (guint attempt = 0; node == NULL; attempt++)
    {
      g_autoptr(GtkSnapshot) snapshot = gtk_snapshot_new ();

      g_assert_cmpuint (attempt, <, 10);
      while (g_get_monotonic_time () < until)
        {
          g_main_context_iteration (NULL, FALSE);
          g_usleep (1000);
        }
      until = g_get_monotonic_time () + G_USEC_PER_SEC / 2;
      width = gtk_widget_get_width (widget);
      height = gtk_widget_get_height (widget);
      if (width <= 0 || height <= 0)
        continue;
      gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), width, height);
      node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
    }
  renderer = gtk_native_get_renderer (gtk_widget_get_native (widget));
  texture = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, width, height));
  path = g_build_filename (dir, name, NULL);
  g_assert_true (gdk_texture_save_to_png (texture, path));
}

void
ui_test_init (int *argc, char ***argv)
{
  static GtkCssProvider *css;
  g_autoptr(GError) error = NULL;
  g_autofree char *store_path = NULL;

  /* every test's jobs go to a store of its own, never the user's */
  store_dir = g_dir_make_tmp ("ew-ui-store-XXXXXX", &error);
  g_assert_no_error (error);
  store_path = g_build_filename (store_dir, "jobs.sqlite", NULL);
  g_setenv ("ECU_WORKSHOP_JOB_STORE", store_path, TRUE);

  gtk_test_init (argc, argv, NULL);
  adw_init ();
  g_object_set (gtk_settings_get_default (), "gtk-enable-animations", FALSE, NULL);
  /* the application's stylesheet, as AdwApplication loads it */
  css = gtk_css_provider_new ();
  gtk_css_provider_load_from_resource (css, "/io/github/ecuworkshop/EcuWorkshop/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
}

const char *
ui_test_store_dir (void)
{
  return store_dir;
}

int
ui_test_finish (int status)
{
  remove_store_files ();
  g_rmdir (store_dir);
  g_clear_pointer (&store_dir, g_free);
  return status;
}

/* Controls a screen reader can name: their own label, a label inside, a
 * tooltip, or an accessible label or labelled-by relation. */
static gboolean
has_text_inside (GtkWidget *widget)
{
  if (GTK_IS_LABEL (widget) && *gtk_label_get_text (GTK_LABEL (widget)) != '\0')
    return TRUE;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (has_text_inside (child))
      return TRUE;
  return FALSE;
}

static gboolean
is_named (GtkWidget *widget)
{
  GtkAccessible *accessible = GTK_ACCESSIBLE (widget);

  return gtk_test_accessible_has_property (accessible, GTK_ACCESSIBLE_PROPERTY_LABEL)
         || gtk_test_accessible_has_relation (accessible, GTK_ACCESSIBLE_RELATION_LABELLED_BY)
         || (gtk_widget_get_tooltip_text (widget) != NULL && *gtk_widget_get_tooltip_text (widget) != '\0')
         || has_text_inside (widget);
}

/* Walks the page's widgets and checks each control the technician uses:
 * named, and reachable by keyboard. The parts of composite controls
 * (the button inside a drop-down or a spin button) are the control's. */
void
ui_check_controls (GtkWidget *widget, GString *unnamed, guint *n_checked)
{
  /* libadwaita's entry and combo rows are one control each: the text or
   * the choice inside takes the focus, the row's title names it */
  gboolean is_row_control = ADW_IS_ENTRY_ROW (widget) || ADW_IS_COMBO_ROW (widget);
  gboolean is_control = GTK_IS_BUTTON (widget) || GTK_IS_MENU_BUTTON (widget) ||
                        GTK_IS_SWITCH (widget) || GTK_IS_CHECK_BUTTON (widget) ||
                        GTK_IS_DROP_DOWN (widget) || GTK_IS_SPIN_BUTTON (widget) ||
                        GTK_IS_SEARCH_ENTRY (widget) || GTK_IS_ENTRY (widget) || is_row_control;

  if (!gtk_widget_get_visible (widget))
    return;
  if (is_control)
    {
      (*n_checked)++;
      if (!is_named (widget))
        g_string_append_printf (unnamed, " %s (unnamed)", G_OBJECT_TYPE_NAME (widget));
      if (!gtk_widget_get_focusable (widget) && !is_row_control && !GTK_IS_MENU_BUTTON (widget) &&
          !GTK_IS_DROP_DOWN (widget) && !GTK_IS_SPIN_BUTTON (widget) && !GTK_IS_SEARCH_ENTRY (widget) &&
          !GTK_IS_ENTRY (widget))
        g_string_append_printf (unnamed, " %s (no keyboard focus)", G_OBJECT_TYPE_NAME (widget));
      if (GTK_IS_DROP_DOWN (widget) || GTK_IS_SPIN_BUTTON (widget) || GTK_IS_MENU_BUTTON (widget) ||
          GTK_IS_SEARCH_ENTRY (widget) || GTK_IS_ENTRY (widget) || is_row_control)
        return;
    }
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    ui_check_controls (child, unnamed, n_checked);
}
