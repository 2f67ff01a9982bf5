/* flash-engine.c — programming one module from a container: the steps of
 * the module's programming plan, journalled, with retry and recovery.
 */
#include "config.h"
#include "flash-engine.h"

#include <string.h>

#include "connect/supply-voltage.h"
#include "data-dir.h"
#include "sim/sim-ecu.h"
#include "uds/seedkey.h"
#include "uds/uds-client.h"

G_DEFINE_QUARK (ew-flash-engine-error-quark, ew_flash_engine_error)

/* ALFID of every address and size the engine sends: 4 + 4 bytes */
#define ALFID_4_4           0x44
#define RESET_HARD          0x01
#define COMM_ENABLE_RX_TX   0x00
#define COMM_DISABLE_RX_TX  0x03
#define COMM_NORMAL         0x01
#define DTC_SETTING_ON      0x01
#define DTC_SETTING_OFF     0x02
#define SESSION_DEFAULT     0x01
#define SESSION_PROGRAMMING 0x02
#define SESSION_EXTENDED    0x03
#define WAKE_POLL_MS        100
#define MAX_WAKES           2

/* progress bands: preparation, erase, download, the rest */
#define BAND_ERASE    0.10
#define BAND_DOWNLOAD 0.15
#define BAND_AFTER    0.90

typedef struct {
  EwProgrammingStepKind kind;
  guint8                session;
  guint8                level;
  const EwRoutine      *routine;  /* nullable */
} Step;

typedef enum {
  DOWNLOAD_OK,
  DOWNLOAD_FAILED,   /* the module refused: restart from the erase */
  DOWNLOAD_LOST,     /* the module stopped answering */
} DownloadResult;

struct _EwFlashJob {
  EwConnection       *connection;
  EwFamily           *family;
  const EwModule     *module;
  EwFlashOptions      options;
  char               *tester_id;
  char               *recovery_dir;
  EwChannel          *channel;
  EwUdsClient        *client;
  EwFlashContainer   *container;
  EwFlashCheckResult *check;
  char               *vin;
  char               *software;
  char               *part_number;
  char               *hardware;
  gboolean            is_in_bootloader;
  gboolean            is_simulated;
  guint               supply_mv;     /* 0 = no module reports it */
  const EwModule     *supply_from;
  char               *recovery_image;
  GArray             *steps;       /* Step */
  GArray             *infos;       /* EwFlashStepInfo */
  guint64             total_bytes;
  guint8              data_format;
  gint64              job_id;
  char               *recovery_software; /* the recovery image's version */

  /* what the memory steps program: the container, or the recovery image
   * after a persistent failure (owned by recovery_container) */
  const EwFlashContainer   *image;
  const EwFlashCheckResult *image_check;
  guint64                   image_bytes;
  guint8                    image_data_format;
  EwFlashContainer         *recovery_container;
  EwFlashCheckResult       *recovery_check;

  /* functional requests to every module: DTC setting and communication */
  EwChannel          *functional_channel;
  EwUdsClient        *functional;
  gboolean            is_functional_session;
  gboolean            is_functional_dtc_off;
  gboolean            is_functional_comm_off;

  /* while running */
  EwJobStore         *store;
  EwFlashProgressFunc progress;
  gpointer            user_data;
  double              fraction;
  guint64             bytes_sent;
  gint64              download_start_us;
  guint32             crc;
  guint               n_erase_done;
  guint               n_erase_total;
};

const char *
ew_programming_step_kind_to_string (EwProgrammingStepKind kind)
{
  switch (kind)
    {
    case EW_STEP_SESSION:            return "session";
    case EW_STEP_ROUTINE:            return "routine";
    case EW_STEP_SECURITY:           return "security";
    case EW_STEP_DTC_SETTING_OFF:    return "dtc-setting-off";
    case EW_STEP_DTC_SETTING_ON:     return "dtc-setting-on";
    case EW_STEP_COMMUNICATION_OFF:  return "communication-off";
    case EW_STEP_COMMUNICATION_ON:   return "communication-on";
    case EW_STEP_FINGERPRINT:        return "fingerprint";
    case EW_STEP_ERASE:              return "erase";
    case EW_STEP_DOWNLOAD:           return "download";
    case EW_STEP_CHECK_MEMORY:       return "check-memory";
    case EW_STEP_CHECK_DEPENDENCIES: return "check-dependencies";
    case EW_STEP_RESET:              return "reset";
    case EW_STEP_CLEAR_DTC:          return "clear-dtc";
    case EW_STEP_READ_IDENTIFICATION: return "read-identification";
    default:                         return "unknown";
    }
}

static void
step_info_clear (gpointer data)
{
  EwFlashStepInfo *info = data;

  g_free (info->description);
}

void
ew_flash_job_free (EwFlashJob *job)
{
  if (job == NULL)
    return;
  g_clear_object (&job->functional);
  g_clear_object (&job->functional_channel);
  g_clear_object (&job->client);
  g_clear_object (&job->channel);
  g_clear_pointer (&job->recovery_container, ew_flash_container_free);
  g_clear_pointer (&job->recovery_check, ew_flash_check_result_free);
  g_free (job->recovery_software);
  g_clear_object (&job->connection);
  g_clear_pointer (&job->family, ew_family_unref);
  g_clear_pointer (&job->container, ew_flash_container_free);
  g_clear_pointer (&job->check, ew_flash_check_result_free);
  g_clear_pointer (&job->steps, g_array_unref);
  g_clear_pointer (&job->infos, g_array_unref);
  g_free (job->tester_id);
  g_free (job->recovery_dir);
  g_free (job->vin);
  g_free (job->software);
  g_free (job->part_number);
  g_free (job->hardware);
  g_free (job->recovery_image);
  g_free (job);
}

/* ---- identification ---------------------------------------------------- */

static char *
bytes_to_text (GBytes *bytes)
{
  gsize n = 0;
  const char *data = g_bytes_get_data (bytes, &n);

  return g_strstrip (g_strndup (data, n));
}

static const EwIdentificationDid *
find_id_did (const EwModule *module, EwIdentificationRole role)
{
  for (guint i = 0; module->identification != NULL && i < module->identification->len; i++)
    {
      const EwIdentificationDid *id = g_ptr_array_index (module->identification, i);

      if (id->role == role)
        return id;
    }
  return NULL;
}

/* The text of the DID with role, or NULL when the module has none or does
 * not answer it (a bootloader knows less). */
static char *
read_id_text (EwFlashJob *job, EwIdentificationRole role, GCancellable *cancellable,
              GError **error)
{
  const EwIdentificationDid *id = find_id_did (job->module, role);
  g_autoptr(GBytes) bytes = NULL;

  if (id == NULL)
    return NULL;
  bytes = ew_uds_client_read_did (job->client, id->did, cancellable, error);
  if (bytes == NULL)
    return NULL;
  return bytes_to_text (bytes);
}

/* ---- the steps ------------------------------------------------------- */

static const EwRoutine *
find_routine (const EwProgrammingPlan *plan, const char *id)
{
  for (guint i = 0; id != NULL && plan->routines != NULL && i < plan->routines->len; i++)
    {
      const EwRoutine *r = g_ptr_array_index (plan->routines, i);

      if (g_strcmp0 (r->id, id) == 0)
        return r;
    }
  return NULL;
}

/* The place of a step in common OEM practice (the default order). */
static guint
canonical_index (EwProgrammingStepKind kind, guint8 session)
{
  switch (kind)
    {
    case EW_STEP_SESSION:            return session == SESSION_PROGRAMMING ? 4 : 0;
    case EW_STEP_ROUTINE:            return 1;
    case EW_STEP_DTC_SETTING_OFF:    return 2;
    case EW_STEP_COMMUNICATION_OFF:  return 3;
    case EW_STEP_SECURITY:           return 5;
    case EW_STEP_FINGERPRINT:        return 6;
    case EW_STEP_ERASE:              return 7;
    case EW_STEP_DOWNLOAD:           return 8;
    case EW_STEP_CHECK_MEMORY:       return 9;
    case EW_STEP_CHECK_DEPENDENCIES: return 10;
    case EW_STEP_RESET:              return 11;
    case EW_STEP_COMMUNICATION_ON:   return 12;
    case EW_STEP_DTC_SETTING_ON:     return 13;
    case EW_STEP_CLEAR_DTC:          return 14;
    case EW_STEP_READ_IDENTIFICATION: return 15;
    default:                         return 16;
    }
}

static gboolean
steps_have (GArray *steps, EwProgrammingStepKind kind, gint session)
{
  for (guint i = 0; i < steps->len; i++)
    {
      const Step *s = &g_array_index (steps, Step, i);

      if (s->kind == kind && (session < 0 || s->session == session))
        return TRUE;
    }
  return FALSE;
}

/* Inserts step where common practice has it, before the first step that
 * comes later in that order. */
static void
steps_insert_default (GArray *steps, Step step)
{
  guint at = steps->len;
  guint want = canonical_index (step.kind, step.session);

  for (guint i = 0; i < steps->len; i++)
    {
      const Step *s = &g_array_index (steps, Step, i);

      if (canonical_index (s->kind, s->session) > want)
        {
          at = i;
          break;
        }
    }
  g_array_insert_val (steps, at, step);
}

static const EwSecurityLevel *
programming_level (const EwModule *module, guint8 level)
{
  const EwSecurityLevel *found = NULL;

  for (guint i = 0; module->security != NULL && i < module->security->len; i++)
    {
      const EwSecurityLevel *l = g_ptr_array_index (module->security, i);

      if (level != 0 && l->level == level)
        return l;
      if (level == 0 && l->purpose == EW_WORK_CLASS_PROGRAMMING && found == NULL)
        found = l;
    }
  return found;
}

