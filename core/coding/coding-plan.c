/* coding-plan.c — requested feature states turned into the bytes each
 * coding DID will hold, checked before anything touches the car.
 */
#include "config.h"

#include "coding-plan.h"

#include <glib/gi18n-lib.h>
#include <string.h>

G_DEFINE_QUARK (ew-coding-error-quark, ew_coding_error)

gboolean
ew_feature_request_parse (const char  *text,
                          char       **feature_id,
                          char       **state,
                          GError     **error)
{
  const char *eq;
  g_autofree char *id = NULL;
  g_autofree char *value = NULL;

  g_return_val_if_fail (text != NULL, FALSE);

  eq = strchr (text, '=');
  if (eq != NULL)
    {
      id = g_strstrip (g_strndup (text, (gsize) (eq - text)));
      value = g_strstrip (g_strdup (eq + 1));
    }
  if (eq == NULL || *id == '\0' || *value == '\0')
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not a feature request: write FEATURE=STATE, e.g. cornering-lights=on"),
                   text);
      return FALSE;
    }
  if (feature_id != NULL)
    *feature_id = g_steal_pointer (&id);
  if (state != NULL)
    *state = g_steal_pointer (&value);
  return TRUE;
}

/* One DID being built. */
typedef struct {
  const EwModule    *module;
  const EwCodingDid *did;
  GBytes            *before;
  guint8            *after;
  guint8            *written;     /* the bits some request sets */
  guint              module_index;
} DidWork;

static void
did_work_free (DidWork *w)
{
  g_bytes_unref (w->before);
  g_free (w->after);
  g_free (w->written);
  g_free (w);
}

static void
coding_change_free (EwCodingChange *change)
{
  g_bytes_unref (change->before);
  g_bytes_unref (change->after);
  g_free (change);
}

static const char *
availability_word (EwFeatureAvailability availability)
{
  switch (availability)
    {
    case EW_FEATURE_NOT_FITTED:         return _("not fitted");
    case EW_FEATURE_NEEDS_PROGRAMMING:  return _("needs programming, not coding");
    case EW_FEATURE_UNREADABLE:         return _("could not be read");
    case EW_FEATURE_SWITCHABLE:
    default:                            return _("switchable");
    }
}

static const char *
state_label (const EwFeatureState *state)
{
  if (state == NULL)
    return _("unknown value");
  return state->label != NULL ? state->label : state->name;
}

static int
compare_work (gconstpointer a, gconstpointer b)
{
  const DidWork *wa = *(DidWork *const *) a;
  const DidWork *wb = *(DidWork *const *) b;

  if (wa->module_index != wb->module_index)
    return wa->module_index < wb->module_index ? -1 : 1;
  return wa->did->did < wb->did->did ? -1 : wa->did->did > wb->did->did;
}

