/* ecuw-jobs.c — `ecuw jobs [--verify]`, `ecuw jobs JOB` (or `ecuw job JOB`)
 * and `ecuw [--link URI] restore JOB`: what the job store holds, whether
 * its journal is intact, and writing a job's backup back to the car. */
#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "ecuw-command.h"
#include "coding/coding-transaction.h"
#include "flash/flash-resume.h"

static gboolean
parse_job_id (const char *text, gint64 *job_id, GError **error)
{
  guint64 value = 0;

  if (!g_ascii_string_to_unsigned (text, 10, 1, G_MAXINT64, &value, NULL))
    {
      /* TRANSLATORS: %s is what was typed where a job number belongs */
      g_set_error (error, ECUW_ERROR, ECUW_ERROR_USAGE,
                   _("“%s” is not a job number; ecuw jobs lists them"), text);
      return FALSE;
    }
  *job_id = (gint64) value;
  return TRUE;
}

static char *
format_time (GDateTime *time, gboolean for_json)
{
  g_autoptr(GDateTime) local = NULL;

  if (time == NULL)
    return NULL;
  if (for_json)
    return g_date_time_format_iso8601 (time);
  local = g_date_time_to_local (time);
  return g_date_time_format (local, "%Y-%m-%d %H:%M:%S");
}

static void
add_job_members (JsonBuilder *b, const EwJobRecord *job)
{
  g_autofree char *started = format_time (job->started, TRUE);
  g_autofree char *finished = format_time (job->finished, TRUE);

  json_builder_set_member_name (b, "id");
  json_builder_add_int_value (b, job->id);
  ecuw_json_add_string (b, "kind", ew_job_record_kind_to_string (job->kind));
  ecuw_json_add_string (b, "state", ew_job_state_to_string (job->state));
  json_builder_set_member_name (b, "unfinished");
  json_builder_add_boolean_value (b, job->state == EW_JOB_STATE_RUNNING);
  ecuw_json_add_string (b, "started", started);
  ecuw_json_add_string (b, "finished", finished);
  ecuw_json_add_string (b, "vin", job->vin);
  ecuw_json_add_string (b, "family", job->family_id);
  ecuw_json_add_string (b, "link", job->link_uri);
  ecuw_json_add_string (b, "summary", job->summary);
  json_builder_set_member_name (b, "restores_job");
  if (job->restores_job_id > 0)
    json_builder_add_int_value (b, job->restores_job_id);
  else
    json_builder_add_null_value (b);
}

static const char *
state_label (EwJobState state)
{
  switch (state)
    {
    case EW_JOB_STATE_RUNNING:     return _("UNFINISHED");
    case EW_JOB_STATE_DONE:        return _("done");
    case EW_JOB_STATE_ROLLED_BACK: return _("rolled back");
    case EW_JOB_STATE_FAILED:      return _("FAILED");
    case EW_JOB_STATE_RESTORED:    return _("restored");
    default:                       return "?";
    }
}

