/* ew-window.c — the main window: the pages of a job and the identified car
 * in the header. */
#include "config.h"

#include <glib/gi18n.h>

#include "ew-window.h"
#include "ew-vehicle-page.h"

struct _EwWindow {
  AdwApplicationWindow  parent_instance;

  AdwViewSwitcherTitle *switcher_title;
  GtkWidget            *car_box;
  GtkLabel             *car_label;
  GtkLabel             *car_vin_label;
  AdwViewStack         *stack;
  EwVehiclePage        *vehicle_page;
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

EwWindow *
ew_window_new (GtkApplication    *application,
               EwVehicleDatabase *db,
               const EwWmiTable  *wmi_table)
{
  EwWindow *self = g_object_new (EW_TYPE_WINDOW, "application", application, NULL);

  ew_vehicle_page_set_data (self->vehicle_page, db, wmi_table);
  return self;
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
ew_window_class_init (EwWindowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  g_type_ensure (EW_TYPE_VEHICLE_PAGE);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/ecuworkshop/EcuWorkshop/ew-window.ui");
  gtk_widget_class_bind_template_child (widget_class, EwWindow, switcher_title);
  gtk_widget_class_bind_template_child (widget_class, EwWindow, car_box);
  gtk_widget_class_bind_template_child (widget_class, EwWindow, car_label);
  gtk_widget_class_bind_template_child (widget_class, EwWindow, car_vin_label);
  gtk_widget_class_bind_template_child (widget_class, EwWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, EwWindow, vehicle_page);
  gtk_widget_class_bind_template_callback (widget_class, on_car_changed);
}

static void
ew_window_init (EwWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect_swapped (self->switcher_title, "notify::title-visible",
                            G_CALLBACK (on_car_changed), self);
}