static gboolean
build_steps (EwFlashJob *job, GError **error)
{
  const EwProgrammingPlan *plan = job->module->programming;
  GArray *steps = g_array_new (FALSE, TRUE, sizeof (Step));
  Step s;

  job->steps = steps;
  for (guint i = 0; i < plan->steps->len; i++)
    {
      const EwProgrammingStep *p = g_ptr_array_index (plan->steps, i);

      s = (Step) { p->kind, p->session, p->level, find_routine (plan, p->routine) };
      if (s.kind == EW_STEP_ROUTINE && s.routine == NULL)
        continue;
      g_array_append_val (steps, s);
    }

  /* what common practice does where the plan says nothing */
#define DEFAULT(kind_, session_, routine_)                                  \
  G_STMT_START {                                                            \
    if (!steps_have (steps, kind_, (kind_) == EW_STEP_SESSION ? (session_) : -1)) \
      steps_insert_default (steps, (Step) { kind_, session_, 0, routine_ }); \
  } G_STMT_END
  DEFAULT (EW_STEP_SESSION, SESSION_EXTENDED, NULL);
  DEFAULT (EW_STEP_DTC_SETTING_OFF, 0, NULL);
  DEFAULT (EW_STEP_COMMUNICATION_OFF, 0, NULL);
  DEFAULT (EW_STEP_SESSION, SESSION_PROGRAMMING, NULL);
  DEFAULT (EW_STEP_SECURITY, 0, NULL);
  if (plan->fingerprint_did != 0)
    DEFAULT (EW_STEP_FINGERPRINT, 0, NULL);
  DEFAULT (EW_STEP_ERASE, 0, NULL);
  DEFAULT (EW_STEP_DOWNLOAD, 0, NULL);
  DEFAULT (EW_STEP_CHECK_MEMORY, 0, find_routine (plan, "check-memory"));
  if (find_routine (plan, "check-dependencies") != NULL)
    DEFAULT (EW_STEP_CHECK_DEPENDENCIES, 0, find_routine (plan, "check-dependencies"));
  DEFAULT (EW_STEP_RESET, 0, NULL);
  DEFAULT (EW_STEP_COMMUNICATION_ON, 0, NULL);
  DEFAULT (EW_STEP_DTC_SETTING_ON, 0, NULL);
  DEFAULT (EW_STEP_CLEAR_DTC, 0, NULL);
  DEFAULT (EW_STEP_READ_IDENTIFICATION, 0, NULL);
#undef DEFAULT

  job->infos = g_array_new (FALSE, TRUE, sizeof (EwFlashStepInfo));
  g_array_set_clear_func (job->infos, step_info_clear);
  for (guint i = 0; i < steps->len; i++)
    {
      Step *st = &g_array_index (steps, Step, i);
      EwFlashStepInfo info = { st->kind, ew_programming_step_kind_to_string (st->kind), NULL, 0 };

      switch (st->kind)
        {
        case EW_STEP_SESSION:
          info.description = g_strdup_printf ("DiagnosticSessionControl 0x%02X (%s)", st->session,
                                              st->session == SESSION_PROGRAMMING ? "programming" :
                                              st->session == SESSION_EXTENDED ? "extended" : "other");
          break;
        case EW_STEP_ROUTINE:
          info.description = g_strdup_printf ("RoutineControl start 0x%04X (%s)", st->routine->rid,
                                              st->routine->name);
          break;
        case EW_STEP_SECURITY:
          {
            const EwSecurityLevel *level = programming_level (job->module, st->level);

            if (level == NULL)
              {
                g_set_error (error, EW_FLASH_ENGINE_ERROR, EW_FLASH_ENGINE_ERROR_NOT_PROGRAMMABLE,
                             "Module %s (%s) declares no programming security level",
                             job->module->id, job->module->name);
                return FALSE;
              }
            st->level = level->level;
            info.description = g_strdup_printf ("SecurityAccess level 0x%02X (%s)", level->level,
                                                level->algorithm);
          }
          break;
        case EW_STEP_DTC_SETTING_OFF:
          info.description = g_strdup ("ControlDTCSetting off (functional to every module, then "
                                       "physical to the module)");
          break;
        case EW_STEP_DTC_SETTING_ON:
          info.description = g_strdup ("ControlDTCSetting on (physical to the module, then "
                                       "functional to every module)");
          break;
        case EW_STEP_COMMUNICATION_OFF:
          info.description = g_strdup ("CommunicationControl disableRxAndTx (functional to every "
                                       "module, then physical to the module)");
          break;
        case EW_STEP_COMMUNICATION_ON:
          info.description = g_strdup ("CommunicationControl enableRxAndTx (physical to the module, "
                                       "then functional to every module)");
          break;
        case EW_STEP_FINGERPRINT:
          info.description = g_strdup_printf ("WriteDataByIdentifier 0x%04X (fingerprint: date, tester %s)",
                                              plan->fingerprint_did, job->tester_id);
          break;
        case EW_STEP_ERASE:
          {
            GString *text = g_string_new ("Erase");

            for (guint j = 0; j < job->check->segments->len; j++)
              {
                const EwFlashSegment *seg = &g_array_index (job->check->segments, EwFlashSegment, j);
                const EwRoutine *r = find_routine (plan, seg->region->erase_routine);

                if (r == NULL)
                  {
                    g_string_free (text, TRUE);
                    g_set_error (error, EW_FLASH_ENGINE_ERROR, EW_FLASH_ENGINE_ERROR_NOT_PROGRAMMABLE,
                                 "Region '%s' of module %s has no erase routine",
                                 seg->region->name, job->module->id);
                    return FALSE;
                  }
                g_string_append_printf (text, "%s %s (0x%08X, 0x%X bytes, routine 0x%04X)",
                                        j == 0 ? "" : ",", seg->region->name, seg->region->start,
                                        seg->region->size, r->rid);
              }
            info.description = g_string_free (text, FALSE);
          }
          break;
        case EW_STEP_DOWNLOAD:
          info.description = g_strdup_printf ("RequestDownload / TransferData / RequestTransferExit, "
                                              "%u segment(s)", job->check->segments->len);
          info.length_bytes = job->total_bytes;
          break;
        case EW_STEP_CHECK_MEMORY:
          if (st->routine == NULL)
            {
              g_set_error (error, EW_FLASH_ENGINE_ERROR, EW_FLASH_ENGINE_ERROR_NOT_PROGRAMMABLE,
                           "The programming plan of module %s names no check memory routine",
                           job->module->id);
              return FALSE;
            }
          info.description = g_strdup_printf ("RoutineControl 0x%04X check memory (CRC-32)", st->routine->rid);
          break;
        case EW_STEP_CHECK_DEPENDENCIES:
          if (st->routine == NULL)
            st->routine = find_routine (plan, "check-dependencies");
          if (st->routine == NULL)
            {
              g_set_error (error, EW_FLASH_ENGINE_ERROR, EW_FLASH_ENGINE_ERROR_NOT_PROGRAMMABLE,
                           "The programming plan of module %s names no check dependencies routine",
                           job->module->id);
              return FALSE;
            }
          info.description = g_strdup_printf ("RoutineControl 0x%04X check dependencies", st->routine->rid);
          break;
        case EW_STEP_RESET:
          info.description = g_strdup ("ECUReset hardReset, then wait for the module");
          break;
        case EW_STEP_CLEAR_DTC:
          info.description = g_strdup ("ClearDiagnosticInformation (all groups)");
          break;
        case EW_STEP_READ_IDENTIFICATION:
          info.description = g_strdup_printf ("Read the software version back (expect %s)",
                                              ew_flash_container_get_software_version (job->container));
          break;
        default:
          info.description = g_strdup ("");
          break;
        }
      g_array_append_val (job->infos, info);
    }
  return TRUE;
}

/* ---- preparing --------------------------------------------------------- */

static gboolean
is_illustrative (const EwModule *module, const EwFamily *family)
{
  return module->flash->provenance.provenance == EW_PROVENANCE_ILLUSTRATIVE ||
         module->programming->provenance.provenance == EW_PROVENANCE_ILLUSTRATIVE ||
         family->provenance.provenance == EW_PROVENANCE_ILLUSTRATIVE;
}

/* The folders a recovery image is looked for in, in order: the one the
 * caller names, else the user's library, then the shipped data. */
static GPtrArray *
recovery_dirs (EwFlashJob *job, gboolean is_own_dir)
{
  GPtrArray *dirs = g_ptr_array_new_with_free_func (g_free);

  if (!is_own_dir)
    g_ptr_array_add (dirs, g_build_filename (g_get_user_data_dir (), "ecu-workshop", "flash", NULL));
  g_ptr_array_add (dirs, g_strdup (job->recovery_dir));
  return dirs;
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

/* FAMILY-MODULE.EXT or FAMILY-MODULE-ANYTHING.EXT */
static gboolean
is_recovery_name (const char *name, const char *prefix)
{
  static const char *const extensions[] = { ".hex", ".srec", ".s19", ".xml" };
  const char *rest;

  if (!g_str_has_prefix (name, prefix))
    return FALSE;
  rest = name + strlen (prefix);
  if (*rest != '.' && *rest != '-')
    return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (extensions); i++)
    if (g_str_has_suffix (name, extensions[i]))
      return TRUE;
  return FALSE;
}

/* Whether path is a container the module can be programmed with from its
 * bootloader; its software version in version. */
static gboolean
is_usable_recovery_image (EwFlashJob *job, const char *path, char **version)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EwFlashContainer) container = ew_flash_container_load (path, NULL, &error);
  g_autoptr(EwFlashCheckResult) check = NULL;
  EwFlashCheckOptions options = { 0 };
  const char *target;

  if (container == NULL)
    {
      g_debug ("Recovery image %s not usable: %s", path, error->message);
      return FALSE;
    }
  target = ew_flash_container_get_target_module (container);
  if (target != NULL && g_strcmp0 (target, job->module->id) != 0)
    return FALSE;
  if (target == NULL)
    ew_flash_container_set_target_module (container, job->module->id);
  if (ew_flash_container_get_software_version (container) == NULL)
    return FALSE;
  options.part_number = job->part_number;
  options.hardware_number = job->hardware;
  options.allow_downgrade = TRUE;   /* the way back is older by nature */
  check = ew_flash_container_check (container, job->family, job->module, &options, &error);
  if (check == NULL)
    {
      g_debug ("Recovery image %s not usable: %s", path, error->message);
      return FALSE;
    }
  *version = g_strdup (ew_flash_container_get_software_version (container));
  return TRUE;
}

