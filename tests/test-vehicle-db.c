/* test-vehicle-db.c — the vehicle family loader and database: shipped data,
 * a malformed corpus (each file with the error it must give), folder
 * loading and overriding, provenance defaults and lookups.
 */
#include <string.h>

#include <glib/gstdio.h>

#include "data-dir.h"
#include "vehicle/database.h"
#include "vehicle/family-private.h"
#include "vehicle/vehicle-error.h"
#include "test-util.h"

static char *
schema_path (void)
{
  return ew_data_path ("vehicles/vehicle-family.xsd");
}

static char *
fixture (const char *kind, const char *name)
{
  return g_test_build_filename (G_TEST_DIST, "fixtures", "families", kind, name, NULL);
}

static char *
read_fixture (const char *kind, const char *name)
{
  g_autofree char *path = fixture (kind, name);
  g_autoptr(GError) error = NULL;
  char *contents = NULL;

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  return contents;
}

static void
write_file (const char *dir, const char *name, const char *contents)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
}

/* The good fixture with its id and model changed. */
static char *
demo_variant (const char *id, const char *model)
{
  g_autofree char *text = read_fixture ("good", "demo-coupe.xml");
  g_autofree char *family_attr = g_strdup_printf ("<family id=\"%s\"", id);
  g_autofree char *model_attr = g_strdup_printf ("model=\"%s\"", model);
  g_autoptr(GString) s = g_string_new (text);

  g_assert_cmpuint (g_string_replace (s, "<family id=\"demo-coupe\"", family_attr, 1), ==, 1);
  g_assert_cmpuint (g_string_replace (s, "model=\"Coupe\"", model_attr, 1), ==, 1);
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static char *
make_tmp_dir (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("ew-vehicle-db-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}


/* ---- shipped data -------------------------------------------------------- */

static void
test_shipped_families (void)
{
  static const char * const expected[] = { "bmw-f30", "mercedes-w205", "vw-golf-mk7" };
  g_autofree char *dir = ew_data_path ("vehicles");
  g_autofree char *schema = schema_path ();
  g_autoptr(EwVehicleDatabase) db = ew_vehicle_database_new (schema);
  g_autoptr(GDir) d = NULL;
  GPtrArray *families, *errors;
  guint n_files = 0, n_expected_present = 0;
  const char *name;

  d = g_dir_open (dir, 0, NULL);
  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    if (g_str_has_suffix (name, ".xml") && name[0] != '.')
      n_files++;

  g_assert_cmpuint (ew_vehicle_database_add_dir (db, dir), ==, n_files);
  errors = ew_vehicle_database_get_errors (db);
  for (guint i = 0; i < errors->len; i++)
    g_test_message ("%s", ((GError *) g_ptr_array_index (errors, i))->message);
  g_assert_cmpuint (errors->len, ==, 0);

  families = ew_vehicle_database_get_families (db);
  g_assert_cmpuint (families->len, ==, n_files);
  for (guint i = 0; i < families->len; i++)
    {
      const EwFamily *f = g_ptr_array_index (families, i);

      g_test_message ("%s: %u modules, %u features", f->id, f->modules->len, f->features->len);
      g_assert_cmpuint (f->modules->len, >=, 8);
      g_assert_cmpuint (f->features->len, >=, 12);
      g_assert_true (g_str_has_prefix (f->path, dir));
      if (i > 0)
        g_assert_cmpstr (((EwFamily *) g_ptr_array_index (families, i - 1))->id, <, f->id);
    }

  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_autofree char *file = g_strconcat (expected[i], ".xml", NULL);
      g_autofree char *path = g_build_filename (dir, file, NULL);

      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        continue;
      n_expected_present++;
      g_assert_nonnull (ew_vehicle_database_find_family (db, expected[i]));
    }
  if (n_expected_present < G_N_ELEMENTS (expected))
    {
      g_test_skip ("not every shipped family is in data/vehicles yet");
      return;
    }
  g_assert_cmpuint (families->len, >=, 3);
}

/* ---- the good fixture ---------------------------------------------------- */

static EwFamily *
load_demo (void)
{
  g_autofree char *path = fixture ("good", "demo-coupe.xml");
  g_autofree char *schema = schema_path ();
  g_autoptr(GError) error = NULL;
  EwFamily *family;

  family = ew_family_load_file (path, schema, &error);
  g_assert_no_error (error);
  g_assert_nonnull (family);
  return family;
}

static void
test_good_fixture (void)
{
  g_autoptr(EwFamily) f = load_demo ();
  const EwVinPattern *vin;
  const EwModule *engine, *body, *cluster;
  const EwCodingDid *did;
  const EwCodingItem *item;
  const EwFlashRegion *region;
  const EwRoutine *routine;
  const EwProgrammingStep *step;
  const EwFeature *feature;
  const EwJobTemplate *job;
  const EwSecurityAlgorithm *algorithm;

  g_assert_cmpstr (f->id, ==, "demo-coupe");
  g_assert_cmpstr (f->make, ==, "Demo Motors");
  g_assert_cmpstr (f->model, ==, "Coupe");
  g_assert_cmpuint (f->years_from, ==, 2014);
  g_assert_cmpuint (f->years_to, ==, 2020);
  g_assert_cmpint (f->check_digit, ==, EW_CHECK_DIGIT_OPTIONAL);
  g_assert_true (f->has_year_code);
  g_assert_true (g_str_has_suffix (f->path, "demo-coupe.xml"));

  g_assert_cmpuint (f->chassis->len, ==, 2);
  g_assert_cmpstr (((EwChassis *) g_ptr_array_index (f->chassis, 1))->body, ==, "convertible");

  g_assert_cmpuint (f->vin_patterns->len, ==, 2);
  vin = g_ptr_array_index (f->vin_patterns, 1);
  g_assert_cmpstr (vin->wmi, ==, "ZZD");
  g_assert_cmpstr (vin->chassis, ==, "DC2");
  g_assert_cmpstr (vin->vds_pattern, ==, "^V[12][A-Z0-9]{4}$");
  g_assert_nonnull (vin->vds);
  g_assert_true (g_regex_match (vin->vds, "V2AB12", 0, NULL));
  g_assert_false (g_regex_match (vin->vds, "C2AB12", 0, NULL));
  g_assert_cmpuint (vin->years_from, ==, 2016);
  g_assert_cmpuint (vin->years_to, ==, 0);

  g_assert_cmpuint (f->buses->len, ==, 3);
  g_assert_cmpint (((EwBus *) g_ptr_array_index (f->buses, 0))->bitrate_bps, ==, 500000);
  g_assert_cmpint (((EwBus *) g_ptr_array_index (f->buses, 2))->type, ==, EW_BUS_DOIP);

  g_assert_cmpuint (f->algorithms->len, ==, 1);
  algorithm = g_ptr_array_index (f->algorithms, 0);
  g_assert_cmpstr (algorithm->plugin, ==, "sim-xor");
  g_assert_cmpstr (algorithm->description, ==, "Toy seed-key algorithm of the simulator.");

  g_assert_cmpuint (f->modules->len, ==, 3);
  engine = ew_family_find_module (f, "engine");
  g_assert_nonnull (engine);
  g_assert_cmpint (engine->kind, ==, EW_MODULE_ENGINE);
  g_assert_true (engine->addressing.has_can);
  g_assert_false (engine->addressing.has_doip);
  g_assert_cmpstr (engine->addressing.can_bus, ==, "pt");
  g_assert_cmphex (engine->addressing.can_request_id, ==, 0x7E0);
  g_assert_cmphex (engine->addressing.can_response_id, ==, 0x7E8);
  g_assert_cmpuint (engine->identification->len, ==, 3);
  g_assert_cmphex (((EwIdentificationDid *) g_ptr_array_index (engine->identification, 0))->did, ==, 0xF190);
  g_assert_cmpuint (((EwIdentificationDid *) g_ptr_array_index (engine->identification, 0))->length_bytes, ==, 17);
  g_assert_cmpint (((EwIdentificationDid *) g_ptr_array_index (engine->identification, 1))->role, ==, EW_ID_ROLE_PART_NUMBER);
  g_assert_cmpuint (engine->security->len, ==, 2);
  g_assert_cmpuint (((EwSecurityLevel *) g_ptr_array_index (engine->security, 0))->max_attempts, ==, 3);
  g_assert_cmpuint (((EwSecurityLevel *) g_ptr_array_index (engine->security, 0))->lockout_ms, ==, 10000);
  g_assert_cmpint (((EwSecurityLevel *) g_ptr_array_index (engine->security, 1))->purpose, ==, EW_WORK_CLASS_PROGRAMMING);
  g_assert_cmpuint (engine->coding->len, ==, 0);
  g_assert_cmphex (engine->coding_session, ==, 0x03);
  g_assert_cmpuint (engine->mileage->len, ==, 1);
  g_assert_false (((EwMileageStore *) g_ptr_array_index (engine->mileage, 0))->is_writable);

  g_assert_nonnull (engine->flash);
  g_assert_cmphex (engine->flash->fill_byte, ==, 0x00);
  g_assert_true (engine->flash->is_readable);
  g_assert_cmpint (engine->flash->provenance.provenance, ==, EW_PROVENANCE_COMMUNITY);
  g_assert_cmpstr (engine->flash->provenance.source, ==, "Demo Motors workshop manual, section 12");
  g_assert_cmpuint (engine->flash->regions->len, ==, 3);
  region = g_ptr_array_index (engine->flash->regions, 1);
  g_assert_cmpstr (region->name, ==, "app");
  g_assert_cmphex (region->start, ==, 0x10000);
  g_assert_cmphex (region->size, ==, 0x70000);
  g_assert_cmpint (region->kind, ==, EW_FLASH_REGION_APPLICATION);
  g_assert_cmpstr (region->erase_routine, ==, "erase");

  g_assert_nonnull (engine->programming);
  g_assert_cmpuint (engine->programming->max_block_length, ==, 4094);
  g_assert_cmphex (engine->programming->fingerprint_did, ==, 0xF15A);
  g_assert_cmpuint (engine->programming->routines->len, ==, 2);
  routine = g_ptr_array_index (engine->programming->routines, 0);
  g_assert_cmphex (routine->rid, ==, 0xFF00);
  g_assert_cmpuint (g_bytes_get_size (routine->args), ==, 1);
  g_assert_cmphex (((const guint8 *) g_bytes_get_data (routine->args, NULL))[0], ==, 0x01);
  routine = g_ptr_array_index (engine->programming->routines, 1);
  g_assert_nonnull (routine->args);
  g_assert_cmpuint (g_bytes_get_size (routine->args), ==, 0);
  g_assert_cmpuint (engine->programming->steps->len, ==, 7);
  step = g_ptr_array_index (engine->programming->steps, 0);
  g_assert_cmpint (step->kind, ==, EW_STEP_SESSION);
  g_assert_cmphex (step->session, ==, 0x02);
  step = g_ptr_array_index (engine->programming->steps, 1);
  g_assert_cmpint (step->kind, ==, EW_STEP_SECURITY);
  g_assert_cmphex (step->level, ==, 0x11);
  step = g_ptr_array_index (engine->programming->steps, 3);
  g_assert_cmpint (step->kind, ==, EW_STEP_ERASE);
  g_assert_cmpstr (step->routine, ==, "erase");

  body = ew_family_find_module (f, "body");
  g_assert_nonnull (body);
  g_assert_cmpint (body->addressing.can_format, ==, EW_CAN_ADDRESSING_EXTENDED);
  g_assert_cmphex (body->addressing.can_target_address, ==, 0x40);
  g_assert_true (body->addressing.has_doip);
  g_assert_cmphex (body->addressing.doip_logical_address, ==, 0x1040);
  g_assert_cmphex (body->coding_security_level, ==, 0x03);
  g_assert_cmpuint (body->coding->len, ==, 2);
  did = ew_module_find_coding_did (body, 0x3000);
  g_assert_nonnull (did);
  g_assert_cmpuint (did->length_bytes, ==, 4);
  g_assert_cmpint (did->checksum, ==, EW_CHECKSUM_XOR8);
  g_assert_cmpuint (did->checksum_from, ==, 0);
  g_assert_cmpuint (did->checksum_to, ==, 2);
  g_assert_cmpuint (did->checksum_at, ==, 3);
  g_assert_nonnull (did->default_bytes);
  g_assert_cmpmem (g_bytes_get_data (did->default_bytes, NULL), 4, "\x00\x01\x02\x00", 4);
  item = ew_coding_did_find_item (did, "delay");
  g_assert_nonnull (item);
  g_assert_cmpuint (item->byte, ==, 1);
  g_assert_cmpuint (item->bit, ==, 4);
  g_assert_cmphex (item->mask, ==, 0x30);
  g_assert_cmpuint (item->values->len, ==, 3);
  g_assert_cmpuint (ew_coding_item_find_value (item, "60s")->raw, ==, 2);
  item = ew_coding_did_find_item (did, "wide");
  g_assert_cmphex (item->mask, ==, 0x3C0);
  g_assert_cmpuint (ew_coding_item_find_value (item, "all")->raw, ==, 0xF);

  cluster = ew_family_find_module (f, "cluster");
  g_assert_true (cluster->is_optional);
  g_assert_cmpint (cluster->kind, ==, EW_MODULE_INSTRUMENT_CLUSTER);
  g_assert_cmpint (cluster->addressing.can_format, ==, EW_CAN_ADDRESSING_29BIT);
  g_assert_cmphex (cluster->addressing.can_request_id, ==, 0x18DA60F1);
  g_assert_true (((EwMileageStore *) g_ptr_array_index (cluster->mileage, 0))->unit_is_miles);
  g_assert_cmpuint (((EwMileageStore *) g_ptr_array_index (cluster->mileage, 0))->scale, ==, 10);
  g_assert_null (cluster->flash);
  g_assert_null (cluster->programming);

  g_assert_cmpuint (f->features->len, ==, 4);
  feature = ew_family_find_feature (f, "drl");
  g_assert_cmpstr (feature->name, ==, "Daytime running lights");
  /* white space in customer text is collapsed */
  g_assert_cmpstr (feature->description, ==, "Switches the daytime running lights on or off.");
  g_assert_nonnull (feature->reason);
  g_assert_cmpstr (feature->category, ==, "lighting");
  g_assert_cmpint (feature->work_class, ==, EW_WORK_CLASS_CODING);
  g_assert_cmpuint (feature->labour_minutes, ==, 5);
  g_assert_cmpstr (feature->module, ==, "body");
  g_assert_cmphex (feature->did, ==, 0x3000);
  g_assert_cmpstr (feature->item, ==, "drl");
  g_assert_cmpuint (feature->requires->len, ==, 2);
  g_assert_cmpint (((EwRequirement *) g_ptr_array_index (feature->requires, 0))->kind, ==, EW_REQUIREMENT_OPTION);
  g_assert_cmpstr (((EwRequirement *) g_ptr_array_index (feature->requires, 0))->id, ==, "LED");
  g_assert_cmpint (((EwRequirement *) g_ptr_array_index (feature->requires, 1))->kind, ==, EW_REQUIREMENT_MODULE);
  g_assert_cmpuint (feature->states->len, ==, 2);
  g_assert_cmpstr (((EwFeatureState *) g_ptr_array_index (feature->states, 1))->value, ==, "on");
  g_assert_cmpstr (((EwFeatureState *) g_ptr_array_index (feature->states, 1))->label, ==, "On");

  feature = ew_family_find_feature (f, "engine-update");
  g_assert_cmpint (feature->work_class, ==, EW_WORK_CLASS_PROGRAMMING);
  g_assert_cmpstr (feature->module, ==, "engine");
  g_assert_null (feature->item);
  g_assert_cmpuint (feature->states->len, ==, 0);
  g_assert_cmpstr (feature->min_software, ==, "2.0");
  /* &amp; is the only kind of reference allowed, and it is decoded */
  g_assert_cmpstr (feature->description, ==, "Loads the current engine software & calibration.");

  g_assert_cmpuint (f->jobs->len, ==, 1);
  job = g_ptr_array_index (f->jobs, 0);
  g_assert_cmpint (job->kind, ==, EW_JOB_USED_CLUSTER);
  g_assert_cmpstr (job->module, ==, "cluster");
  g_assert_cmpstr (job->description, ==, "Fit a used cluster and carry the mileage over.");
  g_assert_cmpuint (job->operations->len, ==, 2);
  g_assert_cmpint (((EwJobOperation *) g_ptr_array_index (job->operations, 0))->work_class, ==, EW_WORK_CLASS_ADAPTATION);
  g_assert_cmpuint (((EwJobOperation *) g_ptr_array_index (job->operations, 1))->labour_minutes, ==, 10);
}

static void
test_provenance_default (void)
{
  g_autoptr(EwFamily) f = load_demo ();
  g_autofree char *cli = g_test_build_filename (G_TEST_DIST, "fixtures", "cli", "garage-demo.xml", NULL);
  g_autofree char *schema = schema_path ();
  g_autoptr(EwFamily) g = NULL;
  g_autoptr(GError) error = NULL;
  const EwModule *body = ew_family_find_module (f, "body");
  const EwCodingDid *did = ew_module_find_coding_did (body, 0x3000);

  /* given */
  g_assert_cmpint (f->provenance.provenance, ==, EW_PROVENANCE_ILLUSTRATIVE);
  g_assert_cmpint (ew_family_find_module (f, "engine")->provenance.provenance, ==, EW_PROVENANCE_VERIFIED);
  g_assert_cmpint (ew_family_find_feature (f, "headlight-delay")->provenance.provenance, ==, EW_PROVENANCE_VERIFIED);
  g_assert_cmpint (ew_family_find_feature (f, "mirror-fold")->provenance.provenance, ==, EW_PROVENANCE_COMMUNITY);
  g_assert_cmpstr (ew_family_find_feature (f, "mirror-fold")->provenance.source, ==, "Dealer bulletin 42");
  g_assert_cmpint (ew_coding_did_find_item (did, "drl")->provenance.provenance, ==, EW_PROVENANCE_COMMUNITY);

  /* missing: illustrative, never inherited from the enclosing element */
  g_assert_cmpint (body->provenance.provenance, ==, EW_PROVENANCE_ILLUSTRATIVE);
  g_assert_null (body->provenance.source);
  g_assert_cmpint (ew_family_find_feature (f, "drl")->provenance.provenance, ==, EW_PROVENANCE_ILLUSTRATIVE);
  g_assert_cmpint (ew_coding_did_find_item (did, "delay")->provenance.provenance, ==, EW_PROVENANCE_ILLUSTRATIVE);
  g_assert_cmpint (ew_family_find_module (f, "engine")->programming->provenance.provenance, ==, EW_PROVENANCE_ILLUSTRATIVE);
  g_assert_cmpint (((EwJobTemplate *) g_ptr_array_index (f->jobs, 0))->provenance.provenance, ==, EW_PROVENANCE_ILLUSTRATIVE);

  /* a family with no provenance anywhere but the root */
  g = ew_family_load_file (cli, schema, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ew_family_find_feature (g, "f")->provenance.provenance, ==, EW_PROVENANCE_ILLUSTRATIVE);

  g_assert_cmpstr (ew_provenance_to_string (EW_PROVENANCE_ILLUSTRATIVE), ==, "illustrative");
  g_assert_cmpstr (ew_provenance_to_string (EW_PROVENANCE_COMMUNITY), ==, "community");
  g_assert_cmpstr (ew_provenance_to_string (EW_PROVENANCE_VERIFIED), ==, "verified");
  g_assert_cmpstr (ew_work_class_to_string (EW_WORK_CLASS_ADAPTATION), ==, "adaptation");
  g_assert_cmpstr (ew_module_kind_to_string (EW_MODULE_INSTRUMENT_CLUSTER), ==, "instrument-cluster");
  g_assert_cmpstr (ew_module_kind_to_string (EW_MODULE_DRIVER_ASSISTANCE), ==, "driver-assistance");
  g_assert_cmpstr (ew_job_kind_to_string (EW_JOB_BODY_MODULE), ==, "body-module");
}

static void
test_lookups (void)
{
  g_autoptr(EwFamily) f = load_demo ();
  const EwModule *body;
  const EwCodingDid *did;
  const EwCodingItem *item;
  const EwFeature *feature;

  /* predefined and character references in attributes are decoded */
  g_assert_cmpstr (ew_family_find_option (f, "NAV")->name, ==, "Navigation & traffic → live");
  g_assert_null (ew_family_find_option (f, "HUD"));
  g_assert_null (ew_family_find_option (f, NULL));
  g_assert_null (ew_family_find_module (f, "gearbox"));
  g_assert_null (ew_family_find_module (f, NULL));
  g_assert_null (ew_family_find_feature (f, "lap-timer"));
  g_assert_null (ew_family_find_feature (f, NULL));

  /* follow a feature down to the bits it changes */
  feature = ew_family_find_feature (f, "mirror-fold");
  g_assert_nonnull (feature);
  body = ew_family_find_module (f, feature->module);
  g_assert_nonnull (body);
  did = ew_module_find_coding_did (body, feature->did);
  g_assert_nonnull (did);
  g_assert_cmpstr (did->name, ==, "Comfort");
  item = ew_coding_did_find_item (did, feature->item);
  g_assert_nonnull (item);
  g_assert_cmphex (item->mask, ==, 0x04);
  g_assert_cmpuint (item->bit, ==, 2);
  g_assert_cmpuint (ew_coding_item_find_value (item, "on")->raw, ==, 1);
  g_assert_null (ew_coding_item_find_value (item, "auto"));
  g_assert_null (ew_coding_item_find_value (item, NULL));
  g_assert_null (ew_coding_did_find_item (did, "drl"));
  g_assert_null (ew_module_find_coding_did (body, 0x3002));
  g_assert_null (ew_module_find_coding_did (ew_family_find_module (f, "engine"), 0x3000));

  /* references outlive the caller's own */
  ew_family_ref (f);
  ew_family_unref (f);
  g_assert_cmpstr (f->id, ==, "demo-coupe");
}

/* ---- the option list ----------------------------------------------------- */

/* The good fixture with one text replaced, loaded from memory. */
static EwFamily *
load_demo_with (EwFamilyLoader *loader,
                const char     *old_text,
                const char     *new_text,
                GError        **error)
{
  g_autofree char *text = read_fixture ("good", "demo-coupe.xml");
  g_autoptr(GString) s = g_string_new (text);

  g_assert_cmpuint (g_string_replace (s, old_text, new_text, 1), ==, 1);
  return ew_family_loader_load_memory (loader, "demo-coupe.xml", s->str, s->len, error);
}

#define BODY_IDENTIFICATION "<identification><did id=\"0xF190\" role=\"vin\" length=\"17\"/></identification>"

static void
expect_invalid (EwFamilyLoader *loader,
                const char     *new_identification,
                const char     *substrings[3])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EwFamily) f = load_demo_with (loader, BODY_IDENTIFICATION, new_identification, &error);

  g_assert_null (f);
  g_assert_error (error, EW_VEHICLE_ERROR, EW_VEHICLE_ERROR_INVALID);
  g_test_message ("%s", error->message);
  g_assert_true (g_str_has_prefix (error->message, "demo-coupe.xml:"));
  for (guint i = 0; i < 3 && substrings[i] != NULL; i++)
    if (strstr (error->message, substrings[i]) == NULL)
      g_error ("expected “%s” in “%s”", substrings[i], error->message);
}

