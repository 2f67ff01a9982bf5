/* test-flash-container.c — programming containers: Intel HEX, S-record and
 * raw binary with a descriptor, from good and bad fixtures (each error must
 * name the file and the line or byte); unsorted, gapped and overlapping
 * input; the streaming index on a 256 MiB file with its peak memory; the
 * shipped samples (regenerated and compared, parsed and checked against
 * their modules); and the check's refusals.
 */
#include <string.h>
#include <sys/statvfs.h>

#include <glib/gstdio.h>

#include "data-dir.h"
#include "flash/container.h"
#include "flash/container-check.h"
#include "flash/sample.h"
#include "sim/sim-flash.h"
#include "vehicle/database.h"
#include "test-util.h"

#if defined(__SANITIZE_ADDRESS__)
# define UNDER_ASAN 1
#elif defined(__has_feature)
# if __has_feature(address_sanitizer)
#  define UNDER_ASAN 1
# endif
#endif

/* ---- fixtures and files ---- */

static char *
fixture (const char *name)
{
  return g_test_build_filename (G_TEST_DIST, "fixtures", "flash", name, NULL);
}

static EwFlashContainer *
load_fixture (const char *name,
              GError    **error)
{
  g_autofree char *path = fixture (name);

  return ew_flash_container_load (path, NULL, error);
}

static GBytes *
read_range (const EwFlashContainer *c,
            guint32                 address,
            gsize                   length,
            guint8                  fill)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EwFlashReader) reader = ew_flash_reader_new (c, &error);
  guint8 *data = g_malloc (length);

  g_assert_no_error (error);
  g_assert_true (ew_flash_reader_read (reader, address, data, length, fill, &error));
  g_assert_no_error (error);
  return g_bytes_new_take (data, length);
}

static void
assert_block (const EwFlashContainer *c,
              guint                   index,
              guint32                 address,
              guint32                 length)
{
  const EwFlashBlock *b = ew_flash_container_get_block (c, index);

  g_assert_cmphex (b->address, ==, address);
  g_assert_cmpuint (b->length, ==, length);
}

static EwVehicleDatabase *
load_database (void)
{
  g_autofree char *schema = ew_data_path ("vehicles/vehicle-family.xsd");
  g_autofree char *dir = ew_data_path ("vehicles");
  EwVehicleDatabase *db = ew_vehicle_database_new (schema);

  g_assert_cmpuint (ew_vehicle_database_add_dir (db, dir), ==, 3);
  return db;
}

typedef struct {
  guint32       address;
  const guint8 *data;
  gsize         length;
} Chunk;

static void
append_ihex_record (GString      *out,
                    guint         type,
                    guint16       address,
                    const guint8 *data,
                    gsize         length)
{
  guint8 sum = (guint8) (length + (address >> 8) + (address & 0xFF) + type);

  g_string_append_printf (out, ":%02X%04X%02X", (guint) length, address, type);
  for (gsize i = 0; i < length; i++)
    {
      g_string_append_printf (out, "%02X", data[i]);
      sum += data[i];
    }
  g_string_append_printf (out, "%02X\n", (guint8) (0x100 - sum));
}

/* An Intel HEX file of the chunks in the order given, 16 bytes a record. */
static char *
write_ihex (const char  *dir,
            const char  *name,
            const Chunk *chunks,
            guint        n_chunks)
{
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (dir, name, NULL);

  for (guint c = 0; c < n_chunks; c++)
    for (gsize i = 0; i < chunks[c].length; i += 16)
      {
        guint32 a = chunks[c].address + (guint32) i;
        guint8 ela[2] = { (guint8) (a >> 24), (guint8) (a >> 16) };

        append_ihex_record (out, 0x04, 0, ela, 2);
        append_ihex_record (out, 0x00, (guint16) a, chunks[c].data + i, MIN (16, chunks[c].length - i));
      }
  append_ihex_record (out, 0x01, 0, NULL, 0);
  g_file_set_contents (path, out->str, out->len, &error);
  g_assert_no_error (error);
  return path;
}

