/* test-coding.c — the coding engine against the simulated car: the live
 * catalogue, plans, and transactions that end every DID exactly old or
 * exactly new whatever fails, with the job store's backups and journal.
 */
#include <glib/gstdio.h>
#include <string.h>

#include "coding/coding-transaction.h"
#include "sim/sim-vehicle.h"
#include "uds/uds.h"
#include "vehicle/database.h"
#include "test-car.h"
#include "test-util.h"

static EwVehicleDatabase *db;
static char *tmp_dir;

static const char *const shipped_families[] = { "bmw-f30", "mercedes-w205", "vw-golf-mk7", NULL };

/* ---- the simulated car, the store, the invariant ---- */

typedef struct {
  guint16  did;
  GBytes  *bytes;
} SimRead;

static void
sim_read_cb (EwSimEcu *ecu, gpointer user_data)
{
  SimRead *r = user_data;

  r->bytes = ew_sim_ecu_read_did (ecu, r->did);
}

/* What the simulated module itself holds. transfer full */
static GBytes *
sim_did (EwConnection *connection, const char *module_id, guint16 did)
{
  SimRead r = { did, NULL };

  ew_sim_vehicle_with_ecu (ew_connection_get_sim_vehicle (connection), module_id, sim_read_cb, &r);
  return r.bytes;
}

typedef struct {
  const char *module_id;
  const char *key;
  const char *value;
} SimSet;

static void
sim_set_cb (EwSimEcu *ecu, gpointer user_data)
{
  SimSet *s = user_data;
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autofree char *group = g_strconcat ("module:", s->module_id, NULL);
  g_autoptr(GError) error = NULL;

  g_key_file_set_string (kf, group, s->key, s->value);
  ew_sim_ecu_load_state (ecu, kf, &error);
  g_assert_no_error (error);
}

/* Changes the simulated module behind the engine's back. */
static void
sim_set (EwConnection *connection, const char *module_id, const char *key, const char *value)
{
  SimSet s = { module_id, key, value };

  ew_sim_vehicle_with_ecu (ew_connection_get_sim_vehicle (connection), module_id, sim_set_cb, &s);
}

static char *
to_hex (GBytes *bytes)
{
  gsize n = 0;
  const guint8 *d = g_bytes_get_data (bytes, &n);
  GString *s = g_string_new (NULL);

  for (gsize i = 0; i < n; i++)
    g_string_append_printf (s, "%02X", d[i]);
  return g_string_free (s, FALSE);
}

static void
assert_bytes_equal (GBytes *a, GBytes *b)
{
  g_autofree char *ha = to_hex (a);
  g_autofree char *hb = to_hex (b);

  g_assert_cmpstr (ha, ==, hb);
}

/* Every coding DID of every present module. "module:did" -> GBytes */
static GHashTable *
snapshot (EwConnection *connection)
{
  EwFamily *family = ew_connection_get_family (connection);
  GHashTable *snap = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                            (GDestroyNotify) g_bytes_unref);

  for (guint i = 0; i < family->modules->len; i++)
    {
      const EwModule *m = g_ptr_array_index (family->modules, i);

      for (guint j = 0; j < m->coding->len; j++)
        {
          const EwCodingDid *cd = g_ptr_array_index (m->coding, j);
          GBytes *b = sim_did (connection, m->id, cd->did);

          if (b != NULL)
            g_hash_table_insert (snap, g_strdup_printf ("%s:%04X", m->id, cd->did), b);
        }
    }
  return snap;
}

static const EwFeatureState *
other_state (const EwFeatureStatus *st)
{
  for (guint i = 0; i < st->feature->states->len; i++)
    {
      const EwFeatureState *s = g_ptr_array_index (st->feature->states, i);

      if (s != st->state)
        return s;
    }
  return NULL;
}

static EwCodingPlan *
plan_ok (EwFeatureCatalogue *catalogue, const EwFeatureRequest *requests, guint n)
{
  g_autoptr(GError) error = NULL;
  EwCodingPlan *plan = ew_coding_plan_new (catalogue, requests, n, &error);

  g_assert_no_error (error);
  g_assert_nonnull (plan);
  return plan;
}

static gboolean
journal_has (EwJobStore *store, gint64 job_id, const char *step, const char *outcome,
             const char *detail_part)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) entries = ew_job_store_get_journal (store, job_id, &error);

  g_assert_no_error (error);
  for (guint i = 0; i < entries->len; i++)
    {
      const EwJournalEntry *e = g_ptr_array_index (entries, i);

      if (g_strcmp0 (e->step, step) == 0 &&
          (outcome == NULL || g_strcmp0 (e->outcome, outcome) == 0) &&
          (detail_part == NULL || (e->detail != NULL && strstr (e->detail, detail_part) != NULL)))
        return TRUE;
    }
  return FALSE;
}

static EwJobState
job_state (EwJobStore *store, gint64 job_id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EwJobRecord) record = ew_job_store_get_job (store, job_id, &error);

  g_assert_no_error (error);
  return record->state;
}

/* The invariant: every coding DID of every module is exactly as before
 * or, for the DIDs the plan changes, exactly as planned; the job's state
 * says which, and so do its backups. Returns how many DIDs hold new bytes. */
static guint
assert_old_or_new (EwConnection *connection, GHashTable *before, EwCodingPlan *plan,
                   EwJobStore *store, gint64 job_id)
{
  g_autoptr(GHashTable) now = snapshot (connection);
  g_autoptr(GPtrArray) backups = NULL;
  g_autoptr(GError) error = NULL;
  GHashTableIter iter;
  gpointer key, value;
  guint n_new = 0;
  EwJobState state = job_state (store, job_id);

  g_assert_cmpuint (g_hash_table_size (now), ==, g_hash_table_size (before));
  g_hash_table_iter_init (&iter, before);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      GBytes *cur = g_hash_table_lookup (now, key);
      const EwCodingChange *change = NULL;

      for (guint i = 0; i < plan->changes->len; i++)
        {
          const EwCodingChange *c = g_ptr_array_index (plan->changes, i);
          g_autofree char *k = g_strdup_printf ("%s:%04X", c->module->id, c->did->did);

          if (g_str_equal (k, key))
            change = c;
        }
      g_assert_nonnull (cur);
      if (change == NULL || g_bytes_equal (cur, value))
        assert_bytes_equal (cur, value);
      else
        {
          assert_bytes_equal (cur, change->after);
          n_new++;
        }
    }

  backups = ew_job_store_get_backups (store, job_id, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < backups->len; i++)
    {
      const EwJobBackup *b = g_ptr_array_index (backups, i);
      g_autoptr(GBytes) cur = sim_did (connection, b->module_id, b->did);

      if (b->state == EW_BACKUP_RESTORED || b->state == EW_BACKUP_SAVED)
        assert_bytes_equal (cur, b->before);
      else if (b->state == EW_BACKUP_VERIFIED)
        assert_bytes_equal (cur, b->after);
    }

  switch (state)
    {
    case EW_JOB_STATE_DONE:
      g_assert_cmpuint (n_new, ==, plan->changes->len);
      break;
    case EW_JOB_STATE_ROLLED_BACK:
      g_assert_cmpuint (n_new, ==, 0);
      g_assert_true (journal_has (store, job_id, "job", "rolled-back", NULL));
      break;
    case EW_JOB_STATE_FAILED:
      g_assert_true (journal_has (store, job_id, "job", "failed", NULL));
      break;
    default:
      g_assert_not_reached ();
    }
  return n_new;
}

/* ---- item bits and checksums ---- */

