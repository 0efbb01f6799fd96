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
RUNNEL_BIN="${RUNNEL_BIN:-target/debug/runnel}"
VENV="${PY_VENV:-target/py-confluent}"

if ! "$VENV/bin/python" -c 'import confluent_kafka, fastavro' 2>/dev/null; then
  echo "installing $CLIENT_REQUIREMENT into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "$CLIENT_REQUIREMENT"
fi
[ -x "$RUNNEL_BIN" ] || { echo "no $RUNNEL_BIN: run cargo build -p runnel --bin runnel" >&2; exit 1; }

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
RUST_LOG=warn "$RUNNEL_BIN" serve --data-dir "$work/data" --listen "127.0.0.1:$port" \
  >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/ready" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.1
done

RUNNEL_URL="http://127.0.0.1:$port" "$VENV/bin/python" -m unittest -v tests/python/confluent_client.py \
  || { echo "--- server log ---" >&2; cat "$work/server.log" >&2; exit 1; }
if grep -q panicked "$work/server.log"; then
  echo "the server panicked:" >&2; cat "$work/server.log" >&2; exit 1
fi
