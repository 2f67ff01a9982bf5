/* test-sim-vehicle.c — the simulated car as a tester meets it: modules on
 * the simulated CAN bus (ISO-TP, physical and functional) and behind the
 * DoIP entity, frame- and link-level faults, and state across restarts.
 * The tester side is the engine's own UDS client, ISO-TP and DoIP code.
 */
#include <glib/gstdio.h>
#include <string.h>

#include "connect/connection.h"
#include "doip/doip-client.h"
#include "isotp/isotp-addressing.h"
#include "link/link-mux.h"
#include "sim/sim-flash.h"
#include "sim/sim-vehicle.h"
#include "uds/seedkey.h"
#include "uds/uds-client.h"
#include "vehicle/database.h"
#include "test-util.h"

static EwVehicleDatabase *db;

static EwFamily *
family (const char *id)
{
  EwFamily *f = ew_vehicle_database_find_family (db, id);

  g_assert_nonnull (f);
  return f;
}

static EwConnection *
open_sim (const char *uri)
{
  g_autoptr(GError) error = NULL;
  EwConnection *connection = ew_connection_open (uri, db, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (connection);
  return connection;
}

static EwUdsClient *
client_for (EwConnection *connection, const char *module_id)
{
  g_autoptr(GError) error = NULL;
  const EwModule *module = ew_family_find_module (ew_connection_get_family (connection), module_id);
  g_autoptr(EwChannel) channel = NULL;

  g_assert_nonnull (module);
  channel = ew_connection_open_channel (connection, module, &error);
  g_assert_no_error (error);
  return ew_uds_client_new (channel, module_id);
}

static char *
read_vin (EwUdsClient *client, GError **error)
{
  g_autoptr(GBytes) vin = ew_uds_client_read_did (client, 0xF190, NULL, error);

  if (vin == NULL)
    return NULL;
  return g_strndup (g_bytes_get_data (vin, NULL), g_bytes_get_size (vin));
}

/* Every module of every shipped family answers on its own CAN ids: 11-bit
 * normal addressing (VW, Mercedes) and extended addressing (BMW). */
static void
test_bus_every_module (void)
{
  const char *families[] = { "bmw-f30", "mercedes-w205", "vw-golf-mk7" };

  for (guint f = 0; f < G_N_ELEMENTS (families); f++)
    {
      g_autofree char *uri = g_strdup_printf ("sim:%s", families[f]);
      g_autoptr(EwConnection) connection = open_sim (uri);
      EwFamily *fam = ew_connection_get_family (connection);
      const char *car_vin = ew_sim_vehicle_get_vin (ew_connection_get_sim_vehicle (connection));

      for (guint i = 0; i < fam->modules->len; i++)
        {
          const EwModule *module = g_ptr_array_index (fam->modules, i);
          g_autoptr(EwUdsClient) client = client_for (connection, module->id);
          g_autoptr(GError) error = NULL;
          g_autoptr(GBytes) marker = ew_uds_client_read_did (client, 0xFD00, NULL, NULL);
          g_autofree char *vin = read_vin (client, &error);

          g_assert_no_error (error);
          g_assert_cmpstr (vin, ==, car_vin);
          /* the simulation marker answers where the module declares it */
          if (marker != NULL)
            g_assert_cmpmem (g_bytes_get_data (marker, NULL), g_bytes_get_size (marker),
                             EW_SIM_ECU_MARKER, strlen (EW_SIM_ECU_MARKER));
        }
      g_test_message ("%s: %u modules answered their VIN", families[f], fam->modules->len);
    }
}

/* A real adapter is opened once: every module's ISO-TP channel branches
 * off the one link, and all of them are open at the same time. */
static void
test_bus_shared_adapter (void)
{
  EwFamily *fam = family ("bmw-f30");
  g_autoptr(EwSimProfile) profile = ew_sim_profile_new_default (fam, NULL);
  g_autoptr(EwSimVehicle) vehicle = ew_sim_vehicle_new (fam, profile, NULL);
  g_autoptr(EwSimBus) bus = ew_sim_bus_get ("shared-adapter");
  g_autoptr(EwSimLink) adapter = ew_sim_link_new (bus);
  g_autoptr(EwLinkMux) mux = NULL;
  g_autoptr(GPtrArray) clients = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GError) error = NULL;

  g_assert_true (ew_sim_vehicle_start_bus (vehicle, bus, &error));
  g_assert_no_error (error);
  mux = ew_link_mux_new (EW_LINK (adapter));
  for (guint i = 0; i < fam->modules->len; i++)
    {
      const EwModule *module = g_ptr_array_index (fam->modules, i);
      g_autoptr(EwLink) branch = ew_link_mux_open_branch (mux);
      g_autoptr(EwIsotpChannel) channel = NULL;
      EwIsotpConfig config;

      g_assert_true (ew_isotp_config_for_module (module, EW_ISOTP_ROLE_TESTER, &config, &error));
      channel = ew_isotp_channel_new (branch, &config, &error);
      g_assert_no_error (error);
      g_ptr_array_add (clients, ew_uds_client_new (EW_CHANNEL (channel), module->id));
    }
  for (guint i = 0; i < clients->len; i++)
    {
      g_autofree char *vin = read_vin (g_ptr_array_index (clients, i), &error);

      g_assert_no_error (error);
      g_assert_cmpstr (vin, ==, ew_sim_vehicle_get_vin (vehicle));
    }
  g_ptr_array_set_size (clients, 0);
  ew_sim_vehicle_stop (vehicle);
}


