/* ecuw.c — the ECU Workshop command line: option parsing and dispatch.
 *
 * `ecuw [--data-dir DIR] [--json] COMMAND [ARGS…]`. Options may also follow
 * the command. Bad input exits non-zero with one clear line on stderr.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "ecuw-command.h"
#include "data-dir.h"

G_DEFINE_QUARK (ecuw-error-quark, ecuw_error)

typedef struct {
  const char *name;
  const char *arguments;
  const char *summary;
  gboolean  (*run) (EcuwContext *ctx, int argc, char **argv, GError **error);
} EcuwCommand;

/* `features FAMILY` lists a family's catalogue from the database;
 * `features` alone reads the car on the link. */
static gboolean
cmd_features (EcuwContext *ctx, int argc, char **argv, GError **error)
{
  if (argc >= 2)
    return ecuw_cmd_features (ctx, argc, argv, error);
  return ecuw_cmd_live_features (ctx, argc, argv, error);
}

static const EcuwCommand commands[] = {
  { "vin",      N_("VIN"),    N_("Decode a VIN and list the vehicle families it may belong to"), ecuw_cmd_vin },
  { "vehicles", "",           N_("List the known vehicle families"),                             ecuw_cmd_vehicles },
  { "features", N_("[FAMILY]"), N_("List the car's features with their state, or a vehicle family's features"), cmd_features },
  { "scan",     "",           N_("Identify the car and every module on the link, and report findings"), ecuw_cmd_scan },
  { "code",     N_("FEATURE=STATE…"),
                              N_("Code features of the car, with a backup and read-back, as a job"), ecuw_cmd_code },
  { "retrofit", N_("MODULE"), N_("Code the car to know a used module is fitted, and the module to the car"),
                              ecuw_cmd_retrofit },
  { "flash",    N_("MODULE FILE [--dry-run]"),
                              N_("Program a module from a container (Intel HEX, S-record, binary + descriptor), as a job"),
                              ecuw_cmd_flash },
  { "recover",  N_("MODULE [FILE]"),
                              N_("Program a module dead in its bootloader with its recovery image (or FILE), as a job"),
                              ecuw_cmd_recover },
  { "replace",  N_("MODULE [FILE] [--dry-run]"),
                              N_("Fit a used cluster or body module: program it, link it to the VIN, transfer the mileage, code it, as a job"),
                              ecuw_cmd_replace },
  { "quote",    N_("(--family FAMILY | --vin VIN | --link URI) ITEM…"),
                              N_("Quote the work the customer asks for: coding or programming, time and price"),
                              ecuw_cmd_quote },
  { "jobs",     N_("[JOB]"),  N_("List the jobs, newest first, or show one job's journal and backups"), ecuw_cmd_jobs },
  { "job",      N_("JOB"),    N_("Show one job's journal and backups"),                          ecuw_cmd_job },
  { "restore",  N_("JOB"),    N_("Write a job's backup back to the car, verified; resume an unfinished programming job"),
                              ecuw_cmd_restore },
  { "sim",      N_("FAMILY [--doip ADDRESS:PORT] [--profile NAME-or-FILE] [--faults SPEC] [--state FILE]"),
                              N_("Run a simulated car as a DoIP entity until interrupted"),      ecuw_cmd_sim },
};

/* Options of single commands: passed on, with their value, to the command. */
static const char *const command_options[] = { "--doip", "--profile", "--faults", "--state",
                                                "--acknowledge", "--family", "--vin", "--pdf",
                                                "--registration", "--garage", NULL };
/* Flags of single commands: passed on, without a value. */
static const char *const command_flags[] = { "--dry-run", "--verify", "--allow-downgrade",
                                              "--no-recovery-image", "--confirm-immobiliser", NULL };