static char *
make_temp_dir (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("ew-flash-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

/* ---- Intel HEX ---- */

static void
test_ihex_good (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EwFlashContainer) c = load_fixture ("good.hex", &error);
  g_autoptr(GBytes) gap = NULL;
  const guint8 *p;
  guint32 start = 0;

  g_assert_no_error (error);
  g_assert_cmpint (ew_flash_container_get_format (c), ==, EW_FLASH_FORMAT_IHEX);
  g_assert_null (ew_flash_container_get_target_module (c));
  g_assert_null (ew_flash_container_get_software_version (c));
  g_assert_cmpint (ew_flash_container_get_data_format (c), ==, -1);
  /* 04 base 0x0001, 04 base 0, 02 segment 0x1000: three blocks after sorting */
  g_assert_cmpuint (ew_flash_container_get_n_blocks (c), ==, 3);
  assert_block (c, 0, 0x100, 8);
  assert_block (c, 1, 0x10000, 32);
  assert_block (c, 2, 0x10030, 4);
  g_assert_cmpuint (ew_flash_container_get_total_length (c), ==, 44);
  /* 05 (after 03) wins */
  g_assert_true (ew_flash_container_get_start_address (c, &start));
  g_assert_cmphex (start, ==, 0x00010004);

  /* the gap between 0x10020 and 0x10030 comes out as the fill byte */
  gap = read_range (c, 0x1001E, 0x16, 0xFF);
  p = g_bytes_get_data (gap, NULL);
  g_assert_cmphex (p[0], ==, 0x1E);
  g_assert_cmphex (p[1], ==, 0x1F);
  for (guint i = 2; i < 0x12; i++)
    g_assert_cmphex (p[i], ==, 0xFF);
  g_assert_cmphex (p[0x12], ==, 0xDE);
  g_assert_cmphex (p[0x15], ==, 0xEF);

  ew_flash_container_set_target_module (c, "dme");
  g_assert_cmpstr (ew_flash_container_get_target_module (c), ==, "dme");
}

static void
test_ihex_crlf (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EwFlashContainer) c = load_fixture ("good-crlf.hex", &error);
  g_autoptr(GBytes) bytes = NULL;
  const guint8 *p;

  g_assert_no_error (error);
  g_assert_cmpuint (ew_flash_container_get_n_blocks (c), ==, 1);
  assert_block (c, 0, 0x20, 16);
  /* two records in one index run, read across the record boundary */
  g_assert_cmpuint (ew_flash_container_get_n_index_entries (c), ==, 1);
  bytes = read_range (c, 0x26, 4, 0);
  p = g_bytes_get_data (bytes, NULL);
  g_assert_cmphex (p[0], ==, 6);
  g_assert_cmphex (p[3], ==, 9);
}

typedef struct {
  const char *file;
  gint        code;
  const char *where;     /* "file:line" suffix to find in the message */
  const char *what;      /* and this */
} BadCase;

static void
run_bad_cases (const BadCase *cases,
               gsize          n_cases)
{
  for (gsize i = 0; i < n_cases; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(EwFlashContainer) c = load_fixture (cases[i].file, &error);

      g_test_message ("%s: %s", cases[i].file, error != NULL ? error->message : "(accepted)");
      g_assert_null (c);
      g_assert_error (error, EW_FLASH_ERROR, cases[i].code);
      g_assert_nonnull (strstr (error->message, cases[i].where));
      g_assert_nonnull (strstr (error->message, cases[i].what));
    }
}

static void
test_ihex_bad (void)
{
  static const BadCase cases[] = {
    { "bad-checksum.hex", EW_FLASH_ERROR_PARSE, "bad-checksum.hex:2:", "expected 0x68, found 0x69" },
    { "bad-digit.hex", EW_FLASH_ERROR_PARSE, "bad-digit.hex:2:16:", "'G' is not a hex digit" },
    { "short.hex", EW_FLASH_ERROR_PARSE, "short.hex:2:", "record too short" },
    { "long.hex", EW_FLASH_ERROR_PARSE, "long.hex:2:", "record too long" },
    { "no-eof.hex", EW_FLASH_ERROR_PARSE, "no-eof.hex:2:", "without an end-of-file record" },
    { "mid-record.hex", EW_FLASH_ERROR_PARSE, "mid-record.hex:2:", "ends in the middle of a record" },
    { "bad-type.hex", EW_FLASH_ERROR_UNSUPPORTED, "bad-type.hex:2:", "unsupported record type 06" },
    { "overflow.hex", EW_FLASH_ERROR_ADDRESS, "overflow.hex:2:", "past 4 GiB" },
    { "overlap-conflict.hex", EW_FLASH_ERROR_OVERLAP, "overlap-conflict.hex",
      "at address 0x0000010C: line 1 gives 0x0C, line 3 gives 0x55" },
  };

  run_bad_cases (cases, G_N_ELEMENTS (cases));
}

/* ---- S-record ---- */

static void
test_srec_good (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EwFlashContainer) c = load_fixture ("good.srec", &error);
  g_autoptr(EwFlashContainer) c6 = NULL;
  g_autoptr(GBytes) bytes = NULL;
  const guint8 *p;
  guint32 start = 0;

  g_assert_no_error (error);
  g_assert_cmpint (ew_flash_container_get_format (c), ==, EW_FLASH_FORMAT_SREC);
  g_assert_cmpstr (ew_flash_container_get_description (c), ==, "fixture header");
  g_assert_cmpuint (ew_flash_container_get_n_blocks (c), ==, 3);
  assert_block (c, 0, 0x1000, 16);       /* S1 */
  assert_block (c, 1, 0x012000, 16);     /* S2 */
  assert_block (c, 2, 0x80000000, 24);   /* S3, two records */
  g_assert_true (ew_flash_container_get_start_address (c, &start));
  g_assert_cmphex (start, ==, 0x80000000);
  bytes = read_range (c, 0x8000000E, 4, 0);
  p = g_bytes_get_data (bytes, NULL);
  g_assert_cmphex (p[0], ==, 46);
  g_assert_cmphex (p[3], ==, 49);

  c6 = load_fixture ("good-s6.srec", &error);
  g_assert_no_error (error);
  assert_block (c6, 0, 0x10, 4);
  g_assert_true (ew_flash_container_get_start_address (c6, &start));
  g_assert_cmphex (start, ==, 0x10);
}

