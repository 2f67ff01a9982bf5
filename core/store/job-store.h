/* job-store.h — the garage's job store: one SQLite database (WAL) in the
 * user's data folder holding jobs, the vehicles seen, scan snapshots,
 * coding backups and a journal of every step.
 *
 * Durability: every call that records something has committed it to disk
 * (synchronous=FULL) when it returns, so a backup recorded before the
 * first write to a module survives a crash or a kill at any later moment.
 *
 * The journal is hash-chained: each entry's hash covers its own fields and
 * the previous entry's hash (SHA-256), and the store keeps the chain's
 * head, so an edited, inserted or deleted row is found by
 * ew_job_store_verify().
 *
 * One store may be used from several threads; calls are serialised.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define EW_JOB_STORE_ERROR (ew_job_store_error_quark ())

typedef enum {
  EW_JOB_STORE_ERROR_OPEN,         /* the file cannot be opened or is not a job store */
  EW_JOB_STORE_ERROR_SQL,          /* SQLite failed; the message has its words */
  EW_JOB_STORE_ERROR_NOT_FOUND,    /* no such job (or backup of it) */
  EW_JOB_STORE_ERROR_TAMPERED,     /* the journal chain does not verify */
  EW_JOB_STORE_ERROR_INVALID,      /* the call does not fit what is stored: a
                                    * finished job set back to RUNNING, a
                                    * second, different backup of one DID in
                                    * one job, a backup for a finished job */
} EwJobStoreError;

GQuark ew_job_store_error_quark (void);

/* What a stored job did. (EwJobKind in vehicle/family.h names the kinds
 * of job templates; the two headers are included together.) */
typedef enum {
  EW_JOB_KIND_CODING,
  EW_JOB_KIND_RESTORE,
  EW_JOB_KIND_PROGRAMMING,
} EwJobRecordKind;

typedef enum {
  EW_JOB_STATE_RUNNING,            /* started, not finished: after a crash, unfinished */
  EW_JOB_STATE_DONE,               /* every change written and verified */
  EW_JOB_STATE_ROLLED_BACK,        /* failed; every module restored and verified */
  EW_JOB_STATE_FAILED,             /* failed, and a restore did not verify: attention */
  EW_JOB_STATE_RESTORED,           /* undone later by a restore job */
} EwJobState;

/* Where one backed-up DID stands. */
typedef enum {
  EW_BACKUP_SAVED,                 /* old bytes on disk, nothing written yet */
  EW_BACKUP_WRITING,               /* a write was sent: the module may hold either */
  EW_BACKUP_VERIFIED,              /* the new bytes were read back */
  EW_BACKUP_RESTORED,              /* the old bytes were written back and read back */
} EwBackupState;

typedef struct {
  gint64      id;
  EwJobRecordKind kind;
  EwJobState  state;
  char       *vin;                 /* nullable */
  char       *family_id;           /* nullable */
  char       *link_uri;
  char       *summary;             /* one line: "Enable cornering lights, …" */
  gint64      restores_job_id;     /* EW_JOB_KIND_RESTORE: the job undone, else 0 */
  GDateTime  *started;
  GDateTime  *finished;            /* nullable */
} EwJobRecord;

typedef struct {
  gint64         job_id;
  char          *module_id;
  guint16        did;
  GBytes        *before;           /* what the module held */
  GBytes        *after;            /* what the job writes */
  EwBackupState  state;
} EwJobBackup;

typedef struct {
  gint64      seq;                 /* 1, 2, … over the whole store */
  gint64      job_id;              /* 0 for entries of no job */
  GDateTime  *time;
  char       *step;                /* "backup", "write", "verify", "rollback", "acknowledge" … */
  char       *module_id;           /* nullable */
  char       *outcome;             /* "ok", "failed", "skipped" … */
  char       *detail;              /* nullable, for people */
  char       *hash;                /* hex SHA-256 */
} EwJournalEntry;

void ew_job_record_free    (EwJobRecord    *record);
void ew_job_backup_free    (EwJobBackup    *backup);
void ew_journal_entry_free (EwJournalEntry *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EwJobRecord, ew_job_record_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EwJobBackup, ew_job_backup_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EwJournalEntry, ew_journal_entry_free)

/* Stable lower-case ids, as stored in the file: "coding", "rolled-back",
 * "writing" … (not for display). */
const char *ew_job_record_kind_to_string (EwJobRecordKind kind);
const char *ew_job_state_to_string    (EwJobState    state);
const char *ew_backup_state_to_string (EwBackupState state);

typedef struct _EwJobStore EwJobStore;

/* Opens or creates the store at path; NULL: the default,
 * $XDG_DATA_HOME/ecu-workshop/jobs.sqlite (ECU_WORKSHOP_JOB_STORE overrides).
 * Missing folders are created. A file that is not a job store (or one of a
 * newer schema) is refused with EW_JOB_STORE_ERROR_OPEN and left untouched;
 * an older store is migrated. */
EwJobStore *ew_job_store_open          (const char    *path,
                                        GError       **error);
void        ew_job_store_close         (EwJobStore    *store);
const char *ew_job_store_get_path      (EwJobStore    *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EwJobStore, ew_job_store_close)

