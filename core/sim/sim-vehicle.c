/* sim-vehicle.c — simulated ECUs on the simulated bus and behind DoIP. */
#include "sim-vehicle.h"

#include <glib/gstdio.h>

#include "doip/doip-server.h"
#include "isotp/isotp-addressing.h"

/* ISO 13400-2 functional logical address for "all ECUs" (0xE400–0xE3FF is
 * the OEM range; 0xE400 is the common default). */
#define FUNCTIONAL_DOIP_ADDRESS 0xE400
#define TICK_MS 100
/* maxNumberOfBlockLength a module announces when reached over DoIP: no
 * ISO-TP frame limit there, as Ethernet-connected modules announce 0xFFFF */
#define DOIP_MAX_BLOCK_LENGTH 0xFFFF

typedef struct _SimNode SimNode;

/* One request on its way to a module, with where its answers go. */
typedef struct {
  GBytes          *request;
  gboolean         is_functional;
  /* exactly one of these */
  SimNode         *reply_node;      /* answer on the node's ISO-TP channel */
  EwDoipResponder *responder;       /* answer through DoIP */
} SimRequest;

struct _SimNode {
  EwSimVehicle   *vehicle;
  const EwModule *module;
  EwSimEcu       *ecu;
  GMutex          ecu_lock;         /* held while the ECU works */
  GAsyncQueue    *requests;         /* SimRequest */
  gint            n_queued;         /* atomic: posted, not yet handled */
  GThread        *worker;
  /* on the simulated bus */
  EwSimLink      *link;
  EwIsotpChannel *channel;
  GThread        *receiver;
};

/* A listener for functional single frames, shared by the modules that are
 * addressed alike. */
typedef struct {
  EwSimVehicle   *vehicle;
  EwSimLink      *link;
  EwIsotpChannel *channel;
  GPtrArray      *nodes;            /* SimNode, transfer none */
  GThread        *receiver;
} SimFunctional;

struct _EwSimVehicle {
  EwFamily     *family;
  EwSimProfile *profile;
  EwSimFaults  *faults;
  GPtrArray    *nodes;              /* SimNode */
  GPtrArray    *functionals;        /* SimFunctional */
  EwDoipServer *doip;
  gint          is_stopping;        /* atomic */
  gint          is_link_down;       /* atomic */
  gint          has_dropped;        /* atomic: the link-drop fault happened */
  gint64        link_up_at_us;      /* set before is_link_down; 0: down for good */
  guint         n_requests;         /* atomic */
};

static const SimRequest stop_marker;

static void
sim_request_free (SimRequest *request)
{
  if (request == &stop_marker)
    return;
  g_bytes_unref (request->request);
  g_clear_pointer (&request->responder, ew_doip_responder_unref);
  g_free (request);
}

/* Down after a link-drop fault; one with a duration comes back by itself
 * once that time has passed (the tester must connect again over DoIP). */
static gboolean
link_is_down (EwSimVehicle *vehicle)
{
  if (!g_atomic_int_get (&vehicle->is_link_down))
    return FALSE;
  if (vehicle->link_up_at_us > 0 && g_get_monotonic_time () >= vehicle->link_up_at_us)
    {
      g_atomic_int_set (&vehicle->is_link_down, FALSE);
      return FALSE;
    }
  return TRUE;
}

static void
respond (const guint8 *response, gsize length_bytes, gpointer user_data)
{
  SimRequest *request = user_data;
  g_autoptr(GError) error = NULL;

  if (link_is_down (request->reply_node->vehicle))
    return;
  if (request->responder != NULL)
    {
      if (!ew_doip_responder_send (request->responder, response, length_bytes, &error))
        g_debug ("simulated %s: answer lost: %s", request->reply_node->module->id, error->message);
    }
  else if (request->reply_node->channel != NULL)
    {
      if (!ew_isotp_channel_send (request->reply_node->channel, response, length_bytes, NULL, &error))
        g_debug ("simulated %s: answer lost: %s", request->reply_node->module->id, error->message);
    }
}

