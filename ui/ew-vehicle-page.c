/* ew-vehicle-page.c — the Vehicle page: identify the car in the bay. */
#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "ew-vehicle-page.h"
#include "ew-link-dialog.h"
#include "ew-scan-finding-row.h"
#include "ew-scan-module-row.h"
#include "connect/connection.h"
#include "scan/scan.h"
#include "vehicle/vin-match.h"

#define VIN_LENGTH 17

typedef struct _ScanJob ScanJob;

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
  AdwToastOverlay   *toast_overlay;
  AdwActionRow      *link_row;
  GtkImage          *link_icon;
  GtkWidget         *scan_button;
  GtkWidget         *cancel_button;
  GtkProgressBar    *scan_progress;
  GtkLabel          *scan_status_label;
  GtkWidget         *scan_error_box;
  GtkLabel          *scan_error_label;
  GtkWidget         *result_group;
  AdwActionRow      *car_row;
  GtkWidget         *simulated_label;
  GtkListBox        *finding_list;
  GtkWidget         *no_findings_label;
  GtkWidget         *module_group;
  GtkListBox        *module_list;

  char              *link;       /* the link URI scans use */
  char              *vin;        /* the complete VIN typed or read, or NULL */
  ScanJob           *scan_job;   /* the running scan, or NULL */
  GHashTable        *module_rows; /* const EwModule* → EwScanModuleRow */

  EwVehicleDatabase *db;         /* borrowed */
  EwCarLink         *car_link;   /* nullable */
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
  PROP_LINK,
  PROP_IS_SCANNING,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SIGNAL_CAR_SCANNED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

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
  g_clear_pointer (&self->vin, g_free);

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

  self->vin = g_strdup (vin_text);
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

/* The scan: the engine runs in a worker thread; what it reports travels
 * through a queue to the main thread, in order, and only there touches
 * widgets. */

typedef enum {
  SCAN_UPDATE_FAMILY,
  SCAN_UPDATE_MODULE,
} ScanUpdateKind;

typedef struct {
  ScanUpdateKind  kind;
  EwFamily       *family;      /* SCAN_UPDATE_FAMILY: owned ref */
  EwScanModule   *module;      /* SCAN_UPDATE_MODULE: owned copy */
  guint           n_done;
  guint           n_total;
} ScanUpdate;

struct _ScanJob {
  EwVehiclePage     *page;         /* owned; read on the main thread only */
  char              *link;
  EwCarLink         *car_link;
  GCancellable      *cancellable;
  GMainContext      *context;      /* the page's, where updates go */
  GAsyncQueue       *updates;      /* ScanUpdate */
};

static void
scan_update_free (ScanUpdate *update)
{
  g_clear_pointer (&update->family, ew_family_unref);
  g_clear_pointer (&update->module, ew_scan_module_free);
  g_free (update);
}

static void
scan_job_clear (ScanJob *job)
{
  g_object_unref (job->page);
  g_free (job->link);
  ew_car_link_unref (job->car_link);
  g_object_unref (job->cancellable);
  g_main_context_unref (job->context);
  g_async_queue_unref (job->updates);
}

static ScanJob *
scan_job_ref (ScanJob *job)
{
  return g_atomic_rc_box_acquire (job);
}

static void
scan_job_unref (ScanJob *job)
{
  g_atomic_rc_box_release_full (job, (GDestroyNotify) scan_job_clear);
}

static void
clear_module_rows (EwVehiclePage *self)
{
  GtkWidget *child;

  g_hash_table_remove_all (self->module_rows);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->module_list))) != NULL)
    gtk_list_box_remove (self->module_list, child);
}

/* One row per module of the family, in the family's order. */
static void
show_module_rows (EwVehiclePage *self, EwFamily *family)
{
  clear_module_rows (self);
  for (guint i = 0; i < family->modules->len; i++)
    {
      const EwModule *module = g_ptr_array_index (family->modules, i);
      GtkWidget *row = ew_scan_module_row_new (module);

      g_hash_table_insert (self->module_rows, (gpointer) module, row);
      gtk_list_box_append (self->module_list, row);
    }
  gtk_widget_set_visible (self->module_group, TRUE);
}

