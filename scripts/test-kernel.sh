#!/usr/bin/env bash
# Test the Jupyter kernel (eryx.kernel) and the agent-framework executors
# (eryx.integrations.*): build the wheel (scripts/build-wheel.sh), make the
# venv target/kernel-test-venv from the pinned, hashed closure in
# scripts/requirements-kernel.txt (ipykernel, jupyter_client, nbclient,
# nbconvert, smolagents, autogen-core, langchain-core, pytest), install the
# wheel with its extras from that venv alone (no index: the extras must be
# satisfied by the pins), then run bindings/python/tests_kernel against the
# installed package. Needs scripts/build.sh to have run. Extra args go to
# pytest.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WHEEL=$("$ROOT/scripts/build-wheel.sh" | tail -n 1)
VENV="$ROOT/target/kernel-test-venv"
REQ="$ROOT/scripts/requirements-kernel.txt"
# The closure is ~100 wheels: kept between runs while the pins are the same.
"$ROOT/scripts/pinned-venv.sh" "$VENV" "$REQ"
"$VENV/bin/pip" uninstall --quiet --disable-pip-version-check -y eryx >/dev/null 2>&1 || true
"$VENV/bin/pip" install --quiet --disable-pip-version-check --no-index \
  "$WHEEL[jupyter,smolagents,autogen,langchain]"
"$VENV/bin/pip" check --disable-pip-version-check >/dev/null
# Kernelspecs come from the tests' own temporary directories only.
rm -rf "$VENV/share/jupyter/kernels/eryx"
cd "$ROOT/target"
"$VENV/bin/python" -m pytest -p no:cacheprovider -q \
  --rootdir "$ROOT/bindings/python" "$ROOT/bindings/python/tests_kernel" "$@"
