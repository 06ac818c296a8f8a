#!/bin/sh
# The demo account end to end: mockcloud serves fixtures/aws/demo on an ephemeral loopback port, `tmscan scan aws`
# reads it, `tmscan report -f json` analyses it, and the findings must be exactly those of
# fixtures/aws/demo/expected-findings.json: every planted flaw and coverage gap with its path, nothing else, and
# nothing on a safe look-alike. The report must also be byte-identical from one run to the next.
set -u
T="$TM_BIN/tmscan"
M="$TM_BIN/mockcloud"
FIX="$TM_ROOT/fixtures/aws/demo"
W=$(mktemp -d)
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }

"$M" --fixtures "$FIX" --port 0 --port-file "$W/port" 2>"$W/mockcloud.log" &
PID=$!
i=0
while [ ! -s "$W/port" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
[ -s "$W/port" ] || { cat "$W/mockcloud.log"; fail "mockcloud did not start"; }
PORT=$(cat "$W/port")

cred() { /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["credentials"][0].get(sys.argv[2], ""))' "$FIX/scenario.json" "$1"; }
rc=0
env -u AWS_PROFILE AWS_ACCESS_KEY_ID="$(cred access_key_id)" AWS_SECRET_ACCESS_KEY="$(cred secret_access_key)" \
    AWS_SESSION_TOKEN="$(cred session_token)" AWS_REGION=us-east-1 AWS_ENDPOINT_URL="http://127.0.0.1:$PORT" \
    AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
    "$T" -q scan aws -o "$W/snapshot.json" 2>"$W/scan.err" || rc=$?
# Exit 3: the scan is complete but for the planted coverage gaps.
[ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || { cat "$W/scan.err"; fail "scan exit $rc"; }

for run in a b; do
    rc=0
    "$T" -q report "$W/snapshot.json" -f json --today 2026-11-22 -o "$W/report.$run.json" || rc=$?
    # Exit 1: new findings at or above high, which the demo account has.
    [ "$rc" -eq 1 ] || fail "report exit $rc"
done
cmp -s "$W/report.a.json" "$W/report.b.json" || fail "the report is not deterministic"

/usr/bin/python3 - "$W/report.a.json" "$FIX/expected-findings.json" <<'PY' || fail "findings differ from expected-findings.json"
import json, sys

report = json.load(open(sys.argv[1]))
expected = json.load(open(sys.argv[2]))


def nodes(f):
    out = []
    for s in f["path"]:
        for n in (s["from"], s["to"]):
            if n not in out:
                out.append(n)
    return out


def key(f):
    return (f["rule"], f["category"], f["resource"], f.get("entry"))


got = {}
for f in report["findings"]:
    if key(f) in got:
        print(f"duplicate finding {key(f)}")
        sys.exit(1)
    got[key(f)] = f
ok = True
want = set()
for e in expected["findings"]:
    k = key(e)
    want.add(k)
    f = got.get(k)
    if f is None:
        print(f"{e['flaw']}: missing {k}")
        ok = False
        continue
    if nodes(f) != e["path"]:
        print(f"{e['flaw']}: path\n  got  {nodes(f)}\n  want {e['path']}")
        ok = False
for k in sorted(set(got) - want, key=str):
    print(f"unexpected finding {k}")
    ok = False
for la in expected["lookalikes"]:
    for f in report["findings"]:
        if f["resource"] == la["resource"] and (la["not_categories"] == "any" or f["category"] in la["not_categories"]):
            print(f"{la['id']}: {f['rule']} on the safe look-alike {la['resource']}")
            ok = False
sys.exit(0 if ok else 1)
PY
echo "demo findings: $(/usr/bin/python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["findings"]))' "$W/report.a.json") as expected"
