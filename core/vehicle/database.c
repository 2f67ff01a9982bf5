/* database.c — every vehicle family the app knows, loaded from folders.
 *
 * Files of one folder are parsed and validated in parallel (the schema is
 * shared, each file gets its own parser and validation context) and then
 * taken in name order, so the result never depends on thread timing.
 */
#include <string.h>

#include "data-dir.h"
#include "database.h"
#include "family-private.h"
#include "vehicle-error.h"

/* Parsing is memory-bound; beyond a few threads they only contend. */
#define MAX_LOAD_THREADS 8

struct _EwVehicleDatabase {
  char           *schema_path;   /* nullable: the installed schema */
  EwFamilyLoader *loader;        /* created on first use */
  gboolean        loader_failed;
  GHashTable     *by_id;         /* char* id → EwFamily*, owns a ref */
  GPtrArray      *families;      /* EwFamily*, sorted by id, owns refs */
  GPtrArray      *errors;        /* GError* */
};

typedef struct {
  char     *path;
  EwFamily *family;
  GError   *error;
} LoadJob;

typedef struct {
  EwFamilyLoader *loader;
  LoadJob        *jobs;
  guint           n_jobs;
  gint            next;          /* atomic: the next job to take */
} LoadBatch;

EwVehicleDatabase *
ew_vehicle_database_new (const char *schema_path)
{
  EwVehicleDatabase *db = g_new0 (EwVehicleDatabase, 1);

  db->schema_path = g_strdup (schema_path);
  db->by_id = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                     (GDestroyNotify) ew_family_unref);
  db->families = g_ptr_array_new_with_free_func ((GDestroyNotify) ew_family_unref);
  db->errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  return db;
}

void
ew_vehicle_database_free (EwVehicleDatabase *db)
{
  if (db == NULL)
    return;
  g_clear_pointer (&db->families, g_ptr_array_unref);
  g_clear_pointer (&db->by_id, g_hash_table_unref);
  g_clear_pointer (&db->errors, g_ptr_array_unref);
  g_clear_pointer (&db->loader, ew_family_loader_free);
  g_free (db->schema_path);
  g_free (db);
}

static gboolean
ensure_loader (EwVehicleDatabase *db)
{
  GError *error = NULL;

  if (db->loader != NULL)
    return TRUE;
  if (db->loader_failed)
    return FALSE;

  db->loader = ew_family_loader_new (db->schema_path, &error);
  if (db->loader == NULL)
    {
      /* Reported once: every file would fail the same way. */
      db->loader_failed = TRUE;
      g_ptr_array_add (db->errors, error);
      return FALSE;
    }
  return TRUE;
}

static gpointer
load_worker (gpointer data)
{
  LoadBatch *batch = data;

  for (;;)
    {
      guint i = (guint) g_atomic_int_add (&batch->next, 1);
      LoadJob *job;

      if (i >= batch->n_jobs)
        break;
      job = &batch->jobs[i];
      job->family = ew_family_loader_load_file (batch->loader, job->path, &job->error);
    }
  return NULL;
}

static void
load_in_parallel (LoadBatch *batch)
{
  g_autoptr(GPtrArray) threads = g_ptr_array_new ();
  guint n_threads = MIN (MIN ((guint) g_get_num_processors (), MAX_LOAD_THREADS), batch->n_jobs);

  for (guint i = 1; i < n_threads; i++)
    {
      GThread *thread = g_thread_try_new ("ew-family-load", load_worker, batch, NULL);

      /* Without threads the calling thread simply does all the work. */
      if (thread == NULL)
        break;
      g_ptr_array_add (threads, thread);
    }
  load_worker (batch);
  for (guint i = 0; i < threads->len; i++)
    g_thread_join (g_ptr_array_index (threads, i));
}

static gint
compare_family_id (gconstpointer a, gconstpointer b)
{
  const EwFamily *fa = *(EwFamily * const *) a;
  const EwFamily *fb = *(EwFamily * const *) b;

  return strcmp (fa->id, fb->id);
}

