/* coding-plan.h — requested feature states turned into byte changes,
 * grouped by module and DID, before anything touches the car.
 *
 * Refused with a clear error, changing nothing: an unknown feature or
 * state, a feature that is not switchable here (not fitted, needs
 * programming, unreadable), two requests for the same coding item with
 * different values. Only the bits in an item's mask change; a checksum
 * or CRC the family declares for the DID is recomputed.
 */
#pragma once

#include "coding/catalogue.h"

G_BEGIN_DECLS

#define EW_CODING_ERROR (ew_coding_error_quark ())

typedef enum {
  EW_CODING_ERROR_UNKNOWN_FEATURE,
  EW_CODING_ERROR_UNKNOWN_STATE,
  EW_CODING_ERROR_NOT_SWITCHABLE,
  EW_CODING_ERROR_CONFLICT,
  EW_CODING_ERROR_NOTHING_TO_DO,      /* every feature is already in the state asked */
  EW_CODING_ERROR_PROVENANCE,         /* illustrative data on a real car; community
                                         data not acknowledged */
  EW_CODING_ERROR_PRECONDITION,       /* session, security or battery refused */
  EW_CODING_ERROR_VERIFY,             /* read-back differs from what was written */
  EW_CODING_ERROR_ROLLED_BACK,        /* failed; every module restored and verified */
  EW_CODING_ERROR_ROLLBACK_FAILED,    /* failed, and restoring failed too: attention */
  EW_CODING_ERROR_NO_RETROFIT,        /* the vehicle data has no retrofit for the module */
  EW_CODING_ERROR_MODULE_SILENT,      /* a module the plan needs did not answer */
} EwCodingError;

GQuark ew_coding_error_quark (void);

typedef struct {
  const char *feature_id;
  const char *state;                  /* an EwFeatureState name: "on", "off", "3s" */
} EwFeatureRequest;

/* One feature's change, for the review and the job sheet. */
typedef struct {
  const EwFeature      *feature;
  const EwFeatureState *from;         /* nullable: the old value matched no state */
  const EwFeatureState *to;
} EwCodingPlanLine;

/* One DID of one module. */
typedef struct {
  const EwModule    *module;
  const EwCodingDid *did;
  GBytes            *before;
  GBytes            *after;
} EwCodingChange;

typedef struct {
  EwFamily  *family;
  char      *vin;                     /* nullable */
  gboolean   is_simulated;            /* the car said so */
  GPtrArray *lines;                   /* EwCodingPlanLine, in request order */
  GPtrArray *changes;                 /* EwCodingChange, module by module */
  char      *summary;                 /* "Cornering lights: off → on; …" */
  /* A plan that no feature request made (a retrofit) speaks for itself:
   * notes are its review lines, and its data answers for its provenance
   * as one subject, checked like a feature's (the subject id is what the
   * technician acknowledges for community data). */
  GPtrArray   *notes;                 /* char *, for the review; may be empty */
  char        *subject_id;            /* nullable: "retrofit:sm" */
  char        *subject_name;          /* nullable: "Retrofit of the SMFA …" */
  EwProvenance subject_provenance;
  char        *subject_source;        /* nullable: community citation */
  /* DIDs the plan writes that are no coding DID of the vehicle data (the
   * VIN, the option list): changes point into this. element-type EwCodingDid */
  GPtrArray   *extra_dids;
} EwCodingPlan;

/* Splits "FEATURE=STATE" (spaces around either are dropped);
 * G_IO_ERROR_INVALID_ARGUMENT when there is no '=' or a side is empty. */
gboolean      ew_feature_request_parse (const char        *text,
                                        char             **feature_id,
                                        char             **state,
                                        GError           **error);

/* transfer full. The same state asked twice is one request. A request
 * for the state a feature already holds adds no line; when no request
 * changes anything, EW_CODING_ERROR_NOTHING_TO_DO. Items of different
 * features whose masks overlap conflict unless they agree bit for bit.
 * changes hold the catalogue's bytes as before and those bytes with the
 * items written (and the checksum recomputed) as after, module by module
 * in the family's order. */
EwCodingPlan *ew_coding_plan_new       (EwFeatureCatalogue *catalogue,
                                        const EwFeatureRequest *requests,
                                        guint               n_requests,
                                        GError            **error);
/* An empty plan for family, to be filled by another planner (a retrofit):
 * every array allocated, nothing to do yet. transfer full */
EwCodingPlan *ew_coding_plan_new_empty (EwFamily           *family);
void          ew_coding_plan_free      (EwCodingPlan       *plan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EwCodingPlan, ew_coding_plan_free)

/* The checksum algorithms a family may declare for a coding DID, over
 * bytes checksum_from..checksum_to (inclusive), stored at checksum_at:
 * sum8 (sum modulo 256), xor8, CRC-8 SAE J1850 (poly 0x1D, init 0xFF,
 * final XOR 0xFF), CRC-16 CCITT (poly 0x1021, init 0xFFFF, no reflection
 * or final XOR: "CCITT-FALSE"), whose two bytes are stored most
 * significant first. A range that does not fit length_bytes is left alone. */
void          ew_coding_checksum_apply (const EwCodingDid *did,
                                        guint8            *bytes,
                                        gsize              length_bytes);

G_END_DECLS
