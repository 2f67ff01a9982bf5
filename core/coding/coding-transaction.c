/* coding-transaction.c — applies a coding plan so that every DID of every
 * module ends either exactly as it was or exactly as planned: provenance,
 * preflight, durable backup, write, read-back, and rollback across modules.
 */
#include "config.h"

#include "coding-transaction.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "connect/supply-voltage.h"
#include "sim/sim-ecu.h"
#include "uds/uds-client.h"

/* One module's link for the length of a transaction. */
typedef struct {
  const EwModule *module;
  EwChannel      *channel;
  EwUdsClient    *client;
  gboolean        is_ready;         /* session and security in place */
} ModuleLink;

/* One DID the transaction writes. */
typedef struct {
  ModuleLink        *link;
  const EwModule    *module;
  guint16            did;
  gsize              length_bytes;
  GBytes            *before;        /* as read in the backup step */
  GBytes            *after;
  gboolean           was_sent;      /* a write went out: the module may hold either */
  EwBackupState      state;
} Target;

typedef struct {
  EwConnection         *connection;
  EwJobStore           *store;
  EwFamily             *family;
  gint64                job_id;
  gboolean              is_simulated;
  EwCodingProgressFunc  progress;
  gpointer              user_data;
  GCancellable         *cancellable;
  GPtrArray            *links;      /* ModuleLink */
  GPtrArray            *targets;    /* Target */
  guint                 n_steps, n_done;
  double                fraction;
} Transaction;

static void
module_link_free (ModuleLink *link)
{
  g_clear_object (&link->client);
  g_clear_object (&link->channel);
  g_free (link);
}

static void
target_free (Target *t)
{
  g_clear_pointer (&t->before, g_bytes_unref);
  g_clear_pointer (&t->after, g_bytes_unref);
  g_free (t);
}

static void
transaction_init (Transaction          *tx,
                  EwConnection         *connection,
                  EwJobStore           *store,
                  EwCodingProgressFunc  progress,
                  gpointer              user_data,
                  GCancellable         *cancellable)
{
  memset (tx, 0, sizeof *tx);
  tx->connection = connection;
  tx->store = store;
  tx->family = ew_connection_get_family (connection);
  tx->progress = progress;
  tx->user_data = user_data;
  tx->cancellable = cancellable;
  tx->links = g_ptr_array_new_with_free_func ((GDestroyNotify) module_link_free);
  tx->targets = g_ptr_array_new_with_free_func ((GDestroyNotify) target_free);
}

static void
transaction_clear (Transaction *tx)
{
  g_clear_pointer (&tx->targets, g_ptr_array_unref);
  g_clear_pointer (&tx->links, g_ptr_array_unref);
}

/* Progress never goes backwards: a rollback shares out what is left. */
static void
report (Transaction *tx, const char *step, const char *module_id, double fraction)
{
  if (fraction > 1.0)
    fraction = 1.0;
  if (fraction > tx->fraction)
    tx->fraction = fraction;
  if (tx->progress != NULL)
    tx->progress (step, module_id, tx->fraction, tx->user_data);
}

static void
step_done (Transaction *tx, const char *step, const char *module_id)
{
  tx->n_done++;
  report (tx, step, module_id, tx->n_steps > 0 ? (double) tx->n_done / tx->n_steps : 1.0);
}

/* The journal is part of the safety story: a failure to write it stops
 * the transaction like any other failure. */
static gboolean
journal (Transaction *tx,
         const char  *step,
         const char  *module_id,
         const char  *outcome,
         GError     **error,
         const char  *format,
         ...) G_GNUC_PRINTF (6, 7);

static gboolean
journal (Transaction *tx,
         const char  *step,
         const char  *module_id,
         const char  *outcome,
         GError     **error,
         const char  *format,
         ...)
{
  g_autofree char *detail = NULL;
  va_list args;

  if (format != NULL)
    {
      va_start (args, format);
      detail = g_strdup_vprintf (format, args);
      va_end (args);
    }
  return ew_job_store_journal (tx->store, tx->job_id, step, module_id, outcome, detail, error);
}

/* Journals on a path that is already failing: the first error wins. */
static void
journal_quiet (Transaction *tx,
               const char  *step,
               const char  *module_id,
               const char  *outcome,
               const char  *detail)
{
  g_autoptr(GError) error = NULL;

  if (!ew_job_store_journal (tx->store, tx->job_id, step, module_id, outcome, detail, &error))
    g_warning ("Job %" G_GINT64_FORMAT ": the journal could not record %s (%s): %s",
               tx->job_id, step, outcome, error->message);
}

static void
set_backup_state (Transaction *tx, Target *t, EwBackupState state)
{
  g_autoptr(GError) error = NULL;

  t->state = state;
  if (!ew_job_store_set_backup_state (tx->store, tx->job_id, t->module->id, t->did, state, &error))
    g_warning ("Job %" G_GINT64_FORMAT ": backup state of %s DID 0x%04X not recorded: %s",
               tx->job_id, t->module->id, t->did, error->message);
}