static void
test_srec_bad (void)
{
  static const BadCase cases[] = {
    { "bad-count.srec", EW_FLASH_ERROR_PARSE, "bad-count.srec:4:", "S5 says 3 data records, the file has 2" },
    { "bad-checksum.srec", EW_FLASH_ERROR_PARSE, "bad-checksum.srec:3:", "bad checksum: expected 0x54, found 0x01" },
    { "bad-digit.srec", EW_FLASH_ERROR_PARSE, "bad-digit.srec:2:11:", "'x' is not a hex digit" },
    { "no-end.srec", EW_FLASH_ERROR_PARSE, "no-end.srec:3:", "without a termination record" },
    { "bad-type.srec", EW_FLASH_ERROR_UNSUPPORTED, "bad-type.srec:2:", "unsupported record type S4" },
    { "short.srec", EW_FLASH_ERROR_PARSE, "short.srec:2:", "record too short" },
    { "overflow.srec", EW_FLASH_ERROR_ADDRESS, "overflow.srec:1:", "past 4 GiB" },
  };

  run_bad_cases (cases, G_N_ELEMENTS (cases));
}

/* ---- raw + descriptor ---- */

static void
test_raw_good (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EwFlashContainer) c = load_fixture ("good.xml", &error);
  g_autoptr(GBytes) bytes = NULL;
  const char *const *parts;
  const guint8 *p;

  g_assert_no_error (error);
  g_assert_cmpint (ew_flash_container_get_format (c), ==, EW_FLASH_FORMAT_RAW);
  g_assert_cmpstr (ew_flash_container_get_target_module (c), ==, "engine");
  g_assert_cmpstr (ew_flash_container_get_software_version (c), ==, "0700");
  g_assert_cmpstr (ew_flash_container_get_part_number (c), ==, "FIX-1");
  g_assert_cmpint (ew_flash_container_get_data_format (c), ==, 0);
  parts = ew_flash_container_get_compatible_part_numbers (c);
  g_assert_cmpuint (g_strv_length ((char **) parts), ==, 2);
  g_assert_cmpstr (parts[1], ==, "P2");
  g_assert_cmpstr (ew_flash_container_get_compatible_hardware_numbers (c)[0], ==, "H01");
  g_assert_cmpuint (ew_flash_container_get_n_blocks (c), ==, 2);
  assert_block (c, 0, 0x80020000, 256);
  assert_block (c, 1, 0x800A0000, 256);
  /* the binary repeats 0..255: offset 256 + 5 holds 5 */
  bytes = read_range (c, 0x80020005, 2, 0);
  p = g_bytes_get_data (bytes, NULL);
  g_assert_cmphex (p[0], ==, 5);
  g_assert_cmphex (p[1], ==, 6);
}

static void
test_raw_bad (void)
{
  static const BadCase cases[] = {
    { "bad-crc.xml", EW_FLASH_ERROR_CRC, "bad-crc.xml:15:", "says 0x12345678" },
    { "no-crc.xml", EW_FLASH_ERROR_SCHEMA, "no-crc.xml", "crc32 for the image or for every block" },
    { "past-end.xml", EW_FLASH_ERROR_IO, "past-end.xml:14:", "which has only 512" },
    { "overlap.xml", EW_FLASH_ERROR_OVERLAP, "at address 0x80020080: byte 128 of",
      "(block at line 14 of" },
    { "doctype.xml", EW_FLASH_ERROR_FORBIDDEN, "doctype.xml:2:", "DOCTYPE is not allowed" },
    { "schema.xml", EW_FLASH_ERROR_SCHEMA, "schema.xml:4:", "data-format" },
    { "not-xml.xml", EW_FLASH_ERROR_PARSE, "not-xml.xml:3:", "description" },
  };

  run_bad_cases (cases, G_N_ELEMENTS (cases));
}

/* ---- order, gaps and overlaps ---- */

static void
test_unsorted_gapped (void)
{
  g_autofree char *dir = make_temp_dir ();
  g_autofree char *path = NULL;
  g_autoptr(EwFlashContainer) c = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  guint8 a[64], b[40], d[16];
  const guint8 *p;
  /* written high to low, with a gap of 0x10 and an adjacent piece */
  Chunk chunks[] = {
    { 0x2000 + 64 + 16, b, sizeof b },
    { 0x2000 - 16, d, sizeof d },
    { 0x2000, a, sizeof a },
  };

  for (guint i = 0; i < sizeof a; i++)
    a[i] = (guint8) i;
  memset (b, 0xB0, sizeof b);
  memset (d, 0xD0, sizeof d);
  path = write_ihex (dir, "unsorted.hex", chunks, G_N_ELEMENTS (chunks));
  c = ew_flash_container_load (path, NULL, &error);
  g_assert_no_error (error);
  /* d and a touch: one block; b after a gap */
  g_assert_cmpuint (ew_flash_container_get_n_blocks (c), ==, 2);
  assert_block (c, 0, 0x2000 - 16, 16 + 64);
  assert_block (c, 1, 0x2000 + 64 + 16, 40);

  bytes = read_range (c, 0x2000 - 16, 16 + 64 + 16 + 40, 0x5A);
  p = g_bytes_get_data (bytes, NULL);
  g_assert_cmpmem (p, 16, d, 16);
  g_assert_cmpmem (p + 16, 64, a, 64);
  for (guint i = 0; i < 16; i++)
    g_assert_cmphex (p[16 + 64 + i], ==, 0x5A);
  g_assert_cmpmem (p + 96, 40, b, 40);
  ew_test_remove_tree (dir);
}

