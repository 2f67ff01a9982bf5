/* ew-jobs-page.c — the quote for the car in the bay: findings-driven lines,
 * the work asked for, refusals and totals. */
#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "ew-jobs-page.h"
#include "ew-customer-view.h"
#include "ew-quote-line-row.h"
#include "ew-feature-row.h"
#include "ew-job-sheet-settings.h"
#include "coding/catalogue.h"
#include "job/job-sheet.h"
#include "connect/connection.h"
#include "scan/scan.h"

struct _EwJobsPage {
  GtkWidget           parent_instance;

  AdwToastOverlay    *toast_overlay;
  GtkStack           *main_stack;
  AdwStatusPage      *error_status;
  AdwActionRow       *car_row;
  AdwPreferencesGroup *add_group;
  AdwComboRow        *feature_combo;
  AdwComboRow        *state_combo;
  AdwComboRow        *replace_combo;
  AdwComboRow        *condition_combo;
  AdwComboRow        *recover_combo;
  AdwPreferencesGroup *quote_group;
  AdwPreferencesGroup *refused_group;
  AdwActionRow       *labour_row;
  GtkLabel           *labour_label;
  GtkLabel           *net_label;
  AdwActionRow       *vat_row;
  GtkLabel           *vat_label;
  GtkLabel           *total_label;
  EwCustomerView     *customer_view;
  GtkToggleButton    *customer_view_button;

  EwVehicleDatabase  *db;              /* borrowed */
  GSettings          *settings;        /* nullable: the schema is not installed */
  gboolean            is_customer_view;
  EwCarLink          *car_link;
  char               *link;
  GCancellable       *cancellable;     /* of the read running, or NULL */
  EwPriceRates        rates;

  EwFamily           *family;          /* owned, of the last read */
  EwScanResult       *scan;            /* nullable */
  EwFeatureCatalogue *catalogue;       /* nullable: features not readable */
  GPtrArray          *request;         /* char *: the items asked for, in order */
  EwJobPlan          *plan;            /* nullable */

  GPtrArray          *features;        /* const EwFeature *, as the feature combo lists */
  GPtrArray          *replace_modules; /* const EwModule * */
  GPtrArray          *recover_modules; /* const EwModule * */
  GPtrArray          *lines;           /* EwQuoteLineRow, shown in quote_group */
  GPtrArray          *refused_rows;    /* GtkWidget, shown in refused_group */
  GtkFileChooserNative *pdf_chooser;   /* while Save PDF asks where */
};

G_DEFINE_FINAL_TYPE (EwJobsPage, ew_jobs_page, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_LINK,
  PROP_IS_BUSY,
  PROP_CUSTOMER_VIEW,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* The garage's rates and fixed prices from its settings; a program run
 * from the build tree without the schema prices at its defaults. */
static void
load_rates (GSettings *settings, EwPriceRates *rates)
{
  g_autoptr(GError) error = NULL;

  if (settings == NULL)
    {
      ew_price_rates_init_default (rates);
      return;
    }
  if (!ew_price_rates_init_from_settings (rates, settings, &error))
    {
      g_warning ("The labour rate, VAT or currency in the settings is not valid, "
                 "the defaults are used: %s", error->message);
      ew_price_rates_init_default (rates);
    }
}

static void
show_toast (EwJobsPage *self, const char *message)
{
  AdwToast *toast = adw_toast_new (message);

  adw_toast_set_timeout (toast, 6);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

/* The read: the car's modules and findings, then its features. */

typedef struct {
  char               *link;
  EwCarLink          *car_link;
  EwScanResult       *scan;
  EwFeatureCatalogue *catalogue;
} Read;

static void
read_free (Read *read)
{
  g_free (read->link);
  g_clear_pointer (&read->car_link, ew_car_link_unref);
  g_clear_pointer (&read->scan, ew_scan_result_free);
  g_clear_pointer (&read->catalogue, ew_feature_catalogue_free);
  g_free (read);
}

static void
read_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  Read *read = task_data;
  EwConnection *connection;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) catalogue_error = NULL;

  connection = ew_car_link_acquire (read->car_link, read->link, cancellable, &error);
  if (connection == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  read->scan = ew_scan_run (connection, 0, NULL, NULL, cancellable, &error);
  if (read->scan == NULL)
    {
      ew_car_link_release (read->car_link, connection);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  /* without the features the quote still plans; it cannot refuse what is
   * not fitted, so say nothing more than the planner can */
  read->catalogue = ew_feature_catalogue_read (connection, read->scan, cancellable, &catalogue_error);
  if (read->catalogue == NULL)
    g_debug ("The features of the car could not be read: %s", catalogue_error->message);
  ew_car_link_release (read->car_link, connection);
  g_task_return_boolean (task, TRUE);
}

static void update_quote (EwJobsPage *self);
static void fill_add_controls (EwJobsPage *self);
static void update_actions (EwJobsPage *self);

/* The quote, or the customer's view of it while that is on. */
static void
show_result_page (EwJobsPage *self)
{
  gtk_stack_set_visible_child_name (self->main_stack, self->is_customer_view ? "customer" : "quote");
}

static void
on_read_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  EwJobsPage *self = EW_JOBS_PAGE (source);
  Read *read = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  g_autofree char *title = NULL;
  g_autofree char *subtitle = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      g_clear_object (&self->cancellable);
      adw_status_page_set_description (self->error_status, error->message);
      gtk_stack_set_visible_child_name (self->main_stack, "error");
      update_actions (self);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IS_BUSY]);
      return;
    }
  g_clear_object (&self->cancellable);

  g_clear_pointer (&self->scan, ew_scan_result_free);
  g_clear_pointer (&self->catalogue, ew_feature_catalogue_free);
  g_clear_pointer (&self->family, ew_family_unref);
  self->scan = g_steal_pointer (&read->scan);
  self->catalogue = g_steal_pointer (&read->catalogue);
  self->family = ew_family_ref (self->scan->family);

  title = g_strdup_printf ("%s %s", self->family->make, self->family->model);
  if (self->scan->vin != NULL && self->scan->is_simulated)
    /* TRANSLATORS: the VIN, then that the car is the simulator's */
    subtitle = g_strdup_printf (_("VIN %s · simulated car"), self->scan->vin);
  else if (self->scan->vin != NULL)
    subtitle = g_strdup_printf (_("VIN %s"), self->scan->vin);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->car_row), title);
  adw_action_row_set_subtitle (self->car_row, subtitle ? subtitle : "");

  fill_add_controls (self);
  update_quote (self);
  show_result_page (self);
  update_actions (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IS_BUSY]);
}

