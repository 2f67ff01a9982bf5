/* test-cli.c — the `ecuw` command line as a script sees it: JSON output,
 * exit codes, and one clear line on stderr for bad input. */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <json-glib/json-glib.h>

#include "ecuw-run.h"
#include "store/job-store.h"
#include "test-util.h"


static guint
count_lines (const char *text)
{
  guint n = 0;

  for (const char *p = text; *p != '\0'; p++)
    n += *p == '\n';
  return n;
}

/* Bad input: non-zero exit, nothing on stdout, exactly one line on stderr
 * that starts with the program's name and contains `needle`.  Returns what
 * is wrong, or NULL. */
static const char *
one_error_line_problem (const EcuwRun *run, const char *needle)
{
  if (run->exit_status == 0)
    return "exit status 0";
  if (g_strcmp0 (run->out, "") != 0)
    return "output on stdout";
  if (!g_str_has_prefix (run->err, "ecuw: "))
    return "stderr does not start with “ecuw: ”";
  if (!g_str_has_suffix (run->err, "\n") || count_lines (run->err) != 1)
    return "stderr is not exactly one line";
  if (strstr (run->err, needle) == NULL)
    return "stderr does not name what is wrong";
  return NULL;
}

/* A macro, so that a failure names the caller's line; the run's output is
 * printed first, so that the log says what it was. */
#define assert_one_error_line(run, needle)                                         \
  G_STMT_START {                                                                   \
    const char *problem_ = one_error_line_problem ((run), (needle));               \
    if (problem_ != NULL)                                                          \
      g_printerr ("ecuw exit status %d, %s (expected “%s”)\nstdout:\n%s\nstderr:\n%s\n", \
                  (run)->exit_status, problem_, (needle), (run)->out, (run)->err); \
    g_assert_null (problem_);                                                      \
  } G_STMT_END


static void
test_vehicles_json (void)
{
  g_autoptr(EcuwRun) run = run_ecuw ("vehicles", "--json", NULL);
  g_autoptr(JsonNode) root = NULL;
  JsonArray *families;
  const char *expected[] = { "bmw-f30", "mercedes-w205", "vw-golf-mk7" };

  assert_ecuw_status (run, 0);
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

  assert_ecuw_status (run, 0);
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

      assert_ecuw_status (run, 0);
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

  assert_ecuw_status (run, 1);
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

  assert_ecuw_status (run, 0);
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

  assert_ecuw_status (run, 0);
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

  assert_ecuw_status (unknown, 2);
  assert_one_error_line (unknown, "frobnicate");
  assert_ecuw_status (option, 2);
  assert_one_error_line (option, "--no-such-option");
  assert_ecuw_status (missing, 2);
  assert_one_error_line (missing, "VIN");
  assert_ecuw_status (version, 0);
  g_assert_true (g_str_has_prefix (version->out, "ecuw "));
}

/* `ecuw quote --pdf`: the customer's job sheet as a PDF, the quote still
 * printed; a path that cannot be written fails naming it. */
static void
test_quote_pdf (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ecuw-quote-pdf-XXXXXX", &error);
  g_autofree char *pdf = NULL, *bad = NULL, *data = NULL;
  g_autoptr(EcuwRun) ok = NULL;
  g_autoptr(EcuwRun) fail = NULL;
  gsize len = 0;

  g_assert_no_error (error);
  pdf = g_build_filename (dir, "quote.pdf", NULL);
  bad = g_build_filename (dir, "no-such-folder", "quote.pdf", NULL);
  ok = run_ecuw ("quote", "--family", "bmw-f30", "cornering-lights=on", "--pdf", pdf,
                 "--registration", "AB12 CDE", "--garage", "Test Garage", NULL);
  assert_ecuw_status (ok, 0);
  g_assert_nonnull (strstr (ok->out, "Cornering lights"));
  g_assert_true (g_file_get_contents (pdf, &data, &len, NULL));
  g_assert_cmpuint (len, >, 1000);
  g_assert_true (g_str_has_prefix (data, "%PDF"));

  fail = run_ecuw ("quote", "--family", "bmw-f30", "cornering-lights=on", "--pdf", bad, NULL);
  g_assert_cmpint (fail->exit_status, !=, 0);
  g_assert_nonnull (strstr (fail->err, bad));
  ew_test_remove_tree (dir);
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
  assert_ecuw_status (run, 0);
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

  assert_ecuw_status (run, 0);
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
      /* the DME reports its supply (a battery support unit's 13.6 V), the others none */
      if (g_str_equal (json_object_get_string_member (m, "id"), "dme"))
        g_assert_cmpint (json_object_get_int_member (m, "supply_voltage_mv"), ==, 13600);
      else
        g_assert_true (json_object_get_null_member (m, "supply_voltage_mv"));
    }
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (scan, "findings")), ==, 0);
}