static void
print_usage (FILE *out)
{
  fprintf (out, "%s\n\n", _("Usage: ecuw [OPTION…] COMMAND [ARGUMENT…]"));
  fprintf (out, "%s\n", _("Commands:"));
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      g_autofree char *left = g_strdup_printf ("%s %s", commands[i].name,
                                               commands[i].arguments[0] ? _(commands[i].arguments) : "");
      fprintf (out, "  %-20s %s\n", left, _(commands[i].summary));
    }
  fprintf (out, "\n%s\n", _("Options:"));
  fprintf (out, "  %-20s %s\n", "--json", _("Print machine-readable JSON"));
  fprintf (out, "  %-20s %s\n", _("--data-dir DIR"), _("Also load vehicle families from DIR"));
  fprintf (out, "  %-20s %s\n", _("--link URI"),
           _("The car: sim:FAMILY, doip:HOST[:PORT], socketcan:IFACE, gsusb:[VID:PID] "
             "(default: " ECUW_DEFAULT_LINK ")"));
  fprintf (out, "  %-20s %s\n", "--dry-run", _("code, retrofit, flash: print the plan, write nothing"));
  fprintf (out, "  %-20s %s\n", _("--acknowledge FEATURE"),
           _("code: confirm a feature of community data (repeat for each)"));
  fprintf (out, "  %-20s %s\n", "--verify", _("jobs: check the journal's hash chain"));
  fprintf (out, "  %-20s %s\n", "--allow-downgrade", _("flash: allow software older than the module's"));
  fprintf (out, "  %-20s %s\n", "--no-recovery-image",
           _("flash: program a module already dead in its bootloader without a recovery image"));
  fprintf (out, "  %-20s %s\n", "--confirm-immobiliser",
           _("replace: the technician confirms pairing a new engine unit with the immobiliser"));
  fprintf (out, "  %-20s %s\n", "--version", _("Print the version and exit"));
  fprintf (out, "  %-20s %s\n", "--help", _("Print this help and exit"));
}

EwVehicleDatabase *
ecuw_context_get_database (EcuwContext *ctx)
{
  if (ctx->db == NULL)
    {
      GPtrArray *errors;

      ctx->db = ew_vehicle_database_new (NULL);
      ew_vehicle_database_add_default_dirs (ctx->db, ctx->data_dir);
      errors = ew_vehicle_database_get_errors (ctx->db);
      for (guint i = 0; i < errors->len; i++)
        {
          const GError *e = g_ptr_array_index (errors, i);
          /* TRANSLATORS: a vehicle family file that could not be loaded */
          g_printerr ("ecuw: %s %s\n", _("warning:"), e->message);
        }
    }
  return ctx->db;
}

const char *
ecuw_context_get_link (EcuwContext *ctx)
{
  return ctx->link_uri != NULL ? ctx->link_uri : ECUW_DEFAULT_LINK;
}

void
ecuw_json_add_string (JsonBuilder *builder, const char *name, const char *value)
{
  json_builder_set_member_name (builder, name);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

/* The value of "--name VALUE" or "--name=VALUE" at argv[*i]; NULL and a
 * message on stderr when it is missing. */
static const char *
option_value (int argc, char **argv, int *i)
{
  const char *equals = strchr (argv[*i], '=');

  if (equals != NULL)
    return equals + 1;
  if (*i + 1 >= argc)
    {
      /* TRANSLATORS: %s is an option such as --link */
      g_autofree char *msg = g_strdup_printf (_("%s needs a value"), argv[*i]);
      g_printerr ("ecuw: %s\n", msg);
      return NULL;
    }
  return argv[++*i];
}

static gboolean
is_option (const char *arg, const char *name)
{
  gsize n = strlen (name);

  return strncmp (arg, name, n) == 0 && (arg[n] == '\0' || arg[n] == '=');
}

void
ecuw_print_json (JsonBuilder *builder)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = json_builder_get_root (builder);
  g_autofree char *text = NULL;

  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  text = json_generator_to_data (generator, NULL);
  g_print ("%s\n", text);
}