void
ew_jobs_page_scan (EwJobsPage *self)
{
  g_autoptr(GTask) task = NULL;
  Read *read;

  g_return_if_fail (EW_IS_JOBS_PAGE (self));

  if (self->link == NULL || self->car_link == NULL)
    return;
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();

  read = g_new0 (Read, 1);
  read->link = g_strdup (self->link);
  read->car_link = ew_car_link_ref (self->car_link);
  task = g_task_new (self, self->cancellable, on_read_done, NULL);
  g_task_set_source_tag (task, ew_jobs_page_scan);
  g_task_set_task_data (task, read, (GDestroyNotify) read_free);
  g_task_run_in_thread (task, read_thread);

  gtk_stack_set_visible_child_name (self->main_stack, "loading");
  update_actions (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IS_BUSY]);
}

gboolean
ew_jobs_page_get_is_busy (EwJobsPage *self)
{
  g_return_val_if_fail (EW_IS_JOBS_PAGE (self), FALSE);
  return self->cancellable != NULL;
}

/* The controls that add work, filled from the car's family. */

static const char *
state_label (const EwFeatureState *state)
{
  return state->label != NULL ? state->label : state->name;
}

static void
fill_states (EwJobsPage *self)
{
  guint selected = adw_combo_row_get_selected (self->feature_combo);
  g_autoptr(GtkStringList) states = gtk_string_list_new (NULL);
  const EwFeature *feature = NULL;
  const EwFeatureStatus *status = NULL;
  guint preselect = 0;
  const char *subtitle = NULL;

  if (self->features != NULL && selected < self->features->len)
    feature = g_ptr_array_index (self->features, selected);
  if (feature != NULL && self->catalogue != NULL)
    status = ew_feature_catalogue_find (self->catalogue, feature->id);

  if (feature != NULL && feature->states->len == 0)
    /* a programming feature is only ever fitted */
    gtk_string_list_append (states, _("Fit (new software)"));
  else if (feature != NULL)
    for (guint i = 0; i < feature->states->len; i++)
      {
        const EwFeatureState *state = g_ptr_array_index (feature->states, i);

        gtk_string_list_append (states, state_label (state));
        /* offer the first state the car is not in */
        if (status != NULL && status->state != NULL && preselect == i
            && g_strcmp0 (status->state->name, state->name) == 0 && i + 1 < feature->states->len)
          preselect = i + 1;
      }
  adw_combo_row_set_model (self->state_combo, G_LIST_MODEL (states));
  adw_combo_row_set_selected (self->state_combo, preselect);

  if (status != NULL && status->availability != EW_FEATURE_SWITCHABLE && status->reason != NULL)
    subtitle = status->reason;
  else if (feature != NULL)
    subtitle = ew_work_class_label (feature->work_class);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->feature_combo), subtitle ? subtitle : "");

  if (status != NULL && status->state != NULL)
    {
      /* TRANSLATORS: the state the car's feature is in now */
      g_autofree char *now = g_strdup_printf (_("Now: %s"), state_label (status->state));
      adw_action_row_set_subtitle (ADW_ACTION_ROW (self->state_combo), now);
    }
  else
    adw_action_row_set_subtitle (ADW_ACTION_ROW (self->state_combo), "");
}

static void
on_feature_selected (EwJobsPage *self)
{
  fill_states (self);
}