static void
test_scan_text (void)
{
  g_autoptr(EcuwRun) run = run_ecuw ("--link", "sim:vw-golf-mk7?profile=body-module-bootloader",
                                     "scan", NULL);

  assert_ecuw_status (run, 0);
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
    assert_ecuw_status (run, 1);
  }
  {
    g_autoptr(EcuwRun) run = run_ecuw ("--link", "socketcan:ew-no-such0?family=bmw-f30", "scan", NULL);

    assert_one_error_line (run, "ew-no-such0");
  }
  {
    g_autoptr(EcuwRun) run = run_ecuw ("scan", "--link", NULL);

    assert_ecuw_status (run, 2);
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
  g_autoptr(GSubprocess) sim = spawn_ecuw (G_SUBPROCESS_FLAGS_STDOUT_PIPE, argv);
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

    assert_ecuw_status (run, 0);
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
    assert_ecuw_status (run, 2);
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

/* A temporary folder with a simulated car's state file and a job store of
 * its own (ECU_WORKSHOP_JOB_STORE, which ecuw inherits). */
typedef struct {
  char *dir;
  char *profile;
  char *state;
  char *store;
  char *link;
} CodingFixture;

static void
coding_fixture_set_up (CodingFixture *fx, gconstpointer data)
{
  fx->dir = g_dir_make_tmp ("ecuw-code-XXXXXX", NULL);
  g_assert_nonnull (fx->dir);
  fx->profile = g_build_filename (fx->dir, "no-driving-assistant.ini", NULL);
  fx->state = g_build_filename (fx->dir, "car.state", NULL);
  fx->store = g_build_filename (fx->dir, "jobs.sqlite", NULL);
  fx->link = g_strdup_printf ("sim:bmw-f30?profile=%s&state=%s", fx->profile, fx->state);

  /* the shipped scenario, built without the Driving Assistant (option
   * 5AS): its features are there in the data but not fitted to this car */
  {
    g_autofree char *shipped = g_build_filename (g_getenv ("ECU_WORKSHOP_DATA_DIR"), "sim-profiles",
                                                 "features-disabled.ini", NULL);
    g_autoptr(GKeyFile) key_file = g_key_file_new ();
    g_autoptr(GError) error = NULL;

    g_key_file_load_from_file (key_file, shipped, G_KEY_FILE_KEEP_COMMENTS, &error);
    g_assert_no_error (error);
    g_key_file_set_string (key_file, "profile", "options-absent", "5AS");
    g_key_file_save_to_file (key_file, fx->profile, &error);
    g_assert_no_error (error);
  }
  ecuw_run_job_store = fx->store;
}

static void
coding_fixture_tear_down (CodingFixture *fx, gconstpointer data)
{
  g_autoptr(GDir) dir = g_dir_open (fx->dir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (fx->dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (fx->dir);
  ecuw_run_job_store = NULL;
  g_free (fx->dir);
  g_free (fx->profile);
  g_free (fx->state);
  g_free (fx->store);
  g_free (fx->link);
}

/* `ecuw --link LINK --json features`, parsed; the state file exists after. */
static JsonNode *
read_features (const char *link)
{
  g_autoptr(EcuwRun) run = run_ecuw ("--link", link, "--json", "features", NULL);

  g_test_message ("features: %s", run->err);
  assert_ecuw_status (run, 0);
  return parse_json (run->out);
}

static const char *
feature_state (JsonNode *root, const char *id)
{
  JsonObject *f = find_by_member (json_object_get_array_member (json_node_get_object (root), "features"),
                                  "id", id);

  g_assert_nonnull (f);
  return json_object_get_string_member_with_default (f, "state", NULL);
}

static guint
count_jobs (void)
{
  g_autoptr(EcuwRun) run = run_ecuw ("--json", "jobs", NULL);
  g_autoptr(JsonNode) root = NULL;

  assert_ecuw_status (run, 0);
  root = parse_json (run->out);
  return json_array_get_length (json_object_get_array_member (json_node_get_object (root), "jobs"));
}

/* The car as read: a fitted feature switched off in coding is offered as
 * a switch with its state; an absent option is "not fitted" with the
 * reason; new software is "programming", never a switch. */
static void
test_features_live (CodingFixture *fx, gconstpointer data)
{
  g_autoptr(JsonNode) root = read_features ("sim:bmw-f30?profile=features-disabled");
  JsonObject *o = json_node_get_object (root);
  JsonArray *features = json_object_get_array_member (o, "features");
  JsonObject *cornering = find_by_member (features, "id", "cornering-lights");
  JsonArray *states;
  guint n_not_fitted = 0, n_programming = 0;

  g_assert_cmpstr (json_object_get_string_member (o, "family"), ==, "bmw-f30");
  g_assert_cmpstr (json_object_get_string_member (o, "link"), ==, "sim:bmw-f30?profile=features-disabled");
  g_assert_true (json_object_get_boolean_member (o, "simulated"));
  g_assert_cmpuint (strlen (json_object_get_string_member (o, "vin")), ==, 17);

  g_assert_nonnull (cornering);
  g_assert_cmpstr (json_object_get_string_member (cornering, "class"), ==, "coding");
  g_assert_cmpstr (json_object_get_string_member (cornering, "availability"), ==, "switchable");
  g_assert_cmpstr (json_object_get_string_member (cornering, "state"), ==, "off");
  g_assert_cmpstr (json_object_get_string_member (cornering, "provenance"), ==, "illustrative");
  g_assert_true (json_object_get_null_member (cornering, "reason"));
  states = json_object_get_array_member (cornering, "states");
  g_assert_cmpuint (json_array_get_length (states), ==, 2);
  g_assert_cmpstr (json_array_get_string_element (states, 0), ==, "off");
  g_assert_cmpstr (json_array_get_string_element (states, 1), ==, "on");

  for (guint i = 0; i < json_array_get_length (features); i++)
    {
      JsonObject *f = json_array_get_object_element (features, i);
      const char *availability = json_object_get_string_member (f, "availability");
      const char *reason = json_object_get_string_member_with_default (f, "reason", NULL);

      g_assert_nonnull (json_object_get_string_member (f, "category"));
      g_assert_nonnull (json_object_get_string_member (f, "module"));
      g_assert_true (json_object_has_member (f, "needs_acknowledgement"));
      if (g_str_equal (availability, "not-fitted"))
        {
          n_not_fitted++;
          g_test_message ("not fitted: %s: %s", json_object_get_string_member (f, "id"), reason);
          g_assert_nonnull (reason);
          g_assert_cmpstr (reason, !=, "");
        }
      if (g_str_equal (json_object_get_string_member (f, "class"), "programming"))
        {
          n_programming++;
          g_assert_cmpstr (availability, !=, "switchable");
          g_assert_nonnull (reason);
          g_assert_cmpuint (json_array_get_length (json_object_get_array_member (f, "states")), ==, 0);
        }
    }
  g_assert_cmpuint (n_programming, >=, 1);

  /* without option 5AS, its features are there but not fitted, with the
   * reason, and never offered as a switch */
  {
    g_autoptr(JsonNode) without = read_features (fx->link);
    JsonArray *list = json_object_get_array_member (json_node_get_object (without), "features");
    const char *ids[] = { "high-beam-assistant", "speed-limit-info" };

    for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
      {
        JsonObject *f = find_by_member (list, "id", ids[i]);

        g_assert_nonnull (f);
        g_assert_cmpstr (json_object_get_string_member (f, "availability"), ==, "not-fitted");
        g_assert_nonnull (strstr (json_object_get_string_member (f, "reason"), "5AS"));
        n_not_fitted++;
      }
    g_assert_cmpstr (json_object_get_string_member (find_by_member (list, "id", "cornering-lights"),
                                                    "availability"), ==, "switchable");
  }
  g_assert_cmpuint (n_not_fitted, >=, 2);

  /* the text form says the same for people */
  {
    g_autoptr(EcuwRun) run = run_ecuw ("--link", fx->link, "features", NULL);

    assert_ecuw_status (run, 0);
    g_assert_nonnull (strstr (run->out, "cornering-lights"));
    g_assert_nonnull (strstr (run->out, "not fitted"));
    g_assert_nonnull (strstr (run->out, "programming"));
    g_assert_nonnull (strstr (run->out, "simulated car"));
  }
}

/* --dry-run shows every change and writes nothing; coding then persists
 * in the car (its state file) and restore brings the old bytes back. */
static void
test_code_dry_run_apply_restore (CodingFixture *fx, gconstpointer data)
{
  g_autoptr(JsonNode) before = read_features (fx->link);
  g_autofree char *original = coding_state (fx->state);
  g_autofree char *job_text = NULL;
  gint64 job_id;

  g_assert_cmpstr (feature_state (before, "cornering-lights"), ==, "off");
  g_assert_cmpstr (feature_state (before, "mirror-fold-on-lock"), ==, "off");

  {
    g_autoptr(EcuwRun) run = run_ecuw ("--link", fx->link, "--json", "code", "--dry-run",
                                       "cornering-lights=on", "mirror-fold-on-lock=on", NULL);
    g_autoptr(JsonNode) root = NULL;
    g_autofree char *now = NULL;
    JsonObject *o;
    JsonArray *changes, *writes;

    assert_ecuw_status (run, 0);
    root = parse_json (run->out);
    o = json_node_get_object (root);
    g_assert_true (json_object_get_boolean_member (o, "dry_run"));
    g_assert_true (json_object_get_null_member (o, "job"));
    changes = json_object_get_array_member (o, "changes");
    g_assert_cmpuint (json_array_get_length (changes), ==, 2);
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (changes, 0), "feature"), ==, "cornering-lights");
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (changes, 0), "from"), ==, "off");
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (changes, 0), "to"), ==, "on");
    writes = json_object_get_array_member (o, "writes");
    g_assert_cmpuint (json_array_get_length (writes), >=, 1);
    for (guint i = 0; i < json_array_get_length (writes); i++)
      {
        JsonObject *w = json_array_get_object_element (writes, i);

        g_assert_cmpstr (json_object_get_string_member (w, "module"), ==, "fem");
        g_assert_cmpstr (json_object_get_string_member (w, "before"), !=, json_object_get_string_member (w, "after"));
        g_assert_cmpuint (strlen (json_object_get_string_member (w, "before")), ==,
                          strlen (json_object_get_string_member (w, "after")));
      }
    now = coding_state (fx->state);
    g_assert_cmpstr (now, ==, original);
    g_assert_cmpuint (count_jobs (), ==, 0);
  }
  {
    g_autoptr(EcuwRun) run = run_ecuw ("--link", fx->link, "code", "--dry-run", "cornering-lights=on", NULL);
    g_autofree char *now = coding_state (fx->state);

    assert_ecuw_status (run, 0);
    g_assert_nonnull (strstr (run->out, "off → on"));
    g_assert_nonnull (strstr (run->out, "0x3000"));
    g_assert_nonnull (strstr (run->out, "nothing was written"));
    g_assert_cmpstr (now, ==, original);
  }

  /* apply: the job id comes back, and the car holds the new coding */
  {
    g_autoptr(EcuwRun) run = run_ecuw ("--link", fx->link, "--json", "code",
                                       "cornering-lights=on", "mirror-fold-on-lock=on", NULL);
    g_autoptr(JsonNode) root = NULL;
    g_autoptr(JsonNode) after = NULL;
    g_autofree char *now = NULL;

    g_test_message ("code: %s", run->err);
    assert_ecuw_status (run, 0);
    root = parse_json (run->out);
    job_id = json_object_get_int_member (json_node_get_object (root), "job");
    g_assert_cmpint (job_id, >, 0);
    g_assert_cmpstr (json_object_get_string_member (json_node_get_object (root), "state"), ==, "done");
    now = coding_state (fx->state);
    g_assert_cmpstr (now, !=, original);
    after = read_features (fx->link);
    g_assert_cmpstr (feature_state (after, "cornering-lights"), ==, "on");
    g_assert_cmpstr (feature_state (after, "mirror-fold-on-lock"), ==, "on");
    g_assert_cmpstr (feature_state (after, "daytime-running-lights"), ==,
                     feature_state (before, "daytime-running-lights"));
  }

  /* the job shows its backup, with the old bytes */
  job_text = g_strdup_printf ("%" G_GINT64_FORMAT, job_id);
  {
    g_autoptr(EcuwRun) run = run_ecuw ("--json", "job", job_text, NULL);
    g_autoptr(JsonNode) root = NULL;
    JsonObject *o;

    assert_ecuw_status (run, 0);
    root = parse_json (run->out);
    o = json_node_get_object (root);
    g_assert_cmpstr (json_object_get_string_member (o, "kind"), ==, "coding");
    g_assert_cmpstr (json_object_get_string_member (o, "state"), ==, "done");
    g_assert_false (json_object_get_boolean_member (o, "unfinished"));
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (o, "backups")), >=, 1);
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (o, "journal")), >=, 2);
  }

  /* restore, on the car the job names */
  {
    g_autoptr(EcuwRun) run = run_ecuw ("--json", "restore", job_text, NULL);
    g_autoptr(JsonNode) root = NULL;
    g_autoptr(JsonNode) after = NULL;
    g_autofree char *now = NULL;

    g_test_message ("restore: %s", run->err);
    assert_ecuw_status (run, 0);
    root = parse_json (run->out);
    g_assert_cmpint (json_object_get_int_member (json_node_get_object (root), "restore_job"), >, job_id);
    now = coding_state (fx->state);
    g_assert_cmpstr (now, ==, original);
    after = read_features (fx->link);
    g_assert_cmpstr (feature_state (after, "cornering-lights"), ==, "off");
    g_assert_cmpstr (feature_state (after, "mirror-fold-on-lock"), ==, "off");
  }

  /* jobs, newest first: the restore, then the job it undid */
  {
    g_autoptr(EcuwRun) run = run_ecuw ("--json", "jobs", NULL);
    g_autoptr(JsonNode) root = NULL;
    JsonArray *jobs;

    assert_ecuw_status (run, 0);
    root = parse_json (run->out);
    jobs = json_object_get_array_member (json_node_get_object (root), "jobs");
    g_assert_cmpuint (json_array_get_length (jobs), ==, 2);
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (jobs, 0), "kind"), ==, "restore");
    g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (jobs, 0), "restores_job"), ==, job_id);
    g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (jobs, 1), "id"), ==, job_id);
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (jobs, 1), "state"), ==, "restored");
  }
  {
    g_autoptr(EcuwRun) run = run_ecuw ("jobs", "--verify", NULL);

    assert_ecuw_status (run, 0);
    g_assert_nonnull (strstr (run->out, "restore"));
    g_assert_nonnull (strstr (run->out, "Journal verified"));
  }
}