/* A long answer crosses the bus as first + consecutive frames with flow
 * control in both directions (extended addressing included). */
static void
test_bus_multi_frame (void)
{
  g_autoptr(EwConnection) connection = open_sim ("sim:bmw-f30");
  g_autoptr(EwUdsClient) client = client_for (connection, "kombi");
  g_autoptr(GError) error = NULL;
  static const EwUdsDidSpec dids[] = { { 0xF190, 17 }, { 0xFD00, 16 } };
  g_autoptr(GPtrArray) records = ew_uds_client_read_dids (client, dids, G_N_ELEMENTS (dids),
                                                          NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (records->len, ==, 2);
  g_assert_cmpuint (g_bytes_get_size (g_ptr_array_index (records, 0)), ==, 17);
  g_assert_cmpmem (g_bytes_get_data (g_ptr_array_index (records, 1), NULL), 16,
                   EW_SIM_ECU_MARKER, 16);
}

/* One functional TesterPresent-style request reaches every module that
 * shares the functional address; each answers on its own response id. */
static void
test_bus_functional (void)
{
  g_autoptr(EwConnection) connection = open_sim ("sim:vw-golf-mk7");
  EwFamily *fam = ew_connection_get_family (connection);
  g_autoptr(GPtrArray) channels = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(EwChannel) functional = NULL;
  g_autoptr(EwUdsClient) client = NULL;
  g_autoptr(GPtrArray) answers = NULL;
  g_autoptr(GError) error = NULL;
  static const guint8 read_vin_request[] = { 0x22, 0xF1, 0x90 };

  for (guint i = 0; i < fam->modules->len; i++)
    {
      EwChannel *channel = ew_connection_open_channel (connection, g_ptr_array_index (fam->modules, i),
                                                       &error);
      g_assert_no_error (error);
      g_ptr_array_add (channels, channel);
    }
  functional = ew_connection_open_functional_channel (connection, g_ptr_array_index (fam->modules, 0),
                                                      &error);
  g_assert_no_error (error);
  client = ew_uds_client_new_functional (functional, "all modules",
                                         (EwChannel **) channels->pdata, channels->len);
  answers = ew_uds_client_request_functional (client, read_vin_request, sizeof read_vin_request,
                                              NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (answers->len, ==, fam->modules->len);
  for (guint i = 0; i < answers->len; i++)
    {
      EwUdsFunctionalResponse *r = g_ptr_array_index (answers, i);

      g_assert_cmpuint (((const guint8 *) g_bytes_get_data (r->response, NULL))[0], ==, 0x62);
    }
}

static char *
write_profile (const char *text)
{
  g_autoptr(GError) error = NULL;
  char *path = NULL;
  int fd = g_file_open_tmp ("ew-profile-XXXXXX.ini", &path, &error);

  g_assert_no_error (error);
  close (fd);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  return path;
}

/* An absent module is not on the bus at all: the tester times out. */
static void
test_bus_absent_module (void)
{
  g_autofree char *profile = write_profile ("[profile]\ndescription=No seat module\n"
                                            "[module:sm]\npresent=false\n");
  g_autofree char *uri = g_strdup_printf ("sim:bmw-f30?profile=%s", profile);
  g_autoptr(EwConnection) connection = open_sim (uri);
  g_autoptr(EwUdsClient) seat = client_for (connection, "sm");
  g_autoptr(EwUdsClient) kombi = client_for (connection, "kombi");
  g_autoptr(GError) error = NULL;
  g_autofree char *vin = read_vin (seat, &error);

  g_assert_null (vin);
  g_assert_error (error, EW_UDS_ERROR, EW_UDS_ERROR_TIMEOUT);
  g_assert_nonnull (strstr (error->message, "sm"));
  g_clear_error (&error);
  g_free (read_vin (kombi, &error));
  g_assert_no_error (error);
  g_unlink (profile);
}

/* drop=MODULE:1/2 loses every second request to that module only. */
static void
test_fault_drop (void)
{
  g_autoptr(EwConnection) connection = open_sim ("sim:vw-golf-mk7?faults=drop%3Dcluster:1/2");
  g_autoptr(EwUdsClient) cluster = client_for (connection, "cluster");
  g_autoptr(EwUdsClient) engine = client_for (connection, "engine");
  guint n_lost = 0;

  for (guint i = 0; i < 4; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *vin = read_vin (cluster, &error);

      if (vin == NULL)
        {
          g_assert_error (error, EW_UDS_ERROR, EW_UDS_ERROR_TIMEOUT);
          n_lost++;
        }
    }
  g_assert_cmpuint (n_lost, ==, 2);
  for (guint i = 0; i < 4; i++)
    {
      g_autoptr(GError) error = NULL;

      g_free (read_vin (engine, &error));
      g_assert_no_error (error);
    }
}

/* delay=MS holds each request before the module sees it. */
static void
test_fault_delay (void)
{
  g_autoptr(EwConnection) connection = open_sim ("sim:vw-golf-mk7?faults=delay%3D30");
  g_autoptr(EwUdsClient) engine = client_for (connection, "engine");
  g_autoptr(GError) error = NULL;
  gint64 start = g_get_monotonic_time ();
  g_autofree char *vin = read_vin (engine, &error);

  g_assert_no_error (error);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 30 * 1000);
}

/* link-drop=N: after N requests the car is gone from the link. */
static void
test_fault_link_drop_bus (void)
{
  g_autoptr(EwConnection) connection = open_sim ("sim:vw-golf-mk7?faults=link-drop%3D3");
  EwSimVehicle *vehicle = ew_connection_get_sim_vehicle (connection);
  g_autoptr(EwUdsClient) engine = client_for (connection, "engine");
  g_autoptr(EwUdsClient) gateway = client_for (connection, "gateway");
  g_autoptr(GError) error = NULL;

  g_free (read_vin (engine, &error));
  g_assert_no_error (error);
  g_free (read_vin (gateway, &error));
  g_assert_no_error (error);
  g_assert_false (ew_sim_vehicle_is_link_down (vehicle));
  g_assert_null (read_vin (engine, &error));
  g_assert_error (error, EW_UDS_ERROR, EW_UDS_ERROR_TIMEOUT);
  g_clear_error (&error);
  g_assert_true (ew_sim_vehicle_is_link_down (vehicle));
  g_assert_null (read_vin (gateway, &error));
  g_assert_error (error, EW_UDS_ERROR, EW_UDS_ERROR_TIMEOUT);
}

/* A module-level fault from the same spec: the NRC arrives on the wire. */
static void
test_fault_nrc_on_the_wire (void)
{
  g_autoptr(EwConnection) connection = open_sim ("sim:bmw-f30?faults=nrc%3Dkombi:0x22:0x22@2");
  g_autoptr(EwUdsClient) kombi = client_for (connection, "kombi");
  g_autoptr(GError) error = NULL;

  g_free (read_vin (kombi, &error));
  g_assert_no_error (error);
  g_assert_null (read_vin (kombi, &error));
  g_assert_error (error, EW_UDS_NRC_ERROR, 0x22);
}

static EwSimVehicle *
start_doip (const char *family_id, const char *faults_spec, guint16 *port)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EwSimProfile) profile = ew_sim_profile_new_default (family (family_id), NULL);
  g_autoptr(EwSimFaults) faults = ew_sim_faults_parse (faults_spec, &error);
  EwSimVehicle *vehicle;

  g_assert_no_error (error);
  vehicle = ew_sim_vehicle_new (family (family_id), profile, faults);
  g_assert_true (ew_sim_vehicle_start_doip (vehicle, "127.0.0.1", 0, FALSE, &error));
  g_assert_no_error (error);
  *port = ew_sim_vehicle_get_doip_port (vehicle);
  g_assert_cmpuint (*port, >, 0);
  return vehicle;
}

