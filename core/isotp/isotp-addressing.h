/* isotp-addressing.h — ISO-TP settings for a module of the vehicle data,
 * seen from either end: the tester's channel to the module, or the
 * simulated module's channel back to the tester.
 */
#pragma once

#include "isotp/isotp.h"
#include "vehicle/family.h"

G_BEGIN_DECLS

typedef enum {
  EW_ISOTP_ROLE_TESTER,   /* sends requests, receives responses */
  EW_ISOTP_ROLE_MODULE,   /* receives requests, sends responses */
} EwIsotpRole;

/* The tester's source address in extended addressing (BMW's 0xF1). */
#define EW_ISOTP_TESTER_ADDRESS 0xF1
/* Functional ("all modules") targets per addressing format. */
#define EW_ISOTP_FUNCTIONAL_ID_11BIT      0x7DF
#define EW_ISOTP_FUNCTIONAL_ID_29BIT      0x18DB33F1
#define EW_ISOTP_FUNCTIONAL_TARGET_EXTENDED 0xDF

/* Fills config for module's CAN addressing; fails when the module has no
 * CAN address. */
gboolean ew_isotp_config_for_module     (const EwModule *module,
                                         EwIsotpRole     role,
                                         EwIsotpConfig  *config,
                                         GError        **error);
/* The functional request channel for modules addressed like module: the
 * tester sends single frames on it, every module listens. */
gboolean ew_isotp_functional_config_for_module (const EwModule *module,
                                                EwIsotpRole     role,
                                                EwIsotpConfig  *config,
                                                GError        **error);

G_END_DECLS
