#!/bin/sh
# make bench: tmscan's benchmark (docs/benchmarks.md). Scans synthetic accounts through mockcloud and
# holds them against their lower bound, measures the analysis phase alone and query latency, prints a
# table and writes bench-results.json at the repository root.
set -eu
BIN=${1:?usage: bench.sh BINDIR}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
exec /usr/bin/python3 "$ROOT/bench/run.py" --bin "$BIN" --out "$ROOT/bench-results.json"
