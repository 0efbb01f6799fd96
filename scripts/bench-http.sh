#!/usr/bin/env bash
# Same-run HTTP benchmark of the gateway against the bare axum baseline in ../shared/bench.
# Prints each figure with its baseline and the ratio. Needs wrk (installed if missing).
# Usage: scripts/bench-http.sh [DURATION_SECONDS]   (never while a build is running)
# RUNNEL_BIN=path uses an already built binary instead of building target/release/runnel.
set -euo pipefail
cd "$(dirname "$0")/.."
D=${1:-10}
SHARED=${SHARED:-../shared}
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
if pgrep -x rustc >/dev/null && [ -z "${FORCE:-}" ]; then echo "a build is running; benchmark later (FORCE=1 to run anyway)" >&2; exit 1; fi
BIN=${RUNNEL_BIN:-target/release/runnel}
[ -n "${RUNNEL_BIN:-}" ] || cargo build --release -q -p runnel --bin runnel
cargo build --release -q --manifest-path "$SHARED/bench/baseline-server/Cargo.toml" --target-dir "${TMPDIR:-/tmp}/baseline-target"

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 200); do (echo >/dev/tcp/127.0.0.1/$1) 2>/dev/null && return; sleep 0.05; done; echo "port $1 never opened" >&2; exit 1; }
rps() { awk '/Requests\/sec/ {print $2}'; }
PIDS=()
DATA=$(mktemp -d)
trap 'kill "${PIDS[@]}" 2>/dev/null || true; rm -rf "$DATA"' EXIT

BP=$(free_port)
"${TMPDIR:-/tmp}/baseline-target/release/httpd" "127.0.0.1:$BP" 600 2>/dev/null & PIDS+=($!)
wait_port "$BP"
base_post=$(wrk -t2 -c64 -d${D}s -s "$SHARED/bench/post.lua" "http://127.0.0.1:$BP/produce" | rps)
kill "${PIDS[0]}"

RP=$(free_port)
RUST_LOG=warn "$BIN" serve --data-dir "$DATA" --listen "127.0.0.1:$RP" 2>"$DATA.log" & RPID=$!; PIDS+=($RPID)
wait_port "$RP"
U="http://127.0.0.1:$RP"
CID=$(curl -s "$U/v3/clusters" | python3 -c 'import sys,json;print(json.load(sys.stdin)["data"][0]["cluster_id"])')
curl -s -o /dev/null -X POST "$U/v3/clusters/$CID/topics" -H 'Content-Type: application/json' -d '{"topic_name":"bench","partitions_count":1}'

single=$(wrk -t2 -c64 -d${D}s -s scripts/wrk/produce1.lua "$U/topics/bench?acks=1" | rps)
batched_rps=$(wrk -t2 -c16 -d${D}s -s scripts/wrk/produce500.lua "$U/topics/bench?acks=1" | rps)
batched=$(python3 -c "print(int(float('$batched_rps')*500))")
rss_kb=$(ps -o rss= -p "$RPID" | tr -d ' ')

# Latency at about half of the maximum single-record rate.
half=$(python3 -c "print(float('$single')/2)")
conns=32
pace=$(python3 -c "print(max(1,int($conns*1000/$half)))")
lat=$(PACE_MS=$pace wrk -t2 -c$conns -d${D}s --latency -s scripts/wrk/produce1-paced.lua "$U/topics/bench?acks=1")
offered=$(echo "$lat" | rps)
p50=$(echo "$lat" | awk '$1=="50%" {print $2}')
p99=$(echo "$lat" | awk '$1=="99%" {print $2}')

end=$(curl -s "$U/topics/bench/partitions/0/offsets" | python3 -c 'import sys,json;print(json.load(sys.stdin)["end_offset"])' 2>/dev/null || echo 1000000)
per_read=$(curl -s "$U/topics/bench/partitions/0/records?offset=0&max_bytes=1048576" -H 'Accept: application/vnd.kafka.binary.v2+json' | python3 -c 'import sys,json;print(len(json.load(sys.stdin)))')
read_rps=$(END_OFFSET=$end wrk -t2 -c8 -d${D}s -s scripts/wrk/read.lua "$U" | rps)
reads=$(python3 -c "print(int(float('$read_rps')*$per_read))")
rss_kb2=$(ps -o rss= -p "$RPID" | tr -d ' ')
# What stays resident once the load stops: a leak or an allocator that keeps freed pages shows here.
sleep 15
rss_kb3=$(ps -o rss= -p "$RPID" | tr -d ' ')

python3 - "$base_post" "$single" "$batched" "$offered" "$p50" "$p99" "$reads" "$per_read" "$rss_kb" "$rss_kb2" "$rss_kb3" <<'PY'
import sys
base, single, batched, offered, p50, p99, reads, per_read, rss1, rss2, rss3 = sys.argv[1:]
def ms(s):
    return float(s[:-2]) if s.endswith("ms") else float(s[:-2])/1000 if s.endswith("us") else float(s[:-1])*1000
base, single = float(base), float(single)
rows = [
    ("bare axum POST (baseline)", f"{base:,.0f} req/s", "", ""),
    ("v2 produce, 1 record/request, acks=1", f"{single:,.0f} req/s", f"{single/base:.2f}x baseline", "PASS" if single/base >= 0.5 else "FAIL (goal 0.5x)"),
    ("v2 produce, 500 x 100 B/request", f"{int(batched):,} records/s", "", "PASS" if int(batched) >= 1_000_000 else "FAIL (goal 1,000,000)"),
    (f"latency at {float(offered):,.0f} req/s (~half max)", f"p50 {p50}, p99 {p99}", "", "PASS" if ms(p99) < 5 else "FAIL (goal p99 < 5 ms)"),
    (f"stateless read, {per_read} records/response", f"{int(reads):,} records/s", "", "PASS" if int(reads) >= 1_000_000 else "FAIL (goal 1,000,000)"),
    ("RSS after produce / after reads", f"{int(rss1)//1024} MB / {int(rss2)//1024} MB", "", "PASS" if max(int(rss1), int(rss2)) < 200*1024 else "FAIL (goal < 200 MB)"),
    ("RSS 15 s after the reads", f"{int(rss3)//1024} MB", "", "PASS" if int(rss3) < 200*1024 else "FAIL (goal < 200 MB)"),
]
for r in rows:
    print(f"{r[0]:<44} {r[1]:<28} {r[2]:<18} {r[3]}")
PY
