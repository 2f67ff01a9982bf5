/* ew-programming-page.c — the Programming page: choose, check, program,
 * and say what the module runs at the end. */
#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "ew-programming-page.h"
#include "connect/supply-voltage.h"
#include "data-dir.h"
#include "flash/flash-engine.h"
#include "flash/flash-resume.h"
#include "flash/replace.h"

typedef enum {
  WORK_CHECK,
  WORK_RUN,
  WORK_RECOVER,
  WORK_RESUME,      /* an interrupted programming job goes on */
} WorkKind;

/* One thing the page offers: a job template run as a replacement, or a
 * plain flash of one module. */
typedef struct {
  gboolean  is_replace;
  char     *template_id;             /* nullable */
  char     *module_id;
  char     *title;
} Choice;

/* What the preflight found; read-only once the worker has returned it. */
typedef struct {
  gboolean        is_replace;
  char           *module_id;
  char           *module_name;
  char           *container_path;
  char           *software_now;      /* nullable */
  char           *software_new;      /* nullable */
  gboolean        is_in_bootloader;
  gboolean        needs_writing;     /* FALSE: a replacement skips the program step */
  char           *error;             /* nullable: the check itself failed */
  char           *supply_text;       /* nullable: no module reports its voltage */
  /* the container against the module */
  gboolean        is_container_ok;
  char           *container_text;
  gboolean        is_downgrade;
  /* the way back */
  gboolean        has_recovery;
  char           *recovery_image;    /* nullable */
  char           *recovery_text;
  gboolean        may_override;      /* a dead module without a recovery image */
  guint64         total_bytes;
  guint           bitrate_bps;       /* 0: DoIP or not known */
  /* the flash steps in order (id, description) and where the erase is */
  GPtrArray      *step_ids;
  GPtrArray      *step_descriptions;
  guint           erase_index;
  /* a replacement */
  EwReplacePlan  *plan;              /* nullable */
} Preflight;

/* One piece of engine work, shared by the page (main thread) and its
 * worker: the worker fills the results, the page reads them when done. */
typedef struct {
  WorkKind            kind;
  EwProgrammingPage  *page;          /* owned; touched on the main thread only */
  char               *link;
  EwCarLink          *car_link;
  EwConnection       *connection;    /* out: the one used */
  EwSharedStore      *store;         /* nullable */
  Choice             *choice;        /* a copy */
  char               *container_path; /* nullable: the shipped sample */
  gboolean            allow_downgrade;
  gboolean            allow_no_recovery_image;
  gboolean            confirm_immobiliser;
  Preflight          *preflight;     /* WORK_CHECK out; WORK_RUN/RECOVER/RESUME in (shared) */
  gint64              resume_job_id; /* WORK_RESUME: the job to go on with */
  gint64              job_id;
  gint64              flash_job_id;
  EwJobState          job_state;
  GError             *job_error;
  gboolean            is_read_after; /* the module's state was read after the job */
  gboolean            is_in_bootloader_after;
  char               *software_after;
  GCancellable       *cancellable;
  GMainContext       *context;
  GApplication       *application;   /* held while a module is written */
  guint               inhibit_cookie;
  /* worker thread only */
  gint64              last_post_us;
  char               *last_step;
  double              last_fraction;
} Work;

typedef struct {
  Work    *work;
  char    *step;
  char    *detail;
  double   fraction;
  gboolean has_bytes;
  guint64  bytes_sent;
  guint64  bytes_total;
  double   rate_bytes_per_s;
  double   seconds_left;
} Progress;

struct _EwProgrammingPage {
  GtkWidget            parent_instance;

  AdwToastOverlay     *toast_overlay;
  GtkStack            *main_stack;
  AdwComboRow         *choice_row;
  AdwActionRow        *container_row;
  GtkWidget           *checking_box;
  GtkLabel            *check_error_label;
  GtkWidget           *checklist_group;
  AdwActionRow        *battery_row;
  GtkImage            *battery_icon;
  GtkCheckButton      *battery_check;
  AdwActionRow        *container_check_row;
  GtkImage            *container_icon;
  GtkWidget           *downgrade_row;
  GtkCheckButton      *downgrade_check;
  AdwActionRow        *recovery_row;
  GtkImage            *recovery_icon;
  GtkWidget           *override_row;
  GtkCheckButton      *override_check;
  AdwActionRow        *store_row;
  GtkImage            *store_icon;
  AdwActionRow        *immobiliser_row;
  GtkImage            *immobiliser_icon;
  GtkCheckButton      *immobiliser_check;
  AdwActionRow        *mileage_row;
  GtkImage            *mileage_icon;
  GtkLabel            *refusal_label;
  GtkWidget           *steps_group;
  GtkListBox          *steps_list;
  GtkWidget           *start_button;
  GtkLabel            *progress_title;
  GtkLabel            *step_label;
  GtkProgressBar      *progress_bar;
  GtkWidget           *bytes_row;
  GtkLabel            *bytes_label;
  GtkWidget           *rate_row;
  GtkLabel            *rate_label;
  GtkLabel            *time_left_label;
  GtkLabel            *cancel_note;
  GtkButton           *cancel_button;
  GtkExpander         *log_expander;
  GtkTextView         *log_view;
  GtkTextView         *done_log_view;
  AdwStatusPage       *result_status;
  GtkLabel            *result_job_label;
  GtkWidget           *recover_button;

  EwVehicleDatabase   *db;           /* borrowed */
  EwCarLink           *car_link;     /* nullable */
  EwSharedStore       *store;        /* nullable */
  char                *link;
  EwFamily            *family;       /* nullable */
  EwConnection        *connection;   /* nullable */
  GPtrArray           *choices;      /* Choice; index + 1 in the combo row */
  char                *container_path; /* nullable: the shipped sample */
  Preflight           *preflight;    /* nullable: the last check */
  gboolean             needs_check;  /* the choice changed while a worker ran */
  Work                *work;         /* running, or NULL */
  GtkTextBuffer       *log;
  AdwMessageDialog    *confirm;      /* open, or NULL */
  GtkFileChooserNative *chooser;     /* open, or NULL */
  EwProgrammingOutcome outcome;
  gint64               last_job_id;
  double               fraction;
  char                *progress_title_text;
  char                *last_log_step;
  guint                step_cursor;
  gint64               run_start_us;
  gboolean             is_past_erase;
  gboolean             is_rebuilding;
};

G_DEFINE_FINAL_TYPE (EwProgrammingPage, ew_programming_page, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_IS_BUSY,
  PROP_IS_WRITING,
  PROP_FRACTION,
  PROP_PROGRESS_TITLE,
  PROP_CAN_START,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SIGNAL_JOB_FINISHED,
  SIGNAL_HISTORY_REQUESTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void update_checklist (EwProgrammingPage *self);
static void start_work       (EwProgrammingPage *self, Work *work);

/* Values */

static void
choice_free (Choice *choice)
{
  g_free (choice->template_id);
  g_free (choice->module_id);
  g_free (choice->title);
  g_free (choice);
}

static Choice *
choice_copy (const Choice *choice)
{
  Choice *copy = g_new0 (Choice, 1);

  copy->is_replace = choice->is_replace;
  copy->template_id = g_strdup (choice->template_id);
  copy->module_id = g_strdup (choice->module_id);
  copy->title = g_strdup (choice->title);
  return copy;
}

static void
preflight_clear (Preflight *pf)
{
  g_free (pf->module_id);
  g_free (pf->module_name);
  g_free (pf->container_path);
  g_free (pf->software_now);
  g_free (pf->software_new);
  g_free (pf->error);
  g_free (pf->supply_text);
  g_free (pf->container_text);
  g_free (pf->recovery_image);
  g_free (pf->recovery_text);
  g_clear_pointer (&pf->step_ids, g_ptr_array_unref);
  g_clear_pointer (&pf->step_descriptions, g_ptr_array_unref);
  g_clear_pointer (&pf->plan, ew_replace_plan_free);
}

static Preflight *
preflight_ref (Preflight *pf)
{
  return g_atomic_rc_box_acquire (pf);
}

static void
preflight_unref (Preflight *pf)
{
  g_atomic_rc_box_release_full (pf, (GDestroyNotify) preflight_clear);
}

static Preflight *
preflight_new (void)
{
  return g_atomic_rc_box_new0 (Preflight);
}

static void
work_clear (Work *work)
{
  g_object_unref (work->page);
  g_free (work->link);
  g_clear_pointer (&work->car_link, ew_car_link_unref);
  g_clear_object (&work->connection);
  g_clear_pointer (&work->store, ew_shared_store_unref);
  g_clear_pointer (&work->choice, choice_free);
  g_free (work->container_path);
  g_clear_pointer (&work->preflight, preflight_unref);
  g_clear_error (&work->job_error);
  g_free (work->software_after);
  g_clear_object (&work->cancellable);
  g_main_context_unref (work->context);
  g_clear_object (&work->application);
  g_free (work->last_step);
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
  g_free (progress->detail);
  g_free (progress);
}

/* Text */

static const char *
flash_step_text (const char *id)
{
  static const struct { const char *id; const char *text; } texts[] = {
    { "identification", N_("Reading the module's identification") },
    { "session", N_("Diagnostic session") },
    { "routine", N_("Checking the programming preconditions") },
    { "dtc-setting-off", N_("Fault memory recording off") },
    { "communication-off", N_("Communication of the other modules off") },
    { "security", N_("Security access") },
    { "fingerprint", N_("Writing the programming fingerprint") },
    { "erase", N_("Erasing the flash memory") },
    { "download", N_("Sending the software") },
    { "check-memory", N_("Checking the memory (CRC-32)") },
    { "check-dependencies", N_("Checking the software's dependencies") },
    { "reset", N_("Resetting the module") },
    { "communication-on", N_("Communication back on") },
    { "dtc-setting-on", N_("Fault memory recording back on") },
    { "clear-dtc", N_("Clearing the fault memory") },
    { "read-identification", N_("Reading the software version back") },
    { "recovery", N_("Flashing the recovery image") },
    { "done", N_("Done") },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (texts); i++)
    if (g_strcmp0 (id, texts[i].id) == 0)
      return _(texts[i].text);
  return NULL;
}

static gboolean
is_flash_step (const Preflight *pf, const char *id)
{
  if (flash_step_text (id) != NULL)
    return TRUE;
  for (guint i = 0; pf->step_ids != NULL && i < pf->step_ids->len; i++)
    if (g_strcmp0 (g_ptr_array_index (pf->step_ids, i), id) == 0)
      return TRUE;
  return FALSE;
}

/* Whether a flash step id comes at or after the erase: from there on the
 * engine no longer honours a cancel. */
static gboolean
is_at_or_after_erase (const Preflight *pf, const char *id)
{
  if (id == NULL || g_strcmp0 (id, "identification") == 0)
    return FALSE;
  for (guint i = 0; pf->step_ids != NULL && i < pf->erase_index && i < pf->step_ids->len; i++)
    if (g_strcmp0 (g_ptr_array_index (pf->step_ids, i), id) == 0)
      return FALSE;
  return is_flash_step (pf, id);
}

static const char *
replace_step_name (const Preflight *pf, const char *kind)
{
  if (g_strcmp0 (kind, "done") == 0)
    return _("Done");
  if (g_strcmp0 (kind, "coding") == 0)
    return _("Coding");
  for (guint i = 0; pf->plan != NULL && i < pf->plan->steps->len; i++)
    {
      const EwReplaceStep *s = g_ptr_array_index (pf->plan->steps, i);

      if (g_strcmp0 (s->kind, kind) == 0)
        return s->name;
    }
  return kind;
}

static char *
step_display (const Preflight *pf, const char *step, const char *detail)
{
  if (pf != NULL && pf->is_replace)
    {
      const char *name = replace_step_name (pf, step);

      if (g_strcmp0 (step, "program") == 0 && flash_step_text (detail) != NULL)
        /* TRANSLATORS: a step of the replacement, then the programming step within it */
        return g_strdup_printf (_("%s: %s"), name, flash_step_text (detail));
      if (g_strcmp0 (step, "coding") == 0 && detail != NULL)
        return g_strdup_printf (_("%s: %s"), name, detail);
      return g_strdup (name);
    }
  return g_strdup (flash_step_text (step) != NULL ? flash_step_text (step) : step);
}

static char *
format_duration (double seconds)
{
  guint s = (guint) MAX (seconds + 0.5, 0);

  if (s < 60)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u second", "%u seconds", s), s);
  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u min %02u s", "%u min %02u s", s / 60),
                          s / 60, s % 60);
}