static gboolean
module_has_job (EwFamily *family, const EwModule *module, gboolean is_recovery)
{
  for (guint i = 0; i < family->jobs->len; i++)
    {
      const EwJobTemplate *job = g_ptr_array_index (family->jobs, i);

      if (g_strcmp0 (job->module, module->id) == 0
          && (job->kind == EW_JOB_RECOVERY) == is_recovery)
        return TRUE;
    }
  return FALSE;
}

static void
fill_module_combo (EwJobsPage *self, AdwComboRow *combo, GPtrArray *modules, gboolean is_recovery)
{
  g_autoptr(GtkStringList) names = gtk_string_list_new (NULL);

  g_ptr_array_set_size (modules, 0);
  for (guint i = 0; i < self->family->modules->len; i++)
    {
      const EwModule *module = g_ptr_array_index (self->family->modules, i);

      if (!module_has_job (self->family, module, is_recovery))
        continue;
      g_ptr_array_add (modules, (gpointer) module);
      gtk_string_list_append (names, module->name);
    }
  adw_combo_row_set_model (combo, G_LIST_MODEL (names));
  gtk_widget_set_visible (GTK_WIDGET (combo), modules->len > 0);
}

static void
fill_add_controls (EwJobsPage *self)
{
  g_autoptr(GtkStringList) names = gtk_string_list_new (NULL);

  g_ptr_array_set_size (self->features, 0);
  for (guint i = 0; i < self->family->features->len; i++)
    {
      const EwFeature *feature = g_ptr_array_index (self->family->features, i);

      g_ptr_array_add (self->features, (gpointer) feature);
      gtk_string_list_append (names, feature->name);
    }
  adw_combo_row_set_model (self->feature_combo, G_LIST_MODEL (names));
  fill_states (self);

  fill_module_combo (self, self->replace_combo, self->replace_modules, FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->condition_combo), self->replace_modules->len > 0);
  fill_module_combo (self, self->recover_combo, self->recover_modules, TRUE);
}

/* The quote. */

static EwJobRequest *
build_request (GPtrArray *items, GError **error)
{
  g_autoptr(EwJobRequest) request = ew_job_request_new ();

  for (guint i = 0; i < items->len; i++)
    if (!ew_job_request_add_item (request, g_ptr_array_index (items, i), error))
      return NULL;
  return g_steal_pointer (&request);
}

static EwJobPlan *
plan_items (EwJobsPage *self, GPtrArray *items, GError **error)
{
  g_autoptr(EwJobRequest) request = build_request (items, error);

  if (request == NULL)
    return NULL;
  return ew_job_plan_new (self->family, request, self->scan, self->catalogue, &self->rates, error);
}

/* The entry of the request a line or refusal about subject comes from. */
static int
find_request_entry (GPtrArray *items, const char *subject, gboolean is_feature, gboolean is_recovery)
{
  for (guint i = 0; i < items->len; i++)
    {
      const char *entry = g_ptr_array_index (items, i);
      g_autofree char *prefix = NULL;

      if (is_feature)
        prefix = g_strconcat (subject, "=", NULL);
      else
        prefix = g_strconcat (is_recovery ? "recover:" : "replace:", subject, NULL);
      if (g_str_has_prefix (entry, prefix)
          && (is_feature || entry[strlen (prefix)] == '\0' || entry[strlen (prefix)] == ':'))
        return (int) i;
    }
  return -1;
}

static int
request_index_of_item (EwJobsPage *self, const EwPlanItem *item)
{
  if (item->is_from_scan)
    return -1;
  if (item->feature != NULL)
    return find_request_entry (self->request, item->feature->id, TRUE, FALSE);
  if (item->module == NULL)
    return -1;
  return find_request_entry (self->request, item->module->id, FALSE,
                             item->kind == EW_PLAN_ITEM_RECOVERY);
}

static int
request_index_of_refusal (EwJobsPage *self, const EwPlanRefusal *refusal)
{
  int index = find_request_entry (self->request, refusal->subject, TRUE, FALSE);

  if (index < 0)
    index = find_request_entry (self->request, refusal->subject, FALSE, FALSE);
  if (index < 0)
    index = find_request_entry (self->request, refusal->subject, FALSE, TRUE);
  return index;
}

static GtkWidget *
refusal_row_new (const EwPlanRefusal *refusal, int request_index)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *icon = gtk_image_new_from_icon_name ("action-unavailable-symbolic");

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row),
                                 refusal->title ? refusal->title : refusal->subject);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), refusal->reason ? refusal->reason : "");
  gtk_accessible_update_property (GTK_ACCESSIBLE (icon), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Not included"), -1);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);
  if (request_index >= 0)
    {
      GtkWidget *remove = gtk_button_new_from_icon_name ("edit-delete-symbolic");
      g_autofree char *name = g_strdup_printf (_("Remove “%s” from the quote"),
                                               refusal->title ? refusal->title : refusal->subject);

      gtk_widget_set_valign (remove, GTK_ALIGN_CENTER);
      gtk_widget_add_css_class (remove, "flat");
      gtk_widget_set_tooltip_text (remove, _("Remove this line from the quote"));
      gtk_accessible_update_property (GTK_ACCESSIBLE (remove), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      name, -1);
      gtk_actionable_set_action_name (GTK_ACTIONABLE (remove), "jobs.remove-line");
      gtk_actionable_set_action_target (GTK_ACTIONABLE (remove), "i", request_index);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), remove);
    }
  return row;
}

