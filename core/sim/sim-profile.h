/* sim-profile.h — the state a simulated car starts from.
 *
 * A profile says, for the whole car and for each module, what the
 * simulated ECUs hold when they power up: which modules are fitted, their
 * identification, coding, mileage, fault memory and whether they sit in
 * their bootloader. Profiles ship in data/sim-profiles/NAME.ini; a family
 * without a profile runs the healthy default (ew_sim_profile_new_default).
 *
 * File format (GKeyFile, UTF-8; '#' starts a comment):
 *
 *   [profile]
 *   description=Used instrument cluster from another car   (required)
 *   vin=WVWZZZAUZEW123456        the car's VIN (default: the family's)
 *   options=4A3;FOG-CORNERING    option codes fitted (default: every
 *                                option of the family); codes the family
 *                                does not know are ignored
 *   options-absent=KA1           taken away from the fitted list
 *   supply-voltage=12.4          volts at every module's supply pin, as
 *                                its supply-voltage DID reports (default
 *                                13.6: a battery support unit connected)
 *
 *   [features]                   feature states, by feature id (the ids are
 *   cornering-lights=off         shared by the families); written into the
 *                                coding of the feature's module; features
 *                                the family lacks are skipped
 *
 *   [module:ID]                  one module, by its id in the vehicle data
 *   [kind:KIND]                  the module of that EwModuleKind, written as
 *                                in the XML (instrument-cluster, body,
 *                                seat, ...): the first module of the kind,
 *                                in the family's order, that has a flash
 *                                layout, else the first of the kind
 *
 *   keys of a module section (all optional):
 *   present=true|false           default: true (optional modules too)
 *   vin=...                      the VIN stored in the module (default:
 *                                the car's)
 *   part-number=, software-version=, hardware-version=, serial-number=,
 *   supplier=, programming-date=YYMMDD
 *                                identification (defaults derived from the
 *                                module id, software version "0100")
 *   coding-0xDID=HEX             coding bytes of DID (default: the DID's
 *                                default bytes, or zeros); must have the
 *                                DID's length
 *   coding-0xDID-bits=BYTE:MASK:VALUE[,...]
 *                                change single fields of the default bytes
 *                                (multi-byte coding fields are little-endian:
 *                                mask bit 8 lies in byte + 1)
 *   mileage-0xDID=KM             value of a mileage store (default 42000)
 *   mileage=KM                   every mileage store of the module
 *   dtcs=0xC01234:0x2F;0x9A0B11:0x08
 *                                fault memory: 3-byte DTC and status byte
 *   coded=false                  module never coded: zeros in every
 *                                coding DID
 *   bootloader=true|false        left in the bootloader by a failed update
 *
 *   Two values are computed for the family, so that one file fits all:
 *   vin=@other-car               a VIN of another car of the same family
 *   software-version=@below-minimum
 *                                a level below the minimum the family's
 *                                programming features ask of the module
 *
 * Sections name modules by kind so that one scenario fits every family.
 * [module:ID] sections are applied after [kind:KIND] sections, so a
 * per-family override wins. A section naming a module or kind the family
 * lacks is skipped (a profile may serve several families), but a key or
 * value that cannot be understood is an error naming file and line.
 *
 * A profile is immutable once loaded and may be shared between threads.
 */
#pragma once

#include <glib.h>
#include "vehicle/family.h"

G_BEGIN_DECLS

typedef struct _EwSimProfile EwSimProfile;

/* A car on a battery support unit, as a workshop programs it. */
#define EW_SIM_DEFAULT_SUPPLY_VOLTAGE_MV 13600

typedef struct {
  guint8 code[3];
  guint8 status;
} EwSimDtc;

/* The start state of one module; owned by the profile. */
typedef struct {
  char       *module_id;
  gboolean    is_present;
  gboolean    is_in_bootloader;
  char       *vin;
  char       *part_number;
  char       *software_version;
  char       *hardware_version;
  char       *serial_number;
  char       *supplier;
  char       *programming_date;   /* YYMMDD */
  GHashTable *coding;             /* GUINT_TO_POINTER (did) -> GBytes */
  GHashTable *mileage_km;         /* GUINT_TO_POINTER (did) -> GUINT_TO_POINTER (km) */
  GArray     *dtcs;               /* EwSimDtc */
} EwSimModuleProfile;

/* A healthy car: every module present and coded with its defaults, every
 * option fitted. vin may be NULL for the family's default VIN. */
EwSimProfile *ew_sim_profile_new_default          (EwFamily    *family,
                                                   const char  *vin);
/* A name without '/' and without ".ini" looks in data/sim-profiles/
 * (ew_data_path), anything else is a file path. */
EwSimProfile *ew_sim_profile_load                 (EwFamily    *family,
                                                   const char  *name_or_path,
                                                   GError     **error);
EwSimProfile *ew_sim_profile_ref                  (EwSimProfile *profile);
void          ew_sim_profile_unref                (EwSimProfile *profile);

const char   *ew_sim_profile_get_name             (EwSimProfile *profile);
const char   *ew_sim_profile_get_description      (EwSimProfile *profile);
const char   *ew_sim_profile_get_vin              (EwSimProfile *profile);
/* Millivolts at the modules' supply pins. */
guint         ew_sim_profile_get_supply_voltage_mv (EwSimProfile *profile);
EwFamily     *ew_sim_profile_get_family           (EwSimProfile *profile); /* transfer none */
gboolean      ew_sim_profile_module_is_present    (EwSimProfile *profile,
                                                   const char   *module_id);
gboolean      ew_sim_profile_option_is_fitted     (EwSimProfile *profile,
                                                   const char   *option_code);
/* transfer none; NULL for a module the family does not have */
const EwSimModuleProfile *ew_sim_profile_get_module (EwSimProfile *profile,
                                                   const char   *module_id);

/* The names of the shipped profiles (without .ini), sorted; transfer full. */
GStrv         ew_sim_profile_list_shipped         (void);

/* A VIN that matches the family's first VIN pattern, with a valid check
 * digit and the family's first model year; transfer full. */
char         *ew_sim_profile_default_vin          (EwFamily    *family);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EwSimProfile, ew_sim_profile_unref)

G_END_DECLS
