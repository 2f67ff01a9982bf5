/* ihex.c — Intel HEX (Intel "Hexadecimal Object File Format Specification",
 * rev. A, 1988): records 00 data, 01 end of file, 02 extended segment
 * address, 03 start segment address, 04 extended linear address, 05 start
 * linear address.
 */
#include "config.h"

#include <string.h>

#include "flash/container-private.h"

/* ":" + count (2) + address (4) + type (2) */
#define DATA_COLUMN 9

typedef enum {
  BASE_NONE,
  BASE_SEGMENT,
  BASE_LINEAR,
} BaseKind;

/* Decodes hex pairs of a record into bytes; names the column of a bad digit. */
static gboolean
decode_record (const char  *path,
               guint32      number,
               const char  *line,
               gsize        length,
               gsize        first_column,
               guint8      *bytes,
               gsize       *n_bytes,
               GError     **error)
{
  gsize n = 0;

  for (gsize i = first_column; i < length; i++)
    {
      if (ew_flash_hex_value (line[i]) < 0)
        {
          g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_PARSE,
                       "%s:%u:%" G_GSIZE_FORMAT ": '%c' is not a hex digit", path, number,
                       i + 1, g_ascii_isprint (line[i]) ? line[i] : '?');
          return FALSE;
        }
    }
  for (gsize i = first_column; i + 1 < length; i += 2)
    bytes[n++] = (guint8) (ew_flash_hex_value (line[i]) << 4 | ew_flash_hex_value (line[i + 1]));
  *n_bytes = n;
  return TRUE;
}

EwFlashContainer *
ew_flash_container_load_ihex (const char  *path,
                              GError     **error)
{
  g_autoptr(EwFlashContainer) c = ew_flash_container_new_empty (path, EW_FLASH_FORMAT_IHEX);
  g_autoptr(EwFlashLineReader) lines = NULL;
  g_autoptr(GError) local_error = NULL;
  const char *line;
  gsize length;
  guint64 offset;
  guint32 number = 0;
  gboolean has_newline;
  gboolean seen_eof = FALSE;
  BaseKind base_kind = BASE_NONE;
  guint32 base = 0;

  lines = ew_flash_line_reader_new (path, error);
  if (lines == NULL)
    return NULL;

  while (ew_flash_line_reader_next (lines, &line, &length, &offset, &number,
                                    &has_newline, &local_error))
    {
      guint8 bytes[520];
      gsize n_bytes;
      guint count, type;
      guint16 record_address;
      guint8 sum = 0;

      if (length == 0)
        continue;
      if (seen_eof)
        {
          g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_PARSE,
                       "%s:%u: data after the end-of-file record (type 01)", path, number);
          return NULL;
        }
      if (line[0] != ':')
        {
          g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_PARSE,
                       "%s:%u: a record starts with ':', this line with '%c'", path, number,
                       g_ascii_isprint (line[0]) ? line[0] : '?');
          return NULL;
        }
      if (!decode_record (path, number, line, length, 1, bytes, &n_bytes, error))
        return NULL;
      if (length < 11)
        {
          g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_PARSE,
                       has_newline ? "%s:%u: record too short: %" G_GSIZE_FORMAT
                                     " characters, a record has at least 11"
                                   : "%s:%u: the file ends in the middle of a record (%"
                                     G_GSIZE_FORMAT " characters)",
                       path, number, length);
          return NULL;
        }
      if ((length - 1) % 2 != 0)
        {
          g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_PARSE,
                       has_newline ? "%s:%u: odd number of hex digits in the record"
                                   : "%s:%u: the file ends in the middle of a record",
                       path, number);
          return NULL;
        }
      count = bytes[0];
      if (n_bytes < count + 5)
        {
          g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_PARSE,
                       has_newline ? "%s:%u: record too short: the byte count says %u data "
                                     "bytes, the line holds %" G_GSIZE_FORMAT
                                   : "%s:%u: the file ends in the middle of a record: the "
                                     "byte count says %u data bytes, the line holds %"
                                     G_GSIZE_FORMAT,
                       path, number, count, n_bytes - 5);
          return NULL;
        }
      if (n_bytes > count + 5)
        {
          g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_PARSE,
                       "%s:%u: record too long: the byte count says %u data bytes, "
                       "the line holds %" G_GSIZE_FORMAT, path, number, count, n_bytes - 5);
          return NULL;
        }
      for (gsize i = 0; i + 1 < n_bytes; i++)
        sum += bytes[i];
      sum = (guint8) (0x100 - sum);
      if (sum != bytes[n_bytes - 1])
        {
          g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_PARSE,
                       "%s:%u: bad checksum: expected 0x%02X, found 0x%02X", path, number,
                       sum, bytes[n_bytes - 1]);
          return NULL;
        }
      record_address = (guint16) (bytes[1] << 8 | bytes[2]);
      type = bytes[3];

      switch (type)
        {
        case 0x00:
          {
            guint64 address;

            if (base_kind == BASE_SEGMENT && (guint32) record_address + count > 0x10000)
              {
                g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_ADDRESS,
                             "%s:%u: the data wraps around the end of its 64 KiB segment",
                             path, number);
                return NULL;
              }
            address = (guint64) base + record_address;
            if (address + count > G_GUINT64_CONSTANT (0x100000000))
              {
                g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_ADDRESS,
                             "%s:%u: address overflow: the data runs past 4 GiB", path, number);
                return NULL;
              }
            ew_flash_container_add_record (c, offset, (guint32) address, count, number,
                                           DATA_COLUMN, count);
            break;
          }
        case 0x01:
          if (count != 0)
            goto bad_count;
          seen_eof = TRUE;
          break;
        case 0x02:
          if (count != 2)
            goto bad_count;
          base_kind = BASE_SEGMENT;
          base = (guint32) (bytes[4] << 8 | bytes[5]) << 4;
          break;
        case 0x04:
          if (count != 2)
            goto bad_count;
          base_kind = BASE_LINEAR;
          base = (guint32) (bytes[4] << 8 | bytes[5]) << 16;
          break;
        case 0x03:
          if (count != 4)
            goto bad_count;
          c->has_start_address = TRUE;
          /* CS:IP as the real-mode linear address */
          c->start_address = ((guint32) (bytes[4] << 8 | bytes[5]) << 4) +
                             (guint32) (bytes[6] << 8 | bytes[7]);
          break;
        case 0x05:
          if (count != 4)
            goto bad_count;
          c->has_start_address = TRUE;
          c->start_address = (guint32) bytes[4] << 24 | (guint32) bytes[5] << 16 |
                             (guint32) bytes[6] << 8 | bytes[7];
          break;
        default:
          g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_UNSUPPORTED,
                       "%s:%u: unsupported record type %02X (Intel HEX knows 00 to 05)",
                       path, number, type);
          return NULL;
        }
      continue;

    bad_count:
      g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_PARSE,
                   "%s:%u: a record of type %02X cannot carry %u data bytes", path, number,
                   type, count);
      return NULL;
    }
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  if (!seen_eof)
    {
      g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_PARSE,
                   "%s:%u: the file is truncated: it ends without an end-of-file record "
                   "(type 01)", path, number);
      return NULL;
    }
  if (!ew_flash_container_finish (c, error))
    return NULL;
  return g_steal_pointer (&c);
}
