/* test-job-sheet.c — the customer's job sheet: A4 PDFs of plans for the
 * shipped families, read back with pdftotext and pdfinfo (poppler-utils)
 * where they are installed: what the customer must see, page breaks that
 * never cut a line, a broken logo, a path that cannot be written, and the
 * work carried out from the job store.
 */
#define _GNU_SOURCE /* memmem */
#include <cairo.h>
#include <glib/gstdio.h>
#include <pango/pangocairo.h>
#include <string.h>

#include "job/job-sheet.h"
#include "vehicle/database.h"
#include "test-util.h"

#define VIN "WBA8E9C50GK123456"

static EwVehicleDatabase *db;

typedef struct {
  char *dir;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("ew-job-sheet-XXXXXX", &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  ew_test_remove_tree (f->dir);
  g_free (f->dir);
}

static EwJobPlan *
plan_items (const char *family_id, const char *const *items)
{
  g_autoptr(EwJobRequest) request = ew_job_request_new ();
  g_autoptr(GError) error = NULL;
  EwFamily *family = ew_vehicle_database_find_family (db, family_id);
  EwPriceRates rates;
  EwJobPlan *plan;

  g_assert_nonnull (family);
  ew_price_rates_init_default (&rates);
  for (guint i = 0; items[i] != NULL; i++)
    {
      ew_job_request_add_item (request, items[i], &error);
      g_assert_no_error (error);
    }
  plan = ew_job_plan_new (family, request, NULL, NULL, &rates, &error);
  g_assert_no_error (error);
  return plan;
}

static char *
write_sheet (Fixture *f, const EwJobPlan *plan, const EwJobSheetInfo *info, const EwJobSheetDone *done,
             const char *name, guint *n_pages)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EwJobSheet) sheet = ew_job_sheet_new (plan, info, done, &error);
  char *path = g_build_filename (f->dir, name, NULL);

  g_assert_no_error (error);
  g_assert_nonnull (sheet);
  g_assert_true (ew_job_sheet_write_pdf (sheet, path, &error));
  g_assert_no_error (error);
  if (n_pages != NULL)
    *n_pages = ew_job_sheet_get_n_pages (sheet);
  return path;
}

/* "%PDF" first, and the number of page objects cairo wrote. */
static guint
pdf_page_objects (const char *path)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  g_autoptr(GError) error = NULL;
  guint n = 0;

  g_file_get_contents (path, &data, &len, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (len, >, 4);
  g_assert_true (memcmp (data, "%PDF", 4) == 0);
  /* binary streams hold NUL bytes: memmem, not strstr */
  for (const char *p = data; (p = memmem (p, len - (p - data), "/Type /Page", 11)) != NULL; p++)
    if (p + 11 < data + len && p[11] != 's')
      n++;
  return n;
}

static gboolean
have (const char *program)
{
  g_autofree char *found = g_find_program_in_path (program);

  return found != NULL;
}

/* The text of the PDF (pages first..last, 0: all), with every run of
 * white space made one space so that wrapped lines read as one. */
static char *
pdf_text (const char *path, guint first, guint last)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GRegex) space = g_regex_new ("\\s+", 0, 0, NULL);
  int status = 0;

  g_ptr_array_add (argv, g_strdup ("pdftotext"));
  if (first > 0)
    {
      g_ptr_array_add (argv, g_strdup ("-f"));
      g_ptr_array_add (argv, g_strdup_printf ("%u", first));
      g_ptr_array_add (argv, g_strdup ("-l"));
      g_ptr_array_add (argv, g_strdup_printf ("%u", last));
    }
  g_ptr_array_add (argv, g_strdup (path));
  g_ptr_array_add (argv, g_strdup ("-"));
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                NULL, NULL, &out, NULL, &status, &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  return g_regex_replace_literal (space, out, -1, 0, " ", 0, NULL);
}

static guint
pdfinfo_pages (const char *path)
{
  const char *argv[] = { "pdfinfo", path, NULL };
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;
  const char *line;
  int status = 0;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                NULL, NULL, &out, NULL, &status, &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_nonnull (strstr (out, "595.28 x 841.89 pts"));
  line = strstr (out, "Pages:");
  g_assert_nonnull (line);
  return (guint) g_ascii_strtoull (line + strlen ("Pages:"), NULL, 10);
}

