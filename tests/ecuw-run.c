/* ecuw-run.c — see ecuw-run.h. */
#include "ecuw-run.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

const char *ecuw_run_job_store;

void
ecuw_run_free (EcuwRun *run)
{
  g_free (run->out);
  g_free (run->err);
  g_free (run);
}

char **
ecuw_run_environment (void)
{
  char **envp = g_get_environ ();

  if (ecuw_run_job_store != NULL)
    envp = g_environ_setenv (envp, "ECU_WORKSHOP_JOB_STORE", ecuw_run_job_store, TRUE);
  else
    envp = g_environ_unsetenv (envp, "ECU_WORKSHOP_JOB_STORE");
  return envp;
}

static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

GSubprocess *
spawn_ecuw (GSubprocessFlags flags, const char *const *argv)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (flags);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) envp = ecuw_run_environment ();
  GSubprocess *process;

  g_subprocess_launcher_set_environ (launcher, envp);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  process = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  return process;
}

EcuwRun *
run_ecuw (const char *first, ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) envp = ecuw_run_environment ();
  EcuwRun *run = g_new0 (EcuwRun, 1);
  int wait_status = 0;
  va_list ap;

  g_ptr_array_add (argv, (char *) g_getenv ("ECUW"));
  va_start (ap, first);
  for (const char *a = first; a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (argv, (char *) a);
  va_end (ap);
  g_ptr_array_add (argv, NULL);

  g_spawn_sync (NULL, (char **) argv->pdata, envp, G_SPAWN_DEFAULT, NULL, NULL,
                &run->out, &run->err, &wait_status, &error);
  g_assert_no_error (error);
  run->exit_status = WIFEXITED (wait_status) ? WEXITSTATUS (wait_status) : -1;
  return run;
}

JsonNode *
parse_json (const char *text)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  return json_node_copy (json_parser_get_root (parser));
}

JsonObject *
find_by_member (JsonArray *array, const char *member, const char *value)
{
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *o = json_array_get_object_element (array, i);

      if (g_strcmp0 (json_object_get_string_member (o, member), value) == 0)
        return o;
    }
  return NULL;
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

char *
coding_state (const char *path)
{
  g_autoptr(GKeyFile) key_file = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  g_auto(GStrv) groups = NULL;
  GString *s = g_string_new (NULL);

  g_key_file_load_from_file (key_file, path, G_KEY_FILE_NONE, &error);
  g_assert_no_error (error);
  groups = g_key_file_get_groups (key_file, NULL);
  for (guint i = 0; groups[i] != NULL; i++)
    {
      g_auto(GStrv) keys = g_key_file_get_keys (key_file, groups[i], NULL, NULL);

      for (guint j = 0; keys != NULL && keys[j] != NULL; j++)
        if (g_str_has_prefix (keys[j], "coding-"))
          {
            g_autofree char *value = g_key_file_get_value (key_file, groups[i], keys[j], NULL);
            g_ptr_array_add (lines, g_strdup_printf ("%s/%s=%s", groups[i], keys[j], value));
          }
    }
  g_ptr_array_sort (lines, compare_strings);
  for (guint i = 0; i < lines->len; i++)
    g_string_append_printf (s, "%s\n", (const char *) g_ptr_array_index (lines, i));
  g_assert_cmpuint (lines->len, >, 0);
  return g_string_free (s, FALSE);
}