/* Frame- and link-level faults; TRUE when the request goes on to the ECU. */
static gboolean
passes_faults (SimNode *node)
{
  EwSimVehicle *vehicle = node->vehicle;
  guint n;
  guint delay_ms;

  if (link_is_down (vehicle))
    return FALSE;
  n = (guint) g_atomic_int_add (&vehicle->n_requests, 1) + 1;
  if (ew_sim_faults_link_drop_due (vehicle->faults, n)
      && g_atomic_int_compare_and_exchange (&vehicle->has_dropped, FALSE, TRUE))
    {
      guint down_ms = ew_sim_faults_get_link_down_ms (vehicle->faults);

      vehicle->link_up_at_us = down_ms > 0 ? g_get_monotonic_time () + (gint64) down_ms * 1000 : 0;
      g_atomic_int_set (&vehicle->is_link_down, TRUE);
      if (vehicle->doip != NULL)
        ew_doip_server_drop_connections (vehicle->doip);
      return FALSE;
    }
  if (ew_sim_faults_should_drop_frame (vehicle->faults, node->module->id))
    return FALSE;
  delay_ms = ew_sim_faults_get_delay_ms (vehicle->faults, node->module->id);
  if (delay_ms > 0)
    g_usleep ((gulong) delay_ms * 1000);
  return TRUE;
}

static gpointer
worker_thread (gpointer data)
{
  SimNode *node = data;

  for (;;)
    {
      SimRequest *request = g_async_queue_timeout_pop (node->requests, TICK_MS * 1000);

      if (request == &stop_marker)
        break;

      g_mutex_lock (&node->ecu_lock);
      if (request != NULL && passes_faults (node))
        {
          gsize length;
          const guint8 *bytes = g_bytes_get_data (request->request, &length);

          ew_sim_ecu_set_max_block_length (node->ecu, request->responder != NULL ? DOIP_MAX_BLOCK_LENGTH : 0);
          ew_sim_ecu_handle_request (node->ecu, bytes, length, request->is_functional,
                                     respond, request);
        }
      ew_sim_ecu_tick (node->ecu, g_get_monotonic_time ());
      if (request != NULL)
        g_atomic_int_add (&node->n_queued, -1);
      g_mutex_unlock (&node->ecu_lock);

      if (request != NULL)
        sim_request_free (request);
    }
  return NULL;
}

static void
node_post (SimNode *node, GBytes *request, gboolean is_functional, EwDoipResponder *responder)
{
  SimRequest *r = g_new0 (SimRequest, 1);

  r->request = g_bytes_ref (request);
  r->is_functional = is_functional;
  r->reply_node = node;
  r->responder = responder != NULL ? ew_doip_responder_ref (responder) : NULL;
  g_atomic_int_inc (&node->n_queued);
  g_async_queue_push (node->requests, r);
}

/* Services the simulated ECU answers without modelled processing time
 * (only erase and injected pending answers sleep). */
static gboolean
is_quick_service (guint8 sid)
{
  switch (sid)
    {
    case 0x22:   /* ReadDataByIdentifier */
    case 0x34:   /* RequestDownload */
    case 0x36:   /* TransferData */
    case 0x37:   /* RequestTransferExit */
    case 0x3E:   /* TesterPresent */
      return TRUE;
    default:
      return FALSE;
    }
}

/* A physical DoIP request the module can answer at once is handled on the
 * DoIP entity's thread, when the module is idle: a hand-off to its worker
 * and back costs two thread wake-ups per request, most of a TransferData
 * block's time on loopback. Faults keep the worker path, where they may
 * sleep. Returns FALSE when the request must be posted. */
