/* ew-job-row.c — one job on the History page. */
#include "config.h"

#include <glib/gi18n.h>

#include "ew-job-row.h"

struct _EwJobRow {
  AdwExpanderRow  parent_instance;

  GtkLabel       *state_label;
  GtkButton      *restore_button;
  GtkButton      *sheet_button;

  gint64          job_id;
  gboolean        can_restore;
  gboolean        is_resume;      /* a programming job: goes on, not undone */
  gboolean        has_job_sheet;
  guint           n_journal;
};

G_DEFINE_FINAL_TYPE (EwJobRow, ew_job_row, ADW_TYPE_EXPANDER_ROW)

static const char *
kind_text (int kind)
{
  switch (kind)
    {
    case EW_JOB_KIND_RESTORE:
      return _("Restore");
    case EW_JOB_KIND_PROGRAMMING:
      return _("Programming");
    case EW_JOB_KIND_CODING:
    default:
      return _("Coding");
    }
}

static const char *
state_text (int state, const char **css_class)
{
  switch (state)
    {
    case EW_JOB_STATE_RUNNING:
      *css_class = "ew-badge-warning";
      /* TRANSLATORS: a job a crash or a lost link interrupted */
      return _("Unfinished");
    case EW_JOB_STATE_ROLLED_BACK:
      *css_class = "ew-badge-warning";
      return _("Rolled back");
    case EW_JOB_STATE_FAILED:
      *css_class = "ew-badge-error";
      return _("Needs attention");
    case EW_JOB_STATE_RESTORED:
      *css_class = "ew-badge-neutral";
      return _("Undone");
    case EW_JOB_STATE_DONE:
    default:
      *css_class = "ew-badge-success";
      return _("Done");
    }
}

static char *
format_time (GDateTime *time)
{
  g_autoptr(GDateTime) local = NULL;

  if (time == NULL)
    return g_strdup ("—");
  local = g_date_time_to_local (time);
  /* TRANSLATORS: date and time of a job, see g_date_time_format() */
  return g_date_time_format (local, _("%Y-%m-%d %H:%M:%S"));
}

static const char *
outcome_text (const char *outcome)
{
  if (g_strcmp0 (outcome, "ok") == 0)
    return _("ok");
  if (g_strcmp0 (outcome, "failed") == 0)
    return _("failed");
  if (g_strcmp0 (outcome, "skipped") == 0)
    return _("skipped");
  return outcome;
}

/* The journal keeps step names as ids; people read them in their words.
 * Steps without a name here show as recorded. */
static const char *
step_text (const char *step)
{
  static const struct { const char *id; const char *text; } steps[] = {
    { "job",              N_("Job") },
    { "provenance",       N_("Data provenance") },
    { "acknowledge",      N_("Acknowledged by the technician") },
    { "preflight",        N_("Preparation") },
    { "battery",          N_("Battery voltage") },
    { "backup",           N_("Backup") },
    { "write",            N_("Write") },
    { "verify",           N_("Read back") },
    { "rollback",         N_("Rollback") },
    { "restore",          N_("Restore") },
    { "cancel",           N_("Cancelled") },
    { "plan",             N_("Plan") },
    { "read-mileage",     N_("Mileage read") },
    { "mileage",          N_("Mileage chosen") },
    { "mileage-transfer", N_("Mileage transfer") },
    { "erase",            N_("Erase") },
    { "download",         N_("Download") },
    { "done",             N_("Done") },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (steps); i++)
    if (g_strcmp0 (step, steps[i].id) == 0)
      return _(steps[i].text);
  return step;
}

static GtkWidget *
journal_row (const EwJournalEntry *entry)
{
  GtkWidget *row = adw_action_row_new ();
  g_autofree char *title = NULL;
  g_autofree char *time = format_time (entry->time);
  g_autofree char *subtitle = NULL;

  if (entry->module_id != NULL)
    /* TRANSLATORS: journal entry: step · module · outcome */
    title = g_strdup_printf (_("%s · %s · %s"), step_text (entry->step), entry->module_id,
                             outcome_text (entry->outcome));
  else
    /* TRANSLATORS: journal entry: step · outcome */
    title = g_strdup_printf (_("%s · %s"), step_text (entry->step), outcome_text (entry->outcome));
  if (entry->detail != NULL && *entry->detail != '\0')
    subtitle = g_strdup_printf ("%s\n%s", entry->detail, time);
  else
    subtitle = g_steal_pointer (&time);

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 0);
  adw_action_row_set_title_lines (ADW_ACTION_ROW (row), 0);
  if (g_strcmp0 (entry->outcome, "failed") == 0)
    gtk_widget_add_css_class (row, "error");
  return row;
}

