#!/bin/sh
# The CLI's conventions: --version, --help, help COMMAND, exit 2 with a one-line error on bad usage.
set -u
T="$TM_BIN/tmscan"
fail() { echo "FAIL: $*"; exit 1; }

out=$("$T" --version) || fail "--version exit"
echo "$out" | grep -Eq '^tmscan [0-9]+\.[0-9]+\.[0-9]+$' || fail "--version output: $out"
"$T" --help | grep -q '^Commands:' || fail "--help lists commands"
"$T" help version | grep -q 'usage: tmscan version' || fail "help version"

"$T" no-such-command 2>/tmp/tm_err.$$ >/dev/null; rc=$?
[ "$rc" -eq 2 ] || fail "unknown command exit $rc"
[ "$(wc -l </tmp/tm_err.$$)" -eq 1 ] || fail "unknown command error is not one line"
grep -q "unknown command 'no-such-command'" /tmp/tm_err.$$ || fail "error text"

"$T" --bogus >/dev/null 2>&1; rc=$?
[ "$rc" -eq 2 ] || fail "unknown option exit $rc"
"$T" help nothing >/dev/null 2>&1; rc=$?
[ "$rc" -eq 2 ] || fail "help unknown exit $rc"
"$T" >/dev/null 2>&1; rc=$?
[ "$rc" -eq 2 ] || fail "no command exit $rc"
rm -f /tmp/tm_err.$$
echo ok
