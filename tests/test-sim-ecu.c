/* test-sim-ecu.c — the simulated control units as UDS servers: request
 * bytes in, response bytes out, and the module's state afterwards. Runs
 * on the shipped vehicle data and the shipped scenario profiles.
 */
#include <string.h>

#include <gio/gio.h>

#include "data-dir.h"
#include "sim/sim-ecu.h"
#include "sim/sim-flash.h"
#include "uds/toy-seedkey.h"
#include "vehicle/database.h"
#include "test-util.h"

static EwVehicleDatabase *db;

static EwFamily *
family (const char *id)
{
  EwFamily *f = ew_vehicle_database_find_family (db, id);
  g_assert_nonnull (f);
  return f;
}

/* A fake clock the tests move by hand. */
static gint64 fake_now = 1000000;

static gint64
fake_clock (gpointer user_data)
{
  (void) user_data;
  return fake_now;
}

static EwSimEcu *
ecu_new_full (const char   *family_id,
              const char   *module_id,
              EwSimProfile *profile,
              const char   *fault_spec)
{
  EwFamily *f = family (family_id);
  const EwModule *module = ew_family_find_module (f, module_id);
  g_autoptr(EwSimProfile) own = NULL;
  g_autoptr(EwSimFaults) faults = NULL;
  g_autoptr(GError) error = NULL;
  EwSimEcu *ecu;

  g_assert_nonnull (module);
  if (profile == NULL)
    profile = own = ew_sim_profile_new_default (f, NULL);
  if (fault_spec != NULL)
    {
      faults = ew_sim_faults_parse (fault_spec, &error);
      g_assert_no_error (error);
    }
  ecu = ew_sim_ecu_new (f, module, profile, faults);
  ew_sim_ecu_set_clock (ecu, fake_clock, NULL);
  ew_sim_ecu_set_sleeps (ecu, FALSE);
  return ecu;
}

static EwSimEcu *
kombi_new (void)
{
  return ecu_new_full ("bmw-f30", "kombi", NULL, NULL);
}

static GBytes *
hex_bytes (const char *hex)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();

  for (const char *p = hex; *p != '\0'; )
    {
      guint8 b;
      if (*p == ' ')
        {
          p++;
          continue;
        }
      g_assert_true (g_ascii_isxdigit (p[0]) && g_ascii_isxdigit (p[1]));
      b = (guint8) (g_ascii_xdigit_value (p[0]) << 4 | g_ascii_xdigit_value (p[1]));
      g_byte_array_append (out, &b, 1);
      p += 2;
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

static char *
to_hex (const guint8 *data,
        gsize         n)
{
  GString *s = g_string_new (NULL);
  for (gsize i = 0; i < n; i++)
    g_string_append_printf (s, "%s%02X", i > 0 ? " " : "", data[i]);
  return g_string_free (s, FALSE);
}

static void
collect (const guint8 *response,
         gsize         length,
         gpointer      user_data)
{
  g_ptr_array_add (user_data, to_hex (response, length));
}

/* Sends request bytes; returns every answer as "XX XX ..." (transfer full). */
static GPtrArray *
send_raw (EwSimEcu     *ecu,
          const guint8 *data,
          gsize         n,
          gboolean      is_functional)
{
  GPtrArray *answers = g_ptr_array_new_with_free_func (g_free);
  ew_sim_ecu_handle_request (ecu, data, n, is_functional, collect, answers);
  return answers;
}

static GPtrArray *
send_hex (EwSimEcu   *ecu,
          const char *hex)
{
  g_autoptr(GBytes) req = hex_bytes (hex);
  return send_raw (ecu, g_bytes_get_data (req, NULL), g_bytes_get_size (req), FALSE);
}

/* One request, exactly one answer expected, compared as hex text. */
#define expect(ecu, req, resp) G_STMT_START { \
  g_autoptr(GPtrArray) _a = send_hex ((ecu), (req)); \
  g_assert_cmpuint (_a->len, ==, 1); \
  g_assert_cmpstr (g_ptr_array_index (_a, 0), ==, (resp)); \
} G_STMT_END

#define expect_silence(ecu, req) G_STMT_START { \
  g_autoptr(GPtrArray) _a = send_hex ((ecu), (req)); \
  g_assert_cmpuint (_a->len, ==, 0); \
} G_STMT_END

static void
unlock (EwSimEcu *ecu,
        guint8    level)
{
  g_autofree char *req = g_strdup_printf ("27 %02X", level);
  g_autoptr(GPtrArray) a = send_hex (ecu, req);
  g_autoptr(GBytes) seed = NULL;
  guint8 key[4];
  guint8 send_key[6];
  g_autoptr(GPtrArray) b = NULL;

  g_assert_cmpuint (a->len, ==, 1);
  seed = hex_bytes (g_ptr_array_index (a, 0));
  g_assert_cmpuint (g_bytes_get_size (seed), ==, 6);
  ew_toy_seedkey_compute (level, (const guint8 *) g_bytes_get_data (seed, NULL) + 2, 4, key);
  send_key[0] = 0x27;
  send_key[1] = level + 1;
  memcpy (send_key + 2, key, 4);
  b = send_raw (ecu, send_key, 6, FALSE);
  g_assert_cmpuint (b->len, ==, 1);
  g_assert_cmpuint (ew_sim_ecu_get_unlocked_level (ecu), ==, level);
}

/* ---- sessions ---- */

static void
test_sessions (void)
{
  g_autoptr(EwSimEcu) ecu = kombi_new ();

  g_assert_cmpuint (ew_sim_ecu_get_session (ecu), ==, 0x01);
  /* P2 50 ms = 0x0032, P2* 5000 ms = 500 x 10 ms = 0x01F4 */
  expect (ecu, "10 03", "50 03 00 32 01 F4");
  g_assert_cmpuint (ew_sim_ecu_get_session (ecu), ==, 0x03);
  expect (ecu, "22 F1 86", "62 F1 86 03");
  expect (ecu, "10 02", "50 02 00 32 01 F4");
  expect (ecu, "10 01", "50 01 00 32 01 F4");
  expect (ecu, "10 04", "7F 10 12");
  expect (ecu, "10", "7F 10 13");
  expect (ecu, "10 03 00", "7F 10 13");
  /* suppressPosRspMsgIndicationBit: the session changes, no answer */
  expect_silence (ecu, "10 83");
  g_assert_cmpuint (ew_sim_ecu_get_session (ecu), ==, 0x03);
  /* tester present with and without the bit */
  expect (ecu, "3E 00", "7E 00");
  expect_silence (ecu, "3E 80");
  expect (ecu, "3E 01", "7F 3E 12");
  expect (ecu, "3E 00 00", "7F 3E 13");
}

static void
test_s3_timeout (void)
{
  g_autoptr(EwSimEcu) ecu = kombi_new ();

  expect (ecu, "10 03", "50 03 00 32 01 F4");
  unlock (ecu, 0x01);
  fake_now += 4000 * 1000;
  ew_sim_ecu_tick (ecu, fake_now);
  g_assert_cmpuint (ew_sim_ecu_get_session (ecu), ==, 0x03);
  expect_silence (ecu, "3E 80");   /* keeps the session alive */
  fake_now += 4000 * 1000;
  ew_sim_ecu_tick (ecu, fake_now);
  g_assert_cmpuint (ew_sim_ecu_get_session (ecu), ==, 0x03);
  fake_now += 5100 * 1000;
  ew_sim_ecu_tick (ecu, fake_now);
  g_assert_cmpuint (ew_sim_ecu_get_session (ecu), ==, 0x01);
  g_assert_cmpuint (ew_sim_ecu_get_unlocked_level (ecu), ==, 0);
}