static void
test_overlap_identical (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EwFlashContainer) c = load_fixture ("overlap-same.hex", &error);
  g_autoptr(GBytes) bytes = NULL;
  const guint8 *p;

  g_assert_no_error (error);
  g_assert_cmpuint (ew_flash_container_get_n_blocks (c), ==, 1);
  assert_block (c, 0, 0xF8, 24);
  bytes = read_range (c, 0xF8, 24, 0);
  p = g_bytes_get_data (bytes, NULL);
  g_assert_cmphex (p[0], ==, 0xF0);
  for (guint i = 0; i < 16; i++)
    g_assert_cmphex (p[8 + i], ==, i);
}

static void
test_changed_after_load (void)
{
  g_autofree char *dir = make_temp_dir ();
  g_autofree char *good = fixture ("good.hex");
  g_autofree char *path = g_build_filename (dir, "changed.hex", NULL);
  g_autofree char *text = NULL;
  g_autoptr(EwFlashContainer) c = NULL;
  g_autoptr(EwFlashReader) reader = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) s = NULL;

  g_assert_true (g_file_get_contents (good, &text, NULL, NULL));
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  c = ew_flash_container_load (path, NULL, &error);
  g_assert_no_error (error);
  s = g_string_new (text);
  g_string_append (s, "\n");
  g_assert_true (g_file_set_contents (path, s->str, s->len, NULL));
  reader = ew_flash_reader_new (c, &error);
  g_assert_null (reader);
  g_assert_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "changed since it was checked"));
  ew_test_remove_tree (dir);
}

/* ---- versions ---- */

static void
test_version_compare (void)
{
  g_assert_cmpint (ew_flash_version_compare ("17.07.50", "18.03.00"), <, 0);
  g_assert_cmpint (ew_flash_version_compare ("19.11.00", "18.03.00"), >, 0);
  g_assert_cmpint (ew_flash_version_compare ("0245", "0612"), <, 0);
  g_assert_cmpint (ew_flash_version_compare ("0700", "700"), ==, 0);
  g_assert_cmpint (ew_flash_version_compare ("16.45.00", "16.45.00"), ==, 0);
  g_assert_cmpint (ew_flash_version_compare ("9.1", "10.0"), <, 0);
  g_assert_cmpint (ew_flash_version_compare ("1.2a", "1.2b"), <, 0);
}

/* ---- the streaming index on a large file ---- */

static guint8
pattern_byte (guint32 address)
{
  return (guint8) ((address * 2654435761u) >> 24);
}

static guint64
peak_rss_kib (void)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return 0;
  line = strstr (status, "VmHWM:");
  return line != NULL ? g_ascii_strtoull (line + 6, NULL, 10) : 0;
}

/* Writes target_bytes of Intel HEX, 32 data bytes a record, streaming. */
static guint64
write_large_ihex (const char *path,
                  guint64     target_bytes,
                  guint32     base)
{
  static const char digits[] = "0123456789ABCDEF";
  FILE *f = fopen (path, "w");
  guint64 written = 0, data_bytes = 0;
  guint32 a = base;
  char line[96];

  g_assert_nonnull (f);
  while (written < target_bytes)
    {
      guint8 sum;
      gsize n = 0;

      if ((a & 0xFFFF) == 0)
        {
          written += fprintf (f, ":02000004%04X%02X\n", a >> 16,
                              (guint8) (0x100 - (2 + 4 + (a >> 24) + ((a >> 16) & 0xFF))));
        }
      sum = (guint8) (32 + ((a >> 8) & 0xFF) + (a & 0xFF));
      line[n++] = ':';
      line[n++] = '2';
      line[n++] = '0';
      for (gint s = 12; s >= 0; s -= 4)
        line[n++] = digits[(a >> s) & 0xF];
      line[n++] = '0';
      line[n++] = '0';
      for (guint i = 0; i < 32; i++)
        {
          guint8 v = pattern_byte (a + i);

          line[n++] = digits[v >> 4];
          line[n++] = digits[v & 0xF];
          sum += v;
        }
      sum = (guint8) (0x100 - sum);
      line[n++] = digits[sum >> 4];
      line[n++] = digits[sum & 0xF];
      line[n++] = '\n';
      g_assert_cmpuint (fwrite (line, 1, n, f), ==, n);
      written += n;
      data_bytes += 32;
      a += 32;
    }
  written += fprintf (f, ":00000001FF\n");
  g_assert_cmpint (fclose (f), ==, 0);
  return data_bytes;
}