static void
clear_rows (AdwPreferencesGroup *group, GPtrArray *rows)
{
  for (guint i = 0; i < rows->len; i++)
    adw_preferences_group_remove (group, g_ptr_array_index (rows, i));
  g_ptr_array_set_size (rows, 0);
}

static void
show_plan (EwJobsPage *self)
{
  g_autofree char *labour = NULL;
  g_autofree char *net = NULL;
  g_autofree char *vat = NULL;
  g_autofree char *gross = NULL;
  g_autofree char *vat_percent = NULL;
  g_autofree char *vat_title = NULL;
  g_autofree char *rate = NULL;
  g_autofree char *rate_text = NULL;

  clear_rows (self->quote_group, self->lines);
  clear_rows (self->refused_group, self->refused_rows);

  for (guint i = 0; self->plan != NULL && i < self->plan->items->len; i++)
    {
      const EwPlanItem *item = g_ptr_array_index (self->plan->items, i);
      GtkWidget *row = ew_quote_line_row_new (item, &self->rates, request_index_of_item (self, item));

      g_ptr_array_add (self->lines, row);
      adw_preferences_group_add (self->quote_group, row);
    }
  for (guint i = 0; self->plan != NULL && i < self->plan->refusals->len; i++)
    {
      const EwPlanRefusal *refusal = g_ptr_array_index (self->plan->refusals, i);
      GtkWidget *row = refusal_row_new (refusal, request_index_of_refusal (self, refusal));

      g_ptr_array_add (self->refused_rows, row);
      adw_preferences_group_add (self->refused_group, row);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->refused_group), self->refused_rows->len > 0);
  adw_preferences_group_set_description (self->quote_group,
                                         self->lines->len == 0
                                         ? _("Nothing to do yet: the scan found no work. Add what the customer asks for above.")
                                         : _("Coding changes settings in a module; programming writes its software; adaptation teaches a module its car."));

  labour = ew_format_labour_minutes (self->plan ? self->plan->labour_minutes : 0);
  net = ew_money_format (&self->rates, self->plan ? self->plan->net_minor : 0);
  vat = ew_money_format (&self->rates, self->plan ? self->plan->vat_minor : 0);
  gross = ew_money_format (&self->rates, self->plan ? self->plan->gross_minor : 0);
  vat_percent = ew_price_format_vat_percent (&self->rates);
  rate = ew_money_format (&self->rates, self->rates.labour_rate_minor);
  /* TRANSLATORS: the VAT row's title with its rate: "VAT 20 %" */
  vat_title = g_strdup_printf (_("VAT %s %%"), vat_percent);
  /* TRANSLATORS: the labour rate: "at 90.00 GBP an hour" */
  rate_text = g_strdup_printf (_("At %s an hour"), rate);

  gtk_label_set_label (self->labour_label, labour);
  gtk_label_set_label (self->net_label, net);
  gtk_label_set_label (self->vat_label, vat);
  gtk_label_set_label (self->total_label, gross);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->vat_row), vat_title);
  adw_action_row_set_subtitle (self->labour_row, rate_text);

  {
    g_autofree char *vehicle = NULL;

    if (self->family != NULL)
      vehicle = self->scan != NULL && self->scan->vin != NULL
        /* TRANSLATORS: the customer view's car: make and model, then the VIN */
        ? g_strdup_printf (_("%s %s · VIN %s"), self->family->make, self->family->model, self->scan->vin)
        : g_strdup_printf ("%s %s", self->family->make, self->family->model);
    ew_customer_view_set_plan (self->customer_view, self->plan, vehicle);
  }
}

/* Plans the request again; an entry the planner rejects was just added
 * and is taken back out. */
static void
update_quote (EwJobsPage *self)
{
  g_autoptr(GError) error = NULL;
  EwJobPlan *plan;

  if (self->family == NULL)
    return;
  plan = plan_items (self, self->request, &error);
  if (plan == NULL)
    {
      show_toast (self, error->message);
      return;
    }
  g_clear_pointer (&self->plan, ew_job_plan_free);
  self->plan = plan;
  show_plan (self);
}

