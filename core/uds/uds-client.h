/* uds-client.h — the UDS client (ISO 14229-1:2020) on an EwChannel: one
 * module, synchronous services with the standard's timing (P2, P2*,
 * response pending), TesterPresent keep-alive in non-default sessions, and
 * SecurityAccess through seed-key providers with attempt counting.
 *
 * Every call blocks until the answer is complete, takes a GCancellable
 * and reports failures as GError: a negative response in EW_UDS_NRC_ERROR
 * (code = NRC byte), anything else in EW_UDS_ERROR (timeout, invalid
 * response …) or the transport's domain. Calls may come from any thread;
 * one request is on the wire at a time per client.
 *
 * Timing (ISO 14229-2:2013 7.2): the first answer must come within P2; a
 * negative response 0x78 (responsePending) switches to P2*, and each
 * further 0x78 restarts P2*. Defaults 50 ms / 5000 ms; a positive
 * DiagnosticSessionControl response sets both from its
 * sessionParameterRecord, in force from then on. The client adds
 * timing_margin_ms for the transport to both (ISO 14229-2's ΔP2; default
 * EW_UDS_DEFAULT_TIMING_MARGIN_MS, room for a gateway, a loaded bus or a
 * busy host, as testers commonly allow).
 *
 * suppressPosRspMsgIndicationBit: calls that take `suppress` set bit 7 of
 * the sub-function and return as soon as the request has left; they wait
 * for nothing. A negative response the module still sends (ISO
 * 14229-1:2020 7.5: always allowed for physical requests) is picked up by
 * ew_uds_client_check_suppressed(), or by the next request on the client
 * (before it is sent, or while it waits), which keeps it for
 * check_suppressed() to report.
 *
 * An answer to another service than the one asked is
 * EW_UDS_ERROR_INVALID_RESPONSE, with one exception: late answers to the
 * keep-alive TesterPresent or to the last suppressed request (0x78 and the
 * final response that follows it) are set aside, as neither is awaited.
 *
 * Functional addressing: a client made with ew_uds_client_new_functional()
 * sends on the functional channel. Suppressed requests are sent and not
 * awaited. Other requests go through ew_uds_client_request_functional(),
 * which collects the answers of every physical channel it was given
 * (physical response ids hear answers to functional requests too) within
 * P2, extended to P2* per module that answers 0x78. The typed services
 * below need a physical client unless they are suppressed.
 */
#pragma once

#include <gio/gio.h>

#include "link/channel.h"
#include "uds/seedkey.h"
#include "uds/uds.h"
#include "vehicle/family.h"

G_BEGIN_DECLS

#define EW_UDS_DEFAULT_P2_MS          50
#define EW_UDS_DEFAULT_P2_STAR_MS     5000
#define EW_UDS_DEFAULT_TESTER_PRESENT_INTERVAL_MS 2000
#define EW_UDS_DEFAULT_TIMING_MARGIN_MS 150
/* A module answering busyRepeatRequest (0x21) gets the same request again
 * after this pause, this many times, before the refusal stands. */
#define EW_UDS_BUSY_REPEATS             5
#define EW_UDS_BUSY_REPEAT_DELAY_MS     20

/* Monotonic time in µs; for lock-out delays (injectable in tests). */
typedef gint64 (*EwUdsClockFunc) (gpointer user_data);

#define EW_TYPE_UDS_CLIENT (ew_uds_client_get_type ())
G_DECLARE_FINAL_TYPE (EwUdsClient, ew_uds_client, EW, UDS_CLIENT, GObject)

/* A client for the module on channel (physical addressing). module_name
 * ("KOMBI") appears in every message. transfer full */
EwUdsClient *ew_uds_client_new            (EwChannel    *channel,
                                           const char   *module_name);
/* A client for functional requests on functional_channel; answers are
 * collected from physical_channels (may be empty). transfer full */