static ModuleLink *
link_for (Transaction *tx, const EwModule *module, GError **error)
{
  ModuleLink *link;
  g_autoptr(EwChannel) channel = NULL;

  for (guint i = 0; i < tx->links->len; i++)
    {
      link = g_ptr_array_index (tx->links, i);
      if (link->module == module)
        return link;
    }
  channel = ew_connection_open_channel (tx->connection, module, error);
  if (channel == NULL)
    return NULL;
  link = g_new0 (ModuleLink, 1);
  link->module = module;
  link->channel = g_steal_pointer (&channel);
  link->client = ew_uds_client_new (link->channel, module->id);
  g_ptr_array_add (tx->links, link);
  return link;
}

static const EwSecurityAlgorithm *
find_algorithm (EwFamily *family, const char *id)
{
  for (guint i = 0; family->algorithms != NULL && i < family->algorithms->len; i++)
    {
      const EwSecurityAlgorithm *a = g_ptr_array_index (family->algorithms, i);

      if (g_strcmp0 (a->id, id) == 0)
        return a;
    }
  return NULL;
}

/* The supply voltage, before any module is prepared: read at a module of
 * the transaction that reports it, through its own client, else at another
 * module of the car that does. Out of range ends the job, nothing written. */
static gboolean
check_supply (Transaction *tx, GError **error)
{
  g_autoptr(GError) local_error = NULL;
  const EwModule *from = NULL;
  gboolean is_declared = FALSE;
  g_autofree char *volts = NULL;
  guint mv = 0;

  for (guint i = 0; i < tx->links->len && mv == 0; i++)
    {
      ModuleLink *link = g_ptr_array_index (tx->links, i);

      for (guint j = 0; j < link->module->identification->len; j++)
        is_declared |= ((const EwIdentificationDid *)
                        g_ptr_array_index (link->module->identification, j))->role
                       == EW_ID_ROLE_SUPPLY_VOLTAGE;
      mv = ew_supply_voltage_read_at (tx->connection, link->module, link->client, tx->cancellable);
      if (mv != 0)
        from = link->module;
    }
  /* a module of the job is not asked twice on a second channel */
  if (mv == 0 && !is_declared && tx->links->len > 0)
    mv = ew_supply_voltage_read (tx->connection,
                                 ((ModuleLink *) g_ptr_array_index (tx->links, 0))->module,
                                 NULL, tx->cancellable, &from);
  if (g_cancellable_set_error_if_cancelled (tx->cancellable, error))
    return FALSE;
  if (mv == 0)
    return journal (tx, "battery", NULL, "skipped", error,
                    "no module of the car reports its supply voltage");
  volts = ew_supply_voltage_format (mv);
  if (!ew_supply_voltage_check (mv, EW_WORK_CLASS_CODING, from, &local_error))
    {
      journal_quiet (tx, "battery", from->id, "failed", local_error->message);
      g_set_error_literal (error, EW_CODING_ERROR, EW_CODING_ERROR_PRECONDITION, local_error->message);
      return FALSE;
    }
  return journal (tx, "battery", from->id, "ok", error, "%s", volts);
}

/* The coding session, then security access at the module's coding level. */
static gboolean
preflight (Transaction *tx, ModuleLink *link, GError **error)
{
  const EwModule *module = link->module;
  const EwSecurityLevel *level = NULL;
  g_autoptr(GError) local_error = NULL;
  guint8 session = module->coding_session != 0 ? module->coding_session : EW_UDS_SESSION_EXTENDED;

  if (g_cancellable_set_error_if_cancelled (tx->cancellable, error))
    return FALSE;
  if (!ew_uds_client_diagnostic_session_control (link->client, session, FALSE,
                                                  tx->cancellable, &local_error))
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      g_set_error (error, EW_CODING_ERROR, EW_CODING_ERROR_PRECONDITION,
                   _("The %s refused the coding session 0x%02X: %s"),
                   module->name, session, local_error->message);
      return FALSE;
    }
  if (module->coding_security_level != 0)
    {
      const EwSecurityAlgorithm *algorithm;
      g_autoptr(EwSeedKeyProvider) provider = NULL;
      const char *name;

      for (guint i = 0; module->security != NULL && i < module->security->len; i++)
        {
          const EwSecurityLevel *l = g_ptr_array_index (module->security, i);

          if (l->level == module->coding_security_level)
            level = l;
        }
      if (level == NULL)
        {
          g_set_error (error, EW_CODING_ERROR, EW_CODING_ERROR_PRECONDITION,
                       _("The vehicle data of the %s asks for security level 0x%02X for coding "
                         "but declares no such level"),
                       module->name, module->coding_security_level);
          return FALSE;
        }
      algorithm = find_algorithm (tx->family, level->algorithm);
      name = algorithm != NULL && algorithm->plugin != NULL ? algorithm->plugin : level->algorithm;
      /* the toy algorithm exists for the simulator only */
      if (g_strcmp0 (name, "sim-xor-toy") == 0)
        provider = ew_seedkey_provider_new_toy ();
      else
        provider = ew_seedkey_provider_load (name, NULL, &local_error);
      if (provider == NULL ||
          !ew_uds_client_security_access (link->client, level, provider, NULL, NULL,
                                          tx->is_simulated, tx->cancellable, &local_error))
        {
          g_set_error (error, EW_CODING_ERROR, EW_CODING_ERROR_PRECONDITION,
                       _("Security access to the %s at level 0x%02X failed (%u failed key(s) "
                         "counted): %s"),
                       module->name, level->level,
                       ew_uds_client_get_failed_attempts (link->client, level->level),
                       local_error->message);
          return FALSE;
        }
    }
  link->is_ready = TRUE;
  return TRUE;
}

