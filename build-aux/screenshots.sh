#!/bin/sh
# Regenerates the screenshots in docs/screenshots from the running window
# on the simulated car: the UI tests drive it to each state and save what
# is drawn, once in the light style on a wide window, then dark, narrow
# (360 px) and dark-narrow. Needs the test packages (install-deps.sh --test).
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build="$src/_build-screenshots"
out="$src/docs/screenshots"

[ -f "$build/build.ninja" ] || meson setup "$build" "$src"
ninja -C "$build"
mkdir -p "$out"
for variant in "" dark narrow dark-narrow; do
  echo "screenshots: ${variant:-light}"
  EW_UI_SCREENSHOT_DIR="$out" EW_UI_SCREENSHOT_VARIANT="$variant" \
    meson test -C "$build" --no-rebuild --suite ui --print-errorlogs
done
ls "$out"