static gboolean
node_handle_now (SimNode *node, GBytes *request, EwDoipResponder *responder)
{
  SimRequest r = { 0 };
  gsize length;
  const guint8 *bytes = g_bytes_get_data (request, &length);

  if (length == 0 || !is_quick_service (bytes[0]) || !ew_sim_faults_is_empty (node->vehicle->faults))
    return FALSE;
  if (!g_mutex_trylock (&node->ecu_lock))
    return FALSE;
  /* an earlier request still queued goes first */
  if (g_atomic_int_get (&node->n_queued) > 0)
    {
      g_mutex_unlock (&node->ecu_lock);
      return FALSE;
    }
  r.request = request;
  r.reply_node = node;
  r.responder = responder;
  if (passes_faults (node))
    {
      ew_sim_ecu_set_max_block_length (node->ecu, DOIP_MAX_BLOCK_LENGTH);
      ew_sim_ecu_handle_request (node->ecu, bytes, length, FALSE, respond, &r);
    }
  g_mutex_unlock (&node->ecu_lock);
  return TRUE;
}

static gpointer
bus_receiver_thread (gpointer data)
{
  SimNode *node = data;

  while (!g_atomic_int_get (&node->vehicle->is_stopping))
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) request = ew_isotp_channel_receive (node->channel, TICK_MS * 2, NULL, &error);

      if (request != NULL)
        node_post (node, request, FALSE, NULL);
      else if (g_error_matches (error, EW_CHANNEL_ERROR, EW_CHANNEL_ERROR_CLOSED))
        break;
    }
  return NULL;
}

static gpointer
functional_receiver_thread (gpointer data)
{
  SimFunctional *functional = data;

  while (!g_atomic_int_get (&functional->vehicle->is_stopping))
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) request = ew_isotp_channel_receive (functional->channel, TICK_MS * 2,
                                                            NULL, &error);

      if (request != NULL)
        {
          for (guint i = 0; i < functional->nodes->len; i++)
            node_post (g_ptr_array_index (functional->nodes, i), request, TRUE, NULL);
        }
      else if (g_error_matches (error, EW_CHANNEL_ERROR, EW_CHANNEL_ERROR_CLOSED))
        break;
    }
  return NULL;
}

static void
sim_node_free (SimNode *node)
{
  g_assert (node->worker == NULL && node->receiver == NULL);
  g_clear_object (&node->channel);
  g_clear_object (&node->link);
  g_async_queue_unref (node->requests);
  ew_sim_ecu_free (node->ecu);
  g_mutex_clear (&node->ecu_lock);
  g_free (node);
}

static void
sim_functional_free (SimFunctional *functional)
{
  g_assert (functional->receiver == NULL);
  g_clear_object (&functional->channel);
  g_clear_object (&functional->link);
  g_ptr_array_unref (functional->nodes);
  g_free (functional);
}

EwSimVehicle *
ew_sim_vehicle_new (EwFamily     *family,
                    EwSimProfile *profile,
                    EwSimFaults  *faults)
{
  EwSimVehicle *self = g_new0 (EwSimVehicle, 1);

  self->family = ew_family_ref (family);
  self->profile = ew_sim_profile_ref (profile);
  self->faults = faults != NULL ? ew_sim_faults_ref (faults) : ew_sim_faults_parse (NULL, NULL);
  self->nodes = g_ptr_array_new_with_free_func ((GDestroyNotify) sim_node_free);
  self->functionals = g_ptr_array_new_with_free_func ((GDestroyNotify) sim_functional_free);

  for (guint i = 0; i < family->modules->len; i++)
    {
      SimNode *node = g_new0 (SimNode, 1);

      node->vehicle = self;
      node->module = g_ptr_array_index (family->modules, i);
      node->ecu = ew_sim_ecu_new (family, node->module, profile, self->faults);
      g_mutex_init (&node->ecu_lock);
      node->requests = g_async_queue_new_full ((GDestroyNotify) sim_request_free);
      node->worker = g_thread_new ("sim-ecu", worker_thread, node);
      g_ptr_array_add (self->nodes, node);
    }
  return self;
}

static SimFunctional *
find_functional (EwSimVehicle *self, const EwIsotpConfig *config)
{
  for (guint i = 0; i < self->functionals->len; i++)
    {
      SimFunctional *f = g_ptr_array_index (self->functionals, i);
      const EwIsotpConfig *c = ew_isotp_channel_get_config (f->channel);

      if (c->rx_id == config->rx_id && c->is_extended_id == config->is_extended_id
          && c->addressing == config->addressing && c->rx_address == config->rx_address)
        return f;
    }
  return NULL;
}

