/* ew-features-page.c — the Features page: read, switch and apply features. */
#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "ew-features-page.h"
#include "ew-feature-item.h"
#include "ew-feature-row.h"
#include "coding/coding-plan.h"
#include "coding/coding-transaction.h"

typedef enum {
  WORK_READ,
  WORK_APPLY,
  WORK_RESTORE,
} WorkKind;

/* One piece of engine work, shared by the page (main thread) and its
 * worker: the worker fills the results, the page reads them when done. */
typedef struct {
  WorkKind            kind;
  EwFeaturesPage     *page;          /* owned; touched on the main thread only */
  char               *link;
  EwCarLink          *car_link;
  EwConnection       *connection;    /* in: the page's (nullable); out: the one used */
  EwSharedStore      *store;         /* nullable */
  EwCodingPlan       *plan;          /* WORK_APPLY */
  char              **acknowledged;  /* WORK_APPLY */
  gint64              job_id;        /* WORK_RESTORE: in; both: the job started */
  GError             *job_error;     /* the apply or restore failed */
  EwFeatureCatalogue *catalogue;     /* read after the work */
  GCancellable       *cancellable;
  GMainContext       *context;
  GtkApplication     *application;   /* holds the suspend inhibitor, or NULL */
  guint               inhibit_cookie;
} Work;

typedef struct {
  Work   *work;
  char   *step;
  char   *module_id;
  double  fraction;
} Progress;

struct _EwFeaturesPage {
  GtkWidget           parent_instance;

  AdwToastOverlay    *toast_overlay;
  GtkStack           *main_stack;
  AdwStatusPage      *error_status;
  GtkSearchEntry     *search_entry;
  GtkToggleButton    *by_category_button;
  GtkToggleButton    *by_module_button;
  GtkWidget          *failure_box;
  GtkLabel           *failure_title;
  GtkLabel           *failure_label;
  GtkLabel           *car_label;
  GtkListView        *feature_list;
  GtkWidget          *no_match_label;
  GtkRevealer        *progress_revealer;
  GtkLabel           *progress_label;
  GtkProgressBar     *apply_progress;
  GtkRevealer        *pending_revealer;
  GtkLabel           *pending_label;
  GtkButton          *apply_button;

  EwVehicleDatabase  *db;            /* borrowed */
  EwCarLink          *car_link;      /* nullable */
  EwSharedStore      *store;         /* nullable */
  char               *progress_title; /* while writing: "42 % — Coding" */
  char               *link;
  EwConnection       *connection;    /* nullable */
  EwFeatureCatalogue *catalogue;     /* nullable */
  GHashTable         *pending;       /* feature id → state name */
  GPtrArray          *items;         /* EwFeatureItem per feature, in the family's order */
  GHashTable         *items_by_id;   /* feature id → EwFeatureItem (borrowed) */
  GListStore         *list_store;    /* headings and features, grouped */
  GtkCustomFilter    *filter;
  GtkFilterListModel *filter_model;  /* what the search lists */
  GtkSliceListModel  *shown_model;   /* its start, then all of it: what the list view shows */
  guint               grow_source;
  GHashTable         *bound_rows;    /* EwFeatureItem → the EwFeatureRow showing it (borrowed) */
  char               *search_folded; /* the search the items are listed for */
  GPtrArray          *spare_rows;    /* row boxes of list items gone, to reuse */
  guint               spare_source;  /* makes spare rows while the page is idle */
  GPtrArray          *spare_headings;
  Work               *work;          /* running, or NULL */
  AdwMessageDialog   *review;        /* open, or NULL */
  EwCodingPlan       *review_plan;   /* the plan under review */
  GPtrArray          *review_checks; /* GtkCheckButton per community line */
  gboolean            is_review_refused; /* illustrative data on a real car */
  AdwToast           *undo_toast;    /* the last job's Undo, while shown */
  gint64              last_job_id;
};

G_DEFINE_FINAL_TYPE (EwFeaturesPage, ew_features_page, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_IS_BUSY,
  PROP_CONNECTION,
  PROP_N_PENDING,
  PROP_PROGRESS_TITLE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SIGNAL_JOB_FINISHED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void rebuild_rows (EwFeaturesPage *self);
static void make_spare_rows_when_idle (EwFeaturesPage *self);
static void fill_items (EwFeaturesPage *self);

/* Work */

static void
work_clear (Work *work)
{
  g_clear_object (&work->application);
  g_object_unref (work->page);
  g_free (work->link);
  g_clear_pointer (&work->car_link, ew_car_link_unref);
  g_clear_object (&work->connection);
  g_clear_pointer (&work->store, ew_shared_store_unref);
  g_clear_pointer (&work->plan, ew_coding_plan_free);
  g_strfreev (work->acknowledged);
  g_clear_error (&work->job_error);
  g_clear_pointer (&work->catalogue, ew_feature_catalogue_free);
  g_object_unref (work->cancellable);
  g_main_context_unref (work->context);
}

static Work *
work_ref (Work *work)
{
  return g_atomic_rc_box_acquire (work);
}

static void
work_unref (Work *work)
{
  g_atomic_rc_box_release_full (work, (GDestroyNotify) work_clear);
}

static void
progress_free (Progress *progress)
{
  work_unref (progress->work);
  g_free (progress->step);
  g_free (progress->module_id);
  g_free (progress);
}

static const char *
step_text (const char *step)
{
  if (g_strcmp0 (step, "preflight") == 0)
    return _("Preparing the modules");
  if (g_strcmp0 (step, "backup") == 0)
    return _("Backing up the coding");
  if (g_strcmp0 (step, "write") == 0)
    return _("Writing the coding");
  if (g_strcmp0 (step, "verify") == 0)
    return _("Reading the coding back");
  if (g_strcmp0 (step, "rollback") == 0)
    return _("Restoring what was written");
  if (g_strcmp0 (step, "restore") == 0)
    return _("Restoring the backup");
  return step;
}

/* The window's title shows how far a write is, also in the task switcher;
 * fraction < 0: nothing is written. */
static void
set_progress_title (EwFeaturesPage *self, double fraction)
{
  g_autofree char *title = NULL;

  if (fraction >= 0.0)
    /* TRANSLATORS: the window title while coding is written; %d is the percentage */
    title = g_strdup_printf (_("%d %% — Coding"), (int) (CLAMP (fraction, 0.0, 1.0) * 100.0));
  if (g_strcmp0 (title, self->progress_title) == 0)
    return;
  g_free (self->progress_title);
  self->progress_title = g_steal_pointer (&title);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROGRESS_TITLE]);
}

