#!/bin/sh
# Installs tmscan's build and test dependencies from Debian's packages.
# A no-op when everything is already present; needs root (or sudo) otherwise.
set -eu
PKGS="make gcc pkg-config libcurl4-openssl-dev libssl-dev libcjson-dev libuv1-dev libcmocka-dev libxml2-dev \
python3 python3-botocore python3-boto3 clang-format time"
missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0
echo "deps: installing:$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