/* A container for the module in the library (FAMILY-MODULE[-…].hex/.srec/
 * .s19/.xml) that checks against it. One with the software the module runs
 * now is a true way back and is preferred; else the first found. */
static char *
find_recovery_image (EwFlashJob *job, gboolean is_own_dir)
{
  g_autoptr(GPtrArray) dirs = recovery_dirs (job, is_own_dir);
  g_autofree char *prefix = g_strdup_printf ("%s-%s", job->family->id, job->module->id);
  g_autofree char *first = NULL;
  g_autofree char *first_version = NULL;

  for (guint d = 0; d < dirs->len; d++)
    {
      g_autoptr(GDir) dir = g_dir_open (g_ptr_array_index (dirs, d), 0, NULL);
      g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
      const char *name;

      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        if (is_recovery_name (name, prefix))
          g_ptr_array_add (names, g_strdup (name));
      g_ptr_array_sort (names, compare_names);
      for (guint i = 0; i < names->len; i++)
        {
          g_autofree char *path = g_build_filename (g_ptr_array_index (dirs, d),
                                                    g_ptr_array_index (names, i), NULL);
          g_autofree char *version = NULL;

          if (!g_file_test (path, G_FILE_TEST_IS_REGULAR) ||
              !is_usable_recovery_image (job, path, &version))
            continue;
          if (!job->is_in_bootloader && g_strcmp0 (version, job->software) == 0)
            {
              job->recovery_software = g_steal_pointer (&version);
              return g_steal_pointer (&path);
            }
          if (first == NULL)
            {
              first = g_steal_pointer (&path);
              first_version = g_steal_pointer (&version);
            }
        }
    }
  job->recovery_software = g_steal_pointer (&first_version);
  return g_steal_pointer (&first);
}

EwFlashJob *
ew_flash_job_prepare (EwConnection         *connection,
                      const char           *module_id,
                      const char           *container_path,
                      const EwFlashOptions *options,
                      GCancellable         *cancellable,
                      GError              **error)
{
  static const EwFlashOptions no_options = { 0 };
  g_autoptr(EwFlashJob) job = g_new0 (EwFlashJob, 1);
  g_autoptr(GError) local_error = NULL;
  g_autofree char *marker = NULL;
  EwFlashCheckOptions check = { 0 };
  EwFamily *family;
  gint data_format;

  g_return_val_if_fail (EW_IS_CONNECTION (connection), NULL);
  g_return_val_if_fail (module_id != NULL, NULL);

  if (options == NULL)
    options = &no_options;
  job->options = *options;
  job->tester_id = g_strdup (options->tester_id != NULL ? options->tester_id : "ECUW01");
  job->recovery_dir = options->recovery_dir != NULL ? g_strdup (options->recovery_dir)
                                                    : ew_data_path ("flash");
  job->options.tester_id = job->tester_id;
  job->options.recovery_dir = job->recovery_dir;
  if (job->options.wake_timeout_ms == 0)
    job->options.wake_timeout_ms = EW_FLASH_DEFAULT_WAKE_TIMEOUT_MS;
  job->connection = g_object_ref (connection);

  family = ew_connection_get_family (connection);
  if (family == NULL)
    {
      g_set_error (error, EW_CONNECTION_ERROR, EW_CONNECTION_ERROR_UNKNOWN_FAMILY,
                   "The car on %s has no known vehicle family", ew_connection_get_uri (connection));
      return NULL;
    }
  job->family = ew_family_ref (family);
  job->module = ew_family_find_module (family, module_id);
  if (job->module == NULL)
    {
      g_set_error (error, EW_FLASH_ENGINE_ERROR, EW_FLASH_ENGINE_ERROR_NOT_PROGRAMMABLE,
                   "The %s family has no module '%s'", family->id, module_id);
      return NULL;
    }
  if (job->module->flash == NULL || job->module->programming == NULL)
    {
      g_set_error (error, EW_FLASH_ENGINE_ERROR, EW_FLASH_ENGINE_ERROR_NOT_PROGRAMMABLE,
                   "Module %s (%s) has no flash layout or programming plan: it cannot be programmed",
                   job->module->id, job->module->name);
      return NULL;
    }

  job->channel = ew_connection_open_channel (connection, job->module, error);
  if (job->channel == NULL)
    return NULL;
  job->client = ew_uds_client_new (job->channel, job->module->id);

  /* identification, read only */
  job->software = read_id_text (job, EW_ID_ROLE_SOFTWARE_VERSION, cancellable, &local_error);
  if (local_error != NULL)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                  "Module %s (%s) does not answer its software version: ",
                                  job->module->id, job->module->name);
      return NULL;
    }
  job->is_in_bootloader = job->software == NULL || g_ascii_strcasecmp (job->software, "bootloader") == 0;
  job->vin = read_id_text (job, EW_ID_ROLE_VIN, cancellable, NULL);
  job->part_number = read_id_text (job, EW_ID_ROLE_PART_NUMBER, cancellable, NULL);
  job->hardware = read_id_text (job, EW_ID_ROLE_HARDWARE_VERSION, cancellable, NULL);
  marker = read_id_text (job, EW_ID_ROLE_SIMULATION_MARKER, cancellable, NULL);
  job->is_simulated = g_strcmp0 (marker, EW_SIM_ECU_MARKER) == 0;
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  /* a sagging battery stops a flash half-way: refused before anything */
  job->supply_mv = ew_supply_voltage_read (connection, job->module, job->client, cancellable,
                                           &job->supply_from);
  if (!ew_supply_voltage_check (job->supply_mv, EW_WORK_CLASS_PROGRAMMING, job->supply_from, error))
    return NULL;

  if (!job->is_simulated && is_illustrative (job->module, family))
    {
      g_set_error (error, EW_FLASH_ENGINE_ERROR, EW_FLASH_ENGINE_ERROR_NOT_SIMULATED,
                   "The programming data of module %s is illustrative and the car on %s does not "
                   "say it is simulated: refusing to program it",
                   job->module->id, ew_connection_get_uri (connection));
      return NULL;
    }

  /* no container named: the module's recovery image, for a module that
   * is dead in its bootloader */
  if (container_path == NULL)
    {
      if (!job->is_in_bootloader)
        {
          g_set_error (error, EW_FLASH_ENGINE_ERROR, EW_FLASH_ENGINE_ERROR_NOT_IN_BOOTLOADER,
                       "Module %s (%s) runs its application (software %s): it needs no recovery; "
                       "name a container to program it", job->module->id, job->module->name,
                       job->software);
          return NULL;
        }
      job->recovery_image = find_recovery_image (job, options->recovery_dir != NULL);
      if (job->recovery_image == NULL)
        {
          g_set_error (error, EW_FLASH_ENGINE_ERROR, EW_FLASH_ENGINE_ERROR_NO_RECOVERY_IMAGE,
                       "No recovery image for module %s (%s) in the library (%s-%s.hex/.srec/.xml): "
                       "name a container to program it", job->module->id, job->module->name,
                       family->id, job->module->id);
          return NULL;
        }
      container_path = job->recovery_image;
    }
  job->container = ew_flash_container_load (container_path, NULL, error);
  if (job->container == NULL)
    return NULL;
  if (ew_flash_container_get_target_module (job->container) == NULL)
    ew_flash_container_set_target_module (job->container, job->module->id);

  check.part_number = job->part_number;
  check.hardware_number = job->hardware;
  check.software_version = job->is_in_bootloader ? NULL : job->software;
  check.allow_downgrade = options->allow_downgrade;
  job->check = ew_flash_container_check (job->container, family, job->module, &check, error);
  if (job->check == NULL)
    return NULL;
  for (guint i = 0; i < job->check->segments->len; i++)
    job->total_bytes += g_array_index (job->check->segments, EwFlashSegment, i).length;
  data_format = ew_flash_container_get_data_format (job->container);
  job->data_format = data_format >= 0 ? (guint8) data_format : job->module->flash->data_format;
  job->image = job->container;
  job->image_check = job->check;
  job->image_bytes = job->total_bytes;
  job->image_data_format = job->data_format;
  if (ew_flash_container_get_software_version (job->container) == NULL)
    {
      g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_APP_HEADER,
                   "%s names no software version: the result could not be verified",
                   container_path);
      return NULL;
    }

  /* the way back: the software it replaces is not read out of the
   * module, so a recovery image must be on disk */
  if (job->recovery_image == NULL)
    job->recovery_image = find_recovery_image (job, options->recovery_dir != NULL);
  if (job->recovery_image == NULL &&
      !(options->allow_no_recovery_image && job->is_in_bootloader))
    {
      g_autoptr(GPtrArray) dirs = recovery_dirs (job, options->recovery_dir != NULL);
      g_autofree char *where = NULL;

      g_ptr_array_add (dirs, NULL);
      where = g_strjoinv (", ", (char **) dirs->pdata);
      g_set_error (error, EW_FLASH_ENGINE_ERROR, EW_FLASH_ENGINE_ERROR_NO_RECOVERY_IMAGE,
                   "No recovery image for module %s (%s) in %s (%s-%s.hex/.srec/.xml): without "
                   "one a failed flash could not be undone%s",
                   job->module->id, job->module->name, where, family->id,
                   job->module->id,
                   job->is_in_bootloader ? "; the module is already in its bootloader, so the "
                                           "override may be given" : "");
      return NULL;
    }

  if (!build_steps (job, error))
    return NULL;
  return g_steal_pointer (&job);
}

const EwModule *
ew_flash_job_get_module (EwFlashJob *job)
{
  return job->module;
}

const EwFlashContainer *
ew_flash_job_get_container (EwFlashJob *job)
{
  return job->container;
}

const EwFlashCheckResult *
ew_flash_job_get_check_result (EwFlashJob *job)
{
  return job->check;
}

const char *
ew_flash_job_get_current_software (EwFlashJob *job)
{
  return job->software;
}

gboolean
ew_flash_job_is_in_bootloader (EwFlashJob *job)
{
  return job->is_in_bootloader;
}

