#!/usr/bin/env bash
# Round trip of a 10 MiB file through the Python API and the server API
# (bindings/python/bench/files_bench.py): builds the wheel, installs it into
# a fresh venv, runs against target/release/eryx-server (build it first:
# cargo +1.95.0 build --release -p eryx-server). Prints a Markdown table.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WHEEL=$("$ROOT/scripts/build-wheel.sh" | tail -n 1)
VENV="$ROOT/target/python-bench-venv"
rm -rf "$VENV"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps "$WHEEL"
cd "$ROOT/target"
"$VENV/bin/python" "$ROOT/bindings/python/bench/files_bench.py"
