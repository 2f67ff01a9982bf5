/* scan.c — concurrent identification of every module, and its findings. */
#include "config.h"

#include "scan.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "sim/sim-ecu.h"
#include "connect/supply-voltage.h"
#include "uds/uds-client.h"

/* ISO 14229-1 C.1: the programming session, in which a module that has
 * no valid application sits waiting for software. */
#define SESSION_PROGRAMMING 0x02

typedef struct {
  EwConnection       *connection;
  EwScanResult       *result;
  EwScanProgressFunc  progress;
  gpointer            user_data;
  GCancellable       *cancellable;
  GMutex              lock;          /* progress calls and n_done */
  guint               n_done;
  guint               next;          /* atomic: next module to scan */
} ScanRun;

EwScanModule *
ew_scan_module_copy (const EwScanModule *m)
{
  EwScanModule *copy = g_memdup2 (m, sizeof *m);

  copy->vin = g_strdup (m->vin);
  copy->part_number = g_strdup (m->part_number);
  copy->software_version = g_strdup (m->software_version);
  copy->hardware_version = g_strdup (m->hardware_version);
  copy->serial_number = g_strdup (m->serial_number);
  copy->supplier = g_strdup (m->supplier);
  copy->programming_date = g_strdup (m->programming_date);
  copy->error_message = g_strdup (m->error_message);
  return copy;
}

void
ew_scan_module_free (EwScanModule *m)
{
  g_free (m->vin);
  g_free (m->part_number);
  g_free (m->software_version);
  g_free (m->hardware_version);
  g_free (m->serial_number);
  g_free (m->supplier);
  g_free (m->programming_date);
  g_free (m->error_message);
  g_free (m);
}

static void
finding_free (EwScanFinding *f)
{
  g_free (f->title);
  g_free (f->explanation);
  g_free (f->expected);
  g_free (f->actual);
  g_free (f);
}

void
ew_scan_result_free (EwScanResult *result)
{
  if (result == NULL)
    return;
  g_clear_pointer (&result->family, ew_family_unref);
  g_free (result->vin);
  g_ptr_array_unref (result->modules);
  g_ptr_array_unref (result->findings);
  g_free (result);
}

const char *
ew_scan_module_state_to_string (EwScanModuleState state)
{
  switch (state)
    {
    case EW_SCAN_MODULE_WAITING:    return "waiting";
    case EW_SCAN_MODULE_ANSWERED:   return "answered";
    case EW_SCAN_MODULE_BOOTLOADER: return "bootloader";
    case EW_SCAN_MODULE_SILENT:     return "silent";
    case EW_SCAN_MODULE_FAILED:     return "failed";
    default:                        g_assert_not_reached ();
    }
}

const char *
ew_finding_kind_to_string (EwFindingKind kind)
{
  switch (kind)
    {
    case EW_FINDING_VIN_MISMATCH:    return "vin-mismatch";
    case EW_FINDING_BOOTLOADER:      return "bootloader";
    case EW_FINDING_NOT_ANSWERING:   return "not-answering";
    case EW_FINDING_NOT_FITTED:      return "not-fitted";
    case EW_FINDING_SOFTWARE_BEHIND: return "software-behind";
    case EW_FINDING_IMMOBILISER_UNPAIRED: return "immobiliser-unpaired";
    default:                         g_assert_not_reached ();
    }
}

int
ew_software_version_compare (const char *a,
                             const char *b)
{
  const char *p = a, *q = b;

  /* numbers compare as numbers, everything else as text, piece by piece */
  while (*p != '\0' && *q != '\0')
    {
      if (g_ascii_isdigit (*p) && g_ascii_isdigit (*q))
        {
          guint64 x = g_ascii_strtoull (p, (char **) &p, 10);
          guint64 y = g_ascii_strtoull (q, (char **) &q, 10);

          if (x != y)
            return x < y ? -1 : 1;
        }
      else
        {
          if (*p != *q)
            return (guchar) *p < (guchar) *q ? -1 : 1;
          p++;
          q++;
        }
    }
  return (*p != '\0') - (*q != '\0');
}

/* Identification data as text: ASCII stripped of padding, BCD as digits,
 * anything else as hex. */