/* An entry replacing the one of the same feature or module, else new. */
static int
same_subject_entry (GPtrArray *items, const char *item)
{
  const char *equals = strchr (item, '=');

  if (equals != NULL)
    {
      g_autofree char *feature = g_strndup (item, equals - item);
      return find_request_entry (items, feature, TRUE, FALSE);
    }
  for (guint i = 0; i < items->len; i++)
    {
      g_auto(GStrv) a = g_strsplit (g_ptr_array_index (items, i), ":", 3);
      g_auto(GStrv) b = g_strsplit (item, ":", 3);

      if (a[0] != NULL && a[1] != NULL && b[0] != NULL && b[1] != NULL
          && g_str_equal (a[0], b[0]) && g_str_equal (a[1], b[1]))
        return (int) i;
    }
  return -1;
}

gboolean
ew_jobs_page_add_item (EwJobsPage *self, const char *item, GError **error)
{
  g_autoptr(GPtrArray) items = NULL;
  g_autoptr(EwJobRequest) check = ew_job_request_new ();
  EwJobPlan *plan;
  int same;

  g_return_val_if_fail (EW_IS_JOBS_PAGE (self), FALSE);
  g_return_val_if_fail (item != NULL, FALSE);

  if (!ew_job_request_add_item (check, item, error))
    return FALSE;
  if (self->family == NULL)
    {
      g_set_error (error, EW_PLANNER_ERROR, EW_PLANNER_ERROR_BAD_ITEM,
                   _("No car has been read yet: scan the car before adding work for it"));
      return FALSE;
    }

  items = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < self->request->len; i++)
    g_ptr_array_add (items, g_strdup (g_ptr_array_index (self->request, i)));
  same = same_subject_entry (items, item);
  if (same >= 0)
    {
      g_free (items->pdata[same]);
      items->pdata[same] = g_strdup (item);
    }
  else
    g_ptr_array_add (items, g_strdup (item));

  plan = plan_items (self, items, error);
  if (plan == NULL)
    return FALSE;
  g_ptr_array_unref (self->request);
  self->request = g_steal_pointer (&items);
  g_clear_pointer (&self->plan, ew_job_plan_free);
  self->plan = plan;
  show_plan (self);
  return TRUE;
}

static void
add_item_or_toast (EwJobsPage *self, const char *item)
{
  g_autoptr(GError) error = NULL;

  if (!ew_jobs_page_add_item (self, item, &error))
    show_toast (self, error->message);
}

static void
add_feature_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  EwJobsPage *self = EW_JOBS_PAGE (widget);
  guint feature_index = adw_combo_row_get_selected (self->feature_combo);
  guint state_index = adw_combo_row_get_selected (self->state_combo);
  const EwFeature *feature;
  const char *state = "on";
  g_autofree char *item = NULL;

  if (feature_index >= self->features->len)
    return;
  feature = g_ptr_array_index (self->features, feature_index);
  if (feature->states->len > 0)
    {
      if (state_index >= feature->states->len)
        return;
      state = ((const EwFeatureState *) g_ptr_array_index (feature->states, state_index))->name;
    }
  item = g_strdup_printf ("%s=%s", feature->id, state);
  add_item_or_toast (self, item);
}

static void
add_replacement_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  EwJobsPage *self = EW_JOBS_PAGE (widget);
  guint index = adw_combo_row_get_selected (self->replace_combo);
  gboolean is_used = adw_combo_row_get_selected (self->condition_combo) == 0;
  g_autofree char *item = NULL;

  if (index >= self->replace_modules->len)
    return;
  item = g_strdup_printf ("replace:%s:%s",
                          ((const EwModule *) g_ptr_array_index (self->replace_modules, index))->id,
                          is_used ? "used" : "new");
  add_item_or_toast (self, item);
}

static void
add_recovery_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  EwJobsPage *self = EW_JOBS_PAGE (widget);
  guint index = adw_combo_row_get_selected (self->recover_combo);
  g_autofree char *item = NULL;

  if (index >= self->recover_modules->len)
    return;
  item = g_strdup_printf ("recover:%s",
                          ((const EwModule *) g_ptr_array_index (self->recover_modules, index))->id);
  add_item_or_toast (self, item);
}

static void
remove_line_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  EwJobsPage *self = EW_JOBS_PAGE (widget);
  int index = g_variant_get_int32 (parameter);

  if (index < 0 || (guint) index >= self->request->len)
    return;
  g_ptr_array_remove_index (self->request, index);
  update_quote (self);
}

static void
scan_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  ew_jobs_page_scan (EW_JOBS_PAGE (widget));
}

/* The job sheet: the quote on paper, as a PDF or printed. */

static EwJobSheet *
make_sheet (EwJobsPage *self, GError **error)
{
  g_auto(EwJobSheetGarage) garage = { 0 };
  EwJobSheetInfo info = { 0 };

  if (self->plan == NULL)
    {
      g_set_error (error, EW_PLANNER_ERROR, EW_PLANNER_ERROR_BAD_ITEM,
                   _("There is no quote yet: scan the car first"));
      return NULL;
    }
  ew_job_sheet_garage_load (&garage, self->settings);
  ew_job_sheet_garage_apply (&garage, &info);
  info.vin = self->scan != NULL ? self->scan->vin : NULL;
  return ew_job_sheet_new (self->plan, &info, NULL, error);
}

