#!/usr/bin/env bash
# Figures for the cluster (issue 11), on three brokers started here as real processes:
#   - topic creation through the v3 API: p50 and p99 of CREATES sequential creates (each a
#     metadata-log commit applied on the broker that answers), sent to a broker that is not
#     the controller, so each goes through the forwarded proposal path;
#   - batched produce (runnel bench produce, 500 records of 100 bytes per request) to a
#     one-partition topic, straight to its leader and through a broker that forwards to the
#     leader, alternated ROUNDS times, and the ratio forwarded / direct.
# Usage: scripts/bench-cluster.sh [CREATES] [ROUNDS] [SECONDS]   (never while a build runs;
# FORCE=1 runs anyway). RUNNEL_BIN=path uses an already built binary instead of building
# target/release/runnel.
set -euo pipefail
cd "$(dirname "$0")/.."
CREATES=${1:-200}
ROUNDS=${2:-3}
SECONDS_PER_RUN=${3:-10}
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
http=() cluster=()
for i in 1 2 3; do http[$i]=$(free_port); cluster[$i]=$(free_port); done
peers="1@127.0.0.1:${cluster[1]},2@127.0.0.1:${cluster[2]},3@127.0.0.1:${cluster[3]}"
for i in 1 2 3; do
  RUST_LOG=warn "$RUNNEL_BIN" serve --data-dir "$work/b$i" --listen "127.0.0.1:${http[$i]}" \
    --node-id "$i" --cluster-listen "127.0.0.1:${cluster[$i]}" --peers "$peers" \
    >"$work/b$i.log" 2>&1 &
  pids+=($!)
done
for i in 1 2 3; do
  for _ in $(seq 1 300); do
    curl -fsS -o /dev/null "http://127.0.0.1:${http[$i]}/ready" 2>/dev/null && break
    sleep 0.1
  done
done
url() { echo "http://127.0.0.1:${http[$1]}"; }
status=$(curl -fsS "$(url 1)/v1/cluster")
cid=$(echo "$status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["cluster_id"])')
controller=$(echo "$status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["controller_id"])')
asker=1; [ "$controller" = 1 ] && asker=2
echo "3 brokers up; controller $controller; creates sent to broker $asker"

# Topic creation latency, one at a time.
for n in $(seq 1 "$CREATES"); do
  curl -fsS -o /dev/null -w '%{time_total}\n' -X POST -H 'Content-Type: application/json' \
    -d "{\"topic_name\":\"c$n\",\"partitions_count\":3}" \
    "$(url "$asker")/v3/clusters/$cid/topics"
done >"$work/creates.txt"
python3 - "$work/creates.txt" <<'EOF'
import sys
t = sorted(float(x) * 1000 for x in open(sys.argv[1]))
pick = lambda q: t[min(len(t) - 1, int(q * len(t)))]
print(f"create topic ({len(t)} creates, 3 partitions each): p50 {pick(0.50):.1f} ms, p99 {pick(0.99):.1f} ms, max {t[-1]:.1f} ms")
EOF

# Produce straight to the leader and through a forwarding broker.
curl -fsS -o /dev/null -X POST -H 'Content-Type: application/json' \
  -d '{"topic_name":"fwd","partitions_count":1}' "$(url 1)/v3/clusters/$cid/topics"
leader=$(curl -fsS "$(url 1)/v3/clusters/$cid/topics/fwd/partitions/0" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["leader"]["related"].rsplit("/",1)[1])')
other=1; [ "$leader" = 1 ] && other=2
echo "topic fwd: leader broker $leader, forwarded through broker $other"
rate() {
  "$RUNNEL_BIN" bench produce --url "$(url "$1")" --topic fwd --duration "${SECONDS_PER_RUN}s" \
    --acks 1 --json 2>/dev/null | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["records_per_sec"]))'
}
direct=() forwarded=()
for r in $(seq 1 "$ROUNDS"); do
  d=$(rate "$leader"); f=$(rate "$other")
  direct+=("$d"); forwarded+=("$f")
  echo "round $r: direct $d records/s, forwarded $f records/s, ratio $(python3 -c "print(f'{$f/$d:.2f}')")"
done
python3 - "${direct[*]}" "${forwarded[*]}" <<'EOF'
import statistics, sys
d = [float(x) for x in sys.argv[1].split()]
f = [float(x) for x in sys.argv[2].split()]
print(f"median: direct {statistics.median(d):,.0f} records/s, forwarded {statistics.median(f):,.0f} records/s, "
      f"ratio {statistics.median(f) / statistics.median(d):.2f} (goal >= 0.70)")
EOF
