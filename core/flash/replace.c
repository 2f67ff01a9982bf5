/* replace.c — a used or new module programmed and linked to the car: the
 * flash engine for its software, one coding plan for VIN, mileage and
 * coding, and a journal of its own over all of it.
 */
#include "config.h"

#include "replace.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "coding/coding-transaction.h"
#include "connect/supply-voltage.h"
#include "data-dir.h"
#include "uds/seedkey.h"
#include "uds/uds-client.h"

G_DEFINE_QUARK (ew-replace-error-quark, ew_replace_error)

/* A value above this is an erased or corrupt store, not a car's mileage. */
#define CREDIBLE_MAX_KM 2000000u
/* 1 mile = 1.609344 km, in integers so that rounding is exact */
#define METRES_PER_MILE_X1000 1609344u

typedef struct {
  const char *kind;
  const char *name;
  double      weight;            /* share of the job's progress */
} StepKind;

/* The default steps, for a module without a job template. */
static const StepKind step_kinds[] = {
  { "read-mileage",     N_("Read the car's mileage from its own stores"), 5 },
  { "program",          N_("Program the module's software"),              60 },
  { "vin-write",        N_("Write the car's VIN into the module"),        4 },
  { "mileage-transfer", N_("Transfer the mileage"),                        4 },
  { "code-from-car",    N_("Code the module from the car"),               4 },
  { "clear-dtc",        N_("Clear the module's fault memory"),             3 },
  { "verify",           N_("Verify software, VIN and mileage"),            10 },
};

#define PAIRING_KIND "immobiliser-pairing"
#define PAIRING_WEIGHT 5

static double
step_weight (const char *kind)
{
  if (g_str_equal (kind, PAIRING_KIND))
    return PAIRING_WEIGHT;
  for (gsize i = 0; i < G_N_ELEMENTS (step_kinds); i++)
    if (g_str_equal (step_kinds[i].kind, kind))
      return step_kinds[i].weight;
  return 2;
}

static gboolean
is_coding_kind (const char *kind)
{
  return g_str_equal (kind, "vin-write") || g_str_equal (kind, "mileage-transfer") ||
         g_str_equal (kind, "code-from-car");
}

/* Mileage store encoding ------------------------------------------------- */

guint32
ew_mileage_store_decode_km (const EwMileageStore *store,
                            GBytes               *bytes)
{
  gsize n = 0;
  const guint8 *data = g_bytes_get_data (bytes, &n);
  guint64 raw = 0;
  guint64 value;

  for (gsize i = 0; i < n && i < 8; i++)
    raw = raw << 8 | data[i];
  raw = MIN (raw, G_MAXUINT32);
  value = raw * MAX (store->scale, 1);
  if (store->unit_is_miles)
    value = (value * METRES_PER_MILE_X1000 + 500000) / 1000000;
  return (guint32) MIN (value, G_MAXUINT32);
}

GBytes *
ew_mileage_store_encode_km (const EwMileageStore *store,
                            guint32               km)
{
  guint n = store->length_bytes;
  g_autofree guint8 *data = g_malloc0 (MAX (n, 1));
  guint64 scale = MAX (store->scale, 1);
  /* rounded up, both times: the store never reads back below km */
  guint64 value = store->unit_is_miles
                  ? ((guint64) km * 1000000 + METRES_PER_MILE_X1000 - 1) / METRES_PER_MILE_X1000
                  : km;
  guint64 raw = (value + scale - 1) / scale;

  for (guint i = n; i > 0; i--)
    {
      data[i - 1] = (guint8) (raw & 0xFF);
      raw >>= 8;
    }
  return g_bytes_new (data, n);
}

/* Plan ------------------------------------------------------------------- */

static void
reading_free (EwMileageReading *r)
{
  g_free (r->note);
  g_free (r);
}

static void
step_free (EwReplaceStep *s)
{
  g_free (s->kind);
  g_free (s->name);
  g_free (s->detail);
  g_free (s);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EwMileageReading, reading_free)

void
ew_replace_plan_free (EwReplacePlan *plan)
{
  if (plan == NULL)
    return;
  g_clear_pointer (&plan->family, ew_family_unref);
  g_free (plan->car_vin);
  g_free (plan->module_vin);
  g_free (plan->software_now);
  g_free (plan->software_new);
  g_free (plan->container_path);
  g_clear_pointer (&plan->car_readings, g_ptr_array_unref);
  g_clear_pointer (&plan->module_readings, g_ptr_array_unref);
  g_free (plan->mileage_choice);
  g_free (plan->refusal);
  g_clear_pointer (&plan->steps, g_ptr_array_unref);
  g_clear_pointer (&plan->master_serial, g_bytes_unref);
  g_free (plan->master_serial_text);
  g_free (plan->pairing_now);
  g_free (plan);
}

static GBytes *
read_did (EwConnection *connection, const EwModule *module, guint16 did,
          GCancellable *cancellable, GError **error)
{
  g_autoptr(EwChannel) channel = ew_connection_open_channel (connection, module, error);
  g_autoptr(EwUdsClient) client = NULL;

  if (channel == NULL)
    return NULL;
  client = ew_uds_client_new (channel, module->name);
  return ew_uds_client_read_did (client, did, cancellable, error);
}

static const EwIdentificationDid *
identification_of_role (const EwModule *module, EwIdentificationRole role)
{
  for (guint i = 0; i < module->identification->len; i++)
    {
      const EwIdentificationDid *id = g_ptr_array_index (module->identification, i);

      if (id->role == role)
        return id;
    }
  return NULL;
}

static const EwScanModule *
scan_module (const EwScanResult *scan, const EwModule *module)
{
  for (guint i = 0; i < scan->modules->len; i++)
    {
      const EwScanModule *m = g_ptr_array_index (scan->modules, i);

      if (m->module == module)
        return m;
    }
  return NULL;
}

static const EwJobTemplate *
find_template (const EwFamily *family, const EwModule *module)
{
  for (guint i = 0; i < family->jobs->len; i++)
    {
      const EwJobTemplate *t = g_ptr_array_index (family->jobs, i);

      if ((t->kind == EW_JOB_USED_CLUSTER || t->kind == EW_JOB_BODY_MODULE ||
           t->kind == EW_JOB_ECU_SWAP) &&
          g_strcmp0 (t->module, module->id) == 0)
        return t;
    }
  return NULL;
}

static char *
find_sample (const EwFamily *family, const EwModule *module, const char *dir)
{
  static const char *const extensions[] = { "hex", "srec", "s19", "xml" };

  for (gsize i = 0; i < G_N_ELEMENTS (extensions); i++)
    {
      g_autofree char *name = g_strdup_printf ("%s-%s.%s", family->id, module->id, extensions[i]);
      g_autofree char *path = g_build_filename (dir, name, NULL);

      if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
        return g_steal_pointer (&path);
    }
  return NULL;
}

static gboolean
is_all (GBytes *bytes, guint8 value)
{
  gsize n = 0;
  const guint8 *data = g_bytes_get_data (bytes, &n);

  for (gsize i = 0; i < n; i++)
    if (data[i] != value)
      return FALSE;
  return n > 0;
}

static EwMileageReading *
read_store (EwConnection *connection, const EwModule *module, const EwMileageStore *store,
            GCancellable *cancellable)
{
  EwMileageReading *r = g_new0 (EwMileageReading, 1);
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GBytes) bytes = read_did (connection, module, store->did, cancellable, &local_error);

  r->module = module;
  r->store = store;
  if (bytes == NULL)
    {
      r->note = g_strdup (local_error->message);
      return r;
    }
  r->is_read = TRUE;
  r->km = ew_mileage_store_decode_km (store, bytes);
  if (g_bytes_get_size (bytes) != store->length_bytes)
    r->note = g_strdup_printf (_("%u bytes where the vehicle data has %u"),
                               (guint) g_bytes_get_size (bytes), store->length_bytes);
  else if (is_all (bytes, 0xFF))
    r->note = g_strdup (_("erased (all bytes 0xFF)"));
  else if (r->km == 0)
    r->note = g_strdup (_("zero"));
  else if (r->km > CREDIBLE_MAX_KM)
    r->note = g_strdup_printf (_("above %u km"), CREDIBLE_MAX_KM);
  else
    r->is_credible = TRUE;
  return r;
}