gboolean
ew_flash_job_is_simulated (EwFlashJob *job)
{
  return job->is_simulated;
}

guint
ew_flash_job_get_supply_voltage_mv (EwFlashJob *job)
{
  return job->supply_mv;
}

const EwModule *
ew_flash_job_get_supply_voltage_module (EwFlashJob *job)
{
  return job->supply_from;
}

const char *
ew_flash_job_get_recovery_image (EwFlashJob *job)
{
  return job->recovery_image;
}

const char *
ew_flash_job_get_recovery_software (EwFlashJob *job)
{
  return job->recovery_software;
}

guint64
ew_flash_job_get_total_bytes (EwFlashJob *job)
{
  return job->total_bytes;
}

GArray *
ew_flash_job_get_steps (EwFlashJob *job)
{
  return job->infos;
}

gint64
ew_flash_job_get_job_id (EwFlashJob *job)
{
  return job->job_id;
}

/* ---- running ---------------------------------------------------------- */

static void
journal (EwFlashJob *job, const char *step, const char *outcome, const char *format, ...)
  G_GNUC_PRINTF (4, 5);

static void
journal (EwFlashJob *job, const char *step, const char *outcome, const char *format, ...)
{
  g_autofree char *detail = NULL;
  g_autoptr(GError) error = NULL;
  va_list args;

  if (format != NULL)
    {
      va_start (args, format);
      detail = g_strdup_vprintf (format, args);
      va_end (args);
    }
  if (!ew_job_store_journal (job->store, job->job_id, step, job->module->id, outcome, detail, &error))
    g_warning ("Journal entry '%s' of job %" G_GINT64_FORMAT " not written: %s",
               step, job->job_id, error->message);
}

static void
report (EwFlashJob *job, const char *step, double fraction)
{
  EwFlashProgress p = { 0 };
  double elapsed_s;

  job->fraction = MAX (job->fraction, CLAMP (fraction, 0.0, 1.0));
  if (job->progress == NULL)
    return;
  p.step = step;
  p.fraction = job->fraction;
  p.bytes_sent = job->bytes_sent;
  p.bytes_total = job->image_bytes;
  p.seconds_left = -1.0;
  if (job->download_start_us != 0 && job->bytes_sent > 0)
    {
      elapsed_s = (g_get_monotonic_time () - job->download_start_us) / 1e6;
      if (elapsed_s > 0)
        {
          p.rate_bytes_per_s = job->bytes_sent / elapsed_s;
          p.seconds_left = (job->image_bytes - job->bytes_sent) / p.rate_bytes_per_s;
        }
    }
  job->progress (&p, job->user_data);
}

static gboolean
is_timeout (const GError *error)
{
  return error != NULL && error->domain == EW_UDS_ERROR && error->code == EW_UDS_ERROR_TIMEOUT;
}

/* The link itself is gone (a DoIP connection closed), not the module. */
static gboolean
is_link_lost (const GError *error)
{
  return g_error_matches (error, EW_CHANNEL_ERROR, EW_CHANNEL_ERROR_CLOSED);
}

/* Connects the link again and opens the module's channel anew; the job
 * keeps its place. The functional client is opened again on its next use. */
static gboolean
reconnect (EwFlashJob *job, GError **error)
{
  g_autoptr(EwChannel) channel = NULL;

  if (!ew_connection_reconnect (job->connection, NULL, error))
    return FALSE;
  channel = ew_connection_open_channel (job->connection, job->module, error);
  if (channel == NULL)
    return FALSE;
  g_clear_object (&job->client);
  g_set_object (&job->channel, channel);
  job->client = ew_uds_client_new (job->channel, job->module->id);
  g_clear_object (&job->functional);
  g_clear_object (&job->functional_channel);
  return TRUE;
}

/* Polls the module's software version until it answers (it wakes after a
 * reset or a power loss, or the link comes back), bounded by
 * wake_timeout_ms. */
static gboolean
wait_for_module (EwFlashJob *job, GError **error)
{
  const EwIdentificationDid *id = find_id_did (job->module, EW_ID_ROLE_SOFTWARE_VERSION);
  gint64 deadline = g_get_monotonic_time () + (gint64) job->options.wake_timeout_ms * 1000;
  g_autoptr(GError) last = NULL;

  for (;;)
    {
      g_autoptr(GBytes) answer = NULL;

      g_clear_error (&last);
      if (id != NULL)
        answer = ew_uds_client_read_did (job->client, id->did, NULL, &last);
      else if (ew_uds_client_tester_present (job->client, FALSE, NULL, &last))
        answer = g_bytes_new (NULL, 0);
      if (answer != NULL || (last != NULL && last->domain == EW_UDS_NRC_ERROR))
        return TRUE;   /* any answer, even a refusal, means it is back */
      if (is_link_lost (last))
        {
          g_autoptr(GError) reconnect_error = NULL;

          if (reconnect (job, &reconnect_error))
            journal (job, "reconnect", "ok", "the link dropped: connected again, the job goes on");
          else
            {
              g_clear_error (&last);
              last = g_steal_pointer (&reconnect_error);
            }
        }
      if (g_get_monotonic_time () >= deadline)
        break;
      g_usleep (WAKE_POLL_MS * 1000);
    }
  g_set_error (error, EW_FLASH_ENGINE_ERROR, EW_FLASH_ENGINE_ERROR_RECOVERY_NEEDED,
               "Module %s (%s) did not answer within %u ms: %s", job->module->id, job->module->name,
               job->options.wake_timeout_ms, last != NULL ? last->message : "no answer");
  return FALSE;
}

static gboolean
routine_status_ok (GBytes *status)
{
  gsize n = 0;
  const guint8 *data = status != NULL ? g_bytes_get_data (status, &n) : NULL;

  return n == 0 || data[0] == 0x00;
}

static gboolean
security_access (EwFlashJob *job, const Step *step, GCancellable *cancellable, GError **error)
{
  const EwSecurityLevel *level = programming_level (job->module, step->level);
  const EwSecurityAlgorithm *algorithm = NULL;
  g_autoptr(EwSeedKeyProvider) provider = NULL;
  const char *name;

  for (guint i = 0; job->family->algorithms != NULL && i < job->family->algorithms->len; i++)
    {
      const EwSecurityAlgorithm *a = g_ptr_array_index (job->family->algorithms, i);

      if (g_strcmp0 (a->id, level->algorithm) == 0)
        algorithm = a;
    }
  name = algorithm != NULL && algorithm->plugin != NULL ? algorithm->plugin : level->algorithm;
  /* the toy algorithm exists for the simulator only; the provider itself
   * refuses a car that did not say it is simulated */
  if (g_strcmp0 (name, "sim-xor-toy") == 0)
    provider = ew_seedkey_provider_new_toy ();
  else
    provider = ew_seedkey_provider_load (name, NULL, error);
  if (provider == NULL)
    return FALSE;
  return ew_uds_client_security_access (job->client, level, provider, NULL, NULL,
                                        job->is_simulated, cancellable, error);
}

static GBytes *
fingerprint_bytes (EwFlashJob *job)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  guint8 data[9] = { 0 };
  guint yy = g_date_time_get_year (now) % 100;
  guint mm = g_date_time_get_month (now);
  guint dd = g_date_time_get_day_of_month (now);
  gsize n = strlen (job->tester_id);

  /* programming date (BCD YYMMDD) and the tester's id, as OEM
   * fingerprints commonly hold */
  data[0] = (guint8) ((yy / 10) << 4 | yy % 10);
  data[1] = (guint8) ((mm / 10) << 4 | mm % 10);
  data[2] = (guint8) ((dd / 10) << 4 | dd % 10);
  memset (data + 3, ' ', 6);
  memcpy (data + 3, job->tester_id, MIN (n, 6));
  return g_bytes_new (data, sizeof data);
}

static gboolean
functional_open (EwFlashJob *job, GError **error)
{
  if (job->functional != NULL)
    return TRUE;
  job->functional_channel = ew_connection_open_functional_channel (job->connection, job->module, error);
  if (job->functional_channel == NULL)
    return FALSE;
  job->functional = ew_uds_client_new_functional (job->functional_channel, "every module", NULL, 0);
  return TRUE;
}

/* DTC setting or communication off (or on again) for every module of the
 * car, functionally and with suppressPosRspMsgIndicationBit set: while one
 * module is programmed the others stop logging its absence and talking.
 * No answer is awaited; a failure to send is journalled, not fatal (the
 * module being programmed gets its own physical request). */
#define FUNCTIONAL_SETTLE_MS 50   /* P2server_max, ISO 14229-2 default */

