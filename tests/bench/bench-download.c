/* bench-download.c — download throughput into a simulated programmable
 * module with the UDS client: programming session, security access (the
 * simulator's toy algorithm), erase routine, RequestDownload, TransferData
 * blocks of the module's maxNumberOfBlockLength, RequestTransferExit, and a
 * check-memory routine over the CRC-32 of what was sent.
 *
 *  a) over the simulated 500 kbit/s classic CAN bus with its timing model,
 *     against the best ISO-TP allows for the same frames;
 *  b) over DoIP on loopback, to the same server `ecuw sim --doip` runs
 *     (in-process, or an external one with --doip HOST:PORT), in MiB/s and
 *     CPU instructions per payload byte.
 *
 * It prints each figure beside its target and exits 0 whatever they are.
 * Options:
 *   --bytes N        CAN download size (default 256 KiB; 4 MiB takes
 *                    ~140 s of wire time)
 *   --doip-bytes N   DoIP download size (default 4 MiB); when no region of
 *                    the module holds it (64 MiB, say), the in-process car
 *                    gets one more region of that size for the run
 *   --family ID, --module ID   the module to program (default vw-golf-mk7
 *                    infotainment: a 15 MiB application region)
 *   --doip HOST:PORT run b) against an external `ecuw sim FAMILY --doip`
 *   --can-only, --doip-only
 */
#include "config.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_ZERO_STATS
#define CALLGRIND_DUMP_STATS_AT(name)
#endif

#include "connect/connection.h"
#include "data-dir.h"
#include "isotp/isotp-addressing.h"
#include "link/can-frame.h"
#include "sim/sim-flash.h"
#include "sim/sim-vehicle.h"
#include "uds/uds-client.h"
#include "uds/seedkey.h"
#include "vehicle/database.h"

#define BITRATE_BPS         500000
#define DEFAULT_CAN_BYTES   (256 * 1024)
#define DEFAULT_DOIP_BYTES  (4 * 1024 * 1024)
#define TARGET_CAN_FRACTION 0.95
#define TARGET_DOIP_MIB_S   50.0
#define SESSION_PROGRAMMING 0x02
#define ALFID_4_4           0x44
#define N_ROUND_TRIPS       200

/* Instructions of this process and every thread it starts after open. */
typedef struct {
  int   fd;
  char *why_not;
} Counter;

static void
counter_open (Counter *c)
{
  struct perf_event_attr attr = { 0 };

  attr.size = sizeof attr;
  attr.type = PERF_TYPE_HARDWARE;
  attr.config = PERF_COUNT_HW_INSTRUCTIONS;
  attr.disabled = 1;
  attr.inherit = 1;
  c->fd = (int) syscall (SYS_perf_event_open, &attr, 0, -1, -1, 0);
  if (c->fd < 0)
    {
      /* perf_event_paranoid 2 still allows user-space counting */
      int first = errno;

      attr.exclude_kernel = 1;
      attr.exclude_hv = 1;
      c->fd = (int) syscall (SYS_perf_event_open, &attr, 0, -1, -1, 0);
      if (c->fd < 0)
        c->why_not = g_strdup_printf ("%s; user space only: %s",
                                      g_strerror (first), g_strerror (errno));
    }
}

static void
counter_enable (Counter *c, gboolean enable)
{
  if (c->fd < 0)
    return;
  /* the ioctls reach the inherited counters of the threads too */
  if (enable)
    ioctl (c->fd, PERF_EVENT_IOC_RESET, 0);
  ioctl (c->fd, enable ? PERF_EVENT_IOC_ENABLE : PERF_EVENT_IOC_DISABLE, 0);
}

