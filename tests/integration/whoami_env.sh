#!/bin/sh
# tmscan whoami aws with keys from the environment, against mockcloud's STS; a wrong secret is refused
# with AWS's SignatureDoesNotMatch; usage errors.
. "$TM_ROOT/tests/integration/whoami.inc"
start_mockcloud

KEYS="AWS_ACCESS_KEY_ID=AKIAMOCKTEST00000001 AWS_SECRET_ACCESS_KEY=$USER_SECRET"
whoami $KEYS AWS_ENDPOINT_URL="$U" AWS_REGION=eu-west-1
expect_identity arn:aws:iam::111122223333:user/mocktest AIDAMOCKTEST00000001 environment
expect_no_secrets
grep -q '"service":"sts","region":"eu-west-1","operation":"GetCallerIdentity"' "$T/log" || fail "STS call in eu-west-1"

# AWS_ENDPOINT_URL_STS wins; the session token travels and is checked.
whoami AWS_ACCESS_KEY_ID=ASIAMOCKTEST00000001 AWS_SECRET_ACCESS_KEY=$WEB_SECRET \
    AWS_SESSION_TOKEN=$WEB_TOKEN AWS_ENDPOINT_URL=http://127.0.0.1:1 \
    AWS_ENDPOINT_URL_STS="$U"
expect_identity arn:aws:sts::111122223333:assumed-role/mocktest-web/session AROAMOCKTEST00000002:session environment
grep -q '"service":"sts","region":"us-east-1"' "$T/log" || fail "STS in us-east-1 without a region"
whoami AWS_ACCESS_KEY_ID=ASIAMOCKTEST00000001 AWS_SECRET_ACCESS_KEY=$WEB_SECRET \
    AWS_SESSION_TOKEN=not-the-token AWS_ENDPOINT_URL="$U"
[ "$RC" -eq 3 ] || fail "wrong session token: exit $RC"
grep -q 'InvalidClientTokenId' "$T/err" || fail "wrong session token: InvalidClientTokenId"

# A wrong secret: mockcloud answers SignatureDoesNotMatch, tmscan says so and exits 3.
whoami AWS_ACCESS_KEY_ID=AKIAMOCKTEST00000001 AWS_SECRET_ACCESS_KEY=wrong/secret AWS_ENDPOINT_URL="$U"
[ "$RC" -eq 3 ] || fail "wrong secret: exit $RC"
grep -q 'SignatureDoesNotMatch' "$T/err" || fail "wrong secret: SignatureDoesNotMatch"
grep -q '"auth":"bad-signature"' "$T/log" || fail "mockcloud saw a bad signature"
expect_no_secrets
# Half a key pair is a configuration error (exit 2), found before any request.
whoami AWS_ACCESS_KEY_ID=AKIAMOCKTEST00000001 AWS_ENDPOINT_URL="$U"
[ "$RC" -eq 2 ] || fail "partial keys: exit $RC"
grep -q 'missing: AWS_SECRET_ACCESS_KEY' "$T/err" || fail "partial keys message"

# Usage.
whoami -- --bogus
[ "$RC" -eq 2 ] || fail "unknown option: exit $RC"
env -i "$TM_BIN/tmscan" whoami >/dev/null 2>"$T/err"; [ $? -eq 2 ] || fail "no cloud: exit 2"
env -i "$TM_BIN/tmscan" whoami azure >/dev/null 2>"$T/err"; [ $? -eq 2 ] || fail "unknown cloud: exit 2"
"$TM_BIN/tmscan" help whoami | grep -q -- '--profile' || fail "help whoami"
exit 0