/* The car's mileage: the highest credible store of the car's own modules.
 * The highest, because every store only ever counts up: a lower one
 * missed kilometres (a module swapped or asleep), never the other way. */
static void
choose_mileage (EwReplacePlan *plan)
{
  const EwMileageReading *best = NULL;
  g_autoptr(GString) others = g_string_new (NULL);

  for (guint i = 0; i < plan->car_readings->len; i++)
    {
      const EwMileageReading *r = g_ptr_array_index (plan->car_readings, i);

      if (r->is_credible && (best == NULL || r->km > best->km))
        best = r;
    }
  if (best == NULL)
    {
      plan->mileage_km = 0;
      plan->mileage_choice = g_strdup (_("No credible mileage in the car's own stores"));
      return;
    }
  plan->mileage_km = best->km;
  for (guint i = 0; i < plan->car_readings->len; i++)
    {
      const EwMileageReading *r = g_ptr_array_index (plan->car_readings, i);

      if (r == best)
        continue;
      if (others->len > 0)
        g_string_append (others, "; ");
      if (r->is_credible)
        g_string_append_printf (others, "%s (%s) %u km", r->store->name, r->module->id, r->km);
      else
        g_string_append_printf (others, _("%s (%s) not used: %s"), r->store->name, r->module->id,
                                r->note != NULL ? r->note : "");
    }
  /* TRANSLATORS: km, the store's name, the module id, then the other stores */
  plan->mileage_choice =
    g_strdup_printf (_("%u km from %s (%s), the highest credible of the car's own stores; "
                       "the car's mileage is never taken lower than a store shows. Others: %s"),
                     best->km, best->store->name, best->module->id,
                     others->len > 0 ? others->str : _("none"));
}

static void
add_step (EwReplacePlan *plan, const char *kind, const char *name, gboolean is_skipped,
          char *detail)
{
  EwReplaceStep *s = g_new0 (EwReplaceStep, 1);

  s->kind = g_strdup (kind);
  s->name = g_strdup (name);
  s->is_skipped = is_skipped;
  s->detail = detail;
  g_ptr_array_add (plan->steps, s);
}

static char *
mileage_transfer_detail (EwReplacePlan *plan, gboolean *is_skipped)
{
  g_autoptr(GString) s = g_string_new (NULL);
  guint n_writes = 0;

  for (guint i = 0; i < plan->module->mileage->len; i++)
    {
      const EwMileageStore *store = g_ptr_array_index (plan->module->mileage, i);
      const EwMileageReading *now = NULL;

      if (!store->is_writable)
        continue;
      for (guint j = 0; j < plan->module_readings->len; j++)
        {
          const EwMileageReading *r = g_ptr_array_index (plan->module_readings, j);
          if (r->store == store)
            now = r;
        }
      if (s->len > 0)
        g_string_append (s, "; ");
      if (now != NULL && now->is_read && now->km == plan->mileage_km)
        g_string_append_printf (s, _("%s already shows %u km"), store->name, now->km);
      else if (now != NULL && now->is_read && now->km > plan->mileage_km)
        g_string_append_printf (s, _("%s shows %u km, more than the car's %u km: refused, a "
                                     "mileage is never lowered"),
                                store->name, now->km, plan->mileage_km);
      else
        {
          n_writes++;
          if (now != NULL && now->is_read)
            g_string_append_printf (s, "%s: %u km → %u km", store->name, now->km, plan->mileage_km);
          else
            g_string_append_printf (s, _("%s: → %u km (not readable now)"), store->name,
                                    plan->mileage_km);
        }
    }
  *is_skipped = n_writes == 0;
  if (s->len == 0)
    g_string_append (s, _("the module has no writable mileage store"));
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static gboolean
template_has_kind (const EwJobTemplate *job, const char *kind)
{
  for (guint i = 0; job != NULL && i < job->operations->len; i++)
    if (g_str_equal (((EwJobOperation *) g_ptr_array_index (job->operations, i))->kind, kind))
      return TRUE;
  return FALSE;
}

static char *
pairing_detail (EwReplacePlan *plan, gboolean *is_skipped)
{
  const EwImmobiliser *immo = plan->module->immobiliser;

  *is_skipped = TRUE;
  if (immo == NULL)
    return g_strdup_printf (_("the vehicle data declares no immobiliser for the %s"),
                            plan->module->name);
  if (plan->is_paired)
    return g_strdup_printf (_("the %s is already paired with the %s (serial %s)"), plan->module->id,
                            plan->immobiliser_master->id, plan->master_serial_text);
  *is_skipped = FALSE;
  /* TRANSLATORS: RID, module id, master id, master name, serial, status now, confirmation */
  return g_strdup_printf (_("RoutineControl 0x%04X: pair the %s with the immobiliser master %s (%s), "
                            "serial %s; the module now reads %s. %s"),
                          immo->pairing_rid, plan->module->id, plan->immobiliser_master->id,
                          plan->immobiliser_master->name,
                          plan->master_serial_text != NULL ? plan->master_serial_text : "?",
                          plan->pairing_now != NULL ? plan->pairing_now : _("nothing (not read)"),
                          plan->needs_confirmation
                          ? _("Needs the technician's explicit confirmation before the job starts.")
                          : _("Confirmed by the technician."));
}

static char *
step_detail (EwReplacePlan *plan, const char *kind, const char *recovery, gboolean *is_skipped)
{
  *is_skipped = FALSE;
  if (g_str_equal (kind, "read-mileage"))
    return g_strdup (plan->mileage_choice);
  if (g_str_equal (kind, "program"))
    {
      *is_skipped = !plan->needs_programming;
      if (*is_skipped)
        return g_strdup_printf (_("the module already runs %s, the container has %s"),
                                plan->software_now, plan->software_new);
      return g_strdup_printf (_("%s → %s from %s"),
                              plan->is_in_bootloader ? _("bootloader")
                              : plan->software_now != NULL ? plan->software_now : "?",
                              plan->software_new, plan->container_path);
    }
  if (g_str_equal (kind, "backup"))
    return g_strdup_printf (_("the coding job backs up every DID before its first write; the "
                              "software is restored from %s"),
                            recovery != NULL ? recovery : plan->container_path);
  if (g_str_equal (kind, "vin-write"))
    {
      if (identification_of_role (plan->module, EW_ID_ROLE_VIN) == NULL)
        {
          *is_skipped = TRUE;
          return g_strdup (_("the module stores no VIN"));
        }
      *is_skipped = g_strcmp0 (plan->module_vin, plan->car_vin) == 0;
      if (*is_skipped)
        return g_strdup_printf (_("the module already holds %s"), plan->car_vin);
      return g_strdup_printf ("%s → %s", plan->module_vin != NULL ? plan->module_vin : "?",
                              plan->car_vin);
    }
  if (g_str_equal (kind, "mileage-transfer"))
    return mileage_transfer_detail (plan, is_skipped);
  if (g_str_equal (kind, "code-from-car"))
    {
      guint n_items = 0;

      if (plan->module->coding->len == 0)
        {
          *is_skipped = TRUE;
          return g_strdup (_("the module has no coding DID"));
        }
      if (plan->module->retrofit != NULL)
        n_items = plan->module->retrofit->module_coding->len;
      return g_strdup_printf (_("the family's default coding of %u DID(s), %u item(s) set from "
                                "the car's option list; only DIDs that differ are written"),
                              plan->module->coding->len, n_items);
    }
  if (g_str_equal (kind, PAIRING_KIND))
    return pairing_detail (plan, is_skipped);
  if (g_str_equal (kind, "clear-dtc"))
    return g_strdup (_("ClearDiagnosticInformation (0x14), all groups"));
  if (g_str_equal (kind, "verify") && template_has_kind (plan->job_template, PAIRING_KIND))
    return g_strdup_printf (_("scan: no VIN, software or bootloader finding for %s; immobiliser "
                              "status paired with the %s"),
                            plan->module->id, plan->module->immobiliser != NULL
                            ? plan->module->immobiliser->master : "?");
  if (g_str_equal (kind, "verify"))
    return g_strdup_printf (_("scan: no VIN, software or bootloader finding for %s; mileage %u km"),
                            plan->module->id, plan->mileage_km);
  return g_strdup (_("no action of the engine: done as part of the other steps"));
}

/* A DID record for people: printable ASCII as text (padding dropped),
 * anything else as hex. */
static char *
bytes_text (const guint8 *data, gsize n)
{
  GString *out;

  for (gsize i = 0; i < n; i++)
    if (data[i] < 0x20 || data[i] >= 0x7F)
      {
        out = g_string_new ("0x");
        for (gsize j = 0; j < n; j++)
          g_string_append_printf (out, "%02X", data[j]);
        return g_string_free (out, FALSE);
      }
  while (n > 0 && data[n - 1] == ' ')
    n--;
  return g_strndup ((const char *) data, n);
}

/* The immobiliser status record for people. */
static char *
pairing_text (GBytes *status)
{
  gsize n = 0;
  const guint8 *data = g_bytes_get_data (status, &n);
  g_autofree char *with = NULL;

  if (n == 0 || data[0] != EW_IMMOBILISER_PAIRED)
    /* TRANSLATORS: an engine unit's immobiliser status */
    return g_strdup (_("not paired"));
  with = bytes_text (data + 1, n - 1);
  /* TRANSLATORS: an engine unit's immobiliser status; %s is the master's serial */
  return g_strdup_printf (_("paired with %s"), with);
}

static gboolean
status_is_paired_with (GBytes *status, GBytes *serial)
{
  gsize n = 0, m = 0;
  const guint8 *data = g_bytes_get_data (status, &n);
  const guint8 *want = g_bytes_get_data (serial, &m);

  return n == m + 1 && data[0] == EW_IMMOBILISER_PAIRED && memcmp (data + 1, want, m) == 0;
}

/* Reads what the pairing needs: the master's serial and the module's
 * immobiliser status. Returns why the pairing cannot run (transfer full),
 * or NULL. */
static char *
plan_pairing (EwReplacePlan *plan, EwConnection *connection, const EwScanResult *scan,
              const EwScanModule *target, GCancellable *cancellable)
{
  const EwImmobiliser *immo = plan->module->immobiliser;
  const EwModule *master = ew_family_find_module (plan->family, immo->master);
  const EwIdentificationDid *serial = identification_of_role (master, EW_ID_ROLE_SERIAL_NUMBER);
  const EwScanModule *sm = scan_module (scan, master);
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GBytes) status = NULL;
  const guint8 *data;
  gsize n;

  plan->immobiliser_master = master;
  /* the vehicle data's routine and DID are made up for the simulator */
  if (immo->provenance.provenance == EW_PROVENANCE_ILLUSTRATIVE && !plan->is_simulated)
    return g_strdup_printf (_("The immobiliser data of the %s is illustrative: the pairing runs "
                              "only on a simulated car"), plan->module->name);
  if (sm == NULL || sm->state != EW_SCAN_MODULE_ANSWERED)
    return g_strdup_printf (_("The immobiliser master %s (%s) does not answer, so the %s cannot be "
                              "paired with it"), master->id, master->name, plan->module->name);
  plan->master_serial = read_did (connection, master, serial->did, cancellable, &local_error);
  if (plan->master_serial == NULL || g_bytes_get_size (plan->master_serial) == 0)
    return g_strdup_printf (_("The serial number of the immobiliser master %s (DID 0x%04X) could "
                              "not be read: %s"), master->id, serial->did,
                            local_error != NULL ? local_error->message : _("empty record"));
  data = g_bytes_get_data (plan->master_serial, &n);
  plan->master_serial_text = bytes_text (data, n);

  if (target == NULL || target->state != EW_SCAN_MODULE_ANSWERED)
    {
      plan->pairing_now = g_strdup (_("no immobiliser status: the module does not run its "
                                      "application"));
      return NULL;
    }
  status = read_did (connection, plan->module, immo->status_did, cancellable, &local_error);
  if (status == NULL)
    {
      plan->pairing_now = g_strdup_printf (_("no immobiliser status (DID 0x%04X): %s"),
                                           immo->status_did, local_error->message);
      return NULL;
    }
  data = g_bytes_get_data (status, &n);
  if (n >= 1 && data[0] == EW_IMMOBILISER_PAIRED)
    {
      g_autofree char *with = bytes_text (data + 1, n - 1);
      gsize m = g_bytes_get_size (plan->master_serial);

      plan->is_paired = n - 1 == m && memcmp (data + 1, g_bytes_get_data (plan->master_serial, NULL),
                                              m) == 0;
      plan->pairing_now = plan->is_paired
                          ? g_strdup_printf (_("paired with %s"), with)
                          : g_strdup_printf (_("paired with another immobiliser (%s)"), with);
    }
  else
    plan->pairing_now = g_strdup (_("not paired"));
  return NULL;
}

