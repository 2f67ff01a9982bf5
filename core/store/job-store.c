/* job-store.c — the job store on SQLite: schema and migrations, durable
 * recording calls (one immediate transaction each, synchronous=FULL) and
 * the hash-chained journal.
 */
#include <errno.h>
#include <string.h>

#include <glib/gstdio.h>
#include <sqlite3.h>

#include "store/job-store.h"

/* "ECUW": marks the file as ours in the SQLite header (offset 68), so a
 * database of another application is told apart before anything is
 * written to it. */
#define EW_JOB_STORE_APPLICATION_ID 1162040663   /* 0x45435557; PRAGMA wants decimal */
#define EW_JOB_STORE_SCHEMA_VERSION 1
#define EW_JOB_STORE_BUSY_TIMEOUT_MS 10000
#define GENESIS_HASH "0000000000000000000000000000000000000000000000000000000000000000"

struct _EwJobStore {
  GMutex   lock;                  /* serialises every use of db */
  sqlite3 *db;
  char    *path;
};

G_DEFINE_QUARK (ew-job-store-error-quark, ew_job_store_error)

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

/* ---- names ---- */

static const char *const kind_names[] = { "coding", "restore", "programming" };
static const char *const state_names[] = { "running", "done", "rolled-back", "failed", "restored" };
static const char *const backup_state_names[] = { "saved", "writing", "verified", "restored" };

const char *
ew_job_record_kind_to_string (EwJobRecordKind kind)
{
  g_return_val_if_fail ((guint) kind < G_N_ELEMENTS (kind_names), NULL);
  return kind_names[kind];
}

const char *
ew_job_state_to_string (EwJobState state)
{
  g_return_val_if_fail ((guint) state < G_N_ELEMENTS (state_names), NULL);
  return state_names[state];
}

const char *
ew_backup_state_to_string (EwBackupState state)
{
  g_return_val_if_fail ((guint) state < G_N_ELEMENTS (backup_state_names), NULL);
  return backup_state_names[state];
}

/* Index of text in names, or -1. */
static int
name_index (const char *const *names,
            guint              n_names,
            const char        *text)
{
  for (guint i = 0; text != NULL && i < n_names; i++)
    if (g_str_equal (names[i], text))
      return (int) i;
  return -1;
}

/* ---- records ---- */

void
ew_job_record_free (EwJobRecord *record)
{
  if (record == NULL)
    return;
  g_free (record->vin);
  g_free (record->family_id);
  g_free (record->link_uri);
  g_free (record->summary);
  g_clear_pointer (&record->started, g_date_time_unref);
  g_clear_pointer (&record->finished, g_date_time_unref);
  g_free (record);
}

void
ew_job_backup_free (EwJobBackup *backup)
{
  if (backup == NULL)
    return;
  g_free (backup->module_id);
  g_clear_pointer (&backup->before, g_bytes_unref);
  g_clear_pointer (&backup->after, g_bytes_unref);
  g_free (backup);
}

void
ew_journal_entry_free (EwJournalEntry *entry)
{
  if (entry == NULL)
    return;
  g_clear_pointer (&entry->time, g_date_time_unref);
  g_free (entry->step);
  g_free (entry->module_id);
  g_free (entry->outcome);
  g_free (entry->detail);
  g_free (entry->hash);
  g_free (entry);
}

/* ---- time ---- */

/* UTC, ISO 8601 with microseconds: sorts as text and reads back exactly. */
static char *
time_now_text (void)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();

  return g_date_time_format (now, "%Y-%m-%dT%H:%M:%S.%fZ");
}

static GDateTime *
time_from_text (const char *text)
{
  GDateTime *time = NULL;
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc ();

  if (text != NULL)
    time = g_date_time_new_from_iso8601 (text, utc);
  if (time == NULL)
    time = g_date_time_new_from_unix_utc (0);   /* a damaged row still lists */
  else
    {
      GDateTime *in_utc = g_date_time_to_utc (time);

      g_date_time_unref (time);
      time = in_utc;
    }
  return time;
}

/* ---- SQLite helpers (the caller holds the lock) ---- */

static void
set_sql_error (EwJobStore  *store,
               GError     **error,
               const char  *what)
{
  g_set_error (error, EW_JOB_STORE_ERROR, EW_JOB_STORE_ERROR_SQL,
               "Job store %s: %s failed: %s (SQLite %d)",
               store->path, what, sqlite3_errmsg (store->db),
               sqlite3_extended_errcode (store->db));
}

