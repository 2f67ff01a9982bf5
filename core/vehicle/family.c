/* family.c — lifetime, lookups and names of the vehicle family model.
 *
 * Strings reached from a family live in its string chunk, so the free
 * functions below release only the structs, arrays, regexes and bytes.
 */
#include <string.h>

#include "family-private.h"

#define REAL(f) ((EwFamilyReal *) (f))

void
ew_chassis_free (EwChassis *chassis)
{
  g_free (chassis);
}

void
ew_vin_pattern_free (EwVinPattern *pattern)
{
  g_clear_pointer (&pattern->vds, g_regex_unref);
  g_free (pattern);
}

void
ew_option_free (EwOption *option)
{
  g_free (option);
}

void
ew_bus_free (EwBus *bus)
{
  g_free (bus);
}

void
ew_security_algorithm_free (EwSecurityAlgorithm *algorithm)
{
  g_free (algorithm);
}

void
ew_identification_did_free (EwIdentificationDid *did)
{
  g_free (did);
}

void
ew_security_level_free (EwSecurityLevel *level)
{
  g_free (level);
}

void
ew_coding_value_free (EwCodingValue *value)
{
  g_free (value);
}

void
ew_coding_item_free (EwCodingItem *item)
{
  g_clear_pointer (&item->values, g_ptr_array_unref);
  g_free (item);
}

void
ew_coding_did_free (EwCodingDid *did)
{
  g_clear_pointer (&did->default_bytes, g_bytes_unref);
  g_clear_pointer (&did->items, g_ptr_array_unref);
  g_free (did);
}

void
ew_mileage_store_free (EwMileageStore *store)
{
  g_free (store);
}

void
ew_flash_region_free (EwFlashRegion *region)
{
  g_free (region);
}

void
ew_flash_layout_free (EwFlashLayout *layout)
{
  g_clear_pointer (&layout->regions, g_ptr_array_unref);
  g_free (layout);
}

void
ew_routine_free (EwRoutine *routine)
{
  g_clear_pointer (&routine->args, g_bytes_unref);
  g_free (routine);
}

void
ew_programming_step_free (EwProgrammingStep *step)
{
  g_free (step);
}

void
ew_programming_plan_free (EwProgrammingPlan *plan)
{
  g_clear_pointer (&plan->routines, g_ptr_array_unref);
  g_clear_pointer (&plan->steps, g_ptr_array_unref);
  g_free (plan);
}

/* The strings live in the family's string chunk. */
static void
ew_retrofit_free (EwRetrofit *retrofit)
{
  g_clear_pointer (&retrofit->car_coding, g_ptr_array_unref);
  g_clear_pointer (&retrofit->options, g_ptr_array_unref);
  g_clear_pointer (&retrofit->module_coding, g_ptr_array_unref);
  g_free (retrofit);
}

void
ew_module_free (EwModule *module)
{
  g_clear_pointer (&module->identification, g_ptr_array_unref);
  g_clear_pointer (&module->security, g_ptr_array_unref);
  g_clear_pointer (&module->coding, g_ptr_array_unref);
  g_clear_pointer (&module->mileage, g_ptr_array_unref);
  g_clear_pointer (&module->flash, ew_flash_layout_free);
  g_clear_pointer (&module->programming, ew_programming_plan_free);
  g_clear_pointer (&module->retrofit, ew_retrofit_free);
  g_clear_pointer (&module->immobiliser, g_free);
  g_free (module);
}

void
ew_requirement_free (EwRequirement *requirement)
{
  g_free (requirement);
}

void
ew_feature_state_free (EwFeatureState *state)
{
  g_free (state);
}

void
ew_feature_free (EwFeature *feature)
{
  g_clear_pointer (&feature->requires, g_ptr_array_unref);
  g_clear_pointer (&feature->states, g_ptr_array_unref);
  g_free (feature);
}

void
ew_job_operation_free (EwJobOperation *operation)
{
  g_free (operation);
}

void
ew_job_template_free (EwJobTemplate *job)
{
  g_clear_pointer (&job->operations, g_ptr_array_unref);
  g_free (job);
}

