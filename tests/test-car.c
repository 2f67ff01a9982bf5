/* test-car.c — see test-car.h. */
#include "test-car.h"

EwConnection *
ew_test_open_car (EwVehicleDatabase *db,
                  const char        *uri)
{
  g_autoptr(GError) error = NULL;
  EwConnection *connection = ew_connection_open (uri, db, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (connection);
  return connection;
}

EwJobStore *
ew_test_open_store (const char *dir)
{
  static gint n;
  g_autofree char *name = g_strdup_printf ("jobs-%d.sqlite", g_atomic_int_add (&n, 1) + 1);
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;
  EwJobStore *store = ew_job_store_open (path, &error);

  g_assert_no_error (error);
  g_assert_nonnull (store);
  return store;
}

EwScanResult *
ew_test_scan_car (EwConnection *connection)
{
  g_autoptr(GError) error = NULL;
  EwScanResult *scan = ew_scan_run (connection, 0, NULL, NULL, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (scan);
  return scan;
}

EwFeatureCatalogue *
ew_test_read_catalogue (EwConnection *connection)
{
  g_autoptr(GError) error = NULL;
  EwFeatureCatalogue *catalogue = ew_feature_catalogue_read (connection, NULL, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (catalogue);
  return catalogue;
}