static gboolean
counter_read (Counter *c, guint64 *value)
{
  if (c->fd < 0)
    return FALSE;
  if (read (c->fd, value, sizeof *value) != sizeof *value)
    {
      c->why_not = g_strdup_printf ("read: %s", g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

typedef struct {
  const EwModule      *module;
  const EwFlashRegion *region;
  guint16              erase_rid;
  guint16              check_rid;
  const EwSecurityLevel *level;
} Target;

typedef struct {
  guint    block_length;      /* maxNumberOfBlockLength: SID + counter + data */
  guint    n_blocks;
  gdouble  transfer_s;        /* the 0x36 phase */
  gdouble  cpu_user_s;        /* CPU time of every thread in that phase */
  gdouble  cpu_system_s;
  glong    n_switches;        /* context switches of every thread in it */
  gdouble  round_trip_us;     /* mean TesterPresent request to answer */
  gdouble  total_s;           /* session to check memory */
} Outcome;

static guint16
routine_rid (const EwModule *module, const char *routine_id, EwProgrammingStepKind step, guint16 fallback)
{
  const EwProgrammingPlan *plan = module->programming;

  if (plan == NULL)
    return fallback;
  for (guint i = 0; routine_id == NULL && i < plan->steps->len; i++)
    {
      const EwProgrammingStep *s = g_ptr_array_index (plan->steps, i);

      if (s->kind == step)
        routine_id = s->routine;
    }
  for (guint i = 0; routine_id != NULL && i < plan->routines->len; i++)
    {
      const EwRoutine *r = g_ptr_array_index (plan->routines, i);

      if (g_str_equal (r->id, routine_id))
        return r->rid;
    }
  return fallback;
}

/* The module's first erasable region that holds length bytes. */
static gboolean
find_target (EwFamily *family, const char *module_id, gsize length, Target *t, GError **error)
{
  t->module = ew_family_find_module (family, module_id);
  if (t->module == NULL || t->module->flash == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "%s has no programmable module \"%s\"", family->id, module_id);
      return FALSE;
    }
  t->region = NULL;
  for (guint i = 0; i < t->module->flash->regions->len && t->region == NULL; i++)
    {
      const EwFlashRegion *r = g_ptr_array_index (t->module->flash->regions, i);

      if (r->erase_routine != NULL && r->size >= length)
        t->region = r;
    }
  if (t->region == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                   "no erasable region of %s/%s holds %zu bytes", family->id, module_id, length);
      return FALSE;
    }
  t->level = NULL;
  for (guint i = 0; i < t->module->security->len && t->level == NULL; i++)
    {
      const EwSecurityLevel *l = g_ptr_array_index (t->module->security, i);

      if (l->purpose == EW_WORK_CLASS_PROGRAMMING)
        t->level = l;
    }
  if (t->level == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "%s/%s has no programming security level", family->id, module_id);
      return FALSE;
    }
  t->erase_rid = routine_rid (t->module, t->region->erase_routine, EW_STEP_ERASE, 0xFF00);
  t->check_rid = routine_rid (t->module, NULL, EW_STEP_CHECK_MEMORY, 0x0202);
  return TRUE;
}

static void
cpu_times (gdouble *user_s, gdouble *system_s, glong *n_switches)
{
  struct rusage usage;

  /* RUSAGE_SELF sums every thread of the process */
  getrusage (RUSAGE_SELF, &usage);
  *user_s = usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6;
  *system_s = usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
  *n_switches = usage.ru_nvcsw + usage.ru_nivcsw;
}

static void
put_be32 (guint8 *p, guint32 v)
{
  p[0] = v >> 24;
  p[1] = v >> 16;
  p[2] = v >> 8;
  p[3] = v;
}

/* The whole programming sequence on channel; the 0x36 phase is timed, and
 * the instruction counter runs only during it. */
