/* ew-preferences-window.c — the garage's preferences, each row written to
 * the app's settings as it changes; prices checked before they are stored. */
#include "config.h"

#include <glib/gi18n.h>

#include "ew-preferences-window.h"
#include "job/prices.h"

struct _EwPreferencesWindow {
  AdwPreferencesWindow parent_instance;

  AdwEntryRow        *name_row;
  GtkTextView        *address_view;
  AdwActionRow       *logo_row;
  GtkPicture         *logo_picture;
  GtkButton          *logo_remove_button;
  AdwActionRow       *labour_row;
  GtkSpinButton      *labour_spin;
  AdwActionRow       *vat_row;
  GtkSpinButton      *vat_spin;
  AdwComboRow        *currency_row;
  AdwEntryRow        *other_currency_row;
  AdwPreferencesGroup *template_group;
  AdwEntryRow        *default_link_row;
  AdwComboRow        *bitrate_row;
  AdwEntryRow        *plugin_row;

  GSettings          *settings;
  GtkStringList      *currencies;      /* the currency row's codes */
  GtkSpinButton      *template_spins[EW_PRICE_N_JOB_KINDS];
  GtkFileChooserNative *chooser;       /* while a file or folder is asked for */
  gboolean            is_updating;     /* the rows follow the settings */
};

G_DEFINE_FINAL_TYPE (EwPreferencesWindow, ew_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

/* The currencies garages in and around Europe quote in most; the one set
 * is added when it is another. */
static const char *const common_currencies[] = {
  "GBP", "EUR", "CHF", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF", "USD", "CAD", "AUD", NULL
};

static const guint bitrates_bps[] = { 125000, 250000, 500000, 1000000 };

static const char *
job_kind_title (EwJobKind kind)
{
  switch (kind)
    {
    case EW_JOB_ECU_SWAP:     return _("Engine Control Unit Swap");
    case EW_JOB_USED_CLUSTER: return _("Used Instrument Cluster");
    case EW_JOB_BODY_MODULE:  return _("Body Module Replacement");
    case EW_JOB_RETROFIT:     return _("Retrofit of a Used Module");
    case EW_JOB_RECOVERY:     return _("Recovery After a Failed Update");
    default:                  return "";
    }
}

static void
set_row_error (GtkWidget *row, const char *message)
{
  if (message != NULL)
    {
      gtk_widget_add_css_class (row, "error");
      gtk_widget_set_tooltip_text (row, message);
    }
  else
    {
      gtk_widget_remove_css_class (row, "error");
      gtk_widget_set_tooltip_text (row, NULL);
    }
}

static double
minor_per_major (guint digits)
{
  double scale = 1;

  for (guint i = 0; i < digits; i++)
    scale *= 10;
  return scale;
}

static guint
minor_digits (EwPreferencesWindow *self)
{
  g_autofree char *currency = g_settings_get_string (self->settings, "currency");

  return ew_currency_minor_digits (currency);
}

/* ---- from the settings to the rows ---- */

static void
update_logo (EwPreferencesWindow *self)
{
  g_autofree char *path = g_settings_get_string (self->settings, "garage-logo");
  gboolean has_logo = path[0] != '\0';

  if (has_logo)
    {
      g_autofree char *name = g_path_get_basename (path);

      gtk_picture_set_filename (self->logo_picture, path);
      adw_action_row_set_subtitle (self->logo_row, name);
    }
  else
    {
      gtk_picture_set_paintable (self->logo_picture, NULL);
      adw_action_row_set_subtitle (self->logo_row, _("None: the sheet shows the garage's name only"));
    }
  gtk_widget_set_visible (GTK_WIDGET (self->logo_picture), has_logo);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "prefs.remove-logo", has_logo);
}

static void
update_currency (EwPreferencesWindow *self)
{
  g_autofree char *currency = g_settings_get_string (self->settings, "currency");
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->currencies));
  guint index = GTK_INVALID_LIST_POSITION;

  for (guint i = 0; i < n && index == GTK_INVALID_LIST_POSITION; i++)
    if (g_str_equal (gtk_string_list_get_string (self->currencies, i), currency))
      index = i;
  if (index == GTK_INVALID_LIST_POSITION)
    {
      /* the current value is kept, even when it is not a common one */
      gtk_string_list_append (self->currencies, currency);
      index = n;
    }
  adw_combo_row_set_selected (self->currency_row, index);
}