static void
functional_control (EwFlashJob *job, EwProgrammingStepKind kind)
{
  g_autoptr(GError) error = NULL;
  gboolean is_off = kind == EW_STEP_DTC_SETTING_OFF || kind == EW_STEP_COMMUNICATION_OFF;
  gboolean ok = TRUE;

  if (is_off)
    {
      if (!functional_open (job, &error))
        goto failed;
      /* ISO 14229-1 Table 23: 0x85 and 0x28 are refused in the default
       * session. Not once the module is in its programming session: a
       * session change would take it out. The client's keep-alive then
       * holds every module in the extended session (S3). */
      if (!job->is_functional_session &&
          ew_uds_client_get_session (job->client) != SESSION_PROGRAMMING)
        {
          if (!ew_uds_client_diagnostic_session_control (job->functional, SESSION_EXTENDED, TRUE,
                                                         NULL, &error))
            goto failed;
          job->is_functional_session = TRUE;
        }
    }
  else if (job->functional == NULL)
    return;

  switch (kind)
    {
    case EW_STEP_DTC_SETTING_OFF:
      ok = ew_uds_client_control_dtc_setting (job->functional, DTC_SETTING_OFF, TRUE, NULL, &error);
      job->is_functional_dtc_off |= ok;
      break;
    case EW_STEP_COMMUNICATION_OFF:
      ok = ew_uds_client_communication_control (job->functional, COMM_DISABLE_RX_TX, COMM_NORMAL,
                                                TRUE, NULL, &error);
      job->is_functional_comm_off |= ok;
      break;
    case EW_STEP_DTC_SETTING_ON:
      if (job->is_functional_dtc_off)
        ok = ew_uds_client_control_dtc_setting (job->functional, DTC_SETTING_ON, TRUE, NULL, &error);
      job->is_functional_dtc_off = FALSE;
      break;
    case EW_STEP_COMMUNICATION_ON:
      if (job->is_functional_comm_off)
        ok = ew_uds_client_communication_control (job->functional, COMM_ENABLE_RX_TX, COMM_NORMAL,
                                                  TRUE, NULL, &error);
      job->is_functional_comm_off = FALSE;
      break;
    default:
      g_assert_not_reached ();
    }
  if (!ok)
    goto failed;
  /* both on again: every module back to the default session, which ends
   * the keep-alive too */
  if (!is_off && !job->is_functional_dtc_off && !job->is_functional_comm_off &&
      job->is_functional_session)
    {
      job->is_functional_session = FALSE;
      if (!ew_uds_client_diagnostic_session_control (job->functional, SESSION_DEFAULT, TRUE, NULL,
                                                     &error))
        goto failed;
    }
  /* ISO 14229-2: after a request whose positive response is suppressed the
   * client waits P2 for a negative one; by then every module, the one being
   * programmed included, has acted on it, so the physical request that
   * follows cannot overtake it */
  g_usleep (FUNCTIONAL_SETTLE_MS * 1000);
  return;

failed:
  journal (job, "functional", "failed", "%s, functional to every module: %s",
           ew_programming_step_kind_to_string (kind), error->message);
}

/* Communication and DTC setting on again for the whole car, on every way
 * out of a job. */
static void
functional_restore (EwFlashJob *job)
{
  if (!job->is_functional_comm_off && !job->is_functional_dtc_off)
    return;
  if (job->is_functional_comm_off)
    functional_control (job, EW_STEP_COMMUNICATION_ON);
  if (job->is_functional_dtc_off)
    functional_control (job, EW_STEP_DTC_SETTING_ON);
  journal (job, "functional", "ok", "communication and DTC setting on again for every module, "
           "back to the default session (functional, no answers awaited)");
}

/* One step other than erase, download and the checks. */
static gboolean
run_step (EwFlashJob *job, const Step *step, GCancellable *cancellable, GError **error)
{
  const EwProgrammingPlan *plan = job->module->programming;

  switch (step->kind)
    {
    case EW_STEP_SESSION:
      return ew_uds_client_diagnostic_session_control (job->client, step->session, FALSE,
                                                       cancellable, error);
    case EW_STEP_ROUTINE:
      {
        gsize n = 0;
        const guint8 *args = g_bytes_get_data (step->routine->args, &n);
        g_autoptr(GBytes) status = ew_uds_client_routine_control (job->client, EW_UDS_ROUTINE_START,
                                                                  step->routine->rid, args, n,
                                                                  cancellable, error);
        if (status == NULL)
          return FALSE;
        if (!routine_status_ok (status))
          {
            g_set_error (error, EW_FLASH_ENGINE_ERROR, EW_FLASH_ENGINE_ERROR_STEP_FAILED,
                         "Module %s: routine 0x%04X (%s) reports status 0x%02X",
                         job->module->id, step->routine->rid, step->routine->name,
                         ((const guint8 *) g_bytes_get_data (status, NULL))[0]);
            return FALSE;
          }
        return TRUE;
      }
    case EW_STEP_SECURITY:
      return security_access (job, step, cancellable, error);
    case EW_STEP_DTC_SETTING_OFF:
    case EW_STEP_DTC_SETTING_ON:
    case EW_STEP_COMMUNICATION_OFF:
    case EW_STEP_COMMUNICATION_ON:
      {
        gboolean is_on = step->kind == EW_STEP_DTC_SETTING_ON || step->kind == EW_STEP_COMMUNICATION_ON;
        gboolean ok;

        /* the rest of the car first when switching off, last when on */
        if (!is_on)
          functional_control (job, step->kind);
        /* after the reset the module is in its default session */
        if (ew_uds_client_get_session (job->client) == SESSION_DEFAULT &&
            !ew_uds_client_diagnostic_session_control (job->client, SESSION_EXTENDED, FALSE,
                                                       cancellable, error))
          return FALSE;
        if (step->kind == EW_STEP_DTC_SETTING_OFF || step->kind == EW_STEP_DTC_SETTING_ON)
          ok = ew_uds_client_control_dtc_setting (job->client, is_on ? DTC_SETTING_ON : DTC_SETTING_OFF,
                                                  FALSE, cancellable, error);
        else
          ok = ew_uds_client_communication_control (job->client,
                                                    is_on ? COMM_ENABLE_RX_TX : COMM_DISABLE_RX_TX,
                                                    COMM_NORMAL, FALSE, cancellable, error);
        if (is_on)
          functional_control (job, step->kind);
        return ok;
      }
    case EW_STEP_FINGERPRINT:
      {
        g_autoptr(GBytes) fp = fingerprint_bytes (job);
        gsize n = 0;
        const guint8 *data = g_bytes_get_data (fp, &n);

        return ew_uds_client_write_did (job->client, plan->fingerprint_did, data, n,
                                        cancellable, error);
      }
    case EW_STEP_RESET:
      if (!ew_uds_client_ecu_reset (job->client, RESET_HARD, FALSE, NULL, cancellable, error))
        return FALSE;
      g_usleep (50 * 1000);   /* a module in reset is silent for a moment */
      return wait_for_module (job, error);
    case EW_STEP_CLEAR_DTC:
      return ew_uds_client_clear_diagnostic_information (job->client, 0xFFFFFF, cancellable, error);
    case EW_STEP_READ_IDENTIFICATION:
      {
        const char *expected = ew_flash_container_get_software_version (job->image);
        g_autofree char *now = read_id_text (job, EW_ID_ROLE_SOFTWARE_VERSION, cancellable, error);

        if (now == NULL)
          {
            if (error != NULL && *error == NULL)
              g_set_error (error, EW_FLASH_ENGINE_ERROR, EW_FLASH_ENGINE_ERROR_VERIFY,
                           "Module %s declares no software version DID", job->module->id);
            return FALSE;
          }
        if (g_strcmp0 (now, expected) != 0)
          {
            g_set_error (error, EW_FLASH_ENGINE_ERROR, EW_FLASH_ENGINE_ERROR_VERIFY,
                         "Module %s (%s) runs software %s after programming, not %s",
                         job->module->id, job->module->name, now, expected);
            return FALSE;
          }
        return TRUE;
      }
    case EW_STEP_ERASE:
    case EW_STEP_DOWNLOAD:
    case EW_STEP_CHECK_MEMORY:
    case EW_STEP_CHECK_DEPENDENCIES:
    default:
      g_assert_not_reached ();
    }
}

static void
put_be32 (guint8 *p, guint32 v)
{
  p[0] = (guint8) (v >> 24);
  p[1] = (guint8) (v >> 16);
  p[2] = (guint8) (v >> 8);
  p[3] = (guint8) v;
}

static gboolean
erase_regions (EwFlashJob *job, GError **error)
{
  const EwProgrammingPlan *plan = job->module->programming;

  job->n_erase_total = job->image_check->segments->len;
  job->n_erase_done = 0;
  for (guint i = 0; i < job->image_check->segments->len; i++)
    {
      const EwFlashSegment *seg = &g_array_index (job->image_check->segments, EwFlashSegment, i);
      const EwRoutine *routine = find_routine (plan, seg->region->erase_routine);
      guint8 option[9] = { ALFID_4_4 };
      g_autoptr(GBytes) status = NULL;

      put_be32 (option + 1, seg->region->start);
      put_be32 (option + 5, seg->region->size);
      report (job, "erase", BAND_ERASE + (BAND_DOWNLOAD - BAND_ERASE) * i / job->n_erase_total);
      /* the erase answers 0x78 while it works; the client waits with P2* */
      status = ew_uds_client_routine_control (job->client, EW_UDS_ROUTINE_START, routine->rid,
                                              option, sizeof option, NULL, error);
      if (status == NULL)
        return FALSE;
      if (!routine_status_ok (status))
        {
          g_set_error (error, EW_FLASH_ENGINE_ERROR, EW_FLASH_ENGINE_ERROR_RECOVERY_NEEDED,
                       "Module %s: erasing %s reports status 0x%02X", job->module->id,
                       seg->region->name, ((const guint8 *) g_bytes_get_data (status, NULL))[0]);
          return FALSE;
        }
      journal (job, "erase", "ok", "%s: 0x%08X, 0x%X bytes, routine 0x%04X", seg->region->name,
               seg->region->start, seg->region->size, routine->rid);
    }
  return TRUE;
}

