/* sim-ecu.c — a simulated control unit answering UDS (ISO 14229-1). */
#include "sim/sim-ecu.h"

#include <gio/gio.h>
#include <stdio.h>
#include <string.h>

#include "sim/sim-flash.h"
#include "uds/toy-seedkey.h"

#define SEED_LENGTH          4
#define MAX_DIDS_PER_REQUEST 32
#define MAX_RESPONSE_LENGTH  4095
#define ERASE_TIME_MS        300
#define PENDING_INTERVAL_MS  20

/* ISO 14229-1 service identifiers */
enum {
  SID_SESSION_CONTROL     = 0x10,
  SID_ECU_RESET           = 0x11,
  SID_CLEAR_DTC           = 0x14,
  SID_READ_DTC            = 0x19,
  SID_READ_DID            = 0x22,
  SID_READ_MEMORY         = 0x23,
  SID_SECURITY_ACCESS     = 0x27,
  SID_COMMUNICATION       = 0x28,
  SID_WRITE_DID           = 0x2E,
  SID_ROUTINE_CONTROL     = 0x31,
  SID_REQUEST_DOWNLOAD    = 0x34,
  SID_TRANSFER_DATA       = 0x36,
  SID_TRANSFER_EXIT       = 0x37,
  SID_TESTER_PRESENT      = 0x3E,
  SID_CONTROL_DTC_SETTING = 0x85,
};

/* ISO 14229-1 Annex A.1 negative response codes */
enum {
  NRC_SERVICE_NOT_SUPPORTED            = 0x11,
  NRC_SUB_FUNCTION_NOT_SUPPORTED       = 0x12,
  NRC_INCORRECT_LENGTH                 = 0x13,
  NRC_RESPONSE_TOO_LONG                = 0x14,
  NRC_CONDITIONS_NOT_CORRECT           = 0x22,
  NRC_REQUEST_SEQUENCE_ERROR           = 0x24,
  NRC_REQUEST_OUT_OF_RANGE             = 0x31,
  NRC_SECURITY_ACCESS_DENIED           = 0x33,
  NRC_INVALID_KEY                      = 0x35,
  NRC_EXCEEDED_NUMBER_OF_ATTEMPTS      = 0x36,
  NRC_REQUIRED_TIME_DELAY_NOT_EXPIRED  = 0x37,
  NRC_UPLOAD_DOWNLOAD_NOT_ACCEPTED     = 0x70,
  NRC_TRANSFER_DATA_SUSPENDED          = 0x71,
  NRC_GENERAL_PROGRAMMING_FAILURE      = 0x72,
  NRC_WRONG_BLOCK_SEQUENCE_COUNTER     = 0x73,
  NRC_RESPONSE_PENDING                 = 0x78,
  NRC_SERVICE_NOT_SUPPORTED_IN_SESSION = 0x7F,
};

enum {
  SESSION_DEFAULT     = 0x01,
  SESSION_PROGRAMMING = 0x02,
  SESSION_EXTENDED    = 0x03,
};

typedef enum {
  ROUTINE_NONE,
  ROUTINE_ERASE,
  ROUTINE_CHECK_MEMORY,
  ROUTINE_CHECK_DEPENDENCIES,
  ROUTINE_CHECK_PRECONDITIONS,
  ROUTINE_IMMOBILISER_PAIRING,
} RoutineKind;

typedef struct {
  guint16     rid;
  RoutineKind kind;
  gboolean    has_result;
  GByteArray *result;   /* statusRecord of the last start */
} Routine;

struct _EwSimEcu {
  EwFamily       *family;
  const EwModule *module;
  EwSimProfile   *profile;
  EwSimFaults    *faults;
  GMutex          mutex;
  EwSimClockFunc  clock;
  gpointer        clock_data;
  gboolean        sleeps;
  guint           max_block_override;   /* 0: the vehicle data's figure */
  guint           download_max_block;   /* announced by the running download */

  /* persistent state */
  gboolean        is_present;
  gboolean        is_in_bootloader;
  char           *vin;
  char           *part_number;
  char           *software_version;
  char           *hardware_version;
  char           *serial_number;
  char           *supplier;
  char           *programming_date;
  char           *option_list;  /* nullable: the profile's options until written */
  GHashTable     *coding;       /* did -> GBytes */
  GHashTable     *mileage;      /* did -> value in the store's unit */
  GArray         *dtcs;         /* EwSimDtc */
  GBytes         *fingerprint;  /* nullable */
  EwSimFlash     *flash;        /* nullable: module without flash layout */
  GBytes         *immobiliser_master; /* nullable: not paired; else the master's serial */

  /* volatile state */
  guint8          session;
  gint64          last_request_us;
  guint8          unlocked_level;
  guint8          seed_level;   /* level whose seed was sent, 0 = none */
  guint8          seed[SEED_LENGTH];
  GHashTable     *failed_attempts; /* level -> count */
  gint64          lockout_until_us;
  gboolean        communication_enabled;
  gboolean        dtc_setting_enabled;
  gint64          silent_until_us;  /* 0 = answering */
  gboolean        wakes_in_bootloader;
  GRand          *rand;

  /* programming */
  GArray         *routines;     /* Routine */
  gboolean        download_active;
  guint32         download_address;
  guint32         download_size;
  guint32         download_done;
  guint8          next_block_counter;
  gboolean        has_last_block;
  guint8          last_block_counter;
  guint           blocks_since_erase;
  gboolean        power_loss_done;
  gboolean        memory_checked;
  gboolean        application_valid;
};

static gint64
now_us (EwSimEcu *ecu)
{
  return ecu->clock != NULL ? ecu->clock (ecu->clock_data) : g_get_monotonic_time ();
}

static void
routine_clear (gpointer data)
{
  Routine *routine = data;
  g_clear_pointer (&routine->result, g_byte_array_unref);
}

static RoutineKind
routine_kind_for_step (EwProgrammingStepKind kind)
{
  switch (kind)
    {
    case EW_STEP_ERASE:              return ROUTINE_ERASE;
    case EW_STEP_CHECK_MEMORY:       return ROUTINE_CHECK_MEMORY;
    case EW_STEP_CHECK_DEPENDENCIES: return ROUTINE_CHECK_DEPENDENCIES;
    default:                         return ROUTINE_NONE;
    }
}

static RoutineKind
routine_kind_for_id (const char *id)
{
  if (g_str_has_prefix (id, "erase"))
    return ROUTINE_ERASE;
  if (strcmp (id, "check-memory") == 0)
    return ROUTINE_CHECK_MEMORY;
  if (strcmp (id, "check-dependencies") == 0)
    return ROUTINE_CHECK_DEPENDENCIES;
  if (strcmp (id, "check-preconditions") == 0)
    return ROUTINE_CHECK_PRECONDITIONS;
  return ROUTINE_NONE;
}

/* The routines the module's programming plan declares; what each does
 * comes from the step that names it, else from its id. */
static void
setup_routines (EwSimEcu *ecu)
{
  const EwProgrammingPlan *plan = ecu->module->programming;

  ecu->routines = g_array_new (FALSE, TRUE, sizeof (Routine));
  g_array_set_clear_func (ecu->routines, routine_clear);
  if (ecu->module->immobiliser != NULL)
    {
      Routine routine = { 0 };

      routine.rid = ecu->module->immobiliser->pairing_rid;
      routine.kind = ROUTINE_IMMOBILISER_PAIRING;
      routine.result = g_byte_array_new ();
      g_array_append_val (ecu->routines, routine);
    }
  if (plan == NULL)
    return;
  for (guint i = 0; i < plan->routines->len; i++)
    {
      const EwRoutine *r = g_ptr_array_index (plan->routines, i);
      Routine routine = { 0 };

      routine.rid = r->rid;
      routine.kind = routine_kind_for_id (r->id);
      for (guint s = 0; s < plan->steps->len; s++)
        {
          const EwProgrammingStep *step = g_ptr_array_index (plan->steps, s);
          if (step->routine != NULL && strcmp (step->routine, r->id) == 0 &&
              routine_kind_for_step (step->kind) != ROUTINE_NONE)
            routine.kind = routine_kind_for_step (step->kind);
        }
      routine.result = g_byte_array_new ();
      g_array_append_val (ecu->routines, routine);
    }
}

static void append_ascii (GByteArray *out, const char *text, guint length_bytes);
static void append_bcd   (GByteArray *out, const char *digits, guint length_bytes);

/* The immobiliser master's serial number as its serial-number DID answers
 * it in this car (the profile's): what a pairing must present. NULL when
 * the module has no immobiliser or the master is not fitted. */
static GBytes *
immobiliser_master_serial (EwSimEcu *ecu)
{
  const EwModule *master;
  const EwSimModuleProfile *mp;
  g_autoptr(GByteArray) out = g_byte_array_new ();

  if (ecu->module->immobiliser == NULL)
    return NULL;
  master = ew_family_find_module (ecu->family, ecu->module->immobiliser->master);
  mp = master != NULL ? ew_sim_profile_get_module (ecu->profile, master->id) : NULL;
  if (mp == NULL || !mp->is_present || mp->serial_number == NULL)
    return NULL;
  for (guint i = 0; i < master->identification->len; i++)
    {
      const EwIdentificationDid *id = g_ptr_array_index (master->identification, i);

      if (id->role != EW_ID_ROLE_SERIAL_NUMBER)
        continue;
      if (id->encoding == EW_DID_ENCODING_BCD)
        append_bcd (out, mp->serial_number, id->length_bytes);
      else
        append_ascii (out, mp->serial_number, id->length_bytes);
      return g_bytes_new (out->data, out->len);
    }
  return NULL;
}

