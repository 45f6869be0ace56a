#!/bin/sh
# `meson install` into a scratch DESTDIR: the plugins land in GStreamer's
# plugin directory, the programs in bin, and the installed plugin files load.
set -eu
build=${1:-build}
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
DESTDIR="$dest" meson install -C "$build" --no-rebuild --quiet
pluginsdir=$(pkg-config --variable=pluginsdir gstreamer-1.0)
prefix=$(meson introspect "$build" --buildoptions | python3 -c \
  'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"][0])')
status=0
for f in "$pluginsdir/libgsttwilio.so" "$pluginsdir/libgstopenairealtime.so"; do
  if [ ! -f "$dest$f" ]; then echo "check-install: missing $f"; status=1; continue; fi
  GST_REGISTRY="$dest/registry.bin" gst-inspect-1.0 "$dest$f" > /dev/null \
    || { echo "check-install: $f does not load"; status=1; }
done
for p in realtime-bridge realtime-bridge-call realtime-bridge-model; do
  [ -x "$dest$prefix/bin/$p" ] || { echo "check-install: missing $prefix/bin/$p"; status=1; }
done
[ $status -eq 0 ] && echo "check-install: plugins in $pluginsdir, programs in $prefix/bin"
exit $status
