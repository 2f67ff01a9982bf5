/* connection.c — link URIs to per-module diagnostic channels. */
#include "connection.h"

#include <string.h>

#include "doip/doip-client.h"
#include "isotp/isotp-addressing.h"
#include "link/link-mux.h"
#include "link/sim-bus.h"
#include "sim/sim-vehicle.h"
#include "vehicle/vin-match.h"

G_DEFINE_QUARK (ew-connection-error-quark, ew_connection_error)

#define DOIP_TIMEOUT_MS 2000

typedef enum {
  LINK_SIM,
  LINK_DOIP,
  LINK_CAN,
} LinkKind;

struct _EwConnection {
  GObject       parent_instance;

  char         *uri;
  LinkKind      kind;
  EwFamily     *family;          /* nullable */
  char         *announced_vin;   /* nullable */

  /* sim: */
  EwSimBus     *bus;
  EwSimVehicle *vehicle;
  char         *state_path;      /* nullable: saved on close */

  /* doip: the client is replaced when the link is reconnected */
  GMutex        doip_lock;
  EwDoipClient *doip;
  char         *doip_host;
  guint16       doip_port;

  /* socketcan:, gsusb: the link URI without our own parameters, and the
   * one link every module's channel branches off */
  char         *can_uri;
  EwLinkMux    *can_mux;
  gboolean      is_closed;
};

G_DEFINE_FINAL_TYPE (EwConnection, ew_connection, G_TYPE_OBJECT)

static void
ew_connection_finalize (GObject *object)
{
  EwConnection *self = EW_CONNECTION (object);

  ew_connection_close (self);
  g_clear_pointer (&self->vehicle, ew_sim_vehicle_free);
  g_clear_pointer (&self->bus, ew_sim_bus_unref);
  g_clear_object (&self->doip);
  g_free (self->doip_host);
  g_mutex_clear (&self->doip_lock);
  g_clear_pointer (&self->can_mux, ew_link_mux_unref);
  g_clear_pointer (&self->family, ew_family_unref);
  g_free (self->announced_vin);
  g_free (self->state_path);
  g_free (self->can_uri);
  g_free (self->uri);

  G_OBJECT_CLASS (ew_connection_parent_class)->finalize (object);
}

static void
ew_connection_class_init (EwConnectionClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ew_connection_finalize;
}

static void
ew_connection_init (EwConnection *self)
{
  g_mutex_init (&self->doip_lock);
}

/* "a=1&b=2" into a table of unescaped strings. */
static GHashTable *
parse_query (const char *uri, const char *query, GError **error)
{
  g_autoptr(GHashTable) parameters = g_hash_table_new_full (g_str_hash, g_str_equal,
                                                            g_free, g_free);
  g_auto(GStrv) items = g_strsplit (query, "&", -1);

  for (guint i = 0; items[i] != NULL; i++)
    {
      const char *equals = strchr (items[i], '=');
      char *key;
      char *value;

      if (items[i][0] == '\0')
        continue;
      if (equals == NULL || equals == items[i])
        {
          g_set_error (error, EW_CONNECTION_ERROR, EW_CONNECTION_ERROR_BAD_URI,
                       "Link URI “%s”: “%s” is not a KEY=VALUE parameter", uri, items[i]);
          return NULL;
        }
      key = g_strndup (items[i], equals - items[i]);
      value = g_uri_unescape_string (equals + 1, NULL);
      if (value == NULL)
        {
          g_set_error (error, EW_CONNECTION_ERROR, EW_CONNECTION_ERROR_BAD_URI,
                       "Link URI “%s”: the value of “%s” is not properly escaped", uri, key);
          g_free (key);
          return NULL;
        }
      g_hash_table_replace (parameters, key, value);
    }
  return g_steal_pointer (&parameters);
}

static gboolean
check_known_parameters (const char  *uri,
                        GHashTable  *parameters,
                        const char  *const *known,
                        GError     **error)
{
  GHashTableIter iter;
  const char *key;

  g_hash_table_iter_init (&iter, parameters);
  while (g_hash_table_iter_next (&iter, (gpointer *) &key, NULL))
    if (!g_strv_contains (known, key))
      {
        g_autofree char *list = g_strjoinv (", ", (GStrv) known);

        g_set_error (error, EW_CONNECTION_ERROR, EW_CONNECTION_ERROR_BAD_URI,
                     "Link URI “%s”: unknown parameter “%s” (known: %s)", uri, key, list);
        return FALSE;
      }
  return TRUE;
}

static EwFamily *
find_family (EwVehicleDatabase *db, const char *uri, const char *family_id, GError **error)
{
  EwFamily *family = ew_vehicle_database_find_family (db, family_id);
  GPtrArray *families;
  g_autoptr(GString) known = NULL;

  if (family != NULL)
    return ew_family_ref (family);

  families = ew_vehicle_database_get_families (db);
  known = g_string_new (NULL);
  for (guint i = 0; i < families->len; i++)
    {
      EwFamily *f = g_ptr_array_index (families, i);

      g_string_append_printf (known, "%s%s", i > 0 ? ", " : "", f->id);
    }
  g_set_error (error, EW_CONNECTION_ERROR, EW_CONNECTION_ERROR_UNKNOWN_FAMILY,
               "Link URI “%s”: no vehicle family “%s” (known: %s)",
               uri, family_id, known->len > 0 ? known->str : "none");
  return NULL;
}

static gboolean
open_sim (EwConnection       *self,
          const char         *family_id,
          GHashTable         *parameters,
          EwVehicleDatabase  *db,
          GError            **error)
{
  static const char *const known[] = { "profile", "faults", "bitrate", "state", NULL };
  static gint bus_serial;
  g_autoptr(EwSimProfile) profile = NULL;
  g_autoptr(EwSimFaults) faults = NULL;
  g_autofree char *bus_name = NULL;
  const char *profile_name = g_hash_table_lookup (parameters, "profile");
  const char *bitrate = g_hash_table_lookup (parameters, "bitrate");
  guint64 bitrate_bps = 0;

  if (!check_known_parameters (self->uri, parameters, known, error))
    return FALSE;
  if (*family_id == '\0')
    {
      g_set_error (error, EW_CONNECTION_ERROR, EW_CONNECTION_ERROR_BAD_URI,
                   "Link URI “%s”: sim: needs a vehicle family, e.g. sim:bmw-f30", self->uri);
      return FALSE;
    }
  self->family = find_family (db, self->uri, family_id, error);
  if (self->family == NULL)
    return FALSE;

  if (profile_name != NULL)
    profile = ew_sim_profile_load (self->family, profile_name, error);
  else
    profile = ew_sim_profile_new_default (self->family, NULL);
  if (profile == NULL)
    {
      g_prefix_error (error, "Link URI “%s”: ", self->uri);
      return FALSE;
    }
  faults = ew_sim_faults_parse (g_hash_table_lookup (parameters, "faults"), error);
  if (faults == NULL)
    {
      g_prefix_error (error, "Link URI “%s”, faults: ", self->uri);
      return FALSE;
    }
  if (bitrate != NULL
      && (!g_ascii_string_to_unsigned (bitrate, 10, 10000, 1000000, &bitrate_bps, NULL)))
    {
      g_set_error (error, EW_CONNECTION_ERROR, EW_CONNECTION_ERROR_BAD_URI,
                   "Link URI “%s”: bitrate “%s” is not a number from 10000 to 1000000",
                   self->uri, bitrate);
      return FALSE;
    }

  /* a private bus per connection: two simulated cars never share wires */
  bus_name = g_strdup_printf ("%s#%d", family_id, g_atomic_int_add (&bus_serial, 1));
  self->bus = ew_sim_bus_get (bus_name);
  ew_sim_bus_set_bitrate (self->bus, (guint) bitrate_bps);
  self->vehicle = ew_sim_vehicle_new (self->family, profile, faults);
  self->state_path = g_strdup (g_hash_table_lookup (parameters, "state"));
  if (self->state_path != NULL && !ew_sim_vehicle_load_state (self->vehicle, self->state_path, error))
    return FALSE;
  return ew_sim_vehicle_start_bus (self->vehicle, self->bus, error);
}

/* A TCP connection to the entity with routing activated. transfer full */
static EwDoipClient *
connect_doip (const char *host, guint16 port, GCancellable *cancellable, GError **error)
{
  g_autoptr(EwDoipClient) client = ew_doip_client_new ();

  if (!ew_doip_client_connect (client, host, port, DOIP_TIMEOUT_MS, cancellable, error))
    return NULL;
  if (!ew_doip_client_activate_routing (client, 0x00, NULL, NULL, cancellable, error))
    return NULL;
  return g_steal_pointer (&client);
}

static gboolean
open_doip (EwConnection       *self,
           const char         *address,
           GHashTable         *parameters,
           EwVehicleDatabase  *db,
           GCancellable       *cancellable,
           GError            **error)
{
  static const char *const known[] = { "family", NULL };
  g_autofree char *doip_uri = g_strconcat ("doip:", address, NULL);
  g_autofree char *host = NULL;
  g_autoptr(GPtrArray) answers = NULL;
  const char *family_id = g_hash_table_lookup (parameters, "family");
  guint16 port;

  if (!check_known_parameters (self->uri, parameters, known, error))
    return FALSE;
  if (!ew_doip_parse_uri (doip_uri, &host, &port, error))
    return FALSE;
  if (family_id != NULL && (self->family = find_family (db, self->uri, family_id, error)) == NULL)
    return FALSE;

  /* vehicle identification tells the VIN, and with it the family; an
   * entity that does not answer over UDP may still take TCP */
  answers = ew_doip_identify_vehicles (host, port, 0xFF, NULL, NULL, DOIP_TIMEOUT_MS,
                                      cancellable, NULL);
  if (answers != NULL && answers->len > 0)
    {
      EwDoipVehicleAnnouncement *a = g_ptr_array_index (answers, 0);

      if (a->vin[0] != '\0')
        self->announced_vin = g_strdup (a->vin);
    }

  self->doip = connect_doip (host, port, cancellable, error);
  if (self->doip == NULL)
    return FALSE;
  self->doip_host = g_steal_pointer (&host);
  self->doip_port = port;

  if (self->family == NULL && self->announced_vin != NULL)
    {
      g_autoptr(EwVin) vin = ew_vin_decode (self->announced_vin, NULL, FALSE, NULL);
      g_autoptr(GPtrArray) candidates = vin != NULL ? ew_vin_match_families (vin, db) : NULL;

      if (candidates != NULL && candidates->len > 0)
        self->family = ew_family_ref (((EwVinCandidate *) g_ptr_array_index (candidates, 0))->family);
    }
  return TRUE;
}

static gboolean
open_can (EwConnection       *self,
          const char         *base_uri,
          GHashTable         *parameters,
          EwVehicleDatabase  *db,
          GError            **error)
{
  g_autoptr(GString) rest = g_string_new (base_uri);
  g_autoptr(EwLink) trunk = NULL;
  const char *family_id = g_hash_table_lookup (parameters, "family");
  GHashTableIter iter;
  const char *key, *value;
  gboolean first = TRUE;

  if (family_id != NULL && (self->family = find_family (db, self->uri, family_id, error)) == NULL)
    return FALSE;
  /* the link's own parameters (gsusb: bitrate=…) pass through */
  g_hash_table_iter_init (&iter, parameters);
  while (g_hash_table_iter_next (&iter, (gpointer *) &key, (gpointer *) &value))
    {
      g_autofree char *escaped = NULL;

      if (g_str_equal (key, "family"))
        continue;
      escaped = g_uri_escape_string (value, NULL, TRUE);
      g_string_append_printf (rest, "%c%s=%s", first ? '?' : '&', key, escaped);
      first = FALSE;
    }
  self->can_uri = g_string_free (g_steal_pointer (&rest), FALSE);

  /* opened once, now: a missing interface or adapter is reported when
   * connecting, and one adapter serves every module's channel */
  trunk = ew_link_open (self->can_uri, error);
  if (trunk == NULL)
    return FALSE;
  self->can_mux = ew_link_mux_new (trunk);
  return TRUE;
}

