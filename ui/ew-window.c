/* ew-window.c — the main window: the pages of a job and the identified car
 * in the header. */
#include "config.h"

#include <glib/gi18n.h>

#include "ew-window.h"
#include "ew-features-page.h"
#include "ew-history-page.h"
#include "ew-jobs-page.h"
#include "ew-vehicle-page.h"

struct _EwWindow {
  AdwApplicationWindow  parent_instance;

  AdwViewSwitcherTitle *switcher_title;
  GtkWidget            *car_box;
  GtkLabel             *car_label;
  GtkLabel             *car_vin_label;
  AdwViewStack         *stack;
  EwVehiclePage        *vehicle_page;
  EwFeaturesPage       *features_page;
  EwJobsPage           *jobs_page;
  EwHistoryPage        *history_page;

  EwCarLink            *car_link;
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
}

static void
on_link_changed (EwWindow *self)
{
  ew_features_page_set_link (self->features_page, ew_vehicle_page_get_link (self->vehicle_page));
}

static void
on_job_finished (EwWindow *self, gint64 job_id)
{
  ew_history_page_refresh (self->history_page);
}

/* Restores run on the connection to the car in the bay, one job at a time. */
static void
on_restore_requested (EwWindow *self, gint64 job_id)
{
  ew_features_page_restore (self->features_page, job_id);
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

  G_OBJECT_CLASS (klass)->finalize = ew_window_finalize;

  g_type_ensure (EW_TYPE_VEHICLE_PAGE);
  g_type_ensure (EW_TYPE_FEATURES_PAGE);
  g_type_ensure (EW_TYPE_HISTORY_PAGE);
  g_type_ensure (EW_TYPE_JOBS_PAGE);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/ecuworkshop/EcuWorkshop/ew-window.ui");
  gtk_widget_class_bind_template_child (widget_class, EwWindow, switcher_title);
  gtk_widget_class_bind_template_child (widget_class, EwWindow, car_box);
  gtk_widget_class_bind_template_child (widget_class, EwWindow, car_label);
  gtk_widget_class_bind_template_child (widget_class, EwWindow, car_vin_label);
  gtk_widget_class_bind_template_child (widget_class, EwWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, EwWindow, vehicle_page);
  gtk_widget_class_bind_template_child (widget_class, EwWindow, features_page);
  gtk_widget_class_bind_template_child (widget_class, EwWindow, history_page);
  gtk_widget_class_bind_template_child (widget_class, EwWindow, jobs_page);
  gtk_widget_class_bind_template_callback (widget_class, on_car_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_car_scanned);
  gtk_widget_class_bind_template_callback (widget_class, on_link_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_job_finished);
  gtk_widget_class_bind_template_callback (widget_class, on_restore_requested);
}

static void
ew_window_init (EwWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect_swapped (self->switcher_title, "notify::title-visible",
                            G_CALLBACK (on_car_changed), self);
  g_object_bind_property (self->features_page, "is-busy", self->history_page, "is-busy",
                          G_BINDING_SYNC_CREATE);
}
