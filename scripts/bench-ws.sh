#!/usr/bin/env bash
# Same-run WebSocket and consumer benchmark (the Performance figures of issue 4), against the
# bare axum WebSocket push server of ../shared/bench (wsd + wsclient) where one exists.
# Prints each figure with its baseline, the ratio and the goal in a small table.
# Usage: scripts/bench-ws.sh [DURATION_SECONDS]   (never while a build is running)
#   RUNNEL_BIN=path  uses an already built binary instead of building target/release/runnel
#   SOCKETS=N        idle WebSockets for the memory figure (default 10000)
#   PREFILL=N        records read by the consume figures (default 3000000)
#   FORCE=1          runs even while rustc does (the figures are then not worth much)
#   QUIET_WAIT=S     how long each figure waits for running compilers to finish (default 900)
set -euo pipefail
cd "$(dirname "$0")/.."
D=${1:-10}
SOCKETS=${SOCKETS:-10000}
PREFILL=${PREFILL:-3000000}
SHARED=${SHARED:-../shared}
TMP=${TMPDIR:-/tmp}
if pgrep -x rustc >/dev/null && [ -z "${FORCE:-}" ]; then echo "a build is running; benchmark later (FORCE=1 to run anyway)" >&2; exit 1; fi
if [ -n "${RUNNEL_BIN:-}" ]; then
  BIN=$RUNNEL_BIN
else
  cargo build --release -q -p runnel --bin runnel
  BIN=${CARGO_TARGET_DIR:-target}/release/runnel
fi
cargo build --release -q --manifest-path "$SHARED/bench/baseline-server/Cargo.toml" --target-dir "$TMP/baseline-target"
if pgrep -x rustc >/dev/null && [ -z "${FORCE:-}" ]; then echo "a build started meanwhile; benchmark later (FORCE=1 to run anyway)" >&2; exit 1; fi

# Every socket is a descriptor on both ends: raise the soft limit for the server and the client.
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((SOCKETS + 500)) ]; then
  echo "open-file limit $(ulimit -n) is too low for $SOCKETS sockets (SOCKETS=N to use fewer)" >&2; exit 1