gboolean
ew_sim_vehicle_start_bus (EwSimVehicle  *self,
                          EwSimBus      *bus,
                          GError       **error)
{
  g_return_val_if_fail (self != NULL && bus != NULL, FALSE);

  for (guint i = 0; i < self->nodes->len; i++)
    {
      SimNode *node = g_ptr_array_index (self->nodes, i);
      EwIsotpConfig config;
      EwIsotpConfig functional_config;
      SimFunctional *functional;

      if (node->channel != NULL)
        continue;
      /* an absent module has no node on the bus at all */
      if (!node->module->addressing.has_can || !ew_sim_ecu_is_present (node->ecu))
        continue;
      if (!ew_isotp_config_for_module (node->module, EW_ISOTP_ROLE_MODULE, &config, error))
        return FALSE;
      node->link = ew_sim_link_new (bus);
      node->channel = ew_isotp_channel_new (EW_LINK (node->link), &config, error);
      if (node->channel == NULL)
        return FALSE;
      node->receiver = g_thread_new ("sim-ecu-rx", bus_receiver_thread, node);

      if (!ew_isotp_functional_config_for_module (node->module, EW_ISOTP_ROLE_MODULE,
                                                  &functional_config, error))
        return FALSE;
      functional = find_functional (self, &functional_config);
      if (functional == NULL)
        {
          g_autoptr(EwSimLink) link = ew_sim_link_new (bus);
          EwIsotpChannel *channel = ew_isotp_channel_new (EW_LINK (link), &functional_config, error);

          if (channel == NULL)
            return FALSE;
          functional = g_new0 (SimFunctional, 1);
          functional->vehicle = self;
          functional->link = g_steal_pointer (&link);
          functional->channel = channel;
          functional->nodes = g_ptr_array_new ();
          g_ptr_array_add (self->functionals, functional);
        }
      g_ptr_array_add (functional->nodes, node);
    }

  for (guint i = 0; i < self->functionals->len; i++)
    {
      SimFunctional *f = g_ptr_array_index (self->functionals, i);

      if (f->receiver == NULL)
        f->receiver = g_thread_new ("sim-functional-rx", functional_receiver_thread, f);
    }
  return TRUE;
}

static SimNode *
find_node_by_doip_address (EwSimVehicle *self, guint16 address)
{
  for (guint i = 0; i < self->nodes->len; i++)
    {
      SimNode *node = g_ptr_array_index (self->nodes, i);

      if (node->module->addressing.has_doip
          && node->module->addressing.doip_logical_address == address)
        return node;
    }
  return NULL;
}

static void
on_doip_request (EwDoipServer    *server,
                 guint16          tester_address,
                 guint16          target_address,
                 GBytes          *request,
                 EwDoipResponder *responder,
                 gpointer         user_data)
{
  EwSimVehicle *self = user_data;
  SimNode *node;

  if (target_address == FUNCTIONAL_DOIP_ADDRESS)
    {
      for (guint i = 0; i < self->nodes->len; i++)
        {
          node = g_ptr_array_index (self->nodes, i);
          if (node->module->addressing.has_doip && ew_sim_ecu_is_present (node->ecu))
            node_post (node, request, TRUE, responder);
        }
      return;
    }

  node = find_node_by_doip_address (self, target_address);
  /* absent modules are registered too, so the tester sees silence (a
   * timeout) as from a real gateway, not a DoIP NACK */
  if (node != NULL && ew_sim_ecu_is_present (node->ecu) && !node_handle_now (node, request, responder))
    node_post (node, request, FALSE, responder);
}

/* The gateway's logical address: the gateway module's, else the first. */
static guint16
gateway_address (EwSimVehicle *self)
{
  guint16 first = 0;

  for (guint i = 0; i < self->nodes->len; i++)
    {
      SimNode *node = g_ptr_array_index (self->nodes, i);

      if (!node->module->addressing.has_doip)
        continue;
      if (node->module->kind == EW_MODULE_GATEWAY)
        return node->module->addressing.doip_logical_address;
      if (first == 0)
        first = node->module->addressing.doip_logical_address;
    }
  return first != 0 ? first : 0x1000;
}

