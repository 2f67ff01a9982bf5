/* ew-programming-page.h — the Programming page: new software for a module.
 *
 * The technician picks a job of the car's family (used instrument cluster,
 * body module, ECU swap) or a plain flash / recovery of a programmable
 * module with its container. The page checks, writing nothing, what must
 * hold before a module is written (battery support, the container fits,
 * a way back exists, the job store keeps the journal, and for a
 * replacement the mileage) and offers Start only when every check passes.
 * While the engine writes it shows the step, bytes, rate and time left,
 * keeps a log, and ends with what runs in the module now.
 */
#pragma once

#include <gtk/gtk.h>

#include "connect/connection.h"
#include "ew-car-link.h"
#include "ew-shared-store.h"
#include "scan/scan.h"
#include "vehicle/database.h"

G_BEGIN_DECLS

#define EW_TYPE_PROGRAMMING_PAGE (ew_programming_page_get_type ())
G_DECLARE_FINAL_TYPE (EwProgrammingPage, ew_programming_page, EW, PROGRAMMING_PAGE, GtkWidget)

/* Where the page stands. */
typedef enum {
  EW_PROGRAMMING_PAGE_EMPTY,      /* no car scanned, or nothing picked */
  EW_PROGRAMMING_PAGE_CHECKING,   /* the preflight reads the car */
  EW_PROGRAMMING_PAGE_CHECKLIST,  /* the checklist is shown */
  EW_PROGRAMMING_PAGE_RUNNING,    /* a module is being written */
  EW_PROGRAMMING_PAGE_FINISHED,   /* the end state is shown */
} EwProgrammingPageState;

/* How the last job ended. */
typedef enum {
  EW_PROGRAMMING_OUTCOME_NONE,
  EW_PROGRAMMING_OUTCOME_DONE,            /* new software, read back */
  EW_PROGRAMMING_OUTCOME_NOT_WRITTEN,     /* refused or cancelled before any write */
  EW_PROGRAMMING_OUTCOME_ROLLED_BACK,     /* failed, the module restored */
  EW_PROGRAMMING_OUTCOME_RECOVERY_NEEDED, /* the module is left in its bootloader */
  EW_PROGRAMMING_OUTCOME_FAILED,          /* failed otherwise: see the journal */
} EwProgrammingOutcome;

/* db is borrowed and must outlive the page; car_link and store (nullable:
 * no job store, nothing can be written) are referenced. */
void                   ew_programming_page_set_data        (EwProgrammingPage *self,
                                                            EwVehicleDatabase *db,
                                                            EwCarLink         *car_link,
                                                            EwSharedStore     *store);
/* The car's link; a new link forgets the choice. Ignored while busy. */
void                   ew_programming_page_set_link        (EwProgrammingPage *self,
                                                            const char        *uri);
const char            *ew_programming_page_get_link        (EwProgrammingPage *self);
/* The car on the link was scanned and is of family (nullable): offers
 * its jobs and programmable modules. */
void                   ew_programming_page_car_scanned     (EwProgrammingPage *self,
                                                            EwFamily          *family);
/* Picks a job template of the family by id and checks it. */
gboolean               ew_programming_page_select_job      (EwProgrammingPage *self,
                                                            const char        *template_id);
/* Picks a plain flash of module_id with container_path (NULL: the sample
 * shipped for the module) and checks it. */
gboolean               ew_programming_page_select_module   (EwProgrammingPage *self,
                                                            const char        *module_id,
                                                            const char        *container_path);
/* A scan finding about module_id: the job it calls for (the module's
 * replacement job for a module from another car, a recovery flash for
 * one in its bootloader), picked and checked. */
gboolean               ew_programming_page_open_finding    (EwProgrammingPage *self,
                                                            EwFindingKind      kind,
                                                            const char        *module_id);
/* Runs the preflight again (the "programming.check" action). */
void                   ew_programming_page_check           (EwProgrammingPage *self);
/* Asks to start (the "programming.start" action): a confirmation first. */
void                   ew_programming_page_start           (EwProgrammingPage *self);
/* Resumes programming job job_id, left RUNNING or FAILED in its
 * bootloader (flash-resume.h), with the progress view, log and end state
 * of a run; on the page's link, else the job's own. Asks nothing: the
 * caller has confirmed. Fails without starting when the page is busy or
 * the job cannot be resumed. */
gboolean               ew_programming_page_resume          (EwProgrammingPage *self,
                                                            gint64             job_id,
                                                            GError           **error);

EwProgrammingPageState ew_programming_page_get_state       (EwProgrammingPage *self);
EwProgrammingOutcome   ew_programming_page_get_outcome     (EwProgrammingPage *self);
/* A worker runs (check, programming or recovery). */
gboolean               ew_programming_page_get_is_busy     (EwProgrammingPage *self);
/* A module is being written (programming or recovery). */
gboolean               ew_programming_page_get_is_writing  (EwProgrammingPage *self);
/* Every check passes: Start is enabled. */
gboolean               ew_programming_page_get_can_start   (EwProgrammingPage *self);
/* Why the job cannot run (a replacement refused), or NULL. */
const char            *ew_programming_page_get_refusal     (EwProgrammingPage *self);
/* The progress of the running job, 0..1, never going back. */
double                 ew_programming_page_get_fraction    (EwProgrammingPage *self);
/* "42 % — Programming KOMBI" while writing, else NULL. */
const char            *ew_programming_page_get_progress_title (EwProgrammingPage *self);
/* The job the last run started, or 0. */
gint64                 ew_programming_page_get_last_job_id (EwProgrammingPage *self);
/* The connection the page last worked through, or NULL. transfer none */
EwConnection          *ew_programming_page_get_connection  (EwProgrammingPage *self);

G_END_DECLS
