/* ew-link-dialog.c — "Connect to a Car": choose the link to the car. */
#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "ew-link-dialog.h"
#include "doip/doip-client.h"
#include "link/adapters.h"
#include "link/gsusb.h"
#include "sim/sim-profile.h"

#define DOIP_DEFAULT_PORT 13400

struct _EwLinkDialog {
  AdwWindow            parent_instance;

  AdwToastOverlay     *toast_overlay;
  GtkWidget           *cancel_button;
  GtkWidget           *connect_button;
  GtkCheckButton      *sim_check;
  AdwComboRow         *sim_family_row;
  AdwComboRow         *scenario_row;
  GtkCheckButton      *doip_check;
  AdwEntryRow         *doip_host_row;
  AdwEntryRow         *doip_port_row;
  GtkLabel            *doip_error_label;
  AdwPreferencesGroup *usb_group;
  GtkWidget           *refresh_button;
  GtkListBox          *usb_list;
  GtkListBox          *socketcan_list;
  AdwComboRow         *can_family_row;
  GtkLabel            *bitrate_label;

  EwVehicleDatabase   *db;              /* borrowed */
  GPtrArray           *families;        /* EwFamily, borrowed from db, combo order */
  GPtrArray           *scenario_names;  /* char *, scenario combo order */
  GSettings           *settings;        /* NULL when the schema is not installed */
  guint                bitrate_bps;
  char                *chosen_can;      /* base URI of the adapter or interface picked */
  char                *wanted_scenario; /* from the link in use, until shown */
  EwAdapterMonitor    *monitor;         /* NULL when USB cannot be watched */
  char                *usb_problem;     /* why adapters are not listed live, or NULL */
  GCancellable        *cancellable;     /* ends listings when the dialog goes */
  gboolean             is_refreshing;
  gboolean             needs_refresh;   /* a change came in during a listing */
};

G_DEFINE_FINAL_TYPE (EwLinkDialog, ew_link_dialog, ADW_TYPE_WINDOW)

enum {
  SIGNAL_LINK_CHOSEN,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* ---- families and scenarios ---- */

static GtkStringList *
family_model (EwLinkDialog *self)
{
  GtkStringList *list = gtk_string_list_new (NULL);

  for (guint i = 0; i < self->families->len; i++)
    {
      EwFamily *family = g_ptr_array_index (self->families, i);
      /* TRANSLATORS: make, model and years of a vehicle family */
      g_autofree char *title = g_strdup_printf (_("%s %s (%u–%u)"), family->make, family->model,
                                                family->years_from, family->years_to);

      gtk_string_list_append (list, title);
    }
  return list;
}

static EwFamily *
selected_family (EwLinkDialog *self, AdwComboRow *row)
{
  guint i = adw_combo_row_get_selected (row);

  return i < self->families->len ? g_ptr_array_index (self->families, i) : NULL;
}

static void
select_family (EwLinkDialog *self, AdwComboRow *row, const char *family_id)
{
  for (guint i = 0; family_id != NULL && i < self->families->len; i++)
    if (g_str_equal (((EwFamily *) g_ptr_array_index (self->families, i))->id, family_id))
      {
        adw_combo_row_set_selected (row, i);
        return;
      }
}

static const char *
selected_scenario (EwLinkDialog *self)
{
  guint i = adw_combo_row_get_selected (self->scenario_row);

  return i < self->scenario_names->len ? g_ptr_array_index (self->scenario_names, i) : NULL;
}

/* The shipped scenarios as the family would run them: the short title
 * before the colon of each description in the list, the whole
 * description below. */
static void
fill_scenarios (EwLinkDialog *self)
{
  EwFamily *family = selected_family (self, self->sim_family_row);
  g_autofree char *previous = g_strdup (self->wanted_scenario != NULL ? self->wanted_scenario
                                                                      : selected_scenario (self));
  g_autoptr(GtkStringList) titles = gtk_string_list_new (NULL);
  g_auto(GStrv) names = ew_sim_profile_list_shipped ();
  guint selected = 0;

  g_ptr_array_set_size (self->scenario_names, 0);
  for (guint i = 0; family != NULL && names != NULL && names[i] != NULL; i++)
    {
      g_autoptr(EwSimProfile) profile = ew_sim_profile_load (family, names[i], NULL);
      const char *description;
      g_autofree char *title = NULL;

      if (profile == NULL)
        continue;
      description = ew_sim_profile_get_description (profile);
      title = g_strndup (description, strcspn (description, ":"));
      if (g_strcmp0 (names[i], previous) == 0
          || (previous == NULL && g_str_equal (names[i], "healthy")))
        selected = self->scenario_names->len;
      g_ptr_array_add (self->scenario_names, g_strdup (names[i]));
      gtk_string_list_append (titles, title);
    }
  g_clear_pointer (&self->wanted_scenario, g_free);
  adw_combo_row_set_model (self->scenario_row, G_LIST_MODEL (titles));
  adw_combo_row_set_selected (self->scenario_row, selected);
}

static void
show_scenario_description (EwLinkDialog *self)
{
  EwFamily *family = selected_family (self, self->sim_family_row);
  const char *name = selected_scenario (self);
  g_autoptr(EwSimProfile) profile = (family != NULL && name != NULL)
                                    ? ew_sim_profile_load (family, name, NULL) : NULL;

  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->scenario_row),
                               profile != NULL ? ew_sim_profile_get_description (profile) : "");
}

