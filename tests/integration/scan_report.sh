#!/bin/sh
# `tmscan scan aws --report`: snapshot and threat model in one go, the same report `tmscan report` writes
# from the saved snapshot, and the exit code of --fail-on.
set -u
. "$TM_ROOT/tests/integration/scan_env.inc"

start_mock "$DEMO"
P="$TM_ROOT/policies"
scan -o "$T/s.json" --report "$T/r.json" --format json --today 2026-11-22 --fail-on critical --policies-dir "$P" 2>"$T/err"
rc=$?
# The demo account has critical findings: --fail-on critical outranks its coverage gaps (3).
[ $rc -eq 1 ] || { cat "$T/err"; fail "exit status $rc, expected 1"; }
scan -o "$T/s2.json" --report "$T/r2.md" --fail-on none --policies-dir "$P" 2>"$T/err2"
rc=$?
[ $rc -eq 3 ] || { cat "$T/err2"; fail "--fail-on none: exit status $rc, expected 3 (coverage gaps)"; }
scan -o "$T/s3.json" --format json 2>"$T/err3"
rc=$?
[ $rc -eq 2 ] || fail "report options without --report: exit status $rc"
grep -q "report options need --report" "$T/err3" || fail "usage message"
stop_mock

"$TM_BIN/tmscan" -q report "$T/s.json" --format json --today 2026-11-22 --policies-dir "$P" -o "$T/from-file.json"
rc=$?
[ $rc -eq 1 ] || [ $rc -eq 3 ] || fail "report from the file: exit status $rc"
cmp -s "$T/r.json" "$T/from-file.json" || { diff "$T/r.json" "$T/from-file.json" | head; fail "reports differ"; }
grep -q '^## Entry points' "$T/r2.md" || fail "markdown report"
echo ok
