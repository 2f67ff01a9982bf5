/* isotp-addressing.c — module addressing from the vehicle data to ISO-TP. */
#include "isotp-addressing.h"

static gboolean
check_can (const EwModule *module, GError **error)
{
  if (module->addressing.has_can)
    return TRUE;
  g_set_error (error, EW_CHANNEL_ERROR, EW_CHANNEL_ERROR_TRANSPORT,
               "%s (%s) has no CAN address in the vehicle data", module->name, module->id);
  return FALSE;
}

gboolean
ew_isotp_config_for_module (const EwModule *module,
                            EwIsotpRole     role,
                            EwIsotpConfig  *config,
                            GError        **error)
{
  const EwModuleAddressing *a = &module->addressing;
  gboolean is_tester = role == EW_ISOTP_ROLE_TESTER;

  if (!check_can (module, error))
    return FALSE;

  ew_isotp_config_init (config,
                        is_tester ? a->can_request_id : a->can_response_id,
                        is_tester ? a->can_response_id : a->can_request_id);
  switch (a->can_format)
    {
    case EW_CAN_ADDRESSING_NORMAL:
      break;
    case EW_CAN_ADDRESSING_29BIT:
      config->is_extended_id = TRUE;
      break;
    case EW_CAN_ADDRESSING_EXTENDED:
      /* 10.3.4: the first data byte carries N_TA; the module answers with
       * the tester's address there */
      config->addressing = EW_ISOTP_ADDRESSING_EXTENDED;
      config->tx_address = is_tester ? a->can_target_address : EW_ISOTP_TESTER_ADDRESS;
      config->rx_address = is_tester ? EW_ISOTP_TESTER_ADDRESS : a->can_target_address;
      break;
    default:
      g_assert_not_reached ();
    }
  return TRUE;
}

gboolean
ew_isotp_functional_config_for_module (const EwModule *module,
                                       EwIsotpRole     role,
                                       EwIsotpConfig  *config,
                                       GError        **error)
{
  const EwModuleAddressing *a = &module->addressing;
  gboolean is_tester = role == EW_ISOTP_ROLE_TESTER;
  guint32 functional_id;

  if (!check_can (module, error))
    return FALSE;

  switch (a->can_format)
    {
    case EW_CAN_ADDRESSING_NORMAL:
      functional_id = EW_ISOTP_FUNCTIONAL_ID_11BIT;
      break;
    case EW_CAN_ADDRESSING_29BIT:
      functional_id = EW_ISOTP_FUNCTIONAL_ID_29BIT;
      break;
    case EW_CAN_ADDRESSING_EXTENDED:
      functional_id = a->can_request_id;
      break;
    default:
      g_assert_not_reached ();
    }

  /* Only single frames travel on a functional address, so the module side
   * never sends on it: its tx id is its physical response id. */
  ew_isotp_config_init (config,
                        is_tester ? functional_id : a->can_response_id,
                        is_tester ? a->can_response_id : functional_id);
  config->is_extended_id = a->can_format == EW_CAN_ADDRESSING_29BIT;
  config->is_functional = is_tester;
  if (a->can_format == EW_CAN_ADDRESSING_EXTENDED)
    {
      config->addressing = EW_ISOTP_ADDRESSING_EXTENDED;
      config->tx_address = is_tester ? EW_ISOTP_FUNCTIONAL_TARGET_EXTENDED : EW_ISOTP_TESTER_ADDRESS;
      config->rx_address = is_tester ? EW_ISOTP_TESTER_ADDRESS : EW_ISOTP_FUNCTIONAL_TARGET_EXTENDED;
    }
  return TRUE;
}
