#!/usr/bin/env bash
# Build the Python package (bindings/python, PyO3 + maturin) into
# target/wheels/eryx-*.whl. The wheel embeds the sandbox (the eryx library
# carries the guest artefacts), so scripts/build.sh must have run first.
# maturin comes pinned (with hashes) into the venv target/python-tools.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TOOLS="$ROOT/target/python-tools"
REQ="$ROOT/scripts/requirements-python.txt"
"$ROOT/scripts/pinned-venv.sh" "$TOOLS" "$REQ"
rm -f "$ROOT"/target/wheels/eryx-*.whl
cd "$ROOT/bindings/python"
RUSTUP_TOOLCHAIN=1.95.0 "$TOOLS/bin/maturin" build --release --quiet \
  --interpreter python3 --out "$ROOT/target/wheels" >&2
ls "$ROOT"/target/wheels/eryx-*.whl
