#!/bin/sh
# The main job on the embedded defaults, without a phone or an API key:
# start realtime-bridge with its embedded local model (an echo agent) on a
# free loopback port, place one simulated Twilio call that says a spoken
# sample, record what the caller heard, stop the bridge, print the summary.
#
#   scripts/demo.sh [BUILD_DIR]        (./quickstart.sh demo runs it)
#
# Output in $DEMO_OUT_DIR (default out/demo in the source tree):
#   heard.wav      what the caller heard (16-bit 8 kHz mono)
#   events.jsonl   the bridge's log events (JSON lines)
#   call.jsonl     the simulator's timeline and summary (JSON lines)
#   timeline.txt   the same as text
# Exit status: 0 when the call went as asked (connected, answered, no
# protocol violation, ended by the caller, completed at the bridge) and the
# bridge stopped cleanly.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
case "$build" in
  /*) ;;
  *) build=$(pwd)/$build ;;
esac
out=${DEMO_OUT_DIR:-$root/out/demo}

bridge=$build/tools/bridge/realtime-bridge
callsim=$build/tools/callsim/realtime-bridge-call
sample=$build/tools/demo/caller-hello.wav
for f in "$bridge" "$callsim" "$sample"; do
  if [ ! -e "$f" ]; then
    echo "demo: $f is missing; build first (./quickstart.sh demo or meson compile -C $build)" >&2
    exit 2
  fi
done

# The demo is about the local model: a key in the environment would send
# the call to OpenAI. Settings that would change the call are dropped too.
if [ -n "${OPENAI_API_KEY:-}" ]; then
  echo "demo: OPENAI_API_KEY is set; unset for the demo, which uses the embedded local model"
fi
unset OPENAI_API_KEY OPENAI_BASE_URL OPENAI_REALTIME_URL TWILIO_AUTH_TOKEN \
  BRIDGE_ACCESS_TOKEN PUBLIC_URL PORT BRIDGE_ADDRESS BRIDGE_PIPELINE \
  RECORD_DIR LOG_FORMAT GREETING TURN_DETECTION 2> /dev/null || true

# This build's plugins, as `meson devenv -C $build` would set them up.
GST_PLUGIN_PATH=$build/gst/twilio:$build/gst/openairealtime${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}
GST_REGISTRY=${GST_REGISTRY:-$build/registry.dat}
export GST_PLUGIN_PATH GST_REGISTRY

mkdir -p "$out"
rm -f "$out/heard.wav" "$out/events.jsonl" "$out/call.jsonl" "$out/timeline.txt" "$out/bridge.stderr"

# Run from the output directory so that a ./.env of the source tree (which
# may hold a real key) is not read.
bridge_pid=
cleanup () {
  if [ -n "$bridge_pid" ] && kill -0 "$bridge_pid" 2> /dev/null; then
    kill -TERM "$bridge_pid" 2> /dev/null || true
    wait "$bridge_pid" 2> /dev/null || true
  fi
}
trap cleanup EXIT INT TERM
(cd "$out" && exec "$bridge" --port 0 --address 127.0.0.1) \
  > "$out/events.jsonl" 2> "$out/bridge.stderr" &
bridge_pid=$!

# Wait for the "listening" event (up to 30 s; the first start builds the
# GStreamer registry).
port=
tries=0
while [ -z "$port" ]; do
  port=$(sed -n 's/.*"event":"listening".*"port":\([0-9]*\).*/\1/p' "$out/events.jsonl" | head -n 1)
  [ -n "$port" ] && break
  if ! kill -0 "$bridge_pid" 2> /dev/null || [ $tries -ge 300 ]; then
    echo "demo: the bridge did not start listening:" >&2
    cat "$out/events.jsonl" "$out/bridge.stderr" >&2
    exit 1
  fi
  tries=$((tries + 1))
  sleep 0.1
done
sed -n '1s/.*"message":"\([^"]*\)".*/bridge: \1/p' "$out/events.jsonl"
echo "bridge: listening on 127.0.0.1:$port"
echo "caller: saying $(basename "$sample") to ws://127.0.0.1:$port/call ..."

call_status=0
"$callsim" --url "ws://127.0.0.1:$port/call" --audio "$sample" \
  --expect-audio --record "$out/heard.wav" --events "$out/call.jsonl" \
  > "$out/timeline.txt" 2>&1 || call_status=$?

# Stop the bridge the way an operator would; it finishes, logs, exits 0.
kill -TERM "$bridge_pid"
bridge_status=0
wait "$bridge_pid" || bridge_status=$?
bridge_pid=

echo
echo "== what the caller saw (realtime-bridge-call) =="
sed -n '/^call [0-9]*: /,$p' "$out/timeline.txt"
echo
echo "== the bridge's call summary (call-ended) =="
ended=$(grep '"event":"call-ended"' "$out/events.jsonl" || true)
echo "${ended:-none}"
echo
echo "files:"
echo "  $out/heard.wav      what the caller heard"
echo "  $out/events.jsonl   the bridge's log events"
echo "  $out/call.jsonl     the caller's timeline and summary (JSON lines)"
echo "  $out/timeline.txt   the same as text"

status=0
if [ "$call_status" -ne 0 ]; then
  echo "demo: FAILED: the call did not go as asked (simulator exit $call_status)" >&2
  status=1
fi
case "$ended" in
  *'"status":"completed"'*) ;;
  *) echo "demo: FAILED: the bridge did not report the call completed" >&2; status=1 ;;
esac
if [ "$bridge_status" -ne 0 ]; then
  echo "demo: FAILED: the bridge exited with $bridge_status" >&2
  status=1
fi
[ $status -eq 0 ] && echo "demo: OK"
exit $status
