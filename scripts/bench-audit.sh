#!/usr/bin/env bash
# The delivery audit's cost (issue 13): two single-node servers, one with the audit on (the
# default) and one with it off (RUNNEL_TOPIC_DEFAULTS_AUDIT_ENABLE=false), measured in turn:
#   - batched HTTP produce (runnel bench produce, 500 x 100 B per request, acks=1);
#   - WebSocket consume of what was produced (runnel bench consume --transport ws);
# ROUNDS times each, alternating, with the median ratio on / off.
# Usage: scripts/bench-audit.sh [ROUNDS] [SECONDS]   (never while a build runs; FORCE=1 runs
# anyway). RUNNEL_BIN=path uses an already built binary instead of building target/release/runnel.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
SECONDS_PER_RUN=${2:-10}
TARGET=${CARGO_TARGET_DIR:-target}
if pgrep -x rustc >/dev/null && [ -z "${FORCE:-}" ]; then
  echo "a build is running; benchmark later (FORCE=1 to run anyway)" >&2; exit 1
fi
if [ -z "${RUNNEL_BIN:-}" ]; then
  cargo build --release -q -p runnel --bin runnel
  RUNNEL_BIN=$TARGET/release/runnel
fi

work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
declare -A port
start() { # name, extra env...
  local name=$1; shift
  port[$name]=$(free_port)
  env RUST_LOG=warn "$@" "$RUNNEL_BIN" serve --data-dir "$work/$name" \
    --listen "127.0.0.1:${port[$name]}" >"$work/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 300); do
    curl -fsS -o /dev/null "http://127.0.0.1:${port[$name]}/ready" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "$name never became ready" >&2; cat "$work/$name.log" >&2; exit 1
}
start on
start off RUNNEL_TOPIC_DEFAULTS_AUDIT_ENABLE=false

rate() { # name, round, bench args...
  local name=$1 round=$2; shift 2
  "$RUNNEL_BIN" bench "$@" --url "http://127.0.0.1:${port[$name]}" --topic "t$round" --json \
    2>"$work/bench.err" | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["records_per_sec"]))' ||
    { cat "$work/bench.err" >&2; exit 1; }
}
produce_on=() produce_off=() consume_on=() consume_off=()
for r in $(seq 1 "$ROUNDS"); do
  for name in on off; do
    p=$(rate "$name" "$r" produce --duration "${SECONDS_PER_RUN}s" --acks 1)
    c=$(rate "$name" "$r" consume --transport ws)
    if [ "$name" = on ]; then produce_on+=("$p"); consume_on+=("$c"); else produce_off+=("$p"); consume_off+=("$c"); fi
  done
  echo "round $r: produce on ${produce_on[-1]} / off ${produce_off[-1]} records/s; ws consume on ${consume_on[-1]} / off ${consume_off[-1]} records/s"
done
python3 - "${produce_on[*]}" "${produce_off[*]}" "${consume_on[*]}" "${consume_off[*]}" <<'EOF'
import statistics, sys
med = lambda s: statistics.median(float(x) for x in s.split())
for what, on, off in (("batched HTTP produce", sys.argv[1], sys.argv[2]), ("WebSocket consume", sys.argv[3], sys.argv[4])):
    print(f"{what}: audit on {med(on):,.0f} / off {med(off):,.0f} records/s, ratio {med(on) / med(off):.3f} (goal >= 0.97)")
EOF
