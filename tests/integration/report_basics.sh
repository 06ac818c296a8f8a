#!/bin/sh
# tmscan report on a hand-written partial snapshot: every format, determinism, exit codes, errors.
set -u
T="$TM_BIN/tmscan"
S="$TM_ROOT/tests/data/partial-snapshot.json"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

for f in md json sarif dot mermaid; do
    "$T" -q report "$S" --format "$f" --today 2026-11-22 -o "$W/a.$f"; rc=$?
    # Coverage gaps only: nothing to fail on, but the snapshot is incomplete.
    [ "$rc" -eq 3 ] || fail "format $f exit $rc"
    "$T" -q report "$S" --format "$f" --today 2026-11-22 >"$W/b.$f" || [ $? -eq 3 ] || fail "stdout $f"
    cmp -s "$W/a.$f" "$W/b.$f" || fail "format $f is not deterministic"
done
grep -q '^## Coverage gaps' "$W/a.md" || fail "md has no coverage gaps section"
grep -q 'GetBucketPolicy' "$W/a.md" || fail "md lacks the failed call"
/usr/bin/python3 - "$W/a.json" "$W/a.sarif" <<'PY' || fail "json/sarif shape"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["schema"] == "tmscan.report/1"
assert r["summary"]["coverage_gaps"] == 2 and r["summary"]["complete"] is False
ids = {f["id"] for f in r["findings"]}
assert len(ids) == 2 and all(len(i) == 16 for i in ids)
for f in r["findings"]:
    for k in ("id", "rule", "category", "severity", "status", "resource", "path", "title", "explanation", "fix"):
        assert k in f, k
s = json.load(open(sys.argv[2]))
assert s["version"] == "2.1.0"
run = s["runs"][0]
assert run["tool"]["driver"]["name"] == "tmscan"
rules = {x["id"] for x in run["tool"]["driver"]["rules"]}
for res in run["results"]:
    assert res["ruleId"] in rules
    assert res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert res["partialFingerprints"]["tmscanFindingId/v1"] in ids
PY

"$T" report "$S" --format pdf >/dev/null 2>"$W/err"; rc=$?
[ "$rc" -eq 2 ] || fail "unknown format exit $rc"
grep -q "unknown format 'pdf'" "$W/err" || fail "unknown format message"
"$T" report "$W/missing.json" >/dev/null 2>"$W/err"; rc=$?
[ "$rc" -eq 2 ] || fail "missing snapshot exit $rc"
grep -q "missing.json" "$W/err" || fail "missing snapshot message names the file"
printf '{"recognised": [{"resource": "x", "from": "nowhere", "owner": "o", "reason": "r"}]}\n' >"$W/p.json"
"$T" report "$S" --policy "$W/p.json" >/dev/null 2>"$W/err"; rc=$?
[ "$rc" -eq 2 ] || fail "bad policy exit $rc"
grep -q "p.json:1: recognised\[0\].from" "$W/err" || fail "bad policy message: $(cat "$W/err")"
"$T" report "$S" --fail-on urgent >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad --fail-on"
"$T" report "$S" --today 2026-02-30 >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad --today"
echo ok