static void
load_from_profile (EwSimEcu *ecu)
{
  const EwSimModuleProfile *mp = ew_sim_profile_get_module (ecu->profile, ecu->module->id);
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_remove_all (ecu->coding);
  g_hash_table_remove_all (ecu->mileage);
  g_array_set_size (ecu->dtcs, 0);
  g_clear_pointer (&ecu->option_list, g_free);
  if (mp == NULL)
    {
      ecu->is_present = FALSE;
      return;
    }
  ecu->is_present = mp->is_present;
  ecu->is_in_bootloader = mp->is_in_bootloader && ecu->flash != NULL;
  ecu->application_valid = !ecu->is_in_bootloader;
  g_free (ecu->vin);
  ecu->vin = g_strdup (mp->vin);
  g_free (ecu->part_number);
  ecu->part_number = g_strdup (mp->part_number);
  g_free (ecu->software_version);
  ecu->software_version = g_strdup (mp->software_version);
  g_free (ecu->hardware_version);
  ecu->hardware_version = g_strdup (mp->hardware_version);
  g_free (ecu->serial_number);
  ecu->serial_number = g_strdup (mp->serial_number);
  g_free (ecu->supplier);
  ecu->supplier = g_strdup (mp->supplier);
  g_free (ecu->programming_date);
  ecu->programming_date = g_strdup (mp->programming_date);
  g_hash_table_iter_init (&iter, mp->coding);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_hash_table_insert (ecu->coding, key, g_bytes_ref (value));
  g_hash_table_iter_init (&iter, mp->mileage_km);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_hash_table_insert (ecu->mileage, key, value);
  g_array_append_vals (ecu->dtcs, mp->dtcs->data, mp->dtcs->len);
  /* a unit that holds the car's VIN was paired at the factory; one from
   * another car is not paired to this car's immobiliser */
  g_clear_pointer (&ecu->immobiliser_master, g_bytes_unref);
  if (g_strcmp0 (mp->vin, ew_sim_profile_get_vin (ecu->profile)) == 0)
    ecu->immobiliser_master = immobiliser_master_serial (ecu);
}

static void
enter_default_session (EwSimEcu *ecu)
{
  ecu->session = SESSION_DEFAULT;
  ecu->unlocked_level = 0;
  ecu->seed_level = 0;
  ecu->communication_enabled = TRUE;
  ecu->dtc_setting_enabled = TRUE;
  ecu->download_active = FALSE;
}

EwSimEcu *
ew_sim_ecu_new (EwFamily       *family,
                const EwModule *module,
                EwSimProfile   *profile,
                EwSimFaults    *faults)
{
  EwSimEcu *ecu;

  g_return_val_if_fail (family != NULL, NULL);
  g_return_val_if_fail (module != NULL, NULL);
  g_return_val_if_fail (profile != NULL, NULL);

  ecu = g_new0 (EwSimEcu, 1);
  ecu->family = ew_family_ref (family);
  ecu->module = module;
  ecu->profile = ew_sim_profile_ref (profile);
  ecu->faults = faults != NULL ? ew_sim_faults_ref (faults) : NULL;
  g_mutex_init (&ecu->mutex);
  ecu->sleeps = TRUE;
  ecu->coding = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) g_bytes_unref);
  ecu->mileage = g_hash_table_new (NULL, NULL);
  ecu->dtcs = g_array_new (FALSE, TRUE, sizeof (EwSimDtc));
  ecu->failed_attempts = g_hash_table_new (NULL, NULL);
  ecu->rand = g_rand_new_with_seed (g_str_hash (module->id));
  if (module->flash != NULL)
    ecu->flash = ew_sim_flash_new (module->flash);
  setup_routines (ecu);
  load_from_profile (ecu);
  enter_default_session (ecu);
  return ecu;
}

void
ew_sim_ecu_free (EwSimEcu *ecu)
{
  if (ecu == NULL)
    return;
  g_array_unref (ecu->routines);
  g_clear_pointer (&ecu->flash, ew_sim_flash_free);
  g_clear_pointer (&ecu->fingerprint, g_bytes_unref);
  g_clear_pointer (&ecu->immobiliser_master, g_bytes_unref);
  g_rand_free (ecu->rand);
  g_hash_table_unref (ecu->failed_attempts);
  g_array_unref (ecu->dtcs);
  g_hash_table_unref (ecu->mileage);
  g_hash_table_unref (ecu->coding);
  g_free (ecu->vin);
  g_free (ecu->part_number);
  g_free (ecu->software_version);
  g_free (ecu->hardware_version);
  g_free (ecu->serial_number);
  g_free (ecu->supplier);
  g_free (ecu->programming_date);
  g_free (ecu->option_list);
  g_mutex_clear (&ecu->mutex);
  ew_sim_faults_unref (ecu->faults);
  ew_sim_profile_unref (ecu->profile);
  ew_family_unref (ecu->family);
  g_free (ecu);
}

void
ew_sim_ecu_set_clock (EwSimEcu       *ecu,
                      EwSimClockFunc  clock,
                      gpointer        user_data)
{
  ecu->clock = clock;
  ecu->clock_data = user_data;
}

void
ew_sim_ecu_set_sleeps (EwSimEcu *ecu,
                       gboolean  sleeps)
{
  ecu->sleeps = sleeps;
}

void
ew_sim_ecu_set_max_block_length (EwSimEcu *ecu,
                                 guint     max_block_length)
{
  ecu->max_block_override = max_block_length;
}

/* Identification ---------------------------------------------------------- */

static const EwSecurityLevel *
find_security_level (EwSimEcu *ecu,
                     guint8    level)
{
  for (guint i = 0; i < ecu->module->security->len; i++)
    {
      const EwSecurityLevel *l = g_ptr_array_index (ecu->module->security, i);
      if (l->level == level)
        return l;
    }
  return NULL;
}

/* The level that opens programming: the one declared for it, else the
 * coding level, else none needed. */
static guint8
programming_level (EwSimEcu *ecu)
{
  for (guint i = 0; i < ecu->module->security->len; i++)
    {
      const EwSecurityLevel *l = g_ptr_array_index (ecu->module->security, i);
      if (l->purpose == EW_WORK_CLASS_PROGRAMMING)
        return l->level;
    }
  return ecu->module->coding_security_level;
}

static gboolean
is_unlocked_for (EwSimEcu *ecu,
                 guint8    level)
{
  return level == 0 || ecu->unlocked_level == level;
}

static const EwMileageStore *
find_mileage_store (EwSimEcu *ecu,
                    guint16   did)
{
  for (guint i = 0; i < ecu->module->mileage->len; i++)
    {
      const EwMileageStore *store = g_ptr_array_index (ecu->module->mileage, i);
      if (store->did == did)
        return store;
    }
  return NULL;
}

static void
append_ascii (GByteArray *out,
              const char *text,
              guint       length_bytes)
{
  gsize n = strlen (text);

  if (length_bytes == 0)
    {
      g_byte_array_append (out, (const guint8 *) text, (guint) n);
      return;
    }
  for (guint i = 0; i < length_bytes; i++)
    {
      guint8 c = i < n ? (guint8) text[i] : ' ';
      g_byte_array_append (out, &c, 1);
    }
}

static void
append_bcd (GByteArray *out,
            const char *digits,
            guint       length_bytes)
{
  guint n = length_bytes != 0 ? length_bytes : (guint) (strlen (digits) + 1) / 2;

  for (guint i = 0; i < n; i++)
    {
      guint8 hi = 2 * i < strlen (digits) ? (guint8) (digits[2 * i] - '0') : 0;
      guint8 lo = 2 * i + 1 < strlen (digits) ? (guint8) (digits[2 * i + 1] - '0') : 0;
      guint8 b = (guint8) ((hi & 0x0F) << 4 | (lo & 0x0F));
      g_byte_array_append (out, &b, 1);
    }
}

/* The fitted options in the family's order, as the option-list record: ASCII
 * codes joined by commas, no spaces (see vehicle-family.xsd). */
static void
append_option_list (EwSimEcu   *ecu,
                    GByteArray *out)
{
  gboolean is_first = TRUE;

  /* a tester wrote the list (a retrofit adds an option): it holds */
  if (ecu->option_list != NULL)
    {
      g_byte_array_append (out, (const guint8 *) ecu->option_list, (guint) strlen (ecu->option_list));
      return;
    }
  for (guint i = 0; i < ecu->family->options->len; i++)
    {
      const EwOption *option = g_ptr_array_index (ecu->family->options, i);

      if (!ew_sim_profile_option_is_fitted (ecu->profile, option->code))
        continue;
      if (!is_first)
        g_byte_array_append (out, (const guint8 *) ",", 1);
      g_byte_array_append (out, (const guint8 *) option->code, (guint) strlen (option->code));
      is_first = FALSE;
    }
}

static const char *
current_software_version (EwSimEcu *ecu)
{
  return ecu->is_in_bootloader ? "bootloader" : ecu->software_version;
}

/* Appends the data record of did; FALSE when the ECU has no such DID (in
 * the bootloader: only identification). */