EwReplacePlan *
ew_replace_plan_new (EwConnection           *connection,
                     const char             *module_id,
                     const char             *container_path,
                     const EwReplaceOptions *options,
                     GCancellable           *cancellable,
                     GError                **error)
{
  static const EwReplaceOptions no_options = { 0 };
  g_autoptr(EwReplacePlan) plan = g_new0 (EwReplacePlan, 1);
  g_autoptr(EwScanResult) scan = NULL;
  g_autoptr(EwFlashContainer) container = NULL;
  g_autofree char *recovery_dir = NULL;
  g_autofree char *recovery = NULL;
  const EwScanModule *target;
  EwFamily *family;
  gboolean has_transfer = FALSE;
  g_autofree char *pairing_refusal = NULL;

  g_return_val_if_fail (EW_IS_CONNECTION (connection), NULL);
  g_return_val_if_fail (module_id != NULL, NULL);
  if (options == NULL)
    options = &no_options;

  family = ew_connection_get_family (connection);
  if (family == NULL)
    {
      g_set_error (error, EW_CONNECTION_ERROR, EW_CONNECTION_ERROR_UNKNOWN_FAMILY,
                   _("The car on %s has no known vehicle family"), ew_connection_get_uri (connection));
      return NULL;
    }
  plan->family = ew_family_ref (family);
  plan->module = ew_family_find_module (family, module_id);
  if (plan->module == NULL)
    {
      g_set_error (error, EW_REPLACE_ERROR, EW_REPLACE_ERROR_NOT_REPLACEABLE,
                   _("The %s %s has no module “%s”"), family->make, family->model, module_id);
      return NULL;
    }
  plan->job_template = find_template (family, plan->module);
  plan->car_readings = g_ptr_array_new_with_free_func ((GDestroyNotify) reading_free);
  plan->module_readings = g_ptr_array_new_with_free_func ((GDestroyNotify) reading_free);
  plan->steps = g_ptr_array_new_with_free_func ((GDestroyNotify) step_free);

  recovery_dir = options->recovery_dir != NULL ? g_strdup (options->recovery_dir)
                                               : ew_data_path ("flash");
  recovery = find_sample (family, plan->module, recovery_dir);
  plan->container_path = container_path != NULL ? g_strdup (container_path) : g_strdup (recovery);
  if (plan->container_path == NULL)
    {
      g_set_error (error, EW_REPLACE_ERROR, EW_REPLACE_ERROR_NO_CONTAINER,
                   _("No container given for the %s, and none ships as %s-%s in %s"),
                   plan->module->name, family->id, plan->module->id, recovery_dir);
      return NULL;
    }
  container = ew_flash_container_load (plan->container_path, NULL, error);
  if (container == NULL)
    return NULL;
  plan->software_new = g_strdup (ew_flash_container_get_software_version (container));

  scan = ew_scan_run (connection, 0, NULL, NULL, cancellable, error);
  if (scan == NULL)
    return NULL;
  plan->is_simulated = scan->is_simulated;
  if (scan->vin == NULL)
    {
      g_set_error (error, EW_REPLACE_ERROR, EW_REPLACE_ERROR_NO_VIN,
                   _("The car's VIN could not be read, so the %s cannot be linked to it"),
                   plan->module->name);
      return NULL;
    }
  plan->car_vin = g_strdup (scan->vin);
  target = scan_module (scan, plan->module);
  if (target != NULL)
    {
      plan->is_in_bootloader = target->state == EW_SCAN_MODULE_BOOTLOADER;
      if (target->state == EW_SCAN_MODULE_ANSWERED)
        {
          plan->module_vin = g_strdup (target->vin);
          plan->software_now = g_strdup (target->software_version);
        }
      else if (!plan->is_in_bootloader)
        {
          g_set_error (error, EW_REPLACE_ERROR, EW_REPLACE_ERROR_NOT_REPLACEABLE,
                       _("The %s does not answer: %s"), plan->module->name,
                       target->error_message != NULL ? target->error_message : "");
          return NULL;
        }
    }
  plan->needs_programming = plan->is_in_bootloader || plan->software_now == NULL ||
                            ew_software_version_compare (plan->software_now, plan->software_new) < 0;
  if (plan->needs_programming && plan->module->flash == NULL)
    {
      g_set_error (error, EW_REPLACE_ERROR, EW_REPLACE_ERROR_NOT_REPLACEABLE,
                   _("The %s needs new software but has no flash layout in the vehicle data"),
                   plan->module->name);
      return NULL;
    }

  /* the car's own stores: modules that answer and hold the car's VIN */
  for (guint i = 0; i < family->modules->len; i++)
    {
      const EwModule *m = g_ptr_array_index (family->modules, i);
      const EwScanModule *sm = scan_module (scan, m);

      if (m == plan->module)
        continue;
      for (guint j = 0; j < m->mileage->len; j++)
        {
          const EwMileageStore *store = g_ptr_array_index (m->mileage, j);
          EwMileageReading *r;

          if (sm == NULL || sm->state != EW_SCAN_MODULE_ANSWERED)
            {
              r = g_new0 (EwMileageReading, 1);
              r->module = m;
              r->store = store;
              r->note = g_strdup (_("the module does not run its application"));
            }
          else
            {
              r = read_store (connection, m, store, cancellable);
              if (r->is_credible && sm->vin != NULL && g_strcmp0 (sm->vin, plan->car_vin) != 0)
                {
                  r->is_credible = FALSE;
                  g_free (r->note);
                  r->note = g_strdup_printf (_("the module holds another car's VIN (%s)"), sm->vin);
                }
            }
          g_ptr_array_add (plan->car_readings, r);
        }
    }
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  choose_mileage (plan);

  if (target != NULL && target->state == EW_SCAN_MODULE_ANSWERED)
    for (guint j = 0; j < plan->module->mileage->len; j++)
      g_ptr_array_add (plan->module_readings,
                       read_store (connection, plan->module,
                                   g_ptr_array_index (plan->module->mileage, j), cancellable));

  if (plan->module->immobiliser != NULL && template_has_kind (plan->job_template, PAIRING_KIND))
    {
      pairing_refusal = plan_pairing (plan, connection, scan, target, cancellable);
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;
      plan->needs_confirmation = pairing_refusal == NULL && !plan->is_paired &&
                                 !options->confirm_immobiliser;
    }

  /* the steps: the template's, else the default */
  if (plan->job_template != NULL)
    for (guint i = 0; i < plan->job_template->operations->len; i++)
      {
        const EwJobOperation *op = g_ptr_array_index (plan->job_template->operations, i);
        gboolean is_skipped;
        char *detail = step_detail (plan, op->kind, recovery, &is_skipped);

        has_transfer |= g_str_equal (op->kind, "mileage-transfer");
        add_step (plan, op->kind, op->name, is_skipped, detail);
      }
  else
    for (gsize i = 0; i < G_N_ELEMENTS (step_kinds); i++)
      {
        gboolean is_skipped;
        char *detail;

        /* a module with no mileage store has nothing to read or transfer */
        if (plan->module->mileage->len == 0 &&
            (g_str_equal (step_kinds[i].kind, "read-mileage") ||
             g_str_equal (step_kinds[i].kind, "mileage-transfer")))
          continue;
        detail = step_detail (plan, step_kinds[i].kind, recovery, &is_skipped);
        has_transfer |= g_str_equal (step_kinds[i].kind, "mileage-transfer");
        add_step (plan, step_kinds[i].kind, _(step_kinds[i].name), is_skipped, detail);
      }

  if (has_transfer)
    {
      for (guint i = 0; i < plan->module_readings->len; i++)
        {
          const EwMileageReading *r = g_ptr_array_index (plan->module_readings, i);

          if (r->is_read && r->km > plan->mileage_km && plan->mileage_km > 0)
            {
              /* TRANSLATORS: module name, store name, its km, the car's km */
              plan->refusal_code = EW_REPLACE_ERROR_MILEAGE_HIGHER;
              plan->refusal =
                g_strdup_printf (_("The %s shows %u km in %s, more than the car's %u km: a "
                                   "mileage cannot be lowered, so this module cannot be fitted "
                                   "to this car"),
                                 plan->module->name, r->km, r->store->name, plan->mileage_km);
              break;
            }
        }
      if (plan->refusal == NULL && plan->mileage_km == 0)
        {
          plan->refusal_code = EW_REPLACE_ERROR_MILEAGE_HIGHER;
          plan->refusal = g_strdup_printf (_("No credible mileage in the car's own stores: the "
                                             "mileage of the %s cannot be set"),
                                           plan->module->name);
        }
    }
  if (plan->refusal == NULL && pairing_refusal != NULL)
    {
      plan->refusal_code = EW_REPLACE_ERROR_IMMOBILISER;
      plan->refusal = g_steal_pointer (&pairing_refusal);
    }

  /* the supply, before the first write of any step: a job that only codes
   * and links writes too, and the flash and coding engines read it again */
  {
    g_autoptr(GError) supply_error = NULL;
    const EwModule *from = NULL;

    plan->supply_voltage_mv = ew_supply_voltage_read (connection, plan->module, NULL, cancellable, &from);
    if (g_cancellable_set_error_if_cancelled (cancellable, error))
      return NULL;
    if (plan->refusal == NULL &&
        !ew_supply_voltage_check (plan->supply_voltage_mv,
                                  plan->needs_programming ? EW_WORK_CLASS_PROGRAMMING
                                                          : EW_WORK_CLASS_CODING,
                                  from, &supply_error))
      {
        plan->refusal_code = EW_REPLACE_ERROR_SUPPLY_VOLTAGE;
        plan->refusal = g_strdup (supply_error->message);
      }
  }
  return g_steal_pointer (&plan);
}

