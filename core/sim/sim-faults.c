/* sim-faults.c — parsing and querying the fault spec (see sim-faults.h). */
#include "sim/sim-faults.h"

#include <errno.h>
#include <gio/gio.h>
#include <string.h>

typedef enum {
  FAULT_DROP_PERCENT,
  FAULT_DROP_EVERY,
  FAULT_DELAY,
  FAULT_NRC,
  FAULT_PENDING,
  FAULT_POWER_LOSS,
  FAULT_BAD_CRC,
} FaultKind;

typedef struct {
  FaultKind kind;
  char     *module;     /* NULL = every module */
  guint8    sid;
  guint8    nrc;
  guint     n;          /* percent, every-N, ms, @N, pending count, block */
  guint     off_ms;
  guint     counter;    /* requests / messages seen so far */
} Fault;

struct _EwSimFaults {
  gatomicrefcount ref_count;
  char           *spec;
  GMutex          mutex;    /* guards counters and rand */
  GRand          *rand;
  GArray         *faults;   /* Fault */
  guint           link_drop_after; /* 0 = never */
  guint           link_down_ms;    /* 0 = for good */
};

static void
fault_clear (gpointer data)
{
  Fault *fault = data;
  g_free (fault->module);
}

static gboolean
parse_number (const char *text,
              guint64     max,
              guint64    *out)
{
  char *end = NULL;
  guint64 value;

  if (text == NULL || *text == '\0' || *text == '-' || *text == '+')
    return FALSE;
  errno = 0;
  value = g_ascii_strtoull (text, &end, 0);
  if (errno != 0 || end == text || *end != '\0' || value > max)
    return FALSE;
  *out = value;
  return TRUE;
}

static gboolean
fail (GError    **error,
      gsize       offset,
      const char *item,
      const char *why)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
               "Fault spec, character %" G_GSIZE_FORMAT ": \"%s\": %s",
               offset, item, why);
  return FALSE;
}

static char *
module_or_null (const char *text)
{
  return (text == NULL || strcmp (text, "*") == 0) ? NULL : g_strdup (text);
}

