/* ew-application.c — the ECU Workshop application. */
#include "config.h"

#include <glib/gi18n.h>

#include "ew-application.h"
#include "ew-preferences-window.h"
#include "ew-window.h"
#include "ew-vehicle-page.h"

struct _EwApplication {
  AdwApplication     parent_instance;

  EwVehicleDatabase *db;
  EwWmiTable        *wmi_table;
  char              *data_dir;   /* --data-dir: one more family folder */
  char              *vin;        /* --vin: identify this car on start */
  char              *link;       /* --link: the car's link URI */
  GSettings         *settings;   /* NULL when the schema is not installed */
};

/* The link when neither --link nor the settings name one. */
#define EW_FALLBACK_LINK "sim:bmw-f30"

G_DEFINE_FINAL_TYPE (EwApplication, ew_application, ADW_TYPE_APPLICATION)

EwApplication *
ew_application_new (void)
{
  return g_object_new (EW_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "flags", G_APPLICATION_DEFAULT_FLAGS,
                       "resource-base-path", "/io/github/ecuworkshop/EcuWorkshop",
                       NULL);
}

EwVehicleDatabase *
ew_application_get_database (EwApplication *self)
{
  g_return_val_if_fail (EW_IS_APPLICATION (self), NULL);
  return self->db;
}

const EwWmiTable *
ew_application_get_wmi_table (EwApplication *self)
{
  g_return_val_if_fail (EW_IS_APPLICATION (self), NULL);
  return self->wmi_table;
}

static void
load_data (EwApplication *self)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *errors;

  self->db = ew_vehicle_database_new (NULL);
  ew_vehicle_database_add_default_dirs (self->db, self->data_dir);
  /* A bad family file is the garage's to fix; the others still load. */
  errors = ew_vehicle_database_get_errors (self->db);
  for (guint i = 0; i < errors->len; i++)
    g_warning ("%s", ((const GError *) g_ptr_array_index (errors, i))->message);

  self->wmi_table = ew_wmi_table_load_default (&error);
  if (self->wmi_table == NULL)
    g_warning ("%s", error->message);
}

/* The schema is looked up rather than assumed: a build run from its
 * folder, or a test, may have none installed, and g_settings_new() would
 * abort. */
static void
load_settings (EwApplication *self)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = NULL;

  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, APP_ID, TRUE);
  if (schema != NULL)
    self->settings = g_settings_new_full (schema, NULL, NULL);
}

const char *
ew_application_get_link (EwApplication *self)
{
  g_return_val_if_fail (EW_IS_APPLICATION (self), NULL);
  return self->link;
}

static void
ew_application_startup (GApplication *app)
{
  EwApplication *self = EW_APPLICATION (app);

  G_APPLICATION_CLASS (ew_application_parent_class)->startup (app);
  load_data (self);
  load_settings (self);
  /* the link used last, once there is one; the default link before */
  if (self->link == NULL && self->settings != NULL)
    {
      g_autoptr(GVariant) last = g_settings_get_user_value (self->settings, "last-link");
      g_autofree char *link = NULL;

      if (last != NULL && *g_variant_get_string (last, NULL) != '\0')
        link = g_variant_dup_string (last, NULL);
      else
        link = g_settings_get_string (self->settings, "default-link");
      if (*link != '\0')
        self->link = g_steal_pointer (&link);
    }
  if (self->link == NULL)
    self->link = g_strdup (EW_FALLBACK_LINK);
  /* nowhere to keep preferences without the schema */
  g_simple_action_set_enabled (G_SIMPLE_ACTION (g_action_map_lookup_action (G_ACTION_MAP (self), "preferences")),
                               self->settings != NULL);
}

/* A link that identified a car is remembered as the last one used. */
static void
on_car_scanned (EwVehiclePage *page, const char *link, EwApplication *self)
{
  if (self->settings != NULL && link != NULL)
    g_settings_set_string (self->settings, "last-link", link);
}

static void
ew_application_activate (GApplication *app)
{
  EwApplication *self = EW_APPLICATION (app);
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (app));

  if (window == NULL)
    {
      EwVehiclePage *page;

      window = GTK_WINDOW (ew_window_new (GTK_APPLICATION (app), self->db, self->wmi_table));
      page = EW_VEHICLE_PAGE (ew_window_get_vehicle_page (EW_WINDOW (window)));
      ew_vehicle_page_set_link (page, self->link);
      g_signal_connect_object (page, "car-scanned", G_CALLBACK (on_car_scanned), self, 0);
      if (self->vin != NULL)
        ew_vehicle_page_set_vin (page, self->vin);
    }
  gtk_window_present (window);
}