/* Run -------------------------------------------------------------------- */

typedef struct {
  EwConnection          *connection;
  EwJobStore            *store;
  EwReplacePlan         *plan;
  const EwReplaceOptions *options;
  EwReplaceProgressFunc  progress;
  gpointer               user_data;
  GCancellable          *cancellable;
  gint64                 job_id;
  double                 base;           /* progress at the step's start */
  double                 span;           /* the step's share */
  double                 last;
} Run;

static void
report (Run *r, const char *step, double within, const char *detail)
{
  double f = r->base + r->span * CLAMP (within, 0.0, 1.0);

  r->last = MAX (r->last, MIN (f, 1.0));
  if (r->progress != NULL)
    r->progress (step, r->last, detail, r->user_data);
}

static void journal (Run *r, const char *step, const char *outcome, const char *format, ...)
  G_GNUC_PRINTF (4, 5);

static void
journal (Run *r, const char *step, const char *outcome, const char *format, ...)
{
  g_autofree char *detail = NULL;
  g_autoptr(GError) error = NULL;
  va_list args;

  va_start (args, format);
  detail = g_strdup_vprintf (format, args);
  va_end (args);
  /* a journal that cannot be written is reported; the car comes first */
  if (!ew_job_store_journal (r->store, r->job_id, step, r->plan->module->id, outcome, detail, &error))
    g_warning ("Journal of job %" G_GINT64_FORMAT ": %s", r->job_id, error->message);
}

static void
on_flash_progress (const EwFlashProgress *p, gpointer user_data)
{
  Run *r = user_data;

  report (r, "program", p->fraction, p->step);
}