static char *
squeeze (const char *text)
{
  g_autoptr(GRegex) space = g_regex_new ("\\s+", 0, 0, NULL);

  return g_regex_replace_literal (space, text, -1, 0, " ", 0, NULL);
}

static void
assert_contains (const char *text, const char *needle)
{
  g_autofree char *n = squeeze (needle);

  if (strstr (text, n) == NULL)
    g_error ("“%s” not found in the sheet's text:\n%s", n, text);
}

static void
test_quote_bmw (Fixture *f, gconstpointer data)
{
  const char *const items[] = { "cornering-lights=on", "replace:kombi:used", NULL };
  g_autoptr(EwJobPlan) plan = plan_items ("bmw-f30", items);
  EwJobSheetInfo info = { 0 };
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  g_autofree char *net = ew_money_format (&plan->rates, plan->net_minor);
  g_autofree char *vat = ew_money_format (&plan->rates, plan->vat_minor);
  g_autofree char *gross = ew_money_format (&plan->rates, plan->gross_minor);
  guint n_pages = 0;

  info.garage_name = "Bäckerstraße Motors";
  info.garage_address = "12 High Street\nSpringfield";
  info.registration = "AB12 CDE";
  info.vin = VIN;
  info.reference = "Q-1042";
  path = write_sheet (f, plan, &info, NULL, "quote.pdf", &n_pages);
  g_assert_cmpuint (n_pages, ==, 1);
  g_assert_cmpuint (pdf_page_objects (path), ==, n_pages);

  if (!have ("pdftotext") || !have ("pdfinfo"))
    {
      g_test_skip ("pdftotext/pdfinfo (poppler-utils) not installed: the sheet's text is not checked");
      return;
    }
  g_assert_cmpuint (pdfinfo_pages (path), ==, 1);
  text = pdf_text (path, 0, 0);
  assert_contains (text, "Bäckerstraße Motors");
  assert_contains (text, "Springfield");
  assert_contains (text, "AB12 CDE");
  assert_contains (text, VIN);
  assert_contains (text, "Q-1042");
  assert_contains (text, plan->family->model);
  assert_contains (text, "Programming");
  assert_contains (text, "Coding");
  for (guint i = 0; i < plan->items->len; i++)
    {
      const EwPlanItem *item = g_ptr_array_index (plan->items, i);
      g_autofree char *price = ew_money_format (&plan->rates, item->price_minor);

      assert_contains (text, item->title);
      assert_contains (text, item->reason);
      assert_contains (text, price);
    }
  assert_contains (text, net);
  assert_contains (text, vat);
  assert_contains (text, gross);
  assert_contains (text, "VAT (20 %)");
  assert_contains (text, "battery support unit");
  assert_contains (text, "Page 1 of 1");
}

static void
test_refusal (Fixture *f, gconstpointer data)
{
  const char *const items[] = { "replace:kombi:used", "kombi-software-update=on", NULL };
  g_autoptr(EwJobPlan) plan = plan_items ("bmw-f30", items);
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  const EwPlanRefusal *refusal;

  g_assert_cmpuint (plan->refusals->len, >, 0);
  refusal = g_ptr_array_index (plan->refusals, 0);
  path = write_sheet (f, plan, NULL, NULL, "refusal.pdf", NULL);
  if (!have ("pdftotext"))
    {
      g_test_skip ("pdftotext (poppler-utils) not installed: the sheet's text is not checked");
      return;
    }
  text = pdf_text (path, 0, 0);
  assert_contains (text, "Not quoted");
  assert_contains (text, refusal->reason);
  /* no garage given: the application's name */
  assert_contains (text, "ECU Workshop");
}

/* Every feature of every shipped family at once: the sheet runs over
 * several pages, and each line (its title, reason and price) is whole on
 * exactly one page. */