static void
update_template_prices (EwPreferencesWindow *self)
{
  g_autoptr(GVariant) prices = g_settings_get_value (self->settings, "template-prices");
  guint digits = minor_digits (self);
  double scale = minor_per_major (digits);

  for (EwJobKind kind = 0; kind < EW_PRICE_N_JOB_KINDS; kind++)
    {
      gint64 minor = 0;

      g_variant_lookup (prices, ew_job_kind_to_string (kind), "x", &minor);
      gtk_spin_button_set_digits (self->template_spins[kind], digits);
      gtk_spin_button_set_value (self->template_spins[kind], (double) minor / scale);
      set_row_error (gtk_widget_get_ancestor (GTK_WIDGET (self->template_spins[kind]), ADW_TYPE_ACTION_ROW),
                     NULL);
    }
}

static void
update_bitrate (EwPreferencesWindow *self)
{
  guint bitrate = g_settings_get_uint (self->settings, "can-bitrate");

  for (guint i = 0; i < G_N_ELEMENTS (bitrates_bps); i++)
    if (bitrates_bps[i] == bitrate)
      adw_combo_row_set_selected (self->bitrate_row, i);
}

static void
on_settings_changed (GSettings *settings, const char *key, EwPreferencesWindow *self)
{
  self->is_updating = TRUE;
  if (g_str_equal (key, "garage-logo"))
    update_logo (self);
  else if (g_str_equal (key, "labour-rate"))
    {
      gtk_spin_button_set_value (self->labour_spin, g_settings_get_double (settings, "labour-rate"));
      set_row_error (GTK_WIDGET (self->labour_row), NULL);
    }
  else if (g_str_equal (key, "vat-percent"))
    {
      gtk_spin_button_set_value (self->vat_spin, g_settings_get_double (settings, "vat-percent"));
      set_row_error (GTK_WIDGET (self->vat_row), NULL);
    }
  else if (g_str_equal (key, "currency"))
    {
      update_currency (self);
      /* the fixed prices are in the currency's minor units */
      update_template_prices (self);
    }
  else if (g_str_equal (key, "template-prices"))
    update_template_prices (self);
  else if (g_str_equal (key, "can-bitrate"))
    update_bitrate (self);
  self->is_updating = FALSE;
}

/* ---- from the rows to the settings, checked ---- */

/* Whether the quote could be priced with these values. */
static gboolean
check_rates (EwPreferencesWindow *self, double labour_rate, double vat_percent, const char *currency,
             GError **error)
{
  EwPriceRates rates;

  return ew_price_rates_init (&rates, labour_rate, vat_percent, currency, error);
}

static void
on_labour_changed (EwPreferencesWindow *self)
{
  g_autofree char *currency = NULL;
  g_autoptr(GError) error = NULL;
  double value = gtk_spin_button_get_value (self->labour_spin);

  if (self->is_updating)
    return;
  currency = g_settings_get_string (self->settings, "currency");
  if (!check_rates (self, value, g_settings_get_double (self->settings, "vat-percent"), currency, &error))
    {
      set_row_error (GTK_WIDGET (self->labour_row), error->message);
      return;
    }
  set_row_error (GTK_WIDGET (self->labour_row), NULL);
  g_settings_set_double (self->settings, "labour-rate", value);
}

static void
on_vat_changed (EwPreferencesWindow *self)
{
  g_autofree char *currency = NULL;
  g_autoptr(GError) error = NULL;
  double value = gtk_spin_button_get_value (self->vat_spin);

  if (self->is_updating)
    return;
  currency = g_settings_get_string (self->settings, "currency");
  if (!check_rates (self, g_settings_get_double (self->settings, "labour-rate"), value, currency, &error))
    {
      set_row_error (GTK_WIDGET (self->vat_row), error->message);
      return;
    }
  set_row_error (GTK_WIDGET (self->vat_row), NULL);
  g_settings_set_double (self->settings, "vat-percent", value);
}

/* Stores currency when the quote can use it; else the row says why. */
static gboolean
store_currency (EwPreferencesWindow *self, const char *currency, GtkWidget *row)
{
  g_autoptr(GError) error = NULL;

  if (!check_rates (self, g_settings_get_double (self->settings, "labour-rate"),
                    g_settings_get_double (self->settings, "vat-percent"), currency, &error))
    {
      set_row_error (row, error->message);
      return FALSE;
    }
  set_row_error (row, NULL);
  g_settings_set_string (self->settings, "currency", currency);
  return TRUE;
}

