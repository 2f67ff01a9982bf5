/* planner.c — from the customer's request and a scan's findings to an
 * ordered, priced job plan. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "job/planner.h"

G_DEFINE_QUARK (ew-planner-error-quark, ew_planner_error)

typedef enum {
  REQUEST_FEATURE,
  REQUEST_REPLACE,
  REQUEST_RECOVER,
} RequestKind;

typedef struct {
  RequestKind kind;
  char       *id;                 /* feature or module */
  char       *state;              /* REQUEST_FEATURE */
  gboolean    is_used;            /* REQUEST_REPLACE */
} RequestEntry;

struct _EwJobRequest {
  GPtrArray *entries;             /* RequestEntry */
};

static void
request_entry_free (gpointer data)
{
  RequestEntry *e = data;

  g_free (e->id);
  g_free (e->state);
  g_free (e);
}

EwJobRequest *
ew_job_request_new (void)
{
  EwJobRequest *request = g_new0 (EwJobRequest, 1);

  request->entries = g_ptr_array_new_with_free_func (request_entry_free);
  return request;
}

void
ew_job_request_free (EwJobRequest *request)
{
  if (request == NULL)
    return;
  g_ptr_array_unref (request->entries);
  g_free (request);
}

static void
add_entry (EwJobRequest *request, RequestKind kind, const char *id, const char *state, gboolean is_used)
{
  RequestEntry *e = g_new0 (RequestEntry, 1);

  e->kind = kind;
  e->id = g_strdup (id);
  e->state = g_strdup (state);
  e->is_used = is_used;
  g_ptr_array_add (request->entries, e);
}

void
ew_job_request_add_feature (EwJobRequest *request, const char *feature_id, const char *state)
{
  g_return_if_fail (request != NULL && feature_id != NULL && state != NULL);
  add_entry (request, REQUEST_FEATURE, feature_id, state, FALSE);
}

void
ew_job_request_add_replacement (EwJobRequest *request, const char *module_id, gboolean is_used)
{
  g_return_if_fail (request != NULL && module_id != NULL);
  add_entry (request, REQUEST_REPLACE, module_id, NULL, is_used);
}

void
ew_job_request_add_recovery (EwJobRequest *request, const char *module_id)
{
  g_return_if_fail (request != NULL && module_id != NULL);
  add_entry (request, REQUEST_RECOVER, module_id, NULL, FALSE);
}

gboolean
ew_job_request_add_item (EwJobRequest *request, const char *item, GError **error)
{
  const char *equals = strchr (item, '=');

  if (g_str_has_prefix (item, "replace:"))
    {
      g_auto(GStrv) parts = g_strsplit (item + strlen ("replace:"), ":", 0);
      guint n = g_strv_length (parts);

      if ((n == 1 || n == 2) && parts[0][0] != '\0' &&
          (n == 1 || g_str_equal (parts[1], "used") || g_str_equal (parts[1], "new")))
        {
          ew_job_request_add_replacement (request, parts[0], n == 1 || g_str_equal (parts[1], "used"));
          return TRUE;
        }
    }
  else if (g_str_has_prefix (item, "recover:"))
    {
      const char *module_id = item + strlen ("recover:");

      if (module_id[0] != '\0' && strchr (module_id, ':') == NULL)
        {
          ew_job_request_add_recovery (request, module_id);
          return TRUE;
        }
    }
  else if (equals != NULL && equals != item && equals[1] != '\0' && strchr (item, ':') == NULL)
    {
      g_autofree char *feature_id = g_strndup (item, equals - item);

      ew_job_request_add_feature (request, feature_id, equals + 1);
      return TRUE;
    }

  /* TRANSLATORS: %s is the item as typed; keep the forms as they are */
  g_set_error (error, EW_PLANNER_ERROR, EW_PLANNER_ERROR_BAD_ITEM,
               _("“%s” is not FEATURE=STATE, replace:MODULE[:used|:new] or recover:MODULE"), item);
  return FALSE;
}

/* ---- plan ---- */

static void
plan_operation_free (gpointer data)
{
  EwPlanOperation *op = data;

  g_free (op->kind);
  g_free (op->name);
  g_free (op);
}

