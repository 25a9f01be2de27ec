#!/usr/bin/env bash
# Thin wrapper over scripts/build-packages.sh for callers that want a
# site-packages style directory rather than a wheel:
#   scripts/build-extension.sh [NAME...]   (default: every recipe)
# Builds (or finds cached) each NAME's WASI wheel, unpacks it into
# target/extensions/NAME/ and prints that path on stdout.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
mapfile -t wheels < <("$ROOT/scripts/build-packages.sh" "$@")
mkdir -p "$ROOT/target/extensions"
exec 9>"$ROOT/target/extensions/.lock"
flock 9
for whl in "${wheels[@]}"; do
  python3 "$ROOT/scripts/build_packages/unpack_wheel.py" "$whl" "$ROOT/target/extensions"
done