/* ---- the choice ---- */

/* The radio button of a listed adapter or interface that is active, or
 * NULL. */
static GtkCheckButton *
active_listed_check (GtkListBox *list)
{
  for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (list));
       row != NULL; row = gtk_widget_get_next_sibling (row))
    {
      GtkCheckButton *check = g_object_get_data (G_OBJECT (row), "ew-check");

      if (check != NULL && gtk_check_button_get_active (check))
        return check;
    }
  return NULL;
}

static GtkCheckButton *
active_can_check (EwLinkDialog *self)
{
  GtkCheckButton *check = active_listed_check (self->usb_list);

  return check != NULL ? check : active_listed_check (self->socketcan_list);
}

static void
update_connect (EwLinkDialog *self)
{
  gboolean has_choice = gtk_check_button_get_active (self->sim_check)
                        || gtk_check_button_get_active (self->doip_check)
                        || active_can_check (self) != NULL;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "link.connect", has_choice);
}

static void
on_choice_toggled (EwLinkDialog *self, GtkCheckButton *check)
{
  if (gtk_check_button_get_active (check))
    {
      const char *base = g_object_get_data (G_OBJECT (check), "ew-link-base");

      /* an adapter stays chosen across listings; another kind forgets it */
      g_free (self->chosen_can);
      self->chosen_can = g_strdup (base);
    }
  update_connect (self);
}

static void
on_sim_family_changed (EwLinkDialog *self)
{
  fill_scenarios (self);
  show_scenario_description (self);
  gtk_check_button_set_active (self->sim_check, TRUE);
}

static void
on_scenario_changed (EwLinkDialog *self)
{
  show_scenario_description (self);
  gtk_check_button_set_active (self->sim_check, TRUE);
}

/* ---- DoIP address ---- */

/* RFC 1123 host names: dot-separated labels of letters, digits and
 * hyphens, no label starting or ending with a hyphen. */
static gboolean
is_host_name (const char *text)
{
  g_auto(GStrv) labels = NULL;
  gboolean is_all_numeric = TRUE;

  if (text[0] == '\0' || strlen (text) > 253)
    return FALSE;
  labels = g_strsplit (text, ".", -1);
  for (guint i = 0; labels[i] != NULL; i++)
    {
      gsize length = strlen (labels[i]);

      /* a trailing dot (fully qualified) leaves an empty last label */
      if (length == 0 && labels[i + 1] == NULL && i > 0)
        continue;
      if (length == 0 || length > 63 || labels[i][0] == '-' || labels[i][length - 1] == '-')
        return FALSE;
      for (const char *p = labels[i]; *p != '\0'; p++)
        {
          if (!g_ascii_isalnum (*p) && *p != '-')
            return FALSE;
          if (!g_ascii_isdigit (*p))
            is_all_numeric = FALSE;
        }
    }
  /* "192.168.1.300" is a mistyped IPv4 address, not a name */
  return !is_all_numeric;
}