EwCodingPlan *
ew_coding_plan_new (EwFeatureCatalogue     *catalogue,
                    const EwFeatureRequest *requests,
                    guint                   n_requests,
                    GError                **error)
{
  EwFamily *family;
  g_autoptr(EwCodingPlan) plan = NULL;
  g_autoptr(GPtrArray) work = g_ptr_array_new_with_free_func ((GDestroyNotify) did_work_free);
  g_autoptr(GString) summary = g_string_new (NULL);
  /* per request: the request index that first set an item */
  g_autoptr(GHashTable) item_owner = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  g_return_val_if_fail (catalogue != NULL, NULL);

  family = ew_feature_catalogue_get_family (catalogue);
  plan = ew_coding_plan_new_empty (family);
  plan->vin = g_strdup (ew_feature_catalogue_get_vin (catalogue));
  plan->is_simulated = ew_feature_catalogue_is_simulated (catalogue);

  for (guint r = 0; r < n_requests; r++)
    {
      const EwFeatureRequest *req = &requests[r];
      const EwFeatureStatus *st = ew_feature_catalogue_find (catalogue, req->feature_id);
      const EwFeatureState *to = NULL;
      const EwCodingDid *cd;
      const EwCodingItem *item;
      const EwCodingValue *value;
      DidWork *w = NULL;
      g_autofree char *item_key = NULL;
      gpointer owner;
      g_autofree guint8 *mask_bytes = NULL;
      g_autofree guint8 *value_bytes = NULL;

      if (st == NULL)
        {
          g_set_error (error, EW_CODING_ERROR, EW_CODING_ERROR_UNKNOWN_FEATURE,
                       _("The %s %s has no feature “%s”"), family->make, family->model,
                       req->feature_id);
          return NULL;
        }
      for (guint i = 0; st->feature->states != NULL && i < st->feature->states->len; i++)
        {
          const EwFeatureState *s = g_ptr_array_index (st->feature->states, i);

          if (g_strcmp0 (s->name, req->state) == 0)
            to = s;
        }
      if (to == NULL)
        {
          g_autoptr(GString) names = g_string_new (NULL);

          for (guint i = 0; st->feature->states != NULL && i < st->feature->states->len; i++)
            g_string_append_printf (names, "%s%s", i > 0 ? ", " : "",
                                    ((EwFeatureState *) g_ptr_array_index (st->feature->states, i))->name);
          g_set_error (error, EW_CODING_ERROR, EW_CODING_ERROR_UNKNOWN_STATE,
                       _("%s (%s) has no state “%s”; its states are: %s"),
                       st->feature->name, st->feature->id, req->state,
                       names->len > 0 ? names->str : _("none (not a coding feature)"));
          return NULL;
        }
      if (st->availability != EW_FEATURE_SWITCHABLE)
        {
          g_set_error (error, EW_CODING_ERROR, EW_CODING_ERROR_NOT_SWITCHABLE,
                       _("%s (%s) cannot be switched to “%s” by coding: %s. %s"),
                       st->feature->name, st->feature->id, to->name,
                       availability_word (st->availability),
                       st->reason != NULL ? st->reason : "");
          return NULL;
        }

      cd = ew_module_find_coding_did (st->module, st->feature->did);
      item = cd != NULL ? ew_coding_did_find_item (cd, st->feature->item) : NULL;
      value = item != NULL ? ew_coding_item_find_value (item, to->value) : NULL;
      if (value == NULL)
        {
          g_set_error (error, EW_CODING_ERROR, EW_CODING_ERROR_UNKNOWN_STATE,
                       _("%s (%s): state “%s” names the value “%s”, which item “%s” of DID 0x%04X "
                         "in the %s does not have"),
                       st->feature->name, st->feature->id, to->name, to->value,
                       st->feature->item, st->feature->did, st->module->name);
          return NULL;
        }

      /* the same coding item asked twice, through one feature or two */
      item_key = g_strdup_printf ("%s:%04X:%s", st->module->id, cd->did, item->id);
      if (g_hash_table_lookup_extended (item_owner, item_key, NULL, &owner))
        {
          const EwFeatureRequest *first = &requests[GPOINTER_TO_UINT (owner)];
          const EwFeatureStatus *fst = ew_feature_catalogue_find (catalogue, first->feature_id);
          const EwFeatureState *fto = NULL;

          for (guint i = 0; i < fst->feature->states->len; i++)
            if (g_strcmp0 (((EwFeatureState *) g_ptr_array_index (fst->feature->states, i))->name,
                           first->state) == 0)
              fto = g_ptr_array_index (fst->feature->states, i);
          if (fto == NULL || g_strcmp0 (fto->value, to->value) != 0)
            {
              g_set_error (error, EW_CODING_ERROR, EW_CODING_ERROR_CONFLICT,
                           _("Conflicting requests: %s=%s and %s=%s both set item “%s” of DID 0x%04X "
                             "in the %s"),
                           first->feature_id, first->state, req->feature_id, req->state,
                           item->id, cd->did, st->module->name);
              return NULL;
            }
          continue;   /* the same value asked twice: once is enough */
        }
      g_hash_table_insert (item_owner, g_strdup (item_key), GUINT_TO_POINTER (r));

      for (guint i = 0; i < work->len; i++)
        {
          DidWork *x = g_ptr_array_index (work, i);

          if (x->module == st->module && x->did == cd)
            w = x;
        }
      if (w == NULL)
        {
          GBytes *now = ew_feature_catalogue_get_did_bytes (catalogue, st->module->id, cd->did);

          if (now == NULL || g_bytes_get_size (now) != cd->length_bytes)
            {
              g_set_error (error, EW_CODING_ERROR, EW_CODING_ERROR_NOT_SWITCHABLE,
                           _("%s (%s): DID 0x%04X of the %s was not read correctly (%u of %u bytes)"),
                           st->feature->name, st->feature->id, cd->did, st->module->name,
                           now != NULL ? (guint) g_bytes_get_size (now) : 0u, cd->length_bytes);
              return NULL;
            }
          w = g_new0 (DidWork, 1);
          w->module = st->module;
          w->did = cd;
          w->before = g_bytes_ref (now);
          w->after = g_memdup2 (g_bytes_get_data (now, NULL), cd->length_bytes);
          w->written = g_malloc0 (cd->length_bytes);
          for (guint i = 0; i < family->modules->len; i++)
            if (g_ptr_array_index (family->modules, i) == st->module)
              w->module_index = i;
          g_ptr_array_add (work, w);
        }

      /* two different items whose masks overlap: refused unless they
       * agree on every shared bit */
      mask_bytes = g_malloc0 (cd->length_bytes);
      value_bytes = g_malloc0 (cd->length_bytes);
      ew_coding_item_write (item, mask_bytes, cd->length_bytes, G_MAXUINT32 >> item->bit);
      ew_coding_item_write (item, value_bytes, cd->length_bytes, value->raw);
      for (guint i = 0; i < cd->length_bytes; i++)
        if (((w->written[i] & mask_bytes[i]) & (w->after[i] ^ value_bytes[i])) != 0)
          {
            g_set_error (error, EW_CODING_ERROR, EW_CODING_ERROR_CONFLICT,
                         _("Conflicting requests: %s=%s changes byte %u of DID 0x%04X in the %s, "
                           "which another request sets differently"),
                         req->feature_id, req->state, i, cd->did, st->module->name);
            return NULL;
          }
      ew_coding_item_write (item, w->after, cd->length_bytes, value->raw);
      for (guint i = 0; i < cd->length_bytes; i++)
        w->written[i] |= mask_bytes[i];

      if (st->raw != value->raw)
        {
          EwCodingPlanLine *line = g_new0 (EwCodingPlanLine, 1);

          line->feature = st->feature;
          line->from = st->state;
          line->to = to;
          g_ptr_array_add (plan->lines, line);
          g_string_append_printf (summary, "%s%s: %s → %s", summary->len > 0 ? "; " : "",
                                  st->feature->name, state_label (st->state), state_label (to));
        }
    }

  g_ptr_array_sort (work, compare_work);
  for (guint i = 0; i < work->len; i++)
    {
      DidWork *w = g_ptr_array_index (work, i);
      EwCodingChange *change;

      ew_coding_checksum_apply (w->did, w->after, w->did->length_bytes);
      if (memcmp (w->after, g_bytes_get_data (w->before, NULL), w->did->length_bytes) == 0)
        continue;
      change = g_new0 (EwCodingChange, 1);
      change->module = w->module;
      change->did = w->did;
      change->before = g_bytes_ref (w->before);
      change->after = g_bytes_new (w->after, w->did->length_bytes);
      g_ptr_array_add (plan->changes, change);
    }

  if (plan->lines->len == 0 || plan->changes->len == 0)
    {
      g_set_error (error, EW_CODING_ERROR, EW_CODING_ERROR_NOTHING_TO_DO,
                   _("Nothing to do: every feature asked for is already in that state"));
      return NULL;
    }
  plan->summary = g_string_free (g_steal_pointer (&summary), FALSE);
  return g_steal_pointer (&plan);
}

