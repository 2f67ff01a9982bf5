/* ew-vehicle-page.c — the Vehicle page: identify the car in the bay. */
#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "ew-vehicle-page.h"
#include "vehicle/vin-match.h"

#define VIN_LENGTH 17

struct _EwVehiclePage {
  GtkWidget          parent_instance;

  GtkWidget         *scroller;
  AdwEntryRow       *vin_row;
  GtkLabel          *status_label;
  GtkLabel          *manufacturer_label;
  GtkLabel          *vds_label;
  GtkLabel          *vis_label;
  GtkLabel          *check_label;
  GtkLabel          *year_label;
  AdwPreferencesGroup *family_group;
  GtkListBox        *family_list;

  EwVehicleDatabase *db;         /* borrowed */
  const EwWmiTable  *wmi_table;  /* borrowed */
  EwFamily          *family;     /* borrowed from db: the picked family */
  GtkCheckButton    *radio_group;
  gboolean           is_rebuilding;
};

G_DEFINE_FINAL_TYPE (EwVehiclePage, ew_vehicle_page, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_FAMILY_ID,
  PROP_VIN,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
set_status (EwVehiclePage *self, const char *text, gboolean is_error)
{
  gtk_label_set_label (self->status_label, text);
  if (is_error)
    {
      gtk_widget_remove_css_class (GTK_WIDGET (self->status_label), "dim-label");
      gtk_widget_add_css_class (GTK_WIDGET (self->status_label), "error");
      gtk_widget_add_css_class (GTK_WIDGET (self->vin_row), "error");
    }
  else
    {
      gtk_widget_remove_css_class (GTK_WIDGET (self->status_label), "error");
      gtk_widget_add_css_class (GTK_WIDGET (self->status_label), "dim-label");
      gtk_widget_remove_css_class (GTK_WIDGET (self->vin_row), "error");
    }
}

static void
clear_decoded (EwVehiclePage *self)
{
  gtk_label_set_label (self->manufacturer_label, "—");
  gtk_label_set_label (self->vds_label, "—");
  gtk_label_set_label (self->vis_label, "—");
  gtk_label_set_label (self->check_label, "—");
  gtk_label_set_label (self->year_label, "—");
}

/* Normalises what was typed the way ew_vin_decode() does: spaces and
 * hyphens dropped, upper case. */
static char *
normalise_vin (const char *text)
{
  GString *s = g_string_new (NULL);

  for (const char *p = text; *p != '\0'; p++)
    if (*p != ' ' && *p != '-' && *p != '\t')
      g_string_append_c (s, g_ascii_toupper (*p));
  return g_string_free (s, FALSE);
}

static void
set_family (EwVehiclePage *self, EwFamily *family)
{
  if (self->family == family)
    return;
  self->family = family;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FAMILY_ID]);
}

static void
on_family_toggled (GtkCheckButton *button, EwVehiclePage *self)
{
  if (self->is_rebuilding || !gtk_check_button_get_active (button))
    return;
  set_family (self, g_object_get_data (G_OBJECT (button), "ew-family"));
}

static char *
family_subtitle (const EwFamily *family)
{
  g_autoptr(GString) chassis = g_string_new (NULL);
  const char *provenance;

  for (guint i = 0; i < family->chassis->len; i++)
    {
      const EwChassis *c = g_ptr_array_index (family->chassis, i);
      g_string_append_printf (chassis, "%s%s", i ? ", " : "", c->code);
    }

  switch (family->provenance.provenance)
    {
    case EW_PROVENANCE_VERIFIED:
      provenance = _("verified data");
      break;
    case EW_PROVENANCE_COMMUNITY:
      provenance = _("community data");
      break;
    case EW_PROVENANCE_ILLUSTRATIVE:
    default:
      provenance = _("illustrative data, simulated cars only");
      break;
    }
  /* TRANSLATORS: chassis codes · years · how trustworthy the data is */
  return g_strdup_printf (_("%s · %u–%u · %s"), chassis->str,
                          family->years_from, family->years_to, provenance);
}

