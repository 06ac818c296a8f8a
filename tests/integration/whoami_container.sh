#!/bin/sh
# tmscan whoami aws with ECS container credentials: AWS_CONTAINER_CREDENTIALS_FULL_URI with
# AWS_CONTAINER_AUTHORIZATION_TOKEN or _TOKEN_FILE; a wrong token; a refused endpoint.
. "$TM_ROOT/tests/integration/whoami.inc"
start_mockcloud
IDARN=arn:aws:sts::111122223333:assumed-role/mocktest-instance-role/i-0mocktest0000001
IDUSER=AROAMOCKTEST00000003:i-0mocktest0000001

whoami AWS_ENDPOINT_URL="$U" AWS_CONTAINER_CREDENTIALS_FULL_URI="$U/v2/credentials/mocktest-task" \
    AWS_CONTAINER_AUTHORIZATION_TOKEN=mocktest-ecs-authorization-token
expect_identity "$IDARN" "$IDUSER" "container (ECS)"
grep -q '"fixture":"ecs/credentials.http"' "$T/log" || fail "container endpoint answered"
expect_no_secrets

printf 'mocktest-ecs-authorization-token\n' >"$T/ecs-token"
whoami AWS_ENDPOINT_URL="$U" AWS_CONTAINER_CREDENTIALS_FULL_URI="$U/v2/credentials/mocktest-task" \
    AWS_CONTAINER_AUTHORIZATION_TOKEN=stale AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE="$T/ecs-token"
expect_identity "$IDARN" "$IDUSER" "container (ECS)"

# The wrong token gets no credentials (mockcloud has no answer for it).
whoami AWS_ENDPOINT_URL="$U" AWS_CONTAINER_CREDENTIALS_FULL_URI="$U/v2/credentials/mocktest-task" \
    AWS_CONTAINER_AUTHORIZATION_TOKEN=wrong-token
[ "$RC" -eq 3 ] || fail "wrong token: exit $RC"
grep -q "the container credentials endpoint $U/v2/credentials/mocktest-task" "$T/err" || fail "wrong token message"

# Plain http only to loopback or the container agent.
whoami AWS_CONTAINER_CREDENTIALS_FULL_URI=http://example.com/creds
[ "$RC" -eq 2 ] || fail "refused endpoint: exit $RC"
grep -q 'AWS_CONTAINER_CREDENTIALS_FULL_URI must be' "$T/err" || fail "refused endpoint message"
exit 0
