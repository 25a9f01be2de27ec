#!/usr/bin/env bash
# Download the pinned pure-Python wheels of requests (+ urllib3, idna,
# charset-normalizer, certifi) listed in scripts/requirements-net.txt into
# target/net-wheels/ (pip checks every sha256). Idempotent; prints the
# directory. Used by host/tests/net_requests.rs and the network benchmark.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT="$ROOT/target/net-wheels"
REQ="$ROOT/scripts/requirements-net.txt"
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