static void
add_family_row (EwVehiclePage *self, EwFamily *family, const char *tag)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *radio = gtk_check_button_new ();
  g_autofree char *title = g_strdup_printf ("%s %s", family->make, family->model);
  g_autofree char *subtitle = family_subtitle (family);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  gtk_widget_set_valign (radio, GTK_ALIGN_CENTER);
  gtk_accessible_update_property (GTK_ACCESSIBLE (radio),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, title, -1);
  g_object_set_data (G_OBJECT (radio), "ew-family", family);
  gtk_widget_set_name (row, family->id);

  if (self->radio_group == NULL)
    self->radio_group = GTK_CHECK_BUTTON (radio);
  else
    gtk_check_button_set_group (GTK_CHECK_BUTTON (radio), self->radio_group);

  if (family == self->family)
    gtk_check_button_set_active (GTK_CHECK_BUTTON (radio), TRUE);
  g_signal_connect (radio, "toggled", G_CALLBACK (on_family_toggled), self);

  adw_action_row_add_prefix (ADW_ACTION_ROW (row), radio);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), radio);

  if (tag != NULL)
    {
      GtkWidget *label = gtk_label_new (tag);

      gtk_widget_set_valign (label, GTK_ALIGN_CENTER);
      gtk_widget_add_css_class (label, "ew-tag");
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), label);
    }
  gtk_list_box_append (self->family_list, row);
}

static void
clear_family_list (EwVehiclePage *self)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->family_list))) != NULL)
    gtk_list_box_remove (self->family_list, child);
  self->radio_group = NULL;
}

/* Fills the family list: the VIN's candidates first, best first, then the
 * other families so that a wrong match can always be corrected by hand. */
static void
rebuild_family_list (EwVehiclePage *self, GPtrArray *candidates)
{
  GPtrArray *families;
  g_autoptr(GHashTable) listed = g_hash_table_new (NULL, NULL);

  self->is_rebuilding = TRUE;
  clear_family_list (self);

  if (candidates != NULL)
    for (guint i = 0; i < candidates->len; i++)
      {
        const EwVinCandidate *c = g_ptr_array_index (candidates, i);

        add_family_row (self, c->family, i == 0 ? _("Best match") : _("Matches"));
        g_hash_table_add (listed, c->family);
      }

  if (self->db != NULL)
    {
      families = ew_vehicle_database_get_families (self->db);
      for (guint i = 0; i < families->len; i++)
        {
          EwFamily *family = g_ptr_array_index (families, i);

          if (!g_hash_table_contains (listed, family))
            add_family_row (self, family, NULL);
        }
    }

  self->is_rebuilding = FALSE;

  if (candidates != NULL && candidates->len > 0)
    adw_preferences_group_set_description (self->family_group,
                                           _("Families matching this VIN come first, best first."));
  else if (candidates != NULL)
    adw_preferences_group_set_description (self->family_group,
                                           _("No known family matches this VIN. Pick the family by hand, or add the family's data."));
  else
    adw_preferences_group_set_description (self->family_group,
                                           _("Pick the family, or type a VIN to see the matching ones first."));
}

static const char *
check_text (EwVinCheck check)
{
  switch (check)
    {
    case EW_VIN_CHECK_VALID:
      return _("Valid");
    case EW_VIN_CHECK_INVALID:
      return _("Invalid: check the VIN for a typing error");
    case EW_VIN_CHECK_NOT_APPLICABLE:
    default:
      return _("Not used on this car");
    }
}

static void
show_manufacturer (EwVehiclePage *self, const char *wmi)
{
  const EwWmiEntry *entry = self->wmi_table ? ew_wmi_table_lookup (self->wmi_table, wmi) : NULL;

  if (entry != NULL)
    {
      g_autofree char *text = g_strdup_printf ("%s (%s)", entry->manufacturer, entry->country);
      gtk_label_set_label (self->manufacturer_label, text);
    }
  else
    gtk_label_set_label (self->manufacturer_label, _("Unknown manufacturer"));
}