static void
test_nrc_priority (void)
{
  g_autoptr(EwSimEcu) ecu = kombi_new ();

  expect (ecu, "AA", "7F AA 11");
  /* not in the default session, whatever else is wrong */
  expect (ecu, "27", "7F 27 7F");
  expect (ecu, "2E 00", "7F 2E 7F");
  expect (ecu, "34 00 44", "7F 34 7F");
  expect (ecu, "28 05 01", "7F 28 7F");
  expect (ecu, "10 03", "50 03 00 32 01 F4");
  /* sub-function before length */
  expect (ecu, "27 55 00 00", "7F 27 12");
  expect (ecu, "27 01 00", "7F 27 13");
  /* functional requests suppress 0x11/0x12/0x31/0x7F */
  {
    guint8 req[] = { 0xAA };
    g_autoptr(GPtrArray) a = send_raw (ecu, req, 1, TRUE);
    g_assert_cmpuint (a->len, ==, 0);
  }
  {
    guint8 req[] = { 0x3E, 0x00 };
    g_autoptr(GPtrArray) a = send_raw (ecu, req, 2, TRUE);
    g_assert_cmpuint (a->len, ==, 1);
  }
  /* read memory: KOMBI's flash is not readable */
  expect (ecu, "23 14 00 04 00 00 10", "7F 23 11");
}

/* ---- security ---- */

static void
test_security (void)
{
  g_autoptr(EwSimEcu) ecu = kombi_new ();
  g_autoptr(GPtrArray) seed = NULL;

  expect (ecu, "10 03", "50 03 00 32 01 F4");
  expect (ecu, "27 02 00 00 00 00", "7F 27 24");   /* key without seed */
  seed = send_hex (ecu, "27 01");
  g_assert_cmpuint (seed->len, ==, 1);
  g_assert_true (g_str_has_prefix (g_ptr_array_index (seed, 0), "67 01 "));
  g_assert_cmpstr (g_ptr_array_index (seed, 0), !=, "67 01 00 00 00 00");
  expect (ecu, "27 02 00 00 00 00", "7F 27 35");
  g_assert_cmpuint (ew_sim_ecu_get_unlocked_level (ecu), ==, 0);
  unlock (ecu, 0x01);
  expect (ecu, "27 01", "67 01 00 00 00 00");      /* unlocked: zero seed */
  /* a session change locks again */
  expect (ecu, "10 02", "50 02 00 32 01 F4");
  g_assert_cmpuint (ew_sim_ecu_get_unlocked_level (ecu), ==, 0);
}

static void
test_security_lockout (void)
{
  g_autoptr(EwSimEcu) ecu = kombi_new ();

  expect (ecu, "10 03", "50 03 00 32 01 F4");
  /* max-attempts 3, lockout 10000 ms in the data */
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(GPtrArray) s = send_hex (ecu, "27 01");
      g_assert_cmpuint (s->len, ==, 1);
      expect (ecu, "27 02 00 00 00 00", i < 2 ? "7F 27 35" : "7F 27 36");
    }
  expect (ecu, "27 01", "7F 27 37");
  fake_now += 9000 * 1000;
  expect (ecu, "27 01", "7F 27 37");
  fake_now += 1100 * 1000;
  ew_sim_ecu_tick (ecu, fake_now);
  expect (ecu, "10 03", "50 03 00 32 01 F4");
  unlock (ecu, 0x01);
}

/* ---- data ---- */

static void
test_read_dids (void)
{
  EwFamily *f = family ("bmw-f30");
  g_autoptr(EwSimProfile) profile = ew_sim_profile_new_default (f, "WBA8E9C50GK123456");
  g_autoptr(EwSimEcu) ecu = ecu_new_full ("bmw-f30", "kombi", profile, NULL);
  g_autoptr(GPtrArray) a = NULL;
  g_autofree char *marker = to_hex ((const guint8 *) EW_SIM_ECU_MARKER, 16);
  g_autofree char *vin = to_hex ((const guint8 *) "WBA8E9C50GK123456", 17);
  g_autofree char *expected = g_strdup_printf ("62 FD 00 %s F1 90 %s F1 86 01", marker, vin);

  /* several DIDs in one request, in order; an unknown one left out */
  a = send_hex (ecu, "22 FD 00 F1 90 12 34 F1 86");
  g_assert_cmpuint (a->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (a, 0), ==, expected);
  expect (ecu, "22 12 34", "7F 22 31");
  expect (ecu, "22 F1", "7F 22 13");
  expect (ecu, "22", "7F 22 13");
  /* mileage store 0x1000: 4 bytes, 42000 km by default */
  expect (ecu, "22 10 00", "62 10 00 00 00 A4 10");
  g_assert_cmpuint (ew_sim_ecu_get_mileage_km (ecu, 0), ==, 42000);
}

static void
test_coding_write (void)
{
  g_autoptr(EwSimEcu) ecu = kombi_new ();
  const EwModule *module = ew_sim_ecu_get_module (ecu);
  const EwCodingDid *did = g_ptr_array_index (module->coding, 0);
  g_autoptr(GString) req = g_string_new (NULL);
  g_autoptr(GBytes) before = ew_sim_ecu_read_did (ecu, did->did);
  g_autoptr(GBytes) after = NULL;
  g_autofree char *ok = g_strdup_printf ("6E %02X %02X", did->did >> 8, did->did & 0xFF);

  g_string_append_printf (req, "2E %02X %02X", did->did >> 8, did->did & 0xFF);
  for (guint i = 0; i < did->length_bytes; i++)
    g_string_append (req, " A5");

  expect (ecu, req->str, "7F 2E 7F");              /* default session */
  expect (ecu, "10 02", "50 02 00 32 01 F4");
  expect (ecu, req->str, "7F 2E 31");              /* not the coding session */
  expect (ecu, "10 03", "50 03 00 32 01 F4");
  expect (ecu, req->str, "7F 2E 33");              /* locked */
  unlock (ecu, module->coding_security_level);
  expect (ecu, "2E F1 90 01", "7F 2E 13");
  expect (ecu, req->str, ok);
  after = ew_sim_ecu_read_did (ecu, did->did);
  g_assert_false (g_bytes_equal (before, after));
  g_assert_cmpuint (((const guint8 *) g_bytes_get_data (after, NULL))[0], ==, 0xA5);
  /* wrong length */
  {
    g_autofree char *short_req = g_strdup_printf ("2E %02X %02X 01", did->did >> 8, did->did & 0xFF);
    if (did->length_bytes != 1)
      expect (ecu, short_req, "7F 2E 13");
  }
  /* VIN write in the extended session with security */
  {
    g_autofree char *vin = to_hex ((const guint8 *) "WBA00000000000001", 17);
    g_autofree char *vin_req = g_strdup_printf ("2E F1 90 %s", vin);
    g_autoptr(GBytes) v = NULL;
    expect (ecu, vin_req, "6E F1 90");
    v = ew_sim_ecu_read_did (ecu, 0xF190);
    g_assert_cmpmem (g_bytes_get_data (v, NULL), 17, "WBA00000000000001", 17);
  }
}

