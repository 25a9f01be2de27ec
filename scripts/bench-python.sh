#!/usr/bin/env bash
# Timings of the Python package (bindings/python/bench/bench.py): builds the
# wheel, installs it into a fresh venv and prints a Markdown table.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WHEEL=$("$ROOT/scripts/build-wheel.sh" | tail -n 1)
VENV="$ROOT/target/python-bench-venv"
rm -rf "$VENV"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps "$WHEEL"
cd "$ROOT/target"
"$VENV/bin/python" "$ROOT/bindings/python/bench/bench.py"