static gboolean
progress_show (gpointer data)
{
  Progress *progress = data;
  EwFeaturesPage *self = progress->work->page;
  g_autofree char *text = NULL;

  if (self->work != progress->work)
    return G_SOURCE_REMOVE;
  if (progress->module_id != NULL)
    /* TRANSLATORS: a step of the coding job and the module it works on */
    text = g_strdup_printf (_("%s: %s…"), step_text (progress->step), progress->module_id);
  else
    /* TRANSLATORS: a step of the coding job in progress */
    text = g_strdup_printf (_("%s…"), step_text (progress->step));
  gtk_label_set_label (self->progress_label, text);
  /* the bar never goes backwards */
  if (progress->fraction > gtk_progress_bar_get_fraction (self->apply_progress))
    gtk_progress_bar_set_fraction (self->apply_progress, CLAMP (progress->fraction, 0.0, 1.0));
  set_progress_title (self, gtk_progress_bar_get_fraction (self->apply_progress));
  return G_SOURCE_REMOVE;
}

/* Worker thread: hands the step to the page's main context. */
static void
on_progress (const char *step,
             const char *module_id,
             double      fraction,
             gpointer    user_data)
{
  Work *work = user_data;
  Progress *progress = g_new0 (Progress, 1);

  progress->work = work_ref (work);
  progress->step = g_strdup (step);
  progress->module_id = g_strdup (module_id);
  progress->fraction = fraction;
  g_main_context_invoke_full (work->context, G_PRIORITY_DEFAULT, progress_show,
                              progress, (GDestroyNotify) progress_free);
}

static void
work_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  Work *work = task_data;
  EwJobStore *store = work->store ? ew_shared_store_get_store (work->store) : NULL;
  g_autoptr(GError) error = NULL;
  EwConnection *connection;

  connection = ew_car_link_acquire (work->car_link, work->link, cancellable, &error);
  if (connection == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_set_object (&work->connection, connection);

  switch (work->kind)
    {
    case WORK_APPLY:
      {
        gint64 job_id = 0;

        if (ew_coding_apply (work->connection, store, work->plan,
                             (const char *const *) work->acknowledged,
                             on_progress, work, &job_id, cancellable, &work->job_error) > 0)
          g_clear_error (&work->job_error);
        work->job_id = job_id;
      }
      break;

    case WORK_RESTORE:
      work->job_id = ew_coding_restore (work->connection, store, work->job_id,
                                        on_progress, work, cancellable, &work->job_error);
      break;

    case WORK_READ:
    default:
      break;
    }

  /* after any write, what the car really holds */
  work->catalogue = ew_feature_catalogue_read (work->connection, NULL, cancellable, &error);
  ew_car_link_release (work->car_link, connection);
  if (work->catalogue == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_return_boolean (task, TRUE);
}

/* State */

static void
update_actions (EwFeaturesPage *self)
{
  gboolean is_busy = self->work != NULL;
  guint n_pending = g_hash_table_size (self->pending);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "features.read",
                                 !is_busy && self->link != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "features.apply",
                                 !is_busy && n_pending > 0 && self->store != NULL
                                 && self->catalogue != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "features.discard", !is_busy && n_pending > 0);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "features.undo", !is_busy && self->store != NULL);
}

static void
update_pending (EwFeaturesPage *self)
{
  guint n = g_hash_table_size (self->pending);
  g_autofree char *text = NULL;
  g_autofree char *button = NULL;

  if (n > 0)
    {
      if (self->store == NULL)
        text = g_strdup (_("The job store cannot be opened: nothing can be written."));
      else
        text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                             "%u change waiting; nothing is written until you apply it.",
                                             "%u changes waiting; nothing is written until you apply them.",
                                             n), n);
      gtk_label_set_label (self->pending_label, text);
      button = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "_Apply %u Change", "_Apply %u Changes", n), n);
      gtk_button_set_label (self->apply_button, button);
    }
  gtk_revealer_set_reveal_child (self->pending_revealer, n > 0 && self->work == NULL);
  update_actions (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_PENDING]);
}

static void
set_work (EwFeaturesPage *self, Work *work)
{
  if (self->work != NULL)
    work_unref (self->work);
  self->work = work;
  gtk_revealer_set_reveal_child (self->progress_revealer,
                                 work != NULL && work->kind != WORK_READ);
  set_progress_title (self, work != NULL && work->kind != WORK_READ ? 0.0 : -1.0);
  update_pending (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IS_BUSY]);
}

static void
show_failure (EwFeaturesPage *self, const char *title, const char *detail)
{
  gtk_label_set_label (self->failure_title, title);
  gtk_label_set_label (self->failure_label, detail);
  gtk_widget_set_visible (self->failure_box, TRUE);
}

/* The outcome of an apply or restore in plain language. */
static void
show_job_error (EwFeaturesPage *self, WorkKind kind, const GError *error)
{
  g_autofree char *detail = NULL;
  const char *title;

  if (g_error_matches (error, EW_CODING_ERROR, EW_CODING_ERROR_ROLLBACK_FAILED))
    {
      title = _("Attention: a module may be left half-coded");
      /* TRANSLATORS: %s says what failed */
      detail = g_strdup_printf (_("%s — restoring the backup failed too. Keep the car connected and restore the job from the History page."),
                                error->message);
    }
  else if (g_error_matches (error, EW_CODING_ERROR, EW_CODING_ERROR_ROLLED_BACK))
    {
      title = kind == WORK_RESTORE ? _("The restore failed — every module was put back")
                                   : _("The change failed — every module was restored");
      /* TRANSLATORS: %s says what failed */
      detail = g_strdup_printf (_("Nothing was changed: %s"), error->message);
    }
  else
    {
      title = kind == WORK_RESTORE ? _("Nothing was restored") : _("Nothing was changed");
      /* TRANSLATORS: %s says why nothing was written */
      detail = g_strdup_printf (_("Nothing was changed: %s"), error->message);
    }
  show_failure (self, title, detail);
  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (title));
}

static void
show_catalogue (EwFeaturesPage *self, EwFeatureCatalogue *catalogue)
{
  EwFamily *family;
  const char *vin;
  g_autofree char *text = NULL;

  g_clear_pointer (&self->catalogue, ew_feature_catalogue_free);
  self->catalogue = catalogue;
  g_hash_table_remove_all (self->pending);

  family = ew_feature_catalogue_get_family (catalogue);
  vin = ew_feature_catalogue_get_vin (catalogue);
  if (ew_feature_catalogue_is_simulated (catalogue))
    /* TRANSLATORS: make, model and VIN of a simulated car */
    text = g_strdup_printf (_("%s %s · %s · simulated car: illustrative data may be written to it."),
                            family->make, family->model, vin ? vin : _("VIN not read"));
  else
    /* TRANSLATORS: make, model and VIN of the car */
    text = g_strdup_printf (_("%s %s · %s"), family->make, family->model,
                            vin ? vin : _("VIN not read"));
  gtk_label_set_label (self->car_label, text);
  fill_items (self);
  rebuild_rows (self);
  gtk_stack_set_visible_child_name (self->main_stack, "list");
}

