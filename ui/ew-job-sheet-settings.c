/* ew-job-sheet-settings.c — the garage's name, address and logo from the
 * app's settings, for job sheets. */
#include "config.h"

#include <gtk/gtk.h>

#include "ew-job-sheet-settings.h"

#define SETTINGS_SCHEMA_ID "io.github.ecuworkshop.EcuWorkshop"

GSettings *
ew_job_sheet_settings_open (void)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = NULL;

  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, SETTINGS_SCHEMA_ID, TRUE);
  return schema != NULL ? g_settings_new_full (schema, NULL, NULL) : NULL;
}

static char *
settings_string (GSettings *settings, const char *key)
{
  char *value;

  if (settings == NULL)
    return NULL;
  value = g_settings_get_string (settings, key);
  if (value[0] == '\0')
    g_clear_pointer (&value, g_free);
  return value;
}

/* The logo as an image surface, from any format GTK reads (PNG, JPEG,
 * SVG where its loader is installed); NULL when it cannot be read, and the
 * sheet has none. */
static cairo_surface_t *
load_logo (const char *path)
{
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(GError) error = NULL;
  cairo_surface_t *surface;

  if (path == NULL)
    return NULL;
  texture = gdk_texture_new_from_filename (path, &error);
  if (texture == NULL)
    {
      g_debug ("Logo %s not used: %s", path, error->message);
      return NULL;
    }
  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, gdk_texture_get_width (texture),
                                        gdk_texture_get_height (texture));
  if (cairo_surface_status (surface) != CAIRO_STATUS_SUCCESS)
    {
      cairo_surface_destroy (surface);
      return NULL;
    }
  /* GDK's default download format is Cairo's ARGB32 */
  gdk_texture_download (texture, cairo_image_surface_get_data (surface),
                        cairo_image_surface_get_stride (surface));
  cairo_surface_mark_dirty (surface);
  return surface;
}

void
ew_job_sheet_garage_load (EwJobSheetGarage *garage, GSettings *settings)
{
  g_autofree char *logo = NULL;

  g_return_if_fail (garage != NULL);

  ew_job_sheet_garage_clear (garage);
  garage->garage_name = settings_string (settings, "garage-name");
  garage->garage_address = settings_string (settings, "garage-address");
  logo = settings_string (settings, "garage-logo");
  garage->garage_logo = load_logo (logo);
}

void
ew_job_sheet_garage_apply (const EwJobSheetGarage *garage, EwJobSheetInfo *info)
{
  g_return_if_fail (garage != NULL);
  g_return_if_fail (info != NULL);

  info->garage_name = garage->garage_name;
  info->garage_address = garage->garage_address;
  info->garage_logo = garage->garage_logo;
}

void
ew_job_sheet_garage_clear (EwJobSheetGarage *garage)
{
  g_clear_pointer (&garage->garage_name, g_free);
  g_clear_pointer (&garage->garage_address, g_free);
  g_clear_pointer (&garage->garage_logo, cairo_surface_destroy);
}
