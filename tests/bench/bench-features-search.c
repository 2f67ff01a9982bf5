/* bench-features-search.c — typing in the Features page's search over a
 * family of 2,000 features.
 *
 * Generates one vehicle family with 2,000 features (valid against the
 * schema) in a temporary folder, loads it through the vehicle database,
 * reads the features of a simulated car of that family (sim: link) into
 * the Features page in a window, then types a search word one character
 * at a time, at a typist's pace, and deletes it again. For each keystroke
 * it measures the time from the text change to the end of the next frame
 * drawn (the frame clock's "after-paint"), and prints the median and the
 * worst beside the target of 16 ms. It prints; it does not judge.
 *
 * It needs a display; run it as the UI tests run:
 *   build-aux/ui-test.sh build/tests/bench/bench-features-search
 * (GSK_RENDERER=cairo as in the tests unless the environment says else;
 * --keep leaves the generated family for a look).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <adwaita.h>

#include "data-dir.h"
#include "ew-car-link.h"
#include "ew-feature-row.h"
#include "ew-features-page.h"
#include "vehicle/database.h"
#include "../test-util.h"

#define N_MODULES          20
#define DIDS_PER_MODULE    4
#define ITEMS_PER_DID      25
#define N_FEATURES         (N_MODULES * DIDS_PER_MODULE * ITEMS_PER_DID)
#define TARGET_MS          16.0
/* a brisk typist: about eight keys a second */
#define KEY_INTERVAL_MS    120
#define SEARCH             "headlight delay"

static const char * const module_kinds[] = {
  "engine", "gearbox", "instrument-cluster", "body", "gateway",
  "head-unit", "lighting", "parking", "seat", "climate",
};

static const char * const categories[] = {
  "lighting", "comfort", "driving", "infotainment", "instruments", "safety",
};

/* Names built from these read like a real family's and narrow the list
 * step by step as a word is typed. */
static const char * const things[] = {
  "Headlight", "Mirror", "Seat", "Window", "Door", "Wiper", "Horn",
  "Display", "Camera", "Sensor", "Tailgate", "Sunroof", "Heater",
};
static const char * const actions[] = {
  "delay", "fold", "heating", "memory", "timer", "animation", "sweep",
  "lock", "chime", "brightness", "welcome", "comfort", "auto",
};

static void
generate_family (GString *s)
{
  g_string_append (s,
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<family id=\"gen-features\" schema-version=\"1\" provenance=\"illustrative\">\n"
    "  <identification make=\"Generated\" model=\"Many Features\" years-from=\"2010\" years-to=\"2020\">\n"
    "    <chassis code=\"GF1\" body=\"saloon\"/>\n"
    "    <vin wmi=\"ZGF\" vds=\"^[A-Z0-9]{2}GF1[A-Z0-9]$\" chassis=\"GF1\"/>\n"
    "  </identification>\n"
    "  <options>\n"
    "    <option code=\"OPT1\" name=\"First option\"/>\n"
    "    <option code=\"OPT2\" name=\"Second option\"/>\n"
    "  </options>\n"
    "  <buses><bus id=\"pt\" name=\"PT-CAN\" type=\"can\" bitrate=\"500000\"/></buses>\n"
    "  <security-algorithms><algorithm id=\"toy\">Toy algorithm.</algorithm></security-algorithms>\n"
    "  <modules>\n");

  for (guint m = 0; m < N_MODULES; m++)
    {
      g_string_append_printf (s,
        "    <module id=\"m%u\" name=\"Module %u (%s)\" kind=\"%s\">\n"
        "      <addressing><can bus=\"pt\" request-id=\"0x%03X\" response-id=\"0x%03X\"/></addressing>\n"
        "      <identification>\n"
        "        <did id=\"0xF190\" role=\"vin\" length=\"17\"/>\n"
        "        <did id=\"0xF187\" role=\"part-number\"/>\n"
        "        <did id=\"0xF189\" role=\"software-version\"/>\n"
        "      </identification>\n"
        "      <security><level level=\"0x03\" algorithm=\"toy\" purpose=\"coding\"/></security>\n"
        "      <coding security-level=\"0x03\">\n",
        m, m, module_kinds[m % G_N_ELEMENTS (module_kinds)],
        module_kinds[m % G_N_ELEMENTS (module_kinds)], 0x600 + m, 0x680 + m);
      for (guint d = 0; d < DIDS_PER_MODULE; d++)
        {
          g_string_append_printf (s, "        <did id=\"0x%04X\" name=\"Coding block %u\" length=\"%u\">\n",
                                  0x3000 + d, d, ITEMS_PER_DID);
          for (guint i = 0; i < ITEMS_PER_DID; i++)
            g_string_append_printf (s,
              "          <item id=\"i%u\" name=\"Item %u\" byte=\"%u\" bit=\"1\" mask=\"0x06\">"
              "<value raw=\"0x0\" name=\"off\" label=\"Off\"/><value raw=\"0x1\" name=\"on\" label=\"On\"/>"
              "<value raw=\"0x2\" name=\"auto\" label=\"Automatic\"/></item>\n",
              i, i, i);
          g_string_append (s, "        </did>\n");
        }
      g_string_append (s, "      </coding>\n    </module>\n");
    }
  g_string_append (s, "  </modules>\n  <features>\n");

  for (guint f = 0; f < N_FEATURES; f++)
    {
      guint m = f / (DIDS_PER_MODULE * ITEMS_PER_DID);
      guint d = (f / ITEMS_PER_DID) % DIDS_PER_MODULE;
      guint i = f % ITEMS_PER_DID;
      const char *thing = things[f % G_N_ELEMENTS (things)];
      const char *action = actions[(f / G_N_ELEMENTS (things)) % G_N_ELEMENTS (actions)];
      /* two states make a switch, three a choice: both kinds of row */
      gboolean is_choice = f % 4 == 0;

      g_string_append_printf (s,
        "    <feature id=\"f%u\" class=\"coding\" category=\"%s\" labour-minutes=\"10\"%s>\n"
        "      <name>%s %s %u</name>\n"
        "      <description>Sets the %s %s of variant %u as the customer prefers.</description>\n"
        "      <reason>A value in the module's configuration; no new software is needed.</reason>\n"
        "      <coding module=\"m%u\" did=\"0x%04X\" item=\"i%u\">"
        "<state name=\"off\" value=\"off\"/><state name=\"on\" value=\"on\"/>%s</coding>\n"
        "    </feature>\n",
        f, categories[f % G_N_ELEMENTS (categories)],
        f % 3 == 0 ? " provenance=\"community\" source=\"Bench forum thread\"" : "",
        thing, action, f, thing, action, f,
        m, 0x3000 + d, i,
        is_choice ? "<state name=\"auto\" value=\"auto\"/>" : "");
    }
  g_string_append (s, "  </features>\n</family>\n");
}