static void
apply_update (EwVehiclePage *self, ScanUpdate *update)
{
  EwScanModuleRow *row;
  g_autofree char *text = NULL;

  switch (update->kind)
    {
    case SCAN_UPDATE_FAMILY:
      show_module_rows (self, update->family);
      break;

    case SCAN_UPDATE_MODULE:
      row = g_hash_table_lookup (self->module_rows, update->module->module);
      if (row != NULL)
        ew_scan_module_row_update (row, update->module, NULL);
      if (update->n_total > 0)
        gtk_progress_bar_set_fraction (self->scan_progress,
                                       (double) update->n_done / update->n_total);
      /* TRANSLATORS: progress of the scan, e.g. "4 of 11 modules done" */
      text = g_strdup_printf (_("%u of %u modules done…"), update->n_done, update->n_total);
      gtk_label_set_label (self->scan_status_label, text);
      break;

    default:
      g_assert_not_reached ();
    }
}

/* Main thread: applies what the worker queued, unless the scan it belongs
 * to is no longer the page's (cancelled and replaced, or page gone). */
static void
drain_updates (ScanJob *job)
{
  ScanUpdate *update;

  while ((update = g_async_queue_try_pop (job->updates)) != NULL)
    {
      if (job->page->scan_job == job)
        apply_update (job->page, update);
      scan_update_free (update);
    }
}

static gboolean
drain_updates_cb (gpointer data)
{
  drain_updates (data);
  return G_SOURCE_REMOVE;
}

/* Worker thread. */
static void
push_update (ScanJob *job, ScanUpdate *update)
{
  g_async_queue_push (job->updates, update);
  g_main_context_invoke_full (job->context, G_PRIORITY_DEFAULT, drain_updates_cb,
                              scan_job_ref (job), (GDestroyNotify) scan_job_unref);
}

/* Worker thread: the engine's progress, one call at a time. */
static void
on_scan_progress (const EwScanModule *module,
                  guint               n_done,
                  guint               n_total,
                  gpointer            user_data)
{
  ScanUpdate *update = g_new0 (ScanUpdate, 1);

  update->kind = SCAN_UPDATE_MODULE;
  update->module = ew_scan_module_copy (module);
  update->n_done = n_done;
  update->n_total = n_total;
  push_update (user_data, update);
}

static void
scan_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  ScanJob *job = task_data;
  EwConnection *connection;
  g_autoptr(GError) error = NULL;
  EwScanResult *result;
  EwFamily *family;

  connection = ew_car_link_acquire (job->car_link, job->link, cancellable, &error);
  if (connection == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  family = ew_connection_get_family (connection);
  if (family != NULL)
    {
      ScanUpdate *update = g_new0 (ScanUpdate, 1);

      update->kind = SCAN_UPDATE_FAMILY;
      update->family = ew_family_ref (family);
      push_update (job, update);
    }

  result = ew_scan_run (connection, 0, on_scan_progress, job, cancellable, &error);
  /* a link that failed is opened anew by the next scan; a simulated car
   * keeps what was done to it */
  if (result == NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
      && ew_connection_get_sim_vehicle (connection) == NULL)
    ew_car_link_forget (job->car_link, connection);
  ew_car_link_release (job->car_link, connection);
  if (result == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, result, (GDestroyNotify) ew_scan_result_free);
}

static void
set_scanning (EwVehiclePage *self, gboolean is_scanning)
{
  gtk_widget_set_visible (self->scan_button, !is_scanning);
  gtk_widget_set_visible (self->cancel_button, is_scanning);
  gtk_widget_set_visible (GTK_WIDGET (self->scan_progress), is_scanning);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "vehicle.scan",
                                 !is_scanning && self->link != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "vehicle.cancel-scan", is_scanning);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IS_SCANNING]);
}

