/* catalogue.c — reads the car's coding once, module by module in parallel,
 * and judges every feature of its family against what the car has.
 */
#include "config.h"

#include "catalogue.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "coding/coding-plan.h"
#include "sim/sim-ecu.h"
#include "uds/uds-client.h"

struct _EwFeatureCatalogue {
  EwFamily   *family;
  char       *vin;
  gboolean    is_simulated;
  GPtrArray  *features;      /* EwFeatureStatus */
  GHashTable *did_bytes;     /* "module:did" -> GBytes */
};

/* What one module's worker read. */
typedef struct {
  const EwModule *module;
  gboolean        is_asked;
  gboolean        has_answered;
  gboolean        is_simulated;
  char           *vin;
  char           *option_list;      /* nullable: not declared or not read */
  gboolean        declares_option_list;
  GHashTable     *dids;             /* GUINT_TO_POINTER (did) -> GBytes */
  GHashTable     *did_errors;       /* GUINT_TO_POINTER (did) -> char * */
  char           *error_message;    /* why the module could not be read */
  EwConnection   *connection;
  GCancellable   *cancellable;
} ModuleRead;

static void
module_read_clear (ModuleRead *m)
{
  g_free (m->vin);
  g_free (m->option_list);
  g_clear_pointer (&m->dids, g_hash_table_unref);
  g_clear_pointer (&m->did_errors, g_hash_table_unref);
  g_free (m->error_message);
}

static void
feature_status_free (EwFeatureStatus *status)
{
  g_free (status->reason);
  g_free (status);
}

static char *
did_key (const char *module_id, guint16 did)
{
  return g_strdup_printf ("%s:%04X", module_id, did);
}

/* The coding DIDs of module that some coding or adaptation feature uses,
 * each once, in the module's order. */
static GArray *
feature_dids_of_module (const EwFamily *family, const EwModule *module)
{
  GArray *dids = g_array_new (FALSE, FALSE, sizeof (guint16));

  for (guint i = 0; i < module->coding->len; i++)
    {
      const EwCodingDid *cd = g_ptr_array_index (module->coding, i);

      for (guint j = 0; j < family->features->len; j++)
        {
          const EwFeature *f = g_ptr_array_index (family->features, j);

          if (f->item != NULL && g_strcmp0 (f->module, module->id) == 0 && f->did == cd->did)
            {
              g_array_append_val (dids, cd->did);
              break;
            }
        }
    }
  return dids;
}

static gboolean
bytes_equal_text (GBytes *bytes, const char *text)
{
  gsize n = 0;
  const guint8 *data = g_bytes_get_data (bytes, &n);

  return n == strlen (text) && memcmp (data, text, n) == 0;
}

static char *
bytes_to_ascii (GBytes *bytes)
{
  gsize n = 0;
  const char *data = g_bytes_get_data (bytes, &n);
  char *text = g_strndup (data, n);

  return g_strstrip (text);
}