static gboolean
list_jobs (EcuwContext *ctx, EwJobStore *store, gboolean verify, GError **error)
{
  g_autoptr(GPtrArray) jobs = ew_job_store_list_jobs (store, error);
  guint64 n_entries = 0;
  guint n_unfinished = 0;

  if (jobs == NULL)
    return FALSE;
  if (verify && !ew_job_store_verify (store, &n_entries, error))
    return FALSE;

  if (ctx->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      ecuw_json_add_string (b, "store", ew_job_store_get_path (store));
      json_builder_set_member_name (b, "jobs");
      json_builder_begin_array (b);
      for (guint i = 0; i < jobs->len; i++)
        {
          json_builder_begin_object (b);
          add_job_members (b, g_ptr_array_index (jobs, i));
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      if (verify)
        {
          json_builder_set_member_name (b, "journal");
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "verified");
          json_builder_add_boolean_value (b, TRUE);
          json_builder_set_member_name (b, "entries");
          json_builder_add_int_value (b, (gint64) n_entries);
          json_builder_end_object (b);
        }
      json_builder_end_object (b);
      ecuw_print_json (b);
      return TRUE;
    }

  if (jobs->len == 0)
    g_print ("%s\n", _("No jobs yet."));
  for (guint i = 0; i < jobs->len; i++)
    {
      const EwJobRecord *job = g_ptr_array_index (jobs, i);
      g_autofree char *started = format_time (job->started, FALSE);

      n_unfinished += job->state == EW_JOB_STATE_RUNNING;
      g_print ("%6" G_GINT64_FORMAT "  %-8s %-12s %s  %-17s  %s\n", job->id,
               ew_job_record_kind_to_string (job->kind), state_label (job->state), started,
               job->vin != NULL ? job->vin : "–", job->summary != NULL ? job->summary : "");
    }
  if (n_unfinished > 0)
    {
      g_print ("\n");
      /* TRANSLATORS: %u is a number of jobs */
      g_print (g_dngettext (GETTEXT_PACKAGE,
                            "%u job was interrupted before it finished: ecuw jobs JOB shows what it did, "
                            "ecuw restore JOB writes its backup back.\n",
                            "%u jobs were interrupted before they finished: ecuw jobs JOB shows what they did, "
                            "ecuw restore JOB writes their backups back.\n", n_unfinished),
               n_unfinished);
    }
  if (verify)
    {
      g_print ("\n");
      /* TRANSLATORS: %s is a number of journal entries */
      g_autofree char *n = g_strdup_printf ("%" G_GUINT64_FORMAT, n_entries);
      g_print (_("Journal verified: %s entries, the chain is intact.\n"), n);
    }
  return TRUE;
}