static gboolean
large_body (guint64 file_bytes)
{
  g_autofree char *dir = make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "large.hex", NULL);
  g_autoptr(EwFlashContainer) c = NULL;
  g_autoptr(EwFlashReader) reader = NULL;
  g_autoptr(GError) error = NULL;
  const guint32 base = 0x01000000;
  guint64 data_bytes, checked = 0;
  guint8 buffer[4094];
  gint64 t0 = g_get_monotonic_time ();

  data_bytes = write_large_ihex (path, file_bytes, base);
  c = ew_flash_container_load (path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ew_flash_container_get_n_blocks (c), ==, 1);
  assert_block (c, 0, base, (guint32) data_bytes);
  /* one run per 64 KiB segment, not one entry per record */
  g_assert_cmpuint (ew_flash_container_get_n_index_entries (c), <=, data_bytes / 0x10000 + 1);

#ifdef UNDER_ASAN
  /* about 4 s on a build machine; a slow one must not stall the suite */
  if (g_get_monotonic_time () - t0 > 30 * G_USEC_PER_SEC)
    {
      g_printerr ("# AddressSanitizer build: writing and parsing took over 30 s, "
                  "skipping the read-through and the memory bound\n");
      g_test_skip ("too slow under AddressSanitizer");
      ew_test_remove_tree (dir);
      return FALSE;
    }
#endif
  reader = ew_flash_reader_new (c, &error);
  g_assert_no_error (error);
  for (guint64 a = base; a < base + data_bytes; a += sizeof buffer)
    {
      gsize n = (gsize) MIN (sizeof buffer, base + data_bytes - a);

      g_assert_true (ew_flash_reader_read (reader, (guint32) a, buffer, n, 0xFF, &error));
      for (gsize i = 0; i < n; i++)
        if (buffer[i] != pattern_byte ((guint32) (a + i)))
          g_error ("byte at 0x%08" G_GINT64_MODIFIER "X is 0x%02X, expected 0x%02X",
                   a + i, buffer[i], pattern_byte ((guint32) (a + i)));
      checked += n;
    }
  g_assert_cmpuint (checked, ==, data_bytes);
  /* stderr: the subprocess's own messages would not reach the log */
  g_printerr ("# %" G_GUINT64_FORMAT " MiB file, %" G_GUINT64_FORMAT " MiB data, %u index "
                  "entries, %.1f s, peak RSS %" G_GUINT64_FORMAT " KiB\n", file_bytes >> 20,
                  data_bytes >> 20, ew_flash_container_get_n_index_entries (c),
                  (g_get_monotonic_time () - t0) / 1e6, peak_rss_kib ());
  ew_test_remove_tree (dir);
  return TRUE;
}

static void
test_large_subprocess (void)
{
  if (!g_test_subprocess ())
    {
      g_test_skip ("runs inside /flash-container/large");
      return;
    }
  /* also under AddressSanitizer: there it takes about 4 s and its
   * shadow memory stays well inside the bound */
  if (!large_body (256 * 1024 * 1024))
    return;
  /* the whole process, from its start: it did nothing else */
  g_assert_cmpuint (peak_rss_kib (), >, 0);
  g_assert_cmpuint (peak_rss_kib (), <, 64 * 1024);
}