static void
plan_item_free (gpointer data)
{
  EwPlanItem *item = data;

  g_free (item->title);
  g_free (item->reason);
  g_free (item->description);
  g_free (item->finding);
  g_ptr_array_unref (item->operations);
  g_free (item);
}

static void
plan_refusal_free (gpointer data)
{
  EwPlanRefusal *r = data;

  g_free (r->subject);
  g_free (r->title);
  g_free (r->reason);
  g_free (r);
}

void
ew_job_plan_free (EwJobPlan *plan)
{
  if (plan == NULL)
    return;
  g_clear_pointer (&plan->family, ew_family_unref);
  g_ptr_array_unref (plan->items);
  g_ptr_array_unref (plan->refusals);
  g_free (plan);
}

const char *
ew_plan_item_kind_to_string (EwPlanItemKind kind)
{
  switch (kind)
    {
    case EW_PLAN_ITEM_FEATURE:      return "feature";
    case EW_PLAN_ITEM_ECU_SWAP:     return "ecu-swap";
    case EW_PLAN_ITEM_USED_CLUSTER: return "used-cluster";
    case EW_PLAN_ITEM_BODY_MODULE:  return "body-module";
    case EW_PLAN_ITEM_RETROFIT:     return "retrofit";
    case EW_PLAN_ITEM_RECOVERY:     return "recovery";
    default:                        g_assert_not_reached ();
    }
}

typedef struct {
  EwJobPlan           *plan;
  const EwScanResult  *scan;
  EwFeatureCatalogue  *catalogue;
  /* module id -> EwPlanItem that replaces, recovers or retrofits it */
  GHashTable          *module_jobs;
  GHashTable          *planned_features;   /* feature ids */
} Planner;

/* Why each kind of job is the class it is, in the customer's words. */
static char *
job_reason (EwPlanItemKind kind, gboolean is_used)
{
  switch (kind)
    {
    case EW_PLAN_ITEM_ECU_SWAP:
      return g_strdup (_("A replacement engine control unit does not carry the software and data that "
                         "match this car: it must be programmed. Coding alone will not make it work."));
    case EW_PLAN_ITEM_USED_CLUSTER:
      return g_strdup (is_used
                       ? _("An instrument cluster from another car holds that car's software level, VIN "
                           "and mileage. It must be programmed to this car's software level, linked to "
                           "this car's VIN and given this car's mileage; coding alone cannot do that.")
                       : _("A new instrument cluster holds none of this car's software level, VIN or "
                           "mileage: it is programmed, linked to the VIN and given the car's mileage."));
    case EW_PLAN_ITEM_BODY_MODULE:
      return g_strdup (_("A replacement body module does not come with this car's software and settings: "
                         "it needs full programming, then coding from the car's data."));
    case EW_PLAN_ITEM_RETROFIT:
      return g_strdup (_("The module is of a type the car could have had from the factory, so its "
                         "software stays as it is: coding tells the car it is fitted and sets the "
                         "module up for this car."));
    case EW_PLAN_ITEM_RECOVERY:
      return g_strdup (_("The module's software was damaged when an update was interrupted or the "
                         "voltage dropped, and the module no longer starts. Its software must be loaded "
                         "again (reprogramming); coding cannot fix it, because the software that would "
                         "use the coding does not run."));
    case EW_PLAN_ITEM_FEATURE:
    default:
      g_assert_not_reached ();
    }
}

static void
add_operation (const EwJobPlan *plan, EwPlanItem *item, const char *kind, EwWorkClass work_class,
               const char *name, guint labour_minutes)
{
  EwPlanOperation *op = g_new0 (EwPlanOperation, 1);

  op->kind = g_strdup (kind);
  op->work_class = work_class;
  op->name = g_strdup (name);
  op->labour_minutes = labour_minutes;
  op->price_minor = ew_price_labour (&plan->rates, labour_minutes);
  g_ptr_array_add (item->operations, op);

  item->labour_minutes += op->labour_minutes;
  item->price_minor += op->price_minor;
  if (work_class == EW_WORK_CLASS_PROGRAMMING ||
      (work_class == EW_WORK_CLASS_ADAPTATION && item->work_class == EW_WORK_CLASS_CODING))
    item->work_class = work_class;
}