static gboolean
run_preflight (Transaction *tx, ModuleLink *link, GError **error)
{
  g_autoptr(GError) local_error = NULL;

  report (tx, "preflight", link->module->id, tx->fraction);
  if (!journal (tx, "preflight", link->module->id, "started", error,
                "coding session 0x%02X, security level 0x%02X",
                link->module->coding_session, link->module->coding_security_level))
    return FALSE;
  if (!preflight (tx, link, &local_error))
    {
      journal_quiet (tx, "preflight", link->module->id, "failed", local_error->message);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  if (!journal (tx, "preflight", link->module->id, "ok", error, NULL))
    return FALSE;
  step_done (tx, "preflight", link->module->id);
  return TRUE;
}

static GBytes *
read_target (Transaction *tx, Target *t, GError **error)
{
  EwUdsDidSpec spec = { t->did, t->length_bytes };
  g_autoptr(GPtrArray) records = ew_uds_client_read_dids (t->link->client, &spec, 1,
                                                           tx->cancellable, error);

  if (records == NULL)
    return NULL;
  return g_bytes_ref (g_ptr_array_index (records, 0));
}

static char *
hex (GBytes *bytes)
{
  gsize n = 0;
  const guint8 *data = g_bytes_get_data (bytes, &n);
  GString *s = g_string_sized_new (n * 2 + 1);

  for (gsize i = 0; i < n; i++)
    g_string_append_printf (s, "%02X", data[i]);
  return g_string_free (s, FALSE);
}

/* First byte where a and b differ, or -1. */
static gssize
first_difference (GBytes *a, GBytes *b)
{
  gsize na = 0, nb = 0;
  const guint8 *da = g_bytes_get_data (a, &na);
  const guint8 *db = g_bytes_get_data (b, &nb);

  for (gsize i = 0; i < MIN (na, nb); i++)
    if (da[i] != db[i])
      return (gssize) i;
  return na == nb ? -1 : (gssize) MIN (na, nb);
}

/* Writes data into t and reads every byte back. */
static gboolean
write_and_verify (Transaction *tx,
                  Target      *t,
                  GBytes      *data,
                  const char  *write_step,
                  const char  *verify_step,
                  GError     **error)
{
  g_autoptr(GBytes) back = NULL;
  g_autoptr(GError) local_error = NULL;
  gssize diff;

  if (!ew_uds_client_write_did (t->link->client, t->did, g_bytes_get_data (data, NULL),
                                g_bytes_get_size (data), tx->cancellable, &local_error))
    {
      g_set_error (error, local_error->domain, local_error->code,
                   _("Writing DID 0x%04X of the %s failed: %s"),
                   t->did, t->module->name, local_error->message);
      journal_quiet (tx, write_step, t->module->id, "failed", (*error)->message);
      return FALSE;
    }
  journal_quiet (tx, write_step, t->module->id, "ok", NULL);
  report (tx, verify_step, t->module->id, tx->fraction);
  back = read_target (tx, t, &local_error);
  if (back == NULL)
    {
      g_set_error (error, local_error->domain, local_error->code,
                   _("Reading back DID 0x%04X of the %s failed: %s"),
                   t->did, t->module->name, local_error->message);
      journal_quiet (tx, verify_step, t->module->id, "failed", (*error)->message);
      return FALSE;
    }
  diff = first_difference (back, data);
  if (diff >= 0)
    {
      g_autofree char *want = hex (data);
      g_autofree char *got = hex (back);

      g_set_error (error, EW_CODING_ERROR, EW_CODING_ERROR_VERIFY,
                   _("DID 0x%04X of the %s reads back %s where %s was written (first "
                     "difference at byte %d)"),
                   t->did, t->module->name, got, want, (int) diff);
      journal_quiet (tx, verify_step, t->module->id, "failed", (*error)->message);
      return FALSE;
    }
  journal_quiet (tx, verify_step, t->module->id, "ok", NULL);
  return TRUE;
}

/* Puts t back to its old bytes, verified. A DID that already holds them
 * (the write never took) is left alone. One fresh preflight is tried when
 * the module lost its session or security on the way. */
static gboolean
restore_target (Transaction *tx, Target *t, const char *step, GError **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GBytes) now = NULL;

  for (guint attempt = 0; attempt < 2; attempt++)
    {
      g_clear_error (&local_error);
      g_clear_pointer (&now, g_bytes_unref);
      if (attempt > 0)
        {
          g_autoptr(GError) pre_error = NULL;

          if (!preflight (tx, t->link, &pre_error))
            {
              journal_quiet (tx, "preflight", t->module->id, "failed", pre_error->message);
              g_propagate_error (error, g_steal_pointer (&pre_error));
              return FALSE;
            }
          journal_quiet (tx, "preflight", t->module->id, "ok", NULL);
        }
      now = read_target (tx, t, &local_error);
      if (now != NULL && g_bytes_equal (now, t->before))
        {
          journal_quiet (tx, step, t->module->id, "skipped", "the module holds its old bytes");
          return TRUE;
        }
      if (now != NULL || attempt == 0)
        {
          g_clear_error (&local_error);
          if (write_and_verify (tx, t, t->before, step, "verify", &local_error))
            return TRUE;
        }
    }
  g_propagate_error (error, g_steal_pointer (&local_error));
  return FALSE;
}

