#!/bin/sh
# --record: the scan of the demo account written as a fixture scenario, without secrets, replays through
# mockcloud to a byte-identical snapshot.
set -u
. "$TM_ROOT/tests/integration/scan_env.inc"

start_mock "$DEMO"
scan -o "$T/live.json" --record "$T/rec" 2>"$T/live.err"
rc=$?
stop_mock
[ $rc -eq 3 ] || { tail -5 "$T/live.err"; fail "recording scan: exit status $rc"; }
[ -s "$T/rec/scenario.json" ] || fail "no scenario.json"
n=$(find "$T/rec" -name '*.http' | wc -l)
asked=$(wc -l <"$T/mock.log")
[ "$n" -eq "$asked" ] || fail "$asked requests answered, $n responses recorded"
rm -f "$T/mock.log"
$CHECK secrets "$DEMO" "$T/rec" || fail "a secret reached the recording"

start_mock "$T/rec"
[ "$KEY" != "ASIAQDEMOTMSCAN00001" ] || fail "the recording reuses the account's credentials"
scan -o "$T/replay.json" 2>"$T/replay.err"
rc=$?
stop_mock
[ $rc -eq 3 ] || { tail -5 "$T/replay.err"; fail "replay: exit status $rc"; }
cmp -s "$T/live.json" "$T/replay.json" || { diff "$T/live.json" "$T/replay.json" | head -20; fail "replay differs"; }

# A second recording into the same directory is refused before anything is sent.
start_mock "$DEMO"
scan -o "$T/again.json" --record "$T/rec" 2>"$T/again.err"
rc=$?
stop_mock
[ $rc -eq 2 ] || fail "recording into a non-empty directory: exit $rc"
[ ! -e "$T/again.json" ] || fail "a snapshot was written"
echo "ok: record and replay"
