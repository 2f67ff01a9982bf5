/* test-cli.c — the `ecuw` command line as a script sees it: JSON output,
 * exit codes, and one clear line on stderr for bad input. */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <json-glib/json-glib.h>

typedef struct {
  int   exit_status;
  char *out;
  char *err;
} EcuwRun;

static void
ecuw_run_free (EcuwRun *run)
{
  g_free (run->out);
  g_free (run->err);
  g_free (run);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EcuwRun, ecuw_run_free)

/* Runs ecuw with a NULL-terminated argument list. */
static EcuwRun *
run_ecuw (const char *first, ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  EcuwRun *run = g_new0 (EcuwRun, 1);
  int wait_status = 0;
  va_list ap;

  g_ptr_array_add (argv, (char *) g_getenv ("ECUW"));
  va_start (ap, first);
  for (const char *a = first; a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (argv, (char *) a);
  va_end (ap);
  g_ptr_array_add (argv, NULL);

  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                &run->out, &run->err, &wait_status, &error);
  g_assert_no_error (error);
  run->exit_status = WIFEXITED (wait_status) ? WEXITSTATUS (wait_status) : -1;
  return run;
}

static JsonNode *
parse_json (const char *text)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  return json_node_copy (json_parser_get_root (parser));
}

static guint
count_lines (const char *text)
{
  guint n = 0;

  for (const char *p = text; *p != '\0'; p++)
    n += *p == '\n';
  return n;
}

/* Bad input: non-zero exit, nothing on stdout, exactly one line on stderr
 * that starts with the program's name and contains `needle`. */
static void
assert_one_error_line (const EcuwRun *run, const char *needle)
{
  g_assert_cmpint (run->exit_status, !=, 0);
  g_assert_cmpstr (run->out, ==, "");
  g_assert_true (g_str_has_prefix (run->err, "ecuw: "));
  g_assert_true (g_str_has_suffix (run->err, "\n"));
  g_assert_cmpuint (count_lines (run->err), ==, 1);
  g_assert_nonnull (strstr (run->err, needle));
}

static JsonObject *
find_by_member (JsonArray *array, const char *member, const char *value)
{
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *o = json_array_get_object_element (array, i);
      if (g_strcmp0 (json_object_get_string_member (o, member), value) == 0)
        return o;
    }
  return NULL;
}

static void
test_vehicles_json (void)
{
  g_autoptr(EcuwRun) run = run_ecuw ("vehicles", "--json", NULL);
  g_autoptr(JsonNode) root = NULL;
  JsonArray *families;
  const char *expected[] = { "bmw-f30", "mercedes-w205", "vw-golf-mk7" };

  g_assert_cmpint (run->exit_status, ==, 0);
  g_assert_cmpstr (run->err, ==, "");
  root = parse_json (run->out);
  families = json_object_get_array_member (json_node_get_object (root), "families");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_node_get_object (root), "errors")), ==, 0);

  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      JsonObject *f = find_by_member (families, "id", expected[i]);

      g_assert_nonnull (f);
      g_assert_cmpint (json_object_get_int_member (f, "modules"), >=, 8);
      g_assert_cmpint (json_object_get_int_member (f, "features"), >=, 12);
      g_assert_cmpint (json_object_get_int_member (f, "years_from"), <, json_object_get_int_member (f, "years_to"));
      g_assert_nonnull (json_object_get_string_member (f, "provenance"));
    }
}

static void
test_vehicles_text (void)
{
  g_autoptr(EcuwRun) run = run_ecuw ("vehicles", NULL);

  g_assert_cmpint (run->exit_status, ==, 0);
  g_assert_nonnull (strstr (run->out, "bmw-f30"));
  g_assert_nonnull (strstr (run->out, "mercedes-w205"));
  g_assert_nonnull (strstr (run->out, "vw-golf-mk7"));
}

static const char *everyday_coding[] = {
  "cornering-lights", "video-in-motion", "daytime-running-lights", "mirror-fold-on-lock",
  "lap-timer", "comfort-access-relock", "headlight-delay", "startup-animation",
};

