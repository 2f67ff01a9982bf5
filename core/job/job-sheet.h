/* job-sheet.h — the customer's job sheet: an A4 PDF (Cairo + Pango) of a
 * job plan, with the garage's name, address and logo, the vehicle
 * (registration, VIN, model), every line classed coding / programming /
 * adaptation with the reason in plain words, time and price, the totals,
 * and — once the work is done — what was done, before → after, from the
 * job journal. The window prints the same pages through GtkPrintOperation
 * by drawing them on the print context's Cairo context.
 */
#pragma once

#include <cairo.h>

#include "job/planner.h"
#include "store/job-store.h"

G_BEGIN_DECLS

typedef struct {
  const char *garage_name;       /* nullable: "ECU Workshop" */
  const char *garage_address;    /* nullable, may hold newlines */
  const char *garage_logo_path;  /* nullable: a PNG */
  cairo_surface_t *garage_logo;  /* nullable: an image surface of the logo in
                                  * any format the caller can read; used in
                                  * place of garage_logo_path */
  const char *registration;      /* nullable */
  const char *vin;               /* nullable */
  GDateTime  *date;              /* nullable: now */
  const char *reference;         /* nullable: a quote or job number */
} EwJobSheetInfo;

/* Done work to show under "Work carried out" (nullable: a quote only). */
typedef struct {
  EwJobStore *store;
  const gint64 *job_ids;
  guint         n_job_ids;
} EwJobSheetDone;

typedef struct _EwJobSheet EwJobSheet;

/* Lays out plan for A4 pages. transfer full */
EwJobSheet *ew_job_sheet_new         (const EwJobPlan      *plan,
                                      const EwJobSheetInfo *info,
                                      const EwJobSheetDone *done,
                                      GError              **error);
void        ew_job_sheet_free        (EwJobSheet *sheet);
guint       ew_job_sheet_get_n_pages (EwJobSheet *sheet);
/* Draws page (0-based) on cr, whose user space is the page in points
 * (A4: 595.28 × 841.89); the print dialog scales its context to match. */
void        ew_job_sheet_draw_page   (EwJobSheet *sheet,
                                      cairo_t    *cr,
                                      guint       page);
gboolean    ew_job_sheet_write_pdf   (EwJobSheet *sheet,
                                      const char *path,
                                      GError    **error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EwJobSheet, ew_job_sheet_free)

G_END_DECLS