/* Refused requests: one line naming the feature, exit 1, no job, the car
 * untouched. */
static void
test_code_errors (CodingFixture *fx, gconstpointer data)
{
  g_autoptr(JsonNode) root = read_features (fx->link);
  g_autofree char *original = coding_state (fx->state);
  JsonArray *features = json_object_get_array_member (json_node_get_object (root), "features");
  const char *not_fitted = NULL;
  struct {
    const char *first, *second, *needle;
  } cases[] = {
    { "no-such-feature=on", NULL, "no-such-feature" },
    { "cornering-lights=sideways", NULL, "cornering-lights" },
    { "cornering-lights=on", "cornering-lights=off", "cornering-lights" },
    { NULL, NULL, NULL },               /* a feature that is not fitted */
  };

  for (guint i = 0; i < json_array_get_length (features) && not_fitted == NULL; i++)
    {
      JsonObject *f = json_array_get_object_element (features, i);

      if (g_str_equal (json_object_get_string_member (f, "availability"), "not-fitted"))
        not_fitted = json_object_get_string_member (f, "id");
    }
  g_assert_nonnull (not_fitted);
  cases[3].first = g_strdup_printf ("%s=on", not_fitted);
  cases[3].needle = not_fitted;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(EcuwRun) run = run_ecuw ("--link", fx->link, "code", cases[i].first, cases[i].second, NULL);
      g_autofree char *now = coding_state (fx->state);

      g_test_message ("code %s %s -> %s", cases[i].first, cases[i].second, run->err);
      assert_ecuw_status (run, 1);
      assert_one_error_line (run, cases[i].needle);
      g_assert_cmpstr (now, ==, original);
    }
  g_free ((char *) cases[3].first);
  g_assert_cmpuint (count_jobs (), ==, 0);

  {
    g_autoptr(EcuwRun) run = run_ecuw ("code", NULL);

    assert_ecuw_status (run, 2);
    assert_one_error_line (run, "usage: ecuw");
  }
  {
    g_autoptr(EcuwRun) run = run_ecuw ("restore", "12345", NULL);

    assert_ecuw_status (run, 1);
    assert_one_error_line (run, "12345");
  }
  {
    g_autoptr(EcuwRun) run = run_ecuw ("restore", "yesterday", NULL);

    assert_ecuw_status (run, 2);
    assert_one_error_line (run, "yesterday");
  }
}

