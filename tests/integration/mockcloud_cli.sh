#!/bin/sh
# mockcloud as a process: ephemeral port and --port-file, an unsigned IMDSv2 exchange with curl(1),
# signed requests refused without a valid signature, --log lines, fixture errors at startup (exit 2),
# usage errors, and a clean shutdown on SIGTERM.
set -u
M="$TM_BIN/mockcloud"
FIX="$TM_ROOT/fixtures/aws/mocktest"
T=$(mktemp -d)
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$T/err" ] && cat "$T/err"; exit 1; }

"$M" --version | grep -Eq '^mockcloud [0-9]+\.[0-9]+\.[0-9]+$' || fail "--version"
"$M" --help | grep -q -- '--rate-limit OP=RPS' || fail "--help lists --rate-limit"
"$M" >/dev/null 2>"$T/err"; [ $? -eq 2 ] || fail "no --fixtures: exit 2"
"$M" --fixtures "$FIX" --throttle-rate 1.5 >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad rate: exit 2"
"$M" --fixtures "$FIX" --bogus 1 >/dev/null 2>&1; [ $? -eq 2 ] || fail "unknown option: exit 2"
"$M" --fixtures "$FIX" --host 0.0.0.0 >/dev/null 2>"$T/err"; [ $? -eq 2 ] || fail "non-loopback host refused"
grep -q 'not a loopback address' "$T/err" || fail "non-loopback message"

# A broken fixture stops mockcloud at startup, naming file and line.
mkdir -p "$T/bad/s3"
printf 'service: s3\nmethod: GET\npaht: /x\n\nbody' >"$T/bad/s3/typo.http"
"$M" --fixtures "$T/bad" >/dev/null 2>"$T/err"; rc=$?
[ "$rc" -eq 2 ] || fail "bad fixture exit $rc"
grep -q "s3/typo.http:3: unknown key 'paht'" "$T/err" || fail "bad fixture message"
printf 'service: s3\nmethod: GET\n' >"$T/bad/s3/typo.http"
"$M" --fixtures "$T/bad" >/dev/null 2>"$T/err"; [ $? -eq 2 ] || fail "missing blank line exit"
grep -q "typo.http:3: missing blank line" "$T/err" || fail "missing blank line message"

"$M" --fixtures "$FIX" --port 0 --port-file "$T/port" --log "$T/log" 2>"$T/err" &
PID=$!
i=0
while [ ! -s "$T/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
[ -s "$T/port" ] || fail "no port file"
P=$(cat "$T/port")
U="http://127.0.0.1:$P"

# IMDSv2: a token, then the role name with it; without it 401.
TOK=$(curl -sf -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 21600' "$U/latest/api/token") || fail "IMDS token"
[ -n "$TOK" ] || fail "empty token"
sleep 0.3 # the log's arrival times must show the pause
ROLE=$(curl -sf -H "X-aws-ec2-metadata-token: $TOK" "$U/latest/meta-data/iam/security-credentials/") || fail "IMDS role"
[ "$ROLE" = "mocktest-instance-role" ] || fail "role name '$ROLE'"
code=$(curl -s -o /dev/null -w '%{http_code}' "$U/latest/meta-data/iam/security-credentials/")
[ "$code" = 401 ] || fail "IMDS without token: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'X-aws-ec2-metadata-token: wrong' \
    "$U/latest/meta-data/iam/security-credentials/")
[ "$code" = 401 ] || fail "IMDS with a wrong token: $code"

# Signed with a made-up signature for a known key: SignatureDoesNotMatch, as STS words it.
AUTH='AWS4-HMAC-SHA256 Credential=AKIAMOCKTEST00000001/20240101/us-east-1/sts/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000000000000000000000000000000000000000000000000000000000000000'
curl -s -o "$T/body" -w '%{http_code}' -X POST -H "Authorization: $AUTH" -H 'X-Amz-Date: 20240101T000000Z' \
    -H 'Content-Type: application/x-www-form-urlencoded; charset=utf-8' \
    --data 'Action=GetCallerIdentity&Version=2011-06-15' "$U/" >"$T/code"
[ "$(cat "$T/code")" = 403 ] || fail "bad signature status $(cat "$T/code")"
grep -q '<Code>SignatureDoesNotMatch</Code>' "$T/body" || fail "bad signature code"
grep -q '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">' "$T/body" || fail "STS error envelope"
# An unknown key: InvalidClientTokenId.
curl -s -o "$T/body" -X POST -H "Authorization: $(echo "$AUTH" | sed 's/AKIAMOCKTEST00000001/AKIAUNKNOWN000000000/')" \
    -H 'X-Amz-Date: 20240101T000000Z' --data 'Action=GetCallerIdentity' "$U/"
grep -q '<Code>InvalidClientTokenId</Code>' "$T/body" || fail "unknown key code"
# Unsigned call to a signed API: MissingAuthenticationToken.
curl -s -o "$T/body" -w '%{http_code}' --data 'Action=GetCallerIdentity' "$U/" >"$T/code"
[ "$(cat "$T/code")" = 403 ] || fail "unsigned status $(cat "$T/code")"
grep -q 'MissingAuthenticationToken' "$T/body" || fail "unsigned code"
# Malformed HTTP: 400 and the connection closes.
printf 'GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n' | curl -s --max-time 5 "telnet://127.0.0.1:$P" >"$T/raw" 2>/dev/null
head -1 "$T/raw" | grep -q '^HTTP/1.1 400' || fail "malformed request: $(head -1 "$T/raw")"

# Every request so far is one log line with the matched fixture.
[ "$(grep -c '"fixture":"imds/token.http"' "$T/log")" -eq 1 ] || fail "log: token line"
grep -q '"auth":"bad-signature".*"status":403' "$T/log" || fail "log: bad signature line"
grep -q '"operation":"GetCallerIdentity","access_key":"AKIAMOCKTEST00000001"' "$T/log" || fail "log: key id"
[ "$(wc -l <"$T/log")" -eq 7 ] || fail "log has $(wc -l <"$T/log") lines, want 7 (malformed HTTP is not a request)"
# Arrival times (ms since start, monotonic): never decreasing, and the pause after the token is there.
sed -n 's/^{"seq":[0-9]*,"t_ms":\([0-9]*\),.*/\1/p' "$T/log" >"$T/times"
[ "$(wc -l <"$T/times")" -eq 7 ] || fail "log lines without t_ms: $(head -1 "$T/log")"
sort -n -c "$T/times" || fail "log times decrease: $(tr '\n' ' ' <"$T/times")"
[ $(($(sed -n 2p "$T/times") - $(sed -n 1p "$T/times"))) -ge 250 ] || fail "log times miss a 300 ms pause: $(tr '\n' ' ' <"$T/times")"

kill -TERM "$PID"
wait "$PID"; rc=$?
PID=""
[ "$rc" -eq 0 ] || fail "exit after SIGTERM: $rc"
grep -q 'did not close cleanly' "$T/err" && fail "loop not closed"
echo ok
