#!/usr/bin/env bash
# Pure-Python wheels of the pinned sdists in scripts/requirements-pure-sdists.txt
# (pip verifies each sdist's sha256; scripts/pure_wheel.py packs its Python
# sources as py3-none-any) into the wheelhouse, target/wheelhouse by default
# (or $ERYX_WHEELHOUSE). Idempotent: a wheel already there is kept.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
REQ="$ROOT/scripts/requirements-pure-sdists.txt"
HOUSE=${ERYX_WHEELHOUSE:-$ROOT/target/wheelhouse}
DL="$ROOT/target/eryx-deps/pure-sdists"
mkdir -p "$HOUSE" "$DL"
grep -o '^[a-z0-9_.-]*==[^ ]*' "$REQ" | while IFS= read -r pin; do
  name=${pin%%==*}; version=${pin#*==}
  dist=$(echo "$name" | tr '-' '_')
  if [ -f "$HOUSE/$dist-$version-py3-none-any.whl" ]; then continue; fi
  grep "^$pin " "$REQ" > "$DL/req-$name.txt"
  python3 -m pip download --quiet --no-deps --no-binary=:all: --require-hashes \
    -d "$DL" -r "$DL/req-$name.txt" >&2
  python3 "$ROOT/scripts/pure_wheel.py" "$DL/$name-$version.tar.gz" "$HOUSE" >&2
done
echo "$HOUSE"