EwConnection *
ew_connection_open (const char         *uri,
                    EwVehicleDatabase  *db,
                    GCancellable       *cancellable,
                    GError            **error)
{
  g_autoptr(EwConnection) self = NULL;
  g_autoptr(GHashTable) parameters = NULL;
  g_autofree char *scheme = NULL;
  g_autofree char *body = NULL;
  const char *colon;
  const char *question;
  gboolean ok;

  g_return_val_if_fail (db != NULL, NULL);

  if (uri == NULL || (colon = strchr (uri, ':')) == NULL || colon == uri)
    {
      g_set_error (error, EW_CONNECTION_ERROR, EW_CONNECTION_ERROR_BAD_URI,
                   "Link URI “%s” has no scheme; use sim:FAMILY, doip:HOST[:PORT], "
                   "socketcan:IFACE or gsusb:[VID:PID][@SERIAL]", uri != NULL ? uri : "");
      return NULL;
    }

  self = g_object_new (EW_TYPE_CONNECTION, NULL);
  self->uri = g_strdup (uri);
  scheme = g_ascii_strdown (uri, colon - uri);
  question = strchr (colon + 1, '?');
  body = question != NULL ? g_strndup (colon + 1, question - colon - 1) : g_strdup (colon + 1);
  parameters = parse_query (uri, question != NULL ? question + 1 : "", error);
  if (parameters == NULL)
    return NULL;

  if (g_str_equal (scheme, "sim"))
    {
      self->kind = LINK_SIM;
      ok = open_sim (self, body, parameters, db, error);
    }
  else if (g_str_equal (scheme, "doip"))
    {
      self->kind = LINK_DOIP;
      ok = open_doip (self, body, parameters, db, cancellable, error);
    }
  else if (g_str_equal (scheme, "socketcan") || g_str_equal (scheme, "gsusb"))
    {
      g_autofree char *base = g_strndup (uri, (question != NULL ? question : uri + strlen (uri)) - uri);

      self->kind = LINK_CAN;
      ok = open_can (self, base, parameters, db, error);
    }
  else
    {
      g_set_error (error, EW_CONNECTION_ERROR, EW_CONNECTION_ERROR_BAD_URI,
                   "Link URI “%s”: unknown scheme “%s”; use sim:, doip:, socketcan: or gsusb:",
                   uri, scheme);
      ok = FALSE;
    }
  return ok ? g_steal_pointer (&self) : NULL;
}

const char *
ew_connection_get_uri (EwConnection *self)
{
  return self->uri;
}

EwFamily *
ew_connection_get_family (EwConnection *self)
{
  return self->family;
}

void
ew_connection_set_family (EwConnection *self,
                          EwFamily     *family)
{
  if (family != NULL)
    ew_family_ref (family);
  g_clear_pointer (&self->family, ew_family_unref);
  self->family = family;
}

const char *
ew_connection_get_announced_vin (EwConnection *self)
{
  return self->announced_vin;
}

EwSimVehicle *
ew_connection_get_sim_vehicle (EwConnection *self)
{
  return self->vehicle;
}

static EwLink *
open_node (EwConnection *self, GError **error)
{
  if (self->kind == LINK_SIM)
    return EW_LINK (ew_sim_link_new (self->bus));
  return ew_link_mux_open_branch (self->can_mux);
}

static gboolean
check_open (EwConnection *self, GError **error)
{
  if (!self->is_closed)
    return TRUE;
  g_set_error (error, EW_CHANNEL_ERROR, EW_CHANNEL_ERROR_CLOSED,
               "The connection %s is closed", self->uri);
  return FALSE;
}