static gpointer
module_worker (gpointer data)
{
  ModuleRead *m = data;
  const EwModule *module = m->module;
  EwFamily *family = ew_connection_get_family (m->connection);
  g_autoptr(GError) error = NULL;
  g_autoptr(EwChannel) channel = NULL;
  g_autoptr(EwUdsClient) client = NULL;
  g_autoptr(GArray) dids = NULL;

  channel = ew_connection_open_channel (m->connection, module, &error);
  if (channel == NULL)
    {
      m->error_message = g_strdup (error->message);
      return NULL;
    }
  client = ew_uds_client_new (channel, module->id);

  /* Identification first: the simulation marker, the VIN, the option
   * list. Silence on all of them means nobody is there. */
  for (guint i = 0; i < module->identification->len; i++)
    {
      const EwIdentificationDid *id = g_ptr_array_index (module->identification, i);
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(GError) local_error = NULL;

      if (id->role == EW_ID_ROLE_OPTION_LIST)
        m->declares_option_list = TRUE;
      else if (id->role != EW_ID_ROLE_SIMULATION_MARKER && id->role != EW_ID_ROLE_VIN)
        continue;
      bytes = ew_uds_client_read_did (client, id->did, m->cancellable, &local_error);
      if (bytes == NULL)
        {
          if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            {
              m->error_message = g_strdup (local_error->message);
              return NULL;
            }
          if (local_error->domain == EW_UDS_NRC_ERROR)
            m->has_answered = TRUE;
          else if (!m->has_answered)
            {
              /* the first question went unanswered: do not wait on every DID */
              m->error_message = g_strdup (local_error->message);
              return NULL;
            }
          continue;
        }
      m->has_answered = TRUE;
      switch (id->role)
        {
        case EW_ID_ROLE_SIMULATION_MARKER:
          m->is_simulated = bytes_equal_text (bytes, EW_SIM_ECU_MARKER);
          break;
        case EW_ID_ROLE_VIN:
          if (m->vin == NULL)
            m->vin = bytes_to_ascii (bytes);
          break;
        case EW_ID_ROLE_OPTION_LIST:
          if (m->option_list == NULL)
            m->option_list = bytes_to_ascii (bytes);
          break;
        default:
          break;
        }
    }

  dids = feature_dids_of_module (family, module);
  for (guint i = 0; i < dids->len; i++)
    {
      guint16 did = g_array_index (dids, guint16, i);
      const EwCodingDid *cd = ew_module_find_coding_did (module, did);
      EwUdsDidSpec spec = { did, cd->length_bytes };
      g_autoptr(GPtrArray) records = NULL;
      g_autoptr(GError) local_error = NULL;

      records = ew_uds_client_read_dids (client, &spec, 1, m->cancellable, &local_error);
      if (records == NULL)
        {
          if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            {
              m->error_message = g_strdup (local_error->message);
              return NULL;
            }
          if (local_error->domain == EW_UDS_NRC_ERROR)
            m->has_answered = TRUE;
          else if (!m->has_answered)
            {
              m->error_message = g_strdup (local_error->message);
              return NULL;
            }
          g_hash_table_insert (m->did_errors, GUINT_TO_POINTER (did),
                               g_strdup (local_error->message));
          continue;
        }
      m->has_answered = TRUE;
      g_hash_table_insert (m->dids, GUINT_TO_POINTER (did),
                           g_bytes_ref (g_ptr_array_index (records, 0)));
    }
  return NULL;
}

static const EwScanModule *
scan_module (const EwScanResult *scan, const EwModule *module)
{
  for (guint i = 0; scan != NULL && i < scan->modules->len; i++)
    {
      const EwScanModule *sm = g_ptr_array_index (scan->modules, i);

      if (sm->module == module || g_strcmp0 (sm->module->id, module->id) == 0)
        return sm;
    }
  return NULL;
}

static ModuleRead *
find_read (ModuleRead *reads, guint n, const char *module_id)
{
  for (guint i = 0; i < n; i++)
    if (g_strcmp0 (reads[i].module->id, module_id) == 0)
      return &reads[i];
  return NULL;
}

static char *
module_absent_reason (const EwModule *module, const ModuleRead *r)
{
  if (r != NULL && r->error_message != NULL)
    return g_strdup_printf (_("The %s is not fitted: it did not answer (%s)."),
                            module->name, r->error_message);
  return g_strdup_printf (_("The %s is not fitted: it did not answer."), module->name);
}

