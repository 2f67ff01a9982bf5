/* test-retrofit.c — retrofitting a used module as a coding job, against
 * the simulated car of every shipped family: the car learns the module is
 * fitted, the option list gains the option, the module codes itself from
 * it and takes the car's VIN; backed up, undoable, rolled back on a fault.
 */
#include <glib/gstdio.h>
#include <string.h>

#include "coding/coding-transaction.h"
#include "coding/retrofit.h"
#include "sim/sim-vehicle.h"
#include "vehicle/database.h"
#include "test-car.h"
#include "test-util.h"

static EwVehicleDatabase *db;
static char *tmp_dir;

/* The used heated seat of each family, written out by hand so that the
 * test does not only repeat the vehicle data back to itself. */
typedef struct {
  const char *family;
  const char *seat;                /* the retrofitted module */
  const char *gateway;             /* the module that lists fitted units */
  guint16     gateway_did;
  const char *gateway_item;
  const char *option;              /* seat heating */
  const char *option_holder;       /* the module with the option list */
  guint16     option_did;
  guint16     seat_did;
  const char *seat_item;           /* coded from the option */
  const char *feature;             /* nullable: a seat-heating feature */
} SeatCase;

static const SeatCase seat_cases[] = {
  { "bmw-f30", "sm", "zgw", 0x3000, "smfa-fitted", "494", "fem", 0x3F1C,
    0x3000, "heating", "seat-heating-memory" },
  { "mercedes-w205", "seat-driver", "zgw", 0x0100, "seat-driver-fitted", "873", "eis", 0x0200,
    0x0100, "seat-heating", "seat-heating-memory" },
  { "vw-golf-mk7", "seat", "gateway", 0x0600, "seat-fitted", "4A3", "gateway", 0x2B00,
    0x0600, "heating", NULL },
};

static gboolean
has_vin_mismatch (const EwScanResult *scan, const char *module_id)
{
  for (guint i = 0; i < scan->findings->len; i++)
    {
      const EwScanFinding *f = g_ptr_array_index (scan->findings, i);

      if (f->kind == EW_FINDING_VIN_MISMATCH && g_strcmp0 (f->module->id, module_id) == 0)
        return TRUE;
    }
  return FALSE;
}

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
  g_assert_nonnull (r.bytes);
  return r.bytes;
}

static char *
sim_text (EwConnection *connection, const char *module_id, guint16 did)
{
  g_autoptr(GBytes) bytes = sim_did (connection, module_id, did);
  gsize n = 0;
  const char *data = g_bytes_get_data (bytes, &n);

  return g_strndup (data, n);
}

static gboolean
list_has (const char *list, const char *code)
{
  g_auto(GStrv) codes = g_strsplit (list, ",", -1);

  return g_strv_contains ((const char *const *) codes, code);
}

static const char *
item_value (EwConnection *connection, const char *module_id, guint16 did, const char *item_id)
{
  EwFamily *family = ew_connection_get_family (connection);
  const EwCodingDid *cd = ew_module_find_coding_did (ew_family_find_module (family, module_id), did);
  const EwCodingItem *item = ew_coding_did_find_item (cd, item_id);
  g_autoptr(GBytes) bytes = sim_did (connection, module_id, did);
  gsize n = 0;
  const guint8 *data = g_bytes_get_data (bytes, &n);
  guint64 raw = ew_coding_item_read (item, data, n);

  for (guint i = 0; i < item->values->len; i++)
    {
      const EwCodingValue *v = g_ptr_array_index (item->values, i);

      if (v->raw == raw)
        return v->name;
    }
  return "?";
}

/* The module's own VIN, stripped. */
static char *
module_vin (EwConnection *connection, const char *module_id)
{
  char *vin = sim_text (connection, module_id, 0xF190);

  return g_strstrip (vin);
}

/* Every DID the plan changes, as the simulated modules hold it now.
 * "module:did" -> GBytes */
