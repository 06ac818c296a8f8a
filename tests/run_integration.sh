#!/bin/sh
# Runs every tests/integration/*.sh with TM_BIN set to the directory of the built binaries.
# Each script exits 0 on success; prints one closing line "integration: N passed, N failed".
TM_BIN=${1:?usage: run_integration.sh BINDIR}
export TM_BIN
TM_ROOT=$(cd "$(dirname "$0")/.." && pwd)
export TM_ROOT
# bin/tmscan finds ../policies by itself; the sanitizer build's binaries live deeper, so tell them.
if [ "$(cd "$TM_BIN" && pwd)" != "$TM_ROOT/bin" ]; then
    TMSCAN_POLICIES_DIR="$TM_ROOT/policies"
    export TMSCAN_POLICIES_DIR
fi
pass=0
fail=0
failed=""
for t in "$TM_ROOT"/tests/integration/*.sh; do
    [ -f "$t" ] || continue
    name=$(basename "$t" .sh)
    log=$(mktemp)
    if sh "$t" >"$log" 2>&1; then
        pass=$((pass + 1))
        printf '%-34s ok\n' "$name"
    else
        fail=$((fail + 1))
        failed="$failed $name"
        tail -40 "$log"
        printf '%-34s FAILED\n' "$name"
    fi
    rm -f "$log"
done
echo "integration: $pass passed, $fail failed"
[ "$fail" -eq 0 ] || { echo "failing:$failed"; exit 1; }
