#!/bin/sh
# tmscan blast on the hand-made account tests/data/snapshots/blast-basic.json (blast_basic.py): the paths worked out
# by hand, every format, byte-identical output, exit codes and the one-line errors for a bad --from.
set -u
T="$TM_BIN/tmscan"
S="$TM_ROOT/tests/data/snapshots/blast-basic.json"
A=111122223333
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# The leaked access key of deployer: assume automation, rewrite its own managed policy, administrator.
"$T" blast "$S" --from AKIAEXAMPLEDEPLOY001 >"$W/key.txt"; rc=$?
[ "$rc" -eq 0 ] || fail "blast from a key: exit $rc"
grep -q "^Blast radius of user deployer (asked as AKIAEXAMPLEDEPLOY001)" "$W/key.txt" || fail "key header: $(head -3 "$W/key.txt")"
grep -q "becomes administrator of account $A (full control) in 3 steps, via iam:CreatePolicyVersion" "$W/key.txt" ||
    fail "key summary: $(sed -n 4,8p "$W/key.txt")"
grep -q "1. user deployer --can-assume \[sts:AssumeRole\]--> role automation" "$W/key.txt" || fail "key step 1"
grep -q "2. role automation --can-escalate-to \[iam:CreatePolicyVersion\]--> managed policy automation-policy" \
    "$W/key.txt" || fail "key step 2"
grep -q "3. managed policy automation-policy --can-escalate-to \[\*\]--> administrator of account $A" "$W/key.txt" ||
    fail "key step 3"

# The internet, as JSON: the path to orders-data through the public API method, step by step.
"$T" blast "$S" --from internet --format json -o "$W/internet.json" || fail "blast json exit $?"
/usr/bin/python3 - "$W/internet.json" <<'PY' || fail "internet paths"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["schema"] == "tmscan.blast/2"
# Everything is listed here (under the default --limit of 50 per group), and the listing says so.
assert r["listing"] == {"limit": 50, "offset": 0, "omitted": {g: 0 for g in r["reached"]}}, r["listing"]
# The internet reaches the administrator through deployer's key and a technique: paths stop there.
assert [(e["account"], e["grants_walked"], e["not_reached"]) for e in r["everything"]] == [("111122223333", False, None)]
assert r["from"]["nodes"][0]["id"] == "internet" and r["from"]["access_keys_followed"] is True
data = {h["id"]: h for h in r["reached"]["data"]}
A, R = "111122223333", "eu-west-1"
def steps(r, h):
    """A node's path as (from, kind, to, actions): the edge list gives the rest of each [edge, node] step."""
    out = []
    for i, to in h["path"]:
        e = r["edges"][i]
        out.append((e["from"], e["kind"], to, e["actions"]))
    return out
h = data["arn:aws:s3:::orders-data"]
st = steps(r, h)
assert st == [
    ("internet", "can-invoke", f"arn:aws:execute-api:{R}:{A}:a1/prod/GET/orders", ["execute-api:Invoke"]),
    (f"arn:aws:execute-api:{R}:{A}:a1/prod/GET/orders", "routes-to", f"arn:aws:lambda:{R}:{A}:function:orders-api", []),
    (f"arn:aws:lambda:{R}:{A}:function:orders-api", "holds-token-of", f"arn:aws:iam::{A}:role/orders-role", []),
    (f"arn:aws:iam::{A}:role/orders-role", "can-read", "arn:aws:s3:::orders-data", ["s3:GetObject"]),
], st
assert r["edges"][h["path"][3][0]]["evidence"]["sid"] == "ReadOrders" and h["access"] == ["read"] and h["distance"] == 4
m = data["arn:aws:s3:::mystery-bucket"]
assert m["unknown"] is True and r["edges"][m["path"][0][0]]["unknown"] is True
assert [e["index"] for e in r["edges"]] == list(range(len(r["edges"])))
assert [x["id"] for x in r["reached"]["admin"]] == [f"admin:{A}"]
assert "arn:aws:s3:::vault-bucket" not in data and "arn:aws:s3:::partner-share" not in data
assert r["summary"]["unknown"] == 1 and r["summary"]["admin"] == 1
PY

# Account 999999999999: through the queue to the worker's credentials; never through deployer's key.
"$T" blast "$S" --from account:999999999999 -f json >"$W/acct.json" || fail "blast account exit $?"
/usr/bin/python3 - "$W/acct.json" <<'PY' || fail "account paths"
import json, sys
r = json.load(open(sys.argv[1]))
A, R = "111122223333", "eu-west-1"
ids = {h["id"]: h for g in r["reached"].values() for h in g}
w = ids[f"arn:aws:iam::{A}:role/worker-role"]
assert [r["edges"][i]["kind"] for i, _ in w["path"]] == ["can-assume", "can-write", "triggers", "holds-token-of"], w
assert f"arn:aws:iam::{A}:user/deployer" not in ids and f"admin:{A}" not in ids
assert r["from"]["access_keys_followed"] is False
assert [n["id"] for n in r["from"]["nodes"]] == ["account:999999999999", "any-aws-account", "internet"]
PY