static void
test_item_bits (void)
{
  /* a 12-bit field from bit 4 of byte 1 into byte 2: little-endian */
  EwCodingItem item = { .byte = 1, .bit = 4, .mask = 0xFFF0 };
  guint8 bytes[4] = { 0xAA, 0x5F, 0xC3, 0x77 };

  g_assert_cmpuint (ew_coding_item_read (&item, bytes, 4), ==, 0xC35);
  ew_coding_item_write (&item, bytes, 4, 0x9A1);
  g_assert_cmpuint (bytes[0], ==, 0xAA);
  g_assert_cmpuint (bytes[1], ==, 0x1F);   /* low nibble kept */
  g_assert_cmpuint (bytes[2], ==, 0x9A);
  g_assert_cmpuint (bytes[3], ==, 0x77);
  g_assert_cmpuint (ew_coding_item_read (&item, bytes, 4), ==, 0x9A1);
  /* bits beyond the mask are never written */
  ew_coding_item_write (&item, bytes, 4, 0xFFFFF);
  g_assert_cmpuint (bytes[1], ==, 0xFF);
  g_assert_cmpuint (bytes[2], ==, 0xFF);
  g_assert_cmpuint (bytes[3], ==, 0x77);
}

static void
test_checksums (void)
{
  /* the check values of the catalogue of CRC parameters, over "123456789" */
  guint8 b[12];
  EwCodingDid did = { .length_bytes = 12, .checksum_from = 0, .checksum_to = 8, .checksum_at = 9 };

  memcpy (b, "123456789\0\0\0", 12);
  did.checksum = EW_CHECKSUM_CRC8_SAE_J1850;
  ew_coding_checksum_apply (&did, b, 12);
  g_assert_cmpuint (b[9], ==, 0x4B);
  did.checksum = EW_CHECKSUM_CRC16_CCITT;
  ew_coding_checksum_apply (&did, b, 12);
  g_assert_cmpuint (b[9], ==, 0x29);
  g_assert_cmpuint (b[10], ==, 0xB1);
  did.checksum = EW_CHECKSUM_SUM8;
  ew_coding_checksum_apply (&did, b, 12);
  g_assert_cmpuint (b[9], ==, (0x31 + 0x32 + 0x33 + 0x34 + 0x35 + 0x36 + 0x37 + 0x38 + 0x39) & 0xFF);
  did.checksum = EW_CHECKSUM_XOR8;
  ew_coding_checksum_apply (&did, b, 12);
  g_assert_cmpuint (b[9], ==, 0x31 ^ 0x32 ^ 0x33 ^ 0x34 ^ 0x35 ^ 0x36 ^ 0x37 ^ 0x38 ^ 0x39);
  g_assert_cmpuint (b[11], ==, 0);
}

/* ---- catalogue ---- */

/* 0x22 requests the catalogue sends module_id */
static guint
catalogue_reads (EwConnection *connection, const char *module_id)
{
  EwFamily *family = ew_connection_get_family (connection);
  const EwModule *m = ew_family_find_module (family, module_id);
  g_autoptr(GHashTable) dids = g_hash_table_new (NULL, NULL);
  guint n = 0;

  for (guint j = 0; j < m->identification->len; j++)
    {
      const EwIdentificationDid *id = g_ptr_array_index (m->identification, j);

      if (id->role == EW_ID_ROLE_SIMULATION_MARKER || id->role == EW_ID_ROLE_VIN ||
          id->role == EW_ID_ROLE_OPTION_LIST)
        n++;
    }
  for (guint j = 0; j < family->features->len; j++)
    {
      const EwFeature *feature = g_ptr_array_index (family->features, j);

      if (feature->item != NULL && g_strcmp0 (feature->module, m->id) == 0)
        g_hash_table_add (dids, GUINT_TO_POINTER (feature->did));
    }
  return n + g_hash_table_size (dids);
}

static void
test_catalogue_reads_once (void)
{
  for (guint f = 0; shipped_families[f] != NULL; f++)
    {
      g_autofree char *uri = g_strdup_printf ("sim:%s", shipped_families[f]);
      g_autoptr(EwConnection) connection = ew_test_open_car (db, uri);
      EwSimVehicle *sim = ew_connection_get_sim_vehicle (connection);
      EwFamily *family = ew_connection_get_family (connection);
      g_autoptr(EwFeatureCatalogue) catalogue = NULL;
      guint n_before, n_expected = 0, n_feature_reads = 0;

      for (guint i = 0; i < family->modules->len; i++)
        {
          const EwModule *m = g_ptr_array_index (family->modules, i);
          g_autoptr(GHashTable) dids = g_hash_table_new (NULL, NULL);

          for (guint j = 0; j < m->identification->len; j++)
            {
              const EwIdentificationDid *id = g_ptr_array_index (m->identification, j);

              if (id->role == EW_ID_ROLE_SIMULATION_MARKER || id->role == EW_ID_ROLE_VIN ||
                  id->role == EW_ID_ROLE_OPTION_LIST)
                n_expected++;
            }
          for (guint j = 0; j < family->features->len; j++)
            {
              const EwFeature *feature = g_ptr_array_index (family->features, j);

              if (feature->item != NULL && g_strcmp0 (feature->module, m->id) == 0)
                {
                  g_hash_table_add (dids, GUINT_TO_POINTER (feature->did));
                  n_feature_reads++;
                }
            }
          n_expected += g_hash_table_size (dids);
        }

      n_before = ew_sim_vehicle_get_n_requests (sim);
      catalogue = ew_test_read_catalogue (connection);
      /* identification plus each coding DID once: fewer than a read per feature */
      g_assert_cmpuint (ew_sim_vehicle_get_n_requests (sim) - n_before, ==, n_expected);
      g_assert_cmpuint (n_expected, <, n_feature_reads + 3 * family->modules->len);
      g_assert_true (ew_feature_catalogue_is_simulated (catalogue));
      g_assert_nonnull (ew_feature_catalogue_get_vin (catalogue));
      g_assert_cmpuint (ew_feature_catalogue_get_features (catalogue)->len, ==, family->features->len);

      for (guint i = 0; i < family->features->len; i++)
        {
          const EwFeature *feature = g_ptr_array_index (family->features, i);
          const EwFeatureStatus *st = ew_feature_catalogue_find (catalogue, feature->id);

          g_assert_nonnull (st);
          g_assert_true (st->feature == feature);
          if (feature->work_class == EW_WORK_CLASS_PROGRAMMING)
            {
              g_assert_cmpint (st->availability, ==, EW_FEATURE_NEEDS_PROGRAMMING);
              g_assert_nonnull (st->reason);
              if (feature->reason != NULL)
                g_assert_cmpstr (st->reason, ==, feature->reason);
            }
          else
            {
              g_autoptr(GBytes) sim_bytes = sim_did (connection, feature->module, feature->did);

              /* every option fitted on the healthy car, and the list said so */
              g_assert_cmpint (st->availability, ==, EW_FEATURE_SWITCHABLE);
              g_assert_false (st->is_option_unconfirmed);
              g_assert_nonnull (st->state);
              assert_bytes_equal (ew_feature_catalogue_get_did_bytes (catalogue, feature->module,
                                                                      feature->did), sim_bytes);
            }
        }
    }
}

static char *
write_profile (const char *name, const char *text)
{
  g_autofree char *file = g_strconcat (name, ".ini", NULL);
  char *path = g_build_filename (tmp_dir, file, NULL);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
  return path;
}