static void
test_long_plan (Fixture *f, gconstpointer data)
{
  const char *family_id = data;
  EwFamily *family = ew_vehicle_database_find_family (db, family_id);
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(EwJobPlan) plan = NULL;
  g_autofree char *path = NULL;
  g_autofree char *name = g_strdup_printf ("%s-long.pdf", family_id);
  guint n_pages = 0;
  GPtrArray *page_texts;

  g_assert_nonnull (family);
  for (guint i = 0; i < family->features->len; i++)
    {
      const EwFeature *feature = g_ptr_array_index (family->features, i);
      const char *state = "on";

      if (feature->states->len > 0)
        state = ((EwFeatureState *) g_ptr_array_index (feature->states, feature->states->len - 1))->name;
      g_ptr_array_add (items, g_strdup_printf ("%s=%s", feature->id, state));
    }
  g_ptr_array_add (items, NULL);
  plan = plan_items (family_id, (const char *const *) items->pdata);
  g_assert_cmpuint (plan->items->len, >=, 10);

  path = write_sheet (f, plan, NULL, NULL, name, &n_pages);
  g_assert_cmpuint (n_pages, >=, 2);
  g_assert_cmpuint (pdf_page_objects (path), ==, n_pages);
  if (!have ("pdftotext") || !have ("pdfinfo"))
    {
      g_test_skip ("pdftotext/pdfinfo (poppler-utils) not installed: page breaks are not checked");
      return;
    }
  g_assert_cmpuint (pdfinfo_pages (path), ==, n_pages);

  page_texts = g_ptr_array_new_with_free_func (g_free);
  for (guint p = 1; p <= n_pages; p++)
    {
      char *text = pdf_text (path, p, p);
      g_autofree char *footer = g_strdup_printf ("Page %u of %u", p, n_pages);

      assert_contains (text, footer);
      g_ptr_array_add (page_texts, text);
    }
  for (guint i = 0; i < plan->items->len; i++)
    {
      const EwPlanItem *item = g_ptr_array_index (plan->items, i);
      g_autofree char *title = squeeze (item->title);
      g_autofree char *reason = squeeze (item->reason);
      guint n_with_title = 0;

      for (guint p = 0; p < n_pages; p++)
        {
          const char *text = g_ptr_array_index (page_texts, p);

          if (strstr (text, title) == NULL)
            continue;
          n_with_title++;
          /* the rest of the line is on the same page */
          assert_contains (text, reason);
        }
      if (n_with_title == 0)
        g_error ("line %u “%s” is on no page whole", i + 1, title);
    }
  g_ptr_array_unref (page_texts);
}

/* A quote long enough to break pages, with a fixed-price job first: every
 * later page the work table runs on to starts with its column headings
 * again; the fixed-price line says so, and the totals are exact. */
static void
test_headings_and_fixed_price (Fixture *f, gconstpointer data)
{
  EwFamily *family = ew_vehicle_database_find_family (db, "bmw-f30");
  g_autoptr(EwJobRequest) request = ew_job_request_new ();
  g_autoptr(EwJobPlan) plan = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *first = NULL;
  g_autofree char *net = NULL, *vat = NULL, *gross = NULL;
  EwPriceRates rates;
  guint n_pages = 0, n_table_pages = 0;

  g_assert_nonnull (family);
  g_assert_true (ew_price_rates_init (&rates, 90.0, 20.0, "GBP", &error));
  g_assert_true (ew_price_rates_set_template_price (&rates, "ecu-swap", 44444, &error));
  g_assert_no_error (error);
  ew_job_request_add_replacement (request, "dme", FALSE);
  for (guint i = 0; i < family->features->len; i++)
    {
      const EwFeature *feature = g_ptr_array_index (family->features, i);

      ew_job_request_add_feature (request, feature->id, feature->states->len > 0
                                  ? ((EwFeatureState *) g_ptr_array_index (feature->states, feature->states->len - 1))->name
                                  : "on");
    }
  plan = ew_job_plan_new (family, request, NULL, NULL, &rates, &error);
  g_assert_no_error (error);
  g_assert_true (((EwPlanItem *) g_ptr_array_index (plan->items, 0))->is_fixed_price);
  g_assert_cmpint (((EwPlanItem *) g_ptr_array_index (plan->items, 0))->price_minor, ==, 44444);

  path = write_sheet (f, plan, NULL, NULL, "headings.pdf", &n_pages);
  g_assert_cmpuint (n_pages, >=, 2);
  if (!have ("pdftotext"))
    {
      g_test_skip ("pdftotext (poppler-utils) not installed: the sheet's text is not checked");
      return;
    }
  first = pdf_text (path, 1, 1);
  assert_contains (first, "444.44 GBP fixed price");
  net = ew_money_format (&plan->rates, plan->net_minor);
  vat = ew_money_format (&plan->rates, plan->vat_minor);
  gross = ew_money_format (&plan->rates, plan->gross_minor);
  g_assert_cmpint (plan->vat_minor, ==, ew_money_divide_round (plan->net_minor * 20, 100));
  g_assert_cmpint (plan->gross_minor, ==, plan->net_minor + plan->vat_minor);

  for (guint p = 2; p <= n_pages; p++)
    {
      g_autofree char *text = pdf_text (path, p, p);
      gboolean has_item = FALSE;

      /* a page with lines of the table carries the headings */
      for (guint i = 0; i < plan->items->len && !has_item; i++)
        {
          g_autofree char *title = squeeze (((EwPlanItem *) g_ptr_array_index (plan->items, i))->title);

          has_item = strstr (text, title) != NULL;
        }
      if (!has_item)
        continue;
      n_table_pages++;
      assert_contains (text, "Work Time Price");
    }
  g_assert_cmpuint (n_table_pages, >=, 1);
  {
    g_autofree char *all = pdf_text (path, 0, 0);

    assert_contains (all, net);
    assert_contains (all, vat);
    assert_contains (all, gross);
  }
}