/* A write the module refuses: the transaction restores what it wrote and
 * says so in one line; the car holds its old coding. */
static void
test_code_rolled_back (CodingFixture *fx, gconstpointer data)
{
  g_autofree char *link = g_strdup_printf ("%s&faults=nrc%%3Dkombi:0x2E:0x22", fx->link);
  g_autoptr(JsonNode) root = read_features (link);
  g_autofree char *original = coding_state (fx->state);
  g_autofree char *now = NULL;
  g_autoptr(EcuwRun) run = run_ecuw ("--link", link, "--json", "code",
                                     "cornering-lights=on", "needle-sweep=on", NULL);

  g_test_message ("rolled back: %s", run->err);
  assert_ecuw_status (run, 1);
  assert_one_error_line (run, "rolled back");
  g_assert_nonnull (strstr (run->err, "restored"));
  g_assert_nonnull (strstr (run->err, "0x3000"));
  now = coding_state (fx->state);
  g_assert_cmpstr (now, ==, original);
  {
    g_autoptr(EcuwRun) jobs = run_ecuw ("--json", "jobs", NULL);
    g_autoptr(JsonNode) list = NULL;
    JsonObject *job;

    assert_ecuw_status (jobs, 0);
    list = parse_json (jobs->out);
    job = json_array_get_object_element (json_object_get_array_member (json_node_get_object (list), "jobs"), 0);
    g_assert_cmpstr (json_object_get_string_member (job, "state"), ==, "rolled-back");
    g_assert_false (json_object_get_boolean_member (job, "unfinished"));
  }
}