static DownloadResult
download_segments (EwFlashJob *job, GError **error)
{
  const EwProgrammingPlan *plan = job->module->programming;
  g_autoptr(EwFlashReader) reader = ew_flash_reader_new (job->image, error);

  if (reader == NULL)
    return DOWNLOAD_FAILED;
  job->crc = 0;
  job->bytes_sent = 0;
  job->download_start_us = g_get_monotonic_time ();
  for (guint i = 0; i < job->image_check->segments->len; i++)
    {
      const EwFlashSegment *seg = &g_array_index (job->image_check->segments, EwFlashSegment, i);
      g_autoptr(GError) local_error = NULL;
      g_autofree guint8 *block = NULL;
      g_autoptr(GBytes) exit = NULL;
      guint32 max_block, block_data;
      guint8 counter = 1;

      max_block = ew_uds_client_request_download (job->client, job->image_data_format, seg->address, 4,
                                                  seg->length, 4, NULL, &local_error);
      if (max_block == 0)
        {
          journal (job, "download", "failed", "RequestDownload 0x%08X, %u bytes: %s", seg->address,
                   seg->length, local_error->message);
          gboolean lost = is_timeout (local_error) || is_link_lost (local_error);
          g_propagate_error (error, g_steal_pointer (&local_error));
          return lost ? DOWNLOAD_LOST : DOWNLOAD_FAILED;
        }
      /* maxNumberOfBlockLength counts the SID and the counter. The vehicle
       * data's figure is the module's on its CAN bus; behind a DoIP entity
       * the module's own answer counts */
      if (plan->max_block_length > 2 && !g_str_has_prefix (ew_connection_get_uri (job->connection), "doip:"))
        max_block = MIN (max_block, plan->max_block_length);
      if (max_block < 3)
        {
          g_set_error (error, EW_FLASH_ENGINE_ERROR, EW_FLASH_ENGINE_ERROR_STEP_FAILED,
                       "Module %s offers blocks of %u bytes: too small", job->module->id, max_block);
          return DOWNLOAD_FAILED;
        }
      block_data = max_block - 2;
      block = g_malloc (block_data);
      for (guint32 offset = 0; offset < seg->length; offset += block_data)
        {
          guint32 n = MIN (block_data, seg->length - offset);
          gboolean any_timeout = FALSE;
          gboolean sent = FALSE;

          if (!ew_flash_reader_read (reader, seg->address + offset, block, n,
                                     job->module->flash->fill_byte, error))
            return DOWNLOAD_FAILED;
          /* a failed block is repeated with the same counter (ISO 14229-1
           * 14.5.2.3 lets the server acknowledge a repeat without
           * writing twice) */
          for (guint attempt = 1; attempt <= EW_FLASH_BLOCK_ATTEMPTS && !sent; attempt++)
            {
              g_clear_error (&local_error);
              sent = ew_uds_client_transfer_data (job->client, counter, block, n, NULL, &local_error);
              if (!sent)
                {
                  any_timeout = any_timeout || is_timeout (local_error) || is_link_lost (local_error);
                  journal (job, "retry", attempt < EW_FLASH_BLOCK_ATTEMPTS ? "retry" : "failed",
                           "TransferData block 0x%02X at 0x%08X, attempt %u of %u: %s", counter,
                           seg->address + offset, attempt, EW_FLASH_BLOCK_ATTEMPTS,
                           local_error->message);
                }
            }
          if (!sent)
            {
              g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                          "Module %s: TransferData block 0x%02X at 0x%08X failed %u times: ",
                                          job->module->id, counter, seg->address + offset,
                                          EW_FLASH_BLOCK_ATTEMPTS);
              return any_timeout ? DOWNLOAD_LOST : DOWNLOAD_FAILED;
            }
          job->crc = ew_flash_crc32 (job->crc, block, n);
          job->bytes_sent += n;
          counter++;   /* 0xFF wraps to 0x00 */
          report (job, "download", BAND_DOWNLOAD + (BAND_AFTER - BAND_DOWNLOAD) *
                  ((double) job->bytes_sent / MAX (job->image_bytes, 1)));
        }
      exit = ew_uds_client_request_transfer_exit (job->client, NULL, &local_error);
      if (exit == NULL)
        {
          journal (job, "download", "failed", "RequestTransferExit: %s", local_error->message);
          gboolean lost = is_timeout (local_error) || is_link_lost (local_error);
          g_propagate_error (error, g_steal_pointer (&local_error));
          return lost ? DOWNLOAD_LOST : DOWNLOAD_FAILED;
        }
      journal (job, "download", "ok", "segment %u of %u: 0x%08X, %u bytes in blocks of %u, "
               "counter ended at 0x%02X", i + 1, job->image_check->segments->len, seg->address,
               seg->length, block_data, (guint8) (counter - 1));
    }
  return DOWNLOAD_OK;
}

static gint
find_step (EwFlashJob *job, EwProgrammingStepKind kind, gint session)
{
  for (guint i = 0; i < job->steps->len; i++)
    {
      const Step *s = &g_array_index (job->steps, Step, i);

      if (s->kind == kind && (session < 0 || s->session == session))
        return (gint) i;
    }
  return -1;
}

static const char *
step_id (EwFlashJob *job, guint i)
{
  return g_array_index (job->infos, EwFlashStepInfo, i).id;
}

/* Back into the programming session with security, after a power loss or
 * before a restart (a module may have dropped either). */