static gboolean
program (EwChannel *channel, const Target *t, const guint8 *data, gsize length,
         guint n_round_trips, Counter *counter, Outcome *out, GError **error)
{
  g_autoptr(EwUdsClient) client = ew_uds_client_new (channel, t->module->id);
  g_autoptr(EwSeedKeyProvider) toy = ew_seedkey_provider_new_toy ();
  g_autoptr(GBytes) status = NULL;
  g_autoptr(GBytes) exit_record = NULL;
  guint8 option[9];
  guint8 expected[4];
  guint32 block_length;
  gsize per_block, pos = 0;
  guint8 counter_byte = 1;
  gint64 start, transfer_start, transfer_end;
  gdouble user0, system0, user1, system1;
  glong switches0, switches1;

  start = g_get_monotonic_time ();
  if (!ew_uds_client_diagnostic_session_control (client, SESSION_PROGRAMMING, FALSE, NULL, error))
    return FALSE;
  if (!ew_uds_client_security_access (client, t->level, toy, NULL, NULL, TRUE, NULL, error))
    return FALSE;
  option[0] = ALFID_4_4;
  put_be32 (option + 1, t->region->start);
  put_be32 (option + 5, t->region->size);
  status = ew_uds_client_routine_control (client, EW_UDS_ROUTINE_START, t->erase_rid,
                                          option, sizeof option, NULL, error);
  if (status == NULL)
    return FALSE;
  g_clear_pointer (&status, g_bytes_unref);
  block_length = ew_uds_client_request_download (client, 0x00, t->region->start, 4,
                                                 (guint32) length, 4, NULL, error);
  if (block_length == 0)
    return FALSE;
  if (block_length <= 2)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s: maxNumberOfBlockLength %u leaves no room for data",
                   t->module->id, block_length);
      return FALSE;
    }
  per_block = block_length - 2;

  /* the fixed cost of one exchange, without payload */
  if (n_round_trips > 0)
    {
      gint64 t0 = g_get_monotonic_time ();

      for (guint i = 0; i < n_round_trips; i++)
        if (!ew_uds_client_tester_present (client, FALSE, NULL, error))
          return FALSE;
      out->round_trip_us = (gdouble) (g_get_monotonic_time () - t0) / n_round_trips;
    }

  /* under callgrind (--separate-threads=no) the phase is a profile part
   * of its own */
  CALLGRIND_ZERO_STATS;
  counter_enable (counter, TRUE);
  cpu_times (&user0, &system0, &switches0);
  transfer_start = g_get_monotonic_time ();
  while (pos < length)
    {
      gsize n = MIN (per_block, length - pos);

      if (!ew_uds_client_transfer_data (client, counter_byte, data + pos, n, NULL, error))
        {
          counter_enable (counter, FALSE);
          return FALSE;
        }
      pos += n;
      counter_byte++;   /* 0xFF wraps to 0x00 (ISO 14229-1 14.5.2.2) */
      out->n_blocks++;
    }
  transfer_end = g_get_monotonic_time ();
  cpu_times (&user1, &system1, &switches1);
  counter_enable (counter, FALSE);
  CALLGRIND_DUMP_STATS_AT ("TransferData phase");
  out->cpu_user_s = user1 - user0;
  out->cpu_system_s = system1 - system0;
  out->n_switches = switches1 - switches0;

  exit_record = ew_uds_client_request_transfer_exit (client, NULL, error);
  if (exit_record == NULL)
    return FALSE;

  /* the module's CRC-32 over what arrived must be ours */
  put_be32 (expected, ew_sim_crc32_update (0xFFFFFFFFu, data, length) ^ 0xFFFFFFFFu);
  status = ew_uds_client_routine_control (client, EW_UDS_ROUTINE_START, t->check_rid,
                                          expected, sizeof expected, NULL, error);
  if (status == NULL)
    return FALSE;
  if (g_bytes_get_size (status) < 1 || ((const guint8 *) g_bytes_get_data (status, NULL))[0] != 0x00)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s: check memory (0x%04X) reports the download corrupt",
                   t->module->id, t->check_rid);
      return FALSE;
    }
  ew_uds_client_diagnostic_session_control (client, 0x01, FALSE, NULL, NULL);

  out->block_length = block_length;
  out->transfer_s = (transfer_end - transfer_start) / 1e6;
  out->total_s = (g_get_monotonic_time () - start) / 1e6;
  return TRUE;
}

/* An application image: the simulator's header, then pseudo-random bytes
 * (fixed seed, so stuff bits are the same each run). */
static guint8 *
make_image (gsize length)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (20240229);
  g_autoptr(GBytes) header = ew_sim_app_header_build ("BENCH-0001", "BENCH-IMAGE");
  guint8 *data = g_malloc (length);

  for (gsize i = 0; i < length; i += 4)
    {
      guint32 r = g_rand_int (rand);

      memcpy (data + i, &r, MIN (4, length - i));
    }
  memcpy (data, g_bytes_get_data (header, NULL), MIN (length, g_bytes_get_size (header)));
  return data;
}

/* ---- CAN: the wire limit for the same exchange ---- */

typedef struct {
  guint32 tx_id, rx_id;     /* tester's request and response ids */
  guint8  block_size;       /* the module's flow control */
  guint8  st_min;
  int     padding;
} WireSetup;

typedef struct {
  guint64 exact_bits;       /* every frame with its own stuff bits */
  guint64 worst_bits;       /* every frame with the most a frame can have */
  gdouble exact_s;          /* with the STmin floor between CFs */
  gdouble worst_s;
  guint64 n_frames;
  guint64 n_fc;
} Wire;

/* Most stuff bits an 11-bit data frame of len bytes can carry: one after
 * the first 5 stuffed bits, then one every 4 (alternating worst case). */
