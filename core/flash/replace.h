/* replace.h — fitting a used or new module to a car: an instrument cluster,
 * a body module or an engine control unit from another car, programmed and
 * linked to this one.
 *
 * The steps follow the family's job template for the module (kind
 * used-cluster, body-module or ecu-swap, <jobs> in the vehicle data) and,
 * without one, the default order:
 *
 *   1. read-mileage: every mileage store of the car's other modules that
 *      hold the car's VIN; the highest credible value is the car's
 *      mileage (never a lower one), and the journal says why;
 *   2. program: the module to the container's software level through the
 *      flash engine (skipped, journalled, when it already runs that level
 *      or a newer one);
 *   3. vin-write: the car's VIN into the module's VIN DID;
 *   4. mileage-transfer: the car's mileage into the module's writable
 *      stores; never lower than what the module shows. A module that
 *      shows more than the car is refused before anything is written: no
 *      tool can lower a mileage;
 *   5. code-from-car: the family's default coding of the module, with the
 *      items the vehicle data ties to options set from the car's option
 *      list;
 *   6. clear-dtc: the module's fault memory;
 *   7. verify: a new scan shows no finding for the module (VIN, software,
 *      bootloader) and its stores hold the car's mileage.
 *
 * An ecu-swap template adds immobiliser-pairing (class adaptation): the
 * module's RoutineControl routine from its <immobiliser> data, started
 * with the serial number of the family's immobiliser master (FEM, EIS,
 * cluster ...) in the session and at the security level the data gives,
 * then the module's immobiliser status DID read back: paired, with that
 * serial. Pairing changes which keys start the car, so it runs only when
 * the technician confirmed it (EwReplaceOptions.confirm_immobiliser);
 * without that the job is refused before any write. A failed pairing
 * restores the VIN and coding the job wrote (ew_coding_restore) and is
 * journalled with what was to be paired to what.
 *
 * Steps 3 to 5 are one coding plan applied by ew_coding_apply (backup
 * before the first write, read-back, rollback across all of them). The
 * replacement itself is a job of its own (EW_JOB_KIND_PROGRAMMING) whose
 * journal has every step and names the flash and coding jobs it ran.
 * The calls block; run them in a worker thread.
 */
#pragma once

#include <gio/gio.h>

#include "connect/connection.h"
#include "flash/flash-engine.h"
#include "scan/scan.h"
#include "store/job-store.h"

G_BEGIN_DECLS

#define EW_REPLACE_ERROR (ew_replace_error_quark ())

typedef enum {
  EW_REPLACE_ERROR_NOT_REPLACEABLE,   /* no such module, or nothing of it can be done */
  EW_REPLACE_ERROR_NO_VIN,            /* the car's VIN could not be told */
  EW_REPLACE_ERROR_MILEAGE_HIGHER,    /* the module shows more than the car */
  EW_REPLACE_ERROR_NO_CONTAINER,      /* no container given and none shipped */
  EW_REPLACE_ERROR_VERIFY,            /* the module does not read back as planned */
  EW_REPLACE_ERROR_NOT_CONFIRMED,     /* a step needs the technician's confirmation */
  EW_REPLACE_ERROR_IMMOBILISER,       /* the pairing cannot run or failed */
  EW_REPLACE_ERROR_SUPPLY_VOLTAGE,    /* the battery is too weak, or the charger too high */
} EwReplaceError;

GQuark ew_replace_error_quark (void);

typedef struct {
  gboolean           allow_downgrade;  /* passed to the flash engine */
  const char        *recovery_dir;     /* nullable: the shipped data/flash */
  const char *const *acknowledged;     /* community subjects the technician confirmed */
  gboolean           confirm_immobiliser; /* the technician confirmed the immobiliser pairing */
} EwReplaceOptions;

/* One mileage store as read. */
typedef struct {
  const EwModule       *module;
  const EwMileageStore *store;
  gboolean              is_read;
  guint32               km;            /* 0 when not read */
  gboolean              is_credible;   /* counts towards the car's mileage */
  char                 *note;          /* why not credible, or the read error */
} EwMileageReading;

/* One planned step, in the order it runs. */
typedef struct {
  char       *kind;                    /* "read-mileage", "program", … */
  char       *name;                    /* from the template, or the default's */
  char       *detail;                  /* what it will do, for people */
  gboolean    is_skipped;              /* nothing to do (detail says why) */
} EwReplaceStep;