static gboolean
reenter_programming (EwFlashJob *job, GError **error)
{
  gint session = find_step (job, EW_STEP_SESSION, SESSION_PROGRAMMING);
  gint security = find_step (job, EW_STEP_SECURITY, -1);
  const gint idx[2] = { session, security };

  for (guint k = 0; k < G_N_ELEMENTS (idx); k++)
    {
      g_autoptr(GError) local_error = NULL;

      if (idx[k] < 0)
        continue;
      if (!run_step (job, &g_array_index (job->steps, Step, idx[k]), NULL, &local_error))
        {
          journal (job, step_id (job, (guint) idx[k]), "failed", "%s", local_error->message);
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      journal (job, step_id (job, (guint) idx[k]), "ok", "%s (again)",
               g_array_index (job->infos, EwFlashStepInfo, idx[k]).description);
    }
  return TRUE;
}

static gboolean
check_routine (EwFlashJob *job, const Step *step, const guint8 *option, gsize n, guint8 *status,
               GError **error)
{
  g_autoptr(GBytes) answer = ew_uds_client_routine_control (job->client, EW_UDS_ROUTINE_START,
                                                            step->routine->rid, option, n, NULL, error);
  gsize len = 0;
  const guint8 *data;

  if (answer == NULL)
    return FALSE;
  data = g_bytes_get_data (answer, &len);
  *status = len > 0 ? data[0] : 0x00;
  return TRUE;
}

/* The link dropped after the download, at a check: the module's session,
 * and with it what it was checking, is gone. The link is connected again
 * and the module programmed again from the programming session and the
 * erase, in the same job. */
static gboolean
program_again_after_link_loss (EwFlashJob *job, const char *step_name, GError **error)
{
  g_autoptr(GError) local_error = NULL;

  journal (job, "link-lost", "failed", "The link dropped at %s, after %" G_GUINT64_FORMAT " bytes",
           step_name, job->bytes_sent);
  if (!wait_for_module (job, &local_error))
    {
      journal (job, "wake", "failed", "%s", local_error->message);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  journal (job, "wake", "ok", "module answers again; programming again from the "
           "programming session and the erase");
  return reenter_programming (job, error);
}

/* Erase, download, check memory, check dependencies; with the restarts.
 * Fails with the module left to recover. */
static gboolean
program_memory (EwFlashJob *job, GError **error)
{
  gint check_memory = find_step (job, EW_STEP_CHECK_MEMORY, -1);
  gint check_deps = find_step (job, EW_STEP_CHECK_DEPENDENCIES, -1);
  guint n_download_restarts = 0, n_check_restarts = 0, n_wakes = 0;

  for (;;)
    {
      g_autoptr(GError) local_error = NULL;
      DownloadResult result;
      guint8 status = 0;
      guint8 crc[4];

      if (!erase_regions (job, &local_error))
        {
          journal (job, "erase", "failed", "%s", local_error->message);
          /* a link that dropped is connected again, and the erase repeated */
          if (!is_link_lost (local_error) || n_wakes >= MAX_WAKES)
            {
              g_propagate_error (error, g_steal_pointer (&local_error));
              return FALSE;
            }
          result = DOWNLOAD_LOST;
        }
      else
        result = download_segments (job, &local_error);
      if (result == DOWNLOAD_LOST)
        {
          if (is_link_lost (local_error))
            journal (job, "link-lost", "failed", "The link dropped after %" G_GUINT64_FORMAT
                     " bytes: %s", job->bytes_sent, local_error->message);
          else
            journal (job, "power-loss", "failed", "Module stopped answering after %" G_GUINT64_FORMAT
                     " bytes: %s", job->bytes_sent, local_error->message);
          if (n_wakes >= MAX_WAKES)
            {
              g_propagate_error (error, g_steal_pointer (&local_error));
              return FALSE;
            }
          n_wakes++;
          g_clear_error (&local_error);
          if (!wait_for_module (job, &local_error))
            {
              journal (job, "wake", "failed", "%s", local_error->message);
              g_propagate_error (error, g_steal_pointer (&local_error));
              return FALSE;
            }
          journal (job, "wake", "ok", "module answers again; programming again from the "
                   "programming session and the erase");
          if (!reenter_programming (job, error))
            return FALSE;
          continue;
        }
      if (result == DOWNLOAD_FAILED)
        {
          journal (job, "download", "failed", "%s", local_error->message);
          if (n_download_restarts >= 1)
            {
              g_propagate_error (error, g_steal_pointer (&local_error));
              return FALSE;
            }
          n_download_restarts++;
          journal (job, "restart", "ok", "download failed: once more from the erase");
          if (!reenter_programming (job, error))
            return FALSE;
          continue;
        }

      put_be32 (crc, job->crc);
      report (job, "check-memory", BAND_AFTER);
      if (!check_routine (job, &g_array_index (job->steps, Step, check_memory), crc, sizeof crc,
                          &status, &local_error))
        {
          journal (job, "check-memory", "failed", "%s", local_error->message);
          if (is_link_lost (local_error) && n_wakes < MAX_WAKES)
            {
              n_wakes++;
              if (!program_again_after_link_loss (job, "check memory", error))
                return FALSE;
              continue;
            }
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      if (status != 0x00)
        {
          journal (job, "check-memory", "failed", "status 0x%02X for CRC-32 0x%08X over %"
                   G_GUINT64_FORMAT " bytes", status, job->crc, job->bytes_sent);
          if (n_check_restarts >= 1)
            {
              g_set_error (error, EW_FLASH_ENGINE_ERROR, EW_FLASH_ENGINE_ERROR_RECOVERY_NEEDED,
                           "Module %s: check memory failed twice (status 0x%02X, CRC-32 0x%08X)",
                           job->module->id, status, job->crc);
              return FALSE;
            }
          n_check_restarts++;
          journal (job, "restart", "ok", "check memory failed: once more from the erase");
          continue;
        }
      journal (job, "check-memory", "ok", "CRC-32 0x%08X over %" G_GUINT64_FORMAT " bytes",
               job->crc, job->bytes_sent);

      if (check_deps >= 0)
        {
          report (job, "check-dependencies", BAND_AFTER + 0.01);
          if (!check_routine (job, &g_array_index (job->steps, Step, check_deps), NULL, 0, &status,
                              &local_error))
            {
              journal (job, "check-dependencies", "failed", "%s", local_error->message);
              if (is_link_lost (local_error) && n_wakes < MAX_WAKES)
                {
                  n_wakes++;
                  if (!program_again_after_link_loss (job, "check dependencies", error))
                    return FALSE;
                  continue;
                }
              g_propagate_error (error, g_steal_pointer (&local_error));
              return FALSE;
            }
          if (status != 0x00)
            {
              journal (job, "check-dependencies", "failed", "status 0x%02X", status);
              g_set_error (error, EW_FLASH_ENGINE_ERROR, EW_FLASH_ENGINE_ERROR_RECOVERY_NEEDED,
                           "Module %s: check dependencies reports status 0x%02X", job->module->id,
                           status);
              return FALSE;
            }
          journal (job, "check-dependencies", "ok", NULL);
        }
      return TRUE;
    }
}

/* Ends the preparation without a change: the default session ends
 * communication and DTC-setting control (ISO 14229-1 10.2). */
static void
undo_preparation (EwFlashJob *job)
{
  g_autoptr(GError) local_error = NULL;

  functional_restore (job);
  if (ew_uds_client_diagnostic_session_control (job->client, SESSION_DEFAULT, FALSE, NULL, &local_error))
    journal (job, "session", "ok", "back to the default session: communication and DTC setting on");
  else
    journal (job, "session", "failed", "back to the default session: %s", local_error->message);
}

static gint64
finish (EwFlashJob *job, EwJobState state)
{
  g_autoptr(GError) local_error = NULL;

  if (!ew_job_store_set_job_state (job->store, job->job_id, state, &local_error))
    g_warning ("Job %" G_GINT64_FORMAT " state not stored: %s", job->job_id, local_error->message);
  return state == EW_JOB_STATE_DONE ? job->job_id : 0;
}

/* Reset, communication and DTC setting on, clear DTCs, identification:
 * the steps after the memory is programmed. */
static gboolean
run_final_steps (EwFlashJob *job, GError **error)
{
  gint memory_end = MAX (find_step (job, EW_STEP_CHECK_DEPENDENCIES, -1),
                         MAX (find_step (job, EW_STEP_CHECK_MEMORY, -1),
                              find_step (job, EW_STEP_DOWNLOAD, -1)));
  g_autoptr(GError) local_error = NULL;

  for (guint i = (guint) memory_end + 1; i < job->steps->len; i++)
    {
      const Step *step = &g_array_index (job->steps, Step, i);
      const EwFlashStepInfo *info = &g_array_index (job->infos, EwFlashStepInfo, i);

      if (step->kind == EW_STEP_ERASE || step->kind == EW_STEP_DOWNLOAD ||
          step->kind == EW_STEP_CHECK_MEMORY || step->kind == EW_STEP_CHECK_DEPENDENCIES)
        continue;
      report (job, info->id, BAND_AFTER + 0.02 + (1.0 - BAND_AFTER - 0.02) * (i - memory_end - 1) /
              MAX (job->steps->len - memory_end - 1, 1u));
      if (!run_step (job, step, NULL, &local_error))
        {
          journal (job, info->id, "failed", "%s: %s", info->description, local_error->message);
          /* the new software is in; a link that dropped is connected
           * again (waiting for the module) and the step sent once more */
          if (!is_link_lost (local_error))
            {
              g_propagate_error (error, g_steal_pointer (&local_error));
              return FALSE;
            }
          g_clear_error (&local_error);
          journal (job, "link-lost", "failed", "The link dropped at the step: %s", info->description);
          if (!wait_for_module (job, &local_error))
            {
              journal (job, "wake", "failed", "%s", local_error->message);
              g_propagate_error (error, g_steal_pointer (&local_error));
              return FALSE;
            }
          journal (job, "wake", "ok", "module answers again; the step once more");
          if (!run_step (job, step, NULL, &local_error))
            {
              journal (job, info->id, "failed", "%s: %s", info->description, local_error->message);
              g_propagate_error (error, g_steal_pointer (&local_error));
              return FALSE;
            }
        }
      if (step->kind == EW_STEP_READ_IDENTIFICATION)
        journal (job, info->id, "ok", "%s: module %s runs software %s", info->description,
                 job->module->id, ew_flash_container_get_software_version (job->image));
      else
        journal (job, info->id, "ok", "%s", info->description);
    }

  /* leave the module as a car runs it */
  if (!ew_uds_client_diagnostic_session_control (job->client, SESSION_DEFAULT, FALSE, NULL, &local_error))
    g_debug ("Module %s: default session not confirmed: %s", job->module->id, local_error->message);
  return TRUE;
}

static guint64
segments_length (const EwFlashCheckResult *check)
{
  guint64 n = 0;

  for (guint i = 0; i < check->segments->len; i++)
    n += g_array_index (check->segments, EwFlashSegment, i).length;
  return n;
}

/* Loads the recovery image and checks it against the module as a
 * bootloader takes it (any software level). */
static gboolean
load_recovery_image (EwFlashJob *job, GError **error)
{
  g_autoptr(EwFlashContainer) container = NULL;
  EwFlashCheckOptions options = { 0 };
  EwFlashCheckResult *check;

  container = ew_flash_container_load (job->recovery_image, NULL, error);
  if (container == NULL)
    return FALSE;
  if (ew_flash_container_get_target_module (container) == NULL)
    ew_flash_container_set_target_module (container, job->module->id);
  options.part_number = job->part_number;
  options.hardware_number = job->hardware;
  options.allow_downgrade = TRUE;
  check = ew_flash_container_check (container, job->family, job->module, &options, error);
  if (check == NULL)
    return FALSE;
  job->recovery_container = g_steal_pointer (&container);
  job->recovery_check = check;
  return TRUE;
}

/* After a persistent failure, in the same job: the recovery image is
 * programmed from the bootloader, so the module runs again. */
static gboolean
program_recovery_image (EwFlashJob *job, const GError *cause, GError **error)
{
  g_autoptr(GError) local_error = NULL;
  const char *version;
  gint data_format;

  if (job->recovery_image == NULL)
    {
      journal (job, "recovery", "skipped", "no recovery image (the override was given)");
      g_set_error (error, EW_FLASH_ENGINE_ERROR, EW_FLASH_ENGINE_ERROR_NO_RECOVERY_IMAGE,
                   "no recovery image for module %s", job->module->id);
      return FALSE;
    }
  if (g_strcmp0 (job->recovery_image, ew_flash_container_get_path (job->image)) == 0)
    {
      journal (job, "recovery", "skipped", "%s: the recovery image is the container that failed",
               job->recovery_image);
      g_set_error (error, EW_FLASH_ENGINE_ERROR, EW_FLASH_ENGINE_ERROR_RECOVERY_NEEDED,
                   "the recovery image %s is the container that failed", job->recovery_image);
      return FALSE;
    }
  if (job->recovery_container == NULL && !load_recovery_image (job, &local_error))
    {
      journal (job, "recovery", "failed", "%s: %s", job->recovery_image, local_error->message);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  version = ew_flash_container_get_software_version (job->recovery_container);
  journal (job, "recovery", "started", "%s: software %s, because the new software failed: %s",
           job->recovery_image, version, cause->message);

  job->image = job->recovery_container;
  job->image_check = job->recovery_check;
  job->image_bytes = segments_length (job->recovery_check);
  data_format = ew_flash_container_get_data_format (job->recovery_container);
  job->image_data_format = data_format >= 0 ? (guint8) data_format : job->module->flash->data_format;
  job->bytes_sent = 0;
  report (job, "recovery", job->fraction);

  /* the module may still be waking from the failure */
  if (!wait_for_module (job, &local_error) || !reenter_programming (job, &local_error) ||
      !program_memory (job, &local_error) || !run_final_steps (job, &local_error))
    {
      journal (job, "recovery", "failed", "%s: %s", job->recovery_image, local_error->message);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  journal (job, "recovery", "ok", "module %s restored to software %s from %s", job->module->id,
           version, job->recovery_image);
  return TRUE;
}

/* The job from its first step (job_id 0: a new job), or as the
 * continuation of a stored one. */
static gint64
run_job (EwFlashJob          *job,
         EwJobStore          *store,
         gint64               resume_job_id,
         gboolean             is_recovery,
         EwFlashProgressFunc  progress,
         gpointer             user_data,
         GCancellable        *cancellable,
         GError             **error)
{
  g_autofree char *summary = NULL;
  gint erase, programming_session;
  guint n_before;

  job->store = store;
  job->progress = progress;
  job->user_data = user_data;
  job->fraction = 0.0;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return 0;

  if (resume_job_id != 0)
    {
      job->job_id = resume_job_id;
      journal (job, "resume", "started", "programming module %s again from %s with %s%s",
               job->module->id, job->is_in_bootloader ? "its bootloader" : "the start",
               ew_flash_container_get_path (job->container),
               is_recovery ? " (the recovery image)" : "");
    }
  else
    {
      summary = g_strdup_printf ("Program %s (%s) with software %s", job->module->id, job->module->name,
                                 ew_flash_container_get_software_version (job->container));
      job->job_id = ew_job_store_begin_job (store, EW_JOB_KIND_PROGRAMMING, job->vin, job->family->id,
                                            ew_connection_get_uri (job->connection), summary, 0, error);
      if (job->job_id == 0)
        return 0;
    }
  journal (job, "identification", "ok", "software %s, part %s, hardware %s%s",
           job->software != NULL ? job->software : "(none)",
           job->part_number != NULL ? job->part_number : "(none)",
           job->hardware != NULL ? job->hardware : "(none)",
           job->is_simulated ? ", simulated car" : "");
  journal (job, "container-check", "ok", "%s: software %s, %" G_GUINT64_FORMAT " bytes in %u segment(s)%s",
           ew_flash_container_get_path (job->container),
           ew_flash_container_get_software_version (job->container), job->total_bytes,
           job->check->segments->len, job->check->is_downgrade ? ", downgrade confirmed" : "");
  if (job->recovery_image != NULL)
    journal (job, "recovery-image", "ok", "%s (software %s%s)", job->recovery_image,
             job->recovery_software != NULL ? job->recovery_software : "unknown",
             !job->is_in_bootloader && g_strcmp0 (job->recovery_software, job->software) == 0
               ? ", the software the module runs now" : "");
  else
    journal (job, "recovery-image", "overridden",
             "no recovery image; the module is already in its bootloader and the technician "
             "chose to go on");
  if (job->supply_mv != 0)
    {
      g_autofree char *volts = ew_supply_voltage_format (job->supply_mv);

      journal (job, "battery", "ok", "%s at the %s", volts, job->supply_from->id);
    }
  else
    journal (job, "battery", "skipped", "no module of the car reports its supply voltage; "
             "the technician confirmed the battery support unit");
  report (job, "identification", 0.0);

  erase = find_step (job, EW_STEP_ERASE, -1);
  programming_session = find_step (job, EW_STEP_SESSION, SESSION_PROGRAMMING);
  n_before = (guint) erase;

  /* preparation: cancellation is honoured here */
  for (guint i = 0; i < n_before; i++)
    {
      const Step *step = &g_array_index (job->steps, Step, i);
      const EwFlashStepInfo *info = &g_array_index (job->infos, EwFlashStepInfo, i);
      g_autoptr(GError) local_error = NULL;

      report (job, info->id, BAND_ERASE * i / MAX (n_before, 1));
      if (g_cancellable_set_error_if_cancelled (cancellable, &local_error))
        {
          journal (job, "cancel", "ok", "cancelled before %s; nothing was erased", info->id);
          undo_preparation (job);
          g_propagate_error (error, g_steal_pointer (&local_error));
          finish (job, EW_JOB_STATE_ROLLED_BACK);
          return 0;
        }
      /* a bootloader offers only the programming session */
      if (job->is_in_bootloader && (gint) i < programming_session)
        {
          gboolean is_functional = step->kind == EW_STEP_DTC_SETTING_OFF ||
                                   step->kind == EW_STEP_COMMUNICATION_OFF;

          if (is_functional)
            functional_control (job, step->kind);
          journal (job, info->id, "skipped", "%s: the module is in its bootloader%s", info->description,
                   is_functional ? "; sent functionally to the rest of the car" : "");
          continue;
        }
      if (!run_step (job, step, cancellable, &local_error))
        {
          /* some bootloaders take no WriteDataByIdentifier: the fingerprint
           * is a record, not a condition of programming */
          if (step->kind == EW_STEP_FINGERPRINT && job->is_in_bootloader &&
              local_error->domain == EW_UDS_NRC_ERROR &&
              (local_error->code == 0x11 || local_error->code == 0x7F))
            {
              journal (job, info->id, "skipped", "%s: the bootloader refuses it: %s",
                       info->description, local_error->message);
              continue;
            }
          journal (job, info->id, "failed", "%s: %s", info->description, local_error->message);
          undo_preparation (job);
          if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            g_propagate_error (error, g_steal_pointer (&local_error));
          else
            g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                        "Module %s (%s), step %s, nothing erased: ",
                                        job->module->id, job->module->name, info->id);
          finish (job, EW_JOB_STATE_ROLLED_BACK);
          return 0;
        }
      journal (job, info->id, "ok", "%s", info->description);
    }
  {
    g_autoptr(GError) local_error = NULL;

    if (g_cancellable_set_error_if_cancelled (cancellable, &local_error))
      {
        journal (job, "cancel", "ok", "cancelled before the erase; nothing was erased");
        undo_preparation (job);
        g_propagate_error (error, g_steal_pointer (&local_error));
        finish (job, EW_JOB_STATE_ROLLED_BACK);
        return 0;
      }
  }

  /* from the erase on: finish or recover, never cancel */
  {
    g_autoptr(GError) local_error = NULL;
    g_autoptr(GError) recovery_error = NULL;

    if (!program_memory (job, &local_error))
      {
        if (!is_recovery && program_recovery_image (job, local_error, &recovery_error))
          {
            journal (job, "rolled-back", "ok", "module %s runs software %s again; software %s "
                     "failed: %s", job->module->id, job->recovery_software,
                     ew_flash_container_get_software_version (job->container), local_error->message);
            g_set_error (error, EW_FLASH_ENGINE_ERROR, EW_FLASH_ENGINE_ERROR_ROLLED_BACK,
                         "Programming module %s (%s) with software %s failed, and the module was "
                         "restored to software %s from the recovery image %s. Why the new software "
                         "failed: %s",
                         job->module->id, job->module->name,
                         ew_flash_container_get_software_version (job->container),
                         job->recovery_software, job->recovery_image, local_error->message);
            functional_restore (job);
            finish (job, EW_JOB_STATE_ROLLED_BACK);
            return 0;
          }
        journal (job, "recovery-needed", "failed",
                 "Module %s is left in its bootloader: %s%s%s. Program it again%s%s",
                 job->module->id, local_error->message,
                 recovery_error != NULL ? "; the recovery image failed too: " : "",
                 recovery_error != NULL ? recovery_error->message : "",
                 job->recovery_image != NULL ? " (recovery image: " : "",
                 job->recovery_image != NULL ? job->recovery_image : "");
        g_set_error (error, EW_FLASH_ENGINE_ERROR, EW_FLASH_ENGINE_ERROR_RECOVERY_NEEDED,
                     "Programming module %s (%s) failed and it is left in its bootloader: recovery "
                     "is needed. %s%s%s%s%s",
                     job->module->id, job->module->name, local_error->message,
                     recovery_error != NULL ? ". The recovery image failed too: " : "",
                     recovery_error != NULL ? recovery_error->message : "",
                     job->recovery_image != NULL ? ". Recovery image: " : "",
                     job->recovery_image != NULL ? job->recovery_image : "");
        functional_restore (job);
        finish (job, EW_JOB_STATE_FAILED);
        return 0;
      }
  }

  {
    g_autoptr(GError) local_error = NULL;

    if (!run_final_steps (job, &local_error))
      {
        g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                    "Module %s (%s) was programmed, but a later step failed: ",
                                    job->module->id, job->module->name);
        functional_restore (job);
        finish (job, EW_JOB_STATE_FAILED);
        return 0;
      }
  }

  if (is_recovery)
    {
      journal (job, "rolled-back", "ok", "module %s runs software %s from the recovery image %s",
               job->module->id, ew_flash_container_get_software_version (job->container),
               ew_flash_container_get_path (job->container));
      report (job, "done", 1.0);
      g_set_error (error, EW_FLASH_ENGINE_ERROR, EW_FLASH_ENGINE_ERROR_ROLLED_BACK,
                   "Module %s (%s) was restored to software %s from the recovery image %s",
                   job->module->id, job->module->name,
                   ew_flash_container_get_software_version (job->container),
                   ew_flash_container_get_path (job->container));
      finish (job, EW_JOB_STATE_ROLLED_BACK);
      return 0;
    }
  journal (job, "done", "ok", "module %s runs software %s", job->module->id,
           ew_flash_container_get_software_version (job->container));
  report (job, "done", 1.0);
  return finish (job, EW_JOB_STATE_DONE);
}

gint64
ew_flash_job_run (EwFlashJob          *job,
                  EwJobStore          *store,
                  EwFlashProgressFunc  progress,
                  gpointer             user_data,
                  GCancellable        *cancellable,
                  GError             **error)
{
  g_return_val_if_fail (job != NULL && store != NULL, 0);
  g_return_val_if_fail (job->job_id == 0, 0);

  return run_job (job, store, 0, FALSE, progress, user_data, cancellable, error);
}

gint64
ew_flash_job_continue (EwFlashJob          *job,
                       EwJobStore          *store,
                       gint64               job_id,
                       gboolean             is_recovery_image,
                       EwFlashProgressFunc  progress,
                       gpointer             user_data,
                       GCancellable        *cancellable,
                       GError             **error)
{
  g_return_val_if_fail (job != NULL && store != NULL && job_id > 0, 0);
  g_return_val_if_fail (job->job_id == 0, 0);

  return run_job (job, store, job_id, is_recovery_image, progress, user_data, cancellable, error);
}

gint64
ew_flash_job_confirm (EwFlashJob  *job,
                      EwJobStore  *store,
                      gint64       job_id,
                      GError     **error)
{
  const char *expected;

  g_return_val_if_fail (job != NULL && store != NULL && job_id > 0, 0);
  g_return_val_if_fail (job->job_id == 0, 0);

  job->store = store;
  job->job_id = job_id;
  expected = ew_flash_container_get_software_version (job->container);
  if (job->is_in_bootloader || g_strcmp0 (job->software, expected) != 0)
    {
      journal (job, "read-identification", "failed", "module %s runs %s, not %s", job->module->id,
               job->software != NULL ? job->software : "(none)", expected);
      g_set_error (error, EW_FLASH_ENGINE_ERROR, EW_FLASH_ENGINE_ERROR_VERIFY,
                   "Module %s (%s) runs software %s, not %s", job->module->id, job->module->name,
                   job->software != NULL ? job->software : "(none)", expected);
      return 0;
    }
  journal (job, "read-identification", "ok", "module %s already runs software %s (read back)",
           job->module->id, expected);
  journal (job, "done", "ok", "module %s runs software %s", job->module->id, expected);
  return finish (job, EW_JOB_STATE_DONE);
}

gint64
ew_flash_run (EwConnection         *connection,
              EwJobStore           *store,
              const char           *module_id,
              const char           *container_path,
              const EwFlashOptions *options,
              EwFlashProgressFunc   progress,
              gpointer              user_data,
              GCancellable         *cancellable,
              GError              **error)
{
  g_autoptr(EwFlashJob) job = ew_flash_job_prepare (connection, module_id, container_path, options,
                                                    cancellable, error);

  if (job == NULL)
    return 0;
  return ew_flash_job_run (job, store, progress, user_data, cancellable, error);
}