/* Restores, newest first, every DID a write was sent to. */
static gboolean
rollback (Transaction *tx, GString *failures)
{
  guint n = 0, done = 0;
  double start = tx->fraction;
  gboolean ok = TRUE;

  for (guint i = 0; i < tx->targets->len; i++)
    if (((Target *) g_ptr_array_index (tx->targets, i))->was_sent)
      n++;
  journal_quiet (tx, "rollback", NULL, "started", NULL);
  for (guint i = tx->targets->len; i-- > 0;)
    {
      Target *t = g_ptr_array_index (tx->targets, i);
      g_autoptr(GError) error = NULL;

      if (!t->was_sent)
        continue;
      report (tx, "rollback", t->module->id, tx->fraction);
      if (restore_target (tx, t, "rollback", &error))
        set_backup_state (tx, t, EW_BACKUP_RESTORED);
      else
        {
          ok = FALSE;
          g_string_append_printf (failures, "%s%s DID 0x%04X: %s", failures->len > 0 ? "; " : "",
                                  t->module->id, t->did, error->message);
        }
      done++;
      report (tx, "rollback", t->module->id, start + (1.0 - start) * done / MAX (n, 1));
    }
  journal_quiet (tx, "rollback", NULL, ok ? "ok" : "failed", ok ? NULL : failures->str);
  return ok;
}

/* Back to the default session, best effort: S3 ends it anyway. */
static void
leave_sessions (Transaction *tx)
{
  for (guint i = 0; i < tx->links->len; i++)
    {
      ModuleLink *link = g_ptr_array_index (tx->links, i);

      if (link->is_ready && !g_cancellable_is_cancelled (tx->cancellable))
        ew_uds_client_diagnostic_session_control (link->client, EW_UDS_SESSION_DEFAULT, FALSE,
                                                  NULL, NULL);
    }
}

static void
set_job_state (Transaction *tx, EwJobState state)
{
  g_autoptr(GError) error = NULL;

  if (!ew_job_store_set_job_state (tx->store, tx->job_id, state, &error))
    g_warning ("Job %" G_GINT64_FORMAT ": state %s not recorded: %s",
               tx->job_id, ew_job_state_to_string (state), error->message);
}

/* message as a sentence that ends with a full stop. */
static char *
sentence (const char *message)
{
  gsize n = strlen (message);

  if (n > 0 && (message[n - 1] == '.' || message[n - 1] == '!' || message[n - 1] == '?'))
    return g_strdup (message);
  return g_strconcat (message, ".", NULL);
}

/* Ends a job that failed: rolled back when everything sent could be
 * restored, failed (attention) when not. */
static void
fail_job (Transaction *tx, GError *cause, GError **error)
{
  g_autoptr(GString) failures = g_string_new (NULL);
  g_autofree char *what = sentence (cause->message);
  gboolean any_sent = FALSE;

  for (guint i = 0; i < tx->targets->len; i++)
    any_sent = any_sent || ((Target *) g_ptr_array_index (tx->targets, i))->was_sent;

  if (!any_sent)
    {
      /* nothing was written: the car is as it was */
      journal_quiet (tx, "job", NULL, "rolled-back", "nothing was written");
      set_job_state (tx, EW_JOB_STATE_ROLLED_BACK);
      leave_sessions (tx);
      g_propagate_error (error, cause);
      return;
    }
  if (rollback (tx, failures))
    {
      journal_quiet (tx, "job", NULL, "rolled-back", cause->message);
      set_job_state (tx, EW_JOB_STATE_ROLLED_BACK);
      g_set_error (error, EW_CODING_ERROR, EW_CODING_ERROR_ROLLED_BACK,
                   _("%s Every module was restored to its old coding and read back."),
                   what);
    }
  else
    {
      journal_quiet (tx, "job", NULL, "failed", failures->str);
      set_job_state (tx, EW_JOB_STATE_FAILED);
      g_set_error (error, EW_CODING_ERROR, EW_CODING_ERROR_ROLLBACK_FAILED,
                   _("%s Restoring the old coding failed too (%s): the car needs attention; "
                     "its backup is in job %lld."),
                   what, failures->str, (long long) tx->job_id);
    }
  leave_sessions (tx);
  g_error_free (cause);
}

