#!/usr/bin/env bash
# Run Python in the sandbox: sets up and builds on first use (idempotent),
# then runs target/release/eryx with the given arguments.
#   scripts/eryx.sh -c 'print(1+1)'
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LOG="$ROOT/target/eryx-build.log"
mkdir -p "$ROOT/target"
if ! "$ROOT/scripts/build.sh" >"$LOG" 2>&1; then
  tail -n 40 "$LOG" >&2
  echo "eryx.sh: build failed (full log: $LOG)" >&2
  exit 1
fi
exec "$ROOT/target/release/eryx" "$@"