/* The address typed, as a doip: URI, or NULL with the reason; on error
 * *bad_row is the row to mark. */
static char *
build_doip_uri (EwLinkDialog *self, AdwEntryRow **bad_row, GError **error)
{
  g_autofree char *host = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->doip_host_row))));
  g_autofree char *port_text = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->doip_port_row))));
  g_autofree char *uri = NULL;
  g_autofree char *parsed_host = NULL;
  guint64 port = DOIP_DEFAULT_PORT;
  guint16 parsed_port;
  gboolean is_ipv6;

  *bad_row = self->doip_host_row;
  if (host[0] == '\0')
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _("Type the IP address or host name of the car or its gateway."));
      return NULL;
    }
  /* "[fe80::1]" as it is written in URIs */
  if (host[0] == '[' && host[strlen (host) - 1] == ']')
    {
      memmove (host, host + 1, strlen (host));
      host[strlen (host) - 1] = '\0';
    }
  is_ipv6 = strchr (host, ':') != NULL;
  if (!g_hostname_is_ip_address (host) && (is_ipv6 || !is_host_name (host)))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   /* TRANSLATORS: %s is what was typed as the car's address */
                   _("“%s” is neither an IP address nor a host name. Type the port in its own row."),
                   host);
      return NULL;
    }
  if (port_text[0] != '\0'
      && !g_ascii_string_to_unsigned (port_text, 10, 1, G_MAXUINT16, &port, NULL))
    {
      *bad_row = self->doip_port_row;
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("The port “%s” is not a number from 1 to 65535."), port_text);
      return NULL;
    }

  uri = g_strdup_printf (is_ipv6 ? "doip:[%s]" : "doip:%s", host);
  if (port != DOIP_DEFAULT_PORT)
    {
      g_autofree char *with_port = g_strdup_printf ("%s:%u", uri, (guint) port);

      g_free (uri);
      uri = g_steal_pointer (&with_port);
    }
  /* the link parses it the same way, or it is refused here already */
  if (!ew_doip_parse_uri (uri, &parsed_host, &parsed_port, error))
    return NULL;
  *bad_row = NULL;
  return g_steal_pointer (&uri);
}

static void
show_doip_error (EwLinkDialog *self, AdwEntryRow *bad_row, const char *message)
{
  gtk_widget_remove_css_class (GTK_WIDGET (self->doip_host_row), "error");
  gtk_widget_remove_css_class (GTK_WIDGET (self->doip_port_row), "error");
  if (bad_row != NULL)
    gtk_widget_add_css_class (GTK_WIDGET (bad_row), "error");
  gtk_label_set_label (self->doip_error_label, message != NULL ? message : "");
  gtk_widget_set_visible (GTK_WIDGET (self->doip_error_label), message != NULL);
}

/* Checked while typing; an empty address is not an error yet. */
static void
on_doip_changed (EwLinkDialog *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *uri = NULL;
  AdwEntryRow *bad_row = NULL;
  const char *host = gtk_editable_get_text (GTK_EDITABLE (self->doip_host_row));
  const char *port = gtk_editable_get_text (GTK_EDITABLE (self->doip_port_row));

  if (host[0] == '\0' && port[0] == '\0')
    {
      show_doip_error (self, NULL, NULL);
      return;
    }
  gtk_check_button_set_active (self->doip_check, TRUE);
  uri = build_doip_uri (self, &bad_row, &error);
  if (host[0] == '\0')
    show_doip_error (self, NULL, NULL);
  else
    show_doip_error (self, bad_row, uri == NULL ? error->message : NULL);
}