static gboolean
check_provenance (EwCodingPlan      *plan,
                  const char *const *acknowledged,
                  GError           **error)
{
  for (guint i = 0; i < plan->lines->len; i++)
    {
      const EwCodingPlanLine *line = g_ptr_array_index (plan->lines, i);
      EwProvenance p = ew_coding_feature_provenance (plan->family, line->feature);

      if (p == EW_PROVENANCE_ILLUSTRATIVE && !plan->is_simulated)
        {
          g_set_error (error, EW_CODING_ERROR, EW_CODING_ERROR_PROVENANCE,
                       _("%s (%s): its coding data is illustrative, not taken from a real car, "
                         "and is written only to a simulated car; this car did not identify "
                         "itself as simulated"),
                       line->feature->name, line->feature->id);
          return FALSE;
        }
      if (p == EW_PROVENANCE_COMMUNITY &&
          (acknowledged == NULL || !g_strv_contains (acknowledged, line->feature->id)))
        {
          g_set_error (error, EW_CODING_ERROR, EW_CODING_ERROR_PROVENANCE,
                       _("%s (%s): its coding data comes from the community (%s) and must be "
                         "confirmed by the technician before it is written"),
                       line->feature->name, line->feature->id,
                       line->feature->provenance.source != NULL
                       ? line->feature->provenance.source : _("no source given"));
          return FALSE;
        }
    }
  /* a plan no feature made (a retrofit) answers for its data as one */
  if (plan->subject_id != NULL)
    {
      const char *name = plan->subject_name != NULL ? plan->subject_name : plan->subject_id;

      if (plan->subject_provenance == EW_PROVENANCE_ILLUSTRATIVE && !plan->is_simulated)
        {
          g_set_error (error, EW_CODING_ERROR, EW_CODING_ERROR_PROVENANCE,
                       _("%s (%s): its coding data is illustrative, not taken from a real car, "
                         "and is written only to a simulated car; this car did not identify "
                         "itself as simulated"),
                       name, plan->subject_id);
          return FALSE;
        }
      if (plan->subject_provenance == EW_PROVENANCE_COMMUNITY &&
          (acknowledged == NULL || !g_strv_contains (acknowledged, plan->subject_id)))
        {
          g_set_error (error, EW_CODING_ERROR, EW_CODING_ERROR_PROVENANCE,
                       _("%s (%s): its coding data comes from the community (%s) and must be "
                         "confirmed by the technician before it is written"),
                       name, plan->subject_id,
                       plan->subject_source != NULL ? plan->subject_source : _("no source given"));
          return FALSE;
        }
    }
  return TRUE;
}

/* The identification DIDs a coding job may write besides coding DIDs (a
 * retrofit links the VIN and adds to the option list), or NULL. */
static const EwIdentificationDid *
writable_identification (const EwModule *module, guint16 did)
{
  for (guint i = 0; module != NULL && i < module->identification->len; i++)
    {
      const EwIdentificationDid *id = g_ptr_array_index (module->identification, i);

      if (id->did == did && (id->role == EW_ID_ROLE_VIN || id->role == EW_ID_ROLE_OPTION_LIST))
        return id;
    }
  return NULL;
}

