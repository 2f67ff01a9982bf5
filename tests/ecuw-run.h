/* ecuw-run.h — running the ecuw command line from the tests, and reading
 * what it leaves behind. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct {
  int   exit_status;
  char *out;
  char *err;
} EcuwRun;

void ecuw_run_free (EcuwRun *run);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EcuwRun, ecuw_run_free)

/* The job store the runs use (ECU_WORKSHOP_JOB_STORE), or NULL for none;
 * not owned. */
extern const char *ecuw_run_job_store;

/* Runs $ECUW with a NULL-terminated argument list, waits for it. */
EcuwRun    *run_ecuw           (const char *first, ...) G_GNUC_NULL_TERMINATED;
/* The environment a run gets: this process's, with the job store. */
char      **ecuw_run_environment (void);
/* Starts $ECUW-style argv in the background with that environment; the
 * child dies with the test, whatever ends it, so that a failed assertion
 * does not leave it holding the test's output open. transfer full */
GSubprocess *spawn_ecuw        (GSubprocessFlags   flags,
                                const char *const *argv);

/* Asserts a run's exit status; on a mismatch its stderr is printed first,
 * so that the log says why. */
#define assert_ecuw_status(run, status)                                          \
  G_STMT_START {                                                                 \
    if ((run)->exit_status != (status))                                          \
      g_printerr ("ecuw stderr:\n%s\n", (run)->err != NULL ? (run)->err : "");  \
    g_assert_cmpint ((run)->exit_status, ==, (status));                          \
  } G_STMT_END

/* transfer full */
JsonNode   *parse_json         (const char *text);
JsonObject *find_by_member     (JsonArray  *array,
                                const char *member,
                                const char *value);
/* The coding keys of a simulated car's state file ("module:fem/coding-0x3000=…"
 * lines, sorted), so that two files compare by what coding can change. */
char       *coding_state       (const char *path);

G_END_DECLS