static void
show_toast (EwVehiclePage *self, const char *title)
{
  AdwToast *toast = adw_toast_new (title);

  adw_toast_set_timeout (toast, 5);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

static void
stop_module_rows (EwVehiclePage *self)
{
  GHashTableIter iter;
  gpointer row;

  g_hash_table_iter_init (&iter, self->module_rows);
  while (g_hash_table_iter_next (&iter, NULL, &row))
    ew_scan_module_row_stop (row);
}

static int
compare_findings (gconstpointer a, gconstpointer b)
{
  const EwScanFinding *fa = *(const EwScanFinding * const *) a;
  const EwScanFinding *fb = *(const EwScanFinding * const *) b;

  return (int) ew_scan_finding_kind_rank (fa->kind) - (int) ew_scan_finding_kind_rank (fb->kind);
}

static void
show_findings (EwVehiclePage *self, EwScanResult *result)
{
  g_autoptr(GPtrArray) sorted = g_ptr_array_new ();
  GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->finding_list));

  /* the placeholder is the list's child too, but not a row: it stays */
  while (child != NULL)
    {
      GtkWidget *next = gtk_widget_get_next_sibling (child);

      if (GTK_IS_LIST_BOX_ROW (child))
        gtk_list_box_remove (self->finding_list, child);
      child = next;
    }

  /* problems first; g_ptr_array_sort is stable, so the scan's own order
   * (the family's module order) holds within a rank */
  for (guint i = 0; i < result->findings->len; i++)
    g_ptr_array_add (sorted, g_ptr_array_index (result->findings, i));
  g_ptr_array_sort (sorted, compare_findings);
  for (guint i = 0; i < sorted->len; i++)
    {
      const EwScanFinding *finding = g_ptr_array_index (sorted, i);
      GtkWidget *row = ew_scan_finding_row_new (finding);

      /* the findings that call for programming lead to the job (the
       * window's Programming page) */
      if (finding->module != NULL &&
          (finding->kind == EW_FINDING_VIN_MISMATCH || finding->kind == EW_FINDING_BOOTLOADER))
        {
          GtkWidget *button = gtk_button_new_with_mnemonic (_("_Program…"));
          g_autofree char *target = g_strdup_printf ("%s:%s", finding->kind == EW_FINDING_BOOTLOADER
                                                              ? "bootloader" : "vin-mismatch",
                                                     finding->module->id);

          gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
          gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "window.program-finding");
          gtk_actionable_set_action_target_value (GTK_ACTIONABLE (button), g_variant_new_string (target));
          gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                          finding->title, -1);
          gtk_widget_set_tooltip_text (button, _("Open the programming job for this module"));
          adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
        }
      gtk_list_box_append (self->finding_list, row);
    }
}

static void
show_result (EwVehiclePage *self, EwScanResult *result)
{
  g_autofree char *title = g_strdup_printf ("%s %s", result->family->make, result->family->model);
  g_autofree char *subtitle = NULL;
  g_autofree char *status = NULL;

  if (g_hash_table_size (self->module_rows) != result->modules->len)
    show_module_rows (self, result->family);
  for (guint i = 0; i < result->modules->len; i++)
    {
      const EwScanModule *m = g_ptr_array_index (result->modules, i);
      EwScanModuleRow *row = g_hash_table_lookup (self->module_rows, m->module);

      if (row != NULL)
        ew_scan_module_row_update (row, m, result->vin);
    }

  if (result->vin != NULL)
    /* TRANSLATORS: the VIN read from the car, the number of modules, seconds */
    subtitle = g_strdup_printf (_("VIN %s, read from the car · %u modules asked in %.2f s"),
                                result->vin, result->modules->len, result->duration_ms / 1000.0);
  else
    subtitle = g_strdup_printf (_("No module told the car's VIN · %u modules asked in %.2f s"),
                                result->modules->len, result->duration_ms / 1000.0);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->car_row), title);
  adw_action_row_set_subtitle (self->car_row, subtitle);
  gtk_widget_set_visible (self->simulated_label, result->is_simulated);
  show_findings (self, result);
  gtk_widget_set_visible (self->result_group, TRUE);

  if (result->findings->len == 0)
    status = g_strdup (_("Scan finished."));
  else
    status = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                           "Scan finished with %u finding.",
                                           "Scan finished with %u findings.",
                                           result->findings->len),
                              result->findings->len);
  gtk_label_set_label (self->scan_status_label, status);

  /* the car identifies itself: the VIN entry and the family follow it */
  if (result->vin != NULL && g_strcmp0 (result->vin, self->vin) != 0)
    ew_vehicle_page_set_vin (self, result->vin);
  if (self->family == NULL || g_strcmp0 (self->family->id, result->family->id) != 0)
    ew_vehicle_page_select_family (self, result->family->id);
}