int
main (int argc, char **argv)
{
  EcuwContext ctx = { 0 };
  g_autoptr(GPtrArray) rest = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  const EcuwCommand *command = NULL;
  gboolean ok;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  for (int i = 1; i < argc; i++)
    {
      const char *arg = argv[i];

      if (g_str_equal (arg, "--json"))
        ctx.json = TRUE;
      else if (g_str_equal (arg, "--help") || g_str_equal (arg, "-h"))
        {
          print_usage (stdout);
          return 0;
        }
      else if (g_str_equal (arg, "--version"))
        {
          g_print ("ecuw %s\n", PACKAGE_VERSION);
          return 0;
        }
      else if (g_str_equal (arg, "--data-dir") || g_str_has_prefix (arg, "--data-dir="))
        {
          const char *value = strchr (arg, '=') ? strchr (arg, '=') + 1 : NULL;

          if (value == NULL)
            {
              if (i + 1 >= argc)
                {
                  g_printerr ("ecuw: %s\n", _("--data-dir needs a folder"));
                  return 2;
                }
              value = argv[++i];
            }
          if (!g_file_test (value, G_FILE_TEST_IS_DIR))
            {
              g_printerr ("ecuw: %s\n", _("--data-dir: no such folder"));
              return 2;
            }
          g_free (ctx.data_dir);
          ctx.data_dir = g_strdup (value);
        }
      else if (is_option (arg, "--link"))
        {
          const char *value = option_value (argc, argv, &i);

          if (value == NULL)
            return 2;
          g_free (ctx.link_uri);
          ctx.link_uri = g_strdup (value);
        }
      else if (arg[0] == '-' && arg[1] == '-' && g_strv_contains (command_flags, arg))
        g_ptr_array_add (rest, argv[i]);
      else if (arg[0] == '-' && arg[1] == '-' && g_strv_contains (command_options, arg))
        {
          g_ptr_array_add (rest, argv[i]);
          if (i + 1 < argc)
            g_ptr_array_add (rest, argv[++i]);
        }
      else if (arg[0] == '-' && arg[1] == '-' && strchr (arg, '=') != NULL)
        {
          g_autofree char *name = g_strndup (arg, strchr (arg, '=') - arg);

          if (!g_strv_contains (command_options, name))
            {
              g_autofree char *msg = g_strdup_printf (_("unknown option %s; see ecuw --help"), name);
              g_printerr ("ecuw: %s\n", msg);
              return 2;
            }
          g_ptr_array_add (rest, argv[i]);
        }
      else if (arg[0] == '-' && arg[1] == '-')
        {
          /* TRANSLATORS: %s is the option as typed */
          g_autofree char *msg = g_strdup_printf (_("unknown option %s; see ecuw --help"), arg);
          g_printerr ("ecuw: %s\n", msg);
          return 2;
        }
      else
        g_ptr_array_add (rest, argv[i]);
    }

  if (rest->len == 0)
    {
      print_usage (stderr);
      return 2;
    }

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (commands[i].name, g_ptr_array_index (rest, 0)))
      command = &commands[i];

  if (command == NULL)
    {
      /* TRANSLATORS: %s is the command as typed */
      g_autofree char *msg = g_strdup_printf (_("unknown command “%s”; see ecuw --help"),
                                              (const char *) g_ptr_array_index (rest, 0));
      g_printerr ("ecuw: %s\n", msg);
      return 2;
    }

  g_ptr_array_add (rest, NULL);
  ok = command->run (&ctx, rest->len - 1, (char **) rest->pdata, &error);

  g_clear_pointer (&ctx.db, ew_vehicle_database_free);
  g_free (ctx.data_dir);
  g_free (ctx.link_uri);

  if (!ok)
    {
      g_printerr ("ecuw: %s\n", error->message);
      return g_error_matches (error, ECUW_ERROR, ECUW_ERROR_USAGE) ? 2 : 1;
    }
  return 0;
}
