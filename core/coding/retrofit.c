/* retrofit.c — the coding a used module needs to belong to a car, turned
 * into an EwCodingPlan that the coding transaction applies.
 */
#include "config.h"

#include "retrofit.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "uds/uds-client.h"

/* One module the planner asks, opened once. */
typedef struct {
  const EwModule *module;
  EwChannel      *channel;
  EwUdsClient    *client;
} Reader;

/* One DID being built: a coding DID of the vehicle data, or one of the
 * plan's own (the VIN, the option list). */
typedef struct {
  const EwModule    *module;
  const EwCodingDid *did;
  GBytes            *before;
  guint8            *after;
  gsize              length_bytes;
  gboolean           is_coding;     /* checksums apply */
  guint              order;         /* position in the plan */
} Work;

typedef struct {
  EwConnection       *connection;
  EwFeatureCatalogue *catalogue;
  EwFamily           *family;
  const EwModule     *module;       /* the retrofitted one */
  GCancellable       *cancellable;
  GPtrArray          *readers;      /* Reader */
  GPtrArray          *work;         /* Work */
  EwCodingPlan       *plan;
  EwProvenance        provenance;   /* the weakest seen */
  const char         *source;
} Planner;

static void
reader_free (Reader *reader)
{
  g_clear_object (&reader->client);
  g_clear_object (&reader->channel);
  g_free (reader);
}

static void
work_free (Work *w)
{
  g_bytes_unref (w->before);
  g_free (w->after);
  g_free (w);
}

static guint
module_index (EwFamily *family, const EwModule *module)
{
  for (guint i = 0; i < family->modules->len; i++)
    if (g_ptr_array_index (family->modules, i) == module)
      return i;
  return family->modules->len;
}

static void
take_provenance (Planner *p, const EwProvenanceInfo *info)
{
  if (info->provenance < p->provenance)
    {
      p->provenance = info->provenance;
      p->source = info->source;
    }
  else if (info->provenance == p->provenance && p->source == NULL)
    p->source = info->source;
}

/* Reads did of module; a module that does not answer, or refuses, is
 * MODULE_SILENT with the module and DID named. transfer full */
static GBytes *
read_did (Planner *p, const EwModule *module, guint16 did, GError **error)
{
  Reader *reader = NULL;
  g_autoptr(GError) local_error = NULL;
  GBytes *bytes;

  for (guint i = 0; i < p->readers->len && reader == NULL; i++)
    if (((Reader *) g_ptr_array_index (p->readers, i))->module == module)
      reader = g_ptr_array_index (p->readers, i);
  if (reader == NULL)
    {
      g_autoptr(EwChannel) channel = ew_connection_open_channel (p->connection, module, &local_error);

      if (channel == NULL)
        {
          g_set_error (error, EW_CODING_ERROR, EW_CODING_ERROR_MODULE_SILENT,
                       _("The %s cannot be reached: %s"), module->name, local_error->message);
          return NULL;
        }
      reader = g_new0 (Reader, 1);
      reader->module = module;
      reader->channel = g_steal_pointer (&channel);
      reader->client = ew_uds_client_new (reader->channel, module->id);
      g_ptr_array_add (p->readers, reader);
    }
  bytes = ew_uds_client_read_did (reader->client, did, p->cancellable, &local_error);
  if (bytes == NULL)
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_propagate_error (error, g_steal_pointer (&local_error));
      else
        g_set_error (error, EW_CODING_ERROR, EW_CODING_ERROR_MODULE_SILENT,
                     _("The %s did not give DID 0x%04X (%s): is it fitted, connected and "
                       "powered?"),
                     module->name, did, local_error->message);
      return NULL;
    }
  return bytes;
}

static Work *
find_work (Planner *p, const EwModule *module, guint16 did)
{
  for (guint i = 0; i < p->work->len; i++)
    {
      Work *w = g_ptr_array_index (p->work, i);

      if (w->module == module && w->did->did == did)
        return w;
    }
  return NULL;
}

static Work *
add_work (Planner *p, const EwModule *module, const EwCodingDid *did, GBytes *before,
          gboolean is_coding)
{
  Work *w = g_new0 (Work, 1);
  gsize n = 0;
  const guint8 *data = g_bytes_get_data (before, &n);

  w->module = module;
  w->did = did;
  w->before = g_bytes_ref (before);
  w->length_bytes = n;
  w->after = n > 0 ? g_memdup2 (data, n) : NULL;
  w->is_coding = is_coding;
  /* the car learns first; the module's own DIDs come last */
  w->order = (module == p->module ? p->family->modules->len + 1 : module_index (p->family, module)) << 16
             | did->did;
  g_ptr_array_add (p->work, w);
  return w;
}

/* The work for a coding DID of module, its bytes from the catalogue where
 * it read them, else from the module. */
