/* family.h — the in-memory model of one vehicle family.
 *
 * Mirrors data/vehicles/vehicle-family.xsd. Coding data follows ODX-E:
 * module -> coding DID -> item (byte, bit, mask) -> enumerated values.
 * A family is immutable once loaded and reference counted; every pointer
 * reached from it is owned by it and lives as long as the family does.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  EW_PROVENANCE_ILLUSTRATIVE = 0, /* the default when none is given */
  EW_PROVENANCE_COMMUNITY,
  EW_PROVENANCE_VERIFIED,
} EwProvenance;

typedef enum {
  EW_WORK_CLASS_CODING,
  EW_WORK_CLASS_PROGRAMMING,
  EW_WORK_CLASS_ADAPTATION,
} EwWorkClass;

typedef enum {
  EW_CHECK_DIGIT_NONE,      /* the make does not fill position 9 with one */
  EW_CHECK_DIGIT_OPTIONAL,  /* present on some markets' cars */
  EW_CHECK_DIGIT_REQUIRED,  /* every VIN of the family carries one */
} EwCheckDigitPolicy;

typedef struct {
  EwProvenance provenance;
  char        *source;      /* citation; required for community data */
} EwProvenanceInfo;

typedef struct {
  char *code;
  char *body;               /* nullable */
} EwChassis;

typedef struct {
  char    wmi[4];           /* NUL-terminated, positions 1-3 */
  GRegex *vds;              /* nullable: matched against positions 4-9 */
  char   *vds_pattern;      /* nullable: the source text of vds */
  char   *chassis;          /* nullable */
  guint16 years_from;       /* 0 = the family's */
  guint16 years_to;         /* 0 = the family's */
} EwVinPattern;

typedef struct {
  char *code;
  char *name;
} EwOption;

typedef enum {
  EW_BUS_CAN,
  EW_BUS_DOIP,
} EwBusType;

typedef struct {
  char     *id;
  char     *name;
  EwBusType type;
  guint32   bitrate_bps;    /* 0 when not given */
} EwBus;

typedef struct {
  char            *id;
  char            *plugin;  /* nullable: seed-key plugin name */
  char            *description;
  EwProvenanceInfo provenance;
} EwSecurityAlgorithm;

typedef enum {
  EW_CAN_ADDRESSING_NORMAL,
  EW_CAN_ADDRESSING_EXTENDED,
  EW_CAN_ADDRESSING_29BIT,
} EwCanAddressing;

typedef struct {
  gboolean        has_can;
  char           *can_bus;          /* EwBus id */
  guint32         can_request_id;
  guint32         can_response_id;
  EwCanAddressing can_format;
  guint8          can_target_address; /* extended addressing only */
  gboolean        has_doip;
  guint16         doip_logical_address;
} EwModuleAddressing;

typedef enum {
  EW_ID_ROLE_VIN,
  EW_ID_ROLE_PART_NUMBER,
  EW_ID_ROLE_SOFTWARE_VERSION,
  EW_ID_ROLE_HARDWARE_VERSION,
  EW_ID_ROLE_SERIAL_NUMBER,
  EW_ID_ROLE_SUPPLIER,
  EW_ID_ROLE_PROGRAMMING_DATE,
  EW_ID_ROLE_ACTIVE_SESSION,
  EW_ID_ROLE_SIMULATION_MARKER,
  EW_ID_ROLE_OPTION_LIST,   /* fitted factory options: ASCII codes joined by ',' */
  EW_ID_ROLE_SUPPLY_VOLTAGE, /* the module's supply voltage: 2 bytes, millivolts */
  EW_ID_ROLE_OTHER,
} EwIdentificationRole;

typedef enum {
  EW_DID_ENCODING_ASCII,
  EW_DID_ENCODING_HEX,
  EW_DID_ENCODING_BCD,
} EwDidEncoding;

typedef struct {
  guint16              did;
  EwIdentificationRole role;
  char                *name;        /* nullable */
  guint                length_bytes; /* 0 = variable */
  EwDidEncoding        encoding;
} EwIdentificationDid;

typedef struct {
  guint8       level;               /* requestSeed sub-function (odd) */
  char        *algorithm;           /* EwSecurityAlgorithm id */
  EwWorkClass  purpose;
  guint        max_attempts;        /* 0 = not given */
  guint        lockout_ms;
} EwSecurityLevel;

typedef struct {
  guint64 raw;                      /* after masking and shifting */
  char   *name;                     /* identifier: "off", "on", "3s" */
  char   *label;                    /* nullable, for people */
} EwCodingValue;

typedef struct {
  char            *id;
  char            *name;
  guint            byte;            /* offset in the DID */
  guint            bit;             /* lowest bit of the field */
  guint32          mask;            /* applied before shifting; may span bytes */
  GPtrArray       *values;          /* EwCodingValue */
  EwProvenanceInfo provenance;
} EwCodingItem;

typedef enum {
  EW_CHECKSUM_NONE,
  EW_CHECKSUM_SUM8,
  EW_CHECKSUM_XOR8,
  EW_CHECKSUM_CRC8_SAE_J1850,
  EW_CHECKSUM_CRC16_CCITT,
} EwChecksumAlgorithm;