static void
test_large (void)
{
  struct statvfs vfs;

  if (statvfs (g_get_tmp_dir (), &vfs) != 0 ||
      (guint64) vfs.f_bavail * vfs.f_frsize < G_GUINT64_CONSTANT (1) << 30)
    {
      g_test_skip ("less than 1 GiB free in the temporary folder for the 256 MiB container");
      return;
    }
  /* a fresh process, so its peak RSS is this test's alone */
  g_test_trap_subprocess ("/flash-container/large/subprocess", 110 * G_USEC_PER_SEC,
                          G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

/* ---- shipped samples ---- */

static char *
sample_name (const EwFamily *family,
             const EwModule *module)
{
  switch (ew_flash_sample_format (family))
    {
    case EW_FLASH_FORMAT_IHEX: return g_strdup_printf ("%s-%s.hex", family->id, module->id);
    case EW_FLASH_FORMAT_SREC: return g_strdup_printf ("%s-%s.srec", family->id, module->id);
    case EW_FLASH_FORMAT_RAW:
    default:                   return g_strdup_printf ("%s-%s.xml", family->id, module->id);
    }
}

static void
assert_same_file (const char *a,
                  const char *b)
{
  g_autofree char *x = NULL, *y = NULL;
  gsize nx = 0, ny = 0;

  g_assert_true (g_file_get_contents (a, &x, &nx, NULL));
  if (!g_file_get_contents (b, &y, &ny, NULL))
    g_error ("%s is missing: regenerate the samples (see data/flash/README.md)", b);
  if (nx != ny || memcmp (x, y, nx) != 0)
    g_error ("%s differs from what the generator writes: regenerate the samples", b);
}

static void
test_samples (void)
{
  g_autoptr(EwVehicleDatabase) db = load_database ();
  GPtrArray *families = ew_vehicle_database_get_families (db);
  g_autofree char *shipped = ew_data_path ("flash");
  g_autofree char *dir = make_temp_dir ();
  const char *update = g_getenv ("EW_FLASH_SAMPLES_UPDATE");
  guint n_samples = 0;
  guint formats_seen = 0;

  if (update != NULL && *update != '\0')
    {
      g_free (shipped);
      shipped = g_strdup (update);
    }
  for (guint f = 0; f < families->len; f++)
    {
      const EwFamily *family = g_ptr_array_index (families, f);

      for (guint m = 0; m < family->modules->len; m++)
        {
          const EwModule *module = g_ptr_array_index (family->modules, m);
          g_autoptr(GError) error = NULL;
          g_autofree char *fresh = NULL;
          g_autofree char *name = NULL;
          g_autofree char *path = NULL;
          g_autofree char *version = NULL;
          g_autofree char *sim_part = NULL;
          g_autofree char *upper = NULL;
          g_autoptr(EwFlashContainer) c = NULL;
          g_autoptr(EwFlashCheckResult) result = NULL;
          g_autoptr(GBytes) header = NULL;
          EwFlashCheckOptions options = { 0 };
          guint32 header_address = 0;

          if (module->flash == NULL)
            continue;
          name = sample_name (family, module);
          fresh = ew_flash_sample_write (family, module, update != NULL && *update != '\0' ? shipped : dir,
                                         &error);
          g_assert_no_error (error);
          path = g_build_filename (shipped, name, NULL);
          assert_same_file (fresh, path);
          if (ew_flash_sample_format (family) == EW_FLASH_FORMAT_RAW)
            {
              g_autofree char *bin = g_strdup_printf ("%s-%s.bin", family->id, module->id);
              g_autofree char *fresh_bin = g_build_filename (dir, bin, NULL);
              g_autofree char *shipped_bin = g_build_filename (shipped, bin, NULL);

              if (update == NULL || *update == '\0')
                assert_same_file (fresh_bin, shipped_bin);
            }

          c = ew_flash_container_load (path, NULL, &error);
          g_assert_no_error (error);
          formats_seen |= 1u << ew_flash_container_get_format (c);
          if (ew_flash_container_get_target_module (c) == NULL)
            ew_flash_container_set_target_module (c, module->id);
          version = ew_flash_sample_software_version (family, module);
          g_assert_cmpstr (ew_flash_container_get_software_version (c), ==, version);
          g_assert_true (g_str_has_prefix (ew_flash_container_get_part_number (c), "DEMO-"));
          g_assert_true (ew_flash_container_get_app_header_address (c, &header_address));

          /* the module as the simulated car reports it by default */
          upper = g_ascii_strup (module->id, -1);
          sim_part = g_strdup_printf ("EW%.8s%04X", upper, g_str_hash (module->id) & 0xFFFF);
          options.part_number = sim_part;
          options.hardware_number = "H01";
          options.software_version = "16.07.00";
          if (strchr (version, '.') == NULL)
            options.software_version = "0500";
          result = ew_flash_container_check (c, family, module, &options, &error);
          g_assert_no_error (error);
          g_assert_false (result->is_downgrade);
          g_assert_cmpuint (result->segments->len, >=, 2);
          g_assert_cmpint (g_array_index (result->segments, EwFlashSegment, 0).region->kind, !=,
                           EW_FLASH_REGION_BOOTLOADER);

          /* the header the simulator will look for, at the region's start */
          header = read_range (c, header_address, EW_SIM_APP_HEADER_LENGTH, 0xFF);
          g_assert_cmpmem (g_bytes_get_data (header, NULL), EW_SIM_APP_HEADER_MAGIC_LENGTH,
                           EW_SIM_APP_HEADER_MAGIC, EW_SIM_APP_HEADER_MAGIC_LENGTH);
          g_assert_cmpuint (ew_flash_container_get_total_length (c), >=, 4096);

          /* laid onto the simulated module's flash, segment by segment with
           * the gaps filled, the simulator finds the header it wants */
          {
            g_autoptr(EwSimFlash) flash = ew_sim_flash_new (module->flash);
            g_autoptr(EwFlashReader) reader = ew_flash_reader_new (c, &error);
            g_autofree char *sim_version = NULL, *sim_part_read = NULL;
            guint block = module->programming != NULL && module->programming->max_block_length > 2
                          ? module->programming->max_block_length - 2 : 1024;
            g_autofree guint8 *buffer = g_malloc (block);
            guint32 crc = 0;

            g_assert_no_error (error);
            g_assert_cmpuint (ew_sim_flash_erase (flash, 0, 0), >=, 2);
            for (guint s = 0; s < result->segments->len; s++)
              {
                const EwFlashSegment *seg = &g_array_index (result->segments, EwFlashSegment, s);

                for (guint32 off = 0; off < seg->length; off += block)
                  {
                    gsize n = MIN (block, seg->length - off);

                    g_assert_true (ew_flash_reader_read (reader, seg->address + off, buffer, n,
                                                         module->flash->fill_byte, &error));
                    g_assert_true (ew_sim_flash_write (flash, seg->address + off, buffer, n));
                    crc = ew_flash_crc32 (crc, buffer, n);
                  }
              }
            g_assert_true (ew_sim_flash_get_app_header (flash, &sim_version, &sim_part_read));
            g_assert_cmpstr (sim_version, ==, version);
            g_assert_cmpstr (sim_part_read, ==, ew_flash_container_get_part_number (c));
            g_assert_cmphex (ew_sim_flash_get_crc32 (flash), ==, crc);
          }
          n_samples++;
        }
    }
  g_assert_cmpuint (n_samples, ==, 12);
  g_assert_cmphex (formats_seen, ==, 0x7);
  ew_test_remove_tree (dir);
}

/* ---- the check's refusals ---- */

typedef struct {
  EwVehicleDatabase *db;
  EwFamily          *family;
  const EwModule    *module;   /* bmw-f30 hu */
  char              *dir;
} CheckFixture;

static void
check_setup (CheckFixture *fx,
             gconstpointer data)
{
  (void) data;
  fx->db = load_database ();
  fx->family = ew_vehicle_database_find_family (fx->db, "bmw-f30");
  g_assert_nonnull (fx->family);
  fx->module = ew_family_find_module (fx->family, "hu");
  g_assert_nonnull (fx->module);
  fx->dir = make_temp_dir ();
}

static void
check_teardown (CheckFixture *fx,
                gconstpointer data)
{
  (void) data;
  ew_test_remove_tree (fx->dir);
  g_free (fx->dir);
  ew_vehicle_database_free (fx->db);
}

/* A HEX file with the application header and some data at address. */
static EwFlashContainer *
app_container (CheckFixture *fx,
               const char   *name,
               guint32       address,
               const char   *version)
{
  g_autoptr(GBytes) header = ew_sim_app_header_build (version, "DEMO-TEST");
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  guint8 data[256];
  EwFlashContainer *c;

  memset (data, 0x11, sizeof data);
  memcpy (data, g_bytes_get_data (header, NULL), EW_SIM_APP_HEADER_LENGTH);
  {
    Chunk chunk = { address, data, sizeof data };

    path = write_ihex (fx->dir, name, &chunk, 1);
  }
  c = ew_flash_container_load (path, NULL, &error);
  g_assert_no_error (error);
  return c;
}

static void
expect_refusal (CheckFixture              *fx,
                const EwFlashContainer    *c,
                const EwFlashCheckOptions *options,
                gint                       code,
                const char                *what)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EwFlashCheckResult) result = ew_flash_container_check (c, fx->family, fx->module,
                                                                   options, &error);

  g_test_message ("%s", error != NULL ? error->message : "(accepted)");
  g_assert_null (result);
  g_assert_error (error, EW_FLASH_ERROR, code);
  g_assert_nonnull (strstr (error->message, what));
}