/* A rough time for the confirmation: the bytes over the bus (classic CAN
 * carries 7 bytes of a consecutive frame in about 125 bits) and a fixed
 * share for sessions, erase, reset and checks. */
static guint
estimate_minutes (const Preflight *pf)
{
  double seconds = 60.0;

  if (pf->needs_writing && pf->total_bytes > 0)
    {
      double rate = pf->bitrate_bps > 0 ? pf->bitrate_bps * 7.0 / 125.0 : 1024.0 * 1024.0;

      seconds += pf->total_bytes / rate;
    }
  if (pf->is_replace)
    seconds += 60.0;
  return (guint) MAX (1.0, (seconds + 59.0) / 60.0);
}

static char *
module_tag (const char *module_id)
{
  return g_ascii_strup (module_id, -1);
}

/* Worker */

static gboolean
progress_show (gpointer data);

static void
post_progress (Work *work, const char *step, const char *detail, double fraction,
               const EwFlashProgress *flash)
{
  gint64 now = g_get_monotonic_time ();
  g_autofree char *key = g_strdup_printf ("%s/%s", step, detail != NULL ? detail : "");
  gboolean is_new = g_strcmp0 (key, work->last_step) != 0;
  Progress *progress;

  /* every new step, and otherwise at most ten updates a second */
  if (!is_new && fraction < 1.0 && now - work->last_post_us < G_USEC_PER_SEC / 10)
    return;
  work->last_post_us = now;
  if (is_new)
    {
      g_free (work->last_step);
      work->last_step = g_steal_pointer (&key);
    }
  progress = g_new0 (Progress, 1);
  progress->work = work_ref (work);
  progress->step = g_strdup (step);
  progress->detail = g_strdup (detail);
  progress->fraction = fraction;
  if (flash != NULL)
    {
      progress->has_bytes = TRUE;
      progress->bytes_sent = flash->bytes_sent;
      progress->bytes_total = flash->bytes_total;
      progress->rate_bytes_per_s = flash->rate_bytes_per_s;
      progress->seconds_left = flash->seconds_left;
    }
  else
    progress->seconds_left = -1;
  g_main_context_invoke_full (work->context, G_PRIORITY_DEFAULT, progress_show,
                              progress, (GDestroyNotify) progress_free);
}

static void
on_flash_progress (const EwFlashProgress *p, gpointer user_data)
{
  post_progress (user_data, p->step, NULL, p->fraction, p);
}

static void
on_replace_progress (const char *step, double fraction, const char *detail, gpointer user_data)
{
  post_progress (user_data, step, detail, fraction, NULL);
}

static char *
find_sample (EwFamily *family, const char *module_id)
{
  static const char *const extensions[] = { "hex", "srec", "s19", "xml" };
  g_autofree char *dir = ew_data_path ("flash");

  for (gsize i = 0; i < G_N_ELEMENTS (extensions); i++)
    {
      g_autofree char *name = g_strdup_printf ("%s-%s.%s", family->id, module_id, extensions[i]);
      g_autofree char *path = g_build_filename (dir, name, NULL);

      if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
        return g_steal_pointer (&path);
    }
  return NULL;
}

static guint
module_bitrate (EwFamily *family, const EwModule *module)
{
  if (!module->addressing.has_can)
    return 0;
  for (guint i = 0; i < family->buses->len; i++)
    {
      const EwBus *bus = g_ptr_array_index (family->buses, i);

      if (g_strcmp0 (bus->id, module->addressing.can_bus) == 0)
        return bus->bitrate_bps;
    }
  return 500000;
}

/* What a prepared flash job says about the container and the way back. */
static void
preflight_take_flash_job (Preflight *pf, EwFlashJob *job)
{
  const EwFlashContainer *c = ew_flash_job_get_container (job);
  const EwFlashCheckResult *check = ew_flash_job_get_check_result (job);
  const char *part = ew_flash_container_get_part_number (c);
  GArray *steps = ew_flash_job_get_steps (job);
  g_autofree char *base = g_path_get_basename (ew_flash_container_get_path (c));
  const char *now = ew_flash_job_get_current_software (job);
  g_autofree char *size = NULL;
  GString *text = g_string_new (NULL);

  pf->is_in_bootloader = ew_flash_job_is_in_bootloader (job);
  if (ew_flash_job_get_supply_voltage_mv (job) != 0)
    {
      g_autofree char *volts = ew_supply_voltage_format (ew_flash_job_get_supply_voltage_mv (job));
      g_autofree char *low = ew_supply_voltage_format (EW_SUPPLY_MIN_PROGRAMMING_MV);

      /* TRANSLATORS: the voltage, the module that measured it, the minimum */
      pf->supply_text = g_strdup_printf (_("The %2$s measures %1$s (programming needs at least %3$s). "
                                           "Programming keeps the ignition on for minutes and the "
                                           "battery sags: keep a battery support unit connected, "
                                           "then tick here."),
                                         volts, ew_flash_job_get_supply_voltage_module (job)->name, low);
    }
  if (pf->software_now == NULL && !pf->is_in_bootloader && now != NULL)
    pf->software_now = g_strdup (now);
  g_free (pf->software_new);
  pf->software_new = g_strdup (ew_flash_container_get_software_version (c));
  pf->is_container_ok = TRUE;
  pf->is_downgrade = check->is_downgrade;
  pf->total_bytes = ew_flash_job_get_total_bytes (job);

  /* TRANSLATORS: the container's file name, its part number, software versions */
  g_string_append_printf (text, _("%s for part %s: part and hardware number fit the module, every block lies in its flash layout. Software %s → %s"),
                          base, part != NULL ? part : _("(any)"),
                          pf->is_in_bootloader ? _("none (bootloader)") : (now != NULL ? now : "?"),
                          pf->software_new);
  if (check->is_downgrade)
    g_string_append (text, _(" — older than what the module runs"));
  else if (check->is_same_version)
    g_string_append (text, _(" — the same version again"));
  if (check->minimum_software != NULL)
    g_string_append_printf (text, _(" (the family asks for at least %s)"), check->minimum_software);
  size = g_format_size (pf->total_bytes);
  g_string_append_printf (text, _(", %s in %u segment(s)."), size, check->segments->len);
  pf->container_text = g_string_free (text, FALSE);

  pf->recovery_image = g_strdup (ew_flash_job_get_recovery_image (job));
  pf->has_recovery = pf->recovery_image != NULL;
  if (pf->has_recovery)
    {
      g_autofree char *name = g_path_get_basename (pf->recovery_image);

      const char *version = ew_flash_job_get_recovery_software (job);

      /* TRANSLATORS: the file name of the recovery image, its software version */
      pf->recovery_text = g_strdup_printf (_("Recovery image %s (software %s): if the new software fails, the module is programmed back with it."),
                                           name, version != NULL ? version : "?");
    }
  else
    {
      pf->may_override = pf->is_in_bootloader;
      pf->recovery_text = g_strdup (_("No recovery image for this module in the library: a failed flash could not be undone."));
    }

  pf->step_ids = g_ptr_array_new_with_free_func (g_free);
  pf->step_descriptions = g_ptr_array_new_with_free_func (g_free);
  pf->erase_index = steps->len;
  for (guint i = 0; i < steps->len; i++)
    {
      const EwFlashStepInfo *info = &g_array_index (steps, EwFlashStepInfo, i);

      if (info->kind == EW_STEP_ERASE && pf->erase_index == steps->len)
        pf->erase_index = i;
      g_ptr_array_add (pf->step_ids, g_strdup (info->id));
      g_ptr_array_add (pf->step_descriptions, g_strdup (info->description));
    }
}

/* A flash job that could not be prepared: which check it fails. */
static void
preflight_take_flash_error (Preflight *pf, const GError *error)
{
  if (g_error_matches (error, EW_FLASH_ENGINE_ERROR, EW_FLASH_ENGINE_ERROR_NO_RECOVERY_IMAGE))
    {
      pf->is_container_ok = FALSE;
      pf->container_text = g_strdup (_("Not checked: there is no way back (below)."));
      pf->recovery_text = g_strdup (error->message);
    }
  else if (error->domain == EW_FLASH_ERROR || error->domain == EW_FLASH_ENGINE_ERROR)
    {
      pf->container_text = g_strdup (error->message);
      pf->recovery_text = g_strdup (_("Not checked: the container does not fit."));
    }
  else
    pf->error = g_strdup (error->message);
}

static void
check_flash (Work *work, EwConnection *connection, Preflight *pf, GCancellable *cancellable)
{
  EwFamily *family = ew_connection_get_family (connection);
  const EwModule *module = family != NULL ? ew_family_find_module (family, pf->module_id) : NULL;
  EwFlashOptions options = { 0 };
  g_autoptr(EwFlashJob) job = NULL;
  g_autoptr(GError) error = NULL;

  if (module == NULL)
    {
      pf->error = g_strdup_printf (_("The car on %s has no module “%s”"), work->link, pf->module_id);
      return;
    }
  pf->module_name = g_strdup (module->name);
  pf->bitrate_bps = module_bitrate (family, module);
  pf->needs_writing = TRUE;
  pf->container_path = work->container_path != NULL ? g_strdup (work->container_path)
                                                     : find_sample (family, module->id);
  if (pf->container_path == NULL)
    {
      pf->container_text = g_strdup_printf (_("No container chosen, and none ships for the %s: choose one."),
                                            module->name);
      pf->recovery_text = g_strdup (_("Not checked: no container."));
      return;
    }
  /* the check shows what a downgrade or a missing way back would mean;
   * the run asks for them only when the technician confirmed */
  options.allow_downgrade = TRUE;
  options.allow_no_recovery_image = TRUE;
  job = ew_flash_job_prepare (connection, module->id, pf->container_path, &options, cancellable, &error);
  if (job == NULL)
    preflight_take_flash_error (pf, error);
  else
    preflight_take_flash_job (pf, job);
}