/* Constant SQL only: values always go through bound parameters. */
static gboolean
exec_sql (EwJobStore  *store,
          const char  *sql,
          const char  *what,
          GError     **error)
{
  if (sqlite3_exec (store->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    {
      set_sql_error (store, error, what);
      return FALSE;
    }
  return TRUE;
}

static sqlite3_stmt *
prepare (EwJobStore  *store,
         const char  *sql,
         GError     **error)
{
  sqlite3_stmt *stmt = NULL;

  if (sqlite3_prepare_v2 (store->db, sql, -1, &stmt, NULL) != SQLITE_OK)
    {
      set_sql_error (store, error, "preparing a statement");
      sqlite3_finalize (stmt);
      return NULL;
    }
  return stmt;
}

static void
bind_text (sqlite3_stmt *stmt,
           int           index,
           const char   *text)
{
  if (text == NULL)
    sqlite3_bind_null (stmt, index);
  else
    sqlite3_bind_text (stmt, index, text, -1, SQLITE_TRANSIENT);
}

/* 0 means "none" in the API and NULL in the tables. */
static void
bind_id (sqlite3_stmt *stmt,
         int           index,
         gint64        id)
{
  if (id == 0)
    sqlite3_bind_null (stmt, index);
  else
    sqlite3_bind_int64 (stmt, index, id);
}

static void
bind_bytes (sqlite3_stmt *stmt,
            int           index,
            GBytes       *bytes)
{
  gsize size = 0;
  gconstpointer data = g_bytes_get_data (bytes, &size);

  /* a zero-length blob, never NULL: an empty DID is still a value */
  sqlite3_bind_blob64 (stmt, index, data != NULL ? data : "", size, SQLITE_TRANSIENT);
}

static char *
column_text (sqlite3_stmt *stmt,
             int           column)
{
  return g_strdup ((const char *) sqlite3_column_text (stmt, column));
}

static GBytes *
column_bytes (sqlite3_stmt *stmt,
              int           column)
{
  const void *data = sqlite3_column_blob (stmt, column);
  int size = sqlite3_column_bytes (stmt, column);

  return g_bytes_new (data, (gsize) size);
}

/* Runs a statement that returns no rows. */
static gboolean
step_done (EwJobStore   *store,
           sqlite3_stmt *stmt,
           const char   *what,
           GError      **error)
{
  if (sqlite3_step (stmt) != SQLITE_DONE)
    {
      set_sql_error (store, error, what);
      return FALSE;
    }
  return TRUE;
}

/* IMMEDIATE takes the write lock at once, so the chain head read inside
 * the transaction cannot change under it, even from another process. */
static gboolean
begin_write (EwJobStore  *store,
             GError     **error)
{
  return exec_sql (store, "BEGIN IMMEDIATE", "starting a transaction", error);
}

static gboolean
commit (EwJobStore  *store,
        GError     **error)
{
  if (!exec_sql (store, "COMMIT", "committing", error))
    {
      sqlite3_exec (store->db, "ROLLBACK", NULL, NULL, NULL);
      return FALSE;
    }
  return TRUE;
}

static void
rollback (EwJobStore *store)
{
  if (!sqlite3_get_autocommit (store->db))
    sqlite3_exec (store->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Reads one integer from a constant query (PRAGMA, COUNT); -1 on error. */
static gint64
query_int (EwJobStore  *store,
           const char  *sql,
           GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = prepare (store, sql, error);

  if (stmt == NULL)
    return -1;
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      set_sql_error (store, error, sql);
      return -1;
    }
  return sqlite3_column_int64 (stmt, 0);
}

/* ---- schema ---- */

/* Version 1. Kinds and states are stored by name so that the file reads
 * plainly in any SQLite tool. */
static const char *const schema_v1[] = {
  "CREATE TABLE meta ("
  "  key   TEXT PRIMARY KEY NOT NULL,"
  "  value NOT NULL)",

  "CREATE TABLE vehicles ("
  "  vin          TEXT PRIMARY KEY NOT NULL,"
  "  family_id    TEXT,"
  "  registration TEXT,"
  "  first_seen   TEXT NOT NULL,"
  "  last_seen    TEXT NOT NULL)",

  "CREATE TABLE jobs ("
  "  id              INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  kind            TEXT NOT NULL CHECK (kind IN ('coding', 'restore', 'programming')),"
  "  state           TEXT NOT NULL CHECK (state IN ('running', 'done', 'rolled-back', 'failed', 'restored')),"
  "  vin             TEXT,"
  "  family_id       TEXT,"
  "  link_uri        TEXT NOT NULL,"
  "  summary         TEXT NOT NULL,"
  "  restores_job_id INTEGER REFERENCES jobs (id),"
  "  started         TEXT NOT NULL,"
  "  finished        TEXT)",
  "CREATE INDEX jobs_by_state ON jobs (state)",

  "CREATE TABLE scans ("
  "  id        INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  vin       TEXT,"
  "  family_id TEXT,"
  "  time      TEXT NOT NULL,"
  "  json      TEXT NOT NULL)",
  "CREATE INDEX scans_by_vin ON scans (vin, time)",

  "CREATE TABLE backups ("
  "  id        INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  job_id    INTEGER NOT NULL REFERENCES jobs (id),"
  "  module_id TEXT NOT NULL,"
  "  did       INTEGER NOT NULL CHECK (did BETWEEN 0 AND 65535),"
  "  before    BLOB NOT NULL,"
  "  after     BLOB NOT NULL,"
  "  state     TEXT NOT NULL CHECK (state IN ('saved', 'writing', 'verified', 'restored')),"
  "  UNIQUE (job_id, module_id, did))",

  /* seq is assigned by the store (head + 1), never by SQLite */
  "CREATE TABLE journal ("
  "  seq       INTEGER PRIMARY KEY,"
  "  job_id    INTEGER REFERENCES jobs (id),"
  "  time      TEXT NOT NULL,"
  "  step      TEXT NOT NULL,"
  "  module_id TEXT,"
  "  outcome   TEXT NOT NULL,"
  "  detail    TEXT,"
  "  prev_hash TEXT NOT NULL,"
  "  hash      TEXT NOT NULL)",
  "CREATE INDEX journal_by_job ON journal (job_id, seq)",

  "INSERT INTO meta (key, value) VALUES ('chain_seq', 0), ('chain_hash', '" GENESIS_HASH "')",
  NULL
};

/* migrations[n] takes a store from version n to n + 1. */
static const char *const *const migrations[] = {
  schema_v1,
};
G_STATIC_ASSERT (G_N_ELEMENTS (migrations) == EW_JOB_STORE_SCHEMA_VERSION);

/* Brings the schema to the current version in one transaction; on an
 * existing store of the current version it changes nothing. */
static gboolean
migrate (EwJobStore  *store,
         GError     **error)
{
  gint64 application_id, version, n_objects;

  /* the usual case, a current store, needs no write lock */
  application_id = query_int (store, "PRAGMA application_id", error);
  version = application_id < 0 ? -1 : query_int (store, "PRAGMA user_version", error);
  if (version < 0)
    return FALSE;
  if (application_id == EW_JOB_STORE_APPLICATION_ID && version == EW_JOB_STORE_SCHEMA_VERSION)
    return TRUE;

  if (!begin_write (store, error))
    return FALSE;

  /* read again under the write lock: another process may have created
   * the store since the file was probed */
  application_id = query_int (store, "PRAGMA application_id", error);
  version = application_id < 0 ? -1 : query_int (store, "PRAGMA user_version", error);
  n_objects = version < 0 ? -1 : query_int (store, "SELECT COUNT(*) FROM sqlite_master", error);
  if (n_objects < 0)
    {
      rollback (store);
      return FALSE;
    }

  if (application_id != EW_JOB_STORE_APPLICATION_ID &&
      (application_id != 0 || version != 0 || n_objects != 0))
    {
      rollback (store);
      g_set_error (error, EW_JOB_STORE_ERROR, EW_JOB_STORE_ERROR_OPEN,
                   "%s is not an ECU Workshop job store (a database of another application)",
                   store->path);
      return FALSE;
    }
  if (version > EW_JOB_STORE_SCHEMA_VERSION)
    {
      rollback (store);
      g_set_error (error, EW_JOB_STORE_ERROR, EW_JOB_STORE_ERROR_OPEN,
                   "Job store %s has schema version %" G_GINT64_FORMAT
                   "; this version of ECU Workshop reads up to %d: update the application",
                   store->path, version, EW_JOB_STORE_SCHEMA_VERSION);
      return FALSE;
    }
  if (version == EW_JOB_STORE_SCHEMA_VERSION)
    {
      rollback (store);   /* nothing to do; nothing written */
      return TRUE;
    }

  for (gint64 v = version; v < EW_JOB_STORE_SCHEMA_VERSION; v++)
    for (const char *const *sql = migrations[v]; *sql != NULL; sql++)
      if (!exec_sql (store, *sql, "creating the schema", error))
        {
          rollback (store);
          return FALSE;
        }

  /* PRAGMA takes no parameters; both values are compile-time constants */
  if (!exec_sql (store,
                 "PRAGMA application_id = " G_STRINGIFY (EW_JOB_STORE_APPLICATION_ID) ";"
                 "PRAGMA user_version = " G_STRINGIFY (EW_JOB_STORE_SCHEMA_VERSION),
                 "setting the schema version", error))
    {
      rollback (store);
      return FALSE;
    }
  return commit (store, error);
}

/* ---- open / close ---- */

char *
ew_job_store_default_path (void)
{
  const char *env = g_getenv ("ECU_WORKSHOP_JOB_STORE");

  if (env != NULL && *env != '\0')
    return g_strdup (env);
  return g_build_filename (g_get_user_data_dir (), "ecu-workshop", "jobs.sqlite", NULL);
}

/* Decides, without writing a byte, whether path may be opened read-write:
 * no file, an empty file or empty database (a new store), or a file
 * marked as a job store. */
static gboolean
probe_file (const char  *path,
            GError     **error)
{
  static const char magic[16] = "SQLite format 3";   /* with its NUL */
  GStatBuf st;
  char header[16];
  FILE *file;
  size_t n_read;
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 values[3] = { -1, -1, -1 };
  static const char *const queries[3] = {
    "PRAGMA application_id", "PRAGMA user_version", "SELECT COUNT(*) FROM sqlite_master",
  };
  g_autofree char *absolute = NULL;
  g_autofree char *uri = NULL;
  int rc = SQLITE_OK;

  if (g_stat (path, &st) != 0)
    {
      int saved_errno = errno;

      if (saved_errno == ENOENT)
        return TRUE;
      g_set_error (error, EW_JOB_STORE_ERROR, EW_JOB_STORE_ERROR_OPEN,
                   "Cannot open job store %s: %s", path, g_strerror (saved_errno));
      return FALSE;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, EW_JOB_STORE_ERROR, EW_JOB_STORE_ERROR_OPEN,
                   "Cannot open job store %s: not a regular file", path);
      return FALSE;
    }
  if (st.st_size == 0)
    return TRUE;

  file = g_fopen (path, "rb");
  if (file == NULL)
    {
      int saved_errno = errno;

      g_set_error (error, EW_JOB_STORE_ERROR, EW_JOB_STORE_ERROR_OPEN,
                   "Cannot open job store %s: %s", path, g_strerror (saved_errno));
      return FALSE;
    }
  n_read = fread (header, 1, sizeof header, file);
  fclose (file);
  if (n_read != sizeof header || memcmp (header, magic, sizeof magic) != 0)
    {
      g_set_error (error, EW_JOB_STORE_ERROR, EW_JOB_STORE_ERROR_OPEN,
                   "%s is not an ECU Workshop job store (not an SQLite database)", path);
      return FALSE;
    }

  /* read-only and immutable: no hot journal rolled back, no -wal or -shm
   * file made beside someone else's database. It reads the main file
   * only; a store whose header still sits in its WAL reads as empty here,
   * and migrate() looks again through a normal connection. */
  absolute = g_canonicalize_filename (path, NULL);
  uri = g_filename_to_uri (absolute, NULL, NULL);
  if (uri != NULL)
    {
      g_autofree char *immutable = g_strconcat (uri, "?immutable=1", NULL);

      rc = sqlite3_open_v2 (immutable, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
    }
  else
    rc = SQLITE_CANTOPEN;
  for (guint i = 0; rc == SQLITE_OK && i < G_N_ELEMENTS (queries); i++)
    {
      rc = sqlite3_prepare_v2 (db, queries[i], -1, &stmt, NULL);
      if (rc == SQLITE_OK && (rc = sqlite3_step (stmt)) == SQLITE_ROW)
        {
          values[i] = sqlite3_column_int64 (stmt, 0);
          rc = SQLITE_OK;
        }
      g_clear_pointer (&stmt, sqlite3_finalize);
    }
  if (rc != SQLITE_OK)
    {
      g_set_error (error, EW_JOB_STORE_ERROR, EW_JOB_STORE_ERROR_OPEN,
                   "Cannot open job store %s: %s", path,
                   db != NULL ? sqlite3_errmsg (db) : sqlite3_errstr (rc));
      sqlite3_close (db);
      return FALSE;
    }
  sqlite3_close (db);

  if (values[0] == EW_JOB_STORE_APPLICATION_ID)
    {
      if (values[1] > EW_JOB_STORE_SCHEMA_VERSION)
        {
          g_set_error (error, EW_JOB_STORE_ERROR, EW_JOB_STORE_ERROR_OPEN,
                       "Job store %s has schema version %" G_GINT64_FORMAT
                       "; this version of ECU Workshop reads up to %d: update the application",
                       path, values[1], EW_JOB_STORE_SCHEMA_VERSION);
          return FALSE;
        }
      return TRUE;
    }
  if (values[0] == 0 && values[1] == 0 && values[2] == 0)
    return TRUE;
  g_set_error (error, EW_JOB_STORE_ERROR, EW_JOB_STORE_ERROR_OPEN,
               "%s is not an ECU Workshop job store (a database of another application)",
               path);
  return FALSE;
}

static EwJobStore *
open_store (const char  *path,
            GError     **error)
{
  g_autoptr(EwJobStore) store = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *journal_mode = NULL;
  int rc;

  store = g_new0 (EwJobStore, 1);
  g_mutex_init (&store->lock);
  store->path = path != NULL ? g_strdup (path) : ew_job_store_default_path ();

  dir = g_path_get_dirname (store->path);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, EW_JOB_STORE_ERROR, EW_JOB_STORE_ERROR_OPEN,
                   "Cannot create the folder %s for the job store: %s",
                   dir, g_strerror (saved_errno));
      return NULL;
    }

  if (!probe_file (store->path, error))
    return NULL;

  rc = sqlite3_open_v2 (store->path, &store->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, EW_JOB_STORE_ERROR, EW_JOB_STORE_ERROR_OPEN,
                   "Cannot open job store %s: %s", store->path,
                   store->db != NULL ? sqlite3_errmsg (store->db) : sqlite3_errstr (rc));
      return NULL;
    }
  sqlite3_extended_result_codes (store->db, 1);
  /* until the file is known to be a store, closing must not checkpoint a
   * WAL left by another application into its database */
  sqlite3_db_config (store->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
  sqlite3_busy_timeout (store->db, EW_JOB_STORE_BUSY_TIMEOUT_MS);

  /* FULL: a commit is on disk, WAL included, when it returns */
  if (!exec_sql (store, "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL",
                 "setting up the connection", error))
    return NULL;

  {
    g_autoptr(sqlite3_stmt) stmt = prepare (store, "PRAGMA journal_mode = WAL", error);

    if (stmt == NULL)
      return NULL;
    if (sqlite3_step (stmt) != SQLITE_ROW)
      {
        set_sql_error (store, error, "switching to WAL");
        return NULL;
      }
    journal_mode = column_text (stmt, 0);
  }
  if (g_ascii_strcasecmp (journal_mode, "wal") != 0)
    {
      g_set_error (error, EW_JOB_STORE_ERROR, EW_JOB_STORE_ERROR_OPEN,
                   "Job store %s cannot use write-ahead logging (journal mode %s)",
                   store->path, journal_mode);
      return NULL;
    }

  if (!migrate (store, error))
    return NULL;
  sqlite3_db_config (store->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 0, NULL);
  return g_steal_pointer (&store);
}

EwJobStore *
ew_job_store_open (const char  *path,
                   GError     **error)
{
  GError *local_error = NULL;
  EwJobStore *store = open_store (path, &local_error);

  /* a damaged store fails in the set-up as an SQL error; to the caller it
   * is a file that cannot be opened */
  if (local_error != NULL && g_error_matches (local_error, EW_JOB_STORE_ERROR,
                                              EW_JOB_STORE_ERROR_SQL))
    local_error->code = EW_JOB_STORE_ERROR_OPEN;
  if (local_error != NULL)
    g_propagate_error (error, local_error);
  return store;
}

void
ew_job_store_close (EwJobStore *store)
{
  if (store == NULL)
    return;
  if (store->db != NULL)
    sqlite3_close (store->db);
  g_mutex_clear (&store->lock);
  g_free (store->path);
  g_free (store);
}

const char *
ew_job_store_get_path (EwJobStore *store)
{
  g_return_val_if_fail (store != NULL, NULL);
  return store->path;
}

/* ---- jobs ---- */

/* TRUE when job_id names a stored job; FALSE with NOT_FOUND or SQL. */
static gboolean
job_exists (EwJobStore  *store,
            gint64       job_id,
            GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = prepare (store, "SELECT 1 FROM jobs WHERE id = ?", error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, job_id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    return TRUE;
  if (rc == SQLITE_DONE)
    g_set_error (error, EW_JOB_STORE_ERROR, EW_JOB_STORE_ERROR_NOT_FOUND,
                 "Job store %s has no job %" G_GINT64_FORMAT, store->path, job_id);
  else
    set_sql_error (store, error, "looking up a job");
  return FALSE;
}

gint64
ew_job_store_begin_job (EwJobStore  *store,
                        EwJobRecordKind kind,
                        const char  *vin,
                        const char  *family_id,
                        const char  *link_uri,
                        const char  *summary,
                        gint64       restores_job_id,
                        GError     **error)
{
  g_autoptr(GMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *now = NULL;
  gint64 id;

  g_return_val_if_fail (store != NULL, 0);
  g_return_val_if_fail ((guint) kind < G_N_ELEMENTS (kind_names), 0);
  g_return_val_if_fail (link_uri != NULL, 0);
  g_return_val_if_fail (summary != NULL, 0);
  g_return_val_if_fail (restores_job_id >= 0, 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  locker = g_mutex_locker_new (&store->lock);
  if (!begin_write (store, error))
    return 0;
  if (restores_job_id != 0 && !job_exists (store, restores_job_id, error))
    goto fail;

  stmt = prepare (store,
                  "INSERT INTO jobs (kind, state, vin, family_id, link_uri, summary,"
                  " restores_job_id, started) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                  error);
  if (stmt == NULL)
    goto fail;
  now = time_now_text ();
  bind_text (stmt, 1, kind_names[kind]);
  bind_text (stmt, 2, state_names[EW_JOB_STATE_RUNNING]);
  bind_text (stmt, 3, vin);
  bind_text (stmt, 4, family_id);
  bind_text (stmt, 5, link_uri);
  bind_text (stmt, 6, summary);
  bind_id (stmt, 7, restores_job_id);
  bind_text (stmt, 8, now);
  if (!step_done (store, stmt, "recording a new job", error))
    goto fail;
  id = sqlite3_last_insert_rowid (store->db);
  if (!commit (store, error))
    return 0;
  return id;

fail:
  rollback (store);
  return 0;
}

/* Reads the state of job_id; -1 with error when there is none. */
static int
job_state (EwJobStore  *store,
           gint64       job_id,
           GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = prepare (store, "SELECT state FROM jobs WHERE id = ?", error);
  int rc, state;

  if (stmt == NULL)
    return -1;
  sqlite3_bind_int64 (stmt, 1, job_id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    {
      g_set_error (error, EW_JOB_STORE_ERROR, EW_JOB_STORE_ERROR_NOT_FOUND,
                   "Job store %s has no job %" G_GINT64_FORMAT, store->path, job_id);
      return -1;
    }
  if (rc != SQLITE_ROW)
    {
      set_sql_error (store, error, "reading a job's state");
      return -1;
    }
  state = name_index (state_names, G_N_ELEMENTS (state_names),
                      (const char *) sqlite3_column_text (stmt, 0));
  if (state < 0)
    g_set_error (error, EW_JOB_STORE_ERROR, EW_JOB_STORE_ERROR_SQL,
                 "Job store %s: job %" G_GINT64_FORMAT " has an unknown state",
                 store->path, job_id);
  return state;
}

gboolean
ew_job_store_set_job_state (EwJobStore  *store,
                            gint64       job_id,
                            EwJobState   state,
                            GError     **error)
{
  g_autoptr(GMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *now = NULL;
  int old_state;

  g_return_val_if_fail (store != NULL, FALSE);
  g_return_val_if_fail ((guint) state < G_N_ELEMENTS (state_names), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  locker = g_mutex_locker_new (&store->lock);
  if (!begin_write (store, error))
    return FALSE;
  old_state = job_state (store, job_id, error);
  if (old_state < 0)
    goto fail;
  if (state == EW_JOB_STATE_RUNNING)
    {
      rollback (store);
      if (old_state == EW_JOB_STATE_RUNNING)
        return TRUE;
      /* a finished job's outcome is history; a retry is a new job */
      g_set_error (error, EW_JOB_STORE_ERROR, EW_JOB_STORE_ERROR_INVALID,
                   "Job %" G_GINT64_FORMAT " is already finished (%s) and cannot run again",
                   job_id, state_names[old_state]);
      return FALSE;
    }

  stmt = prepare (store, "UPDATE jobs SET state = ?, finished = ? WHERE id = ?", error);
  if (stmt == NULL)
    goto fail;
  now = time_now_text ();
  bind_text (stmt, 1, state_names[state]);
  bind_text (stmt, 2, now);
  sqlite3_bind_int64 (stmt, 3, job_id);
  if (!step_done (store, stmt, "setting a job's state", error))
    goto fail;
  return commit (store, error);

fail:
  rollback (store);
  return FALSE;
}

#define JOB_COLUMNS \
  "id, kind, state, vin, family_id, link_uri, summary, restores_job_id, started, finished"

static EwJobRecord *
job_from_row (sqlite3_stmt *stmt)
{
  EwJobRecord *record = g_new0 (EwJobRecord, 1);
  int kind = name_index (kind_names, G_N_ELEMENTS (kind_names),
                         (const char *) sqlite3_column_text (stmt, 1));
  int state = name_index (state_names, G_N_ELEMENTS (state_names),
                          (const char *) sqlite3_column_text (stmt, 2));

  record->id = sqlite3_column_int64 (stmt, 0);
  /* the schema's CHECKs keep both known; a damaged row reads as failed */
  record->kind = kind >= 0 ? (EwJobRecordKind) kind : EW_JOB_KIND_CODING;
  record->state = state >= 0 ? (EwJobState) state : EW_JOB_STATE_FAILED;
  record->vin = column_text (stmt, 3);
  record->family_id = column_text (stmt, 4);
  record->link_uri = column_text (stmt, 5);
  record->summary = column_text (stmt, 6);
  record->restores_job_id = sqlite3_column_int64 (stmt, 7);
  record->started = time_from_text ((const char *) sqlite3_column_text (stmt, 8));
  if (sqlite3_column_type (stmt, 9) != SQLITE_NULL)
    record->finished = time_from_text ((const char *) sqlite3_column_text (stmt, 9));
  return record;
}

EwJobRecord *
ew_job_store_get_job (EwJobStore  *store,
                      gint64       job_id,
                      GError     **error)
{
  g_autoptr(GMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (store != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  locker = g_mutex_locker_new (&store->lock);
  stmt = prepare (store, "SELECT " JOB_COLUMNS " FROM jobs WHERE id = ?", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, job_id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    return job_from_row (stmt);
  if (rc == SQLITE_DONE)
    g_set_error (error, EW_JOB_STORE_ERROR, EW_JOB_STORE_ERROR_NOT_FOUND,
                 "Job store %s has no job %" G_GINT64_FORMAT, store->path, job_id);
  else
    set_sql_error (store, error, "reading a job");
  return NULL;
}

static GPtrArray *
list_jobs (EwJobStore  *store,
           const char  *sql,
           GError     **error)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&store->lock);
  g_autoptr(sqlite3_stmt) stmt = prepare (store, sql, error);
  g_autoptr(GPtrArray) jobs = g_ptr_array_new_with_free_func ((GDestroyNotify) ew_job_record_free);
  int rc;

  if (stmt == NULL)
    return NULL;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (jobs, job_from_row (stmt));
  if (rc != SQLITE_DONE)
    {
      set_sql_error (store, error, "listing jobs");
      return NULL;
    }
  return g_steal_pointer (&jobs);
}

/* By id: AUTOINCREMENT never reuses or goes back, unlike the wall clock. */
GPtrArray *
ew_job_store_list_jobs (EwJobStore  *store,
                        GError     **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  return list_jobs (store, "SELECT " JOB_COLUMNS " FROM jobs ORDER BY id DESC", error);
}

GPtrArray *
ew_job_store_list_unfinished (EwJobStore  *store,
                              GError     **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  return list_jobs (store,
                    "SELECT " JOB_COLUMNS " FROM jobs WHERE state = 'running' ORDER BY id DESC",
                    error);
}

/* ---- backups ---- */

gboolean
ew_job_store_add_backup (EwJobStore  *store,
                         gint64       job_id,
                         const char  *module_id,
                         guint16      did,
                         GBytes      *before,
                         GBytes      *after,
                         GError     **error)
{
  g_autoptr(GMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) find = NULL;
  g_autoptr(sqlite3_stmt) insert = NULL;
  int state, rc;

  g_return_val_if_fail (store != NULL, FALSE);
  g_return_val_if_fail (module_id != NULL, FALSE);
  g_return_val_if_fail (before != NULL, FALSE);
  g_return_val_if_fail (after != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  locker = g_mutex_locker_new (&store->lock);
  if (!begin_write (store, error))
    return FALSE;
  state = job_state (store, job_id, error);
  if (state < 0)
    goto fail;
  if (state != EW_JOB_STATE_RUNNING)
    {
      g_set_error (error, EW_JOB_STORE_ERROR, EW_JOB_STORE_ERROR_INVALID,
                   "Job %" G_GINT64_FORMAT " is finished (%s): no backup of %s DID 0x%04X"
                   " can be added to it", job_id, state_names[state], module_id, did);
      goto fail;
    }

  find = prepare (store,
                  "SELECT before, after FROM backups WHERE job_id = ? AND module_id = ? AND did = ?",
                  error);
  if (find == NULL)
    goto fail;
  sqlite3_bind_int64 (find, 1, job_id);
  bind_text (find, 2, module_id);
  sqlite3_bind_int (find, 3, did);
  rc = sqlite3_step (find);
  if (rc == SQLITE_ROW)
    {
      g_autoptr(GBytes) old_before = column_bytes (find, 0);
      g_autoptr(GBytes) old_after = column_bytes (find, 1);

      rollback (store);
      if (g_bytes_equal (old_before, before) && g_bytes_equal (old_after, after))
        return TRUE;
      g_set_error (error, EW_JOB_STORE_ERROR, EW_JOB_STORE_ERROR_INVALID,
                   "Job %" G_GINT64_FORMAT " already holds a different backup of %s DID 0x%04X;"
                   " the first one is kept", job_id, module_id, did);
      return FALSE;
    }
  if (rc != SQLITE_DONE)
    {
      set_sql_error (store, error, "looking up a backup");
      goto fail;
    }

  insert = prepare (store,
                    "INSERT INTO backups (job_id, module_id, did, before, after, state)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    error);
  if (insert == NULL)
    goto fail;
  sqlite3_bind_int64 (insert, 1, job_id);
  bind_text (insert, 2, module_id);
  sqlite3_bind_int (insert, 3, did);
  bind_bytes (insert, 4, before);
  bind_bytes (insert, 5, after);
  bind_text (insert, 6, backup_state_names[EW_BACKUP_SAVED]);
  if (!step_done (store, insert, "recording a backup", error))
    goto fail;
  return commit (store, error);

fail:
  rollback (store);
  return FALSE;
}

gboolean
ew_job_store_set_backup_state (EwJobStore     *store,
                               gint64          job_id,
                               const char     *module_id,
                               guint16         did,
                               EwBackupState   state,
                               GError        **error)
{
  g_autoptr(GMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail (store != NULL, FALSE);
  g_return_val_if_fail (module_id != NULL, FALSE);
  g_return_val_if_fail ((guint) state < G_N_ELEMENTS (backup_state_names), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  locker = g_mutex_locker_new (&store->lock);
  if (!begin_write (store, error))
    return FALSE;
  stmt = prepare (store,
                  "UPDATE backups SET state = ? WHERE job_id = ? AND module_id = ? AND did = ?",
                  error);
  if (stmt == NULL)
    goto fail;
  bind_text (stmt, 1, backup_state_names[state]);
  sqlite3_bind_int64 (stmt, 2, job_id);
  bind_text (stmt, 3, module_id);
  sqlite3_bind_int (stmt, 4, did);
  if (!step_done (store, stmt, "setting a backup's state", error))
    goto fail;
  if (sqlite3_changes (store->db) == 0)
    {
      g_set_error (error, EW_JOB_STORE_ERROR, EW_JOB_STORE_ERROR_NOT_FOUND,
                   "Job %" G_GINT64_FORMAT " has no backup of %s DID 0x%04X",
                   job_id, module_id, did);
      goto fail;
    }
  return commit (store, error);

fail:
  rollback (store);
  return FALSE;
}

GPtrArray *
ew_job_store_get_backups (EwJobStore  *store,
                          gint64       job_id,
                          GError     **error)
{
  g_autoptr(GMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GPtrArray) backups = NULL;
  int rc;

  g_return_val_if_fail (store != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  locker = g_mutex_locker_new (&store->lock);
  if (!job_exists (store, job_id, error))
    return NULL;
  stmt = prepare (store,
                  "SELECT module_id, did, before, after, state FROM backups"
                  " WHERE job_id = ? ORDER BY id",
                  error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, job_id);
  backups = g_ptr_array_new_with_free_func ((GDestroyNotify) ew_job_backup_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      EwJobBackup *backup = g_new0 (EwJobBackup, 1);
      int state = name_index (backup_state_names, G_N_ELEMENTS (backup_state_names),
                              (const char *) sqlite3_column_text (stmt, 4));

      backup->job_id = job_id;
      backup->module_id = column_text (stmt, 0);
      backup->did = (guint16) sqlite3_column_int (stmt, 1);
      backup->before = column_bytes (stmt, 2);
      backup->after = column_bytes (stmt, 3);
      /* unknown reads as WRITING: the module may hold either, the safe guess */
      backup->state = state >= 0 ? (EwBackupState) state : EW_BACKUP_WRITING;
      g_ptr_array_add (backups, backup);
    }
  if (rc != SQLITE_DONE)
    {
      set_sql_error (store, error, "reading backups");
      return NULL;
    }
  return g_steal_pointer (&backups);
}

/* ---- journal ---- */

/* Each field as its decimal length in bytes, ':' and the bytes; NULL as a
 * lone '-'. No field can borrow characters from its neighbour, and NULL
 * differs from "". The hash is SHA-256 over, in this order: the label
 * "ecu-workshop-journal-1", seq, job_id (0 for none), time (as stored),
 * step, module_id, outcome, detail and prev_hash (hex, lower case). */
static void
hash_field (GChecksum  *checksum,
            const char *text)
{
  char prefix[32];

  if (text == NULL)
    {
      g_checksum_update (checksum, (const guchar *) "-", 1);
      return;
    }
  g_snprintf (prefix, sizeof prefix, "%" G_GSIZE_FORMAT ":", strlen (text));
  g_checksum_update (checksum, (const guchar *) prefix, -1);
  g_checksum_update (checksum, (const guchar *) text, -1);
}

static void
hash_field_int (GChecksum *checksum,
                gint64     value)
{
  char text[32];

  g_snprintf (text, sizeof text, "%" G_GINT64_FORMAT, value);
  hash_field (checksum, text);
}

static char *
journal_hash (gint64      seq,
              gint64      job_id,
              const char *time,
              const char *step,
              const char *module_id,
              const char *outcome,
              const char *detail,
              const char *prev_hash)
{
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);

  /* names the encoding, so that a future one cannot collide with it */
  hash_field (checksum, "ecu-workshop-journal-1");
  hash_field_int (checksum, seq);
  hash_field_int (checksum, job_id);
  hash_field (checksum, time);
  hash_field (checksum, step);
  hash_field (checksum, module_id);
  hash_field (checksum, outcome);
  hash_field (checksum, detail);
  hash_field (checksum, prev_hash);
  return g_strdup (g_checksum_get_string (checksum));
}

/* The chain head from meta: the last seq and its hash. */
static gboolean
read_head (EwJobStore  *store,
           gint64      *seq,
           char       **hash,
           GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt =
    prepare (store, "SELECT key, value FROM meta WHERE key IN ('chain_seq', 'chain_hash')", error);
  gboolean has_seq = FALSE, has_hash = FALSE;
  int rc;

  if (stmt == NULL)
    return FALSE;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *key = (const char *) sqlite3_column_text (stmt, 0);

      if (g_strcmp0 (key, "chain_seq") == 0)
        {
          *seq = sqlite3_column_int64 (stmt, 1);
          has_seq = TRUE;
        }
      else
        {
          g_free (*hash);
          *hash = column_text (stmt, 1);
          has_hash = TRUE;
        }
    }
  if (rc != SQLITE_DONE)
    {
      set_sql_error (store, error, "reading the journal's head");
      return FALSE;
    }
  if (!has_seq || !has_hash || *hash == NULL)
    {
      g_set_error (error, EW_JOB_STORE_ERROR, EW_JOB_STORE_ERROR_TAMPERED,
                   "Job store %s: the journal's head is missing from the meta table",
                   store->path);
      return FALSE;
    }
  return TRUE;
}

gboolean
ew_job_store_journal (EwJobStore  *store,
                      gint64       job_id,
                      const char  *step,
                      const char  *module_id,
                      const char  *outcome,
                      const char  *detail,
                      GError     **error)
{
  g_autoptr(GMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) insert = NULL;
  g_autoptr(sqlite3_stmt) update = NULL;
  g_autofree char *prev_hash = NULL;
  g_autofree char *hash = NULL;
  g_autofree char *now = NULL;
  gint64 seq = 0;

  g_return_val_if_fail (store != NULL, FALSE);
  g_return_val_if_fail (job_id >= 0, FALSE);
  g_return_val_if_fail (step != NULL, FALSE);
  g_return_val_if_fail (outcome != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  locker = g_mutex_locker_new (&store->lock);
  if (!begin_write (store, error))
    return FALSE;
  if (job_id != 0 && !job_exists (store, job_id, error))
    goto fail;
  if (!read_head (store, &seq, &prev_hash, error))
    goto fail;

  seq++;
  now = time_now_text ();
  hash = journal_hash (seq, job_id, now, step, module_id, outcome, detail, prev_hash);

  insert = prepare (store,
                    "INSERT INTO journal (seq, job_id, time, step, module_id, outcome, detail,"
                    " prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    error);
  if (insert == NULL)
    goto fail;
  sqlite3_bind_int64 (insert, 1, seq);
  bind_id (insert, 2, job_id);
  bind_text (insert, 3, now);
  bind_text (insert, 4, step);
  bind_text (insert, 5, module_id);
  bind_text (insert, 6, outcome);
  bind_text (insert, 7, detail);
  bind_text (insert, 8, prev_hash);
  bind_text (insert, 9, hash);
  if (!step_done (store, insert, "appending to the journal", error))
    goto fail;

  update = prepare (store,
                    "UPDATE meta SET value = CASE key WHEN 'chain_seq' THEN ? ELSE ? END"
                    " WHERE key IN ('chain_seq', 'chain_hash')",
                    error);
  if (update == NULL)
    goto fail;
  sqlite3_bind_int64 (update, 1, seq);
  bind_text (update, 2, hash);
  if (!step_done (store, update, "moving the journal's head", error))
    goto fail;
  return commit (store, error);

fail:
  rollback (store);
  return FALSE;
}

#define JOURNAL_COLUMNS \
  "seq, job_id, time, step, module_id, outcome, detail, prev_hash, hash"

GPtrArray *
ew_job_store_get_journal (EwJobStore  *store,
                          gint64       job_id,
                          GError     **error)
{
  g_autoptr(GMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  int rc;

  g_return_val_if_fail (store != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  locker = g_mutex_locker_new (&store->lock);
  if (job_id != 0)
    {
      if (!job_exists (store, job_id, error))
        return NULL;
      stmt = prepare (store,
                      "SELECT " JOURNAL_COLUMNS " FROM journal WHERE job_id = ? ORDER BY seq",
                      error);
      if (stmt != NULL)
        sqlite3_bind_int64 (stmt, 1, job_id);
    }
  else
    stmt = prepare (store, "SELECT " JOURNAL_COLUMNS " FROM journal ORDER BY seq", error);
  if (stmt == NULL)
    return NULL;

  entries = g_ptr_array_new_with_free_func ((GDestroyNotify) ew_journal_entry_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      EwJournalEntry *entry = g_new0 (EwJournalEntry, 1);

      entry->seq = sqlite3_column_int64 (stmt, 0);
      entry->job_id = sqlite3_column_int64 (stmt, 1);
      entry->time = time_from_text ((const char *) sqlite3_column_text (stmt, 2));
      entry->step = column_text (stmt, 3);
      entry->module_id = column_text (stmt, 4);
      entry->outcome = column_text (stmt, 5);
      entry->detail = column_text (stmt, 6);
      entry->hash = column_text (stmt, 8);
      g_ptr_array_add (entries, entry);
    }
  if (rc != SQLITE_DONE)
    {
      set_sql_error (store, error, "reading the journal");
      return NULL;
    }
  return g_steal_pointer (&entries);
}

static gboolean
tampered (EwJobStore  *store,
          GError     **error,
          gint64       seq,
          const char  *why)
{
  g_set_error (error, EW_JOB_STORE_ERROR, EW_JOB_STORE_ERROR_TAMPERED,
               "Job store %s: journal entry %" G_GINT64_FORMAT " %s",
               store->path, seq, why);
  return FALSE;
}

/* Walks the chain from the genesis hash. Called with the lock held and a
 * read transaction open, so meta and journal are one snapshot. */
static gboolean
verify_chain (EwJobStore  *store,
              guint64     *n_verified,
              GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *head_hash = NULL;
  g_autofree char *prev_hash = g_strdup (GENESIS_HASH);
  gint64 head_seq = 0, expected = 1;
  int rc;

  if (!read_head (store, &head_seq, &head_hash, error))
    return FALSE;
  stmt = prepare (store, "SELECT " JOURNAL_COLUMNS " FROM journal ORDER BY seq", error);
  if (stmt == NULL)
    return FALSE;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 seq = sqlite3_column_int64 (stmt, 0);
      const char *stored_prev = (const char *) sqlite3_column_text (stmt, 7);
      const char *stored_hash = (const char *) sqlite3_column_text (stmt, 8);
      g_autofree char *hash = NULL;

      if (seq > expected)
        return tampered (store, error, expected, "is missing (deleted from the middle)");
      if (seq < expected)
        return tampered (store, error, seq, "is out of sequence (inserted)");
      if (g_strcmp0 (stored_prev, prev_hash) != 0)
        return tampered (store, error, seq,
                         "does not follow the entry before it (inserted, deleted or reordered)");
      hash = journal_hash (seq,
                           sqlite3_column_int64 (stmt, 1),
                           (const char *) sqlite3_column_text (stmt, 2),
                           (const char *) sqlite3_column_text (stmt, 3),
                           (const char *) sqlite3_column_text (stmt, 4),
                           (const char *) sqlite3_column_text (stmt, 5),
                           (const char *) sqlite3_column_text (stmt, 6),
                           stored_prev);
      if (g_strcmp0 (stored_hash, hash) != 0)
        return tampered (store, error, seq, "does not match its hash (edited or forged)");

      g_free (prev_hash);
      prev_hash = g_steal_pointer (&hash);
      *n_verified = (guint64) seq;
      expected++;
    }
  if (rc != SQLITE_DONE)
    {
      set_sql_error (store, error, "reading the journal");
      return FALSE;
    }

  if (head_seq == expected)
    return tampered (store, error, expected, "is missing at the end (deleted)");
  if (head_seq > expected - 1)
    {
      g_set_error (error, EW_JOB_STORE_ERROR, EW_JOB_STORE_ERROR_TAMPERED,
                   "Job store %s: journal entries %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT
                   " are missing at the end (deleted)",
                   store->path, expected, head_seq);
      return FALSE;
    }
  if (head_seq < expected - 1)
    return tampered (store, error, head_seq + 1,
                     "lies beyond the journal's recorded head (appended behind the store's back)");
  if (g_strcmp0 (head_hash, prev_hash) != 0)
    return tampered (store, error, head_seq,
                     "does not match the journal's recorded head");
  return TRUE;
}

gboolean
ew_job_store_verify (EwJobStore  *store,
                     guint64     *n_entries,
                     GError     **error)
{
  g_autoptr(GMutexLocker) locker = NULL;
  guint64 n_verified = 0;
  gboolean ok;

  g_return_val_if_fail (store != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  locker = g_mutex_locker_new (&store->lock);
  if (!exec_sql (store, "BEGIN", "starting a read transaction", error))
    return FALSE;
  ok = verify_chain (store, &n_verified, error);
  rollback (store);
  if (n_entries != NULL)
    *n_entries = n_verified;
  return ok;
}

/* ---- vehicles and scans ---- */

gboolean
ew_job_store_note_vehicle (EwJobStore  *store,
                           const char  *vin,
                           const char  *family_id,
                           const char  *registration,
                           GError     **error)
{
  g_autoptr(GMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *now = NULL;

  g_return_val_if_fail (store != NULL, FALSE);
  g_return_val_if_fail (vin != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  locker = g_mutex_locker_new (&store->lock);
  if (!begin_write (store, error))
    return FALSE;
  stmt = prepare (store,
                  "INSERT INTO vehicles (vin, family_id, registration, first_seen, last_seen)"
                  " VALUES (?1, ?2, ?3, ?4, ?4)"
                  " ON CONFLICT (vin) DO UPDATE SET"
                  "  family_id = coalesce (excluded.family_id, family_id),"
                  "  registration = coalesce (excluded.registration, registration),"
                  "  last_seen = excluded.last_seen",
                  error);
  if (stmt == NULL)
    goto fail;
  now = time_now_text ();
  bind_text (stmt, 1, vin);
  bind_text (stmt, 2, family_id);
  bind_text (stmt, 3, registration);
  bind_text (stmt, 4, now);
  if (!step_done (store, stmt, "recording a vehicle", error))
    goto fail;
  return commit (store, error);

fail:
  rollback (store);
  return FALSE;
}

gboolean
ew_job_store_add_scan (EwJobStore  *store,
                       const char  *vin,
                       const char  *family_id,
                       const char  *json,
                       GError     **error)
{
  g_autoptr(GMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *now = NULL;

  g_return_val_if_fail (store != NULL, FALSE);
  g_return_val_if_fail (json != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  locker = g_mutex_locker_new (&store->lock);
  if (!begin_write (store, error))
    return FALSE;
  stmt = prepare (store,
                  "INSERT INTO scans (vin, family_id, time, json) VALUES (?, ?, ?, ?)",
                  error);
  if (stmt == NULL)
    goto fail;
  now = time_now_text ();
  bind_text (stmt, 1, vin);
  bind_text (stmt, 2, family_id);
  bind_text (stmt, 3, now);
  bind_text (stmt, 4, json);
  if (!step_done (store, stmt, "recording a scan", error))
    goto fail;
  return commit (store, error);

fail:
  rollback (store);
  return FALSE;
}

/* ---- vehicles seen and scans, read back ---- */

void
ew_vehicle_record_free (EwVehicleRecord *record)
{
  if (record == NULL)
    return;
  g_free (record->vin);
  g_free (record->family_id);
  g_free (record->registration);
  g_clear_pointer (&record->first_seen, g_date_time_unref);
  g_clear_pointer (&record->last_seen, g_date_time_unref);
  g_free (record);
}

GPtrArray *
ew_job_store_list_vehicles (EwJobStore  *store,
                            GError     **error)
{
  g_autoptr(GMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GPtrArray) vehicles = NULL;
  int rc;

  g_return_val_if_fail (store != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  locker = g_mutex_locker_new (&store->lock);
  stmt = prepare (store,
                  "SELECT vin, family_id, registration, first_seen, last_seen FROM vehicles"
                  " ORDER BY last_seen DESC, vin",
                  error);
  if (stmt == NULL)
    return NULL;
  vehicles = g_ptr_array_new_with_free_func ((GDestroyNotify) ew_vehicle_record_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      EwVehicleRecord *v = g_new0 (EwVehicleRecord, 1);

      v->vin = column_text (stmt, 0);
      v->family_id = column_text (stmt, 1);
      v->registration = column_text (stmt, 2);
      v->first_seen = time_from_text ((const char *) sqlite3_column_text (stmt, 3));
      v->last_seen = time_from_text ((const char *) sqlite3_column_text (stmt, 4));
      g_ptr_array_add (vehicles, v);
    }
  if (rc != SQLITE_DONE)
    {
      set_sql_error (store, error, "listing vehicles");
      return NULL;
    }
  return g_steal_pointer (&vehicles);
}

char *
ew_job_store_get_latest_scan (EwJobStore  *store,
                              const char  *vin,
                              GError     **error)
{
  g_autoptr(GMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (store != NULL, NULL);
  g_return_val_if_fail (vin != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  locker = g_mutex_locker_new (&store->lock);
  stmt = prepare (store, "SELECT json FROM scans WHERE vin = ?1 ORDER BY id DESC LIMIT 1", error);
  if (stmt == NULL)
    return NULL;
  bind_text (stmt, 1, vin);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    return column_text (stmt, 0);
  if (rc != SQLITE_DONE)
    set_sql_error (store, error, "reading a scan");
  return NULL;
}