static void
test_features_json (void)
{
  const char *families[] = { "bmw-f30", "mercedes-w205", "vw-golf-mk7" };

  for (guint f = 0; f < G_N_ELEMENTS (families); f++)
    {
      g_autoptr(EcuwRun) run = run_ecuw ("--json", "features", families[f], NULL);
      g_autoptr(JsonNode) root = NULL;
      JsonArray *features;
      guint n_programming = 0;

      g_assert_cmpint (run->exit_status, ==, 0);
      root = parse_json (run->out);
      g_assert_cmpstr (json_object_get_string_member (json_node_get_object (root), "family"), ==, families[f]);
      features = json_object_get_array_member (json_node_get_object (root), "features");
      g_assert_cmpuint (json_array_get_length (features), >=, 12);

      for (guint i = 0; i < json_array_get_length (features); i++)
        {
          JsonObject *o = json_array_get_object_element (features, i);
          const char *work_class = json_object_get_string_member (o, "class");

          g_assert_true (g_str_equal (work_class, "coding") || g_str_equal (work_class, "programming") ||
                         g_str_equal (work_class, "adaptation"));
          g_assert_cmpstr (json_object_get_string_member (o, "description"), !=, "");
          g_assert_nonnull (json_object_get_string_member (o, "module"));
          if (g_str_equal (work_class, "programming"))
            {
              /* programming says why, and has no coding item to switch */
              n_programming++;
              g_assert_nonnull (json_object_get_string_member_with_default (o, "reason", NULL));
              g_assert_false (json_object_has_member (o, "item"));
            }
          else
            {
              g_assert_true (json_object_has_member (o, "item"));
              g_assert_cmpuint (json_array_get_length (json_object_get_array_member (o, "states")), >=, 2);
            }
        }
      g_assert_cmpuint (n_programming, >=, 1);

      /* the everyday coding jobs of the bay exist in every family, as coding */
      for (guint i = 0; i < G_N_ELEMENTS (everyday_coding); i++)
        {
          JsonObject *o = find_by_member (features, "id", everyday_coding[i]);

          g_test_message ("%s: %s", families[f], everyday_coding[i]);
          g_assert_nonnull (o);
          g_assert_cmpstr (json_object_get_string_member (o, "class"), ==, "coding");
        }
    }
}

static void
test_features_unknown_family (void)
{
  g_autoptr(EcuwRun) run = run_ecuw ("features", "no-such-family", NULL);

  g_assert_cmpint (run->exit_status, ==, 1);
  assert_one_error_line (run, "no-such-family");
}

static void
test_vin_json (void)
{
  /* A European Golf: positions 4-6 ZZZ, model code AU, filler Z in 9. */
  g_autoptr(EcuwRun) run = run_ecuw ("vin", "--json", "WVWZZZAUZFW123456", NULL);
  g_autoptr(JsonNode) root = NULL;
  JsonObject *o, *wmi, *check, *best;
  JsonArray *candidates;

  g_assert_cmpint (run->exit_status, ==, 0);
  root = parse_json (run->out);
  o = json_node_get_object (root);
  g_assert_cmpstr (json_object_get_string_member (o, "vin"), ==, "WVWZZZAUZFW123456");
  wmi = json_object_get_object_member (o, "wmi");
  g_assert_cmpstr (json_object_get_string_member (wmi, "code"), ==, "WVW");
  g_assert_cmpstr (json_object_get_string_member (wmi, "make"), ==, "Volkswagen");
  g_assert_nonnull (json_object_get_string_member (wmi, "source"));
  g_assert_cmpstr (json_object_get_string_member (o, "vds"), ==, "ZZZAUZ");
  g_assert_cmpstr (json_object_get_string_member (o, "vis"), ==, "FW123456");
  check = json_object_get_object_member (o, "check_digit");
  g_assert_cmpstr (json_object_get_string_member (check, "position_9"), ==, "Z");
  g_assert_cmpstr (json_object_get_string_member (check, "status"), ==, "not-applicable");

  candidates = json_object_get_array_member (o, "candidates");
  g_assert_cmpuint (json_array_get_length (candidates), >=, 1);
  best = json_array_get_object_element (candidates, 0);
  g_assert_cmpstr (json_object_get_string_member (best, "family"), ==, "vw-golf-mk7");
  /* VW codes the model year in position 10: F is 2015 in this family's years */
  g_assert_cmpint (json_array_get_int_element (json_object_get_array_member (best, "years"), 0), ==, 2015);
}