static EwJobKind
job_kind_for (EwPlanItemKind kind)
{
  switch (kind)
    {
    case EW_PLAN_ITEM_ECU_SWAP:     return EW_JOB_ECU_SWAP;
    case EW_PLAN_ITEM_USED_CLUSTER: return EW_JOB_USED_CLUSTER;
    case EW_PLAN_ITEM_BODY_MODULE:  return EW_JOB_BODY_MODULE;
    case EW_PLAN_ITEM_RETROFIT:     return EW_JOB_RETROFIT;
    case EW_PLAN_ITEM_RECOVERY:     return EW_JOB_RECOVERY;
    case EW_PLAN_ITEM_FEATURE:
    default:                        g_assert_not_reached ();
    }
}

/* The garage's fixed price for the line's kind of job (the line's, not the
 * template's: a recovery done with a replacement template is a recovery).
 * Each operation gets the share of the price its labour time has, rounded
 * on the running total, so the shares add up to the price exactly. */
static void
apply_fixed_price (const EwJobPlan *plan, EwPlanItem *item)
{
  gint64 fixed = ew_price_rates_get_template_price (&plan->rates, job_kind_for (item->kind));
  gint64 before = 0;
  guint minutes = 0;

  if (fixed <= 0 || item->operations->len == 0)
    return;
  for (guint i = 0; i < item->operations->len; i++)
    {
      EwPlanOperation *op = g_ptr_array_index (item->operations, i);
      gint64 upto;

      minutes += op->labour_minutes;
      /* no labour time at all: the first operation carries the price */
      upto = item->labour_minutes > 0
        ? ew_money_divide_round (fixed * (gint64) minutes, item->labour_minutes) : fixed;
      op->price_minor = upto - before;
      before = upto;
    }
  item->price_minor = fixed;
  item->is_fixed_price = TRUE;
}

static EwPlanItem *
item_new (EwPlanItemKind kind, const EwModule *module)
{
  EwPlanItem *item = g_new0 (EwPlanItem, 1);

  item->kind = kind;
  item->work_class = EW_WORK_CLASS_CODING;
  item->module = module;
  item->operations = g_ptr_array_new_with_free_func (plan_operation_free);
  return item;
}

static void
refuse (Planner *p, const char *subject, const char *title, char *reason /* owned */)
{
  EwPlanRefusal *r = g_new0 (EwPlanRefusal, 1);

  r->subject = g_strdup (subject);
  r->title = g_strdup (title);
  r->reason = reason;
  g_ptr_array_add (p->plan->refusals, r);
}

static const EwJobTemplate *
find_template (const EwFamily *family, const char *module_id, EwJobKind kind)
{
  for (guint i = 0; i < family->jobs->len; i++)
    {
      const EwJobTemplate *job = g_ptr_array_index (family->jobs, i);

      if (job->kind == kind && g_strcmp0 (job->module, module_id) == 0)
        return job;
    }
  return NULL;
}

/* The template for fitting another module in place of module: the one its
 * kind calls for, else whatever replacement job the family has for it. */
static const EwJobTemplate *
find_replacement_template (const EwFamily *family, const EwModule *module)
{
  const EwJobTemplate *job = NULL;

  switch (module->kind)
    {
    case EW_MODULE_ENGINE:             job = find_template (family, module->id, EW_JOB_ECU_SWAP); break;
    case EW_MODULE_INSTRUMENT_CLUSTER: job = find_template (family, module->id, EW_JOB_USED_CLUSTER); break;
    case EW_MODULE_BODY:               job = find_template (family, module->id, EW_JOB_BODY_MODULE); break;
    default:                           job = find_template (family, module->id, EW_JOB_RETROFIT); break;
    }
  if (job != NULL)
    return job;
  for (guint i = 0; i < family->jobs->len; i++)
    {
      const EwJobTemplate *other = g_ptr_array_index (family->jobs, i);

      if (other->kind != EW_JOB_RECOVERY && g_strcmp0 (other->module, module->id) == 0)
        return other;
    }
  return NULL;
}

