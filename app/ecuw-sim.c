/* ecuw-sim.c — `ecuw sim FAMILY --doip ADDRESS:PORT`: a simulated car as a
 * DoIP entity, for this app over doip: links and for any other DoIP/UDS
 * client, until interrupted. */
#include "config.h"

#include <glib/gi18n.h>
#include <glib-unix.h>
#include <stdio.h>
#include <string.h>

#include "ecuw-command.h"
#include "sim/sim-vehicle.h"

static gboolean
on_signal (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_CONTINUE;
}

/* "--name VALUE" or "--name=VALUE" at argv[*i], else NULL. */
static const char *
take_option (int argc, char **argv, int *i, const char *name, GError **error)
{
  gsize n = strlen (name);

  if (strncmp (argv[*i], name, n) != 0)
    return NULL;
  if (argv[*i][n] == '=')
    return argv[*i] + n + 1;
  if (argv[*i][n] != '\0')
    return NULL;
  if (*i + 1 >= argc)
    {
      g_set_error (error, ECUW_ERROR, ECUW_ERROR_USAGE, _("%s needs a value"), name);
      return NULL;
    }
  return argv[++*i];
}

gboolean
ecuw_cmd_sim (EcuwContext *ctx, int argc, char **argv, GError **error)
{
  const char *family_id = NULL;
  const char *doip = "127.0.0.1:13400";
  const char *profile_name = NULL;
  const char *faults_spec = NULL;
  const char *state_path = NULL;
  g_autofree char *host = NULL;
  g_autoptr(GSocketConnectable) address = NULL;
  g_autoptr(EwSimProfile) profile = NULL;
  g_autoptr(EwSimFaults) faults = NULL;
  g_autoptr(EwSimVehicle) vehicle = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GInetAddress) inet = NULL;
  EwFamily *family;
  guint16 port = 0;
  guint sigint, sigterm;

  for (int i = 1; i < argc; i++)
    {
      const char *value;

      if ((value = take_option (argc, argv, &i, "--doip", error)) != NULL)
        doip = value;
      else if ((value = take_option (argc, argv, &i, "--profile", error)) != NULL)
        profile_name = value;
      else if ((value = take_option (argc, argv, &i, "--faults", error)) != NULL)
        faults_spec = value;
      else if ((value = take_option (argc, argv, &i, "--state", error)) != NULL)
        state_path = value;
      else if (error != NULL && *error != NULL)
        return FALSE;
      else if (family_id == NULL && argv[i][0] != '-')
        family_id = argv[i];
      else
        {
          g_set_error (error, ECUW_ERROR, ECUW_ERROR_USAGE,
                       _("usage: ecuw sim FAMILY [--doip ADDRESS:PORT] [--profile NAME-or-FILE] "
                         "[--faults SPEC] [--state FILE]"));
          return FALSE;
        }
    }
  if (family_id == NULL)
    {
      g_set_error (error, ECUW_ERROR, ECUW_ERROR_USAGE,
                   _("usage: ecuw sim FAMILY [--doip ADDRESS:PORT] [--profile NAME-or-FILE] "
                     "[--faults SPEC] [--state FILE]"));
      return FALSE;
    }

  family = ew_vehicle_database_find_family (ecuw_context_get_database (ctx), family_id);
  if (family == NULL)
    {
      g_set_error (error, ECUW_ERROR, ECUW_ERROR_NOT_FOUND,
                   _("no vehicle family “%s”; see ecuw vehicles"), family_id);
      return FALSE;
    }

  /* port 0 lets the kernel choose; the port is printed */
  address = g_network_address_parse (doip, 13400, NULL);
  if (address != NULL)
    {
      host = g_strdup (g_network_address_get_hostname (G_NETWORK_ADDRESS (address)));
      port = g_network_address_get_port (G_NETWORK_ADDRESS (address));
      inet = g_inet_address_new_from_string (host);
    }
  if (inet == NULL)
    {
      g_set_error (error, ECUW_ERROR, ECUW_ERROR_USAGE,
                   _("--doip needs a numeric address, e.g. 127.0.0.1:13400, not “%s”"), doip);
      return FALSE;
    }

  profile = profile_name != NULL ? ew_sim_profile_load (family, profile_name, error)
                                 : ew_sim_profile_new_default (family, NULL);
  if (profile == NULL)
    return FALSE;
  faults = ew_sim_faults_parse (faults_spec, error);
  if (faults == NULL)
    return FALSE;

  vehicle = ew_sim_vehicle_new (family, profile, faults);
  if (state_path != NULL && !ew_sim_vehicle_load_state (vehicle, state_path, error))
    return FALSE;
  /* an address typed on the command line is the user's decision; the
   * default is loopback */
  if (!ew_sim_vehicle_start_doip (vehicle, host, port, TRUE, error))
    return FALSE;
  if (!g_inet_address_get_is_loopback (inet))
    g_printerr ("ecuw: %s\n", _("warning: the simulated car is reachable from other machines"));

  if (ctx->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      ecuw_json_add_string (b, "family", family->id);
      ecuw_json_add_string (b, "vin", ew_sim_vehicle_get_vin (vehicle));
      ecuw_json_add_string (b, "profile", ew_sim_profile_get_name (profile));
      ecuw_json_add_string (b, "address", host);
      json_builder_set_member_name (b, "port");
      json_builder_add_int_value (b, ew_sim_vehicle_get_doip_port (vehicle));
      json_builder_end_object (b);
      ecuw_print_json (b);
    }
  else
    {
      /* TRANSLATORS: make, model, VIN, profile name, address, port */
      g_print (_("Simulated %s %s, VIN %s, profile “%s”: DoIP on %s:%u. Press Ctrl+C to stop.\n"),
               family->make, family->model, ew_sim_vehicle_get_vin (vehicle),
               ew_sim_profile_get_name (profile), host, ew_sim_vehicle_get_doip_port (vehicle));
    }
  fflush (stdout);

  loop = g_main_loop_new (NULL, FALSE);
  sigint = g_unix_signal_add (SIGINT, on_signal, loop);
  sigterm = g_unix_signal_add (SIGTERM, on_signal, loop);
  g_main_loop_run (loop);
  g_source_remove (sigint);
  g_source_remove (sigterm);

  ew_sim_vehicle_stop (vehicle);
  if (state_path != NULL && !ew_sim_vehicle_save_state (vehicle, state_path, error))
    return FALSE;
  return TRUE;
}