static void
on_coding_progress (const char *step, const char *module_id, double fraction, gpointer user_data)
{
  Run *r = user_data;

  (void) module_id;
  report (r, "coding", fraction, step);
}

static const EwRetrofitModuleCoding *
retrofit_item_of (const EwModule *module, guint16 did, const char *item)
{
  if (module->retrofit == NULL)
    return NULL;
  for (guint i = 0; i < module->retrofit->module_coding->len; i++)
    {
      const EwRetrofitModuleCoding *mc = g_ptr_array_index (module->retrofit->module_coding, i);

      if (mc->did == did && g_strcmp0 (mc->item, item) == 0)
        return mc;
    }
  return NULL;
}

/* The car's option list, from the first other module that keeps one. */
static GStrv
read_option_list (Run *r)
{
  EwFamily *family = r->plan->family;

  for (guint i = 0; i < family->modules->len; i++)
    {
      const EwModule *m = g_ptr_array_index (family->modules, i);
      const EwIdentificationDid *id = identification_of_role (m, EW_ID_ROLE_OPTION_LIST);
      g_autoptr(GBytes) bytes = NULL;
      g_autofree char *text = NULL;

      if (m == r->plan->module || id == NULL)
        continue;
      bytes = read_did (r->connection, m, id->did, r->cancellable, NULL);
      if (bytes == NULL)
        continue;
      text = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
      return g_strsplit (text, ",", -1);
    }
  return NULL;
}

static EwCodingDid *
extra_did (EwCodingPlan *cp, guint16 did, const char *name, guint length_bytes)
{
  EwCodingDid *d = g_new0 (EwCodingDid, 1);

  d->did = did;
  d->name = g_strdup (name);
  d->length_bytes = length_bytes;
  d->checksum = EW_CHECKSUM_NONE;
  d->items = g_ptr_array_new ();
  g_ptr_array_add (cp->extra_dids, d);
  return d;
}

static void
add_change (EwCodingPlan *cp, const EwModule *module, const EwCodingDid *did, GBytes *before,
            GBytes *after)
{
  EwCodingChange *c = g_new0 (EwCodingChange, 1);

  c->module = module;
  c->did = did;
  c->before = g_bytes_ref (before);
  c->after = g_bytes_ref (after);
  g_ptr_array_add (cp->changes, c);
}

/* What one of the coding kinds writes, appended to cp. The module is read
 * now (after any programming), so the backups are what it holds. */
static gboolean
plan_coding_kind (Run *r, EwCodingPlan *cp, const char *kind, GString *done, GError **error)
{
  EwReplacePlan *plan = r->plan;
  const EwModule *module = plan->module;

  if (g_str_equal (kind, "vin-write"))
    {
      const EwIdentificationDid *id = identification_of_role (module, EW_ID_ROLE_VIN);
      g_autoptr(GBytes) before = NULL;
      g_autoptr(GBytes) after = NULL;
      g_autofree guint8 *data = NULL;
      guint n;

      if (id == NULL)
        return TRUE;
      before = read_did (r->connection, module, id->did, r->cancellable, error);
      if (before == NULL)
        return FALSE;
      n = id->length_bytes != 0 ? id->length_bytes : (guint) strlen (plan->car_vin);
      data = g_malloc0 (n);
      memcpy (data, plan->car_vin, MIN (n, strlen (plan->car_vin)));
      after = g_bytes_new (data, n);
      if (!g_bytes_equal (before, after))
        {
          add_change (cp, module, extra_did (cp, id->did, id->name != NULL ? id->name : "VIN", n),
                      before, after);
          g_ptr_array_add (cp->notes, g_strdup_printf (_("VIN: %.*s → %s"),
                                                        (int) g_bytes_get_size (before),
                                                        (const char *) g_bytes_get_data (before, NULL),
                                                        plan->car_vin));
        }
      return TRUE;
    }

  if (g_str_equal (kind, "mileage-transfer"))
    {
      for (guint i = 0; i < module->mileage->len; i++)
        {
          const EwMileageStore *store = g_ptr_array_index (module->mileage, i);
          g_autoptr(GBytes) before = NULL;
          g_autoptr(GBytes) after = NULL;
          guint32 km_now;

          if (!store->is_writable)
            continue;
          before = read_did (r->connection, module, store->did, r->cancellable, error);
          if (before == NULL)
            return FALSE;
          km_now = ew_mileage_store_decode_km (store, before);
          if (km_now > plan->mileage_km)
            {
              g_set_error (error, EW_REPLACE_ERROR, EW_REPLACE_ERROR_MILEAGE_HIGHER,
                           _("The %s shows %u km in %s, more than the car's %u km: a mileage "
                             "cannot be lowered"),
                           module->name, km_now, store->name, plan->mileage_km);
              return FALSE;
            }
          after = ew_mileage_store_encode_km (store, plan->mileage_km);
          if (g_bytes_equal (before, after))
            continue;
          add_change (cp, module, extra_did (cp, store->did, store->name, store->length_bytes),
                      before, after);
          g_ptr_array_add (cp->notes, g_strdup_printf ("%s: %u km → %u km", store->name, km_now,
                                                        plan->mileage_km));
        }
      return TRUE;
    }

  /* code-from-car */
  {
    g_auto(GStrv) options = read_option_list (r);
    guint n_items = 0;

    for (guint i = 0; i < module->coding->len; i++)
      {
        const EwCodingDid *did = g_ptr_array_index (module->coding, i);
        g_autoptr(GBytes) before = read_did (r->connection, module, did->did, r->cancellable, error);
        g_autoptr(GBytes) after = NULL;
        g_autofree guint8 *data = NULL;
        gsize n;

        if (before == NULL)
          return FALSE;
        n = g_bytes_get_size (before);
        if (n != did->length_bytes)
          {
            g_set_error (error, EW_CODING_ERROR, EW_CODING_ERROR_MODULE_SILENT,
                         _("DID 0x%04X of the %s gave %u bytes where the vehicle data has %u"),
                         did->did, module->name, (guint) n, did->length_bytes);
            return FALSE;
          }
        /* the family's default coding where the vehicle data has it: a used
         * module's coding belongs to the car it came from */
        if (did->default_bytes != NULL && g_bytes_get_size (did->default_bytes) == n)
          data = g_memdup2 (g_bytes_get_data (did->default_bytes, NULL), n);
        else
          data = g_memdup2 (g_bytes_get_data (before, NULL), n);
        for (guint j = 0; options != NULL && j < did->items->len; j++)
          {
            const EwCodingItem *item = g_ptr_array_index (did->items, j);
            const EwRetrofitModuleCoding *mc = retrofit_item_of (module, did->did, item->id);
            const EwCodingValue *value;

            if (mc == NULL)
              continue;
            value = ew_coding_item_find_value (item, g_strv_contains ((const char *const *) options,
                                                                      mc->option)
                                                     ? mc->if_fitted : mc->if_absent);
            if (value == NULL)
              continue;
            ew_coding_item_write (item, data, n, value->raw);
            n_items++;
          }
        ew_coding_checksum_apply (did, data, n);
        after = g_bytes_new (data, n);
        if (g_bytes_equal (before, after))
          continue;
        add_change (cp, module, did, before, after);
        g_ptr_array_add (cp->notes, g_strdup_printf (_("%s (0x%04X): coded from the car"),
                                                      did->name, did->did));
      }
    g_string_append_printf (done, _("%u item(s) from the option list%s"), n_items,
                            options == NULL ? _(" (no option list read)") : "");
  }
  return TRUE;
}