static void
check_replace (Work *work, EwConnection *connection, Preflight *pf, GCancellable *cancellable)
{
  EwReplaceOptions options = { 0 };
  EwFlashOptions flash_options = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(EwFlashJob) job = NULL;

  options.allow_downgrade = FALSE;
  pf->plan = ew_replace_plan_new (connection, pf->module_id, work->container_path, &options,
                                  cancellable, &error);
  if (pf->plan == NULL)
    {
      pf->error = g_strdup (error->message);
      return;
    }
  pf->module_name = g_strdup (pf->plan->module->name);
  pf->bitrate_bps = module_bitrate (pf->plan->family, pf->plan->module);
  pf->container_path = g_strdup (pf->plan->container_path);
  pf->software_now = g_strdup (pf->plan->software_now);
  pf->software_new = g_strdup (pf->plan->software_new);
  pf->is_in_bootloader = pf->plan->is_in_bootloader;
  pf->needs_writing = pf->plan->needs_programming;
  if (!pf->plan->needs_programming)
    {
      pf->is_container_ok = TRUE;
      pf->has_recovery = TRUE;
      /* TRANSLATORS: the module's name and the software it runs */
      pf->container_text = g_strdup_printf (_("The %s already runs software %s: it is not programmed, only linked and coded."),
                                            pf->module_name, pf->software_now != NULL ? pf->software_now : "?");
      pf->recovery_text = g_strdup (_("Not needed: no software is written. The coding is backed up before the first write."));
      return;
    }
  /* the program step runs the flash engine: check what it will check */
  flash_options.allow_downgrade = options.allow_downgrade;
  job = ew_flash_job_prepare (connection, pf->module_id, pf->container_path, &flash_options,
                              cancellable, &error);
  if (job == NULL)
    preflight_take_flash_error (pf, error);
  else
    preflight_take_flash_job (pf, job);
}

static void
read_module_after (Work *work, EwConnection *connection, const char *module_id)
{
  g_autoptr(EwScanResult) scan = NULL;
  g_autoptr(GError) error = NULL;

  /* what the module really runs now, whatever the job says; not
   * cancellable: the job is over */
  scan = ew_scan_run (connection, 0, NULL, NULL, NULL, &error);
  if (scan == NULL)
    {
      g_debug ("The car could not be read after the job: %s", error->message);
      return;
    }
  for (guint i = 0; i < scan->modules->len; i++)
    {
      const EwScanModule *m = g_ptr_array_index (scan->modules, i);

      if (g_strcmp0 (m->module->id, module_id) != 0)
        continue;
      work->is_read_after = TRUE;
      work->is_in_bootloader_after = m->state == EW_SCAN_MODULE_BOOTLOADER;
      work->software_after = g_strdup (m->software_version);
    }
}

static void
run_job (Work *work, EwConnection *connection, GCancellable *cancellable)
{
  EwJobStore *store = ew_shared_store_get_store (work->store);
  const Preflight *pf = work->preflight;

  if (work->kind == WORK_RESUME)
    {
      /* the same job goes on, journalled in it (flash-resume.h) */
      ew_flash_resume (connection, store, work->resume_job_id, NULL, on_flash_progress, work,
                       cancellable, &work->job_error);
      work->job_id = work->resume_job_id;
      work->flash_job_id = work->job_id;
    }
  else if (work->kind == WORK_RUN && pf->is_replace)
    {
      EwReplaceOptions options = { 0 };
      EwReplaceJobs jobs = { 0 };

      options.allow_downgrade = work->allow_downgrade;
      options.confirm_immobiliser = work->confirm_immobiliser;
      ew_replace_module (connection, store, pf->module_id, pf->container_path, &options,
                         on_replace_progress, work, &jobs, cancellable, &work->job_error);
      work->job_id = jobs.job_id;
      work->flash_job_id = jobs.flash_job_id;
    }
  else
    {
      EwFlashOptions options = { 0 };
      g_autoptr(EwFlashJob) job = NULL;
      /* no container: the engine recovers a module dead in its bootloader
       * with the module's recovery image */
      const char *path = work->kind == WORK_RECOVER ? NULL : pf->container_path;

      options.allow_downgrade = work->allow_downgrade;
      options.allow_no_recovery_image = work->allow_no_recovery_image;
      job = ew_flash_job_prepare (connection, pf->module_id, path, &options, cancellable,
                                  &work->job_error);
      if (job != NULL)
        {
          ew_flash_job_run (job, store, on_flash_progress, work, cancellable, &work->job_error);
          work->job_id = ew_flash_job_get_job_id (job);
          work->flash_job_id = work->job_id;
        }
    }

  if (work->job_id > 0)
    {
      g_autoptr(EwJobRecord) record = ew_job_store_get_job (store, work->job_id, NULL);

      if (record != NULL)
        work->job_state = record->state;
    }
  read_module_after (work, connection, pf->module_id);
}

static void
work_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  Work *work = task_data;
  g_autoptr(GError) error = NULL;
  EwConnection *connection;

  connection = ew_car_link_acquire (work->car_link, work->link, cancellable, &error);
  if (connection == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_set_object (&work->connection, connection);

  if (work->kind == WORK_CHECK)
    {
      Preflight *pf = preflight_new ();

      pf->is_replace = work->choice->is_replace;
      pf->module_id = g_strdup (work->choice->module_id);
      if (pf->is_replace)
        check_replace (work, connection, pf, cancellable);
      else
        check_flash (work, connection, pf, cancellable);
      work->preflight = pf;
    }
  else
    run_job (work, connection, cancellable);

  ew_car_link_release (work->car_link, connection);
  g_task_return_boolean (task, TRUE);
}

/* State */

static gboolean
is_writing (EwProgrammingPage *self)
{
  return self->work != NULL && self->work->kind != WORK_CHECK;
}

static void
set_progress_title (EwProgrammingPage *self, const char *text)
{
  if (g_strcmp0 (self->progress_title_text, text) == 0)
    return;
  g_free (self->progress_title_text);
  self->progress_title_text = g_strdup (text);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROGRESS_TITLE]);
}

static void
update_actions (EwProgrammingPage *self)
{
  gboolean is_busy = self->work != NULL;
  gboolean has_choice = adw_combo_row_get_selected (self->choice_row) > 0 &&
                        adw_combo_row_get_selected (self->choice_row) != GTK_INVALID_LIST_POSITION;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "programming.check",
                                 !is_busy && has_choice && self->link != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "programming.choose-container",
                                 !is_busy && has_choice && self->chooser == NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "programming.start",
                                 ew_programming_page_get_can_start (self));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "programming.cancel",
                                 is_writing (self) && !self->is_past_erase);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "programming.recover",
                                 !is_busy && self->outcome == EW_PROGRAMMING_OUTCOME_RECOVERY_NEEDED &&
                                 self->preflight != NULL && self->store != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "programming.show-history",
                                 self->last_job_id > 0);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "programming.new", !is_busy);
}

static void
set_work (EwProgrammingPage *self, Work *work)
{
  gboolean was_writing = is_writing (self);

  if (self->work != NULL)
    work_unref (self->work);
  self->work = work;
  gtk_widget_set_visible (self->checking_box, work != NULL && work->kind == WORK_CHECK);
  gtk_widget_set_sensitive (GTK_WIDGET (self->choice_row), work == NULL);
  update_checklist (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IS_BUSY]);
  if (was_writing != is_writing (self))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IS_WRITING]);
}

static void
set_icon (GtkImage *icon, int status)
{
  /* status: 1 passes, 0 waits for the technician, -1 fails */
  static const char *const classes[] = { "success", "warning", "error", "dim-label" };

  for (gsize i = 0; i < G_N_ELEMENTS (classes); i++)
    gtk_widget_remove_css_class (GTK_WIDGET (icon), classes[i]);
  if (status > 0)
    {
      gtk_image_set_from_icon_name (icon, "emblem-ok-symbolic");
      gtk_widget_add_css_class (GTK_WIDGET (icon), "success");
      gtk_accessible_update_property (GTK_ACCESSIBLE (icon), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      _("Passed"), -1);
    }
  else if (status == 0)
    {
      gtk_image_set_from_icon_name (icon, "dialog-question-symbolic");
      gtk_widget_add_css_class (GTK_WIDGET (icon), "warning");
      gtk_accessible_update_property (GTK_ACCESSIBLE (icon), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      _("Waiting for your confirmation"), -1);
    }
  else
    {
      gtk_image_set_from_icon_name (icon, "dialog-error-symbolic");
      gtk_widget_add_css_class (GTK_WIDGET (icon), "error");
      gtk_accessible_update_property (GTK_ACCESSIBLE (icon), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      _("Failed"), -1);
    }
}

static gboolean
container_passes (EwProgrammingPage *self)
{
  const Preflight *pf = self->preflight;

  return pf != NULL && pf->error == NULL && pf->is_container_ok &&
         (!pf->is_downgrade || gtk_check_button_get_active (self->downgrade_check));
}

static gboolean
recovery_passes (EwProgrammingPage *self)
{
  const Preflight *pf = self->preflight;

  return pf != NULL && pf->error == NULL &&
         (pf->has_recovery || (pf->may_override && gtk_check_button_get_active (self->override_check)));
}

static gboolean
has_pairing (const Preflight *pf)
{
  return pf != NULL && pf->plan != NULL && pf->plan->immobiliser_master != NULL;
}

/* A pairing changes which keys start the car: it runs only confirmed. */
static gboolean
immobiliser_passes (EwProgrammingPage *self)
{
  const Preflight *pf = self->preflight;

  return pf == NULL || pf->plan == NULL || !pf->plan->needs_confirmation ||
         gtk_check_button_get_active (self->immobiliser_check);
}

static const char *
plan_step_detail (const Preflight *pf, const char *kind)
{
  for (guint i = 0; pf->plan != NULL && i < pf->plan->steps->len; i++)
    {
      const EwReplaceStep *s = g_ptr_array_index (pf->plan->steps, i);

      if (g_strcmp0 (s->kind, kind) == 0)
        return s->detail;
    }
  return NULL;
}