static void
test_vin_text (void)
{
  g_autoptr(EcuwRun) run = run_ecuw ("vin", "wvw zzz auz fw123456", NULL);

  g_assert_cmpint (run->exit_status, ==, 0);
  g_assert_nonnull (strstr (run->out, "WVWZZZAUZFW123456"));
  g_assert_nonnull (strstr (run->out, "vw-golf-mk7"));
}

static void
test_vin_bad_input (void)
{
  struct {
    const char *vin;
    const char *needle;
  } cases[] = {
    { "WVWZZZAOZFW123456", "7" },       /* letter O at position 7 */
    { "WVWZZZAUZFW12345", "16" },       /* too short: 16 characters */
    { "WVWZZZAUZFW1234567", "18" },     /* too long */
    { "WVWZZZAU!FW123456", "9" },       /* not alphanumeric */
    { "1M8GDM9AXKP042789", "9" },       /* North America: wrong check digit */
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(EcuwRun) run = run_ecuw ("vin", cases[i].vin, NULL);

      g_test_message ("VIN %s -> %s", cases[i].vin, run->err);
      assert_one_error_line (run, cases[i].needle);
    }
}

static void
test_usage_errors (void)
{
  g_autoptr(EcuwRun) unknown = run_ecuw ("frobnicate", NULL);
  g_autoptr(EcuwRun) option = run_ecuw ("--no-such-option", "vehicles", NULL);
  g_autoptr(EcuwRun) missing = run_ecuw ("vin", NULL);
  g_autoptr(EcuwRun) version = run_ecuw ("--version", NULL);

  g_assert_cmpint (unknown->exit_status, ==, 2);
  assert_one_error_line (unknown, "frobnicate");
  g_assert_cmpint (option->exit_status, ==, 2);
  assert_one_error_line (option, "--no-such-option");
  g_assert_cmpint (missing->exit_status, ==, 2);
  assert_one_error_line (missing, "VIN");
  g_assert_cmpint (version->exit_status, ==, 0);
  g_assert_true (g_str_has_prefix (version->out, "ecuw "));
}

/* A garage's own folder: its families load beside the shipped ones, and a
 * bad file there is reported by name without stopping the others. */
static void
test_data_dir (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ecuw-data-XXXXXX", NULL);
  g_autofree char *good_src = g_test_build_filename (G_TEST_DIST, "fixtures", "cli", "garage-demo.xml", NULL);
  g_autofree char *good = g_build_filename (dir, "garage-demo.xml", NULL);
  g_autofree char *bad = g_build_filename (dir, "broken.xml", NULL);
  g_autofree char *contents = NULL;
  g_autoptr(EcuwRun) run = NULL;
  g_autoptr(JsonNode) root = NULL;
  JsonArray *errors;

  g_assert_true (g_file_get_contents (good_src, &contents, NULL, NULL));
  g_assert_true (g_file_set_contents (good, contents, -1, NULL));
  g_assert_true (g_file_set_contents (bad, "<family id=\"broken\">\n<identification>\n</family>\n", -1, NULL));

  run = run_ecuw ("--data-dir", dir, "--json", "vehicles", NULL);
  g_assert_cmpint (run->exit_status, ==, 0);
  root = parse_json (run->out);
  g_assert_nonnull (find_by_member (json_object_get_array_member (json_node_get_object (root), "families"), "id", "garage-demo"));
  g_assert_nonnull (find_by_member (json_object_get_array_member (json_node_get_object (root), "families"), "id", "bmw-f30"));
  errors = json_object_get_array_member (json_node_get_object (root), "errors");
  g_assert_cmpuint (json_array_get_length (errors), ==, 1);
  g_assert_nonnull (strstr (json_array_get_string_element (errors, 0), "broken.xml"));
  /* the warning also reaches a person on stderr */
  g_assert_nonnull (strstr (run->err, "broken.xml"));

  g_unlink (good);
  g_unlink (bad);
  g_rmdir (dir);
}