gboolean
ew_jobs_page_save_pdf (EwJobsPage *self, const char *path, GError **error)
{
  g_autoptr(EwJobSheet) sheet = NULL;

  g_return_val_if_fail (EW_IS_JOBS_PAGE (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  sheet = make_sheet (self, error);
  return sheet != NULL && ew_job_sheet_write_pdf (sheet, path, error);
}

static void
on_pdf_chosen (GtkNativeDialog *dialog, int response, gpointer user_data)
{
  EwJobsPage *self = EW_JOBS_PAGE (user_data);
  g_autoptr(GFile) file = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
  g_clear_object (&self->pdf_chooser);
  if (file == NULL)
    return;
  path = g_file_get_path (file);
  if (path == NULL)
    {
      show_toast (self, _("The quote can only be saved to a local folder"));
      return;
    }
  if (!ew_jobs_page_save_pdf (self, path, &error))
    {
      show_toast (self, error->message);
      return;
    }
  {
    g_autofree char *basename = g_file_get_basename (file);
    /* TRANSLATORS: the name of the PDF file just written */
    g_autofree char *message = g_strdup_printf (_("Quote saved as %s"), basename);
    show_toast (self, message);
  }
}

static void
save_pdf_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  EwJobsPage *self = EW_JOBS_PAGE (widget);
  GtkRoot *root = gtk_widget_get_root (widget);
  g_autofree char *name = NULL;

  if (self->pdf_chooser != NULL)
    return;
  self->pdf_chooser = gtk_file_chooser_native_new (_("Save the Quote as PDF"),
                                                   GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                                   GTK_FILE_CHOOSER_ACTION_SAVE,
                                                   _("_Save"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->pdf_chooser), TRUE);
  if (self->scan != NULL && self->scan->vin != NULL)
    /* TRANSLATORS: the PDF file's suggested name, with the car's VIN */
    name = g_strdup_printf (_("quote-%s.pdf"), self->scan->vin);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (self->pdf_chooser),
                                     name != NULL ? name : _("quote.pdf"));
  g_signal_connect (self->pdf_chooser, "response", G_CALLBACK (on_pdf_chosen), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->pdf_chooser));
}

static void
on_print_draw_page (GtkPrintOperation *operation,
                    GtkPrintContext   *context,
                    int                page,
                    EwJobSheet        *sheet)
{
  ew_job_sheet_draw_page (sheet, gtk_print_context_get_cairo_context (context), (guint) page);
}

static void
on_print_done (GtkPrintOperation       *operation,
               GtkPrintOperationResult  result,
               EwJobsPage              *self)
{
  g_autoptr(GError) error = NULL;

  if (result == GTK_PRINT_OPERATION_RESULT_ERROR)
    {
      gtk_print_operation_get_error (operation, &error);
      show_toast (self, error != NULL ? error->message : _("The quote could not be printed"));
    }
}

static void
print_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  EwJobsPage *self = EW_JOBS_PAGE (widget);
  GtkRoot *root = gtk_widget_get_root (widget);
  g_autoptr(GtkPrintOperation) operation = NULL;
  g_autoptr(GtkPageSetup) setup = gtk_page_setup_new ();
  g_autoptr(GtkPaperSize) a4 = gtk_paper_size_new (GTK_PAPER_NAME_A4);
  g_autoptr(GError) error = NULL;
  EwJobSheet *sheet = make_sheet (self, &error);

  if (sheet == NULL)
    {
      show_toast (self, error->message);
      return;
    }
  operation = gtk_print_operation_new ();
  gtk_page_setup_set_paper_size_and_default_margins (setup, a4);
  gtk_print_operation_set_default_page_setup (operation, setup);
  /* the sheet lays out whole A4 pages in points, margins included */
  gtk_print_operation_set_use_full_page (operation, TRUE);
  gtk_print_operation_set_unit (operation, GTK_UNIT_POINTS);
  gtk_print_operation_set_n_pages (operation, (int) ew_job_sheet_get_n_pages (sheet));
  gtk_print_operation_set_job_name (operation, _("Quote"));
  g_object_set_data_full (G_OBJECT (operation), "ew-job-sheet", sheet,
                          (GDestroyNotify) ew_job_sheet_free);
  g_signal_connect (operation, "draw-page", G_CALLBACK (on_print_draw_page), sheet);
  g_signal_connect_object (operation, "done", G_CALLBACK (on_print_done), self, 0);
  gtk_print_operation_set_allow_async (operation, TRUE);
  if (gtk_print_operation_run (operation, GTK_PRINT_OPERATION_ACTION_PRINT_DIALOG,
                               GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                               &error) == GTK_PRINT_OPERATION_RESULT_ERROR)
    show_toast (self, error->message);
}

