#!/usr/bin/env bash
# Every test Runnel has: formatting, lints, unit/property tests, end-to-end tests against the
# real binary (kill -9, disk full, bad input), Confluent's own Python client, and a short fuzz
# run. Installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets -- -D warnings

step "build the runnel binary for the end-to-end tests"
cargo build -p runnel --bin runnel

step "cargo test (unit, property, end-to-end)"
cargo test --workspace

step "schemathesis against /openapi.json"
bash scripts/schemathesis.sh

step "web UI in headless chromium (playwright-core, axe-core)"; bash scripts/ui-test.sh

step "Confluent's Python client (confluent-kafka, fastavro) against the registry and Avro gateway"
bash scripts/python-client.sh

if [ -x .ci/fuzz.sh ] || [ -f .ci/fuzz.sh ]; then
  step "fuzz (${FUZZ_SECONDS:-30}s per target)"
  bash .ci/fuzz.sh
fi
echo "all tests passed"
