/* retrofit.h — a used module fitted to a car, as a coding plan: the car
 * is coded to know the module is there, the car's option list gains the
 * options the module brings, the module is coded from that option list,
 * and it stores the car's VIN where the family links it.
 *
 * What to change comes from the module's <retrofit> in the vehicle data;
 * the plan is applied by ew_coding_apply like any coding plan, with the
 * same backup, read-back and rollback across modules.
 */
#pragma once

#include "coding/coding-plan.h"

G_BEGIN_DECLS

/* Reads what the retrofit of module_id touches — the car's coding DIDs
 * its <car-coding> names, the option list, the module's own coding DIDs
 * and VIN — taking the catalogue's bytes where it has them, and plans the
 * changes: only the items' masked bits change, checksums are recomputed,
 * the option list keeps every code it holds and gains the new ones in the
 * family's <options> order. The car's modules come first in the plan and
 * the retrofitted module last. plan->notes hold one line per change for
 * the review ("SMFA seat module: Not fitted → Fitted", "Option list: +
 * 494 …", "VIN: WBA…654321 → WBA…123456"); plan->subject_id is
 * "retrofit:MODULE", with the weakest provenance of the data involved.
 *
 * Errors (EW_CODING_ERROR): NO_RETROFIT when the family has no such
 * module or no retrofit data for it; MODULE_SILENT when the module, or a
 * module whose coding the retrofit changes, does not answer; NOTHING_TO_DO
 * when the car and the module already say everything the retrofit would
 * write. transfer full */
EwCodingPlan *ew_retrofit_plan_new (EwConnection        *connection,
                                    EwFeatureCatalogue  *catalogue,
                                    const char          *module_id,
                                    GCancellable        *cancellable,
                                    GError             **error);

G_END_DECLS