static void
on_currency_selected (EwPreferencesWindow *self)
{
  guint index = adw_combo_row_get_selected (self->currency_row);

  if (self->is_updating || index >= g_list_model_get_n_items (G_LIST_MODEL (self->currencies)))
    return;
  store_currency (self, gtk_string_list_get_string (self->currencies, index), GTK_WIDGET (self->currency_row));
}

static void
on_other_currency_apply (EwPreferencesWindow *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->other_currency_row));
  g_autofree char *stripped = g_strstrip (g_strdup (text));
  g_autofree char *code = g_ascii_strup (stripped, -1);

  if (store_currency (self, code, GTK_WIDGET (self->other_currency_row)))
    gtk_editable_set_text (GTK_EDITABLE (self->other_currency_row), "");
}

static void
on_other_currency_changed (EwPreferencesWindow *self)
{
  /* typing again clears the last refusal */
  if (gtk_editable_get_text (GTK_EDITABLE (self->other_currency_row))[0] == '\0')
    set_row_error (GTK_WIDGET (self->other_currency_row), NULL);
}

static void
on_template_price_changed (GtkSpinButton *spin, EwPreferencesWindow *self)
{
  EwJobKind kind = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (spin), "ew-job-kind"));
  GtkWidget *row = gtk_widget_get_ancestor (GTK_WIDGET (spin), ADW_TYPE_ACTION_ROW);
  g_autoptr(GVariant) old = NULL;
  g_autofree char *currency = NULL;
  g_autoptr(GError) error = NULL;
  GVariantBuilder builder;
  GVariantIter iter;
  const char *name;
  gint64 value;
  gint64 minor;
  double major = gtk_spin_button_get_value (spin);
  EwPriceRates rates;

  if (self->is_updating)
    return;
  currency = g_settings_get_string (self->settings, "currency");
  ew_price_rates_init_default (&rates);
  rates.minor_digits = ew_currency_minor_digits (currency);
  /* half away from zero, as every price of a quote */
  major *= minor_per_major (rates.minor_digits);
  minor = major >= 0 ? (gint64) (major + 0.5) : -(gint64) (-major + 0.5);
  if (!ew_price_rates_set_template_price (&rates, ew_job_kind_to_string (kind), minor, &error))
    {
      set_row_error (row, error->message);
      return;
    }
  set_row_error (row, NULL);

  /* the other kinds as they are; this one replaced, or dropped at 0 */
  old = g_settings_get_value (self->settings, "template-prices");
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{sx}"));
  g_variant_iter_init (&iter, old);
  while (g_variant_iter_next (&iter, "{&sx}", &name, &value))
    if (!g_str_equal (name, ew_job_kind_to_string (kind)))
      g_variant_builder_add (&builder, "{sx}", name, value);
  if (minor > 0)
    g_variant_builder_add (&builder, "{sx}", ew_job_kind_to_string (kind), minor);
  g_settings_set_value (self->settings, "template-prices", g_variant_builder_end (&builder));
}

static void
on_bitrate_selected (EwPreferencesWindow *self)
{
  guint index = adw_combo_row_get_selected (self->bitrate_row);

  if (self->is_updating || index >= G_N_ELEMENTS (bitrates_bps))
    return;
  g_settings_set_uint (self->settings, "can-bitrate", bitrates_bps[index]);
}

/* ---- files ---- */

static void
on_logo_chosen (GtkNativeDialog *dialog, int response, gpointer user_data)
{
  EwPreferencesWindow *self = EW_PREFERENCES_WINDOW (user_data);
  g_autoptr(GFile) file = NULL;
  g_autofree char *path = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
  g_clear_object (&self->chooser);
  if (file == NULL)
    return;
  path = g_file_get_path (file);
  if (path == NULL)
    {
      adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self),
                                        adw_toast_new (_("The logo must be a file in a local folder")));
      return;
    }
  g_settings_set_string (self->settings, "garage-logo", path);
}