/* Community data is written only when the technician confirms it, and
 * the confirmation is journalled. */
static void
test_code_acknowledge (CodingFixture *fx, gconstpointer data)
{
  g_autofree char *families = g_build_filename (fx->dir, "families", NULL);
  g_autofree char *shipped = g_build_filename (g_getenv ("ECU_WORKSHOP_DATA_DIR"), "vehicles",
                                               "bmw-f30.xml", NULL);
  g_autofree char *copy = g_build_filename (families, "bmw-f30.xml", NULL);
  g_autofree char *xml = NULL;
  g_autofree char *original = NULL;
  g_autoptr(GString) edited = NULL;
  g_autoptr(JsonNode) root = NULL;
  JsonObject *cornering;
  const char *source = "provenance=\"community\" source=\"Garage forum, checked on two cars\"";

  g_assert_true (g_file_get_contents (shipped, &xml, NULL, NULL));
  edited = g_string_new (xml);
  /* the feature and its coding item, both community data */
  g_assert_cmpuint (g_string_replace (edited, "<item id=\"cornering\" name=\"Cornering light (Abbiegelicht)\" byte=\"0\" bit=\"1\" mask=\"0x02\" provenance=\"illustrative\"",
                                      "<item id=\"cornering\" name=\"Cornering light (Abbiegelicht)\" byte=\"0\" bit=\"1\" mask=\"0x02\" PROVENANCE", 0), ==, 1);
  g_assert_cmpuint (g_string_replace (edited, "labour-minutes=\"15\" provenance=\"illustrative\">\n      <name>Cornering lights",
                                      "labour-minutes=\"15\" PROVENANCE>\n      <name>Cornering lights", 0), ==, 1);
  g_string_replace (edited, "PROVENANCE", source, 0);
  g_assert_cmpint (g_mkdir (families, 0700), ==, 0);
  g_assert_true (g_file_set_contents (copy, edited->str, -1, NULL));

  {
    g_autoptr(EcuwRun) run = run_ecuw ("--data-dir", families, "--link", fx->link, "--json", "features", NULL);

    assert_ecuw_status (run, 0);
    g_assert_cmpstr (run->err, ==, "");
    root = parse_json (run->out);
  }
  original = coding_state (fx->state);
  cornering = find_by_member (json_object_get_array_member (json_node_get_object (root), "features"),
                              "id", "cornering-lights");
  g_assert_cmpstr (json_object_get_string_member (cornering, "provenance"), ==, "community");
  g_assert_true (json_object_get_boolean_member (cornering, "needs_acknowledgement"));
  g_assert_cmpstr (json_object_get_string_member (cornering, "availability"), ==, "switchable");

  {
    g_autoptr(EcuwRun) run = run_ecuw ("--data-dir", families, "--link", fx->link, "--json", "code",
                                       "cornering-lights=on", NULL);
    g_autofree char *now = coding_state (fx->state);

    g_test_message ("not acknowledged: %s", run->err);
    assert_ecuw_status (run, 1);
    assert_one_error_line (run, "--acknowledge cornering-lights");
    g_assert_cmpstr (now, ==, original);
  }
  {
    g_autoptr(EcuwRun) run = run_ecuw ("--data-dir", families, "--link", fx->link, "--json", "code",
                                       "--acknowledge", "cornering-lights", "cornering-lights=on", NULL);
    g_autoptr(JsonNode) done = NULL;
    g_autoptr(JsonNode) job = NULL;
    g_autofree char *now = coding_state (fx->state);
    g_autofree char *job_text = NULL;
    JsonArray *journal;
    gboolean is_acknowledged = FALSE;

    g_test_message ("acknowledged: %s", run->err);
    assert_ecuw_status (run, 0);
    g_assert_cmpstr (now, !=, original);
    done = parse_json (run->out);
    job_text = g_strdup_printf ("%" G_GINT64_FORMAT, json_object_get_int_member (json_node_get_object (done), "job"));
    {
      g_autoptr(EcuwRun) show = run_ecuw ("--json", "jobs", job_text, NULL);

      assert_ecuw_status (show, 0);
      job = parse_json (show->out);
    }
    journal = json_object_get_array_member (json_node_get_object (job), "journal");
    for (guint i = 0; i < json_array_get_length (journal); i++)
      is_acknowledged |= g_strcmp0 (json_object_get_string_member (json_array_get_object_element (journal, i), "step"),
                                    "acknowledge") == 0;
    g_assert_true (is_acknowledged);
  }
  g_unlink (copy);
  g_rmdir (families);
}