static void
test_mileage_write (void)
{
  g_autoptr(EwSimEcu) ecu = kombi_new ();

  expect (ecu, "10 03", "50 03 00 32 01 F4");
  expect (ecu, "2E 10 00 00 01 00 00", "7F 2E 33");
  unlock (ecu, 0x01);
  /* lower than 42000: refused */
  expect (ecu, "2E 10 00 00 00 10 00", "7F 2E 31");
  g_assert_cmpuint (ew_sim_ecu_get_mileage_km (ecu, 0x1000), ==, 42000);
  expect (ecu, "2E 10 00 00 01 00 00", "6E 10 00");
  g_assert_cmpuint (ew_sim_ecu_get_mileage_km (ecu, 0x1000), ==, 65536);
  expect (ecu, "2E 10 00 00 00 A4 10", "7F 2E 31");
  expect (ecu, "2E 10 00 00 01", "7F 2E 13");

  /* FEM's copy is read-only */
  {
    g_autoptr(EwSimEcu) fem = ecu_new_full ("bmw-f30", "fem", NULL, NULL);
    expect (fem, "10 03", "50 03 00 32 01 F4");
    unlock (fem, 0x01);
    expect (fem, "2E 10 00 00 FF FF", "7F 2E 31");
  }
}

static void
test_dtcs (void)
{
  EwFamily *f = family ("bmw-f30");
  g_autoptr(GError) error = NULL;
  g_autoptr(EwSimProfile) profile = ew_sim_profile_load (f, "used-cluster", &error);
  g_autoptr(EwSimEcu) ecu = NULL;

  g_assert_no_error (error);
  ecu = ecu_new_full ("bmw-f30", "kombi", profile, NULL);
  expect (ecu, "19 01 FF", "59 01 FF 01 00 02");
  expect (ecu, "19 01 01", "59 01 FF 01 00 01");
  expect (ecu, "19 02 08", "59 02 FF B1 00 00 28 C1 00 00 09");
  expect (ecu, "19 02 01", "59 02 FF C1 00 00 09");
  expect (ecu, "19 0A", "59 0A FF B1 00 00 28 C1 00 00 09");
  expect (ecu, "19 03", "7F 19 12");
  expect (ecu, "19 02", "7F 19 13");
  expect (ecu, "14 FF FF", "7F 14 13");
  expect (ecu, "14 12 34 56", "7F 14 31");
  expect (ecu, "14 FF FF FF", "54");
  g_assert_cmpuint (ew_sim_ecu_get_n_dtcs (ecu), ==, 0);
  expect (ecu, "19 0A", "59 0A FF");
}

static void
test_communication_and_dtc_setting (void)
{
  g_autoptr(EwSimEcu) ecu = kombi_new ();

  expect (ecu, "10 03", "50 03 00 32 01 F4");
  expect (ecu, "28 03 01", "68 03");
  g_assert_false (ew_sim_ecu_get_communication_enabled (ecu));
  expect (ecu, "28 04 01", "7F 28 12");
  expect (ecu, "28 00 00", "7F 28 31");
  expect (ecu, "28 00", "7F 28 13");
  expect_silence (ecu, "28 80 01");
  g_assert_true (ew_sim_ecu_get_communication_enabled (ecu));
  expect (ecu, "85 02", "C5 02");
  g_assert_false (ew_sim_ecu_get_dtc_setting_enabled (ecu));
  expect (ecu, "85 03", "7F 85 12");
  expect_silence (ecu, "85 81");
  g_assert_true (ew_sim_ecu_get_dtc_setting_enabled (ecu));
  expect (ecu, "85 02", "C5 02");
  expect (ecu, "10 01", "50 01 00 32 01 F4");
  g_assert_true (ew_sim_ecu_get_dtc_setting_enabled (ecu));
}

static void
test_reset (void)
{
  g_autoptr(EwSimEcu) ecu = kombi_new ();

  expect (ecu, "10 03", "50 03 00 32 01 F4");
  expect (ecu, "11 04", "7F 11 12");
  expect (ecu, "11 01", "51 01");
  expect_silence (ecu, "3E 00");
  g_assert_true (ew_sim_ecu_is_silent (ecu));
  fake_now += 60 * 1000;
  ew_sim_ecu_tick (ecu, fake_now);
  g_assert_false (ew_sim_ecu_is_silent (ecu));
  g_assert_cmpuint (ew_sim_ecu_get_session (ecu), ==, 0x01);
  expect (ecu, "3E 00", "7E 00");
  expect_silence (ecu, "11 83");
  fake_now += 60 * 1000;
  expect (ecu, "3E 00", "7E 00");   /* wakes on the next request too */
}

/* ---- routines and download ---- */

typedef struct {
  guint32 start;
  guint32 size;
} Area;

static Area
application_area (EwSimEcu *ecu)
{
  const EwFlashLayout *layout = ew_sim_ecu_get_module (ecu)->flash;
  for (guint i = 0; i < layout->regions->len; i++)
    {
      const EwFlashRegion *r = g_ptr_array_index (layout->regions, i);
      if (r->kind == EW_FLASH_REGION_APPLICATION)
        return (Area) { r->start, r->size };
    }
  g_assert_not_reached ();
}

static void
enter_programming (EwSimEcu *ecu)
{
  expect (ecu, "10 03", "50 03 00 32 01 F4");
  expect (ecu, "31 01 02 03", "71 01 02 03 00");      /* preconditions */
  expect (ecu, "10 02", "50 02 00 32 01 F4");
  unlock (ecu, 0x11);
}

static void
erase (EwSimEcu *ecu)
{
  g_autoptr(GPtrArray) a = send_hex (ecu, "31 01 FF 00");
  g_assert_cmpuint (a->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (a, 0), ==, "7F 31 78");
  g_assert_cmpstr (g_ptr_array_index (a, 1), ==, "71 01 FF 00 00");
}

static GBytes *
image_new (const char *software,
           guint       size)
{
  g_autoptr(GBytes) header = ew_sim_app_header_build (software, "6832456-02");
  guint8 *data = g_malloc (size);

  memcpy (data, g_bytes_get_data (header, NULL), EW_SIM_APP_HEADER_LENGTH);
  for (guint i = EW_SIM_APP_HEADER_LENGTH; i < size; i++)
    data[i] = (guint8) (i * 7 + 3);
  return g_bytes_new_take (data, size);
}

static void
request_download (EwSimEcu *ecu,
                  guint32   address,
                  guint32   size)
{
  g_autofree char *req = g_strdup_printf ("34 00 44 %02X %02X %02X %02X %02X %02X %02X %02X",
                                          address >> 24, (address >> 16) & 0xFF,
                                          (address >> 8) & 0xFF, address & 0xFF,
                                          size >> 24, (size >> 16) & 0xFF,
                                          (size >> 8) & 0xFF, size & 0xFF);
  g_autoptr(GPtrArray) a = send_hex (ecu, req);
  g_assert_cmpuint (a->len, ==, 1);
  g_assert_true (g_str_has_prefix (g_ptr_array_index (a, 0), "74 20 "));
}