static void
test_catalogue_not_fitted (void)
{
  g_autofree char *profile = write_profile ("no-kafas",
    "[profile]\ndescription=KAFAS camera absent, no comfort access\noptions-absent=322\n"
    "[module:kafas]\npresent=false\n");
  g_autofree char *uri = g_strdup_printf ("sim:bmw-f30?profile=%s", profile);
  g_autoptr(EwConnection) connection = ew_test_open_car (db, uri);
  g_autoptr(EwFeatureCatalogue) catalogue = ew_test_read_catalogue (connection);
  const EwFeatureStatus *st;
  g_autoptr(GError) error = NULL;
  EwFeatureRequest req = { "high-beam-assistant", "on" };
  g_autoptr(EwCodingPlan) plan = NULL;

  /* the module the feature needs did not answer */
  st = ew_feature_catalogue_find (catalogue, "high-beam-assistant");
  g_assert_cmpint (st->availability, ==, EW_FEATURE_NOT_FITTED);
  g_assert_nonnull (strstr (st->reason, "KAFAS"));
  /* the option is not in the car's option list */
  st = ew_feature_catalogue_find (catalogue, "comfort-access-relock");
  g_assert_cmpint (st->availability, ==, EW_FEATURE_NOT_FITTED);
  g_assert_nonnull (strstr (st->reason, "322"));
  /* the rest still there */
  st = ew_feature_catalogue_find (catalogue, "cornering-lights");
  g_assert_cmpint (st->availability, ==, EW_FEATURE_SWITCHABLE);
  g_assert_true (ew_feature_catalogue_is_simulated (catalogue));

  plan = ew_coding_plan_new (catalogue, &req, 1, &error);
  g_assert_error (error, EW_CODING_ERROR, EW_CODING_ERROR_NOT_SWITCHABLE);
  g_assert_null (plan);
  g_assert_nonnull (strstr (error->message, "high-beam-assistant"));
}

/* Through a scan: the silent modules are not asked again. */
static void
test_catalogue_with_scan (void)
{
  g_autofree char *profile = write_profile ("no-kafas-scan",
    "[profile]\ndescription=KAFAS camera absent\n[module:kafas]\npresent=false\n");
  g_autofree char *uri = g_strdup_printf ("sim:bmw-f30?profile=%s", profile);
  g_autoptr(EwConnection) connection = ew_test_open_car (db, uri);
  g_autoptr(GError) error = NULL;
  g_autoptr(EwScanResult) scan = ew_scan_run (connection, 0, NULL, NULL, NULL, &error);
  g_autoptr(EwFeatureCatalogue) catalogue = NULL;
  const EwFeatureStatus *st;
  EwSimVehicle *sim = ew_connection_get_sim_vehicle (connection);
  EwFamily *family = ew_connection_get_family (connection);
  guint n_before, n_expected = 0;

  g_assert_no_error (error);
  for (guint i = 0; i < family->modules->len; i++)
    {
      const EwModule *m = g_ptr_array_index (family->modules, i);

      if (!g_str_equal (m->id, "kafas"))
        n_expected += catalogue_reads (connection, m->id);
    }
  n_before = ew_sim_vehicle_get_n_requests (sim);
  catalogue = ew_feature_catalogue_read (connection, scan, NULL, &error);
  g_assert_no_error (error);
  /* the module the scan found silent is not asked again */
  g_assert_cmpuint (ew_sim_vehicle_get_n_requests (sim) - n_before, ==, n_expected);
  st = ew_feature_catalogue_find (catalogue, "high-beam-assistant");
  g_assert_cmpint (st->availability, ==, EW_FEATURE_NOT_FITTED);
  g_assert_cmpstr (ew_feature_catalogue_get_vin (catalogue), ==, scan->vin);
}

/* Modules are read at the same time: with every message held 40 ms, one
 * module after another would take the sum of all of them. */
static void
test_catalogue_parallel (void)
{
  g_autoptr(EwConnection) connection = ew_test_open_car (db, "sim:bmw-f30?faults=delay=40");
  EwFamily *family = ew_connection_get_family (connection);
  g_autoptr(EwFeatureCatalogue) catalogue = NULL;
  guint n_most = 0, n_all = 0;
  gint64 start, elapsed_ms;

  for (guint i = 0; i < family->modules->len; i++)
    {
      guint n = catalogue_reads (connection, ((EwModule *) g_ptr_array_index (family->modules, i))->id);

      n_all += n;
      n_most = MAX (n_most, n);
    }
  start = g_get_monotonic_time ();
  catalogue = ew_test_read_catalogue (connection);
  elapsed_ms = (g_get_monotonic_time () - start) / 1000;
  g_test_message ("%u requests, at most %u per module, in %" G_GINT64_FORMAT " ms",
                  n_all, n_most, elapsed_ms);
  g_assert_cmpint (elapsed_ms, >=, 40 * n_most);
  g_assert_cmpint (elapsed_ms, <, 40 * n_all / 2);
  g_assert_cmpint (ew_feature_catalogue_find (catalogue, "cornering-lights")->availability, ==,
                   EW_FEATURE_SWITCHABLE);
}

/* ---- plans ---- */

