/* test-ui-jobs.c — the Preferences window and the Jobs page together: a
 * rate, VAT or fixed price changed in its rows prices the open quote again
 * at once; a currency that is not an ISO 4217 code is refused; the
 * customer view shows every line with its class and the total; the
 * garage's name from the preferences is on the saved job sheet. Runs under
 * Xvfb (build-aux/ui-test.sh).
 */
#define _GNU_SOURCE /* memmem */
#include <glib/gstdio.h>
#include <string.h>

#include "ui-fixture.h"
#include "ew-application.h"
#include "ew-customer-view.h"
#include "ew-jobs-page.h"
#include "ew-preferences-window.h"
#include "ew-quote-line-row.h"

#define SCHEMA_ID     "io.github.ecuworkshop.EcuWorkshop"
#define USED_CLUSTER  "sim:vw-golf-mk7?profile=used-cluster"

static GSettings *settings;

/* Every test starts from the schema's defaults (the memory backend keeps
 * values for the whole program). */
static void
jobs_fixture_set_up (UiFixture *fixture, gconstpointer data)
{
  const char *keys[] = { "garage-name", "garage-address", "garage-logo", "labour-rate", "vat-percent",
                         "currency", "template-prices", NULL };

  for (guint i = 0; keys[i] != NULL; i++)
    g_settings_reset (settings, keys[i]);
  fixture_set_up (fixture, data);
}

static EwJobsPage *
jobs_page (UiFixture *fixture)
{
  GObject *page = gtk_widget_get_template_child (GTK_WIDGET (fixture->window), EW_TYPE_WINDOW, "jobs_page");

  g_assert_nonnull (page);
  return EW_JOBS_PAGE (page);
}

static GtkWidget *
jobs_child (UiFixture *fixture, const char *name)
{
  GObject *child = gtk_widget_get_template_child (GTK_WIDGET (jobs_page (fixture)), EW_TYPE_JOBS_PAGE, name);

  g_assert_nonnull (child);
  return GTK_WIDGET (child);
}

static GtkWidget *
prefs_child (GtkWidget *prefs, const char *name)
{
  GObject *child = gtk_widget_get_template_child (prefs, EW_TYPE_PREFERENCES_WINDOW, name);

  g_assert_nonnull (child);
  return GTK_WIDGET (child);
}

static const char *
label_text (UiFixture *fixture, const char *name)
{
  return gtk_label_get_label (GTK_LABEL (jobs_child (fixture, name)));
}

static gboolean
quote_is_planned (UiFixture *fixture)
{
  return !ew_jobs_page_get_is_busy (jobs_page (fixture)) && ew_jobs_page_get_plan (jobs_page (fixture)) != NULL;
}

/* Scans the VW with another car's cluster: the scan alone raises the
 * cluster's programming, 90 minutes of work. */
static void
scan_and_plan (UiFixture *fixture)
{
  scan_link (fixture, USED_CLUSTER);
  iterate_until_within (quote_is_planned, fixture, 15);
  ew_window_show_page (fixture->window, "jobs");
  g_assert_cmpstr (gtk_stack_get_visible_child_name (GTK_STACK (jobs_child (fixture, "main_stack"))), ==, "quote");
}

static GtkWidget *prefs_window;

static gboolean
prefs_is_mapped (UiFixture *fixture)
{
  /* mapped, and given its size by the X server */
  return prefs_window != NULL && gtk_widget_get_mapped (prefs_window) && gtk_widget_get_width (prefs_window) > 0;
}

static GtkWidget *
open_preferences (UiFixture *fixture)
{
  prefs_window = ew_preferences_window_new (GTK_WINDOW (fixture->window), settings);
  /* tall enough for a whole page in the screenshot */
  gtk_window_set_default_size (GTK_WINDOW (prefs_window), 640, 790);
  gtk_window_present (GTK_WINDOW (prefs_window));
  iterate_until (prefs_is_mapped, fixture);
  return prefs_window;
}

