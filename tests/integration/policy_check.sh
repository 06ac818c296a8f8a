#!/bin/sh
# `tmscan policy check`: who can reach a resource, in words and as JSON; exit 1 when public or
# cross-account, 0 otherwise, 2 on bad input with the file, statement and field named.
set -u
T="$TM_BIN/tmscan"
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The SNS topic policy AWS creates by default: {"AWS": "*"} narrowed by AWS:SourceOwner. Not public.
cat >"$tmp/sns.json" <<'JSON'
{"Version":"2008-10-17","Id":"__default_policy_ID","Statement":[{"Sid":"__default_statement_ID","Effect":"Allow",
 "Principal":{"AWS":"*"},"Action":["SNS:Publish","SNS:Subscribe"],"Resource":"arn:aws:sns:eu-west-2:111122223333:alerts",
 "Condition":{"StringEquals":{"AWS:SourceOwner":"111122223333"}}}]}
JSON
"$T" policy check "$tmp/sns.json" --type sns >"$tmp/out" 2>"$tmp/err"; rc=$?
[ "$rc" -eq 0 ] || { cat "$tmp/out" "$tmp/err"; fail "sns default policy exit $rc, expected 0"; }
grep -q 'AWS services on behalf of resources of account 111122223333' "$tmp/out" || fail "sns words: $(cat "$tmp/out")"
grep -q '^verdict: service$' "$tmp/out" || fail "sns verdict"

# A public bucket: exit 1, JSON names the statement.
cat >"$tmp/s3.json" <<'JSON'
{"Version":"2012-10-17","Statement":[{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject",
 "Resource":"arn:aws:s3:::site/*"}]}
JSON
"$T" policy check "$tmp/s3.json" --type s3 --account 111122223333 --json >"$tmp/out"; rc=$?
[ "$rc" -eq 1 ] || fail "public bucket exit $rc, expected 1"
grep -q '"verdict":"public"' "$tmp/out" || fail "json verdict: $(cat "$tmp/out")"
grep -q '"evidence":\[{"statement":0,"sid":"PublicRead"' "$tmp/out" || fail "json evidence"
"$T" policy check "$tmp/s3.json" --type s3 --account 111122223333 --json >"$tmp/out2"
cmp -s "$tmp/out" "$tmp/out2" || fail "json output differs between runs"

# ... unless Block Public Access restricts it.
echo '{"PublicAccessBlockConfiguration":{"BlockPublicAcls":true,"IgnorePublicAcls":true,"BlockPublicPolicy":true,"RestrictPublicBuckets":true}}' >"$tmp/bpa.json"
"$T" policy check "$tmp/s3.json" --type s3 --account 111122223333 --account-public-access-block "$tmp/bpa.json" >"$tmp/out"; rc=$?
[ "$rc" -eq 0 ] || fail "restricted bucket exit $rc"
grep -q 'RestrictPublicBuckets' "$tmp/out" || fail "bpa note"

# A trust policy for GitHub Actions without a sub condition: any repository can assume it.
cat >"$tmp/trust.json" <<'JSON'
{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"},
 "Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"}}}]}
JSON
"$T" policy check "$tmp/trust.json" --type trust >"$tmp/out"; rc=$?
[ "$rc" -eq 1 ] || fail "github trust exit $rc"
grep -q 'no condition pins the identity' "$tmp/out" || fail "trust words: $(cat "$tmp/out")"

# Bad input: exit 2 and the error names the file, the statement and the field.
cat >"$tmp/bad.json" <<'JSON'
{"Statement":[{"Sid":"A","Effect":"Allow","Principal":"*","Action":"s3:GetObject"},
 {"Sid":"B","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/*"},"Action":"s3:GetObject"}]}
JSON
"$T" policy check "$tmp/bad.json" --type s3 >/dev/null 2>"$tmp/err"; rc=$?
[ "$rc" -eq 2 ] || fail "bad policy exit $rc"
grep -q "bad.json: statement 1 (Sid \"B\"): Principal.AWS" "$tmp/err" || fail "error text: $(cat "$tmp/err")"
"$T" policy check "$tmp/s3.json" --type nosuch >/dev/null 2>&1; rc=$?
[ "$rc" -eq 2 ] || fail "bad type exit $rc"
"$T" policy check "$tmp/s3.json" >/dev/null 2>&1; rc=$?
[ "$rc" -eq 2 ] || fail "missing type exit $rc"
"$T" policy check "$tmp/missing.json" --type s3 >/dev/null 2>"$tmp/err"; rc=$?
[ "$rc" -eq 2 ] || fail "missing file exit $rc"
grep -q 'missing.json' "$tmp/err" || fail "missing file named"
echo '{"Grants":[{"Grantee":{"Type":"Group","URI":"http://acs.amazonaws.com/groups/global/AllUsers"},"Permission":"READ"}]}' >"$tmp/acl.json"
"$T" policy check "$tmp/sns.json" --type sns --acl "$tmp/acl.json" >/dev/null 2>&1; rc=$?
[ "$rc" -eq 2 ] || fail "--acl with sns exit $rc"
echo ok