static Work *
coding_work (Planner *p, const EwModule *module, guint16 did, GError **error)
{
  const EwCodingDid *cd = ew_module_find_coding_did (module, did);
  g_autoptr(GBytes) bytes = NULL;
  GBytes *known;
  Work *w;

  if ((w = find_work (p, module, did)) != NULL)
    return w;
  g_assert (cd != NULL);   /* the loader checked every reference */
  known = ew_feature_catalogue_get_did_bytes (p->catalogue, module->id, did);
  bytes = known != NULL ? g_bytes_ref (known) : read_did (p, module, did, error);
  if (bytes == NULL)
    return NULL;
  if (g_bytes_get_size (bytes) != cd->length_bytes)
    {
      g_set_error (error, EW_CODING_ERROR, EW_CODING_ERROR_MODULE_SILENT,
                   _("DID 0x%04X of the %s gave %u bytes where the vehicle data has %u"),
                   did, module->name, (guint) g_bytes_get_size (bytes), cd->length_bytes);
      return NULL;
    }
  return add_work (p, module, cd, bytes, TRUE);
}

/* An identification DID the plan writes: the plan owns its description. */
static EwCodingDid *
extra_did (Planner *p, const EwIdentificationDid *id, const char *fallback_name)
{
  EwCodingDid *did = g_new0 (EwCodingDid, 1);

  did->did = id->did;
  did->name = g_strdup (id->name != NULL ? id->name : fallback_name);
  did->length_bytes = id->length_bytes;   /* 0: variable, as the option list */
  did->checksum = EW_CHECKSUM_NONE;
  did->items = g_ptr_array_new ();
  g_ptr_array_add (p->plan->extra_dids, did);
  return did;
}

static const EwIdentificationDid *
identification_of_role (const EwModule *module, EwIdentificationRole role)
{
  for (guint i = 0; i < module->identification->len; i++)
    {
      const EwIdentificationDid *id = g_ptr_array_index (module->identification, i);

      if (id->role == role)
        return id;
    }
  return NULL;
}

static const char *
value_label (const EwCodingItem *item, guint64 raw, char **scratch)
{
  for (guint i = 0; i < item->values->len; i++)
    {
      const EwCodingValue *v = g_ptr_array_index (item->values, i);

      if (v->raw == raw)
        return v->label != NULL ? v->label : v->name;
    }
  g_free (*scratch);
  /* TRANSLATORS: a raw coding value that the vehicle data does not name */
  *scratch = g_strdup_printf (_("unknown value 0x%llX"), (unsigned long long) raw);
  return *scratch;
}

/* Sets item to value_name in w; a review note when it changes. */
static void
set_item (Planner *p, Work *w, const EwCodingItem *item, const char *value_name)
{
  const EwCodingValue *value = ew_coding_item_find_value (item, value_name);
  guint64 old = ew_coding_item_read (item, w->after, w->length_bytes);
  g_autofree char *scratch = NULL;

  g_assert (value != NULL);   /* the loader checked it */
  take_provenance (p, &item->provenance);
  if (old == value->raw)
    return;
  ew_coding_item_write (item, w->after, w->length_bytes, value->raw);
  g_ptr_array_add (p->plan->notes,
                   /* TRANSLATORS: coding item, old value → new value */
                   g_strdup_printf (_("%s: %s → %s"), item->name, value_label (item, old, &scratch),
                                    value->label != NULL ? value->label : value->name));
}

static char *
bytes_to_text (GBytes *bytes)
{
  gsize n = 0;
  const char *data = g_bytes_get_data (bytes, &n);
  char *text = g_strndup (data, n);

  /* a fixed-length record may be padded with NULs or spaces */
  return g_strstrip (text);
}

/* "WBA…654321": enough of a VIN to tell two apart in a review line. */
static char *
short_vin (const char *vin)
{
  gsize n = strlen (vin);

  if (n <= 9)
    return g_strdup (vin);
  return g_strdup_printf ("%.3s…%s", vin, vin + n - 6);
}

/* The option list with the retrofit's options added: the family's codes
 * in its <options> order, then any code the family does not know, as the
 * car had them. Fills fitted with every code of the new list. */