static void
close_preferences (void)
{
  gtk_window_destroy (GTK_WINDOW (prefs_window));
  prefs_window = NULL;
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

/* Every control of every page of the preferences has a name for a screen
 * reader and takes keyboard focus. */
static void
test_preferences_controls_named (UiFixture *fixture, gconstpointer data)
{
  GtkWidget *prefs = open_preferences (fixture);
  g_autoptr(GString) problems = g_string_new (NULL);
  guint n_checked = 0;

  ui_check_controls (prefs, problems, &n_checked);
  close_preferences ();
  if (problems->len > 0)
    g_error ("Preferences:%s", problems->str);
  /* garage, prices, connection: well over a dozen controls */
  g_assert_cmpuint (n_checked, >=, 12);
}

/* The action the window menu and Ctrl+, use opens the window on the app's
 * settings. */
static void
test_preferences_action (UiFixture *fixture, gconstpointer data)
{
  g_autoptr(EwApplication) app = ew_application_new ();
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) accels = NULL;
  GListModel *toplevels;
  GtkWidget *found = NULL;

  accels = gtk_application_get_accels_for_action (GTK_APPLICATION (app), "app.preferences");
  g_assert_true (g_strv_contains ((const char *const *) accels, "<Control>comma"));

  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (app), "preferences"));
  gtk_application_add_window (GTK_APPLICATION (app), GTK_WINDOW (fixture->window));
  g_action_group_activate_action (G_ACTION_GROUP (app), "preferences", NULL);

  toplevels = gtk_window_get_toplevels ();
  for (guint i = 0; i < g_list_model_get_n_items (toplevels) && found == NULL; i++)
    {
      g_autoptr(GObject) window = g_list_model_get_item (toplevels, i);

      if (EW_IS_PREFERENCES_WINDOW (window))
        found = GTK_WIDGET (window);
    }
  g_assert_nonnull (found);
  g_assert_true (gtk_window_get_transient_for (GTK_WINDOW (found)) == GTK_WINDOW (fixture->window));
  prefs_window = found;
  iterate_until (prefs_is_mapped, fixture);

  /* the window's rows write the same settings the app reads */
  gtk_editable_set_text (GTK_EDITABLE (prefs_child (found, "name_row")), "Kfz Müller");
  {
    g_autoptr(GSettings) app_settings = g_settings_new (SCHEMA_ID);
    g_autofree char *name = g_settings_get_string (app_settings, "garage-name");

    g_assert_cmpstr (name, ==, "Kfz Müller");
  }
  close_preferences ();
  gtk_application_remove_window (GTK_APPLICATION (app), GTK_WINDOW (fixture->window));
}

