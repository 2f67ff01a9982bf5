#!/bin/sh
# Installs the Debian 12 packages ECU Workshop needs that are missing.
# --test adds what the test suite needs (Xvfb, validators, sanitizer runtime).
set -eu

packages="meson ninja-build pkg-config gcc gettext libglib2.0-dev libglib2.0-bin
  libgtk-4-dev libadwaita-1-dev libxml2-dev libjson-glib-dev desktop-file-utils
  appstream dbus adwaita-icon-theme libusb-1.0-0-dev
  libsqlite3-dev"
if [ "${1:-}" = "--test" ]; then
  packages="$packages xvfb xauth libxml2-utils python3
    umockdev libumockdev-dev tshark poppler-utils"
fi

missing=""
for p in $packages; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done

[ -z "$missing" ] && exit 0

echo "Installing:$missing"
if [ "$(id -u)" -eq 0 ]; then
  sudo=""
else
  sudo="sudo"
fi
# tshark asks whether ordinary users may capture; the tests run it as root
echo "wireshark-common wireshark-common/install-setuid boolean false" | $sudo debconf-set-selections
$sudo apt-get update -q
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing
