#!/usr/bin/env bash
# Storage-engine benchmarks against same-run baselines on this machine.
#
# Builds the criterion benches (server/benches/{append,fetch,index_lookup}.rs), measures `dd`
# write (conv=fdatasync) and warm read bandwidth on the same disk, runs the benches, and prints
# each issue target with Runnel's figure, the baseline, the ratio and PASS/FAIL.
#
# Usage: scripts/bench-log.sh [--quick]
#   --quick   smoke run (64 MiB logs, 1 s per bench): checks that everything works; the figures
#             do not count.
# Environment:
#   RUNNEL_BENCH_DIR   where temporary logs and dd files go (default: /tmp/runnel-bench when /tmp
#                      is on the same disk as this repository and not tmpfs, else
#                      target/bench-tmp). Must be a real disk, the one the broker would use.
#   RUNNEL_BENCH_SECS, RUNNEL_BENCH_{DURABLE,FETCH,LOOKUP,RECOVERY}_MIB: see server/benches/.
#
# Durability figures are meaningless while anything else writes to the disk or burns the CPUs:
# the script refuses to start (and aborts) while a rustc is running.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
export LC_ALL=C

die() { echo "bench-log: $*" >&2; exit 1; }
step() { printf '\n==> %s\n' "$*" >&2; }
require_quiet() {
  if pgrep -x rustc >/dev/null; then
    die "a cargo/rustc build is running ($(pgrep -x rustc | wc -l) rustc); durability benchmarks are meaningless during builds — retry when the machine is quiet${1:+ ($1)}"
  fi
}

QUICK=0
case "${1:-}" in
  --quick) QUICK=1 ;;
  "") ;;
  *) die "usage: scripts/bench-log.sh [--quick]" ;;
esac
if [ "$QUICK" = 1 ]; then
  export RUNNEL_BENCH_SECS=${RUNNEL_BENCH_SECS:-1}
  for v in DURABLE FETCH LOOKUP RECOVERY; do
    eval "export RUNNEL_BENCH_${v}_MIB=\${RUNNEL_BENCH_${v}_MIB:-64}"
  done
fi
DURABLE_MIB=${RUNNEL_BENCH_DURABLE_MIB:-1024}
export RUNNEL_BENCH_DURABLE_MIB=$DURABLE_MIB

for tool in cargo dd jq awk pgrep df stat; do
  command -v "$tool" >/dev/null || die "needs $tool"
done
require_quiet "before the build"

# --- where the data goes: the repository's disk, never tmpfs -----------------------------------
repo_dev=$(stat -c %d "$REPO")
if [ -z "${RUNNEL_BENCH_DIR:-}" ]; then
  tmp=${TMPDIR:-/tmp}
  if [ "$(df --output=fstype "$tmp" | tail -1 | tr -d ' ')" != tmpfs ] \
    && [ "$(stat -c %d "$tmp")" = "$repo_dev" ]; then
    RUNNEL_BENCH_DIR=$tmp/runnel-bench
  else
    RUNNEL_BENCH_DIR=$REPO/target/bench-tmp
  fi
fi
mkdir -p "$RUNNEL_BENCH_DIR"
export RUNNEL_BENCH_DIR
[ "$(df --output=fstype "$RUNNEL_BENCH_DIR" | tail -1 | tr -d ' ')" != tmpfs ] \
  || die "RUNNEL_BENCH_DIR=$RUNNEL_BENCH_DIR is tmpfs: the figures would not be the disk's"
[ "$(stat -c %d "$RUNNEL_BENCH_DIR")" = "$repo_dev" ] \
  || echo "bench-log: warning: $RUNNEL_BENCH_DIR is not on the repository's disk" >&2
avail_mib=$(df --output=avail -m "$RUNNEL_BENCH_DIR" | tail -1 | tr -d ' ')
[ "$avail_mib" -gt $((DURABLE_MIB * 4)) ] || die "only ${avail_mib} MiB free in $RUNNEL_BENCH_DIR"

