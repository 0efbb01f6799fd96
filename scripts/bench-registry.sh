#!/usr/bin/env bash
# Same-run benchmark of the schema registry (issue 5):
#   - GET /schemas/ids/{id} under wrk -t2 -c64 against the bare axum server's GET / from
#     ../shared/bench (goal: >= 0.5x the baseline);
#   - 10,000 subjects x 5 versions registered under BACKWARD_TRANSITIVE by
#     tests/examples/registry_bench.rs, 32 subjects at a time (goal: < 30 s);
#   - a restart that replays them: SIGTERM, start, time until /ready (goal: < 2 s), next to the
#     start of an empty data dir measured in the same run.
# Usage: scripts/bench-registry.sh [DURATION_SECONDS] [SUBJECTS] [VERSIONS]   (never while a build
# runs). RUNNEL_BIN=path uses an already built binary instead of building target/release/runnel.
set -euo pipefail
cd "$(dirname "$0")/.."
D=${1:-10}
SUBJECTS=${2:-10000}
VERSIONS=${3:-5}
SHARED=${SHARED:-../shared}
TARGET=${CARGO_TARGET_DIR:-target}
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
if pgrep -x rustc >/dev/null && [ -z "${FORCE:-}" ]; then echo "a build is running; benchmark later (FORCE=1 to run anyway)" >&2; exit 1; fi
BIN=${RUNNEL_BIN:-$TARGET/release/runnel}
[ -n "${RUNNEL_BIN:-}" ] || cargo build --release -q -p runnel --bin runnel
cargo build --release -q -p runnel-e2e --example registry_bench
LOAD=$TARGET/release/examples/registry_bench
cargo build --release -q --manifest-path "$SHARED/bench/baseline-server/Cargo.toml" --target-dir "${TMPDIR:-/tmp}/baseline-target"

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 200); do (echo >/dev/tcp/127.0.0.1/$1) 2>/dev/null && return; sleep 0.05; done; echo "port $1 never opened" >&2; exit 1; }
rps() { awk '/Requests\/sec/ {print $2}'; }
now() { date +%s.%N; }
PIDS=()
DATA=$(mktemp -d)
trap 'kill "${PIDS[@]}" 2>/dev/null || true; rm -rf "$DATA" "$DATA.empty" "$DATA.log"' EXIT

# Starts runnel on $1 (data dir) and port $2; sets RPID, and STARTED to the seconds until
# /ready answered.
start_runnel() {
  local t0; t0=$(now)
  RUST_LOG=warn,runnel_schema_registry=info "$BIN" serve --data-dir "$1" --listen "127.0.0.1:$2" >>"$DATA.log" 2>&1 & RPID=$!; PIDS+=($RPID)
  for _ in $(seq 2000); do
    curl -fs -o /dev/null "http://127.0.0.1:$2/ready" && { STARTED=$(python3 -c "print($(now) - $t0)"); return; }
    sleep 0.01
  done
  echo "runnel never became ready; see $DATA.log" >&2; exit 1
}
stop_runnel() { kill -TERM "$RPID"; wait "$RPID" 2>/dev/null || true; }

BP=$(free_port)
"${TMPDIR:-/tmp}/baseline-target/release/httpd" "127.0.0.1:$BP" 600 2>/dev/null & PIDS+=($!)
wait_port "$BP"
base_get=$(wrk -t2 -c64 -d${D}s "http://127.0.0.1:$BP/" | rps)
kill "${PIDS[0]}"

RP=$(free_port)
start_runnel "$DATA.empty" "$RP"
empty_start=$STARTED
stop_runnel
U="http://127.0.0.1:$RP"
start_runnel "$DATA" "$RP"
curl -fs -o /dev/null -X POST "$U/subjects/wrk-value/versions" -H 'Content-Type: application/vnd.schemaregistry.v1+json' \
  -d '{"schema": "{\"type\":\"record\",\"name\":\"Wrk\",\"fields\":[{\"name\":\"id\",\"type\":\"long\"},{\"name\":\"name\",\"type\":\"string\"}]}"}'
by_id=$(wrk -t2 -c64 -d${D}s "$U/schemas/ids/1" | rps)
curl -fs -o /dev/null -X DELETE "$U/subjects/wrk-value"
curl -fs -o /dev/null -X DELETE "$U/subjects/wrk-value?permanent=true"

load=$("$LOAD" "$U" "$SUBJECTS" "$VERSIONS" 32)
rss_kb=$(ps -o rss= -p "$RPID" | tr -d ' ')
stop_runnel
start_runnel "$DATA" "$RP"
replay_start=$STARTED
rss_replayed_kb=$(ps -o rss= -p "$RPID" | tr -d ' ')
loaded=$(grep 'schema registry loaded' "$DATA.log" | tail -1 | sed 's/.*records=\([0-9]*\).*/\1/')
stop_runnel

python3 - "$base_get" "$by_id" "$load" "$empty_start" "$replay_start" "$loaded" "$rss_kb" "$rss_replayed_kb" <<'PY'
import json, sys
base, by_id, load, empty, replay, loaded, rss, rss_replayed = sys.argv[1:]
base, by_id, load = float(base), float(by_id), json.loads(load)
empty, replay = float(empty), float(replay)
n = load["registrations"]
rows = [
    ("bare axum GET / (baseline)", f"{base:,.0f} req/s", "", ""),
    ("GET /schemas/ids/{id}", f"{by_id:,.0f} req/s", f"{by_id/base:.2f}x baseline", "PASS" if by_id/base >= 0.5 else "FAIL (goal 0.5x)"),
    (f"register {load['subjects']:,} x {load['versions']} (BACKWARD_TRANSITIVE)", f"{load['seconds']:.1f} s", f"{load['per_second']:,.0f}/s", "PASS" if load["seconds"] < 30 else "FAIL (goal < 30 s)"),
    ("start, empty data dir (baseline)", f"{empty:.2f} s", "", ""),
    (f"restart replaying {n:,} versions ({loaded} records)", f"{replay:.2f} s", f"+{replay-empty:.2f} s over empty", "PASS" if replay < 2 else "FAIL (goal < 2 s)"),
    ("RSS after registering (parsed schemas cached)", f"{int(rss)//1024} MB", "", ""),
    ("RSS after the replay (texts only)", f"{int(rss_replayed)//1024} MB", "", ""),
]
for r in rows:
    print(f"{r[0]:<52} {r[1]:<16} {r[2]:<22} {r[3]}")
PY
