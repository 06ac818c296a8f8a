#!/bin/sh
# A real AWS SDK (Debian's boto3) against mockcloud: SigV4 signatures made by botocore verify, wrong
# ones are refused with AWS's codes, and botocore's parsers read every fixture answer.
set -u
PY=/usr/bin/python3
if ! $PY -c 'import boto3' 2>/dev/null; then
    echo "FAIL: $PY has no boto3 (make deps installs python3-boto3)"
    exit 1
fi
T=$(mktemp -d)
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
"$TM_BIN/mockcloud" --fixtures "$TM_ROOT/fixtures/aws/mocktest" --port-file "$T/port" --log "$T/log" 2>"$T/err" &
PID=$!
i=0
while [ ! -s "$T/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
[ -s "$T/port" ] || { echo "FAIL: mockcloud did not start"; cat "$T/err"; exit 1; }
# No ambient AWS configuration may leak into the SDK.
env -u AWS_PROFILE -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_ENDPOINT_URL \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true \
    $PY "$TM_ROOT/tests/integration/mockcloud_boto3.py" "$(cat "$T/port")" || { tail -5 "$T/log"; exit 1; }
grep -q '"auth":"sigv4"' "$T/log" || { echo "FAIL: no verified request in the log"; exit 1; }
kill -TERM "$PID"
wait "$PID"