static void
choose_logo_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  EwPreferencesWindow *self = EW_PREFERENCES_WINDOW (widget);
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();

  if (self->chooser != NULL)
    return;
  self->chooser = gtk_file_chooser_native_new (_("Choose the Garage's Logo"), GTK_WINDOW (self),
                                               GTK_FILE_CHOOSER_ACTION_OPEN, _("_Choose"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  gtk_file_filter_set_name (filter, _("Images (PNG, JPEG, SVG)"));
  gtk_file_filter_add_mime_type (filter, "image/png");
  gtk_file_filter_add_mime_type (filter, "image/jpeg");
  gtk_file_filter_add_mime_type (filter, "image/svg+xml");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), filter);
  g_signal_connect (self->chooser, "response", G_CALLBACK (on_logo_chosen), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
remove_logo_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  g_settings_set_string (EW_PREFERENCES_WINDOW (widget)->settings, "garage-logo", "");
}

static void
on_plugin_folder_chosen (GtkNativeDialog *dialog, int response, gpointer user_data)
{
  EwPreferencesWindow *self = EW_PREFERENCES_WINDOW (user_data);
  g_autoptr(GFile) file = NULL;
  g_autofree char *path = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
  g_clear_object (&self->chooser);
  if (file != NULL && (path = g_file_get_path (file)) != NULL)
    g_settings_set_string (self->settings, "plugin-folder", path);
}

static void
choose_plugin_folder_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  EwPreferencesWindow *self = EW_PREFERENCES_WINDOW (widget);

  if (self->chooser != NULL)
    return;
  self->chooser = gtk_file_chooser_native_new (_("Choose the Plugin Folder"), GTK_WINDOW (self),
                                               GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _("_Choose"),
                                               _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  g_signal_connect (self->chooser, "response", G_CALLBACK (on_plugin_folder_chosen), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

/* ---- set-up ---- */

static void
add_template_rows (EwPreferencesWindow *self)
{
  for (EwJobKind kind = 0; kind < EW_PRICE_N_JOB_KINDS; kind++)
    {
      GtkWidget *row = adw_action_row_new ();
      GtkAdjustment *adjustment = gtk_adjustment_new (0, 0, 1000000, 1, 10, 0);
      GtkWidget *spin = gtk_spin_button_new (adjustment, 1, 2);
      /* TRANSLATORS: accessible name of a fixed price's spin button */
      g_autofree char *name = g_strdup_printf (_("Fixed price for: %s"), job_kind_title (kind));

      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), job_kind_title (kind));
      gtk_widget_set_valign (spin, GTK_ALIGN_CENTER);
      gtk_spin_button_set_numeric (GTK_SPIN_BUTTON (spin), TRUE);
      gtk_editable_set_width_chars (GTK_EDITABLE (spin), 9);
      gtk_accessible_update_property (GTK_ACCESSIBLE (spin), GTK_ACCESSIBLE_PROPERTY_LABEL, name, -1);
      g_object_set_data (G_OBJECT (spin), "ew-job-kind", GUINT_TO_POINTER (kind));
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), spin);
      adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), spin);
      adw_preferences_group_add (self->template_group, row);
      self->template_spins[kind] = GTK_SPIN_BUTTON (spin);
    }
}

static void
connect_rows (EwPreferencesWindow *self)
{
  self->is_updating = TRUE;
  g_settings_bind (self->settings, "garage-name", self->name_row, "text", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "garage-address", gtk_text_view_get_buffer (self->address_view), "text",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "default-link", self->default_link_row, "text", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "plugin-folder", self->plugin_row, "text", G_SETTINGS_BIND_DEFAULT);

  for (guint i = 0; common_currencies[i] != NULL; i++)
    gtk_string_list_append (self->currencies, common_currencies[i]);
  adw_combo_row_set_model (self->currency_row, G_LIST_MODEL (self->currencies));

  update_logo (self);
  gtk_spin_button_set_value (self->labour_spin, g_settings_get_double (self->settings, "labour-rate"));
  gtk_spin_button_set_value (self->vat_spin, g_settings_get_double (self->settings, "vat-percent"));
  update_currency (self);
  update_template_prices (self);
  update_bitrate (self);
  self->is_updating = FALSE;

  g_signal_connect_object (self->settings, "changed", G_CALLBACK (on_settings_changed), self, 0);
  g_signal_connect_swapped (self->labour_spin, "value-changed", G_CALLBACK (on_labour_changed), self);
  g_signal_connect_swapped (self->vat_spin, "value-changed", G_CALLBACK (on_vat_changed), self);
  g_signal_connect_swapped (self->currency_row, "notify::selected", G_CALLBACK (on_currency_selected), self);
  g_signal_connect_swapped (self->other_currency_row, "apply", G_CALLBACK (on_other_currency_apply), self);
  g_signal_connect_swapped (self->other_currency_row, "changed", G_CALLBACK (on_other_currency_changed), self);
  g_signal_connect_swapped (self->bitrate_row, "notify::selected", G_CALLBACK (on_bitrate_selected), self);
  for (EwJobKind kind = 0; kind < EW_PRICE_N_JOB_KINDS; kind++)
    g_signal_connect (self->template_spins[kind], "value-changed", G_CALLBACK (on_template_price_changed), self);
}