static char *
mileage_text (const Preflight *pf)
{
  GString *text = g_string_new (pf->plan->mileage_choice);

  for (guint i = 0; i < pf->plan->module_readings->len; i++)
    {
      const EwMileageReading *r = g_ptr_array_index (pf->plan->module_readings, i);

      if (r->is_read)
        /* TRANSLATORS: the module's name, its mileage store, the km it shows */
        g_string_append_printf (text, _("\nThe %s shows %u km in %s."), pf->module_name, r->km,
                                r->store->name);
      else
        g_string_append_printf (text, _("\nThe %s's %s could not be read%s%s."), pf->module_name,
                                r->store->name, r->note != NULL ? ": " : "",
                                r->note != NULL ? r->note : "");
    }
  if (pf->plan->refusal == NULL && pf->plan->mileage_km > 0)
    g_string_append_printf (text, _("\nThe module is set to %u km, never lower than it shows; the transfer is journalled."),
                            pf->plan->mileage_km);
  return g_string_free (text, FALSE);
}

static void
fill_steps (EwProgrammingPage *self)
{
  const Preflight *pf = self->preflight;
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->steps_list))) != NULL)
    gtk_list_box_remove (self->steps_list, child);
  gtk_widget_set_visible (self->steps_group, FALSE);
  if (pf == NULL || pf->error != NULL)
    return;

  if (pf->plan != NULL)
    for (guint i = 0; i < pf->plan->steps->len; i++)
      {
        const EwReplaceStep *s = g_ptr_array_index (pf->plan->steps, i);
        GtkWidget *row = adw_action_row_new ();
        g_autofree char *title = s->is_skipped ? g_strdup_printf (_("%s (skipped)"), s->name)
                                               : g_strdup (s->name);

        adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
        adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
        adw_action_row_set_subtitle (ADW_ACTION_ROW (row), s->detail);
        adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 0);
        gtk_list_box_append (self->steps_list, row);
      }
  else
    for (guint i = 0; pf->step_ids != NULL && i < pf->step_ids->len; i++)
      {
        const char *id = g_ptr_array_index (pf->step_ids, i);
        GtkWidget *row = adw_action_row_new ();

        adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
        adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row),
                                       flash_step_text (id) != NULL ? flash_step_text (id) : id);
        adw_action_row_set_subtitle (ADW_ACTION_ROW (row), g_ptr_array_index (pf->step_descriptions, i));
        adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 0);
        gtk_list_box_append (self->steps_list, row);
      }
  gtk_widget_set_visible (self->steps_group,
                          gtk_widget_get_first_child (GTK_WIDGET (self->steps_list)) != NULL);
}

/* The checklist from the last preflight and the technician's ticks. */
static void
update_checklist (EwProgrammingPage *self)
{
  const Preflight *pf = self->preflight;
  gboolean has_pf = pf != NULL && self->work == NULL;
  gboolean is_ready = has_pf && pf->error == NULL;

  gtk_widget_set_visible (self->checklist_group, is_ready);
  gtk_label_set_label (self->check_error_label, has_pf && pf->error != NULL ? pf->error : "");
  gtk_widget_set_visible (GTK_WIDGET (self->check_error_label), has_pf && pf->error != NULL);

  set_icon (self->battery_icon, gtk_check_button_get_active (self->battery_check) ? 1 : 0);
  if (is_ready)
    {
      adw_action_row_set_subtitle (self->battery_row, pf->supply_text != NULL ? pf->supply_text
                                   : _("Programming keeps the ignition on for minutes, and a voltage "
                                       "drop can leave the module without software: connect a battery "
                                       "support unit, then tick here. Where the car reports its voltage, "
                                       "the job reads it before it writes and refuses a weak battery."));
      gboolean is_replace = pf->is_replace;
      const char *refusal = pf->plan != NULL ? pf->plan->refusal : NULL;

      adw_action_row_set_subtitle (self->container_check_row,
                                   pf->container_text != NULL ? pf->container_text : "");
      set_icon (self->container_icon, container_passes (self) ? 1
                                      : pf->is_container_ok && pf->is_downgrade ? 0 : -1);
      gtk_widget_set_visible (self->downgrade_row, pf->is_container_ok && pf->is_downgrade);
      adw_action_row_set_subtitle (self->recovery_row, pf->recovery_text != NULL ? pf->recovery_text : "");
      set_icon (self->recovery_icon, recovery_passes (self) ? 1 : pf->may_override ? 0 : -1);
      gtk_widget_set_visible (self->override_row, pf->may_override && !pf->has_recovery);

      if (self->store != NULL)
        {
          const char *path = ew_job_store_get_path (ew_shared_store_get_store (self->store));
          g_autofree char *name = g_path_get_basename (path);
          g_autofree char *text = g_strdup_printf (_("Every step is journalled in the job store (%s) before it is done; the job is listed on the History page."),
                                                   name);
          adw_action_row_set_subtitle (self->store_row, text);
        }
      else
        adw_action_row_set_subtitle (self->store_row,
                                     _("The job store cannot be opened: without a journal nothing is written."));
      set_icon (self->store_icon, self->store != NULL ? 1 : -1);

      gtk_widget_set_visible (GTK_WIDGET (self->mileage_row), is_replace && pf->plan != NULL &&
                              (pf->plan->car_readings->len > 0 || pf->plan->module_readings->len > 0 ||
                               refusal != NULL));
      if (is_replace && pf->plan != NULL)
        {
          g_autofree char *text = mileage_text (pf);

          adw_action_row_set_subtitle (self->mileage_row, text);
          set_icon (self->mileage_icon, refusal == NULL ? 1 : -1);
        }
      gtk_widget_set_visible (GTK_WIDGET (self->immobiliser_row), has_pairing (pf));
      if (has_pairing (pf))
        {
          const char *detail = plan_step_detail (pf, "immobiliser-pairing");

          adw_action_row_set_subtitle (self->immobiliser_row, detail != NULL ? detail : "");
          gtk_widget_set_visible (GTK_WIDGET (self->immobiliser_check), pf->plan->needs_confirmation);
          set_icon (self->immobiliser_icon, immobiliser_passes (self) ? 1 : 0);
        }
      gtk_label_set_label (self->refusal_label, refusal != NULL ? refusal : "");
      gtk_widget_set_visible (GTK_WIDGET (self->refusal_label), refusal != NULL);
    }
  else
    gtk_widget_set_visible (GTK_WIDGET (self->refusal_label), FALSE);

  update_actions (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CAN_START]);
}

static void
on_confirmation_toggled (EwProgrammingPage *self)
{
  update_checklist (self);
}

static void
set_preflight (EwProgrammingPage *self, Preflight *pf)
{
  g_clear_pointer (&self->preflight, preflight_unref);
  self->preflight = pf;
  /* each check asks for the confirmations again */
  gtk_check_button_set_active (self->downgrade_check, FALSE);
  gtk_check_button_set_active (self->override_check, FALSE);
  gtk_check_button_set_active (self->immobiliser_check, FALSE);
  fill_steps (self);
  update_checklist (self);
}

static const Choice *
selected_choice (EwProgrammingPage *self)
{
  guint index = adw_combo_row_get_selected (self->choice_row);

  if (index == 0 || index == GTK_INVALID_LIST_POSITION || index > self->choices->len)
    return NULL;
  return g_ptr_array_index (self->choices, index - 1);
}

static void
update_container_row (EwProgrammingPage *self)
{
  const Choice *choice = selected_choice (self);
  g_autofree char *text = NULL;

  gtk_widget_set_visible (GTK_WIDGET (self->container_row), choice != NULL);
  const char *path = self->container_path;
  g_autofree char *name = NULL;

  if (path == NULL && self->preflight != NULL)
    path = self->preflight->container_path;
  name = path != NULL ? g_path_get_basename (path) : NULL;
  if (self->container_path != NULL)
    text = g_strdup (name);
  else if (name != NULL)
    /* TRANSLATORS: %s is the file name of the sample container shipped for the module */
    text = g_strdup_printf (_("%s (shipped for this module)"), name);
  else
    text = g_strdup (_("The container shipped for this module"));
  adw_action_row_set_subtitle (self->container_row, text);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->container_row), path);
}

/* Progress and log */

static void
append_log (EwProgrammingPage *self, const char *text)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *time = g_date_time_format (now, "%H:%M:%S");
  g_autofree char *line = g_strdup_printf ("%s  %s\n", time, text);
  GtkTextIter end;

  gtk_text_buffer_get_end_iter (self->log, &end);
  gtk_text_buffer_insert (self->log, &end, line, -1);
}

static void
update_cancel (EwProgrammingPage *self)
{
  if (self->is_past_erase)
    {
      gtk_button_set_label (self->cancel_button, _("The Job Must Finish"));
      gtk_label_set_label (self->cancel_note,
                           _("The module is being erased and written: the job must finish. Stopping now would leave it without software; a failure restores it or says what to do."));
    }
  else
    {
      gtk_button_set_label (self->cancel_button, _("_Cancel"));
      gtk_label_set_label (self->cancel_note,
                           _("Cancelling is possible until the module is erased; nothing has been written yet."));
    }
  update_actions (self);
}

