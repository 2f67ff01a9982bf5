/* ew-history-page.c — the History page: jobs, journals, restore, resume
 * and job sheets. */
#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "ew-history-page.h"
#include "ew-job-row.h"
#include "ew-job-sheet-settings.h"
#include "flash/flash-resume.h"
#include "job/job-sheet.h"

struct _EwHistoryPage {
  GtkWidget         parent_instance;

  AdwToastOverlay  *toast_overlay;
  GtkStack         *main_stack;
  AdwStatusPage    *error_status;
  GtkListBox       *job_list;

  EwSharedStore    *store;        /* nullable */
  EwVehicleDatabase *db;          /* borrowed, nullable: no job sheets */
  char             *store_error;  /* why there is no store, or NULL */
  GHashTable       *rows;         /* job id (gint64*) → EwJobRow, borrowed */
  AdwMessageDialog *confirmation; /* open, or NULL */
  GtkFileChooserNative *sheet_chooser; /* open, or NULL */
  gint64            sheet_job_id;
  gint64            confirmation_job_id;
  gboolean          is_busy;
};

G_DEFINE_FINAL_TYPE (EwHistoryPage, ew_history_page, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_IS_BUSY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SIGNAL_RESTORE_REQUESTED,
  SIGNAL_RESUME_REQUESTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
show_error (EwHistoryPage *self, const char *message)
{
  adw_status_page_set_description (self->error_status, message);
  gtk_stack_set_visible_child_name (self->main_stack, "error");
}

void
ew_history_page_refresh (EwHistoryPage *self)
{
  g_autoptr(GPtrArray) jobs = NULL;
  g_autoptr(GError) error = NULL;
  EwJobStore *store;
  GtkWidget *child;

  g_return_if_fail (EW_IS_HISTORY_PAGE (self));

  g_hash_table_remove_all (self->rows);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->job_list))) != NULL)
    gtk_list_box_remove (self->job_list, child);

  if (self->store == NULL)
    {
      show_error (self, self->store_error ? self->store_error : _("No job store is open."));
      return;
    }

  /* a local database: quick enough to read on the main thread */
  store = ew_shared_store_get_store (self->store);
  jobs = ew_job_store_list_jobs (store, &error);
  if (jobs == NULL)
    {
      show_error (self, error->message);
      return;
    }

  for (guint i = 0; i < jobs->len; i++)
    {
      const EwJobRecord *record = g_ptr_array_index (jobs, i);
      g_autoptr(GPtrArray) journal = ew_job_store_get_journal (store, record->id, NULL);
      GtkWidget *row = ew_job_row_new (record, journal);
      gint64 *key = g_new (gint64, 1);

      /* the flash engine's own rule says which programming jobs go on */
      if (record->kind == EW_JOB_KIND_PROGRAMMING &&
          (record->state == EW_JOB_STATE_RUNNING || record->state == EW_JOB_STATE_FAILED))
        {
          g_autoptr(EwFlashResumeInfo) info = ew_flash_resume_info_read (store, record->id, NULL);

          ew_job_row_set_can_resume (EW_JOB_ROW (row), info != NULL);
        }

      *key = record->id;
      g_hash_table_insert (self->rows, key, row);
      gtk_list_box_append (self->job_list, row);
    }
  gtk_stack_set_visible_child_name (self->main_stack, jobs->len > 0 ? "list" : "empty");
}

void
ew_history_page_set_store (EwHistoryPage *self,
                           EwSharedStore *store,
                           const GError  *error)
{
  g_return_if_fail (EW_IS_HISTORY_PAGE (self));

  g_clear_pointer (&self->store, ew_shared_store_unref);
  self->store = store ? ew_shared_store_ref (store) : NULL;
  g_free (self->store_error);
  self->store_error = error ? g_strdup (error->message) : NULL;
  ew_history_page_refresh (self);
}

static void
on_confirmation_response (AdwMessageDialog *dialog,
                          const char       *response,
                          EwHistoryPage    *self)
{
  gint64 job_id = self->confirmation_job_id;

  if (self->confirmation != dialog)
    return;
  self->confirmation = NULL;
  if (g_strcmp0 (response, "restore") == 0 && !self->is_busy)
    g_signal_emit (self, signals[SIGNAL_RESTORE_REQUESTED], 0, job_id);
  else if (g_strcmp0 (response, "resume") == 0 && !self->is_busy)
    g_signal_emit (self, signals[SIGNAL_RESUME_REQUESTED], 0, job_id);
}