static void
judge_feature (EwFeatureCatalogue *self,
               const EwFeature    *feature,
               ModuleRead         *reads,
               guint               n_reads,
               GHashTable         *options,
               gboolean            has_option_list)
{
  EwFeatureStatus *st = g_new0 (EwFeatureStatus, 1);
  const EwCodingDid *cd = NULL;
  const EwCodingItem *item = NULL;
  ModuleRead *r;
  GBytes *bytes;

  g_ptr_array_add (self->features, st);
  st->feature = feature;
  st->module = ew_family_find_module (self->family, feature->module);
  st->availability = EW_FEATURE_SWITCHABLE;
  st->needs_acknowledgement =
    ew_coding_feature_provenance (self->family, feature) == EW_PROVENANCE_COMMUNITY;

  /* Hardware first: an absent option or module rules out coding and
   * programming alike. */
  for (guint i = 0; feature->requires != NULL && i < feature->requires->len; i++)
    {
      const EwRequirement *req = g_ptr_array_index (feature->requires, i);

      if (req->kind == EW_REQUIREMENT_OPTION)
        {
          const EwOption *option = ew_family_find_option (self->family, req->id);

          if (!has_option_list)
            st->is_option_unconfirmed = TRUE;
          else if (!g_hash_table_contains (options, req->id) && st->reason == NULL)
            {
              st->availability = EW_FEATURE_NOT_FITTED;
              st->reason = g_strdup_printf (_("Option %s (%s) is not fitted to this car."),
                                            req->id, option != NULL ? option->name : req->id);
            }
        }
      else
        {
          const EwModule *needed = ew_family_find_module (self->family, req->id);
          ModuleRead *nr = find_read (reads, n_reads, req->id);

          if ((needed == NULL || nr == NULL || !nr->has_answered) && st->reason == NULL)
            {
              st->availability = EW_FEATURE_NOT_FITTED;
              st->reason = needed != NULL
                           ? module_absent_reason (needed, nr)
                           : g_strdup_printf (_("The module “%s” is not part of this car."), req->id);
            }
        }
    }
  if (st->availability == EW_FEATURE_NOT_FITTED)
    return;

  if (st->module == NULL)
    {
      st->availability = EW_FEATURE_UNREADABLE;
      st->reason = g_strdup_printf (_("The vehicle data names a module “%s” that this family lacks."),
                                    feature->module);
      return;
    }
  r = find_read (reads, n_reads, st->module->id);
  if (r == NULL || !r->has_answered)
    {
      if (st->module->is_optional)
        {
          st->availability = EW_FEATURE_NOT_FITTED;
          st->reason = module_absent_reason (st->module, r);
        }
      else
        {
          st->availability = EW_FEATURE_UNREADABLE;
          st->reason = g_strdup_printf (_("The %s did not answer%s%s."), st->module->name,
                                        r != NULL && r->error_message != NULL ? ": " : "",
                                        r != NULL && r->error_message != NULL ? r->error_message : "");
        }
      return;
    }

  if (feature->work_class == EW_WORK_CLASS_PROGRAMMING || feature->item == NULL)
    {
      st->availability = EW_FEATURE_NEEDS_PROGRAMMING;
      st->reason = g_strdup (feature->reason != NULL
                             ? feature->reason
                             : _("Needs new software in the module, not coding."));
      return;
    }

  cd = ew_module_find_coding_did (st->module, feature->did);
  item = cd != NULL ? ew_coding_did_find_item (cd, feature->item) : NULL;
  if (item == NULL)
    {
      st->availability = EW_FEATURE_UNREADABLE;
      st->reason = g_strdup_printf (_("The vehicle data has no item “%s” in DID 0x%04X of the %s."),
                                    feature->item, feature->did, st->module->name);
      return;
    }
  bytes = g_hash_table_lookup (r->dids, GUINT_TO_POINTER (feature->did));
  if (bytes == NULL)
    {
      const char *why = g_hash_table_lookup (r->did_errors, GUINT_TO_POINTER (feature->did));

      st->availability = EW_FEATURE_UNREADABLE;
      st->reason = g_strdup_printf (_("The %s did not give its coding DID 0x%04X%s%s."),
                                    st->module->name, feature->did,
                                    why != NULL ? ": " : "", why != NULL ? why : "");
      return;
    }
  {
    gsize n = 0;
    const guint8 *data = g_bytes_get_data (bytes, &n);

    st->raw = ew_coding_item_read (item, data, n);
  }
  for (guint i = 0; i < feature->states->len; i++)
    {
      const EwFeatureState *state = g_ptr_array_index (feature->states, i);
      const EwCodingValue *value = ew_coding_item_find_value (item, state->value);

      if (value != NULL && value->raw == st->raw)
        {
          st->state = state;
          break;
        }
    }
}

