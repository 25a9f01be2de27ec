#!/usr/bin/env bash
# Download the pinned tzdata wheel (scripts/requirements-tzdata.txt, sha256
# checked by pip) and unpack its package into DEPS/tzdata/site/tzdata, which
# build-guest.sh adds to the stdlib tar. Idempotent: nothing to do when the
# unpacked copy matches the pin.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEPS=${1:-$ROOT/target/eryx-deps}
REQ="$ROOT/scripts/requirements-tzdata.txt"
OUT="$DEPS/tzdata"
PIN=$(grep -o 'tzdata==[^ ]*' "$REQ")
if [ -f "$OUT/site/.done" ] && [ "$(cat "$OUT/site/.done")" = "$PIN" ]; then
  exit 0
fi
rm -rf "$OUT"
mkdir -p "$OUT/dl"
python3 -m pip download --quiet --no-deps --require-hashes --only-binary=:all: \
  -d "$OUT/dl" -r "$REQ" >&2
python3 - "$OUT/dl"/tzdata-*.whl "$OUT/site" <<'PY'
import sys, zipfile
wheel, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.startswith("tzdata/"):
            z.extract(name, dest)
PY
echo "$PIN" > "$OUT/site/.done"
echo "fetch-tzdata: $PIN in $OUT/site" >&2