static gboolean
is_loopback (const char *address)
{
  g_autoptr(GInetAddress) inet = g_inet_address_new_from_string (address);

  return inet != NULL && g_inet_address_get_is_loopback (inet);
}

gboolean
ew_sim_vehicle_start_doip (EwSimVehicle  *self,
                           const char    *address,
                           guint16        port,
                           gboolean       allow_remote,
                           GError       **error)
{
  g_autoptr(EwDoipServer) server = NULL;
  guint8 eid[6];
  guint n_targets = 0;

  g_return_val_if_fail (self != NULL && address != NULL, FALSE);
  g_return_val_if_fail (self->doip == NULL, FALSE);

  if (!allow_remote && !is_loopback (address))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   "the simulated car listens on loopback only; %s is not a loopback address",
                   address);
      return FALSE;
    }

  server = ew_doip_server_new ();
  ew_doip_server_set_address (server, address, port);
  ew_doip_server_set_vin (server, ew_sim_vehicle_get_vin (self));
  /* a locally administered MAC-like entity id, stable per VIN */
  {
    guint hash = g_str_hash (ew_sim_vehicle_get_vin (self));

    eid[0] = 0x02;
    eid[1] = 0x45;
    eid[2] = (guint8) (hash >> 24);
    eid[3] = (guint8) (hash >> 16);
    eid[4] = (guint8) (hash >> 8);
    eid[5] = (guint8) hash;
  }
  ew_doip_server_set_eid (server, eid);
  ew_doip_server_set_gid (server, eid);
  ew_doip_server_set_logical_address (server, gateway_address (self));
  for (guint i = 0; i < self->nodes->len; i++)
    {
      SimNode *node = g_ptr_array_index (self->nodes, i);

      if (node->module->addressing.has_doip)
        {
          ew_doip_server_add_target_address (server, node->module->addressing.doip_logical_address);
          n_targets++;
        }
    }
  if (n_targets == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "no module of %s has a DoIP logical address in the vehicle data",
                   self->family->id);
      return FALSE;
    }
  ew_doip_server_add_target_address (server, FUNCTIONAL_DOIP_ADDRESS);
  ew_doip_server_set_handler (server, on_doip_request, self, NULL);
  /* a whole TransferData block of DOIP_MAX_BLOCK_LENGTH and its addresses */
  ew_doip_server_set_max_data_size (server, DOIP_MAX_BLOCK_LENGTH + 4);
  if (!ew_doip_server_start (server, error))
    return FALSE;
  self->doip = g_steal_pointer (&server);
  return TRUE;
}

guint16
ew_sim_vehicle_get_doip_port (EwSimVehicle *self)
{
  return self->doip != NULL ? ew_doip_server_get_port (self->doip) : 0;
}

void
ew_sim_vehicle_stop (EwSimVehicle *self)
{
  g_return_if_fail (self != NULL);

  g_atomic_int_set (&self->is_stopping, TRUE);
  if (self->doip != NULL)
    ew_doip_server_stop (self->doip);

  for (guint i = 0; i < self->functionals->len; i++)
    {
      SimFunctional *f = g_ptr_array_index (self->functionals, i);

      ew_isotp_channel_close (f->channel);
      g_clear_pointer (&f->receiver, g_thread_join);
    }
  for (guint i = 0; i < self->nodes->len; i++)
    {
      SimNode *node = g_ptr_array_index (self->nodes, i);

      if (node->channel != NULL)
        ew_isotp_channel_close (node->channel);
      g_clear_pointer (&node->receiver, g_thread_join);
    }
}

void
ew_sim_vehicle_free (EwSimVehicle *self)
{
  if (self == NULL)
    return;

  ew_sim_vehicle_stop (self);
  for (guint i = 0; i < self->nodes->len; i++)
    {
      SimNode *node = g_ptr_array_index (self->nodes, i);

      g_async_queue_push_front (node->requests, (gpointer) &stop_marker);
      g_clear_pointer (&node->worker, g_thread_join);
    }
  g_clear_object (&self->doip);
  g_ptr_array_unref (self->functionals);
  g_ptr_array_unref (self->nodes);
  ew_sim_faults_unref (self->faults);
  ew_sim_profile_unref (self->profile);
  ew_family_unref (self->family);
  g_free (self);
}