static void
on_scan_done (GObject      *source_object,
              GAsyncResult *res,
              gpointer      user_data)
{
  EwVehiclePage *self = EW_VEHICLE_PAGE (source_object);
  ScanJob *job = g_task_get_task_data (G_TASK (res));
  g_autoptr(GError) error = NULL;
  g_autoptr(EwScanResult) result = g_task_propagate_pointer (G_TASK (res), &error);
  g_autofree char *link = NULL;

  if (job != self->scan_job)
    return;
  link = g_strdup (job->link);   /* the page's link may have changed meanwhile */
  drain_updates (job);
  g_clear_pointer (&self->scan_job, scan_job_unref);
  set_scanning (self, FALSE);

  if (result == NULL)
    {
      stop_module_rows (self);
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          gtk_label_set_label (self->scan_status_label, _("Scan cancelled."));
          show_toast (self, _("Scan cancelled"));
          return;
        }
      gtk_widget_set_visible (GTK_WIDGET (self->scan_status_label), FALSE);
      gtk_label_set_label (self->scan_error_label, error->message);
      gtk_widget_set_visible (self->scan_error_box, TRUE);
      show_toast (self, _("The scan failed"));
      return;
    }

  show_result (self, result);
  g_signal_emit (self, signals[SIGNAL_CAR_SCANNED], 0, link);
}

static void
start_scan (EwVehiclePage *self)
{
  g_autoptr(GTask) task = NULL;
  g_autofree char *status = NULL;
  ScanJob *job;

  if (self->scan_job != NULL || self->link == NULL || self->car_link == NULL)
    return;

  job = g_atomic_rc_box_new0 (ScanJob);
  job->page = g_object_ref (self);
  job->link = g_strdup (self->link);
  job->car_link = ew_car_link_ref (self->car_link);
  job->cancellable = g_cancellable_new ();
  job->context = g_main_context_ref_thread_default ();
  job->updates = g_async_queue_new_full ((GDestroyNotify) scan_update_free);
  self->scan_job = job;

  gtk_widget_set_visible (self->scan_error_box, FALSE);
  gtk_widget_set_visible (self->result_group, FALSE);
  gtk_widget_set_visible (self->module_group, FALSE);
  clear_module_rows (self);
  gtk_progress_bar_set_fraction (self->scan_progress, 0.0);
  /* TRANSLATORS: %s is the link URI */
  status = g_strdup_printf (_("Connecting to %s…"), self->link);
  gtk_label_set_label (self->scan_status_label, status);
  gtk_widget_set_visible (GTK_WIDGET (self->scan_status_label), TRUE);
  set_scanning (self, TRUE);

  task = g_task_new (self, job->cancellable, on_scan_done, NULL);
  g_task_set_source_tag (task, start_scan);
  g_task_set_task_data (task, scan_job_ref (job), (GDestroyNotify) scan_job_unref);
  g_task_run_in_thread (task, scan_thread);
}

static void
scan_activated (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  start_scan (EW_VEHICLE_PAGE (widget));
}

static void
cancel_scan_activated (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  EwVehiclePage *self = EW_VEHICLE_PAGE (widget);

  if (self->scan_job != NULL)
    g_cancellable_cancel (self->scan_job->cancellable);
}

static void
on_link_chosen (EwLinkDialog *dialog, const char *uri, EwVehiclePage *self)
{
  ew_vehicle_page_set_link (self, uri);
}