/* The path ew_job_store_open (NULL) uses. transfer full */
char       *ew_job_store_default_path  (void);

/* A new job in state RUNNING; returns its id, or 0 with error set.
 * restores_job_id, when not 0, must name a stored job. */
gint64      ew_job_store_begin_job     (EwJobStore    *store,
                                        EwJobRecordKind kind,
                                        const char    *vin,
                                        const char    *family_id,
                                        const char    *link_uri,
                                        const char    *summary,
                                        gint64         restores_job_id,
                                        GError       **error);
/* Ends a job (any state but RUNNING sets its finish time). A finished job
 * may move to another finished state (DONE → RESTORED) but never back to
 * RUNNING: EW_JOB_STORE_ERROR_INVALID. */
gboolean    ew_job_store_set_job_state (EwJobStore    *store,
                                        gint64         job_id,
                                        EwJobState     state,
                                        GError       **error);
/* transfer full; NULL with EW_JOB_STORE_ERROR_NOT_FOUND */
EwJobRecord *ew_job_store_get_job      (EwJobStore    *store,
                                        gint64         job_id,
                                        GError       **error);
/* Newest (most recently begun) first. transfer full, element-type EwJobRecord */
GPtrArray  *ew_job_store_list_jobs     (EwJobStore    *store,
                                        GError       **error);
/* Jobs still RUNNING: a crash or kill interrupted them. transfer full */
GPtrArray  *ew_job_store_list_unfinished (EwJobStore  *store,
                                          GError     **error);

/* Records the bytes a DID holds before the job writes after into it; on
 * disk when this returns. The job must be RUNNING. One backup per job,
 * module and DID: adding the same bytes again is a no-op, different bytes
 * are refused (EW_JOB_STORE_ERROR_INVALID) so that the module's original
 * contents are never overwritten. New backups are SAVED. */
gboolean    ew_job_store_add_backup    (EwJobStore    *store,
                                        gint64         job_id,
                                        const char    *module_id,
                                        guint16        did,
                                        GBytes        *before,
                                        GBytes        *after,
                                        GError       **error);
/* EW_JOB_STORE_ERROR_NOT_FOUND when there is no such backup. Allowed on
 * finished jobs too (a later restore marks their backups RESTORED). */
gboolean    ew_job_store_set_backup_state (EwJobStore    *store,
                                           gint64         job_id,
                                           const char    *module_id,
                                           guint16        did,
                                           EwBackupState  state,
                                           GError       **error);
/* In the order they were added. transfer full, element-type EwJobBackup */
GPtrArray  *ew_job_store_get_backups   (EwJobStore    *store,
                                        gint64         job_id,
                                        GError       **error);

/* Appends a journal entry (job_id 0: none); on disk when this returns. */
gboolean    ew_job_store_journal       (EwJobStore    *store,
                                        gint64         job_id,
                                        const char    *step,
                                        const char    *module_id,
                                        const char    *outcome,
                                        const char    *detail,
                                        GError       **error);
/* job_id 0: the whole journal. In seq order; NOT_FOUND for an unknown
 * job. transfer full, element-type EwJournalEntry */
GPtrArray  *ew_job_store_get_journal   (EwJobStore    *store,
                                        gint64         job_id,
                                        GError       **error);
/* Recomputes the chain; EW_JOB_STORE_ERROR_TAMPERED names the first entry
 * (by seq) that does not verify, or says the newest entries are missing.
 * n_entries (nullable) receives how many entries verified, from the first.
 * The chain has no secret: it finds edits made behind the store's back,
 * not a forger who recomputes every hash and the head as well. */
gboolean    ew_job_store_verify        (EwJobStore    *store,
                                        guint64       *n_entries,
                                        GError       **error);

/* A vehicle seen in the bay; registration may be NULL. Seeing it again
 * updates its last-seen time, and family and registration where given. */
gboolean    ew_job_store_note_vehicle  (EwJobStore    *store,
                                        const char    *vin,
                                        const char    *family_id,
                                        const char    *registration,
                                        GError       **error);
/* A scan snapshot as JSON text (what `ecuw scan --json` prints), stored as
 * given; vin and family_id may be NULL. */
gboolean    ew_job_store_add_scan      (EwJobStore    *store,
                                        const char    *vin,
                                        const char    *family_id,
                                        const char    *json,
                                        GError       **error);

typedef struct {
  char      *vin;
  char      *family_id;             /* nullable */
  char      *registration;          /* nullable */
  GDateTime *first_seen;
  GDateTime *last_seen;
} EwVehicleRecord;

void ew_vehicle_record_free (EwVehicleRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EwVehicleRecord, ew_vehicle_record_free)

/* The vehicles seen, last seen first. transfer full, element-type EwVehicleRecord */
GPtrArray  *ew_job_store_list_vehicles (EwJobStore    *store,
                                        GError       **error);
/* The newest scan snapshot of vin as JSON text, or NULL (error unset) when
 * there is none. transfer full */
char       *ew_job_store_get_latest_scan (EwJobStore  *store,
                                          const char  *vin,
                                          GError     **error);

G_END_DECLS
