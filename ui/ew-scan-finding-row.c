/* ew-scan-finding-row.c — one finding of the scan in plain language. */
#include "config.h"

#include <glib/gi18n.h>

#include "ew-scan-finding-row.h"

struct _EwScanFindingRow {
  AdwActionRow   parent_instance;

  GtkImage      *kind_icon;

  EwFindingKind  kind;
  char          *module_id;
};

G_DEFINE_FINAL_TYPE (EwScanFindingRow, ew_scan_finding_row, ADW_TYPE_ACTION_ROW)

guint
ew_scan_finding_kind_rank (EwFindingKind kind)
{
  switch (kind)
    {
    case EW_FINDING_VIN_MISMATCH:
    case EW_FINDING_BOOTLOADER:
    case EW_FINDING_IMMOBILISER_UNPAIRED:
      return 0;
    case EW_FINDING_NOT_ANSWERING:
      return 1;
    case EW_FINDING_SOFTWARE_BEHIND:
      return 2;
    case EW_FINDING_NOT_FITTED:
    default:
      return 3;
    }
}

static void
show_kind (EwScanFindingRow *self)
{
  const char *icon_name;
  const char *css_class;
  const char *description;

  switch (self->kind)
    {
    case EW_FINDING_VIN_MISMATCH:
      icon_name = "dialog-warning-symbolic";
      css_class = "warning";
      description = _("Module from another car");
      break;
    case EW_FINDING_BOOTLOADER:
      icon_name = "dialog-error-symbolic";
      css_class = "error";
      description = _("Module without working software");
      break;
    case EW_FINDING_NOT_ANSWERING:
      icon_name = "network-offline-symbolic";
      css_class = "warning";
      description = _("Module not answering");
      break;
    case EW_FINDING_IMMOBILISER_UNPAIRED:
      icon_name = "dialog-warning-symbolic";
      css_class = "warning";
      description = _("Engine unit not paired with the immobiliser");
      break;
    case EW_FINDING_SOFTWARE_BEHIND:
      icon_name = "software-update-available-symbolic";
      css_class = "accent";
      description = _("Software behind");
      break;
    case EW_FINDING_NOT_FITTED:
    default:
      icon_name = "dialog-information-symbolic";
      css_class = "dim-label";
      description = _("Optional module not fitted");
      break;
    }
  gtk_image_set_from_icon_name (self->kind_icon, icon_name);
  gtk_widget_add_css_class (GTK_WIDGET (self->kind_icon), css_class);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->kind_icon),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, description, -1);
}

GtkWidget *
ew_scan_finding_row_new (const EwScanFinding *finding)
{
  EwScanFindingRow *self;

  g_return_val_if_fail (finding != NULL, NULL);

  self = g_object_new (EW_TYPE_SCAN_FINDING_ROW,
                       "title", finding->title,
                       "subtitle", finding->explanation,
                       NULL);
  self->kind = finding->kind;
  self->module_id = g_strdup (finding->module ? finding->module->id : NULL);
  show_kind (self);
  return GTK_WIDGET (self);
}

EwFindingKind
ew_scan_finding_row_get_kind (EwScanFindingRow *self)
{
  g_return_val_if_fail (EW_IS_SCAN_FINDING_ROW (self), EW_FINDING_NOT_FITTED);
  return self->kind;
}

const char *
ew_scan_finding_row_get_module_id (EwScanFindingRow *self)
{
  g_return_val_if_fail (EW_IS_SCAN_FINDING_ROW (self), NULL);
  return self->module_id;
}

static void
ew_scan_finding_row_finalize (GObject *object)
{
  EwScanFindingRow *self = EW_SCAN_FINDING_ROW (object);

  g_free (self->module_id);
  G_OBJECT_CLASS (ew_scan_finding_row_parent_class)->finalize (object);
}

static void
ew_scan_finding_row_class_init (EwScanFindingRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = ew_scan_finding_row_finalize;
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/ecuworkshop/EcuWorkshop/ew-scan-finding-row.ui");
  gtk_widget_class_bind_template_child (widget_class, EwScanFindingRow, kind_icon);
}

static void
ew_scan_finding_row_init (EwScanFindingRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}