/* Frames */

static guint n_frames;
static gint64 last_frame_us;

static void
on_after_paint (GdkFrameClock *clock, gpointer user_data)
{
  n_frames++;
  last_frame_us = g_get_monotonic_time ();
}

/* Runs the main loop until cond holds or seconds pass. */
static gboolean
iterate_until (gboolean (*cond) (gpointer), gpointer data, double seconds)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);

  while (!cond (data))
    {
      if (g_get_monotonic_time () > deadline)
        return FALSE;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (100);
    }
  return TRUE;
}

static gboolean
catalogue_is_read (gpointer data)
{
  EwFeaturesPage *page = data;

  return !ew_features_page_get_is_busy (page) && ew_features_page_get_catalogue (page) != NULL;
}

static guint wanted_frames;

static gboolean
frame_is_drawn (gpointer data)
{
  return n_frames >= wanted_frames;
}

static gboolean
time_passed (gpointer data)
{
  return g_get_monotonic_time () >= *(gint64 *) data;
}

/* Lets the page sit idle (no frame pending) for ms. */
static void
pause_ms (guint ms)
{
  gint64 until = g_get_monotonic_time () + ms * 1000;

  iterate_until (time_passed, &until, ms / 1000.0 + 1);
}

static guint
count_rows (GtkWidget *widget)
{
  guint n = EW_IS_FEATURE_ROW (widget) ? 1 : 0;

  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    n += count_rows (child);
  return n;
}

static int
compare_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static void
print_summary (const char *what, GArray *times)
{
  double median;

  if (times->len == 0)
    return;
  g_array_sort (times, compare_double);
  median = times->len % 2 ? g_array_index (times, double, times->len / 2)
                          : (g_array_index (times, double, times->len / 2 - 1)
                             + g_array_index (times, double, times->len / 2)) / 2;
  printf ("%s: %u keystrokes, median %.1f ms, worst %.1f ms (target under %.0f ms)\n",
          what, times->len, median, g_array_index (times, double, times->len - 1), TARGET_MS);
}

/* Types one character at the end of the search (or deletes the last one
 * when c is 0), as a keystroke does, and returns the time to the next
 * frame drawn, or a negative value when none came. */
