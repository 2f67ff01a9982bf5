/* vin-match.c — which vehicle families a VIN may belong to, best first.
 *
 * The WMI decides whether a family is a candidate at all; the VDS pattern,
 * the model year (only where the family or the North-American rule says
 * position 10 is one) and the check digit decide how good a candidate it is.
 */
#include <string.h>

#include "vin-match.h"
#include "vin-private.h"

/* A VDS pattern is written for one model line, so it outweighs everything
 * else; a year is good evidence; a correct check digit a little. */
enum {
  SCORE_WMI          = 10,
  SCORE_VDS          = 20,
  SCORE_YEAR         = 10,
  SCORE_CHECK_VALID  = 5,
  /* a VIN year outside the family's, or a required check digit that is
   * wrong, makes the family less likely, not impossible: the VIN may be
   * mistyped, or the data's years too narrow */
  PENALTY_YEAR       = 5,
  PENALTY_CHECK      = 10,
};

static EwVinCheck
judge_check_digit (const EwVin *vin, const EwFamily *family, gboolean is_mandatory)
{
  if (family->check_digit == EW_CHECK_DIGIT_NONE && !is_mandatory)
    return EW_VIN_CHECK_NOT_APPLICABLE;
  if (vin->vin[8] == vin->expected_check_digit)
    return EW_VIN_CHECK_VALID;
  /* A make that uses the check digit only on some markets (optional) fills
   * position 9 with something else elsewhere, e.g. VW's filler Z: a mismatch
   * there says nothing. Where it is mandatory or always used, it is invalid. */
  if (family->check_digit == EW_CHECK_DIGIT_OPTIONAL && !is_mandatory)
    return EW_VIN_CHECK_NOT_APPLICABLE;
  return EW_VIN_CHECK_INVALID;
}

static void
score_pattern (const EwVin *vin,
               EwFamily *family,
               const EwVinPattern *pattern,
               gboolean is_mandatory,
               EwVinCandidate *c)
{
  guint16 from = pattern->years_from != 0 ? pattern->years_from : family->years_from;
  guint16 to = pattern->years_to != 0 ? pattern->years_to : family->years_to;
  guint16 vin_years[2] = { 0, 0 };
  guint n_vin_years = 0;
  gint score = SCORE_WMI;

  memset (c, 0, sizeof *c);
  c->family = family;
  c->chassis = pattern->chassis;
  c->years_from = from;
  c->years_to = to;

  if (pattern->vds != NULL && g_regex_match (pattern->vds, vin->vds, 0, NULL))
    {
      c->vds_matched = TRUE;
      score += SCORE_VDS;
    }

  /* Never read position 10 as a year unless the rules say it is one: for
   * most European makes it is a filler or a plant code. */
  if (vin->model_year != 0)
    vin_years[n_vin_years++] = vin->model_year;
  else if (family->has_year_code && vin->year_code_years[0] != 0)
    {
      vin_years[n_vin_years++] = vin->year_code_years[0];
      vin_years[n_vin_years++] = vin->year_code_years[1];
    }

  if (n_vin_years > 0)
    {
      guint16 matched_from = G_MAXUINT16, matched_to = 0;

      for (guint i = 0; i < n_vin_years; i++)
        if (vin_years[i] >= from && vin_years[i] <= to)
          {
            matched_from = MIN (matched_from, vin_years[i]);
            matched_to = MAX (matched_to, vin_years[i]);
          }
      if (matched_to != 0)
        {
          c->year_matched = TRUE;
          c->years_from = matched_from;
          c->years_to = matched_to;
          score += SCORE_YEAR;
        }
      else
        score -= PENALTY_YEAR;
    }

  c->check = judge_check_digit (vin, family, is_mandatory);
  if (c->check == EW_VIN_CHECK_VALID && family->check_digit != EW_CHECK_DIGIT_NONE)
    score += SCORE_CHECK_VALID;
  else if (c->check == EW_VIN_CHECK_INVALID && family->check_digit == EW_CHECK_DIGIT_REQUIRED)
    score -= PENALTY_CHECK;

  /* the WMI matched, so the family stays a candidate however weak */
  c->score = (guint) MAX (score, 1);
}

static int
compare_candidates (gconstpointer a, gconstpointer b)
{
  const EwVinCandidate *ca = *(const EwVinCandidate * const *) a;
  const EwVinCandidate *cb = *(const EwVinCandidate * const *) b;

  if (ca->score != cb->score)
    return ca->score > cb->score ? -1 : 1;
  return strcmp (ca->family->id, cb->family->id);
}

GPtrArray *
ew_vin_match_families (const EwVin *vin, EwVehicleDatabase *db)
{
  g_autoptr(GPtrArray) candidates = g_ptr_array_new_with_free_func (g_free);
  GPtrArray *families;
  gboolean is_mandatory;

  g_return_val_if_fail (vin != NULL, NULL);
  g_return_val_if_fail (db != NULL, NULL);

  is_mandatory = ew_vin_is_check_digit_mandatory (vin);
  families = ew_vehicle_database_get_families (db);
  for (guint i = 0; i < families->len; i++)
    {
      EwFamily *family = g_ptr_array_index (families, i);
      EwVinCandidate *best = NULL;

      /* one candidate per family: its best-scoring pattern */
      for (guint j = 0; j < family->vin_patterns->len; j++)
        {
          const EwVinPattern *pattern = g_ptr_array_index (family->vin_patterns, j);
          EwVinCandidate c;

          if (strcmp (pattern->wmi, vin->wmi) != 0)
            continue;
          score_pattern (vin, family, pattern, is_mandatory, &c);
          if (best == NULL)
            best = g_memdup2 (&c, sizeof c);
          else if (c.score > best->score)
            *best = c;
        }
      if (best != NULL)
        g_ptr_array_add (candidates, best);
    }

  g_ptr_array_sort (candidates, compare_candidates);
  return g_steal_pointer (&candidates);
}