/* Behind DoIP the car announces its VIN; every module answers by its
 * logical address; the connection finds the family from the VIN. */
static void
test_doip_every_module (void)
{
  guint16 port;
  g_autoptr(EwSimVehicle) vehicle = start_doip ("mercedes-w205", NULL, &port);
  g_autofree char *uri = g_strdup_printf ("doip:127.0.0.1:%u", port);
  g_autoptr(EwConnection) connection = open_sim (uri);
  EwFamily *fam = ew_connection_get_family (connection);

  g_assert_nonnull (fam);
  g_assert_cmpstr (fam->id, ==, "mercedes-w205");
  g_assert_cmpstr (ew_connection_get_announced_vin (connection), ==, ew_sim_vehicle_get_vin (vehicle));
  for (guint i = 0; i < fam->modules->len; i++)
    {
      const EwModule *module = g_ptr_array_index (fam->modules, i);
      g_autoptr(EwUdsClient) client = client_for (connection, module->id);
      g_autoptr(GError) error = NULL;
      g_autofree char *vin = read_vin (client, &error);

      g_assert_no_error (error);
      g_assert_cmpstr (vin, ==, ew_sim_vehicle_get_vin (vehicle));
    }
}

/* The loopback-only rule: a non-loopback address needs allow_remote. */
static void
test_doip_loopback_only (void)
{
  g_autoptr(EwSimProfile) profile = ew_sim_profile_new_default (family ("vw-golf-mk7"), NULL);
  g_autoptr(EwSimVehicle) vehicle = ew_sim_vehicle_new (family ("vw-golf-mk7"), profile, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_false (ew_sim_vehicle_start_doip (vehicle, "0.0.0.0", 0, FALSE, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_assert_nonnull (strstr (error->message, "loopback"));
}

/* link-drop over DoIP closes the tester's TCP connection. */
static void
test_doip_link_drop (void)
{
  guint16 port;
  g_autoptr(EwSimVehicle) vehicle = start_doip ("vw-golf-mk7", "link-drop=2", &port);
  g_autofree char *uri = g_strdup_printf ("doip:127.0.0.1:%u", port);
  g_autoptr(EwConnection) connection = open_sim (uri);
  g_autoptr(EwUdsClient) engine = client_for (connection, "engine");
  g_autoptr(GError) error = NULL;

  g_free (read_vin (engine, &error));
  g_assert_no_error (error);
  g_assert_null (read_vin (engine, &error));
  g_assert_nonnull (error);
  g_test_message ("after the link drop: %s", error->message);
  g_assert_true (ew_sim_vehicle_is_link_down (vehicle));
}

static void
unlock_and_code (EwConnection *connection, const char *module_id, guint16 did, guint8 value)
{
  EwFamily *fam = ew_connection_get_family (connection);
  const EwModule *module = ew_family_find_module (fam, module_id);
  g_autoptr(EwUdsClient) client = client_for (connection, module_id);
  g_autoptr(EwSeedKeyProvider) toy = ew_seedkey_provider_new_toy ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) before = ew_uds_client_read_did (client, did, NULL, &error);
  g_autoptr(GByteArray) after = g_byte_array_new ();
  const EwSecurityLevel *level = NULL;

  g_assert_no_error (error);
  for (guint i = 0; i < module->security->len; i++)
    {
      const EwSecurityLevel *l = g_ptr_array_index (module->security, i);

      if (l->level == module->coding_security_level)
        level = l;
    }
  g_assert_nonnull (level);
  g_assert_true (ew_uds_client_diagnostic_session_control (client, module->coding_session, FALSE, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (ew_uds_client_security_access (client, level, toy, NULL, NULL, TRUE, NULL, &error));
  g_assert_no_error (error);
  g_byte_array_append (after, g_bytes_get_data (before, NULL), g_bytes_get_size (before));
  after->data[0] = value;
  g_assert_true (ew_uds_client_write_did (client, did, after->data, after->len, NULL, &error));
  g_assert_no_error (error);
}

/* --state: coding written to the car survives a restart of the simulator. */
static void
test_state_across_restart (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ew-sim-state-XXXXXX", NULL);
  g_autofree char *state = g_build_filename (dir, "car.state", NULL);
  g_autofree char *uri = g_strdup_printf ("sim:vw-golf-mk7?state=%s", state);
  const EwModule *module = ew_family_find_module (family ("vw-golf-mk7"), "central-electrics");
  const EwCodingDid *coding = g_ptr_array_index (module->coding, 0);
  g_autoptr(GError) error = NULL;

  {
    g_autoptr(EwConnection) connection = open_sim (uri);

    unlock_and_code (connection, "central-electrics", coding->did, 0x5A);
    ew_connection_close (connection);
  }
  g_assert_true (g_file_test (state, G_FILE_TEST_EXISTS));
  {
    g_autoptr(EwConnection) connection = open_sim (uri);
    g_autoptr(EwUdsClient) client = client_for (connection, "central-electrics");
    g_autoptr(GBytes) bytes = ew_uds_client_read_did (client, coding->did, NULL, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (((const guint8 *) g_bytes_get_data (bytes, NULL))[0], ==, 0x5A);
  }
  {
    /* without the state file the car starts from its profile again */
    g_autoptr(EwConnection) connection = open_sim ("sim:vw-golf-mk7");
    g_autoptr(EwUdsClient) client = client_for (connection, "central-electrics");
    g_autoptr(GBytes) bytes = ew_uds_client_read_did (client, coding->did, NULL, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (((const guint8 *) g_bytes_get_data (bytes, NULL))[0], !=, 0x5A);
  }
  ew_test_remove_tree (dir);
}

/* A state file of another family is refused, naming both. */
static void
test_state_wrong_family (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ew-sim-state-XXXXXX", NULL);
  g_autofree char *state = g_build_filename (dir, "car.state", NULL);
  g_autofree char *uri = g_strdup_printf ("sim:bmw-f30?state=%s", state);
  g_autoptr(GError) error = NULL;
  g_autoptr(EwConnection) connection = NULL;

  g_assert_true (g_file_set_contents (state, "[vehicle]\nfamily=vw-golf-mk7\n", -1, NULL));
  connection = ew_connection_open (uri, db, NULL, &error);
  g_assert_null (connection);
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "vw-golf-mk7"));
  ew_test_remove_tree (dir);
}

static void
test_bad_uris (void)
{
  static const struct { const char *uri; const char *needle; } cases[] = {
    { "sim:", "needs a vehicle family" },
    { "sim:no-such-car", "no vehicle family “no-such-car”" },
    { "sim:bmw-f30?colour=red", "unknown parameter “colour”" },
    { "sim:bmw-f30?profile=no-such-profile", "no-such-profile" },
    { "sim:bmw-f30?faults=drop%3Dkombi:150%25", "faults" },
    { "sim:bmw-f30?bitrate=fast", "bitrate" },
    { "sim:bmw-f30?profile", "KEY=VALUE" },
    { "carrier-pigeon:home", "unknown scheme" },
    { "nothing", "no scheme" },
    { "doip:[::1", "doip" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(EwConnection) connection = ew_connection_open (cases[i].uri, db, NULL, &error);

      g_assert_null (connection);
      g_assert_nonnull (error);
      g_test_message ("%s -> %s", cases[i].uri, error->message);
      if (strstr (error->message, cases[i].needle) == NULL)
        g_error ("“%s” does not mention “%s”", error->message, cases[i].needle);
    }
}

/* ---- a whole programming session over ISO-TP: every client service ---- */

#define APP_ADDRESS 0x800A0000u    /* the Golf engine's application region */
#define APP_LENGTH  (64 * 1024)
#define BLOCK_DATA  198            /* small blocks: the counter wraps */

typedef struct {
  EwConnection *connection;
  EwUdsClient  *client;
  const EwModule *module;
  GBytes       *image;
} Flash;

static void
flash_open (Flash *f, const char *uri)
{
  f->connection = open_sim (uri);
  f->client = client_for (f->connection, "engine");
  f->module = ew_family_find_module (ew_connection_get_family (f->connection), "engine");
  {
    g_autoptr(GBytes) header = ew_sim_app_header_build ("0777", "DEMO-ENG-0777");
    guint8 *image = g_malloc (APP_LENGTH);

    for (gsize i = 0; i < APP_LENGTH; i++)
      image[i] = (guint8) (i * 7 + (i >> 8));
    memcpy (image, g_bytes_get_data (header, NULL), g_bytes_get_size (header));
    f->image = g_bytes_new_take (image, APP_LENGTH);
  }
}

static void
flash_close (Flash *f)
{
  g_clear_object (&f->client);
  g_clear_object (&f->connection);
  g_clear_pointer (&f->image, g_bytes_unref);
}

static const EwSecurityLevel *
programming_level (const EwModule *module)
{
  for (guint i = 0; i < module->security->len; i++)
    {
      const EwSecurityLevel *l = g_ptr_array_index (module->security, i);

      if (l->purpose == EW_WORK_CLASS_PROGRAMMING)
        return l;
    }
  g_assert_not_reached ();
}

/* The programming sequence up to the erase. A module in its bootloader
 * offers only the programming session, so the preparation in the
 * extended session is skipped there. */
static void
flash_prepare (Flash *f, gboolean is_in_bootloader)
{
  g_autoptr(EwSeedKeyProvider) toy = ew_seedkey_provider_new_toy ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) preconditions = NULL;
  g_autoptr(GBytes) erased = NULL;
  guint8 erase_option[9] = { 0x44 };

  if (!is_in_bootloader)
    {
      g_assert_true (ew_uds_client_diagnostic_session_control (f->client, 0x03, FALSE, NULL, &error));
      g_assert_no_error (error);
      preconditions = ew_uds_client_routine_control (f->client, EW_UDS_ROUTINE_START, 0x0203,
                                                     NULL, 0, NULL, &error);
      g_assert_no_error (error);
      g_assert_true (ew_uds_client_control_dtc_setting (f->client, 0x02, FALSE, NULL, &error));
      g_assert_no_error (error);
      g_assert_true (ew_uds_client_communication_control (f->client, 0x03, 0x01, FALSE, NULL, &error));
      g_assert_no_error (error);
    }
  g_assert_true (ew_uds_client_diagnostic_session_control (f->client, 0x02, FALSE, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (ew_uds_client_security_access (f->client, programming_level (f->module), toy,
                                                NULL, NULL, TRUE, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (ew_uds_client_tester_present (f->client, FALSE, NULL, &error));
  g_assert_no_error (error);

  erase_option[1] = (guint8) (APP_ADDRESS >> 24);
  erase_option[2] = (guint8) (APP_ADDRESS >> 16);
  erase_option[3] = (guint8) (APP_ADDRESS >> 8);
  erase_option[4] = (guint8) APP_ADDRESS;
  erase_option[5] = 0x00;
  erase_option[6] = 0x36;   /* the region's 0x360000 bytes */
  erase_option[7] = 0x00;
  erase_option[8] = 0x00;
  /* erasing answers 0x78 first; the client waits with P2* */
  erased = ew_uds_client_routine_control (f->client, EW_UDS_ROUTINE_START, 0xFF00, erase_option,
                                          sizeof erase_option, NULL, &error);
  g_assert_no_error (error);
}

/* Downloads the image; returns the blocks sent, stopping at the first
 * failure (error set). */
static guint
flash_download (Flash *f, GError **error)
{
  const guint8 *data = g_bytes_get_data (f->image, NULL);
  guint32 max_block;
  guint8 counter = 1;
  guint n_blocks = 0;

  max_block = ew_uds_client_request_download (f->client, 0x00, APP_ADDRESS, 4, APP_LENGTH, 4,
                                              NULL, error);
  if (max_block == 0)
    return 0;
  g_assert_cmpuint (max_block, >=, BLOCK_DATA + 2);
  for (gsize offset = 0; offset < APP_LENGTH; offset += BLOCK_DATA)
    {
      gsize n = MIN (BLOCK_DATA, APP_LENGTH - offset);

      if (!ew_uds_client_transfer_data (f->client, counter, data + offset, n, NULL, error))
        return n_blocks;
      counter++;   /* wraps from 0xFF to 0x00, as ISO 14229-1 says */
      n_blocks++;
    }
  {
    g_autoptr(GBytes) exit = ew_uds_client_request_transfer_exit (f->client, NULL, error);

    if (exit == NULL)
      return n_blocks;
  }
  return n_blocks;
}

static guint8
check_memory (Flash *f)
{
  g_autoptr(GError) error = NULL;
  /* CRC-32 as zlib computes it: pre- and post-inverted */
  guint32 crc = ew_sim_crc32_update (0xFFFFFFFFu, g_bytes_get_data (f->image, NULL), APP_LENGTH)
                ^ 0xFFFFFFFFu;
  guint8 option[4] = { (guint8) (crc >> 24), (guint8) (crc >> 16), (guint8) (crc >> 8), (guint8) crc };
  g_autoptr(GBytes) status = ew_uds_client_routine_control (f->client, EW_UDS_ROUTINE_START, 0x0202,
                                                            option, sizeof option, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (status), >=, 1);
  return ((const guint8 *) g_bytes_get_data (status, NULL))[0];
}

static char *
read_software (Flash *f, GError **error)
{
  g_autoptr(GBytes) version = ew_uds_client_read_did (f->client, 0xF189, NULL, error);

  if (version == NULL)
    return NULL;
  return g_strstrip (g_strndup (g_bytes_get_data (version, NULL), g_bytes_get_size (version)));
}

static void
reset_and_wait (Flash *f)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (ew_uds_client_ecu_reset (f->client, 0x01, FALSE, NULL, NULL, &error));
  g_assert_no_error (error);
  /* a module in reset is silent for a moment */
  g_usleep (150 * 1000);
}

static void
test_programming_session (void)
{
  Flash f = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autoptr(GBytes) check = NULL;
  g_autoptr(GArray) dtcs = NULL;
  g_autoptr(GArray) supported = NULL;
  guint16 n_dtcs = 0xFFFF;
  guint n_blocks;

  flash_open (&f, "sim:vw-golf-mk7");
  before = read_software (&f, &error);
  g_assert_no_error (error);
  flash_prepare (&f, FALSE);
  n_blocks = flash_download (&f, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (n_blocks, >, 256);
  g_assert_cmpuint (check_memory (&f), ==, 0x00);
  check = ew_uds_client_routine_control (f.client, EW_UDS_ROUTINE_START, 0xFF01, NULL, 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (((const guint8 *) g_bytes_get_data (check, NULL))[0], ==, 0x00);
  reset_and_wait (&f);

  g_assert_true (ew_uds_client_diagnostic_session_control (f.client, 0x03, FALSE, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (ew_uds_client_communication_control (f.client, 0x00, 0x01, FALSE, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (ew_uds_client_control_dtc_setting (f.client, 0x01, FALSE, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (ew_uds_client_clear_diagnostic_information (f.client, 0xFFFFFF, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (ew_uds_client_read_dtc_count (f.client, 0xFF, NULL, NULL, &n_dtcs, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n_dtcs, ==, 0);
  dtcs = ew_uds_client_read_dtcs_by_status_mask (f.client, 0xFF, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (dtcs->len, ==, 0);
  supported = ew_uds_client_read_supported_dtcs (f.client, NULL, NULL, &error);
  g_assert_no_error (error);

  after = read_software (&f, &error);
  g_assert_no_error (error);
  g_test_message ("engine software %s -> %s in %u blocks", before, after, n_blocks);
  g_assert_cmpstr (after, ==, "0777");
  g_assert_cmpstr (before, !=, after);
  flash_close (&f);
}

/* The engine's flash is not readable (the data says so): 0x23 is refused
 * with an NRC, not answered with made-up bytes. */
static void
test_read_memory_refused (void)
{
  Flash f = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;

  flash_open (&f, "sim:vw-golf-mk7");
  bytes = ew_uds_client_read_memory (f.client, APP_ADDRESS, 4, 16, 1, NULL, &error);
  g_assert_null (bytes);
  g_assert_true (error->domain == EW_UDS_NRC_ERROR);
  g_test_message ("%s", error->message);
  flash_close (&f);
}

/* pending=MODULE:SID:N — a storm of 0x78 answers, then the answer. */
static void
test_fault_pending_storm (void)
{
  g_autoptr(EwConnection) connection = open_sim ("sim:vw-golf-mk7?faults=pending%3Dengine:0x22:20");
  g_autoptr(EwUdsClient) engine = client_for (connection, "engine");
  g_autoptr(GError) error = NULL;
  g_autofree char *vin = read_vin (engine, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (strlen (vin), ==, 17);
}

/* power-loss=MODULE:N — the module dies at block N, comes back in its
 * bootloader, and a second download recovers it. */
static void
test_fault_power_loss_and_recovery (void)
{
  Flash f = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *software = NULL;
  guint n_blocks;

  flash_open (&f, "sim:vw-golf-mk7?faults=power-loss%3Dengine:40:300");
  flash_prepare (&f, FALSE);
  n_blocks = flash_download (&f, &error);
  g_assert_cmpuint (n_blocks, ==, 39);
  g_assert_error (error, EW_UDS_ERROR, EW_UDS_ERROR_TIMEOUT);
  g_clear_error (&error);

  /* back from the power loss: only the bootloader answers */
  g_usleep (400 * 1000);
  software = read_software (&f, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (software, ==, "bootloader");
  g_assert_true (ew_sim_ecu_is_in_bootloader (ew_sim_vehicle_find_ecu (
                   ew_connection_get_sim_vehicle (f.connection), "engine")));
  g_clear_pointer (&software, g_free);

  /* recovery: the same sequence again, from the bootloader */
  g_clear_object (&f.client);
  f.client = client_for (f.connection, "engine");
  flash_prepare (&f, TRUE);
  n_blocks = flash_download (&f, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (check_memory (&f), ==, 0x00);
  g_bytes_unref (ew_uds_client_routine_control (f.client, EW_UDS_ROUTINE_START, 0xFF01, NULL, 0,
                                                NULL, &error));
  g_assert_no_error (error);
  reset_and_wait (&f);
  software = read_software (&f, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (software, ==, "0777");
  flash_close (&f);
}

/* A download over DoIP: the blocks reach the module's flash (check
 * memory agrees with the image, the reset module runs the new software),
 * whether the entity's thread or the module's worker handles them. */
static void
test_doip_download (void)
{
  guint16 port;
  g_autoptr(EwSimVehicle) vehicle = start_doip ("vw-golf-mk7", NULL, &port);
  g_autofree char *uri = g_strdup_printf ("doip:127.0.0.1:%u", port);
  g_autoptr(GError) error = NULL;
  g_autofree char *software = NULL;
  Flash f = { 0 };
  guint n_blocks;

  flash_open (&f, uri);
  software = read_software (&f, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (software, !=, "0777");
  g_clear_pointer (&software, g_free);
  flash_prepare (&f, FALSE);
  n_blocks = flash_download (&f, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (n_blocks, ==, (APP_LENGTH + BLOCK_DATA - 1) / BLOCK_DATA);
  g_assert_cmpuint (ew_sim_vehicle_get_n_requests (vehicle), >, n_blocks);
  g_assert_cmpuint (check_memory (&f), ==, 0x00);
  g_bytes_unref (ew_uds_client_routine_control (f.client, EW_UDS_ROUTINE_START, 0xFF01, NULL, 0,
                                                NULL, &error));
  g_assert_no_error (error);
  reset_and_wait (&f);
  software = read_software (&f, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (software, ==, "0777");
  flash_close (&f);
}

/* Reads one DoIP message from a blocking socket (bounded by its timeout). */
static EwDoipMessage *
doip_read (GSocket *socket, EwDoipStreamParser *parser)
{
  for (;;)
    {
      g_autoptr(GError) error = NULL;
      EwDoipMessage *m = ew_doip_stream_parser_next (parser, &error);
      guint8 buffer[4096];
      gssize n;

      g_assert_no_error (error);
      if (m != NULL)
        return m;
      n = g_socket_receive (socket, (char *) buffer, sizeof buffer, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (n, >, 0);
      ew_doip_stream_parser_push (parser, buffer, n);
    }
}

/* Requests that arrive together are answered in order, also when the
 * first goes to the module's worker and the next could be handled at
 * once on the entity's thread. */
static void
test_doip_order (void)
{
  static const guint8 requests[][3] = {
    { 0x10, 0x03 },          /* session control: the worker */
    { 0x3E, 0x00 },          /* tester present: at once when idle */
    { 0x22, 0xF1, 0x90 },    /* read the VIN: at once when idle */
  };
  static const gsize lengths[] = { 2, 2, 3 };
  static const guint8 answers[] = { 0x50, 0x7E, 0x62 };
  guint16 port;
  g_autoptr(EwSimVehicle) vehicle = start_doip ("vw-golf-mk7", NULL, &port);
  const EwModule *engine = ew_family_find_module (family ("vw-golf-mk7"), "engine");
  guint16 target = engine->addressing.doip_logical_address;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) to = g_inet_socket_address_new (loopback, port);
  g_autoptr(EwDoipStreamParser) parser = ew_doip_stream_parser_new (65536);
  g_autoptr(GByteArray) burst = g_byte_array_new ();
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GError) error = NULL;
  EwDoipRoutingActivationRequest activation = { .source_address = 0x0E80 };
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(EwDoipMessage) m = NULL;

  for (guint round = 0; round < 20; round++)
    {
      if (socket == NULL)
        {
          socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
          g_assert_no_error (error);
          g_socket_set_timeout (socket, 2);
          g_assert_true (g_socket_connect (socket, to, NULL, &error));
          g_assert_no_error (error);
          bytes = ew_doip_encode_routing_activation_request (2, &activation);
          g_assert_cmpint (g_socket_send (socket, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                                          NULL, &error), ==, (gssize) g_bytes_get_size (bytes));
          g_clear_pointer (&bytes, g_bytes_unref);
          m = doip_read (socket, parser);
          g_assert_cmpuint (m->payload_type, ==, EW_DOIP_ROUTING_ACTIVATION_RESPONSE);
          g_clear_pointer (&m, ew_doip_message_free);
        }

      /* all three in one write */
      g_byte_array_set_size (burst, 0);
      for (guint i = 0; i < G_N_ELEMENTS (requests); i++)
        {
          g_autoptr(GBytes) one = ew_doip_encode_diagnostic_message (2, 0x0E80, target, requests[i],
                                                                     lengths[i]);

          g_byte_array_append (burst, g_bytes_get_data (one, NULL), g_bytes_get_size (one));
        }
      g_assert_cmpint (g_socket_send (socket, (const char *) burst->data, burst->len, NULL, &error),
                       ==, (gssize) burst->len);
      g_assert_no_error (error);

      for (guint i = 0; i < G_N_ELEMENTS (answers); )
        {
          guint16 sa, ta;
          const guint8 *data;
          gsize n;

          m = doip_read (socket, parser);
          if (m->payload_type == EW_DOIP_DIAGNOSTIC_MESSAGE_ACK)
            {
              g_clear_pointer (&m, ew_doip_message_free);
              continue;
            }
          g_assert_cmpuint (m->payload_type, ==, EW_DOIP_DIAGNOSTIC_MESSAGE);
          g_assert_true (ew_doip_decode_diagnostic_message (m->payload, &sa, &ta, &data, &n, NULL));
          g_assert_cmpuint (sa, ==, target);
          g_assert_cmpuint (n, >=, 1);
          g_assert_cmphex (data[0], ==, answers[i]);
          g_clear_pointer (&m, ew_doip_message_free);
          i++;
        }
    }
  /* the module took them all */
  g_assert_cmpuint (ew_sim_ecu_get_session (ew_sim_vehicle_find_ecu (vehicle, "engine")), ==, 0x03);
}

/* bad-crc=MODULE — check memory reports the download corrupt. */
static void
test_fault_bad_crc (void)
{
  Flash f = { 0 };
  g_autoptr(GError) error = NULL;

  flash_open (&f, "sim:vw-golf-mk7?faults=bad-crc%3Dengine");
  flash_prepare (&f, FALSE);
  flash_download (&f, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (check_memory (&f), !=, 0x00);
  flash_close (&f);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);

  db = ew_vehicle_database_new (NULL);
  ew_vehicle_database_add_default_dirs (db, NULL);

  g_test_add_func ("/sim-vehicle/bus/every-module", test_bus_every_module);
  g_test_add_func ("/sim-vehicle/bus/multi-frame", test_bus_multi_frame);
  g_test_add_func ("/sim-vehicle/bus/functional", test_bus_functional);
  g_test_add_func ("/sim-vehicle/bus/shared-adapter", test_bus_shared_adapter);
  g_test_add_func ("/sim-vehicle/bus/absent-module", test_bus_absent_module);
  g_test_add_func ("/sim-vehicle/fault/drop", test_fault_drop);
  g_test_add_func ("/sim-vehicle/fault/delay", test_fault_delay);
  g_test_add_func ("/sim-vehicle/fault/link-drop-bus", test_fault_link_drop_bus);
  g_test_add_func ("/sim-vehicle/fault/nrc-on-the-wire", test_fault_nrc_on_the_wire);
  g_test_add_func ("/sim-vehicle/doip/every-module", test_doip_every_module);
  g_test_add_func ("/sim-vehicle/doip/loopback-only", test_doip_loopback_only);
  g_test_add_func ("/sim-vehicle/doip/link-drop", test_doip_link_drop);
  g_test_add_func ("/sim-vehicle/doip/download", test_doip_download);
  g_test_add_func ("/sim-vehicle/doip/order", test_doip_order);
  g_test_add_func ("/sim-vehicle/state/across-restart", test_state_across_restart);
  g_test_add_func ("/sim-vehicle/state/wrong-family", test_state_wrong_family);
  g_test_add_func ("/sim-vehicle/bad-uris", test_bad_uris);
  g_test_add_func ("/sim-vehicle/uds/programming-session", test_programming_session);
  g_test_add_func ("/sim-vehicle/uds/read-memory-refused", test_read_memory_refused);
  g_test_add_func ("/sim-vehicle/fault/pending-storm", test_fault_pending_storm);
  g_test_add_func ("/sim-vehicle/fault/power-loss-and-recovery", test_fault_power_loss_and_recovery);
  g_test_add_func ("/sim-vehicle/fault/bad-crc", test_fault_bad_crc);

  status = g_test_run ();
  ew_vehicle_database_free (db);
  return status;
}
