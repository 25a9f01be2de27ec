#!/usr/bin/env bash
# Timings of the Python package (bindings/python/bench/bench.py, or
# bindings/python/bench/NAME.py for `bench-python.sh NAME`, e.g. files_bench:
# the 10 MiB files round trip): builds the wheel, installs it into a fresh
# venv and prints a Markdown table.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WHEEL=$("$ROOT/scripts/build-wheel.sh" | tail -n 1)
VENV="$ROOT/target/python-bench-venv"
rm -rf "$VENV"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps "$WHEEL"
cd "$ROOT/target"
"$VENV/bin/python" "$ROOT/bindings/python/bench/${1:-bench}.py"
