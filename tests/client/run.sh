#!/usr/bin/env bash
# Generates a Python client from the committed spec (openapi-python-client,
# pinned) and runs an ordinary day with it, untouched, against the demo
# server on its embedded SQLite. Fails on the first step the spec gets wrong.
set -euo pipefail
cd "$(dirname "$0")/../.."
work="$(mktemp -d)"
pid=""
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q --disable-pip-version-check openapi-python-client==0.29.1
"$work/venv/bin/openapi-python-client" generate --path openapi/openapi.yaml --meta none \
    --output-path "$work/casework_client" >"$work/generate.log" 2>&1
# A schema the generator cannot use drops operations silently: fail instead.
if grep -q "WARNING\|Unable to process" "$work/generate.log"; then
    cat "$work/generate.log" >&2
    echo "the generator could not use every part of the spec" >&2
    exit 1
fi

cargo build -q
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
CASEWORK_DATA_DIR="$work/data" CASEWORK_LISTEN="127.0.0.1:$port" RUST_LOG=warn \
    target/debug/casework serve --demo >"$work/server.log" 2>&1 &
pid=$!
python3 - "$port" <<'PY'
import sys, time, urllib.request
for _ in range(100):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/readyz", timeout=1)
        sys.exit(0)
    except Exception:
        time.sleep(0.2)
sys.exit("the server did not become ready")
PY
PYTHONPATH="$work" "$work/venv/bin/python" tests/client/day.py "http://127.0.0.1:$port"