static char *
did_to_text (const EwIdentificationDid *did, GBytes *bytes)
{
  gsize length;
  const guint8 *data = g_bytes_get_data (bytes, &length);
  GString *text = g_string_new (NULL);

  switch (did->encoding)
    {
    case EW_DID_ENCODING_ASCII:
      for (gsize i = 0; i < length; i++)
        if (data[i] >= 0x20 && data[i] < 0x7F)
          g_string_append_c (text, (char) data[i]);
      g_strstrip (text->str);
      g_string_set_size (text, strlen (text->str));
      break;
    case EW_DID_ENCODING_BCD:
      for (gsize i = 0; i < length; i++)
        g_string_append_printf (text, "%02X", data[i]);
      break;
    case EW_DID_ENCODING_HEX:
    default:
      for (gsize i = 0; i < length; i++)
        g_string_append_printf (text, "%02X", data[i]);
      break;
    }
  return g_string_free (text, FALSE);
}

static char **
role_slot (EwScanModule *m, EwIdentificationRole role)
{
  switch (role)
    {
    case EW_ID_ROLE_VIN:              return &m->vin;
    case EW_ID_ROLE_PART_NUMBER:      return &m->part_number;
    case EW_ID_ROLE_SOFTWARE_VERSION: return &m->software_version;
    case EW_ID_ROLE_HARDWARE_VERSION: return &m->hardware_version;
    case EW_ID_ROLE_SERIAL_NUMBER:    return &m->serial_number;
    case EW_ID_ROLE_SUPPLIER:         return &m->supplier;
    case EW_ID_ROLE_PROGRAMMING_DATE: return &m->programming_date;
    default:                          return NULL;
    }
}

static gboolean
is_read_in_scan (EwIdentificationRole role)
{
  return role != EW_ID_ROLE_OTHER;
}

/* Whether an engine unit is paired with this car's immobiliser: the
 * first byte of its status DID; -1 when it has none or does not say. */
static gint
read_immobiliser_status (ScanRun *run, EwUdsClient *client, const EwModule *module)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) status = NULL;

  if (module->immobiliser == NULL)
    return -1;
  status = ew_uds_client_read_did (client, module->immobiliser->status_did, run->cancellable, &error);
  if (status == NULL || g_bytes_get_size (status) < 1)
    {
      g_debug ("%s: immobiliser status not read: %s", module->id,
               error != NULL ? error->message : "empty");
      return -1;
    }
  return ((const guint8 *) g_bytes_get_data (status, NULL))[0];
}

/* The room a module is given over its P2 time to answer the scan. A
 * module that answers does so at once; the room counts only for one busy
 * at that moment, behind a loaded gateway or answering a loaded tester,
 * which would otherwise be taken for absent. An absent module costs the
 * scan this long, once: modules are asked side by side. A repeated
 * request would not do: its answer and the late first one would meet the
 * next question. */
#define SCAN_MARGIN_MS 1000

