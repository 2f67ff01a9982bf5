/* data-dir.c — where the app's shipped data lives. */
#include "config.h"
#include "data-dir.h"

const char *
ew_data_dir (void)
{
  const char *env = g_getenv ("ECU_WORKSHOP_DATA_DIR");

  if (env != NULL && *env != '\0')
    return env;
  return EW_PKGDATADIR;
}

char *
ew_data_path (const char *relative)
{
  return g_build_filename (ew_data_dir (), relative, NULL);
}

char *
ew_user_vehicles_dir (void)
{
  return g_build_filename (g_get_user_data_dir (), "ecu-workshop", "vehicles", NULL);
}