static gboolean
template_programs (const EwJobTemplate *job)
{
  for (guint i = 0; i < job->operations->len; i++)
    if (((EwJobOperation *) g_ptr_array_index (job->operations, i))->work_class == EW_WORK_CLASS_PROGRAMMING)
      return TRUE;
  return FALSE;
}

static EwPlanItemKind
item_kind_for (EwJobKind kind)
{
  switch (kind)
    {
    case EW_JOB_ECU_SWAP:     return EW_PLAN_ITEM_ECU_SWAP;
    case EW_JOB_USED_CLUSTER: return EW_PLAN_ITEM_USED_CLUSTER;
    case EW_JOB_BODY_MODULE:  return EW_PLAN_ITEM_BODY_MODULE;
    case EW_JOB_RETROFIT:     return EW_PLAN_ITEM_RETROFIT;
    case EW_JOB_RECOVERY:     return EW_PLAN_ITEM_RECOVERY;
    default:                  g_assert_not_reached ();
    }
}

static EwPlanItem *
add_job_item (Planner *p, EwPlanItemKind kind, const EwModule *module, const EwJobTemplate *job,
              gboolean is_used, const EwScanFinding *finding)
{
  EwPlanItem *item = g_hash_table_lookup (p->module_jobs, module->id);

  if (item != NULL)
    {
      /* one job per module: what was asked for and what the scan found agree */
      if (finding == NULL)
        item->is_from_scan = FALSE;
      return item;
    }

  item = item_new (kind, module);
  item->job = job;
  item->reason = job_reason (kind, is_used);
  item->is_from_scan = finding != NULL;
  item->finding = finding != NULL ? g_strdup (finding->title) : NULL;
  if (job != NULL)
    {
      item->title = g_strdup (job->name);
      item->description = g_strdup (job->description);
      for (guint i = 0; i < job->operations->len; i++)
        {
          const EwJobOperation *op = g_ptr_array_index (job->operations, i);

          add_operation (p->plan, item, op->kind, op->work_class, op->name, op->labour_minutes);
        }
    }
  else
    {
      /* A retrofit the family has data for but no template: the same
       * steps as the shipped retrofit templates, at their usual times. */
      const EwRetrofit *retrofit = module->retrofit;

      /* TRANSLATORS: %s is the module's name */
      item->title = g_strdup_printf (_("Retrofit a used module: %s"), module->name);
      if (retrofit->car_coding->len > 0)
        add_operation (p->plan, item, "code-car", EW_WORK_CLASS_CODING,
                       _("Tell the car the module is fitted"), 10);
      add_operation (p->plan, item, "code-module", EW_WORK_CLASS_CODING,
                     _("Code the module for this car"), 15);
      if (retrofit->has_vin_link)
        add_operation (p->plan, item, "vin-write", EW_WORK_CLASS_CODING, _("Write the VIN"), 5);
      add_operation (p->plan, item, "verify", EW_WORK_CLASS_CODING, _("Verify the coding"), 10);
    }
  apply_fixed_price (p->plan, item);
  g_hash_table_insert (p->module_jobs, module->id, item);
  g_ptr_array_add (p->plan->items, item);
  return item;
}

static const EwModule *
lookup_module (Planner *p, const char *module_id, GError **error)
{
  const EwModule *module = ew_family_find_module (p->plan->family, module_id);

  if (module == NULL)
    /* TRANSLATORS: the module id as typed, then the family id */
    g_set_error (error, EW_PLANNER_ERROR, EW_PLANNER_ERROR_UNKNOWN_MODULE,
                 _("Vehicle family %2$s has no module “%1$s”; see ecuw features %2$s"),
                 module_id, p->plan->family->id);
  return module;
}

