#!/bin/sh
# Quick start: installs what is missing, builds, and starts ECU Workshop
# from the build folder on the simulated car's data.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build="$src/_build"

"$src/build-aux/install-deps.sh"
[ -f "$build/build.ninja" ] || meson setup "$build" "$src"
ninja -C "$build"

export ECU_WORKSHOP_DATA_DIR="$src/data"
export GSETTINGS_SCHEMA_DIR="$build/data"
exec "$build/app/ecu-workshop" "$@"