/* ---- building the URI ---- */

char *
ew_link_dialog_build_uri (EwLinkDialog *self, GError **error)
{
  GtkCheckButton *can_check;

  g_return_val_if_fail (EW_IS_LINK_DIALOG (self), NULL);

  if (gtk_check_button_get_active (self->sim_check))
    {
      EwFamily *family = selected_family (self, self->sim_family_row);
      const char *scenario = selected_scenario (self);
      g_autofree char *escaped = NULL;

      if (family == NULL)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                               _("No vehicle family is installed to simulate."));
          return NULL;
        }
      if (scenario == NULL)
        return g_strdup_printf ("sim:%s", family->id);
      escaped = g_uri_escape_string (scenario, NULL, TRUE);
      return g_strdup_printf ("sim:%s?profile=%s", family->id, escaped);
    }

  if (gtk_check_button_get_active (self->doip_check))
    {
      AdwEntryRow *bad_row = NULL;

      return build_doip_uri (self, &bad_row, error);
    }

  can_check = active_can_check (self);
  if (can_check != NULL)
    {
      const char *base = g_object_get_data (G_OBJECT (can_check), "ew-link-base");
      EwFamily *family = selected_family (self, self->can_family_row);

      if (family == NULL)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                               _("Pick the car’s vehicle family for the CAN link."));
          return NULL;
        }
      if (g_str_has_prefix (base, "gsusb:"))
        return g_strdup_printf ("%s?bitrate=%u&family=%s", base, self->bitrate_bps, family->id);
      return g_strdup_printf ("%s?family=%s", base, family->id);
    }

  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       _("Choose how to reach the car."));
  return NULL;
}

static void
connect_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  EwLinkDialog *self = EW_LINK_DIALOG (widget);
  g_autoptr(GError) error = NULL;
  g_autofree char *uri = NULL;

  if (gtk_check_button_get_active (self->doip_check))
    {
      AdwEntryRow *bad_row = NULL;

      uri = build_doip_uri (self, &bad_row, &error);
      show_doip_error (self, bad_row, uri == NULL ? error->message : NULL);
      if (uri == NULL)
        {
          gtk_widget_grab_focus (GTK_WIDGET (bad_row != NULL ? bad_row : self->doip_host_row));
          gtk_widget_error_bell (widget);
          return;
        }
    }
  else
    uri = ew_link_dialog_build_uri (self, &error);

  if (uri == NULL)
    {
      adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (error->message));
      gtk_widget_error_bell (widget);
      return;
    }

  if (self->settings != NULL)
    g_settings_set_string (self->settings, "last-link", uri);
  g_signal_emit (self, signals[SIGNAL_LINK_CHOSEN], 0, uri);
  gtk_window_close (GTK_WINDOW (self));
}

/* ---- adapters and interfaces ---- */

typedef struct {
  GPtrArray *adapters;          /* EwGsusbDeviceInfo, or NULL */
  GError    *adapters_error;
  GPtrArray *interfaces;        /* EwSocketcanInterface, or NULL */
  GError    *interfaces_error;
} Listing;

static void
listing_free (Listing *listing)
{
  g_clear_pointer (&listing->adapters, g_ptr_array_unref);
  g_clear_pointer (&listing->interfaces, g_ptr_array_unref);
  g_clear_error (&listing->adapters_error);
  g_clear_error (&listing->interfaces_error);
  g_free (listing);
}

/* Worker thread: opening each adapter for its strings may take a moment. */
static void
list_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  Listing *listing = g_new0 (Listing, 1);

  listing->adapters = ew_gsusb_list_devices (&listing->adapters_error);
  listing->interfaces = ew_socketcan_list_interfaces (NULL, &listing->interfaces_error);
  g_task_return_pointer (task, listing, (GDestroyNotify) listing_free);
}

static void
clear_list (GtkListBox *list)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (list))) != NULL)
    gtk_list_box_remove (list, child);
}