/* Splits "A:B:C" into at most n parts, keeping empty parts. */
static gboolean
parse_item (EwSimFaults *faults,
            const char  *item,
            gsize        offset,
            GError     **error)
{
  const char *eq = strchr (item, '=');
  g_autofree char *key = NULL;
  const char *value;
  g_auto(GStrv) parts = NULL;
  guint n_parts;
  Fault fault = { 0 };
  guint64 number;

  if (eq == NULL || eq == item)
    return fail (error, offset, item, "expected KEY=VALUE");
  key = g_strstrip (g_strndup (item, eq - item));
  value = eq + 1;
  while (*value == ' ')
    value++;
  if (*value == '\0')
    return fail (error, offset, item, "the value is missing");
  parts = g_strsplit (value, ":", -1);
  n_parts = g_strv_length (parts);
  for (guint i = 0; i < n_parts; i++)
    g_strstrip (parts[i]);

  if (strcmp (key, "seed") == 0)
    {
      if (n_parts != 1 || !parse_number (parts[0], G_MAXUINT32, &number))
        return fail (error, offset, item, "seed needs a number");
      g_rand_set_seed (faults->rand, (guint32) number);
      return TRUE;
    }
  if (strcmp (key, "link-drop") == 0)
    {
      if (n_parts < 1 || n_parts > 2 || !parse_number (parts[0], G_MAXUINT, &number) || number == 0)
        return fail (error, offset, item, "link-drop needs a message count above 0");
      faults->link_drop_after = (guint) number;
      if (n_parts == 2)
        {
          if (!parse_number (parts[1], 600000, &number) || number == 0)
            return fail (error, offset, item, "link-drop needs a time in milliseconds above 0");
          faults->link_down_ms = (guint) number;
        }
      return TRUE;
    }
  if (strcmp (key, "drop") == 0)
    {
      const char *rate;
      gsize len;

      if (n_parts > 2)
        return fail (error, offset, item, "expected drop=[MODULE:]P% or drop=[MODULE:]1/N");
      rate = parts[n_parts - 1];
      fault.module = n_parts == 2 ? module_or_null (parts[0]) : NULL;
      len = strlen (rate);
      if (len > 1 && rate[len - 1] == '%')
        {
          g_autofree char *digits = g_strndup (rate, len - 1);
          if (!parse_number (digits, 100, &number))
            {
              g_free (fault.module);
              return fail (error, offset, item, "the drop rate must be 0..100 %");
            }
          fault.kind = FAULT_DROP_PERCENT;
        }
      else if (g_str_has_prefix (rate, "1/"))
        {
          if (!parse_number (rate + 2, G_MAXUINT, &number) || number == 0)
            {
              g_free (fault.module);
              return fail (error, offset, item, "drop every 1/N needs N above 0");
            }
          fault.kind = FAULT_DROP_EVERY;
        }
      else
        {
          g_free (fault.module);
          return fail (error, offset, item, "expected drop=[MODULE:]P% or drop=[MODULE:]1/N");
        }
      fault.n = (guint) number;
    }
  else if (strcmp (key, "delay") == 0)
    {
      if (n_parts > 2 || !parse_number (parts[n_parts - 1], 60000, &number))
        return fail (error, offset, item, "expected delay=[MODULE:]MS with MS up to 60000");
      fault.kind = FAULT_DELAY;
      fault.module = n_parts == 2 ? module_or_null (parts[0]) : NULL;
      fault.n = (guint) number;
    }
  else if (strcmp (key, "nrc") == 0)
    {
      g_auto(GStrv) at = NULL;
      guint64 sid, nrc, nth = 0;

      if (n_parts != 3)
        return fail (error, offset, item, "expected nrc=MODULE:SID:NRC[@N]");
      at = g_strsplit (parts[2], "@", 2);
      if (!parse_number (parts[1], 0xFF, &sid))
        return fail (error, offset, item, "the service id must be a byte");
      if (!parse_number (at[0], 0xFF, &nrc) || nrc == 0 || nrc == 0x78)
        return fail (error, offset, item, "the NRC must be a byte other than 0x00 and 0x78");
      if (at[1] != NULL && (!parse_number (at[1], G_MAXUINT, &nth) || nth == 0))
        return fail (error, offset, item, "@N needs N above 0");
      fault.kind = FAULT_NRC;
      fault.module = module_or_null (parts[0]);
      fault.sid = (guint8) sid;
      fault.nrc = (guint8) nrc;
      fault.n = (guint) nth;
    }
  else if (strcmp (key, "pending") == 0)
    {
      guint64 sid;

      if (n_parts != 3 || !parse_number (parts[1], 0xFF, &sid) ||
          !parse_number (parts[2], 1000, &number))
        return fail (error, offset, item, "expected pending=MODULE:SID:N with N up to 1000");
      fault.kind = FAULT_PENDING;
      fault.module = module_or_null (parts[0]);
      fault.sid = (guint8) sid;
      fault.n = (guint) number;
    }
  else if (strcmp (key, "power-loss") == 0)
    {
      guint64 off_ms = 2000;

      if (n_parts < 2 || n_parts > 3 ||
          !parse_number (parts[1], G_MAXUINT, &number) || number == 0 ||
          (n_parts == 3 && !parse_number (parts[2], 600000, &off_ms)))
        return fail (error, offset, item, "expected power-loss=MODULE:BLOCK[:MS]");
      fault.kind = FAULT_POWER_LOSS;
      fault.module = module_or_null (parts[0]);
      fault.n = (guint) number;
      fault.off_ms = (guint) off_ms;
    }
  else if (strcmp (key, "bad-crc") == 0)
    {
      if (n_parts != 1)
        return fail (error, offset, item, "expected bad-crc=MODULE");
      fault.kind = FAULT_BAD_CRC;
      fault.module = module_or_null (parts[0]);
    }
  else
    {
      return fail (error, offset, item,
                   "unknown key (seed, drop, delay, nrc, pending, link-drop, power-loss, bad-crc)");
    }
  g_array_append_val (faults->faults, fault);
  return TRUE;
}

EwSimFaults *
ew_sim_faults_parse (const char  *spec,
                     GError     **error)
{
  g_autoptr(EwSimFaults) faults = g_new0 (EwSimFaults, 1);
  const char *start;

  g_atomic_ref_count_init (&faults->ref_count);
  g_mutex_init (&faults->mutex);
  faults->spec = g_strdup (spec != NULL ? spec : "");
  faults->rand = g_rand_new_with_seed (1);
  faults->faults = g_array_new (FALSE, TRUE, sizeof (Fault));
  g_array_set_clear_func (faults->faults, fault_clear);

  start = faults->spec;
  while (*start != '\0')
    {
      const char *end = strchr (start, ';');
      gsize length = end != NULL ? (gsize) (end - start) : strlen (start);
      g_autofree char *item = g_strndup (start, length);
      gsize offset = start - faults->spec;
      const char *p = item;

      while (*p == ' ')
        p++, offset++;
      if (*p != '\0' && !parse_item (faults, g_strchomp ((char *) p), offset, error))
        return NULL;
      if (end == NULL)
        break;
      start = end + 1;
    }
  return g_steal_pointer (&faults);
}

EwSimFaults *
ew_sim_faults_ref (EwSimFaults *faults)
{
  g_return_val_if_fail (faults != NULL, NULL);
  g_atomic_ref_count_inc (&faults->ref_count);
  return faults;
}

