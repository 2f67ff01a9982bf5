/* container.c — the container model, its record index and the streaming
 * reader; the formats live in ihex.c, srec.c and raw-descriptor.c.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "flash/container-private.h"
#include "sim/sim-flash.h"

G_DEFINE_QUARK (ew-flash-error-quark, ew_flash_error)

/* A piece of one run: [start, end) is read from runs[run]. */
typedef struct {
  guint32 start;
  guint64 end;
  guint   run;
} MapEntry;

/* Longer than any valid record (Intel HEX: 521 characters). */
#define MAX_LINE_LENGTH 1024
#define LINE_BUFFER_SIZE (64 * 1024)

/* ---- line reader ---- */

struct _EwFlashLineReader {
  char    *path;
  int      fd;
  char    *buffer;
  gsize    start;      /* first unread byte in buffer */
  gsize    end;        /* bytes in buffer */
  guint64  buffer_offset;  /* file offset of buffer[0] */
  guint32  line_number;
  gboolean at_eof;
};

EwFlashLineReader *
ew_flash_line_reader_new (const char  *path,
                          GError     **error)
{
  EwFlashLineReader *reader;
  int fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);

  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_IO,
                   "Cannot open %s: %s", path, g_strerror (saved));
      return NULL;
    }
  reader = g_new0 (EwFlashLineReader, 1);
  reader->path = g_strdup (path);
  reader->fd = fd;
  reader->buffer = g_malloc (LINE_BUFFER_SIZE);
  return reader;
}

void
ew_flash_line_reader_free (EwFlashLineReader *reader)
{
  if (reader == NULL)
    return;
  close (reader->fd);
  g_free (reader->buffer);
  g_free (reader->path);
  g_free (reader);
}

static gboolean
line_reader_fill (EwFlashLineReader *reader,
                  GError           **error)
{
  gssize n;

  if (reader->start > 0)
    {
      memmove (reader->buffer, reader->buffer + reader->start, reader->end - reader->start);
      reader->buffer_offset += reader->start;
      reader->end -= reader->start;
      reader->start = 0;
    }
  do
    n = read (reader->fd, reader->buffer + reader->end, LINE_BUFFER_SIZE - reader->end);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    {
      int saved = errno;

      g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_IO, "Cannot read %s: %s",
                   reader->path, g_strerror (saved));
      return FALSE;
    }
  if (n == 0)
    reader->at_eof = TRUE;
  reader->end += n;
  return TRUE;
}

gboolean
ew_flash_line_reader_next (EwFlashLineReader *reader,
                           const char       **line,
                           gsize             *length,
                           guint64           *offset,
                           guint32           *line_number,
                           gboolean          *has_newline,
                           GError           **error)
{
  for (;;)
    {
      char *begin = reader->buffer + reader->start;
      gsize avail = reader->end - reader->start;
      char *nl = memchr (begin, '\n', MIN (avail, MAX_LINE_LENGTH + 2));
      gsize len;

      if (nl == NULL && avail > MAX_LINE_LENGTH + 1)
        {
          g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_PARSE,
                       "%s:%u: the line is longer than %u characters; this is not a record",
                       reader->path, reader->line_number + 1, MAX_LINE_LENGTH);
          return FALSE;
        }
      if (nl == NULL && !reader->at_eof)
        {
          if (!line_reader_fill (reader, error))
            return FALSE;
          continue;
        }
      if (nl == NULL && avail == 0)
        return FALSE;

      len = nl != NULL ? (gsize) (nl - begin) : avail;
      *offset = reader->buffer_offset + reader->start;
      *has_newline = nl != NULL;
      reader->start += len + (nl != NULL ? 1 : 0);
      if (len > 0 && begin[len - 1] == '\r')
        len--;
      *line = begin;
      *length = len;
      *line_number = ++reader->line_number;
      return TRUE;
    }
}

