#!/bin/sh
# Runs a UI test in its own session bus, on a private Xvfb display unless
# one is given, with animations and accessibility buses kept local.
set -eu
if [ -z "${DISPLAY:-}" ]; then
  exec dbus-run-session -- xvfb-run -a -s "-screen 0 1280x800x24" "$@"
fi
exec dbus-run-session -- "$@"