static GHashTable *
snapshot_plan (EwConnection *connection, const EwCodingPlan *plan)
{
  GHashTable *snap = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                            (GDestroyNotify) g_bytes_unref);

  for (guint i = 0; i < plan->changes->len; i++)
    {
      const EwCodingChange *c = g_ptr_array_index (plan->changes, i);

      g_hash_table_insert (snap, g_strdup_printf ("%s:%04X", c->module->id, c->did->did),
                           sim_did (connection, c->module->id, c->did->did));
    }
  return snap;
}

static void
assert_snapshot (EwConnection *connection, GHashTable *snap)
{
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, snap);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      g_auto(GStrv) parts = g_strsplit (key, ":", 2);
      g_autoptr(GBytes) now = sim_did (connection, parts[0],
                                       (guint16) g_ascii_strtoull (parts[1], NULL, 16));

      if (!g_bytes_equal (now, value))
        g_error ("%s differs from the snapshot", (const char *) key);
    }
}

static gboolean
notes_have (const EwCodingPlan *plan, const char *prefix)
{
  for (guint i = 0; i < plan->notes->len; i++)
    if (g_str_has_prefix (g_ptr_array_index (plan->notes, i), prefix))
      return TRUE;
  return FALSE;
}

static void
test_seat (gconstpointer data)
{
  const SeatCase *sc = data;
  g_autofree char *uri = g_strdup_printf ("sim:%s?profile=used-heated-seat", sc->family);
  g_autoptr(EwConnection) connection = ew_test_open_car (db, uri);
  g_autoptr(EwJobStore) store = ew_test_open_store (tmp_dir);
  g_autoptr(EwScanResult) scan = ew_test_scan_car (connection);
  g_autoptr(EwFeatureCatalogue) catalogue = ew_test_read_catalogue (connection);
  g_autoptr(EwFeatureCatalogue) after = NULL;
  g_autoptr(EwScanResult) rescan = NULL;
  g_autoptr(EwCodingPlan) plan = NULL;
  g_autoptr(EwCodingPlan) again = NULL;
  g_autoptr(GHashTable) before = NULL;
  g_autoptr(GPtrArray) backups = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *options = NULL;
  g_autofree char *vin = NULL;
  g_autofree char *vin_note = NULL;
  g_autofree char *other_vin = NULL;
  const char *car_vin = ew_feature_catalogue_get_vin (catalogue);
  gint64 job_id, restore_id;
  gboolean saw_gateway = FALSE, saw_option = FALSE, saw_vin = FALSE;

  /* before: a seat from another car, not known to this one */
  g_assert_nonnull (car_vin);
  g_assert_true (has_vin_mismatch (scan, sc->seat));
  other_vin = module_vin (connection, sc->seat);
  g_assert_cmpstr (other_vin, !=, car_vin);
  options = sim_text (connection, sc->option_holder, sc->option_did);
  g_assert_false (list_has (options, sc->option));
  g_assert_cmpstr (item_value (connection, sc->gateway, sc->gateway_did, sc->gateway_item), ==,
                   "not-fitted");
  g_assert_cmpstr (item_value (connection, sc->seat, sc->seat_did, sc->seat_item), ==, "not-fitted");
  if (sc->feature != NULL)
    g_assert_cmpint (ew_feature_catalogue_find (catalogue, sc->feature)->availability, ==,
                     EW_FEATURE_NOT_FITTED);

  plan = ew_retrofit_plan_new (connection, catalogue, sc->seat, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (plan);
  g_assert_true (plan->is_simulated);
  g_assert_cmpuint (plan->lines->len, ==, 0);
  g_assert_true (g_str_has_prefix (plan->summary, "Retrofit of the "));
  g_assert_cmpstr (plan->subject_id + strlen ("retrofit:"), ==, sc->seat);
  g_assert_cmpint (plan->subject_provenance, ==, EW_PROVENANCE_ILLUSTRATIVE);
  {
    g_autofree char *option_note = g_strdup_printf ("Option list: + %s ", sc->option);

    g_assert_true (notes_have (plan, option_note));
  }
  vin_note = g_strdup_printf ("VIN: %.3s…%s → %.3s…%s", other_vin, other_vin + 11, car_vin, car_vin + 11);
  g_assert_true (notes_have (plan, vin_note));

  /* the car's DIDs first, the seat's own last; only the gateway item's
   * bits change in the gateway's DID */
  for (guint i = 0; i < plan->changes->len; i++)
    {
      const EwCodingChange *c = g_ptr_array_index (plan->changes, i);

      if (g_strcmp0 (c->module->id, sc->seat) == 0)
        {
          for (guint j = i; j < plan->changes->len; j++)
            g_assert_cmpstr (((EwCodingChange *) g_ptr_array_index (plan->changes, j))->module->id,
                             ==, sc->seat);
          saw_vin = saw_vin || c->did->did == 0xF190;
        }
      if (g_strcmp0 (c->module->id, sc->gateway) == 0 && c->did->did == sc->gateway_did)
        {
          const EwCodingItem *item = ew_coding_did_find_item (c->did, sc->gateway_item);
          gsize n = 0;
          const guint8 *old = g_bytes_get_data (c->before, &n);
          const guint8 *new = g_bytes_get_data (c->after, NULL);
          g_autofree guint8 *mask = g_malloc0 (n);

          ew_coding_item_write (item, mask, n, G_MAXUINT32 >> item->bit);
          for (gsize k = 0; k < n; k++)
            g_assert_cmpuint ((old[k] ^ new[k]) & ~mask[k], ==, 0);
          saw_gateway = TRUE;
        }
      if (g_strcmp0 (c->module->id, sc->option_holder) == 0 && c->did->did == sc->option_did)
        saw_option = TRUE;
    }
  g_assert_true (saw_gateway && saw_option && saw_vin);

  before = snapshot_plan (connection, plan);
  job_id = ew_coding_apply (connection, store, plan, NULL, NULL, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (job_id, >, 0);

  /* after: the car knows the seat, the seat knows the car */
  g_assert_cmpstr (item_value (connection, sc->gateway, sc->gateway_did, sc->gateway_item), ==,
                   "fitted");
  g_free (options);
  options = sim_text (connection, sc->option_holder, sc->option_did);
  g_assert_true (list_has (options, sc->option));
  g_assert_cmpstr (item_value (connection, sc->seat, sc->seat_did, sc->seat_item), ==, "fitted");
  vin = module_vin (connection, sc->seat);
  g_assert_cmpstr (vin, ==, car_vin);
  rescan = ew_test_scan_car (connection);
  g_assert_false (has_vin_mismatch (rescan, sc->seat));
  after = ew_test_read_catalogue (connection);
  if (sc->feature != NULL)
    g_assert_cmpint (ew_feature_catalogue_find (after, sc->feature)->availability, ==,
                     EW_FEATURE_SWITCHABLE);
  /* the options the car had are all still there */
  {
    g_autofree char *key = g_strdup_printf ("%s:%04X", sc->option_holder, sc->option_did);
    GBytes *old = g_hash_table_lookup (before, key);
    g_autofree char *old_text = g_strndup (g_bytes_get_data (old, NULL), g_bytes_get_size (old));
    g_auto(GStrv) old_codes = g_strsplit (old_text, ",", -1);
    g_auto(GStrv) new_codes = g_strsplit (options, ",", -1);

    g_assert_cmpuint (g_strv_length (old_codes), >, 0);
    for (guint i = 0; old_codes[i] != NULL; i++)
      g_assert_true (list_has (options, old_codes[i]));
    g_assert_cmpuint (g_strv_length (old_codes) + 1, ==, g_strv_length (new_codes));
  }

  /* a second retrofit finds nothing to do */
  again = ew_retrofit_plan_new (connection, after, sc->seat, NULL, &error);
  g_assert_error (error, EW_CODING_ERROR, EW_CODING_ERROR_NOTHING_TO_DO);
  g_assert_null (again);
  g_clear_error (&error);

  /* the backups cover every DID written, with the bytes they replaced */
  backups = ew_job_store_get_backups (store, job_id, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (backups->len, ==, plan->changes->len);
  for (guint i = 0; i < backups->len; i++)
    {
      const EwJobBackup *b = g_ptr_array_index (backups, i);
      g_autofree char *key = g_strdup_printf ("%s:%04X", b->module_id, b->did);
      GBytes *old = g_hash_table_lookup (before, key);

      g_assert_nonnull (old);
      g_assert_true (g_bytes_equal (b->before, old));
      g_assert_cmpint (b->state, ==, EW_BACKUP_VERIFIED);
    }

  /* and undoing the job puts every byte back */
  restore_id = ew_coding_restore (connection, store, job_id, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (restore_id, >, 0);
  assert_snapshot (connection, before);
  g_clear_pointer (&rescan, ew_scan_result_free);
  rescan = ew_test_scan_car (connection);
  g_assert_true (has_vin_mismatch (rescan, sc->seat));
}

/* Every retrofit the shipped families describe plans on the used-seat
 * car where its module is present; the jobs' retrofits have data. */
static void
test_every_retrofit (void)
{
  for (guint f = 0; f < G_N_ELEMENTS (seat_cases); f++)
    {
      EwFamily *family = ew_vehicle_database_find_family (db, seat_cases[f].family);
      guint n_jobs = 0;

      g_assert_nonnull (family);
      for (guint j = 0; j < family->jobs->len; j++)
        {
          const EwJobTemplate *job = g_ptr_array_index (family->jobs, j);
          const EwModule *module;

          if (job->kind != EW_JOB_RETROFIT)
            continue;
          module = ew_family_find_module (family, job->module);
          g_assert_nonnull (module);
          g_assert_nonnull (module->retrofit);
          g_assert_cmpuint (module->retrofit->car_coding->len, >, 0);
          g_assert_true (module->retrofit->has_vin_link);
          n_jobs++;
        }
      g_assert_cmpuint (n_jobs, >, 0);
      g_assert_nonnull (ew_family_find_module (family, seat_cases[f].seat)->retrofit);
    }
}

static void
test_errors (void)
{
  g_autoptr(EwConnection) connection = ew_test_open_car (db, "sim:bmw-f30?profile=used-heated-seat");
  g_autoptr(EwFeatureCatalogue) catalogue = ew_test_read_catalogue (connection);
  g_autoptr(EwConnection) silent = ew_test_open_car (db, "sim:bmw-f30?profile=used-heated-seat&faults=drop=sm:100%25");
  g_autoptr(EwFeatureCatalogue) silent_catalogue = ew_test_read_catalogue (silent);
  g_autoptr(EwCodingPlan) plan = NULL;
  g_autoptr(EwJobStore) store = ew_test_open_store (tmp_dir);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) zgw_before = sim_did (connection, "zgw", 0x3000);

  plan = ew_retrofit_plan_new (connection, catalogue, "dme", NULL, &error);
  g_assert_error (error, EW_CODING_ERROR, EW_CODING_ERROR_NO_RETROFIT);
  g_assert_null (plan);
  g_clear_error (&error);

  plan = ew_retrofit_plan_new (connection, catalogue, "no-such-module", NULL, &error);
  g_assert_error (error, EW_CODING_ERROR, EW_CODING_ERROR_NO_RETROFIT);
  g_assert_null (plan);
  g_clear_error (&error);

  plan = ew_retrofit_plan_new (silent, silent_catalogue, "sm", NULL, &error);
  g_assert_error (error, EW_CODING_ERROR, EW_CODING_ERROR_MODULE_SILENT);
  g_assert_nonnull (strstr (error->message, "SMFA"));
  g_assert_null (plan);
  g_clear_error (&error);

  /* illustrative retrofit data is never written to a car that is not
   * simulated */
  plan = ew_retrofit_plan_new (connection, catalogue, "sm", NULL, &error);
  g_assert_no_error (error);
  plan->is_simulated = FALSE;
  g_assert_cmpint (ew_coding_apply (connection, store, plan, NULL, NULL, NULL, NULL, NULL, &error),
                   ==, 0);
  g_assert_error (error, EW_CODING_ERROR, EW_CODING_ERROR_PROVENANCE);
  {
    g_autoptr(GBytes) zgw_now = sim_did (connection, "zgw", 0x3000);

    g_assert_true (g_bytes_equal (zgw_now, zgw_before));
  }
}

/* The seat module refuses its first write: the gateway and the option
 * list, already written, are restored too. */
static void
test_fault_rolls_back_car (void)
{
  g_autoptr(EwConnection) connection =
    ew_test_open_car (db, "sim:bmw-f30?profile=used-heated-seat&faults=nrc=sm:0x2E:0x72@1");
  g_autoptr(EwFeatureCatalogue) catalogue = ew_test_read_catalogue (connection);
  g_autoptr(EwJobStore) store = ew_test_open_store (tmp_dir);
  g_autoptr(EwCodingPlan) plan = NULL;
  g_autoptr(GHashTable) before = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(EwJobRecord) record = NULL;
  g_autofree char *options = NULL;
  gint64 job_id = 0;

  plan = ew_retrofit_plan_new (connection, catalogue, "sm", NULL, &error);
  g_assert_no_error (error);
  before = snapshot_plan (connection, plan);
  g_assert_cmpuint (g_hash_table_size (before), ==, 4);   /* zgw, fem options, sm coding, sm VIN */

  g_assert_cmpint (ew_coding_apply (connection, store, plan, NULL, NULL, NULL, &job_id, NULL, &error),
                   ==, 0);
  g_assert_error (error, EW_CODING_ERROR, EW_CODING_ERROR_ROLLED_BACK);
  g_assert_cmpint (job_id, >, 0);
  assert_snapshot (connection, before);
  options = sim_text (connection, "fem", 0x3F1C);
  g_assert_false (list_has (options, "494"));
  g_assert_cmpstr (item_value (connection, "zgw", 0x3000, "smfa-fitted"), ==, "not-fitted");
  record = ew_job_store_get_job (store, job_id, NULL);
  g_assert_nonnull (record);
  g_assert_cmpint (record->state, ==, EW_JOB_STATE_ROLLED_BACK);
}

/* A car that already has the option and the module's VIN: only the
 * gateway learns the module is there; nothing else is written. */
static void
test_only_what_is_missing (void)
{
  g_autoptr(EwConnection) connection = ew_test_open_car (db, "sim:bmw-f30?profile=used-heated-seat");
  g_autoptr(EwFeatureCatalogue) catalogue = ew_test_read_catalogue (connection);
  g_autoptr(EwCodingPlan) plan = NULL;
  g_autoptr(EwJobStore) store = ew_test_open_store (tmp_dir);
  g_autoptr(GError) error = NULL;
  g_autofree char *before = sim_text (connection, "fem", 0x3F1C);
  g_autofree char *after = NULL;
  const EwCodingChange *change;

  g_assert_true (list_has (before, "508"));
  plan = ew_retrofit_plan_new (connection, catalogue, "pma", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (plan->changes->len, ==, 1);
  change = g_ptr_array_index (plan->changes, 0);
  g_assert_cmpstr (change->module->id, ==, "zgw");
  g_assert_cmpuint (plan->notes->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (plan->notes, 0), ==, "PMA parking manoeuvre assistant / PDC: Not fitted → Fitted");
  g_assert_cmpint (ew_coding_apply (connection, store, plan, NULL, NULL, NULL, NULL, NULL, &error),
                   >, 0);
  g_assert_no_error (error);
  g_assert_cmpstr (item_value (connection, "zgw", 0x3000, "pma-fitted"), ==, "fitted");
  after = sim_text (connection, "fem", 0x3F1C);
  g_assert_cmpstr (after, ==, before);
}

/* The loader checks every reference of a <retrofit> and names the line. */
typedef struct {
  const char *from;
  const char *to;
  const char *message;
} BadRetrofit;

static void
test_loader_errors (void)
{
  static const BadRetrofit cases[] = {
    { "module=\"zgw\" did=\"0x3000\" item=\"smfa-fitted\"", "module=\"nowhere\" did=\"0x3000\" item=\"smfa-fitted\"",
      "codes module 'nowhere'" },
    { "item=\"smfa-fitted\" value=\"fitted\"", "item=\"smfa-missing\" value=\"fitted\"",
      "has no item 'smfa-missing'" },
    { "item=\"smfa-fitted\" value=\"fitted\"", "item=\"smfa-fitted\" value=\"yes\"",
      "has no value 'yes'" },
    { "<car-coding module=\"zgw\" did=\"0x3000\" item=\"smfa", "<car-coding module=\"zgw\" did=\"0x3001\" item=\"smfa",
      "has no coding DID 0x3001" },
    { "<option code=\"494\"/>", "<option code=\"999\"/>", "adds option '999'" },
    { "option=\"494\" if-fitted=\"fitted\"", "option=\"494\" if-fitted=\"on\"", "has no value 'on'" },
  };
  g_autofree char *schema = g_build_filename (g_getenv ("ECU_WORKSHOP_DATA_DIR"), "vehicles",
                                              "vehicle-family.xsd", NULL);
  g_autofree char *source = g_build_filename (g_getenv ("ECU_WORKSHOP_DATA_DIR"), "vehicles",
                                              "bmw-f30.xml", NULL);
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_get_contents (source, &text, NULL, &error));
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_build_filename (tmp_dir, "bad-retrofit.xml", NULL);
      g_autofree char *line = NULL;
      const char *at;
      g_autoptr(GString) bad = g_string_new (text);
      g_autoptr(EwFamily) family = NULL;
      guint n_line = 1;

      /* the first occurrence in the SMFA's <retrofit>, which starts so */
      at = strstr (strstr (text, "<car-coding module=\"zgw\" did=\"0x3000\" item=\"smfa"), cases[i].from);
      g_assert_nonnull (at);
      for (const char *c = text; c < at; c++)
        n_line += *c == '\n';
      g_string_erase (bad, at - text, (gssize) strlen (cases[i].from));
      g_string_insert (bad, at - text, cases[i].to);
      g_assert_true (g_file_set_contents (path, bad->str, (gssize) bad->len, &error));
      family = ew_family_load_file (path, schema, &error);
      g_assert_null (family);
      g_assert_nonnull (error);
      line = g_strdup_printf ("bad-retrofit.xml:%u:", n_line);
      if (strstr (error->message, line) == NULL || strstr (error->message, cases[i].message) == NULL)
        g_error ("case %u: “%s” should name %s and say %s", i, error->message, line, cases[i].message);
      g_clear_error (&error);
    }
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);

  tmp_dir = g_dir_make_tmp ("test-retrofit-XXXXXX", &error);
  g_assert_no_error (error);
  db = ew_vehicle_database_new (NULL);
  ew_vehicle_database_add_default_dirs (db, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (seat_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/retrofit/used-heated-seat/%s", seat_cases[i].family);

      g_test_add_data_func (path, &seat_cases[i], test_seat);
    }
  g_test_add_func ("/retrofit/every-retrofit", test_every_retrofit);
  g_test_add_func ("/retrofit/errors", test_errors);
  g_test_add_func ("/retrofit/loader-errors", test_loader_errors);
  g_test_add_func ("/retrofit/fault-rolls-back-car", test_fault_rolls_back_car);
  g_test_add_func ("/retrofit/only-what-is-missing", test_only_what_is_missing);

  status = g_test_run ();
  ew_vehicle_database_free (db);
  ew_test_remove_tree (tmp_dir);
  g_free (tmp_dir);
  return status;
}