static guint
worst_stuff_bits (guint len)
{
  guint stuffed = 1 + 11 + 1 + 1 + 1 + 4 + 8 * len + 15;   /* SOF..CRC */

  return stuffed >= 5 ? 1 + (stuffed - 5) / 4 : 0;
}

static void
wire_add_frame (Wire *w, const WireSetup *ws, guint32 id, const guint8 *pdu, guint len, gdouble floor_s)
{
  EwCanFrame frame;
  guint8 buf[8];
  guint exact, worst;

  memcpy (buf, pdu, len);
  if (ws->padding >= 0 && len < 8)
    {
      memset (buf + len, ws->padding, 8 - len);
      len = 8;
    }
  ew_can_frame_init (&frame, id, FALSE, buf, len);
  exact = ew_can_frame_wire_bits (&frame);
  worst = exact - ew_can_frame_stuff_bits (&frame) + worst_stuff_bits (len);
  w->exact_bits += exact;
  w->worst_bits += worst;
  w->exact_s += MAX ((gdouble) exact / BITRATE_BPS, floor_s);
  w->worst_s += MAX ((gdouble) worst / BITRATE_BPS, floor_s);
  w->n_frames++;
}

/* One ISO-TP message (normal addressing, 11-bit ids) from id, flow
 * control from fc_id: SF (7 bytes), or FF (6) + CFs (7 each) with an FC
 * after the FF and after every block_size CFs; consecutive frames start
 * at least STmin apart. */
static void
wire_add_message (Wire *w, const WireSetup *ws, guint32 id, guint32 fc_id, const guint8 *msg, gsize len)
{
  guint8 pdu[8];
  gsize pos;
  guint sn = 1, in_block = 0;
  gdouble st_min_s = ew_isotp_st_min_to_us (ws->st_min) / 1e6;
  guint8 fc[3] = { 0x30, ws->block_size, ws->st_min };

  if (len <= 7)
    {
      pdu[0] = (guint8) len;
      memcpy (pdu + 1, msg, len);
      wire_add_frame (w, ws, id, pdu, 1 + len, 0);
      return;
    }
  g_assert (len <= 4095);
  pdu[0] = 0x10 | (len >> 8);
  pdu[1] = len & 0xFF;
  memcpy (pdu + 2, msg, 6);
  wire_add_frame (w, ws, id, pdu, 8, 0);
  wire_add_frame (w, ws, fc_id, fc, sizeof fc, 0);
  w->n_fc++;
  for (pos = 6; pos < len; )
    {
      gsize n = MIN (7, len - pos);

      pdu[0] = 0x20 | sn;
      memcpy (pdu + 1, msg + pos, n);
      /* the first CF after an FC goes at once; the others wait STmin */
      wire_add_frame (w, ws, id, pdu, 1 + n, in_block == 0 ? 0 : st_min_s);
      sn = (sn + 1) & 0xF;
      pos += n;
      in_block++;
      if (ws->block_size > 0 && in_block == ws->block_size && pos < len)
        {
          wire_add_frame (w, ws, fc_id, fc, sizeof fc, 0);
          w->n_fc++;
          in_block = 0;
        }
    }
}

/* The 0x36 phase on the wire: every request and its 76 xx answer. */
static void
wire_for_transfer (Wire *w, const WireSetup *ws, const guint8 *data, gsize length, guint block_length)
{
  g_autofree guint8 *msg = g_malloc (block_length);
  gsize per_block = block_length - 2, pos = 0;
  guint8 counter = 1;

  while (pos < length)
    {
      gsize n = MIN (per_block, length - pos);
      guint8 answer[2] = { 0x76, counter };

      msg[0] = 0x36;
      msg[1] = counter;
      memcpy (msg + 2, data + pos, n);
      wire_add_message (w, ws, ws->tx_id, ws->rx_id, msg, n + 2);
      wire_add_message (w, ws, ws->rx_id, ws->tx_id, answer, sizeof answer);
      pos += n;
      counter++;
    }
}