/* A row with no choice: "none connected" and the like. */
static void
add_message_row (GtkListBox *list, const char *title, const char *subtitle)
{
  GtkWidget *row = adw_action_row_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 0);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
  gtk_widget_add_css_class (row, "dim-label");
  gtk_list_box_append (list, row);
}

/* A row to choose: a radio button in the dialog's one group. */
static void
add_choice_row (EwLinkDialog *self,
                GtkListBox   *list,
                const char   *base_uri,
                const char   *title,
                const char   *subtitle,
                gboolean      is_usable)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *check = gtk_check_button_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 0);
  gtk_widget_set_name (row, base_uri);
  gtk_widget_set_valign (check, GTK_ALIGN_CENTER);
  gtk_check_button_set_group (GTK_CHECK_BUTTON (check), self->sim_check);
  gtk_accessible_update_property (GTK_ACCESSIBLE (check), GTK_ACCESSIBLE_PROPERTY_LABEL, title, -1);
  g_object_set_data_full (G_OBJECT (check), "ew-link-base", g_strdup (base_uri), g_free);
  g_object_set_data (G_OBJECT (row), "ew-check", check);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), check);
  if (is_usable)
    adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), check);
  else
    gtk_widget_set_sensitive (check, FALSE);
  gtk_list_box_append (list, row);

  if (is_usable && g_strcmp0 (base_uri, self->chosen_can) == 0)
    gtk_check_button_set_active (GTK_CHECK_BUTTON (check), TRUE);
  g_signal_connect_swapped (check, "toggled", G_CALLBACK (on_choice_toggled), self);
}

static void
show_adapters (EwLinkDialog *self, GPtrArray *adapters, const GError *error)
{
  clear_list (self->usb_list);
  if (adapters == NULL)
    {
      add_message_row (self->usb_list, _("USB adapters cannot be listed"), error->message);
      return;
    }
  if (adapters->len == 0)
    {
      add_message_row (self->usb_list, _("No adapter connected"),
                       _("Plug in a gs_usb adapter (candleLight, CANable …) and it appears here."));
      return;
    }
  for (guint i = 0; i < adapters->len; i++)
    {
      const EwGsusbDeviceInfo *info = g_ptr_array_index (adapters, i);
      g_autofree char *base = info->serial != NULL
        ? g_strdup_printf ("gsusb:%04x:%04x@%s", info->vendor_id, info->product_id, info->serial)
        : g_strdup_printf ("gsusb:%04x:%04x", info->vendor_id, info->product_id);
      g_autofree char *subtitle = NULL;

      if (info->open_error != NULL)
        /* TRANSLATORS: %s says why, e.g. "permission denied: install …" */
        subtitle = g_strdup_printf (_("Cannot be opened: %s. Install the udev rule for USB-CAN "
                                      "adapters (70-ecu-workshop-gsusb.rules), then plug the "
                                      "adapter in again."), info->open_error);
      else if (info->serial != NULL)
        /* TRANSLATORS: serial number, then USB vendor:product ids */
        subtitle = g_strdup_printf (_("Serial %s · %04x:%04x"), info->serial,
                                    info->vendor_id, info->product_id);
      else
        subtitle = g_strdup_printf (_("USB bus %u, device %u · %04x:%04x"), info->bus_number,
                                    info->device_address, info->vendor_id, info->product_id);
      add_choice_row (self, self->usb_list, base,
                      info->product != NULL ? info->product : _("gs_usb adapter"),
                      subtitle, info->open_error == NULL);
    }
}

