#!/usr/bin/env bash
# Build the benchmark baseline: the eryx world (wit/sandbox.wit) implemented by
# bench/componentize_py/sandbox_app.py, componentized with the pinned
# componentize-py==0.25.1 (version + sha256 in scripts/requirements-setup.txt).
# Output: target/componentize-py/sandbox.wasm (prints its path on stdout).
# Idempotent: rebuilds only when the app, the WIT or the tool changed.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TOOL="$ROOT/target/componentize-py/tool"
OUT="$ROOT/target/componentize-py/sandbox.wasm"
APP_DIR="$ROOT/bench/componentize_py"
say() { echo "build-componentize-py: $*" >&2; }

if ! PYTHONPATH="$TOOL" python3 -c 'import componentize_py' 2>/dev/null; then
  say "installing componentize-py==0.25.1 (pinned by sha256) into $TOOL"
  # Reuse the wheel scripts/setup.sh downloaded, if any; pip checks the hash.
  python3 -m pip install --quiet --no-deps --require-hashes --target "$TOOL" \
    --find-links "$ROOT/target/eryx-deps/dl" \
    -r "$ROOT/scripts/requirements-setup.txt" >&2
fi

if [ -f "$OUT" ] && [ "$OUT" -nt "$APP_DIR/sandbox_app.py" ] && [ "$OUT" -nt "$ROOT/wit/sandbox.wit" ] \
   && [ "$OUT" -nt "$TOOL/componentize_py" ]; then
  echo "$OUT"
  exit 0
fi

say "componentizing $APP_DIR/sandbox_app.py"
start=$(date +%s%N)
PYTHONPATH="$TOOL" python3 "$TOOL/bin/componentize-py" \
  -q -d "$ROOT/wit/sandbox.wit" -w sandbox componentize -p "$APP_DIR" -o "$OUT.tmp" sandbox_app >&2
mv "$OUT.tmp" "$OUT"
say "built $(du -h "$OUT" | cut -f1) $OUT in $(( ($(date +%s%N) - start) / 1000000 )) ms"
echo "$OUT"
