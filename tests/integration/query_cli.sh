#!/bin/sh
# tmscan query on the hand-made account tests/data/snapshots/blast-basic.json: can (exit 0 allowed, 1 denied, 3 not
# known), who-can, both formats, byte-identical output, and the one-line errors.
set -u
T="$TM_BIN/tmscan"
S="$TM_ROOT/tests/data/snapshots/blast-basic.json"
A=111122223333
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$T" query "$S" can arn:aws:iam::$A:role/orders-role s3:GetObject arn:aws:s3:::orders-data/a.csv >"$W/o"; rc=$?
[ "$rc" -eq 0 ] || fail "allowed: exit $rc"
grep -q "^ALLOWED: role orders-role can s3:GetObject on arn:aws:s3:::orders-data/a.csv" "$W/o" || fail "allowed line"
grep -q "allowed by identity policy orders of role orders-role, statement 0 (Sid ReadOrders)" "$W/o" ||
    fail "allowed statement: $(cat "$W/o")"

"$T" query "$S" can arn:aws:iam::$A:role/analytics s3:GetObject arn:aws:s3:::vault-bucket/x >"$W/o"; rc=$?
[ "$rc" -eq 1 ] || fail "explicit deny: exit $rc"
grep -q "denied by service control policy ProtectVault (attached to ou-apps), statement 0 (Sid NoVault)" "$W/o" ||
    fail "SCP statement: $(cat "$W/o")"

"$T" query "$S" can arn:aws:iam::$A:user/intern s3:PutObject arn:aws:s3:::logs-bucket/x -f json >"$W/o.json"; rc=$?
[ "$rc" -eq 1 ] || fail "boundary: exit $rc"
/usr/bin/python3 - "$W/o.json" <<'PY' || fail "boundary json"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["schema"] == "tmscan.query/1" and r["question"] == "can"
assert r["decision"] == "implicitDeny" and r["allowed"] is False and r["unknown"] is False
assert "boundary" in r["reason"]
ident = [s for s in r["statements"] if s["set"] == "identity"]
assert ident and ident[0]["document"]["Sid"] == "LogsRW" and ident[0]["policy"] == "intern"
PY

# Not known: denied by what could be read, but mystery-bucket's policy could not be read.
"$T" query "$S" can arn:aws:iam::$A:user/intern s3:GetObject arn:aws:s3:::mystery-bucket/x >"$W/o"; rc=$?
[ "$rc" -eq 3 ] || fail "unknown: exit $rc"
grep -q "^UNKNOWN" "$W/o" || fail "unknown line: $(head -1 "$W/o")"

# An access key id is its user; an external account through the bucket policy.
"$T" query "$S" can AKIAEXAMPLEDEPLOY001 sts:AssumeRole arn:aws:iam::$A:role/automation >/dev/null || fail "key can"
"$T" query "$S" can account:999999999999 s3:GetObject arn:aws:s3:::partner-share/f >"$W/o" || fail "account can"
grep -q "allowed by bucket policy of bucket partner-share, statement 0 (Sid PartnerRead)" "$W/o" || fail "bucket policy"

# who-can, text and JSON, deterministic.
"$T" query "$S" who-can s3:GetObject arn:aws:s3:::partner-share >"$W/w"; rc=$?
[ "$rc" -eq 0 ] || fail "who-can exit $rc"
grep -q "account 999999999999 — s3:GetObject" "$W/w" || fail "who-can external account: $(cat "$W/w")"
grep -q "role analytics — s3:GetObject" "$W/w" || fail "who-can analytics"
"$T" query "$S" who-can 's3:Get*' arn:aws:s3:::orders-data -f json >"$W/w1.json" || fail "who-can pattern exit"
"$T" query "$S" who-can 's3:Get*' arn:aws:s3:::orders-data -f json >"$W/w2.json" || fail "who-can pattern exit"
cmp -s "$W/w1.json" "$W/w2.json" || fail "who-can is not deterministic"
/usr/bin/python3 - "$W/w1.json" <<'PY' || fail "who-can pattern json"
import json, sys
r = json.load(open(sys.argv[1]))
A = "111122223333"
ids = [p["id"] for p in r["principals"]]
assert ids == [f"arn:aws:iam::{A}:role/analytics", f"arn:aws:iam::{A}:role/orders-role"], ids
orders = r["principals"][1]
assert orders["actions"] == ["s3:GetObject"] and orders["statements"][0]["sid"] == "ReadOrders"
assert all(a.startswith("s3:Get") for a in r["actions"])
PY
"$T" query "$S" who-can s3:GetObject arn:aws:s3:::vault-bucket >"$W/w" || fail "nobody exit"
grep -q "^Nobody" "$W/w" || fail "nobody line"

# Errors: exit 2, one line, with a near match when there is one.
"$T" query "$S" can arn:aws:iam::$A:role/analytic s3:GetObject arn:aws:s3:::orders-data >/dev/null 2>"$W/err"
[ $? -eq 2 ] || fail "unknown principal exit"
[ "$(wc -l <"$W/err")" -eq 1 ] || fail "unknown principal: more than one line"
grep -q "did you mean 'arn:aws:iam::$A:role/analytics'" "$W/err" || fail "principal suggestion: $(cat "$W/err")"
"$T" query "$S" can arn:aws:iam::$A:role/analytics s3:GetObjekt arn:aws:s3:::orders-data >/dev/null 2>"$W/err"
[ $? -eq 2 ] || fail "bad action exit"
grep -q "did you mean 's3:GetObject'" "$W/err" || fail "action suggestion: $(cat "$W/err")"
"$T" query "$S" can arn:aws:iam::$A:role/analytics 's3:Get*' arn:aws:s3:::orders-data >/dev/null 2>"$W/err"
[ $? -eq 2 ] || fail "pattern in can accepted"
"$T" query "$S" who-can s3:GetObject arn:aws:s3:::orders-dta >/dev/null 2>"$W/err"; [ $? -eq 2 ] || fail "who-can bad resource"
grep -q "did you mean 'arn:aws:s3:::orders-data'" "$W/err" || fail "resource suggestion"
"$T" query "$S" maybe x y >/dev/null 2>&1; [ $? -eq 2 ] || fail "unknown question"
"$T" query "$S" can a b >/dev/null 2>&1; [ $? -eq 2 ] || fail "missing argument"
"$T" query "$S" who-can s3:GetObject arn:aws:s3:::orders-data -f dot >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad format"
"$T" help query | grep -q "^usage: tmscan query SNAPSHOT can" || fail "help query"
echo ok
