/* sim-flash.c — sparse flash model of a simulated control unit. */
#include "sim/sim-flash.h"

#include <string.h>

#define PAGE_SIZE 4096u

typedef struct {
  const EwFlashRegion *layout;
  gboolean             is_erased;
  GHashTable          *pages;   /* page index -> guint8[PAGE_SIZE] */
} Region;

struct _EwSimFlash {
  const EwFlashLayout *layout;
  guint8               fill_byte;
  GArray              *regions; /* Region */
  guint32              crc;     /* running CRC-32, pre-inverted */
  gsize                bytes_written;
};

static void
region_clear (gpointer data)
{
  Region *region = data;
  g_clear_pointer (&region->pages, g_hash_table_unref);
}

EwSimFlash *
ew_sim_flash_new (const EwFlashLayout *layout)
{
  EwSimFlash *flash = g_new0 (EwSimFlash, 1);

  flash->layout = layout;
  flash->fill_byte = layout != NULL ? layout->fill_byte : 0xFF;
  flash->regions = g_array_new (FALSE, TRUE, sizeof (Region));
  g_array_set_clear_func (flash->regions, region_clear);
  flash->crc = 0xFFFFFFFFu;
  if (layout != NULL)
    {
      for (guint i = 0; i < layout->regions->len; i++)
        {
          Region region = { 0 };
          region.layout = g_ptr_array_index (layout->regions, i);
          region.pages = g_hash_table_new_full (NULL, NULL, NULL, g_free);
          g_array_append_val (flash->regions, region);
        }
    }
  return flash;
}

void
ew_sim_flash_free (EwSimFlash *flash)
{
  if (flash == NULL)
    return;
  g_array_unref (flash->regions);
  g_free (flash);
}

gint
ew_sim_flash_find_region (EwSimFlash *flash,
                          guint32     address,
                          guint32     length)
{
  for (guint i = 0; i < flash->regions->len; i++)
    {
      const EwFlashRegion *r = g_array_index (flash->regions, Region, i).layout;
      guint64 end = (guint64) address + length;

      if (address >= r->start && end <= (guint64) r->start + r->size)
        return (gint) i;
    }
  return -1;
}

guint
ew_sim_flash_erase (EwSimFlash *flash,
                    guint32     address,
                    guint32     length)
{
  guint n_erased = 0;

  for (guint i = 0; i < flash->regions->len; i++)
    {
      Region *region = &g_array_index (flash->regions, Region, i);
      const EwFlashRegion *r = region->layout;
      gboolean hit;

      if (length == 0)
        hit = r->erase_routine != NULL || r->kind != EW_FLASH_REGION_BOOTLOADER;
      else
        hit = (guint64) address < (guint64) r->start + r->size &&
              (guint64) address + length > r->start;
      /* the bootloader erases everything but itself */
      if (!hit || r->kind == EW_FLASH_REGION_BOOTLOADER)
        continue;
      g_hash_table_remove_all (region->pages);
      region->is_erased = TRUE;
      n_erased++;
    }
  if (n_erased > 0)
    {
      flash->crc = 0xFFFFFFFFu;
      flash->bytes_written = 0;
    }
  return n_erased;
}

gboolean
ew_sim_flash_region_is_erased (EwSimFlash *flash,
                               gint        region)
{
  g_return_val_if_fail (region >= 0 && (guint) region < flash->regions->len, FALSE);
  return g_array_index (flash->regions, Region, region).is_erased;
}

static guint8 *
region_page (EwSimFlash *flash,
             Region     *region,
             guint32     offset,
             gboolean    create)
{
  gpointer key = GUINT_TO_POINTER (offset / PAGE_SIZE + 1);
  guint8 *page = g_hash_table_lookup (region->pages, key);

  if (page == NULL && create)
    {
      page = g_malloc (PAGE_SIZE);
      memset (page, flash->fill_byte, PAGE_SIZE);
      g_hash_table_insert (region->pages, key, page);
    }
  return page;
}

gboolean
ew_sim_flash_write (EwSimFlash   *flash,
                    guint32       address,
                    const guint8 *data,
                    gsize         length_bytes)
{
  gint index;
  Region *region;

  if (length_bytes > G_MAXUINT32)
    return FALSE;
  index = ew_sim_flash_find_region (flash, address, (guint32) length_bytes);
  if (index < 0)
    return FALSE;
  region = &g_array_index (flash->regions, Region, index);
  if (!region->is_erased)
    return FALSE;
  for (gsize i = 0; i < length_bytes; )
    {
      guint32 offset = address - region->layout->start + (guint32) i;
      guint8 *page = region_page (flash, region, offset, TRUE);
      gsize n = MIN (length_bytes - i, PAGE_SIZE - offset % PAGE_SIZE);

      memcpy (page + offset % PAGE_SIZE, data + i, n);
      i += n;
    }
  flash->crc = ew_sim_crc32_update (flash->crc, data, length_bytes);
  flash->bytes_written += length_bytes;
  return TRUE;
}