static void
on_work_done (GObject      *source_object,
              GAsyncResult *res,
              gpointer      user_data)
{
  EwFeaturesPage *self = EW_FEATURES_PAGE (source_object);
  Work *work = g_task_get_task_data (G_TASK (res));
  g_autoptr(GError) error = NULL;
  gboolean ok = g_task_propagate_boolean (G_TASK (res), &error);

  if (work->inhibit_cookie != 0)
    {
      gtk_application_uninhibit (work->application, work->inhibit_cookie);
      work->inhibit_cookie = 0;
    }
  if (work != self->work)
    return;

  if (g_strcmp0 (work->link, self->link) != 0)
    {
      /* the link changed while the work ran: its car is no longer the one in the bay */
      gint64 job_id = work->job_id;
      WorkKind kind = work->kind;

      set_work (self, NULL);
      if (kind != WORK_READ)
        g_signal_emit (self, signals[SIGNAL_JOB_FINISHED], 0, job_id);
      ew_features_page_read (self);
      return;
    }
  if (work->connection != NULL && work->connection != self->connection)
    {
      g_set_object (&self->connection, work->connection);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONNECTION]);
    }
  if (work->kind != WORK_READ && work->job_id > 0)
    self->last_job_id = work->job_id;

  if (ok)
    show_catalogue (self, g_steal_pointer (&work->catalogue));
  else if (work->kind == WORK_READ)
    {
      adw_status_page_set_description (self->error_status, error->message);
      gtk_stack_set_visible_child_name (self->main_stack, "error");
    }

  if (work->kind != WORK_READ)
    {
      if (work->job_error != NULL)
        show_job_error (self, work->kind, work->job_error);
      else if (work->kind == WORK_APPLY)
        {
          AdwToast *toast = adw_toast_new (_("The changes were written and verified"));

          adw_toast_set_button_label (toast, _("_Undo"));
          adw_toast_set_action_name (toast, "features.undo");
          adw_toast_set_action_target_value (toast, g_variant_new_int64 (work->job_id));
          /* Undo stays offered until the next job; History keeps Restore after that */
          adw_toast_set_timeout (toast, 0);
          g_set_object (&self->undo_toast, toast);
          adw_toast_overlay_add_toast (self->toast_overlay, toast);
        }
      else
        adw_toast_overlay_add_toast (self->toast_overlay,
                                     adw_toast_new (_("The backup was written back and verified")));
      if (!ok)
        /* TRANSLATORS: the car could not be read after a job; %s says why */
        show_failure (self, _("The car could not be read again"), error->message);
    }

  set_work (self, NULL);
  if (work->kind != WORK_READ)
    g_signal_emit (self, signals[SIGNAL_JOB_FINISHED], 0, self->last_job_id);
}

static void
start_work (EwFeaturesPage *self, Work *work)
{
  g_autoptr(GTask) task = NULL;

  work->page = g_object_ref (self);
  work->link = g_strdup (self->link);
  work->car_link = self->car_link ? ew_car_link_ref (self->car_link) : NULL;
  work->connection = self->connection ? g_object_ref (self->connection) : NULL;
  work->store = self->store ? ew_shared_store_ref (self->store) : NULL;
  work->cancellable = g_cancellable_new ();
  work->context = g_main_context_ref_thread_default ();

  gtk_widget_set_visible (self->failure_box, FALSE);
  if (self->undo_toast != NULL)
    {
      adw_toast_dismiss (self->undo_toast);
      g_clear_object (&self->undo_toast);
    }
  gtk_progress_bar_set_fraction (self->apply_progress, 0.0);
  gtk_label_set_label (self->progress_label,
                       work->kind == WORK_RESTORE ? _("Restoring the backup…") : _("Starting…"));
  if (work->kind == WORK_READ && self->catalogue == NULL)
    gtk_stack_set_visible_child_name (self->main_stack, "loading");
  if (work->kind != WORK_READ)
    {
      /* no suspend or logout while modules are written */
      GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
      GtkApplication *app = GTK_IS_WINDOW (root) ? gtk_window_get_application (GTK_WINDOW (root)) : NULL;

      if (app != NULL)
        {
          work->application = g_object_ref (app);
          work->inhibit_cookie = gtk_application_inhibit (app, GTK_WINDOW (root),
                                                          GTK_APPLICATION_INHIBIT_SUSPEND |
                                                          GTK_APPLICATION_INHIBIT_LOGOUT,
                                                          _("Coding is being written to the car"));
        }
    }
  set_work (self, work);

  task = g_task_new (self, work->cancellable, on_work_done, NULL);
  g_task_set_source_tag (task, start_work);
  g_task_set_task_data (task, work_ref (work), (GDestroyNotify) work_unref);
  g_task_run_in_thread (task, work_thread);
}

static Work *
work_new (WorkKind kind)
{
  Work *work = g_atomic_rc_box_new0 (Work);

  work->kind = kind;
  return work;
}

/* Rows */

static const char *
category_title (const char *category)
{
  static const struct { const char *id; const char *title; } titles[] = {
    { "lighting", N_("Lighting") },
    { "comfort", N_("Comfort") },
    { "driving", N_("Driving") },
    { "infotainment", N_("Infotainment") },
    { "instruments", N_("Instruments") },
    { "safety", N_("Safety") },
  };

  for (guint i = 0; i < G_N_ELEMENTS (titles); i++)
    if (g_strcmp0 (category, titles[i].id) == 0)
      return _(titles[i].title);
  return category != NULL ? category : _("Other");
}

static void
on_state_requested (EwFeatureRow *row, const char *state, EwFeaturesPage *self)
{
  EwFeatureItem *item = ew_feature_row_get_item (row);
  const EwFeature *feature;
  const EwFeatureStatus *status;

  if (item == NULL || self->catalogue == NULL)
    return;
  feature = ew_feature_item_get_feature (item);
  status = ew_feature_catalogue_find (self->catalogue, feature->id);
  if (status != NULL && status->state != NULL && g_strcmp0 (status->state->name, state) == 0)
    {
      g_hash_table_remove (self->pending, feature->id);
      ew_feature_item_set_pending_state (item, NULL);
    }
  else
    {
      g_hash_table_insert (self->pending, g_strdup (feature->id), g_strdup (state));
      ew_feature_item_set_pending_state (item, state);
    }
  update_pending (self);
}

/* The search in words, casefolded; NULL when it has none. */
static GStrv
search_words (const char *folded)
{
  g_auto(GStrv) split = g_strsplit_set (folded, " \t\n", -1);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  gboolean any = FALSE;

  for (guint i = 0; split[i] != NULL; i++)
    if (*split[i] != '\0')
      {
        g_strv_builder_add (builder, split[i]);
        any = TRUE;
      }
  return any ? g_strv_builder_end (builder) : NULL;
}

/* Marks which items are listed for the search: each feature holding every
 * word, and the heading of a group with any such feature. only_listed:
 * the search narrowed the last one, so an item not listed stays so.
 * Returns whether any item changed. */
static gboolean
mark_one (EwFeatureItem *item, gboolean is_listed)
{
  if (ew_feature_item_get_is_listed (item) == is_listed)
    return FALSE;
  ew_feature_item_set_is_listed (item, is_listed);
  return TRUE;
}