static void
show_decoded (EwVehiclePage *self, const EwVin *vin, GPtrArray *candidates)
{
  const EwVinCandidate *best = candidates->len > 0 ? g_ptr_array_index (candidates, 0) : NULL;
  EwVinCheck check = best ? best->check : vin->check;
  g_autofree char *check_line = NULL;
  g_autofree char *year_line = NULL;

  show_manufacturer (self, vin->wmi);
  gtk_label_set_label (self->vds_label, vin->vds);
  gtk_label_set_label (self->vis_label, vin->vis);

  if (check == EW_VIN_CHECK_NOT_APPLICABLE)
    check_line = g_strdup (check_text (check));
  else
    /* TRANSLATORS: "Valid (9)" or "Invalid: … (expected 7)" */
    check_line = g_strdup_printf (_("%s (computed %c)"), check_text (check), vin->expected_check_digit);
  gtk_label_set_label (self->check_label, check_line);

  if (vin->model_year != 0)
    year_line = g_strdup_printf ("%u", vin->model_year);
  else if (best != NULL && best->family->has_year_code && vin->year_code_years[0] != 0)
    year_line = best->years_from == best->years_to
      ? g_strdup_printf ("%u", best->years_from)
      /* TRANSLATORS: two possible model years */
      : g_strdup_printf (_("%u or %u"), vin->year_code_years[0], vin->year_code_years[1]);
  else if (best != NULL)
    /* TRANSLATORS: the make does not encode the year; the family's years */
    year_line = g_strdup_printf (_("Not encoded; family built %u–%u"), best->years_from, best->years_to);
  else if (vin->year_code_years[0] != 0)
    year_line = g_strdup_printf (_("%u or %u, if the make encodes it"),
                                 vin->year_code_years[0], vin->year_code_years[1]);
  else
    year_line = g_strdup (_("Not encoded"));
  gtk_label_set_label (self->year_label, year_line);
}

/* Finds the first character no VIN may hold (ISO 3779: letters I, O, Q
 * never; only A–Z and 0–9), so the technician sees a typo while typing. */
static gboolean
check_partial_vin (const char *vin, GError **error)
{
  for (guint i = 0; vin[i] != '\0'; i++)
    {
      char c = vin[i];

      if (c == 'I' || c == 'O' || c == 'Q')
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       /* TRANSLATORS: %u is a position 1–17, %c a letter */
                       _("Position %u: the letter %c is never used in a VIN. Did you mean %c?"),
                       i + 1, c, c == 'I' ? '1' : '0');
          return FALSE;
        }
      if (!g_ascii_isalnum (c))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       _("Position %u: a VIN holds only letters and digits."), i + 1);
          return FALSE;
        }
    }
  return TRUE;
}

static void
update_vin (EwVehiclePage *self)
{
  g_autofree char *vin_text = normalise_vin (gtk_editable_get_text (GTK_EDITABLE (self->vin_row)));
  gsize length = strlen (vin_text);
  g_autoptr(GError) error = NULL;
  g_autoptr(EwVin) vin = NULL;
  g_autoptr(GPtrArray) candidates = NULL;

  clear_decoded (self);

  if (length == 0)
    {
      set_status (self, _("A VIN has 17 characters."), FALSE);
      rebuild_family_list (self, NULL);
      return;
    }

  if (!check_partial_vin (vin_text, &error))
    {
      set_status (self, error->message, TRUE);
      return;
    }

  if (length >= 3)
    {
      char wmi[4] = { vin_text[0], vin_text[1], vin_text[2], 0 };
      show_manufacturer (self, wmi);
    }

  if (length < VIN_LENGTH)
    {
      /* TRANSLATORS: progress while typing a VIN */
      g_autofree char *text = g_strdup_printf (_("%u of 17 characters"), (guint) length);
      set_status (self, text, FALSE);
      return;
    }
  if (length > VIN_LENGTH)
    {
      g_autofree char *text = g_strdup_printf (_("Too long: %u characters, a VIN has 17."), (guint) length);
      set_status (self, text, TRUE);
      return;
    }

  vin = ew_vin_decode (vin_text, self->wmi_table, FALSE, &error);
  if (vin == NULL)
    {
      set_status (self, error->message, TRUE);
      return;
    }

  candidates = self->db ? ew_vin_match_families (vin, self->db)
                        : g_ptr_array_new_with_free_func (g_free);
  show_decoded (self, vin, candidates);

  if (candidates->len > 0)
    {
      const EwVinCandidate *best = g_ptr_array_index (candidates, 0);
      /* TRANSLATORS: "Decoded: BMW 3 Series" */
      g_autofree char *text = g_strdup_printf (_("Decoded: %s %s"), best->family->make, best->family->model);

      set_status (self, text, best->check == EW_VIN_CHECK_INVALID);
      self->family = best->family; /* notified below, after the rows exist */
    }
  else
    set_status (self, _("Decoded, but no known vehicle family matches this VIN."), FALSE);

  rebuild_family_list (self, candidates);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FAMILY_ID]);
}