static int
ew_application_handle_local_options (GApplication *app, GVariantDict *options)
{
  EwApplication *self = EW_APPLICATION (app);
  const char *data_dir = NULL;

  if (g_variant_dict_lookup (options, "version", "b", NULL))
    {
      g_print ("ecu-workshop %s\n", PACKAGE_VERSION);
      return 0;
    }
  if (g_variant_dict_lookup (options, "data-dir", "^&ay", &data_dir))
    self->data_dir = g_strdup (data_dir);
  g_variant_dict_lookup (options, "vin", "s", &self->vin);
  g_variant_dict_lookup (options, "link", "s", &self->link);
  if (self->link != NULL && *self->link == '\0')
    g_clear_pointer (&self->link, g_free);   /* --link "": the setting's link */
  return -1;
}

static void
on_about (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  GtkApplication *app = GTK_APPLICATION (user_data);
  static const char *developers[] = { N_("ECU Workshop developers"), NULL };

  adw_show_about_window (gtk_application_get_active_window (app),
                         "application-name", _("ECU Workshop"),
                         "application-icon", APP_ID,
                         "version", PACKAGE_VERSION,
                         "developer-name", _("ECU Workshop developers"),
                         "developers", developers,
                         "comments", _("Code and program vehicle modules: identify the car, switch features in coding, plan programming jobs, and explain the work to the customer."),
                         "website", "https://github.com/ecuworkshop/ecu-workshop",
                         "license-type", GTK_LICENSE_GPL_3_0,
                         "translator-credits", _("translator-credits"),
                         NULL);
}

static void
on_preferences (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  EwApplication *self = EW_APPLICATION (user_data);
  GtkWidget *window;

  /* disabled without settings; see startup */
  g_return_if_fail (self->settings != NULL);
  window = ew_preferences_window_new (gtk_application_get_active_window (GTK_APPLICATION (self)),
                                      self->settings);
  gtk_window_present (GTK_WINDOW (window));
}

static void
on_quit (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  g_application_quit (G_APPLICATION (user_data));
}

static const GActionEntry app_actions[] = {
  { "about", on_about },
  { "preferences", on_preferences },
  { "quit", on_quit },
};

static void
ew_application_finalize (GObject *object)
{
  EwApplication *self = EW_APPLICATION (object);

  g_clear_pointer (&self->db, ew_vehicle_database_free);
  g_clear_pointer (&self->wmi_table, ew_wmi_table_free);
  g_free (self->data_dir);
  g_free (self->vin);
  g_free (self->link);
  g_clear_object (&self->settings);
  G_OBJECT_CLASS (ew_application_parent_class)->finalize (object);
}

static void
ew_application_class_init (EwApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->finalize = ew_application_finalize;
  app_class->startup = ew_application_startup;
  app_class->activate = ew_application_activate;
  app_class->handle_local_options = ew_application_handle_local_options;
}

static void
ew_application_init (EwApplication *self)
{
  static const char *quit_accels[] = { "<Control>q", NULL };
  static const char *preferences_accels[] = { "<Control>comma", NULL };
  static const GOptionEntry options[] = {
    { "version", 0, 0, G_OPTION_ARG_NONE, NULL, N_("Print the version and exit"), NULL },
    { "data-dir", 0, 0, G_OPTION_ARG_FILENAME, NULL, N_("Also load vehicle families from DIR"), N_("DIR") },
    { "vin", 0, 0, G_OPTION_ARG_STRING, NULL, N_("Identify the car with this VIN on start"), N_("VIN") },
    { "link", 0, 0, G_OPTION_ARG_STRING, NULL, N_("Scan the car on this link, e.g. sim:bmw-f30 or doip:192.0.2.10"), N_("URI") },
    { NULL }
  };

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions,
                                   G_N_ELEMENTS (app_actions), self);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.quit", quit_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.preferences", preferences_accels);
  g_application_add_main_option_entries (G_APPLICATION (self), options);
}