static gboolean
progress_show (gpointer data)
{
  Progress *progress = data;
  EwProgrammingPage *self = progress->work->page;
  const Preflight *pf = progress->work->preflight;
  g_autofree char *key = g_strdup_printf ("%s/%s", progress->step,
                                          progress->detail != NULL ? progress->detail : "");
  g_autofree char *text = step_display (pf, progress->step, progress->detail);
  g_autofree char *percent = NULL;
  g_autofree char *title = NULL;
  g_autofree char *tag = module_tag (pf->module_id);
  double elapsed_s = (g_get_monotonic_time () - self->run_start_us) / 1e6;
  gboolean was_past_erase = self->is_past_erase;

  if (self->work != progress->work)
    return G_SOURCE_REMOVE;

  gtk_label_set_label (self->step_label, text);
  if (g_strcmp0 (key, self->last_log_step) != 0)
    {
      g_autofree char *line = NULL;

      g_free (self->last_log_step);
      self->last_log_step = g_steal_pointer (&key);
      /* a flash step with the engine's own description of it */
      if (!pf->is_replace && pf->step_ids != NULL)
        for (guint i = self->step_cursor; i < pf->step_ids->len; i++)
          if (g_strcmp0 (g_ptr_array_index (pf->step_ids, i), progress->step) == 0)
            {
              line = g_strdup_printf ("%s — %s", text, (char *) g_ptr_array_index (pf->step_descriptions, i));
              self->step_cursor = i + 1;
              break;
            }
      if (line == NULL && pf->is_replace && progress->detail != NULL &&
          g_strcmp0 (progress->step, "program") != 0 && g_strcmp0 (progress->step, "coding") != 0)
        line = g_strdup_printf ("%s — %s", text, progress->detail);
      append_log (self, line != NULL ? line : text);
    }

  /* the bar never goes backwards */
  if (progress->fraction > self->fraction)
    {
      self->fraction = CLAMP (progress->fraction, 0.0, 1.0);
      gtk_progress_bar_set_fraction (self->progress_bar, self->fraction);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FRACTION]);
    }
  percent = g_strdup_printf (_("%.0f %%"), self->fraction * 100.0);
  gtk_progress_bar_set_text (self->progress_bar, percent);

  gtk_widget_set_visible (self->bytes_row, progress->has_bytes);
  gtk_widget_set_visible (self->rate_row, progress->has_bytes && progress->rate_bytes_per_s > 0);
  if (progress->has_bytes)
    {
      g_autofree char *sent = g_format_size (progress->bytes_sent);
      g_autofree char *total = g_format_size (progress->bytes_total);
      g_autofree char *bytes = g_strdup_printf (_("%s of %s"), sent, total);
      g_autofree char *rate = g_format_size ((guint64) progress->rate_bytes_per_s);
      g_autofree char *rate_text = g_strdup_printf (_("%s/s"), rate);

      gtk_label_set_label (self->bytes_label, bytes);
      gtk_label_set_label (self->rate_label, rate_text);
    }
  if (progress->seconds_left >= 0)
    {
      g_autofree char *left = format_duration (progress->seconds_left);

      gtk_label_set_label (self->time_left_label, left);
    }
  else if (self->fraction > 0.05 && self->fraction < 1.0)
    {
      /* outside the download, from the pace so far */
      g_autofree char *left = format_duration (elapsed_s * (1.0 - self->fraction) / self->fraction);

      gtk_label_set_label (self->time_left_label, left);
    }

  if (!self->is_past_erase)
    {
      if (pf->is_replace)
        self->is_past_erase = (g_strcmp0 (progress->step, "program") == 0 &&
                               is_at_or_after_erase (pf, progress->detail) &&
                               flash_step_text (progress->detail) != NULL) ||
                              g_strcmp0 (progress->step, "coding") == 0 ||
                              g_strcmp0 (progress->step, "vin-write") == 0 ||
                              g_strcmp0 (progress->step, "mileage-transfer") == 0 ||
                              g_strcmp0 (progress->step, "code-from-car") == 0;
      else
        self->is_past_erase = is_at_or_after_erase (pf, progress->step);
    }
  if (was_past_erase != self->is_past_erase)
    {
      append_log (self, _("From here on the job cannot be cancelled: it finishes or restores the module."));
      update_cancel (self);
    }

  /* TRANSLATORS: the window title while a module is written: percent, module */
  title = g_strdup_printf (_("%.0f %% — Programming %s"), self->fraction * 100.0, tag);
  set_progress_title (self, title);
  return G_SOURCE_REMOVE;
}

/* End state */

static void
show_outcome (EwProgrammingPage *self, Work *work)
{
  const Preflight *pf = work->preflight;
  const char *name = pf->module_name != NULL ? pf->module_name : pf->module_id;
  g_autofree char *now = NULL;
  g_autofree char *description = NULL;
  g_autofree char *job_text = NULL;
  const char *icon = NULL;
  const char *title = NULL;
  const char *error = work->job_error != NULL ? work->job_error->message : NULL;

  if (!work->is_read_after)
    now = g_strdup (_("it could not be read after the job"));
  else if (work->is_in_bootloader_after)
    now = g_strdup (_("it sits in its bootloader, without working software"));
  else
    /* TRANSLATORS: the software version the module reported after the job */
    now = g_strdup_printf (_("it runs software %s"), work->software_after != NULL ? work->software_after : "?");

  if (work->job_error == NULL)
    self->outcome = EW_PROGRAMMING_OUTCOME_DONE;
  else if (g_error_matches (work->job_error, EW_FLASH_ENGINE_ERROR, EW_FLASH_ENGINE_ERROR_RECOVERY_NEEDED) ||
           (work->is_read_after && work->is_in_bootloader_after))
    self->outcome = EW_PROGRAMMING_OUTCOME_RECOVERY_NEEDED;
  else if (!self->is_past_erase &&
           (work->job_state == EW_JOB_STATE_ROLLED_BACK || work->job_id == 0 ||
            g_error_matches (work->job_error, G_IO_ERROR, G_IO_ERROR_CANCELLED)))
    self->outcome = EW_PROGRAMMING_OUTCOME_NOT_WRITTEN;
  else if (work->job_state == EW_JOB_STATE_ROLLED_BACK ||
           g_error_matches (work->job_error, EW_FLASH_ENGINE_ERROR, EW_FLASH_ENGINE_ERROR_ROLLED_BACK))
    self->outcome = EW_PROGRAMMING_OUTCOME_ROLLED_BACK;
  else
    self->outcome = EW_PROGRAMMING_OUTCOME_FAILED;

  switch (self->outcome)
    {
    case EW_PROGRAMMING_OUTCOME_DONE:
      icon = "emblem-ok-symbolic";
      title = work->kind == WORK_RECOVER ? _("Module Recovered")
            : work->kind == WORK_RESUME ? _("Job Resumed, Programmed and Verified")
            : _("Programmed and Verified");
      if (pf->is_replace && work->kind == WORK_RUN && pf->plan != NULL)
        /* TRANSLATORS: module name, software read back, the car's mileage */
        description = g_strdup_printf (_("The %s runs software %s, read back from the module, and holds this car's VIN and mileage (%u km). It is coded from the car and its fault memory is clear."),
                                       name, work->software_after != NULL ? work->software_after : "?",
                                       pf->plan->mileage_km);
      else
        /* TRANSLATORS: module name, software version read back */
        description = g_strdup_printf (_("The %s runs software %s, read back from the module."),
                                       name, work->software_after != NULL ? work->software_after : "?");
      break;
    case EW_PROGRAMMING_OUTCOME_NOT_WRITTEN:
      icon = "dialog-information-symbolic";
      title = _("Nothing Was Written");
      /* TRANSLATORS: why the job stopped, the module's name, what it runs now */
      description = g_strdup_printf (_("%s. The %s was left as it was: %s."), error, name, now);
      break;
    case EW_PROGRAMMING_OUTCOME_ROLLED_BACK:
      icon = "edit-undo-symbolic";
      title = _("Restored");
      /* TRANSLATORS: why the job failed, the module's name, what it runs now */
      description = g_strdup_printf (_("The job failed (%s) and the %s was restored: %s."), error, name, now);
      break;
    case EW_PROGRAMMING_OUTCOME_RECOVERY_NEEDED:
      icon = "dialog-error-symbolic";
      title = _("Recovery Needed");
      /* TRANSLATORS: the module's name, then why the job failed */
      description = g_strdup_printf (_("The %s is left without working software (in its bootloader): %s. Keep the car connected and the battery support unit on, and recover the module with its recovery image."),
                                     name, error != NULL ? error : _("the module did not come back"));
      break;
    case EW_PROGRAMMING_OUTCOME_FAILED:
    case EW_PROGRAMMING_OUTCOME_NONE:
    default:
      icon = "dialog-warning-symbolic";
      title = _("Programming Failed");
      /* TRANSLATORS: why the job failed, the module's name, what it runs now */
      description = g_strdup_printf (_("%s. The %s: %s. The job's journal on the History page says every step."),
                                     error, name, now);
      break;
    }
  adw_status_page_set_icon_name (self->result_status, icon);
  adw_status_page_set_title (self->result_status, title);
  adw_status_page_set_description (self->result_status, description);

  if (work->job_id > 0 && work->flash_job_id > 0 && work->flash_job_id != work->job_id)
    /* TRANSLATORS: job numbers: the replacement's own, then its flash job's */
    job_text = g_strdup_printf (_("Job %lld (programming in job %lld)"),
                                (long long) work->job_id, (long long) work->flash_job_id);
  else if (work->job_id > 0)
    job_text = g_strdup_printf (_("Job %lld"), (long long) work->job_id);
  else
    job_text = g_strdup (_("No job was started."));
  gtk_label_set_label (self->result_job_label, job_text);
  /* a resumed job is resumed again from History, which knows its module */
  gtk_widget_set_visible (self->recover_button,
                          self->outcome == EW_PROGRAMMING_OUTCOME_RECOVERY_NEEDED &&
                          work->kind != WORK_RESUME);
  append_log (self, title);
  gtk_stack_set_visible_child_name (self->main_stack, "finished");
  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (title));
}

static void
end_writing (Work *work)
{
  if (work->application != NULL)
    {
      if (work->inhibit_cookie != 0)
        gtk_application_uninhibit (GTK_APPLICATION (work->application), work->inhibit_cookie);
      work->inhibit_cookie = 0;
      g_application_release (work->application);
      g_clear_object (&work->application);
    }
}

static void
on_work_done (GObject      *source_object,
              GAsyncResult *res,
              gpointer      user_data)
{
  EwProgrammingPage *self = EW_PROGRAMMING_PAGE (source_object);
  Work *work = g_task_get_task_data (G_TASK (res));
  g_autoptr(GError) error = NULL;
  gboolean ok = g_task_propagate_boolean (G_TASK (res), &error);

  /* the suspend inhibitor and the application go as the writing ends,
   * also when the window was closed meanwhile */
  end_writing (work);
  if (work != self->work)
    return;

  if (work->connection != NULL)
    g_set_object (&self->connection, work->connection);

  if (work->kind == WORK_CHECK)
    {
      if (!ok)
        {
          Preflight *pf = preflight_new ();

          pf->module_id = g_strdup (work->choice->module_id);
          pf->error = g_strdup (error->message);
          work->preflight = pf;
        }
      set_preflight (self, preflight_ref (work->preflight));
      set_work (self, NULL);
      update_container_row (self);
      if (self->needs_check)
        ew_programming_page_check (self);
      return;
    }

  if (!ok)
    {
      /* the car was not reached: nothing was written */
      g_clear_error (&work->job_error);
      work->job_error = g_steal_pointer (&error);
    }
  if (work->job_id > 0)
    self->last_job_id = work->job_id;
  set_progress_title (self, NULL);
  show_outcome (self, work);
  set_work (self, NULL);
  g_signal_emit (self, signals[SIGNAL_JOB_FINISHED], 0, work->job_id);
}