/* Sends blocks of block_data bytes; returns the number sent. Stops at the
 * first block without a positive answer. */
static guint
transfer (EwSimEcu *ecu,
          GBytes   *image,
          guint     block_data,
          guint     stop_after)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (image, &size);
  guint8 counter = 1;
  guint n = 0;

  for (gsize off = 0; off < size && n < stop_after; off += block_data)
    {
      gsize len = MIN (block_data, size - off);
      g_autofree guint8 *req = g_malloc (len + 2);
      g_autoptr(GPtrArray) a = NULL;
      g_autofree char *ok = g_strdup_printf ("76 %02X", counter);

      req[0] = 0x36;
      req[1] = counter;
      memcpy (req + 2, data + off, len);
      a = send_raw (ecu, req, len + 2, FALSE);
      n++;
      if (a->len != 1 || strcmp (g_ptr_array_index (a, 0), ok) != 0)
        return n - 1;
      counter++;
    }
  return n;
}

static char *
check_memory_request (GBytes *image)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (image, &size);
  guint32 crc = ew_sim_crc32_update (0xFFFFFFFFu, data, size) ^ 0xFFFFFFFFu;
  return g_strdup_printf ("31 01 02 02 %02X %02X %02X %02X",
                          crc >> 24, (crc >> 16) & 0xFF, (crc >> 8) & 0xFF, crc & 0xFF);
}

static void
test_routines (void)
{
  g_autoptr(EwSimEcu) ecu = kombi_new ();

  expect (ecu, "31 01 FF 00", "7F 31 7F");
  expect (ecu, "10 03", "50 03 00 32 01 F4");
  expect (ecu, "31 01 AB CD", "7F 31 31");         /* not declared */
  expect (ecu, "31 04 02 03", "7F 31 12");
  expect (ecu, "31 01 02", "7F 31 13");
  expect (ecu, "31 03 02 03", "7F 31 24");         /* no results yet */
  expect (ecu, "31 01 02 03", "71 01 02 03 00");
  expect (ecu, "31 03 02 03", "71 03 02 03 00");
  expect (ecu, "31 01 FF 00", "7F 31 22");         /* erase outside programming */
  expect (ecu, "10 02", "50 02 00 32 01 F4");
  expect (ecu, "31 01 FF 00", "7F 31 33");
  expect (ecu, "31 01 02 02", "7F 31 24");         /* nothing downloaded */
  /* a module without programming plan has no routines */
  {
    g_autoptr(EwSimEcu) egs = ecu_new_full ("bmw-f30", "egs", NULL, NULL);
    expect (egs, "10 03", "50 03 00 32 01 F4");
    expect (egs, "31 01 02 03", "7F 31 31");
    expect (egs, "10 02", "7F 10 12");
  }
}

static void
test_full_download (void)
{
  g_autoptr(EwSimEcu) ecu = kombi_new ();
  Area app = application_area (ecu);
  /* 300 blocks of 32 bytes: the counter wraps past 0xFF */
  g_autoptr(GBytes) image = image_new ("19.03.10", 300 * 32);
  g_autofree char *check = check_memory_request (image);
  g_autoptr(GBytes) sw = NULL;

  g_autoptr(GBytes) old_sw = ew_sim_ecu_read_did (ecu, 0xF189);
  g_assert_cmpmem (g_bytes_get_data (old_sw, NULL), 8, "17.07.50", 8);
  enter_programming (ecu);
  expect (ecu, "34 00 44 00 04 00 00 00 00 01 00", "7F 34 70");  /* not erased */
  expect (ecu, "34 01 44 00 04 00 00 00 00 01 00", "7F 34 31");  /* data format */
  expect (ecu, "34 00 44 F0 00 00 00 00 00 01 00", "7F 34 31");  /* outside */
  expect (ecu, "34 00 44 00 04", "7F 34 13");
  expect (ecu, "36 01 00", "7F 36 24");
  erase (ecu);
  g_assert_true (ew_sim_ecu_is_in_bootloader (ecu));
  sw = ew_sim_ecu_read_did (ecu, 0xF189);
  g_assert_cmpmem (g_bytes_get_data (sw, NULL), g_bytes_get_size (sw), "bootloader", 10);
  g_clear_pointer (&sw, g_bytes_unref);
  /* only programming services in the bootloader */
  expect (ecu, "19 0A", "7F 19 11");
  expect (ecu, "2E F1 90 00", "7F 2E 11");

  request_download (ecu, app.start, (guint32) g_bytes_get_size (image));
  expect (ecu, "36 02 00", "7F 36 73");
  g_assert_cmpuint (transfer (ecu, image, 32, 300), ==, 300);
  /* the last block repeated (lost answer) is acknowledged again */
  {
    gsize size;
    const guint8 *data = g_bytes_get_data (image, &size);
    guint8 req[34];
    g_autoptr(GPtrArray) a = NULL;
    req[0] = 0x36;
    req[1] = 300 & 0xFF;
    memcpy (req + 2, data + size - 32, 32);
    a = send_raw (ecu, req, sizeof req, FALSE);
    g_assert_cmpuint (a->len, ==, 1);
    g_assert_cmpstr (g_ptr_array_index (a, 0), ==, "76 2C");
  }
  expect (ecu, "36 2D 00", "7F 36 71");            /* beyond the requested size */
  expect (ecu, "37", "77");
  expect (ecu, "37", "7F 37 24");
  {
    g_autoptr(GPtrArray) a = send_hex (ecu, check);
    g_assert_cmpuint (a->len, ==, 1);
    g_assert_true (g_str_has_prefix (g_ptr_array_index (a, 0), "71 01 02 02 00 "));
  }
  expect (ecu, "31 01 FF 01", "71 01 FF 01 00");
  g_assert_true (ew_sim_ecu_is_in_bootloader (ecu));
  expect (ecu, "11 01", "51 01");
  fake_now += 100 * 1000;
  ew_sim_ecu_tick (ecu, fake_now);
  g_assert_false (ew_sim_ecu_is_in_bootloader (ecu));
  sw = ew_sim_ecu_read_did (ecu, 0xF189);
  g_assert_cmpmem (g_bytes_get_data (sw, NULL), g_bytes_get_size (sw), "19.03.10", 8);
  g_clear_pointer (&sw, g_bytes_unref);
  sw = ew_sim_ecu_read_did (ecu, 0xF187);
  g_assert_cmpmem (g_bytes_get_data (sw, NULL), g_bytes_get_size (sw), "6832456-02", 10);
}

