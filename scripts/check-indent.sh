#!/bin/sh
# Fails when a .c file of the project is not gst-indent formatted.
set -eu
root=${SOURCE_ROOT:-$(dirname "$0")/..}
files=$(find "$root/gst" "$root/tools" "$root/tests" -name '*.c' | sort)
# shellcheck disable=SC2086
exec "$root/scripts/gst-indent" --check $files
