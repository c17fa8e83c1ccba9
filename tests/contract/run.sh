#!/usr/bin/env bash
# The contract test: schemathesis (pinned) fuzzes every operation of the
# committed spec, with every check, once for each role, against the demo
# server on its embedded SQLite. Any failed check fails the run.
#
#   tests/contract/run.sh            # every role, 25 examples per operation
#   EXAMPLES=100 ROLES="peer" tests/contract/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
EXAMPLES="${EXAMPLES:-25}"
ROLES="${ROLES:-admin peer social.worker supervisor staff security auditor}"
work="$(mktemp -d)"
pid=""
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q --disable-pip-version-check schemathesis==4.32.5

cargo build -q
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
CASEWORK_DATA_DIR="$work/data" CASEWORK_LISTEN="127.0.0.1:$port" RUST_LOG=warn \
    target/debug/casework serve --demo >"$work/server.log" 2>&1 &
pid=$!

# A fresh access token for a demo account (README: demo-<role>-password).
token() {
    python3 - "$base" "$1" <<'PY'
import json, sys, time, urllib.request
base, user = sys.argv[1], sys.argv[2]
password = "demo-" + user.replace(".", "-") + "-password"
body = json.dumps({"username": user, "password": password, "device_name": "contract test"}).encode()
for _ in range(100):
    try:
        req = urllib.request.Request(base + "/v1/auth/login", body, {"Content-Type": "application/json"})
        print(json.load(urllib.request.urlopen(req, timeout=5))["access_token"])
        sys.exit(0)
    except OSError:
        time.sleep(0.2)
sys.exit("could not sign in as " + user)
PY
}

st() {
    "$work/venv/bin/schemathesis" --config-file tests/contract/schemathesis.toml run \
        openapi/openapi.yaml --url "$base" --checks all --max-examples "$EXAMPLES" \
        --seed 20261130 --no-color "$@"
}

failed=0
for role in $ROLES; do
    echo "== schemathesis as $role"
    # Signing out ends the session the run uses; it has its own run below.
    if ! st -H "Authorization: Bearer $(token "$role")" --exclude-operation-id signOut \
        >"$work/$role.txt" 2>&1; then
        failed=1
        cat "$work/$role.txt"
    else
        tail -n 4 "$work/$role.txt"
    fi
done
echo "== schemathesis: signing out"
if ! st -H "Authorization: Bearer $(token peer)" --include-operation-id signOut \
    >"$work/signout.txt" 2>&1; then
    failed=1
    cat "$work/signout.txt"
fi
if grep -q "panicked" "$work/server.log"; then
    echo "the server panicked" >&2
    failed=1
fi
exit "$failed"