fi

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 200); do (echo >/dev/tcp/127.0.0.1/$1) 2>/dev/null && return; sleep 0.05; done; echo "port $1 never opened" >&2; exit 1; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
median() { python3 -c 'import sys,statistics;print(statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }
field() { python3 -c 'import sys,json;d=json.load(open(sys.argv[1]));
for k in sys.argv[2].split("."): d=d[k]
print(d)' "$1" "$2"; }
PIDS=()
DATA=$(mktemp -d)
OUT=$(mktemp -d)
trap 'kill "${PIDS[@]}" 2>/dev/null || true; rm -rf "$DATA" "$OUT"' EXIT
START=$(date -u +%Y-%m-%dT%H:%M:%SZ)

# Other people's builds share these cores: a sampler notes every moment a compiler runs, each
# figure waits (up to QUIET_WAIT seconds, default 900) for a quiet machine before it starts,
# and a figure a compiler overlapped is marked "*" in the table.
(while sleep 0.5; do pgrep -x rustc >/dev/null && date +%s.%N; done >"$OUT/busy") & PIDS+=($!)
quiet() {
  local waited=0
  while [ -z "${FORCE:-}" ] && pgrep -x rustc >/dev/null && [ "$waited" -lt "${QUIET_WAIT:-900}" ]; do sleep 5; waited=$((waited + 5)); done
  date +%s.%N
}
# disturbed NAME FROM: records NAME as disturbed when a compiler ran between FROM and now.
disturbed() { awk -v a="$2" -v b="$(date +%s.%N)" '$1 >= a && $1 <= b {f=1} END {exit !f}' "$OUT/busy" && echo "$1" >>"$OUT/disturbed" || true; }
touch "$OUT/disturbed"

# Baseline: the bare WebSocket push server, 100-byte text frames to one tungstenite reader,
# flushed one by one and 64 at a time (median of three runs each).
BP=$(free_port)
"$TMP/baseline-target/release/wsd" "127.0.0.1:$BP" 600 2>/dev/null & PIDS+=($!)
wait_port "$BP"
bare() { "$TMP/baseline-target/release/wsclient" "127.0.0.1:$BP" "$1" 100 "$2" 1 tungstenite | sed -n 's/.*msgs_per_s=\([0-9]*\).*/\1/p'; }
t=$(quiet); base1=$(median "$(bare 2000000 1)" "$(bare 2000000 1)" "$(bare 2000000 1)"); disturbed base1 "$t"
t=$(quiet); base64=$(median "$(bare 10000000 64)" "$(bare 10000000 64)" "$(bare 10000000 64)"); disturbed base64 "$t"
kill "${PIDS[0]}"

RP=$(free_port)
RUST_LOG=warn RUNNEL_LIMITS_WS_MAX_CONNECTIONS=$((SOCKETS + 1000)) \
  "$BIN" serve --data-dir "$DATA" --listen "127.0.0.1:$RP" 2>"$OUT/server.log" & RPID=$!; PIDS+=($RPID)
wait_port "$RP"
export RUNNEL_URL="http://127.0.0.1:$RP"

# 4. Idle sockets first, on the fresh server: RSS before, and while all are held.
sleep 1
t=$(quiet)
rss0=$(rss_kb "$RPID")
"$BIN" bench sockets -n "$SOCKETS" --hold 10s --json >"$OUT/sockets.json" 2>"$OUT/sockets.err" & SPID=$!
for _ in $(seq 600); do grep -q "sockets open" "$OUT/sockets.err" && break; kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
sleep 3
rss1=$(rss_kb "$RPID")
wait "$SPID" || { cat "$OUT/sockets.err" >&2; echo "bench sockets failed" >&2; exit 1; }
opened=$(field "$OUT/sockets.json" opened)
disturbed sockets "$t"

# 3. End-to-end latency at 10,000 records/s, HTTP produce → WebSocket.
t=$(quiet)
"$BIN" bench latency --rate 10000 -d "${D}s" --json >"$OUT/latency.json" 2>"$OUT/latency.err" \
  || { tail -5 "$OUT/latency.err" >&2; echo "bench latency failed" >&2; exit 1; }
disturbed latency "$t"

# 1. One WebSocket consumer reading PREFILL records of 100 B from the start (JSON values).
t=$(quiet)
"$BIN" bench consume --transport ws -t ws-consume -f json --prefill "$PREFILL" --json >"$OUT/consume.json" 2>"$OUT/consume.err" \
  || { tail -5 "$OUT/consume.err" >&2; echo "bench consume --transport ws failed" >&2; exit 1; }
disturbed consume "$t"

# 5. One v2 consumer instance polling the same records (a new group reads from the start).
t=$(quiet)
"$BIN" bench consume --transport http -t ws-consume -f json --group "bench-$RP" --json >"$OUT/poll.json" 2>"$OUT/poll.err" \
  || { tail -5 "$OUT/poll.err" >&2; echo "bench consume --group failed" >&2; exit 1; }
disturbed poll "$t"

# 2. WebSocket produce, 500 records of 100 B per message, JSON and binary frames.
t=$(quiet)
"$BIN" bench produce --transport ws -t ws-produce-json -b 500 -f json -d "${D}s" --json >"$OUT/produce-json.json" 2>"$OUT/produce-json.err" \
  || { tail -5 "$OUT/produce-json.err" >&2; echo "bench produce -f json failed" >&2; exit 1; }
disturbed produce-json "$t"
t=$(quiet)
"$BIN" bench produce --transport ws -t ws-produce-binary -b 500 -f binary -d "${D}s" --json >"$OUT/produce-binary.json" 2>"$OUT/produce-binary.err" \
  || { tail -5 "$OUT/produce-binary.err" >&2; echo "bench produce -f binary failed" >&2; exit 1; }
disturbed produce-binary "$t"
rss2=$(rss_kb "$RPID")

python3 - "$OUT" "$START" "$base1" "$base64" "$SOCKETS" "$opened" "$rss0" "$rss1" "$rss2" <<'PY'
import json, sys
out, start, base1, base64, n, opened, rss0, rss1, rss2 = sys.argv[1:]
dist = set(open(f"{out}/disturbed").read().split())
star = lambda name: " *" if name in dist else ""
base1, base64, n, opened = float(base1), float(base64), int(n), int(opened)
rss0, rss1, rss2 = int(rss0), int(rss1), int(rss2)
load = lambda name: json.load(open(f"{out}/{name}.json"))
lat, con, poll = load("latency"), load("consume"), load("poll")
pj, pb = load("produce-json"), load("produce-binary")
per_socket = (rss1 - rss0) * 1024 / max(opened, 1)
ms = lambda us: f"{us/1000:.2f} ms"
ok = lambda good: "PASS" if good else "FAIL"
rows = [
    ("bare WS push, 100 B frames, flushed 1 by 1", f"{base1:,.0f} frames/s{star('base1')}", "(baseline)", "", ""),
    ("bare WS push, 100 B frames, flushed 64 at a time", f"{base64:,.0f} frames/s{star('base64')}", "(baseline)", "", ""),
    ("1. WS consume, 1 socket, 100 B records", f"{con['records_per_sec']:,.0f} records/s{star('consume')}",
     f"{con['records_per_sec']/base1:.2f}x / {con['records_per_sec']/base64:.2f}x", ">= 1,000,000/s",
     ok(con['records_per_sec'] >= 1e6)),
    ("2. WS produce, 500 x 100 B/message, JSON", f"{pj['records_per_sec']:,.0f} records/s{star('produce-json')}", "",
     ">= 1,000,000/s", ok(pj['records_per_sec'] >= 1e6)),
    ("2. WS produce, 500 x 100 B/message, binary", f"{pb['records_per_sec']:,.0f} records/s{star('produce-binary')}", "",
     ">= 1,000,000/s", ok(pb['records_per_sec'] >= 1e6)),
    (f"3. HTTP produce -> WS, e2e at {lat['offered_rate']:,.0f}/s",
     f"p50 {ms(lat['e2e_latency_us']['p50'])}, p99 {ms(lat['e2e_latency_us']['p99'])}{star('latency')}", "",
     "p50 < 1 ms, p99 < 5 ms",
     ok(lat['e2e_latency_us']['p50'] < 1000 and lat['e2e_latency_us']['p99'] < 5000 and lat['lost'] == 0)),
    ("   (ack: send -> HTTP response)",
     f"p50 {ms(lat['ack_latency_us']['p50'])}, p99 {ms(lat['ack_latency_us']['p99'])}", "", "", ""),
    (f"4. idle WS sockets ({opened:,} of {n:,} open)", f"{per_socket/1024:.1f} KiB/socket{star('sockets')}", "",
     "< 64 KiB", ok(opened == n and per_socket < 64 * 1024)),
    ("5. v2 consumer instance poll", f"{poll['records_per_sec']:,.0f} records/s{star('poll')}", "", ">= 500,000/s",
     ok(poll['records_per_sec'] >= 5e5)),
]
print(f"bench-ws.sh run started {start}" + (f"; * = a compiler ran meanwhile ({', '.join(sorted(dist))})" if dist else "; no compiler ran during any figure"))
print(f"{'figure':<50} {'Runnel':<28} {'ratio (bare 1 / 64)':<20} {'goal':<24} result")
for r in rows:
    print(f"{r[0]:<50} {r[1]:<28} {r[2]:<20} {r[3]:<24} {r[4]}")
print(f"latency: {lat['records_sent']:,} sent, {lat['records_acked']:,} acked, {lat['records_received']:,} received, "
      f"{lat['lost']} lost; e2e p99.9 {ms(lat['e2e_latency_us']['p999'])}, max {ms(lat['e2e_latency_us']['max'])}")
print(f"server RSS: {rss0//1024} MB idle, {rss1//1024} MB with {opened:,} sockets, {rss2//1024} MB at the end")
PY