/* An EwCodingDid the plan made itself: no items, no default. */
static void
extra_did_free (EwCodingDid *did)
{
  g_free (did->name);
  g_clear_pointer (&did->items, g_ptr_array_unref);
  g_clear_pointer (&did->default_bytes, g_bytes_unref);
  g_free (did);
}

EwCodingPlan *
ew_coding_plan_new_empty (EwFamily *family)
{
  EwCodingPlan *plan;

  g_return_val_if_fail (family != NULL, NULL);

  plan = g_new0 (EwCodingPlan, 1);
  plan->family = ew_family_ref (family);
  plan->lines = g_ptr_array_new_with_free_func (g_free);
  plan->changes = g_ptr_array_new_with_free_func ((GDestroyNotify) coding_change_free);
  plan->notes = g_ptr_array_new_with_free_func (g_free);
  plan->extra_dids = g_ptr_array_new_with_free_func ((GDestroyNotify) extra_did_free);
  return plan;
}

void
ew_coding_plan_free (EwCodingPlan *plan)
{
  if (plan == NULL)
    return;
  g_clear_pointer (&plan->family, ew_family_unref);
  g_free (plan->vin);
  g_clear_pointer (&plan->lines, g_ptr_array_unref);
  /* changes may point into extra_dids: freed first */
  g_clear_pointer (&plan->changes, g_ptr_array_unref);
  g_free (plan->summary);
  g_clear_pointer (&plan->notes, g_ptr_array_unref);
  g_free (plan->subject_id);
  g_free (plan->subject_name);
  g_free (plan->subject_source);
  g_clear_pointer (&plan->extra_dids, g_ptr_array_unref);
  g_free (plan);
}

