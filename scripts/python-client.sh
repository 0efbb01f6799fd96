#!/usr/bin/env bash
# Confluent's own Python client (confluent-kafka from PyPI, with fastavro) against Runnel's
# schema registry and Avro gateway: tests/python/confluent_client.py.
#
# Installs the client into a virtualenv under target/ (kept between runs), starts
# target/debug/runnel (build it first: cargo build -p runnel --bin runnel; RUNNEL_BIN overrides)
# on a free port with a temporary data dir, runs the tests, stops the server.
set -euo pipefail
cd "$(dirname "$0")/.."

CLIENT_REQUIREMENT='confluent-kafka[avro,schemaregistry]==2.16.0'
RUNNEL_BIN="${RUNNEL_BIN:-${CARGO_TARGET_DIR:-target}/debug/runnel}"
VENV="${PY_VENV:-target/py-confluent}"

if ! "$VENV/bin/python" -c 'import confluent_kafka, fastavro' 2>/dev/null; then
  echo "installing $CLIENT_REQUIREMENT into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "$CLIENT_REQUIREMENT"
fi
source scripts/lib-server.sh
start_runnel

RUNNEL_URL="$base" "$VENV/bin/python" -m unittest -v tests/python/confluent_client.py \
  || { echo "--- server log ---" >&2; cat "$work/server.log" >&2; exit 1; }
if grep -q panicked "$work/server.log"; then
  echo "the server panicked:" >&2; cat "$work/server.log" >&2; exit 1
fi