# --- build ---------------------------------------------------------------------------------------
step "cargo bench -p runnel --no-run (append, fetch, index_lookup)"
declare -A BIN
while read -r name exe; do
  BIN[$name]=$exe
done < <(cargo bench -p runnel --bench append --bench fetch --bench index_lookup --no-run \
  --message-format=json-render-diagnostics \
  | jq -r 'select(.reason == "compiler-artifact" and .executable != null
                  and (.target.kind | index("bench"))) | "\(.target.name) \(.executable)"')
for b in append fetch index_lookup; do
  [ -x "${BIN[$b]:-}" ] || die "bench $b did not build (run: cargo bench -p runnel --no-run)"
done
require_quiet "after the build"

OUT=$REPO/target/bench-log/$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
export CRITERION_HOME=$OUT/criterion
step "results in $OUT; data in $RUNNEL_BENCH_DIR"
{
  echo "date: $(date -Is)"
  echo "commit: $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$REPO" diff --quiet 2>/dev/null || echo ' (dirty tree)')"
  echo "cpus: $(nproc); load: $(cut -d' ' -f1-3 /proc/loadavg); disk: $(df --output=source "$RUNNEL_BENCH_DIR" | tail -1)"
  if [ "$QUICK" = 1 ]; then echo "QUICK RUN: small sizes, short measurements; figures do not count"; fi
} | tee "$OUT/env.txt" >&2

# --- dd baselines ------------------------------------------------------------------------------
# Prints bytes/s of one dd run (from dd's own byte count and elapsed seconds).
dd_rate() {
  dd "$@" 2>&1 | awk -F', ' '/copied/ { split($1, b, " "); split($(NF-1), s, " ");
                                        printf "%.0f\n", b[1] / s[1] }'
}
median3() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
mbs() { awk -v v="$1" 'BEGIN { printf "%.0f MB/s", v / 1e6 }'; }

dd_write() {
  local rates=() f=$RUNNEL_BENCH_DIR/dd-write.bin r
  for _ in 1 2 3; do
    require_quiet "during the dd write baseline"
    rm -f "$f"
    r=$(dd_rate if=/dev/zero of="$f" bs=1M count="$DURABLE_MIB" conv=fdatasync)
    rm -f "$f"
    rates+=("$r")
    echo "  dd write ${DURABLE_MIB} MiB conv=fdatasync: $(mbs "$r")" >&2
  done
  median3 "${rates[@]}"
}

run_bench() { # name [criterion args...]
  local name=$1
  shift
  require_quiet "before bench $name"
  step "bench $name"
  "${BIN[$name]}" --bench "$@" 2>&1 | tee "$OUT/$name.log" >&2
  require_quiet "after bench $name (its figures are suspect)"
}

step "baseline: dd write, ${DURABLE_MIB} MiB, conv=fdatasync, 3 runs"
DD_WRITE=$(dd_write)
run_bench append

