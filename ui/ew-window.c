/* ew-window.c — the main window: the pages of a job and the identified car
 * in the header. */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "ew-window.h"
#include "ew-features-page.h"
#include "ew-history-page.h"
#include "ew-jobs-page.h"
#include "ew-programming-page.h"
#include "ew-vehicle-page.h"

struct _EwWindow {
  AdwApplicationWindow  parent_instance;

  AdwViewSwitcherTitle *switcher_title;
  AdwViewSwitcherBar   *switcher_bar;
  guint                 reveal_source;
  GtkWidget            *car_box;
  GtkLabel             *car_label;
  GtkLabel             *car_vin_label;
  AdwViewStack         *stack;
  EwVehiclePage        *vehicle_page;
  EwFeaturesPage       *features_page;
  EwJobsPage           *jobs_page;
  EwProgrammingPage    *programming_page;
  EwHistoryPage        *history_page;

  EwCarLink            *car_link;
  AdwMessageDialog     *close_dialog;  /* open, or NULL */
  gboolean              is_close_confirmed;
};

G_DEFINE_FINAL_TYPE (EwWindow, ew_window, ADW_TYPE_APPLICATION_WINDOW)

/* The identified car (family, and the VIN once it is complete) stays
 * visible in the header on every page. */
static void
on_car_changed (EwWindow *self)
{
  EwFamily *family = ew_vehicle_page_get_family (self->vehicle_page);
  const char *vin = ew_vehicle_page_get_vin (self->vehicle_page);
  g_autofree char *car = NULL;
  g_autofree char *subtitle = NULL;

  if (family != NULL)
    car = g_strdup_printf ("%s %s", family->make, family->model);
  if (car != NULL && vin != NULL)
    /* TRANSLATORS: make and model, then the VIN of the car in the bay */
    subtitle = g_strdup_printf (_("%s · %s"), car, vin);
  else if (car != NULL)
    subtitle = g_strdup (car);

  /* the switcher hides the subtitle on wide windows: the labels show it there */
  adw_view_switcher_title_set_subtitle (self->switcher_title, subtitle ? subtitle : "");
  gtk_label_set_label (self->car_label, car ? car : "");
  gtk_label_set_label (self->car_vin_label, car && vin ? vin : "");
  gtk_widget_set_visible (GTK_WIDGET (self->car_vin_label), car != NULL && vin != NULL);
  gtk_widget_set_visible (self->car_box,
                          car != NULL && !adw_view_switcher_title_get_title_visible (self->switcher_title));
}

/* The features of the car just scanned are read at once. */
static void
on_car_scanned (EwWindow *self, const char *link)
{
  ew_features_page_set_link (self->features_page, link);
  ew_features_page_read (self->features_page);
  ew_jobs_page_set_link (self->jobs_page, link);
  ew_jobs_page_scan (self->jobs_page);
  ew_programming_page_set_link (self->programming_page, link);
  ew_programming_page_car_scanned (self->programming_page,
                                   ew_vehicle_page_get_family (self->vehicle_page));
}

static void
on_link_changed (EwWindow *self)
{
  ew_features_page_set_link (self->features_page, ew_vehicle_page_get_link (self->vehicle_page));
  ew_programming_page_set_link (self->programming_page, ew_vehicle_page_get_link (self->vehicle_page));
}

static void
on_job_finished (EwWindow *self, gint64 job_id)
{
  ew_history_page_refresh (self->history_page);
}

static void
on_history_requested (EwWindow *self, gint64 job_id)
{
  adw_view_stack_set_visible_child_name (self->stack, "history");
}

/* While a module is written the title says how far it is, also in the
 * task switcher. */
static void
on_progress_title_changed (EwWindow *self)
{
  const char *title = ew_programming_page_get_progress_title (self->programming_page);

  if (title == NULL)
    title = ew_features_page_get_progress_title (self->features_page);

  gtk_window_set_title (GTK_WINDOW (self), title != NULL ? title : _("ECU Workshop"));
  adw_view_switcher_title_set_title (self->switcher_title, title != NULL ? title : _("ECU Workshop"));
}

/* A scan finding's Program button: the page with the job it calls for. */
static void
program_finding_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  EwWindow *self = EW_WINDOW (widget);
  const char *target = g_variant_get_string (parameter, NULL);
  const char *colon = strchr (target, ':');
  g_autofree char *kind = NULL;

  if (colon == NULL)
    return;
  kind = g_strndup (target, colon - target);
  adw_view_stack_set_visible_child_name (self->stack, "programming");
  ew_programming_page_open_finding (self->programming_page,
                                    g_str_equal (kind, "bootloader") ? EW_FINDING_BOOTLOADER
                                                                     : EW_FINDING_VIN_MISMATCH,
                                    colon + 1);
}