static void
identify_module (ScanRun *run, EwScanModule *m)
{
  const EwModule *module = m->module;
  g_autoptr(GError) error = NULL;
  g_autoptr(EwChannel) channel = ew_connection_open_channel (run->connection, module, &error);
  g_autoptr(EwUdsClient) client = NULL;
  gboolean has_answered = FALSE;
  gboolean is_software_refused = FALSE;

  if (channel == NULL)
    {
      m->state = EW_SCAN_MODULE_FAILED;
      m->error_message = g_strdup (error->message);
      return;
    }
  client = ew_uds_client_new (channel, module->id);
  ew_uds_client_set_timing_margin (client, SCAN_MARGIN_MS);

  for (guint i = 0; i < module->identification->len; i++)
    {
      const EwIdentificationDid *did = g_ptr_array_index (module->identification, i);
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(GError) local_error = NULL;
      char **slot;

      if (!is_read_in_scan (did->role))
        continue;
      bytes = ew_uds_client_read_did (client, did->did, run->cancellable, &local_error);
      if (bytes == NULL)
        {
          if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            {
              m->state = EW_SCAN_MODULE_FAILED;
              m->error_message = g_strdup (local_error->message);
              return;
            }
          if (local_error->domain == EW_UDS_NRC_ERROR)
            {
              /* answered, just not this DID */
              has_answered = TRUE;
              if (did->role == EW_ID_ROLE_SOFTWARE_VERSION)
                is_software_refused = TRUE;
              continue;
            }
          /* silence on the first question: nobody is there */
          if (!has_answered)
            {
              m->state = EW_SCAN_MODULE_SILENT;
              m->error_message = g_strdup (local_error->message);
              return;
            }
          continue;
        }
      has_answered = TRUE;

      if (did->role == EW_ID_ROLE_ACTIVE_SESSION)
        {
          if (g_bytes_get_size (bytes) >= 1)
            m->active_session = ((const guint8 *) g_bytes_get_data (bytes, NULL))[0];
          continue;
        }
      if (did->role == EW_ID_ROLE_SUPPLY_VOLTAGE)
        {
          m->supply_voltage_mv = ew_supply_voltage_from_bytes (bytes);
          continue;
        }
      if (did->role == EW_ID_ROLE_SIMULATION_MARKER)
        {
          m->is_simulated = g_bytes_get_size (bytes) == strlen (EW_SIM_ECU_MARKER)
                            && memcmp (g_bytes_get_data (bytes, NULL), EW_SIM_ECU_MARKER,
                                       strlen (EW_SIM_ECU_MARKER)) == 0;
          continue;
        }
      slot = role_slot (m, did->role);
      if (slot != NULL && *slot == NULL)
        *slot = did_to_text (did, bytes);
    }

  if (!has_answered)
    {
      m->state = EW_SCAN_MODULE_FAILED;
      m->error_message = g_strdup (_("The module answered no identification request"));
      return;
    }
  m->immobiliser_status = read_immobiliser_status (run, client, module);

  /* A module without a running application sits in the programming
   * session on its own, or cannot name its application software. */
  if (m->active_session == SESSION_PROGRAMMING || is_software_refused
      || g_strcmp0 (m->software_version, "bootloader") == 0)
    m->state = EW_SCAN_MODULE_BOOTLOADER;
  else
    m->state = EW_SCAN_MODULE_ANSWERED;
}

static void
report (ScanRun *run, EwScanModule *m, gboolean is_done)
{
  g_mutex_lock (&run->lock);
  if (is_done)
    run->n_done++;
  if (run->progress != NULL)
    run->progress (m, run->n_done, run->result->modules->len, run->user_data);
  g_mutex_unlock (&run->lock);
}

static gpointer
scan_worker (gpointer data)
{
  ScanRun *run = data;

  for (;;)
    {
      guint index = (guint) g_atomic_int_add (&run->next, 1);
      EwScanModule *m;
      gint64 start;

      if (index >= run->result->modules->len)
        break;
      m = g_ptr_array_index (run->result->modules, index);
      if (g_cancellable_is_cancelled (run->cancellable))
        {
          m->state = EW_SCAN_MODULE_FAILED;
          m->error_message = g_strdup (_("The scan was cancelled"));
          report (run, m, TRUE);
          continue;
        }
      report (run, m, FALSE);
      start = g_get_monotonic_time ();
      identify_module (run, m);
      m->duration_ms = (guint) ((g_get_monotonic_time () - start) / 1000);
      report (run, m, TRUE);
    }
  return NULL;
}

/* The car's VIN: the one most modules hold, the gateway's or engine's
 * breaking a tie; the link's announcement when no module holds one. */
static char *
decide_vin (GPtrArray *modules, const char *announced)
{
  g_autoptr(GHashTable) votes = g_hash_table_new (g_str_hash, g_str_equal);
  const char *best = NULL;
  guint best_votes = 0;

  if (announced != NULL && *announced != '\0')
    return g_strdup (announced);

  for (guint i = 0; i < modules->len; i++)
    {
      EwScanModule *m = g_ptr_array_index (modules, i);
      guint n;

      if (m->vin == NULL || strlen (m->vin) != 17)
        continue;
      n = GPOINTER_TO_UINT (g_hash_table_lookup (votes, m->vin)) + 1;
      /* the gateway and the engine count double: they rarely move cars */
      if (m->module->kind == EW_MODULE_GATEWAY || m->module->kind == EW_MODULE_ENGINE)
        n++;
      g_hash_table_insert (votes, m->vin, GUINT_TO_POINTER (n));
      if (n > best_votes)
        {
          best = m->vin;
          best_votes = n;
        }
    }
  return g_strdup (best);
}

/* The highest minimum software level the family's programming features
 * ask of module, or NULL. */