static double
keystroke (GtkWidget *entry, char c, double *filter_ms)
{
  GtkEditable *editable = GTK_EDITABLE (entry);
  int end = g_utf8_strlen (gtk_editable_get_text (editable), -1);
  gint64 start;

  wanted_frames = n_frames + 1;
  start = g_get_monotonic_time ();
  if (c != 0)
    gtk_editable_insert_text (editable, &c, 1, &end);
  else
    gtk_editable_delete_text (editable, end - 1, end);
  /* the entry would wait 150 ms before it says; the page answers at once */
  g_signal_emit_by_name (entry, "search-changed");
  *filter_ms = (g_get_monotonic_time () - start) / 1000.0;
  if (!iterate_until (frame_is_drawn, NULL, 5))
    return -1;
  return (last_frame_us - start) / 1000.0;
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *root = NULL;
  g_autoptr(GString) xml = g_string_sized_new (2 * 1024 * 1024);
  g_autoptr(EwVehicleDatabase) db = NULL;
  g_autoptr(EwCarLink) car_link = NULL;
  g_autoptr(GArray) typing = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) deleting = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GtkCssProvider) css = NULL;
  EwFeaturesPage *page;
  GtkWidget *window, *entry;
  GPtrArray *errors;
  gint64 start;
  double ms, filter_ms;
  gboolean keep = argc > 1 && strcmp (argv[1], "--keep") == 0;

  if (g_getenv ("ECU_WORKSHOP_DATA_DIR") == NULL)
    g_setenv ("ECU_WORKSHOP_DATA_DIR", EW_SOURCE_DATADIR, TRUE);
  g_setenv ("GSK_RENDERER", "cairo", FALSE);
  g_setenv ("GSETTINGS_BACKEND", "memory", FALSE);

  gtk_init ();
  adw_init ();
  g_object_set (gtk_settings_get_default (), "gtk-enable-animations", FALSE, NULL);
  css = gtk_css_provider_new ();
  gtk_css_provider_load_from_resource (css, "/io/github/ecuworkshop/EcuWorkshop/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);

  root = g_dir_make_tmp ("ew-bench-features-XXXXXX", &error);
  if (root == NULL)
    g_error ("%s", error->message);
  generate_family (xml);
  {
    g_autofree char *path = g_build_filename (root, "gen-features.xml", NULL);

    if (!g_file_set_contents (path, xml->str, xml->len, &error))
      g_error ("%s", error->message);
  }

  start = g_get_monotonic_time ();
  db = ew_vehicle_database_new (NULL);
  ew_vehicle_database_add_dir (db, root);
  errors = ew_vehicle_database_get_errors (db);
  for (guint i = 0; i < errors->len; i++)
    g_printerr ("%s\n", ((GError *) g_ptr_array_index (errors, i))->message);
  if (ew_vehicle_database_find_family (db, "gen-features") == NULL)
    g_error ("The generated family did not load");
  printf ("generated family: %u features, %.1f MiB of XML, loaded in %.1f ms\n",
          ((EwFamily *) ew_vehicle_database_find_family (db, "gen-features"))->features->len,
          xml->len / (1024.0 * 1024.0), (g_get_monotonic_time () - start) / 1000.0);

  car_link = ew_car_link_new (db);
  page = g_object_new (EW_TYPE_FEATURES_PAGE, NULL);
  ew_features_page_set_data (page, db, car_link, NULL);
  ew_features_page_set_link (page, "sim:gen-features");
  window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (window), 1100, 760);
  gtk_window_set_child (GTK_WINDOW (window), GTK_WIDGET (page));
  gtk_window_present (GTK_WINDOW (window));
  gtk_widget_realize (window);
  g_signal_connect (gtk_widget_get_frame_clock (window), "after-paint",
                    G_CALLBACK (on_after_paint), NULL);

  start = g_get_monotonic_time ();
  ew_features_page_read (page);
  if (!iterate_until (catalogue_is_read, page, 120))
    g_error ("The simulated car's features were not read within 120 s");
  wanted_frames = n_frames + 1;
  iterate_until (frame_is_drawn, NULL, 5);
  printf ("read from the simulated car and shown: %.1f ms; %u entries listed (features and headings)\n",
          (g_get_monotonic_time () - start) / 1000.0, ew_features_page_get_n_listed (page));
  printf ("feature rows made for the window: %u\n", count_rows (window));
  printf ("renderer: %s\n", g_getenv ("GSK_RENDERER"));

  entry = GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (page), EW_TYPE_FEATURES_PAGE,
                                                     "search_entry"));
  gtk_widget_grab_focus (entry);
  pause_ms (300);

  for (guint n = 0; n < strlen (SEARCH); n++)
    {
      ms = keystroke (entry, SEARCH[n], &filter_ms);
      printf ("  typed \"%s\": %u listed, filter %.2f ms, to the frame %.1f ms\n",
              gtk_editable_get_text (GTK_EDITABLE (entry)), ew_features_page_get_n_listed (page),
              filter_ms, ms);
      if (ms >= 0)
        g_array_append_val (typing, ms);
      pause_ms (KEY_INTERVAL_MS);
    }
  printf ("feature rows made for the window: %u\n", count_rows (window));
  for (guint n = 0; n < strlen (SEARCH); n++)
    {
      ms = keystroke (entry, 0, &filter_ms);
      printf ("  deleted to \"%s\": %u listed, filter %.2f ms, to the frame %.1f ms\n",
              gtk_editable_get_text (GTK_EDITABLE (entry)), ew_features_page_get_n_listed (page),
              filter_ms, ms);
      if (ms >= 0)
        g_array_append_val (deleting, ms);
      pause_ms (KEY_INTERVAL_MS);
    }

  print_summary ("typing \"" SEARCH "\"", typing);
  print_summary ("deleting it again", deleting);

  gtk_window_destroy (GTK_WINDOW (window));
  while (g_main_context_iteration (NULL, FALSE))
    ;
  if (keep)
    printf ("family kept in %s\n", root);
  else
    ew_test_remove_tree (root);
  return 0;
}