EwFamily *
ew_family_new_empty (void)
{
  EwFamilyReal *real = g_new0 (EwFamilyReal, 1);
  EwFamily *family = &real->family;

  g_atomic_ref_count_init (&real->ref_count);
  real->strings = g_string_chunk_new (4096);
  real->modules_by_id = g_hash_table_new (g_str_hash, g_str_equal);
  real->features_by_id = g_hash_table_new (g_str_hash, g_str_equal);
  real->options_by_code = g_hash_table_new (g_str_hash, g_str_equal);

  family->chassis = g_ptr_array_new_with_free_func ((GDestroyNotify) ew_chassis_free);
  family->vin_patterns = g_ptr_array_new_with_free_func ((GDestroyNotify) ew_vin_pattern_free);
  family->options = g_ptr_array_new_with_free_func ((GDestroyNotify) ew_option_free);
  family->buses = g_ptr_array_new_with_free_func ((GDestroyNotify) ew_bus_free);
  family->algorithms = g_ptr_array_new_with_free_func ((GDestroyNotify) ew_security_algorithm_free);
  family->modules = g_ptr_array_new_with_free_func ((GDestroyNotify) ew_module_free);
  family->features = g_ptr_array_new_with_free_func ((GDestroyNotify) ew_feature_free);
  family->jobs = g_ptr_array_new_with_free_func ((GDestroyNotify) ew_job_template_free);

  return family;
}

EwFamily *
ew_family_ref (EwFamily *family)
{
  g_return_val_if_fail (family != NULL, NULL);

  g_atomic_ref_count_inc (&REAL (family)->ref_count);
  return family;
}

void
ew_family_unref (EwFamily *family)
{
  EwFamilyReal *real = REAL (family);

  g_return_if_fail (family != NULL);

  if (!g_atomic_ref_count_dec (&real->ref_count))
    return;

  g_clear_pointer (&real->modules_by_id, g_hash_table_unref);
  g_clear_pointer (&real->features_by_id, g_hash_table_unref);
  g_clear_pointer (&real->options_by_code, g_hash_table_unref);
  g_clear_pointer (&family->chassis, g_ptr_array_unref);
  g_clear_pointer (&family->vin_patterns, g_ptr_array_unref);
  g_clear_pointer (&family->options, g_ptr_array_unref);
  g_clear_pointer (&family->buses, g_ptr_array_unref);
  g_clear_pointer (&family->algorithms, g_ptr_array_unref);
  g_clear_pointer (&family->modules, g_ptr_array_unref);
  g_clear_pointer (&family->features, g_ptr_array_unref);
  g_clear_pointer (&family->jobs, g_ptr_array_unref);
  g_clear_pointer (&real->strings, g_string_chunk_free);
  g_free (real);
}

const EwModule *
ew_family_find_module (const EwFamily *family, const char *module_id)
{
  g_return_val_if_fail (family != NULL, NULL);

  if (module_id == NULL)
    return NULL;
  return g_hash_table_lookup (REAL (family)->modules_by_id, module_id);
}

const EwFeature *
ew_family_find_feature (const EwFamily *family, const char *feature_id)
{
  g_return_val_if_fail (family != NULL, NULL);

  if (feature_id == NULL)
    return NULL;
  return g_hash_table_lookup (REAL (family)->features_by_id, feature_id);
}

const EwOption *
ew_family_find_option (const EwFamily *family, const char *code)
{
  g_return_val_if_fail (family != NULL, NULL);

  if (code == NULL)
    return NULL;
  return g_hash_table_lookup (REAL (family)->options_by_code, code);
}

/* Modules have a handful of coding DIDs and DIDs a handful of items, so a
 * linear search is as fast as an index and needs no extra storage. */
const EwCodingDid *
ew_module_find_coding_did (const EwModule *module, guint16 did)
{
  g_return_val_if_fail (module != NULL, NULL);

  for (guint i = 0; i < module->coding->len; i++)
    {
      const EwCodingDid *d = g_ptr_array_index (module->coding, i);
      if (d->did == did)
        return d;
    }
  return NULL;
}