static void
test_interrupted_download (void)
{
  g_autoptr(EwSimEcu) ecu = kombi_new ();
  Area app = application_area (ecu);
  g_autoptr(GBytes) image = image_new ("19.03.10", 40 * 64);
  g_autofree char *check = check_memory_request (image);

  enter_programming (ecu);
  erase (ecu);
  request_download (ecu, app.start, (guint32) g_bytes_get_size (image));
  g_assert_cmpuint (transfer (ecu, image, 64, 10), ==, 10);
  /* the tester gives up: power cycle */
  expect (ecu, "11 01", "7F 11 22");
  expect (ecu, "10 01", "50 01 00 32 01 F4");
  expect (ecu, "11 01", "51 01");
  fake_now += 100 * 1000;
  ew_sim_ecu_tick (ecu, fake_now);
  g_assert_true (ew_sim_ecu_is_in_bootloader (ecu));
  expect (ecu, "10 03", "7F 10 12");
  expect (ecu, "22 10 00", "7F 22 31");            /* no data but identification */

  /* a check of the partial data fails: still the bootloader */
  expect (ecu, "10 02", "50 02 00 32 01 F4");
  unlock (ecu, 0x11);
  {
    g_autoptr(GPtrArray) a = send_hex (ecu, check);
    g_assert_cmpuint (a->len, ==, 1);
    g_assert_true (g_str_has_prefix (g_ptr_array_index (a, 0), "71 01 02 02 01 "));
  }
  expect (ecu, "31 01 FF 01", "71 01 FF 01 01");

  /* recovery: erase, download, check, reset */
  erase (ecu);
  request_download (ecu, app.start, (guint32) g_bytes_get_size (image));
  g_assert_cmpuint (transfer (ecu, image, 64, 1000), ==, 40);
  expect (ecu, "37", "77");
  {
    g_autoptr(GPtrArray) a = send_hex (ecu, check);
    g_assert_true (g_str_has_prefix (g_ptr_array_index (a, 0), "71 01 02 02 00 "));
  }
  expect (ecu, "31 01 FF 01", "71 01 FF 01 00");
  expect (ecu, "11 01", "51 01");
  fake_now += 100 * 1000;
  ew_sim_ecu_tick (ecu, fake_now);
  g_assert_false (ew_sim_ecu_is_in_bootloader (ecu));
}

/* ---- faults ---- */

static void
test_fault_parse (void)
{
  const char *bad[] = { "nope", "drop=120%", "seed=7;nrc=KOMBI:0x36", "delay=x",
                        "pending=a:0x31", "power-loss=fem:0", "link-drop=0" };
  guint offsets[] = { 0, 0, 7, 0, 0, 0, 0 };
  g_autoptr(EwSimFaults) none = ew_sim_faults_parse (NULL, NULL);
  g_autoptr(EwSimFaults) empty = ew_sim_faults_parse ("", NULL);

  g_assert_true (ew_sim_faults_is_empty (none));
  g_assert_true (ew_sim_faults_is_empty (empty));
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(EwSimFaults) f = ew_sim_faults_parse (bad[i], &error);
      g_autofree char *where = g_strdup_printf ("character %u:", offsets[i]);
      g_assert_null (f);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, where));
    }
}

static void
test_fault_frames (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EwSimFaults) a = ew_sim_faults_parse ("seed=7; drop=30%; delay=kombi:25; link-drop=100", &error);
  g_autoptr(EwSimFaults) b = ew_sim_faults_parse ("seed=7;drop=30%", NULL);
  g_autoptr(EwSimFaults) every = ew_sim_faults_parse ("drop=KOMBI:1/4", NULL);
  guint n_dropped = 0;

  g_assert_no_error (error);
  for (guint i = 0; i < 1000; i++)
    {
      gboolean da = ew_sim_faults_should_drop_frame (a, "kombi");
      g_assert_cmpint (da, ==, ew_sim_faults_should_drop_frame (b, "kombi"));
      n_dropped += da;
    }
  g_assert_cmpuint (n_dropped, >, 200);
  g_assert_cmpuint (n_dropped, <, 400);
  g_assert_cmpuint (ew_sim_faults_get_delay_ms (a, "KOMBI"), ==, 25);
  g_assert_cmpuint (ew_sim_faults_get_delay_ms (a, "fem"), ==, 0);
  g_assert_false (ew_sim_faults_link_drop_due (a, 99));
  g_assert_true (ew_sim_faults_link_drop_due (a, 100));
  for (guint i = 1; i <= 12; i++)
    {
      g_assert_cmpint (ew_sim_faults_should_drop_frame (every, "kombi"), ==, i % 4 == 0);
      g_assert_false (ew_sim_faults_should_drop_frame (every, "fem"));
    }
}

static void
test_fault_nrc_and_pending (void)
{
  g_autoptr(EwSimEcu) ecu = ecu_new_full ("bmw-f30", "kombi", NULL,
                                          "nrc=KOMBI:0x36:0x72@3;pending=kombi:0x22:5");
  Area app = application_area (ecu);
  g_autoptr(GBytes) image = image_new ("19.03.10", 10 * 16);
  g_autoptr(GPtrArray) a = send_hex (ecu, "22 F1 86");

  g_assert_cmpuint (a->len, ==, 6);
  for (guint i = 0; i < 5; i++)
    g_assert_cmpstr (g_ptr_array_index (a, i), ==, "7F 22 78");
  g_assert_cmpstr (g_ptr_array_index (a, 5), ==, "62 F1 86 01");
  enter_programming (ecu);
  erase (ecu);
  request_download (ecu, app.start, (guint32) g_bytes_get_size (image));
  g_assert_cmpuint (transfer (ecu, image, 16, 10), ==, 2);
  /* the third block was refused; sent again it goes through */
  expect (ecu, "36 03 00", "76 03");
  expect (ecu, "36 05 00", "7F 36 73");
}

static void
test_fault_power_loss (void)
{
  g_autoptr(EwSimEcu) ecu = ecu_new_full ("bmw-f30", "kombi", NULL, "power-loss=kombi:5:500");
  Area app = application_area (ecu);
  g_autoptr(GBytes) image = image_new ("19.03.10", 10 * 16);

  enter_programming (ecu);
  erase (ecu);
  request_download (ecu, app.start, (guint32) g_bytes_get_size (image));
  g_assert_cmpuint (transfer (ecu, image, 16, 10), ==, 4);
  g_assert_true (ew_sim_ecu_is_silent (ecu));
  expect_silence (ecu, "3E 00");
  fake_now += 400 * 1000;
  ew_sim_ecu_tick (ecu, fake_now);
  expect_silence (ecu, "3E 00");
  fake_now += 200 * 1000;
  ew_sim_ecu_tick (ecu, fake_now);
  expect (ecu, "3E 00", "7E 00");
  g_assert_true (ew_sim_ecu_is_in_bootloader (ecu));
  g_assert_cmpuint (ew_sim_ecu_get_session (ecu), ==, 0x01);
  /* it can be programmed again; the fault fires once */
  expect (ecu, "10 02", "50 02 00 32 01 F4");
  unlock (ecu, 0x11);
  erase (ecu);
  request_download (ecu, app.start, (guint32) g_bytes_get_size (image));
  g_assert_cmpuint (transfer (ecu, image, 16, 10), ==, 10);
}

