/* srec.c — Motorola S-record (srec(5)): S0 header, S1/S2/S3 data with
 * 16/24/32-bit addresses, S5/S6 record counts, S7/S8/S9 start address and
 * end of file.
 */
#include "config.h"

#include <string.h>

#include "flash/container-private.h"

EwFlashContainer *
ew_flash_container_load_srec (const char  *path,
                              GError     **error)
{
  g_autoptr(EwFlashContainer) c = ew_flash_container_new_empty (path, EW_FLASH_FORMAT_SREC);
  g_autoptr(EwFlashLineReader) lines = NULL;
  g_autoptr(GError) local_error = NULL;
  const char *line;
  gsize length;
  guint64 offset;
  guint32 number = 0;
  gboolean has_newline;
  gboolean seen_end = FALSE;
  guint64 n_data_records = 0;

  lines = ew_flash_line_reader_new (path, error);
  if (lines == NULL)
    return NULL;

  while (ew_flash_line_reader_next (lines, &line, &length, &offset, &number,
                                    &has_newline, &local_error))
    {
      guint8 bytes[520];
      gsize n_bytes = 0;
      guint type, count, address_length;
      guint32 address = 0;
      guint8 sum = 0;

      if (length == 0)
        continue;
      if (seen_end)
        {
          g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_PARSE,
                       "%s:%u: data after the termination record (S7, S8 or S9)", path, number);
          return NULL;
        }
      if (line[0] != 'S')
        {
          g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_PARSE,
                       "%s:%u: a record starts with 'S', this line with '%c'", path, number,
                       g_ascii_isprint (line[0]) ? line[0] : '?');
          return NULL;
        }
      if (length < 2 || !g_ascii_isdigit (line[1]))
        {
          g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_PARSE,
                       "%s:%u: no record type after 'S'", path, number);
          return NULL;
        }
      type = line[1] - '0';
      for (gsize i = 2; i < length; i++)
        if (ew_flash_hex_value (line[i]) < 0)
          {
            g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_PARSE,
                         "%s:%u:%" G_GSIZE_FORMAT ": '%c' is not a hex digit", path, number,
                         i + 1, g_ascii_isprint (line[i]) ? line[i] : '?');
            return NULL;
          }
      switch (type)
        {
        case 0: case 1: case 5: case 9: address_length = 2; break;
        case 2: case 6: case 8:         address_length = 3; break;
        case 3: case 7:                 address_length = 4; break;
        default:
          g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_UNSUPPORTED,
                       "%s:%u: unsupported record type S%u", path, number, type);
          return NULL;
        }
      if (length % 2 != 0)
        {
          g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_PARSE,
                       has_newline ? "%s:%u: odd number of hex digits in the record"
                                   : "%s:%u: the file ends in the middle of a record",
                       path, number);
          return NULL;
        }
      for (gsize i = 2; i + 1 < length; i += 2)
        bytes[n_bytes++] = (guint8) (ew_flash_hex_value (line[i]) << 4 |
                                     ew_flash_hex_value (line[i + 1]));
      /* the count covers address, data and checksum */
      if (n_bytes < 1 + address_length + 1 || n_bytes < (gsize) bytes[0] + 1)
        {
          g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_PARSE,
                       has_newline ? "%s:%u: record too short: the byte count says %u bytes, "
                                     "the line holds %" G_GSIZE_FORMAT
                                   : "%s:%u: the file ends in the middle of a record: the "
                                     "byte count says %u bytes, the line holds %" G_GSIZE_FORMAT,
                       path, number, n_bytes > 0 ? bytes[0] : 0, n_bytes > 0 ? n_bytes - 1 : 0);
          return NULL;
        }
      count = bytes[0];
      if (n_bytes > count + 1)
        {
          g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_PARSE,
                       "%s:%u: record too long: the byte count says %u bytes, the line "
                       "holds %" G_GSIZE_FORMAT, path, number, count, n_bytes - 1);
          return NULL;
        }
      if (count < address_length + 1)
        {
          g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_PARSE,
                       "%s:%u: record too short: an S%u record needs at least %u bytes",
                       path, number, type, address_length + 1);
          return NULL;
        }
      for (gsize i = 0; i + 1 < n_bytes; i++)
        sum += bytes[i];
      sum = (guint8) ~sum;
      if (sum != bytes[n_bytes - 1])
        {
          g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_PARSE,
                       "%s:%u: bad checksum: expected 0x%02X, found 0x%02X", path, number,
                       sum, bytes[n_bytes - 1]);
          return NULL;
        }
      for (guint i = 0; i < address_length; i++)
        address = address << 8 | bytes[1 + i];

      switch (type)
        {
        case 0:
          {
            g_autofree char *text = g_strndup ((const char *) bytes + 3, count - 3);

            for (char *q = text; *q != '\0'; q++)
              if (!g_ascii_isprint (*q))
                *q = ' ';
            g_free (c->description);
            c->description = g_strstrip (g_steal_pointer (&text));
            break;
          }
        case 1: case 2: case 3:
          {
            guint data_length = count - address_length - 1;

            if ((guint64) address + data_length > G_GUINT64_CONSTANT (0x100000000))
              {
                g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_ADDRESS,
                             "%s:%u: address overflow: the data runs past 4 GiB", path, number);
                return NULL;
              }
            n_data_records++;
            ew_flash_container_add_record (c, offset, address, data_length, number,
                                           (guint16) (4 + 2 * address_length), data_length);
            break;
          }
        case 5: case 6:
          if (count != address_length + 1)
            {
              g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_PARSE,
                           "%s:%u: an S%u record carries only the count", path, number, type);
              return NULL;
            }
          /* the count is of S1/S2/S3 records so far, modulo the field width */
          if (address != (n_data_records & (type == 5 ? 0xFFFF : 0xFFFFFF)))
            {
              g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_PARSE,
                           "%s:%u: record count mismatch: S%u says %u data records, the file "
                           "has %" G_GUINT64_FORMAT, path, number, type, address,
                           n_data_records);
              return NULL;
            }
          break;
        case 7: case 8: case 9:
          c->has_start_address = TRUE;
          c->start_address = address;
          seen_end = TRUE;
          break;
        default:
          g_assert_not_reached ();
        }
    }
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  if (!seen_end)
    {
      g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_PARSE,
                   "%s:%u: the file is truncated: it ends without a termination record "
                   "(S7, S8 or S9)", path, number);
      return NULL;
    }
  if (!ew_flash_container_finish (c, error))
    return NULL;
  return g_steal_pointer (&c);
}