static void
test_option_list_role (void)
{
  g_autofree char *schema = schema_path ();
  g_autoptr(EwFamilyLoader) loader = ew_family_loader_new (schema, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(EwFamily) f = NULL;
  const EwIdentificationDid *did;

  g_assert_nonnull (loader);

  /* ASCII, variable length: accepted, with or without the encoding written */
  f = load_demo_with (loader, BODY_IDENTIFICATION,
                      "<identification><did id=\"0xF190\" role=\"vin\" length=\"17\"/>"
                      "<did id=\"0x3F1C\" role=\"option-list\" name=\"Vehicle order\"/></identification>",
                      &error);
  g_assert_no_error (error);
  did = g_ptr_array_index (ew_family_find_module (f, "body")->identification, 1);
  g_assert_cmpuint (did->did, ==, 0x3F1C);
  g_assert_cmpint (did->role, ==, EW_ID_ROLE_OPTION_LIST);
  g_assert_cmpint (did->encoding, ==, EW_DID_ENCODING_ASCII);
  g_assert_cmpuint (did->length_bytes, ==, 0);
  g_assert_cmpstr (did->name, ==, "Vehicle order");
  g_assert_cmpstr (ew_identification_role_to_string (did->role), ==, "option-list");
  g_assert_cmpstr (ew_identification_role_to_string (EW_ID_ROLE_OTHER), ==, "other");
  g_assert_cmpstr (ew_identification_role_to_string (EW_ID_ROLE_SIMULATION_MARKER), ==, "simulation-marker");
  g_clear_pointer (&f, ew_family_unref);
  f = load_demo_with (loader, BODY_IDENTIFICATION,
                      "<identification><did id=\"0x3F1C\" role=\"option-list\" encoding=\"ascii\"/></identification>",
                      &error);
  g_assert_no_error (error);
  g_assert_cmpint (((EwIdentificationDid *) g_ptr_array_index (ew_family_find_module (f, "body")->identification, 0))->role,
                   ==, EW_ID_ROLE_OPTION_LIST);

  /* another encoding, a fixed length, a second list: refused, saying why */
  expect_invalid (loader,
                  "<identification><did id=\"0x3F1C\" role=\"option-list\" encoding=\"hex\"/></identification>",
                  (const char *[3]) { "0x3F1C", "'body'", "'ascii'" });
  expect_invalid (loader,
                  "<identification><did id=\"0x3F1C\" role=\"option-list\" encoding=\"bcd\"/></identification>",
                  (const char *[3]) { "option-list", "'bcd'", NULL });
  expect_invalid (loader,
                  "<identification><did id=\"0x3F1C\" role=\"option-list\" length=\"16\"/></identification>",
                  (const char *[3]) { "0x3F1C", "variable length", NULL });
  expect_invalid (loader,
                  "<identification><did id=\"0x3F1C\" role=\"option-list\"/>"
                  "<did id=\"0x3F1D\" role=\"option-list\"/></identification>",
                  (const char *[3]) { "0x3F1D", "0x3F1C", "at most one" });
}

/* Option codes travel joined by commas, so none may hold one. */
static void
test_option_code_separators (void)
{
  g_autofree char *schema = schema_path ();
  g_autoptr(EwFamilyLoader) loader = ew_family_loader_new (schema, NULL);
  static const char * const bad_codes[] = {
    "<option code=\"NAV,TMC\"", "<option code=\"NAV TMC\"", "<option code=\" NAV\"",
  };

  g_assert_nonnull (loader);
  for (guint i = 0; i < G_N_ELEMENTS (bad_codes); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(EwFamily) f = load_demo_with (loader, "<option code=\"NAV\"", bad_codes[i], &error);

      g_assert_null (f);
      g_assert_nonnull (error);
      g_test_message ("%s", error->message);
      g_assert_true (g_error_matches (error, EW_VEHICLE_ERROR, EW_VEHICLE_ERROR_SCHEMA) ||
                     g_error_matches (error, EW_VEHICLE_ERROR, EW_VEHICLE_ERROR_INVALID));
      g_assert_true (g_str_has_prefix (error->message, "demo-coupe.xml:13:"));
      g_assert_nonnull (strstr (error->message, "element 'option'"));
    }
}

/* Each shipped family names its fitted options in exactly one module,
 * under a manufacturer's DID, and every option code fits the record. */
static void
test_option_list_shipped (void)
{
  g_autofree char *dir = ew_data_path ("vehicles");
  g_autofree char *schema = schema_path ();
  g_autoptr(EwVehicleDatabase) db = ew_vehicle_database_new (schema);
  GPtrArray *families;

  ew_vehicle_database_add_dir (db, dir);
  g_assert_cmpuint (ew_vehicle_database_get_errors (db)->len, ==, 0);
  families = ew_vehicle_database_get_families (db);
  g_assert_cmpuint (families->len, >, 0);
  for (guint f = 0; f < families->len; f++)
    {
      const EwFamily *fam = g_ptr_array_index (families, f);
      guint n = 0;

      for (guint m = 0; m < fam->modules->len; m++)
        {
          const EwModule *module = g_ptr_array_index (fam->modules, m);
          for (guint i = 0; i < module->identification->len; i++)
            {
              const EwIdentificationDid *did = g_ptr_array_index (module->identification, i);
              if (did->role != EW_ID_ROLE_OPTION_LIST)
                continue;
              g_test_message ("%s: option list in '%s', DID 0x%04X", fam->id, module->id, did->did);
              g_assert_cmpint (did->encoding, ==, EW_DID_ENCODING_ASCII);
              g_assert_cmpuint (did->length_bytes, ==, 0);
              g_assert_nonnull (did->name);
              /* ISO 14229-1 Annex C: vehicleManufacturerSpecific */
              g_assert_cmpuint (did->did, >=, 0x0100);
              g_assert_cmpuint (did->did, <=, 0xA5FF);
              g_assert_false (module->is_optional);
              g_assert_cmpint (module->provenance.provenance, ==, EW_PROVENANCE_ILLUSTRATIVE);
              n++;
            }
        }
      g_assert_cmpuint (n, ==, 1);
      for (guint i = 0; i < fam->options->len; i++)
        {
          const EwOption *option = g_ptr_array_index (fam->options, i);
          g_assert_cmpuint (strlen (option->code), >, 0);
          g_assert_null (strpbrk (option->code, ", \t\r\n"));
        }
    }
}

/* ---- the malformed corpus ------------------------------------------------ */

typedef struct {
  const char    *file;
  EwVehicleError code;
  const char    *substrings[3];  /* each must be in the message */
} BadCase;

static const BadCase bad_cases[] = {
  { "not-well-formed.xml", EW_VEHICLE_ERROR_PARSE, { "not-well-formed.xml:14:", "mismatch" } },
  { "empty.xml", EW_VEHICLE_ERROR_PARSE, { "empty.xml:", "empty" } },
  { "wrong-root.xml", EW_VEHICLE_ERROR_SCHEMA, { "wrong-root.xml:3:", "element 'vehicle'" } },
  { "missing-attribute.xml", EW_VEHICLE_ERROR_SCHEMA, { "missing-attribute.xml:89:", "element 'module'", "'kind'" } },
  { "bad-hex.xml", EW_VEHICLE_ERROR_SCHEMA, { "bad-hex.xml:25:", "element 'can'", "'7E0'" } },
  { "schema-version.xml", EW_VEHICLE_ERROR_SCHEMA, { "schema-version.xml:3:", "element 'family'", "schema-version" } },
  /* key and keyref: the same code and line as a full XSD validator gives */
  { "unknown-module-ref.xml", EW_VEHICLE_ERROR_SCHEMA, { "unknown-module-ref.xml:131:", "element 'programming'", "'gearbox'" } },
  { "duplicate-feature-id.xml", EW_VEHICLE_ERROR_SCHEMA, { "duplicate-feature-id.xml:110:", "element 'feature'", "'drl'" } },
  { "xinclude.xml", EW_VEHICLE_ERROR_SCHEMA, { "xinclude.xml:134:", "element 'include'" } },
  { "duplicate-module-id.xml", EW_VEHICLE_ERROR_SCHEMA, { "duplicate-module-id.xml:89:", "element 'module'", "ModuleId" } },
  { "duplicate-option.xml", EW_VEHICLE_ERROR_SCHEMA, { "duplicate-option.xml:13:", "element 'option'", "'LED'" } },
  { "duplicate-bus.xml", EW_VEHICLE_ERROR_SCHEMA, { "duplicate-bus.xml:18:", "element 'bus'", "'pt'" } },
  { "duplicate-algorithm.xml", EW_VEHICLE_ERROR_SCHEMA, { "duplicate-algorithm.xml:22:", "element 'algorithm'", "'sim-xor'" } },
  { "duplicate-job.xml", EW_VEHICLE_ERROR_SCHEMA, { "duplicate-job.xml:140:", "element 'job'", "'cluster-swap'" } },
  { "unknown-bus.xml", EW_VEHICLE_ERROR_SCHEMA, { "unknown-bus.xml:25:", "element 'can'", "'chassis'" } },
  { "unknown-algorithm.xml", EW_VEHICLE_ERROR_SCHEMA, { "unknown-algorithm.xml:33:", "element 'level'", "'secret-sauce'" } },
  { "unknown-option-ref.xml", EW_VEHICLE_ERROR_SCHEMA, { "unknown-option-ref.xml:103:", "element 'option'", "'HUD'" } },
  { "unknown-required-module.xml", EW_VEHICLE_ERROR_SCHEMA, { "unknown-required-module.xml:103:", "element 'module'", "'roof'" } },
  { "unknown-job-module.xml", EW_VEHICLE_ERROR_SCHEMA, { "unknown-job-module.xml:135:", "element 'job'", "'dash'" } },
  { "doip-bus-for-can.xml", EW_VEHICLE_ERROR_INVALID, { "doip-bus-for-can.xml:25:", "element 'can'", "not a CAN bus" } },
  { "unknown-did.xml", EW_VEHICLE_ERROR_INVALID, { "unknown-did.xml:123:", "element 'coding'", "0x3002" } },
  { "unknown-item.xml", EW_VEHICLE_ERROR_INVALID, { "unknown-item.xml:123:", "element 'coding'", "'unfold'" } },
  { "state-value-not-in-item.xml", EW_VEHICLE_ERROR_INVALID, { "state-value-not-in-item.xml:116:", "element 'state'", "'90s'" } },
  { "item-outside-did.xml", EW_VEHICLE_ERROR_INVALID, { "item-outside-did.xml:82:", "element 'item'", "'fold'" } },
  { "value-outside-mask.xml", EW_VEHICLE_ERROR_INVALID, { "value-outside-mask.xml:74:", "element 'value'", "does not fit" } },
  { "community-without-source.xml", EW_VEHICLE_ERROR_INVALID, { "community-without-source.xml:110:", "element 'feature'", "source" } },
  { "duplicate-did.xml", EW_VEHICLE_ERROR_INVALID, { "duplicate-did.xml:81:", "element 'did'", "0x3000" } },
  { "bad-regex.xml", EW_VEHICLE_ERROR_INVALID, { "bad-regex.xml:9:", "element 'vin'", "regular expression" } },
  { "years-reversed.xml", EW_VEHICLE_ERROR_INVALID, { "years-reversed.xml:5:", "element 'identification'", "2020" } },
  { "vin-years-reversed.xml", EW_VEHICLE_ERROR_INVALID, { "vin-years-reversed.xml:9:", "element 'vin'", "2019" } },
  { "checksum-outside-did.xml", EW_VEHICLE_ERROR_INVALID, { "checksum-outside-did.xml:65:", "element 'checksum'", "0x3000" } },
  { "unknown-routine.xml", EW_VEHICLE_ERROR_INVALID, { "unknown-routine.xml:52:", "element 'step'", "'verify'" } },
  { "flash-overlap.xml", EW_VEHICLE_ERROR_INVALID, { "flash-overlap.xml:41:", "element 'region'", "overlaps" } },
  { "class-mismatch.xml", EW_VEHICLE_ERROR_INVALID, { "class-mismatch.xml:104:", "element 'coding'", "'drl'" } },
  { "even-security-level.xml", EW_VEHICLE_ERROR_INVALID, { "even-security-level.xml:62:", "element 'level'", "0x04" } },
  { "supply-voltage-length.xml", EW_VEHICLE_ERROR_INVALID, { "supply-voltage-length.xml:30:", "element 'did'", "millivolts" } },
  { "xxe-system-entity.xml", EW_VEHICLE_ERROR_FORBIDDEN, { "xxe-system-entity.xml:3:", "DOCTYPE" } },
  { "billion-laughs.xml", EW_VEHICLE_ERROR_FORBIDDEN, { "billion-laughs.xml:3:", "DOCTYPE" } },
  { "external-dtd.xml", EW_VEHICLE_ERROR_FORBIDDEN, { "external-dtd.xml:3:", "DOCTYPE", "http://example.invalid/family.dtd" } },
  { "parameter-entity.xml", EW_VEHICLE_ERROR_FORBIDDEN, { "parameter-entity.xml:3:", "DOCTYPE" } },
  { "undeclared-entity.xml", EW_VEHICLE_ERROR_FORBIDDEN, { "undeclared-entity.xml:129:", "'&update;'" } },
};

static void
test_bad_corpus (void)
{
  g_autofree char *schema = schema_path ();
  g_autofree char *dir = g_test_build_filename (G_TEST_DIST, "fixtures", "families", "bad", NULL);
  g_autoptr(EwFamilyLoader) loader = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) d = NULL;
  const char *name;

  loader = ew_family_loader_new (schema, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < G_N_ELEMENTS (bad_cases); i++)
    {
      const BadCase *c = &bad_cases[i];
      g_autofree char *path = fixture ("bad", c->file);
      g_autoptr(GError) load_error = NULL;
      g_autoptr(EwFamily) family = NULL;

      /* the public one-file call and the shared loader agree */
      family = ew_family_load_file (path, schema, &load_error);
      g_assert_null (family);
      g_assert_error (load_error, EW_VEHICLE_ERROR, (gint) c->code);
      g_test_message ("%s", load_error->message);
      g_assert_true (g_str_has_prefix (load_error->message, path));
      for (guint j = 0; j < G_N_ELEMENTS (c->substrings) && c->substrings[j] != NULL; j++)
        if (strstr (load_error->message, c->substrings[j]) == NULL)
          g_error ("%s: expected “%s” in “%s”", c->file, c->substrings[j], load_error->message);

      g_clear_error (&load_error);
      family = ew_family_loader_load_file (loader, path, &load_error);
      g_assert_null (family);
      g_assert_error (load_error, EW_VEHICLE_ERROR, (gint) c->code);
    }

  /* every file of the corpus has its row in the table */
  d = g_dir_open (dir, 0, NULL);
  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    {
      gboolean listed = FALSE;

      for (guint i = 0; i < G_N_ELEMENTS (bad_cases) && !listed; i++)
        listed = strcmp (bad_cases[i].file, name) == 0;
      if (!listed)
        g_error ("%s is in the bad corpus but not in the table", name);
    }
}