/* The array object stays the same, so a caller's pointer to it stays valid. */
static void
rebuild_sorted (EwVehicleDatabase *db)
{
  GHashTableIter iter;
  gpointer value;

  g_ptr_array_set_size (db->families, 0);
  g_hash_table_iter_init (&iter, db->by_id);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (db->families, ew_family_ref (value));
  g_ptr_array_sort (db->families, compare_family_id);
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

static void
add_error (EwVehicleDatabase *db, EwVehicleError code, const char *format, ...) G_GNUC_PRINTF (3, 4);

static void
add_error (EwVehicleDatabase *db, EwVehicleError code, const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_ptr_array_add (db->errors, g_error_new_literal (EW_VEHICLE_ERROR, code, message));
}

guint
ew_vehicle_database_add_dir (EwVehicleDatabase *db, const char *dir)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) gdir = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) loaded_here = NULL;
  g_autofree LoadJob *jobs = NULL;
  LoadBatch batch = { 0 };
  const char *name;
  guint n_loaded = 0;

  g_return_val_if_fail (db != NULL, 0);
  g_return_val_if_fail (dir != NULL, 0);

  gdir = g_dir_open (dir, 0, &error);
  if (gdir == NULL)
    {
      if (!g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        add_error (db, EW_VEHICLE_ERROR_IO, "%s: %s", dir, error->message);
      return 0;
    }

  while ((name = g_dir_read_name (gdir)) != NULL)
    {
      /* Hidden files are editors' lock and backup files. */
      if (name[0] != '.' && g_str_has_suffix (name, ".xml"))
        g_ptr_array_add (names, g_strdup (name));
    }
  if (names->len == 0)
    return 0;
  g_ptr_array_sort (names, compare_names);

  if (!ensure_loader (db))
    return 0;

  jobs = g_new0 (LoadJob, names->len);
  for (guint i = 0; i < names->len; i++)
    jobs[i].path = g_build_filename (dir, g_ptr_array_index (names, i), NULL);
  batch.loader = db->loader;
  batch.jobs = jobs;
  batch.n_jobs = names->len;
  load_in_parallel (&batch);

  loaded_here = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < names->len; i++)
    {
      LoadJob *job = &jobs[i];

      if (job->family == NULL)
        {
          /* Loader messages begin with the file's path already. */
          g_ptr_array_add (db->errors, g_steal_pointer (&job->error));
        }
      else if (g_hash_table_contains (loaded_here, job->family->id))
        {
          const EwFamily *first = g_hash_table_lookup (loaded_here, job->family->id);

          add_error (db, EW_VEHICLE_ERROR_INVALID,
                     "%s: family '%s' is already defined by %s in the same folder; "
                     "this file is ignored", job->path, job->family->id, first->path);
          ew_family_unref (job->family);
        }
      else
        {
          g_hash_table_insert (loaded_here, job->family->id, job->family);
          /* Later folders override earlier ones. */
          g_hash_table_replace (db->by_id, job->family->id, job->family);
          n_loaded++;
        }
      g_free (job->path);
    }

  rebuild_sorted (db);
  return n_loaded;
}

void
ew_vehicle_database_add_default_dirs (EwVehicleDatabase *db, const char *extra_dir)
{
  g_autofree char *installed = ew_data_path ("vehicles");
  g_autofree char *user = ew_user_vehicles_dir ();

  g_return_if_fail (db != NULL);

  ew_vehicle_database_add_dir (db, installed);
  ew_vehicle_database_add_dir (db, user);
  if (extra_dir != NULL)
    ew_vehicle_database_add_dir (db, extra_dir);
}

GPtrArray *
ew_vehicle_database_get_families (EwVehicleDatabase *db)
{
  g_return_val_if_fail (db != NULL, NULL);

  return db->families;
}

EwFamily *
ew_vehicle_database_find_family (EwVehicleDatabase *db, const char *family_id)
{
  g_return_val_if_fail (db != NULL, NULL);

  if (family_id == NULL)
    return NULL;
  return g_hash_table_lookup (db->by_id, family_id);
}

GPtrArray *
ew_vehicle_database_get_errors (EwVehicleDatabase *db)
{
  g_return_val_if_fail (db != NULL, NULL);

  return db->errors;
}