gint
ew_flash_hex_value (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

/* ---- building the index ---- */

EwFlashContainer *
ew_flash_container_new_empty (const char   *path,
                              EwFlashFormat format)
{
  EwFlashContainer *c = g_new0 (EwFlashContainer, 1);

  c->path = g_strdup (path);
  c->source_path = g_strdup (path);
  c->format = format;
  c->data_format = -1;
  c->compatible_part_numbers = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (c->compatible_part_numbers, NULL);
  c->compatible_hardware_numbers = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (c->compatible_hardware_numbers, NULL);
  c->runs = g_array_new (FALSE, TRUE, sizeof (EwFlashRun));
  c->map = g_array_new (FALSE, TRUE, sizeof (MapEntry));
  c->blocks = g_array_new (FALSE, TRUE, sizeof (EwFlashBlock));
  return c;
}

void
ew_flash_container_free (EwFlashContainer *c)
{
  if (c == NULL)
    return;
  g_free (c->path);
  g_free (c->source_path);
  g_free (c->target_module);
  g_free (c->software_version);
  g_free (c->part_number);
  g_free (c->description);
  g_ptr_array_unref (c->compatible_part_numbers);
  g_ptr_array_unref (c->compatible_hardware_numbers);
  g_array_unref (c->runs);
  g_array_unref (c->map);
  g_array_unref (c->blocks);
  g_free (c);
}

void
ew_flash_container_add_record (EwFlashContainer *c,
                               guint64           file_offset,
                               guint32           address,
                               guint32           length,
                               guint32           line,
                               guint16           data_column,
                               guint16           record_length)
{
  EwFlashRun run = { 0 };

  if (length == 0)
    return;
  if (c->runs->len > 0 && record_length > 0)
    {
      EwFlashRun *last = &g_array_index (c->runs, EwFlashRun, c->runs->len - 1);
      guint64 stride = last->n_records == 1 ? file_offset - last->file_offset : last->stride;

      if (last->record_length > 0 &&
          last->data_column == data_column &&
          last->length == (guint64) last->n_records * last->record_length &&
          (guint64) last->address + last->length == address &&
          length <= last->record_length &&
          file_offset > last->file_offset &&
          stride > 0 && stride <= G_MAXUINT16 &&
          file_offset == last->file_offset + stride * last->n_records &&
          line == last->line + last->n_records &&
          (guint64) last->length + length <= G_MAXUINT32)
        {
          last->stride = stride;
          last->length += length;
          last->n_records++;
          return;
        }
    }
  run.file_offset = file_offset;
  run.address = address;
  run.length = length;
  run.line = line;
  run.n_records = 1;
  run.record_length = record_length;
  run.data_column = data_column;
  g_array_append_val (c->runs, run);
}

/* ---- reading runs ---- */

struct _EwFlashReader {
  const EwFlashContainer *container;
  int    fd;
  char  *scratch;
  gsize  scratch_size;
};

static gboolean
pread_exact (EwFlashReader *reader,
             void          *buffer,
             gsize          length,
             guint64        offset,
             GError       **error)
{
  gsize done = 0;

  while (done < length)
    {
      gssize n = pread (reader->fd, (char *) buffer + done, length - done, offset + done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_IO,
                       "Cannot read %s at byte %" G_GUINT64_FORMAT ": %s",
                       reader->container->path, offset + done,
                       n < 0 ? g_strerror (errno) : "the file is shorter than when it was checked");
          return FALSE;
        }
      done += n;
    }
  return TRUE;
}

/* Reads [address, address + length) that lies inside one run. */
static gboolean
read_run (EwFlashReader    *reader,
          const EwFlashRun *run,
          guint32           address,
          guint8           *data,
          gsize             length,
          GError          **error)
{
  guint64 pos = address - run->address;

  if (run->record_length == 0)
    return pread_exact (reader, data, length, run->file_offset + pos, error);

  while (length > 0)
    {
      /* several records per pread: a span of whole lines */
      guint64 first = pos / run->record_length;
      guint64 last = (pos + length - 1) / run->record_length;
      guint64 n_records = MIN (last - first + 1, 256);
      guint64 from = run->file_offset + first * run->stride;
      gsize span = (gsize) ((n_records - 1) * run->stride + run->data_column + 2 * run->record_length);

      /* a short last record may end the file before a full one would */
      if (from + span > reader->container->file_size)
        span = (gsize) (reader->container->file_size - from);

      if (span > reader->scratch_size)
        {
          reader->scratch = g_realloc (reader->scratch, span);
          reader->scratch_size = span;
        }
      if (!pread_exact (reader, reader->scratch, span, from, error))
        return FALSE;
      for (guint64 k = 0; k < n_records && length > 0; k++)
        {
          const char *rec = reader->scratch + k * run->stride + run->data_column;
          guint j = (guint) (pos - (first + k) * run->record_length);
          guint in_record = run->record_length;

          if (first + k == run->n_records - 1)
            in_record = run->length - (guint32) ((run->n_records - 1) * run->record_length);
          for (; j < in_record && length > 0; j++)
            {
              gint hi = ew_flash_hex_value (rec[2 * j]);
              gint lo = ew_flash_hex_value (rec[2 * j + 1]);

              if (hi < 0 || lo < 0)
                {
                  g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_IO,
                               "%s:%" G_GUINT64_FORMAT ": the file changed since it was checked",
                               reader->container->path, run->line + first + k);
                  return FALSE;
                }
              *data++ = (guint8) (hi << 4 | lo);
              pos++;
              length--;
            }
        }
    }
  return TRUE;
}