static char *
build_option_list (Planner *p, const char *current, GHashTable *fitted, GPtrArray *added)
{
  g_auto(GStrv) codes = g_strsplit (current, ",", -1);
  g_autoptr(GString) out = g_string_new (NULL);

  for (guint i = 0; codes[i] != NULL; i++)
    if (*g_strstrip (codes[i]) != '\0')
      g_hash_table_add (fitted, g_strdup (codes[i]));
  for (guint i = 0; i < p->module->retrofit->options->len; i++)
    {
      const char *code = g_ptr_array_index (p->module->retrofit->options, i);

      if (!g_hash_table_contains (fitted, code))
        {
          g_hash_table_add (fitted, g_strdup (code));
          g_ptr_array_add (added, (gpointer) code);
        }
    }
  for (guint i = 0; i < p->family->options->len; i++)
    {
      const EwOption *option = g_ptr_array_index (p->family->options, i);

      if (g_hash_table_contains (fitted, option->code))
        g_string_append_printf (out, "%s%s", out->len > 0 ? "," : "", option->code);
    }
  for (guint i = 0; codes[i] != NULL; i++)
    if (*codes[i] != '\0' && ew_family_find_option (p->family, codes[i]) == NULL)
      g_string_append_printf (out, "%s%s", out->len > 0 ? "," : "", codes[i]);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static gboolean
plan_options (Planner *p, GHashTable *fitted, GError **error)
{
  const EwModule *holder = NULL;
  const EwIdentificationDid *id = NULL;
  g_autoptr(GBytes) before = NULL;
  g_autoptr(GPtrArray) added = g_ptr_array_new ();
  g_autofree char *current = NULL;
  g_autofree char *list = NULL;
  Work *w;

  for (guint i = 0; i < p->family->modules->len && id == NULL; i++)
    {
      holder = g_ptr_array_index (p->family->modules, i);
      id = identification_of_role (holder, EW_ID_ROLE_OPTION_LIST);
    }
  if (id == NULL)
    return TRUE;   /* the family keeps no option list: nothing to add to */

  before = read_did (p, holder, id->did, error);
  if (before == NULL)
    return FALSE;
  current = bytes_to_text (before);
  list = build_option_list (p, current, fitted, added);
  if (added->len == 0)
    return TRUE;

  w = add_work (p, holder, extra_did (p, id, _("Option list")), before, FALSE);
  g_free (w->after);
  w->length_bytes = strlen (list);
  w->after = (guint8 *) g_steal_pointer (&list);
  for (guint i = 0; i < added->len; i++)
    {
      const EwOption *option = ew_family_find_option (p->family, g_ptr_array_index (added, i));

      g_ptr_array_add (p->plan->notes,
                       /* TRANSLATORS: an option code and its name added to the car's option list */
                       g_strdup_printf (_("Option list: + %s (%s)"), option->code, option->name));
    }
  return TRUE;
}

static gboolean
plan_vin (Planner *p, GError **error)
{
  const EwIdentificationDid *id = identification_of_role (p->module, EW_ID_ROLE_VIN);
  const char *car_vin = ew_feature_catalogue_get_vin (p->catalogue);
  g_autoptr(GBytes) before = NULL;
  g_autofree char *module_vin = NULL;
  g_autofree char *from = NULL;
  g_autofree char *to = NULL;
  gsize length;
  Work *w;

  if (car_vin == NULL || *car_vin == '\0')
    {
      g_set_error (error, EW_CODING_ERROR, EW_CODING_ERROR_PRECONDITION,
                   _("The car's VIN could not be read, so the %s cannot be linked to it"),
                   p->module->name);
      return FALSE;
    }
  before = read_did (p, p->module, id->did, error);
  if (before == NULL)
    return FALSE;
  module_vin = bytes_to_text (before);
  if (g_strcmp0 (module_vin, car_vin) == 0)
    return TRUE;

  w = add_work (p, p->module, extra_did (p, id, "VIN"), before, FALSE);
  length = id->length_bytes != 0 ? id->length_bytes : strlen (car_vin);
  g_free (w->after);
  w->after = g_malloc0 (length);
  memcpy (w->after, car_vin, MIN (length, strlen (car_vin)));
  w->length_bytes = length;
  from = *module_vin != '\0' ? short_vin (module_vin) : g_strdup (_("none"));
  to = short_vin (car_vin);
  /* TRANSLATORS: the VIN the module holds → the car's VIN */
  g_ptr_array_add (p->plan->notes, g_strdup_printf (_("VIN: %s → %s"), from, to));
  return TRUE;
}

static int
compare_work (gconstpointer a, gconstpointer b)
{
  const Work *wa = *(Work *const *) a;
  const Work *wb = *(Work *const *) b;

  return wa->order < wb->order ? -1 : wa->order > wb->order;
}

EwCodingPlan *
ew_retrofit_plan_new (EwConnection        *connection,
                      EwFeatureCatalogue  *catalogue,
                      const char          *module_id,
                      GCancellable        *cancellable,
                      GError             **error)
{
  Planner p = { 0 };
  g_autoptr(EwCodingPlan) plan = NULL;
  g_autoptr(GPtrArray) readers = g_ptr_array_new_with_free_func ((GDestroyNotify) reader_free);
  g_autoptr(GPtrArray) work = g_ptr_array_new_with_free_func ((GDestroyNotify) work_free);
  g_autoptr(GHashTable) fitted = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GBytes) alive = NULL;
  g_autoptr(GString) summary = g_string_new (NULL);
  const EwRetrofit *r;
  const EwIdentificationDid *first_id;

  g_return_val_if_fail (EW_IS_CONNECTION (connection), NULL);
  g_return_val_if_fail (catalogue != NULL, NULL);
  g_return_val_if_fail (module_id != NULL, NULL);

  p.connection = connection;
  p.catalogue = catalogue;
  p.family = ew_feature_catalogue_get_family (catalogue);
  p.cancellable = cancellable;
  p.readers = readers;
  p.work = work;
  p.module = ew_family_find_module (p.family, module_id);
  if (p.module == NULL)
    {
      g_set_error (error, EW_CODING_ERROR, EW_CODING_ERROR_NO_RETROFIT,
                   _("The %s %s has no module “%s”"), p.family->make, p.family->model, module_id);
      return NULL;
    }
  r = p.module->retrofit;
  if (r == NULL)
    {
      g_set_error (error, EW_CODING_ERROR, EW_CODING_ERROR_NO_RETROFIT,
                   _("The vehicle data of the %s %s has no retrofit for the %s (%s)"),
                   p.family->make, p.family->model, p.module->name, p.module->id);
      return NULL;
    }

  plan = ew_coding_plan_new_empty (p.family);
  plan->vin = g_strdup (ew_feature_catalogue_get_vin (catalogue));
  plan->is_simulated = ew_feature_catalogue_is_simulated (catalogue);
  p.plan = plan;
  p.provenance = r->provenance.provenance;
  p.source = r->provenance.source;

  /* the retrofitted module first: nothing is planned for a module that
   * is not there */
  first_id = identification_of_role (p.module, EW_ID_ROLE_VIN);
  if (first_id == NULL && p.module->identification->len > 0)
    first_id = g_ptr_array_index (p.module->identification, 0);
  if (first_id != NULL && (alive = read_did (&p, p.module, first_id->did, error)) == NULL)
    return NULL;

  for (guint i = 0; i < r->car_coding->len; i++)
    {
      const EwRetrofitCarCoding *cc = g_ptr_array_index (r->car_coding, i);
      const EwModule *other = ew_family_find_module (p.family, cc->module);
      Work *w = coding_work (&p, other, cc->did, error);

      if (w == NULL)
        return NULL;
      set_item (&p, w, ew_coding_did_find_item (w->did, cc->item), cc->value);
    }

  if (!plan_options (&p, fitted, error))
    return NULL;

  for (guint i = 0; i < r->module_coding->len; i++)
    {
      const EwRetrofitModuleCoding *mc = g_ptr_array_index (r->module_coding, i);
      Work *w = coding_work (&p, p.module, mc->did, error);

      if (w == NULL)
        return NULL;
      set_item (&p, w, ew_coding_did_find_item (w->did, mc->item),
                g_hash_table_contains (fitted, mc->option) ? mc->if_fitted : mc->if_absent);
    }

  if (r->has_vin_link && !plan_vin (&p, error))
    return NULL;

  g_ptr_array_sort (work, compare_work);
  for (guint i = 0; i < work->len; i++)
    {
      Work *w = g_ptr_array_index (work, i);
      EwCodingChange *change;

      if (w->is_coding)
        ew_coding_checksum_apply (w->did, w->after, w->length_bytes);
      if (w->length_bytes == g_bytes_get_size (w->before) &&
          (w->length_bytes == 0 || memcmp (w->after, g_bytes_get_data (w->before, NULL), w->length_bytes) == 0))
        continue;
      change = g_new0 (EwCodingChange, 1);
      change->module = w->module;
      change->did = w->did;
      change->before = g_bytes_ref (w->before);
      change->after = g_bytes_new (w->after, w->length_bytes);
      g_ptr_array_add (plan->changes, change);
    }
  if (plan->changes->len == 0)
    {
      g_set_error (error, EW_CODING_ERROR, EW_CODING_ERROR_NOTHING_TO_DO,
                   _("Nothing to do: the car and the %s already say everything the retrofit "
                     "would write"),
                   p.module->name);
      return NULL;
    }

  plan->subject_id = g_strconcat ("retrofit:", p.module->id, NULL);
  /* TRANSLATORS: the module's name */
  plan->subject_name = g_strdup_printf (_("Retrofit of the %s"), p.module->name);
  plan->subject_provenance = p.provenance;
  plan->subject_source = g_strdup (p.source);
  g_string_append_printf (summary, "%s: ", plan->subject_name);
  for (guint i = 0; i < plan->notes->len; i++)
    g_string_append_printf (summary, "%s%s", i > 0 ? "; " : "",
                            (const char *) g_ptr_array_index (plan->notes, i));
  plan->summary = g_string_free (g_steal_pointer (&summary), FALSE);
  return g_steal_pointer (&plan);
}
