/* container-check.c — a container against a module's identification,
 * flash layout and the family's software levels.
 */
#include "config.h"

#include <string.h>

#include "flash/container-check.h"

void
ew_flash_check_result_free (EwFlashCheckResult *result)
{
  if (result == NULL)
    return;
  g_array_unref (result->segments);
  g_free (result->minimum_software);
  g_free (result);
}

static gboolean
strv_is_empty (const char *const *list)
{
  return list == NULL || list[0] == NULL;
}

static char *
strv_join (const char *const *list)
{
  return g_strjoinv (", ", (char **) list);
}

/* The highest min-software any programming feature of the family asks of
 * this module, and the feature that asks it. */
static const EwFeature *
find_minimum (const EwFamily *family,
              const EwModule *module)
{
  const EwFeature *best = NULL;

  for (guint i = 0; family != NULL && i < family->features->len; i++)
    {
      const EwFeature *f = g_ptr_array_index (family->features, i);

      if (f->min_software == NULL || g_strcmp0 (f->module, module->id) != 0)
        continue;
      if (best == NULL || ew_flash_version_compare (f->min_software, best->min_software) > 0)
        best = f;
    }
  return best;
}

static gint
compare_segments (gconstpointer a,
                  gconstpointer b)
{
  const EwFlashSegment *x = a, *y = b;

  return x->address < y->address ? -1 : x->address > y->address;
}