static gboolean
mark_listed (EwFeaturesPage *self, const char * const *words, gboolean only_listed)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->list_store));
  EwFeatureItem *heading = NULL;
  gboolean heading_listed = FALSE;
  gboolean changed = FALSE;

  for (guint i = 0; i < n; i++)
    {
      /* the store keeps its items: a borrowed pointer is enough here */
      EwFeatureItem *item = g_list_model_get_item (G_LIST_MODEL (self->list_store), i);

      g_object_unref (item);
      if (ew_feature_item_is_heading (item))
        {
          if (heading != NULL)
            changed |= mark_one (heading, heading_listed);
          heading = item;
          heading_listed = FALSE;
          continue;
        }
      if (words == NULL)
        changed |= mark_one (item, TRUE);
      else if (!only_listed || ew_feature_item_get_is_listed (item))
        changed |= mark_one (item, ew_feature_item_matches (item, words));
      heading_listed |= ew_feature_item_get_is_listed (item);
    }
  if (heading != NULL)
    changed |= mark_one (heading, heading_listed);
  return changed;
}

static gboolean
item_is_listed (gpointer item, gpointer user_data)
{
  return ew_feature_item_get_is_listed (EW_FEATURE_ITEM (item));
}

static void
update_no_match (EwFeaturesPage *self)
{
  gtk_widget_set_visible (self->no_match_label,
                          self->catalogue != NULL
                          && g_list_model_get_n_items (G_LIST_MODEL (self->filter_model)) == 0);
}

/* GTK 4.8's list view makes a row for each of some 200 items around the
 * top when the list changes, which takes far longer than a frame. A new
 * search shows its first matches at once (a screenful), and the rest a
 * few rows per idle moment after the frame is drawn, so that typing stays
 * quick. */
#define FIRST_SHOWN 12
#define SHOWN_STEP  8

static gboolean
grow_shown (gpointer user_data)
{
  EwFeaturesPage *self = user_data;
  guint size = gtk_slice_list_model_get_size (self->shown_model);

  if (size >= g_list_model_get_n_items (G_LIST_MODEL (self->filter_model)))
    {
      gtk_slice_list_model_set_size (self->shown_model, G_MAXUINT);
      self->grow_source = 0;
      return G_SOURCE_REMOVE;
    }
  gtk_slice_list_model_set_size (self->shown_model, size + SHOWN_STEP);
  return G_SOURCE_CONTINUE;
}

static void
show_from_the_start (EwFeaturesPage *self)
{
  gtk_slice_list_model_set_size (self->shown_model, FIRST_SHOWN);
  if (self->grow_source == 0)
    self->grow_source = g_idle_add_full (G_PRIORITY_LOW, grow_shown, self, NULL);
}

/* Everything listed is in the list view, at once. */
static void
show_everything (EwFeaturesPage *self)
{
  g_clear_handle_id (&self->grow_source, g_source_remove);
  gtk_slice_list_model_set_size (self->shown_model, G_MAXUINT);
}

static void
apply_filter (EwFeaturesPage *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->search_entry));
  g_autofree char *folded = g_utf8_casefold (text, -1);
  g_auto(GStrv) words = search_words (folded);
  const char *last = self->search_folded;
  GtkFilterChange change;
  gboolean changed;

  /* typing on narrows the list; deleting widens it: the filter model then
   * looks only at the items that can change */
  if (last != NULL && g_str_equal (folded, last))
    return;
  if (last != NULL && g_str_has_prefix (folded, last))
    change = GTK_FILTER_CHANGE_MORE_STRICT;
  else if (last != NULL && g_str_has_prefix (last, folded))
    change = GTK_FILTER_CHANGE_LESS_STRICT;
  else
    change = GTK_FILTER_CHANGE_DIFFERENT;
  changed = mark_listed (self, (const char * const *) words, change == GTK_FILTER_CHANGE_MORE_STRICT);
  g_free (self->search_folded);
  self->search_folded = g_steal_pointer (&folded);
  /* a word that lists the same features leaves the rows as they are */
  if (!changed)
    return;
  show_from_the_start (self);
  gtk_filter_changed (GTK_FILTER (self->filter), change);
  /* a new search shows its best matches: the list from its top */
  if (g_list_model_get_n_items (G_LIST_MODEL (self->filter_model)) > 0)
    gtk_widget_activate_action (GTK_WIDGET (self->feature_list), "list.scroll-to-item", "u", 0);
  update_no_match (self);
}

static void
on_search_changed (EwFeaturesPage *self)
{
  apply_filter (self);
}

/* Groups the features, in the family's order: a heading per category or
 * module where its first feature stands, then every feature of it. */
static void
rebuild_rows (EwFeaturesPage *self)
{
  gboolean by_module = gtk_toggle_button_get_active (self->by_module_button);
  g_autoptr(GHashTable) groups = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) order = g_ptr_array_new ();
  g_autoptr(GPtrArray) flat = g_ptr_array_new_with_free_func (g_object_unref);
  g_autofree char *folded = NULL;
  g_auto(GStrv) words = NULL;
  gboolean was_empty;

  for (guint i = 0; i < self->items->len; i++)
    {
      EwFeatureItem *item = g_ptr_array_index (self->items, i);
      const EwFeature *feature = ew_feature_item_get_feature (item);
      const EwModule *module = ew_feature_item_get_module (item);
      const char *title;
      GPtrArray *group;

      if (by_module)
        title = module != NULL ? module->name : feature->module;
      else
        title = category_title (feature->category);
      group = g_hash_table_lookup (groups, title);
      if (group == NULL)
        {
          group = g_ptr_array_new_with_free_func (g_object_unref);
          g_ptr_array_add (group, ew_feature_item_new_heading (title));
          g_hash_table_insert (groups, (gpointer) title, group);
          g_ptr_array_add (order, group);
        }
      g_ptr_array_add (group, g_object_ref (item));
    }
  for (guint i = 0; i < order->len; i++)
    {
      GPtrArray *group = g_ptr_array_index (order, i);

      g_ptr_array_extend_and_steal (flat, group);
    }

  /* the new list is marked for the search before the filter sees it */
  g_clear_pointer (&self->search_folded, g_free);
  folded = g_utf8_casefold (gtk_editable_get_text (GTK_EDITABLE (self->search_entry)), -1);
  words = search_words (folded);
  self->search_folded = g_steal_pointer (&folded);
  was_empty = g_list_model_get_n_items (G_LIST_MODEL (self->list_store)) == 0;
  g_list_store_splice (self->list_store, 0, g_list_model_get_n_items (G_LIST_MODEL (self->list_store)),
                       flat->pdata, flat->len);
  mark_listed (self, (const char * const *) words, FALSE);
  /* the car's features read again (after applying, or Refresh) keep the
   * place in the list; the first reading starts from the top */
  if (was_empty)
    show_from_the_start (self);
  gtk_filter_changed (GTK_FILTER (self->filter), GTK_FILTER_CHANGE_DIFFERENT);
  update_no_match (self);
  if (flat->len > 0)
    make_spare_rows_when_idle (self);
}

