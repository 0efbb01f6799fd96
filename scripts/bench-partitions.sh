#!/usr/bin/env bash
# Figures for many partitions (issue 9, items 4 and 5):
#   - TOPICS x PARTITIONS empty partitions (default 10 x 1,000 = 10,000) created through the v3
#     API: seconds taken, disk use of the data dir (allocated and apparent), index bytes;
#   - a little produced to each topic (RECORDS keyed records per topic, spread over its
#     partitions by murmur2), then `kill -9` and a restart: seconds until /ready, the restart's
#     peak RSS (VmHWM of the new process at /ready) and its open descriptors.
# Usage: scripts/bench-partitions.sh [TOPICS] [PARTITIONS] [RECORDS]   (never while a build runs;
# FORCE=1 runs anyway). RUNNEL_BIN=path uses an already built binary instead of building
# target/release/runnel.
set -euo pipefail
cd "$(dirname "$0")/.."
TOPICS=${1:-10}
PARTITIONS=${2:-1000}
RECORDS=${3:-1000}
TARGET=${CARGO_TARGET_DIR:-target}
if pgrep -x rustc >/dev/null && [ -z "${FORCE:-}" ]; then
  echo "a build is running; benchmark later (FORCE=1 to run anyway)" >&2; exit 1
fi
if [ -z "${RUNNEL_BIN:-}" ]; then
  cargo build --release -q -p runnel --bin runnel
  RUNNEL_BIN=$TARGET/release/runnel
fi
export RUNNEL_BIN
# shellcheck source=scripts/lib-server.sh
. scripts/lib-server.sh

now() { date +%s.%N; }
# lib-server.sh's start_runnel gives up after 10 s; a restart with 10,000 partitions may take
# longer on a slow machine, so this one waits up to 10 minutes.
start_server() {
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  base="http://127.0.0.1:$port"
  RUST_LOG=warn "$RUNNEL_BIN" serve --data-dir "$work/data" --listen "127.0.0.1:$port" \
    >>"$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 6000); do
    curl -fsS -o /dev/null "$base/ready" 2>/dev/null && return 0
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "runnel never became ready" >&2; exit 1
}
since() { python3 -c "print(f'{$(now) - $1:.2f}')"; }
ulimit -n "$(ulimit -Hn)"
echo "open-file limit: $(ulimit -n); binary: $RUNNEL_BIN"

start_server
cid=$(curl -fsS "$base/v3/clusters" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["cluster_id"])')
t0=$(now)
for t in $(seq 1 "$TOPICS"); do
  curl -fsS -o /dev/null -X POST "$base/v3/clusters/$cid/topics" -H 'Content-Type: application/json' \
    -d "{\"topic_name\":\"bench-$t\",\"partitions_count\":$PARTITIONS}"
done
echo "created $TOPICS x $PARTITIONS partitions in $(since "$t0") s"
echo "data dir: $(du -sk "$work/data" | cut -f1) KiB allocated, $(du -sk --apparent-size "$work/data" | cut -f1) KiB apparent"
idx=$(find "$work/data/topics" \( -name '*.index' -o -name '*.timeindex' \) -printf '%s\n' | awk '{s+=$1} END {print s+0}')
echo "index files: $idx bytes in all"
echo "open descriptors with every partition empty: $(ls /proc/"$server_pid"/fd | wc -l)"

for t in $(seq 1 "$TOPICS"); do
  python3 - "$base" "bench-$t" "$RECORDS" <<'EOF'
import json, sys, urllib.request
base, topic, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
for start in range(0, n, 100):
    recs = [{"key": f"k{i}", "value": {"n": i}} for i in range(start, min(n, start + 100))]
    req = urllib.request.Request(f"{base}/topics/{topic}", data=json.dumps({"records": recs}).encode(),
                                 headers={"Content-Type": "application/vnd.kafka.json.v2+json"})
    urllib.request.urlopen(req).read()
EOF
done
echo "produced $RECORDS records to each topic"

kill -9 "$server_pid"; wait "$server_pid" 2>/dev/null || true
t0=$(now)
start_server
echo "restart after kill -9: ready in $(since "$t0") s (polled every 0.1 s)"
echo "restart peak RSS: $(awk '/VmHWM/ {print $2, $3}' /proc/"$server_pid"/status); open descriptors: $(ls /proc/"$server_pid"/fd | wc -l)"
python3 - "$base" bench-1 "$PARTITIONS" "$RECORDS" <<'EOF'
import json, sys, urllib.request
base, topic, parts, want = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
got = 0
for p in range(parts):
    req = urllib.request.Request(f"{base}/topics/{topic}/partitions/{p}/records?offset=0&max_bytes=1048576",
                                 headers={"Accept": "application/vnd.kafka.json.v2+json"})
    got += len(json.load(urllib.request.urlopen(req)))
print(f"{topic} reads back {got} of {want} records after the restart")
sys.exit(0 if got == want else 1)
EOF