const EwCodingItem *
ew_coding_did_find_item (const EwCodingDid *did, const char *item_id)
{
  g_return_val_if_fail (did != NULL, NULL);

  if (item_id == NULL)
    return NULL;
  for (guint i = 0; i < did->items->len; i++)
    {
      const EwCodingItem *item = g_ptr_array_index (did->items, i);
      if (strcmp (item->id, item_id) == 0)
        return item;
    }
  return NULL;
}

const EwCodingValue *
ew_coding_item_find_value (const EwCodingItem *item, const char *value_name)
{
  g_return_val_if_fail (item != NULL, NULL);

  if (value_name == NULL)
    return NULL;
  for (guint i = 0; i < item->values->len; i++)
    {
      const EwCodingValue *value = g_ptr_array_index (item->values, i);
      if (strcmp (value->name, value_name) == 0)
        return value;
    }
  return NULL;
}

const char *
ew_provenance_to_string (EwProvenance provenance)
{
  switch (provenance)
    {
    case EW_PROVENANCE_ILLUSTRATIVE: return "illustrative";
    case EW_PROVENANCE_COMMUNITY:    return "community";
    case EW_PROVENANCE_VERIFIED:     return "verified";
    default:                         return "illustrative";
    }
}

const char *
ew_work_class_to_string (EwWorkClass work_class)
{
  switch (work_class)
    {
    case EW_WORK_CLASS_CODING:      return "coding";
    case EW_WORK_CLASS_PROGRAMMING: return "programming";
    case EW_WORK_CLASS_ADAPTATION:  return "adaptation";
    default:                        return "coding";
    }
}

const char *
ew_module_kind_to_string (EwModuleKind kind)
{
  switch (kind)
    {
    case EW_MODULE_ENGINE:             return "engine";
    case EW_MODULE_GEARBOX:            return "gearbox";
    case EW_MODULE_INSTRUMENT_CLUSTER: return "instrument-cluster";
    case EW_MODULE_BODY:               return "body";
    case EW_MODULE_GATEWAY:            return "gateway";
    case EW_MODULE_HEAD_UNIT:          return "head-unit";
    case EW_MODULE_LIGHTING:           return "lighting";
    case EW_MODULE_PARKING:            return "parking";
    case EW_MODULE_SEAT:               return "seat";
    case EW_MODULE_CAMERA:             return "camera";
    case EW_MODULE_CHASSIS:            return "chassis";
    case EW_MODULE_DRIVER_ASSISTANCE:  return "driver-assistance";
    case EW_MODULE_CLIMATE:            return "climate";
    case EW_MODULE_OTHER:              return "other";
    default:                           return "other";
    }
}

const char *
ew_identification_role_to_string (EwIdentificationRole role)
{
  switch (role)
    {
    case EW_ID_ROLE_VIN:               return "vin";
    case EW_ID_ROLE_PART_NUMBER:       return "part-number";
    case EW_ID_ROLE_SOFTWARE_VERSION:  return "software-version";
    case EW_ID_ROLE_HARDWARE_VERSION:  return "hardware-version";
    case EW_ID_ROLE_SERIAL_NUMBER:     return "serial-number";
    case EW_ID_ROLE_SUPPLIER:          return "supplier";
    case EW_ID_ROLE_PROGRAMMING_DATE:  return "programming-date";
    case EW_ID_ROLE_ACTIVE_SESSION:    return "active-session";
    case EW_ID_ROLE_SIMULATION_MARKER: return "simulation-marker";
    case EW_ID_ROLE_OPTION_LIST:       return "option-list";
    case EW_ID_ROLE_SUPPLY_VOLTAGE:    return "supply-voltage";
    case EW_ID_ROLE_OTHER:             return "other";
    default:                           return "other";
    }
}

const char *
ew_job_kind_to_string (EwJobKind kind)
{
  switch (kind)
    {
    case EW_JOB_ECU_SWAP:     return "ecu-swap";
    case EW_JOB_USED_CLUSTER: return "used-cluster";
    case EW_JOB_BODY_MODULE:  return "body-module";
    case EW_JOB_RETROFIT:     return "retrofit";
    case EW_JOB_RECOVERY:     return "recovery";
    default:                  return "ecu-swap";
    }
}