static gboolean
append_did (EwSimEcu   *ecu,
            guint16     did,
            GByteArray *out)
{
  const EwCodingDid *coding;
  const EwMileageStore *store;

  if (did == 0xF186)
    {
      g_byte_array_append (out, &ecu->session, 1);
      return TRUE;
    }
  for (guint i = 0; i < ecu->module->identification->len; i++)
    {
      const EwIdentificationDid *id = g_ptr_array_index (ecu->module->identification, i);
      const char *text = NULL;

      if (id->did != did)
        continue;
      switch (id->role)
        {
        case EW_ID_ROLE_VIN:              text = ecu->vin; break;
        case EW_ID_ROLE_PART_NUMBER:      text = ecu->part_number; break;
        case EW_ID_ROLE_SOFTWARE_VERSION: text = current_software_version (ecu); break;
        case EW_ID_ROLE_HARDWARE_VERSION: text = ecu->hardware_version; break;
        case EW_ID_ROLE_SERIAL_NUMBER:    text = ecu->serial_number; break;
        case EW_ID_ROLE_SUPPLIER:         text = ecu->supplier; break;
        case EW_ID_ROLE_PROGRAMMING_DATE: text = ecu->programming_date; break;
        case EW_ID_ROLE_SIMULATION_MARKER: text = EW_SIM_ECU_MARKER; break;
        case EW_ID_ROLE_ACTIVE_SESSION:
          g_byte_array_append (out, &ecu->session, 1);
          return TRUE;
        case EW_ID_ROLE_SUPPLY_VOLTAGE:
          {
            /* a bootloader measures its supply too */
            guint mv = MIN (ew_sim_profile_get_supply_voltage_mv (ecu->profile), 0xFFFFu);
            guint8 be[2] = { (guint8) (mv >> 8), (guint8) mv };

            g_byte_array_append (out, be, sizeof be);
            return TRUE;
          }
        case EW_ID_ROLE_OPTION_LIST:
          /* vehicle data of the application, not the module's own
           * identification: a bootloader does not know it */
          if (ecu->is_in_bootloader)
            return FALSE;
          append_option_list (ecu, out);
          return TRUE;
        case EW_ID_ROLE_OTHER:
        default:
          text = ecu->hardware_version;
          break;
        }
      if (id->encoding == EW_DID_ENCODING_BCD)
        append_bcd (out, text, id->length_bytes);
      else
        append_ascii (out, text, id->length_bytes);
      return TRUE;
    }
  if (ecu->module->programming != NULL && ecu->module->programming->fingerprint_did == did)
    {
      if (ecu->fingerprint != NULL)
        g_byte_array_append (out, g_bytes_get_data (ecu->fingerprint, NULL),
                             (guint) g_bytes_get_size (ecu->fingerprint));
      else
        {
          static const guint8 none[9] = { 0 };
          g_byte_array_append (out, none, sizeof none);
        }
      return TRUE;
    }
  if (ecu->is_in_bootloader)
    return FALSE;
  if (ecu->module->immobiliser != NULL && ecu->module->immobiliser->status_did == did)
    {
      guint8 status = ecu->immobiliser_master != NULL ? EW_IMMOBILISER_PAIRED
                                                      : EW_IMMOBILISER_NOT_PAIRED;

      g_byte_array_append (out, &status, 1);
      if (ecu->immobiliser_master != NULL)
        g_byte_array_append (out, g_bytes_get_data (ecu->immobiliser_master, NULL),
                             (guint) g_bytes_get_size (ecu->immobiliser_master));
      return TRUE;
    }
  coding = ew_module_find_coding_did (ecu->module, did);
  if (coding != NULL)
    {
      GBytes *bytes = g_hash_table_lookup (ecu->coding, GUINT_TO_POINTER (did));
      g_byte_array_append (out, g_bytes_get_data (bytes, NULL), (guint) g_bytes_get_size (bytes));
      return TRUE;
    }
  store = find_mileage_store (ecu, did);
  if (store != NULL)
    {
      guint64 raw = GPOINTER_TO_UINT (g_hash_table_lookup (ecu->mileage, GUINT_TO_POINTER (did)));
      raw /= MAX (store->scale, 1);
      for (guint i = store->length_bytes; i > 0; i--)
        {
          guint8 b = (guint8) (raw >> (8 * (i - 1)));
          g_byte_array_append (out, &b, 1);
        }
      return TRUE;
    }
  return FALSE;
}

/* Responses --------------------------------------------------------------- */

typedef struct {
  EwSimEcu        *ecu;
  guint8           sid;
  gboolean         is_functional;
  gboolean         suppress_positive;
  EwSimRespondFunc respond;
  gpointer         user_data;
  GByteArray      *positive;   /* built by the service handler */
  guint8           nrc;        /* 0 = positive */
} Exchange;

static void
exchange_positive (Exchange     *x,
                   const guint8 *data,
                   gsize         length)
{
  guint8 sid = x->sid + 0x40;

  g_byte_array_set_size (x->positive, 0);
  g_byte_array_append (x->positive, &sid, 1);
  if (length > 0)
    g_byte_array_append (x->positive, data, (guint) length);
}

static void
send_negative (Exchange *x,
               guint8    nrc)
{
  guint8 response[3] = { 0x7F, x->sid, nrc };
  x->respond (response, sizeof response, x->user_data);
}

static void
sleep_ms (EwSimEcu *ecu,
          guint     ms)
{
  if (ecu->sleeps && ms > 0)
    g_usleep ((gulong) ms * 1000);
}

/* Sessions and reset ------------------------------------------------------ */

static void
handle_session_control (Exchange     *x,
                        const guint8 *req,
                        gsize         len)
{
  EwSimEcu *ecu = x->ecu;
  guint8 session = req[1] & 0x7F;
  /* ISO 14229-1 10.2.2: P2 in 1 ms, P2* in 10 ms units */
  guint8 record[5] = { 0, EW_SIM_ECU_P2_MS >> 8, EW_SIM_ECU_P2_MS & 0xFF,
                       (EW_SIM_ECU_P2_STAR_MS / 10) >> 8, (EW_SIM_ECU_P2_STAR_MS / 10) & 0xFF };

  if (session != SESSION_DEFAULT && session != SESSION_PROGRAMMING && session != SESSION_EXTENDED)
    {
      x->nrc = NRC_SUB_FUNCTION_NOT_SUPPORTED;
      return;
    }
  if ((session == SESSION_PROGRAMMING && ecu->flash == NULL) ||
      (session == SESSION_EXTENDED && ecu->is_in_bootloader))
    {
      x->nrc = NRC_SUB_FUNCTION_NOT_SUPPORTED;
      return;
    }
  if (len != 2)
    {
      x->nrc = NRC_INCORRECT_LENGTH;
      return;
    }
  /* ISO 14229-1 10.2: every session change locks security again; back
   * to default also ends communication and DTC-setting control */
  if (session == SESSION_DEFAULT)
    enter_default_session (ecu);
  else
    {
      if (session != ecu->session)
        {
          ecu->unlocked_level = 0;
          ecu->seed_level = 0;
          if (session != SESSION_PROGRAMMING)
            ecu->download_active = FALSE;
        }
      ecu->session = session;
    }
  record[0] = session;
  exchange_positive (x, record, sizeof record);
}

static void
finish_reset (EwSimEcu *ecu)
{
  ecu->silent_until_us = 0;
  enter_default_session (ecu);
  if (ecu->wakes_in_bootloader)
    {
      ecu->wakes_in_bootloader = FALSE;
      ecu->is_in_bootloader = TRUE;
      ecu->application_valid = FALSE;
      return;
    }
  if (ecu->is_in_bootloader && ecu->application_valid)
    {
      g_autofree char *software = NULL;
      g_autofree char *part = NULL;

      if (ecu->flash != NULL && ew_sim_flash_get_app_header (ecu->flash, &software, &part))
        {
          g_free (ecu->software_version);
          ecu->software_version = g_steal_pointer (&software);
          g_free (ecu->part_number);
          ecu->part_number = g_steal_pointer (&part);
        }
      ecu->is_in_bootloader = FALSE;
    }
}

static void
handle_ecu_reset (Exchange     *x,
                  const guint8 *req,
                  gsize         len)
{
  guint8 type = req[1] & 0x7F;

  if (type < 0x01 || type > 0x03)
    {
      x->nrc = NRC_SUB_FUNCTION_NOT_SUPPORTED;
      return;
    }
  if (len != 2)
    {
      x->nrc = NRC_INCORRECT_LENGTH;
      return;
    }
  if (x->ecu->download_active)
    {
      x->nrc = NRC_CONDITIONS_NOT_CORRECT;
      return;
    }
  exchange_positive (x, &type, 1);
  /* the answer goes out first; the module then stays silent a while */
  x->ecu->silent_until_us = MAX (now_us (x->ecu), 1) + EW_SIM_ECU_RESET_MS * 1000;
}

static void
handle_tester_present (Exchange     *x,
                       const guint8 *req,
                       gsize         len)
{
  guint8 zero = 0;

  if ((req[1] & 0x7F) != 0x00)
    {
      x->nrc = NRC_SUB_FUNCTION_NOT_SUPPORTED;
      return;
    }
  if (len != 2)
    {
      x->nrc = NRC_INCORRECT_LENGTH;
      return;
    }
  exchange_positive (x, &zero, 1);
}

/* Security access ---------------------------------------------------------- */

