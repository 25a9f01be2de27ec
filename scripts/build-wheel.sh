#!/usr/bin/env bash
# Build the Python package (bindings/python, PyO3 + maturin) into
# target/wheels/eryx-*.whl. The wheel embeds the sandbox (the eryx library
# carries the guest artefacts), so scripts/build.sh must have run first.
# maturin comes pinned (with hashes) into the venv target/python-tools.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TOOLS="$ROOT/target/python-tools"
REQ="$ROOT/scripts/requirements-python.txt"
if [ ! -x "$TOOLS/bin/maturin" ] || ! cmp -s "$REQ" "$TOOLS/requirements.txt"; then
  rm -rf "$TOOLS"
  python3 -m venv "$TOOLS"
  "$TOOLS/bin/pip" install --quiet --disable-pip-version-check --require-hashes -r "$REQ"
  cp "$REQ" "$TOOLS/requirements.txt"
fi
rm -f "$ROOT"/target/wheels/eryx-*.whl
cd "$ROOT/bindings/python"
RUSTUP_TOOLCHAIN=1.95.0 "$TOOLS/bin/maturin" build --release --quiet \
  --interpreter python3 --out "$ROOT/target/wheels" >&2
ls "$ROOT"/target/wheels/eryx-*.whl
