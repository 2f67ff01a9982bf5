/* test-util.c — small helpers the test and benchmark programs share. */
#include <glib/gstdio.h>

#include "test-util.h"

void
ew_test_remove_tree (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  if (d == NULL)
    return;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        ew_test_remove_tree (path);
      else
        g_unlink (path);
    }
  g_rmdir (dir);
}
