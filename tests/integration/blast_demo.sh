#!/bin/sh
# Incident-time questions on the demo account (fixtures/aws/demo, README "Planted flaws"), scanned for real through
# mockcloud. The expected paths were checked by hand against the account's policies and the planted-flaw list:
#   F25  web-1 (public, IMDSv1) carries web-instance-profile, whose role web-instance-role reads, writes and
#        deletes demo-customer-data (web-app-data statement 0) and reads prod/customers-db/credentials (statement 2);
#   F26  GET /orders runs orders-api, whose role orders-api-lambda-role reads prod/payments/stripe-api-key;
#   F27  access key AKIAQDEMOCIDEPLOY001 -> ci-deploy -> iam-policy-automation -> a new version of
#        IamPolicyAutomation -> administrator (F24's iam:CreatePolicyVersion).
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
[ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || { cat "$W/scan.err"; fail "scan exit $rc"; }
kill "$PID" 2>/dev/null
wait 2>/dev/null
PID=""
S="$W/snapshot.json"
A=111122223333

# The instance profile role of the public instance with IMDSv1: exactly the customer data and its database secret.
"$T" blast "$S" --from arn:aws:iam::$A:role/web-instance-role -f json >"$W/role.json" || fail "blast role exit $?"
"$T" blast "$S" --from internet -f json >"$W/internet.json" || fail "blast internet exit $?"
"$T" blast "$S" --from AKIAQDEMOCIDEPLOY001 -f json >"$W/key.json" || fail "blast key exit $?"
/usr/bin/python3 - "$W/role.json" "$W/internet.json" "$W/key.json" <<'PY' || fail "demo paths"
import json, sys
A = "111122223333"
BUCKET = "arn:aws:s3:::demo-customer-data"
DB_SECRET = f"arn:aws:secretsmanager:us-east-1:{A}:secret:prod/customers-db/credentials-a8KfR2"
STRIPE = f"arn:aws:secretsmanager:us-east-1:{A}:secret:prod/payments/stripe-api-key-Xq3vZp"
ROLE = f"arn:aws:iam::{A}:role/web-instance-role"
WEB_1 = f"arn:aws:ec2:us-east-1:{A}:instance/i-0a1b2c3d4e5f60718"
PROFILE = f"arn:aws:iam::{A}:instance-profile/web-instance-profile"


def reached(path):
    r = json.load(open(path))
    return r, {h["id"]: h for g in r["reached"].values() for h in g}


def steps(h):
    return [(s["from"], s["kind"], s["to"]) for s in h["path"]]


r, ids = reached(sys.argv[1])
assert sorted(ids) == [BUCKET, DB_SECRET], sorted(ids)
assert [h["id"] for h in r["reached"]["data"]] == [BUCKET, DB_SECRET]
b = ids[BUCKET]
assert b["access"] == ["write", "read"] and b["distance"] == 1, b
assert steps(b) == [(ROLE, "can-read", BUCKET)]
assert b["path"][0]["evidence"]["policy"] == "web-app-data" and b["path"][0]["evidence"]["statement"] == 0
s = ids[DB_SECRET]
assert s["access"] == ["read"] and steps(s) == [(ROLE, "can-read", DB_SECRET)]
assert s["path"][0]["actions"] == ["secretsmanager:GetSecretValue"] and s["path"][0]["evidence"]["statement"] == 2
assert r["summary"]["data"] == 2 and r["summary"]["total"] == 2

# F25 and F26 from the internet, step by step.
r, ids = reached(sys.argv[2])
f25 = [("internet", "routes-to", WEB_1), (WEB_1, "holds-token-of", PROFILE), (PROFILE, "holds-token-of", ROLE)]
assert steps(ids[BUCKET]) == f25 + [(ROLE, "can-read", BUCKET)], steps(ids[BUCKET])
assert ids[BUCKET]["path"][0]["actions"] == ["tcp/22", "tcp/80", "tcp/443"]
assert steps(ids[DB_SECRET]) == f25 + [(ROLE, "can-read", DB_SECRET)]
METHOD = f"arn:aws:execute-api:us-east-1:{A}:a1b2c3d4e5/prod/GET/orders"
FN = f"arn:aws:lambda:us-east-1:{A}:function:orders-api"
LROLE = f"arn:aws:iam::{A}:role/service-role/orders-api-lambda-role"
assert steps(ids[STRIPE]) == [("internet", "can-invoke", METHOD), (METHOD, "routes-to", FN),
                              (FN, "holds-token-of", LROLE), (LROLE, "can-read", STRIPE)], steps(ids[STRIPE])

# F27: the leaked key to administrator.
r, ids = reached(sys.argv[3])
USER = f"arn:aws:iam::{A}:user/service/ci-deploy"
AUTO = f"arn:aws:iam::{A}:role/iam-policy-automation"
POLICY = f"arn:aws:iam::{A}:policy/IamPolicyAutomation"
assert r["from"]["nodes"][0]["id"] == USER
admin = ids[f"admin:{A}"]
assert steps(admin) == [(USER, "can-assume", AUTO), (AUTO, "can-escalate-to", POLICY),
                        (POLICY, "can-escalate-to", f"admin:{A}")], steps(admin)
assert admin["path"][1]["actions"] == ["iam:CreatePolicyVersion"]
assert admin["path"][1]["evidence"]["policy"] == "iam-create-policy-version"
assert [h["id"] for h in r["reached"]["admin"]] == [f"admin:{A}"]
PY

"$T" blast "$S" --from AKIAQDEMOCIDEPLOY001 >"$W/key.txt" || fail "blast key text exit"
grep -q "becomes administrator of account $A (full control) in 3 steps, via iam:CreatePolicyVersion" "$W/key.txt" ||
    fail "key summary: $(sed -n 1,8p "$W/key.txt")"

# The same questions asked the other way.
"$T" query "$S" can arn:aws:iam::$A:role/web-instance-role s3:DeleteObject arn:aws:s3:::demo-customer-data/x \
    >"$W/can.txt" || fail "can delete: exit $?"
grep -q "allowed by identity policy web-app-data of role web-instance-role, statement 0" "$W/can.txt" ||
    fail "can delete statement: $(cat "$W/can.txt")"
"$T" query "$S" can arn:aws:iam::$A:role/web-instance-role s3:PutBucketPolicy arn:aws:s3:::demo-customer-data \
    >/dev/null; [ $? -eq 1 ] || fail "web-instance-role may not change the bucket policy"
"$T" query "$S" who-can secretsmanager:GetSecretValue \
    "arn:aws:secretsmanager:us-east-1:$A:secret:prod/payments/stripe-api-key-Xq3vZp" -f json >"$W/who.json" ||
    fail "who-can exit $?"
/usr/bin/python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
ids = [p["id"] for p in r["principals"]]
assert "arn:aws:iam::111122223333:role/service-role/orders-api-lambda-role" in ids, ids
assert "arn:aws:iam::111122223333:role/web-instance-role" not in ids, ids
' "$W/who.json" || fail "who-can stripe key"
echo ok
