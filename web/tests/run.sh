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
OIDC_PID=""
cleanup() {
  [ -n "$OIDC_PID" ] && kill "$OIDC_PID" 2>/dev/null || true
  # cargo run's child is the server: stop it first, then cargo.
  [ -n "$SERVER_PID" ] && { pkill -TERM -P "$SERVER_PID" 2>/dev/null; kill "$SERVER_PID" 2>/dev/null; } || true
  wait 2>/dev/null || true
  rm -rf "$DATA"
}
trap cleanup EXIT INT TERM

mkdir -p "$WEB/tests/artifacts"
cd "$ROOT"

# A real OpenID Connect provider (web/tests/oidc/provider.mjs) for the single
# sign-on tests; the server is configured with it and links accounts by
# verified email too.
node "$WEB/tests/oidc/provider.mjs" --port 0 --redirect-uri "http://127.0.0.1:$PORT/v1/auth/sso/callback" \
  >"$DATA/oidc.out" 2>"$WEB/tests/artifacts/oidc-provider.log" &
OIDC_PID=$!
i=0
until grep -q '^ready ' "$DATA/oidc.out" 2>/dev/null; do
  i=$((i + 1))
  if [ $i -gt 200 ] || ! kill -0 "$OIDC_PID" 2>/dev/null; then
    echo "the OpenID provider did not start; see web/tests/artifacts/oidc-provider.log" >&2
    exit 1
  fi
  sleep 0.1
done
OIDC_ISSUER=$(sed -n 's/^ready //p' "$DATA/oidc.out")
export CASEWORK_OIDC_ISSUER="$OIDC_ISSUER" CASEWORK_OIDC_CLIENT_ID=casework \
  CASEWORK_OIDC_CLIENT_SECRET=casework-test-secret CASEWORK_OIDC_PROVIDER_NAME="Library staff account" \
  CASEWORK_OIDC_REDIRECT_BASE="http://127.0.0.1:$PORT" CASEWORK_OIDC_LINK_BY_EMAIL=true
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
CASEWORK_APP_URL="$APP" CASEWORK_OIDC_URL="$OIDC_ISSUER" npx playwright test "$@"