/* Entities in attribute values and in memory buffers are refused too, and
 * libxml2 never writes to stderr. */
static void
test_forbidden_in_memory (void)
{
  static const char * const docs[] = {
    "<?xml version=\"1.0\"?>\n<family id=\"&x;\" schema-version=\"1\"/>",
    "<!DOCTYPE family [<!ENTITY x SYSTEM \"/etc/hostname\">]>\n<family id=\"&x;\"/>",
    "<?xml version=\"1.0\"?>\n<!DOCTYPE family PUBLIC \"-//X//DTD//EN\" \"file:///etc/passwd\">\n<family/>",
  };
  g_autofree char *schema = schema_path ();
  g_autoptr(EwFamilyLoader) loader = ew_family_loader_new (schema, NULL);

  g_assert_nonnull (loader);
  for (guint i = 0; i < G_N_ELEMENTS (docs); i++)
    {
      g_autoptr(GError) error = NULL;
      EwFamily *family;

      family = ew_family_loader_load_memory (loader, "buffer.xml", docs[i], strlen (docs[i]), &error);
      g_assert_null (family);
      g_assert_error (error, EW_VEHICLE_ERROR, EW_VEHICLE_ERROR_FORBIDDEN);
      g_assert_true (g_str_has_prefix (error->message, "buffer.xml:"));
    }
}

