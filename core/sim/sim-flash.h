/* sim-flash.h — the flash memory of a simulated control unit, modelled
 * from the module's <flash> layout: regions, fill byte, erase state.
 *
 * Only written data is stored (sparse, per region), so a 16 MiB head unit
 * costs nothing until something is downloaded into it.
 *
 * Application header: an application region is valid only when it starts
 * with this header (what programming containers for the simulator carry):
 *
 *   offset  size  content
 *   0       8     magic "EWAPP1\0\0"
 *   8       16    software version, ASCII, padded with spaces
 *   24      16    part number, ASCII, padded with spaces
 *   40      ...   the application itself
 *
 * Check memory computes CRC-32 (IEEE 802.3, as zlib's crc32) over the bytes
 * downloaded since the last erase, in the order they arrived.
 */
#pragma once

#include <glib.h>
#include "vehicle/family.h"

G_BEGIN_DECLS

#define EW_SIM_APP_HEADER_MAGIC        "EWAPP1\0\0"
#define EW_SIM_APP_HEADER_MAGIC_LENGTH 8
#define EW_SIM_APP_HEADER_FIELD_LENGTH 16
#define EW_SIM_APP_HEADER_LENGTH       40

typedef struct _EwSimFlash EwSimFlash;

EwSimFlash *ew_sim_flash_new            (const EwFlashLayout *layout);
void        ew_sim_flash_free           (EwSimFlash *flash);

/* Index of the region holding [address, address + length), or -1. */
gint        ew_sim_flash_find_region    (EwSimFlash *flash,
                                         guint32     address,
                                         guint32     length);
/* Erases the regions overlapping [address, address + length); length 0
 * erases every region with an erase routine. Returns the number erased. */
guint       ew_sim_flash_erase          (EwSimFlash *flash,
                                         guint32     address,
                                         guint32     length);
gboolean    ew_sim_flash_region_is_erased (EwSimFlash *flash,
                                         gint        region);
/* Writes into an erased region; FALSE when outside or not erased. */
gboolean    ew_sim_flash_write          (EwSimFlash   *flash,
                                         guint32       address,
                                         const guint8 *data,
                                         gsize         length_bytes);
/* Reads (fill byte where nothing was written); FALSE when outside. */
gboolean    ew_sim_flash_read           (EwSimFlash *flash,
                                         guint32     address,
                                         guint8     *data,
                                         gsize       length_bytes);
/* CRC-32 over the bytes written since the last erase. */
guint32     ew_sim_flash_get_crc32      (EwSimFlash *flash);
gsize       ew_sim_flash_get_bytes_written (EwSimFlash *flash);
/* Parses the header at the start of the first application region;
 * transfer full strings, trimmed. */
gboolean    ew_sim_flash_get_app_header (EwSimFlash *flash,
                                         char      **software_version,
                                         char      **part_number);
guint32     ew_sim_crc32_update         (guint32       crc,
                                         const guint8 *data,
                                         gsize         length_bytes);

/* Builds a header for sample containers; returns EW_SIM_APP_HEADER_LENGTH bytes. */
GBytes     *ew_sim_app_header_build     (const char *software_version,
                                         const char *part_number);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EwSimFlash, ew_sim_flash_free)

G_END_DECLS