static const char *
expected_software (EwFamily *family, const EwModule *module)
{
  const char *level = NULL;

  for (guint i = 0; i < family->features->len; i++)
    {
      const EwFeature *f = g_ptr_array_index (family->features, i);

      if (f->min_software == NULL || g_strcmp0 (f->module, module->id) != 0)
        continue;
      if (level == NULL || ew_software_version_compare (f->min_software, level) > 0)
        level = f->min_software;
    }
  return level;
}

static void
add_finding (EwScanResult   *result,
             EwFindingKind   kind,
             const EwModule *module,
             char           *title,
             char           *explanation,
             const char     *expected,
             const char     *actual)
{
  EwScanFinding *f = g_new0 (EwScanFinding, 1);

  f->kind = kind;
  f->module = module;
  f->title = title;
  f->explanation = explanation;
  f->expected = g_strdup (expected);
  f->actual = g_strdup (actual);
  g_ptr_array_add (result->findings, f);
}

/* What a module from another car needs depends on what it is: a cluster
 * or an engine ECU is programming work, anything else a retrofit in coding. */
static char *
vin_mismatch_explanation (const EwModule *module, const char *module_vin, const char *car_vin)
{
  switch (module->kind)
    {
    case EW_MODULE_INSTRUMENT_CLUSTER:
      return g_strdup_printf (_("The module holds the VIN %s, but this car is %s: it was taken "
                                "from another car. A used instrument cluster is programming "
                                "work: its software level, the VIN link and the transfer of "
                                "this car's mileage."),
                              module_vin, car_vin);
    case EW_MODULE_ENGINE:
    case EW_MODULE_GEARBOX:
      return g_strdup_printf (_("The module holds the VIN %s, but this car is %s: it was taken "
                                "from another car. A used engine or gearbox control unit needs "
                                "programming to this car; coding alone will not make it work."),
                              module_vin, car_vin);
    default:
      return g_strdup_printf (_("The module holds the VIN %s, but this car is %s: it was taken "
                                "from another car. Coding it for this car and linking it to the "
                                "VIN (a retrofit) makes it belong here; that is coding work."),
                              module_vin, car_vin);
    }
}

static void
judge (EwScanResult *result)
{
  for (guint i = 0; i < result->modules->len; i++)
    {
      EwScanModule *m = g_ptr_array_index (result->modules, i);
      const EwModule *module = m->module;
      const char *level;

      switch (m->state)
        {
        case EW_SCAN_MODULE_SILENT:
        case EW_SCAN_MODULE_FAILED:
          if (module->is_optional)
            add_finding (result, EW_FINDING_NOT_FITTED, module,
                         g_strdup_printf (_("%s: not fitted or not answering"), module->name),
                         g_strdup (_("This module is optional equipment. It did not answer, so the "
                                     "car probably does not have it. Features that need it are "
                                     "shown as not fitted.")),
                         NULL, NULL);
          else
            add_finding (result, EW_FINDING_NOT_ANSWERING, module,
                         g_strdup_printf (_("%s: not answering"), module->name),
                         g_strdup_printf (_("Every car of this family has this module, but it did "
                                            "not answer (%s). Check its fuse, power and wiring "
                                            "before any coding or programming."),
                                          m->error_message != NULL ? m->error_message : "—"),
                         NULL, NULL);
          continue;
        case EW_SCAN_MODULE_BOOTLOADER:
          add_finding (result, EW_FINDING_BOOTLOADER, module,
                       g_strdup_printf (_("%s: stuck in its bootloader"), module->name),
                       g_strdup (_("The module has no working software: an update was "
                                   "interrupted or its memory is corrupt. Coding cannot fix "
                                   "this; the module needs programming (a recovery flash).")),
                       NULL, m->software_version);
          break;
        case EW_SCAN_MODULE_ANSWERED:
        case EW_SCAN_MODULE_WAITING:
        default:
          break;
        }

      if (result->vin != NULL && m->vin != NULL && strlen (m->vin) == 17
          && g_strcmp0 (m->vin, result->vin) != 0)
        add_finding (result, EW_FINDING_VIN_MISMATCH, module,
                     g_strdup_printf (_("%s: from another car"), module->name),
                     vin_mismatch_explanation (module, m->vin, result->vin),
                     result->vin, m->vin);

      if (m->state == EW_SCAN_MODULE_ANSWERED && m->immobiliser_status == EW_IMMOBILISER_NOT_PAIRED)
        {
          const EwModule *master = ew_family_find_module (result->family, module->immobiliser->master);

          add_finding (result, EW_FINDING_IMMOBILISER_UNPAIRED, module,
                       g_strdup_printf (_("%s: not paired with the immobiliser"), module->name),
                       g_strdup_printf (_("The unit is not paired with the immobiliser in the %s: "
                                          "the engine will not start with this car's keys. "
                                          "Pairing it is an adaptation; a unit from another car "
                                          "needs the engine unit replacement job (programming, "
                                          "VIN and pairing)."),
                                        master != NULL ? master->name : module->immobiliser->master),
                       NULL, NULL);
        }

      level = expected_software (result->family, module);
      if (m->state == EW_SCAN_MODULE_ANSWERED && level != NULL && m->software_version != NULL
          && ew_software_version_compare (m->software_version, level) < 0)
        add_finding (result, EW_FINDING_SOFTWARE_BEHIND, module,
                     g_strdup_printf (_("%s: software %s is behind %s"), module->name,
                                      m->software_version, level),
                     g_strdup_printf (_("Some features of this car need software level %s or "
                                        "later in this module. Raising the level is "
                                        "programming, not coding."), level),
                     level, m->software_version);
    }
}