void
ew_sim_faults_unref (EwSimFaults *faults)
{
  if (faults == NULL || !g_atomic_ref_count_dec (&faults->ref_count))
    return;
  g_array_unref (faults->faults);
  g_rand_free (faults->rand);
  g_mutex_clear (&faults->mutex);
  g_free (faults->spec);
  g_free (faults);
}

const char *
ew_sim_faults_get_spec (EwSimFaults *faults)
{
  return faults->spec;
}

gboolean
ew_sim_faults_is_empty (EwSimFaults *faults)
{
  return faults == NULL || (faults->faults->len == 0 && faults->link_drop_after == 0);
}

static gboolean
fault_applies (const Fault *fault,
               const char  *module_id)
{
  return fault->module == NULL ||
         (module_id != NULL && g_ascii_strcasecmp (fault->module, module_id) == 0);
}

gboolean
ew_sim_faults_should_drop_frame (EwSimFaults *faults,
                                 const char  *module_id)
{
  gboolean drop = FALSE;

  if (faults == NULL)
    return FALSE;
  g_mutex_lock (&faults->mutex);
  for (guint i = 0; i < faults->faults->len; i++)
    {
      Fault *fault = &g_array_index (faults->faults, Fault, i);

      if (!fault_applies (fault, module_id))
        continue;
      if (fault->kind == FAULT_DROP_PERCENT)
        drop |= g_rand_int_range (faults->rand, 0, 100) < (gint32) fault->n;
      else if (fault->kind == FAULT_DROP_EVERY)
        drop |= (++fault->counter % fault->n) == 0;
    }
  g_mutex_unlock (&faults->mutex);
  return drop;
}

guint
ew_sim_faults_get_delay_ms (EwSimFaults *faults,
                            const char  *module_id)
{
  guint delay_ms = 0;

  if (faults == NULL)
    return 0;
  for (guint i = 0; i < faults->faults->len; i++)
    {
      const Fault *fault = &g_array_index (faults->faults, Fault, i);

      if (fault->kind == FAULT_DELAY && fault_applies (fault, module_id))
        delay_ms = MAX (delay_ms, fault->n);
    }
  return delay_ms;
}

guint
ew_sim_faults_get_link_down_ms (EwSimFaults *faults)
{
  return faults != NULL ? faults->link_down_ms : 0;
}

gboolean
ew_sim_faults_link_drop_due (EwSimFaults *faults,
                             guint        n_messages_so_far)
{
  return faults != NULL && faults->link_drop_after > 0 &&
         n_messages_so_far >= faults->link_drop_after;
}

guint8
ew_sim_faults_take_nrc (EwSimFaults *faults,
                        const char  *module_id,
                        guint8       sid)
{
  guint8 nrc = 0;

  if (faults == NULL)
    return 0;
  g_mutex_lock (&faults->mutex);
  for (guint i = 0; i < faults->faults->len; i++)
    {
      Fault *fault = &g_array_index (faults->faults, Fault, i);

      if (fault->kind != FAULT_NRC || fault->sid != sid || !fault_applies (fault, module_id))
        continue;
      fault->counter++;
      if (nrc == 0 && (fault->n == 0 || fault->counter == fault->n))
        nrc = fault->nrc;
    }
  g_mutex_unlock (&faults->mutex);
  return nrc;
}

guint
ew_sim_faults_get_pending_count (EwSimFaults *faults,
                                 const char  *module_id,
                                 guint8       sid)
{
  if (faults == NULL)
    return 0;
  for (guint i = 0; i < faults->faults->len; i++)
    {
      const Fault *fault = &g_array_index (faults->faults, Fault, i);

      if (fault->kind == FAULT_PENDING && fault->sid == sid && fault_applies (fault, module_id))
        return fault->n;
    }
  return 0;
}

guint
ew_sim_faults_get_power_loss_block (EwSimFaults *faults,
                                    const char  *module_id,
                                    guint       *off_ms)
{
  if (faults == NULL)
    return 0;
  for (guint i = 0; i < faults->faults->len; i++)
    {
      const Fault *fault = &g_array_index (faults->faults, Fault, i);

      if (fault->kind == FAULT_POWER_LOSS && fault_applies (fault, module_id))
        {
          if (off_ms != NULL)
            *off_ms = fault->off_ms;
          return fault->n;
        }
    }
  return 0;
}

gboolean
ew_sim_faults_has_bad_crc (EwSimFaults *faults,
                           const char  *module_id)
{
  if (faults == NULL)
    return FALSE;
  for (guint i = 0; i < faults->faults->len; i++)
    {
      const Fault *fault = &g_array_index (faults->faults, Fault, i);

      if (fault->kind == FAULT_BAD_CRC && fault_applies (fault, module_id))
        return TRUE;
    }
  return FALSE;
}