EwFlashCheckResult *
ew_flash_container_check (const EwFlashContainer    *container,
                          const EwFamily            *family,
                          const EwModule            *module,
                          const EwFlashCheckOptions *options,
                          GError                   **error)
{
  static const EwFlashCheckOptions no_options = { 0 };
  g_autoptr(EwFlashCheckResult) result = NULL;
  const char *path = ew_flash_container_get_path (container);
  const char *target = ew_flash_container_get_target_module (container);
  const char *software = ew_flash_container_get_software_version (container);
  const char *const *parts = ew_flash_container_get_compatible_part_numbers (container);
  const char *const *hardware = ew_flash_container_get_compatible_hardware_numbers (container);
  const EwFlashLayout *layout = module->flash;
  const EwFeature *minimum;
  gint data_format;
  guint32 header_address;

  g_return_val_if_fail (container != NULL && module != NULL, NULL);
  if (options == NULL)
    options = &no_options;

  if (target != NULL && strcmp (target, module->id) != 0)
    {
      g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_WRONG_MODULE,
                   "%s is for module '%s', not for %s (%s)", path, target, module->id,
                   module->name);
      return NULL;
    }
  if (layout == NULL)
    {
      g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_OUTSIDE_LAYOUT,
                   "Module %s (%s) has no flash layout: it cannot be programmed",
                   module->id, module->name);
      return NULL;
    }

  if (!strv_is_empty (parts))
    {
      g_autofree char *list = strv_join (parts);

      if (options->part_number == NULL)
        {
          g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_INCOMPATIBLE,
                       "%s is only for part numbers %s; read module %s's part number first",
                       path, list, module->id);
          return NULL;
        }
      if (!g_strv_contains (parts, options->part_number))
        {
          g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_INCOMPATIBLE,
                       "Module %s has part number %s; %s is only for %s", module->id,
                       options->part_number, path, list);
          return NULL;
        }
    }
  if (!strv_is_empty (hardware))
    {
      g_autofree char *list = strv_join (hardware);

      if (options->hardware_number == NULL)
        {
          g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_INCOMPATIBLE,
                       "%s is only for hardware %s; read module %s's hardware number first",
                       path, list, module->id);
          return NULL;
        }
      if (!g_strv_contains (hardware, options->hardware_number))
        {
          g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_INCOMPATIBLE,
                       "Module %s has hardware %s; %s is only for hardware %s", module->id,
                       options->hardware_number, path, list);
          return NULL;
        }
    }

  data_format = ew_flash_container_get_data_format (container);
  if (data_format >= 0 && data_format != layout->data_format)
    {
      g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_DATA_FORMAT,
                   "%s uses data format 0x%02X; module %s takes only 0x%02X", path,
                   data_format, module->id, layout->data_format);
      return NULL;
    }

  result = g_new0 (EwFlashCheckResult, 1);
  result->segments = g_array_new (FALSE, TRUE, sizeof (EwFlashSegment));

  /* each block, split over the regions it crosses */
  for (guint i = 0; i < ew_flash_container_get_n_blocks (container); i++)
    {
      const EwFlashBlock *b = ew_flash_container_get_block (container, i);
      guint64 a = b->address;
      guint64 end = a + b->length;

      while (a < end)
        {
          const EwFlashRegion *region = NULL;
          guint64 region_end = 0, upto;
          EwFlashSegment *seg = NULL;

          for (guint r = 0; r < layout->regions->len; r++)
            {
              const EwFlashRegion *cand = g_ptr_array_index (layout->regions, r);
              guint64 cend = (guint64) cand->start + cand->size;

              if (a >= cand->start && a < cend)
                {
                  region = cand;
                  region_end = cend;
                  break;
                }
            }
          if (region == NULL)
            {
              g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_OUTSIDE_LAYOUT,
                           "%s: block %u (0x%08X to 0x%08" G_GINT64_MODIFIER "X) reaches "
                           "0x%08" G_GINT64_MODIFIER "X, which is in no flash region of module %s",
                           path, i + 1, b->address, end - 1, a, module->id);
              return NULL;
            }
          if (region->kind == EW_FLASH_REGION_BOOTLOADER && !options->allow_bootloader)
            {
              g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_BOOTLOADER,
                           "%s: block %u (0x%08X to 0x%08" G_GINT64_MODIFIER "X) writes into "
                           "region '%s' (the bootloader, 0x%08X to 0x%08" G_GINT64_MODIFIER
                           "X) of module %s", path, i + 1, b->address, end - 1, region->name,
                           region->start, region_end - 1, module->id);
              return NULL;
            }
          upto = MIN (end, region_end);
          for (guint s = 0; s < result->segments->len; s++)
            if (g_array_index (result->segments, EwFlashSegment, s).region == region)
              seg = &g_array_index (result->segments, EwFlashSegment, s);
          if (seg == NULL)
            {
              EwFlashSegment fresh = { region, (guint32) a, (guint32) (upto - a) };

              g_array_append_val (result->segments, fresh);
            }
          else
            seg->length = (guint32) (upto - seg->address);  /* blocks come sorted */
          a = upto;
        }
    }
  g_array_sort (result->segments, compare_segments);

  /* the simulator accepts an application only with its header first */
  if (ew_flash_container_get_app_header_address (container, &header_address))
    {
      gboolean at_start = FALSE;

      for (guint r = 0; r < layout->regions->len; r++)
        {
          const EwFlashRegion *region = g_ptr_array_index (layout->regions, r);

          at_start |= region->kind == EW_FLASH_REGION_APPLICATION && region->start == header_address;
        }
      if (!at_start)
        {
          g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_APP_HEADER,
                       "%s: the application header at 0x%08X is not at the start of an "
                       "application region of module %s", path, header_address, module->id);
          return NULL;
        }
    }

  minimum = find_minimum (family, module);
  if (minimum != NULL)
    {
      result->minimum_software = g_strdup (minimum->min_software);
      if (software == NULL)
        {
          g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_SOFTWARE_TOO_OLD,
                       "%s names no software version, so it cannot be checked against %s, "
                       "the minimum for '%s' on module %s", path, minimum->min_software,
                       minimum->name, module->id);
          return NULL;
        }
      if (ew_flash_version_compare (software, minimum->min_software) < 0)
        {
          g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_SOFTWARE_TOO_OLD,
                       "%s carries software %s, below %s, the minimum for '%s' on module %s",
                       path, software, minimum->min_software, minimum->name, module->id);
          return NULL;
        }
    }
  if (software != NULL && options->software_version != NULL)
    {
      gint cmp = ew_flash_version_compare (software, options->software_version);

      result->is_same_version = cmp == 0;
      if (cmp < 0)
        {
          if (!options->allow_downgrade)
            {
              g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_DOWNGRADE,
                           "%s is a downgrade: it carries software %s, module %s runs %s",
                           path, software, module->id, options->software_version);
              return NULL;
            }
          result->is_downgrade = TRUE;
        }
    }
  return g_steal_pointer (&result);
}
