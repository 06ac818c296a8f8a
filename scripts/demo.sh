#!/bin/sh
# make demo: scans the bundled demo account (fixtures/aws/demo) through mockcloud on loopback and
# writes its threat model to demo-out/. No cloud account, no network beyond 127.0.0.1.
set -eu
BIN=${1:?usage: demo.sh BINDIR}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
FIX="$ROOT/fixtures/aws/demo"
OUT="$ROOT/demo-out"
mkdir -p "$OUT"
RUN=$(mktemp -d)
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$RUN"; }
trap cleanup EXIT INT TERM

"$BIN/mockcloud" --fixtures "$FIX" --port 0 --port-file "$RUN/port" 2>"$RUN/mockcloud.log" &
PID=$!
i=0
while [ ! -s "$RUN/port" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
if [ ! -s "$RUN/port" ]; then
    cat "$RUN/mockcloud.log" >&2
    echo "demo: mockcloud did not start" >&2
    exit 1
fi
PORT=$(cat "$RUN/port")

# The demo account's fake credentials, from the fixture scenario.
cred() { /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["credentials"][0].get(sys.argv[2], ""))' "$FIX/scenario.json" "$1"; }
KEY=$(cred access_key_id)
SECRET=$(cred secret_access_key)
TOKEN=$(cred session_token)

echo "demo: scanning the demo account through mockcloud on 127.0.0.1:$PORT"
rc=0
env -u AWS_PROFILE AWS_ACCESS_KEY_ID="$KEY" AWS_SECRET_ACCESS_KEY="$SECRET" AWS_SESSION_TOKEN="$TOKEN" \
    AWS_REGION=us-east-1 AWS_ENDPOINT_URL="http://127.0.0.1:$PORT" AWS_EC2_METADATA_DISABLED=true \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
    "$BIN/tmscan" scan aws -o "$OUT/snapshot.json" || rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; then
    echo "demo: scan failed (exit $rc)" >&2
    exit "$rc"
fi

for f in md json sarif dot mermaid; do
    # Exit 3 only says the snapshot has coverage gaps (the demo account plants two).
    rc=0
    "$BIN/tmscan" -q report "$OUT/snapshot.json" --format "$f" --fail-on none -o "$OUT/report.$f" || rc=$?
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; then
        echo "demo: report --format $f failed (exit $rc)" >&2
        exit "$rc"
    fi
done
echo "demo: wrote $OUT/snapshot.json and the threat model: report.md, report.json, report.sarif, report.dot, report.mermaid"
echo
sed -n '1,/^## Trust boundaries/p' "$OUT/report.md" | sed '$d'
