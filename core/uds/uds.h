/* uds.h — Unified Diagnostic Services (ISO 14229-1:2020) vocabulary: the
 * service identifiers, the negative response codes of Annex A with their
 * names and plain-language explanations, and the error domains of the UDS
 * client.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Service identifiers (ISO 14229-1:2020 table 23). A positive response
 * carries SID + 0x40; a negative one starts 0x7F SID NRC. */
typedef enum {
  EW_UDS_SID_DIAGNOSTIC_SESSION_CONTROL   = 0x10,
  EW_UDS_SID_ECU_RESET                    = 0x11,
  EW_UDS_SID_CLEAR_DIAGNOSTIC_INFORMATION = 0x14,
  EW_UDS_SID_READ_DTC_INFORMATION         = 0x19,
  EW_UDS_SID_READ_DATA_BY_IDENTIFIER      = 0x22,
  EW_UDS_SID_READ_MEMORY_BY_ADDRESS       = 0x23,
  EW_UDS_SID_SECURITY_ACCESS              = 0x27,
  EW_UDS_SID_COMMUNICATION_CONTROL        = 0x28,
  EW_UDS_SID_WRITE_DATA_BY_IDENTIFIER     = 0x2E,
  EW_UDS_SID_ROUTINE_CONTROL              = 0x31,
  EW_UDS_SID_REQUEST_DOWNLOAD             = 0x34,
  EW_UDS_SID_TRANSFER_DATA                = 0x36,
  EW_UDS_SID_REQUEST_TRANSFER_EXIT        = 0x37,
  EW_UDS_SID_TESTER_PRESENT               = 0x3E,
  EW_UDS_SID_CONTROL_DTC_SETTING          = 0x85,
} EwUdsSid;

#define EW_UDS_NEGATIVE_RESPONSE        0x7F
#define EW_UDS_POSITIVE_RESPONSE_OFFSET 0x40
/* suppressPosRspMsgIndicationBit: bit 7 of the sub-function byte (7.5) */
#define EW_UDS_SUPPRESS_POSITIVE_RESPONSE 0x80

/* Diagnostic sessions (10.2.2.2) */
typedef enum {
  EW_UDS_SESSION_DEFAULT                = 0x01,
  EW_UDS_SESSION_PROGRAMMING            = 0x02,
  EW_UDS_SESSION_EXTENDED               = 0x03,
  EW_UDS_SESSION_SAFETY_SYSTEM          = 0x04,
} EwUdsSession;

