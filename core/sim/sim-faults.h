/* sim-faults.h — faults injected into the simulated vehicle.
 *
 * One spec string drives both the in-process bus and the DoIP front end
 * (`sim:FAMILY?faults=SPEC`, `ecuw sim --faults SPEC`). The frame- and
 * link-level faults (drop, delay, link-drop) are applied by the runner
 * that carries the messages, through the queries below; the UDS-level
 * faults (nrc, pending, power-loss, bad-crc) are applied by the simulated
 * ECU itself (sim-ecu.c).
 *
 * Syntax: items separated by ';', each KEY=VALUE; spaces around items are
 * ignored. MODULE is a module id from the vehicle data, compared without
 * regard to case, or '*' for every module. Numbers are decimal or 0x-hex.
 *
 *   seed=N                    seed of the pseudo-random generator (default 1);
 *                             the same seed gives the same drops every run
 *   drop=[MODULE:]P%          drop each message with probability P (0..100)
 *   drop=[MODULE:]1/N         drop every Nth message (the Nth, 2Nth, ...)
 *   delay=[MODULE:]MS         hold each message MS milliseconds
 *   nrc=MODULE:SID:NRC@N      the Nth request with service SID to MODULE is
 *                             answered with negative response code NRC
 *                             (N counts from 1; without @N: every request)
 *   pending=MODULE:SID:N      N responsePending (0x78) answers before the
 *                             final answer to every SID request to MODULE
 *   link-drop=N[:MS]          the link goes down after N messages, for
 *                             good or for MS milliseconds (once)
 *   power-loss=MODULE:N[:MS]  MODULE loses power on receiving TransferData
 *                             block N (counted from 1 over the whole
 *                             download): it does not answer for MS
 *                             milliseconds (default 2000), then wakes in its
 *                             bootloader with the region partly written
 *   bad-crc=MODULE            check memory (routine) of MODULE fails
 *
 * Examples:
 *   "seed=7;drop=5%"                     5 % random loss on every module
 *   "drop=kombi:1/10;delay=20"           every 10th KOMBI message lost, 20 ms
 *   "nrc=KOMBI:0x36:0x72@3"              third TransferData to KOMBI fails
 *                                        with generalProgrammingFailure
 *   "pending=fem:0x31:20;link-drop=500"
 *   "power-loss=central-electrics:40"
 *
 * Bad specs are rejected with G_IO_ERROR_INVALID_ARGUMENT naming the
 * character offset of the offending item.
 *
 * Every function may be called from several threads at once.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _EwSimFaults EwSimFaults;

/* NULL or "" = no faults (a valid, empty object). */
EwSimFaults *ew_sim_faults_parse               (const char  *spec,
                                                GError     **error);
EwSimFaults *ew_sim_faults_ref                 (EwSimFaults *faults);
void         ew_sim_faults_unref               (EwSimFaults *faults);
/* The spec as given; never NULL. */
const char  *ew_sim_faults_get_spec            (EwSimFaults *faults);
gboolean     ew_sim_faults_is_empty            (EwSimFaults *faults);

/* For the bus / DoIP runner. faults may be NULL (no faults). Each call of
 * should_drop_frame counts one message for that module. */
gboolean     ew_sim_faults_should_drop_frame   (EwSimFaults *faults,
                                                const char  *module_id);
guint        ew_sim_faults_get_delay_ms        (EwSimFaults *faults,
                                                const char  *module_id);
/* How long a dropped link stays down; 0: for good. */
guint        ew_sim_faults_get_link_down_ms    (EwSimFaults *faults);
/* TRUE once n_messages_so_far has reached the link-drop count. */
gboolean     ew_sim_faults_link_drop_due       (EwSimFaults *faults,
                                                guint        n_messages_so_far);

/* For the simulated ECU. Counts one request of sid for the module and
 * returns the NRC to answer instead (0 = none). */
guint8       ew_sim_faults_take_nrc            (EwSimFaults *faults,
                                                const char  *module_id,
                                                guint8       sid);
/* Number of 0x78 answers to send before the final answer to sid. */
guint        ew_sim_faults_get_pending_count   (EwSimFaults *faults,
                                                const char  *module_id,
                                                guint8       sid);
/* The TransferData block (1-based, over the whole download) at which the
 * module loses power, 0 = never; off_ms receives how long (nullable). */
guint        ew_sim_faults_get_power_loss_block (EwSimFaults *faults,
                                                const char  *module_id,
                                                guint       *off_ms);
gboolean     ew_sim_faults_has_bad_crc         (EwSimFaults *faults,
                                                const char  *module_id);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EwSimFaults, ew_sim_faults_unref)

G_END_DECLS
