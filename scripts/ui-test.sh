#!/usr/bin/env bash
# Browser tests of the web UI: a real `runnel serve` (temporary data dir, free port) and Debian's
# headless chromium driven by playwright-core under Node's built-in test runner
# (web-ui/tests/ui.test.js). Installs what is missing: chromium with apt (never a browser
# download by a test tool), the pinned npm packages with `npm ci`. Builds target/debug/runnel
# when its sources (or the UI files it embeds) changed. Screenshots go to target/ui-artifacts/.
#
# Env: RUNNEL_BIN (default $CARGO_TARGET_DIR/debug/runnel, target/ without it);
# UI_SCALE_TOPICS: real topics the scale test creates (default 500, 4 to 25 s here; each is a
# metadata-log commit). The list is measured at 5,000 topics either way: below that, the API's
# answers are padded on their way to the page. UI_SCALE_TOPICS=5000 creates all of them (12
# minutes in a run before main's 11e650c).
set -euo pipefail
cd "$(dirname "$0")/.."

RUNNEL_BIN="${RUNNEL_BIN:-${CARGO_TARGET_DIR:-target}/debug/runnel}"
ARTIFACTS="${CARGO_TARGET_DIR:-target}/ui-artifacts"

if [ ! -x /usr/bin/chromium ]; then
  echo "installing Debian's chromium"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

(cd web-ui/tests && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)

# rust-embed embeds web-ui/ at compile time; cargo notices a changed file but not an added or
# removed one, so a UI file newer than the binary forces the embedding module to recompile.
if [ -x "$RUNNEL_BIN" ] && [ -n "$(find web-ui/index.html web-ui/src web-ui/vendor -newer "$RUNNEL_BIN" -print -quit)" ]; then
  touch server/src/ui.rs
fi
cargo build -p runnel --bin runnel

source scripts/lib-server.sh
start_runnel
mkdir -p "$ARTIFACTS"
rm -f "$ARTIFACTS"/*.png

RUNNEL_URL="$base" UI_ARTIFACTS="$(cd "$ARTIFACTS" && pwd)" UI_SCALE_TOPICS="${UI_SCALE_TOPICS:-500}" \
  node --test --test-concurrency=1 --test-reporter=spec web-ui/tests/ui.test.js || {
  echo "server log: $work/server.log" >&2
  tail -n 50 "$work/server.log" >&2
  exit 1
}