static gboolean
plan_replacement (Planner *p, const RequestEntry *e, GError **error)
{
  const EwModule *module = lookup_module (p, e->id, error);
  const EwJobTemplate *job;

  if (module == NULL)
    return FALSE;
  job = find_replacement_template (p->plan->family, module);
  if (job != NULL)
    add_job_item (p, item_kind_for (job->kind), module, job, e->is_used, NULL);
  else if (module->retrofit != NULL)
    add_job_item (p, EW_PLAN_ITEM_RETROFIT, module, NULL, e->is_used, NULL);
  else
    {
      /* TRANSLATORS: module name, then family id */
      g_set_error (error, EW_PLANNER_ERROR, EW_PLANNER_ERROR_NO_JOB,
                   _("Vehicle family %2$s has no job for replacing %1$s"), module->name,
                   p->plan->family->id);
      return FALSE;
    }
  return TRUE;
}

/* Recovery: the family's recovery template, else a replacement job that
 * reloads the software (it does the same work on the same module). */
static const EwJobTemplate *
find_recovery_template (const EwFamily *family, const EwModule *module)
{
  const EwJobTemplate *job = find_template (family, module->id, EW_JOB_RECOVERY);

  if (job == NULL)
    {
      job = find_replacement_template (family, module);
      if (job != NULL && !template_programs (job))
        job = NULL;
    }
  return job;
}

static gboolean
plan_recovery (Planner *p, const RequestEntry *e, GError **error)
{
  const EwModule *module = lookup_module (p, e->id, error);
  const EwJobTemplate *job;

  if (module == NULL)
    return FALSE;
  job = find_recovery_template (p->plan->family, module);
  if (job == NULL)
    {
      /* TRANSLATORS: module name, then family id */
      g_set_error (error, EW_PLANNER_ERROR, EW_PLANNER_ERROR_NO_JOB,
                   _("Vehicle family %2$s has no job for recovering %1$s"), module->name,
                   p->plan->family->id);
      return FALSE;
    }
  add_job_item (p, EW_PLAN_ITEM_RECOVERY, module, job, FALSE, NULL);
  return TRUE;
}

static void
plan_finding (Planner *p, const EwScanFinding *finding)
{
  const EwFamily *family = p->plan->family;
  const EwModule *module = finding->module;
  const EwJobTemplate *job;

  if (module == NULL)
    return;
  switch (finding->kind)
    {
    case EW_FINDING_VIN_MISMATCH:
      /* a module from another car: a used cluster is programmed, an ECU
       * swapped, a used module of another kind coded in */
      job = find_replacement_template (family, module);
      if (job != NULL)
        add_job_item (p, item_kind_for (job->kind), module, job, TRUE, finding);
      else if (module->retrofit != NULL)
        add_job_item (p, EW_PLAN_ITEM_RETROFIT, module, NULL, TRUE, finding);
      break;
    case EW_FINDING_BOOTLOADER:
      job = find_recovery_template (family, module);
      if (job != NULL)
        add_job_item (p, EW_PLAN_ITEM_RECOVERY, module, job, FALSE, finding);
      break;
    case EW_FINDING_IMMOBILISER_UNPAIRED:
      /* a unit from another car: its replacement job (from the VIN
       * mismatch) pairs it; alone, a diagnosis first */
    case EW_FINDING_SOFTWARE_BEHIND:   /* only with a feature that needs it */
    case EW_FINDING_NOT_ANSWERING:     /* a diagnosis first, not a price */
    case EW_FINDING_NOT_FITTED:        /* refuses the features that need it */
    default:
      break;
    }
}

static const EwScanFinding *
find_finding (const EwScanResult *scan, EwFindingKind kind, const char *module_id)
{
  if (scan == NULL)
    return NULL;
  for (guint i = 0; i < scan->findings->len; i++)
    {
      const EwScanFinding *f = g_ptr_array_index (scan->findings, i);

      if (f->kind == kind && f->module != NULL && g_strcmp0 (f->module->id, module_id) == 0)
        return f;
    }
  return NULL;
}

static const EwScanModule *
find_scan_module (const EwScanResult *scan, const char *module_id)
{
  if (scan == NULL)
    return NULL;
  for (guint i = 0; i < scan->modules->len; i++)
    {
      const EwScanModule *m = g_ptr_array_index (scan->modules, i);

      if (g_strcmp0 (m->module->id, module_id) == 0)
        return m;
    }
  return NULL;
}