static void
start_work (EwProgrammingPage *self, Work *work)
{
  g_autoptr(GTask) task = NULL;

  work->page = g_object_ref (self);
  /* a resumed job may bring the link of the car it was done on */
  if (work->link == NULL)
    work->link = g_strdup (self->link);
  work->car_link = ew_car_link_ref (self->car_link);
  work->store = self->store ? ew_shared_store_ref (self->store) : NULL;
  work->cancellable = g_cancellable_new ();
  work->context = g_main_context_ref_thread_default ();

  if (work->kind != WORK_CHECK)
    {
      GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
      GtkApplication *app = GTK_IS_WINDOW (root) ? gtk_window_get_application (GTK_WINDOW (root)) : NULL;
      g_autofree char *tag = module_tag (work->preflight->module_id);
      g_autofree char *heading = NULL;

      /* no suspend or logout while a module is written, and the process
       * stays until the job is journalled even if the window goes */
      if (app != NULL)
        {
          work->application = G_APPLICATION (g_object_ref (app));
          g_application_hold (work->application);
          work->inhibit_cookie = gtk_application_inhibit (app, GTK_WINDOW (root),
                                                          GTK_APPLICATION_INHIBIT_SUSPEND |
                                                          GTK_APPLICATION_INHIBIT_LOGOUT,
                                                          _("A module is being programmed: an interruption could leave it without software"));
        }
      self->fraction = 0;
      self->is_past_erase = FALSE;
      self->step_cursor = 0;
      self->run_start_us = g_get_monotonic_time ();
      g_clear_pointer (&self->last_log_step, g_free);
      self->outcome = EW_PROGRAMMING_OUTCOME_NONE;
      gtk_text_buffer_set_text (self->log, "", -1);
      gtk_progress_bar_set_fraction (self->progress_bar, 0);
      {
        g_autofree char *zero = g_strdup_printf (_("%.0f %%"), 0.0);

        gtk_progress_bar_set_text (self->progress_bar, zero);
      }
      gtk_label_set_label (self->step_label, _("Starting…"));
      gtk_label_set_label (self->bytes_label, "");
      gtk_label_set_label (self->rate_label, "");
      gtk_label_set_label (self->time_left_label, _("not known yet"));
      gtk_widget_set_visible (self->bytes_row, FALSE);
      gtk_widget_set_visible (self->rate_row, FALSE);
      if (work->kind == WORK_RECOVER)
        /* TRANSLATORS: the module's name */
        heading = g_strdup_printf (_("Recovering the %s"), work->preflight->module_name);
      else if (work->kind == WORK_RESUME)
        /* TRANSLATORS: the job number, then the module's name */
        heading = g_strdup_printf (_("Resuming job %lld on the %s"),
                                   (long long) work->resume_job_id, work->preflight->module_name);
      else if (work->preflight->is_replace)
        heading = g_strdup_printf (_("Replacing the %s"), work->preflight->module_name);
      else
        heading = g_strdup_printf (_("Programming the %s"), work->preflight->module_name);
      gtk_label_set_label (self->progress_title, heading);
      append_log (self, heading);
      gtk_stack_set_visible_child_name (self->main_stack, "progress");
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FRACTION]);
      {
        g_autofree char *title = g_strdup_printf (_("%.0f %% — Programming %s"), 0.0, tag);

        set_progress_title (self, title);
      }
    }
  /* an interrupted job left the module written in part: it must finish */
  if (work->kind == WORK_RESUME)
    self->is_past_erase = TRUE;
  set_work (self, work);
  if (work->kind != WORK_CHECK)
    update_cancel (self);

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

static void
start_run (EwProgrammingPage *self, WorkKind kind)
{
  Work *work = work_new (kind);

  work->preflight = preflight_ref (self->preflight);
  if (kind == WORK_RECOVER)
    {
      /* the way back is older by nature; a dead module has nothing to keep */
      work->allow_downgrade = TRUE;
      work->allow_no_recovery_image = TRUE;
    }
  else
    {
      work->allow_downgrade = self->preflight->is_downgrade &&
                              gtk_check_button_get_active (self->downgrade_check);
      work->allow_no_recovery_image = self->preflight->may_override &&
                                      gtk_check_button_get_active (self->override_check);
      work->confirm_immobiliser = has_pairing (self->preflight) &&
                                  gtk_check_button_get_active (self->immobiliser_check);
    }
  start_work (self, work);
}

/* Confirmation */

static void
on_confirm_response (AdwMessageDialog  *dialog,
                     const char        *response,
                     EwProgrammingPage *self)
{
  if (self->confirm != dialog)
    return;
  self->confirm = NULL;
  if (g_strcmp0 (response, "start") == 0 && ew_programming_page_get_can_start (self))
    start_run (self, WORK_RUN);
}

void
ew_programming_page_start (EwProgrammingPage *self)
{
  const Preflight *pf;
  g_autofree char *heading = NULL;
  g_autofree char *body = NULL;
  g_autofree char *from = NULL;
  g_autofree char *size = NULL;
  GtkRoot *root;
  guint minutes;

  g_return_if_fail (EW_IS_PROGRAMMING_PAGE (self));

  if (!ew_programming_page_get_can_start (self) || self->confirm != NULL)
    return;
  pf = self->preflight;
  minutes = estimate_minutes (pf);
  from = pf->is_in_bootloader ? g_strdup (_("no working software")) : g_strdup (pf->software_now ? pf->software_now : "?");
  size = g_format_size (pf->total_bytes);
  heading = g_strdup_printf (pf->is_replace ? _("Replace the %s?") : _("Program the %s?"), pf->module_name);
  if (pf->needs_writing)
    /* TRANSLATORS: module, software before and after, size, minutes */
    body = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                         "This is programming, not coding: the %s gets new software (%s → %s, %s). While it is written the module is out of action: the car cannot be used, and the ignition stays on with the battery support unit connected. It takes about %u minute.\n\nCancelling is possible only until the module is erased; after that the job finishes, or restores the module.",
                                         "This is programming, not coding: the %s gets new software (%s → %s, %s). While it is written the module is out of action: the car cannot be used, and the ignition stays on with the battery support unit connected. It takes about %u minutes.\n\nCancelling is possible only until the module is erased; after that the job finishes, or restores the module.",
                                         minutes),
                            pf->module_name, from, pf->software_new, size, minutes);
  else
    body = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                         "The %s keeps its software (%s); it is linked to this car and coded. The module is out of action while it is written. It takes about %u minute.",
                                         "The %s keeps its software (%s); it is linked to this car and coded. The module is out of action while it is written. It takes about %u minutes.",
                                         minutes),
                            pf->module_name, from, minutes);

  root = gtk_widget_get_root (GTK_WIDGET (self));
  self->confirm = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                                              heading, body));
  adw_message_dialog_add_responses (self->confirm,
                                    "cancel", _("_Cancel"),
                                    "start", pf->is_replace ? _("_Replace") : _("_Program"),
                                    NULL);
  adw_message_dialog_set_response_appearance (self->confirm, "start", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (self->confirm, "cancel");
  adw_message_dialog_set_close_response (self->confirm, "cancel");
  g_signal_connect (self->confirm, "response", G_CALLBACK (on_confirm_response), self);
  gtk_window_present (GTK_WINDOW (self->confirm));
}

/* Choices */

static gboolean
is_programming_template (const EwJobTemplate *t)
{
  return t->kind == EW_JOB_USED_CLUSTER || t->kind == EW_JOB_BODY_MODULE || t->kind == EW_JOB_ECU_SWAP;
}

static void
rebuild_choices (EwProgrammingPage *self)
{
  g_autoptr(GtkStringList) model = gtk_string_list_new (NULL);

  g_ptr_array_set_size (self->choices, 0);
  gtk_string_list_append (model, _("Choose a job…"));
  if (self->family != NULL)
    {
      for (guint i = 0; i < self->family->jobs->len; i++)
        {
          const EwJobTemplate *t = g_ptr_array_index (self->family->jobs, i);
          const EwModule *m = ew_family_find_module (self->family, t->module);
          Choice *choice;

          if (m == NULL || (!is_programming_template (t) && t->kind != EW_JOB_RECOVERY))
            continue;
          choice = g_new0 (Choice, 1);
          /* a recovery template is a plain flash of the module */
          choice->is_replace = is_programming_template (t);
          choice->template_id = g_strdup (t->id);
          choice->module_id = g_strdup (t->module);
          choice->title = g_strdup (t->name);
          g_ptr_array_add (self->choices, choice);
          gtk_string_list_append (model, choice->title);
        }
      for (guint i = 0; i < self->family->modules->len; i++)
        {
          const EwModule *m = g_ptr_array_index (self->family->modules, i);
          Choice *choice;

          if (m->flash == NULL || m->programming == NULL)
            continue;
          choice = g_new0 (Choice, 1);
          choice->module_id = g_strdup (m->id);
          /* TRANSLATORS: a plain flash or recovery of one module, by name */
          choice->title = g_strdup_printf (_("Flash or recover: %s"), m->name);
          g_ptr_array_add (self->choices, choice);
          gtk_string_list_append (model, choice->title);
        }
    }
  self->is_rebuilding = TRUE;
  adw_combo_row_set_model (self->choice_row, G_LIST_MODEL (model));
  adw_combo_row_set_selected (self->choice_row, 0);
  self->is_rebuilding = FALSE;
}

static void
forget_choice (EwProgrammingPage *self)
{
  g_clear_pointer (&self->container_path, g_free);
  set_preflight (self, NULL);
  gtk_check_button_set_active (self->battery_check, FALSE);
  update_container_row (self);
}

static void
on_choice_changed (EwProgrammingPage *self)
{
  if (self->is_rebuilding)
    return;
  /* a new job: its own container and checks */
  g_clear_pointer (&self->container_path, g_free);
  set_preflight (self, NULL);
  update_container_row (self);
  if (selected_choice (self) != NULL)
    ew_programming_page_check (self);
  update_actions (self);
}

static void
select_index (EwProgrammingPage *self, guint index)
{
  if (adw_combo_row_get_selected (self->choice_row) == index)
    on_choice_changed (self);
  else
    adw_combo_row_set_selected (self->choice_row, index);
}

/* Actions */

static void
check_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  ew_programming_page_check (EW_PROGRAMMING_PAGE (widget));
}

static void
start_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  ew_programming_page_start (EW_PROGRAMMING_PAGE (widget));
}

static void
cancel_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  EwProgrammingPage *self = EW_PROGRAMMING_PAGE (widget);

  if (!is_writing (self) || self->is_past_erase)
    return;
  append_log (self, _("Cancel asked for: the job stops before the erase."));
  g_cancellable_cancel (self->work->cancellable);
}

static void
recover_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  EwProgrammingPage *self = EW_PROGRAMMING_PAGE (widget);

  if (self->work != NULL || self->preflight == NULL || self->store == NULL || self->car_link == NULL)
    return;
  start_run (self, WORK_RECOVER);
}

static void
show_history_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  EwProgrammingPage *self = EW_PROGRAMMING_PAGE (widget);

  g_signal_emit (self, signals[SIGNAL_HISTORY_REQUESTED], 0, self->last_job_id);
}

static void
leave_outcome (EwProgrammingPage *self)
{
  self->outcome = EW_PROGRAMMING_OUTCOME_NONE;
  gtk_stack_set_visible_child_name (self->main_stack, self->family != NULL ? "setup" : "empty");
  update_actions (self);
}