static void
handle_security_access (Exchange     *x,
                        const guint8 *req,
                        gsize         len)
{
  EwSimEcu *ecu = x->ecu;
  guint8 sub = req[1] & 0x7F;
  gboolean is_seed = (sub & 1) != 0;
  guint8 level = is_seed ? sub : sub - 1;
  const EwSecurityLevel *l = find_security_level (ecu, level);
  gint64 now = now_us (ecu);
  guint attempts;

  if (sub == 0 || sub > 0x7E || l == NULL)
    {
      x->nrc = NRC_SUB_FUNCTION_NOT_SUPPORTED;
      return;
    }
  if (is_seed)
    {
      guint8 record[1 + SEED_LENGTH];

      if (len != 2)
        {
          x->nrc = NRC_INCORRECT_LENGTH;
          return;
        }
      if (ecu->lockout_until_us != 0 && now < ecu->lockout_until_us)
        {
          x->nrc = NRC_REQUIRED_TIME_DELAY_NOT_EXPIRED;
          return;
        }
      if (ecu->lockout_until_us != 0)
        {
          ecu->lockout_until_us = 0;
          g_hash_table_remove (ecu->failed_attempts, GUINT_TO_POINTER (level));
        }
      record[0] = sub;
      if (ecu->unlocked_level == level)
        {
          /* ISO 14229-1 10.4: an unlocked level answers a zero seed */
          memset (record + 1, 0, SEED_LENGTH);
          ecu->seed_level = 0;
        }
      else
        {
          do
            for (guint i = 0; i < SEED_LENGTH; i++)
              ecu->seed[i] = (guint8) g_rand_int_range (ecu->rand, 0, 256);
          while (ecu->seed[0] == 0 && ecu->seed[1] == 0 && ecu->seed[2] == 0 && ecu->seed[3] == 0);
          memcpy (record + 1, ecu->seed, SEED_LENGTH);
          ecu->seed_level = level;
        }
      exchange_positive (x, record, sizeof record);
      return;
    }

  if (len != 2 + SEED_LENGTH)
    {
      x->nrc = NRC_INCORRECT_LENGTH;
      return;
    }
  if (ecu->seed_level != level)
    {
      x->nrc = NRC_REQUEST_SEQUENCE_ERROR;
      return;
    }
  ecu->seed_level = 0;
  {
    guint8 key[SEED_LENGTH];

    ew_toy_seedkey_compute (level, ecu->seed, SEED_LENGTH, key);
    if (memcmp (key, req + 2, SEED_LENGTH) == 0)
      {
        ecu->unlocked_level = level;
        g_hash_table_remove (ecu->failed_attempts, GUINT_TO_POINTER (level));
        exchange_positive (x, &sub, 1);
        return;
      }
  }
  attempts = GPOINTER_TO_UINT (g_hash_table_lookup (ecu->failed_attempts, GUINT_TO_POINTER (level))) + 1;
  g_hash_table_insert (ecu->failed_attempts, GUINT_TO_POINTER (level), GUINT_TO_POINTER (attempts));
  if (l->max_attempts > 0 && attempts >= l->max_attempts)
    {
      ecu->lockout_until_us = MAX (now, 1) + (gint64) l->lockout_ms * 1000;
      x->nrc = NRC_EXCEEDED_NUMBER_OF_ATTEMPTS;
    }
  else
    x->nrc = NRC_INVALID_KEY;
}

/* Data by identifier ------------------------------------------------------- */

static void
handle_read_did (Exchange     *x,
                 const guint8 *req,
                 gsize         len)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();
  guint n_found = 0;

  if (len < 3 || (len - 1) % 2 != 0 || (len - 1) / 2 > MAX_DIDS_PER_REQUEST)
    {
      x->nrc = NRC_INCORRECT_LENGTH;
      return;
    }
  for (gsize i = 1; i + 1 < len; i += 2)
    {
      guint16 did = (guint16) (req[i] << 8 | req[i + 1]);
      guint mark = out->len;

      g_byte_array_append (out, req + i, 2);
      if (append_did (x->ecu, did, out))
        n_found++;
      else
        g_byte_array_set_size (out, mark);
    }
  if (n_found == 0)
    {
      x->nrc = NRC_REQUEST_OUT_OF_RANGE;
      return;
    }
  if (out->len + 1 > MAX_RESPONSE_LENGTH)
    {
      x->nrc = NRC_RESPONSE_TOO_LONG;
      return;
    }
  exchange_positive (x, out->data, out->len);
}

static const EwIdentificationDid *
find_option_list_did (const EwModule *module, guint16 did)
{
  for (guint i = 0; i < module->identification->len; i++)
    {
      const EwIdentificationDid *id = g_ptr_array_index (module->identification, i);

      if (id->did == did && id->role == EW_ID_ROLE_OPTION_LIST)
        return id;
    }
  return NULL;
}

/* Printable ASCII codes joined by commas, no spaces, no empty code (see
 * vehicle-family.xsd); an empty list is allowed. */
static gboolean
is_option_list (const guint8 *data, gsize len)
{
  gboolean after_comma = TRUE;

  for (gsize i = 0; i < len; i++)
    {
      if (data[i] == ',')
        {
          if (after_comma)
            return FALSE;
          after_comma = TRUE;
        }
      else if (data[i] <= 0x20 || data[i] >= 0x7F)
        return FALSE;
      else
        after_comma = FALSE;
    }
  return len == 0 || !after_comma;
}

static void
handle_write_did (Exchange     *x,
                  const guint8 *req,
                  gsize         len)
{
  EwSimEcu *ecu = x->ecu;
  const EwModule *module = ecu->module;
  guint16 did;
  const guint8 *data = req + 3;
  gsize data_len = len - 3;
  const EwCodingDid *coding;
  const EwMileageStore *store;
  const EwIdentificationDid *option_list;

  if (len < 4)
    {
      x->nrc = NRC_INCORRECT_LENGTH;
      return;
    }
  did = (guint16) (req[1] << 8 | req[2]);
  coding = ew_module_find_coding_did (module, did);
  store = find_mileage_store (ecu, did);

  if (coding != NULL)
    {
      if (data_len != coding->length_bytes)
        x->nrc = NRC_INCORRECT_LENGTH;
      else if (ecu->session != module->coding_session)
        x->nrc = NRC_REQUEST_OUT_OF_RANGE;
      else if (!is_unlocked_for (ecu, module->coding_security_level))
        x->nrc = NRC_SECURITY_ACCESS_DENIED;
      else
        g_hash_table_insert (ecu->coding, GUINT_TO_POINTER (did), g_bytes_new (data, data_len));
    }
  else if ((option_list = find_option_list_did (module, did)) != NULL)
    {
      /* vehicle data like coding: the coding session and security level */
      if (ecu->is_in_bootloader)
        x->nrc = NRC_REQUEST_OUT_OF_RANGE;
      else if (!is_option_list (data, data_len))
        x->nrc = NRC_REQUEST_OUT_OF_RANGE;
      else if (ecu->session != module->coding_session)
        x->nrc = NRC_REQUEST_OUT_OF_RANGE;
      else if (!is_unlocked_for (ecu, module->coding_security_level))
        x->nrc = NRC_SECURITY_ACCESS_DENIED;
      else
        {
          g_free (ecu->option_list);
          ecu->option_list = g_strndup ((const char *) data, data_len);
        }
    }
  else if (did == 0xF190)
    {
      if (data_len != 17)
        x->nrc = NRC_INCORRECT_LENGTH;
      else if (ecu->session != SESSION_PROGRAMMING && ecu->session != SESSION_EXTENDED)
        x->nrc = NRC_REQUEST_OUT_OF_RANGE;
      else if (ecu->unlocked_level == 0 && module->security->len > 0)
        x->nrc = NRC_SECURITY_ACCESS_DENIED;
      else
        {
          g_free (ecu->vin);
          ecu->vin = g_strndup ((const char *) data, 17);
        }
    }
  else if (store != NULL)
    {
      guint64 raw = 0;
      guint32 current = GPOINTER_TO_UINT (g_hash_table_lookup (ecu->mileage, GUINT_TO_POINTER (did)));
      guint64 value;

      for (gsize i = 0; i < data_len && i < 8; i++)
        raw = raw << 8 | data[i];
      value = raw * MAX (store->scale, 1);
      if (data_len != store->length_bytes)
        x->nrc = NRC_INCORRECT_LENGTH;
      else if (!store->is_writable || ecu->session == SESSION_DEFAULT)
        x->nrc = NRC_REQUEST_OUT_OF_RANGE;
      else if (value < current || value > G_MAXUINT32)
        x->nrc = NRC_REQUEST_OUT_OF_RANGE; /* mileage is never lowered */
      else if (!is_unlocked_for (ecu, module->coding_security_level))
        x->nrc = NRC_SECURITY_ACCESS_DENIED;
      else
        g_hash_table_insert (ecu->mileage, GUINT_TO_POINTER (did), GUINT_TO_POINTER ((guint) value));
    }
  else if (module->programming != NULL && module->programming->fingerprint_did == did)
    {
      if (ecu->session != SESSION_PROGRAMMING)
        x->nrc = NRC_REQUEST_OUT_OF_RANGE;
      else if (!is_unlocked_for (ecu, programming_level (ecu)))
        x->nrc = NRC_SECURITY_ACCESS_DENIED;
      else
        {
          g_clear_pointer (&ecu->fingerprint, g_bytes_unref);
          ecu->fingerprint = g_bytes_new (data, data_len);
        }
    }
  else
    x->nrc = NRC_REQUEST_OUT_OF_RANGE;

  if (x->nrc == 0)
    exchange_positive (x, req + 1, 2);
}

/* Fault memory -------------------------------------------------------------- */

#define DTC_STATUS_AVAILABILITY_MASK 0xFF
#define DTC_FORMAT_ISO_14229_1       0x01