/* `ecuw retrofit`: the plan, the job, nothing left to do on the car that
 * remembers it, undone by `ecuw restore`; bad modules in one line. */
static void
test_retrofit (CodingFixture *fx, gconstpointer data)
{
  g_autofree char *link = g_strdup_printf ("sim:bmw-f30?profile=used-heated-seat&state=%s", fx->state);
  g_autofree char *job = NULL;
  JsonObject *o;

  {
    g_autoptr(EcuwRun) run = run_ecuw ("--link", link, "--json", "retrofit", "sm", "--dry-run", NULL);
    g_autoptr(JsonNode) root = NULL;

    g_test_message ("retrofit --dry-run: %s", run->err);
    assert_ecuw_status (run, 0);
    root = parse_json (run->out);
    o = json_node_get_object (root);
    g_assert_true (json_object_get_boolean_member (o, "dry_run"));
    g_assert_true (json_object_get_null_member (o, "job"));
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (o, "writes")), ==, 4);
    g_assert_nonnull (find_by_member (json_object_get_array_member (o, "writes"), "did", "0xF190"));
  }
  {
    g_autoptr(EcuwRun) run = run_ecuw ("--link", link, "retrofit", "sm", NULL);

    g_test_message ("retrofit: %s", run->err);
    assert_ecuw_status (run, 0);
    g_assert_nonnull (strstr (run->out, "Option list: + 494"));
    g_assert_nonnull (strstr (run->out, "To undo it: ecuw restore "));
    job = g_strdup (strstr (run->out, "To undo it: ecuw restore ") + strlen ("To undo it: ecuw restore "));
    g_strstrip (job);
  }
  {
    /* the car remembers: a second run finds the seat retrofitted */
    g_autoptr(EcuwRun) run = run_ecuw ("--link", link, "--json", "retrofit", "sm", NULL);
    g_autoptr(JsonNode) root = NULL;

    assert_ecuw_status (run, 0);
    root = parse_json (run->out);
    g_assert_true (json_object_get_boolean_member (json_node_get_object (root), "nothing_to_do"));
  }
  {
    g_autoptr(EcuwRun) run = run_ecuw ("--link", link, "restore", job, NULL);

    g_test_message ("restore: %s", run->err);
    assert_ecuw_status (run, 0);
  }
  {
    g_autoptr(EcuwRun) run = run_ecuw ("--link", link, "--json", "retrofit", "sm", "--dry-run", NULL);
    g_autoptr(JsonNode) root = NULL;

    assert_ecuw_status (run, 0);
    root = parse_json (run->out);
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_node_get_object (root),
                                                                           "writes")), ==, 4);
  }
  {
    g_autoptr(EcuwRun) run = run_ecuw ("--link", link, "retrofit", "dme", NULL);

    assert_one_error_line (run, "no retrofit for the DME");
  }
  {
    g_autoptr(EcuwRun) run = run_ecuw ("retrofit", NULL);

    assert_one_error_line (run, "usage: ecuw [--link URI] retrofit MODULE");
  }
}