void
ew_history_page_ask_restore (EwHistoryPage *self, gint64 job_id)
{
  g_autoptr(EwJobRecord) record = NULL;
  g_autofree char *heading = NULL;
  g_autofree char *body = NULL;
  g_autofree char *number = NULL;
  gboolean is_resume;
  GtkRoot *root;

  g_return_if_fail (EW_IS_HISTORY_PAGE (self));

  if (self->store == NULL || self->confirmation != NULL || self->is_busy)
    return;
  record = ew_job_store_get_job (ew_shared_store_get_store (self->store), job_id, NULL);
  if (record == NULL)
    return;
  is_resume = record->kind == EW_JOB_KIND_PROGRAMMING;

  number = g_strdup_printf ("%" G_GINT64_FORMAT, job_id);
  if (is_resume)
    /* TRANSLATORS: %s is a job number */
    heading = g_strdup_printf (_("Resume Job %s?"), number);
  else
    /* TRANSLATORS: %s is a job number */
    heading = g_strdup_printf (_("Restore Job %s?"), number);
  if (is_resume)
    /* TRANSLATORS: %s is the job's summary, then the car's VIN */
    body = g_strdup_printf (_("“%s” did not finish and may have left the module without working software. The same job goes on: the module is programmed again from the erase with the job's software (or its recovery image when that no longer fits), read back, and journalled in this job. Connect the battery support unit and keep the ignition on. The car must be the one the job was done on (%s)."),
                            record->summary, record->vin ? record->vin : _("VIN not read"));
  else if (record->state == EW_JOB_STATE_RUNNING)
    /* TRANSLATORS: %s is the job's summary, then the car's VIN */
    body = g_strdup_printf (_("“%s” did not finish. Every module it may have written gets back the coding it held before, from the backup, and is read back. The car must be the one the job was done on (%s)."),
                            record->summary, record->vin ? record->vin : _("VIN not read"));
  else
    body = g_strdup_printf (_("“%s” is undone: every module it wrote gets back the coding it held before, from the backup, and is read back. The car must be the one the job was done on (%s)."),
                            record->summary, record->vin ? record->vin : _("VIN not read"));

  root = gtk_widget_get_root (GTK_WIDGET (self));
  self->confirmation = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                                                   heading, body));
  adw_message_dialog_add_responses (self->confirmation, "cancel", _("_Cancel"), NULL);
  if (is_resume)
    adw_message_dialog_add_response (self->confirmation, "resume", _("_Resume"));
  else
    adw_message_dialog_add_response (self->confirmation, "restore", _("_Restore"));
  adw_message_dialog_set_response_appearance (self->confirmation, is_resume ? "resume" : "restore",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (self->confirmation, "cancel");
  adw_message_dialog_set_close_response (self->confirmation, "cancel");
  self->confirmation_job_id = job_id;
  g_signal_connect (self->confirmation, "response", G_CALLBACK (on_confirmation_response), self);
  gtk_window_present (GTK_WINDOW (self->confirmation));
}

void
ew_history_page_add_toast (EwHistoryPage *self, const char *message)
{
  g_autofree char *escaped = NULL;

  g_return_if_fail (EW_IS_HISTORY_PAGE (self));
  g_return_if_fail (message != NULL);
  /* a toast's title is markup; error messages are plain text */
  escaped = g_markup_escape_text (message, -1);
  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (escaped));
}

GtkWidget *
ew_history_page_find_row (EwHistoryPage *self, gint64 job_id)
{
  g_return_val_if_fail (EW_IS_HISTORY_PAGE (self), NULL);
  return g_hash_table_lookup (self->rows, &job_id);
}

guint
ew_history_page_get_n_jobs (EwHistoryPage *self)
{
  g_return_val_if_fail (EW_IS_HISTORY_PAGE (self), 0);
  return g_hash_table_size (self->rows);
}

void
ew_history_page_set_database (EwHistoryPage *self, EwVehicleDatabase *db)
{
  g_return_if_fail (EW_IS_HISTORY_PAGE (self));
  self->db = db;
}