static void
on_vin_changed (EwVehiclePage *self)
{
  update_vin (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_VIN]);
}

void
ew_vehicle_page_set_data (EwVehiclePage     *self,
                          EwVehicleDatabase *db,
                          const EwWmiTable  *wmi_table)
{
  g_return_if_fail (EW_IS_VEHICLE_PAGE (self));

  self->db = db;
  self->wmi_table = wmi_table;
  self->family = NULL;
  update_vin (self);
}

void
ew_vehicle_page_set_vin (EwVehiclePage *self, const char *vin)
{
  g_return_if_fail (EW_IS_VEHICLE_PAGE (self));
  gtk_editable_set_text (GTK_EDITABLE (self->vin_row), vin ? vin : "");
}

EwFamily *
ew_vehicle_page_get_family (EwVehiclePage *self)
{
  g_return_val_if_fail (EW_IS_VEHICLE_PAGE (self), NULL);
  return self->family;
}

void
ew_vehicle_page_select_family (EwVehiclePage *self, const char *family_id)
{
  EwFamily *family;

  g_return_if_fail (EW_IS_VEHICLE_PAGE (self));

  family = (self->db && family_id) ? ew_vehicle_database_find_family (self->db, family_id) : NULL;
  for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->family_list));
       row != NULL; row = gtk_widget_get_next_sibling (row))
    if (family != NULL && g_strcmp0 (gtk_widget_get_name (row), family->id) == 0)
      gtk_widget_activate (row);
  set_family (self, family);
}

static void
ew_vehicle_page_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  EwVehiclePage *self = EW_VEHICLE_PAGE (object);

  switch (prop_id)
    {
    case PROP_FAMILY_ID:
      g_value_set_string (value, self->family ? self->family->id : NULL);
      break;
    case PROP_VIN:
      g_value_set_string (value, gtk_editable_get_text (GTK_EDITABLE (self->vin_row)));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ew_vehicle_page_dispose (GObject *object)
{
  EwVehiclePage *self = EW_VEHICLE_PAGE (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), EW_TYPE_VEHICLE_PAGE);
  G_OBJECT_CLASS (ew_vehicle_page_parent_class)->dispose (object);
}

static void
ew_vehicle_page_class_init (EwVehiclePageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->get_property = ew_vehicle_page_get_property;
  object_class->dispose = ew_vehicle_page_dispose;

  properties[PROP_FAMILY_ID] =
    g_param_spec_string ("family-id", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_VIN] =
    g_param_spec_string ("vin", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/ecuworkshop/EcuWorkshop/ew-vehicle-page.ui");
  gtk_widget_class_bind_template_child (widget_class, EwVehiclePage, scroller);
  gtk_widget_class_bind_template_child (widget_class, EwVehiclePage, vin_row);
  gtk_widget_class_bind_template_child (widget_class, EwVehiclePage, status_label);
  gtk_widget_class_bind_template_child (widget_class, EwVehiclePage, manufacturer_label);
  gtk_widget_class_bind_template_child (widget_class, EwVehiclePage, vds_label);
  gtk_widget_class_bind_template_child (widget_class, EwVehiclePage, vis_label);
  gtk_widget_class_bind_template_child (widget_class, EwVehiclePage, check_label);
  gtk_widget_class_bind_template_child (widget_class, EwVehiclePage, year_label);
  gtk_widget_class_bind_template_child (widget_class, EwVehiclePage, family_group);
  gtk_widget_class_bind_template_child (widget_class, EwVehiclePage, family_list);
  gtk_widget_class_bind_template_callback (widget_class, on_vin_changed);
}

static void
ew_vehicle_page_init (EwVehiclePage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}
