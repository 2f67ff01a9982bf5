/* ew-job-sheet-settings.h — what the garage's settings put on a job
 * sheet: its name, address and logo, shared by the pages that make
 * sheets (the Jobs page's quote, a finished job's sheet from History). */
#pragma once

#include <gio/gio.h>

#include "job/job-sheet.h"

G_BEGIN_DECLS

/* The app's settings when the schema is installed, else NULL (a program
 * run from the build tree without it). transfer full */
GSettings *ew_job_sheet_settings_open (void);

/* The garage as a sheet shows it; every field is nullable. */
typedef struct {
  char            *garage_name;
  char            *garage_address;
  cairo_surface_t *garage_logo;   /* the logo file read by GTK, or NULL */
} EwJobSheetGarage;

/* Reads the garage from settings (nullable: nothing is read). The logo
 * is read from any format GTK reads; one that cannot be read is left out. */
void ew_job_sheet_garage_load  (EwJobSheetGarage *garage,
                                GSettings        *settings);
/* Points info's garage fields at garage, which must outlive info's use. */
void ew_job_sheet_garage_apply (const EwJobSheetGarage *garage,
                                EwJobSheetInfo         *info);
void ew_job_sheet_garage_clear (EwJobSheetGarage *garage);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (EwJobSheetGarage, ew_job_sheet_garage_clear)

G_END_DECLS