static void
test_logo (Fixture *f, gconstpointer data)
{
  const char *const items[] = { "cornering-lights=on", NULL };
  g_autoptr(EwJobPlan) plan = plan_items ("bmw-f30", items);
  g_autofree char *logo = g_build_filename (f->dir, "logo.png", NULL);
  g_autofree char *broken = g_build_filename (f->dir, "broken.png", NULL);
  g_autofree char *missing = g_build_filename (f->dir, "missing.png", NULL);
  g_autofree char *with_logo = NULL, *with_broken = NULL, *with_missing = NULL, *without = NULL;
  g_autofree char *data_logo = NULL, *data_none = NULL;
  gsize len_logo = 0, len_none = 0;
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 300, 100);
  cairo_t *cr = cairo_create (surface);
  EwJobSheetInfo info = { 0 };

  cairo_set_source_rgb (cr, 0.8, 0.1, 0.1);
  cairo_paint (cr);
  cairo_destroy (cr);
  g_assert_cmpint (cairo_surface_write_to_png (surface, logo), ==, CAIRO_STATUS_SUCCESS);
  cairo_surface_destroy (surface);
  g_assert_true (g_file_set_contents (broken, "\x89PNG\r\n\x1a\nnot really", -1, NULL));

  info.garage_name = "Logo Garage";
  info.garage_logo_path = logo;
  with_logo = write_sheet (f, plan, &info, NULL, "logo.pdf", NULL);
  info.garage_logo_path = broken;
  with_broken = write_sheet (f, plan, &info, NULL, "broken.pdf", NULL);
  info.garage_logo_path = missing;
  with_missing = write_sheet (f, plan, &info, NULL, "missing.pdf", NULL);
  info.garage_logo_path = NULL;
  without = write_sheet (f, plan, &info, NULL, "none.pdf", NULL);

  g_assert_cmpuint (pdf_page_objects (with_broken), ==, 1);
  g_assert_cmpuint (pdf_page_objects (with_missing), ==, 1);
  /* the logo is in the file: an image object that the others lack */
  g_assert_true (g_file_get_contents (with_logo, &data_logo, &len_logo, NULL));
  g_assert_true (g_file_get_contents (without, &data_none, &len_none, NULL));
  g_assert_nonnull (memmem (data_logo, len_logo, "/Subtype /Image", 15));
  g_assert_null (memmem (data_none, len_none, "/Subtype /Image", 15));
}

