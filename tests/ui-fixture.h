/* ui-fixture.h — the real main window for UI tests, driven as a technician
 * drives it: helpers shared by the UI test programs. Run under Xvfb and a
 * session bus (build-aux/ui-test.sh). */
#pragma once

#include <adwaita.h>

#include "ew-window.h"
#include "ew-vehicle-page.h"
#include "vehicle/database.h"
#include "vehicle/vin.h"

G_BEGIN_DECLS

typedef struct {
  EwVehicleDatabase *db;
  EwWmiTable        *wmi_table;
  EwWindow          *window;
  EwVehiclePage     *page;
  char              *store_dir;   /* the job store's folder for store tests, or NULL */
} UiFixture;

/* Sets up GTK, libadwaita, the app's stylesheet and a job store of the
 * tests' own (ECU_WORKSHOP_JOB_STORE); ui_test_finish removes it. */
void        ui_test_init          (int *argc, char ***argv);
int         ui_test_finish        (int status);
/* The folder of that job store. */
const char *ui_test_store_dir     (void);

/* A new window on the shipped vehicle data; with store_: an empty job
 * store first. tear_down waits for engine work to end. */
void        fixture_set_up        (UiFixture *fixture, gconstpointer data);
void        store_fixture_set_up  (UiFixture *fixture, gconstpointer data);
void        fixture_tear_down     (UiFixture *fixture, gconstpointer data);

/* Runs the main loop until done says so; fails the test after seconds. */
void        iterate_until_named   (const char *name, gboolean (*done) (UiFixture *),
                                   UiFixture *fixture, guint seconds);
/* the failure names the condition waited for */
#define iterate_until_within(done, fixture, seconds) \
  iterate_until_named (#done, (done), (fixture), (seconds))
/* ten seconds: a loaded machine runs the simulated car slowly */
#define iterate_until(done, fixture) iterate_until_named (#done, (done), (fixture), 10)

/* A child of the Vehicle page's template. */
GtkWidget  *page_child            (UiFixture *fixture, const char *name);
/* Scans link as the Scan button does and waits for the end. */
gboolean    scan_is_done          (UiFixture *fixture);
void        scan_link             (UiFixture *fixture, const char *link);

/* The visible message dialog, or NULL; respond answers it as a click does. */
AdwMessageDialog *open_message_dialog (void);
void        respond               (const char *response);
gboolean    dialog_is_mapped      (UiFixture *fixture);

/* Walks widget's visible descendants and checks each control a technician
 * uses (buttons, switches, check buttons, drop-downs, spin buttons,
 * entries): it has a name for a screen reader (its own label, a label
 * inside, a tooltip, an accessible label or labelled-by relation) and
 * takes keyboard focus. Appends what fails to problems; counts what it
 * checked into n_checked. */
void        ui_check_controls     (GtkWidget  *widget,
                                   GString    *problems,
                                   guint      *n_checked);

/* Whether the tests run on a phone-sized window for screenshots; a test
 * that sizes the window for itself leaves it so. */
gboolean    ui_is_narrow_variant  (void);

/* Saves widget as drawn into $EW_UI_SCREENSHOT_DIR/name when it is set. */
void        save_screenshot       (UiFixture *fixture, GtkWidget *widget, const char *name);

G_END_DECLS