EwUdsClient *ew_uds_client_new_functional (EwChannel    *functional_channel,
                                           const char   *name,
                                           EwChannel   **physical_channels,
                                           guint         n_physical_channels);

const char  *ew_uds_client_get_module_name (EwUdsClient *self);
EwChannel   *ew_uds_client_get_channel     (EwUdsClient *self);   /* transfer none */
gboolean     ew_uds_client_is_functional   (EwUdsClient *self);

/* Timing now in force (ms), without the margin. */
guint        ew_uds_client_get_p2_ms       (EwUdsClient *self);
guint        ew_uds_client_get_p2_star_ms  (EwUdsClient *self);
void         ew_uds_client_set_timing      (EwUdsClient *self,
                                            guint        p2_ms,
                                            guint        p2_star_ms);
void         ew_uds_client_set_timing_margin (EwUdsClient *self,
                                              guint        margin_ms);
/* The session the last DiagnosticSessionControl/ECUReset left. */
guint8       ew_uds_client_get_session     (EwUdsClient *self);
/* How often the keep-alive sends 0x3E 0x80 in a non-default session. */
void         ew_uds_client_set_tester_present_interval (EwUdsClient *self,
                                                        guint        interval_ms);
void         ew_uds_client_set_clock       (EwUdsClient   *self,
                                            EwUdsClockFunc clock,
                                            gpointer       user_data);

/* ---- any request ---- */

/* Sends request (SID first) and returns the whole positive response
 * (SID + 0x40 first). With suppress, the request goes out as given (the
 * caller sets bit 7 of its sub-function) and an empty GBytes comes back
 * without waiting. A negative response fails with EW_UDS_NRC_ERROR; an
 * answer that is not SID + 0x40 with EW_UDS_ERROR_INVALID_RESPONSE.
 * transfer full */
GBytes      *ew_uds_client_request         (EwUdsClient   *self,
                                            const guint8  *request,
                                            gsize          length_bytes,
                                            gboolean       suppress,
                                            GCancellable  *cancellable,
                                            GError       **error);

/* One answer to a functional request. */
typedef struct {
  guint    channel_index;    /* into the physical channels given */
  GBytes  *response;         /* the whole positive or negative response */
} EwUdsFunctionalResponse;
void ew_uds_functional_response_free (EwUdsFunctionalResponse *response);

/* Sends request on the functional channel and collects the answers
 * (element-type EwUdsFunctionalResponse) of the physical channels within
 * P2 (P2* after 0x78); silent modules are absent. transfer full */
GPtrArray   *ew_uds_client_request_functional (EwUdsClient   *self,
                                               const guint8  *request,
                                               gsize          length_bytes,
                                               GCancellable  *cancellable,
                                               GError       **error);

/* Waits up to wait_ms for a negative response to the last suppressed
 * request (or reports one that came in the meantime): FALSE with the
 * NRC error if there was one, TRUE otherwise. */
gboolean     ew_uds_client_check_suppressed (EwUdsClient   *self,
                                             guint          wait_ms,
                                             GCancellable  *cancellable,
                                             GError       **error);

/* ---- services ---- */

/* 0x10 session → 50 session P2(2 bytes, ms) P2*(2 bytes, 10 ms). Sets P2
 * and P2* from the response; starts the TesterPresent keep-alive in a
 * non-default session and stops it in the default session. */
gboolean     ew_uds_client_diagnostic_session_control (EwUdsClient   *self,
                                                       guint8         session,
                                                       gboolean       suppress,
                                                       GCancellable  *cancellable,
                                                       GError       **error);
/* 0x11 reset_type → 51 reset_type [powerDownTime]. Stops the keep-alive
 * and returns to default session and timing. power_down_time_s may be NULL;
 * it receives the byte when given (0xFF: not available) or 0xFF. */
gboolean     ew_uds_client_ecu_reset       (EwUdsClient   *self,
                                            guint8         reset_type,
                                            gboolean       suppress,
                                            guint8        *power_down_time_s,
                                            GCancellable  *cancellable,
                                            GError       **error);