static void
handle_read_dtc (Exchange     *x,
                 const guint8 *req,
                 gsize         len)
{
  EwSimEcu *ecu = x->ecu;
  guint8 sub = req[1];
  g_autoptr(GByteArray) out = g_byte_array_new ();
  guint8 head[2] = { sub, DTC_STATUS_AVAILABILITY_MASK };
  guint8 mask;

  if (sub != 0x01 && sub != 0x02 && sub != 0x0A)
    {
      x->nrc = NRC_SUB_FUNCTION_NOT_SUPPORTED;
      return;
    }
  if (len != (sub == 0x0A ? 2u : 3u))
    {
      x->nrc = NRC_INCORRECT_LENGTH;
      return;
    }
  mask = sub == 0x0A ? 0xFF : req[2];
  g_byte_array_append (out, head, sizeof head);
  if (sub == 0x01)
    {
      guint count = 0;
      guint8 tail[3];

      for (guint i = 0; i < ecu->dtcs->len; i++)
        if ((g_array_index (ecu->dtcs, EwSimDtc, i).status & mask) != 0)
          count++;
      tail[0] = DTC_FORMAT_ISO_14229_1;
      tail[1] = (guint8) (count >> 8);
      tail[2] = (guint8) count;
      g_byte_array_append (out, tail, sizeof tail);
    }
  else
    {
      for (guint i = 0; i < ecu->dtcs->len; i++)
        {
          const EwSimDtc *dtc = &g_array_index (ecu->dtcs, EwSimDtc, i);
          if (sub == 0x0A || (dtc->status & mask) != 0)
            {
              g_byte_array_append (out, dtc->code, 3);
              g_byte_array_append (out, &dtc->status, 1);
            }
        }
    }
  exchange_positive (x, out->data, out->len);
}

static void
handle_clear_dtc (Exchange     *x,
                  const guint8 *req,
                  gsize         len)
{
  if (len != 4)
    {
      x->nrc = NRC_INCORRECT_LENGTH;
      return;
    }
  if (req[1] != 0xFF || req[2] != 0xFF || req[3] != 0xFF)
    {
      x->nrc = NRC_REQUEST_OUT_OF_RANGE;
      return;
    }
  g_array_set_size (x->ecu->dtcs, 0);
  exchange_positive (x, NULL, 0);
}

static void
handle_communication_control (Exchange     *x,
                              const guint8 *req,
                              gsize         len)
{
  guint8 sub = req[1] & 0x7F;

  if (sub > 0x03)
    {
      x->nrc = NRC_SUB_FUNCTION_NOT_SUPPORTED;
      return;
    }
  if (len != 3)
    {
      x->nrc = NRC_INCORRECT_LENGTH;
      return;
    }
  if ((req[2] & 0x03) == 0)
    {
      x->nrc = NRC_REQUEST_OUT_OF_RANGE;
      return;
    }
  /* 0x00 enableRxAndTx, 0x01 enableRxAndDisableTx, 0x02/0x03 disable */
  x->ecu->communication_enabled = sub == 0x00;
  exchange_positive (x, &sub, 1);
}

static void
handle_control_dtc_setting (Exchange     *x,
                            const guint8 *req,
                            gsize         len)
{
  guint8 sub = req[1] & 0x7F;

  if (sub != 0x01 && sub != 0x02)
    {
      x->nrc = NRC_SUB_FUNCTION_NOT_SUPPORTED;
      return;
    }
  (void) len;  /* an optional DTCSettingControlOptionRecord may follow */
  x->ecu->dtc_setting_enabled = sub == 0x01;
  exchange_positive (x, &sub, 1);
}

/* Memory, routines and download ------------------------------------------- */

/* addressAndLengthFormatIdentifier, ISO 14229-1 Table H.1 */
static gboolean
parse_address_and_size (const guint8 *p,
                        gsize         available,
                        guint32      *address,
                        guint32      *size,
                        gsize        *used,
                        guint8       *nrc)
{
  guint n_size = p[0] >> 4, n_address = p[0] & 0x0F;

  if (n_size == 0 || n_address == 0 || n_size > 4 || n_address > 4)
    {
      *nrc = NRC_REQUEST_OUT_OF_RANGE;
      return FALSE;
    }
  if (available != 1 + n_address + n_size)
    {
      *nrc = NRC_INCORRECT_LENGTH;
      return FALSE;
    }
  *address = 0;
  *size = 0;
  for (guint i = 0; i < n_address; i++)
    *address = *address << 8 | p[1 + i];
  for (guint i = 0; i < n_size; i++)
    *size = *size << 8 | p[1 + n_address + i];
  *used = 1 + n_address + n_size;
  return TRUE;
}

static void
handle_read_memory (Exchange     *x,
                    const guint8 *req,
                    gsize         len)
{
  guint32 address, size;
  gsize used;
  guint8 nrc = 0;
  g_autofree guint8 *data = NULL;

  if (len < 4)
    {
      x->nrc = NRC_INCORRECT_LENGTH;
      return;
    }
  if (!parse_address_and_size (req + 1, len - 1, &address, &size, &used, &nrc))
    {
      x->nrc = nrc;
      return;
    }
  if (size == 0 || size > MAX_RESPONSE_LENGTH - 1 ||
      ew_sim_flash_find_region (x->ecu->flash, address, size) < 0)
    {
      x->nrc = NRC_REQUEST_OUT_OF_RANGE;
      return;
    }
  data = g_malloc (size);
  ew_sim_flash_read (x->ecu->flash, address, data, size);
  exchange_positive (x, data, size);
}

static Routine *
find_routine (EwSimEcu *ecu,
              guint16   rid)
{
  for (guint i = 0; i < ecu->routines->len; i++)
    {
      Routine *routine = &g_array_index (ecu->routines, Routine, i);
      if (routine->rid == rid)
        return routine;
    }
  return NULL;
}

static void
handle_routine_control (Exchange     *x,
                        const guint8 *req,
                        gsize         len)
{
  EwSimEcu *ecu = x->ecu;
  guint8 sub = req[1] & 0x7F;
  Routine *routine;
  guint8 status = 0x00;  /* 0x00 correct, 0x01 incorrect */
  g_autoptr(GByteArray) out = g_byte_array_new ();

  if (sub < 0x01 || sub > 0x03)
    {
      x->nrc = NRC_SUB_FUNCTION_NOT_SUPPORTED;
      return;
    }
  if (len < 4)
    {
      x->nrc = NRC_INCORRECT_LENGTH;
      return;
    }
  routine = find_routine (ecu, (guint16) (req[2] << 8 | req[3]));
  if (routine == NULL || routine->kind == ROUTINE_NONE)
    {
      x->nrc = NRC_REQUEST_OUT_OF_RANGE;
      return;
    }
  if (sub == 0x02)
    {
      x->nrc = NRC_SUB_FUNCTION_NOT_SUPPORTED;  /* these routines run to completion */
      return;
    }
  g_byte_array_append (out, req + 1, 3);
  out->data[0] = sub;
  if (sub == 0x03)
    {
      if (len != 4)
        x->nrc = NRC_INCORRECT_LENGTH;
      else if (!routine->has_result)
        x->nrc = NRC_REQUEST_SEQUENCE_ERROR;
      else
        {
          g_byte_array_append (out, routine->result->data, routine->result->len);
          exchange_positive (x, out->data, out->len);
        }
      return;
    }

  switch (routine->kind)
    {
    case ROUTINE_CHECK_PRECONDITIONS:
      break;

    case ROUTINE_ERASE:
      {
        guint32 address = 0, size = 0;
        gsize used = 0;
        guint8 nrc = 0;

        if (len > 4 && !parse_address_and_size (req + 4, len - 4, &address, &size, &used, &nrc))
          {
            x->nrc = nrc;
            return;
          }
        if (ecu->session != SESSION_PROGRAMMING)
          {
            x->nrc = NRC_CONDITIONS_NOT_CORRECT;
            return;
          }
        if (!is_unlocked_for (ecu, programming_level (ecu)))
          {
            x->nrc = NRC_SECURITY_ACCESS_DENIED;
            return;
          }
        if (ecu->flash == NULL || ew_sim_flash_erase (ecu->flash, address, size) == 0)
          {
            x->nrc = NRC_REQUEST_OUT_OF_RANGE;
            return;
          }
        /* erasing takes a while: say so first (ISO 14229-1 7.5, NRC 0x78) */
        send_negative (x, NRC_RESPONSE_PENDING);
        sleep_ms (ecu, ERASE_TIME_MS);
        ecu->is_in_bootloader = TRUE;
        ecu->application_valid = FALSE;
        ecu->memory_checked = FALSE;
        ecu->blocks_since_erase = 0;
        ecu->download_active = FALSE;
      }
      break;

    case ROUTINE_CHECK_MEMORY:
      {
        guint32 crc;

        if (ecu->flash == NULL || ew_sim_flash_get_bytes_written (ecu->flash) == 0 ||
            ecu->download_active)
          {
            x->nrc = NRC_REQUEST_SEQUENCE_ERROR;
            return;
          }
        crc = ew_sim_flash_get_crc32 (ecu->flash);
        if (len == 8)
          {
            guint32 expected = (guint32) req[4] << 24 | req[5] << 16 | req[6] << 8 | req[7];
            status = expected == crc ? 0x00 : 0x01;
          }
        else if (len != 4)
          {
            x->nrc = NRC_INCORRECT_LENGTH;
            return;
          }
        if (ew_sim_faults_has_bad_crc (ecu->faults, ecu->module->id))
          {
            status = 0x01;
            crc = ~crc;
          }
        ecu->memory_checked = status == 0x00;
        g_byte_array_append (out, &status, 1);
        {
          guint8 crc_bytes[4] = { crc >> 24, crc >> 16, crc >> 8, crc };
          g_byte_array_append (out, crc_bytes, 4);
        }
      }
      break;

    case ROUTINE_IMMOBILISER_PAIRING:
      {
        const EwImmobiliser *immo = ecu->module->immobiliser;
        g_autoptr(GBytes) master = immobiliser_master_serial (ecu);
        gsize n = len - 4;

        /* the application pairs, in the session and at the level the
         * vehicle data gives, and only with this car's master */
        if (ecu->is_in_bootloader || ecu->session != immo->session)
          {
            x->nrc = NRC_CONDITIONS_NOT_CORRECT;
            return;
          }
        if (!is_unlocked_for (ecu, immo->security_level))
          {
            x->nrc = NRC_SECURITY_ACCESS_DENIED;
            return;
          }
        if (master == NULL || n != g_bytes_get_size (master))
          {
            x->nrc = master == NULL ? NRC_CONDITIONS_NOT_CORRECT : NRC_INCORRECT_LENGTH;
            return;
          }
        if (memcmp (req + 4, g_bytes_get_data (master, NULL), n) != 0)
          {
            x->nrc = NRC_REQUEST_OUT_OF_RANGE;
            return;
          }
        g_clear_pointer (&ecu->immobiliser_master, g_bytes_unref);
        ecu->immobiliser_master = g_steal_pointer (&master);
      }
      break;

    case ROUTINE_CHECK_DEPENDENCIES:
      if (ecu->is_in_bootloader)
        {
          status = ecu->memory_checked && ecu->flash != NULL &&
                   ew_sim_flash_get_app_header (ecu->flash, NULL, NULL) ? 0x00 : 0x01;
          ecu->application_valid = status == 0x00;
        }
      break;

    case ROUTINE_NONE:
    default:
      g_assert_not_reached ();
    }

  if (routine->kind != ROUTINE_CHECK_MEMORY)
    g_byte_array_append (out, &status, 1);
  g_byte_array_set_size (routine->result, 0);
  g_byte_array_append (routine->result, out->data + 3, out->len - 3);
  routine->has_result = TRUE;
  exchange_positive (x, out->data, out->len);
}