EwFeatureCatalogue *
ew_feature_catalogue_read (EwConnection        *connection,
                           const EwScanResult  *scan,
                           GCancellable        *cancellable,
                           GError             **error)
{
  g_autoptr(EwFeatureCatalogue) self = NULL;
  EwFamily *family;
  ModuleRead *reads;
  guint n;
  g_autoptr(GPtrArray) threads = g_ptr_array_new ();
  g_autoptr(GHashTable) options = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) vin_votes = g_hash_table_new (g_str_hash, g_str_equal);
  gboolean has_option_list = FALSE;
  gboolean any_answer = FALSE;
  guint best_votes = 0;

  g_return_val_if_fail (EW_IS_CONNECTION (connection), NULL);

  family = ew_connection_get_family (connection);
  if (family == NULL)
    {
      g_set_error (error, EW_CONNECTION_ERROR, EW_CONNECTION_ERROR_UNKNOWN_FAMILY,
                   _("The car's family is not known on link “%s”: its features cannot be read"),
                   ew_connection_get_uri (connection));
      return NULL;
    }

  self = g_new0 (EwFeatureCatalogue, 1);
  self->family = ew_family_ref (family);
  self->features = g_ptr_array_new_with_free_func ((GDestroyNotify) feature_status_free);
  self->did_bytes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                           (GDestroyNotify) g_bytes_unref);

  n = family->modules->len;
  reads = g_new0 (ModuleRead, n);
  for (guint i = 0; i < n; i++)
    {
      ModuleRead *m = &reads[i];
      const EwScanModule *sm;

      m->module = g_ptr_array_index (family->modules, i);
      m->dids = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) g_bytes_unref);
      m->did_errors = g_hash_table_new_full (NULL, NULL, NULL, g_free);
      m->connection = connection;
      m->cancellable = cancellable;
      sm = scan_module (scan, m->module);
      /* a scan already told who is there: the silent ones are not asked
       * again, nor a module in its bootloader, which holds no coding */
      if (scan != NULL && (sm == NULL || sm->state != EW_SCAN_MODULE_ANSWERED))
        {
          m->error_message = g_strdup (sm != NULL && sm->error_message != NULL
                                       ? sm->error_message
                                       : ew_scan_module_state_to_string (sm != NULL ? sm->state
                                                                         : EW_SCAN_MODULE_SILENT));
          continue;
        }
      m->is_asked = TRUE;
      g_ptr_array_add (threads, g_thread_new ("coding-read", module_worker, m));
    }
  for (guint i = 0; i < threads->len; i++)
    g_thread_join (g_ptr_array_index (threads, i));

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    {
      for (guint i = 0; i < n; i++)
        module_read_clear (&reads[i]);
      g_free (reads);
      return NULL;
    }

  self->is_simulated = TRUE;
  for (guint i = 0; i < n; i++)
    {
      ModuleRead *m = &reads[i];
      GHashTableIter iter;
      gpointer key, value;

      if (m->declares_option_list)
        has_option_list = has_option_list || m->option_list != NULL;
      if (!m->has_answered)
        continue;
      any_answer = TRUE;
      self->is_simulated = self->is_simulated && m->is_simulated;
      if (m->option_list != NULL)
        {
          g_auto(GStrv) codes = g_strsplit (m->option_list, ",", -1);

          for (guint j = 0; codes[j] != NULL; j++)
            if (*g_strstrip (codes[j]) != '\0')
              g_hash_table_add (options, g_strdup (codes[j]));
        }
      if (m->vin != NULL && *m->vin != '\0')
        {
          guint votes = GPOINTER_TO_UINT (g_hash_table_lookup (vin_votes, m->vin)) + 1;

          g_hash_table_insert (vin_votes, m->vin, GUINT_TO_POINTER (votes));
          if (votes > best_votes)
            {
              best_votes = votes;
              g_free (self->vin);
              self->vin = g_strdup (m->vin);
            }
        }
      g_hash_table_iter_init (&iter, m->dids);
      while (g_hash_table_iter_next (&iter, &key, &value))
        g_hash_table_insert (self->did_bytes,
                             did_key (m->module->id, (guint16) GPOINTER_TO_UINT (key)),
                             g_bytes_ref (value));
    }
  self->is_simulated = self->is_simulated && any_answer;
  /* The scan's VIN is the car's (the majority of modules, the gateway);
   * prefer it when there is one. */
  if (scan != NULL && scan->vin != NULL)
    {
      g_free (self->vin);
      self->vin = g_strdup (scan->vin);
    }
  else if (self->vin == NULL && ew_connection_get_announced_vin (connection) != NULL)
    self->vin = g_strdup (ew_connection_get_announced_vin (connection));

  for (guint i = 0; i < family->features->len; i++)
    judge_feature (self, g_ptr_array_index (family->features, i), reads, n,
                   options, has_option_list);

  for (guint i = 0; i < n; i++)
    module_read_clear (&reads[i]);
  g_free (reads);
  return g_steal_pointer (&self);
}