EwFlashReader *
ew_flash_reader_new (const EwFlashContainer *container,
                     GError                **error)
{
  EwFlashReader *reader;
  GStatBuf st;
  int fd;

  g_return_val_if_fail (container != NULL, NULL);

  fd = g_open (container->path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_IO, "Cannot open %s: %s",
                   container->path, g_strerror (saved));
      return NULL;
    }
  if (fstat (fd, &st) != 0 || (guint64) st.st_size != container->file_size ||
      (gint64) st.st_mtime != container->file_mtime)
    {
      close (fd);
      g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_IO,
                   "%s changed since it was checked; load it again", container->path);
      return NULL;
    }
  reader = g_new0 (EwFlashReader, 1);
  reader->container = container;
  reader->fd = fd;
  return reader;
}

void
ew_flash_reader_free (EwFlashReader *reader)
{
  if (reader == NULL)
    return;
  close (reader->fd);
  g_free (reader->scratch);
  g_free (reader);
}

gboolean
ew_flash_reader_read (EwFlashReader *reader,
                      guint32        address,
                      guint8        *data,
                      gsize          length_bytes,
                      guint8         fill_byte,
                      GError       **error)
{
  GArray *map = reader->container->map;
  guint64 a = address;
  guint64 end = a + length_bytes;
  guint lo = 0, hi = map->len;

  g_return_val_if_fail (end <= G_GUINT64_CONSTANT (0x100000000), FALSE);

  /* first entry ending after a */
  while (lo < hi)
    {
      guint mid = (lo + hi) / 2;

      if (g_array_index (map, MapEntry, mid).end <= a)
        lo = mid + 1;
      else
        hi = mid;
    }
  while (a < end)
    {
      const MapEntry *e = lo < map->len ? &g_array_index (map, MapEntry, lo) : NULL;
      guint64 upto;

      if (e == NULL || e->start >= end)
        {
          memset (data, fill_byte, end - a);
          break;
        }
      if (e->start > a)
        {
          memset (data, fill_byte, e->start - a);
          data += e->start - a;
          a = e->start;
        }
      upto = MIN (end, e->end);
      if (!read_run (reader, &g_array_index (reader->container->runs, EwFlashRun, e->run),
                     (guint32) a, data, upto - a, error))
        return FALSE;
      data += upto - a;
      a = upto;
      lo++;
    }
  return TRUE;
}

/* ---- finishing ---- */

static gint
compare_runs (gconstpointer pa,
              gconstpointer pb)
{
  const EwFlashRun *a = pa, *b = pb;

  if (a->address != b->address)
    return a->address < b->address ? -1 : 1;
  /* earlier in the file first, for stable messages */
  if (a->file_offset != b->file_offset)
    return a->file_offset < b->file_offset ? -1 : 1;
  return 0;
}

/* Where a byte of a run came from, for messages. */
static char *
describe_source (const EwFlashContainer *c,
                 const EwFlashRun       *run,
                 guint32                 address)
{
  if (run->record_length == 0)
    return g_strdup_printf ("byte %" G_GUINT64_FORMAT " of %s (block at line %u of %s)",
                            run->file_offset + (address - run->address), c->path,
                            run->line, c->source_path);
  return g_strdup_printf ("line %u", run->line + (address - run->address) / run->record_length);
}

static gboolean
compare_overlap (EwFlashContainer *c,
                 EwFlashReader    *reader,
                 const EwFlashRun *earlier,
                 const EwFlashRun *later,
                 guint32           start,
                 guint64           end,
                 GError          **error)
{
  guint8 x[4096], y[4096];

  for (guint64 a = start; a < end; a += sizeof x)
    {
      gsize n = (gsize) MIN (sizeof x, end - a);

      if (!read_run (reader, earlier, (guint32) a, x, n, error) ||
          !read_run (reader, later, (guint32) a, y, n, error))
        return FALSE;
      for (gsize i = 0; i < n; i++)
        if (x[i] != y[i])
          {
            guint32 at = (guint32) (a + i);
            g_autofree char *first = describe_source (c, earlier, at);
            g_autofree char *second = describe_source (c, later, at);

            g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_OVERLAP,
                         "%s: conflicting data at address 0x%08X: %s gives 0x%02X, "
                         "%s gives 0x%02X", c->source_path, at, first, x[i], second, y[i]);
            return FALSE;
          }
    }
  return TRUE;
}

