/* container.h — files that carry new module software: Intel HEX, Motorola
 * S-record, and raw binary with an XML descriptor.
 *
 * A container keeps an index of where each run of records sits in the file,
 * never the data itself: bytes are read back on demand through a reader, so
 * a container of hundreds of MiB is flashed in a few MiB of memory. Loading
 * checks the whole file first; nothing is accepted partially.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define EW_FLASH_ERROR (ew_flash_error_quark ())

typedef enum {
  EW_FLASH_ERROR_IO,              /* missing, unreadable, changed since loaded */
  EW_FLASH_ERROR_PARSE,           /* bad digit, checksum, length, truncation, count */
  EW_FLASH_ERROR_UNSUPPORTED,     /* record type or file kind not known */
  EW_FLASH_ERROR_ADDRESS,         /* address past 4 GiB, no data */
  EW_FLASH_ERROR_OVERLAP,         /* same address, different bytes */
  EW_FLASH_ERROR_FORBIDDEN,       /* DOCTYPE or entities in a descriptor */
  EW_FLASH_ERROR_SCHEMA,          /* descriptor does not validate */
  EW_FLASH_ERROR_CRC,             /* descriptor CRC-32 does not match the binary */
  /* container-check.h */
  EW_FLASH_ERROR_WRONG_MODULE,
  EW_FLASH_ERROR_INCOMPATIBLE,    /* part or hardware number not listed */
  EW_FLASH_ERROR_OUTSIDE_LAYOUT,  /* a block outside every region */
  EW_FLASH_ERROR_BOOTLOADER,      /* a block in the bootloader region */
  EW_FLASH_ERROR_DATA_FORMAT,
  EW_FLASH_ERROR_SOFTWARE_TOO_OLD, /* below the family's minimum */
  EW_FLASH_ERROR_DOWNGRADE,       /* older than what the module runs */
  EW_FLASH_ERROR_APP_HEADER,      /* application header misplaced or missing */
} EwFlashError;

typedef enum {
  EW_FLASH_FORMAT_IHEX,
  EW_FLASH_FORMAT_SREC,
  EW_FLASH_FORMAT_RAW,            /* binary + XML descriptor */
} EwFlashFormat;

/* A contiguous address range after sorting and merging the records. */
typedef struct {
  guint32 address;
  guint32 length;
} EwFlashBlock;

typedef struct _EwFlashContainer EwFlashContainer;
typedef struct _EwFlashReader    EwFlashReader;

GQuark            ew_flash_error_quark          (void);

/* Picks the format from the first non-blank character (':' Intel HEX,
 * 'S' S-record, '<' descriptor). schema_path (nullable) is the descriptor
 * schema; NULL means the installed data/flash/flash-descriptor.xsd. */
EwFlashContainer *ew_flash_container_load       (const char  *path,
                                                 const char  *schema_path,
                                                 GError     **error);
EwFlashContainer *ew_flash_container_load_ihex  (const char  *path,
                                                 GError     **error);
EwFlashContainer *ew_flash_container_load_srec  (const char  *path,
                                                 GError     **error);
/* The binary is named by the descriptor, relative to the descriptor. */
EwFlashContainer *ew_flash_container_load_descriptor (const char  *descriptor_path,
                                                 const char  *schema_path,
                                                 GError     **error);
void              ew_flash_container_free       (EwFlashContainer *container);

EwFlashFormat     ew_flash_container_get_format (const EwFlashContainer *container);
const char       *ew_flash_container_get_path   (const EwFlashContainer *container);
/* Nullable for HEX/S-record until set (the technician names the module). */
const char       *ew_flash_container_get_target_module (const EwFlashContainer *container);
void              ew_flash_container_set_target_module (EwFlashContainer *container,
                                                 const char       *module_id);
/* From the descriptor, or from the application header the simulator
 * understands (EWAPP1) at the start of a block; nullable. */
const char       *ew_flash_container_get_software_version (const EwFlashContainer *container);
const char       *ew_flash_container_get_part_number (const EwFlashContainer *container);
/* Where the application header was found; FALSE when there is none. */
gboolean          ew_flash_container_get_app_header_address (const EwFlashContainer *container,
                                                 guint32          *address);
/* NULL-terminated, possibly empty: empty means "not restricted". */
const char *const *ew_flash_container_get_compatible_part_numbers (const EwFlashContainer *container);
const char *const *ew_flash_container_get_compatible_hardware_numbers (const EwFlashContainer *container);
/* The RequestDownload dataFormatIdentifier, or -1 when the file names none. */
gint              ew_flash_container_get_data_format (const EwFlashContainer *container);
/* S0 header text or descriptor description; nullable. */
const char       *ew_flash_container_get_description (const EwFlashContainer *container);
gboolean          ew_flash_container_get_start_address (const EwFlashContainer *container,
                                                 guint32          *address);

guint             ew_flash_container_get_n_blocks (const EwFlashContainer *container);
const EwFlashBlock *ew_flash_container_get_block (const EwFlashContainer *container,
                                                 guint             index);
guint64           ew_flash_container_get_total_length (const EwFlashContainer *container);
/* Index entries (runs of records); shows the index stays small. */
guint             ew_flash_container_get_n_index_entries (const EwFlashContainer *container);

/* A reader holds the open file; one per thread. */
EwFlashReader    *ew_flash_reader_new           (const EwFlashContainer *container,
                                                 GError          **error);
void              ew_flash_reader_free          (EwFlashReader    *reader);
/* Reads [address, address + length_bytes); bytes no block covers are
 * fill_byte, so blocks laid onto a region come out with their gaps
 * filled. Fails when the file changed since it was loaded. */
gboolean          ew_flash_reader_read          (EwFlashReader    *reader,
                                                 guint32           address,
                                                 guint8           *data,
                                                 gsize             length_bytes,
                                                 guint8            fill_byte,
                                                 GError          **error);

/* Compares software versions digit group by digit group ("17.07.50" <
 * "18.03.00", "0245" < "0612"); other characters compare as text. */
gint              ew_flash_version_compare      (const char *a,
                                                 const char *b);

/* CRC-32 as zlib's crc32 (IEEE 802.3); start with 0. */
guint32           ew_flash_crc32                (guint32       crc,
                                                 const guint8 *data,
                                                 gsize         length_bytes);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EwFlashContainer, ew_flash_container_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EwFlashReader, ew_flash_reader_free)

G_END_DECLS