/* CRC-8 SAE J1850: polynomial 0x1D, initial value 0xFF, final XOR 0xFF. */
static guint8
crc8_sae_j1850 (const guint8 *data, gsize n)
{
  guint8 crc = 0xFF;

  for (gsize i = 0; i < n; i++)
    {
      crc ^= data[i];
      for (guint b = 0; b < 8; b++)
        crc = (crc & 0x80) ? (guint8) ((crc << 1) ^ 0x1D) : (guint8) (crc << 1);
    }
  return crc ^ 0xFF;
}

/* CRC-16 CCITT (the "FALSE" variant common in ECU data): polynomial
 * 0x1021, initial value 0xFFFF, no reflection, no final XOR. */
static guint16
crc16_ccitt (const guint8 *data, gsize n)
{
  guint16 crc = 0xFFFF;

  for (gsize i = 0; i < n; i++)
    {
      crc ^= (guint16) (data[i] << 8);
      for (guint b = 0; b < 8; b++)
        crc = (crc & 0x8000) ? (guint16) ((crc << 1) ^ 0x1021) : (guint16) (crc << 1);
    }
  return crc;
}

void
ew_coding_checksum_apply (const EwCodingDid *did,
                          guint8            *bytes,
                          gsize              length_bytes)
{
  const guint8 *range;
  gsize n;

  if (did->checksum == EW_CHECKSUM_NONE)
    return;
  /* the loader checks the range; a short buffer from elsewhere is left alone */
  if (did->checksum_to >= length_bytes || did->checksum_from > did->checksum_to ||
      did->checksum_at + (did->checksum == EW_CHECKSUM_CRC16_CCITT ? 1 : 0) >= length_bytes)
    return;
  range = bytes + did->checksum_from;
  n = did->checksum_to - did->checksum_from + 1;

  switch (did->checksum)
    {
    case EW_CHECKSUM_SUM8:
      {
        guint8 sum = 0;

        for (gsize i = 0; i < n; i++)
          sum = (guint8) (sum + range[i]);
        bytes[did->checksum_at] = sum;
      }
      break;
    case EW_CHECKSUM_XOR8:
      {
        guint8 x = 0;

        for (gsize i = 0; i < n; i++)
          x ^= range[i];
        bytes[did->checksum_at] = x;
      }
      break;
    case EW_CHECKSUM_CRC8_SAE_J1850:
      bytes[did->checksum_at] = crc8_sae_j1850 (range, n);
      break;
    case EW_CHECKSUM_CRC16_CCITT:
      {
        guint16 crc = crc16_ccitt (range, n);

        /* most significant byte first, as CRCs are conventionally stored */
        bytes[did->checksum_at] = (guint8) (crc >> 8);
        bytes[did->checksum_at + 1] = (guint8) crc;
      }
      break;
    case EW_CHECKSUM_NONE:
    default:
      break;
    }
}