static guint
max_block_length (EwSimEcu *ecu)
{
  const EwProgrammingPlan *plan = ecu->module->programming;
  if (ecu->max_block_override > 2)
    return ecu->max_block_override;
  return plan != NULL && plan->max_block_length > 2 ? MIN (plan->max_block_length, 4095u) : 4095u;
}

static void
handle_request_download (Exchange     *x,
                         const guint8 *req,
                         gsize         len)
{
  EwSimEcu *ecu = x->ecu;
  guint32 address, size;
  gsize used;
  guint8 nrc = 0;
  gint region;
  guint block = max_block_length (ecu);
  guint8 record[5] = { 0x40, (guint8) (block >> 24), (guint8) (block >> 16), (guint8) (block >> 8), (guint8) block };
  gboolean is_short = block <= 0xFFFF;

  if (len < 4)
    {
      x->nrc = NRC_INCORRECT_LENGTH;
      return;
    }
  if (!parse_address_and_size (req + 2, len - 2, &address, &size, &used, &nrc))
    {
      x->nrc = nrc;
      return;
    }
  region = ew_sim_flash_find_region (ecu->flash, address, size);
  if (req[1] != 0x00 || size == 0 || region < 0)
    {
      x->nrc = NRC_REQUEST_OUT_OF_RANGE;
      return;
    }
  if (!is_unlocked_for (ecu, programming_level (ecu)))
    {
      x->nrc = NRC_SECURITY_ACCESS_DENIED;
      return;
    }
  if (ecu->download_active)
    {
      x->nrc = NRC_CONDITIONS_NOT_CORRECT;
      return;
    }
  if (!ew_sim_flash_region_is_erased (ecu->flash, region))
    {
      x->nrc = NRC_UPLOAD_DOWNLOAD_NOT_ACCEPTED;
      return;
    }
  ecu->download_active = TRUE;
  ecu->download_address = address;
  ecu->download_size = size;
  ecu->download_max_block = block;
  ecu->download_done = 0;
  ecu->next_block_counter = 0x01;
  ecu->has_last_block = FALSE;
  ecu->memory_checked = FALSE;
  ecu->application_valid = FALSE;
  if (is_short)
    {
      record[2] = 0x20;
      exchange_positive (x, record + 2, 3);
    }
  else
    exchange_positive (x, record, sizeof record);
}

/* Returns FALSE when the module lost power (no answer at all). */
static gboolean
handle_transfer_data (Exchange     *x,
                      const guint8 *req,
                      gsize         len)
{
  EwSimEcu *ecu = x->ecu;
  guint8 counter;
  gsize data_len;
  guint off_ms = 0;
  guint power_loss_block;

  if (!ecu->download_active)
    {
      x->nrc = NRC_REQUEST_SEQUENCE_ERROR;
      return TRUE;
    }
  if (len < 2 || len > ecu->download_max_block)
    {
      x->nrc = NRC_INCORRECT_LENGTH;
      return TRUE;
    }
  counter = req[1];
  data_len = len - 2;
  /* ISO 14229-1 14.5.2.3: a repeated block (lost answer) is acknowledged
   * again without writing it twice */
  if (ecu->has_last_block && counter == ecu->last_block_counter &&
      counter != ecu->next_block_counter)
    {
      exchange_positive (x, &counter, 1);
      return TRUE;
    }
  if (counter != ecu->next_block_counter)
    {
      x->nrc = NRC_WRONG_BLOCK_SEQUENCE_COUNTER;
      return TRUE;
    }
  if (data_len == 0 || data_len > ecu->download_size - ecu->download_done)
    {
      x->nrc = NRC_TRANSFER_DATA_SUSPENDED;
      return TRUE;
    }

  power_loss_block = ew_sim_faults_get_power_loss_block (ecu->faults, ecu->module->id, &off_ms);
  if (!ecu->power_loss_done && power_loss_block != 0 &&
      ecu->blocks_since_erase + 1 == power_loss_block)
    {
      /* the lights go out halfway through the block */
      ew_sim_flash_write (ecu->flash, ecu->download_address + ecu->download_done,
                          req + 2, data_len / 2);
      ecu->power_loss_done = TRUE;
      ecu->download_active = FALSE;
      ecu->wakes_in_bootloader = TRUE;
      ecu->silent_until_us = MAX (now_us (ecu), 1) + (gint64) MAX (off_ms, 1) * 1000;
      return FALSE;
    }

  if (!ew_sim_flash_write (ecu->flash, ecu->download_address + ecu->download_done,
                           req + 2, data_len))
    {
      x->nrc = NRC_GENERAL_PROGRAMMING_FAILURE;
      return TRUE;
    }
  ecu->download_done += (guint32) data_len;
  ecu->blocks_since_erase++;
  ecu->has_last_block = TRUE;
  ecu->last_block_counter = counter;
  ecu->next_block_counter = (guint8) (counter + 1);  /* 0xFF wraps to 0x00 */
  exchange_positive (x, &counter, 1);
  return TRUE;
}

static void
handle_transfer_exit (Exchange     *x,
                      const guint8 *req,
                      gsize         len)
{
  EwSimEcu *ecu = x->ecu;

  (void) req;
  (void) len;  /* a transferRequestParameterRecord may follow */
  if (!ecu->download_active || ecu->download_done != ecu->download_size)
    {
      x->nrc = NRC_REQUEST_SEQUENCE_ERROR;
      return;
    }
  ecu->download_active = FALSE;
  exchange_positive (x, NULL, 0);
}

/* Dispatch ------------------------------------------------------------------ */

typedef struct {
  guint8   sid;
  gboolean has_sub_function;
  gboolean in_default;      /* allowed in the default session */
  gboolean in_programming;
  gboolean in_extended;
  gboolean in_bootloader;
} ServiceInfo;

static const ServiceInfo services[] = {
  { SID_SESSION_CONTROL,     TRUE,  TRUE,  TRUE,  TRUE,  TRUE  },
  { SID_ECU_RESET,           TRUE,  TRUE,  TRUE,  TRUE,  TRUE  },
  { SID_CLEAR_DTC,           FALSE, TRUE,  FALSE, TRUE,  FALSE },
  { SID_READ_DTC,            FALSE, TRUE,  FALSE, TRUE,  FALSE },
  { SID_READ_DID,            FALSE, TRUE,  TRUE,  TRUE,  TRUE  },
  { SID_READ_MEMORY,         FALSE, TRUE,  TRUE,  TRUE,  FALSE },
  { SID_SECURITY_ACCESS,     TRUE,  FALSE, TRUE,  TRUE,  TRUE  },
  { SID_COMMUNICATION,       TRUE,  FALSE, TRUE,  TRUE,  FALSE },
  { SID_WRITE_DID,           FALSE, FALSE, TRUE,  TRUE,  FALSE },
  { SID_ROUTINE_CONTROL,     TRUE,  FALSE, TRUE,  TRUE,  TRUE  },
  { SID_REQUEST_DOWNLOAD,    FALSE, FALSE, TRUE,  FALSE, TRUE  },
  { SID_TRANSFER_DATA,       FALSE, FALSE, TRUE,  FALSE, TRUE  },
  { SID_TRANSFER_EXIT,       FALSE, FALSE, TRUE,  FALSE, TRUE  },
  { SID_TESTER_PRESENT,      TRUE,  TRUE,  TRUE,  TRUE,  TRUE  },
  { SID_CONTROL_DTC_SETTING, TRUE,  FALSE, TRUE,  TRUE,  FALSE },
};

