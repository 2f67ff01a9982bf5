/* planner.h — turns what the customer asks for (and what a scan of the car
 * found) into a job plan: ordered items of work, each classed coding,
 * programming or adaptation, with the reason in plain language, labour
 * time and a fixed price.
 *
 * The rules come from the family's data where it has them (feature class,
 * reason and labour time; job templates with their operations) and from
 * the planner where it does not (which template a replaced or faulty
 * module needs, and why, in the customer's words):
 *
 *   FEATURE=STATE, coding or adaptation   one coding line; refused when the
 *                                         catalogue or scan says not fitted
 *   FEATURE=on, programming feature       programming, the feature's reason
 *   replace:MODULE[:used|:new]            the module's template: ecu-swap,
 *                                         used-cluster, body-module, retrofit
 *   recover:MODULE                        the recovery template
 *   scan: vin-mismatch                    used-cluster (cluster) or retrofit
 *   scan: bootloader                      recovery
 *   scan: software-behind                 programming, when a requested
 *                                         feature needs that software
 *
 * Prices: each operation is priced from its labour minutes at the hourly
 * rate, and a job's price is the sum of its operations' rounded prices —
 * unless the garage set a fixed price for jobs of the line's kind (rates'
 * template prices): then the line costs exactly that, and the fixed price
 * is shared out over its operations by labour time so that they still add
 * up to it. Feature lines are always priced by labour time. See prices.h
 * for rounding.
 */
#pragma once

#include <glib.h>

#include "coding/catalogue.h"
#include "job/prices.h"
#include "scan/scan.h"
#include "vehicle/family.h"

G_BEGIN_DECLS

#define EW_PLANNER_ERROR (ew_planner_error_quark ())

typedef enum {
  EW_PLANNER_ERROR_BAD_ITEM,          /* not FEATURE=STATE, replace: or recover: */
  EW_PLANNER_ERROR_UNKNOWN_FEATURE,
  EW_PLANNER_ERROR_UNKNOWN_STATE,
  EW_PLANNER_ERROR_UNKNOWN_MODULE,
  EW_PLANNER_ERROR_NO_JOB,            /* the family has no job for that module */
  EW_PLANNER_ERROR_WRONG_FAMILY,      /* the scan or catalogue is of another family */
} EwPlannerError;

GQuark ew_planner_error_quark (void);

/* What the customer asks for. */
typedef struct _EwJobRequest EwJobRequest;

EwJobRequest *ew_job_request_new            (void);
void          ew_job_request_free           (EwJobRequest *request);
void          ew_job_request_add_feature    (EwJobRequest *request,
                                             const char   *feature_id,
                                             const char   *state);
void          ew_job_request_add_replacement (EwJobRequest *request,
                                             const char   *module_id,
                                             gboolean      is_used);
void          ew_job_request_add_recovery   (EwJobRequest *request,
                                             const char   *module_id);
/* FEATURE=STATE, replace:MODULE[:used|:new] (used when not said) or
 * recover:MODULE. Checks only the form; names are checked by the planner. */
gboolean      ew_job_request_add_item       (EwJobRequest *request,
                                             const char   *item,
                                             GError      **error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EwJobRequest, ew_job_request_free)

typedef enum {
  EW_PLAN_ITEM_FEATURE,               /* a feature coded or programmed */
  EW_PLAN_ITEM_ECU_SWAP,
  EW_PLAN_ITEM_USED_CLUSTER,
  EW_PLAN_ITEM_BODY_MODULE,
  EW_PLAN_ITEM_RETROFIT,
  EW_PLAN_ITEM_RECOVERY,
} EwPlanItemKind;

typedef struct {
  char       *kind;                   /* the template's: "program", "vin-write"; "code" */
  EwWorkClass work_class;
  char       *name;
  guint       labour_minutes;
  gint64      price_minor;            /* rounded on its own */
} EwPlanOperation;

typedef struct {
  EwPlanItemKind kind;
  EwWorkClass    work_class;          /* programming if any operation is */
  char          *title;               /* "Cornering lights: On" */
  char          *reason;              /* why this class, for the customer */
  char          *description;         /* nullable: what the work does */
  const EwModule *module;             /* owned by the family */
  const EwFeature *feature;           /* nullable */
  const EwJobTemplate *job;           /* nullable: a synthesised retrofit has none */
  gboolean       is_from_scan;        /* raised by a finding, not asked for */
  char          *finding;             /* nullable: the finding's title */
  GPtrArray     *operations;          /* EwPlanOperation, in order */
  guint          labour_minutes;      /* sum of the operations' */
  gint64         price_minor;         /* sum of the operations' prices */
  gboolean       is_fixed_price;      /* the garage's fixed price for its kind */
} EwPlanItem;

/* Something asked for that cannot or need not be done, and why. */
typedef struct {
  char *subject;                      /* feature or module id */
  char *title;                        /* its name */
  char *reason;
} EwPlanRefusal;

typedef struct {
  EwFamily     *family;
  EwPriceRates  rates;
  GPtrArray    *items;                /* EwPlanItem, in the order of work */
  GPtrArray    *refusals;             /* EwPlanRefusal */
  guint         labour_minutes;
  gint64        net_minor;            /* sum of the items' prices */
  gint64        vat_minor;            /* on the net total */
  gint64        gross_minor;          /* net + VAT */
} EwJobPlan;

/* Plans request on family. scan and catalogue are nullable: with a scan,
 * its findings add work of their own and modules found absent refuse their
 * features; with a catalogue, features not fitted or already in the asked
 * state are refused. Fails on a name the family does not know, a state the
 * feature does not have, or a module the family has no job for.
 * transfer full */
EwJobPlan  *ew_job_plan_new         (EwFamily            *family,
                                     const EwJobRequest  *request,
                                     const EwScanResult  *scan,
                                     EwFeatureCatalogue  *catalogue,
                                     const EwPriceRates  *rates,
                                     GError             **error);
void        ew_job_plan_free        (EwJobPlan *plan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EwJobPlan, ew_job_plan_free)

const char *ew_plan_item_kind_to_string (EwPlanItemKind kind);

G_END_DECLS