static void
clear_items (EwFeaturesPage *self)
{
  g_list_store_remove_all (self->list_store);
  g_hash_table_remove_all (self->items_by_id);
  g_ptr_array_set_size (self->items, 0);
}

/* One item per feature of the catalogue; nothing is asked for yet. */
static void
fill_items (EwFeaturesPage *self)
{
  EwFamily *family = ew_feature_catalogue_get_family (self->catalogue);
  GPtrArray *features = ew_feature_catalogue_get_features (self->catalogue);

  clear_items (self);
  for (guint i = 0; i < features->len; i++)
    {
      const EwFeatureStatus *status = g_ptr_array_index (features, i);
      EwFeatureItem *item = ew_feature_item_new (status,
                                                 ew_coding_feature_provenance (family, status->feature));

      g_ptr_array_add (self->items, item);
      g_hash_table_insert (self->items_by_id, (gpointer) status->feature->id, item);
    }
}

/* Both buttons of the group toggle; the one turned on rebuilds. */
static void
on_grouping_toggled (GtkToggleButton *button, EwFeaturesPage *self)
{
  if (gtk_toggle_button_get_active (button))
    rebuild_rows (self);
}

/* List items: a heading label, or a feature row in a one-row list box (a
 * list box row takes the focus and the boxed-list look only inside one).
 * A list item bound again swaps its child when the kind of item changes. */

static GtkWidget *
new_heading (void)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_widget_set_margin_top (label, 18);
  gtk_widget_set_margin_bottom (label, 6);
  gtk_widget_set_margin_start (label, 6);
  gtk_widget_add_css_class (label, "heading");
  return label;
}

static void
on_row_activated (GtkListBox *box, GtkListBoxRow *row)
{
  ew_feature_row_activate_control (EW_FEATURE_ROW (row));
}

static GtkWidget *
new_row_box (EwFeaturesPage *self)
{
  GtkWidget *box = gtk_list_box_new ();
  GtkWidget *row = ew_feature_row_new ();

  gtk_list_box_set_selection_mode (GTK_LIST_BOX (box), GTK_SELECTION_NONE);
  gtk_widget_add_css_class (box, "boxed-list");
  gtk_list_box_append (GTK_LIST_BOX (box), row);
  g_signal_connect (box, "row-activated", G_CALLBACK (on_row_activated), NULL);
  g_signal_connect_object (row, "state-requested", G_CALLBACK (on_state_requested), self, 0);
  return box;
}

static EwFeatureRow *
row_of_box (GtkWidget *box)
{
  return EW_FEATURE_ROW (gtk_list_box_get_row_at_index (GTK_LIST_BOX (box), 0));
}

/* GTK 4.8's list view makes new list items for the items a search brings
 * in: their children are kept and reused, as making a row costs much
 * more than showing another feature in it. */
#define MAX_SPARE 256
/* GTK 4.8's list view keeps about 200 list items: a search that brings
 * as many new features in finds their rows made. */
#define SPARE_AHEAD 200
#define SPARE_BATCH 10

static gboolean
make_spare_rows (gpointer user_data)
{
  EwFeaturesPage *self = user_data;

  for (guint i = 0; i < SPARE_BATCH && self->spare_rows->len < SPARE_AHEAD; i++)
    {
      GtkWidget *box = new_row_box (self);

      g_ptr_array_add (self->spare_rows, g_object_ref_sink (box));
    }
  if (self->spare_rows->len < SPARE_AHEAD)
    return G_SOURCE_CONTINUE;
  self->spare_source = 0;
  return G_SOURCE_REMOVE;
}

static void
make_spare_rows_when_idle (EwFeaturesPage *self)
{
  if (self->spare_source == 0 && self->spare_rows->len < SPARE_AHEAD)
    self->spare_source = g_idle_add_full (G_PRIORITY_LOW, make_spare_rows, self, NULL);
}

static GtkWidget *
take_spare (GPtrArray *spare)
{
  if (spare->len == 0)
    return NULL;
  return g_ptr_array_steal_index_fast (spare, spare->len - 1);
}

static void
on_item_bind (GtkSignalListItemFactory *factory,
              GtkListItem              *list_item,
              EwFeaturesPage           *self)
{
  EwFeatureItem *item = gtk_list_item_get_item (list_item);
  GtkWidget *child = gtk_list_item_get_child (list_item);

  gtk_list_item_set_activatable (list_item, FALSE);
  gtk_list_item_set_selectable (list_item, FALSE);
  if (ew_feature_item_is_heading (item))
    {
      /* a heading takes the focus itself (nothing in it can): GTK 4.8's list
       * view stops moving the focus with Tab at an item that refuses it */
      gtk_list_item_set_selectable (list_item, TRUE);
      if (!GTK_IS_LABEL (child))
        {
          g_autoptr(GtkWidget) spare = take_spare (self->spare_headings);

          child = spare != NULL ? spare : new_heading ();
          gtk_list_item_set_child (list_item, child);
        }
      gtk_label_set_label (GTK_LABEL (child), ew_feature_item_get_title (item));
    }
  else
    {
      EwFeatureRow *row;

      if (!GTK_IS_LIST_BOX (child))
        {
          g_autoptr(GtkWidget) spare = take_spare (self->spare_rows);

          child = spare != NULL ? spare : new_row_box (self);
          gtk_list_item_set_child (list_item, child);
        }
      row = row_of_box (child);
      ew_feature_row_set_item (row, item);
      g_hash_table_insert (self->bound_rows, item, row);
    }
}

/* The child goes back to the spare ones: GTK 4.8 clears a list item's
 * child before "teardown", and binds a list item again only seldom. */
static void
on_item_unbind (GtkSignalListItemFactory *factory,
                GtkListItem              *list_item,
                EwFeaturesPage           *self)
{
  EwFeatureItem *item = gtk_list_item_get_item (list_item);
  GtkWidget *child = gtk_list_item_get_child (list_item);
  GPtrArray *spare;

  if (child == NULL)
    return;
  if (GTK_IS_LIST_BOX (child))
    {
      EwFeatureRow *row = row_of_box (child);

      if (item != NULL && g_hash_table_lookup (self->bound_rows, item) == row)
        g_hash_table_remove (self->bound_rows, item);
      spare = self->spare_rows;
    }
  else
    spare = self->spare_headings;
  if (spare == NULL || spare->len >= MAX_SPARE)
    return;
  g_ptr_array_add (spare, g_object_ref (child));
  gtk_list_item_set_child (list_item, NULL);
}

/* The position of feature_id in what the list shows, or -1. */
static int
listed_position (EwFeaturesPage *self, const char *feature_id)
{
  EwFeatureItem *item = g_hash_table_lookup (self->items_by_id, feature_id);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->filter_model));

  if (item == NULL || !ew_feature_item_get_is_listed (item))
    return -1;
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(EwFeatureItem) listed = g_list_model_get_item (G_LIST_MODEL (self->filter_model), i);

      if (listed == item)
        return (int) i;
    }
  return -1;
}

/* Review */