GtkWidget *
ew_preferences_window_new (GtkWindow *parent, GSettings *settings)
{
  EwPreferencesWindow *self;

  g_return_val_if_fail (parent == NULL || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);

  self = g_object_new (EW_TYPE_PREFERENCES_WINDOW, "transient-for", parent, NULL);
  self->settings = g_object_ref (settings);
  connect_rows (self);
  return GTK_WIDGET (self);
}

GtkSpinButton *
ew_preferences_window_get_template_spin (EwPreferencesWindow *self, const char *kind)
{
  EwJobKind k;

  g_return_val_if_fail (EW_IS_PREFERENCES_WINDOW (self), NULL);
  if (!ew_job_kind_from_string (kind, &k))
    return NULL;
  return self->template_spins[k];
}

static void
ew_preferences_window_dispose (GObject *object)
{
  EwPreferencesWindow *self = EW_PREFERENCES_WINDOW (object);

  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  if (self->settings != NULL)
    g_signal_handlers_disconnect_by_data (self->settings, self);
  g_clear_object (&self->settings);
  g_clear_object (&self->currencies);
  G_OBJECT_CLASS (ew_preferences_window_parent_class)->dispose (object);
}

static void
ew_preferences_window_class_init (EwPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ew_preferences_window_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/ecuworkshop/EcuWorkshop/ew-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, EwPreferencesWindow, name_row);
  gtk_widget_class_bind_template_child (widget_class, EwPreferencesWindow, address_view);
  gtk_widget_class_bind_template_child (widget_class, EwPreferencesWindow, logo_row);
  gtk_widget_class_bind_template_child (widget_class, EwPreferencesWindow, logo_picture);
  gtk_widget_class_bind_template_child (widget_class, EwPreferencesWindow, logo_remove_button);
  gtk_widget_class_bind_template_child (widget_class, EwPreferencesWindow, labour_row);
  gtk_widget_class_bind_template_child (widget_class, EwPreferencesWindow, labour_spin);
  gtk_widget_class_bind_template_child (widget_class, EwPreferencesWindow, vat_row);
  gtk_widget_class_bind_template_child (widget_class, EwPreferencesWindow, vat_spin);
  gtk_widget_class_bind_template_child (widget_class, EwPreferencesWindow, currency_row);
  gtk_widget_class_bind_template_child (widget_class, EwPreferencesWindow, other_currency_row);
  gtk_widget_class_bind_template_child (widget_class, EwPreferencesWindow, template_group);
  gtk_widget_class_bind_template_child (widget_class, EwPreferencesWindow, default_link_row);
  gtk_widget_class_bind_template_child (widget_class, EwPreferencesWindow, bitrate_row);
  gtk_widget_class_bind_template_child (widget_class, EwPreferencesWindow, plugin_row);

  gtk_widget_class_install_action (widget_class, "prefs.choose-logo", NULL, choose_logo_action);
  gtk_widget_class_install_action (widget_class, "prefs.remove-logo", NULL, remove_logo_action);
  gtk_widget_class_install_action (widget_class, "prefs.choose-plugin-folder", NULL, choose_plugin_folder_action);
}

/* libadwaita 1.2 gives the window's own search entry no name for screen
 * readers (only a placeholder); TRUE once it is named */
static gboolean
name_search_entry (GtkWidget *widget)
{
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      if (GTK_IS_SEARCH_ENTRY (child))
        {
          gtk_accessible_update_property (GTK_ACCESSIBLE (child), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                          _("Search preferences"), -1);
          return TRUE;
        }
      if (name_search_entry (child))
        return TRUE;
    }
  return FALSE;
}

static void
ew_preferences_window_init (EwPreferencesWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  name_search_entry (GTK_WIDGET (self));
  self->currencies = gtk_string_list_new (NULL);
  add_template_rows (self);
}