/* Whether a job already planned reloads module's software. */
static const EwPlanItem *
programming_job_for (Planner *p, const char *module_id)
{
  const EwPlanItem *item = g_hash_table_lookup (p->module_jobs, module_id);

  return item != NULL && item->work_class == EW_WORK_CLASS_PROGRAMMING ? item : NULL;
}

static void
add_feature_item (Planner *p, const EwFeature *feature, const EwModule *module, const char *label,
                  const EwScanFinding *finding)
{
  EwPlanItem *item = item_new (EW_PLAN_ITEM_FEATURE, module);
  const char *op_kind = feature->work_class == EW_WORK_CLASS_PROGRAMMING ? "program"
                        : feature->work_class == EW_WORK_CLASS_ADAPTATION ? "adapt" : "code";

  item->feature = feature;
  item->title = label != NULL ? g_strdup_printf ("%s: %s", feature->name, label) : g_strdup (feature->name);
  item->description = g_strdup (feature->description);
  item->reason = g_strdup (feature->reason);
  if (item->reason == NULL)
    item->reason = g_strdup (feature->work_class == EW_WORK_CLASS_PROGRAMMING
                             ? _("The module needs new software; no setting can do this.")
                             : _("A setting in the module's coding; its software stays as it is."));
  item->is_from_scan = finding != NULL;
  item->finding = finding != NULL ? g_strdup (finding->title) : NULL;
  add_operation (p->plan, item, op_kind, feature->work_class, item->title, feature->labour_minutes);
  g_hash_table_add (p->planned_features, feature->id);
  g_ptr_array_add (p->plan->items, item);
}

/* Whether programming feature prog brings the software that coding
 * feature wants: the same module, and every word of prog's id other than
 * "software" and "update" is a word of feature's id (apple-carplay and
 * carplay-software; app-connect and app-connect-software). */
static gboolean
feature_needs_software (const EwFeature *feature, const EwFeature *prog)
{
  g_auto(GStrv) want = NULL;
  g_auto(GStrv) have = NULL;
  guint n_words = 0;

  if (prog->work_class != EW_WORK_CLASS_PROGRAMMING || g_strcmp0 (prog->module, feature->module) != 0)
    return FALSE;
  want = g_strsplit (prog->id, "-", 0);
  have = g_strsplit (feature->id, "-", 0);
  for (guint i = 0; want[i] != NULL; i++)
    {
      if (g_str_equal (want[i], "software") || g_str_equal (want[i], "update"))
        continue;
      if (!g_strv_contains ((const char *const *) have, want[i]))
        return FALSE;
      n_words++;
    }
  return n_words > 0;
}

static void
plan_programming_feature (Planner *p, const EwFeature *feature, const EwModule *module,
                          const EwScanFinding *finding)
{
  const EwScanModule *m = find_scan_module (p->scan, module->id);
  const EwPlanItem *job = programming_job_for (p, module->id);

  if (g_hash_table_contains (p->planned_features, feature->id))
    return;
  if (job != NULL)
    {
      /* TRANSLATORS: the job's title */
      refuse (p, feature->id, feature->name,
              g_strdup_printf (_("Included in “%s”: the module is programmed anyway."), job->title));
      return;
    }
  if (m != NULL && m->state == EW_SCAN_MODULE_ANSWERED && m->software_version != NULL &&
      feature->min_software != NULL &&
      ew_software_version_compare (m->software_version, feature->min_software) >= 0)
    {
      /* TRANSLATORS: the module's software level, then the level needed */
      refuse (p, feature->id, feature->name,
              g_strdup_printf (_("Nothing to do: the module already has software %s (%s or later is needed)."),
                               m->software_version, feature->min_software));
      return;
    }
  add_feature_item (p, feature, module, NULL, finding);
}

