/* catalogue.h — the live feature catalogue of one car: every feature of
 * its family with its current state, read from the car, and whether it
 * can be switched by coding here, with the reason when not.
 *
 * Each coding DID a feature lives in is read once (not once per feature),
 * modules in parallel. Availability follows the feature's prerequisites:
 * a required module that did not answer, or a required option the car's
 * option list (the identification DID of role option-list, where the
 * family declares one) does not hold, makes the feature "not fitted" with
 * the reason; it is never offered as a switch. Programming features are
 * shown as such, with the reason.
 */
#pragma once

#include <gio/gio.h>

#include "connect/connection.h"
#include "scan/scan.h"

G_BEGIN_DECLS

typedef enum {
  EW_FEATURE_SWITCHABLE,          /* fitted; coding can switch it */
  EW_FEATURE_NOT_FITTED,          /* hardware or option absent */
  EW_FEATURE_NEEDS_PROGRAMMING,   /* new software, not coding */
  EW_FEATURE_UNREADABLE,          /* its module or DID did not answer */
} EwFeatureAvailability;

typedef struct {
  const EwFeature      *feature;
  const EwModule       *module;          /* nullable: the feature names an unknown module */
  EwFeatureAvailability availability;
  char                 *reason;          /* nullable: why not switchable, plain language */
  const EwFeatureState *state;           /* current state; NULL when unreadable or the
                                            value matches none of the feature's states */
  guint64               raw;             /* the item's current raw value */
  gboolean              needs_acknowledgement; /* community data: the technician confirms */
  gboolean              is_option_unconfirmed; /* no option list: fitted is assumed */
} EwFeatureStatus;

typedef struct _EwFeatureCatalogue EwFeatureCatalogue;

/* Reads the car on connection. scan (nullable) says which modules
 * answered; without it every module is asked. transfer full
 *
 * One thread per module asks its simulation marker, VIN and option list
 * (the identification DIDs of those roles it declares), then, once each,
 * every coding DID that a coding or adaptation feature lives in. With a
 * scan, modules the scan did not find running their application
 * (silent, failed, in the bootloader) are not asked again. A module that
 * does not answer its first question is not asked further. An optional
 * module that did not answer makes its features NOT_FITTED; a required
 * one makes them UNREADABLE. Fails only on cancellation or when the
 * connection has no family. */
EwFeatureCatalogue    *ew_feature_catalogue_read      (EwConnection        *connection,
                                                       const EwScanResult  *scan,
                                                       GCancellable        *cancellable,
                                                       GError             **error);
void                   ew_feature_catalogue_free      (EwFeatureCatalogue  *catalogue);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EwFeatureCatalogue, ew_feature_catalogue_free)

EwFamily              *ew_feature_catalogue_get_family (EwFeatureCatalogue *catalogue); /* transfer none */
/* The car's VIN as read, or NULL. */
const char            *ew_feature_catalogue_get_vin    (EwFeatureCatalogue *catalogue);
/* Whether the car identified itself as simulated (every module that
 * answered carries the simulation marker). */
gboolean               ew_feature_catalogue_is_simulated (EwFeatureCatalogue *catalogue);
/* In the family's order. transfer none, element-type EwFeatureStatus */
GPtrArray             *ew_feature_catalogue_get_features (EwFeatureCatalogue *catalogue);
const EwFeatureStatus *ew_feature_catalogue_find      (EwFeatureCatalogue  *catalogue,
                                                       const char          *feature_id);
/* The bytes read from did of module, or NULL. transfer none */
GBytes                *ew_feature_catalogue_get_did_bytes (EwFeatureCatalogue *catalogue,
                                                           const char         *module_id,
                                                           guint16             did);

/* Value of item in did_bytes (mask applied, shifted down); multi-byte
 * fields are little-endian, as the loader checks field widths. */
guint64 ew_coding_item_read  (const EwCodingItem *item,
                              const guint8       *did_bytes,
                              gsize               length_bytes);
/* Writes raw into item's bits of did_bytes; only masked bits change. */
void    ew_coding_item_write (const EwCodingItem *item,
                              guint8             *did_bytes,
                              gsize               length_bytes,
                              guint64             raw);

/* The provenance the engine applies to feature: the weaker of the
 * feature's and its coding item's (illustrative <
 * community < verified). Community data needs the technician's
 * acknowledgement; illustrative data is written only to simulated cars. */
EwProvenance ew_coding_feature_provenance (EwFamily        *family,
                                          const EwFeature *feature);

G_END_DECLS