static char *
trimmed_field (const guint8 *p)
{
  char *s = g_strndup ((const char *) p, EW_SIM_APP_HEADER_FIELD_LENGTH);

  for (char *q = s; *q != '\0'; q++)
    if (!g_ascii_isprint (*q))
      *q = '?';
  return g_strstrip (s);
}

gboolean
ew_flash_container_finish (EwFlashContainer *c,
                           GError          **error)
{
  g_autoptr(EwFlashReader) reader = NULL;
  guint64 max_end = 0;
  guint max_run = 0;
  GStatBuf st;

  if (g_stat (c->path, &st) != 0)
    {
      int saved = errno;

      g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_IO, "Cannot read %s: %s",
                   c->path, g_strerror (saved));
      return FALSE;
    }
  c->file_size = st.st_size;
  c->file_mtime = st.st_mtime;

  if (c->runs->len == 0)
    {
      g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_ADDRESS,
                   "%s holds no data records", c->source_path);
      return FALSE;
    }
  g_array_sort (c->runs, compare_runs);
  reader = ew_flash_reader_new (c, error);
  if (reader == NULL)
    return FALSE;

  /* A run overlapping earlier ones lies inside the one reaching furthest
   * (it starts no later), so comparing with that one covers them all. */
  for (guint i = 0; i < c->runs->len; i++)
    {
      const EwFlashRun *run = &g_array_index (c->runs, EwFlashRun, i);
      guint64 end = (guint64) run->address + run->length;

      if (i > 0 && run->address < max_end &&
          !compare_overlap (c, reader, &g_array_index (c->runs, EwFlashRun, max_run), run,
                            run->address, MIN (end, max_end), error))
        return FALSE;
      if (end > max_end)
        {
          MapEntry e = { 0, end, i };

          if (i > 0 && run->address < max_end)
            e.start = (guint32) max_end;
          else
            e.start = run->address;
          g_array_append_val (c->map, e);
          max_end = end;
          max_run = i;
        }
    }

  for (guint i = 0; i < c->map->len; i++)
    {
      const MapEntry *e = &g_array_index (c->map, MapEntry, i);
      EwFlashBlock *last = c->blocks->len > 0 ?
        &g_array_index (c->blocks, EwFlashBlock, c->blocks->len - 1) : NULL;

      if (last != NULL && (guint64) last->address + last->length == e->start &&
          (guint64) last->length + (e->end - e->start) <= G_MAXUINT32)
        last->length += (guint32) (e->end - e->start);
      else
        {
          EwFlashBlock b = { e->start, (guint32) (e->end - e->start) };

          g_array_append_val (c->blocks, b);
        }
    }

  /* the simulator's application header at the start of a block */
  for (guint i = 0; i < c->blocks->len && !c->has_app_header; i++)
    {
      const EwFlashBlock *b = &g_array_index (c->blocks, EwFlashBlock, i);
      guint8 header[EW_SIM_APP_HEADER_LENGTH];

      if (b->length < EW_SIM_APP_HEADER_LENGTH)
        continue;
      if (!ew_flash_reader_read (reader, b->address, header, sizeof header, 0xFF, error))
        return FALSE;
      if (memcmp (header, EW_SIM_APP_HEADER_MAGIC, EW_SIM_APP_HEADER_MAGIC_LENGTH) != 0)
        continue;
      c->has_app_header = TRUE;
      c->app_header_address = b->address;
      if (c->software_version == NULL)
        c->software_version = trimmed_field (header + EW_SIM_APP_HEADER_MAGIC_LENGTH);
      if (c->part_number == NULL)
        c->part_number = trimmed_field (header + EW_SIM_APP_HEADER_MAGIC_LENGTH +
                                        EW_SIM_APP_HEADER_FIELD_LENGTH);
    }
  return TRUE;
}

/* ---- loading ---- */

EwFlashContainer *
ew_flash_container_load (const char  *path,
                         const char  *schema_path,
                         GError     **error)
{
  g_autoptr(EwFlashLineReader) lines = NULL;
  const char *line = NULL;
  gsize length = 0;
  guint64 offset;
  guint32 number;
  gboolean has_newline;
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  lines = ew_flash_line_reader_new (path, error);
  if (lines == NULL)
    return NULL;
  while (ew_flash_line_reader_next (lines, &line, &length, &offset, &number,
                                    &has_newline, &local_error))
    {
      gsize i = 0;

      while (i < length && g_ascii_isspace (line[i]))
        i++;
      if (i == length)
        continue;
      switch (line[i])
        {
        case ':':
          return ew_flash_container_load_ihex (path, error);
        case 'S':
          return ew_flash_container_load_srec (path, error);
        case '<':
          return ew_flash_container_load_descriptor (path, schema_path, error);
        default:
          g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_UNSUPPORTED,
                       "%s:%u: not an Intel HEX, S-record or descriptor file "
                       "(it starts with '%c')", path, number,
                       g_ascii_isprint (line[i]) ? line[i] : '?');
          return NULL;
        }
    }
  if (local_error != NULL)
    {
      /* a binary file has no line ends */
      g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_UNSUPPORTED,
                   "%s is not an Intel HEX, S-record or descriptor file", path);
      return NULL;
    }
  g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_ADDRESS, "%s is empty", path);
  return NULL;
}