gboolean
ew_sim_flash_read (EwSimFlash *flash,
                   guint32     address,
                   guint8     *data,
                   gsize       length_bytes)
{
  gint index;
  Region *region;

  if (length_bytes > G_MAXUINT32)
    return FALSE;
  index = ew_sim_flash_find_region (flash, address, (guint32) length_bytes);
  if (index < 0)
    return FALSE;
  region = &g_array_index (flash->regions, Region, index);
  for (gsize i = 0; i < length_bytes; )
    {
      guint32 offset = address - region->layout->start + (guint32) i;
      guint8 *page = region_page (flash, region, offset, FALSE);
      gsize n = MIN (length_bytes - i, PAGE_SIZE - offset % PAGE_SIZE);

      if (page != NULL)
        memcpy (data + i, page + offset % PAGE_SIZE, n);
      else
        memset (data + i, flash->fill_byte, n);
      i += n;
    }
  return TRUE;
}

guint32
ew_sim_flash_get_crc32 (EwSimFlash *flash)
{
  return flash->crc ^ 0xFFFFFFFFu;
}

gsize
ew_sim_flash_get_bytes_written (EwSimFlash *flash)
{
  return flash->bytes_written;
}

static char *
header_field (const guint8 *field)
{
  char *text = g_strndup ((const char *) field, EW_SIM_APP_HEADER_FIELD_LENGTH);

  for (char *p = text; *p != '\0'; p++)
    if (!g_ascii_isprint (*p))
      *p = '?';
  return g_strstrip (text);
}

gboolean
ew_sim_flash_get_app_header (EwSimFlash *flash,
                             char      **software_version,
                             char      **part_number)
{
  guint8 header[EW_SIM_APP_HEADER_LENGTH];

  for (guint i = 0; i < flash->regions->len; i++)
    {
      const EwFlashRegion *r = g_array_index (flash->regions, Region, i).layout;

      if (r->kind != EW_FLASH_REGION_APPLICATION)
        continue;
      if (r->size < EW_SIM_APP_HEADER_LENGTH ||
          !ew_sim_flash_read (flash, r->start, header, sizeof header) ||
          memcmp (header, EW_SIM_APP_HEADER_MAGIC, EW_SIM_APP_HEADER_MAGIC_LENGTH) != 0)
        return FALSE;
      if (software_version != NULL)
        *software_version = header_field (header + 8);
      if (part_number != NULL)
        *part_number = header_field (header + 8 + EW_SIM_APP_HEADER_FIELD_LENGTH);
      return TRUE;
    }
  return FALSE;
}

static guint32 crc32_table[256];

static gpointer
build_crc32_table (gpointer data)
{
  for (guint n = 0; n < 256; n++)
    {
      guint32 c = n;

      for (guint b = 0; b < 8; b++)
        c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
      crc32_table[n] = c;
    }
  return NULL;
}

guint32
ew_sim_crc32_update (guint32       crc,
                     const guint8 *data,
                     gsize         length_bytes)
{
  static GOnce table_once = G_ONCE_INIT;

  /* a byte at a time from a table (reflected polynomial 0xEDB88320):
   * every downloaded block passes through here */
  g_once (&table_once, build_crc32_table, NULL);
  for (gsize i = 0; i < length_bytes; i++)
    crc = crc32_table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
  return crc;
}

GBytes *
ew_sim_app_header_build (const char *software_version,
                         const char *part_number)
{
  guint8 header[EW_SIM_APP_HEADER_LENGTH];
  gsize n;

  memset (header, ' ', sizeof header);
  memcpy (header, EW_SIM_APP_HEADER_MAGIC, EW_SIM_APP_HEADER_MAGIC_LENGTH);
  n = MIN (strlen (software_version), EW_SIM_APP_HEADER_FIELD_LENGTH);
  memcpy (header + 8, software_version, n);
  n = MIN (strlen (part_number), EW_SIM_APP_HEADER_FIELD_LENGTH);
  memcpy (header + 8 + EW_SIM_APP_HEADER_FIELD_LENGTH, part_number, n);
  return g_bytes_new (header, sizeof header);
}
