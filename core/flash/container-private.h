/* container-private.h — what the format parsers share with the container:
 * the index they build and the finishing step (sort, overlaps, blocks).
 */
#pragma once

#include <sys/types.h>

#include "flash/container.h"

G_BEGIN_DECLS

/* Records that follow each other in both file and address space with the
 * same geometry collapse into one run, so the index of a regular file has
 * one entry per extended-address record rather than one per line. */
typedef struct {
  guint64 file_offset;    /* start of the first record (or of the raw bytes) */
  guint32 address;
  guint32 length;         /* data bytes in the run */
  guint32 line;           /* of the first record; XML line for raw blocks */
  guint32 n_records;
  guint32 stride;         /* file bytes from one record to the next */
  guint16 record_length;  /* data bytes per record; 0 = raw binary */
  guint16 data_column;    /* offset of the first data digit in a record */
} EwFlashRun;

struct _EwFlashContainer {
  char         *path;         /* the file holding the data */
  char         *source_path;  /* the file the user named (descriptor or data) */
  EwFlashFormat format;
  char         *target_module;
  char         *software_version;
  char         *part_number;
  char         *description;
  GPtrArray    *compatible_part_numbers;      /* NULL-terminated */
  GPtrArray    *compatible_hardware_numbers;  /* NULL-terminated */
  gint          data_format;
  gboolean      has_start_address;
  guint32       start_address;
  gboolean      has_app_header;
  guint32       app_header_address;
  GArray       *runs;         /* EwFlashRun, file order, then address order */
  GArray       *map;          /* non-overlapping pieces of runs */
  GArray       *blocks;       /* EwFlashBlock */
  guint64       file_size;
  gint64        file_mtime;
};

EwFlashContainer *ew_flash_container_new_empty (const char   *path,
                                               EwFlashFormat format);
/* Appends a record to the index, extending the last run when it can. */
void              ew_flash_container_add_record (EwFlashContainer *container,
                                               guint64           file_offset,
                                               guint32           address,
                                               guint32           length,
                                               guint32           line,
                                               guint16           data_column,
                                               guint16           record_length);
/* Sorts, rejects conflicting overlaps, builds blocks, finds the
 * application header. */
gboolean          ew_flash_container_finish    (EwFlashContainer *container,
                                               GError          **error);

/* Line reading shared by the two text formats. */
typedef struct _EwFlashLineReader EwFlashLineReader;

EwFlashLineReader *ew_flash_line_reader_new    (const char  *path,
                                               GError     **error);
void               ew_flash_line_reader_free   (EwFlashLineReader *reader);
/* Next line without its end (CR LF or LF). Returns FALSE at the end of
 * the file or on error (error set). *has_newline tells whether the line
 * was terminated; *offset is its file offset and *line_number counts from 1. */
gboolean           ew_flash_line_reader_next   (EwFlashLineReader *reader,
                                               const char       **line,
                                               gsize             *length,
                                               guint64           *offset,
                                               guint32           *line_number,
                                               gboolean          *has_newline,
                                               GError           **error);

gint               ew_flash_hex_value          (char c);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EwFlashLineReader, ew_flash_line_reader_free)

G_END_DECLS
