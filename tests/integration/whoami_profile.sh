#!/bin/sh
# tmscan whoami aws with keys from the shared files: [profile] in ~/.aws/credentials, [profile x] in
# ~/.aws/config, AWS_PROFILE vs --profile, the file variables, and errors that name file and line.
. "$TM_ROOT/tests/integration/whoami.inc"
start_mockcloud

cat >"$T/home/.aws/credentials" <<INI
[default]
aws_access_key_id = AKIAUNKNOWN000000000
aws_secret_access_key = not/a/real/secret

[dev]
aws_access_key_id = AKIAMOCKTEST00000001
aws_secret_access_key = $USER_SECRET
INI
cat >"$T/home/.aws/config" <<INI
[default]
region = us-east-1

[profile dev]
region = eu-west-1

[profile session]
region = eu-west-1
aws_access_key_id = ASIAMOCKTEST00000001
aws_secret_access_key = $WEB_SECRET
aws_session_token = $WEB_TOKEN
INI

whoami AWS_ENDPOINT_URL="$U" -- --profile dev
expect_identity arn:aws:iam::111122223333:user/mocktest AIDAMOCKTEST00000001 "shared-credentials-file (profile dev)"
grep -q '"service":"sts","region":"eu-west-1"' "$T/log" || fail "the profile's region"
expect_no_secrets

whoami AWS_ENDPOINT_URL="$U" AWS_PROFILE=session
expect_identity arn:aws:sts::111122223333:assumed-role/mocktest-web/session AROAMOCKTEST00000002:session \
    "shared-config-file (profile session)"

# --region wins over the profile's region.
whoami AWS_ENDPOINT_URL="$U" -- --profile=dev --region us-east-1
[ "$RC" -eq 0 ] || fail "--region: exit $RC"
[ "$(grep -c '"service":"sts","region":"us-east-1"' "$T/log")" -ge 1 ] || fail "--region used"

# --profile hides the environment's keys; AWS_PROFILE does not (as with the AWS CLI).
whoami AWS_ENDPOINT_URL="$U" AWS_ACCESS_KEY_ID=AKIAUNKNOWN000000000 AWS_SECRET_ACCESS_KEY=x -- --profile dev
expect_identity arn:aws:iam::111122223333:user/mocktest AIDAMOCKTEST00000001 "shared-credentials-file (profile dev)"

# The default profile's key is unknown to the account: InvalidClientTokenId.
whoami AWS_ENDPOINT_URL="$U"
[ "$RC" -eq 3 ] || fail "unknown key: exit $RC"
grep -q 'InvalidClientTokenId' "$T/err" || fail "unknown key message"

# AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE.
mkdir "$T/alt"
printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$USER_KEY" "$USER_SECRET" >"$T/alt/creds"
printf '[default]\nregion = eu-west-1\n' >"$T/alt/config"
whoami AWS_ENDPOINT_URL="$U" AWS_SHARED_CREDENTIALS_FILE="$T/alt/creds" AWS_CONFIG_FILE="$T/alt/config"
expect_identity arn:aws:iam::111122223333:user/mocktest AIDAMOCKTEST00000001 \
    "shared-credentials-file (profile default)"

# An unknown profile, and a broken file: exit 2, one line naming the file and line.
whoami AWS_ENDPOINT_URL="$U" -- --profile nope
[ "$RC" -eq 2 ] || fail "unknown profile: exit $RC"
grep -q 'The config profile (nope) could not be found' "$T/err" || fail "unknown profile message"
printf '[default]\nregion = eu-west-1\nthis is not an option\n' >"$T/alt/config"
whoami AWS_ENDPOINT_URL="$U" AWS_CONFIG_FILE="$T/alt/config"
[ "$RC" -eq 2 ] || fail "broken config: exit $RC"
grep -q "$T/alt/config:3: expected 'key = value'" "$T/err" || fail "broken config message"
exit 0