static void
test_check_refusals (CheckFixture *fx,
                     gconstpointer data)
{
  g_autoptr(EwFlashContainer) good = app_container (fx, "good.hex", 0x00080000, "19.00.00");
  g_autoptr(EwFlashContainer) old = app_container (fx, "old.hex", 0x00080000, "18.01.00");
  g_autoptr(EwFlashContainer) boot = app_container (fx, "boot.hex", 0x00000100, "19.00.00");
  g_autoptr(EwFlashContainer) outside = app_container (fx, "outside.hex", 0x02000000, "19.00.00");
  g_autoptr(EwFlashContainer) misplaced = app_container (fx, "misplaced.hex", 0x00080100, "19.00.00");
  g_autoptr(EwFlashContainer) raw = NULL;
  g_autoptr(EwFlashCheckResult) result = NULL;
  g_autoptr(GError) error = NULL;
  EwFlashCheckOptions options = { .software_version = "18.03.00" };

  (void) data;
  /* accepted as it is */
  result = ew_flash_container_check (good, fx->family, fx->module, &options, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (result->minimum_software, ==, "18.03.00");
  g_assert_cmpuint (result->segments->len, ==, 1);
  g_assert_cmpstr (g_array_index (result->segments, EwFlashSegment, 0).region->name, ==,
                   "Application software");
  g_clear_pointer (&result, ew_flash_check_result_free);

  /* wrong target module */
  ew_flash_container_set_target_module (good, "kombi");
  expect_refusal (fx, good, &options, EW_FLASH_ERROR_WRONG_MODULE, "is for module 'kombi', not for hu");
  ew_flash_container_set_target_module (good, "hu");

  /* below the family's minimum for CarPlay */
  expect_refusal (fx, old, NULL, EW_FLASH_ERROR_SOFTWARE_TOO_OLD, "18.01.00, below 18.03.00");

  /* a downgrade, refused and then allowed and reported */
  options.software_version = "20.01.00";
  expect_refusal (fx, good, &options, EW_FLASH_ERROR_DOWNGRADE,
                  "is a downgrade: it carries software 19.00.00, module hu runs 20.01.00");
  options.allow_downgrade = TRUE;
  result = ew_flash_container_check (good, fx->family, fx->module, &options, &error);
  g_assert_no_error (error);
  g_assert_true (result->is_downgrade);
  g_clear_pointer (&result, ew_flash_check_result_free);
  options = (EwFlashCheckOptions) { 0 };

  /* bootloader, unless a bootloader update is planned */
  expect_refusal (fx, boot, NULL, EW_FLASH_ERROR_BOOTLOADER,
                  "block 1 (0x00000100 to 0x000001FF) writes into region 'Bootloader'");
  options.allow_bootloader = TRUE;
  /* ... and then its header is not where the simulator wants it */
  expect_refusal (fx, boot, &options, EW_FLASH_ERROR_APP_HEADER, "0x00000100 is not at the start");
  options.allow_bootloader = FALSE;

  expect_refusal (fx, outside, NULL, EW_FLASH_ERROR_OUTSIDE_LAYOUT,
                  "block 1 (0x02000000 to 0x020000FF) reaches 0x02000000, which is in no flash region");
  expect_refusal (fx, misplaced, NULL, EW_FLASH_ERROR_APP_HEADER, "0x00080100");
}

static void
test_check_identification (CheckFixture *fx,
                           gconstpointer data)
{
  g_autofree char *fixture_bin = fixture ("good.bin");
  g_autofree char *fixture_xml = fixture ("good.xml");
  g_autofree char *bin = g_build_filename (fx->dir, "good.bin", NULL);
  g_autofree char *xml = g_build_filename (fx->dir, "hu.xml", NULL);
  g_autofree char *contents = NULL;
  g_autofree char *text = NULL;
  g_autoptr(GString) s = NULL;
  g_autoptr(EwFlashContainer) c = NULL;
  g_autoptr(EwFlashCheckResult) result = NULL;
  g_autoptr(GError) error = NULL;
  EwFlashCheckOptions options = { .part_number = "P2", .hardware_number = "H01" };
  gsize length;

  (void) data;
  g_assert_true (g_file_get_contents (fixture_bin, &contents, &length, NULL));
  g_assert_true (g_file_set_contents (bin, contents, length, NULL));
  g_assert_true (g_file_get_contents (fixture_xml, &text, NULL, NULL));
  s = g_string_new (text);
  /* for the head unit, into its application and calibration regions */
  g_string_replace (s, "module=\"engine\"", "module=\"hu\"", 1);
  g_string_replace (s, "0x80020000", "0x00F80000", 1);
  g_string_replace (s, "0x800A0000", "0x00080000", 1);
  g_string_replace (s, "0700", "19.00.00", 1);
  g_assert_true (g_file_set_contents (xml, s->str, s->len, NULL));
  c = ew_flash_container_load (xml, NULL, &error);
  g_assert_no_error (error);

  result = ew_flash_container_check (c, fx->family, fx->module, &options, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (result->segments->len, ==, 2);

  options.part_number = "P3";
  expect_refusal (fx, c, &options, EW_FLASH_ERROR_INCOMPATIBLE, "Module hu has part number P3; ");
  options.part_number = NULL;
  expect_refusal (fx, c, &options, EW_FLASH_ERROR_INCOMPATIBLE, "only for part numbers P1, P2");
  options.part_number = "P1";
  options.hardware_number = "H02";
  expect_refusal (fx, c, &options, EW_FLASH_ERROR_INCOMPATIBLE, "has hardware H02");

  /* another data format than the module's */
  options.hardware_number = "H01";
  g_string_replace (s, "<data-format>0x00</data-format>", "<data-format>0x11</data-format>", 1);
  g_assert_true (g_file_set_contents (xml, s->str, s->len, NULL));
  g_clear_pointer (&c, ew_flash_container_free);
  c = ew_flash_container_load (xml, NULL, &error);
  g_assert_no_error (error);
  expect_refusal (fx, c, &options, EW_FLASH_ERROR_DATA_FORMAT, "uses data format 0x11; module hu takes only 0x00");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/flash-container/ihex/good", test_ihex_good);
  g_test_add_func ("/flash-container/ihex/crlf", test_ihex_crlf);
  g_test_add_func ("/flash-container/ihex/bad", test_ihex_bad);
  g_test_add_func ("/flash-container/srec/good", test_srec_good);
  g_test_add_func ("/flash-container/srec/bad", test_srec_bad);
  g_test_add_func ("/flash-container/raw/good", test_raw_good);
  g_test_add_func ("/flash-container/raw/bad", test_raw_bad);
  g_test_add_func ("/flash-container/unsorted-gapped", test_unsorted_gapped);
  g_test_add_func ("/flash-container/overlap-identical", test_overlap_identical);
  g_test_add_func ("/flash-container/changed-after-load", test_changed_after_load);
  g_test_add_func ("/flash-container/version-compare", test_version_compare);
  g_test_add_func ("/flash-container/large", test_large);
  g_test_add_func ("/flash-container/large/subprocess", test_large_subprocess);
  g_test_add_func ("/flash-container/samples", test_samples);
  g_test_add ("/flash-container/check/refusals", CheckFixture, NULL,
              check_setup, test_check_refusals, check_teardown);
  g_test_add ("/flash-container/check/identification", CheckFixture, NULL,
              check_setup, test_check_identification, check_teardown);

  return g_test_run ();
}