/* A change in the Prices page prices the quote again at once, exactly. */
static void
test_preferences_reprice (UiFixture *fixture, gconstpointer data)
{
  EwJobsPage *page;
  GtkWidget *prefs;
  GtkWidget *other_currency;
  g_autofree char *currency = NULL;

  scan_and_plan (fixture);
  page = jobs_page (fixture);
  g_assert_cmpuint (ew_jobs_page_get_n_lines (page), ==, 1);
  /* 90 min at 90.00 an hour, 20 % VAT */
  g_assert_cmpstr (label_text (fixture, "net_label"), ==, "135.00 GBP");
  g_assert_cmpstr (label_text (fixture, "vat_label"), ==, "27.00 GBP");
  g_assert_cmpstr (label_text (fixture, "total_label"), ==, "162.00 GBP");

  prefs = open_preferences (fixture);
  adw_preferences_window_set_visible_page_name (ADW_PREFERENCES_WINDOW (prefs), "prices");

  /* labour rate 100.00: 150.00 + 30.00 */
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (prefs_child (prefs, "labour_spin")), 100.0);
  g_assert_cmpfloat (g_settings_get_double (settings, "labour-rate"), ==, 100.0);
  g_assert_cmpstr (label_text (fixture, "net_label"), ==, "150.00 GBP");
  g_assert_cmpstr (label_text (fixture, "total_label"), ==, "180.00 GBP");
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (jobs_child (fixture, "labour_row"))),
                   ==, "At 100.00 GBP an hour");

  /* VAT 17.5 %: 26.25 */
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (prefs_child (prefs, "vat_spin")), 17.5);
  g_assert_cmpstr (label_text (fixture, "vat_label"), ==, "26.25 GBP");
  g_assert_cmpstr (label_text (fixture, "total_label"), ==, "176.25 GBP");
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (jobs_child (fixture, "vat_row"))),
                   ==, "VAT 17.5 %");

  /* a fixed price for a used cluster: 99.99, VAT 17.49825 → 17.50 */
  gtk_spin_button_set_value (ew_preferences_window_get_template_spin (EW_PREFERENCES_WINDOW (prefs),
                                                                      "used-cluster"), 99.99);
  {
    g_autoptr(GVariant) prices = g_settings_get_value (settings, "template-prices");
    gint64 minor = 0;

    g_assert_true (g_variant_lookup (prices, "used-cluster", "x", &minor));
    g_assert_cmpint (minor, ==, 9999);
  }
  g_assert_cmpstr (label_text (fixture, "net_label"), ==, "99.99 GBP");
  g_assert_cmpstr (label_text (fixture, "vat_label"), ==, "17.50 GBP");
  g_assert_cmpstr (label_text (fixture, "total_label"), ==, "117.49 GBP");
  g_assert_true (ew_quote_line_row_get_is_fixed_price (EW_QUOTE_LINE_ROW (ew_jobs_page_get_line (page, 0))));
  g_assert_cmpint (ew_jobs_page_get_plan (page)->items->len, ==, 1);
  /* the time the car is needed stays the work's */
  g_assert_cmpstr (label_text (fixture, "labour_label"), ==, "1 h 30 min");

  /* a currency that is not an ISO 4217 code: not stored, the row says so */
  other_currency = prefs_child (prefs, "other_currency_row");
  gtk_editable_set_text (GTK_EDITABLE (other_currency), "EURO");
  g_signal_emit_by_name (other_currency, "apply");
  currency = g_settings_get_string (settings, "currency");
  g_assert_cmpstr (currency, ==, "GBP");
  g_assert_true (gtk_widget_has_css_class (other_currency, "error"));
  g_assert_cmpstr (label_text (fixture, "total_label"), ==, "117.49 GBP");
  gtk_editable_set_text (GTK_EDITABLE (other_currency), "€");
  g_signal_emit_by_name (other_currency, "apply");
  g_clear_pointer (&currency, g_free);
  currency = g_settings_get_string (settings, "currency");
  g_assert_cmpstr (currency, ==, "GBP");
  g_assert_true (gtk_widget_has_css_class (other_currency, "error"));

  /* a real one, typed in small letters: kept, and offered in the list */
  gtk_editable_set_text (GTK_EDITABLE (other_currency), "nzd");
  g_signal_emit_by_name (other_currency, "apply");
  g_clear_pointer (&currency, g_free);
  currency = g_settings_get_string (settings, "currency");
  g_assert_cmpstr (currency, ==, "NZD");
  g_assert_false (gtk_widget_has_css_class (other_currency, "error"));
  g_assert_cmpstr (label_text (fixture, "total_label"), ==, "117.49 NZD");
  {
    AdwComboRow *row = ADW_COMBO_ROW (prefs_child (prefs, "currency_row"));
    GtkStringObject *item = adw_combo_row_get_selected_item (row);

    g_assert_cmpstr (gtk_string_object_get_string (item), ==, "NZD");
  }
  /* and back to pounds from the list */
  adw_combo_row_set_selected (ADW_COMBO_ROW (prefs_child (prefs, "currency_row")), 0);
  g_clear_pointer (&currency, g_free);
  currency = g_settings_get_string (settings, "currency");
  g_assert_cmpstr (currency, ==, "GBP");
  g_assert_cmpstr (label_text (fixture, "total_label"), ==, "117.49 GBP");

  /* no fixed price: by labour time again */
  gtk_spin_button_set_value (ew_preferences_window_get_template_spin (EW_PREFERENCES_WINDOW (prefs),
                                                                      "used-cluster"), 0);
  g_assert_cmpstr (label_text (fixture, "total_label"), ==, "176.25 GBP");
  g_assert_false (ew_quote_line_row_get_is_fixed_price (EW_QUOTE_LINE_ROW (ew_jobs_page_get_line (page, 0))));

  if (g_getenv ("EW_UI_SCREENSHOT_DIR") != NULL)
    {
      gtk_spin_button_set_value (ew_preferences_window_get_template_spin (EW_PREFERENCES_WINDOW (prefs),
                                                                          "ecu-swap"), 249.0);
      iterate_until (prefs_is_mapped, fixture);
      save_screenshot (fixture, prefs, "preferences.png");
    }
  close_preferences ();
}

/* The customer view: every line, its class in words and colour, the time
 * and the total with VAT; and back. */
