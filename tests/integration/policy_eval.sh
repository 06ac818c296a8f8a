#!/bin/sh
# `tmscan policy eval`: JSON lines in, one answer per line out, in order; bad lines answered with an
# error and the rest still evaluated; exit 2 when any line was an error.
set -u
T="$TM_BIN/tmscan"
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/in.jsonl" <<'JSON'
{"id":1,"identityPolicies":[{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::reports/*"},{"Sid":"NoSecrets","Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::reports/secret/*"}]}],"request":{"principal":"arn:aws:iam::111122223333:user/ann","action":"s3:GetObject","resource":"arn:aws:s3:::reports/q1.csv"}}
{"id":2,"identityPolicies":[{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::reports/*"},{"Sid":"NoSecrets","Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::reports/secret/*"}]}],"request":{"principal":"arn:aws:iam::111122223333:user/ann","action":"s3:GetObject","resource":"arn:aws:s3:::reports/secret/k"}}

this is not json
{"id":"x-acct","identityPolicies":[{"Statement":{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*"}}],"resourcePolicy":{"Statement":{"Effect":"Allow","Principal":{"AWS":"999999999999"},"Action":"sqs:SendMessage","Resource":"arn:aws:sqs:us-east-1:111122223333:q"}},"request":{"principal":"arn:aws:iam::999999999999:role/app","action":"sqs:SendMessage","resource":"arn:aws:sqs:us-east-1:111122223333:q"}}
{"id":5,"scps":[{"Statement":{"Effect":"Allow","Action":"ec2:*","Resource":"*"}}],"identityPolicies":[{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}],"request":{"principal":"arn:aws:iam::111122223333:user/ann","action":"s3:GetObject","resource":"arn:aws:s3:::b/k"}}
{"id":6,"identityPolicies":[{"Statement":{"Effect":"Allow","Action":"s3:GetObject"}}],"request":{"principal":"arn:aws:iam::111122223333:user/ann","action":"s3:GetObject","resource":"*"}}
JSON

"$T" policy eval <"$tmp/in.jsonl" >"$tmp/out.jsonl" 2>"$tmp/err"; rc=$?
[ "$rc" -eq 2 ] || fail "exit $rc, expected 2 (one line was an error)"
[ "$(wc -l <"$tmp/out.jsonl")" -eq 6 ] || { cat "$tmp/out.jsonl"; fail "expected 6 answer lines"; }
sed -n 1p "$tmp/out.jsonl" | grep -qx '{"id":1,"decision":"allowed","matched":\[{"policy":"identityPolicies\[0\]","statement":0}\]}' \
    || fail "line 1: $(sed -n 1p "$tmp/out.jsonl")"
sed -n 2p "$tmp/out.jsonl" | grep -qx '{"id":2,"decision":"explicitDeny","matched":\[{"policy":"identityPolicies\[0\]","statement":1}\]}' \
    || fail "line 2: $(sed -n 2p "$tmp/out.jsonl")"
sed -n 3p "$tmp/out.jsonl" | grep -qx '{"id":null,"error":"not valid JSON"}' || fail "line 3: $(sed -n 3p "$tmp/out.jsonl")"
sed -n 4p "$tmp/out.jsonl" | grep -q '"id":"x-acct","decision":"allowed"' || fail "line 4: $(sed -n 4p "$tmp/out.jsonl")"
sed -n 5p "$tmp/out.jsonl" | grep -q '"id":5,"decision":"implicitDeny"' || fail "line 5: $(sed -n 5p "$tmp/out.jsonl")"
sed -n 6p "$tmp/out.jsonl" | grep -q '"id":6,"error":"identityPolicies\[0\]: statement 0: Resource: missing' \
    || fail "line 6: $(sed -n 6p "$tmp/out.jsonl")"

# All good lines: exit 0; --input reads a file.
sed -n 1,2p "$tmp/in.jsonl" >"$tmp/good.jsonl"
"$T" policy eval --input "$tmp/good.jsonl" >"$tmp/out2" || fail "good input exit $?"
[ "$(wc -l <"$tmp/out2")" -eq 2 ] || fail "--input answers"

"$T" policy eval --bogus </dev/null >/dev/null 2>&1; rc=$?
[ "$rc" -eq 2 ] || fail "bad option exit $rc"
"$T" policy >/dev/null 2>&1; rc=$?
[ "$rc" -eq 2 ] || fail "missing subcommand exit $rc"
"$T" help policy | grep -q 'tmscan policy eval' || fail "help policy"
echo ok