static void
on_close_response (AdwMessageDialog *dialog, const char *response, EwWindow *self)
{
  self->close_dialog = NULL;
  if (g_strcmp0 (response, "close") != 0)
    return;
  self->is_close_confirmed = TRUE;
  gtk_window_close (GTK_WINDOW (self));
}

/* A module being written keeps the window open unless the technician
 * insists; the job then still ends in its worker, which holds the car,
 * the job store and the application. */
static gboolean
on_close_request (EwWindow *self)
{
  gboolean is_programming = ew_programming_page_get_is_writing (self->programming_page);
  g_autofree char *body = NULL;
  const char *heading;

  if (self->is_close_confirmed || (!is_programming && !ew_features_page_get_is_writing (self->features_page)))
    return FALSE;
  if (self->close_dialog != NULL)
    return TRUE;
  if (is_programming)
    {
      const char *progress = ew_programming_page_get_progress_title (self->programming_page);

      heading = _("Programming Is Running");
      /* TRANSLATORS: %s is the progress, e.g. "42 % — Programming KOMBI" */
      body = g_strdup_printf (_("%s.\n\nClosing the window does not stop the job: the module is written to the end, or restored, and the job is journalled, but you will not see how it ends until you open the History page. The application keeps running until then. Keep the window open and the car connected until the job is done."),
                              progress != NULL ? progress : _("A module is being programmed"));
    }
  else
    {
      heading = _("Coding Is Being Written");
      body = g_strdup (_("Closing the window now interrupts the job while modules are written. Every change is backed up: when the app starts again the History page lists the job as unfinished and restores it. Keep the window open until the job is done."));
    }
  self->close_dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_WINDOW (self), heading, body));
  adw_message_dialog_add_responses (self->close_dialog,
                                    "keep", _("_Keep Open"),
                                    "close", _("Close _Anyway"),
                                    NULL);
  adw_message_dialog_set_response_appearance (self->close_dialog, "keep", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_response_appearance (self->close_dialog, "close", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (self->close_dialog, "keep");
  adw_message_dialog_set_close_response (self->close_dialog, "keep");
  g_signal_connect (self->close_dialog, "response", G_CALLBACK (on_close_response), self);
  gtk_window_present (GTK_WINDOW (self->close_dialog));
  return TRUE;
}

/* History offers no restore while engine work runs on either page. */
static void
on_busy_changed (EwWindow *self)
{
  g_object_set (self->history_page, "is-busy",
                ew_features_page_get_is_busy (self->features_page) ||
                ew_programming_page_get_is_busy (self->programming_page), NULL);
}

/* Restores run on the connection to the car in the bay, one job at a time. */
static void
on_restore_requested (EwWindow *self, gint64 job_id)
{
  ew_features_page_restore (self->features_page, job_id);
}

/* A programming job is not restored but resumed: the Programming page
 * finishes it, with its progress view. */
static void
on_resume_requested (EwWindow *self, gint64 job_id)
{
  g_autoptr(GError) error = NULL;

  if (!ew_programming_page_resume (self->programming_page, job_id, &error))
    {
      ew_history_page_add_toast (self->history_page, error->message);
      return;
    }
  adw_view_stack_set_visible_child_name (self->stack, "programming");
}

/* A job a crash or a kill interrupted opens the window on History, where
 * it is listed as unfinished with its Restore action. */
static void
show_unfinished_jobs (EwWindow *self, EwJobStore *store)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) unfinished = ew_job_store_list_unfinished (store, &error);

  if (unfinished == NULL)
    {
      g_warning ("Unfinished jobs cannot be listed: %s", error->message);
      return;
    }
  if (unfinished->len == 0)
    return;
  adw_view_stack_set_visible_child_name (self->stack, "history");
}