typedef struct {
  guint16             did;
  char               *name;
  guint               length_bytes;
  GBytes             *default_bytes;   /* nullable */
  EwChecksumAlgorithm checksum;
  guint               checksum_from, checksum_to, checksum_at;
  GPtrArray          *items;           /* EwCodingItem */
} EwCodingDid;

typedef struct {
  guint16  did;
  char    *name;
  guint    length_bytes;
  gboolean unit_is_miles;
  guint    scale;
  gboolean is_writable;
} EwMileageStore;

typedef enum {
  EW_FLASH_REGION_BOOTLOADER,
  EW_FLASH_REGION_APPLICATION,
  EW_FLASH_REGION_CALIBRATION,
} EwFlashRegionKind;

typedef struct {
  char             *name;
  guint32           start;
  guint32           size;
  EwFlashRegionKind kind;
  char             *erase_routine;     /* nullable: EwRoutine id */
} EwFlashRegion;

typedef struct {
  GPtrArray       *regions;            /* EwFlashRegion */
  guint8           fill_byte;
  gboolean         is_readable;
  guint8           data_format;
  EwProvenanceInfo provenance;
} EwFlashLayout;

typedef struct {
  char            *id;
  char            *name;
  guint16          rid;
  GBytes          *args;               /* never NULL, may be empty */
  EwProvenanceInfo provenance;
} EwRoutine;

typedef enum {
  EW_STEP_SESSION,
  EW_STEP_ROUTINE,
  EW_STEP_SECURITY,
  EW_STEP_DTC_SETTING_OFF,
  EW_STEP_DTC_SETTING_ON,
  EW_STEP_COMMUNICATION_OFF,
  EW_STEP_COMMUNICATION_ON,
  EW_STEP_FINGERPRINT,
  EW_STEP_ERASE,
  EW_STEP_DOWNLOAD,
  EW_STEP_CHECK_MEMORY,
  EW_STEP_CHECK_DEPENDENCIES,
  EW_STEP_RESET,
  EW_STEP_CLEAR_DTC,
  EW_STEP_READ_IDENTIFICATION,
} EwProgrammingStepKind;

typedef struct {
  EwProgrammingStepKind kind;
  guint8                session;       /* EW_STEP_SESSION */
  char                 *routine;       /* nullable: EwRoutine id */
  guint8                level;         /* EW_STEP_SECURITY */
} EwProgrammingStep;

typedef struct {
  GPtrArray       *routines;           /* EwRoutine */
  GPtrArray       *steps;              /* EwProgrammingStep, in order */
  guint            max_block_length;   /* 0 = from the module's 0x34 answer */
  guint16          fingerprint_did;    /* 0 = none */
  EwProvenanceInfo provenance;
} EwProgrammingPlan;

typedef enum {
  EW_MODULE_ENGINE,
  EW_MODULE_GEARBOX,
  EW_MODULE_INSTRUMENT_CLUSTER,
  EW_MODULE_BODY,
  EW_MODULE_GATEWAY,
  EW_MODULE_HEAD_UNIT,
  EW_MODULE_LIGHTING,
  EW_MODULE_PARKING,
  EW_MODULE_SEAT,
  EW_MODULE_CAMERA,
  EW_MODULE_CHASSIS,
  EW_MODULE_DRIVER_ASSISTANCE,
  EW_MODULE_CLIMATE,
  EW_MODULE_OTHER,
} EwModuleKind;

/* Retrofit of a used module (see <retrofit> in vehicle-family.xsd): what
 * the rest of the car must say so that it knows the module is fitted, the
 * options the car gains, and how the module codes itself from the car's
 * option list. */
typedef struct {
  char    *module;                  /* EwModule id elsewhere in the car */
  guint16  did;                     /* one of its coding DIDs */
  char    *item;                    /* EwCodingItem id */
  char    *value;                   /* EwCodingValue name: "fitted" */
} EwRetrofitCarCoding;

typedef struct {
  guint16  did;                     /* a coding DID of the retrofitted module */
  char    *item;
  char    *option;                  /* EwOption code */
  char    *if_fitted;               /* EwCodingValue name with the option */
  char    *if_absent;               /* EwCodingValue name without it */
} EwRetrofitModuleCoding;

typedef struct {
  GPtrArray       *car_coding;      /* EwRetrofitCarCoding, in document order */
  GPtrArray       *options;         /* char *: option codes the retrofit adds */
  GPtrArray       *module_coding;   /* EwRetrofitModuleCoding */
  gboolean         has_vin_link;    /* the module stores the car's VIN */
  EwProvenanceInfo provenance;
} EwRetrofit;

/* The module's side of the immobiliser (see <immobiliser> in
 * vehicle-family.xsd): the module the family keeps as the immobiliser
 * master, the RoutineControl routine that pairs this module with it (the
 * master's serial number as its option record) and the DID reporting the
 * pairing: EW_IMMOBILISER_* status byte, then the master's serial. */
