#!/bin/sh
# `tmscan scan` usage errors exit 2 with one line on stderr, before any request.
set -u
S="$TM_BIN/tmscan"
fail() { echo "FAIL: $*"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

expect2() {
    HOME="$T" AWS_CONFIG_FILE="$T/none" AWS_SHARED_CREDENTIALS_FILE="$T/none" AWS_ACCESS_KEY_ID=AKIAEXAMPLE000000001 \
        AWS_SECRET_ACCESS_KEY=x AWS_EC2_METADATA_DISABLED=true "$S" scan "$@" 2>"$T/err" >"$T/out"
    rc=$?
    [ $rc -eq 2 ] || fail "tmscan scan $*: exit $rc, expected 2"
    grep -q -e "$EXPECT" "$T/err" || { cat "$T/err"; fail "tmscan scan $*: no '$EXPECT' on stderr"; }
    [ ! -s "$T/out" ] || fail "tmscan scan $*: wrote to stdout"
}

EXPECT="which provider" expect2
EXPECT="unknown provider 'gcp'" expect2 gcp -o x
EXPECT="where should the snapshot go" expect2 aws
EXPECT="unknown service 's4'" expect2 aws -o "$T/s.json" --services iam,s4
EXPECT="'us-east' is not a region name" expect2 aws -o "$T/s.json" --regions eu-west-1,us-east
EXPECT="comma-separated" expect2 aws -o "$T/s.json" --regions eu-west-1,,us-east-1
EXPECT="--concurrency" expect2 aws -o "$T/s.json" --concurrency 0
EXPECT="--max-rps" expect2 aws -o "$T/s.json" --max-rps fast
EXPECT="needs a value" expect2 aws -o "$T/s.json" --profile
EXPECT="unexpected argument" expect2 aws -o "$T/s.json" --colour
EXPECT="profile" expect2 aws -o "$T/s.json" --profile nosuchprofile
[ ! -e "$T/s.json" ] || fail "a snapshot was written"
"$S" scan --help | grep -q "tmscan-readonly-iam-policy.json" || fail "scan --help names the policy file"
echo "ok: scan usage"
