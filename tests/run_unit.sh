#!/bin/sh
# Runs every cmocka binary in $1; prints one closing line "unit: N passed, N failed".
dir=${1:?usage: run_unit.sh DIR}
pass=0
fail=0
failed=""
for t in "$dir"/test_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    if out=$("$t" 2>&1); then
        n=$(printf '%s\n' "$out" | sed -n 's/.*\[  PASSED  \] \([0-9]*\) test.*/\1/p' | awk '{s+=$1} END {print s+0}')
        pass=$((pass + n))
        printf '%-34s %s passed\n' "$name" "$n"
    else
        printf '%s\n' "$out" | tail -40
        n=$(printf '%s\n' "$out" | sed -n 's/.*\[  FAILED  \] \([0-9]*\) test.*/\1/p' | awk '{s+=$1} END {print s+0}')
        [ "$n" -gt 0 ] || n=1
        fail=$((fail + n))
        failed="$failed $name"
        printf '%-34s FAILED\n' "$name"
    fi
done
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ] || { echo "failing:$failed"; exit 1; }
