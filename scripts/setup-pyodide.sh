#!/usr/bin/env bash
# Idempotent setup of the benchmark's Pyodide column: Node.js (Debian's
# package if `node` is missing) and the pinned npm package `pyodide` in
# target/pyodide (npm checks the package's integrity). Prints the package
# directory on stdout.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VERSION=314.0.7
DEST="$ROOT/target/pyodide"
PKG="$DEST/node_modules/pyodide"
say() { echo "setup-pyodide: $*" >&2; }
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  say "installing nodejs and npm (Debian)"
  apt-get update >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y nodejs npm >&2
fi
if [ "$(node -p "require('$PKG/package.json').version" 2>/dev/null || true)" != "$VERSION" ]; then
  say "installing pyodide@$VERSION (npm)"
  mkdir -p "$DEST"
  npm install --prefix "$DEST" --no-audit --no-fund --no-save "pyodide@$VERSION" >&2
fi
echo "$PKG"
