#!/bin/sh
# A scan through mockcloud answering AccessDenied to chosen operations and throttling 20% of all calls:
# it completes (exit 3), every failure is in the snapshot's errors, no fact a failed call would have
# read is reported as known.
set -u
. "$TM_ROOT/tests/integration/scan_env.inc"

DENY="ListAccessKeys,DescribeSnapshotAttribute,DescribeDBClusterSnapshotAttributes,ListParents,DescribeNetworkInterfaces"
start_mock "$DEMO" --seed 11 --throttle-rate 0.2 --deny "$DENY"
scan -o "$T/f.json" 2>"$T/f.err"
rc=$?
stop_mock
[ $rc -eq 3 ] || { tail -5 "$T/f.err"; fail "exit status $rc, expected 3"; }
grep -q '"fault":"throttle"' "$T/mock.log" || fail "mockcloud throttled nothing"
$CHECK denied "$T/f.json" $(echo "$DENY" | tr ',' ' ') || fail "denied facts"
$CHECK unknowns "$T/f.json" || fail "unknown facts and errors disagree"
# Throttled calls were retried: some error-free facts needed more than one attempt, and every recorded
# error carries its attempts.
/usr/bin/python3 - "$T/f.json" <<'PY' || fail "errors"
import json, sys
snap = json.load(open(sys.argv[1]))
denied = [e for e in snap["errors"] if e["code"] in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation")]
others = [e for e in snap["errors"] if e not in denied]
for e in others:
    # Anything else must be throttling that outlasted the retries, or an operation the demo does not
    # answer at all (see scan_demo.sh).
    # S3 throttles with SlowDown.
    if not (e["code"] in ("Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException",
                          "SlowDown")
            and e["retried"]) and e["code"] not in ("InvalidAction", "UnknownOperationException"):
        print("unexpected error:", e)
        sys.exit(1)
print("%d denied, %d other failures (throttled past the retries, or not answered by the demo)" % (len(denied), len(others)))
PY
echo "ok: faults"