static void
show_interfaces (EwLinkDialog *self, GPtrArray *interfaces, const GError *error)
{
  clear_list (self->socketcan_list);
  if (interfaces == NULL)
    {
      add_message_row (self->socketcan_list, _("CAN interfaces cannot be listed"), error->message);
      return;
    }
  if (interfaces->len == 0)
    {
      add_message_row (self->socketcan_list, _("No CAN interface"),
                       _("This computer has no SocketCAN interface set up."));
      return;
    }
  for (guint i = 0; i < interfaces->len; i++)
    {
      const EwSocketcanInterface *iface = g_ptr_array_index (interfaces, i);
      g_autofree char *base = g_strdup_printf ("socketcan:%s", iface->name);
      g_autofree char *subtitle = iface->is_up
        /* TRANSLATORS: %s is the kernel's operstate, e.g. "up" or "unknown" */
        ? g_strdup_printf (_("Up (state: %s)"), iface->operstate)
        /* TRANSLATORS: %s is an interface name such as can0 */
        : g_strdup_printf (_("Down: bring it up first, e.g. “ip link set %s up type can bitrate 500000”"),
                           iface->name);

      add_choice_row (self, self->socketcan_list, base, iface->name, subtitle, TRUE);
    }
}

static void start_listing (EwLinkDialog *self);

static void
on_listed (GObject *source_object, GAsyncResult *result, gpointer user_data)
{
  EwLinkDialog *self = EW_LINK_DIALOG (source_object);
  Listing *listing;

  /* the dialog closed meanwhile: nothing to show */
  if (g_cancellable_is_cancelled (self->cancellable))
    return;
  listing = g_task_propagate_pointer (G_TASK (result), NULL);
  self->is_refreshing = FALSE;
  if (listing != NULL)
    {
      show_adapters (self, listing->adapters, listing->adapters_error);
      show_interfaces (self, listing->interfaces, listing->interfaces_error);
      listing_free (listing);
    }
  update_connect (self);
  if (self->needs_refresh)
    start_listing (self);
}

static void
start_listing (EwLinkDialog *self)
{
  g_autoptr(GTask) task = NULL;

  if (self->is_refreshing)
    {
      self->needs_refresh = TRUE;
      return;
    }
  self->is_refreshing = TRUE;
  self->needs_refresh = FALSE;
  task = g_task_new (self, self->cancellable, on_listed, NULL);
  g_task_set_source_tag (task, start_listing);
  g_task_run_in_thread (task, list_thread);
}

void
ew_link_dialog_refresh (EwLinkDialog *self)
{
  g_return_if_fail (EW_IS_LINK_DIALOG (self));
  start_listing (self);
}

gboolean
ew_link_dialog_get_is_refreshing (EwLinkDialog *self)
{
  g_return_val_if_fail (EW_IS_LINK_DIALOG (self), FALSE);
  return self->is_refreshing;
}

static void
refresh_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  start_listing (EW_LINK_DIALOG (widget));
}

static void
on_adapters_changed (gpointer user_data)
{
  start_listing (EW_LINK_DIALOG (user_data));
}

/* Adapters appear as they are plugged in, where libusb can tell; else the
 * group says so and offers Refresh. */
static void
start_watching (EwLinkDialog *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *description = NULL;

  self->monitor = ew_adapter_monitor_new (EW_ADAPTER_MONITOR_FLAGS_NONE, NULL,
                                          on_adapters_changed, self, NULL, &error);
  if (self->monitor != NULL && ew_adapter_monitor_has_hotplug (self->monitor))
    return;

  if (self->monitor == NULL)
    /* TRANSLATORS: %s is the reason from libusb */
    description = g_strdup_printf (_("USB devices cannot be watched here (%s). Press Refresh "
                                     "after plugging in an adapter."), error->message);
  else
    description = g_strdup (_("This system does not report USB adapters as they are plugged "
                              "in. Press Refresh after plugging one in."));
  self->usb_problem = g_steal_pointer (&description);
  adw_preferences_group_set_description (self->usb_group, self->usb_problem);
  gtk_widget_set_visible (self->refresh_button, TRUE);
}

/* ---- the link in use ---- */