EwScanResult *
ew_scan_run (EwConnection        *connection,
             guint                max_parallel,
             EwScanProgressFunc   progress,
             gpointer             user_data,
             GCancellable        *cancellable,
             GError             **error)
{
  g_autoptr(EwScanResult) result = NULL;
  g_autoptr(GPtrArray) threads = g_ptr_array_new ();
  EwFamily *family;
  ScanRun run = { 0 };
  gint64 start = g_get_monotonic_time ();
  guint n_threads;
  gboolean has_answer = FALSE;

  g_return_val_if_fail (EW_IS_CONNECTION (connection), NULL);

  family = ew_connection_get_family (connection);
  if (family == NULL)
    {
      g_set_error (error, EW_CONNECTION_ERROR, EW_CONNECTION_ERROR_UNKNOWN_FAMILY,
                   _("Which vehicle family is on %s is not known; name it in the link, "
                     "e.g. %s?family=bmw-f30"),
                   ew_connection_get_uri (connection), ew_connection_get_uri (connection));
      return NULL;
    }

  result = g_new0 (EwScanResult, 1);
  result->family = ew_family_ref (family);
  result->modules = g_ptr_array_new_with_free_func ((GDestroyNotify) ew_scan_module_free);
  result->findings = g_ptr_array_new_with_free_func ((GDestroyNotify) finding_free);
  for (guint i = 0; i < family->modules->len; i++)
    {
      EwScanModule *m = g_new0 (EwScanModule, 1);

      m->module = g_ptr_array_index (family->modules, i);
      m->immobiliser_status = -1;
      g_ptr_array_add (result->modules, m);
    }

  run.connection = connection;
  run.result = result;
  run.progress = progress;
  run.user_data = user_data;
  run.cancellable = cancellable;
  g_mutex_init (&run.lock);

  n_threads = max_parallel == 0 ? result->modules->len : MIN (max_parallel, result->modules->len);
  for (guint i = 0; i < n_threads; i++)
    g_ptr_array_add (threads, g_thread_new ("scan", scan_worker, &run));
  for (guint i = 0; i < threads->len; i++)
    g_thread_join (g_ptr_array_index (threads, i));
  g_mutex_clear (&run.lock);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  result->is_simulated = TRUE;
  for (guint i = 0; i < result->modules->len; i++)
    {
      EwScanModule *m = g_ptr_array_index (result->modules, i);

      if (m->state == EW_SCAN_MODULE_ANSWERED || m->state == EW_SCAN_MODULE_BOOTLOADER)
        {
          has_answer = TRUE;
          result->is_simulated = result->is_simulated && m->is_simulated;
        }
    }
  result->is_simulated = result->is_simulated && has_answer;
  result->vin = decide_vin (result->modules, ew_connection_get_announced_vin (connection));
  judge (result);
  result->duration_ms = (guint) ((g_get_monotonic_time () - start) / 1000);

  if (!has_answer)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                   _("No module answered on %s; check the connection and that the "
                     "ignition is on"), ew_connection_get_uri (connection));
      return NULL;
    }
  return g_steal_pointer (&result);
}
