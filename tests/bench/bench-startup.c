/* bench-startup.c — how fast the app draws its first frame, and how much
 * memory it holds once it has identified a car.
 *
 * Starts the real ecu-workshop binary several times with
 * ECU_WORKSHOP_MEASURE=first-frame (app/main.c prints the time from main ()
 * to the window's first drawn frame, the CPU time used and VmRSS/VmHWM,
 * and quits) and measures from the outside too, from the spawn to that
 * line: median and first (coldest) run beside the target of 400 ms. Then
 * starts it with ECU_WORKSHOP_MEASURE=scan on sim:bmw-f30: it scans the
 * simulated car and reads its features, and prints VmRSS and VmHWM then.
 * Settings stay in memory and the job store in a temporary folder. It
 * prints; it does not judge.
 *
 * It needs a display; run it as the UI tests run:
 *   build-aux/ui-test.sh build/tests/bench/bench-startup [PATH-TO-ecu-workshop]
 * (GSK_RENDERER=cairo as in the tests unless the environment says else).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>

#include "data-dir.h"
#include "../test-util.h"

#define RUNS        7
#define SCAN_RUNS   3
#define TARGET_MS   400.0

typedef struct {
  double wall_ms;      /* spawn to the line, measured here */
  double main_ms;      /* main () to the line, measured by the app */
  double cpu_ms;
  double rss_kib;
  double hwm_kib;
} Figures;

/* "NAME-ms=… cpu-ms=… rss="N kB" hwm="N kB"" */
static gboolean
parse_line (const char *line, const char *name, Figures *figures)
{
  g_autofree char *prefix = g_strdup_printf ("%s-ms=", name);
  const char *p = strstr (line, prefix);

  if (p == NULL)
    return FALSE;
  figures->main_ms = g_ascii_strtod (p + strlen (prefix), NULL);
  if ((p = strstr (line, "cpu-ms=")) != NULL)
    figures->cpu_ms = g_ascii_strtod (p + 7, NULL);
  if ((p = strstr (line, "rss=\"")) != NULL)
    figures->rss_kib = g_ascii_strtod (p + 5, NULL);
  if ((p = strstr (line, "hwm=\"")) != NULL)
    figures->hwm_kib = g_ascii_strtod (p + 5, NULL);
  return TRUE;
}

/* Runs the app once; figures of the line named name. */
static gboolean
run_app (const char *app, const char *mode, const char *name, char **envp, Figures *figures)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr(GDataInputStream) out = NULL;
  g_autofree char *line = NULL;
  gint64 start;
  gboolean found = FALSE;

  g_subprocess_launcher_set_environ (launcher, envp);
  g_subprocess_launcher_setenv (launcher, "ECU_WORKSHOP_MEASURE", mode, TRUE);
  start = g_get_monotonic_time ();
  process = g_subprocess_launcher_spawn (launcher, &error, app, "--link", "sim:bmw-f30", NULL);
  if (process == NULL)
    {
      g_printerr ("%s\n", error->message);
      return FALSE;
    }
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (process));
  /* the app ends itself after its line, or after 60 s at most */
  while (!found && (line = g_data_input_stream_read_line (out, NULL, NULL, NULL)) != NULL)
    {
      if (parse_line (line, name, figures))
        {
          figures->wall_ms = (g_get_monotonic_time () - start) / 1000.0;
          found = TRUE;
        }
      else if (strstr (line, "timeout-ms=") != NULL)
        g_printerr ("the app gave up waiting: %s\n", line);
      g_clear_pointer (&line, g_free);
    }
  g_subprocess_wait (process, NULL, NULL);
  return found;
}

static int
compare_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static double
median (GArray *values)
{
  g_autoptr(GArray) sorted = g_array_copy (values);

  if (sorted->len == 0)
    return 0;
  g_array_sort (sorted, compare_double);
  if (sorted->len % 2)
    return g_array_index (sorted, double, sorted->len / 2);
  return (g_array_index (sorted, double, sorted->len / 2 - 1)
          + g_array_index (sorted, double, sorted->len / 2)) / 2;
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *root = NULL;
  g_autofree char *store = NULL;
  g_auto(GStrv) envp = g_get_environ ();
  g_autoptr(GArray) wall = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) in_app = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) cpu = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) rss = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) hwm = g_array_new (FALSE, FALSE, sizeof (double));
  const char *app = argc > 1 ? argv[1] : EW_APP_BINARY;
  double load[3] = { 0 };
  Figures first = { 0 };

  root = g_dir_make_tmp ("ew-bench-startup-XXXXXX", &error);
  if (root == NULL)
    g_error ("%s", error->message);
  store = g_build_filename (root, "jobs.sqlite", NULL);
  envp = g_environ_setenv (envp, "ECU_WORKSHOP_JOB_STORE", store, TRUE);
  envp = g_environ_setenv (envp, "ECU_WORKSHOP_DATA_DIR", EW_SOURCE_DATADIR, FALSE);
  envp = g_environ_setenv (envp, "GSETTINGS_BACKEND", "memory", TRUE);
  envp = g_environ_setenv (envp, "GSK_RENDERER", "cairo", FALSE);

  if (getloadavg (load, 3) > 0)
    printf ("threads available: %u, load average %.1f\n", g_get_num_processors (), load[0]);
  printf ("app: %s, renderer: %s\n", app, g_environ_getenv (envp, "GSK_RENDERER"));

  for (guint run = 0; run < RUNS; run++)
    {
      Figures figures = { 0 };

      if (!run_app (app, "first-frame", "first-frame", envp, &figures))
        {
          g_printerr ("run %u: the app drew no frame\n", run + 1);
          continue;
        }
      if (run == 0)
        first = figures;
      g_array_append_val (wall, figures.wall_ms);
      g_array_append_val (in_app, figures.main_ms);
      g_array_append_val (cpu, figures.cpu_ms);
      printf ("  run %u: %.1f ms from spawn, %.1f ms from main (), %.1f ms of CPU\n",
              run + 1, figures.wall_ms, figures.main_ms, figures.cpu_ms);
    }
  printf ("cold start to the first drawn frame: median %.1f ms from spawn (%.1f ms from main (), "
          "%.1f ms of CPU), first run %.1f ms, %u runs (target under %.0f ms)\n",
          median (wall), median (in_app), median (cpu), first.wall_ms, wall->len, TARGET_MS);
  printf ("memory at the first frame: VmRSS %.1f MiB, VmHWM %.1f MiB\n",
          first.rss_kib / 1024.0, first.hwm_kib / 1024.0);

  for (guint run = 0; run < SCAN_RUNS; run++)
    {
      Figures figures = { 0 };

      if (!run_app (app, "scan", "identified", envp, &figures))
        {
          g_printerr ("scan run %u: the car was not identified\n", run + 1);
          continue;
        }
      g_array_append_val (rss, figures.rss_kib);
      g_array_append_val (hwm, figures.hwm_kib);
      printf ("  scan run %u: identified %.1f ms after main (): VmRSS %.1f MiB, VmHWM %.1f MiB\n",
              run + 1, figures.main_ms, figures.rss_kib / 1024.0, figures.hwm_kib / 1024.0);
    }
  printf ("memory after identifying sim:bmw-f30 (scan and features read): median VmRSS %.1f MiB, "
          "VmHWM %.1f MiB, %u runs\n",
          median (rss) / 1024.0, median (hwm) / 1024.0, rss->len);

  ew_test_remove_tree (root);
  return 0;
}
