#!/usr/bin/env bash
# Download a set of pinned pure-Python wheels, scripts/requirements-SET.txt,
# into target/wheels/SET/ (pip checks every sha256):
#   scripts/fetch-wheels.sh SET
# Idempotent (skipped while the list is older than the done-stamp); prints
# the directory.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SET=${1:?usage: fetch-wheels.sh SET (scripts/requirements-SET.txt)}
REQ="$ROOT/scripts/requirements-$SET.txt"
OUT="$ROOT/target/wheels/$SET"
[ -f "$REQ" ] || { echo "fetch-wheels: no $REQ" >&2; exit 1; }
if [ -f "$OUT/.done" ] && [ "$OUT/.done" -nt "$REQ" ]; then
  echo "$OUT"
  exit 0
fi
mkdir -p "$OUT"
python3 -m pip download --quiet --no-deps --require-hashes --only-binary=:all: \
  --platform any --python-version 3.14 --implementation py --abi none \
  -d "$OUT" -r "$REQ" >&2
touch "$OUT/.done"
echo "$OUT"