EwWindow *
ew_window_new (GtkApplication    *application,
               EwVehicleDatabase *db,
               const EwWmiTable  *wmi_table)
{
  EwWindow *self = g_object_new (EW_TYPE_WINDOW, "application", application, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(EwSharedStore) shared = NULL;
  EwJobStore *store;

  /* every page works on the same car: one connection per link */
  self->car_link = ew_car_link_new (db);
  ew_vehicle_page_set_data (self->vehicle_page, db, wmi_table, self->car_link);
  ew_jobs_page_set_data (self->jobs_page, db, self->car_link);

  /* without a job store nothing is written: no backup could be kept */
  store = ew_job_store_open (NULL, &error);
  if (store != NULL)
    shared = ew_shared_store_new (store);
  else
    g_warning ("The job store cannot be opened: %s", error->message);
  ew_features_page_set_data (self->features_page, db, self->car_link, shared);
  ew_programming_page_set_data (self->programming_page, db, self->car_link, shared);
  ew_history_page_set_database (self->history_page, db);
  ew_history_page_set_store (self->history_page, shared, error);
  if (store != NULL)
    show_unfinished_jobs (self, store);
  return self;
}

GtkWidget *
ew_window_get_features_page (EwWindow *self)
{
  g_return_val_if_fail (EW_IS_WINDOW (self), NULL);
  return GTK_WIDGET (self->features_page);
}

GtkWidget *
ew_window_get_history_page (EwWindow *self)
{
  g_return_val_if_fail (EW_IS_WINDOW (self), NULL);
  return GTK_WIDGET (self->history_page);
}

GtkWidget *
ew_window_get_vehicle_page (EwWindow *self)
{
  g_return_val_if_fail (EW_IS_WINDOW (self), NULL);
  return GTK_WIDGET (self->vehicle_page);
}

void
ew_window_show_page (EwWindow *self, const char *page_name)
{
  g_return_if_fail (EW_IS_WINDOW (self));
  adw_view_stack_set_visible_child_name (self->stack, page_name);
}

/* The header decides whether the switcher fits while it is allocated;
 * showing the bottom bar or the car's labels within that same allocation
 * leaves them without a size for the frame (GTK 4.8), so they follow once
 * the frame is done. */
static gboolean
follow_title_visible (gpointer data)
{
  EwWindow *self = data;

  self->reveal_source = 0;
  adw_view_switcher_bar_set_reveal (self->switcher_bar,
                                    adw_view_switcher_title_get_title_visible (self->switcher_title));
  on_car_changed (self);
  return G_SOURCE_REMOVE;
}

static void
on_title_visible (EwWindow *self)
{
  if (self->reveal_source == 0)
    /* before the next frame, after the one being laid out */
    self->reveal_source = g_idle_add_full (G_PRIORITY_DEFAULT, follow_title_visible, self, NULL);
}

static void
ew_window_dispose (GObject *object)
{
  EwWindow *self = EW_WINDOW (object);

  g_clear_handle_id (&self->reveal_source, g_source_remove);
  G_OBJECT_CLASS (ew_window_parent_class)->dispose (object);
}

static void
ew_window_finalize (GObject *object)
{
  EwWindow *self = EW_WINDOW (object);

  g_clear_pointer (&self->car_link, ew_car_link_unref);
  G_OBJECT_CLASS (ew_window_parent_class)->finalize (object);
}

static void
ew_window_class_init (EwWindowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = ew_window_dispose;
  G_OBJECT_CLASS (klass)->finalize = ew_window_finalize;

  g_type_ensure (EW_TYPE_VEHICLE_PAGE);
  g_type_ensure (EW_TYPE_FEATURES_PAGE);
  g_type_ensure (EW_TYPE_HISTORY_PAGE);
  g_type_ensure (EW_TYPE_JOBS_PAGE);
  g_type_ensure (EW_TYPE_PROGRAMMING_PAGE);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/ecuworkshop/EcuWorkshop/ew-window.ui");
  gtk_widget_class_bind_template_child (widget_class, EwWindow, switcher_title);
  gtk_widget_class_bind_template_child (widget_class, EwWindow, switcher_bar);
  gtk_widget_class_bind_template_child (widget_class, EwWindow, car_box);
  gtk_widget_class_bind_template_child (widget_class, EwWindow, car_label);
  gtk_widget_class_bind_template_child (widget_class, EwWindow, car_vin_label);
  gtk_widget_class_bind_template_child (widget_class, EwWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, EwWindow, vehicle_page);
  gtk_widget_class_bind_template_child (widget_class, EwWindow, features_page);
  gtk_widget_class_bind_template_child (widget_class, EwWindow, history_page);
  gtk_widget_class_bind_template_child (widget_class, EwWindow, jobs_page);
  gtk_widget_class_bind_template_child (widget_class, EwWindow, programming_page);
  gtk_widget_class_bind_template_callback (widget_class, on_car_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_car_scanned);
  gtk_widget_class_bind_template_callback (widget_class, on_link_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_job_finished);
  gtk_widget_class_bind_template_callback (widget_class, on_restore_requested);
  gtk_widget_class_bind_template_callback (widget_class, on_history_requested);
  gtk_widget_class_bind_template_callback (widget_class, on_progress_title_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_close_request);
  gtk_widget_class_install_action (widget_class, "window.program-finding", "s",
                                   program_finding_activated);
}

static void
ew_window_init (EwWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect_swapped (self->switcher_title, "notify::title-visible",
                            G_CALLBACK (on_title_visible), self);
  /* the title may be shown from the first frame on, with no change to tell */
  g_signal_connect (self, "map", G_CALLBACK (on_title_visible), NULL);
  g_signal_connect_swapped (self->features_page, "notify::is-busy", G_CALLBACK (on_busy_changed), self);
  g_signal_connect_swapped (self->features_page, "notify::progress-title",
                            G_CALLBACK (on_progress_title_changed), self);
  g_signal_connect_swapped (self->programming_page, "notify::is-busy", G_CALLBACK (on_busy_changed), self);
  on_busy_changed (self);
  g_signal_connect_swapped (self->history_page, "resume-requested",
                            G_CALLBACK (on_resume_requested), self);
}
