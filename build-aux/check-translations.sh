#!/bin/sh
# Fails when po/POTFILES.in misses a file with translatable strings, or when
# a translation in po/LINGUAS leaves a current string untranslated or fuzzy.
set -eu
src="$1"
"$src/build-aux/check-potfiles.sh" "$src"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$src"
# the options of meson's gettext 'glib' preset
xgettext --from-code=UTF-8 --add-comments --keyword=_ --keyword=N_ --keyword=C_:1c,2 \
  --keyword=NC_:1c,2 --keyword=g_dcgettext:2 --keyword=g_dngettext:2,3 \
  --keyword=g_dpgettext2:2c,3 --flag=N_:1:pass-c-format --flag=C_:2:pass-c-format \
  --flag=NC_:2:pass-c-format --flag=g_dngettext:2:pass-c-format \
  --flag=g_strdup_printf:1:c-format --flag=g_string_printf:2:c-format \
  --flag=g_string_append_printf:2:c-format --flag=g_error_new:3:c-format \
  --flag=g_set_error:4:c-format --flag=g_markup_printf_escaped:1:c-format \
  --flag=g_log:3:c-format --flag=g_print:1:c-format --flag=g_printerr:1:c-format \
  --flag=g_printf:1:c-format --flag=g_fprintf:2:c-format --flag=g_sprintf:2:c-format \
  --flag=g_snprintf:3:c-format \
  --files-from=po/POTFILES.in -o "$tmp/messages.pot"

status=0
for lang in $(grep -vE '^(#|$)' po/LINGUAS); do
  msgmerge --quiet -o "$tmp/$lang.po" "po/$lang.po" "$tmp/messages.pot"
  stats=$(msgfmt --check --statistics -o /dev/null "$tmp/$lang.po" 2>&1)
  echo "$lang: $stats"
  case "$stats" in
    *untranslated*|*fuzzy*) status=1 ;;
  esac
done
exit $status