/* 0x14 groupOfDTC(3 bytes) → 54. 0xFFFFFF: all groups. */
gboolean     ew_uds_client_clear_diagnostic_information (EwUdsClient   *self,
                                                         guint32        group_of_dtc,
                                                         GCancellable  *cancellable,
                                                         GError       **error);

typedef struct {
  guint32 dtc;               /* 3 bytes: high, middle, low */
  guint8  status;            /* statusOfDTC */
} EwUdsDtcRecord;

/* 0x19 0x01 mask → 59 01 availabilityMask formatIdentifier count(2). Any
 * out-pointer may be NULL. */
gboolean     ew_uds_client_read_dtc_count  (EwUdsClient   *self,
                                            guint8         status_mask,
                                            guint8        *availability_mask,
                                            guint8        *format_identifier,
                                            guint16       *count,
                                            GCancellable  *cancellable,
                                            GError       **error);
/* 0x19 0x02 mask → 59 02 availabilityMask (DTC(3) status)*; element-type
 * EwUdsDtcRecord. transfer full */
GArray      *ew_uds_client_read_dtcs_by_status_mask (EwUdsClient   *self,
                                                     guint8         status_mask,
                                                     guint8        *availability_mask,
                                                     GCancellable  *cancellable,
                                                     GError       **error);
/* 0x19 0x0A → 59 0A availabilityMask (DTC(3) status)*. transfer full */
GArray      *ew_uds_client_read_supported_dtcs (EwUdsClient   *self,
                                                guint8        *availability_mask,
                                                GCancellable  *cancellable,
                                                GError       **error);

/* A DID to read and the length of its data record. UDS responses carry no
 * lengths, so the caller (who has them from the vehicle data) says how
 * long each record is; 0 means "the rest of the response" and is allowed
 * only for the last DID. */
typedef struct {
  guint16 did;
  gsize   length_bytes;
} EwUdsDidSpec;

/* 0x22 DID(2)… → 62 (DID(2) dataRecord)… in the order asked. Each echoed
 * DID is checked. Returns one GBytes per DID (data record only), in the
 * order given. transfer full, element-type GBytes */
GPtrArray   *ew_uds_client_read_dids       (EwUdsClient        *self,
                                            const EwUdsDidSpec *dids,
                                            guint               n_dids,
                                            GCancellable       *cancellable,
                                            GError            **error);
/* One DID, the rest of the response as its record. transfer full */
GBytes      *ew_uds_client_read_did        (EwUdsClient   *self,
                                            guint16        did,
                                            GCancellable  *cancellable,
                                            GError       **error);
/* 0x23 ALFID address size → 63 data. address_bytes and size_bytes (1..4
 * each) make the addressAndLengthFormatIdentifier (size << 4 | address).
 * transfer full */
GBytes      *ew_uds_client_read_memory     (EwUdsClient   *self,
                                            guint32        address,
                                            guint8         address_bytes,
                                            guint32        size,
                                            guint8         size_bytes,
                                            GCancellable  *cancellable,
                                            GError       **error);
/* 0x27 level → 67 level seed. level is odd. transfer full */
GBytes      *ew_uds_client_request_seed    (EwUdsClient   *self,
                                            guint8         level,
                                            GCancellable  *cancellable,
                                            GError       **error);
/* 0x27 level+1 key → 67 level+1. */
gboolean     ew_uds_client_send_key        (EwUdsClient   *self,
                                            guint8         level,
                                            const guint8  *key,
                                            gsize          key_length,
                                            GCancellable  *cancellable,
                                            GError       **error);