static const ServiceInfo *
find_service (EwSimEcu *ecu,
              guint8    sid)
{
  for (guint i = 0; i < G_N_ELEMENTS (services); i++)
    if (services[i].sid == sid)
      {
        if (sid == SID_READ_MEMORY && (ecu->flash == NULL || !ecu->module->flash->is_readable))
          return NULL;
        if ((sid == SID_REQUEST_DOWNLOAD || sid == SID_TRANSFER_DATA ||
             sid == SID_TRANSFER_EXIT) && ecu->flash == NULL)
          return NULL;
        if (ecu->is_in_bootloader && !services[i].in_bootloader)
          return NULL;
        return &services[i];
      }
  return NULL;
}

static gboolean
service_allowed_in_session (const ServiceInfo *info,
                            guint8             session)
{
  switch (session)
    {
    case SESSION_DEFAULT:     return info->in_default;
    case SESSION_PROGRAMMING: return info->in_programming;
    case SESSION_EXTENDED:    return info->in_extended;
    default:                  return FALSE;
    }
}

static void
wake_if_due (EwSimEcu *ecu,
             gint64    now)
{
  if (ecu->silent_until_us != 0 && now >= ecu->silent_until_us)
    finish_reset (ecu);
}

void
ew_sim_ecu_handle_request (EwSimEcu        *ecu,
                           const guint8    *request,
                           gsize            length_bytes,
                           gboolean         is_functional,
                           EwSimRespondFunc respond,
                           gpointer         user_data)
{
  g_autoptr(GByteArray) positive = g_byte_array_new ();
  Exchange x = { 0 };
  const ServiceInfo *info;
  gint64 now;
  guint n_pending;
  guint8 fault_nrc;
  gboolean answers = TRUE;

  g_return_if_fail (ecu != NULL);
  g_return_if_fail (respond != NULL);

  g_mutex_lock (&ecu->mutex);
  now = now_us (ecu);
  wake_if_due (ecu, now);
  if (!ecu->is_present || ecu->silent_until_us != 0 || length_bytes == 0)
    {
      g_mutex_unlock (&ecu->mutex);
      return;
    }
  ecu->last_request_us = now;

  x.ecu = ecu;
  x.sid = request[0];
  x.is_functional = is_functional;
  x.respond = respond;
  x.user_data = user_data;
  x.positive = positive;

  /* ISO 14229-1 7.5 / Figure 5: service, session, sub-function, length,
   * then the service's own checks */
  info = find_service (ecu, x.sid);
  if (info == NULL)
    x.nrc = NRC_SERVICE_NOT_SUPPORTED;
  else if (!service_allowed_in_session (info, ecu->session))
    x.nrc = NRC_SERVICE_NOT_SUPPORTED_IN_SESSION;
  else if ((info->has_sub_function || x.sid == SID_READ_DTC) && length_bytes < 2)
    x.nrc = NRC_INCORRECT_LENGTH;
  else
    {
      x.suppress_positive = info->has_sub_function && (request[1] & 0x80) != 0;
      n_pending = ew_sim_faults_get_pending_count (ecu->faults, ecu->module->id, x.sid);
      for (guint i = 0; i < n_pending; i++)
        {
          send_negative (&x, NRC_RESPONSE_PENDING);
          sleep_ms (ecu, PENDING_INTERVAL_MS);
        }
      fault_nrc = ew_sim_faults_take_nrc (ecu->faults, ecu->module->id, x.sid);
      if (fault_nrc != 0)
        x.nrc = fault_nrc;
      else
        switch (x.sid)
          {
          case SID_SESSION_CONTROL:     handle_session_control (&x, request, length_bytes); break;
          case SID_ECU_RESET:           handle_ecu_reset (&x, request, length_bytes); break;
          case SID_CLEAR_DTC:           handle_clear_dtc (&x, request, length_bytes); break;
          case SID_READ_DTC:            handle_read_dtc (&x, request, length_bytes); break;
          case SID_READ_DID:            handle_read_did (&x, request, length_bytes); break;
          case SID_READ_MEMORY:         handle_read_memory (&x, request, length_bytes); break;
          case SID_SECURITY_ACCESS:     handle_security_access (&x, request, length_bytes); break;
          case SID_COMMUNICATION:       handle_communication_control (&x, request, length_bytes); break;
          case SID_WRITE_DID:           handle_write_did (&x, request, length_bytes); break;
          case SID_ROUTINE_CONTROL:     handle_routine_control (&x, request, length_bytes); break;
          case SID_REQUEST_DOWNLOAD:    handle_request_download (&x, request, length_bytes); break;
          case SID_TRANSFER_DATA:       answers = handle_transfer_data (&x, request, length_bytes); break;
          case SID_TRANSFER_EXIT:       handle_transfer_exit (&x, request, length_bytes); break;
          case SID_TESTER_PRESENT:      handle_tester_present (&x, request, length_bytes); break;
          case SID_CONTROL_DTC_SETTING: handle_control_dtc_setting (&x, request, length_bytes); break;
          default:                      x.nrc = NRC_SERVICE_NOT_SUPPORTED; break;
          }
    }

  if (!answers)
    ;
  else if (x.nrc != 0)
    {
      /* ISO 14229-1 7.5: functional requests get no 0x11, 0x12, 0x31,
       * 0x7E, 0x7F answers */
      gboolean suppressed = is_functional &&
        (x.nrc == NRC_SERVICE_NOT_SUPPORTED || x.nrc == NRC_SUB_FUNCTION_NOT_SUPPORTED ||
         x.nrc == NRC_REQUEST_OUT_OF_RANGE || x.nrc == 0x7E ||
         x.nrc == NRC_SERVICE_NOT_SUPPORTED_IN_SESSION);
      if (!suppressed)
        send_negative (&x, x.nrc);
    }
  else if (!x.suppress_positive && positive->len > 0)
    respond (positive->data, positive->len, user_data);
  g_mutex_unlock (&ecu->mutex);
}

void
ew_sim_ecu_tick (EwSimEcu *ecu,
                 gint64    now)
{
  g_return_if_fail (ecu != NULL);

  g_mutex_lock (&ecu->mutex);
  wake_if_due (ecu, now);
  /* ISO 14229-1 Table 4: S3server ends a non-default session */
  if (ecu->session != SESSION_DEFAULT && ecu->silent_until_us == 0 &&
      now - ecu->last_request_us > (gint64) EW_SIM_ECU_S3_MS * 1000)
    enter_default_session (ecu);
  g_mutex_unlock (&ecu->mutex);
}

const EwModule *
ew_sim_ecu_get_module (EwSimEcu *ecu)
{
  return ecu->module;
}

gboolean
ew_sim_ecu_is_present (EwSimEcu *ecu)
{
  return ecu->is_present;
}

gboolean
ew_sim_ecu_is_in_bootloader (EwSimEcu *ecu)
{
  return ecu->is_in_bootloader;
}

gboolean
ew_sim_ecu_is_silent (EwSimEcu *ecu)
{
  return !ecu->is_present || ecu->silent_until_us != 0;
}

GBytes *
ew_sim_ecu_read_did (EwSimEcu *ecu,
                     guint16   did)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();
  gboolean found;

  g_mutex_lock (&ecu->mutex);
  found = append_did (ecu, did, out);
  g_mutex_unlock (&ecu->mutex);
  return found ? g_byte_array_free_to_bytes (g_steal_pointer (&out)) : NULL;
}

guint32
ew_sim_ecu_get_mileage_km (EwSimEcu *ecu,
                           guint16   did)
{
  if (did == 0 && ecu->module->mileage->len > 0)
    did = ((const EwMileageStore *) g_ptr_array_index (ecu->module->mileage, 0))->did;
  return GPOINTER_TO_UINT (g_hash_table_lookup (ecu->mileage, GUINT_TO_POINTER (did)));
}

guint8
ew_sim_ecu_get_session (EwSimEcu *ecu)
{
  return ecu->session;
}

guint8
ew_sim_ecu_get_unlocked_level (EwSimEcu *ecu)
{
  return ecu->unlocked_level;
}

gboolean
ew_sim_ecu_get_communication_enabled (EwSimEcu *ecu)
{
  return ecu->communication_enabled;
}

gboolean
ew_sim_ecu_get_dtc_setting_enabled (EwSimEcu *ecu)
{
  return ecu->dtc_setting_enabled;
}

guint
ew_sim_ecu_get_n_dtcs (EwSimEcu *ecu)
{
  return ecu->dtcs->len;
}

/* State file ---------------------------------------------------------------- */

static char *
hex_string (GBytes *bytes)
{
  gsize n;
  const guint8 *data = g_bytes_get_data (bytes, &n);
  GString *out = g_string_sized_new (n * 2);

  for (gsize i = 0; i < n; i++)
    g_string_append_printf (out, "%02X", data[i]);
  return g_string_free (out, FALSE);
}