/* "Change…": the technician picks the link in the Connect dialog. */
static void
choose_link_activated (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  EwVehiclePage *self = EW_VEHICLE_PAGE (widget);
  GtkRoot *root = gtk_widget_get_root (widget);
  EwLinkDialog *dialog;

  if (self->db == NULL)
    return;
  dialog = ew_link_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, self->db, self->link);
  g_signal_connect_object (dialog, "link-chosen", G_CALLBACK (on_link_chosen), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* Says in the garage's words what the link is. */
static void
show_link (EwVehiclePage *self)
{
  g_autofree char *title = NULL;
  const char *icon_name = "network-wired-symbolic";
  const char *uri = self->link;

  if (uri == NULL)
    {
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->link_row), _("No link to a car"));
      adw_action_row_set_subtitle (self->link_row,
                                   _("Start ECU Workshop with --link, or set the default link."));
      gtk_image_set_from_icon_name (self->link_icon, icon_name);
      return;
    }

  if (g_str_has_prefix (uri, "sim:"))
    {
      g_autofree char *family_id = g_strndup (uri + 4, strcspn (uri + 4, "?"));
      EwFamily *family = self->db ? ew_vehicle_database_find_family (self->db, family_id) : NULL;

      icon_name = "computer-symbolic";
      if (family != NULL)
        /* TRANSLATORS: "Simulated car: BMW 3 Series" */
        title = g_strdup_printf (_("Simulated car: %s %s"), family->make, family->model);
      else
        title = g_strdup (_("Simulated car"));
    }
  else if (g_str_has_prefix (uri, "doip:"))
    {
      icon_name = "network-wired-symbolic";
      title = g_strdup (_("Car on the network (DoIP)"));
    }
  else if (g_str_has_prefix (uri, "socketcan:") || g_str_has_prefix (uri, "gsusb:"))
    {
      icon_name = "network-wired-symbolic";
      title = g_strdup (_("Car on a CAN adapter"));
    }
  else
    title = g_strdup (_("Link to the car"));

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->link_row), title);
  adw_action_row_set_subtitle (self->link_row, uri);
  gtk_image_set_from_icon_name (self->link_icon, icon_name);
}

void
ew_vehicle_page_set_link (EwVehiclePage *self, const char *uri)
{
  g_return_if_fail (EW_IS_VEHICLE_PAGE (self));

  if (uri != NULL && *uri == '\0')
    uri = NULL;
  if (g_strcmp0 (self->link, uri) == 0)
    return;
  g_free (self->link);
  self->link = g_strdup (uri);
  show_link (self);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "vehicle.scan",
                                 self->scan_job == NULL && self->link != NULL);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LINK]);
}

const char *
ew_vehicle_page_get_link (EwVehiclePage *self)
{
  g_return_val_if_fail (EW_IS_VEHICLE_PAGE (self), NULL);
  return self->link;
}

gboolean
ew_vehicle_page_get_is_scanning (EwVehiclePage *self)
{
  g_return_val_if_fail (EW_IS_VEHICLE_PAGE (self), FALSE);
  return self->scan_job != NULL;
}

void
ew_vehicle_page_scan (EwVehiclePage *self)
{
  g_return_if_fail (EW_IS_VEHICLE_PAGE (self));
  start_scan (self);
}

const char *
ew_vehicle_page_get_vin (EwVehiclePage *self)
{
  g_return_val_if_fail (EW_IS_VEHICLE_PAGE (self), NULL);
  return self->vin;
}