static void
test_fault_bad_crc (void)
{
  g_autoptr(EwSimEcu) ecu = ecu_new_full ("bmw-f30", "kombi", NULL, "bad-crc=kombi");
  Area app = application_area (ecu);
  g_autoptr(GBytes) image = image_new ("19.03.10", 4 * 16);
  g_autofree char *check = check_memory_request (image);
  g_autoptr(GPtrArray) a = NULL;

  enter_programming (ecu);
  erase (ecu);
  request_download (ecu, app.start, (guint32) g_bytes_get_size (image));
  g_assert_cmpuint (transfer (ecu, image, 16, 10), ==, 4);
  expect (ecu, "37", "77");
  a = send_hex (ecu, check);
  g_assert_true (g_str_has_prefix (g_ptr_array_index (a, 0), "71 01 02 02 01 "));
  expect (ecu, "31 01 FF 01", "71 01 FF 01 01");
  expect (ecu, "11 01", "51 01");
  fake_now += 100 * 1000;
  ew_sim_ecu_tick (ecu, fake_now);
  g_assert_true (ew_sim_ecu_is_in_bootloader (ecu));
}

/* ---- profiles ---- */

static void
test_profiles_load_everywhere (void)
{
  g_auto(GStrv) names = ew_sim_profile_list_shipped ();
  GPtrArray *families = ew_vehicle_database_get_families (db);

  g_assert_cmpuint (g_strv_length (names), >=, 5);
  g_assert_true (g_strv_contains ((const char * const *) names, "healthy"));
  g_assert_true (g_strv_contains ((const char * const *) names, "used-heated-seat"));
  g_assert_cmpuint (families->len, ==, 3);
  for (guint f = 0; f < families->len; f++)
    for (guint n = 0; names[n] != NULL; n++)
      {
        EwFamily *fam = g_ptr_array_index (families, f);
        g_autoptr(GError) error = NULL;
        g_autoptr(EwSimProfile) profile = ew_sim_profile_load (fam, names[n], &error);

        g_assert_no_error (error);
        g_assert_nonnull (ew_sim_profile_get_description (profile));
        g_assert_cmpuint (strlen (ew_sim_profile_get_vin (profile)), ==, 17);
        /* every module answers the marker, or is absent */
        for (guint m = 0; m < fam->modules->len; m++)
          {
            const EwModule *module = g_ptr_array_index (fam->modules, m);
            g_autoptr(EwSimEcu) ecu = ew_sim_ecu_new (fam, module, profile, NULL);
            g_autoptr(GBytes) marker = ew_sim_ecu_read_did (ecu, 0xFD00);
            g_assert_nonnull (marker);
            g_assert_cmpmem (g_bytes_get_data (marker, NULL), g_bytes_get_size (marker),
                             EW_SIM_ECU_MARKER, 16);
          }
      }
}

static gboolean
version_below (const char *a,
               const char *b)
{
  return strcmp (a, b) < 0;
}

static void
test_profile_scenarios (void)
{
  GPtrArray *families = ew_vehicle_database_get_families (db);

  for (guint f = 0; f < families->len; f++)
    {
      EwFamily *fam = g_ptr_array_index (families, f);
      g_autoptr(EwSimProfile) healthy = ew_sim_profile_load (fam, "healthy", NULL);
      g_autoptr(EwSimProfile) used = ew_sim_profile_load (fam, "used-cluster", NULL);
      g_autoptr(EwSimProfile) boot = ew_sim_profile_load (fam, "body-module-bootloader", NULL);
      g_autoptr(EwSimProfile) disabled = ew_sim_profile_load (fam, "features-disabled", NULL);
      const EwFeature *cornering = ew_family_find_feature (fam, "cornering-lights");
      g_autofree char *default_vin = ew_sim_profile_default_vin (fam);

      g_assert_cmpstr (ew_sim_profile_get_vin (healthy), ==, default_vin);
      for (guint m = 0; m < fam->modules->len; m++)
        {
          const EwModule *module = g_ptr_array_index (fam->modules, m);
          const EwSimModuleProfile *h = ew_sim_profile_get_module (healthy, module->id);
          const EwSimModuleProfile *u = ew_sim_profile_get_module (used, module->id);

          g_assert_true (h->is_present);
          g_assert_false (h->is_in_bootloader);
          g_assert_cmpstr (h->vin, ==, default_vin);
          if (module->kind == EW_MODULE_INSTRUMENT_CLUSTER)
            {
              g_assert_cmpstr (u->vin, !=, default_vin);
              g_assert_true (version_below (u->software_version, h->software_version));
              g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (u->mileage_km,
                                  GUINT_TO_POINTER (((EwMileageStore *) g_ptr_array_index (module->mileage, 0))->did))),
                                ==, 18750);
            }
        }
      /* exactly one body module in the bootloader */
      {
        guint n = 0;
        for (guint m = 0; m < fam->modules->len; m++)
          {
            const EwModule *module = g_ptr_array_index (fam->modules, m);
            g_autoptr(EwSimEcu) ecu = ew_sim_ecu_new (fam, module, boot, NULL);
            if (ew_sim_ecu_is_in_bootloader (ecu))
              {
                g_autoptr(GBytes) sw = ew_sim_ecu_read_did (ecu, 0xF189);
                g_assert_cmpint (module->kind, ==, EW_MODULE_BODY);
                g_assert_cmpmem (g_bytes_get_data (sw, NULL), g_bytes_get_size (sw), "bootloader", 10);
                n++;
              }
          }
        g_assert_cmpuint (n, ==, 1);
      }
      /* cornering lights coded off although the option is fitted */
      g_assert_nonnull (cornering);
      {
        const EwModule *module = ew_family_find_module (fam, cornering->module);
        const EwCodingDid *did = ew_module_find_coding_did (module, cornering->did);
        const EwCodingItem *item = ew_coding_did_find_item (did, cornering->item);
        const EwSimModuleProfile *mp = ew_sim_profile_get_module (disabled, module->id);
        const guint8 *bytes = g_bytes_get_data (g_hash_table_lookup (mp->coding, GUINT_TO_POINTER (did->did)), NULL);
        const EwCodingValue *off = ew_coding_item_find_value (item, "off");
        g_assert_nonnull (off);
        g_assert_cmpuint ((bytes[item->byte] & item->mask) >> item->bit, ==, off->raw);
      }
    }
}