/* ---- accessors ---- */

EwFlashFormat
ew_flash_container_get_format (const EwFlashContainer *c)
{
  return c->format;
}

const char *
ew_flash_container_get_path (const EwFlashContainer *c)
{
  return c->source_path;
}

const char *
ew_flash_container_get_target_module (const EwFlashContainer *c)
{
  return c->target_module;
}

void
ew_flash_container_set_target_module (EwFlashContainer *c,
                                      const char       *module_id)
{
  g_free (c->target_module);
  c->target_module = g_strdup (module_id);
}

const char *
ew_flash_container_get_software_version (const EwFlashContainer *c)
{
  return c->software_version;
}

const char *
ew_flash_container_get_part_number (const EwFlashContainer *c)
{
  return c->part_number;
}

gboolean
ew_flash_container_get_app_header_address (const EwFlashContainer *c,
                                           guint32                *address)
{
  if (c->has_app_header && address != NULL)
    *address = c->app_header_address;
  return c->has_app_header;
}

const char *const *
ew_flash_container_get_compatible_part_numbers (const EwFlashContainer *c)
{
  return (const char *const *) c->compatible_part_numbers->pdata;
}

const char *const *
ew_flash_container_get_compatible_hardware_numbers (const EwFlashContainer *c)
{
  return (const char *const *) c->compatible_hardware_numbers->pdata;
}

gint
ew_flash_container_get_data_format (const EwFlashContainer *c)
{
  return c->data_format;
}

const char *
ew_flash_container_get_description (const EwFlashContainer *c)
{
  return c->description;
}

gboolean
ew_flash_container_get_start_address (const EwFlashContainer *c,
                                      guint32                *address)
{
  if (c->has_start_address && address != NULL)
    *address = c->start_address;
  return c->has_start_address;
}

guint
ew_flash_container_get_n_blocks (const EwFlashContainer *c)
{
  return c->blocks->len;
}

const EwFlashBlock *
ew_flash_container_get_block (const EwFlashContainer *c,
                              guint                   index)
{
  g_return_val_if_fail (index < c->blocks->len, NULL);
  return &g_array_index (c->blocks, EwFlashBlock, index);
}

guint64
ew_flash_container_get_total_length (const EwFlashContainer *c)
{
  guint64 total = 0;

  for (guint i = 0; i < c->blocks->len; i++)
    total += g_array_index (c->blocks, EwFlashBlock, i).length;
  return total;
}

guint
ew_flash_container_get_n_index_entries (const EwFlashContainer *c)
{
  return c->runs->len;
}

/* ---- versions and CRC ---- */

gint
ew_flash_version_compare (const char *a,
                          const char *b)
{
  while (*a != '\0' || *b != '\0')
    {
      if (g_ascii_isdigit (*a) && g_ascii_isdigit (*b))
        {
          const char *ea = a, *eb = b;
          gsize la, lb;
          gint cmp;

          while (*a == '0' && g_ascii_isdigit (a[1]))
            a++;
          while (*b == '0' && g_ascii_isdigit (b[1]))
            b++;
          for (ea = a; g_ascii_isdigit (*ea); ea++)
            ;
          for (eb = b; g_ascii_isdigit (*eb); eb++)
            ;
          la = ea - a;
          lb = eb - b;
          if (la != lb)
            return la < lb ? -1 : 1;
          cmp = strncmp (a, b, la);
          if (cmp != 0)
            return cmp < 0 ? -1 : 1;
          a = ea;
          b = eb;
          continue;
        }
      if (*a != *b)
        return (guchar) *a < (guchar) *b ? -1 : 1;
      a++;
      b++;
    }
  return 0;
}

guint32
ew_flash_crc32 (guint32       crc,
                const guint8 *data,
                gsize         length_bytes)
{
  return ew_sim_crc32_update (crc ^ 0xFFFFFFFFu, data, length_bytes) ^ 0xFFFFFFFFu;
}
