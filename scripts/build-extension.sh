#!/usr/bin/env bash
# Cross-build C-extension sdists from PyPI for the eryx sandbox (wasm32-wasi):
#   scripts/build-extension.sh [NAME...]   (default: every package pinned in
#   scripts/requirements-extensions.txt)
# Each NAME lands in target/extensions/NAME/ (a site-packages style directory
# holding NAME's Python files and *.cpython-314-wasm32-wasi.so modules); its
# path is printed on stdout. Idempotent: unchanged inputs are not rebuilt.
# The work is done by scripts/build_extension.py; progress goes to stderr.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEPS="$ROOT/target/eryx-deps"
[ -f "$DEPS/.setup-done-v1" ] || { echo "build-extension: run scripts/setup.sh first" >&2; exit 1; }
for tool in clang-16 wasm-ld-16; do
  command -v "$tool" >/dev/null || { echo "build-extension: $tool not found (run scripts/setup.sh)" >&2; exit 1; }
done
# One build at a time (tests and scripts may run this concurrently).
mkdir -p "$ROOT/target/extensions"
exec 9>"$ROOT/target/extensions/.lock"
flock 9
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  mapfile -t names < <(sed -n 's/^\([A-Za-z0-9_.-]*\)==.*/\1/p' "$ROOT/scripts/requirements-extensions.txt")
fi
for name in "${names[@]}"; do
  python3 "$ROOT/scripts/build_extension.py" --root "$ROOT" "$name"
done