gint64
ew_coding_apply (EwConnection         *connection,
                 EwJobStore           *store,
                 EwCodingPlan         *plan,
                 const char *const    *acknowledged,
                 EwCodingProgressFunc  progress,
                 gpointer              user_data,
                 gint64               *job_id,
                 GCancellable         *cancellable,
                 GError              **error)
{
  Transaction tx;
  g_autoptr(GError) local_error = NULL;
  gint64 id;
  guint n_modules = 0;

  g_return_val_if_fail (EW_IS_CONNECTION (connection), 0);
  g_return_val_if_fail (store != NULL, 0);
  g_return_val_if_fail (plan != NULL, 0);

  if (job_id != NULL)
    *job_id = 0;
  if (plan->changes->len == 0)
    {
      g_set_error (error, EW_CODING_ERROR, EW_CODING_ERROR_NOTHING_TO_DO,
                   _("Nothing to do: the plan changes no byte"));
      return 0;
    }
  if (ew_connection_get_family (connection) != plan->family &&
      (ew_connection_get_family (connection) == NULL ||
       g_strcmp0 (ew_connection_get_family (connection)->id, plan->family->id) != 0))
    {
      g_set_error (error, EW_CODING_ERROR, EW_CODING_ERROR_PRECONDITION,
                   _("The plan was made for a %s (%s), not for the car on this link"),
                   plan->family->model, plan->family->id);
      return 0;
    }
  if (!check_provenance (plan, acknowledged, &local_error))
    {
      /* refused before any job: journalled as an entry of no job */
      if (!ew_job_store_journal (store, 0, "provenance", NULL, "refused", local_error->message,
                                 error))
        return 0;
      g_propagate_error (error, g_steal_pointer (&local_error));
      return 0;
    }

  /* the car goes into the garage's list of vehicles seen with its first job */
  if (plan->vin != NULL
      && !ew_job_store_note_vehicle (store, plan->vin, plan->family->id, NULL, error))
    return 0;
  id = ew_job_store_begin_job (store, EW_JOB_KIND_CODING, plan->vin, plan->family->id,
                               ew_connection_get_uri (connection), plan->summary, 0, error);
  if (id == 0)
    return 0;
  if (job_id != NULL)
    *job_id = id;

  transaction_init (&tx, connection, store, progress, user_data, cancellable);
  tx.job_id = id;
  tx.is_simulated = plan->is_simulated;

  for (guint i = 0; i < plan->lines->len; i++)
    {
      const EwCodingPlanLine *line = g_ptr_array_index (plan->lines, i);

      if (ew_coding_feature_provenance (plan->family, line->feature) != EW_PROVENANCE_COMMUNITY)
        continue;
      if (!journal (&tx, "acknowledge", line->feature->module, "ok", &local_error,
                    "%s (%s): the technician confirmed community coding data (%s)",
                    line->feature->name, line->feature->id,
                    line->feature->provenance.source != NULL ? line->feature->provenance.source : "-"))
        goto failed;
    }
  if (plan->subject_id != NULL && plan->subject_provenance == EW_PROVENANCE_COMMUNITY &&
      !journal (&tx, "acknowledge", NULL, "ok", &local_error,
                "%s (%s): the technician confirmed community coding data (%s)",
                plan->subject_name != NULL ? plan->subject_name : plan->subject_id,
                plan->subject_id, plan->subject_source != NULL ? plan->subject_source : "-"))
    goto failed;

  for (guint i = 0; i < plan->changes->len; i++)
    {
      const EwCodingChange *change = g_ptr_array_index (plan->changes, i);
      Target *t = g_new0 (Target, 1);

      t->module = change->module;
      t->did = change->did->did;
      t->length_bytes = change->did->length_bytes;
      t->after = g_bytes_ref (change->after);
      g_ptr_array_add (tx.targets, t);
      t->link = link_for (&tx, change->module, &local_error);
      if (t->link == NULL)
        goto failed;
    }
  n_modules = tx.links->len;
  tx.n_steps = n_modules + 3 * tx.targets->len;

  /* 2. preflight, every module before anything is written */
  if (!check_supply (&tx, &local_error))
    goto failed;
  for (guint i = 0; i < tx.links->len; i++)
    if (!run_preflight (&tx, g_ptr_array_index (tx.links, i), &local_error))
      goto failed;

  /* 3. backup: read again, not the catalogue's copy, and commit */
  for (guint i = 0; i < tx.targets->len; i++)
    {
      Target *t = g_ptr_array_index (tx.targets, i);
      const EwCodingChange *change = g_ptr_array_index (plan->changes, i);
      g_autoptr(GError) read_error = NULL;

      report (&tx, "backup", t->module->id, tx.fraction);
      if (!journal (&tx, "backup", t->module->id, "started", &local_error,
                    "DID 0x%04X", t->did))
        goto failed;
      t->before = read_target (&tx, t, &read_error);
      if (t->before == NULL)
        {
          g_set_error (&local_error, read_error->domain, read_error->code,
                       _("Reading DID 0x%04X of the %s for the backup failed: %s"),
                       t->did, t->module->name, read_error->message);
          journal_quiet (&tx, "backup", t->module->id, "failed", local_error->message);
          goto failed;
        }
      /* the plan's new bytes keep every other bit as it was read: if the
       * module changed since, they would overwrite the change */
      if (!g_bytes_equal (t->before, change->before))
        {
          g_autofree char *then = hex (change->before);
          g_autofree char *now = hex (t->before);

          g_set_error (&local_error, EW_CODING_ERROR, EW_CODING_ERROR_PRECONDITION,
                       _("DID 0x%04X of the %s changed since the features were read (%s, now %s): "
                         "read the features again"),
                       t->did, t->module->name, then, now);
          journal_quiet (&tx, "backup", t->module->id, "failed", local_error->message);
          goto failed;
        }
      if (!ew_job_store_add_backup (store, id, t->module->id, t->did, t->before, t->after,
                                    &local_error))
        goto failed;
      t->state = EW_BACKUP_SAVED;
      {
        g_autofree char *old = hex (t->before);
        g_autofree char *new = hex (t->after);

        if (!journal (&tx, "backup", t->module->id, "ok", &local_error,
                      "DID 0x%04X: %s, to become %s", t->did, old, new))
          goto failed;
      }
      step_done (&tx, "backup", t->module->id);
    }

  /* the last moment a cancel is honoured: after the first write the job
   * finishes or rolls back */
  if (g_cancellable_set_error_if_cancelled (cancellable, &local_error))
    {
      journal_quiet (&tx, "cancel", NULL, "ok", "cancelled before the first write");
      goto failed;
    }
  tx.cancellable = NULL;

  /* 4. write and verify, module by module */
  for (guint m = 0; m < tx.links->len; m++)
    {
      ModuleLink *link = g_ptr_array_index (tx.links, m);

      for (guint i = 0; i < tx.targets->len; i++)
        {
          Target *t = g_ptr_array_index (tx.targets, i);

          if (t->link != link)
            continue;
          report (&tx, "write", t->module->id, tx.fraction);
          if (!journal (&tx, "write", t->module->id, "started", &local_error, "DID 0x%04X", t->did))
            goto failed;
          set_backup_state (&tx, t, EW_BACKUP_WRITING);
          t->was_sent = TRUE;
          if (!write_and_verify (&tx, t, t->after, "write", "verify", &local_error))
            goto failed;
          step_done (&tx, "write", t->module->id);
          set_backup_state (&tx, t, EW_BACKUP_VERIFIED);
          step_done (&tx, "verify", t->module->id);
        }
    }

  if (!journal (&tx, "job", NULL, "done", &local_error, "%s", plan->summary))
    goto failed;
  set_job_state (&tx, EW_JOB_STATE_DONE);
  report (&tx, "verify", NULL, 1.0);
  leave_sessions (&tx);
  transaction_clear (&tx);
  return id;

failed:
  fail_job (&tx, g_steal_pointer (&local_error), error);
  transaction_clear (&tx);
  return 0;
}

