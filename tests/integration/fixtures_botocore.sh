#!/bin/sh
# Wire accuracy of the AWS fixtures: every response file parses with the AWS SDK's own parser
# (Debian's python3-botocore), uses only names the API models define, and answers a request the
# SDK really sends. The demo account must also be exactly what its generator produces.
set -u
fail() { echo "FAIL: $*"; exit 1; }
PY=/usr/bin/python3
"$PY" -c 'import botocore' 2>/dev/null || fail "$PY has no botocore (Debian package python3-botocore)"
ROOT=${TM_ROOT:?TM_ROOT is the repository root}

"$PY" "$ROOT/tests/fixtures_check.py" || fail "fixtures are not wire-accurate"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$PY" "$ROOT/scripts/gen_demo_fixtures.py" --out "$tmp/demo" >/dev/null || fail "generator failed"
# expected-findings.json is the analyzers' answer key for the demo account, kept beside its fixtures.
diff -r -x expected-findings.json "$ROOT/fixtures/aws/demo" "$tmp/demo" >"$tmp/diff" ||
    { head -40 "$tmp/diff"; fail "fixtures/aws/demo differs from scripts/gen_demo_fixtures.py output (regenerate it)"; }
"$PY" "$ROOT/scripts/gen_demo_fixtures.py" --out "$tmp/again" >/dev/null || fail "generator failed"
diff -r "$tmp/demo" "$tmp/again" >/dev/null || fail "generator output is not deterministic"
echo ok
