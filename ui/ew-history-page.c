/* ew-history-page.c — the History page: jobs, journals, restore. */
#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "ew-history-page.h"
#include "ew-job-row.h"

struct _EwHistoryPage {
  GtkWidget         parent_instance;

  GtkStack         *main_stack;
  AdwStatusPage    *error_status;
  GtkListBox       *job_list;

  EwSharedStore    *store;        /* nullable */
  char             *store_error;  /* why there is no store, or NULL */
  GHashTable       *rows;         /* job id (gint64*) → EwJobRow, borrowed */
  AdwMessageDialog *confirmation; /* open, or NULL */
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
}

void
ew_history_page_ask_restore (EwHistoryPage *self, gint64 job_id)
{
  g_autoptr(EwJobRecord) record = NULL;
  g_autofree char *heading = NULL;
  g_autofree char *body = NULL;
  g_autofree char *number = NULL;
  GtkRoot *root;

  g_return_if_fail (EW_IS_HISTORY_PAGE (self));

  if (self->store == NULL || self->confirmation != NULL || self->is_busy)
    return;
  record = ew_job_store_get_job (ew_shared_store_get_store (self->store), job_id, NULL);
  if (record == NULL)
    return;

  number = g_strdup_printf ("%" G_GINT64_FORMAT, job_id);
  /* TRANSLATORS: %s is a job number */
  heading = g_strdup_printf (_("Restore Job %s?"), number);
  if (record->state == EW_JOB_STATE_RUNNING)
    /* TRANSLATORS: %s is the job's summary, then the car's VIN */
    body = g_strdup_printf (_("“%s” did not finish. Every module it may have written gets back the coding it held before, from the backup, and is read back. The car must be the one the job was done on (%s)."),
                            record->summary, record->vin ? record->vin : _("VIN not read"));
  else
    body = g_strdup_printf (_("“%s” is undone: every module it wrote gets back the coding it held before, from the backup, and is read back. The car must be the one the job was done on (%s)."),
                            record->summary, record->vin ? record->vin : _("VIN not read"));

  root = gtk_widget_get_root (GTK_WIDGET (self));
  self->confirmation = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                                                   heading, body));
  adw_message_dialog_add_responses (self->confirmation,
                                    "cancel", _("_Cancel"),
                                    "restore", _("_Restore"),
                                    NULL);
  adw_message_dialog_set_response_appearance (self->confirmation, "restore", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (self->confirmation, "cancel");
  adw_message_dialog_set_close_response (self->confirmation, "cancel");
  self->confirmation_job_id = job_id;
  g_signal_connect (self->confirmation, "response", G_CALLBACK (on_confirmation_response), self);
  gtk_window_present (GTK_WINDOW (self->confirmation));
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

  gtk_widget_class_install_action (widget_class, "history.restore", "x", restore_activated);
  gtk_widget_class_install_action (widget_class, "history.refresh", NULL, refresh_activated);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/ecuworkshop/EcuWorkshop/ew-history-page.ui");
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