/* Steps 3-5 as one coding plan; *coding_job_id receives the job. */
static gboolean
run_coding (Run *r, gint64 *coding_job_id, GError **error)
{
  EwReplacePlan *plan = r->plan;
  g_autoptr(EwCodingPlan) cp = ew_coding_plan_new_empty (plan->family);
  g_autoptr(GString) summary = g_string_new (NULL);
  g_autoptr(GString) done = g_string_new (NULL);
  const EwProvenanceInfo *provenance = plan->job_template != NULL
                                       ? &plan->job_template->provenance : &plan->module->provenance;

  for (guint i = 0; i < plan->steps->len; i++)
    {
      const EwReplaceStep *s = g_ptr_array_index (plan->steps, i);
      guint n_before = cp->changes->len;

      if (!is_coding_kind (s->kind))
        continue;
      if (!plan_coding_kind (r, cp, s->kind, done, error))
        {
          journal (r, s->kind, "failed", "%s", (*error)->message);
          return FALSE;
        }
      if (cp->changes->len == n_before)
        journal (r, s->kind, "skipped", _("the module already holds what this step writes"));
      else
        journal (r, s->kind, "planned", "%u DID(s)", cp->changes->len - n_before);
    }
  if (cp->changes->len == 0)
    return TRUE;

  cp->vin = g_strdup (plan->car_vin);
  cp->is_simulated = plan->is_simulated;
  cp->subject_id = g_strconcat ("replace:", plan->module->id, NULL);
  /* TRANSLATORS: the module's name */
  cp->subject_name = g_strdup_printf (_("Replacement of the %s"), plan->module->name);
  cp->subject_provenance = provenance->provenance;
  cp->subject_source = g_strdup (provenance->source);
  g_string_append_printf (summary, "%s: ", cp->subject_name);
  for (guint i = 0; i < cp->notes->len; i++)
    g_string_append_printf (summary, "%s%s", i > 0 ? "; " : "",
                            (const char *) g_ptr_array_index (cp->notes, i));
  cp->summary = g_string_free (g_steal_pointer (&summary), FALSE);

  if (ew_coding_apply (r->connection, r->store, cp, r->options->acknowledged, on_coding_progress, r,
                       coding_job_id, r->cancellable, error) == 0)
    {
      journal (r, "coding", "failed", "coding job %" G_GINT64_FORMAT ": %s", *coding_job_id,
               (*error)->message);
      return FALSE;
    }
  journal (r, "coding", "ok", "coding job %" G_GINT64_FORMAT ": %s; %s", *coding_job_id,
           cp->summary, done->str);
  return TRUE;
}

static gboolean
run_clear_dtc (Run *r, GError **error)
{
  g_autoptr(EwChannel) channel = ew_connection_open_channel (r->connection, r->plan->module, error);
  g_autoptr(EwUdsClient) client = NULL;

  if (channel == NULL)
    return FALSE;
  client = ew_uds_client_new (channel, r->plan->module->name);
  return ew_uds_client_clear_diagnostic_information (client, 0xFFFFFF, r->cancellable, error);
}

static gboolean
run_verify (Run *r, GError **error)
{
  EwReplacePlan *plan = r->plan;
  g_autoptr(EwScanResult) scan = ew_scan_run (r->connection, 0, NULL, NULL, r->cancellable, error);
  g_autoptr(GString) problems = g_string_new (NULL);
  const EwScanModule *sm;

  if (scan == NULL)
    return FALSE;
  for (guint i = 0; i < scan->findings->len; i++)
    {
      const EwScanFinding *f = g_ptr_array_index (scan->findings, i);

      if (f->module == plan->module)
        g_string_append_printf (problems, "%s%s", problems->len > 0 ? "; " : "", f->title);
    }
  sm = scan_module (scan, plan->module);
  if (sm == NULL || sm->software_version == NULL ||
      ew_software_version_compare (sm->software_version, plan->software_new) < 0)
    g_string_append_printf (problems, _("%ssoftware %s, not %s"), problems->len > 0 ? "; " : "",
                            sm != NULL && sm->software_version != NULL ? sm->software_version : "?",
                            plan->software_new);
  for (guint i = 0; plan->mileage_km > 0 && i < plan->module->mileage->len; i++)
    {
      const EwMileageStore *store = g_ptr_array_index (plan->module->mileage, i);
      g_autoptr(EwMileageReading) reading = NULL;

      if (!store->is_writable)
        continue;
      reading = read_store (r->connection, plan->module, store, r->cancellable);
      if (!reading->is_read || reading->km != plan->mileage_km)
        g_string_append_printf (problems, _("%s%s shows %u km, not %u km"),
                                problems->len > 0 ? "; " : "", store->name, reading->km,
                                plan->mileage_km);
    }
  if (plan->master_serial != NULL && template_has_kind (plan->job_template, PAIRING_KIND))
    {
      const EwImmobiliser *immo = plan->module->immobiliser;
      g_autoptr(GError) local_error = NULL;
      g_autoptr(GBytes) status = read_did (r->connection, plan->module, immo->status_did,
                                           r->cancellable, &local_error);
      g_autofree char *now = status != NULL ? pairing_text (status) : g_strdup (local_error->message);

      if (status == NULL || !status_is_paired_with (status, plan->master_serial))
        g_string_append_printf (problems, _("%simmobiliser %s, not paired with the %s (serial %s)"),
                                problems->len > 0 ? "; " : "", now, plan->immobiliser_master->id,
                                plan->master_serial_text);
    }
  if (problems->len > 0)
    {
      g_set_error (error, EW_REPLACE_ERROR, EW_REPLACE_ERROR_VERIFY,
                   _("The %s does not verify: %s"), plan->module->name, problems->str);
      return FALSE;
    }
  return TRUE;
}

static gboolean
run_program (Run *r, gint64 *flash_job_id, GError **error)
{
  EwFlashOptions fo = { 0 };
  g_autoptr(EwFlashJob) job = NULL;
  gint64 id;

  fo.allow_downgrade = r->options->allow_downgrade;
  fo.recovery_dir = r->options->recovery_dir;
  job = ew_flash_job_prepare (r->connection, r->plan->module->id, r->plan->container_path, &fo,
                              r->cancellable, error);
  if (job == NULL)
    return FALSE;
  id = ew_flash_job_run (job, r->store, on_flash_progress, r, r->cancellable, error);
  *flash_job_id = ew_flash_job_get_job_id (job);
  return id != 0;
}

static gboolean
unlock_level (Run *r, EwUdsClient *client, guint8 level_id, GError **error)
{
  EwFamily *family = r->plan->family;
  const EwModule *module = r->plan->module;
  const EwSecurityLevel *level = NULL;
  const char *name;
  g_autoptr(EwSeedKeyProvider) provider = NULL;

  for (guint i = 0; i < module->security->len; i++)
    if (((EwSecurityLevel *) g_ptr_array_index (module->security, i))->level == level_id)
      level = g_ptr_array_index (module->security, i);
  if (level == NULL)
    {
      g_set_error (error, EW_REPLACE_ERROR, EW_REPLACE_ERROR_IMMOBILISER,
                   _("The vehicle data of the %s declares no security level 0x%02X"),
                   module->name, level_id);
      return FALSE;
    }
  name = level->algorithm;
  for (guint i = 0; family->algorithms != NULL && i < family->algorithms->len; i++)
    {
      const EwSecurityAlgorithm *a = g_ptr_array_index (family->algorithms, i);

      if (g_strcmp0 (a->id, level->algorithm) == 0 && a->plugin != NULL)
        name = a->plugin;
    }
  /* the toy algorithm exists for the simulator only; it refuses real cars */
  if (g_strcmp0 (name, "sim-xor-toy") == 0)
    provider = ew_seedkey_provider_new_toy ();
  else
    provider = ew_seedkey_provider_load (name, NULL, error);
  if (provider == NULL)
    return FALSE;
  return ew_uds_client_security_access (client, level, provider, NULL, NULL, r->plan->is_simulated,
                                        r->cancellable, error);
}

/* The pairing routine in its session and at its level, then the status
 * DID read back: paired, with the master's serial. */