static gboolean
bench_can (EwVehicleDatabase *db, const char *family_id, const char *module_id, gsize length,
           gboolean is_default_length, GError **error)
{
  g_autofree char *uri = g_strdup_printf ("sim:%s?bitrate=%u", family_id, BITRATE_BPS);
  g_autoptr(EwConnection) connection = NULL;
  g_autoptr(EwChannel) channel = NULL;
  g_autofree guint8 *data = make_image (length);
  EwIsotpConfig module_config;
  Counter no_counter = { -1, NULL };
  Outcome out = { 0 };
  WireSetup ws;
  Wire w = { 0 };
  Target t;
  gdouble goodput, limit;

  connection = ew_connection_open (uri, db, NULL, error);
  if (connection == NULL)
    return FALSE;
  if (!find_target (ew_connection_get_family (connection), module_id, length, &t, error))
    return FALSE;
  /* the module's own flow control (BS, STmin) paces the tester's CFs */
  if (!ew_isotp_config_for_module (t.module, EW_ISOTP_ROLE_MODULE, &module_config, error))
    return FALSE;
  if (t.module->addressing.can_format != EW_CAN_ADDRESSING_NORMAL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "%s/%s uses extended or 29-bit addressing; this bench models 11-bit normal addressing",
                   family_id, module_id);
      return FALSE;
    }
  channel = ew_connection_open_channel (connection, t.module, error);
  if (channel == NULL)
    return FALSE;

  g_print ("== a) download over the simulated CAN bus ==\n");
  g_print ("module:        %s/%s (%s), region \"%s\" 0x%08X, %u KiB\n", family_id, t.module->id,
           t.module->name, t.region->name, t.region->start, t.region->size / 1024);
  g_print ("bus:           %s, classic CAN, 11-bit ids, normal addressing, padding 0x%02X\n",
           uri, module_config.padding);
  g_print ("module FC:     block size %u, STmin 0x%02X (%u us)\n", module_config.block_size,
           module_config.st_min, ew_isotp_st_min_to_us (module_config.st_min));
  if (is_default_length)
    g_print ("size:          %zu KiB by default, not 4 MiB (--bytes %u for it)\n",
             length / 1024, 4 * 1024 * 1024);
  else
    g_print ("size:          %zu bytes\n", length);

  if (!program (channel, &t, data, length, 0, &no_counter, &out, error))
    return FALSE;

  ws.tx_id = t.module->addressing.can_request_id;
  ws.rx_id = t.module->addressing.can_response_id;
  ws.block_size = module_config.block_size;
  ws.st_min = module_config.st_min;
  ws.padding = module_config.padding;
  wire_for_transfer (&w, &ws, data, length, out.block_length);

  goodput = length / out.transfer_s;
  limit = length / w.exact_s;
  g_print ("blocks:        %u TransferData requests of %u bytes (maxNumberOfBlockLength), "
           "%" G_GUINT64_FORMAT " frames with %" G_GUINT64_FORMAT " FC\n",
           out.n_blocks, out.block_length, w.n_frames, w.n_fc);
  g_print ("measured:      0x36 phase %.3f s, %.0f payload bytes/s (whole sequence %.3f s)\n",
           out.transfer_s, goodput, out.total_s);
  g_print ("wire limit:    %.3f s, %.0f bytes/s (these frames' exact stuff bits, %.1f bits a frame)\n",
           w.exact_s, limit, (gdouble) w.exact_bits / w.n_frames);
  g_print ("               %.3f s, %.0f bytes/s with worst-case stuffing (%.1f bits a frame)\n",
           w.worst_s, length / w.worst_s, (gdouble) w.worst_bits / w.n_frames);
  g_print ("fraction:      %.3f of the exact-stuffing limit (target >= %.2f) %s\n",
           goodput / limit, TARGET_CAN_FRACTION,
           goodput / limit >= TARGET_CAN_FRACTION ? "met" : "MISSED");
  if (is_default_length)
    g_print ("               4 MiB would take ~%.0f s on this wire\n", w.exact_s * 4194304.0 / length);
  return TRUE;
}

/* ---- DoIP ---- */

/* A region of length bytes (rounded up to 64 KiB) after the module's
 * others, erased by the routine of its first erasable region. */