static void
test_customer_view (UiFixture *fixture, gconstpointer data)
{
  EwJobsPage *page;
  EwCustomerView *view;
  const EwJobPlan *plan;
  GtkStack *stack;
  g_autoptr(GError) error = NULL;

  scan_and_plan (fixture);
  page = jobs_page (fixture);
  g_assert_true (ew_jobs_page_add_item (page, "needle-sweep=on", &error));
  g_assert_no_error (error);
  plan = ew_jobs_page_get_plan (page);
  g_assert_cmpuint (plan->items->len, ==, 2);

  stack = GTK_STACK (jobs_child (fixture, "main_stack"));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "jobs.customer-view", NULL));
  g_assert_true (ew_jobs_page_get_customer_view (page));
  g_assert_cmpstr (gtk_stack_get_visible_child_name (stack), ==, "customer");

  view = EW_CUSTOMER_VIEW (ew_jobs_page_get_customer_view_widget (page));
  g_assert_cmpuint (ew_customer_view_get_n_lines (view), ==, plan->items->len);
  for (guint i = 0; i < plan->items->len; i++)
    {
      const EwPlanItem *item = g_ptr_array_index (plan->items, i);

      g_assert_cmpstr (ew_customer_view_get_line_title (view, i), ==, item->title);
      g_assert_cmpstr (ew_customer_view_get_line_badge (view, i), ==,
                       item->work_class == EW_WORK_CLASS_PROGRAMMING ? "Programming" : "Coding");
    }
  g_assert_cmpstr (ew_customer_view_get_line_badge (view, 0), ==, "Programming");
  g_assert_cmpstr (ew_customer_view_get_line_badge (view, 1), ==, "Coding");
  /* 100 min: 150.00 + 30.00 VAT */
  g_assert_cmpstr (ew_customer_view_get_total_text (view), ==, "180.00 GBP");
  g_assert_cmpstr (ew_customer_view_get_time_text (view), ==, "1 h 40 min");

  /* large type, and still the width of a narrow window */
  {
    int minimum = 0;

    gtk_widget_measure (GTK_WIDGET (view), GTK_ORIENTATION_HORIZONTAL, -1, &minimum, NULL, NULL, NULL);
    g_assert_cmpint (minimum, <=, 360);
  }

  /* a price change reaches the customer's view too */
  g_settings_set_double (settings, "labour-rate", 120.0);
  g_assert_cmpstr (ew_customer_view_get_total_text (view), ==, "240.00 GBP");
  g_settings_reset (settings, "labour-rate");
  g_assert_cmpstr (ew_customer_view_get_total_text (view), ==, "180.00 GBP");

  if (g_getenv ("EW_UI_SCREENSHOT_DIR") != NULL)
    {
      save_screenshot (fixture, GTK_WIDGET (fixture->window), "jobs-customer-view.png");
    }

  /* the same action turns it off */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "jobs.customer-view", NULL));
  g_assert_false (ew_jobs_page_get_customer_view (page));
  g_assert_cmpstr (gtk_stack_get_visible_child_name (stack), ==, "quote");
  g_assert_true (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (jobs_child (fixture, "customer_view_button")))
                 == FALSE);
}

static gboolean
have (const char *program)
{
  g_autofree char *found = g_find_program_in_path (program);

  return found != NULL;
}

/* The garage's name, address and logo (a JPEG) set in the preferences
 * are on the next PDF. */