# Every format twice: byte-identical.
for f in text json dot; do
    "$T" blast "$S" --from internet -f "$f" >"$W/a.$f" || fail "format $f exit $?"
    "$T" blast "$S" --from internet -f "$f" >"$W/b.$f" || fail "format $f exit $?"
    cmp -s "$W/a.$f" "$W/b.$f" || fail "format $f is not deterministic"
done
grep -q '^digraph blast {' "$W/a.dot" || fail "dot header"
grep -q '"internet" -> "arn:aws:s3:::mystery-bucket" \[label="can-read", style=dashed' "$W/a.dot" || fail "dot unknown edge"

# --depth and --limit.
"$T" blast "$S" --from internet --depth 2 -f json >"$W/d.json" || fail "depth exit"
/usr/bin/python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
hits = [h for g in r["reached"].values() for h in g]
assert hits and all(h["distance"] <= 2 for h in hits) and r["max_depth"] == 2
' "$W/d.json" || fail "depth limit not kept"
"$T" blast "$S" --from arn:aws:iam::$A:role/analytics --limit 1 >"$W/l.txt" || fail "limit exit"
grep -q '\.\.\. and 3 more' "$W/l.txt" || fail "limit count"
# --limit and --offset page through a group in every format; the pages add up to the whole.
"$T" blast "$S" --from internet --limit 0 -f json >"$W/all.json" || fail "limit 0 exit"
for off in 0 1 2 3 4 5 6; do
    "$T" blast "$S" --from internet --limit 1 --offset $off -f json >"$W/p$off.json" || fail "offset $off exit"
done
/usr/bin/python3 - "$W" <<'PY' || fail "pages"
import json, sys
w = sys.argv[1]
full = json.load(open(f"{w}/all.json"))
assert full["listing"]["limit"] is None
for g, hits in full["reached"].items():
    paged = []
    for off in range(7):
        r = json.load(open(f"{w}/p{off}.json"))
        assert r["listing"]["offset"] == off and r["listing"]["limit"] == 1
        assert len(r["reached"][g]) <= 1 and r["summary"] == full["summary"]
        assert r["listing"]["omitted"][g] == len(hits) - len(r["reached"][g])
        paged += [h["id"] for h in r["reached"][g]]
    assert paged == [h["id"] for h in hits][:7], (g, paged)
PY
"$T" blast "$S" --from internet --offset x >/dev/null 2>&1; [ $? -eq 2 ] || fail "--offset x accepted"

# Errors: exit 2, one line, naming what was not found, with a near match.
"$T" blast "$S" --from arn:aws:iam::$A:role/ordres-role >/dev/null 2>"$W/err"; rc=$?
[ "$rc" -eq 2 ] || fail "bad --from exit $rc"
[ "$(wc -l <"$W/err")" -eq 1 ] || fail "bad --from: more than one line: $(cat "$W/err")"
grep -q "'arn:aws:iam::$A:role/ordres-role' is not in the snapshot; did you mean 'arn:aws:iam::$A:role/orders-role'?" \
    "$W/err" || fail "bad --from message: $(cat "$W/err")"
"$T" blast "$S" --from ASIAQDEMOTMSCAN00001 >/dev/null 2>"$W/err"; [ $? -eq 2 ] || fail "temporary key exit"
grep -q "temporary access key" "$W/err" || fail "temporary key message"
"$T" blast "$S" >/dev/null 2>"$W/err"; [ $? -eq 2 ] || fail "missing --from exit"
grep -q "missing --from" "$W/err" || fail "missing --from message"
"$T" blast "$S" --from internet --format svg >/dev/null 2>"$W/err"; [ $? -eq 2 ] || fail "bad format exit"
grep -q "unknown format 'svg'" "$W/err" || fail "bad format message"
"$T" blast "$S" --from internet --depth 0 >/dev/null 2>&1; [ $? -eq 2 ] || fail "--depth 0 accepted"
"$T" blast "$S" --from internet --depth x >/dev/null 2>&1; [ $? -eq 2 ] || fail "--depth x accepted"
"$T" blast "$W/missing.json" --from internet >/dev/null 2>"$W/err"; [ $? -eq 2 ] || fail "missing snapshot exit"
grep -q "missing.json" "$W/err" || fail "missing snapshot message"
"$T" help blast | grep -q "^usage: tmscan blast SNAPSHOT --from ID" || fail "help blast"
echo ok
