/* container-check.h — does a programming container fit a module?
 *
 * Target module, part and hardware number compatibility, every block inside
 * the module's flash layout (and out of its bootloader), the data format,
 * and the software level against the family's minimum and the level the
 * module runs now. The result lays the blocks onto the layout's regions.
 */
#pragma once

#include <glib.h>

#include "flash/container.h"
#include "vehicle/family.h"

G_BEGIN_DECLS

typedef struct {
  /* the module's current identification, as read from it; nullable */
  const char *part_number;
  const char *hardware_number;
  const char *software_version;
  gboolean    allow_bootloader;   /* a bootloader update was planned for */
  gboolean    allow_downgrade;    /* the technician confirmed going back */
} EwFlashCheckOptions;

/* The span of one region that the download writes: from the first block
 * byte in it to the last, gaps filled with the layout's fill byte. */
typedef struct {
  const EwFlashRegion *region;    /* owned by the family */
  guint32              address;
  guint32              length;
} EwFlashSegment;

typedef struct {
  GArray   *segments;             /* EwFlashSegment, in address order */
  char     *minimum_software;     /* nullable: the family's minimum */
  gboolean  is_downgrade;         /* older than the module's (allowed) */
  gboolean  is_same_version;
} EwFlashCheckResult;

void     ew_flash_check_result_free (EwFlashCheckResult *result);

/* Returns a result, or NULL and an EW_FLASH_ERROR naming the block and
 * region (or identification) that does not fit. options may be NULL. */
EwFlashCheckResult *ew_flash_container_check (const EwFlashContainer    *container,
                                              const EwFamily            *family,
                                              const EwModule            *module,
                                              const EwFlashCheckOptions *options,
                                              GError                   **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EwFlashCheckResult, ew_flash_check_result_free)

G_END_DECLS
