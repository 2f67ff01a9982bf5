/* uds.c — names and explanations of ISO 14229-1:2020 codes. */
#include "uds.h"

G_DEFINE_QUARK (ew-uds-nrc-error-quark, ew_uds_nrc_error)
G_DEFINE_QUARK (ew-uds-error-quark, ew_uds_error)

typedef struct {
  guint8      nrc;
  const char *name;          /* ISO 14229-1:2020 Annex A.1 */
  const char *explanation;   /* for technicians */
} NrcInfo;

static const NrcInfo nrc_table[] = {
  { 0x10, "generalReject", "The module refused the request without giving a specific reason." },
  { 0x11, "serviceNotSupported", "The module does not offer this diagnostic service at all." },
  { 0x12, "subFunctionNotSupported", "The module offers this service, but not the requested variant of it." },
  { 0x13, "incorrectMessageLengthOrInvalidFormat", "The request was too long, too short or malformed for this module." },
  { 0x14, "responseTooLong", "The answer would be longer than the transport can carry; ask for less at once." },
  { 0x21, "busyRepeatRequest", "The module is busy with other work; try again in a moment." },
  { 0x22, "conditionsNotCorrect", "The module's preconditions are not met (for example ignition, engine or speed state)." },
  { 0x24, "requestSequenceError", "Requests came in the wrong order (for example a key before a seed, or data before a download request)." },
  { 0x25, "noResponseFromSubnetComponent", "The module forwarded the request to a component behind it, which did not answer." },
  { 0x26, "failurePreventsExecutionOfRequestedAction", "A fault stored in the module prevents the requested action." },
  { 0x31, "requestOutOfRange", "The module does not know this identifier, address or parameter, or the value is outside its limits." },
  { 0x33, "securityAccessDenied", "The module is locked: security access must be granted first (or the session is wrong)." },
  { 0x34, "authenticationRequired", "The module requires authentication (certificates) before this service." },
  { 0x35, "invalidKey", "The key sent for security access was wrong; the module counts failed attempts." },
  { 0x36, "exceededNumberOfAttempts", "Too many wrong keys: the module has locked security access for a while." },
  { 0x37, "requiredTimeDelayNotExpired", "Security access is still locked after failed attempts or power-up; wait before trying again." },
  { 0x38, "secureDataTransmissionRequired", "The module accepts this request only through secured data transmission." },
  { 0x39, "secureDataTransmissionNotAllowed", "The module refuses this request when sent through secured data transmission." },
  { 0x3A, "secureDataVerificationFailed", "The module could not verify the secured message." },
  { 0x50, "certificateVerificationFailedInvalidTimePeriod", "The certificate presented is expired or not yet valid." },
  { 0x51, "certificateVerificationFailedInvalidSignature", "The certificate's signature did not verify." },
  { 0x52, "certificateVerificationFailedInvalidChainOfTrust", "The certificate does not chain to a trusted authority." },
  { 0x53, "certificateVerificationFailedInvalidType", "The certificate is of the wrong type for this use." },
  { 0x54, "certificateVerificationFailedInvalidFormat", "The certificate is malformed." },
  { 0x55, "certificateVerificationFailedInvalidContent", "The certificate's content is not acceptable to the module." },
  { 0x56, "certificateVerificationFailedInvalidScope", "The certificate does not cover this module or service." },
  { 0x57, "certificateVerificationFailedInvalidCertificate", "The certificate has been revoked or is otherwise invalid." },
  { 0x58, "ownershipVerificationFailed", "The tester could not prove ownership of the certificate." },
  { 0x59, "challengeCalculationFailed", "The module could not compute its authentication challenge." },
  { 0x5A, "settingAccessRightsFailed", "The module could not grant the access rights of the certificate." },
  { 0x5B, "sessionKeyCreationDerivationFailed", "The module could not derive a session key." },
  { 0x5C, "configurationDataUsageFailed", "The module could not use the configuration data sent with authentication." },
  { 0x5D, "deAuthenticationFailed", "The module could not end the authenticated state." },
  { 0x70, "uploadDownloadNotAccepted", "The module refused to start the data transfer (address, size or format not accepted)." },
  { 0x71, "transferDataSuspended", "The module stopped the data transfer because of an error." },
  { 0x72, "generalProgrammingFailure", "Erasing or writing the module's memory failed." },
  { 0x73, "wrongBlockSequenceCounter", "A transfer block arrived out of order." },
  { 0x78, "requestCorrectlyReceivedResponsePending", "The module is still working on the request; the answer follows." },
  { 0x7E, "subFunctionNotSupportedInActiveSession", "This variant of the service is not available in the current diagnostic session." },
  { 0x7F, "serviceNotSupportedInActiveSession", "This service is not available in the current diagnostic session." },
  { 0x81, "rpmTooHigh", "Engine speed is too high for this request." },
  { 0x82, "rpmTooLow", "Engine speed is too low for this request." },
  { 0x83, "engineIsRunning", "Switch the engine off for this request." },
  { 0x84, "engineIsNotRunning", "Start the engine for this request." },
  { 0x85, "engineRunTimeTooLow", "The engine has not been running long enough." },
  { 0x86, "temperatureTooHigh", "A temperature is too high for this request." },
  { 0x87, "temperatureTooLow", "A temperature is too low for this request." },
  { 0x88, "vehicleSpeedTooHigh", "The vehicle must be stationary or slower for this request." },
  { 0x89, "vehicleSpeedTooLow", "The vehicle must be moving faster for this request." },
  { 0x8A, "throttle/PedalTooHigh", "Release the accelerator pedal." },
  { 0x8B, "throttle/PedalTooLow", "The accelerator pedal must be pressed further." },
  { 0x8C, "transmissionRangeNotInNeutral", "Put the transmission in neutral." },
  { 0x8D, "transmissionRangeNotInGear", "Put the transmission in gear." },
  { 0x8F, "brakeSwitch(es)NotClosed", "Press the brake pedal." },
  { 0x90, "shifterLeverNotInPark", "Put the selector lever in park." },
  { 0x91, "torqueConverterClutchLocked", "The torque converter clutch is locked." },
  { 0x92, "voltageTooHigh", "The supply voltage is too high; check the charger or battery support unit." },
  { 0x93, "voltageTooLow", "The supply voltage is too low; connect a battery support unit." },
  { 0x94, "resourceTemporarilyNotAvailable", "A resource the module needs is busy; try again later." },
};