EwChannel *
ew_connection_open_channel (EwConnection    *self,
                            const EwModule  *module,
                            GError         **error)
{
  g_autoptr(EwLink) link = NULL;
  EwIsotpConfig config;

  g_return_val_if_fail (EW_IS_CONNECTION (self), NULL);
  g_return_val_if_fail (module != NULL, NULL);

  if (!check_open (self, error))
    return NULL;
  if (self->kind == LINK_DOIP)
    {
      if (!module->addressing.has_doip)
        {
          g_set_error (error, EW_CONNECTION_ERROR, EW_CONNECTION_ERROR_NO_ADDRESS,
                       "%s (%s) has no DoIP logical address in the vehicle data",
                       module->name, module->id);
          return NULL;
        }
      g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->doip_lock);

      return EW_CHANNEL (ew_doip_channel_new (self->doip, module->addressing.doip_logical_address));
    }

  if (!module->addressing.has_can)
    {
      g_set_error (error, EW_CONNECTION_ERROR, EW_CONNECTION_ERROR_NO_ADDRESS,
                   "%s (%s) has no CAN address in the vehicle data", module->name, module->id);
      return NULL;
    }
  if (!ew_isotp_config_for_module (module, EW_ISOTP_ROLE_TESTER, &config, error))
    return NULL;
  link = open_node (self, error);
  if (link == NULL)
    return NULL;
  return (EwChannel *) ew_isotp_channel_new (link, &config, error);
}

EwChannel *
ew_connection_open_functional_channel (EwConnection    *self,
                                       const EwModule  *module,
                                       GError         **error)
{
  g_autoptr(EwLink) link = NULL;
  EwIsotpConfig config;

  g_return_val_if_fail (EW_IS_CONNECTION (self), NULL);

  if (!check_open (self, error))
    return NULL;
  if (self->kind == LINK_DOIP)
    {
      g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->doip_lock);

      /* ISO 13400-2: 0xE400 addresses every ECU behind the entity */
      return EW_CHANNEL (ew_doip_channel_new (self->doip, 0xE400));
    }

  if (!ew_isotp_functional_config_for_module (module, EW_ISOTP_ROLE_TESTER, &config, error))
    return NULL;
  link = open_node (self, error);
  if (link == NULL)
    return NULL;
  return (EwChannel *) ew_isotp_channel_new (link, &config, error);
}

gboolean
ew_connection_reconnect (EwConnection  *self,
                         GCancellable  *cancellable,
                         GError       **error)
{
  g_autoptr(EwDoipClient) client = NULL;
  g_autoptr(EwDoipClient) old = NULL;

  g_return_val_if_fail (EW_IS_CONNECTION (self), FALSE);

  if (!check_open (self, error))
    return FALSE;
  /* the simulated bus and CAN links have no connection of their own */
  if (self->kind != LINK_DOIP)
    return TRUE;
  client = connect_doip (self->doip_host, self->doip_port, cancellable, error);
  if (client == NULL)
    {
      g_prefix_error (error, "Link %s cannot be connected again: ", self->uri);
      return FALSE;
    }
  g_mutex_lock (&self->doip_lock);
  old = g_steal_pointer (&self->doip);
  self->doip = g_steal_pointer (&client);
  g_mutex_unlock (&self->doip_lock);
  ew_doip_client_close (old);
  return TRUE;
}

void
ew_connection_close (EwConnection *self)
{
  g_return_if_fail (EW_IS_CONNECTION (self));

  if (self->is_closed)
    return;
  self->is_closed = TRUE;
  if (self->doip != NULL)
    ew_doip_client_close (self->doip);
  if (self->can_mux != NULL)
    ew_link_close (ew_link_mux_get_trunk (self->can_mux));
  if (self->vehicle != NULL)
    {
      g_autoptr(GError) error = NULL;

      ew_sim_vehicle_stop (self->vehicle);
      if (self->state_path != NULL
          && !ew_sim_vehicle_save_state (self->vehicle, self->state_path, &error))
        g_warning ("%s", error->message);
    }
}