static void
new_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  EwProgrammingPage *self = EW_PROGRAMMING_PAGE (widget);

  if (self->work != NULL)
    return;
  leave_outcome (self);
  /* the car has changed: check again what runs in it */
  if (selected_choice (self) != NULL)
    ew_programming_page_check (self);
  update_actions (self);
}

static void
on_chooser_response (GtkNativeDialog   *dialog,
                     int                response,
                     EwProgrammingPage *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;

      if (path != NULL)
        {
          g_free (self->container_path);
          self->container_path = g_steal_pointer (&path);
          update_container_row (self);
          ew_programming_page_check (self);
        }
    }
  g_clear_object (&self->chooser);
  update_actions (self);
}

static void
choose_container_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  EwProgrammingPage *self = EW_PROGRAMMING_PAGE (widget);
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();
  GtkRoot *root = gtk_widget_get_root (widget);
  g_autofree char *dir = ew_data_path ("flash");
  g_autoptr(GFile) folder = g_file_new_for_path (dir);

  if (self->chooser != NULL)
    return;
  gtk_file_filter_set_name (filter, _("Programming containers (Intel HEX, S-record, XML descriptor)"));
  gtk_file_filter_add_pattern (filter, "*.hex");
  gtk_file_filter_add_pattern (filter, "*.srec");
  gtk_file_filter_add_pattern (filter, "*.s19");
  gtk_file_filter_add_pattern (filter, "*.mot");
  gtk_file_filter_add_pattern (filter, "*.xml");
  self->chooser = gtk_file_chooser_native_new (_("Choose a Programming Container"),
                                               GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                               GTK_FILE_CHOOSER_ACTION_OPEN,
                                               _("_Open"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), filter);
  gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (self->chooser), folder, NULL);
  g_signal_connect (self->chooser, "response", G_CALLBACK (on_chooser_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
  update_actions (self);
}

/* Public */

void
ew_programming_page_set_data (EwProgrammingPage *self,
                              EwVehicleDatabase *db,
                              EwCarLink         *car_link,
                              EwSharedStore     *store)
{
  g_return_if_fail (EW_IS_PROGRAMMING_PAGE (self));

  self->db = db;
  g_clear_pointer (&self->car_link, ew_car_link_unref);
  self->car_link = car_link ? ew_car_link_ref (car_link) : NULL;
  g_clear_pointer (&self->store, ew_shared_store_unref);
  self->store = store ? ew_shared_store_ref (store) : NULL;
  update_checklist (self);
}

void
ew_programming_page_set_link (EwProgrammingPage *self, const char *uri)
{
  g_return_if_fail (EW_IS_PROGRAMMING_PAGE (self));

  if (uri != NULL && *uri == '\0')
    uri = NULL;
  /* a module being written keeps its car */
  if (g_strcmp0 (self->link, uri) == 0 || is_writing (self))
    return;
  g_free (self->link);
  self->link = g_strdup (uri);
  g_clear_object (&self->connection);
  g_clear_pointer (&self->family, ew_family_unref);
  rebuild_choices (self);
  forget_choice (self);
  if (self->outcome == EW_PROGRAMMING_OUTCOME_NONE)
    gtk_stack_set_visible_child_name (self->main_stack, "empty");
  update_actions (self);
}

const char *
ew_programming_page_get_link (EwProgrammingPage *self)
{
  g_return_val_if_fail (EW_IS_PROGRAMMING_PAGE (self), NULL);
  return self->link;
}

void
ew_programming_page_car_scanned (EwProgrammingPage *self, EwFamily *family)
{
  const Choice *before;
  g_autofree char *template_id = NULL;
  g_autofree char *module_id = NULL;
  gboolean was_replace = FALSE;

  g_return_if_fail (EW_IS_PROGRAMMING_PAGE (self));

  if (is_writing (self))
    return;
  /* the same family keeps the choice, checked again on the new scan */
  before = selected_choice (self);
  if (before != NULL)
    {
      template_id = g_strdup (before->template_id);
      module_id = g_strdup (before->module_id);
      was_replace = before->is_replace;
    }
  if (self->family != family)
    {
      g_clear_pointer (&self->family, ew_family_unref);
      self->family = family != NULL ? ew_family_ref (family) : NULL;
      rebuild_choices (self);
      forget_choice (self);
    }
  if (self->outcome == EW_PROGRAMMING_OUTCOME_NONE || self->family == NULL)
    gtk_stack_set_visible_child_name (self->main_stack, self->family != NULL ? "setup" : "empty");
  if (module_id != NULL && self->family == family && selected_choice (self) != NULL)
    {
      if (was_replace && template_id != NULL)
        ew_programming_page_select_job (self, template_id);
      else
        ew_programming_page_check (self);
    }
  update_actions (self);
}

gboolean
ew_programming_page_select_job (EwProgrammingPage *self, const char *template_id)
{
  g_return_val_if_fail (EW_IS_PROGRAMMING_PAGE (self), FALSE);

  if (self->work != NULL && self->work->kind != WORK_CHECK)
    return FALSE;
  for (guint i = 0; i < self->choices->len; i++)
    {
      const Choice *choice = g_ptr_array_index (self->choices, i);

      if (g_strcmp0 (choice->template_id, template_id) == 0)
        {
          leave_outcome (self);
          select_index (self, i + 1);
          return TRUE;
        }
    }
  return FALSE;
}

gboolean
ew_programming_page_select_module (EwProgrammingPage *self,
                                   const char        *module_id,
                                   const char        *container_path)
{
  g_return_val_if_fail (EW_IS_PROGRAMMING_PAGE (self), FALSE);

  if (self->work != NULL && self->work->kind != WORK_CHECK)
    return FALSE;
  for (guint i = 0; i < self->choices->len; i++)
    {
      const Choice *choice = g_ptr_array_index (self->choices, i);

      if (choice->template_id == NULL && g_strcmp0 (choice->module_id, module_id) == 0)
        {
          leave_outcome (self);
          self->is_rebuilding = TRUE;
          adw_combo_row_set_selected (self->choice_row, i + 1);
          self->is_rebuilding = FALSE;
          g_free (self->container_path);
          self->container_path = g_strdup (container_path);
          set_preflight (self, NULL);
          update_container_row (self);
          ew_programming_page_check (self);
          return TRUE;
        }
    }
  return FALSE;
}

gboolean
ew_programming_page_open_finding (EwProgrammingPage *self,
                                  EwFindingKind      kind,
                                  const char        *module_id)
{
  g_return_val_if_fail (EW_IS_PROGRAMMING_PAGE (self), FALSE);

  if (kind == EW_FINDING_VIN_MISMATCH)
    for (guint i = 0; i < self->choices->len; i++)
      {
        const Choice *choice = g_ptr_array_index (self->choices, i);

        if (choice->is_replace && g_strcmp0 (choice->module_id, module_id) == 0)
          return ew_programming_page_select_job (self, choice->template_id);
      }
  /* a module without working software gets its recovery flash */
  return ew_programming_page_select_module (self, module_id, NULL);
}

void
ew_programming_page_check (EwProgrammingPage *self)
{
  const Choice *choice;
  Work *work;

  g_return_if_fail (EW_IS_PROGRAMMING_PAGE (self));

  choice = selected_choice (self);
  if (choice == NULL || self->link == NULL || self->car_link == NULL)
    return;
  if (self->work != NULL)
    {
      /* once the running check is back, with the new choice */
      self->needs_check = self->work->kind == WORK_CHECK;
      return;
    }
  self->needs_check = FALSE;
  work = work_new (WORK_CHECK);
  work->choice = choice_copy (choice);
  work->container_path = g_strdup (self->container_path);
  set_preflight (self, NULL);
  start_work (self, work);
}

gboolean
ew_programming_page_resume (EwProgrammingPage  *self,
                            gint64              job_id,
                            GError            **error)
{
  g_autoptr(EwJobRecord) record = NULL;
  g_autoptr(EwFlashResumeInfo) info = NULL;
  EwFamily *family = NULL;
  const EwModule *module = NULL;
  const char *link;
  EwJobStore *store;
  Preflight *pf;
  Work *work;

  g_return_val_if_fail (EW_IS_PROGRAMMING_PAGE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->work != NULL || self->confirm != NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_BUSY,
                   _("Job %lld cannot be resumed now: the Programming page is busy with another job"),
                   (long long) job_id);
      return FALSE;
    }
  if (self->store == NULL || self->car_link == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                   _("Job %lld cannot be resumed: the job store is not open"), (long long) job_id);
      return FALSE;
    }
  /* a local database: quick enough to read on the main thread */
  store = ew_shared_store_get_store (self->store);
  record = ew_job_store_get_job (store, job_id, error);
  if (record == NULL)
    return FALSE;
  info = ew_flash_resume_info_read (store, job_id, error);
  if (info == NULL)
    return FALSE;
  /* the car in the bay, else the one the job was done on */
  link = self->link != NULL ? self->link : record->link_uri;
  if (link == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                   _("Job %lld cannot be resumed: no car is connected and the job names no link"),
                   (long long) job_id);
      return FALSE;
    }

  if (self->db != NULL && record->family_id != NULL)
    family = ew_vehicle_database_find_family (self->db, record->family_id);
  if (family != NULL)
    module = ew_family_find_module (family, info->module_id);

  pf = preflight_new ();
  pf->module_id = g_strdup (info->module_id);
  pf->module_name = g_strdup (module != NULL && module->name != NULL ? module->name : info->module_id);
  pf->container_path = g_strdup (info->container_path);
  pf->recovery_image = g_strdup (info->recovery_image);
  pf->needs_writing = TRUE;

  /* the page now follows this job: the checklist of another choice goes */
  if (self->preflight != NULL)
    set_preflight (self, NULL);
  work = work_new (WORK_RESUME);
  work->preflight = pf;
  work->resume_job_id = job_id;
  work->link = g_strdup (link);
  start_work (self, work);
  return TRUE;
}

EwProgrammingPageState
ew_programming_page_get_state (EwProgrammingPage *self)
{
  const char *name;

  g_return_val_if_fail (EW_IS_PROGRAMMING_PAGE (self), EW_PROGRAMMING_PAGE_EMPTY);

  if (is_writing (self))
    return EW_PROGRAMMING_PAGE_RUNNING;
  if (self->work != NULL)
    return EW_PROGRAMMING_PAGE_CHECKING;
  name = gtk_stack_get_visible_child_name (self->main_stack);
  if (g_strcmp0 (name, "finished") == 0)
    return EW_PROGRAMMING_PAGE_FINISHED;
  if (g_strcmp0 (name, "setup") == 0 && self->preflight != NULL)
    return EW_PROGRAMMING_PAGE_CHECKLIST;
  return EW_PROGRAMMING_PAGE_EMPTY;
}

EwProgrammingOutcome
ew_programming_page_get_outcome (EwProgrammingPage *self)
{
  g_return_val_if_fail (EW_IS_PROGRAMMING_PAGE (self), EW_PROGRAMMING_OUTCOME_NONE);
  return self->outcome;
}

