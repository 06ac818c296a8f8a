#!/bin/sh
# The benchmark still works: the lower-bound arithmetic on cases computed by hand, the synthetic
# account generator (deterministic, wire-accurate, every planned call answered by mockcloud with the
# response file the plan names), and generated snapshots that tmscan report reads. Tiny sizes, no
# latency, and no timing assertions: figures belong to `make bench`, not to tests.
set -u
fail() { echo "FAIL: $*"; exit 1; }
PY=/usr/bin/python3
ROOT=${TM_ROOT:?TM_ROOT is the repository root}
BIN=${TM_BIN:?TM_BIN is the directory of the built binaries}
"$PY" -c 'import botocore' 2>/dev/null || fail "$PY has no botocore (Debian package python3-botocore)"
W=$(mktemp -d)
MPID=""
cleanup() { [ -n "$MPID" ] && kill "$MPID" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT INT TERM

# ---- lower_bound.py arithmetic, by hand --------------------------------------------------------
"$PY" - "$ROOT/bench" <<'PY' || fail "lower-bound arithmetic"
import sys
sys.path.insert(0, sys.argv[1])
import lower_bound as lb

def call(i, op, deps=(), svc="svc", region="r1", host="h1"):
    return {"id": i, "service": svc, "operation": op, "region": region, "deps": list(deps), "host": host}

def close(a, b):
    return abs(a - b) < 1e-9

# A, then four calls of operation X that need A, then C that needs the first X. L = 0.1 s, 2 in flight.
#   critical path: A -> X -> C, 3 calls                        = 0.3 s
#   concurrency:   6 calls * 0.1 s / 2                          = 0.3 s
#   bucket X (2/s, burst 1): first X can leave at 1 * 0.1 s (after A), 4 - 1 tokens to refill at 2/s
#   = 1.5 s, the last answer 0.1 s, and no call needs every X (C needs only the first): 0.1+1.5+0.1 = 1.7 s
plan = [call(0, "A"), call(1, "X", [0]), call(2, "X", [0]), call(3, "X", [0]), call(4, "X", [0]),
        call(5, "C", [1])]
r = lb.bound(plan, 0.1, 2, 32, {("svc", "X"): (2.0, 1.0)})
assert close(r["seconds"], 1.7), r
assert r["binding"]["kind"] == "rate-limit", r["binding"]
terms = {t["kind"]: t["seconds"] for t in r["terms"]}
assert close(terms["critical-path"], 0.3) and close(terms["concurrency"], 0.3), terms
assert r["chain"] == 3 and r["calls"] == 6

# The same plan with a burst that covers every X: the bucket term is 0.1 + 0 + 0.1 = 0.2 s, so the
# critical path and concurrency (0.3 s) bind.
r = lb.bound(plan, 0.1, 2, 32, {("svc", "X"): (2.0, 4.0)})
assert close(r["seconds"], 0.3), r

# A chain of 5 pages (each needs the one before) and 3 leaves on page 5: 5 + 1 = 6 calls deep, 0.6 s;
# 8 calls over 8 connections are only 0.1 s. A budget of 4 requests per second makes it 8 / 4 = 2 s.
chain = [call(0, "P")] + [call(i, "P", [i - 1]) for i in range(1, 5)] + [call(5 + j, "L", [4]) for j in range(3)]
r = lb.bound(chain, 0.1, 8, 32)
assert close(r["seconds"], 0.6) and r["binding"]["kind"] == "critical-path", r
r = lb.bound(chain, 0.1, 8, 32, max_rps=4)
assert close(r["seconds"], 2.0) and r["binding"]["kind"] == "budget", r

# Per-host slots, 4 in flight overall but 1 connection per host: with every call to one endpoint
# (mockcloud) 4 * 0.1 / 1 = 0.4 s; spread over two hosts (as at AWS) 2 * 0.1 / 1 = 0.2 s each.
flat = [call(i, "F", host=f"h{i % 2}") for i in range(4)]
assert close(lb.bound(flat, 0.1, 4, 1, hosts="single")["seconds"], 0.4)
assert close(lb.bound(flat, 0.1, 4, 1, hosts="aws")["seconds"], 0.2)

# A shared bucket: X and Y draw from group g (2/s, burst 2), one bucket per region. A, then three X
# and three Y in r1 that need A, two Y in r2 that need A, C that needs the first X. L = 0.1 s, 8 in flight.
#   group g in r1: 6 calls; the first can leave at 0.1 s (after A), 6 - 2 tokens to refill at 2/s = 2 s,
#                  the last answer 0.1 s, and no call needs them all: 0.1 + 2 + 0.1       = 2.2 s
#   group g in r2: 2 calls, within the burst: 0.1 + 0 + 0.1                              = 0.2 s
#   critical path A -> X -> C 0.3 s; concurrency 10 * 0.1 / 8 = 0.125 s
# Per operation (no group) the same calls would be bound by X or Y in r1: 0.1 + (3 - 2) / 2 + 0.1 = 0.7 s.
shared = [call(0, "A"), call(1, "X", [0]), call(2, "Y", [0]), call(3, "X", [0]), call(4, "Y", [0]),
          call(5, "X", [0]), call(6, "Y", [0]), call(7, "Y", [0], region="r2"), call(8, "Y", [0], region="r2"),
          call(9, "C", [1])]
grouped = {("svc", "X"): (2.0, 2.0, "g"), ("svc", "Y"): (2.0, 2.0, "g")}
r = lb.bound(shared, 0.1, 8, 32, grouped)
assert close(r["seconds"], 2.2), r
assert r["binding"]["kind"] == "rate-limit" and r["binding"]["bucket"] == "svc:g:r1", r["binding"]
assert r["binding"]["what"] == "6 svc:g calls in r1 at 2/s (burst 2; X 3, Y 3)", r["binding"]
terms = {t.get("bucket"): t["seconds"] for t in r["terms"] if t["kind"] == "rate-limit"}
assert terms.keys() == {"svc:g:r1", "svc:g:r2"} and close(terms["svc:g:r2"], 0.2), terms
r = lb.bound(shared, 0.1, 8, 32, {("svc", "X"): (2.0, 2.0), ("svc", "Y"): (2.0, 2.0, None)})
assert close(r["seconds"], 0.7), r

# An operation outside the group keeps its own bucket: Z (1/s, burst 1), three calls with no deps,
# 0 + (3 - 1) / 1 + 0.1 = 2.1 s; the group's single X, 0 + 0 + 0.1 s, does not add to it.
alone = [call(0, "Z"), call(1, "Z"), call(2, "Z"), call(3, "X")]
r = lb.bound(alone, 0.1, 8, 32, {**grouped, ("svc", "Z"): (1.0, 1.0, None)})
assert close(r["seconds"], 2.1) and r["binding"]["bucket"] == "svc:Z:r1", r
# The same group name in two services is two buckets; operations of one group must agree on the rate.
r = lb.bound([call(0, "X"), call(1, "X", svc="other")], 0.1, 8, 32,
             {("svc", "X"): (1.0, 1.0, "g"), ("other", "X"): (1.0, 1.0, "g")})
assert close(r["seconds"], 0.1), r
try:
    lb.bound(alone, 0.1, 8, 32, {("svc", "X"): (2.0, 2.0, "g"), ("svc", "Y"): (3.0, 2.0, "g")})
except ValueError:
    pass
else:
    raise AssertionError("a group with two rates was accepted")

# Scaled limits (the mismatch run) halve rate and burst, groups' too; a burst never drops below one token.
import json, os, tempfile
with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
    json.dump({"limits": [{"service": "svc", "operations": ["X", "Y"], "rps": 10, "burst": 1, "group": "g"},
                          {"service": "svc", "operations": ["Z"], "rps": 4, "burst": 3}]}, f)
lim = lb.load_limits(f.name, 0.5)
assert lim == {("svc", "X"): (5.0, 1.0, "g"), ("svc", "Y"): (5.0, 1.0, "g"), ("svc", "Z"): (2.0, 1.5, None)}, lim
for bad in ({"service": "svc", "operations": ["X"], "rps": 1, "burst": 1, "group": ""},
            {"service": "svc", "operations": ["X"], "rps": 1, "burst": 1, "group": 7}):
    with open(f.name, "w") as g:
        json.dump({"limits": [bad]}, g)
    try:
        lb.load_limits(f.name)
    except ValueError:
        pass
    else:
        raise AssertionError(f"{bad} was accepted")
with open(f.name, "w") as g:
    json.dump({"limits": [{"service": "svc", "operations": ["X"], "rps": 1, "burst": 1},
                          {"service": "svc", "operations": ["X", "Y"], "rps": 2, "burst": 2, "group": "g"}]}, g)
try:
    lb.load_limits(f.name)
except ValueError:
    pass
else:
    raise AssertionError("an operation in two rules was accepted")
os.unlink(f.name)

# The benchmark's own limits: Lambda's control plane and API Gateway's management API are groups, and
# mockcloud gets them as such (halved in the mismatch run).
import run
lim = lb.load_limits(run.LIMITS)
assert lb.bucket_of(lim, "lambda", "ListAliases") == lb.bucket_of(lim, "lambda", "GetFunctionUrlConfig") \
    == ("lambda", "lambda-control-plane")
assert lb.bucket_of(lim, "lambda", "GetPolicy") == ("lambda", "GetPolicy")
assert lb.bucket_of(lim, "apigateway", "GetApis") == lb.bucket_of(lim, "apigateway", "GetRestApis")
assert lb.bucket_of(lim, "iam", "ListRoles") is None
args = run.rate_limit_args(0.5)
pairs = list(zip(args[::2], args[1::2]))
assert ("--rate-limit-group",
        "lambda:GetFunctionUrlConfig,ListAliases,ListEventSourceMappings,ListFunctions=7.5:7.5") in pairs, pairs
assert ("--rate-limit", "lambda:GetPolicy=7.5:7.5") in pairs, pairs
assert not any(v.startswith("lambda:ListAliases=") for _, v in pairs), pairs

# A cycle is not a plan.
try:
    lb.bound([call(0, "A", [1]), call(1, "A", [0])], 0.1, 1)
except ValueError:
    pass
else:
    raise AssertionError("a cyclic plan was accepted")
PY

# ---- the generator -----------------------------------------------------------------------------
"$PY" "$ROOT/bench/gen_account.py" fixtures --resources 60 --seed 7 --out "$W/a" >/dev/null || fail "generator (fixtures)"
"$PY" "$ROOT/bench/gen_account.py" fixtures --resources 60 --seed 7 --out "$W/b" >/dev/null || fail "generator (again)"
diff -r "$W/a" "$W/b" >/dev/null || fail "the generated account differs between two runs with the same seed"
"$PY" "$ROOT/bench/gen_account.py" fixtures --resources 60 --seed 8 --out "$W/c" >/dev/null || fail "generator (seed 8)"
diff -r "$W/a" "$W/c" >/dev/null && fail "the seed changes nothing"
"$PY" - "$W/a" <<'PY' || fail "plan shape"
import json, os, sys
d = sys.argv[1]
plan = json.load(open(os.path.join(d, "plan.json")))
calls = plan["calls"]
assert plan["schema"] == "tmscan.bench.plan/1" and len(calls) > 100
ops = {c["operation"] for c in calls}
for op in ("GetCallerIdentity", "GetAccountAuthorizationDetails", "ListFunctions", "GetPolicy", "GetBucketPolicy",
           "GetRestApis", "GetResources", "ListQueues", "GetQueueAttributes", "ListTopics", "DescribeInstances",
           "ListKeys", "GetKeyPolicy", "ListSecrets", "DescribeRepositories", "DescribeDBInstances"):
    assert op in ops, op
for c in calls:
    assert os.path.exists(os.path.join(d, c["fixture"])), c["fixture"]
    assert all(dep < c["id"] for dep in c["deps"]), c  # ids follow dependency order
    assert c["deps"] or c["operation"] == "GetCallerIdentity", c
# A function's policy waits for the ListFunctions page that names it.
fn = next(c for c in calls if c["operation"] == "GetPolicy")
assert calls[fn["deps"][0]]["operation"] in ("ListFunctions", "ListAliases"), fn
PY
# Wire accuracy with the AWS SDK's models.
"$PY" "$ROOT/tests/fixtures_check.py" --no-self-test "$W/a" >"$W/check" 2>&1
grep '^FAIL' "$W/check" >"$W/fails"
[ -s "$W/fails" ] && { head -5 "$W/fails"; fail "the synthetic account is not wire-accurate"; }
grep -q "responses checked" "$W/check" || fail "the wire check did not run: $(tail -3 "$W/check")"

# ---- every planned call through mockcloud's own matcher and signature check ---------------------
# With the benchmark's buckets, shared ones included, as bench/run.py starts it (the reference client
# paces itself by the same buckets).
LIMIT_ARGS=$("$PY" -c 'import sys; sys.path.insert(0, sys.argv[1]); import run; print(" ".join(run.rate_limit_args(1.0)))' \
    "$ROOT/bench") || fail "rate_limit_args"
case "$LIMIT_ARGS" in *--rate-limit-group*) ;; *) fail "no shared bucket in the benchmark's limits" ;; esac
# shellcheck disable=SC2086 # one word per argument: the names and figures have no spaces
"$BIN/mockcloud" --fixtures "$W/a" --port 0 --port-file "$W/port" --log "$W/mock.log" $LIMIT_ARGS 2>"$W/mock.err" &
MPID=$!
i=0
while [ ! -s "$W/port" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
[ -s "$W/port" ] || fail "mockcloud did not start: $(cat "$W/mock.err")"
"$PY" "$ROOT/bench/replay.py" "$W/a" --port "$(cat "$W/port")" --concurrency 4 >"$W/replay" || {
    cat "$W/replay"; fail "replay: a planned call was not answered as planned"; }
kill "$MPID"; wait "$MPID" 2>/dev/null; MPID=""
"$PY" - "$W/a/plan.json" "$W/mock.log" <<'PY' || fail "mockcloud served other responses than the plan names"
import collections, json, sys
plan = json.load(open(sys.argv[1]))
log = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
assert all(r["auth"] == "sigv4" for r in log), "a request was not accepted as signed"
served = collections.Counter(r["fixture"] for r in log if r["fault"] is None)
wanted = collections.Counter(c["fixture"] for c in plan["calls"])
assert served == wanted, {k: (served[k], wanted[k]) for k in set(served) | set(wanted) if served[k] != wanted[k]}
PY

# ---- snapshots written directly --------------------------------------------------------------
"$PY" "$ROOT/bench/gen_account.py" snapshot --resources 60 --seed 7 --out "$W/s1.json" >"$W/gen.out" ||
    fail "generator (snapshot)"
"$PY" "$ROOT/bench/gen_account.py" snapshot --resources 60 --seed 7 --out "$W/s2.json" >/dev/null || fail "generator"
cmp -s "$W/s1.json" "$W/s2.json" || fail "the generated snapshot differs between two runs"
n=$(sed -n 's/.*snapshot of \([0-9]*\) resources.*/\1/p' "$W/gen.out")
[ -n "$n" ] || fail "generator did not say how many resources it wrote"
"$BIN/tmscan" -q report "$W/s1.json" --format json --fail-on none -o "$W/report.json"; rc=$?
[ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || fail "tmscan report refused the generated snapshot (exit $rc)"
"$PY" - "$W/report.json" "$n" <<'PY' || fail "the report does not cover every generated resource"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["summary"]["resources"] == int(sys.argv[2]), (r["summary"], sys.argv[2])
PY
# ---- the query driver, once the tree has the query APIs --------------------------------------------
if [ -f "$ROOT/analyzers/blast.h" ] && [ -f "$ROOT/analyzers/query.h" ]; then
    "$PY" - "$ROOT/bench" "$BIN" "$W" <<'PY' || fail "query driver"
import json, subprocess, sys
sys.path.insert(0, sys.argv[1])
import run
driver, why = run.build_query_driver(sys.argv[2], sys.argv[3])
assert driver, why
out = subprocess.run([driver, sys.argv[3] + "/s1.json", run.ROOT + "/policies", "20", "1"], capture_output=True,
                     text=True, check=True).stdout
r = json.loads(out)
assert r["starting_points"] > 0 and r["who_can_resources"] > 0, r
for kind in ("blast", "whocan"):
    x = r[kind]
    assert x["complete"] and x["queries"] == 20, r
    assert x["p50_ms"] <= x["p99_ms"] <= x["max_ms"] and x["slowest"], r
PY
fi
echo ok