void
ew_feature_catalogue_free (EwFeatureCatalogue *catalogue)
{
  if (catalogue == NULL)
    return;
  g_clear_pointer (&catalogue->family, ew_family_unref);
  g_free (catalogue->vin);
  g_clear_pointer (&catalogue->features, g_ptr_array_unref);
  g_clear_pointer (&catalogue->did_bytes, g_hash_table_unref);
  g_free (catalogue);
}

EwFamily *
ew_feature_catalogue_get_family (EwFeatureCatalogue *catalogue)
{
  return catalogue->family;
}

const char *
ew_feature_catalogue_get_vin (EwFeatureCatalogue *catalogue)
{
  return catalogue->vin;
}

gboolean
ew_feature_catalogue_is_simulated (EwFeatureCatalogue *catalogue)
{
  return catalogue->is_simulated;
}

GPtrArray *
ew_feature_catalogue_get_features (EwFeatureCatalogue *catalogue)
{
  return catalogue->features;
}

const EwFeatureStatus *
ew_feature_catalogue_find (EwFeatureCatalogue *catalogue,
                           const char         *feature_id)
{
  for (guint i = 0; i < catalogue->features->len; i++)
    {
      const EwFeatureStatus *st = g_ptr_array_index (catalogue->features, i);

      if (g_strcmp0 (st->feature->id, feature_id) == 0)
        return st;
    }
  return NULL;
}

GBytes *
ew_feature_catalogue_get_did_bytes (EwFeatureCatalogue *catalogue,
                                    const char         *module_id,
                                    guint16             did)
{
  g_autofree char *key = did_key (module_id, did);

  return g_hash_table_lookup (catalogue->did_bytes, key);
}

EwProvenance
ew_coding_feature_provenance (EwFamily        *family,
                              const EwFeature *feature)
{
  EwProvenance p = feature->provenance.provenance;
  const EwModule *module = ew_family_find_module (family, feature->module);
  const EwCodingDid *did = module != NULL ? ew_module_find_coding_did (module, feature->did) : NULL;
  const EwCodingItem *item = did != NULL && feature->item != NULL
                             ? ew_coding_did_find_item (did, feature->item) : NULL;

  /* the data is only as good as its weakest part; the module's own
   * provenance covers its addresses and flash layout, not this value */
  if (item != NULL && item->provenance.provenance < p)
    p = item->provenance.provenance;
  return p;
}

/* Coding fields are little-endian across bytes: mask bit 8 lies in
 * byte + 1 (the loader checks that the mask fits the DID). */
guint64
ew_coding_item_read (const EwCodingItem *item,
                     const guint8       *did_bytes,
                     gsize               length_bytes)
{
  guint64 word = 0;

  for (guint i = 0; i < 4 && item->byte + i < length_bytes; i++)
    word |= (guint64) did_bytes[item->byte + i] << (8 * i);
  return (word & item->mask) >> item->bit;
}

void
ew_coding_item_write (const EwCodingItem *item,
                      guint8             *did_bytes,
                      gsize               length_bytes,
                      guint64             raw)
{
  guint64 word = 0;

  for (guint i = 0; i < 4 && item->byte + i < length_bytes; i++)
    word |= (guint64) did_bytes[item->byte + i] << (8 * i);
  word = (word & ~(guint64) item->mask) | ((raw << item->bit) & item->mask);
  for (guint i = 0; i < 4 && item->byte + i < length_bytes; i++)
    did_bytes[item->byte + i] = (guint8) (word >> (8 * i));
}