static gboolean
add_bench_region (EwFamily *family, const char *module_id, gsize length, GError **error)
{
  EwModule *module = (EwModule *) ew_family_find_module (family, module_id);
  const EwFlashRegion *erasable = NULL;
  EwFlashRegion *region;
  guint64 end = 0;

  if (module == NULL || module->flash == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "%s has no programmable module \"%s\"", family->id, module_id);
      return FALSE;
    }
  for (guint i = 0; i < module->flash->regions->len; i++)
    {
      const EwFlashRegion *r = g_ptr_array_index (module->flash->regions, i);

      end = MAX (end, (guint64) r->start + r->size);
      if (erasable == NULL && r->erase_routine != NULL)
        erasable = r;
    }
  /* the next 256 MiB boundary */
  end = (end + 0x0FFFFFFF) & ~(guint64) 0x0FFFFFFF;
  length = (length + 0xFFFF) & ~(gsize) 0xFFFF;
  if (erasable == NULL || end + length > G_MAXUINT32)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                   "%s/%s: no room in the address space for a region of %zu bytes",
                   family->id, module_id, length);
      return FALSE;
    }
  region = g_new0 (EwFlashRegion, 1);
  region->name = g_strdup ("Bench image");
  region->start = (guint32) end;
  region->size = (guint32) length;
  region->kind = EW_FLASH_REGION_APPLICATION;
  region->erase_routine = g_strdup (erasable->erase_routine);
  g_ptr_array_add (module->flash->regions, region);
  return TRUE;
}

static gboolean
bench_doip (EwVehicleDatabase *db, const char *family_id, const char *module_id,
            const char *external, gsize length, Counter *counter, GError **error)
{
  g_autoptr(EwSimVehicle) vehicle = NULL;
  g_autoptr(EwSimProfile) profile = NULL;
  g_autoptr(EwConnection) connection = NULL;
  g_autoptr(EwChannel) channel = NULL;
  g_autofree guint8 *data = make_image (length);
  g_autofree char *uri = NULL;
  EwFamily *family = ew_vehicle_database_find_family (db, family_id);
  g_autoptr(GError) local_error = NULL;
  gboolean is_bench_region = FALSE;
  Outcome out = { 0 };
  guint64 instructions = 0;
  gdouble mib_s;
  Target t;

  if (family == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no vehicle family \"%s\"", family_id);
      return FALSE;
    }
  if (!find_target (family, module_id, length, &t, &local_error))
    {
      /* no shipped module holds a download this large: the in-process car
       * gets one more region of the size asked for (the simulated flash
       * stores only what is written) */
      if (external != NULL || !g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NO_SPACE) ||
          !add_bench_region (family, module_id, length, error))
        {
          if (local_error != NULL)
            g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      g_clear_error (&local_error);
      if (!find_target (family, module_id, length, &t, error))
        return FALSE;
      is_bench_region = TRUE;
    }
  if (external != NULL)
    uri = g_strdup_printf ("doip:%s?family=%s", external, family_id);
  else
    {
      profile = ew_sim_profile_new_default (family, NULL);
      vehicle = ew_sim_vehicle_new (family, profile, NULL);
      if (!ew_sim_vehicle_start_doip (vehicle, "127.0.0.1", 0, FALSE, error))
        return FALSE;
      uri = g_strdup_printf ("doip:127.0.0.1:%u?family=%s",
                             ew_sim_vehicle_get_doip_port (vehicle), family_id);
    }
  connection = ew_connection_open (uri, db, NULL, error);
  if (connection == NULL)
    return FALSE;
  channel = ew_connection_open_channel (connection, t.module, error);
  if (channel == NULL)
    return FALSE;

  g_print ("\n== b) download over DoIP on loopback ==\n");
  g_print ("module:        %s/%s, logical address 0x%04X, region \"%s\" 0x%08X, %u KiB%s\n",
           family_id, t.module->id, t.module->addressing.doip_logical_address, t.region->name,
           t.region->start, t.region->size / 1024,
           is_bench_region ? " (added for this run: no region of the vehicle data is that large)" : "");
  g_print ("server:        %s (%s)\n", uri,
           external != NULL ? "external; instructions below are the tester's alone"
                            : "in-process DoIP server, as `ecuw sim --doip` runs it");
  g_print ("size:          %zu bytes (%.2f MiB)\n", length, length / 1048576.0);

  if (!program (channel, &t, data, length, N_ROUND_TRIPS, counter, &out, error))
    return FALSE;

  mib_s = length / 1048576.0 / out.transfer_s;
  g_print ("blocks:        %u TransferData requests of %u bytes\n", out.n_blocks, out.block_length);
  g_print ("measured:      0x36 phase %.3f s, %.1f MiB/s (target >= %.0f MiB/s) %s; "
           "%.1f us a block; whole sequence %.3f s\n",
           out.transfer_s, mib_s, TARGET_DOIP_MIB_S, mib_s >= TARGET_DOIP_MIB_S ? "met" : "MISSED",
           out.transfer_s * 1e6 / out.n_blocks, out.total_s);
  g_print ("round trip:    %.1f us for a TesterPresent request and its answer "
           "(mean of %u), the fixed cost in each block\n", out.round_trip_us, N_ROUND_TRIPS);
  g_print ("CPU time:      %.0f ms user + %.0f ms system in the 0x36 phase, %s "
           "(%.1f ns a payload byte); %.1f context switches a block\n",
           out.cpu_user_s * 1e3, out.cpu_system_s * 1e3,
           external != NULL ? "the tester's threads" : "every thread, server included",
           (out.cpu_user_s + out.cpu_system_s) * 1e9 / length, (gdouble) out.n_switches / out.n_blocks);
  if (counter_read (counter, &instructions))
    g_print ("instructions:  %.1f per payload byte (%" G_GUINT64_FORMAT " in the 0x36 phase, "
             "all threads of this process%s)\n",
             (gdouble) instructions / length, instructions,
             external != NULL ? "" : ", server included");
  else
    g_print ("instructions:  not available here (perf_event_open: %s); "
             "run this program under valgrind --tool=callgrind --separate-threads=no:\n"
             "               the profile part named \"TransferData phase\" holds that phase alone\n",
             counter->why_not != NULL ? counter->why_not : "unknown");
  return TRUE;
}

