#!/bin/sh
# Builds with warnings as errors and runs the whole test suite, then the
# core tests once more under AddressSanitizer and UndefinedBehaviorSanitizer.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build="$src/_build-test"
build_asan="$src/_build-asan"

"$src/build-aux/install-deps.sh" --test

[ -f "$build/build.ninja" ] || meson setup "$build" "$src" --werror
ninja -C "$build"
status=0
meson test -C "$build" --print-errorlogs --num-processes 2 || status=1

[ -f "$build_asan/build.ninja" ] ||
  meson setup "$build_asan" "$src" --werror -Db_sanitize=address,undefined
ninja -C "$build_asan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:fast_unwind_on_malloc=0:verify_asan_link_order=0 \
LSAN_OPTIONS=suppressions="$src/tests/lsan.supp":print_suppressions=0 \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  meson test -C "$build_asan" --suite core --print-errorlogs --num-processes 2 || status=1

python3 "$src/build-aux/test-totals.py" "$build" "$build_asan"
exit $status