gboolean
ew_history_page_save_job_sheet (EwHistoryPage *self,
                                gint64         job_id,
                                const char    *path,
                                GError       **error)
{
  g_autoptr(EwJobRecord) record = NULL;
  g_autoptr(EwJobRequest) request = NULL;
  g_autoptr(EwJobPlan) plan = NULL;
  g_autoptr(EwJobSheet) sheet = NULL;
  g_autoptr(GSettings) settings = NULL;
  g_auto(EwJobSheetGarage) garage = { 0 };
  g_autofree char *reference = NULL;
  EwJobSheetInfo info = { 0 };
  EwJobSheetDone done = { 0 };
  EwPriceRates rates;
  EwFamily *family = NULL;
  EwJobStore *store;

  g_return_val_if_fail (EW_IS_HISTORY_PAGE (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->store == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                           self->store_error ? self->store_error : _("No job store is open."));
      return FALSE;
    }
  store = ew_shared_store_get_store (self->store);
  record = ew_job_store_get_job (store, job_id, error);
  if (record == NULL)
    return FALSE;
  if (record->state != EW_JOB_STATE_DONE && record->state != EW_JOB_STATE_ROLLED_BACK &&
      record->state != EW_JOB_STATE_RESTORED)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("Job %lld has not finished: its job sheet is written once it has"),
                   (long long) job_id);
      return FALSE;
    }
  if (self->db != NULL && record->family_id != NULL)
    family = ew_vehicle_database_find_family (self->db, record->family_id);
  if (family == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("Job %lld was done on a vehicle family the vehicle data does not hold (%s): no job sheet"),
                   (long long) job_id, record->family_id != NULL ? record->family_id : _("not recorded"));
      return FALSE;
    }

  /* no quote: the sheet says what the job's journal says was done */
  ew_price_rates_init_default (&rates);
  request = ew_job_request_new ();
  plan = ew_job_plan_new (family, request, NULL, NULL, &rates, error);
  if (plan == NULL)
    return FALSE;

  settings = ew_job_sheet_settings_open ();
  ew_job_sheet_garage_load (&garage, settings);
  ew_job_sheet_garage_apply (&garage, &info);
  info.vin = record->vin;
  /* TRANSLATORS: the job sheet's reference: the job number */
  reference = g_strdup_printf (_("Job %lld"), (long long) job_id);
  info.reference = reference;
  info.date = record->finished != NULL ? record->finished : record->started;
  done.store = store;
  done.job_ids = &job_id;
  done.n_job_ids = 1;
  sheet = ew_job_sheet_new (plan, &info, &done, error);
  return sheet != NULL && ew_job_sheet_write_pdf (sheet, path, error);
}

static void
on_sheet_chosen (GtkNativeDialog *dialog, int response, gpointer user_data)
{
  EwHistoryPage *self = EW_HISTORY_PAGE (user_data);
  g_autoptr(GFile) file = NULL;
  g_autofree char *path = NULL;
  g_autofree char *basename = NULL;
  g_autofree char *message = NULL;
  g_autoptr(GError) error = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
  g_clear_object (&self->sheet_chooser);
  if (file == NULL)
    return;
  path = g_file_get_path (file);
  if (path == NULL)
    {
      ew_history_page_add_toast (self, _("The job sheet can only be saved to a local folder"));
      return;
    }
  if (!ew_history_page_save_job_sheet (self, self->sheet_job_id, path, &error))
    {
      ew_history_page_add_toast (self, error->message);
      return;
    }
  basename = g_file_get_basename (file);
  /* TRANSLATORS: the name of the PDF file just written */
  message = g_strdup_printf (_("Job sheet saved as %s"), basename);
  ew_history_page_add_toast (self, message);
}

