#!/bin/sh
# The README's two commands:
#   ./quickstart.sh demo   install, build, and run one call through the bridge
#   ./quickstart.sh test   install, build, and run the whole test suite
#                          (normal build with warnings as errors, then the
#                          AddressSanitizer/UBSan build)
set -eu
cd "$(dirname "$0")"
mode=${1:-}

build () {
  dir=$1; shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@"
  else
    meson setup --reconfigure "$dir" "$@" > /dev/null
  fi
  meson compile -C "$dir"
}

case "$mode" in
  demo)
    scripts/install-deps.sh
    build build
    exec scripts/demo.sh build
    ;;
  test)
    scripts/install-deps.sh
    build build-ci --werror
    meson test -C build-ci --print-errorlogs --num-processes 2
    scripts/check-install.sh build-ci
    build build-sanitize --werror -Db_sanitize=address,undefined -Db_lundef=false
    meson test -C build-sanitize --print-errorlogs --num-processes 2
    ;;
  *)
    echo "usage: $0 demo|test" >&2
    exit 2
    ;;
esac