static gboolean
plan_feature (Planner *p, const RequestEntry *e, GError **error)
{
  const EwFamily *family = p->plan->family;
  const EwFeature *feature = ew_family_find_feature (family, e->id);
  const EwFeatureState *state = NULL;
  const EwModule *module;
  const EwFeatureStatus *status;
  const EwScanFinding *behind;

  if (feature == NULL)
    {
      /* TRANSLATORS: the feature id as typed, then the family id */
      g_set_error (error, EW_PLANNER_ERROR, EW_PLANNER_ERROR_UNKNOWN_FEATURE,
                   _("Vehicle family %2$s has no feature “%1$s”; see ecuw features %2$s"),
                   e->id, family->id);
      return FALSE;
    }
  module = ew_family_find_module (family, feature->module);
  if (module == NULL)
    {
      g_set_error (error, EW_PLANNER_ERROR, EW_PLANNER_ERROR_UNKNOWN_MODULE,
                   _("Vehicle family %2$s has no module “%1$s”; see ecuw features %2$s"),
                   feature->module, family->id);
      return FALSE;
    }

  if (feature->work_class == EW_WORK_CLASS_PROGRAMMING)
    {
      if (!g_str_equal (e->state, "on"))
        {
          /* TRANSLATORS: the feature id, twice */
          g_set_error (error, EW_PLANNER_ERROR, EW_PLANNER_ERROR_UNKNOWN_STATE,
                       _("%s is new software for a module; ask for it as %s=on"), feature->id, feature->id);
          return FALSE;
        }
      plan_programming_feature (p, feature, module, NULL);
      return TRUE;
    }

  for (guint i = 0; i < feature->states->len && state == NULL; i++)
    {
      const EwFeatureState *s = g_ptr_array_index (feature->states, i);

      if (g_str_equal (s->name, e->state))
        state = s;
    }
  if (state == NULL)
    {
      g_autoptr(GString) names = g_string_new (NULL);

      for (guint i = 0; i < feature->states->len; i++)
        g_string_append_printf (names, "%s%s", i > 0 ? ", " : "",
                                ((EwFeatureState *) g_ptr_array_index (feature->states, i))->name);
      /* TRANSLATORS: the state as typed, the feature id, then the states it has */
      g_set_error (error, EW_PLANNER_ERROR, EW_PLANNER_ERROR_UNKNOWN_STATE,
                   _("“%s” is not a state of %s; it has: %s"), e->state, feature->id, names->str);
      return FALSE;
    }

  if (g_hash_table_contains (p->planned_features, feature->id))
    return TRUE;

  /* not fitted: the live catalogue knows best, else the scan */
  status = p->catalogue != NULL ? ew_feature_catalogue_find (p->catalogue, feature->id) : NULL;
  if (status != NULL && (status->availability == EW_FEATURE_NOT_FITTED ||
                         status->availability == EW_FEATURE_UNREADABLE))
    {
      refuse (p, feature->id, feature->name,
              g_strdup (status->reason != NULL ? status->reason : _("The car does not have what this feature needs.")));
      return TRUE;
    }
  if (status != NULL && status->state != NULL && g_str_equal (status->state->name, state->name))
    {
      /* TRANSLATORS: the state's label, e.g. "On" */
      refuse (p, feature->id, feature->name,
              g_strdup_printf (_("Nothing to do: it is already set to %s."),
                               state->label != NULL ? state->label : state->name));
      return TRUE;
    }
  {
    const EwScanFinding *absent = find_finding (p->scan, EW_FINDING_NOT_FITTED, module->id);

    for (guint i = 0; absent == NULL && i < feature->requires->len; i++)
      {
        const EwRequirement *r = g_ptr_array_index (feature->requires, i);

        if (r->kind == EW_REQUIREMENT_MODULE)
          absent = find_finding (p->scan, EW_FINDING_NOT_FITTED, r->id);
      }
    if (absent != NULL)
      {
        /* TRANSLATORS: the absent module's name */
        refuse (p, feature->id, feature->name,
                g_strdup_printf (_("Not possible on this car: %s is not fitted."), absent->module->name));
        return TRUE;
      }
  }

  add_feature_item (p, feature, module, state->label != NULL ? state->label : state->name, NULL);

  /* software the feature needs, that the scan found behind */
  behind = find_finding (p->scan, EW_FINDING_SOFTWARE_BEHIND, module->id);
  if (behind != NULL)
    for (guint i = 0; i < family->features->len; i++)
      {
        const EwFeature *prog = g_ptr_array_index (family->features, i);

        if (feature_needs_software (feature, prog))
          plan_programming_feature (p, prog, module, behind);
      }
  return TRUE;
}

/* The order of work: bring dead modules back, fit and program modules,
 * load new software, code retrofits, then code features, adapt last. */
static int
item_stage (const EwPlanItem *item)
{
  switch (item->kind)
    {
    case EW_PLAN_ITEM_RECOVERY:     return 0;
    case EW_PLAN_ITEM_ECU_SWAP:
    case EW_PLAN_ITEM_USED_CLUSTER:
    case EW_PLAN_ITEM_BODY_MODULE:  return 1;
    case EW_PLAN_ITEM_RETROFIT:     return 3;
    case EW_PLAN_ITEM_FEATURE:
    default:
      return item->work_class == EW_WORK_CLASS_PROGRAMMING ? 2
             : item->work_class == EW_WORK_CLASS_CODING ? 4 : 5;
    }
}

static int
compare_items (gconstpointer a, gconstpointer b)
{
  /* g_ptr_array_sort is stable: equal stages keep the order asked */
  return item_stage (*(EwPlanItem *const *) a) - item_stage (*(EwPlanItem *const *) b);
}

EwJobPlan *
ew_job_plan_new (EwFamily            *family,
                 const EwJobRequest  *request,
                 const EwScanResult  *scan,
                 EwFeatureCatalogue  *catalogue,
                 const EwPriceRates  *rates,
                 GError             **error)
{
  g_autoptr(EwJobPlan) plan = NULL;
  g_autoptr(GHashTable) module_jobs = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) planned_features = g_hash_table_new (g_str_hash, g_str_equal);
  Planner p = { 0 };

  g_return_val_if_fail (family != NULL, NULL);
  g_return_val_if_fail (request != NULL, NULL);
  g_return_val_if_fail (rates != NULL, NULL);

  if ((scan != NULL && g_strcmp0 (scan->family->id, family->id) != 0) ||
      (catalogue != NULL && g_strcmp0 (ew_feature_catalogue_get_family (catalogue)->id, family->id) != 0))
    {
      /* TRANSLATORS: the family id */
      g_set_error (error, EW_PLANNER_ERROR, EW_PLANNER_ERROR_WRONG_FAMILY,
                   _("The car that was read is not of vehicle family %s"), family->id);
      return NULL;
    }

  plan = g_new0 (EwJobPlan, 1);
  plan->family = ew_family_ref (family);
  plan->rates = *rates;
  plan->items = g_ptr_array_new_with_free_func (plan_item_free);
  plan->refusals = g_ptr_array_new_with_free_func (plan_refusal_free);

  p.plan = plan;
  p.scan = scan;
  p.catalogue = catalogue;
  p.module_jobs = module_jobs;
  p.planned_features = planned_features;

  /* modules first, so that features know which modules are reprogrammed */
  for (guint i = 0; i < request->entries->len; i++)
    {
      const RequestEntry *e = g_ptr_array_index (request->entries, i);

      if ((e->kind == REQUEST_REPLACE && !plan_replacement (&p, e, error)) ||
          (e->kind == REQUEST_RECOVER && !plan_recovery (&p, e, error)))
        return NULL;
    }
  for (guint i = 0; scan != NULL && i < scan->findings->len; i++)
    plan_finding (&p, g_ptr_array_index (scan->findings, i));
  for (guint i = 0; i < request->entries->len; i++)
    {
      const RequestEntry *e = g_ptr_array_index (request->entries, i);

      if (e->kind == REQUEST_FEATURE && !plan_feature (&p, e, error))
        return NULL;
    }

  g_ptr_array_sort (plan->items, compare_items);

  for (guint i = 0; i < plan->items->len; i++)
    {
      const EwPlanItem *item = g_ptr_array_index (plan->items, i);

      plan->labour_minutes += item->labour_minutes;
      plan->net_minor += item->price_minor;
    }
  plan->vat_minor = ew_price_vat (&plan->rates, plan->net_minor);
  plan->gross_minor = plan->net_minor + plan->vat_minor;
  return g_steal_pointer (&plan);
}
