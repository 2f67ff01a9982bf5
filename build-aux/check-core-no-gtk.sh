#!/bin/sh
# Proves core/ stays GTK-free: no GTK, GDK or libadwaita header in its
# sources, and a core test program does not link the toolkit.
set -eu
core_dir="$1"
core_program="$2"
if grep -rnE '#[[:space:]]*include[[:space:]]*[<"](gtk|gdk|adwaita)' "$core_dir"; then
  echo "core/ includes a GTK header (above)" >&2
  exit 1
fi
if ldd "$core_program" | grep -E 'libgtk|libadwaita|libgdk'; then
  echo "$core_program links the toolkit (above)" >&2
  exit 1
fi
echo "core/ is GTK-free"
