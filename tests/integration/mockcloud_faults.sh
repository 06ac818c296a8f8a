#!/bin/sh
# Fault injection from the command line: the same seed gives the same faults for the same requests,
# another seed other faults; unsigned endpoints are spared unless --fault-unsigned; resets and
# truncations show up to curl as failed transfers.
set -u
M="$TM_BIN/mockcloud"
FIX="$TM_ROOT/fixtures/aws/mocktest"
T=$(mktemp -d)
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

# run NAME ARGS...: 40 sequential token requests, then the fault column of the log.
run() {
    name=$1
    shift
    rm -f "$T/port"
    "$M" --fixtures "$FIX" --port-file "$T/port" --log "$T/$name.log" "$@" 2>/dev/null &
    PID=$!
    i=0
    while [ ! -s "$T/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    [ -s "$T/port" ] || fail "$name: no port"
    n=0
    : >"$T/$name.curl"
    while [ $n -lt 40 ]; do
        curl -s -o /dev/null -w '%{http_code}\n' --max-time 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 1' \
            "http://127.0.0.1:$(cat "$T/port")/latest/api/token" >>"$T/$name.curl" 2>/dev/null
        n=$((n + 1))
    done
    kill -TERM "$PID"
    wait "$PID" || fail "$name: exit status"
    PID=""
    sed 's/.*"fault":\([^,]*\),.*/\1/' "$T/$name.log" >"$T/$name.faults"
    # Arrival times differ from run to run; everything else in a line must not.
    sed 's/"t_ms":[0-9]*,//' "$T/$name.log" >"$T/$name.untimed"
    grep -q '"t_ms"' "$T/$name.untimed" && fail "$name: t_ms left in the log"
    [ "$(grep -c '^{"seq":[0-9]*,"method"' "$T/$name.untimed")" -eq "$(wc -l <"$T/$name.log")" ] ||
        fail "$name: log lines without t_ms"
}

FAULTS="--throttle-rate 0.2 --error-rate 0.2 --reset-rate 0.1 --truncate-rate 0.1 --malformed-rate 0.1"
# shellcheck disable=SC2086
run a --seed 7 --fault-unsigned $FAULTS
# shellcheck disable=SC2086
run b --seed 7 --fault-unsigned $FAULTS
# shellcheck disable=SC2086
run c --seed 8 --fault-unsigned $FAULTS
# shellcheck disable=SC2086
run d --seed 7 $FAULTS

[ "$(wc -l <"$T/a.faults")" -eq 40 ] || fail "40 log lines"
cmp -s "$T/a.faults" "$T/b.faults" || fail "same seed, different faults"
cmp -s "$T/a.untimed" "$T/b.untimed" || fail "same seed, different log"
cmp -s "$T/a.faults" "$T/c.faults" && fail "another seed, the same faults"
grep -q '"throttle"' "$T/a.faults" || fail "no throttling in 40 requests at 20%"
grep -q '"reset"' "$T/a.faults" || fail "no reset in 40 requests at 10%"
grep -q '^000$' "$T/a.curl" || fail "a reset or truncation should fail a transfer"
grep -q '^429$' "$T/a.curl" || fail "throttling answers 429 for a REST-JSON endpoint"
[ "$(grep -vc '^null$' "$T/d.faults")" -eq 0 ] || fail "faults injected into unsigned requests"
echo ok