/* The whole SecurityAccess exchange at level->level: requestSeed (an
 * all-zero seed means already unlocked), the key from provider, sendKey.
 * Failed keys (NRC 0x35) are counted per module and level; after
 * level->max_attempts of them (0: not limited by the client) the client
 * refuses further attempts with EW_UDS_ERROR_SECURITY_LOCKED_OUT until
 * level->lockout_ms have passed. NRC 0x36 and 0x37 start the same lock-out
 * and fail with the NRC and an explanation. is_simulated_car is passed to
 * the provider (the toy algorithm refuses real cars). */
gboolean     ew_uds_client_security_access (EwUdsClient           *self,
                                            const EwSecurityLevel *level,
                                            EwSeedKeyProvider     *provider,
                                            const char            *variant,
                                            const char            *options,
                                            gboolean               is_simulated_car,
                                            GCancellable          *cancellable,
                                            GError               **error);
/* Failed keys counted at level since the last success or lock-out end. */
guint        ew_uds_client_get_failed_attempts (EwUdsClient *self,
                                                guint8       level);
/* 0x28 control_type communication_type → 68 control_type. */
gboolean     ew_uds_client_communication_control (EwUdsClient   *self,
                                                  guint8         control_type,
                                                  guint8         communication_type,
                                                  gboolean       suppress,
                                                  GCancellable  *cancellable,
                                                  GError       **error);
/* 0x2E DID data → 6E DID (echo checked). */
gboolean     ew_uds_client_write_did       (EwUdsClient   *self,
                                            guint16        did,
                                            const guint8  *data,
                                            gsize          length_bytes,
                                            GCancellable  *cancellable,
                                            GError       **error);

typedef enum {
  EW_UDS_ROUTINE_START           = 0x01,
  EW_UDS_ROUTINE_STOP            = 0x02,
  EW_UDS_ROUTINE_REQUEST_RESULTS = 0x03,
} EwUdsRoutineControlType;

/* 0x31 type RID(2) [option] → 71 type RID(2) [statusRecord]. Returns the
 * routineStatusRecord (possibly empty). transfer full */
GBytes      *ew_uds_client_routine_control (EwUdsClient             *self,
                                            EwUdsRoutineControlType  type,
                                            guint16                  routine_id,
                                            const guint8            *option,
                                            gsize                    option_length,
                                            GCancellable            *cancellable,
                                            GError                 **error);
/* 0x34 dataFormatIdentifier ALFID address size → 74 lengthFormatIdentifier
 * maxNumberOfBlockLength. Returns maxNumberOfBlockLength (the whole
 * TransferData request, SID and counter included), or 0 with error. */
guint32      ew_uds_client_request_download (EwUdsClient   *self,
                                             guint8         data_format,
                                             guint32        address,
                                             guint8         address_bytes,
                                             guint32        size,
                                             guint8         size_bytes,
                                             GCancellable  *cancellable,
                                             GError       **error);
/* 0x36 blockSequenceCounter data → 76 blockSequenceCounter (echo checked).
 * The counter starts at 1 and wraps 0xFF → 0x00 (14.5.2.2); the caller
 * passes it. */
gboolean     ew_uds_client_transfer_data   (EwUdsClient   *self,
                                            guint8         block_sequence_counter,
                                            const guint8  *data,
                                            gsize          length_bytes,
                                            GCancellable  *cancellable,
                                            GError       **error);
/* 0x37 → 77 [parameterRecord]. transfer full */
GBytes      *ew_uds_client_request_transfer_exit (EwUdsClient   *self,
                                                  GCancellable  *cancellable,
                                                  GError       **error);
/* 0x3E 0x00 → 7E 00; with suppress 0x3E 0x80 and no wait. */
gboolean     ew_uds_client_tester_present  (EwUdsClient   *self,
                                            gboolean       suppress,
                                            GCancellable  *cancellable,
                                            GError       **error);
/* 0x85 setting (0x01 on, 0x02 off) → C5 setting. */
gboolean     ew_uds_client_control_dtc_setting (EwUdsClient   *self,
                                                guint8         setting,
                                                gboolean       suppress,
                                                GCancellable  *cancellable,
                                                GError       **error);

G_END_DECLS