gboolean
ew_programming_page_get_is_busy (EwProgrammingPage *self)
{
  g_return_val_if_fail (EW_IS_PROGRAMMING_PAGE (self), FALSE);
  return self->work != NULL;
}

gboolean
ew_programming_page_get_is_writing (EwProgrammingPage *self)
{
  g_return_val_if_fail (EW_IS_PROGRAMMING_PAGE (self), FALSE);
  return is_writing (self);
}

gboolean
ew_programming_page_get_can_start (EwProgrammingPage *self)
{
  const Preflight *pf;

  g_return_val_if_fail (EW_IS_PROGRAMMING_PAGE (self), FALSE);

  pf = self->preflight;
  return self->work == NULL && pf != NULL && pf->error == NULL && self->store != NULL &&
         self->car_link != NULL && self->link != NULL &&
         gtk_check_button_get_active (self->battery_check) &&
         container_passes (self) && recovery_passes (self) && immobiliser_passes (self) &&
         (pf->plan == NULL || pf->plan->refusal == NULL);
}

const char *
ew_programming_page_get_refusal (EwProgrammingPage *self)
{
  g_return_val_if_fail (EW_IS_PROGRAMMING_PAGE (self), NULL);

  if (self->preflight == NULL || self->preflight->plan == NULL)
    return NULL;
  return self->preflight->plan->refusal;
}

double
ew_programming_page_get_fraction (EwProgrammingPage *self)
{
  g_return_val_if_fail (EW_IS_PROGRAMMING_PAGE (self), 0);
  return self->fraction;
}

const char *
ew_programming_page_get_progress_title (EwProgrammingPage *self)
{
  g_return_val_if_fail (EW_IS_PROGRAMMING_PAGE (self), NULL);
  return self->progress_title_text;
}

gint64
ew_programming_page_get_last_job_id (EwProgrammingPage *self)
{
  g_return_val_if_fail (EW_IS_PROGRAMMING_PAGE (self), 0);
  return self->last_job_id;
}

EwConnection *
ew_programming_page_get_connection (EwProgrammingPage *self)
{
  g_return_val_if_fail (EW_IS_PROGRAMMING_PAGE (self), NULL);
  return self->connection;
}

/* GObject */

static void
ew_programming_page_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  EwProgrammingPage *self = EW_PROGRAMMING_PAGE (object);

  switch (prop_id)
    {
    case PROP_IS_BUSY:
      g_value_set_boolean (value, self->work != NULL);
      break;
    case PROP_IS_WRITING:
      g_value_set_boolean (value, is_writing (self));
      break;
    case PROP_FRACTION:
      g_value_set_double (value, self->fraction);
      break;
    case PROP_PROGRESS_TITLE:
      g_value_set_string (value, self->progress_title_text);
      break;
    case PROP_CAN_START:
      g_value_set_boolean (value, ew_programming_page_get_can_start (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ew_programming_page_dispose (GObject *object)
{
  EwProgrammingPage *self = EW_PROGRAMMING_PAGE (object);

  /* running work is not cancelled: a module being written is finished by
   * its worker, which holds the car, the store and the application; its
   * late result finds no page */
  g_clear_pointer (&self->work, work_unref);
  if (self->confirm != NULL)
    {
      AdwMessageDialog *confirm = self->confirm;

      self->confirm = NULL;
      gtk_window_destroy (GTK_WINDOW (confirm));
    }
  if (self->chooser != NULL)
    {
      gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
      g_clear_object (&self->chooser);
    }
  gtk_widget_dispose_template (GTK_WIDGET (self), EW_TYPE_PROGRAMMING_PAGE);
  G_OBJECT_CLASS (ew_programming_page_parent_class)->dispose (object);
}

static void
ew_programming_page_finalize (GObject *object)
{
  EwProgrammingPage *self = EW_PROGRAMMING_PAGE (object);

  g_clear_pointer (&self->preflight, preflight_unref);
  g_clear_object (&self->connection);
  g_clear_object (&self->log);
  g_clear_pointer (&self->car_link, ew_car_link_unref);
  g_clear_pointer (&self->store, ew_shared_store_unref);
  g_clear_pointer (&self->family, ew_family_unref);
  g_clear_pointer (&self->choices, g_ptr_array_unref);
  g_free (self->container_path);
  g_free (self->link);
  g_free (self->progress_title_text);
  g_free (self->last_log_step);
  G_OBJECT_CLASS (ew_programming_page_parent_class)->finalize (object);
}

static void
ew_programming_page_class_init (EwProgrammingPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->get_property = ew_programming_page_get_property;
  object_class->dispose = ew_programming_page_dispose;
  object_class->finalize = ew_programming_page_finalize;

  properties[PROP_IS_BUSY] =
    g_param_spec_boolean ("is-busy", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_IS_WRITING] =
    g_param_spec_boolean ("is-writing", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_FRACTION] =
    g_param_spec_double ("fraction", NULL, NULL, 0.0, 1.0, 0.0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_PROGRESS_TITLE] =
    g_param_spec_string ("progress-title", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_CAN_START] =
    g_param_spec_boolean ("can-start", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* A programming or recovery job ended (its id, 0 when none was started). */
  signals[SIGNAL_JOB_FINISHED] =
    g_signal_new ("job-finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT64);
  /* "Show in History" for the job (its id). */
  signals[SIGNAL_HISTORY_REQUESTED] =
    g_signal_new ("history-requested", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT64);

  gtk_widget_class_install_action (widget_class, "programming.check", NULL, check_activated);
  gtk_widget_class_install_action (widget_class, "programming.start", NULL, start_activated);
  gtk_widget_class_install_action (widget_class, "programming.cancel", NULL, cancel_activated);
  gtk_widget_class_install_action (widget_class, "programming.recover", NULL, recover_activated);
  gtk_widget_class_install_action (widget_class, "programming.show-history", NULL,
                                   show_history_activated);
  gtk_widget_class_install_action (widget_class, "programming.new", NULL, new_activated);
  gtk_widget_class_install_action (widget_class, "programming.choose-container", NULL,
                                   choose_container_activated);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/ecuworkshop/EcuWorkshop/ew-programming-page.ui");
  gtk_widget_class_bind_template_child (widget_class, EwProgrammingPage, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, EwProgrammingPage, main_stack);
  gtk_widget_class_bind_template_child (widget_class, EwProgrammingPage, choice_row);
  gtk_widget_class_bind_template_child (widget_class, EwProgrammingPage, container_row);
  gtk_widget_class_bind_template_child (widget_class, EwProgrammingPage, checking_box);
  gtk_widget_class_bind_template_child (widget_class, EwProgrammingPage, check_error_label);
  gtk_widget_class_bind_template_child (widget_class, EwProgrammingPage, checklist_group);
  gtk_widget_class_bind_template_child (widget_class, EwProgrammingPage, battery_row);
  gtk_widget_class_bind_template_child (widget_class, EwProgrammingPage, battery_icon);
  gtk_widget_class_bind_template_child (widget_class, EwProgrammingPage, battery_check);
  gtk_widget_class_bind_template_child (widget_class, EwProgrammingPage, container_check_row);
  gtk_widget_class_bind_template_child (widget_class, EwProgrammingPage, container_icon);
  gtk_widget_class_bind_template_child (widget_class, EwProgrammingPage, downgrade_row);
  gtk_widget_class_bind_template_child (widget_class, EwProgrammingPage, downgrade_check);
  gtk_widget_class_bind_template_child (widget_class, EwProgrammingPage, recovery_row);
  gtk_widget_class_bind_template_child (widget_class, EwProgrammingPage, recovery_icon);
  gtk_widget_class_bind_template_child (widget_class, EwProgrammingPage, override_row);
  gtk_widget_class_bind_template_child (widget_class, EwProgrammingPage, override_check);
  gtk_widget_class_bind_template_child (widget_class, EwProgrammingPage, store_row);
  gtk_widget_class_bind_template_child (widget_class, EwProgrammingPage, store_icon);
  gtk_widget_class_bind_template_child (widget_class, EwProgrammingPage, immobiliser_row);
  gtk_widget_class_bind_template_child (widget_class, EwProgrammingPage, immobiliser_icon);
  gtk_widget_class_bind_template_child (widget_class, EwProgrammingPage, immobiliser_check);
  gtk_widget_class_bind_template_child (widget_class, EwProgrammingPage, mileage_row);
  gtk_widget_class_bind_template_child (widget_class, EwProgrammingPage, mileage_icon);
  gtk_widget_class_bind_template_child (widget_class, EwProgrammingPage, refusal_label);
  gtk_widget_class_bind_template_child (widget_class, EwProgrammingPage, steps_group);
  gtk_widget_class_bind_template_child (widget_class, EwProgrammingPage, steps_list);
  gtk_widget_class_bind_template_child (widget_class, EwProgrammingPage, start_button);
  gtk_widget_class_bind_template_child (widget_class, EwProgrammingPage, progress_title);
  gtk_widget_class_bind_template_child (widget_class, EwProgrammingPage, step_label);
  gtk_widget_class_bind_template_child (widget_class, EwProgrammingPage, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, EwProgrammingPage, bytes_row);
  gtk_widget_class_bind_template_child (widget_class, EwProgrammingPage, bytes_label);
  gtk_widget_class_bind_template_child (widget_class, EwProgrammingPage, rate_row);
  gtk_widget_class_bind_template_child (widget_class, EwProgrammingPage, rate_label);
  gtk_widget_class_bind_template_child (widget_class, EwProgrammingPage, time_left_label);
  gtk_widget_class_bind_template_child (widget_class, EwProgrammingPage, cancel_note);
  gtk_widget_class_bind_template_child (widget_class, EwProgrammingPage, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, EwProgrammingPage, log_expander);
  gtk_widget_class_bind_template_child (widget_class, EwProgrammingPage, log_view);
  gtk_widget_class_bind_template_child (widget_class, EwProgrammingPage, done_log_view);
  gtk_widget_class_bind_template_child (widget_class, EwProgrammingPage, result_status);
  gtk_widget_class_bind_template_child (widget_class, EwProgrammingPage, result_job_label);
  gtk_widget_class_bind_template_child (widget_class, EwProgrammingPage, recover_button);
  gtk_widget_class_bind_template_callback (widget_class, on_choice_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_confirmation_toggled);
}

static void
ew_programming_page_init (EwProgrammingPage *self)
{
  self->choices = g_ptr_array_new_with_free_func ((GDestroyNotify) choice_free);
  gtk_widget_init_template (GTK_WIDGET (self));
  /* one log, shown while the job runs and with its end state */
  self->log = g_object_ref (gtk_text_view_get_buffer (self->log_view));
  gtk_text_view_set_buffer (self->done_log_view, self->log);
  rebuild_choices (self);
  update_container_row (self);
  update_checklist (self);
}