static void
job_sheet_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  EwHistoryPage *self = EW_HISTORY_PAGE (widget);
  GtkRoot *root = gtk_widget_get_root (widget);
  g_autofree char *name = NULL;

  if (self->sheet_chooser != NULL)
    return;
  self->sheet_job_id = g_variant_get_int64 (parameter);
  self->sheet_chooser = gtk_file_chooser_native_new (_("Save the Job Sheet as PDF"),
                                                     GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                                     GTK_FILE_CHOOSER_ACTION_SAVE,
                                                     _("_Save"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->sheet_chooser), TRUE);
  /* TRANSLATORS: the PDF file's suggested name, with the job number */
  name = g_strdup_printf (_("job-sheet-%lld.pdf"), (long long) self->sheet_job_id);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (self->sheet_chooser), name);
  g_signal_connect (self->sheet_chooser, "response", G_CALLBACK (on_sheet_chosen), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->sheet_chooser));
}

static void
restore_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  ew_history_page_ask_restore (EW_HISTORY_PAGE (widget), g_variant_get_int64 (parameter));
}

static void
refresh_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  ew_history_page_refresh (EW_HISTORY_PAGE (widget));
}

static void
ew_history_page_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  EwHistoryPage *self = EW_HISTORY_PAGE (object);

  switch (prop_id)
    {
    case PROP_IS_BUSY:
      g_value_set_boolean (value, self->is_busy);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ew_history_page_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  EwHistoryPage *self = EW_HISTORY_PAGE (object);

  switch (prop_id)
    {
    case PROP_IS_BUSY:
      if (self->is_busy != g_value_get_boolean (value))
        {
          self->is_busy = g_value_get_boolean (value);
          /* one job at a time on the car */
          gtk_widget_action_set_enabled (GTK_WIDGET (self), "history.restore", !self->is_busy);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ew_history_page_dispose (GObject *object)
{
  EwHistoryPage *self = EW_HISTORY_PAGE (object);

  if (self->confirmation != NULL)
    {
      AdwMessageDialog *confirmation = self->confirmation;

      self->confirmation = NULL;
      gtk_window_destroy (GTK_WINDOW (confirmation));
    }
  if (self->sheet_chooser != NULL)
    {
      gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->sheet_chooser));
      g_clear_object (&self->sheet_chooser);
    }
  if (self->rows != NULL)
    g_hash_table_remove_all (self->rows);
  gtk_widget_dispose_template (GTK_WIDGET (self), EW_TYPE_HISTORY_PAGE);
  G_OBJECT_CLASS (ew_history_page_parent_class)->dispose (object);
}

static void
ew_history_page_finalize (GObject *object)
{
  EwHistoryPage *self = EW_HISTORY_PAGE (object);

  g_clear_pointer (&self->store, ew_shared_store_unref);
  g_clear_pointer (&self->rows, g_hash_table_unref);
  g_free (self->store_error);
  G_OBJECT_CLASS (ew_history_page_parent_class)->finalize (object);
}

static void
ew_history_page_class_init (EwHistoryPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->get_property = ew_history_page_get_property;
  object_class->set_property = ew_history_page_set_property;
  object_class->dispose = ew_history_page_dispose;
  object_class->finalize = ew_history_page_finalize;

  /* Engine work is running: Restore waits for it. */
  properties[PROP_IS_BUSY] =
    g_param_spec_boolean ("is-busy", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* The technician confirmed restoring a job (its id). */
  signals[SIGNAL_RESTORE_REQUESTED] =
    g_signal_new ("restore-requested", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT64);
  /* The technician confirmed resuming an unfinished programming job (its id). */
  signals[SIGNAL_RESUME_REQUESTED] =
    g_signal_new ("resume-requested", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT64);

  gtk_widget_class_install_action (widget_class, "history.restore", "x", restore_activated);
  gtk_widget_class_install_action (widget_class, "history.job-sheet", "x", job_sheet_activated);
  gtk_widget_class_install_action (widget_class, "history.refresh", NULL, refresh_activated);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/ecuworkshop/EcuWorkshop/ew-history-page.ui");
  gtk_widget_class_bind_template_child (widget_class, EwHistoryPage, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, EwHistoryPage, main_stack);
  gtk_widget_class_bind_template_child (widget_class, EwHistoryPage, error_status);
  gtk_widget_class_bind_template_child (widget_class, EwHistoryPage, job_list);

  g_type_ensure (EW_TYPE_JOB_ROW);
}

static void
ew_history_page_init (EwHistoryPage *self)
{
  self->rows = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_stack_set_visible_child_name (self->main_stack, "empty");
}
