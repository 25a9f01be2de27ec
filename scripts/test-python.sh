#!/usr/bin/env bash
# Test the Python package: build the wheel (scripts/build-wheel.sh), install
# it into a fresh venv with the pinned pytest (scripts/requirements-pytest.txt)
# and run bindings/python/tests against the installed package (not the
# source tree). Needs scripts/build.sh to have run. Extra args go to pytest.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WHEEL=$("$ROOT/scripts/build-wheel.sh" | tail -n 1)
VENV="$ROOT/target/python-test-venv"
rm -rf "$VENV"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check --require-hashes \
  -r "$ROOT/scripts/requirements-pytest.txt"
"$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps "$WHEEL"
# Run from outside the source tree so `import eryx` is the installed wheel.
cd "$ROOT/target"
"$VENV/bin/python" -m pytest -p no:cacheprovider -q \
  --rootdir "$ROOT/bindings/python" "$ROOT/bindings/python/tests" "$@"