static gboolean
parse_size (const char *text, gsize *out)
{
  gboolean is_hex = g_str_has_prefix (text, "0x") || g_str_has_prefix (text, "0X");
  guint64 v;

  if (!g_ascii_string_to_unsigned (is_hex ? text + 2 : text, is_hex ? 16 : 10, 1, G_MAXUINT32,
                                   &v, NULL))
    return FALSE;
  *out = (gsize) v;
  return TRUE;
}

int
main (int argc, char *argv[])
{
  g_autoptr(EwVehicleDatabase) db = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *vehicles = NULL;
  const char *family_id = "vw-golf-mk7";
  const char *module_id = "infotainment";
  const char *external = NULL;
  gsize can_bytes = DEFAULT_CAN_BYTES, doip_bytes = DEFAULT_DOIP_BYTES;
  gboolean is_default_length = TRUE, run_can = TRUE, run_doip = TRUE;
  Counter counter = { -1, NULL };

  /* before any thread exists, so that every later one is counted */
  counter_open (&counter);

  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i];
      const char *v = i + 1 < argc ? argv[i + 1] : NULL;

      if (g_str_equal (a, "--bytes") && v != NULL && parse_size (v, &can_bytes))
        is_default_length = FALSE, i++;
      else if (g_str_equal (a, "--doip-bytes") && v != NULL && parse_size (v, &doip_bytes))
        i++;
      else if (g_str_equal (a, "--family") && v != NULL)
        family_id = v, i++;
      else if (g_str_equal (a, "--module") && v != NULL)
        module_id = v, i++;
      else if (g_str_equal (a, "--doip") && v != NULL)
        external = v, i++;
      else if (g_str_equal (a, "--can-only"))
        run_doip = FALSE;
      else if (g_str_equal (a, "--doip-only"))
        run_can = FALSE;
      else
        {
          g_printerr ("usage: %s [--bytes N] [--doip-bytes N] [--family ID] [--module ID] "
                      "[--doip HOST:PORT] [--can-only | --doip-only]\n", argv[0]);
          return 2;
        }
    }

  /* Uninstalled, the shipped data is the source tree's. */
  if (g_getenv ("ECU_WORKSHOP_DATA_DIR") == NULL)
    g_setenv ("ECU_WORKSHOP_DATA_DIR", EW_SOURCE_DATADIR, TRUE);
  db = ew_vehicle_database_new (NULL);
  vehicles = ew_data_path ("vehicles");
  ew_vehicle_database_add_dir (db, vehicles);

  if (run_can && !bench_can (db, family_id, module_id, can_bytes, is_default_length, &error))
    {
      g_printerr ("bench-download: CAN: %s\n", error->message);
      return 1;
    }
  if (run_doip && !bench_doip (db, family_id, module_id, external, doip_bytes, &counter, &error))
    {
      g_printerr ("bench-download: DoIP: %s\n", error->message);
      return 1;
    }
  if (counter.fd >= 0)
    close (counter.fd);
  g_free (counter.why_not);
  return 0;
}
