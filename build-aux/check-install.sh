#!/bin/sh
# Installs the build into a scratch folder and checks that everything a
# user's system needs is there: both programs, data, translations, icons,
# desktop file, metainfo, GSettings schema, udev rule and man page.
set -eu
build="$1"
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
meson install -C "$build" --destdir "$dest" --no-rebuild --quiet >/dev/null
prefix=$(meson introspect "$build" --buildoptions |
         python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"][0])')
root="$dest$prefix"
status=0
for f in \
  bin/ecu-workshop \
  bin/ecuw \
  share/applications/io.github.ecuworkshop.EcuWorkshop.desktop \
  share/metainfo/io.github.ecuworkshop.EcuWorkshop.metainfo.xml \
  share/glib-2.0/schemas/io.github.ecuworkshop.EcuWorkshop.gschema.xml \
  share/icons/hicolor/scalable/apps/io.github.ecuworkshop.EcuWorkshop.svg \
  share/icons/hicolor/symbolic/apps/io.github.ecuworkshop.EcuWorkshop-symbolic.svg \
  share/locale/de/LC_MESSAGES/ecu-workshop.mo \
  share/man/man1/ecuw.1 \
  share/ecu-workshop/vehicles/vehicle-family.xsd \
  share/ecu-workshop/vin/wmi.tsv \
  share/ecu-workshop/flash/flash-descriptor.xsd
do
  if [ ! -s "$root/$f" ]; then
    echo "not installed: $f"
    status=1
  fi
done
# the udev rule goes to the system's udev folder, whatever the prefix
if ! find "$dest" -path '*/udev/rules.d/70-ecu-workshop-gsusb.rules' | grep -q .; then
  echo "not installed: udev rule 70-ecu-workshop-gsusb.rules"
  status=1
fi
# every shipped vehicle family, simulator scenario and sample container
for d in vehicles sim-profiles flash; do
  for f in "$(dirname "$0")/../data/$d"/*; do
    n=$(basename "$f")
    [ "$n" = meson.build ] && continue
    if [ ! -e "$root/share/ecu-workshop/$d/$n" ]; then
      echo "not installed: share/ecu-workshop/$d/$n"
      status=1
    fi
  done
done
[ $status -eq 0 ] && echo "everything installed under $prefix"
exit $status