FETCH_DIR=$RUNNEL_BENCH_DIR/fetch-log
RUNNEL_BENCH_FETCH_DIR=$FETCH_DIR run_bench fetch
step "baseline: dd read of the fetch bench's warm segment, bs=1M, 3 runs"
segments=("$FETCH_DIR"/*.log)
[ "${#segments[@]}" = 1 ] && [ -f "${segments[0]}" ] || die "expected one segment in $FETCH_DIR"
SEGMENT=${segments[0]}
dd if="$SEGMENT" of=/dev/null bs=1M 2>/dev/null # warm
read_rates=()
for _ in 1 2 3; do
  require_quiet "during the dd read baseline"
  r=$(dd_rate if="$SEGMENT" of=/dev/null bs=1M)
  read_rates+=("$r")
  echo "  dd read $(du -m "$SEGMENT" | cut -f1) MiB: $(mbs "$r")" >&2
done
DD_READ=$(median3 "${read_rates[@]}")
rm -rf "$FETCH_DIR"

run_bench index_lookup

# --- table ---------------------------------------------------------------------------------------
# Median time per iteration (ns) and the per-iteration throughput of one criterion bench.
median_ns() { jq -r '.median.point_estimate' "$CRITERION_HOME/$1/new/estimates.json"; }
per_iter() { jq -r '.throughput | if . == null then 0 else (.Bytes // .Elements) end' \
  "$CRITERION_HOME/$1/new/benchmark.json"; }
rate() { awk -v n="$(per_iter "$1")" -v t="$(median_ns "$1")" 'BEGIN { printf "%.0f", n / t * 1e9 }'; }

FAILS=0
row() { # target runnel baseline ratio goal pass
  printf '%-52s %14s %14s %6s %9s  %s\n' "$@"
  [ "$6" = PASS ] || [ "$6" = "-" ] || FAILS=$((FAILS + 1))
}
verdict() { awk -v v="$1" -v g="$2" -v op="$3" \
  'BEGIN { ok = (op == ">=") ? (v >= g) : (v < g); print ok ? "PASS" : "FAIL" }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }'; }

{
  echo
  printf '%-52s %14s %14s %6s %9s  %s\n' target runnel baseline ratio goal result
  for b in preencoded encode_in_loop; do
    r=$(rate "append_durable/$b")
    x=$(ratio "$r" "$DD_WRITE")
    row "append 1KiB x64 + fdatasync ($b)" "$(mbs "$r")" "dd $(mbs "$DD_WRITE")" "$x" ">= 0.80" \
      "$(verdict "$x" 0.80 '>=')"
  done
  r=$(rate append_durable/preencoded_checked)
  row "  (same through the CRC-checking append, for info)" "$(mbs "$r")" "dd $(mbs "$DD_WRITE")" \
    "$(ratio "$r" "$DD_WRITE")" "-" "-"
  for b in preencoded encode_and_append; do
    r=$(rate "append_page_cache/$b")
    row "append 100B x1000, page cache ($b)" "$(awk -v r="$r" 'BEGIN { printf "%.2f M rec/s", r / 1e6 }')" \
      "-" "-" ">= 5 M/s" "$(verdict "$r" 5e6 '>=')"
  done
  r=$(rate fetch_page_cache/log_read_1MiB)
  x=$(ratio "$r" "$DD_READ")
  row "fetch 1 MiB reads, warm (Log::read)" "$(mbs "$r")" "dd $(mbs "$DD_READ")" "$x" ">= 0.50" \
    "$(verdict "$x" 0.50 '>=')"
  p=$(rate fetch_page_cache/pread_1MiB_baseline)
  row "  (in-process 1 MiB pread loop, for info)" "$(mbs "$p")" "dd $(mbs "$DD_READ")" \
    "$(ratio "$p" "$DD_READ")" "-" "-"
  for b in plan_read_16KiB_batches segment_find_16KiB_batches plan_read_200B_batches \
    segment_find_200B_batches; do
    t=$(median_ns "offset_lookup/$b")
    row "offset lookup, $b" "$(awk -v t="$t" 'BEGIN { printf "%.2f us", t / 1e3 }')" "-" "-" \
      "< 5 us" "$(verdict "$t" 5000 '<')"
  done
  for b in after_kill9_clean_cache after_kill9_dirty; do
    t=$(median_ns "recovery/$b")
    row "recovery open, $b" "$(awk -v t="$t" 'BEGIN { printf "%.2f s", t / 1e9 }')" "-" "-" \
      "< 3 s" "$(verdict "$t" 3e9 '<')"
  done
  echo
  grep -h '^runnel-bench:' "$OUT"/*.log | sed 's/^runnel-bench: /  /' || true
  echo
  echo "dd write runs and dd read runs are in the log above; criterion data in $CRITERION_HOME"
  if [ "$QUICK" = 1 ]; then
    echo "QUICK RUN: small sizes, short measurements; these figures do not count"
  fi
} >"$OUT/summary.txt"
cat "$OUT/summary.txt"
exit $((FAILS > 0))