static void
test_quiet (void)
{
  if (g_test_subprocess ())
    {
      g_autofree char *dir = g_test_build_filename (G_TEST_DIST, "fixtures", "families", "bad", NULL);
      g_autoptr(EwVehicleDatabase) db = ew_vehicle_database_new (NULL);

      g_assert_cmpuint (ew_vehicle_database_add_dir (db, dir), ==, 0);
      g_assert_cmpuint (ew_vehicle_database_get_errors (db)->len, ==, G_N_ELEMENTS (bad_cases));
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("");
  g_test_trap_assert_stdout ("");
}

/* ---- folders ------------------------------------------------------------- */

static void
test_dir_bad_and_good (void)
{
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *good = read_fixture ("good", "demo-coupe.xml");
  g_autofree char *bad = read_fixture ("bad", "state-value-not-in-item.xml");
  g_autofree char *bad_path = g_build_filename (dir, "a-broken.xml", NULL);
  g_autoptr(EwVehicleDatabase) db = ew_vehicle_database_new (NULL);
  GPtrArray *errors;
  GError *error;

  write_file (dir, "a-broken.xml", bad);
  write_file (dir, "b-good.xml", good);
  write_file (dir, "notes.txt", "not a family");
  write_file (dir, ".#b-good.xml", "lock file of an editor");

  g_assert_cmpuint (ew_vehicle_database_add_dir (db, dir), ==, 1);
  g_assert_nonnull (ew_vehicle_database_find_family (db, "demo-coupe"));
  g_assert_cmpuint (ew_vehicle_database_get_families (db)->len, ==, 1);

  errors = ew_vehicle_database_get_errors (db);
  g_assert_cmpuint (errors->len, ==, 1);
  error = g_ptr_array_index (errors, 0);
  g_assert_error (error, EW_VEHICLE_ERROR, EW_VEHICLE_ERROR_INVALID);
  g_assert_true (g_str_has_prefix (error->message, bad_path));
  g_assert_nonnull (strstr (error->message, "element 'state'"));

  ew_test_remove_tree (dir);
}

static void
test_dir_missing (void)
{
  g_autoptr(EwVehicleDatabase) db = ew_vehicle_database_new (NULL);

  g_assert_cmpuint (ew_vehicle_database_add_dir (db, "/nonexistent/ecu-workshop/vehicles"), ==, 0);
  g_assert_cmpuint (ew_vehicle_database_get_errors (db)->len, ==, 0);
  g_assert_cmpuint (ew_vehicle_database_get_families (db)->len, ==, 0);
  g_assert_null (ew_vehicle_database_find_family (db, "demo-coupe"));
  g_assert_null (ew_vehicle_database_find_family (db, NULL));
}

static void
test_file_missing (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *schema = schema_path ();

  g_assert_null (ew_family_load_file ("/nonexistent/family.xml", schema, &error));
  g_assert_error (error, EW_VEHICLE_ERROR, EW_VEHICLE_ERROR_IO);
  g_assert_true (g_str_has_prefix (error->message, "/nonexistent/family.xml"));
}

static void
test_schema_missing (void)
{
  g_autofree char *dir = g_test_build_filename (G_TEST_DIST, "fixtures", "families", "good", NULL);
  g_autoptr(EwVehicleDatabase) db = ew_vehicle_database_new ("/nonexistent/vehicle-family.xsd");
  g_autoptr(GError) error = NULL;
  GPtrArray *errors;

  g_assert_cmpuint (ew_vehicle_database_add_dir (db, dir), ==, 0);
  g_assert_cmpuint (ew_vehicle_database_add_dir (db, dir), ==, 0);
  errors = ew_vehicle_database_get_errors (db);
  /* reported once, not once per file or folder */
  g_assert_cmpuint (errors->len, ==, 1);
  g_assert_error ((GError *) g_ptr_array_index (errors, 0), EW_VEHICLE_ERROR, EW_VEHICLE_ERROR_IO);
  g_assert_nonnull (strstr (((GError *) g_ptr_array_index (errors, 0))->message, "vehicle-family.xsd"));

  g_assert_null (ew_family_load_file (dir, "/nonexistent/vehicle-family.xsd", &error));
  g_assert_error (error, EW_VEHICLE_ERROR, EW_VEHICLE_ERROR_IO);
}

static void
test_override (void)
{
  g_autofree char *first = make_tmp_dir ();
  g_autofree char *second = make_tmp_dir ();
  g_autofree char *base = demo_variant ("demo-coupe", "Base");
  g_autofree char *other = demo_variant ("demo-other", "Other");
  g_autofree char *newer = demo_variant ("demo-coupe", "Newer");
  g_autofree char *same = demo_variant ("demo-coupe", "Same folder");
  g_autoptr(EwVehicleDatabase) db = ew_vehicle_database_new (NULL);
  GPtrArray *families;
  EwFamily *family;

  write_file (first, "coupe.xml", base);
  write_file (first, "other.xml", other);
  write_file (second, "coupe-update.xml", newer);
  write_file (second, "zz-coupe-again.xml", same);

  g_assert_cmpuint (ew_vehicle_database_add_dir (db, first), ==, 2);
  g_assert_cmpstr (ew_vehicle_database_find_family (db, "demo-coupe")->model, ==, "Base");

  families = ew_vehicle_database_get_families (db);
  g_assert_cmpuint (ew_vehicle_database_add_dir (db, second), ==, 1);
  /* the same array, updated */
  g_assert_true (families == ew_vehicle_database_get_families (db));
  g_assert_cmpuint (families->len, ==, 2);
  g_assert_cmpstr (((EwFamily *) g_ptr_array_index (families, 0))->id, ==, "demo-coupe");
  g_assert_cmpstr (((EwFamily *) g_ptr_array_index (families, 1))->id, ==, "demo-other");

  family = ew_vehicle_database_find_family (db, "demo-coupe");
  g_assert_cmpstr (family->model, ==, "Newer");
  g_assert_true (g_str_has_prefix (family->path, second));
  g_assert_true (g_ptr_array_index (families, 0) == family);
  g_assert_cmpstr (ew_vehicle_database_find_family (db, "demo-other")->model, ==, "Other");

  /* two files of one folder with the same id: the first by name wins */
  g_assert_cmpuint (ew_vehicle_database_get_errors (db)->len, ==, 1);
  g_assert_nonnull (strstr (((GError *) g_ptr_array_index (ew_vehicle_database_get_errors (db), 0))->message,
                            "zz-coupe-again.xml"));

  ew_test_remove_tree (first);
  ew_test_remove_tree (second);
}

static void
test_default_dirs (void)
{
  g_autofree char *user = ew_user_vehicles_dir ();
  g_autofree char *extra = make_tmp_dir ();
  g_autofree char *installed = ew_data_path ("vehicles");
  g_autofree char *mine = demo_variant ("demo-coupe", "Mine");
  g_autofree char *theirs = demo_variant ("demo-coupe", "From the command line");
  g_autofree char *own = demo_variant ("demo-own", "Own");
  g_autoptr(EwVehicleDatabase) installed_only = ew_vehicle_database_new (NULL);
  g_autoptr(EwVehicleDatabase) db = ew_vehicle_database_new (NULL);
  GPtrArray *shipped;

  /* the test isolates XDG folders, so the user folder is ours to fill */
  g_assert_true (g_str_has_prefix (user, g_get_user_data_dir ()));
  ew_vehicle_database_add_dir (installed_only, installed);
  shipped = ew_vehicle_database_get_families (installed_only);

  write_file (user, "demo-coupe.xml", mine);
  write_file (user, "demo-own.xml", own);
  if (shipped->len > 0)
    {
      /* the user's copy of a shipped family replaces it */
      const EwFamily *f = g_ptr_array_index (shipped, 0);
      g_autofree char *text = NULL;
      g_autofree char *old_model = g_strdup_printf ("model=\"%s\"", f->model);
      g_autoptr(GString) s = NULL;

      g_assert_true (g_file_get_contents (f->path, &text, NULL, NULL));
      s = g_string_new (text);
      g_assert_cmpuint (g_string_replace (s, old_model, "model=\"Garage edition\"", 1), ==, 1);
      write_file (user, "shipped-override.xml", s->str);
    }

  ew_vehicle_database_add_default_dirs (db, extra);
  g_assert_cmpuint (ew_vehicle_database_get_errors (db)->len, ==, 0);
  g_assert_cmpstr (ew_vehicle_database_find_family (db, "demo-coupe")->model, ==, "Mine");
  g_assert_cmpstr (ew_vehicle_database_find_family (db, "demo-own")->model, ==, "Own");
  g_assert_cmpuint (ew_vehicle_database_get_families (db)->len, ==, shipped->len + 2);
  if (shipped->len > 0)
    {
      const EwFamily *f = g_ptr_array_index (shipped, 0);
      const EwFamily *o = ew_vehicle_database_find_family (db, f->id);

      g_assert_cmpstr (o->model, ==, "Garage edition");
      g_assert_true (g_str_has_prefix (o->path, user));
    }

  /* the extra folder comes last and wins */
  write_file (extra, "demo-coupe.xml", theirs);
  g_clear_pointer (&db, ew_vehicle_database_free);
  db = ew_vehicle_database_new (NULL);
  ew_vehicle_database_add_default_dirs (db, extra);
  g_assert_cmpstr (ew_vehicle_database_find_family (db, "demo-coupe")->model, ==, "From the command line");

  ew_test_remove_tree (extra);
}

/* Files load on several threads; the result must not depend on timing. */
static void
test_parallel_order (void)
{
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *bad = read_fixture ("bad", "bad-regex.xml");
  g_autoptr(EwVehicleDatabase) db = ew_vehicle_database_new (NULL);
  GPtrArray *families, *errors;

  for (guint i = 0; i < 24; i++)
    {
      g_autofree char *id = g_strdup_printf ("demo-%02u", 23 - i);
      g_autofree char *text = demo_variant (id, "Parallel");
      g_autofree char *name = g_strdup_printf ("f%02u.xml", i);

      write_file (dir, name, text);
      if (i % 6 == 0)
        {
          g_autofree char *bad_name = g_strdup_printf ("f%02u-bad.xml", i);
          write_file (dir, bad_name, bad);
        }
    }
  g_assert_cmpuint (ew_vehicle_database_add_dir (db, dir), ==, 24);
  families = ew_vehicle_database_get_families (db);
  g_assert_cmpuint (families->len, ==, 24);
  for (guint i = 0; i < 24; i++)
    {
      g_autofree char *id = g_strdup_printf ("demo-%02u", i);
      g_assert_cmpstr (((EwFamily *) g_ptr_array_index (families, i))->id, ==, id);
    }
  errors = ew_vehicle_database_get_errors (db);
  g_assert_cmpuint (errors->len, ==, 4);
  for (guint i = 0; i < errors->len; i++)
    {
      g_autofree char *name = g_strdup_printf ("f%02u-bad.xml:", i * 6);
      g_assert_nonnull (strstr (((GError *) g_ptr_array_index (errors, i))->message, name));
    }
  ew_test_remove_tree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/vehicle-db/shipped-families", test_shipped_families);
  g_test_add_func ("/vehicle-db/good-fixture", test_good_fixture);
  g_test_add_func ("/vehicle-db/provenance-default", test_provenance_default);
  g_test_add_func ("/vehicle-db/lookups", test_lookups);
  g_test_add_func ("/vehicle-db/bad-corpus", test_bad_corpus);
  g_test_add_func ("/vehicle-db/forbidden-in-memory", test_forbidden_in_memory);
  g_test_add_func ("/vehicle-db/quiet", test_quiet);
  g_test_add_func ("/vehicle-db/dir-bad-and-good", test_dir_bad_and_good);
  g_test_add_func ("/vehicle-db/dir-missing", test_dir_missing);
  g_test_add_func ("/vehicle-db/file-missing", test_file_missing);
  g_test_add_func ("/vehicle-db/schema-missing", test_schema_missing);
  g_test_add_func ("/vehicle-db/override", test_override);
  g_test_add_func ("/vehicle-db/default-dirs", test_default_dirs);
  g_test_add_func ("/vehicle-db/parallel-order", test_parallel_order);
  g_test_add_func ("/vehicle-db/option-list-role", test_option_list_role);
  g_test_add_func ("/vehicle-db/option-code-separators", test_option_code_separators);
  g_test_add_func ("/vehicle-db/option-list-shipped", test_option_list_shipped);

  return g_test_run ();
}