static void
test_profile_errors (void)
{
  EwFamily *fam = family ("vw-golf-mk7");
  g_autofree char *dir = g_dir_make_tmp ("sim-profile-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "bad.ini", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(EwSimProfile) profile = NULL;
  g_autofree char *where = NULL;

  g_assert_true (g_file_set_contents (path,
    "[profile]\ndescription=x\n\n[kind:body]\npresent=true\nmileage=lots\n", -1, NULL));
  profile = ew_sim_profile_load (fam, path, &error);
  g_assert_null (profile);
  where = g_strdup_printf ("%s:6:", path);
  g_assert_nonnull (strstr (error->message, where));
  g_clear_error (&error);
  profile = ew_sim_profile_load (fam, "no-such-profile", &error);
  g_assert_null (profile);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  ew_test_remove_tree (dir);
}

/* ---- the option list ---- */

/* The one module of the family that declares an option-list DID. */
static const EwModule *
option_list_module (EwFamily *fam,
                    guint16  *did)
{
  const EwModule *found = NULL;

  for (guint m = 0; m < fam->modules->len; m++)
    {
      const EwModule *module = g_ptr_array_index (fam->modules, m);
      for (guint i = 0; i < module->identification->len; i++)
        {
          const EwIdentificationDid *id = g_ptr_array_index (module->identification, i);
          if (id->role != EW_ID_ROLE_OPTION_LIST)
            continue;
          g_assert_null (found);
          g_assert_cmpint (id->encoding, ==, EW_DID_ENCODING_ASCII);
          /* a manufacturer's DID, not one of ISO 14229-1's 0xF1xx */
          g_assert_cmpuint (id->did >> 8, !=, 0xF1);
          found = module;
          *did = id->did;
        }
    }
  g_assert_nonnull (found);
  return found;
}

/* What the option list of a car built with profile reads, as text. */
static char *
read_option_list (EwFamily     *fam,
                  EwSimProfile *profile)
{
  guint16 did = 0;
  const EwModule *module = option_list_module (fam, &did);
  g_autoptr(EwSimEcu) ecu = ew_sim_ecu_new (fam, module, profile, NULL);
  g_autoptr(GBytes) record = ew_sim_ecu_read_did (ecu, did);

  g_assert_nonnull (record);
  /* an empty GBytes may hold no data pointer at all */
  if (g_bytes_get_size (record) == 0)
    return g_strdup ("");
  return g_strndup (g_bytes_get_data (record, NULL), g_bytes_get_size (record));
}

/* The family's option codes in its order, leaving out one code (or none). */
static char *
options_without (EwFamily   *fam,
                 const char *left_out)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < fam->options->len; i++)
    {
      const EwOption *option = g_ptr_array_index (fam->options, i);
      if (g_strcmp0 (option->code, left_out) == 0)
        continue;
      g_string_append_printf (s, "%s%s", s->len > 0 ? "," : "", option->code);
    }
  return g_string_free (s, FALSE);
}