/* Every scan and every coding job leaves the car in the garage's list of
 * vehicles seen; the scan is kept as a snapshot. */
static void
test_scan_recorded (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ew-cli-seen-XXXXXX", NULL);
  g_autofree char *store_path = g_build_filename (dir, "jobs.sqlite", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(EwJobStore) store = NULL;
  g_autoptr(GPtrArray) vehicles = NULL;
  g_autofree char *snapshot = NULL;
  const char *vin;

  ecuw_run_job_store = store_path;
  {
    g_autoptr(EcuwRun) run = run_ecuw ("--link", "sim:vw-golf-mk7?profile=used-cluster", "scan", NULL);

    assert_ecuw_status (run, 0);
    g_assert_cmpstr (run->err, ==, "");
  }
  ecuw_run_job_store = NULL;

  store = ew_job_store_open (store_path, &error);
  g_assert_no_error (error);
  vehicles = ew_job_store_list_vehicles (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (vehicles->len, ==, 1);
  vin = ((EwVehicleRecord *) g_ptr_array_index (vehicles, 0))->vin;
  g_assert_cmpstr (((EwVehicleRecord *) g_ptr_array_index (vehicles, 0))->family_id, ==, "vw-golf-mk7");
  snapshot = ew_job_store_get_latest_scan (store, vin, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (snapshot, "\"vin-mismatch\""));
  ew_job_store_close (g_steal_pointer (&store));
  ew_test_remove_tree (dir);
}

/* ---- programming: recover and resume ---- */

typedef struct {
  char *dir;
  char *state;
  char *store;
} ProgrammingFixture;

static void
programming_fixture_set_up (ProgrammingFixture *fx, gconstpointer data)
{
  fx->dir = g_dir_make_tmp ("ecuw-programming-XXXXXX", NULL);
  g_assert_nonnull (fx->dir);
  fx->state = g_build_filename (fx->dir, "car.state", NULL);
  fx->store = g_build_filename (fx->dir, "jobs.sqlite", NULL);
  ecuw_run_job_store = fx->store;
}

static void
programming_fixture_tear_down (ProgrammingFixture *fx, gconstpointer data)
{
  g_autoptr(GDir) dir = g_dir_open (fx->dir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (fx->dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (fx->dir);
  ecuw_run_job_store = NULL;
  g_free (fx->dir);
  g_free (fx->state);
  g_free (fx->store);
}

/* The body module dead in its bootloader is recovered with its recovery
 * image; afterwards (and for a running module) recover refuses. */
static void
test_recover (ProgrammingFixture *fx, gconstpointer data)
{
  g_autofree char *link = g_strdup_printf ("sim:vw-golf-mk7?profile=body-module-bootloader&state=%s",
                                           fx->state);
  g_autoptr(EcuwRun) run = run_ecuw ("--link", link, "--json", "recover", "central-electrics", NULL);
  g_autoptr(EcuwRun) again = NULL;
  g_autoptr(EcuwRun) running = NULL;
  g_autoptr(JsonNode) root = NULL;
  JsonObject *o;

  g_test_message ("recover: %s\n%s", run->out, run->err);
  assert_ecuw_status (run, 0);
  root = parse_json (run->out);
  o = json_node_get_object (root);
  g_assert_cmpstr (json_object_get_string_member (o, "result"), ==, "done");
  g_assert_true (json_object_get_boolean_member (o, "in_bootloader"));
  g_assert_cmpstr (json_object_get_string_member (o, "software_after"), ==, "0700");
  g_assert_true (g_str_has_suffix (json_object_get_string_member (o, "container"),
                                   "vw-golf-mk7-central-electrics.xml"));
  /* progress on stderr */
  g_assert_nonnull (strstr (run->err, "download"));

  /* the car kept it: the module runs its application now */
  again = run_ecuw ("--link", link, "recover", "central-electrics", NULL);
  g_assert_cmpint (again->exit_status, !=, 0);
  g_assert_nonnull (strstr (again->err, "not dead"));
  running = run_ecuw ("--link", link, "recover", "cluster", NULL);
  g_assert_cmpint (running->exit_status, !=, 0);
  g_assert_nonnull (strstr (running->err, "runs its application"));
}

/* A weak battery: `ecuw flash` says so in one line and writes nothing. */
static void
test_flash_weak_battery (ProgrammingFixture *fx, gconstpointer data)
{
  g_autofree char *link = g_strdup_printf ("sim:vw-golf-mk7?profile=weak-battery&state=%s", fx->state);
  g_autofree char *container = g_build_filename (g_getenv ("ECU_WORKSHOP_DATA_DIR"), "flash",
                                                 "vw-golf-mk7-cluster.xml", NULL);
  g_autoptr(EcuwRun) run = run_ecuw ("--link", link, "flash", "cluster", container, NULL);
  g_autoptr(EcuwRun) jobs = run_ecuw ("--json", "jobs", NULL);

  assert_ecuw_status (run, 1);
  assert_one_error_line (run, "11.8 V");
  g_assert_nonnull (strstr (run->err, "battery support unit"));
  assert_ecuw_status (jobs, 0);
  g_assert_null (strstr (jobs->out, "\"programming\""));
}

/* A flash that fails with the module left in its bootloader is resumed by
 * `ecuw restore JOB`: the same job ends done. */
static void
test_restore_programming (ProgrammingFixture *fx, gconstpointer data)
{
  g_autofree char *faulty = g_strdup_printf ("sim:vw-golf-mk7?faults=bad-crc%%3Dcluster&state=%s",
                                             fx->state);
  g_autofree char *link = g_strdup_printf ("sim:vw-golf-mk7?state=%s", fx->state);
  g_autofree char *container = g_build_filename (g_getenv ("ECU_WORKSHOP_DATA_DIR"), "flash",
                                                 "vw-golf-mk7-cluster.xml", NULL);
  g_autoptr(EcuwRun) flash = run_ecuw ("--link", faulty, "--json", "flash", "cluster", container, NULL);
  g_autoptr(EcuwRun) restore = NULL;
  g_autoptr(EcuwRun) jobs = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonNode) restored = NULL;
  g_autoptr(JsonNode) listed = NULL;
  g_autofree char *job = NULL;
  JsonObject *o;

  g_test_message ("flash: %s\n%s", flash->out, flash->err);
  g_assert_cmpint (flash->exit_status, !=, 0);
  root = parse_json (flash->out);
  o = json_node_get_object (root);
  g_assert_cmpstr (json_object_get_string_member (o, "result"), ==, "failed");
  job = g_strdup_printf ("%" G_GINT64_FORMAT, json_object_get_int_member (o, "job"));

  restore = run_ecuw ("--link", link, "--json", "restore", job, NULL);
  g_test_message ("restore: %s\n%s", restore->out, restore->err);
  assert_ecuw_status (restore, 0);
  restored = parse_json (restore->out);
  o = json_node_get_object (restored);
  g_assert_cmpstr (json_object_get_string_member (o, "state"), ==, "done");
  g_assert_cmpstr (json_object_get_string_member (o, "kind"), ==, "programming");

  /* one job, done: the journal went on in it */
  jobs = run_ecuw ("--json", "jobs", NULL);
  assert_ecuw_status (jobs, 0);
  listed = parse_json (jobs->out);
  g_test_message ("jobs: %s", jobs->out);
  g_assert_nonnull (strstr (jobs->out, "\"done\""));
  g_assert_null (strstr (jobs->out, "\"failed\""));
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
  g_test_add_func ("/cli/scan/recorded", test_scan_recorded);
  g_test_add_func ("/cli/sim/doip-second-process", test_sim_doip_second_process);
  g_test_add_func ("/cli/sim/usage", test_sim_usage);
  g_test_add ("/cli/features/live", CodingFixture, NULL,
              coding_fixture_set_up, test_features_live, coding_fixture_tear_down);
  g_test_add ("/cli/code/dry-run-apply-restore", CodingFixture, NULL,
              coding_fixture_set_up, test_code_dry_run_apply_restore, coding_fixture_tear_down);
  g_test_add ("/cli/code/errors", CodingFixture, NULL,
              coding_fixture_set_up, test_code_errors, coding_fixture_tear_down);
  g_test_add ("/cli/code/rolled-back", CodingFixture, NULL,
              coding_fixture_set_up, test_code_rolled_back, coding_fixture_tear_down);
  g_test_add ("/cli/code/acknowledge", CodingFixture, NULL,
              coding_fixture_set_up, test_code_acknowledge, coding_fixture_tear_down);
  g_test_add_func ("/cli/quote/pdf", test_quote_pdf);
  g_test_add ("/cli/recover", ProgrammingFixture, NULL,
              programming_fixture_set_up, test_recover, programming_fixture_tear_down);
  g_test_add ("/cli/flash/weak-battery", ProgrammingFixture, NULL,
              programming_fixture_set_up, test_flash_weak_battery, programming_fixture_tear_down);
  g_test_add ("/cli/restore/programming", ProgrammingFixture, NULL,
              programming_fixture_set_up, test_restore_programming, programming_fixture_tear_down);
  g_test_add ("/cli/retrofit", CodingFixture, NULL,
              coding_fixture_set_up, test_retrofit, coding_fixture_tear_down);
  return g_test_run ();
}
