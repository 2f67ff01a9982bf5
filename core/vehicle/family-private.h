/* family-private.h — what the loader and the database know about a family
 * beyond family.h: its reference count, lookup indexes and the storage its
 * strings live in, and a loader that parses the schema once for many files.
 */
#pragma once

#include "family.h"

G_BEGIN_DECLS

/* Every EwFamily is allocated as the first member of this, so that the
 * public struct stays a plain, read-only view. */
typedef struct {
  EwFamily         family;
  gatomicrefcount  ref_count;
  GStringChunk    *strings;          /* every string the family points to */
  GHashTable      *modules_by_id;    /* char* → EwModule* */
  GHashTable      *features_by_id;   /* char* → EwFeature* */
  GHashTable      *options_by_code;  /* char* → EwOption* */
} EwFamilyReal;

EwFamily *ew_family_new_empty (void);  /* transfer full; every array allocated */

void ew_chassis_free             (EwChassis *chassis);
void ew_vin_pattern_free         (EwVinPattern *pattern);
void ew_option_free              (EwOption *option);
void ew_bus_free                 (EwBus *bus);
void ew_security_algorithm_free  (EwSecurityAlgorithm *algorithm);
void ew_identification_did_free  (EwIdentificationDid *did);
void ew_security_level_free      (EwSecurityLevel *level);
void ew_coding_value_free        (EwCodingValue *value);
void ew_coding_item_free         (EwCodingItem *item);
void ew_coding_did_free          (EwCodingDid *did);
void ew_mileage_store_free       (EwMileageStore *store);
void ew_flash_region_free        (EwFlashRegion *region);
void ew_flash_layout_free        (EwFlashLayout *layout);
void ew_routine_free             (EwRoutine *routine);
void ew_programming_step_free    (EwProgrammingStep *step);
void ew_programming_plan_free    (EwProgrammingPlan *plan);
void ew_module_free              (EwModule *module);
void ew_requirement_free         (EwRequirement *requirement);
void ew_feature_state_free       (EwFeatureState *state);
void ew_feature_free             (EwFeature *feature);
void ew_job_operation_free       (EwJobOperation *operation);
void ew_job_template_free        (EwJobTemplate *job);

/* A loader holds the parsed schema; one loader may load files from several
 * threads at once. */
typedef struct _EwFamilyLoader EwFamilyLoader;

EwFamilyLoader *ew_family_loader_new         (const char     *schema_path,
                                              GError        **error);
void            ew_family_loader_free        (EwFamilyLoader *loader);
EwFamily       *ew_family_loader_load_file   (EwFamilyLoader *loader,
                                              const char     *path,
                                              GError        **error);
/* name is used in messages in place of a file name. */
EwFamily       *ew_family_loader_load_memory (EwFamilyLoader *loader,
                                              const char     *name,
                                              const char     *data,
                                              gsize           length,
                                              GError        **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EwFamilyLoader, ew_family_loader_free)

G_END_DECLS
