#!/usr/bin/env bash
# `eryx mcp` checked with the MCP Inspector's CLI (cli/tests/mcp_inspector.py).
# The Inspector is pinned by scripts/mcp-inspector/package-lock.json
# (integrity hashes, verified by `npm ci`) and installed into
# target/mcp-inspector, re-installed when the lock changes. Needs Node.js and
# npm (the machine's) and target/release/eryx (scripts/build.sh).
# inspector-cli 1.0.3 is the newest release whose engines allow this
# machine's Node 20 (inspector 2.x needs Node >= 22.19).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR="$ROOT/target/mcp-inspector"
LOCK="$ROOT/scripts/mcp-inspector/package-lock.json"
STAMP="$DIR/.lock.sha256"
want=$(sha256sum "$LOCK" | cut -d' ' -f1)
if [ ! -d "$DIR/node_modules" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
  echo "test-mcp-inspector: installing the MCP Inspector CLI (pinned) into $DIR" >&2
  rm -rf "$DIR"
  mkdir -p "$DIR"
  cp "$ROOT/scripts/mcp-inspector/package.json" "$LOCK" "$DIR/"
  (cd "$DIR" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >&2)
  echo "$want" > "$STAMP"
fi
ERYX="$ROOT/target/release/eryx" INSPECTOR_DIR="$DIR" exec python3 "$ROOT/cli/tests/mcp_inspector.py" "$@"
