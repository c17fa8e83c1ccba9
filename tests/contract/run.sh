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
# The admin goes last: its run may deactivate or reset the other accounts
# (their tokens are taken before, but a deactivation ends sessions).
ROLES="${ROLES:-peer social.worker supervisor staff security auditor admin}"
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

# Every token is taken before fuzzing starts: the sign-in run (last) locks
# this address out after its failures, as the throttle should.
declare -A bearer
for role in $ROLES signout; do
    user="$role"
    [ "$role" = signout ] && user=peer
    bearer[$role]="$(token "$user")" || { echo "could not sign in as $user" >&2; exit 1; }
done

failed=0
run_as() { # role (or "anonymous"), schemathesis options...
    local role="$1"
    shift
    local auth=()
    [ "$role" != anonymous ] && auth=(-H "Authorization: Bearer ${bearer[$role]}")
    if ! st "${auth[@]}" "$@" >"$work/$role.txt" 2>&1; then
        failed=1
        cat "$work/$role.txt"
    else
        grep -E "^(  ❌|Failures|Test cases|Warnings|  ⚠️)|passed|warnings? in" "$work/$role.txt" \
            | tail -n 6
    fi
}
echo "== schemathesis: signing out (ends the session the run uses)"
run_as signout --include-operation-id signOut
for role in $ROLES; do
    echo "== schemathesis as $role"
    run_as "$role" --exclude-operation-id signOut --exclude-operation-id signIn
done
echo "== schemathesis: signing in"
run_as anonymous --include-operation-id signIn
if grep -q "panicked" "$work/server.log"; then
    echo "the server panicked" >&2
    failed=1
fi
exit "$failed"
