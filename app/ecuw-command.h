/* ecuw-command.h — what every `ecuw` command gets, and the commands.
 *
 * A command returns TRUE on success; on failure it sets error, and the
 * caller prints it as one line on stderr and exits non-zero.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "vehicle/database.h"
#include "vehicle/vin.h"
#include "coding/coding-plan.h"
#include "flash/flash-engine.h"

G_BEGIN_DECLS

#define ECUW_ERROR (ecuw_error_quark ())

/* The link used when none is given: the simulated car, as in the window. */
#define ECUW_DEFAULT_LINK "sim:bmw-f30"

typedef enum {
  ECUW_ERROR_USAGE,
  ECUW_ERROR_NOT_FOUND,
} EcuwError;

GQuark ecuw_error_quark (void);

typedef struct {
  gboolean           json;
  char              *data_dir;     /* nullable: --data-dir */
  char              *link_uri;     /* nullable: --link; the simulated car when unset */
  EwVehicleDatabase *db;           /* loaded on first use */
} EcuwContext;

/* Loads the vehicle families once; load errors are warnings on stderr
 * (one bad family never stops the others). */
EwVehicleDatabase *ecuw_context_get_database (EcuwContext *ctx);

/* The link to the car: --link, else the simulated car. */
const char        *ecuw_context_get_link     (EcuwContext *ctx);

/* Writes a JSON document to stdout, pretty-printed, with a newline. */
void               ecuw_print_json           (JsonBuilder *builder);

gboolean ecuw_cmd_vin      (EcuwContext *ctx, int argc, char **argv, GError **error);
gboolean ecuw_cmd_vehicles (EcuwContext *ctx, int argc, char **argv, GError **error);
gboolean ecuw_cmd_features (EcuwContext *ctx, int argc, char **argv, GError **error);
gboolean ecuw_cmd_scan     (EcuwContext *ctx, int argc, char **argv, GError **error);
gboolean ecuw_cmd_sim      (EcuwContext *ctx, int argc, char **argv, GError **error);

/* ecuw-code.c: the car's features as read from it, and coding them. */
gboolean ecuw_cmd_live_features (EcuwContext *ctx, int argc, char **argv, GError **error);
gboolean ecuw_cmd_code     (EcuwContext *ctx, int argc, char **argv, GError **error);

/* ecuw-retrofit.c: code the car and a used module fitted to it. */
gboolean ecuw_cmd_retrofit (EcuwContext *ctx, int argc, char **argv, GError **error);

/* ecuw-flash.c: check a programming container against a module, and
 * program the module as a job. */
gboolean ecuw_cmd_flash    (EcuwContext *ctx, int argc, char **argv, GError **error);

/* An EwFlashProgressFunc printing a line per step on stderr (during the
 * download at most one a second); user_data is an EcuwFlashProgress,
 * zero-initialised, its last_step freed by the caller. */
typedef struct {
  char   *last_step;
  gint64  last_print_us;
} EcuwFlashProgress;
void     ecuw_print_flash_progress (const EwFlashProgress *progress, gpointer user_data);

/* ecuw-recover.c: program a module dead in its bootloader with its
 * recovery image (or a container). */
gboolean ecuw_cmd_recover  (EcuwContext *ctx, int argc, char **argv, GError **error);

/* ecuw-replace.c: fit a used cluster or body module to the car as a job. */
gboolean ecuw_cmd_replace  (EcuwContext *ctx, int argc, char **argv, GError **error);

/* ecuw-quote.c: what the customer asks for, as a priced job plan. */
gboolean ecuw_cmd_quote    (EcuwContext *ctx, int argc, char **argv, GError **error);

/* ecuw-jobs.c: the job store's jobs, journal and backups, and restoring
 * a job's backup to the car. */
gboolean ecuw_cmd_jobs     (EcuwContext *ctx, int argc, char **argv, GError **error);
gboolean ecuw_cmd_job      (EcuwContext *ctx, int argc, char **argv, GError **error);
gboolean ecuw_cmd_restore  (EcuwContext *ctx, int argc, char **argv, GError **error);

/* An EwCodingProgressFunc that prints each new step on stderr; user_data
 * is an EcuwProgress, zero-initialised by the caller. */
typedef struct {
  char *last_step;
  char *last_module;
} EcuwProgress;

void     ecuw_progress_clear  (EcuwProgress *progress);
void     ecuw_print_progress  (const char *step, const char *module_id, double fraction,
                               gpointer user_data);

/* The bytes in hex, separated by separator: "01 A2 FF" for people, "01A2FF"
 * in JSON; NULL bytes give NULL. transfer full */
char    *ecuw_format_bytes    (GBytes *bytes, const char *separator);

/* Adds a string member, or null. */
void     ecuw_json_add_string (JsonBuilder *builder, const char *name, const char *value);

/* The car behind the link: connected, scanned, its features read. The
 * connection stays open until the car is cleared. */
typedef struct {
  EwConnection       *connection;
  EwScanResult       *scan;
  EwFeatureCatalogue *catalogue;
} EcuwCar;

gboolean ecuw_car_read         (EcuwContext *ctx, EcuwCar *car, GError **error);
void     ecuw_car_clear        (EcuwCar *car);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (EcuwCar, ecuw_car_clear)
/* link, family, vin, simulated */
void     ecuw_car_add_members  (JsonBuilder *b, const char *uri, EwFeatureCatalogue *catalogue);
/* "Make Model · VIN … · simulated car" */
void     ecuw_car_print_line   (EwFeatureCatalogue *catalogue);
/* Each DID a plan writes, before and after: as JSON ("writes") or text. */
void     ecuw_plan_add_writes  (JsonBuilder *b, const EwCodingPlan *plan);
void     ecuw_plan_print_writes (const EwCodingPlan *plan);

G_END_DECLS