static gboolean
run_pairing (Run *r, GError **error)
{
  EwReplacePlan *plan = r->plan;
  const EwImmobiliser *immo = plan->module->immobiliser;
  g_autoptr(EwChannel) channel = ew_connection_open_channel (r->connection, plan->module, error);
  g_autoptr(EwUdsClient) client = NULL;
  g_autoptr(GBytes) result = NULL;
  g_autoptr(GBytes) status = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *now = NULL;

  if (channel == NULL)
    return FALSE;
  client = ew_uds_client_new (channel, plan->module->name);
  if (!ew_uds_client_diagnostic_session_control (client, immo->session, FALSE, r->cancellable,
                                                  &local_error))
    {
      g_set_error (error, EW_REPLACE_ERROR, EW_REPLACE_ERROR_IMMOBILISER,
                   _("The %s refused the session 0x%02X for the immobiliser pairing: %s"),
                   plan->module->name, immo->session, local_error->message);
      return FALSE;
    }
  report (r, PAIRING_KIND, 0.2, "security access");
  if (immo->security_level != 0 && !unlock_level (r, client, immo->security_level, &local_error))
    {
      g_set_error (error, EW_REPLACE_ERROR, EW_REPLACE_ERROR_IMMOBILISER,
                   _("Security access to the %s at level 0x%02X for the immobiliser pairing "
                     "failed: %s"),
                   plan->module->name, immo->security_level, local_error->message);
      return FALSE;
    }
  report (r, PAIRING_KIND, 0.5, "routine");
  result = ew_uds_client_routine_control (client, EW_UDS_ROUTINE_START, immo->pairing_rid,
                                          g_bytes_get_data (plan->master_serial, NULL),
                                          g_bytes_get_size (plan->master_serial),
                                          r->cancellable, &local_error);
  if (result == NULL)
    {
      g_set_error (error, EW_REPLACE_ERROR, EW_REPLACE_ERROR_IMMOBILISER,
                   _("RoutineControl 0x%04X (immobiliser pairing) of the %s with the %s failed: %s"),
                   immo->pairing_rid, plan->module->name, plan->immobiliser_master->name,
                   local_error->message);
      return FALSE;
    }
  if (g_bytes_get_size (result) >= 1 && ((const guint8 *) g_bytes_get_data (result, NULL))[0] != 0)
    {
      g_set_error (error, EW_REPLACE_ERROR, EW_REPLACE_ERROR_IMMOBILISER,
                   _("RoutineControl 0x%04X (immobiliser pairing) of the %s ended with status "
                     "0x%02X, not 0x00 (correct)"),
                   immo->pairing_rid, plan->module->name,
                   ((const guint8 *) g_bytes_get_data (result, NULL))[0]);
      return FALSE;
    }
  report (r, PAIRING_KIND, 0.8, "read back");
  status = ew_uds_client_read_did (client, immo->status_did, r->cancellable, &local_error);
  if (status == NULL)
    {
      g_set_error (error, EW_REPLACE_ERROR, EW_REPLACE_ERROR_IMMOBILISER,
                   _("The immobiliser status (DID 0x%04X) of the %s could not be read back: %s"),
                   immo->status_did, plan->module->name, local_error->message);
      return FALSE;
    }
  now = pairing_text (status);
  if (!status_is_paired_with (status, plan->master_serial))
    {
      g_set_error (error, EW_REPLACE_ERROR, EW_REPLACE_ERROR_IMMOBILISER,
                   _("After the pairing the %s reads %s in DID 0x%04X, not paired with the %s "
                     "(serial %s)"),
                   plan->module->name, now, immo->status_did, plan->immobiliser_master->id,
                   plan->master_serial_text);
      return FALSE;
    }
  /* leave the module as it runs on the road; a refusal changes nothing */
  ew_uds_client_diagnostic_session_control (client, EW_UDS_SESSION_DEFAULT, FALSE, r->cancellable,
                                            NULL);
  return TRUE;
}

/* After a failed pairing: the coding job's backups written back. */
static gboolean
restore_coding (Run *r, EwReplaceJobs *ids, GError **error)
{
  if (ids->coding_job_id == 0)
    {
      journal (r, "rollback", "skipped", "no VIN or coding was written");
      return TRUE;
    }
  /* not cancellable: a half-done job is finished or restored */
  ids->restore_job_id = ew_coding_restore (r->connection, r->store, ids->coding_job_id, NULL, NULL,
                                           NULL, error);
  if (ids->restore_job_id == 0)
    {
      journal (r, "rollback", "failed", "restoring coding job %" G_GINT64_FORMAT ": %s",
               ids->coding_job_id, (*error)->message);
      return FALSE;
    }
  journal (r, "rollback", "rolled-back",
           "coding job %" G_GINT64_FORMAT " (VIN and coding) restored by job %" G_GINT64_FORMAT,
           ids->coding_job_id, ids->restore_job_id);
  return TRUE;
}

static void
end_job (Run *r, EwJobState state, const char *detail)
{
  g_autoptr(GError) error = NULL;

  journal (r, "job", ew_job_state_to_string (state), "%s", detail);
  if (!ew_job_store_set_job_state (r->store, r->job_id, state, &error))
    g_warning ("Job %" G_GINT64_FORMAT ": %s", r->job_id, error->message);
}

