/* sample.h — the illustrative sample containers shipped in data/flash/:
 * one per module with a flash layout, carrying the simulator's application
 * header, for the simulated car only. The shipped files are this code's
 * output; the flash container test regenerates them and compares.
 */
#pragma once

#include <glib.h>

#include "flash/container.h"
#include "vehicle/family.h"

G_BEGIN_DECLS

/* The format each shipped family's samples use, so every format ships. */
EwFlashFormat ew_flash_sample_format     (const EwFamily *family);
/* A level above the family's minimum for any module, in its notation. */
char         *ew_flash_sample_software_version (const EwFamily *family,
                                          const EwModule *module);
/* Writes FAMILY-MODULE.hex / .srec / (.xml + .bin) into dir and returns
 * the path to load (transfer full). */
char         *ew_flash_sample_write      (const EwFamily *family,
                                          const EwModule *module,
                                          const char     *dir,
                                          GError        **error);

G_END_DECLS