static void
test_garage_on_pdf (UiFixture *fixture, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, 60, 30);
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *logo = NULL;
  g_autofree char *out = NULL;
  g_autofree char *contents = NULL;
  gsize length = 0;
  GtkWidget *prefs;
  GtkTextBuffer *address;
  int status = 0;

  dir = g_dir_make_tmp ("ew-ui-jobs-XXXXXX", &error);
  g_assert_no_error (error);
  logo = g_build_filename (dir, "logo.jpg", NULL);
  gdk_pixbuf_fill (pixbuf, 0x1f6fb5ff);
  g_assert_true (gdk_pixbuf_save (pixbuf, logo, "jpeg", &error, NULL));
  g_assert_no_error (error);

  scan_and_plan (fixture);
  prefs = open_preferences (fixture);
  g_assert_false (gtk_widget_get_visible (prefs_child (prefs, "logo_picture")));
  /* as the file chooser sets it */
  g_settings_set_string (settings, "garage-logo", logo);
  g_assert_true (gtk_widget_get_visible (prefs_child (prefs, "logo_picture")));
  g_assert_nonnull (gtk_picture_get_paintable (GTK_PICTURE (prefs_child (prefs, "logo_picture"))));
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (prefs_child (prefs, "logo_row"))), ==, "logo.jpg");
  gtk_editable_set_text (GTK_EDITABLE (prefs_child (prefs, "name_row")), "Hartmann Fahrzeugtechnik");
  address = gtk_text_view_get_buffer (GTK_TEXT_VIEW (prefs_child (prefs, "address_view")));
  gtk_text_buffer_set_text (address, "Am Ring 7\n50667 Köln", -1);
  close_preferences ();
  {
    g_autofree char *name = g_settings_get_string (settings, "garage-name");
    g_autofree char *stored = g_settings_get_string (settings, "garage-address");

    g_assert_cmpstr (name, ==, "Hartmann Fahrzeugtechnik");
    g_assert_cmpstr (stored, ==, "Am Ring 7\n50667 Köln");
  }

  path = g_build_filename (dir, "quote.pdf", NULL);
  g_assert_true (ew_jobs_page_save_pdf (jobs_page (fixture), path, &error));
  g_assert_no_error (error);
  /* the logo is on the sheet as an image */
  g_assert_true (g_file_get_contents (path, &contents, &length, &error));
  g_assert_nonnull (memmem (contents, length, "/Subtype /Image", 15));
  if (have ("pdftotext"))
    {
      const char *argv[] = { "pdftotext", path, "-", NULL };

      g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                    NULL, NULL, &out, NULL, &status, &error);
      g_assert_no_error (error);
      g_assert_true (g_spawn_check_wait_status (status, NULL));
      g_assert_nonnull (strstr (out, "Hartmann Fahrzeugtechnik"));
      g_assert_nonnull (strstr (out, "50667 Köln"));
      g_assert_nonnull (strstr (out, "162.00 GBP"));
    }
  g_unlink (path);

  /* Remove takes the logo off the next sheet */
  prefs = open_preferences (fixture);
  g_assert_true (gtk_widget_activate_action (prefs, "prefs.remove-logo", NULL));
  {
    g_autofree char *stored = g_settings_get_string (settings, "garage-logo");

    g_assert_cmpstr (stored, ==, "");
  }
  g_assert_false (gtk_widget_get_visible (prefs_child (prefs, "logo_picture")));
  close_preferences ();
  g_clear_pointer (&contents, g_free);
  g_assert_true (ew_jobs_page_save_pdf (jobs_page (fixture), path, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &contents, &length, &error));
  g_assert_null (memmem (contents, length, "/Subtype /Image", 15));
  g_unlink (path);
  g_unlink (logo);
  g_rmdir (dir);
  if (out == NULL)
    g_test_skip ("pdftotext (poppler-utils) not installed: the sheet's text is not checked");
}

int
main (int argc, char **argv)
{
  const char *build_dir = g_getenv ("G_TEST_BUILDDIR");
  g_autofree char *schema_dir = NULL;
  int status;

  /* the schema compiled in the build folder, before anything reads settings */
  if (build_dir != NULL)
    {
      schema_dir = g_build_filename (build_dir, "..", "data", NULL);
      g_setenv ("GSETTINGS_SCHEMA_DIR", schema_dir, TRUE);
    }
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  ui_test_init (&argc, &argv);
  {
    GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
    g_autoptr(GSettingsSchema) schema = source != NULL
      ? g_settings_schema_source_lookup (source, SCHEMA_ID, TRUE) : NULL;

    g_assert_nonnull (schema);
    settings = g_settings_new_full (schema, NULL, NULL);
  }

  g_test_add ("/ui-jobs/preferences/action", UiFixture, NULL,
              jobs_fixture_set_up, test_preferences_action, fixture_tear_down);
  g_test_add ("/ui-jobs/preferences/controls-named", UiFixture, NULL,
              fixture_set_up, test_preferences_controls_named, fixture_tear_down);
  g_test_add ("/ui-jobs/preferences/reprice", UiFixture, NULL,
              jobs_fixture_set_up, test_preferences_reprice, fixture_tear_down);
  g_test_add ("/ui-jobs/customer-view", UiFixture, NULL,
              jobs_fixture_set_up, test_customer_view, fixture_tear_down);
  g_test_add ("/ui-jobs/garage-on-pdf", UiFixture, NULL,
              jobs_fixture_set_up, test_garage_on_pdf, fixture_tear_down);
  status = g_test_run ();
  g_clear_object (&settings);
  return ui_test_finish (status);
}