static JsonObject *
scan_module (JsonObject *scan, const char *id)
{
  JsonObject *m = find_by_member (json_object_get_array_member (scan, "modules"), "id", id);

  g_assert_nonnull (m);
  return m;
}

/* `ecuw scan` on the default link: the simulated car, no findings. */
static void
test_scan_default_link (void)
{
  g_autoptr(EcuwRun) run = run_ecuw ("scan", "--json", NULL);
  g_autoptr(JsonNode) root = NULL;
  JsonObject *scan;
  JsonArray *modules;

  g_assert_cmpint (run->exit_status, ==, 0);
  g_assert_cmpstr (run->err, ==, "");
  root = parse_json (run->out);
  scan = json_node_get_object (root);
  g_assert_cmpstr (json_object_get_string_member (scan, "link"), ==, "sim:bmw-f30");
  g_assert_cmpstr (json_object_get_string_member (scan, "family"), ==, "bmw-f30");
  g_assert_true (json_object_get_boolean_member (scan, "simulated"));
  g_assert_cmpuint (strlen (json_object_get_string_member (scan, "vin")), ==, 17);
  modules = json_object_get_array_member (scan, "modules");
  g_assert_cmpuint (json_array_get_length (modules), >=, 10);
  for (guint i = 0; i < json_array_get_length (modules); i++)
    {
      JsonObject *m = json_array_get_object_element (modules, i);

      g_assert_cmpstr (json_object_get_string_member (m, "state"), ==, "answered");
      g_assert_cmpstr (json_object_get_string_member (m, "vin"), ==,
                       json_object_get_string_member (scan, "vin"));
    }
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (scan, "findings")), ==, 0);
}

static void
test_scan_text (void)
{
  g_autoptr(EcuwRun) run = run_ecuw ("--link", "sim:vw-golf-mk7?profile=body-module-bootloader",
                                     "scan", NULL);

  g_assert_cmpint (run->exit_status, ==, 0);
  g_assert_nonnull (strstr (run->out, "simulated car"));
  g_assert_nonnull (strstr (run->out, "central-electrics"));
  g_assert_nonnull (strstr (run->out, "stuck in its bootloader"));
}

static void
test_scan_bad_link (void)
{
  {
    g_autoptr(EcuwRun) run = run_ecuw ("--link", "sim:no-such-car", "scan", NULL);

    assert_one_error_line (run, "no vehicle family “no-such-car”");
    g_assert_cmpint (run->exit_status, ==, 1);
  }
  {
    g_autoptr(EcuwRun) run = run_ecuw ("--link", "socketcan:ew-no-such0?family=bmw-f30", "scan", NULL);

    assert_one_error_line (run, "ew-no-such0");
  }
  {
    g_autoptr(EcuwRun) run = run_ecuw ("scan", "--link", NULL);

    g_assert_cmpint (run->exit_status, ==, 2);
  }
}

/* The README's two terminals: `ecuw sim FAMILY --doip ADDRESS:PORT` in one,
 * `ecuw --link doip:ADDRESS:PORT scan` in the other. */