gint64
ew_replace_module (EwConnection           *connection,
                   EwJobStore             *store,
                   const char             *module_id,
                   const char             *container_path,
                   const EwReplaceOptions *options,
                   EwReplaceProgressFunc   progress,
                   gpointer                user_data,
                   EwReplaceJobs          *jobs,
                   GCancellable           *cancellable,
                   GError                **error)
{
  static const EwReplaceOptions no_options = { 0 };
  g_autoptr(EwReplacePlan) plan = NULL;
  g_autofree char *summary = NULL;
  EwReplaceJobs ids = { 0 };
  Run r = { 0 };
  double total = 0;
  gboolean has_coded = FALSE;
  gboolean is_written = FALSE;
  gboolean is_restored = FALSE;

  g_return_val_if_fail (store != NULL, 0);
  if (options == NULL)
    options = &no_options;
  if (jobs != NULL)
    *jobs = ids;

  plan = ew_replace_plan_new (connection, module_id, container_path, options, cancellable, error);
  if (plan == NULL)
    return 0;

  r.connection = connection;
  r.store = store;
  r.plan = plan;
  r.options = options;
  r.progress = progress;
  r.user_data = user_data;
  r.cancellable = cancellable;

  if (plan->immobiliser_master != NULL)
    /* TRANSLATORS: the module's name, its id, then the immobiliser master's id */
    summary = g_strdup_printf (_("Replace the %s (%s): software, VIN, coding, immobiliser pairing "
                                 "with the %s"),
                               plan->module->name, plan->module->id, plan->immobiliser_master->id);
  else
    /* TRANSLATORS: the module's name, then its id */
    summary = g_strdup_printf (_("Replace the %s (%s): software, VIN, mileage, coding"),
                               plan->module->name, plan->module->id);
  r.job_id = ew_job_store_begin_job (store, EW_JOB_KIND_PROGRAMMING, plan->car_vin, plan->family->id,
                                     ew_connection_get_uri (connection), summary, 0, error);
  if (r.job_id == 0)
    return 0;
  ids.job_id = r.job_id;
  journal (&r, "plan", "ok", _("%s; %u step(s) from %s"), plan->job_template != NULL
           ? plan->job_template->name : _("the default replacement"), plan->steps->len,
           plan->job_template != NULL ? plan->job_template->id : _("no job template"));

  for (guint i = 0; i < plan->car_readings->len; i++)
    {
      const EwMileageReading *m = g_ptr_array_index (plan->car_readings, i);

      journal (&r, "read-mileage", m->is_credible ? "ok" : "skipped", "%s (%s, 0x%04X): %u km%s%s",
               m->store->name, m->module->id, m->store->did, m->km, m->note != NULL ? ": " : "",
               m->note != NULL ? m->note : "");
    }
  for (guint i = 0; i < plan->module_readings->len; i++)
    {
      const EwMileageReading *m = g_ptr_array_index (plan->module_readings, i);

      journal (&r, "read-mileage", m->is_read ? "ok" : "failed", _("%s in the module (0x%04X): %u km"),
               m->store->name, m->store->did, m->km);
    }
  journal (&r, "mileage", plan->mileage_km > 0 ? "ok" : "failed", "%s", plan->mileage_choice);

  if (plan->refusal != NULL)
    {
      journal (&r, plan->refusal_code == EW_REPLACE_ERROR_IMMOBILISER ? PAIRING_KIND
                   : plan->refusal_code == EW_REPLACE_ERROR_MILEAGE_HIGHER ? "mileage-transfer"
                   : plan->refusal_code == EW_REPLACE_ERROR_SUPPLY_VOLTAGE ? "battery"
                   : "plan", "refused", "%s", plan->refusal);
      end_job (&r, EW_JOB_STATE_ROLLED_BACK, _("refused before any write"));
      g_set_error_literal (error, EW_REPLACE_ERROR, plan->refusal_code, plan->refusal);
      if (jobs != NULL)
        *jobs = ids;
      return 0;
    }

  /* pairing decides which keys start the car: never without a yes */
  if (plan->needs_confirmation)
    {
      journal (&r, PAIRING_KIND, "refused",
               "pairing the %s with the immobiliser master %s (serial %s) was not confirmed by the "
               "technician; the module reads %s; nothing was written",
               plan->module->id, plan->immobiliser_master->id, plan->master_serial_text,
               plan->pairing_now != NULL ? plan->pairing_now : "?");
      end_job (&r, EW_JOB_STATE_ROLLED_BACK, _("refused before any write"));
      /* TRANSLATORS: module name, master id, master name, serial */
      g_set_error (error, EW_REPLACE_ERROR, EW_REPLACE_ERROR_NOT_CONFIRMED,
                   _("Pairing the %s with the immobiliser master %s (%s, serial %s) decides which "
                     "keys start the car, so it must be confirmed explicitly before the job "
                     "starts; nothing was written"),
                   plan->module->name, plan->immobiliser_master->id,
                   plan->immobiliser_master->name, plan->master_serial_text);
      if (jobs != NULL)
        *jobs = ids;
      return 0;
    }
  if (plan->immobiliser_master != NULL && !plan->is_paired)
    journal (&r, PAIRING_KIND, "confirmed",
             "the technician confirmed pairing the %s with the immobiliser master %s (serial %s)",
             plan->module->id, plan->immobiliser_master->id, plan->master_serial_text);

  for (guint i = 0; i < plan->steps->len; i++)
    total += step_weight (((EwReplaceStep *) g_ptr_array_index (plan->steps, i))->kind);

  for (guint i = 0; i < plan->steps->len; i++)
    {
      const EwReplaceStep *s = g_ptr_array_index (plan->steps, i);
      g_autoptr(GError) step_error = NULL;
      gboolean ok = TRUE;

      r.span = step_weight (s->kind) / MAX (total, 1);
      /* the three coding kinds run as one plan, weighted together */
      if (is_coding_kind (s->kind))
        {
          if (has_coded)
            {
              r.base += r.span;
              continue;
            }
          for (guint j = i + 1; j < plan->steps->len; j++)
            {
              const char *k = ((EwReplaceStep *) g_ptr_array_index (plan->steps, j))->kind;
              if (is_coding_kind (k))
                r.span += step_weight (k) / MAX (total, 1);
            }
        }
      report (&r, s->kind, 0, s->name);

      if (g_cancellable_is_cancelled (cancellable) && !is_written)
        {
          g_cancellable_set_error_if_cancelled (cancellable, &step_error);
          journal (&r, "cancel", "done", "%s", step_error->message);
          end_job (&r, EW_JOB_STATE_ROLLED_BACK, _("cancelled before any write"));
          g_propagate_error (error, g_steal_pointer (&step_error));
          if (jobs != NULL)
            *jobs = ids;
          return 0;
        }

      if (g_str_equal (s->kind, "program"))
        {
          if (s->is_skipped)
            journal (&r, s->kind, "skipped", "%s", s->detail);
          else
            {
              journal (&r, s->kind, "started", "%s", s->detail);
              is_written = TRUE;
              ok = run_program (&r, &ids.flash_job_id, &step_error);
              journal (&r, s->kind, ok ? "ok" : "failed", "flash job %" G_GINT64_FORMAT "%s%s",
                       ids.flash_job_id, ok ? "" : ": ", ok ? "" : step_error->message);
            }
        }
      else if (is_coding_kind (s->kind))
        {
          has_coded = TRUE;
          ok = run_coding (&r, &ids.coding_job_id, &step_error);
          is_written |= ids.coding_job_id != 0;
        }
      else if (g_str_equal (s->kind, PAIRING_KIND))
        {
          if (s->is_skipped)
            journal (&r, s->kind, "skipped", "%s", s->detail);
          else
            {
              const EwImmobiliser *immo = plan->module->immobiliser;

              journal (&r, s->kind, "started",
                       "%s with the immobiliser master %s (%s), serial %s: RoutineControl 0x%04X "
                       "in session 0x%02X at security level 0x%02X; status DID 0x%04X before: %s",
                       plan->module->id, plan->immobiliser_master->id, plan->immobiliser_master->name,
                       plan->master_serial_text, immo->pairing_rid, immo->session,
                       immo->security_level, immo->status_did,
                       plan->pairing_now != NULL ? plan->pairing_now : "?");
              is_written = TRUE;
              ok = run_pairing (&r, &step_error);
              if (ok)
                journal (&r, s->kind, "ok",
                         "%s paired with the immobiliser master %s (%s), serial %s; status DID "
                         "0x%04X reads it back",
                         plan->module->id, plan->immobiliser_master->id,
                         plan->immobiliser_master->name, plan->master_serial_text, immo->status_did);
              else
                {
                  g_autoptr(GError) restore_error = NULL;
                  g_autoptr(GBytes) status = read_did (connection, plan->module, immo->status_did,
                                                       NULL, NULL);
                  g_autofree char *now = status != NULL ? pairing_text (status)
                                                        : g_strdup ("unreadable");
                  GError *e;

                  journal (&r, s->kind, "failed", "%s with %s (serial %s): %s; status DID 0x%04X "
                           "now: %s", plan->module->id, plan->immobiliser_master->id,
                           plan->master_serial_text, step_error->message, immo->status_did, now);
                  is_restored = restore_coding (&r, &ids, &restore_error);
                  e = is_restored && ids.coding_job_id == 0
                      ? g_error_new (EW_REPLACE_ERROR, EW_REPLACE_ERROR_IMMOBILISER,
                                     _("%s; no VIN or coding had been written to the %s"),
                                     step_error->message, plan->module->name)
                      : is_restored
                      ? g_error_new (EW_REPLACE_ERROR, EW_REPLACE_ERROR_IMMOBILISER,
                                     _("%s; the VIN and coding written to the %s were restored"),
                                     step_error->message, plan->module->name)
                      : g_error_new (EW_REPLACE_ERROR, EW_REPLACE_ERROR_IMMOBILISER,
                                     _("%s; restoring the VIN and coding of the %s failed too: %s"),
                                     step_error->message, plan->module->name,
                                     restore_error->message);
                  g_clear_error (&step_error);
                  step_error = e;
                }
            }
        }
      else if (g_str_equal (s->kind, "clear-dtc"))
        {
          ok = run_clear_dtc (&r, &step_error);
          journal (&r, s->kind, ok ? "ok" : "failed", "%s", ok ? s->detail : step_error->message);
        }
      else if (g_str_equal (s->kind, "verify"))
        {
          ok = run_verify (&r, &step_error);
          journal (&r, s->kind, ok ? "ok" : "failed", "%s", ok ? s->detail : step_error->message);
        }
      else
        journal (&r, s->kind, "done", "%s", s->detail);

      if (!ok)
        {
          EwJobState state = EW_JOB_STATE_FAILED;

          /* the coding transaction restored what it wrote (the software
           * a flash job loaded before it stays, journalled in its job) */
          if (!is_written || is_restored ||
              g_error_matches (step_error, EW_CODING_ERROR, EW_CODING_ERROR_ROLLED_BACK))
            state = EW_JOB_STATE_ROLLED_BACK;
          end_job (&r, state, step_error->message);
          g_propagate_error (error, g_steal_pointer (&step_error));
          if (jobs != NULL)
            *jobs = ids;
          return 0;
        }
      r.base += r.span;
      report (&r, s->kind, 0, s->name);
    }

  end_job (&r, EW_JOB_STATE_DONE, summary);
  r.base = 1.0;
  r.span = 0;
  report (&r, "done", 1, NULL);
  if (jobs != NULL)
    *jobs = ids;
  return r.job_id;
}