static void
test_unwritable (Fixture *f, gconstpointer data)
{
  const char *const items[] = { "cornering-lights=on", NULL };
  g_autoptr(EwJobPlan) plan = plan_items ("bmw-f30", items);
  g_autoptr(EwJobSheet) sheet = ew_job_sheet_new (plan, NULL, NULL, NULL);
  g_autofree char *path = g_build_filename (f->dir, "no-such-folder", "sheet.pdf", NULL);
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (sheet);
  g_assert_false (ew_job_sheet_write_pdf (sheet, path, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
}

/* A finished coding job and a programming job in the store: "Work carried
 * out" shows before → after of each DID with its feature, and the
 * software versions from the journal. */
static void
test_work_done (Fixture *f, gconstpointer data)
{
  const char *const items[] = { "cornering-lights=on", NULL };
  g_autoptr(EwJobPlan) plan = plan_items ("bmw-f30", items);
  g_autofree char *store_path = g_build_filename (f->dir, "jobs.sqlite", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(EwJobStore) store = ew_job_store_open (store_path, &error);
  const EwFeature *feature = ew_family_find_feature (plan->family, "cornering-lights");
  static const guint8 before[] = { 0x01, 0x20, 0x00 }, after[] = { 0x01, 0x21, 0x00 };
  g_autoptr(GBytes) b = g_bytes_new_static (before, sizeof before);
  g_autoptr(GBytes) a = g_bytes_new_static (after, sizeof after);
  gint64 ids[2];
  EwJobSheetDone done = { 0 };
  EwJobSheetInfo info = { 0 };
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  g_autofree char *did = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (feature);
  ids[0] = ew_job_store_begin_job (store, EW_JOB_KIND_CODING, VIN, "bmw-f30", "sim:bmw-f30",
                                   "Enable cornering lights", 0, &error);
  g_assert_no_error (error);
  g_assert_true (ew_job_store_add_backup (store, ids[0], feature->module, feature->did, b, a, &error));
  g_assert_true (ew_job_store_set_job_state (store, ids[0], EW_JOB_STATE_DONE, &error));
  ids[1] = ew_job_store_begin_job (store, EW_JOB_KIND_PROGRAMMING, VIN, "bmw-f30", "sim:bmw-f30",
                                   "Program kombi with software 7.2.0", 0, &error);
  g_assert_no_error (error);
  g_assert_true (ew_job_store_journal (store, ids[1], "identification", "kombi", "ok",
                                       "software 7.1.3, part 123, hardware 05", &error));
  g_assert_true (ew_job_store_journal (store, ids[1], "done", "kombi", "ok",
                                       "module kombi runs software 7.2.0", &error));
  g_assert_true (ew_job_store_set_job_state (store, ids[1], EW_JOB_STATE_DONE, &error));
  g_assert_no_error (error);

  done.store = store;
  done.job_ids = ids;
  done.n_job_ids = 2;
  info.vin = VIN;
  path = write_sheet (f, plan, &info, &done, "done.pdf", NULL);
  g_assert_cmpuint (pdf_page_objects (path), >=, 1);

  /* an unknown job is an error, not a sheet without it */
  {
    gint64 bad = 9999;
    EwJobSheetDone missing = { store, &bad, 1 };
    g_autoptr(EwJobSheet) sheet = ew_job_sheet_new (plan, &info, &missing, &error);

    g_assert_null (sheet);
    g_assert_error (error, EW_JOB_STORE_ERROR, EW_JOB_STORE_ERROR_NOT_FOUND);
    g_clear_error (&error);
  }

  if (!have ("pdftotext"))
    {
      g_test_skip ("pdftotext (poppler-utils) not installed: the sheet's text is not checked");
      return;
    }
  text = pdf_text (path, 0, 0);
  did = g_strdup_printf ("%s 0x%04X", feature->module, feature->did);
  assert_contains (text, "Job sheet");
  assert_contains (text, "Work carried out");
  assert_contains (text, "Enable cornering lights");
  assert_contains (text, did);
  assert_contains (text, feature->name);
  assert_contains (text, "01 20 00 → 01 21 00");
  assert_contains (text, "software 7.1.3");
  assert_contains (text, "runs software 7.2.0");
}

/* The same pages drawn on an image: page 1 of the quote, for the docs. */
static void
test_draw_png (Fixture *f, gconstpointer data)
{
  const char *const items[] = { "cornering-lights=on", "replace:kombi:used", NULL };
  g_autoptr(EwJobPlan) plan = plan_items ("bmw-f30", items);
  g_autoptr(EwJobSheet) sheet = NULL;
  g_autofree char *logo = g_build_filename (f->dir, "logo.png", NULL);
  g_autoptr(GDateTime) date = g_date_time_new_utc (2026, 3, 14, 9, 30, 0);
  const char *out = g_getenv ("EW_JOB_SHEET_PNG");
  cairo_surface_t *logo_surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 240, 120);
  cairo_t *logo_cr = cairo_create (logo_surface);
  EwJobSheetInfo info = { 0 };

  /* a logo twice as wide as its box is high: scaled down to fit */
  cairo_set_source_rgb (logo_cr, 0.12, 0.32, 0.55);
  cairo_arc (logo_cr, 60, 60, 55, 0, 2 * G_PI);
  cairo_fill (logo_cr);
  cairo_set_source_rgb (logo_cr, 0.85, 0.45, 0.1);
  cairo_rectangle (logo_cr, 130, 20, 100, 80);
  cairo_fill (logo_cr);
  cairo_destroy (logo_cr);
  g_assert_cmpint (cairo_surface_write_to_png (logo_surface, logo), ==, CAIRO_STATUS_SUCCESS);
  cairo_surface_destroy (logo_surface);

  info.garage_name = "Müller Motor Works";
  info.garage_address = "Unit 4, Station Road\nSpringfield SP1 2AB\n01234 567890";
  info.garage_logo_path = logo;
  info.registration = "AB12 CDE";
  info.vin = VIN;
  info.reference = "Q-1042";
  info.date = date;
  sheet = ew_job_sheet_new (plan, &info, NULL, NULL);
  g_assert_nonnull (sheet);

  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, 1191, 1684);
  cairo_t *cr = cairo_create (surface);
  const guint32 *pixels;
  guint n_dark = 0;

  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cairo_scale (cr, 2, 2);
  ew_job_sheet_draw_page (sheet, cr, 0);
  cairo_destroy (cr);
  cairo_surface_flush (surface);
  pixels = (const guint32 *) cairo_image_surface_get_data (surface);
  for (int i = 0; i < 1191 * 1684; i++)
    if ((pixels[i] & 0xff) < 0x80)
      n_dark++;
  /* text was drawn, and not over the whole page */
  g_assert_cmpuint (n_dark, >, 5000);
  g_assert_cmpuint (n_dark, <, 1191 * 1684 / 4);
  if (out != NULL)
    g_assert_cmpint (cairo_surface_write_to_png (surface, out), ==, CAIRO_STATUS_SUCCESS);
  cairo_surface_destroy (surface);
}

/* LeakSanitizer's hook: fontconfig keeps its configuration for the life
 * of the process (only FcFini frees it, and the tests do not link
 * fontconfig directly). */
const char *__lsan_default_suppressions (void);
const char *
__lsan_default_suppressions (void)
{
  return "leak:libfontconfig.so\n";
}

int
main (int argc, char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  db = ew_vehicle_database_new (NULL);
  ew_vehicle_database_add_default_dirs (db, NULL);
  g_assert_cmpuint (ew_vehicle_database_get_errors (db)->len, ==, 0);

  g_test_add ("/job-sheet/quote-bmw", Fixture, NULL, fixture_set_up, test_quote_bmw, fixture_tear_down);
  g_test_add ("/job-sheet/refusal", Fixture, NULL, fixture_set_up, test_refusal, fixture_tear_down);
  g_test_add ("/job-sheet/long/bmw-f30", Fixture, "bmw-f30", fixture_set_up, test_long_plan,
              fixture_tear_down);
  g_test_add ("/job-sheet/long/vw-golf-mk7", Fixture, "vw-golf-mk7", fixture_set_up, test_long_plan,
              fixture_tear_down);
  g_test_add ("/job-sheet/long/mercedes-w205", Fixture, "mercedes-w205", fixture_set_up, test_long_plan,
              fixture_tear_down);
  g_test_add ("/job-sheet/headings-and-fixed-price", Fixture, NULL, fixture_set_up,
              test_headings_and_fixed_price, fixture_tear_down);
  g_test_add ("/job-sheet/logo", Fixture, NULL, fixture_set_up, test_logo, fixture_tear_down);
  g_test_add ("/job-sheet/unwritable", Fixture, NULL, fixture_set_up, test_unwritable, fixture_tear_down);
  g_test_add ("/job-sheet/work-done", Fixture, NULL, fixture_set_up, test_work_done, fixture_tear_down);
  g_test_add ("/job-sheet/draw-png", Fixture, NULL, fixture_set_up, test_draw_png, fixture_tear_down);

  ret = g_test_run ();
  ew_vehicle_database_free (db);
  /* drop the process-wide font map and caches, so the leak checker sees
   * only what the sheet itself left behind */
  pango_cairo_font_map_set_default (NULL);
  cairo_debug_reset_static_data ();
  return ret;
}