GtkWidget *
ew_job_row_new (const EwJobRecord *record, GPtrArray *journal)
{
  EwJobRow *self;
  const char *css_class = NULL;
  const char *state;
  g_autofree char *subtitle = NULL;
  g_autofree char *started = NULL;
  g_autofree char *title = NULL;
  g_autofree char *restore_name = NULL;
  g_autofree char *sheet_name = NULL;
  g_autofree char *name = NULL;
  g_autofree char *number = NULL;
  g_autofree char *restored_number = NULL;

  g_return_val_if_fail (record != NULL, NULL);

  self = g_object_new (EW_TYPE_JOB_ROW, NULL);
  self->job_id = record->id;
  number = g_strdup_printf ("%" G_GINT64_FORMAT, record->id);
  restored_number = g_strdup_printf ("%" G_GINT64_FORMAT, record->restores_job_id);
  name = g_strdup_printf ("job-%s", number);
  gtk_widget_set_name (GTK_WIDGET (self), name);

  state = state_text (record->state, &css_class);
  gtk_label_set_label (self->state_label, state);
  gtk_widget_add_css_class (GTK_WIDGET (self->state_label), css_class);

  title = g_strdup (record->summary != NULL && *record->summary != '\0'
                    ? record->summary : kind_text (record->kind));
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self), title);

  started = format_time (record->started);
  if (record->kind == EW_JOB_KIND_RESTORE && record->restores_job_id > 0)
    /* TRANSLATORS: job number, kind of job, the job it undid, time, VIN */
    subtitle = g_strdup_printf (_("Job %s · %s of job %s · %s · %s"), number, kind_text (record->kind),
                                restored_number, started,
                                record->vin ? record->vin : _("VIN not read"));
  else
    /* TRANSLATORS: job number, kind of job, time, VIN */
    subtitle = g_strdup_printf (_("Job %s · %s · %s · %s"), number,
                                kind_text (record->kind), started,
                                record->vin ? record->vin : _("VIN not read"));
  adw_expander_row_set_subtitle (ADW_EXPANDER_ROW (self), subtitle);

  self->can_restore = record->kind == EW_JOB_KIND_CODING
                      && (record->state == EW_JOB_STATE_DONE || record->state == EW_JOB_STATE_RUNNING);
  gtk_actionable_set_action_target_value (GTK_ACTIONABLE (self->restore_button),
                                          g_variant_new_int64 (record->id));
  self->is_resume = record->kind == EW_JOB_KIND_PROGRAMMING;
  if (self->is_resume)
    {
      /* software is not undone from a backup: the interrupted job goes on;
       * whether it can is the page's to say (ew_job_row_set_can_resume) */
      gtk_button_set_label (self->restore_button, _("_Resume"));
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->restore_button),
                                   _("Finish this programming job: the module is programmed again from where it stands, read back, and the same job's journal goes on"));
      /* TRANSLATORS: accessible name of the Resume button of one job */
      restore_name = g_strdup_printf (_("Resume job %s"), number);
    }
  else
    /* TRANSLATORS: accessible name of the Restore button of one job */
    restore_name = g_strdup_printf (_("Restore job %s"), number);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->restore_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, restore_name, -1);
  gtk_widget_set_visible (GTK_WIDGET (self->restore_button), self->can_restore);

  self->has_job_sheet = record->state == EW_JOB_STATE_DONE ||
                        record->state == EW_JOB_STATE_ROLLED_BACK ||
                        record->state == EW_JOB_STATE_RESTORED;
  gtk_actionable_set_action_target_value (GTK_ACTIONABLE (self->sheet_button),
                                          g_variant_new_int64 (record->id));
  /* TRANSLATORS: accessible name of the Job Sheet button of one job */
  sheet_name = g_strdup_printf (_("Save the job sheet of job %s"), number);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->sheet_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, sheet_name, -1);
  gtk_widget_set_visible (GTK_WIDGET (self->sheet_button), self->has_job_sheet);

  if (journal != NULL)
    for (guint i = 0; i < journal->len; i++)
      {
        adw_expander_row_add_row (ADW_EXPANDER_ROW (self),
                                  journal_row (g_ptr_array_index (journal, i)));
        self->n_journal++;
      }
  if (self->n_journal == 0)
    {
      GtkWidget *row = adw_action_row_new ();

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _("No journal entries"));
      adw_expander_row_add_row (ADW_EXPANDER_ROW (self), row);
    }
  return GTK_WIDGET (self);
}

gint64
ew_job_row_get_job_id (EwJobRow *self)
{
  g_return_val_if_fail (EW_IS_JOB_ROW (self), 0);
  return self->job_id;
}

gboolean
ew_job_row_can_restore (EwJobRow *self)
{
  g_return_val_if_fail (EW_IS_JOB_ROW (self), FALSE);
  return self->can_restore;
}

gboolean
ew_job_row_is_resume (EwJobRow *self)
{
  g_return_val_if_fail (EW_IS_JOB_ROW (self), FALSE);
  return self->is_resume;
}

void
ew_job_row_set_can_resume (EwJobRow *self, gboolean can_resume)
{
  g_return_if_fail (EW_IS_JOB_ROW (self));
  g_return_if_fail (self->is_resume);

  self->can_restore = can_resume;
  gtk_widget_set_visible (GTK_WIDGET (self->restore_button), can_resume);
}

const char *
ew_job_row_get_action_label (EwJobRow *self)
{
  g_return_val_if_fail (EW_IS_JOB_ROW (self), NULL);
  return gtk_button_get_label (self->restore_button);
}

gboolean
ew_job_row_has_job_sheet (EwJobRow *self)
{
  g_return_val_if_fail (EW_IS_JOB_ROW (self), FALSE);
  return self->has_job_sheet;
}

const char *
ew_job_row_get_state_text (EwJobRow *self)
{
  g_return_val_if_fail (EW_IS_JOB_ROW (self), NULL);
  return gtk_label_get_label (self->state_label);
}

guint
ew_job_row_get_n_journal (EwJobRow *self)
{
  g_return_val_if_fail (EW_IS_JOB_ROW (self), 0);
  return self->n_journal;
}

static void
ew_job_row_class_init (EwJobRowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/ecuworkshop/EcuWorkshop/ew-job-row.ui");
  gtk_widget_class_bind_template_child (widget_class, EwJobRow, state_label);
  gtk_widget_class_bind_template_child (widget_class, EwJobRow, restore_button);
  gtk_widget_class_bind_template_child (widget_class, EwJobRow, sheet_button);
}

static void
ew_job_row_init (EwJobRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}