typedef struct {
  char            *master;             /* EwModule id */
  guint16          pairing_rid;
  guint16          status_did;
  guint8           session;            /* default 0x03 */
  guint8           security_level;     /* 0 = none needed */
  EwProvenanceInfo provenance;
} EwImmobiliser;

#define EW_IMMOBILISER_NOT_PAIRED 0x00
#define EW_IMMOBILISER_PAIRED     0x01

typedef struct {
  char               *id;
  char               *name;
  EwModuleKind        kind;
  gboolean            is_optional;
  EwModuleAddressing  addressing;
  GPtrArray          *identification;  /* EwIdentificationDid */
  GPtrArray          *security;        /* EwSecurityLevel */
  guint8              coding_security_level; /* 0 = none */
  guint8              coding_session;  /* default 0x03 */
  GPtrArray          *coding;          /* EwCodingDid */
  GPtrArray          *mileage;         /* EwMileageStore */
  EwFlashLayout      *flash;           /* nullable */
  EwProgrammingPlan  *programming;     /* nullable */
  EwProvenanceInfo    provenance;
  EwRetrofit         *retrofit;        /* nullable: no retrofit data */
  EwImmobiliser      *immobiliser;     /* nullable: not paired to an immobiliser */
} EwModule;

typedef enum {
  EW_REQUIREMENT_OPTION,
  EW_REQUIREMENT_MODULE,
} EwRequirementKind;

typedef struct {
  EwRequirementKind kind;
  char             *id;                /* option code or module id */
} EwRequirement;

typedef struct {
  char *name;                          /* feature state: "off", "on" */
  char *value;                         /* EwCodingValue name */
  char *label;                         /* nullable */
} EwFeatureState;

typedef struct {
  char            *id;
  char            *name;
  char            *description;        /* for the customer */
  char            *reason;             /* nullable: why this class */
  char            *category;
  EwWorkClass      work_class;
  guint            labour_minutes;
  GPtrArray       *requires;           /* EwRequirement */
  char            *module;             /* EwModule id */
  /* coding and adaptation features */
  guint16          did;
  char            *item;               /* EwCodingItem id; NULL for programming */
  GPtrArray       *states;             /* EwFeatureState; empty for programming */
  /* programming features */
  char            *min_software;       /* nullable */
  EwProvenanceInfo provenance;
} EwFeature;

typedef enum {
  EW_JOB_ECU_SWAP,
  EW_JOB_USED_CLUSTER,
  EW_JOB_BODY_MODULE,
  EW_JOB_RETROFIT,
  EW_JOB_RECOVERY,
} EwJobKind;

typedef struct {
  char       *kind;                    /* e.g. "read-mileage", "program" */
  EwWorkClass work_class;
  char       *name;
  guint       labour_minutes;
} EwJobOperation;

typedef struct {
  char            *id;
  char            *name;
  EwJobKind        kind;
  char            *module;
  char            *description;
  GPtrArray       *operations;         /* EwJobOperation, in order */
  EwProvenanceInfo provenance;
} EwJobTemplate;

typedef struct _EwFamily EwFamily;

struct _EwFamily {
  char               *id;
  char               *path;            /* the file it came from */
  char               *make;
  char               *model;
  guint16             years_from, years_to;
  EwCheckDigitPolicy  check_digit;
  gboolean            has_year_code;   /* position 10 is the model year */
  GPtrArray          *chassis;         /* EwChassis */
  GPtrArray          *vin_patterns;    /* EwVinPattern */
  GPtrArray          *options;         /* EwOption */
  GPtrArray          *buses;           /* EwBus */
  GPtrArray          *algorithms;      /* EwSecurityAlgorithm */
  GPtrArray          *modules;         /* EwModule */
  GPtrArray          *features;        /* EwFeature */
  GPtrArray          *jobs;            /* EwJobTemplate */
  EwProvenanceInfo    provenance;
};

EwFamily            *ew_family_ref              (EwFamily *family);
void                 ew_family_unref            (EwFamily *family);

const EwModule      *ew_family_find_module      (const EwFamily *family, const char *module_id);
const EwFeature     *ew_family_find_feature     (const EwFamily *family, const char *feature_id);
const EwCodingDid   *ew_module_find_coding_did  (const EwModule *module, guint16 did);
const EwCodingItem  *ew_coding_did_find_item    (const EwCodingDid *did, const char *item_id);
const EwCodingValue *ew_coding_item_find_value  (const EwCodingItem *item, const char *value_name);
const EwOption      *ew_family_find_option      (const EwFamily *family, const char *code);

/* Names as written in the XML, for output and JSON. */
const char          *ew_provenance_to_string    (EwProvenance provenance);
const char          *ew_work_class_to_string    (EwWorkClass work_class);
const char          *ew_module_kind_to_string   (EwModuleKind kind);
const char          *ew_identification_role_to_string (EwIdentificationRole role);
const char          *ew_job_kind_to_string      (EwJobKind kind);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EwFamily, ew_family_unref)

G_END_DECLS