static gboolean
show_job (EcuwContext *ctx, EwJobStore *store, gint64 job_id, GError **error)
{
  g_autoptr(EwJobRecord) job = ew_job_store_get_job (store, job_id, error);
  g_autoptr(GPtrArray) backups = NULL;
  g_autoptr(GPtrArray) journal = NULL;

  if (job == NULL)
    return FALSE;
  backups = ew_job_store_get_backups (store, job_id, error);
  if (backups == NULL)
    return FALSE;
  journal = ew_job_store_get_journal (store, job_id, error);
  if (journal == NULL)
    return FALSE;

  if (ctx->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      add_job_members (b, job);
      json_builder_set_member_name (b, "backups");
      json_builder_begin_array (b);
      for (guint i = 0; i < backups->len; i++)
        {
          const EwJobBackup *backup = g_ptr_array_index (backups, i);
          g_autofree char *did = g_strdup_printf ("0x%04X", backup->did);
          g_autofree char *before = ecuw_format_bytes (backup->before, "");
          g_autofree char *after = ecuw_format_bytes (backup->after, "");

          json_builder_begin_object (b);
          ecuw_json_add_string (b, "module", backup->module_id);
          ecuw_json_add_string (b, "did", did);
          ecuw_json_add_string (b, "before", before);
          ecuw_json_add_string (b, "after", after);
          ecuw_json_add_string (b, "state", ew_backup_state_to_string (backup->state));
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_set_member_name (b, "journal");
      json_builder_begin_array (b);
      for (guint i = 0; i < journal->len; i++)
        {
          const EwJournalEntry *e = g_ptr_array_index (journal, i);
          g_autofree char *time = format_time (e->time, TRUE);

          json_builder_begin_object (b);
          json_builder_set_member_name (b, "seq");
          json_builder_add_int_value (b, e->seq);
          ecuw_json_add_string (b, "time", time);
          ecuw_json_add_string (b, "step", e->step);
          ecuw_json_add_string (b, "module", e->module_id);
          ecuw_json_add_string (b, "outcome", e->outcome);
          ecuw_json_add_string (b, "detail", e->detail);
          ecuw_json_add_string (b, "hash", e->hash);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
      ecuw_print_json (b);
      return TRUE;
    }

  {
    g_autofree char *started = format_time (job->started, FALSE);
    g_autofree char *finished = format_time (job->finished, FALSE);

    g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT, job->id);

    /* TRANSLATORS: job number, kind (coding, restore), state */
    g_print (_("Job %s: %s, %s\n"), id, ew_job_record_kind_to_string (job->kind), state_label (job->state));
    if (job->summary != NULL)
      g_print ("  %s\n", job->summary);
    g_print ("  %-10s %s\n", _("VIN"), job->vin != NULL ? job->vin : "–");
    g_print ("  %-10s %s\n", _("link"), job->link_uri != NULL ? job->link_uri : "–");
    g_print ("  %-10s %s\n", _("started"), started);
    g_print ("  %-10s %s\n", _("finished"), finished != NULL ? finished : "–");
    if (job->restores_job_id > 0)
      g_print ("  %-10s %" G_GINT64_FORMAT "\n", _("restores"), job->restores_job_id);
    if (job->state == EW_JOB_STATE_RUNNING)
      /* TRANSLATORS: JOB is the command's placeholder for a job number */
      g_print ("  %s\n", _("This job did not finish; ecuw restore JOB writes its backup back."));
  }

  g_print ("\n%s\n", _("Backups:"));
  if (backups->len == 0)
    g_print ("  %s\n", _("none"));
  for (guint i = 0; i < backups->len; i++)
    {
      const EwJobBackup *backup = g_ptr_array_index (backups, i);
      g_autofree char *before = ecuw_format_bytes (backup->before, " ");
      g_autofree char *after = ecuw_format_bytes (backup->after, " ");

      g_print ("  %s 0x%04X  %s\n", backup->module_id, backup->did,
               ew_backup_state_to_string (backup->state));
      g_print ("      %-7s %s\n      %-7s %s\n", _("before"), before, _("after"), after);
    }

  g_print ("\n%s\n", _("Journal:"));
  for (guint i = 0; i < journal->len; i++)
    {
      const EwJournalEntry *e = g_ptr_array_index (journal, i);
      g_autofree char *time = format_time (e->time, FALSE);

      g_print ("  %5" G_GINT64_FORMAT "  %s  %-12s %-10s %-8s %s\n", e->seq, time, e->step,
               e->module_id != NULL ? e->module_id : "", e->outcome,
               e->detail != NULL ? e->detail : "");
    }
  return TRUE;
}

gboolean
ecuw_cmd_jobs (EcuwContext *ctx, int argc, char **argv, GError **error)
{
  g_autoptr(EwJobStore) store = NULL;
  const char *job_text = NULL;
  gboolean verify = FALSE;
  gint64 job_id = 0;

  for (int i = 1; i < argc; i++)
    {
      if (g_str_equal (argv[i], "--verify"))
        verify = TRUE;
      else if (job_text == NULL && argv[i][0] != '-')
        job_text = argv[i];
      else
        {
          g_set_error_literal (error, ECUW_ERROR, ECUW_ERROR_USAGE,
                               _("usage: ecuw jobs [--verify], or ecuw jobs JOB"));
          return FALSE;
        }
    }
  if (job_text != NULL && !parse_job_id (job_text, &job_id, error))
    return FALSE;

  store = ew_job_store_open (NULL, error);
  if (store == NULL)
    return FALSE;
  if (job_id > 0)
    {
      if (verify && !ew_job_store_verify (store, NULL, error))
        return FALSE;
      return show_job (ctx, store, job_id, error);
    }
  return list_jobs (ctx, store, verify, error);
}

gboolean
ecuw_cmd_job (EcuwContext *ctx, int argc, char **argv, GError **error)
{
  if (argc != 2 || argv[1][0] == '-')
    {
      g_set_error_literal (error, ECUW_ERROR, ECUW_ERROR_USAGE, _("usage: ecuw job JOB"));
      return FALSE;
    }
  return ecuw_cmd_jobs (ctx, argc, argv, error);
}

/* A programming job is not undone from a backup: an unfinished one is
 * resumed, the same job going on (flash-resume.h). */
static gboolean
resume_programming (EcuwContext  *ctx,
                    EwJobStore   *store,
                    EwConnection *connection,
                    const char   *uri,
                    gint64        job_id,
                    GError      **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(EwJobRecord) after = NULL;
  EcuwFlashProgress progress = { 0 };
  g_autofree char *job = g_strdup_printf ("%" G_GINT64_FORMAT, job_id);
  gint64 done_id;

  done_id = ew_flash_resume (connection, store, job_id, NULL,
                             ctx->json ? NULL : ecuw_print_flash_progress, &progress,
                             NULL, &local_error);
  g_free (progress.last_step);
  ew_connection_close (connection);
  after = ew_job_store_get_job (store, job_id, NULL);

  if (ctx->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      ecuw_json_add_string (b, "link", uri);
      json_builder_set_member_name (b, "job");
      json_builder_add_int_value (b, job_id);
      ecuw_json_add_string (b, "kind", ew_job_record_kind_to_string (EW_JOB_KIND_PROGRAMMING));
      ecuw_json_add_string (b, "state", after != NULL ? ew_job_state_to_string (after->state) : NULL);
      ecuw_json_add_string (b, "error", local_error != NULL ? local_error->message : NULL);
      json_builder_end_object (b);
      ecuw_print_json (b);
    }
  if (done_id <= 0)
    {
      /* TRANSLATORS: the job number, then what failed */
      g_set_error (error, local_error->domain, local_error->code,
                   _("resuming programming job %s failed: %s"), job, local_error->message);
      return FALSE;
    }
  if (!ctx->json)
    /* TRANSLATORS: the job number */
    g_print (_("Programming job %s resumed and finished: the module runs the new software, "
               "verified.\n"), job);
  return TRUE;
}

gboolean
ecuw_cmd_restore (EcuwContext *ctx, int argc, char **argv, GError **error)
{
  g_autoptr(EwJobStore) store = NULL;
  g_autoptr(EwJobRecord) job = NULL;
  g_autoptr(EwConnection) connection = NULL;
  g_autoptr(GError) local_error = NULL;
  EcuwProgress progress = { 0 };
  const char *uri;
  gint64 job_id = 0, restore_id;

  if (argc != 2 || argv[1][0] == '-')
    {
      g_set_error_literal (error, ECUW_ERROR, ECUW_ERROR_USAGE,
                           _("usage: ecuw [--link URI] restore JOB"));
      return FALSE;
    }
  if (!parse_job_id (argv[1], &job_id, error))
    return FALSE;

  store = ew_job_store_open (NULL, error);
  if (store == NULL)
    return FALSE;
  job = ew_job_store_get_job (store, job_id, error);
  if (job == NULL)
    return FALSE;

  /* the car the job was done on, unless told otherwise */
  uri = ctx->link_uri != NULL ? ctx->link_uri
      : job->link_uri != NULL ? job->link_uri : ecuw_context_get_link (ctx);
  connection = ew_connection_open (uri, ecuw_context_get_database (ctx), NULL, error);
  if (connection == NULL)
    return FALSE;

  if (job->kind == EW_JOB_KIND_PROGRAMMING)
    return resume_programming (ctx, store, connection, uri, job_id, error);

  restore_id = ew_coding_restore (connection, store, job_id,
                                  ctx->json ? NULL : ecuw_print_progress, &progress,
                                  NULL, &local_error);
  ecuw_progress_clear (&progress);
  ew_connection_close (connection);
  if (restore_id <= 0)
    {
      if (local_error == NULL)
        g_set_error_literal (&local_error, EW_CODING_ERROR, EW_CODING_ERROR_ROLLBACK_FAILED,
                             _("the coding engine failed without saying why"));
      /* TRANSLATORS: the job number, then what failed */
      g_set_error (error, local_error->domain, local_error->code,
                   _("restoring job %s failed: %s"), argv[1], local_error->message);
      return FALSE;
    }

  if (ctx->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      ecuw_json_add_string (b, "link", uri);
      json_builder_set_member_name (b, "job");
      json_builder_add_int_value (b, job_id);
      json_builder_set_member_name (b, "restore_job");
      json_builder_add_int_value (b, restore_id);
      ecuw_json_add_string (b, "state", ew_job_state_to_string (EW_JOB_STATE_DONE));
      json_builder_end_object (b);
      ecuw_print_json (b);
    }
  else
    {
      g_autofree char *restored = g_strdup_printf ("%" G_GINT64_FORMAT, job_id);
      g_autofree char *restore = g_strdup_printf ("%" G_GINT64_FORMAT, restore_id);

      /* TRANSLATORS: the job restored, the new restore job */
      g_print (_("Restored job %s: every backed-up DID was written back and read back (job %s).\n"),
               restored, restore);
    }
  return TRUE;
}
