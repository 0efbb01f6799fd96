#!/usr/bin/env bash
# Same-run benchmark of Avro produce through the gateway (issue 5): v2 produce of 500 records of
# about 100 bytes per request, in the avro format (value_schema_id of a registered record schema,
# each record validated and encoded to Confluent-framed Avro) against the same records in the
# json format, alternating three runs of each with wrk -t2 -c16. Goal: avro >= 0.4x json.
# Usage: scripts/bench-avro.sh [DURATION_SECONDS]   (never while a build runs)
# RUNNEL_BIN=path uses an already built binary instead of building target/release/runnel.
set -euo pipefail
cd "$(dirname "$0")/.."
D=${1:-10}
TARGET=${CARGO_TARGET_DIR:-target}
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
if pgrep -x rustc >/dev/null && [ -z "${FORCE:-}" ]; then echo "a build is running; benchmark later (FORCE=1 to run anyway)" >&2; exit 1; fi
BIN=${RUNNEL_BIN:-$TARGET/release/runnel}
[ -n "${RUNNEL_BIN:-}" ] || cargo build --release -q -p runnel --bin runnel

DATA=$(mktemp -d)
PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
RUST_LOG=warn "$BIN" serve --data-dir "$DATA" --listen "127.0.0.1:$PORT" 2>"$DATA.log" & PID=$!
trap 'kill $PID 2>/dev/null || true; rm -rf "$DATA" "$DATA.log"' EXIT
U="http://127.0.0.1:$PORT"
for _ in $(seq 200); do curl -fs "$U/ready" >/dev/null 2>&1 && break; sleep 0.05; done
CID=$(curl -s "$U/v3/clusters" | python3 -c 'import sys,json;print(json.load(sys.stdin)["data"][0]["cluster_id"])')
for t in json avro; do
  curl -fs -o /dev/null -X POST "$U/v3/clusters/$CID/topics" -H 'Content-Type: application/json' -d "{\"topic_name\":\"bench-$t\",\"partitions_count\":1}"
done
ID=$(curl -fs -X POST "$U/subjects/bench-avro-value/versions" -H 'Content-Type: application/vnd.schemaregistry.v1+json' \
  -d '{"schema":"{\"type\":\"record\",\"name\":\"Event\",\"fields\":[{\"name\":\"msg\",\"type\":\"string\"}]}"}' \
  | python3 -c 'import sys,json;print(json.load(sys.stdin)["id"])')

rps() { awk '/Requests\/sec/ {print $2}'; }
run() { FORMAT=$1 VALUE_SCHEMA_ID=$ID wrk -t2 -c16 -d${D}s -s scripts/wrk/produce500-record.lua "$U/topics/bench-$1?acks=1" | rps; }
J=(); A=()
for _ in 1 2 3; do J+=("$(run json)"); A+=("$(run avro)"); done
python3 - "${J[*]}" "${A[*]}" <<'PY'
import statistics, sys
j = [float(x) * 500 for x in sys.argv[1].split()]
a = [float(x) * 500 for x in sys.argv[2].split()]
mj, ma = statistics.median(j), statistics.median(a)
print(f"json produce  (500 x ~100 B per request): median {mj:,.0f} records/s  runs {[f'{x:,.0f}' for x in j]}")
print(f"avro produce  (500 x ~100 B per request): median {ma:,.0f} records/s  runs {[f'{x:,.0f}' for x in a]}")
print(f"avro / json = {ma / mj:.2f}  (goal >= 0.40)")
PY
# Every record is really there, in the avro format.
curl -fs "$U/topics/bench-avro/partitions/0/records?offset=0&max_bytes=300" -H 'Accept: application/vnd.kafka.avro.v2+json' | head -c 200; echo
