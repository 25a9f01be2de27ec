#!/usr/bin/env bash
# Build native packages for the eryx sandbox (CPython 3.14, wasm32-wasi) from
# pinned PyPI sdists into WASI wheels:
#   scripts/build-packages.sh [NAME...]   (default: every scripts/packages/*.toml)
# Wheels (tag cp314-cp314-wasi_0_0_0_wasm32) land in target/wheelhouse/ (or
# $ERYX_WHEELHOUSE); their paths are printed on stdout, progress goes to
# stderr. Builds are cached by content under $ERYX_BUILD_CACHE (default
# ~/.cache/eryx-build/): a warm rebuild is a no-op. A log per package is in
# the cache's logs/; a failure names the step and the log. The recipes'
# format is described in scripts/build_packages/recipe.py.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEPS="$ROOT/target/eryx-deps"
[ -f "$DEPS/.setup-done-v1" ] || { echo "build-packages: run scripts/setup.sh first" >&2; exit 1; }
for tool in clang-16 wasm-ld-16 llvm-ar-16 patch; do
  command -v "$tool" >/dev/null || { echo "build-packages: $tool not found (run scripts/setup.sh)" >&2; exit 1; }
done
CACHE=${ERYX_BUILD_CACHE:-$HOME/.cache/eryx-build}
mkdir -p "$CACHE"
# One build at a time (tests and scripts may run this concurrently).
exec 9>"$CACHE/.lock"
flock 9
args=(--root "$ROOT")
[ -n "${ERYX_WHEELHOUSE:-}" ] && args+=(--wheelhouse "$ERYX_WHEELHOUSE")
exec python3 "$ROOT/scripts/build_packages" "${args[@]}" "$@"
