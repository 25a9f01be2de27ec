#!/usr/bin/env bash
# Fetch the C library sources of the builtin stdlib modules eryx adds to the
# guest (c/natives/: `_bz2`, `_lzma`): the crates.io crates bzip2-sys
# (vendors bzip2 1.0.8) and lzma-sys (vendors xz 5.2), downloaded by cargo
# from scripts/natives/Cargo.lock (cargo checks the index checksums), checked
# again against the sha256 pinned below, and unpacked into $DEPS/natives.
# Idempotent; build.rs compiles the result into the guest runtime.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEPS=${1:-"$ROOT/target/eryx-deps"}
OUT="$DEPS/natives"
STAMP="$OUT/.done-v1"
[ -f "$STAMP" ] && exit 0
# name version sha256 directory-in-crate
CRATES=(
  "bzip2-sys 0.1.13+1.0.8 225bff33b2141874fe80d71e07d6eec4f85c5c216453dd96388240f96e1acc14 bzip2-1.0.8"
  "lzma-sys 0.1.20 5fda04ab3764e6cde78b9974eec4f779acaba7c4e84b36eca3cf77c581b85d27 xz-5.2"
)
echo "fetch-natives: cargo fetch (bzip2-sys, lzma-sys)" >&2
cargo +1.95.0 fetch --locked --manifest-path "$ROOT/scripts/natives/Cargo.toml" >&2 \
  || { echo "fetch-natives: cargo fetch failed" >&2; exit 1; }
CACHE="${CARGO_HOME:-$HOME/.cargo}/registry/cache"
rm -rf "$OUT.partial" && mkdir -p "$OUT.partial"
for entry in "${CRATES[@]}"; do
  read -r name version sha dir <<<"$entry"
  crate=$(ls "$CACHE"/*/"$name-$version.crate" 2>/dev/null | head -1)
  [ -n "$crate" ] || { echo "fetch-natives: $name-$version.crate not in $CACHE" >&2; exit 1; }
  echo "$sha  $crate" | sha256sum -c --quiet - \
    || { echo "fetch-natives: sha256 mismatch for $crate" >&2; exit 1; }
  tar -xzf "$crate" -C "$OUT.partial" "$name-$version/$dir"
  mv "$OUT.partial/$name-$version/$dir" "$OUT.partial/$dir"
  rm -rf "$OUT.partial/$name-$version"
done
rm -rf "$OUT" && mv "$OUT.partial" "$OUT" && touch "$STAMP"
echo "fetch-natives: sources in $OUT" >&2