typedef struct {
  EwFamily            *family;
  const EwModule      *module;
  const EwJobTemplate *job_template;   /* nullable: the default steps */
  gboolean             is_simulated;
  char                *car_vin;
  char                *module_vin;      /* nullable: not read (bootloader) */
  char                *software_now;    /* nullable */
  char                *software_new;
  gboolean             is_in_bootloader;
  gboolean             needs_programming;
  guint                supply_voltage_mv; /* 0: no module of the car reports it */
  char                *container_path;
  GPtrArray           *car_readings;    /* EwMileageReading: the car's other modules */
  GPtrArray           *module_readings; /* EwMileageReading: the module's own stores */
  guint32              mileage_km;      /* the car's mileage; 0: no credible store */
  char                *mileage_choice;  /* why that value */
  char                *refusal;         /* nullable: why the job cannot run */
  EwReplaceError       refusal_code;    /* the error a refusal is reported with */
  GPtrArray           *steps;           /* EwReplaceStep */
  /* immobiliser pairing (an immobiliser-pairing step on a module with
   * <immobiliser> data); master NULL when the plan pairs nothing */
  const EwModule      *immobiliser_master;
  GBytes              *master_serial;   /* nullable: as the master's DID answered */
  char                *master_serial_text; /* nullable: the same, for people */
  char                *pairing_now;     /* nullable: the module's status, for people */
  gboolean             is_paired;       /* already paired with this car's master */
  gboolean             needs_confirmation; /* a pairing to run, not confirmed */
} EwReplacePlan;

/* Scans the car, reads every mileage store and the module's state, and
 * lays out the steps; writes nothing, so it serves the dry run. A plan
 * whose job must be refused (the module shows more than the car) is
 * still returned, with refusal set. container_path NULL: the shipped
 * sample FAMILY-MODULE.* in the recovery folder. transfer full */
EwReplacePlan *ew_replace_plan_new  (EwConnection           *connection,
                                     const char             *module_id,
                                     const char             *container_path,
                                     const EwReplaceOptions *options,
                                     GCancellable           *cancellable,
                                     GError                **error);
void           ew_replace_plan_free (EwReplacePlan *plan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EwReplacePlan, ew_replace_plan_free)

/* step: the plan step's kind; fraction 0..1 of the whole job, never
 * going backwards; detail nullable. Called on the calling thread. */
typedef void (*EwReplaceProgressFunc) (const char *step,
                                       double      fraction,
                                       const char *detail,
                                       gpointer    user_data);

/* The jobs a replacement ran; 0 for one it did not need. */
typedef struct {
  gint64 job_id;                       /* the replacement's own journal */
  gint64 flash_job_id;
  gint64 coding_job_id;
  gint64 restore_job_id;               /* undid the coding job after a failed pairing */
} EwReplaceJobs;

/* Plans and runs the replacement. Returns the replacement's job id, or
 * 0 with error; jobs (nullable) receives every job id started, also on
 * failure. A refused plan starts the job, journals the refusal and ends
 * it ROLLED_BACK with plan->refusal_code (EW_REPLACE_ERROR_MILEAGE_HIGHER
 * for a mileage), nothing written; so does an unconfirmed immobiliser
 * pairing, with EW_REPLACE_ERROR_NOT_CONFIRMED. A failed pairing ends
 * ROLLED_BACK (VIN and coding restored by a restore job, journalled; the
 * software loaded stays, journalled in its flash job) or FAILED when the
 * restore did not verify, with EW_REPLACE_ERROR_IMMOBILISER. */
gint64 ew_replace_module (EwConnection           *connection,
                          EwJobStore             *store,
                          const char             *module_id,
                          const char             *container_path,
                          const EwReplaceOptions *options,
                          EwReplaceProgressFunc   progress,
                          gpointer                user_data,
                          EwReplaceJobs          *jobs,
                          GCancellable           *cancellable,
                          GError                **error);

/* Mileage store bytes (big-endian, in the store's unit over its scale)
 * and km, both ways; writing rounds up so that a value is never lowered. */
guint32 ew_mileage_store_decode_km (const EwMileageStore *store,
                                    GBytes               *bytes);
GBytes *ew_mileage_store_encode_km (const EwMileageStore *store,
                                    guint32               km);

G_END_DECLS
