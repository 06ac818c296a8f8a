#!/bin/sh
# tmscan whoami aws with EC2 instance metadata (IMDSv2: token, role name, role credentials) as the last
# source of the chain, at AWS_EC2_METADATA_SERVICE_ENDPOINT; AWS_EC2_METADATA_DISABLED.
. "$TM_ROOT/tests/integration/whoami.inc"
start_mockcloud

whoami AWS_ENDPOINT_URL="$U" AWS_EC2_METADATA_SERVICE_ENDPOINT="$U/"
expect_identity arn:aws:sts::111122223333:assumed-role/mocktest-instance-role/i-0mocktest0000001 \
    AROAMOCKTEST00000003:i-0mocktest0000001 "instance-metadata (IMDSv2)"
grep -q '"method":"PUT","path":"/latest/api/token".*"fixture":"imds/token.http"' "$T/log" || fail "IMDSv2 token"
grep -q '"fixture":"imds/role-name.http"' "$T/log" || fail "IMDS role name"
grep -q '"fixture":"imds/role-credentials.http"' "$T/log" || fail "IMDS role credentials"
expect_no_secrets

# A profile that takes its source credentials from the instance.
cat >"$T/home/.aws/config" <<'INI'
[profile viaimds]
role_arn = arn:aws:iam::111122223333:role/mocktest-admin
credential_source = Ec2InstanceMetadata
INI
cat >"$FIX/sts/AssumeRole-from-instance.http" <<HTTP
service: sts
operation: AssumeRole
method: POST
path: /
param: RoleArn=arn:aws:iam::111122223333:role/mocktest-admin
access-key: $IMDS_KEY
content-type: text/xml

<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::111122223333:assumed-role/mocktest-admin/tmscan</Arn>
      <AssumedRoleId>AROAMOCKTEST00000004:tmscan</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>$ADMIN_KEY</AccessKeyId>
      <SecretAccessKey>$ADMIN_SECRET</SecretAccessKey>
      <SessionToken>$ADMIN_TOKEN</SessionToken>
      <Expiration>2099-01-01T00:00:00Z</Expiration>
    </Credentials>
  </AssumeRoleResult>
  <ResponseMetadata>
    <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896d2</RequestId>
  </ResponseMetadata>
</AssumeRoleResponse>
HTTP
kill "$PID"; wait "$PID" 2>/dev/null; PID=""; rm -f "$T/port"
start_mockcloud
whoami AWS_ENDPOINT_URL="$U" AWS_EC2_METADATA_SERVICE_ENDPOINT="$U" -- --profile viaimds
expect_identity arn:aws:sts::111122223333:assumed-role/mocktest-admin/tmscan AROAMOCKTEST00000004:tmscan \
    "assume-role (profile viaimds via credential_source Ec2InstanceMetadata)"

# Nothing configured and IMDS disabled: the chain is empty.
whoami AWS_ENDPOINT_URL="$U" AWS_EC2_METADATA_DISABLED=true
[ "$RC" -eq 2 ] || fail "no credentials: exit $RC"
grep -q 'Unable to locate credentials' "$T/err" || fail "no credentials message"
exit 0