static const NrcInfo *
nrc_lookup (guint8 nrc)
{
  for (gsize i = 0; i < G_N_ELEMENTS (nrc_table); i++)
    if (nrc_table[i].nrc == nrc)
      return &nrc_table[i];
  return NULL;
}

const char *
ew_uds_nrc_to_string (guint8 nrc)
{
  const NrcInfo *info = nrc_lookup (nrc);

  if (info != NULL)
    return info->name;
  if (nrc == 0x00)
    return "positiveResponse";
  if (nrc >= 0xF0 && nrc <= 0xFE)
    return "vehicleManufacturerSpecificConditionsNotCorrect";
  return "ISOSAEReserved";
}

const char *
ew_uds_nrc_explain (guint8 nrc)
{
  const NrcInfo *info = nrc_lookup (nrc);

  if (info != NULL)
    return info->explanation;
  if (nrc >= 0xF0 && nrc <= 0xFE)
    return "A condition specific to this manufacturer is not met; see the manufacturer's documentation.";
  return "The module answered with a code the standard reserves; its meaning is unknown.";
}

gboolean
ew_uds_nrc_is_defined (guint8 nrc)
{
  return nrc_lookup (nrc) != NULL || (nrc >= 0xF0 && nrc <= 0xFE);
}

const char *
ew_uds_service_name (guint8 sid)
{
  /* "service 0xNN" for every byte, so callers can print any SID */
  static const char *const unknown[256] = {
#define U4(n) "service 0x" #n "0", "service 0x" #n "1", "service 0x" #n "2", "service 0x" #n "3", \
              "service 0x" #n "4", "service 0x" #n "5", "service 0x" #n "6", "service 0x" #n "7", \
              "service 0x" #n "8", "service 0x" #n "9", "service 0x" #n "A", "service 0x" #n "B", \
              "service 0x" #n "C", "service 0x" #n "D", "service 0x" #n "E", "service 0x" #n "F"
    U4(0), U4(1), U4(2), U4(3), U4(4), U4(5), U4(6), U4(7),
    U4(8), U4(9), U4(A), U4(B), U4(C), U4(D), U4(E), U4(F),
#undef U4
  };

  switch (sid)
    {
    case 0x10: return "DiagnosticSessionControl";
    case 0x11: return "ECUReset";
    case 0x14: return "ClearDiagnosticInformation";
    case 0x19: return "ReadDTCInformation";
    case 0x22: return "ReadDataByIdentifier";
    case 0x23: return "ReadMemoryByAddress";
    case 0x24: return "ReadScalingDataByIdentifier";
    case 0x27: return "SecurityAccess";
    case 0x28: return "CommunicationControl";
    case 0x29: return "Authentication";
    case 0x2A: return "ReadDataByPeriodicIdentifier";
    case 0x2C: return "DynamicallyDefineDataIdentifier";
    case 0x2E: return "WriteDataByIdentifier";
    case 0x2F: return "InputOutputControlByIdentifier";
    case 0x31: return "RoutineControl";
    case 0x34: return "RequestDownload";
    case 0x35: return "RequestUpload";
    case 0x36: return "TransferData";
    case 0x37: return "RequestTransferExit";
    case 0x38: return "RequestFileTransfer";
    case 0x3D: return "WriteMemoryByAddress";
    case 0x3E: return "TesterPresent";
    case 0x84: return "SecuredDataTransmission";
    case 0x85: return "ControlDTCSetting";
    case 0x86: return "ResponseOnEvent";
    case 0x87: return "LinkControl";
    default:   return unknown[sid];
    }
}