static void
test_sim_doip_second_process (void)
{
  const char *argv[] = { g_getenv ("ECUW"), "--json", "sim", "mercedes-w205", "--doip",
                         "127.0.0.1:0", "--profile", "used-cluster", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) sim = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  g_autoptr(GDataInputStream) out = NULL;
  g_autoptr(GString) announcement = g_string_new (NULL);
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *link = NULL;
  JsonObject *scan;
  JsonArray *findings;
  gint64 port;

  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (sim));
  /* the first JSON object tells the port the kernel chose */
  for (;;)
    {
      g_autofree char *line = g_data_input_stream_read_line (out, NULL, NULL, &error);

      g_assert_no_error (error);
      g_assert_nonnull (line);
      g_string_append (announcement, line);
      if (g_str_equal (line, "}"))
        break;
    }
  root = parse_json (announcement->str);
  port = json_object_get_int_member (json_node_get_object (root), "port");
  g_assert_cmpint (port, >, 0);
  g_clear_pointer (&root, json_node_unref);

  link = g_strdup_printf ("doip:127.0.0.1:%" G_GINT64_FORMAT, port);
  {
    g_autoptr(EcuwRun) run = run_ecuw ("--link", link, "--json", "scan", NULL);

    g_assert_cmpint (run->exit_status, ==, 0);
    root = parse_json (run->out);
  }
  scan = json_node_get_object (root);
  g_assert_cmpstr (json_object_get_string_member (scan, "family"), ==, "mercedes-w205");
  g_assert_true (json_object_get_boolean_member (scan, "simulated"));
  findings = json_object_get_array_member (scan, "findings");
  g_assert_cmpuint (json_array_get_length (findings), ==, 2);
  g_assert_nonnull (find_by_member (findings, "kind", "vin-mismatch"));
  g_assert_nonnull (find_by_member (findings, "kind", "software-behind"));
  g_assert_cmpstr (json_object_get_string_member (scan_module (scan, "ic"), "state"), ==, "answered");

  /* Ctrl+C ends the simulator cleanly */
  g_subprocess_send_signal (sim, SIGINT);
  g_assert_true (g_subprocess_wait (sim, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (sim));
  g_assert_cmpint (g_subprocess_get_exit_status (sim), ==, 0);
}

static void
test_sim_usage (void)
{
  {
    g_autoptr(EcuwRun) run = run_ecuw ("sim", NULL);

    assert_one_error_line (run, "usage: ecuw sim FAMILY");
    g_assert_cmpint (run->exit_status, ==, 2);
  }
  {
    g_autoptr(EcuwRun) run = run_ecuw ("sim", "bmw-f30", "--faults", "drop=kombi:150%", NULL);

    assert_one_error_line (run, "character 0");
  }
  {
    g_autoptr(EcuwRun) run = run_ecuw ("sim", "bmw-f30", "--doip", "example.com:13400", NULL);

    assert_one_error_line (run, "numeric address");
  }
  {
    g_autoptr(EcuwRun) run = run_ecuw ("sim", "bmw-f30", "--profile", "no-such-profile", NULL);

    assert_one_error_line (run, "no-such-profile");
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  if (g_getenv ("ECUW") == NULL)
    g_error ("ECUW must name the ecuw program to test");

  g_test_add_func ("/cli/vehicles/json", test_vehicles_json);
  g_test_add_func ("/cli/vehicles/text", test_vehicles_text);
  g_test_add_func ("/cli/features/json", test_features_json);
  g_test_add_func ("/cli/features/unknown-family", test_features_unknown_family);
  g_test_add_func ("/cli/vin/json", test_vin_json);
  g_test_add_func ("/cli/vin/text", test_vin_text);
  g_test_add_func ("/cli/vin/bad-input", test_vin_bad_input);
  g_test_add_func ("/cli/usage-errors", test_usage_errors);
  g_test_add_func ("/cli/data-dir", test_data_dir);
  g_test_add_func ("/cli/scan/default-link", test_scan_default_link);
  g_test_add_func ("/cli/scan/text", test_scan_text);
  g_test_add_func ("/cli/scan/bad-link", test_scan_bad_link);
  g_test_add_func ("/cli/sim/doip-second-process", test_sim_doip_second_process);
  g_test_add_func ("/cli/sim/usage", test_sim_usage);
  return g_test_run ();
}
