#!/usr/bin/env bash
# `eryx mcp` tested with a real MCP client: the official Python SDK, pinned
# with sha256 in scripts/requirements-mcp.txt, installed into a venv at
# target/mcp-venv (created once, re-created when the requirements change).
# Needs target/release/eryx (scripts/build.sh). Extra arguments go to
# cli/tests/mcp_client.py (test names, or --bench for the measurements).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV="$ROOT/target/mcp-venv"
REQ="$ROOT/scripts/requirements-mcp.txt"
STAMP="$VENV/.requirements.sha256"
want=$(sha256sum "$REQ" | cut -d' ' -f1)
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
  echo "test-mcp: creating $VENV (mcp Python SDK, pinned)" >&2
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps --require-hashes -r "$REQ"
  echo "$want" > "$STAMP"
fi
ERYX="$ROOT/target/release/eryx" exec "$VENV/bin/python" "$ROOT/cli/tests/mcp_client.py" "$@"