void
ew_vehicle_page_set_data (EwVehiclePage     *self,
                          EwVehicleDatabase *db,
                          const EwWmiTable  *wmi_table,
                          EwCarLink         *car_link)
{
  g_return_if_fail (EW_IS_VEHICLE_PAGE (self));

  self->db = db;
  g_clear_pointer (&self->car_link, ew_car_link_unref);
  self->car_link = car_link ? ew_car_link_ref (car_link) : NULL;
  self->wmi_table = wmi_table;
  self->family = NULL;
  update_vin (self);
  show_link (self);
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
    case PROP_LINK:
      g_value_set_string (value, self->link);
      break;
    case PROP_IS_SCANNING:
      g_value_set_boolean (value, self->scan_job != NULL);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ew_vehicle_page_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  EwVehiclePage *self = EW_VEHICLE_PAGE (object);

  switch (prop_id)
    {
    case PROP_LINK:
      ew_vehicle_page_set_link (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ew_vehicle_page_dispose (GObject *object)
{
  EwVehiclePage *self = EW_VEHICLE_PAGE (object);

  /* a running scan ends on its own; its late results find no page */
  if (self->scan_job != NULL)
    {
      g_cancellable_cancel (self->scan_job->cancellable);
      g_clear_pointer (&self->scan_job, scan_job_unref);
    }
  if (self->module_rows != NULL)
    g_hash_table_remove_all (self->module_rows);
  gtk_widget_dispose_template (GTK_WIDGET (self), EW_TYPE_VEHICLE_PAGE);
  G_OBJECT_CLASS (ew_vehicle_page_parent_class)->dispose (object);
}

static void
ew_vehicle_page_finalize (GObject *object)
{
  EwVehiclePage *self = EW_VEHICLE_PAGE (object);

  g_clear_pointer (&self->module_rows, g_hash_table_unref);
  g_clear_pointer (&self->car_link, ew_car_link_unref);
  g_free (self->link);
  g_free (self->vin);
  G_OBJECT_CLASS (ew_vehicle_page_parent_class)->finalize (object);
}

static void
ew_vehicle_page_class_init (EwVehiclePageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->get_property = ew_vehicle_page_get_property;
  object_class->set_property = ew_vehicle_page_set_property;
  object_class->dispose = ew_vehicle_page_dispose;
  object_class->finalize = ew_vehicle_page_finalize;

  properties[PROP_FAMILY_ID] =
    g_param_spec_string ("family-id", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_VIN] =
    g_param_spec_string ("vin", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_LINK] =
    g_param_spec_string ("link", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_IS_SCANNING] =
    g_param_spec_boolean ("is-scanning", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* A scan identified the car; the link is passed along. */
  signals[SIGNAL_CAR_SCANNED] =
    g_signal_new ("car-scanned", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

  gtk_widget_class_install_action (widget_class, "vehicle.scan", NULL, scan_activated);
  gtk_widget_class_install_action (widget_class, "vehicle.cancel-scan", NULL, cancel_scan_activated);
  gtk_widget_class_install_action (widget_class, "vehicle.choose-link", NULL, choose_link_activated);

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
  gtk_widget_class_bind_template_child (widget_class, EwVehiclePage, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, EwVehiclePage, link_row);
  gtk_widget_class_bind_template_child (widget_class, EwVehiclePage, link_icon);
  gtk_widget_class_bind_template_child (widget_class, EwVehiclePage, scan_button);
  gtk_widget_class_bind_template_child (widget_class, EwVehiclePage, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, EwVehiclePage, scan_progress);
  gtk_widget_class_bind_template_child (widget_class, EwVehiclePage, scan_status_label);
  gtk_widget_class_bind_template_child (widget_class, EwVehiclePage, scan_error_box);
  gtk_widget_class_bind_template_child (widget_class, EwVehiclePage, scan_error_label);
  gtk_widget_class_bind_template_child (widget_class, EwVehiclePage, result_group);
  gtk_widget_class_bind_template_child (widget_class, EwVehiclePage, car_row);
  gtk_widget_class_bind_template_child (widget_class, EwVehiclePage, simulated_label);
  gtk_widget_class_bind_template_child (widget_class, EwVehiclePage, finding_list);
  gtk_widget_class_bind_template_child (widget_class, EwVehiclePage, no_findings_label);
  gtk_widget_class_bind_template_child (widget_class, EwVehiclePage, module_group);
  gtk_widget_class_bind_template_child (widget_class, EwVehiclePage, module_list);
  gtk_widget_class_bind_template_callback (widget_class, on_vin_changed);

  g_type_ensure (EW_TYPE_SCAN_MODULE_ROW);
  g_type_ensure (EW_TYPE_SCAN_FINDING_ROW);
}

static void
ew_vehicle_page_init (EwVehiclePage *self)
{
  self->module_rows = g_hash_table_new (NULL, NULL);
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "vehicle.scan", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "vehicle.cancel-scan", FALSE);
  show_link (self);
}
