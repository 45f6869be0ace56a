#!/bin/sh
# gst-inspect smoke test: every element of this build loads, registers its
# details, documents its properties, and no plugin file is blacklisted.
set -u
fail=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

for element in "$@"; do
  if ! gst-inspect-1.0 --exists --atleast-version=0.0.0 "$element"; then
    echo "FAIL: $element is not registered"; fail=1; continue
  fi
  if ! gst-inspect-1.0 "$element" > "$out" 2>&1; then
    echo "FAIL: gst-inspect-1.0 $element exited non-zero"; cat "$out"; fail=1; continue
  fi
  for needle in "Factory Details" "Klass" "Pad Templates" "Element Properties" "gst-realtime-bridge"; do
    grep -q "$needle" "$out" || { echo "FAIL: $element: no '$needle' in gst-inspect output"; fail=1; }
  done
  echo "ok: $element"
done

blacklisted=$(gst-inspect-1.0 -b 2>&1 | grep -E "Total count: *[1-9]" || true)
if [ -n "$blacklisted" ]; then
  echo "FAIL: blacklisted plugin files:"; gst-inspect-1.0 -b; fail=1
fi

loading=$(GST_DEBUG=GST_PLUGIN_LOADING:2 gst-inspect-1.0 twilio 2>&1 >/dev/null | grep -E "not loading|missing detail|unknown license" || true)
if [ -n "$loading" ]; then
  echo "FAIL: plugin loading complaints:"; echo "$loading"; fail=1
fi
exit $fail