/* Shows the link in use as the first choice. */
static void
show_current (EwLinkDialog *self, const char *uri)
{
  const char *question = uri != NULL ? strchr (uri, '?') : NULL;
  g_autoptr(GHashTable) parameters = NULL;
  g_autofree char *base = NULL;

  if (uri == NULL)
    return;
  base = question != NULL ? g_strndup (uri, question - uri) : g_strdup (uri);
  if (question != NULL)
    parameters = g_uri_parse_params (question + 1, -1, "&", G_URI_PARAMS_NONE, NULL);

  if (g_str_has_prefix (base, "sim:"))
    {
      self->wanted_scenario = parameters != NULL
                              ? g_strdup (g_hash_table_lookup (parameters, "profile")) : NULL;
      select_family (self, self->sim_family_row, base + strlen ("sim:"));
      fill_scenarios (self);
      show_scenario_description (self);
      gtk_check_button_set_active (self->sim_check, TRUE);
    }
  else if (g_str_has_prefix (base, "doip:"))
    {
      g_autofree char *host = NULL;
      guint16 port = 0;

      if (ew_doip_parse_uri (base, &host, &port, NULL))
        {
          g_autofree char *port_text = port != DOIP_DEFAULT_PORT ? g_strdup_printf ("%u", port)
                                                                 : g_strdup ("");

          gtk_editable_set_text (GTK_EDITABLE (self->doip_host_row), host);
          gtk_editable_set_text (GTK_EDITABLE (self->doip_port_row), port_text);
          gtk_check_button_set_active (self->doip_check, TRUE);
        }
    }
  else if (g_str_has_prefix (base, "gsusb:") || g_str_has_prefix (base, "socketcan:"))
    {
      /* chosen again when the listing shows it */
      self->chosen_can = g_steal_pointer (&base);
      if (parameters != NULL)
        select_family (self, self->can_family_row, g_hash_table_lookup (parameters, "family"));
    }
}

EwLinkDialog *
ew_link_dialog_new (GtkWindow         *parent,
                    EwVehicleDatabase *db,
                    const char        *current_uri)
{
  EwLinkDialog *self;
  GPtrArray *families;
  g_autoptr(GtkStringList) sim_families = NULL;
  g_autoptr(GtkStringList) can_families = NULL;

  g_return_val_if_fail (db != NULL, NULL);

  self = g_object_new (EW_TYPE_LINK_DIALOG,
                       "transient-for", parent,
                       NULL);
  self->db = db;
  families = ew_vehicle_database_get_families (db);
  for (guint i = 0; i < families->len; i++)
    g_ptr_array_add (self->families, g_ptr_array_index (families, i));
  sim_families = family_model (self);
  can_families = family_model (self);
  g_signal_handlers_block_by_func (self->sim_family_row, on_sim_family_changed, self);
  adw_combo_row_set_model (self->sim_family_row, G_LIST_MODEL (sim_families));
  adw_combo_row_set_model (self->can_family_row, G_LIST_MODEL (can_families));
  select_family (self, self->sim_family_row, "bmw-f30");
  g_signal_handlers_unblock_by_func (self->sim_family_row, on_sim_family_changed, self);

  g_signal_handlers_block_by_func (self->scenario_row, on_scenario_changed, self);
  fill_scenarios (self);
  show_scenario_description (self);
  show_current (self, current_uri);
  g_signal_handlers_unblock_by_func (self->scenario_row, on_scenario_changed, self);
  if (active_can_check (self) == NULL && self->chosen_can == NULL
      && !gtk_check_button_get_active (self->doip_check))
    gtk_check_button_set_active (self->sim_check, TRUE);

  start_watching (self);
  start_listing (self);
  update_connect (self);
  return self;
}

/* ---- GObject ---- */

/* The schema is looked up rather than assumed, as the application does:
 * a build run from its folder may have none installed. */