static EwSimProfile *
profile_from_text (EwFamily   *fam,
                   const char *text)
{
  g_autofree char *dir = g_dir_make_tmp ("sim-profile-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "options.ini", NULL);
  g_autoptr(GError) error = NULL;
  EwSimProfile *profile;

  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  profile = ew_sim_profile_load (fam, path, &error);
  g_assert_no_error (error);
  ew_test_remove_tree (dir);
  return profile;
}

static void
test_option_list_healthy (void)
{
  GPtrArray *families = ew_vehicle_database_get_families (db);

  for (guint f = 0; f < families->len; f++)
    {
      EwFamily *fam = g_ptr_array_index (families, f);
      g_autoptr(EwSimProfile) healthy = ew_sim_profile_load (fam, "healthy", NULL);
      g_autofree char *expected = options_without (fam, NULL);
      g_autofree char *record = read_option_list (fam, healthy);

      g_test_message ("%s: %s", fam->id, record);
      g_assert_cmpuint (fam->options->len, >, 0);
      g_assert_cmpstr (record, ==, expected);
      /* every code of the family is there, and nothing else */
      {
        g_auto(GStrv) codes = g_strsplit (record, ",", -1);
        g_assert_cmpuint (g_strv_length (codes), ==, fam->options->len);
        for (guint i = 0; codes[i] != NULL; i++)
          g_assert_nonnull (ew_family_find_option (fam, codes[i]));
      }
    }
}

/* The record on the wire: ReadDataByIdentifier with other DIDs around it. */
static void
test_option_list_on_the_wire (void)
{
  EwFamily *fam = family ("bmw-f30");
  guint16 did = 0;
  const EwModule *module = option_list_module (fam, &did);
  g_autoptr(EwSimProfile) profile = profile_from_text (fam,
    "[profile]\ndescription=x\noptions=508;322;494\n");
  g_autoptr(EwSimEcu) ecu = ew_sim_ecu_new (fam, module, profile, NULL);
  /* the family's order, not the profile's */
  g_autofree char *list = to_hex ((const guint8 *) "322,494,508", 11);
  g_autofree char *request = g_strdup_printf ("22 %02X %02X FD 00", did >> 8, did & 0xFF);
  g_autofree char *marker = to_hex ((const guint8 *) EW_SIM_ECU_MARKER, 16);
  g_autofree char *answer = g_strdup_printf ("62 %02X %02X %s FD 00 %s", did >> 8, did & 0xFF,
                                             list, marker);

  ew_sim_ecu_set_clock (ecu, fake_clock, NULL);
  ew_sim_ecu_set_sleeps (ecu, FALSE);
  expect (ecu, request, answer);

  /* only the module that holds the list answers it */
  {
    g_autoptr(EwSimEcu) kombi = kombi_new ();
    g_autofree char *alone = g_strdup_printf ("22 %02X %02X", did >> 8, did & 0xFF);
    g_assert_cmpstr (module->id, !=, "kombi");
    expect (kombi, alone, "7F 22 31");
  }
}

static void
test_option_list_absent (void)
{
  GPtrArray *families = ew_vehicle_database_get_families (db);

  for (guint f = 0; f < families->len; f++)
    {
      EwFamily *fam = g_ptr_array_index (families, f);
      const EwOption *last = g_ptr_array_index (fam->options, fam->options->len - 1);
      const EwOption *first = g_ptr_array_index (fam->options, 0);
      g_autofree char *text = g_strdup_printf ("[profile]\ndescription=x\noptions-absent=%s\n",
                                               last->code);
      g_autoptr(EwSimProfile) profile = profile_from_text (fam, text);
      g_autofree char *expected = options_without (fam, last->code);
      g_autofree char *record = read_option_list (fam, profile);

      g_assert_false (ew_sim_profile_option_is_fitted (profile, last->code));
      g_assert_cmpstr (record, ==, expected);
      g_assert_false (g_str_has_suffix (record, ","));

      /* no option at all: an empty record, still a positive answer */
      {
        g_autoptr(EwSimProfile) bare = profile_from_text (fam, "[profile]\ndescription=x\noptions=\n");
        g_autofree char *empty = read_option_list (fam, bare);
        g_assert_cmpstr (empty, ==, "");
      }
      /* a single option: no separator */
      {
        g_autofree char *one = g_strdup_printf ("[profile]\ndescription=x\noptions=%s\n", first->code);
        g_autoptr(EwSimProfile) single = profile_from_text (fam, one);
        g_autofree char *only = read_option_list (fam, single);
        g_assert_cmpstr (only, ==, first->code);
      }
    }
}

/* A used seat module fitted but the car not coded for it: the module
 * answers, the car's option list does not name seat heating. */
static void
test_option_list_used_heated_seat (void)
{
  GPtrArray *families = ew_vehicle_database_get_families (db);
  guint n_checked = 0;

  for (guint f = 0; f < families->len; f++)
    {
      EwFamily *fam = g_ptr_array_index (families, f);
      g_autoptr(EwSimProfile) used = ew_sim_profile_load (fam, "used-heated-seat", NULL);
      const EwOption *heating = NULL;
      const EwModule *seat = NULL;
      g_autofree char *expected = NULL;
      g_autofree char *record = NULL;

      g_assert_nonnull (used);
      for (guint i = 0; i < fam->options->len && heating == NULL; i++)
        {
          const EwOption *option = g_ptr_array_index (fam->options, i);
          if (g_str_has_prefix (option->name, "Seat heating"))
            heating = option;
        }
      for (guint m = 0; m < fam->modules->len && seat == NULL; m++)
        if (((EwModule *) g_ptr_array_index (fam->modules, m))->kind == EW_MODULE_SEAT)
          seat = g_ptr_array_index (fam->modules, m);
      if (heating == NULL || seat == NULL)
        continue;

      g_assert_true (ew_sim_profile_module_is_present (used, seat->id));
      {
        g_autoptr(EwSimEcu) ecu = ew_sim_ecu_new (fam, seat, used, NULL);
        g_autoptr(GBytes) marker = ew_sim_ecu_read_did (ecu, 0xFD00);
        g_assert_nonnull (marker);
      }
      expected = options_without (fam, heating->code);
      record = read_option_list (fam, used);
      g_test_message ("%s: seat heating %s left out: %s", fam->id, heating->code, record);
      g_assert_cmpstr (record, ==, expected);
      n_checked++;
    }
  g_assert_cmpuint (n_checked, >, 0);
}

/* The list is data of the application: a module in its bootloader
 * does not know it. */
static void
test_option_list_bootloader (void)
{
  GPtrArray *families = ew_vehicle_database_get_families (db);
  guint n_checked = 0;

  for (guint f = 0; f < families->len; f++)
    {
      EwFamily *fam = g_ptr_array_index (families, f);
      guint16 did = 0;
      const EwModule *module = option_list_module (fam, &did);
      g_autofree char *text = NULL;
      g_autoptr(EwSimProfile) profile = NULL;
      g_autoptr(EwSimEcu) ecu = NULL;
      g_autofree char *request = NULL;

      /* only a module with a flash layout has a bootloader to sit in */
      if (module->flash == NULL)
        continue;
      text = g_strdup_printf ("[profile]\ndescription=x\n\n[module:%s]\nbootloader=true\n", module->id);
      profile = profile_from_text (fam, text);
      ecu = ew_sim_ecu_new (fam, module, profile, NULL);
      request = g_strdup_printf ("22 %02X %02X", did >> 8, did & 0xFF);
      ew_sim_ecu_set_clock (ecu, fake_clock, NULL);
      ew_sim_ecu_set_sleeps (ecu, FALSE);
      g_assert_true (ew_sim_ecu_is_in_bootloader (ecu));
      g_assert_null (ew_sim_ecu_read_did (ecu, did));
      expect (ecu, request, "7F 22 31");
      /* its identification still answers */
      g_assert_nonnull (ew_sim_ecu_read_did (ecu, 0xFD00));
      n_checked++;
    }
  g_assert_cmpuint (n_checked, >, 0);
}

static void
test_state_round_trip (void)
{
  g_autoptr(EwSimEcu) ecu = kombi_new ();
  g_autoptr(EwSimEcu) fresh = kombi_new ();
  g_autoptr(GKeyFile) key_file = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_autoptr(GKeyFile) reread = g_key_file_new ();
  const EwCodingDid *did = g_ptr_array_index (ew_sim_ecu_get_module (ecu)->coding, 0);
  g_autoptr(GBytes) a = NULL;
  g_autoptr(GBytes) b = NULL;

  expect (ecu, "10 03", "50 03 00 32 01 F4");
  unlock (ecu, 0x01);
  expect (ecu, "2E 10 00 00 01 00 00", "6E 10 00");
  {
    g_autoptr(GString) req = g_string_new (NULL);
    g_autofree char *ok = g_strdup_printf ("6E %02X %02X", did->did >> 8, did->did & 0xFF);
    g_string_append_printf (req, "2E %02X %02X", did->did >> 8, did->did & 0xFF);
    for (guint i = 0; i < did->length_bytes; i++)
      g_string_append (req, " 5A");
    expect (ecu, req->str, ok);
  }
  ew_sim_ecu_save_state (ecu, key_file);
  text = g_key_file_to_data (key_file, NULL, NULL);
  g_assert_true (g_key_file_load_from_data (reread, text, (gsize) -1, G_KEY_FILE_NONE, NULL));
  g_assert_true (ew_sim_ecu_load_state (fresh, reread, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (ew_sim_ecu_get_mileage_km (fresh, 0x1000), ==, 65536);
  a = ew_sim_ecu_read_did (ecu, did->did);
  b = ew_sim_ecu_read_did (fresh, did->did);
  g_assert_true (g_bytes_equal (a, b));

  /* a bad state file is refused with the module named */
  g_key_file_set_string (reread, "module:kombi", "coding-0x9999", "00");
  g_assert_false (ew_sim_ecu_load_state (fresh, reread, &error));
  g_assert_nonnull (strstr (error->message, "module:kombi"));
}

int
main (int argc, char **argv)
{
  g_autofree char *schema = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);
  schema = ew_data_path ("vehicles/vehicle-family.xsd");
  db = ew_vehicle_database_new (schema);
  {
    g_autofree char *dir = ew_data_path ("vehicles");
    ew_vehicle_database_add_dir (db, dir);
  }

  g_test_add_func ("/sim-ecu/sessions", test_sessions);
  g_test_add_func ("/sim-ecu/s3-timeout", test_s3_timeout);
  g_test_add_func ("/sim-ecu/nrc-priority", test_nrc_priority);
  g_test_add_func ("/sim-ecu/security", test_security);
  g_test_add_func ("/sim-ecu/security-lockout", test_security_lockout);
  g_test_add_func ("/sim-ecu/read-dids", test_read_dids);
  g_test_add_func ("/sim-ecu/coding-write", test_coding_write);
  g_test_add_func ("/sim-ecu/mileage-write", test_mileage_write);
  g_test_add_func ("/sim-ecu/dtcs", test_dtcs);
  g_test_add_func ("/sim-ecu/communication-dtc-setting", test_communication_and_dtc_setting);
  g_test_add_func ("/sim-ecu/reset", test_reset);
  g_test_add_func ("/sim-ecu/routines", test_routines);
  g_test_add_func ("/sim-ecu/full-download", test_full_download);
  g_test_add_func ("/sim-ecu/interrupted-download", test_interrupted_download);
  g_test_add_func ("/sim-ecu/fault-parse", test_fault_parse);
  g_test_add_func ("/sim-ecu/fault-frames", test_fault_frames);
  g_test_add_func ("/sim-ecu/fault-nrc-pending", test_fault_nrc_and_pending);
  g_test_add_func ("/sim-ecu/fault-power-loss", test_fault_power_loss);
  g_test_add_func ("/sim-ecu/fault-bad-crc", test_fault_bad_crc);
  g_test_add_func ("/sim-ecu/profiles-load", test_profiles_load_everywhere);
  g_test_add_func ("/sim-ecu/profile-scenarios", test_profile_scenarios);
  g_test_add_func ("/sim-ecu/profile-errors", test_profile_errors);
  g_test_add_func ("/sim-ecu/state-round-trip", test_state_round_trip);
  g_test_add_func ("/sim-ecu/option-list/healthy", test_option_list_healthy);
  g_test_add_func ("/sim-ecu/option-list/on-the-wire", test_option_list_on_the_wire);
  g_test_add_func ("/sim-ecu/option-list/absent", test_option_list_absent);
  g_test_add_func ("/sim-ecu/option-list/used-heated-seat", test_option_list_used_heated_seat);
  g_test_add_func ("/sim-ecu/option-list/bootloader", test_option_list_bootloader);
  ret = g_test_run ();
  ew_vehicle_database_free (db);
  return ret;
}
