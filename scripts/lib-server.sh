# Sourced by the test scripts: start `$RUNNEL_BIN serve` on a free port with a temporary data
# dir, wait for /ready, and stop it (and remove the dir) when the script exits.
#   start_runnel [VAR=value ...]   extra environment for the server
# Sets: work (the temporary dir; the log is $work/server.log), port, base, server_pid.

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

start_runnel() {
  [ -x "$RUNNEL_BIN" ] || { echo "no $RUNNEL_BIN: run cargo build -p runnel --bin runnel" >&2; exit 1; }
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  base="http://127.0.0.1:$port"
  env RUST_LOG=warn "$@" "$RUNNEL_BIN" serve --data-dir "$work/data" --listen "127.0.0.1:$port" \
    >"$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do
    curl -fsS "$base/ready" >"$work/ready.json" 2>/dev/null && return 0
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "runnel never became ready" >&2; cat "$work/server.log" >&2; exit 1
}