static void
load_settings (EwLinkDialog *self)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = NULL;
  g_autofree char *bitrate_text = NULL;

  self->bitrate_bps = EW_GSUSB_DEFAULT_BITRATE;
  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, APP_ID, TRUE);
  if (schema != NULL)
    {
      self->settings = g_settings_new_full (schema, NULL, NULL);
      self->bitrate_bps = g_settings_get_uint (self->settings, "can-bitrate");
    }
  if (self->bitrate_bps % 1000 == 0)
    /* TRANSLATORS: a CAN bit rate, e.g. "500 kbit/s" */
    bitrate_text = g_strdup_printf (_("%u kbit/s"), self->bitrate_bps / 1000);
  else
    bitrate_text = g_strdup_printf (_("%u bit/s"), self->bitrate_bps);
  gtk_label_set_label (self->bitrate_label, bitrate_text);
}

static void
ew_link_dialog_dispose (GObject *object)
{
  EwLinkDialog *self = EW_LINK_DIALOG (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_pointer (&self->monitor, ew_adapter_monitor_free);
  gtk_widget_dispose_template (GTK_WIDGET (self), EW_TYPE_LINK_DIALOG);
  G_OBJECT_CLASS (ew_link_dialog_parent_class)->dispose (object);
}

static void
ew_link_dialog_finalize (GObject *object)
{
  EwLinkDialog *self = EW_LINK_DIALOG (object);

  g_clear_object (&self->cancellable);
  g_clear_object (&self->settings);
  g_ptr_array_unref (self->families);
  g_ptr_array_unref (self->scenario_names);
  g_free (self->chosen_can);
  g_free (self->wanted_scenario);
  g_free (self->usb_problem);
  G_OBJECT_CLASS (ew_link_dialog_parent_class)->finalize (object);
}

static void
ew_link_dialog_class_init (EwLinkDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ew_link_dialog_dispose;
  object_class->finalize = ew_link_dialog_finalize;

  /* Connect chose this link URI; the dialog closes after it. */
  signals[SIGNAL_LINK_CHOSEN] =
    g_signal_new ("link-chosen", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

  gtk_widget_class_install_action (widget_class, "link.connect", NULL, connect_activated);
  gtk_widget_class_install_action (widget_class, "link.refresh", NULL, refresh_activated);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/ecuworkshop/EcuWorkshop/ew-link-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, EwLinkDialog, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, EwLinkDialog, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, EwLinkDialog, connect_button);
  gtk_widget_class_bind_template_child (widget_class, EwLinkDialog, sim_check);
  gtk_widget_class_bind_template_child (widget_class, EwLinkDialog, sim_family_row);
  gtk_widget_class_bind_template_child (widget_class, EwLinkDialog, scenario_row);
  gtk_widget_class_bind_template_child (widget_class, EwLinkDialog, doip_check);
  gtk_widget_class_bind_template_child (widget_class, EwLinkDialog, doip_host_row);
  gtk_widget_class_bind_template_child (widget_class, EwLinkDialog, doip_port_row);
  gtk_widget_class_bind_template_child (widget_class, EwLinkDialog, doip_error_label);
  gtk_widget_class_bind_template_child (widget_class, EwLinkDialog, usb_group);
  gtk_widget_class_bind_template_child (widget_class, EwLinkDialog, refresh_button);
  gtk_widget_class_bind_template_child (widget_class, EwLinkDialog, usb_list);
  gtk_widget_class_bind_template_child (widget_class, EwLinkDialog, socketcan_list);
  gtk_widget_class_bind_template_child (widget_class, EwLinkDialog, can_family_row);
  gtk_widget_class_bind_template_child (widget_class, EwLinkDialog, bitrate_label);
  gtk_widget_class_bind_template_callback (widget_class, on_choice_toggled);
  gtk_widget_class_bind_template_callback (widget_class, on_sim_family_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_scenario_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_doip_changed);
}

static void
ew_link_dialog_init (EwLinkDialog *self)
{
  self->families = g_ptr_array_new ();
  self->scenario_names = g_ptr_array_new_with_free_func (g_free);
  self->cancellable = g_cancellable_new ();
  gtk_widget_init_template (GTK_WIDGET (self));
  load_settings (self);
}
