/* test-util.h — small helpers the test and benchmark programs share. */
#pragma once

#include <glib.h>

/* Removes dir and everything below it; a missing dir is fine. */
void ew_test_remove_tree (const char *dir);
