#!/usr/bin/env bash
# Builds the cargo-fuzz targets in fuzz/ and runs each for FUZZ_SECONDS (default 30) starting
# from its committed seeds (fuzz/seeds/<target>/, copied into the scratch corpus fuzz/corpus/).
# Exits non-zero when a target crashes; the crashing input is left in fuzz/artifacts/<target>/
# and can be replayed with `cargo +nightly fuzz run <target> fuzz/artifacts/<target>/<file>`.
#
# Toolchain: `cargo +nightly fuzz` (AddressSanitizer) when a nightly toolchain is installed;
# otherwise stable with RUSTC_BOOTSTRAP=1 and `--sanitizer none` (still coverage-guided, with
# overflow checks; only ASan's checks of the C zstd code and the index mmaps are lost).
#
# Env: FUZZ_SECONDS (per target), FUZZ_TARGETS (space-separated subset; default all),
# FUZZ_TOOLCHAIN=stable (take the stable path even where nightly is installed).
# Cost: a cold build is ~7 CPU-minutes (the whole runnel crate, instrumented; 12 min wall on a
# busy 2-core machine), a warm run ~4 s of build plus FUZZ_SECONDS per target.
set -euo pipefail
cd "$(dirname "$0")/.."

secs="${FUZZ_SECONDS:-30}"
started=$(date +%s)

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz.sh: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi

if [ "${FUZZ_TOOLCHAIN:-}" != stable ] && rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    fuzz=(cargo +nightly fuzz)
    flags=()
    echo "fuzz.sh: nightly toolchain, AddressSanitizer on" >&2
else
    export RUSTC_BOOTSTRAP=1
    fuzz=(cargo fuzz)
    # Its own target dir: a build without sanitizer must not evict the nightly one.
    flags=(--sanitizer none --target-dir fuzz/target/stable)
    echo "fuzz.sh: stable toolchain with RUSTC_BOOTSTRAP=1, no sanitizer" >&2
fi

read -r -a targets <<<"${FUZZ_TARGETS:-$("${fuzz[@]}" list | tr '\n' ' ')}"

# One build for all targets; `run` below finds it up to date.
"${fuzz[@]}" build "${flags[@]}"
echo "fuzz.sh: built in $(($(date +%s) - started)) s" >&2

status=0
for t in "${targets[@]}"; do
    corpus="fuzz/corpus/$t"
    mkdir -p "$corpus" "fuzz/artifacts/$t"
    if [ -d "fuzz/seeds/$t" ]; then
        cp -n "fuzz/seeds/$t"/* "$corpus"/ 2>/dev/null || true
    fi
    echo "fuzz.sh: running $t for ${secs} s" >&2
    # -timeout: one input running this long is a hang, and a failure.
    # -rss_limit_mb: decoding is bounded; a target using this much memory is a bug.
    if ! "${fuzz[@]}" run "${flags[@]}" "$t" "$corpus" -- \
        -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
        >"fuzz/artifacts/$t.log" 2>&1; then
        echo "fuzz.sh: $t FAILED; last lines of fuzz/artifacts/$t.log:" >&2
        grep -m 3 -A 3 'panicked at' "fuzz/artifacts/$t.log" >&2 || true
        tail -n 40 "fuzz/artifacts/$t.log" >&2
        status=1
    else
        grep -E '^stat::number_of_executed_units|^stat::average_exec_per_sec|^Done' \
            "fuzz/artifacts/$t.log" | sed "s/^/fuzz.sh: $t: /" >&2 || true
    fi
done

echo "fuzz.sh: done in $(($(date +%s) - started)) s" >&2
exit "$status"