static void
close_review (EwFeaturesPage *self)
{
  g_clear_pointer (&self->review_checks, g_ptr_array_unref);
  g_clear_pointer (&self->review_plan, ew_coding_plan_free);
  self->review = NULL;
}

static void
update_review (EwFeaturesPage *self)
{
  gboolean all = TRUE;

  if (self->review == NULL)
    return;
  all = !self->is_review_refused;
  for (guint i = 0; i < self->review_checks->len; i++)
    all &= gtk_check_button_get_active (g_ptr_array_index (self->review_checks, i));
  adw_message_dialog_set_response_enabled (self->review, "apply", all);
}

static void
on_review_response (AdwMessageDialog *dialog,
                    const char       *response,
                    EwFeaturesPage   *self)
{
  g_autoptr(GStrvBuilder) acknowledged = g_strv_builder_new ();
  Work *work;

  if (self->review != dialog)
    return;
  if (g_strcmp0 (response, "apply") != 0 || self->work != NULL)
    {
      close_review (self);
      return;
    }

  for (guint i = 0; i < self->review_checks->len; i++)
    {
      GtkCheckButton *check = g_ptr_array_index (self->review_checks, i);

      if (gtk_check_button_get_active (check))
        g_strv_builder_add (acknowledged, g_object_get_data (G_OBJECT (check), "ew-feature-id"));
    }

  work = work_new (WORK_APPLY);
  work->plan = g_steal_pointer (&self->review_plan);
  work->acknowledged = g_strv_builder_end (acknowledged);
  close_review (self);
  start_work (self, work);
}

static GtkWidget *
review_line_row (EwFeaturesPage *self, const EwCodingPlanLine *line, const EwFeatureStatus *status)
{
  GtkWidget *row = adw_action_row_new ();
  g_autofree char *change = NULL;

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), line->feature->name);
  adw_action_row_set_title_lines (ADW_ACTION_ROW (row), 0);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 0);
  /* TRANSLATORS: a feature's state before and after the change */
  change = g_strdup_printf (_("%s → %s"), ew_feature_state_display (line->from),
                            ew_feature_state_display (line->to));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), change);

  if (status != NULL && status->needs_acknowledgement)
    {
      GtkWidget *check = gtk_check_button_new ();
      g_autofree char *label = NULL;
      g_autofree char *subtitle = NULL;

      gtk_widget_set_valign (check, GTK_ALIGN_CENTER);
      /* TRANSLATORS: the accessible name of the confirmation of one feature */
      label = g_strdup_printf (_("I have checked the community data for %s"), line->feature->name);
      gtk_accessible_update_property (GTK_ACCESSIBLE (check), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
      gtk_widget_set_tooltip_text (check, label);
      g_object_set_data_full (G_OBJECT (check), "ew-feature-id",
                              g_strdup (line->feature->id), g_free);
      g_signal_connect_swapped (check, "toggled", G_CALLBACK (update_review), self);
      adw_action_row_add_prefix (ADW_ACTION_ROW (row), check);
      adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), check);
      /* TRANSLATORS: %s is the change, then where the community data comes from */
      subtitle = g_strdup_printf (_("%s\nCommunity data (%s): tick to confirm you have checked it for this car."),
                                  change, line->feature->provenance.source ? line->feature->provenance.source : _("no source given"));
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
      g_ptr_array_add (self->review_checks, check);
    }
  return row;
}

static void
open_review (EwFeaturesPage *self)
{
  g_autoptr(GArray) requests = g_array_new (FALSE, FALSE, sizeof (EwFeatureRequest));
  g_autoptr(EwCodingPlan) plan = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *heading = NULL;
  g_autofree char *apply_label = NULL;
  GString *body;
  GPtrArray *features;
  GtkWidget *list;
  gboolean has_illustrative = FALSE;
  GtkRoot *root;

  if (self->catalogue == NULL || self->review != NULL || self->work != NULL)
    return;

  /* in the family's order, as the page lists them */
  features = ew_feature_catalogue_get_features (self->catalogue);
  for (guint i = 0; i < features->len; i++)
    {
      const EwFeatureStatus *status = g_ptr_array_index (features, i);
      const char *state = g_hash_table_lookup (self->pending, status->feature->id);
      EwFeatureRequest request = { status->feature->id, state };

      if (state != NULL)
        g_array_append_val (requests, request);
    }

  plan = ew_coding_plan_new (self->catalogue, (EwFeatureRequest *) requests->data,
                             requests->len, &error);
  if (plan == NULL)
    {
      show_failure (self, _("Nothing was changed"), error->message);
      return;
    }

  self->review_plan = g_steal_pointer (&plan);
  self->review_checks = g_ptr_array_new ();
  list = gtk_list_box_new ();
  gtk_list_box_set_selection_mode (GTK_LIST_BOX (list), GTK_SELECTION_NONE);
  gtk_widget_add_css_class (list, "boxed-list");
  gtk_accessible_update_property (GTK_ACCESSIBLE (list), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("The changes to apply"), -1);
  for (guint i = 0; i < self->review_plan->lines->len; i++)
    {
      const EwCodingPlanLine *line = g_ptr_array_index (self->review_plan->lines, i);
      const EwFeatureStatus *status = ew_feature_catalogue_find (self->catalogue, line->feature->id);

      has_illustrative |= ew_coding_feature_provenance (self->review_plan->family, line->feature)
                          == EW_PROVENANCE_ILLUSTRATIVE;
      gtk_list_box_append (GTK_LIST_BOX (list), review_line_row (self, line, status));
    }

  heading = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Apply %u Change?", "Apply %u Changes?",
                                          self->review_plan->lines->len),
                             self->review_plan->lines->len);
  body = g_string_new (_("Every coding value is backed up before it is written, read back after, and restored at once if anything goes wrong."));
  if (has_illustrative)
    g_string_append_printf (body, "\n\n%s", self->review_plan->is_simulated
                            ? _("Illustrative data: simulated cars only. This car is simulated.")
                            : _("Illustrative data: simulated cars only. This car is not simulated: these changes cannot be written to it."));
  self->is_review_refused = has_illustrative && !self->review_plan->is_simulated;
  if (self->review_checks->len > 0)
    g_string_append_printf (body, "\n\n%s", _("Community data: confirm each item you have checked for this car."));

  root = gtk_widget_get_root (GTK_WIDGET (self));
  self->review = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                                             heading, NULL));
  adw_message_dialog_set_body (self->review, body->str);
  g_string_free (body, TRUE);
  adw_message_dialog_set_extra_child (self->review, list);
  apply_label = g_strdup (g_dngettext (GETTEXT_PACKAGE, "_Apply Change", "_Apply Changes",
                                       self->review_plan->lines->len));
  adw_message_dialog_add_responses (self->review,
                                    "cancel", _("_Cancel"),
                                    "apply", apply_label,
                                    NULL);
  adw_message_dialog_set_response_appearance (self->review, "apply", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (self->review, "cancel");
  adw_message_dialog_set_close_response (self->review, "cancel");
  g_signal_connect (self->review, "response", G_CALLBACK (on_review_response), self);
  update_review (self);
  gtk_window_present (GTK_WINDOW (self->review));
}