EwFamily *
ew_sim_vehicle_get_family (EwSimVehicle *self)
{
  return self->family;
}

EwSimProfile *
ew_sim_vehicle_get_profile (EwSimVehicle *self)
{
  return self->profile;
}

static SimNode *
find_node (EwSimVehicle *self, const char *module_id)
{
  for (guint i = 0; i < self->nodes->len; i++)
    {
      SimNode *node = g_ptr_array_index (self->nodes, i);

      if (g_strcmp0 (node->module->id, module_id) == 0)
        return node;
    }
  return NULL;
}

EwSimEcu *
ew_sim_vehicle_find_ecu (EwSimVehicle *self,
                         const char   *module_id)
{
  SimNode *node = find_node (self, module_id);

  return node != NULL ? node->ecu : NULL;
}

const char *
ew_sim_vehicle_get_vin (EwSimVehicle *self)
{
  return ew_sim_profile_get_vin (self->profile);
}

guint
ew_sim_vehicle_get_n_requests (EwSimVehicle *self)
{
  return (guint) g_atomic_int_get (&self->n_requests);
}

gboolean
ew_sim_vehicle_is_link_down (EwSimVehicle *self)
{
  return link_is_down (self);
}

void
ew_sim_vehicle_with_ecu (EwSimVehicle *self,
                         const char   *module_id,
                         EwSimEcuFunc  func,
                         gpointer      user_data)
{
  SimNode *node = find_node (self, module_id);

  g_return_if_fail (node != NULL);
  g_mutex_lock (&node->ecu_lock);
  func (node->ecu, user_data);
  g_mutex_unlock (&node->ecu_lock);
}

gboolean
ew_sim_vehicle_save_state (EwSimVehicle  *self,
                           const char    *path,
                           GError       **error)
{
  g_autoptr(GKeyFile) key_file = g_key_file_new ();

  g_key_file_set_string (key_file, "vehicle", "family", self->family->id);
  g_key_file_set_string (key_file, "vehicle", "vin", ew_sim_vehicle_get_vin (self));
  for (guint i = 0; i < self->nodes->len; i++)
    {
      SimNode *node = g_ptr_array_index (self->nodes, i);

      g_mutex_lock (&node->ecu_lock);
      ew_sim_ecu_save_state (node->ecu, key_file);
      g_mutex_unlock (&node->ecu_lock);
    }
  /* g_key_file_save_to_file writes a temporary file and renames it */
  return g_key_file_save_to_file (key_file, path, error);
}

gboolean
ew_sim_vehicle_load_state (EwSimVehicle  *self,
                           const char    *path,
                           GError       **error)
{
  g_autoptr(GKeyFile) key_file = g_key_file_new ();
  g_autoptr(GError) local_error = NULL;
  g_autofree char *family = NULL;

  if (!g_key_file_load_from_file (key_file, path, G_KEY_FILE_NONE, &local_error))
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE;
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                  "simulator state %s: ", path);
      return FALSE;
    }
  family = g_key_file_get_string (key_file, "vehicle", "family", NULL);
  if (g_strcmp0 (family, self->family->id) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "simulator state %s belongs to family %s, not %s",
                   path, family != NULL ? family : "(none)", self->family->id);
      return FALSE;
    }
  for (guint i = 0; i < self->nodes->len; i++)
    {
      SimNode *node = g_ptr_array_index (self->nodes, i);
      gboolean ok;

      g_mutex_lock (&node->ecu_lock);
      ok = ew_sim_ecu_load_state (node->ecu, key_file, &local_error);
      g_mutex_unlock (&node->ecu_lock);
      if (!ok)
        {
          g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                      "simulator state %s: ", path);
          return FALSE;
        }
    }
  return TRUE;
}