/* Negative response codes, ISO 14229-1:2020 Annex A.1. */
typedef enum {
  EW_UDS_NRC_GENERAL_REJECT                                   = 0x10,
  EW_UDS_NRC_SERVICE_NOT_SUPPORTED                            = 0x11,
  EW_UDS_NRC_SUB_FUNCTION_NOT_SUPPORTED                       = 0x12,
  EW_UDS_NRC_INCORRECT_MESSAGE_LENGTH_OR_INVALID_FORMAT       = 0x13,
  EW_UDS_NRC_RESPONSE_TOO_LONG                                = 0x14,
  EW_UDS_NRC_BUSY_REPEAT_REQUEST                              = 0x21,
  EW_UDS_NRC_CONDITIONS_NOT_CORRECT                           = 0x22,
  EW_UDS_NRC_REQUEST_SEQUENCE_ERROR                           = 0x24,
  EW_UDS_NRC_NO_RESPONSE_FROM_SUBNET_COMPONENT                = 0x25,
  EW_UDS_NRC_FAILURE_PREVENTS_EXECUTION_OF_REQUESTED_ACTION   = 0x26,
  EW_UDS_NRC_REQUEST_OUT_OF_RANGE                             = 0x31,
  EW_UDS_NRC_SECURITY_ACCESS_DENIED                           = 0x33,
  EW_UDS_NRC_AUTHENTICATION_REQUIRED                          = 0x34,
  EW_UDS_NRC_INVALID_KEY                                      = 0x35,
  EW_UDS_NRC_EXCEEDED_NUMBER_OF_ATTEMPTS                      = 0x36,
  EW_UDS_NRC_REQUIRED_TIME_DELAY_NOT_EXPIRED                  = 0x37,
  EW_UDS_NRC_SECURE_DATA_TRANSMISSION_REQUIRED                = 0x38,
  EW_UDS_NRC_SECURE_DATA_TRANSMISSION_NOT_ALLOWED             = 0x39,
  EW_UDS_NRC_SECURE_DATA_VERIFICATION_FAILED                  = 0x3A,
  EW_UDS_NRC_CERTIFICATE_VERIFICATION_FAILED_INVALID_TIME_PERIOD    = 0x50,
  EW_UDS_NRC_CERTIFICATE_VERIFICATION_FAILED_INVALID_SIGNATURE      = 0x51,
  EW_UDS_NRC_CERTIFICATE_VERIFICATION_FAILED_INVALID_CHAIN_OF_TRUST = 0x52,
  EW_UDS_NRC_CERTIFICATE_VERIFICATION_FAILED_INVALID_TYPE           = 0x53,
  EW_UDS_NRC_CERTIFICATE_VERIFICATION_FAILED_INVALID_FORMAT         = 0x54,
  EW_UDS_NRC_CERTIFICATE_VERIFICATION_FAILED_INVALID_CONTENT        = 0x55,
  EW_UDS_NRC_CERTIFICATE_VERIFICATION_FAILED_INVALID_SCOPE          = 0x56,
  EW_UDS_NRC_CERTIFICATE_VERIFICATION_FAILED_INVALID_CERTIFICATE    = 0x57,
  EW_UDS_NRC_OWNERSHIP_VERIFICATION_FAILED                    = 0x58,
  EW_UDS_NRC_CHALLENGE_CALCULATION_FAILED                     = 0x59,
  EW_UDS_NRC_SETTING_ACCESS_RIGHTS_FAILED                     = 0x5A,
  EW_UDS_NRC_SESSION_KEY_CREATION_DERIVATION_FAILED           = 0x5B,
  EW_UDS_NRC_CONFIGURATION_DATA_USAGE_FAILED                  = 0x5C,
  EW_UDS_NRC_DEAUTHENTICATION_FAILED                          = 0x5D,
  EW_UDS_NRC_UPLOAD_DOWNLOAD_NOT_ACCEPTED                     = 0x70,
  EW_UDS_NRC_TRANSFER_DATA_SUSPENDED                          = 0x71,
  EW_UDS_NRC_GENERAL_PROGRAMMING_FAILURE                      = 0x72,
  EW_UDS_NRC_WRONG_BLOCK_SEQUENCE_COUNTER                     = 0x73,
  EW_UDS_NRC_REQUEST_CORRECTLY_RECEIVED_RESPONSE_PENDING      = 0x78,
  EW_UDS_NRC_SUB_FUNCTION_NOT_SUPPORTED_IN_ACTIVE_SESSION     = 0x7E,
  EW_UDS_NRC_SERVICE_NOT_SUPPORTED_IN_ACTIVE_SESSION          = 0x7F,
  EW_UDS_NRC_RPM_TOO_HIGH                                     = 0x81,
  EW_UDS_NRC_RPM_TOO_LOW                                      = 0x82,
  EW_UDS_NRC_ENGINE_IS_RUNNING                                = 0x83,
  EW_UDS_NRC_ENGINE_IS_NOT_RUNNING                            = 0x84,
  EW_UDS_NRC_ENGINE_RUN_TIME_TOO_LOW                          = 0x85,
  EW_UDS_NRC_TEMPERATURE_TOO_HIGH                             = 0x86,
  EW_UDS_NRC_TEMPERATURE_TOO_LOW                              = 0x87,
  EW_UDS_NRC_VEHICLE_SPEED_TOO_HIGH                           = 0x88,
  EW_UDS_NRC_VEHICLE_SPEED_TOO_LOW                            = 0x89,
  EW_UDS_NRC_THROTTLE_PEDAL_TOO_HIGH                          = 0x8A,
  EW_UDS_NRC_THROTTLE_PEDAL_TOO_LOW                           = 0x8B,
  EW_UDS_NRC_TRANSMISSION_RANGE_NOT_IN_NEUTRAL                = 0x8C,
  EW_UDS_NRC_TRANSMISSION_RANGE_NOT_IN_GEAR                   = 0x8D,
  EW_UDS_NRC_BRAKE_SWITCHES_NOT_CLOSED                        = 0x8F,
  EW_UDS_NRC_SHIFTER_LEVER_NOT_IN_PARK                        = 0x90,
  EW_UDS_NRC_TORQUE_CONVERTER_CLUTCH_LOCKED                   = 0x91,
  EW_UDS_NRC_VOLTAGE_TOO_HIGH                                 = 0x92,
  EW_UDS_NRC_VOLTAGE_TOO_LOW                                  = 0x93,
  EW_UDS_NRC_RESOURCE_TEMPORARILY_NOT_AVAILABLE               = 0x94,
} EwUdsNrc;

/* The standard's name of nrc ("requestOutOfRange"). Codes Annex A leaves
 * reserved give "ISOSAEReserved", 0xF0..0xFE
 * "vehicleManufacturerSpecificConditionsNotCorrect". Never NULL. */
const char *ew_uds_nrc_to_string  (guint8 nrc);
/* What nrc means for a technician, as one sentence. Never NULL. */
const char *ew_uds_nrc_explain    (guint8 nrc);
/* Whether Annex A defines nrc (0xF0..0xFE included). */
gboolean    ew_uds_nrc_is_defined (guint8 nrc);
/* "ReadDataByIdentifier"; unknown SIDs give "service 0xNN" from a static
 * table of such strings, never NULL. */
const char *ew_uds_service_name   (guint8 sid);

/* A negative response: the error code IS the NRC byte (EwUdsNrc). */
#define EW_UDS_NRC_ERROR (ew_uds_nrc_error_quark ())
GQuark ew_uds_nrc_error_quark (void);

/* Every other failure of the UDS client. */
#define EW_UDS_ERROR (ew_uds_error_quark ())
typedef enum {
  EW_UDS_ERROR_TIMEOUT,             /* no answer within P2 / P2* */
  EW_UDS_ERROR_INVALID_RESPONSE,    /* truncated, wrong SID, wrong echo */
  EW_UDS_ERROR_SECURITY_LOCKED_OUT, /* too many invalid keys: wait */
  EW_UDS_ERROR_PLUGIN_MISSING,      /* no seed-key plugin of that name */
  EW_UDS_ERROR_PLUGIN_INVALID,      /* wrong ABI version, missing symbol */
  EW_UDS_ERROR_PLUGIN_FAILED,       /* the algorithm returned an error */
  EW_UDS_ERROR_NOT_PERMITTED,       /* e.g. the toy algorithm on a real car */
  EW_UDS_ERROR_INVALID_ARGUMENT,    /* a request the client cannot build */
} EwUdsError;
GQuark ew_uds_error_quark (void);

G_END_DECLS
