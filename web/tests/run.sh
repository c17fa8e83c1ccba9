#!/bin/sh
# Browser tests against the real server: a fresh demo library in a temp data
# directory on a free port, serving the app built into the binary, then
# Playwright with Debian's Chromium. Run from anywhere: sh web/tests/run.sh [playwright args]
set -eu
WEB=$(cd "$(dirname "$0")/.." && pwd)
ROOT=$(cd "$WEB/.." && pwd)
DATA=$(mktemp -d "${TMPDIR:-/tmp}/casework-web-tests.XXXXXX")
free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
PORT=$(free_port)
SERVER_PID=""
cleanup() {
  # cargo run's child is the server: stop it first, then cargo.
  [ -n "$SERVER_PID" ] && { pkill -TERM -P "$SERVER_PID" 2>/dev/null; kill "$SERVER_PID" 2>/dev/null; } || true
  wait 2>/dev/null || true
  rm -rf "$DATA"
}
trap cleanup EXIT INT TERM

mkdir -p "$WEB/tests/artifacts"
cd "$ROOT"
# CASEWORK_BIN: a server binary built before (several runs at once, no cargo).
if [ -n "${CASEWORK_BIN:-}" ]; then
  CASEWORK_LISTEN="127.0.0.1:$PORT" CASEWORK_DATA_DIR="$DATA" CASEWORK_SHUTDOWN_GRACE_SECONDS=1 \
    "$CASEWORK_BIN" serve --demo >"$WEB/tests/artifacts/server-$PORT.log" 2>&1 &
else
  CASEWORK_LISTEN="127.0.0.1:$PORT" CASEWORK_DATA_DIR="$DATA" CASEWORK_SHUTDOWN_GRACE_SECONDS=1 \
    cargo run -q -- serve --demo >"$WEB/tests/artifacts/server.log" 2>&1 &
fi
SERVER_PID=$!

i=0
until curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; do
  i=$((i + 1))
  if [ $i -gt 1200 ] || ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "the server did not become ready; see web/tests/artifacts/server.log" >&2
    exit 1
  fi
  sleep 0.5
done

APP="http://127.0.0.1:$PORT"
cd "$WEB"
CASEWORK_APP_URL="$APP" npx playwright test "$@"
