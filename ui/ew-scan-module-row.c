/* ew-scan-module-row.c — one module of the car in the scan. */
#include "config.h"

#include <glib/gi18n.h>

#include "ew-scan-module-row.h"
#include "connect/supply-voltage.h"

struct _EwScanModuleRow {
  AdwActionRow       parent_instance;

  GtkStack          *state_stack;
  GtkImage          *state_icon;
  GtkLabel          *state_label;

  const EwModule    *module;      /* borrowed from the family */
  EwScanModuleState  state;
  gboolean           is_final;
};

G_DEFINE_FINAL_TYPE (EwScanModuleRow, ew_scan_module_row, ADW_TYPE_ACTION_ROW)

static const char *state_classes[] = { "success", "warning", "error", "dim-label" };

static void
set_state_look (EwScanModuleRow *self,
                const char      *text,
                const char      *icon_name,
                const char      *css_class)
{
  GtkWidget *label = GTK_WIDGET (self->state_label);

  gtk_label_set_label (self->state_label, text);
  for (guint i = 0; i < G_N_ELEMENTS (state_classes); i++)
    gtk_widget_remove_css_class (label, state_classes[i]);
  gtk_widget_remove_css_class (GTK_WIDGET (self->state_icon), "warning");
  gtk_widget_remove_css_class (GTK_WIDGET (self->state_icon), "error");
  gtk_widget_remove_css_class (GTK_WIDGET (self->state_icon), "success");
  if (css_class != NULL)
    {
      gtk_widget_add_css_class (label, css_class);
      if (g_strcmp0 (css_class, "dim-label") != 0)
        gtk_widget_add_css_class (GTK_WIDGET (self->state_icon), css_class);
    }

  if (icon_name == NULL)
    gtk_stack_set_visible_child_name (self->state_stack, "waiting");
  else
    {
      gtk_image_set_from_icon_name (self->state_icon, icon_name);
      gtk_accessible_update_property (GTK_ACCESSIBLE (self->state_icon),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, text, -1);
      gtk_stack_set_visible_child_name (self->state_stack, "done");
    }
}

/* "Part 1234 · software 17.07.50", with what is known */
static char *
identification_line (const EwScanModule *scanned)
{
  if (scanned->part_number != NULL && scanned->software_version != NULL)
    /* TRANSLATORS: a module's part number and software level */
    return g_strdup_printf (_("Part %s · software %s"), scanned->part_number,
                            scanned->software_version);
  if (scanned->part_number != NULL)
    return g_strdup_printf (_("Part %s"), scanned->part_number);
  if (scanned->software_version != NULL)
    return g_strdup_printf (_("Software %s"), scanned->software_version);
  return g_strdup (_("It did not name its part number or software"));
}

void
ew_scan_module_row_update (EwScanModuleRow    *self,
                           const EwScanModule *scanned,
                           const char         *car_vin)
{
  g_autoptr(GString) subtitle = g_string_new (NULL);
  g_autofree char *line = NULL;
  gboolean is_foreign;

  g_return_if_fail (EW_IS_SCAN_MODULE_ROW (self));
  g_return_if_fail (scanned != NULL);

  self->state = scanned->state;
  self->is_final = scanned->state != EW_SCAN_MODULE_WAITING;
  is_foreign = car_vin != NULL && scanned->vin != NULL && g_strcmp0 (car_vin, scanned->vin) != 0;

  switch (scanned->state)
    {
    case EW_SCAN_MODULE_WAITING:
      set_state_look (self, _("Waiting"), NULL, "dim-label");
      g_string_append (subtitle, _("Asking for its identification…"));
      break;

    case EW_SCAN_MODULE_ANSWERED:
    case EW_SCAN_MODULE_BOOTLOADER:
      if (scanned->state == EW_SCAN_MODULE_BOOTLOADER)
        set_state_look (self, _("Bootloader"), "dialog-error-symbolic", "error");
      else if (is_foreign)
        set_state_look (self, _("Answered"), "dialog-warning-symbolic", "warning");
      else
        set_state_look (self, _("Answered"), "emblem-ok-symbolic", "success");
      line = identification_line (scanned);
      g_string_append (subtitle, line);
      if (scanned->supply_voltage_mv != 0)
        {
          g_autofree char *volts = ew_supply_voltage_format (scanned->supply_voltage_mv);

          /* TRANSLATORS: the voltage the module measures at its supply pin */
          g_string_append_printf (subtitle, _(" · supply %s"), volts);
        }
      if (is_foreign)
        {
          g_string_append_c (subtitle, '\n');
          /* TRANSLATORS: the VIN stored in a module that is not this car's */
          g_string_append_printf (subtitle, _("Holds VIN %s: from another car"), scanned->vin);
        }
      break;

    case EW_SCAN_MODULE_SILENT:
      if (self->module->is_optional)
        {
          set_state_look (self, _("Not fitted"), "dialog-information-symbolic", "dim-label");
          g_string_append (subtitle, _("No answer; this module is optional and may not be fitted"));
        }
      else
        {
          set_state_look (self, _("No answer"), "network-offline-symbolic", "warning");
          g_string_append (subtitle, scanned->error_message ? scanned->error_message
                                                           : _("No answer in time"));
        }
      break;

    case EW_SCAN_MODULE_FAILED:
    default:
      set_state_look (self, _("Failed"), "dialog-error-symbolic", "error");
      g_string_append (subtitle, scanned->error_message ? scanned->error_message
                                                       : _("It answered, but not to identification requests"));
      break;
    }

  adw_action_row_set_subtitle (ADW_ACTION_ROW (self), subtitle->str);
}

void
ew_scan_module_row_stop (EwScanModuleRow *self)
{
  g_return_if_fail (EW_IS_SCAN_MODULE_ROW (self));

  if (self->is_final)
    return;
  self->is_final = TRUE;
  set_state_look (self, _("Not asked"), "dialog-information-symbolic", "dim-label");
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self), _("The scan ended before this module was asked"));
}

const EwModule *
ew_scan_module_row_get_module (EwScanModuleRow *self)
{
  g_return_val_if_fail (EW_IS_SCAN_MODULE_ROW (self), NULL);
  return self->module;
}

EwScanModuleState
ew_scan_module_row_get_state (EwScanModuleRow *self)
{
  g_return_val_if_fail (EW_IS_SCAN_MODULE_ROW (self), EW_SCAN_MODULE_WAITING);
  return self->state;
}

gboolean
ew_scan_module_row_is_final (EwScanModuleRow *self)
{
  g_return_val_if_fail (EW_IS_SCAN_MODULE_ROW (self), FALSE);
  return self->is_final;
}

GtkWidget *
ew_scan_module_row_new (const EwModule *module)
{
  EwScanModuleRow *self;

  g_return_val_if_fail (module != NULL, NULL);

  self = g_object_new (EW_TYPE_SCAN_MODULE_ROW, "title", module->name, NULL);
  self->module = module;
  gtk_widget_set_name (GTK_WIDGET (self), module->id);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self), _("Waiting to be asked"));
  return GTK_WIDGET (self);
}

static void
ew_scan_module_row_class_init (EwScanModuleRowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/ecuworkshop/EcuWorkshop/ew-scan-module-row.ui");
  gtk_widget_class_bind_template_child (widget_class, EwScanModuleRow, state_stack);
  gtk_widget_class_bind_template_child (widget_class, EwScanModuleRow, state_icon);
  gtk_widget_class_bind_template_child (widget_class, EwScanModuleRow, state_label);
}

static void
ew_scan_module_row_init (EwScanModuleRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}