static void
update_actions (EwJobsPage *self)
{
  gboolean has_car = self->family != NULL && self->cancellable == NULL;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "jobs.scan",
                                 self->link != NULL && self->car_link != NULL && self->cancellable == NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "jobs.add-feature", has_car);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "jobs.add-replacement", has_car);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "jobs.add-recovery", has_car);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "jobs.remove-line", has_car);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "jobs.save-pdf", has_car);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "jobs.print", has_car);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "jobs.customer-view", has_car || self->is_customer_view);
}

/* Prices follow the garage's settings at once; the garage's name, address
 * and logo are read when a sheet is made. */
static void
on_settings_changed (GSettings *settings, const char *key, EwJobsPage *self)
{
  static const char *const price_keys[] = { "labour-rate", "vat-percent", "currency", "template-prices", NULL };

  if (!g_strv_contains (price_keys, key))
    return;
  load_rates (settings, &self->rates);
  if (self->plan != NULL)
    update_quote (self);
}

void
ew_jobs_page_set_customer_view (EwJobsPage *self, gboolean is_customer_view)
{
  g_return_if_fail (EW_IS_JOBS_PAGE (self));

  is_customer_view = !!is_customer_view;
  if (self->is_customer_view == is_customer_view)
    return;
  self->is_customer_view = is_customer_view;
  /* only a quote has a customer's view; loading and errors stay shown */
  if (self->plan != NULL && self->cancellable == NULL)
    show_result_page (self);
  update_actions (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CUSTOMER_VIEW]);
}

gboolean
ew_jobs_page_get_customer_view (EwJobsPage *self)
{
  g_return_val_if_fail (EW_IS_JOBS_PAGE (self), FALSE);
  return self->is_customer_view;
}

GtkWidget *
ew_jobs_page_get_customer_view_widget (EwJobsPage *self)
{
  g_return_val_if_fail (EW_IS_JOBS_PAGE (self), NULL);
  return GTK_WIDGET (self->customer_view);
}

/* Public API */

void
ew_jobs_page_set_data (EwJobsPage *self, EwVehicleDatabase *db, EwCarLink *car_link)
{
  g_return_if_fail (EW_IS_JOBS_PAGE (self));
  self->db = db;
  g_clear_pointer (&self->car_link, ew_car_link_unref);
  self->car_link = car_link != NULL ? ew_car_link_ref (car_link) : NULL;
  update_actions (self);
}

void
ew_jobs_page_set_link (EwJobsPage *self, const char *uri)
{
  g_return_if_fail (EW_IS_JOBS_PAGE (self));

  if (g_strcmp0 (self->link, uri) == 0)
    return;
  g_free (self->link);
  self->link = g_strdup (uri);
  /* another car: what was asked for this one does not carry over */
  g_ptr_array_set_size (self->request, 0);
  update_actions (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LINK]);
}

const char *
ew_jobs_page_get_link (EwJobsPage *self)
{
  g_return_val_if_fail (EW_IS_JOBS_PAGE (self), NULL);
  return self->link;
}

const EwJobPlan *
ew_jobs_page_get_plan (EwJobsPage *self)
{
  g_return_val_if_fail (EW_IS_JOBS_PAGE (self), NULL);
  return self->plan;
}

guint
ew_jobs_page_get_n_lines (EwJobsPage *self)
{
  g_return_val_if_fail (EW_IS_JOBS_PAGE (self), 0);
  return self->lines->len;
}

GtkWidget *
ew_jobs_page_get_line (EwJobsPage *self, guint index)
{
  g_return_val_if_fail (EW_IS_JOBS_PAGE (self), NULL);
  g_return_val_if_fail (index < self->lines->len, NULL);
  return g_ptr_array_index (self->lines, index);
}

/* GObject */

static void
ew_jobs_page_dispose (GObject *object)
{
  EwJobsPage *self = EW_JOBS_PAGE (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->pdf_chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->pdf_chooser));
  g_clear_object (&self->pdf_chooser);
  if (self->settings != NULL)
    g_signal_handlers_disconnect_by_data (self->settings, self);
  g_clear_object (&self->settings);
  gtk_widget_dispose_template (GTK_WIDGET (self), EW_TYPE_JOBS_PAGE);
  G_OBJECT_CLASS (ew_jobs_page_parent_class)->dispose (object);
}

static void
ew_jobs_page_finalize (GObject *object)
{
  EwJobsPage *self = EW_JOBS_PAGE (object);

  g_free (self->link);
  g_clear_pointer (&self->car_link, ew_car_link_unref);
  g_clear_pointer (&self->plan, ew_job_plan_free);
  g_clear_pointer (&self->scan, ew_scan_result_free);
  g_clear_pointer (&self->catalogue, ew_feature_catalogue_free);
  g_clear_pointer (&self->family, ew_family_unref);
  g_ptr_array_unref (self->request);
  g_ptr_array_unref (self->features);
  g_ptr_array_unref (self->replace_modules);
  g_ptr_array_unref (self->recover_modules);
  g_ptr_array_unref (self->lines);
  g_ptr_array_unref (self->refused_rows);
  G_OBJECT_CLASS (ew_jobs_page_parent_class)->finalize (object);
}

