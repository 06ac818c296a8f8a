#!/bin/sh
# tmscan whoami aws with web identity: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN, and
# web_identity_token_file + role_arn in a profile; an unreadable token file.
. "$TM_ROOT/tests/integration/whoami.inc"
start_mockcloud
printf 'eyJhbGciOiJSUzI1NiIsImtpZCI6Im1vY2t0ZXN0In0.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6bW9ja3Rlc3Q6c2Nhbm5lciJ9.c2ln\n' \
    >"$T/token"

whoami AWS_ENDPOINT_URL="$U" AWS_WEB_IDENTITY_TOKEN_FILE="$T/token" \
    AWS_ROLE_ARN=arn:aws:iam::111122223333:role/mocktest-web AWS_ROLE_SESSION_NAME=scanner
expect_identity arn:aws:sts::111122223333:assumed-role/mocktest-web/session AROAMOCKTEST00000002:session web-identity
grep -q '"fixture":"sts/AssumeRoleWithWebIdentity.http"' "$T/log" || fail "AssumeRoleWithWebIdentity answered"
grep -q '"operation":"AssumeRoleWithWebIdentity".*"auth":"none"' "$T/log" || fail "AssumeRoleWithWebIdentity unsigned"
expect_no_secrets
if grep -q 'eyJhbGciOiJSUzI1NiIsImtpZCI6Im1vY2t0ZXN0In0' "$T/err" "$T/out"; then fail "the web identity token leaked"; fi

cat >"$T/home/.aws/config" <<INI
[profile k8s]
role_arn = arn:aws:iam::111122223333:role/mocktest-web
web_identity_token_file = ~/token
region = eu-west-1
INI
cp "$T/token" "$T/home/token"
whoami AWS_ENDPOINT_URL="$U" -- --profile k8s
expect_identity arn:aws:sts::111122223333:assumed-role/mocktest-web/session AROAMOCKTEST00000002:session web-identity

# A token file that does not exist: nothing is sent.
whoami AWS_ENDPOINT_URL="$U" AWS_WEB_IDENTITY_TOKEN_FILE="$T/missing-token" \
    AWS_ROLE_ARN=arn:aws:iam::111122223333:role/mocktest-web
[ "$RC" -eq 3 ] || fail "missing token file: exit $RC"
grep -q "cannot read the web identity token file: $T/missing-token" "$T/err" || fail "missing token file message"
exit 0