/* Whether the module says it is simulated: the toy security algorithm
 * may be used only then. */
static gboolean
module_is_simulated (Transaction *tx, ModuleLink *link)
{
  for (guint i = 0; i < link->module->identification->len; i++)
    {
      const EwIdentificationDid *id = g_ptr_array_index (link->module->identification, i);
      g_autoptr(GBytes) bytes = NULL;

      if (id->role != EW_ID_ROLE_SIMULATION_MARKER)
        continue;
      bytes = ew_uds_client_read_did (link->client, id->did, tx->cancellable, NULL);
      return bytes != NULL && g_bytes_get_size (bytes) == strlen (EW_SIM_ECU_MARKER) &&
             memcmp (g_bytes_get_data (bytes, NULL), EW_SIM_ECU_MARKER,
                     strlen (EW_SIM_ECU_MARKER)) == 0;
    }
  return FALSE;
}

gint64
ew_coding_restore (EwConnection         *connection,
                   EwJobStore           *store,
                   gint64                job_id,
                   EwCodingProgressFunc  progress,
                   gpointer              user_data,
                   GCancellable         *cancellable,
                   GError              **error)
{
  Transaction tx;
  g_autoptr(EwJobRecord) record = NULL;
  g_autoptr(GPtrArray) backups = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *summary = NULL;
  EwFamily *family;
  gint64 id;
  gboolean ok = TRUE;

  g_return_val_if_fail (EW_IS_CONNECTION (connection), 0);
  g_return_val_if_fail (store != NULL, 0);

  record = ew_job_store_get_job (store, job_id, error);
  if (record == NULL)
    return 0;
  backups = ew_job_store_get_backups (store, job_id, error);
  if (backups == NULL)
    return 0;
  family = ew_connection_get_family (connection);
  if (family == NULL || (record->family_id != NULL && g_strcmp0 (record->family_id, family->id) != 0))
    {
      g_set_error (error, EW_CODING_ERROR, EW_CODING_ERROR_PRECONDITION,
                   _("Job %lld was done on a %s, not on the car on this link"),
                   (long long) job_id, record->family_id);
      return 0;
    }
  if (backups->len == 0)
    {
      g_set_error (error, EW_CODING_ERROR, EW_CODING_ERROR_NOTHING_TO_DO,
                   _("Job %lld holds no backup to restore"), (long long) job_id);
      return 0;
    }

  summary = g_strdup_printf (_("Restore of job %lld: %s"), (long long) job_id,
                             record->summary != NULL ? record->summary : "");
  id = ew_job_store_begin_job (store, EW_JOB_KIND_RESTORE, record->vin, family->id,
                               ew_connection_get_uri (connection), summary, job_id, error);
  if (id == 0)
    return 0;

  transaction_init (&tx, connection, store, progress, user_data, cancellable);
  tx.job_id = id;
  tx.n_steps = 3 * backups->len;

  for (guint i = 0; i < backups->len; i++)
    {
      const EwJobBackup *b = g_ptr_array_index (backups, i);
      const EwModule *module = ew_family_find_module (family, b->module_id);
      const EwCodingDid *cd = module != NULL ? ew_module_find_coding_did (module, b->did) : NULL;
      const EwIdentificationDid *written_id = cd == NULL ? writable_identification (module, b->did) : NULL;
      Target *t;

      if (cd == NULL && written_id == NULL)
        {
          g_set_error (&local_error, EW_CODING_ERROR, EW_CODING_ERROR_PRECONDITION,
                       _("Job %lld backed up DID 0x%04X of module “%s”, which the "
                         "vehicle data of %s does not have"),
                       (long long) job_id, b->did, b->module_id, family->id);
          goto failed;
        }
      t = g_new0 (Target, 1);
      t->module = module;
      t->did = b->did;
      t->length_bytes = cd != NULL ? cd->length_bytes : written_id->length_bytes;
      /* for this job, the job's old bytes are the ones to write */
      t->after = g_bytes_ref (b->before);
      g_ptr_array_add (tx.targets, t);
      t->link = link_for (&tx, module, &local_error);
      if (t->link == NULL)
        goto failed;
    }

  if (!check_supply (&tx, &local_error))
    goto failed;
  for (guint i = 0; i < tx.links->len; i++)
    {
      ModuleLink *link = g_ptr_array_index (tx.links, i);

      tx.is_simulated = module_is_simulated (&tx, link);
      if (!run_preflight (&tx, link, &local_error))
        goto failed;
    }

  /* the restore backs up what it replaces, like any coding write */
  for (guint i = 0; i < tx.targets->len; i++)
    {
      Target *t = g_ptr_array_index (tx.targets, i);

      t->before = read_target (&tx, t, &local_error);
      if (t->before == NULL)
        {
          journal_quiet (&tx, "backup", t->module->id, "failed", local_error->message);
          goto failed;
        }
      if (!ew_job_store_add_backup (store, id, t->module->id, t->did, t->before, t->after,
                                    &local_error))
        goto failed;
      journal_quiet (&tx, "backup", t->module->id, "ok", NULL);
      step_done (&tx, "backup", t->module->id);
    }
  if (g_cancellable_set_error_if_cancelled (cancellable, &local_error))
    goto failed;
  tx.cancellable = NULL;

  for (guint i = 0; i < tx.targets->len; i++)
    {
      Target *t = g_ptr_array_index (tx.targets, i);
      g_autoptr(GError) t_error = NULL;

      report (&tx, "restore", t->module->id, tx.fraction);
      if (g_bytes_equal (t->before, t->after))
        {
          /* a crash left it, or the write never took: already old */
          journal_quiet (&tx, "restore", t->module->id, "skipped",
                         "the module already holds the old bytes");
        }
      else
        {
          t->was_sent = TRUE;
          set_backup_state (&tx, t, EW_BACKUP_WRITING);
          if (!write_and_verify (&tx, t, t->after, "restore", "verify", &t_error))
            {
              ok = FALSE;
              g_prefix_error (&t_error, "%s DID 0x%04X: ", t->module->id, t->did);
              if (local_error == NULL)
                local_error = g_steal_pointer (&t_error);
              continue;
            }
          set_backup_state (&tx, t, EW_BACKUP_VERIFIED);
        }
      {
        g_autoptr(GError) state_error = NULL;

        if (!ew_job_store_set_backup_state (store, job_id, t->module->id, t->did,
                                            EW_BACKUP_RESTORED, &state_error))
          g_warning ("Job %" G_GINT64_FORMAT ": backup state not recorded: %s",
                     job_id, state_error->message);
      }
      step_done (&tx, "restore", t->module->id);
      step_done (&tx, "verify", t->module->id);
    }

  if (!ok)
    {
      /* a restore is not rolled back: every DID is either restored or
       * still as the job left it, and the job's backup stays */
      journal_quiet (&tx, "job", NULL, "failed", local_error->message);
      set_job_state (&tx, EW_JOB_STATE_FAILED);
      g_set_error (error, EW_CODING_ERROR, EW_CODING_ERROR_ROLLBACK_FAILED,
                   _("Restoring job %lld did not complete: %s"),
                   (long long) job_id, local_error->message);
      leave_sessions (&tx);
      transaction_clear (&tx);
      return 0;
    }
  journal_quiet (&tx, "job", NULL, "done", summary);
  set_job_state (&tx, EW_JOB_STATE_DONE);
  {
    g_autoptr(GError) state_error = NULL;

    if (!ew_job_store_set_job_state (store, job_id, EW_JOB_STATE_RESTORED, &state_error))
      g_warning ("Job %" G_GINT64_FORMAT ": state not recorded: %s", job_id, state_error->message);
  }
  report (&tx, "restore", NULL, 1.0);
  leave_sessions (&tx);
  transaction_clear (&tx);
  return id;

failed:
  journal_quiet (&tx, "job", NULL, "failed", local_error->message);
  /* nothing was written before this point */
  set_job_state (&tx, EW_JOB_STATE_ROLLED_BACK);
  g_propagate_error (error, g_steal_pointer (&local_error));
  leave_sessions (&tx);
  transaction_clear (&tx);
  return 0;
}
