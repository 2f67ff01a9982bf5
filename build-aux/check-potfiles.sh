#!/bin/sh
# Fails when a source file with translatable strings is missing from
# po/POTFILES.in, or when POTFILES.in lists a file that does not exist.
set -eu
src="$1"
cd "$src"
status=0
for f in $(grep -rlE '(N?_|C_|NC_)\("|translatable="yes"' app ui core data --include='*.c' --include='*.ui' --include='*.in' --include='*.xml' 2>/dev/null | sort); do
  case "$f" in data/vehicles/*) continue ;; esac
  if ! grep -qxF "$f" po/POTFILES.in; then
    echo "missing from po/POTFILES.in: $f"
    status=1
  fi
done
for f in $(grep -vE '^(#|$)' po/POTFILES.in); do
  if [ ! -f "$f" ]; then
    echo "po/POTFILES.in lists a missing file: $f"
    status=1
  fi
done
[ $status -eq 0 ] && echo "po/POTFILES.in lists every file with translatable strings"
exit $status
