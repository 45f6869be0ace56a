#!/bin/sh
# The main job on the embedded defaults. For now the launcher, the call
# simulator and the local model do not exist yet, so this shows what does:
# the four elements, loaded from the build directory.
set -eu
build=${1:-build}
echo "demo: the bridge, call simulator and local model are not implemented yet;"
echo "demo: showing the elements this build provides instead."
for e in twiliosrc twiliosink openairealtimesrc openairealtimesink; do
  meson devenv -C "$build" gst-inspect-1.0 "$e" | sed -n '1,6p'
done