/* Actions */

static void
read_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  ew_features_page_read (EW_FEATURES_PAGE (widget));
}

static void
apply_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  open_review (EW_FEATURES_PAGE (widget));
}

static void
discard_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  EwFeaturesPage *self = EW_FEATURES_PAGE (widget);

  g_hash_table_remove_all (self->pending);
  /* the rows follow their items back to the car's state */
  for (guint i = 0; i < self->items->len; i++)
    ew_feature_item_set_pending_state (g_ptr_array_index (self->items, i), NULL);
  update_pending (self);
}

static void
undo_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  ew_features_page_restore (EW_FEATURES_PAGE (widget), g_variant_get_int64 (parameter));
}

/* Public */

void
ew_features_page_set_data (EwFeaturesPage    *self,
                           EwVehicleDatabase *db,
                           EwCarLink         *car_link,
                           EwSharedStore     *store)
{
  g_return_if_fail (EW_IS_FEATURES_PAGE (self));

  self->db = db;
  g_clear_pointer (&self->car_link, ew_car_link_unref);
  self->car_link = car_link ? ew_car_link_ref (car_link) : NULL;
  g_clear_pointer (&self->store, ew_shared_store_unref);
  self->store = store ? ew_shared_store_ref (store) : NULL;
  update_pending (self);
}

void
ew_features_page_set_link (EwFeaturesPage *self, const char *uri)
{
  g_return_if_fail (EW_IS_FEATURES_PAGE (self));

  if (uri != NULL && *uri == '\0')
    uri = NULL;
  if (g_strcmp0 (self->link, uri) == 0)
    return;
  g_free (self->link);
  self->link = g_strdup (uri);
  if (self->connection != NULL)
    {
      /* running work holds its own reference */
      g_clear_object (&self->connection);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONNECTION]);
    }
  update_actions (self);
}

const char *
ew_features_page_get_link (EwFeaturesPage *self)
{
  g_return_val_if_fail (EW_IS_FEATURES_PAGE (self), NULL);
  return self->link;
}

void
ew_features_page_read (EwFeaturesPage *self)
{
  g_return_if_fail (EW_IS_FEATURES_PAGE (self));

  if (self->work != NULL || self->link == NULL || self->car_link == NULL)
    return;
  start_work (self, work_new (WORK_READ));
}

void
ew_features_page_restore (EwFeaturesPage *self, gint64 job_id)
{
  Work *work;

  g_return_if_fail (EW_IS_FEATURES_PAGE (self));

  if (self->work != NULL || job_id <= 0 || self->car_link == NULL)
    return;
  if (self->connection == NULL && self->link == NULL && self->store != NULL)
    {
      /* no car read yet: the job's own link */
      g_autoptr(EwJobRecord) record = ew_job_store_get_job (ew_shared_store_get_store (self->store),
                                                            job_id, NULL);
      if (record != NULL)
        self->link = g_strdup (record->link_uri);
    }
  if (self->connection == NULL && self->link == NULL)
    return;
  work = work_new (WORK_RESTORE);
  work->job_id = job_id;
  start_work (self, work);
}

const char *
ew_features_page_get_progress_title (EwFeaturesPage *self)
{
  g_return_val_if_fail (EW_IS_FEATURES_PAGE (self), NULL);
  return self->progress_title;
}

gboolean
ew_features_page_get_is_writing (EwFeaturesPage *self)
{
  g_return_val_if_fail (EW_IS_FEATURES_PAGE (self), FALSE);
  return self->work != NULL && self->work->kind != WORK_READ;
}

gboolean
ew_features_page_get_is_busy (EwFeaturesPage *self)
{
  g_return_val_if_fail (EW_IS_FEATURES_PAGE (self), FALSE);
  return self->work != NULL;
}

EwConnection *
ew_features_page_get_connection (EwFeaturesPage *self)
{
  g_return_val_if_fail (EW_IS_FEATURES_PAGE (self), NULL);
  return self->connection;
}

EwFeatureCatalogue *
ew_features_page_get_catalogue (EwFeaturesPage *self)
{
  g_return_val_if_fail (EW_IS_FEATURES_PAGE (self), NULL);
  return self->catalogue;
}

GtkWidget *
ew_features_page_find_row (EwFeaturesPage *self, const char *feature_id)
{
  EwFeatureItem *item;

  g_return_val_if_fail (EW_IS_FEATURES_PAGE (self), NULL);
  g_return_val_if_fail (feature_id != NULL, NULL);

  item = g_hash_table_lookup (self->items_by_id, feature_id);
  if (item == NULL || !ew_feature_item_get_is_listed (item))
    return NULL;
  return g_hash_table_lookup (self->bound_rows, item);
}

gboolean
ew_features_page_show_feature (EwFeaturesPage *self, const char *feature_id)
{
  int position;

  g_return_val_if_fail (EW_IS_FEATURES_PAGE (self), FALSE);
  g_return_val_if_fail (feature_id != NULL, FALSE);

  position = listed_position (self, feature_id);
  if (position < 0)
    return FALSE;
  show_everything (self);
  /* GTK 4.8 has no gtk_list_view_scroll_to (): the list's own action */
  gtk_widget_activate_action (GTK_WIDGET (self->feature_list), "list.scroll-to-item",
                              "u", (guint) position);
  return TRUE;
}

const char *
ew_features_page_get_group_title (EwFeaturesPage *self, const char *feature_id)
{
  int position;

  g_return_val_if_fail (EW_IS_FEATURES_PAGE (self), NULL);
  g_return_val_if_fail (feature_id != NULL, NULL);

  position = listed_position (self, feature_id);
  for (int i = position; i >= 0; i--)
    {
      g_autoptr(EwFeatureItem) item = g_list_model_get_item (G_LIST_MODEL (self->filter_model), i);

      if (ew_feature_item_is_heading (item))
        /* the store keeps the heading */
        return ew_feature_item_get_title (item);
    }
  return NULL;
}

guint
ew_features_page_get_n_listed (EwFeaturesPage *self)
{
  g_return_val_if_fail (EW_IS_FEATURES_PAGE (self), 0);
  return g_list_model_get_n_items (G_LIST_MODEL (self->filter_model));
}

guint
ew_features_page_get_n_pending (EwFeaturesPage *self)
{
  g_return_val_if_fail (EW_IS_FEATURES_PAGE (self), 0);
  return g_hash_table_size (self->pending);
}

gint64
ew_features_page_get_last_job_id (EwFeaturesPage *self)
{
  g_return_val_if_fail (EW_IS_FEATURES_PAGE (self), 0);
  return self->last_job_id;
}

/* GObject */

static void
ew_features_page_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  EwFeaturesPage *self = EW_FEATURES_PAGE (object);

  switch (prop_id)
    {
    case PROP_IS_BUSY:
      g_value_set_boolean (value, self->work != NULL);
      break;
    case PROP_CONNECTION:
      g_value_set_object (value, self->connection);
      break;
    case PROP_N_PENDING:
      g_value_set_uint (value, g_hash_table_size (self->pending));
      break;
    case PROP_PROGRESS_TITLE:
      g_value_set_string (value, self->progress_title);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ew_features_page_dispose (GObject *object)
{
  EwFeaturesPage *self = EW_FEATURES_PAGE (object);

  /* running work ends on its own; its late result finds no page */
  if (self->work != NULL)
    {
      g_cancellable_cancel (self->work->cancellable);
      g_clear_pointer (&self->work, work_unref);
    }
  if (self->review != NULL)
    {
      AdwMessageDialog *review = self->review;

      close_review (self);
      gtk_window_destroy (GTK_WINDOW (review));
    }
  if (self->bound_rows != NULL)
    g_hash_table_remove_all (self->bound_rows);
  gtk_widget_dispose_template (GTK_WIDGET (self), EW_TYPE_FEATURES_PAGE);
  /* after the list: its list items gave their children back */
  g_clear_handle_id (&self->spare_source, g_source_remove);
  g_clear_pointer (&self->spare_rows, g_ptr_array_unref);
  g_clear_pointer (&self->spare_headings, g_ptr_array_unref);
  G_OBJECT_CLASS (ew_features_page_parent_class)->dispose (object);
}

static void
ew_features_page_finalize (GObject *object)
{
  EwFeaturesPage *self = EW_FEATURES_PAGE (object);

  g_clear_pointer (&self->catalogue, ew_feature_catalogue_free);
  g_clear_object (&self->undo_toast);
  g_free (self->progress_title);
  g_clear_object (&self->connection);
  g_clear_pointer (&self->car_link, ew_car_link_unref);
  g_clear_pointer (&self->store, ew_shared_store_unref);
  g_clear_pointer (&self->pending, g_hash_table_unref);
  g_clear_handle_id (&self->grow_source, g_source_remove);
  g_clear_object (&self->shown_model);
  g_clear_object (&self->filter_model);
  g_clear_object (&self->list_store);
  g_clear_pointer (&self->bound_rows, g_hash_table_unref);
  g_clear_pointer (&self->items_by_id, g_hash_table_unref);
  g_clear_pointer (&self->items, g_ptr_array_unref);
  g_free (self->search_folded);
  g_free (self->link);
  G_OBJECT_CLASS (ew_features_page_parent_class)->finalize (object);
}

static void
ew_features_page_class_init (EwFeaturesPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->get_property = ew_features_page_get_property;
  object_class->dispose = ew_features_page_dispose;
  object_class->finalize = ew_features_page_finalize;

  properties[PROP_IS_BUSY] =
    g_param_spec_boolean ("is-busy", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_CONNECTION] =
    g_param_spec_object ("connection", NULL, NULL, EW_TYPE_CONNECTION,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_N_PENDING] =
    g_param_spec_uint ("n-pending", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  /* "42 % — Coding" while coding or a restore is written, else NULL */
  properties[PROP_PROGRESS_TITLE] =
    g_param_spec_string ("progress-title", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* An apply or restore ended (the job id, 0 when none was started). */
  signals[SIGNAL_JOB_FINISHED] =
    g_signal_new ("job-finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT64);

  gtk_widget_class_install_action (widget_class, "features.read", NULL, read_activated);
  gtk_widget_class_install_action (widget_class, "features.apply", NULL, apply_activated);
  gtk_widget_class_install_action (widget_class, "features.discard", NULL, discard_activated);
  gtk_widget_class_install_action (widget_class, "features.undo", "x", undo_activated);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/ecuworkshop/EcuWorkshop/ew-features-page.ui");
  gtk_widget_class_bind_template_child (widget_class, EwFeaturesPage, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, EwFeaturesPage, main_stack);
  gtk_widget_class_bind_template_child (widget_class, EwFeaturesPage, error_status);
  gtk_widget_class_bind_template_child (widget_class, EwFeaturesPage, search_entry);
  gtk_widget_class_bind_template_child (widget_class, EwFeaturesPage, by_category_button);
  gtk_widget_class_bind_template_child (widget_class, EwFeaturesPage, by_module_button);
  gtk_widget_class_bind_template_child (widget_class, EwFeaturesPage, failure_box);
  gtk_widget_class_bind_template_child (widget_class, EwFeaturesPage, failure_title);
  gtk_widget_class_bind_template_child (widget_class, EwFeaturesPage, failure_label);
  gtk_widget_class_bind_template_child (widget_class, EwFeaturesPage, car_label);
  gtk_widget_class_bind_template_child (widget_class, EwFeaturesPage, feature_list);
  gtk_widget_class_bind_template_child (widget_class, EwFeaturesPage, no_match_label);
  gtk_widget_class_bind_template_child (widget_class, EwFeaturesPage, progress_revealer);
  gtk_widget_class_bind_template_child (widget_class, EwFeaturesPage, progress_label);
  gtk_widget_class_bind_template_child (widget_class, EwFeaturesPage, apply_progress);
  gtk_widget_class_bind_template_child (widget_class, EwFeaturesPage, pending_revealer);
  gtk_widget_class_bind_template_child (widget_class, EwFeaturesPage, pending_label);
  gtk_widget_class_bind_template_child (widget_class, EwFeaturesPage, apply_button);
  gtk_widget_class_bind_template_callback (widget_class, on_search_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_grouping_toggled);
  gtk_widget_class_bind_template_callback (widget_class, on_item_bind);
  gtk_widget_class_bind_template_callback (widget_class, on_item_unbind);

  g_type_ensure (EW_TYPE_FEATURE_ROW);
}

static void
ew_features_page_init (EwFeaturesPage *self)
{
  g_autoptr(GtkNoSelection) selection = NULL;

  self->pending = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->items = g_ptr_array_new_with_free_func (g_object_unref);
  self->items_by_id = g_hash_table_new (g_str_hash, g_str_equal);
  self->bound_rows = g_hash_table_new (NULL, NULL);
  self->spare_rows = g_ptr_array_new_with_free_func (g_object_unref);
  self->spare_headings = g_ptr_array_new_with_free_func (g_object_unref);
  self->list_store = g_list_store_new (EW_TYPE_FEATURE_ITEM);
  self->filter = gtk_custom_filter_new (item_is_listed, NULL, NULL);
  /* the filter model takes the filter's reference; the page keeps a pointer */
  self->filter_model = gtk_filter_list_model_new (G_LIST_MODEL (g_object_ref (self->list_store)),
                                                  GTK_FILTER (self->filter));
  gtk_widget_init_template (GTK_WIDGET (self));
  self->shown_model = gtk_slice_list_model_new (G_LIST_MODEL (g_object_ref (self->filter_model)),
                                                0, G_MAXUINT);
  selection = gtk_no_selection_new (G_LIST_MODEL (g_object_ref (self->shown_model)));
  gtk_list_view_set_model (self->feature_list, GTK_SELECTION_MODEL (selection));
  update_pending (self);
}
