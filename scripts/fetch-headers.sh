#!/usr/bin/env bash
# Fetch CPython 3.14 headers (Debian sid libpython3.14-dev) with a private apt
# sources list / lists dir, then install our wasm32-wasi pyconfig.h over the
# multiarch wrapper. apt-get verifies the .deb against the signed index; sid
# supersedes versions, so any 3.14.x is accepted and its version printed.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEPS=${1:-"$ROOT/target/eryx-deps"}
APT="$DEPS/apt"
OUT="$DEPS/include/python3.14"
[ -f "$OUT/Python.h" ] && exit 0
mkdir -p "$APT/deb"
. "$ROOT/scripts/private-apt.sh"
private_apt fetch-headers
(cd "$APT/deb" && rm -f ./*.deb && apt-get "${opts[@]}" download libpython3.14-dev >&2) \
  || { echo "fetch-headers: could not download libpython3.14-dev from sid" >&2; exit 1; }
deb=$(ls "$APT"/deb/libpython3.14-dev_3.14.*.deb | head -1)
echo "fetch-headers: using $(basename "$deb")" >&2
rm -rf "$APT/x" && dpkg-deb -x "$deb" "$APT/x"
mkdir -p "$(dirname "$OUT")" && rm -rf "$OUT"
cp -r "$APT/x/usr/include/python3.14" "$OUT"
cp "$ROOT/headers/pyconfig.h" "$OUT/pyconfig.h"
test -f "$OUT/Python.h" || { echo "fetch-headers: Python.h missing from $deb" >&2; exit 1; }