void
ew_sim_ecu_save_state (EwSimEcu *ecu,
                       GKeyFile *key_file)
{
  g_autofree char *group = g_strconcat ("module:", ecu->module->id, NULL);
  g_autoptr(GString) dtcs = g_string_new (NULL);
  GHashTableIter iter;
  gpointer key, value;

  g_mutex_lock (&ecu->mutex);
  g_key_file_remove_group (key_file, group, NULL);
  g_key_file_set_boolean (key_file, group, "present", ecu->is_present);
  g_key_file_set_boolean (key_file, group, "bootloader", ecu->is_in_bootloader);
  g_key_file_set_boolean (key_file, group, "application-valid", ecu->application_valid);
  g_key_file_set_string (key_file, group, "vin", ecu->vin);
  g_key_file_set_string (key_file, group, "part-number", ecu->part_number);
  g_key_file_set_string (key_file, group, "software-version", ecu->software_version);
  g_key_file_set_string (key_file, group, "hardware-version", ecu->hardware_version);
  g_key_file_set_string (key_file, group, "serial-number", ecu->serial_number);
  g_key_file_set_string (key_file, group, "supplier", ecu->supplier);
  g_key_file_set_string (key_file, group, "programming-date", ecu->programming_date);
  if (ecu->option_list != NULL)
    g_key_file_set_string (key_file, group, "option-list", ecu->option_list);
  g_hash_table_iter_init (&iter, ecu->coding);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      g_autofree char *k = g_strdup_printf ("coding-0x%04X", GPOINTER_TO_UINT (key));
      g_autofree char *hex = hex_string (value);
      g_key_file_set_string (key_file, group, k, hex);
    }
  g_hash_table_iter_init (&iter, ecu->mileage);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      g_autofree char *k = g_strdup_printf ("mileage-0x%04X", GPOINTER_TO_UINT (key));
      g_key_file_set_uint64 (key_file, group, k, GPOINTER_TO_UINT (value));
    }
  for (guint i = 0; i < ecu->dtcs->len; i++)
    {
      const EwSimDtc *dtc = &g_array_index (ecu->dtcs, EwSimDtc, i);
      g_string_append_printf (dtcs, "%s0x%02X%02X%02X:0x%02X", i > 0 ? ";" : "",
                              dtc->code[0], dtc->code[1], dtc->code[2], dtc->status);
    }
  g_key_file_set_string (key_file, group, "dtcs", dtcs->str);
  if (ecu->fingerprint != NULL)
    {
      g_autofree char *hex = hex_string (ecu->fingerprint);
      g_key_file_set_string (key_file, group, "fingerprint", hex);
    }
  if (ecu->module->immobiliser != NULL)
    {
      g_autofree char *hex = ecu->immobiliser_master != NULL
                             ? hex_string (ecu->immobiliser_master) : g_strdup ("");
      g_key_file_set_string (key_file, group, "immobiliser-paired-to", hex);
    }
  if (ecu->flash != NULL)
    {
      /* a summary, not the image: enough to tell what was flashed */
      g_key_file_set_uint64 (key_file, group, "flash-bytes-written",
                             ew_sim_flash_get_bytes_written (ecu->flash));
      g_key_file_set_uint64 (key_file, group, "flash-crc32", ew_sim_flash_get_crc32 (ecu->flash));
    }
  g_mutex_unlock (&ecu->mutex);
}

static gboolean
state_fail (GError    **error,
            const char *group,
            const char *key,
            const char *why)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               "Simulator state [%s] %s: %s", group, key, why);
  return FALSE;
}

gboolean
ew_sim_ecu_load_state (EwSimEcu  *ecu,
                       GKeyFile  *key_file,
                       GError   **error)
{
  g_autofree char *group = g_strconcat ("module:", ecu->module->id, NULL);
  g_auto(GStrv) keys = NULL;
  static const struct { const char *key; gsize offset; } strings[] = {
    { "vin", G_STRUCT_OFFSET (EwSimEcu, vin) },
    { "part-number", G_STRUCT_OFFSET (EwSimEcu, part_number) },
    { "software-version", G_STRUCT_OFFSET (EwSimEcu, software_version) },
    { "hardware-version", G_STRUCT_OFFSET (EwSimEcu, hardware_version) },
    { "serial-number", G_STRUCT_OFFSET (EwSimEcu, serial_number) },
    { "supplier", G_STRUCT_OFFSET (EwSimEcu, supplier) },
    { "programming-date", G_STRUCT_OFFSET (EwSimEcu, programming_date) },
    { "option-list", G_STRUCT_OFFSET (EwSimEcu, option_list) },
  };

  if (!g_key_file_has_group (key_file, group))
    return TRUE;  /* nothing saved for this module: keep the profile's */

  g_mutex_lock (&ecu->mutex);
  keys = g_key_file_get_keys (key_file, group, NULL, NULL);
  for (guint i = 0; keys[i] != NULL; i++)
    {
      const char *key = keys[i];
      g_autofree char *value = g_key_file_get_string (key_file, group, key, NULL);
      gboolean handled = FALSE;

      if (value == NULL)
        continue;
      for (guint s = 0; s < G_N_ELEMENTS (strings); s++)
        if (strcmp (key, strings[s].key) == 0)
          {
            char **field = G_STRUCT_MEMBER_P (ecu, strings[s].offset);
            g_free (*field);
            *field = g_strdup (value);
            handled = TRUE;
          }
      if (handled)
        continue;
      if (strcmp (key, "present") == 0)
        ecu->is_present = g_key_file_get_boolean (key_file, group, key, NULL);
      else if (strcmp (key, "bootloader") == 0)
        ecu->is_in_bootloader = ecu->flash != NULL && g_key_file_get_boolean (key_file, group, key, NULL);
      else if (strcmp (key, "application-valid") == 0)
        ecu->application_valid = g_key_file_get_boolean (key_file, group, key, NULL);
      else if (g_str_has_prefix (key, "coding-") || g_str_has_prefix (key, "mileage-"))
        {
          gboolean is_coding = g_str_has_prefix (key, "coding-");
          const char *did_text = strchr (key, '-') + 1;
          char *end = NULL;
          guint64 did = g_ascii_strtoull (did_text, &end, 0);

          if (end == did_text || *end != '\0' || did > 0xFFFF)
            {
              g_mutex_unlock (&ecu->mutex);
              return state_fail (error, group, key, "expected a DID after the prefix");
            }
          if (is_coding)
            {
              const EwCodingDid *coding = ew_module_find_coding_did (ecu->module, (guint16) did);
              gsize n = strlen (value);
              g_autofree guint8 *data = g_malloc0 (n / 2 + 1);

              for (gsize b = 0; b + 1 < n + 1 && 2 * b + 1 < n; b++)
                {
                  int hi = g_ascii_xdigit_value (value[2 * b]);
                  int lo = g_ascii_xdigit_value (value[2 * b + 1]);
                  if (hi < 0 || lo < 0)
                    {
                      g_mutex_unlock (&ecu->mutex);
                      return state_fail (error, group, key, "expected hex bytes");
                    }
                  data[b] = (guint8) (hi << 4 | lo);
                }
              if (coding == NULL || n % 2 != 0 || n / 2 != coding->length_bytes)
                {
                  g_mutex_unlock (&ecu->mutex);
                  return state_fail (error, group, key, "not a coding DID of this module, or the wrong length");
                }
              g_hash_table_insert (ecu->coding, GUINT_TO_POINTER ((guint) did),
                                   g_bytes_new (data, n / 2));
            }
          else
            {
              guint64 km = g_ascii_strtoull (value, &end, 10);
              if (*end != '\0' || km > G_MAXUINT32 || find_mileage_store (ecu, (guint16) did) == NULL)
                {
                  g_mutex_unlock (&ecu->mutex);
                  return state_fail (error, group, key, "not a mileage store of this module, or not a number");
                }
              g_hash_table_insert (ecu->mileage, GUINT_TO_POINTER ((guint) did), GUINT_TO_POINTER ((guint) km));
            }
        }
      else if (strcmp (key, "dtcs") == 0)
        {
          g_auto(GStrv) items = g_strsplit (value, ";", -1);
          g_array_set_size (ecu->dtcs, 0);
          for (guint d = 0; items[d] != NULL; d++)
            {
              guint code, status;
              EwSimDtc dtc;
              if (items[d][0] == '\0')
                continue;
              if (sscanf (items[d], "0x%6X:0x%2X", &code, &status) != 2)
                {
                  g_mutex_unlock (&ecu->mutex);
                  return state_fail (error, group, key, "expected 0xDTC:0xSTATUS items");
                }
              dtc.code[0] = (guint8) (code >> 16);
              dtc.code[1] = (guint8) (code >> 8);
              dtc.code[2] = (guint8) code;
              dtc.status = (guint8) status;
              g_array_append_val (ecu->dtcs, dtc);
            }
        }
      else if (strcmp (key, "fingerprint") == 0)
        {
          gsize n = strlen (value);
          g_autofree guint8 *data = g_malloc0 (n / 2 + 1);
          for (gsize b = 0; 2 * b + 1 < n; b++)
            data[b] = (guint8) (g_ascii_xdigit_value (value[2 * b]) << 4 |
                                g_ascii_xdigit_value (value[2 * b + 1]));
          g_clear_pointer (&ecu->fingerprint, g_bytes_unref);
          ecu->fingerprint = g_bytes_new (data, n / 2);
        }
      else if (strcmp (key, "immobiliser-paired-to") == 0)
        {
          gsize n = strlen (value);
          g_autofree guint8 *data = g_malloc0 (n / 2 + 1);

          for (gsize b = 0; 2 * b + 1 < n; b++)
            {
              int hi = g_ascii_xdigit_value (value[2 * b]);
              int lo = g_ascii_xdigit_value (value[2 * b + 1]);

              if (hi < 0 || lo < 0)
                {
                  g_mutex_unlock (&ecu->mutex);
                  return state_fail (error, group, key, "expected hex bytes");
                }
              data[b] = (guint8) (hi << 4 | lo);
            }
          if (n % 2 != 0)
            {
              g_mutex_unlock (&ecu->mutex);
              return state_fail (error, group, key, "expected hex bytes");
            }
          g_clear_pointer (&ecu->immobiliser_master, g_bytes_unref);
          if (n > 0)
            ecu->immobiliser_master = g_bytes_new (data, n / 2);
        }
      /* flash-* keys are a summary for people; the image is not kept */
    }
  g_mutex_unlock (&ecu->mutex);
  return TRUE;
}