static void
test_plan_errors (void)
{
  g_autoptr(EwConnection) connection = ew_test_open_car (db, "sim:bmw-f30");
  g_autoptr(EwFeatureCatalogue) catalogue = ew_test_read_catalogue (connection);
  const EwFeatureStatus *drl = ew_feature_catalogue_find (catalogue, "daytime-running-lights");
  struct {
    EwFeatureRequest requests[2];
    guint            n;
    EwCodingError    code;
    const char      *in_message;
  } cases[] = {
    { { { "warp-drive", "on" } }, 1, EW_CODING_ERROR_UNKNOWN_FEATURE, "warp-drive" },
    { { { "headlight-delay", "7s" } }, 1, EW_CODING_ERROR_UNKNOWN_STATE, "7s" },
    { { { "headlight-delay", "20s" }, { "headlight-delay", "40s" } }, 2, EW_CODING_ERROR_CONFLICT, "40s" },
    { { { "carplay-software", "on" } }, 1, EW_CODING_ERROR_UNKNOWN_STATE, "carplay-software" },
    { { { "daytime-running-lights", drl->state->name } }, 1, EW_CODING_ERROR_NOTHING_TO_DO, NULL },
  };
  char *id = NULL, *state = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) e = NULL;
      g_autoptr(EwCodingPlan) plan = ew_coding_plan_new (catalogue, cases[i].requests, cases[i].n, &e);

      g_test_message ("case %u", i);
      g_assert_null (plan);
      g_assert_error (e, EW_CODING_ERROR, (gint) cases[i].code);
      if (cases[i].in_message != NULL)
        g_assert_nonnull (strstr (e->message, cases[i].in_message));
    }

  /* the same state asked twice is one change */
  {
    const EwFeatureStatus *st = ew_feature_catalogue_find (catalogue, "headlight-delay");
    const EwFeatureState *to = other_state (st);
    EwFeatureRequest twice[] = { { "headlight-delay", to->name }, { "headlight-delay", to->name } };
    g_autoptr(EwCodingPlan) plan = plan_ok (catalogue, twice, 2);

    g_assert_cmpuint (plan->lines->len, ==, 1);
    g_assert_cmpuint (plan->changes->len, ==, 1);
    g_assert_true (plan->is_simulated);
    g_assert_nonnull (strstr (plan->summary, "→"));
  }

  g_assert_true (ew_feature_request_parse ("mirror-fold-on-lock = on", &id, &state, &error));
  g_assert_cmpstr (id, ==, "mirror-fold-on-lock");
  g_assert_cmpstr (state, ==, "on");
  g_free (id);
  g_free (state);
  g_assert_false (ew_feature_request_parse ("mirror-fold-on-lock", NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

/* Only the bits in the items' masks change, whatever else the DID holds. */
static void
test_plan_masks (void)
{
  g_autoptr(EwConnection) connection = ew_test_open_car (db, "sim:bmw-f30");
  g_autoptr(EwFeatureCatalogue) catalogue = NULL;
  EwFamily *family = ew_connection_get_family (connection);
  const EwModule *fem = ew_family_find_module (family, "fem");
  const EwCodingDid *cd = ew_module_find_coding_did (fem, 0x3000);
  g_autoptr(GPtrArray) requests = g_ptr_array_new ();
  g_autoptr(GArray) reqs = g_array_new (FALSE, TRUE, sizeof (EwFeatureRequest));
  g_autoptr(EwCodingPlan) plan = NULL;
  g_autofree guint8 *mask = g_malloc0 (cd->length_bytes);
  g_autofree guint8 *noise = g_malloc (cd->length_bytes);
  g_autofree char *noise_hex = NULL;
  g_autoptr(GBytes) noise_bytes = NULL;
  const EwCodingChange *change;
  const guint8 *before, *after;

  /* every bit no item owns set to a pattern, so a stray write shows */
  for (guint i = 0; i < cd->length_bytes; i++)
    noise[i] = (guint8) (0xA5 ^ (i * 37));
  noise_bytes = g_bytes_new (noise, cd->length_bytes);
  noise_hex = to_hex (noise_bytes);
  sim_set (connection, "fem", "coding-0x3000", noise_hex);
  catalogue = ew_test_read_catalogue (connection);

  for (guint i = 0; i < family->features->len; i++)
    {
      const EwFeature *f = g_ptr_array_index (family->features, i);
      const EwFeatureStatus *st = ew_feature_catalogue_find (catalogue, f->id);
      const EwCodingItem *item;
      EwFeatureRequest r;

      if (g_strcmp0 (f->module, "fem") != 0 || f->did != 0x3000 ||
          st->availability != EW_FEATURE_SWITCHABLE)
        continue;
      item = ew_coding_did_find_item (cd, f->item);
      ew_coding_item_write (item, mask, cd->length_bytes, G_MAXUINT32);
      r.feature_id = f->id;
      r.state = ((EwFeatureState *) g_ptr_array_index (f->states, 0))->name;
      if (st->state != NULL && g_str_equal (st->state->name, r.state))
        r.state = ((EwFeatureState *) g_ptr_array_index (f->states, 1))->name;
      g_array_append_val (reqs, r);
    }
  g_assert_cmpuint (reqs->len, >=, 3);
  plan = plan_ok (catalogue, (EwFeatureRequest *) (void *) reqs->data, reqs->len);
  g_assert_cmpuint (plan->changes->len, ==, 1);
  change = g_ptr_array_index (plan->changes, 0);
  before = g_bytes_get_data (change->before, NULL);
  after = g_bytes_get_data (change->after, NULL);
  for (guint i = 0; i < cd->length_bytes; i++)
    g_assert_cmpuint ((before[i] ^ after[i]) & ~mask[i], ==, 0);
  g_assert_false (g_bytes_equal (change->before, change->after));
}

/* A DID with a declared checksum gets it recomputed over the new bytes. */
static void
test_plan_checksum (void)
{
  g_autoptr(EwConnection) connection = ew_test_open_car (db, "sim:test-coding-fixture");
  g_autoptr(EwFeatureCatalogue) catalogue = ew_test_read_catalogue (connection);
  g_autoptr(EwJobStore) store = ew_test_open_store (tmp_dir);
  const EwFeatureStatus *st = ew_feature_catalogue_find (catalogue, "daytime-running-lights");
  EwFeatureRequest req = { "daytime-running-lights", other_state (st)->name };
  g_autoptr(EwCodingPlan) plan = plan_ok (catalogue, &req, 1);
  const EwCodingChange *change = g_ptr_array_index (plan->changes, 0);
  const guint8 *after = g_bytes_get_data (change->after, NULL);
  guint8 copy[64];
  guint16 crc = 0xFFFF;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) now = NULL;

  g_assert_cmpint (change->did->checksum, ==, EW_CHECKSUM_CRC16_CCITT);
  /* an independent CRC-16/CCITT-FALSE over bytes 0..29 */
  for (guint i = 0; i < 30; i++)
    {
      crc ^= (guint16) (after[i] << 8);
      for (guint b = 0; b < 8; b++)
        crc = (crc & 0x8000) ? (guint16) ((crc << 1) ^ 0x1021) : (guint16) (crc << 1);
    }
  g_assert_cmpuint (after[30], ==, crc >> 8);
  g_assert_cmpuint (after[31], ==, crc & 0xFF);
  memcpy (copy, after, change->did->length_bytes);
  ew_coding_checksum_apply (change->did, copy, change->did->length_bytes);
  g_assert_cmpmem (copy, change->did->length_bytes, after, change->did->length_bytes);

  g_assert_cmpint (ew_coding_apply (connection, store, plan, NULL, NULL, NULL, NULL, NULL, &error), >, 0);
  g_assert_no_error (error);
  now = sim_did (connection, "fem", 0x3000);
  assert_bytes_equal (now, change->after);
}

/* ---- every feature of every shipped family, switched and read back ---- */

static void
apply_ok (EwConnection *connection, EwJobStore *store, EwCodingPlan *plan)
{
  g_autoptr(GError) error = NULL;
  gint64 id = ew_coding_apply (connection, store, plan, NULL, NULL, NULL, NULL, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  g_assert_cmpint (job_state (store, id), ==, EW_JOB_STATE_DONE);
}

static void
test_switch_every_feature (void)
{
  g_autoptr(EwJobStore) store = ew_test_open_store (tmp_dir);
  guint n_switched = 0;

  for (guint f = 0; shipped_families[f] != NULL; f++)
    {
      g_autofree char *uri = g_strdup_printf ("sim:%s", shipped_families[f]);
      g_autoptr(EwConnection) connection = ew_test_open_car (db, uri);
      EwFamily *family = ew_connection_get_family (connection);

      for (guint i = 0; i < family->features->len; i++)
        {
          const EwFeature *feature = g_ptr_array_index (family->features, i);
          g_autoptr(EwFeatureCatalogue) first = ew_test_read_catalogue (connection);
          const EwFeatureStatus *st = ew_feature_catalogue_find (first, feature->id);
          g_autoptr(GBytes) original = NULL;
          const char *original_state;

          if (st->availability != EW_FEATURE_SWITCHABLE)
            {
              g_assert_cmpint (feature->work_class, ==, EW_WORK_CLASS_PROGRAMMING);
              continue;
            }
          g_assert_nonnull (st->state);
          original_state = st->state->name;
          original = sim_did (connection, feature->module, feature->did);

          for (guint s = 0; s < feature->states->len; s++)
            {
              const EwFeatureState *to = g_ptr_array_index (feature->states, s);
              EwFeatureRequest there = { feature->id, to->name };
              EwFeatureRequest back = { feature->id, original_state };
              g_autoptr(EwFeatureCatalogue) c1 = NULL, c2 = NULL, c3 = NULL;
              g_autoptr(EwCodingPlan) p1 = NULL, p2 = NULL;
              g_autoptr(GBytes) b1 = NULL, b2 = NULL;

              if (g_str_equal (to->name, original_state))
                continue;
              c1 = ew_test_read_catalogue (connection);
              p1 = plan_ok (c1, &there, 1);
              apply_ok (connection, store, p1);
              b1 = sim_did (connection, feature->module, feature->did);
              assert_bytes_equal (b1, ((EwCodingChange *) g_ptr_array_index (p1->changes, 0))->after);
              /* the module's own bytes now decode to the new state */
              c2 = ew_test_read_catalogue (connection);
              g_assert_cmpstr (ew_feature_catalogue_find (c2, feature->id)->state->name, ==, to->name);

              p2 = plan_ok (c2, &back, 1);
              apply_ok (connection, store, p2);
              b2 = sim_did (connection, feature->module, feature->did);
              assert_bytes_equal (b2, original);
              c3 = ew_test_read_catalogue (connection);
              g_assert_cmpstr (ew_feature_catalogue_find (c3, feature->id)->state->name, ==,
                               original_state);
              n_switched++;
            }
        }
    }
  g_assert_cmpuint (n_switched, >=, 40);
}

/* ---- transactions under faults ---- */

/* A plan over three modules in family order: fem, kombi, hu. */
static EwCodingPlan *
three_module_plan (EwConnection *connection)
{
  g_autoptr(EwFeatureCatalogue) catalogue = ew_test_read_catalogue (connection);
  const char *ids[] = { "cornering-lights", "needle-sweep", "startup-animation" };
  EwFeatureRequest reqs[3];
  EwCodingPlan *plan;

  for (guint i = 0; i < 3; i++)
    {
      const EwFeatureStatus *st = ew_feature_catalogue_find (catalogue, ids[i]);

      g_assert_cmpint (st->availability, ==, EW_FEATURE_SWITCHABLE);
      reqs[i].feature_id = ids[i];
      reqs[i].state = other_state (st)->name;
    }
  plan = plan_ok (catalogue, reqs, 3);
  g_assert_cmpuint (plan->changes->len, ==, 3);
  g_assert_cmpstr (((EwCodingChange *) g_ptr_array_index (plan->changes, 0))->module->id, ==, "fem");
  g_assert_cmpstr (((EwCodingChange *) g_ptr_array_index (plan->changes, 1))->module->id, ==, "kombi");
  g_assert_cmpstr (((EwCodingChange *) g_ptr_array_index (plan->changes, 2))->module->id, ==, "hu");
  return plan;
}

typedef struct {
  EwConnection *connection;
  const char   *on_step;       /* nullable */
  const char   *on_module;
  const char   *key, *value;   /* what to do to the module then */
  gboolean      done;
  double        last_fraction;
  guint         n_calls;
  EwJobStore   *store;         /* nullable: check the backups at the first write */
  EwCodingPlan *plan;
  gboolean      saw_write;
} FaultHook;

/* Before the first write, every DID's old bytes are in the store. */
static void
check_backups_committed (FaultHook *h)
{
  g_autoptr(GPtrArray) jobs = ew_job_store_list_unfinished (h->store, NULL);
  g_autoptr(GPtrArray) backups = NULL;
  const EwJobRecord *job;

  g_assert_cmpuint (jobs->len, ==, 1);
  job = g_ptr_array_index (jobs, 0);
  backups = ew_job_store_get_backups (h->store, job->id, NULL);
  g_assert_cmpuint (backups->len, ==, h->plan->changes->len);
  for (guint i = 0; i < backups->len; i++)
    {
      const EwJobBackup *b = g_ptr_array_index (backups, i);
      const EwCodingChange *c = g_ptr_array_index (h->plan->changes, i);
      g_autoptr(GBytes) now = sim_did (h->connection, b->module_id, b->did);

      g_assert_cmpint (b->state, ==, EW_BACKUP_SAVED);
      assert_bytes_equal (b->before, now);
      assert_bytes_equal (b->after, c->after);
    }
  g_assert_true (journal_has (h->store, job->id, "backup", "ok", NULL));
  g_assert_false (journal_has (h->store, job->id, "write", NULL, NULL));
}

static void
hook_progress (const char *step, const char *module_id, double fraction, gpointer user_data)
{
  FaultHook *h = user_data;

  g_assert_cmpfloat (fraction, >=, h->last_fraction);
  g_assert_cmpfloat (fraction, <=, 1.0);
  h->last_fraction = fraction;
  h->n_calls++;
  if (h->store != NULL && !h->saw_write && g_strcmp0 (step, "write") == 0)
    {
      h->saw_write = TRUE;
      check_backups_committed (h);
    }
  if (h->on_step != NULL && !h->done && g_strcmp0 (step, h->on_step) == 0 &&
      g_strcmp0 (module_id, h->on_module) == 0)
    {
      h->done = TRUE;
      sim_set (h->connection, h->on_module, h->key, h->value);
    }
}

typedef struct {
  const char   *name;
  const char   *faults;        /* with extra_reads: a count follows */
  const char   *module;
  guint         extra_reads;   /* added to the catalogue's 0x22 count */
  EwJobState    state;
  gint          code;          /* expected error code */
  int           domain;        /* 0: EW_CODING_ERROR, 1: EW_UDS_NRC_ERROR, 2: EW_UDS_ERROR */
  guint         link_drop_at;  /* 0: none; else the transaction's Nth request is lost */
  const char   *hook_step, *hook_key, *hook_value;
} FaultCase;

static void
run_fault_case (gconstpointer data)
{
  const FaultCase *fc = data;
  g_autofree char *faults = NULL;
  g_autofree char *uri = NULL;
  g_autoptr(EwConnection) connection = NULL;
  g_autoptr(EwConnection) probe = NULL;
  g_autoptr(EwJobStore) store = ew_test_open_store (tmp_dir);
  g_autoptr(EwCodingPlan) plan = NULL;
  g_autoptr(GHashTable) before = NULL;
  g_autoptr(GError) error = NULL;
  FaultHook hook = { 0 };
  gint64 job_id = -1, id;
  GQuark domain;

  if (fc->link_drop_at > 0)
    {
      /* the requests a catalogue and a plan cost, counted on a clean car */
      guint n;

      probe = ew_test_open_car (db, "sim:bmw-f30");
      g_clear_pointer (&plan, ew_coding_plan_free);
      plan = three_module_plan (probe);
      n = ew_sim_vehicle_get_n_requests (ew_connection_get_sim_vehicle (probe));
      faults = g_strdup_printf ("link-drop=%u", n + fc->link_drop_at);
      g_clear_pointer (&plan, ew_coding_plan_free);
    }
  else if (fc->extra_reads > 0)
    {
      probe = ew_test_open_car (db, "sim:bmw-f30");
      faults = g_strdup_printf ("%s%u", fc->faults, catalogue_reads (probe, fc->module) + fc->extra_reads);
    }
  else
    faults = g_strdup (fc->faults != NULL ? fc->faults : "");
  uri = g_strdup_printf ("sim:bmw-f30?faults=%s", faults);
  g_test_message ("%s: %s", fc->name, uri);
  connection = ew_test_open_car (db, uri);
  plan = three_module_plan (connection);
  before = snapshot (connection);

  hook.connection = connection;
  hook.on_step = fc->hook_step;
  hook.on_module = fc->module;
  hook.key = fc->hook_key;
  hook.value = fc->hook_value;
  hook.store = store;
  hook.plan = plan;
  id = ew_coding_apply (connection, store, plan, NULL, hook_progress, &hook, &job_id, NULL, &error);
  g_assert_cmpint (id, ==, 0);
  g_assert_nonnull (error);
  g_test_message ("%s: %s", fc->name, error->message);
  domain = fc->domain == 1 ? EW_UDS_NRC_ERROR : fc->domain == 2 ? EW_UDS_ERROR : EW_CODING_ERROR;
  g_assert_error (error, domain, (gint) fc->code);
  g_assert_cmpint (job_id, >, 0);
  g_assert_cmpint (job_state (store, job_id), ==, fc->state);
  if (fc->hook_step != NULL)
    g_assert_true (hook.done);
  if (fc->hook_key == NULL || !g_str_equal (fc->hook_key, "coding-0x3000"))
    assert_old_or_new (connection, before, plan, store, job_id);
  if (fc->state == EW_JOB_STATE_ROLLED_BACK)
    {
      g_autoptr(GPtrArray) backups = ew_job_store_get_backups (store, job_id, NULL);

      /* restored DIDs are marked so; never left WRITING */
      for (guint i = 0; i < backups->len; i++)
        g_assert_cmpint (((EwJobBackup *) g_ptr_array_index (backups, i))->state, !=,
                         EW_BACKUP_WRITING);
    }
  /* the journal chain holds */
  g_clear_error (&error);
  g_assert_true (ew_job_store_verify (store, NULL, &error));
  g_assert_no_error (error);
}

/* Wrong read-back: the module keeps something else than was written. */
static void
test_fault_wrong_readback (void)
{
  g_autoptr(EwConnection) connection = ew_test_open_car (db, "sim:bmw-f30");
  g_autoptr(EwJobStore) store = ew_test_open_store (tmp_dir);
  g_autoptr(EwCodingPlan) plan = three_module_plan (connection);
  g_autoptr(GHashTable) before = snapshot (connection);
  g_autoptr(GError) error = NULL;
  const EwCodingChange *kombi = g_ptr_array_index (plan->changes, 1);
  g_autoptr(GBytes) garbage = NULL;
  g_autofree char *garbage_hex = NULL;
  guint8 *junk = g_malloc (kombi->did->length_bytes);
  FaultHook hook = { 0 };
  gint64 job_id = 0;

  /* what the module "keeps": neither old nor new */
  memcpy (junk, g_bytes_get_data (kombi->after, NULL), kombi->did->length_bytes);
  junk[kombi->did->length_bytes - 1] ^= 0x5A;
  garbage = g_bytes_new_take (junk, kombi->did->length_bytes);
  garbage_hex = to_hex (garbage);
  hook.connection = connection;
  hook.on_step = "verify";
  hook.on_module = "kombi";
  hook.key = "coding-0x3000";
  hook.value = garbage_hex;

  g_assert_cmpint (ew_coding_apply (connection, store, plan, NULL, hook_progress, &hook, &job_id,
                                    NULL, &error), ==, 0);
  g_assert_error (error, EW_CODING_ERROR, EW_CODING_ERROR_ROLLED_BACK);
  g_assert_true (hook.done);
  g_assert_nonnull (strstr (error->message, "reads back"));
  g_assert_cmpint (job_state (store, job_id), ==, EW_JOB_STATE_ROLLED_BACK);
  /* kombi's junk was overwritten with its old bytes, fem restored too */
  assert_old_or_new (connection, before, plan, store, job_id);
  g_assert_true (journal_has (store, job_id, "verify", "failed", "0x3000"));
  g_assert_true (journal_has (store, job_id, "rollback", "ok", NULL));
}

/* ---- provenance ---- */

static void
test_provenance_illustrative (void)
{
  g_autoptr(EwConnection) connection = ew_test_open_car (db, "sim:bmw-f30");
  g_autoptr(EwJobStore) store = ew_test_open_store (tmp_dir);
  g_autoptr(EwCodingPlan) plan = three_module_plan (connection);
  g_autoptr(GHashTable) before = snapshot (connection);
  g_autoptr(GHashTable) after = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) jobs = NULL;
  gint64 job_id = -1;
  guint n_before;

  /* a car that does not say it is simulated: the engine's own decision */
  plan->is_simulated = FALSE;
  n_before = ew_sim_vehicle_get_n_requests (ew_connection_get_sim_vehicle (connection));
  g_assert_cmpint (ew_coding_apply (connection, store, plan, NULL, NULL, NULL, &job_id, NULL,
                                    &error), ==, 0);
  g_assert_error (error, EW_CODING_ERROR, EW_CODING_ERROR_PROVENANCE);
  g_assert_nonnull (strstr (error->message, "illustrative"));
  g_assert_cmpint (job_id, ==, 0);
  /* not a single request went to the car */
  g_assert_cmpuint (ew_sim_vehicle_get_n_requests (ew_connection_get_sim_vehicle (connection)), ==,
                    n_before);
  after = snapshot (connection);
  g_assert_true (g_hash_table_size (after) == g_hash_table_size (before));
  jobs = ew_job_store_list_jobs (store, NULL);
  g_assert_cmpuint (jobs->len, ==, 0);
  g_assert_true (journal_has (store, 0, "provenance", "refused", "illustrative"));
}

static void
test_provenance_community (void)
{
  g_autoptr(EwConnection) connection = ew_test_open_car (db, "sim:test-coding-fixture");
  g_autoptr(EwJobStore) store = ew_test_open_store (tmp_dir);
  g_autoptr(EwFeatureCatalogue) catalogue = ew_test_read_catalogue (connection);
  const EwFeatureStatus *st = ew_feature_catalogue_find (catalogue, "cornering-lights");
  EwFeatureRequest req = { "cornering-lights", other_state (st)->name };
  g_autoptr(EwCodingPlan) plan = plan_ok (catalogue, &req, 1);
  const EwCodingChange *change = g_ptr_array_index (plan->changes, 0);
  const char *const wrong_ack[] = { "daytime-running-lights", NULL };
  const char *const ack[] = { "cornering-lights", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) now = NULL;
  gint64 id;

  g_assert_true (st->needs_acknowledgement);
  g_assert_false (ew_feature_catalogue_find (catalogue, "daytime-running-lights")->needs_acknowledgement);

  g_assert_cmpint (ew_coding_apply (connection, store, plan, NULL, NULL, NULL, NULL, NULL, &error), ==, 0);
  g_assert_error (error, EW_CODING_ERROR, EW_CODING_ERROR_PROVENANCE);
  g_assert_nonnull (strstr (error->message, "cornering-lights"));
  g_clear_error (&error);
  g_assert_cmpint (ew_coding_apply (connection, store, plan, wrong_ack, NULL, NULL, NULL, NULL, &error), ==, 0);
  g_assert_error (error, EW_CODING_ERROR, EW_CODING_ERROR_PROVENANCE);
  g_clear_error (&error);
  now = sim_did (connection, "fem", 0x3000);
  assert_bytes_equal (now, change->before);
  g_clear_pointer (&now, g_bytes_unref);

  id = ew_coding_apply (connection, store, plan, ack, NULL, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  now = sim_did (connection, "fem", 0x3000);
  assert_bytes_equal (now, change->after);
  g_assert_true (journal_has (store, id, "acknowledge", "ok", "cornering-lights"));
}

/* ---- restore ---- */

static void
test_restore_done_job (void)
{
  g_autoptr(EwConnection) connection = ew_test_open_car (db, "sim:bmw-f30");
  g_autoptr(EwJobStore) store = ew_test_open_store (tmp_dir);
  g_autoptr(EwCodingPlan) plan = three_module_plan (connection);
  g_autoptr(GHashTable) before = snapshot (connection);
  g_autoptr(GHashTable) after = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(EwJobRecord) record = NULL;
  FaultHook hook = { 0 };
  gint64 id, restore_id;
  GHashTableIter iter;
  gpointer key, value;

  hook.connection = connection;
  hook.store = store;
  hook.plan = plan;
  id = ew_coding_apply (connection, store, plan, NULL, hook_progress, &hook, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (hook.last_fraction, ==, 1.0);
  g_assert_true (hook.saw_write);
  g_assert_cmpuint (assert_old_or_new (connection, before, plan, store, id), ==, 3);
  g_assert_true (journal_has (store, id, "backup", "ok", NULL));
  /* the car is now among the vehicles seen */
  {
    g_autoptr(GPtrArray) vehicles = ew_job_store_list_vehicles (store, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (vehicles->len, ==, 1);
    g_assert_cmpstr (((EwVehicleRecord *) g_ptr_array_index (vehicles, 0))->vin, ==, plan->vin);
  }

  memset (&hook, 0, sizeof hook);
  restore_id = ew_coding_restore (connection, store, id, hook_progress, &hook, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (restore_id, >, id);
  g_assert_cmpfloat (hook.last_fraction, ==, 1.0);
  record = ew_job_store_get_job (store, restore_id, &error);
  g_assert_no_error (error);
  g_assert_cmpint (record->kind, ==, EW_JOB_KIND_RESTORE);
  g_assert_cmpint (record->state, ==, EW_JOB_STATE_DONE);
  g_assert_cmpint (record->restores_job_id, ==, id);
  g_assert_cmpint (job_state (store, id), ==, EW_JOB_STATE_RESTORED);
  after = snapshot (connection);
  g_hash_table_iter_init (&iter, before);
  while (g_hash_table_iter_next (&iter, &key, &value))
    assert_bytes_equal (g_hash_table_lookup (after, key), value);
}

/* A job a crash left RUNNING: one DID new, one still old, one holding
 * something else; each ends with its old bytes, the old one untouched. */
static void
test_restore_running_job (void)
{
  g_autoptr(EwConnection) connection = ew_test_open_car (db, "sim:bmw-f30");
  g_autoptr(EwJobStore) store = ew_test_open_store (tmp_dir);
  g_autoptr(EwCodingPlan) plan = three_module_plan (connection);
  g_autoptr(GError) error = NULL;
  gint64 id, restore_id;
  const EwCodingChange *c[3];
  g_autofree char *new_hex = NULL;
  g_autofree char *other_hex = NULL;
  guint8 other[32];

  id = ew_job_store_begin_job (store, EW_JOB_KIND_CODING, plan->vin, plan->family->id,
                               ew_connection_get_uri (connection), plan->summary, 0, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 3; i++)
    {
      c[i] = g_ptr_array_index (plan->changes, i);
      g_assert_true (ew_job_store_add_backup (store, id, c[i]->module->id, c[i]->did->did,
                                              c[i]->before, c[i]->after, &error));
      g_assert_no_error (error);
    }
  /* fem got its new bytes, kombi nothing, hu something else */
  new_hex = to_hex (c[0]->after);
  sim_set (connection, "fem", "coding-0x3000", new_hex);
  g_assert_cmpuint (g_bytes_get_size (c[2]->before), <=, sizeof other);
  memcpy (other, g_bytes_get_data (c[2]->before, NULL), g_bytes_get_size (c[2]->before));
  other[5] ^= 0xFF;
  {
    g_autoptr(GBytes) ob = g_bytes_new (other, g_bytes_get_size (c[2]->before));

    other_hex = to_hex (ob);
  }
  sim_set (connection, "hu", "coding-0x3000", other_hex);

  restore_id = ew_coding_restore (connection, store, id, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (restore_id, >, 0);
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(GBytes) now = sim_did (connection, c[i]->module->id, 0x3000);

      assert_bytes_equal (now, c[i]->before);
    }
  g_assert_cmpint (job_state (store, id), ==, EW_JOB_STATE_RESTORED);
  g_assert_cmpint (job_state (store, restore_id), ==, EW_JOB_STATE_DONE);
  g_assert_true (journal_has (store, restore_id, "restore", "skipped", NULL));
  g_assert_true (journal_has (store, restore_id, "restore", "ok", NULL));
}

/* The module changed after the features were read: the plan's new bytes
 * would undo that change, so nothing is written. */
static void
test_stale_plan (void)
{
  g_autoptr(EwConnection) connection = ew_test_open_car (db, "sim:bmw-f30");
  g_autoptr(EwJobStore) store = ew_test_open_store (tmp_dir);
  g_autoptr(EwCodingPlan) plan = three_module_plan (connection);
  const EwCodingChange *kombi = g_ptr_array_index (plan->changes, 1);
  g_autoptr(GBytes) changed = NULL;
  g_autoptr(GHashTable) before = NULL;
  g_autofree char *changed_hex = NULL;
  g_autoptr(GError) error = NULL;
  guint8 *b = g_memdup2 (g_bytes_get_data (kombi->before, NULL), kombi->did->length_bytes);
  gint64 job_id = 0;

  b[kombi->did->length_bytes - 2] ^= 0x11;
  changed = g_bytes_new_take (b, kombi->did->length_bytes);
  changed_hex = to_hex (changed);
  sim_set (connection, "kombi", "coding-0x3000", changed_hex);
  before = snapshot (connection);

  g_assert_cmpint (ew_coding_apply (connection, store, plan, NULL, NULL, NULL, &job_id, NULL,
                                    &error), ==, 0);
  g_assert_error (error, EW_CODING_ERROR, EW_CODING_ERROR_PRECONDITION);
  g_assert_nonnull (strstr (error->message, "changed since"));
  g_assert_cmpint (job_state (store, job_id), ==, EW_JOB_STATE_ROLLED_BACK);
  g_assert_cmpuint (assert_old_or_new (connection, before, plan, store, job_id), ==, 0);
}

/* A cancel before the first write changes nothing. */
static void
test_cancel_before_write (void)
{
  g_autoptr(EwConnection) connection = ew_test_open_car (db, "sim:bmw-f30");
  g_autoptr(EwJobStore) store = ew_test_open_store (tmp_dir);
  g_autoptr(EwCodingPlan) plan = three_module_plan (connection);
  g_autoptr(GHashTable) before = snapshot (connection);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  gint64 job_id = 0;

  g_cancellable_cancel (cancellable);
  g_assert_cmpint (ew_coding_apply (connection, store, plan, NULL, NULL, NULL, &job_id, cancellable,
                                    &error), ==, 0);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (job_id, >, 0);
  g_assert_cmpint (job_state (store, job_id), ==, EW_JOB_STATE_ROLLED_BACK);
  g_assert_cmpuint (assert_old_or_new (connection, before, plan, store, job_id), ==, 0);
}

/* A weak battery: refused before any module is prepared, every DID as it
 * was, the reading journalled with the module that measured it. */
static void
test_supply_voltage_low (void)
{
  g_autoptr(EwConnection) connection = ew_test_open_car (db, "sim:bmw-f30?profile=weak-battery");
  g_autoptr(EwJobStore) store = ew_test_open_store (tmp_dir);
  g_autoptr(EwCodingPlan) plan = three_module_plan (connection);
  g_autoptr(GHashTable) before = snapshot (connection);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) journal = NULL;
  gint64 job_id = 0;
  gboolean is_journalled = FALSE;

  g_assert_cmpint (ew_coding_apply (connection, store, plan, NULL, NULL, NULL, &job_id, NULL,
                                    &error), ==, 0);
  g_assert_error (error, EW_CODING_ERROR, EW_CODING_ERROR_PRECONDITION);
  g_assert_nonnull (strstr (error->message, "11.8 V"));
  g_assert_nonnull (strstr (error->message, "battery support unit"));
  g_assert_cmpint (job_state (store, job_id), ==, EW_JOB_STATE_ROLLED_BACK);
  g_assert_cmpuint (assert_old_or_new (connection, before, plan, store, job_id), ==, 0);

  journal = ew_job_store_get_journal (store, job_id, NULL);
  g_assert_nonnull (journal);
  for (guint i = 0; i < journal->len; i++)
    {
      const EwJournalEntry *e = g_ptr_array_index (journal, i);

      g_assert_cmpstr (e->step, !=, "preflight");
      if (g_str_equal (e->step, "battery"))
        {
          g_assert_cmpstr (e->outcome, ==, "failed");
          g_assert_cmpstr (e->module_id, ==, "dme");
          is_journalled = TRUE;
        }
    }
  g_assert_true (is_journalled);
}

/* ---- fixture ---- */

static char *
replace_once (const char *text, const char *from, const char *to)
{
  const char *at = strstr (text, from);

  g_assert_nonnull (at);
  return g_strdup_printf ("%.*s%s%s", (int) (at - text), text, to, at + strlen (from));
}

/* A copy of the F30 with a CRC-16 over the FEM's lighting DID and the
 * cornering light as community data. */
static void
write_fixture_family (const char *dir)
{
  g_autofree char *src_path = g_build_filename (g_getenv ("ECU_WORKSHOP_DATA_DIR"), "vehicles",
                                                "bmw-f30.xml", NULL);
  g_autofree char *text = NULL;
  g_autofree char *path = g_build_filename (dir, "test-coding-fixture.xml", NULL);
  g_autoptr(GError) error = NULL;
  char *t;

  g_file_get_contents (src_path, &text, NULL, &error);
  g_assert_no_error (error);
  t = replace_once (text, "<family id=\"bmw-f30\"", "<family id=\"test-coding-fixture\"");
  g_free (text);
  text = t;
  {
    const char *at = strstr (text, "name=\"CAFD: exterior lighting\"");
    const char *end;
    char *head, *res;

    g_assert_nonnull (at);
    end = strchr (at, '>');
    head = g_strndup (text, (gsize) (end - text + 1));
    res = g_strconcat (head, "\n          <checksum algorithm=\"crc16-ccitt\" from=\"0\" to=\"29\" at=\"30\"/>",
                       end + 1, NULL);
    g_free (head);
    g_free (text);
    text = res;
  }
  t = replace_once (text, "<feature id=\"cornering-lights\" class=\"coding\" category=\"lighting\" labour-minutes=\"15\" provenance=\"illustrative\">",
                    "<feature id=\"cornering-lights\" class=\"coding\" category=\"lighting\" labour-minutes=\"15\" provenance=\"community\" source=\"Coding forum, thread 4711\">");
  g_free (text);
  text = t;
  t = replace_once (text, "<item id=\"cornering\" name=\"Cornering light (Abbiegelicht)\" byte=\"0\" bit=\"1\" mask=\"0x02\" provenance=\"illustrative\">",
                    "<item id=\"cornering\" name=\"Cornering light (Abbiegelicht)\" byte=\"0\" bit=\"1\" mask=\"0x02\" provenance=\"community\" source=\"Coding forum, thread 4711\">");
  g_free (text);
  text = t;
  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
}

static const FaultCase fault_cases[] = {
  { "nrc-session-first", "nrc=fem:0x10:0x22@1", "fem", 0, EW_JOB_STATE_ROLLED_BACK,
    EW_CODING_ERROR_PRECONDITION, 0, 0, NULL, NULL, NULL },
  { "nrc-session-later", "nrc=hu:0x10:0x22@1", "hu", 0, EW_JOB_STATE_ROLLED_BACK,
    EW_CODING_ERROR_PRECONDITION, 0, 0, NULL, NULL, NULL },
  { "nrc-security-first", "nrc=fem:0x27:0x22@1", "fem", 0, EW_JOB_STATE_ROLLED_BACK,
    EW_CODING_ERROR_PRECONDITION, 0, 0, NULL, NULL, NULL },
  { "nrc-security-later-key", "nrc=hu:0x27:0x35@2", "hu", 0, EW_JOB_STATE_ROLLED_BACK,
    EW_CODING_ERROR_PRECONDITION, 0, 0, NULL, NULL, NULL },
  { "nrc-write-first", "nrc=fem:0x2E:0x72@1", "fem", 0, EW_JOB_STATE_ROLLED_BACK,
    EW_CODING_ERROR_ROLLED_BACK, 0, 0, NULL, NULL, NULL },
  { "nrc-write-third", "nrc=hu:0x2E:0x72@1", "hu", 0, EW_JOB_STATE_ROLLED_BACK,
    EW_CODING_ERROR_ROLLED_BACK, 0, 0, NULL, NULL, NULL },
  { "nrc-read-backup", "nrc=kombi:0x22:0x22@", "kombi", 1, EW_JOB_STATE_ROLLED_BACK,
    EW_UDS_NRC_CONDITIONS_NOT_CORRECT, 1, 0, NULL, NULL, NULL },
  { "nrc-read-verify", "nrc=hu:0x22:0x22@", "hu", 2, EW_JOB_STATE_ROLLED_BACK,
    EW_CODING_ERROR_ROLLED_BACK, 0, 0, NULL, NULL, NULL },
  /* the third module falls silent when its write is due: a timeout; the
   * first two are restored, the silent one cannot be confirmed */
  { "timeout-third", NULL, "hu", 0, EW_JOB_STATE_FAILED,
    EW_CODING_ERROR_ROLLBACK_FAILED, 0, 0, "write", "present", "false" },
  /* the link drops at the transaction's Nth request (the first reads the
   * supply voltage): preflight, backup, first write, first verify, third
   * verify */
  { "link-drop-preflight", NULL, NULL, 0, EW_JOB_STATE_ROLLED_BACK,
    EW_CODING_ERROR_PRECONDITION, 0, 5, NULL, NULL, NULL },
  { "link-drop-backup", NULL, NULL, 0, EW_JOB_STATE_ROLLED_BACK,
    EW_UDS_ERROR_TIMEOUT, 2, 11, NULL, NULL, NULL },
  { "link-drop-write", NULL, NULL, 0, EW_JOB_STATE_FAILED,
    EW_CODING_ERROR_ROLLBACK_FAILED, 0, 14, NULL, NULL, NULL },
  { "link-drop-verify", NULL, NULL, 0, EW_JOB_STATE_FAILED,
    EW_CODING_ERROR_ROLLBACK_FAILED, 0, 15, NULL, NULL, NULL },
  { "link-drop-third-verify", NULL, NULL, 0, EW_JOB_STATE_FAILED,
    EW_CODING_ERROR_ROLLBACK_FAILED, 0, 19, NULL, NULL, NULL },
};

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *fixture_dir = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);

  tmp_dir = g_dir_make_tmp ("test-coding-XXXXXX", &error);
  g_assert_no_error (error);
  fixture_dir = g_build_filename (tmp_dir, "vehicles", NULL);
  g_mkdir (fixture_dir, 0700);
  write_fixture_family (fixture_dir);

  db = ew_vehicle_database_new (NULL);
  ew_vehicle_database_add_default_dirs (db, NULL);
  g_assert_cmpuint (ew_vehicle_database_add_dir (db, fixture_dir), ==, 1);

  g_test_add_func ("/coding/item-bits", test_item_bits);
  g_test_add_func ("/coding/checksums", test_checksums);
  g_test_add_func ("/coding/catalogue/reads-once", test_catalogue_reads_once);
  g_test_add_func ("/coding/catalogue/not-fitted", test_catalogue_not_fitted);
  g_test_add_func ("/coding/catalogue/with-scan", test_catalogue_with_scan);
  g_test_add_func ("/coding/catalogue/parallel", test_catalogue_parallel);
  g_test_add_func ("/coding/plan/errors", test_plan_errors);
  g_test_add_func ("/coding/plan/masks", test_plan_masks);
  g_test_add_func ("/coding/plan/checksum", test_plan_checksum);
  g_test_add_func ("/coding/switch-every-feature", test_switch_every_feature);
  for (guint i = 0; i < G_N_ELEMENTS (fault_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/coding/fault/%s", fault_cases[i].name);

      g_test_add_data_func (path, &fault_cases[i], run_fault_case);
    }
  g_test_add_func ("/coding/fault/wrong-readback", test_fault_wrong_readback);
  g_test_add_func ("/coding/cancel-before-write", test_cancel_before_write);
  g_test_add_func ("/coding/supply-voltage-low", test_supply_voltage_low);
  g_test_add_func ("/coding/stale-plan", test_stale_plan);
  g_test_add_func ("/coding/provenance/illustrative", test_provenance_illustrative);
  g_test_add_func ("/coding/provenance/community", test_provenance_community);
  g_test_add_func ("/coding/restore/done-job", test_restore_done_job);
  g_test_add_func ("/coding/restore/running-job", test_restore_running_job);

  status = g_test_run ();
  ew_vehicle_database_free (db);
  ew_test_remove_tree (tmp_dir);
  g_free (tmp_dir);
  return status;
}