static void
ew_jobs_page_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  EwJobsPage *self = EW_JOBS_PAGE (object);

  switch (prop_id)
    {
    case PROP_LINK:
      g_value_set_string (value, self->link);
      break;
    case PROP_IS_BUSY:
      g_value_set_boolean (value, ew_jobs_page_get_is_busy (self));
      break;
    case PROP_CUSTOMER_VIEW:
      g_value_set_boolean (value, self->is_customer_view);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ew_jobs_page_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  EwJobsPage *self = EW_JOBS_PAGE (object);

  switch (prop_id)
    {
    case PROP_LINK:
      ew_jobs_page_set_link (self, g_value_get_string (value));
      break;
    case PROP_CUSTOMER_VIEW:
      ew_jobs_page_set_customer_view (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ew_jobs_page_class_init (EwJobsPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ew_jobs_page_dispose;
  object_class->finalize = ew_jobs_page_finalize;
  object_class->get_property = ew_jobs_page_get_property;
  object_class->set_property = ew_jobs_page_set_property;

  properties[PROP_LINK] =
    g_param_spec_string ("link", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_IS_BUSY] =
    g_param_spec_boolean ("is-busy", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  /* the quote large and plain, for the customer ("jobs.customer-view") */
  properties[PROP_CUSTOMER_VIEW] =
    g_param_spec_boolean ("customer-view", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (EW_TYPE_QUOTE_LINE_ROW);
  g_type_ensure (EW_TYPE_CUSTOMER_VIEW);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/ecuworkshop/EcuWorkshop/ew-jobs-page.ui");
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_bind_template_child (widget_class, EwJobsPage, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, EwJobsPage, main_stack);
  gtk_widget_class_bind_template_child (widget_class, EwJobsPage, error_status);
  gtk_widget_class_bind_template_child (widget_class, EwJobsPage, car_row);
  gtk_widget_class_bind_template_child (widget_class, EwJobsPage, add_group);
  gtk_widget_class_bind_template_child (widget_class, EwJobsPage, feature_combo);
  gtk_widget_class_bind_template_child (widget_class, EwJobsPage, state_combo);
  gtk_widget_class_bind_template_child (widget_class, EwJobsPage, replace_combo);
  gtk_widget_class_bind_template_child (widget_class, EwJobsPage, condition_combo);
  gtk_widget_class_bind_template_child (widget_class, EwJobsPage, recover_combo);
  gtk_widget_class_bind_template_child (widget_class, EwJobsPage, quote_group);
  gtk_widget_class_bind_template_child (widget_class, EwJobsPage, refused_group);
  gtk_widget_class_bind_template_child (widget_class, EwJobsPage, labour_row);
  gtk_widget_class_bind_template_child (widget_class, EwJobsPage, labour_label);
  gtk_widget_class_bind_template_child (widget_class, EwJobsPage, net_label);
  gtk_widget_class_bind_template_child (widget_class, EwJobsPage, vat_row);
  gtk_widget_class_bind_template_child (widget_class, EwJobsPage, vat_label);
  gtk_widget_class_bind_template_child (widget_class, EwJobsPage, total_label);
  gtk_widget_class_bind_template_child (widget_class, EwJobsPage, customer_view);
  gtk_widget_class_bind_template_child (widget_class, EwJobsPage, customer_view_button);
  gtk_widget_class_bind_template_callback (widget_class, on_feature_selected);

  gtk_widget_class_install_action (widget_class, "jobs.scan", NULL, scan_action);
  gtk_widget_class_install_action (widget_class, "jobs.add-feature", NULL, add_feature_action);
  gtk_widget_class_install_action (widget_class, "jobs.add-replacement", NULL, add_replacement_action);
  gtk_widget_class_install_action (widget_class, "jobs.add-recovery", NULL, add_recovery_action);
  gtk_widget_class_install_action (widget_class, "jobs.remove-line", "i", remove_line_action);
  gtk_widget_class_install_action (widget_class, "jobs.save-pdf", NULL, save_pdf_action);
  gtk_widget_class_install_action (widget_class, "jobs.print", NULL, print_action);
  gtk_widget_class_install_property_action (widget_class, "jobs.customer-view", "customer-view");
}

static void
ew_jobs_page_init (EwJobsPage *self)
{
  self->request = g_ptr_array_new_with_free_func (g_free);
  self->features = g_ptr_array_new ();
  self->replace_modules = g_ptr_array_new ();
  self->recover_modules = g_ptr_array_new ();
  self->lines = g_ptr_array_new ();
  self->refused_rows = g_ptr_array_new ();
  self->settings = ew_job_sheet_settings_open ();
  load_rates (self->settings, &self->rates);
  if (self->settings != NULL)
    g_signal_connect (self->settings, "changed", G_CALLBACK (on_settings_changed), self);
  gtk_widget_init_template (GTK_WIDGET (self));
  update_actions (self);
}
