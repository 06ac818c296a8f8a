#!/bin/sh
# tmscan whoami aws through a role: role_arn + source_profile (with external_id and a session name),
# signed by the source profile's keys and verified by mockcloud; a chain of two roles; a refusal.
. "$TM_ROOT/tests/integration/whoami.inc"

assume_role() { # file role_arn caller_key extra_param access_key secret token
    cat >"$FIX/sts/$1.http" <<HTTP
service: sts
operation: AssumeRole
method: POST
path: /
param: RoleArn=$2
access-key: $3
$4
content-type: text/xml

<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::111122223333:assumed-role/mocktest-admin/tmscan</Arn>
      <AssumedRoleId>AROAMOCKTEST00000004:tmscan</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>$5</AccessKeyId>
      <SecretAccessKey>$6</SecretAccessKey>
      <SessionToken>$7</SessionToken>
      <Expiration>2099-01-01T00:00:00Z</Expiration>
    </Credentials>
  </AssumeRoleResult>
  <ResponseMetadata>
    <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896d0</RequestId>
  </ResponseMetadata>
</AssumeRoleResponse>
HTTP
}
# base (long-term key) -> mocktest-web (session key) -> mocktest-admin.
assume_role AssumeRole-web arn:aws:iam::111122223333:role/mocktest-web AKIAMOCKTEST00000001 \
    "param: RoleSessionName=ci-run" ASIAMOCKTEST00000001 $WEB_SECRET \
    $WEB_TOKEN
assume_role AssumeRole-admin arn:aws:iam::111122223333:role/mocktest-admin ASIAMOCKTEST00000001 \
    "param: ExternalId=mocktest-external-id" ASIAMOCKTESTADMIN001 $ADMIN_SECRET \
    $ADMIN_TOKEN
cat >"$FIX/sts/AssumeRole-denied.http" <<'HTTP'
service: sts
operation: AssumeRole
method: POST
path: /
param: RoleArn=arn:aws:iam::111122223333:role/forbidden
status: 403
content-type: text/xml

<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error>
    <Type>Sender</Type>
    <Code>AccessDenied</Code>
    <Message>User: arn:aws:iam::111122223333:user/mocktest is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111122223333:role/forbidden</Message>
  </Error>
  <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896d1</RequestId>
</ErrorResponse>
HTTP
start_mockcloud

cat >"$T/home/.aws/credentials" <<INI
[base]
aws_access_key_id = AKIAMOCKTEST00000001
aws_secret_access_key = $USER_SECRET
INI
cat >"$T/home/.aws/config" <<'INI'
[profile web]
role_arn = arn:aws:iam::111122223333:role/mocktest-web
source_profile = base
role_session_name = ci-run
region = eu-west-1

[profile admin]
role_arn = arn:aws:iam::111122223333:role/mocktest-admin
source_profile = web
external_id = mocktest-external-id
duration_seconds = 3600

[profile forbidden]
role_arn = arn:aws:iam::111122223333:role/forbidden
source_profile = base

[profile loop]
role_arn = arn:aws:iam::111122223333:role/loop
source_profile = loop
INI

whoami AWS_ENDPOINT_URL="$U" -- --profile web
expect_identity arn:aws:sts::111122223333:assumed-role/mocktest-web/session AROAMOCKTEST00000002:session \
    "assume-role (profile web via source_profile base)"
grep -q '"fixture":"sts/AssumeRole-web.http"' "$T/log" || fail "AssumeRole (web) answered"
grep -q '"operation":"AssumeRole","access_key":"AKIAMOCKTEST00000001","auth":"sigv4"' "$T/log" ||
    fail "AssumeRole signed by the base key"
expect_no_secrets

# Two hops: the second AssumeRole is signed with the first role's session (token included).
: >"$T/log.keep"
whoami AWS_ENDPOINT_URL="$U" AWS_PROFILE=admin
expect_identity arn:aws:sts::111122223333:assumed-role/mocktest-admin/tmscan AROAMOCKTEST00000004:tmscan \
    "assume-role (profile admin via source_profile web via source_profile base)"
grep -q '"fixture":"sts/AssumeRole-admin.http"' "$T/log" || fail "AssumeRole (admin) answered"
grep -q '"operation":"AssumeRole","access_key":"ASIAMOCKTEST00000001","auth":"sigv4"' "$T/log" ||
    fail "second hop signed by the first role's session"
expect_no_secrets

# STS refuses: AWS's message, exit 3.
whoami AWS_ENDPOINT_URL="$U" -- --profile forbidden
[ "$RC" -eq 3 ] || fail "AccessDenied: exit $RC"
grep -q 'AccessDenied: User: arn:aws:iam::111122223333:user/mocktest is not authorized' "$T/err" ||
    fail "AccessDenied message"
# A source_profile loop never leaves the machine.
whoami AWS_ENDPOINT_URL="$U" -- --profile loop
[ "$RC" -eq 2 ] || fail "loop: exit $RC"
grep -q 'Infinite loop in profile configuration: loop -> loop' "$T/err" || fail "loop message"
exit 0
