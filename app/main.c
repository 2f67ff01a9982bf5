/* main.c — starts the ECU Workshop application; nothing else, unless
 * ECU_WORKSHOP_MEASURE asks for figures (tests/bench/bench-startup):
 *   first-frame  print the time from main () to the window's first drawn
 *                frame and the memory then, and quit;
 *   scan         then scan the car on the link, wait until it is
 *                identified and its features read, print the memory, quit.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>
#include <sys/resource.h>

#include "ew-application.h"
#include "ew-features-page.h"
#include "ew-vehicle-page.h"
#include "ew-window.h"

static gint64 main_time_us;

/* One line: what, milliseconds since main (), the CPU time used (all
 * threads; steadier than the clock on a busy machine), VmRSS and VmHWM. */
static void
print_figures (const char *what)
{
  g_autofree char *status = NULL;
  g_auto(GStrv) lines = NULL;
  const char *rss = "?", *hwm = "?";
  struct rusage usage;

  if (g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    {
      lines = g_strsplit (status, "\n", -1);
      for (guint i = 0; lines[i] != NULL; i++)
        {
          if (g_str_has_prefix (lines[i], "VmRSS:"))
            rss = g_strstrip (lines[i] + 6);
          else if (g_str_has_prefix (lines[i], "VmHWM:"))
            hwm = g_strstrip (lines[i] + 6);
        }
    }
  getrusage (RUSAGE_SELF, &usage);
  printf ("%s-ms=%.1f cpu-ms=%.1f rss=\"%s\" hwm=\"%s\"\n", what,
          (g_get_monotonic_time () - main_time_us) / 1000.0,
          (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000.0
          + (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1000.0,
          rss, hwm);
  fflush (stdout);
}

static gboolean
measure_features_read (gpointer data)
{
  EwWindow *window = data;

  if (ew_features_page_get_is_busy (EW_FEATURES_PAGE (ew_window_get_features_page (window))))
    return G_SOURCE_CONTINUE;
  print_figures ("identified");
  g_application_quit (g_application_get_default ());
  return G_SOURCE_REMOVE;
}

static void
measure_car_scanned (EwVehiclePage *page, const char *link, EwWindow *window)
{
  g_timeout_add (10, measure_features_read, window);
}

static gboolean
measure_give_up (gpointer data)
{
  print_figures ("timeout");
  g_application_quit (g_application_get_default ());
  return G_SOURCE_REMOVE;
}

static void
measure_after_paint (GdkFrameClock *clock, EwWindow *window)
{
  EwVehiclePage *page = EW_VEHICLE_PAGE (ew_window_get_vehicle_page (window));

  g_signal_handlers_disconnect_by_func (clock, measure_after_paint, window);
  print_figures ("first-frame");
  if (g_strcmp0 (g_getenv ("ECU_WORKSHOP_MEASURE"), "scan") != 0)
    {
      g_application_quit (g_application_get_default ());
      return;
    }
  g_signal_connect (page, "car-scanned", G_CALLBACK (measure_car_scanned), window);
  g_timeout_add_seconds (60, measure_give_up, NULL);
  if (!ew_vehicle_page_get_is_scanning (page))
    ew_vehicle_page_scan (page);
}

static void
measure_realize (GtkWidget *window)
{
  g_signal_connect (gtk_widget_get_frame_clock (window), "after-paint",
                    G_CALLBACK (measure_after_paint), window);
}

static void
measure_window_added (GtkApplication *app, GtkWindow *window)
{
  if (EW_IS_WINDOW (window))
    g_signal_connect (window, "realize", G_CALLBACK (measure_realize), NULL);
}

int
main (int argc, char **argv)
{
  g_autoptr(EwApplication) app = NULL;

  main_time_us = g_get_monotonic_time ();
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  app = ew_application_new ();
  if (g_getenv ("ECU_WORKSHOP_MEASURE") != NULL)
    g_signal_connect (app, "window-added", G_CALLBACK (measure_window_added), NULL);
  return g_application_run (G_APPLICATION (app), argc, argv);
}
