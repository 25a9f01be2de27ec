#!/usr/bin/env bash
# Make (or keep) a venv holding exactly a hashed requirements file:
#   scripts/pinned-venv.sh VENV REQUIREMENTS
# Installed with pip --require-hashes; kept as it is while the file is
# unchanged (a copy of it inside the venv says what it holds), made afresh
# when it changed or the venv is incomplete.
set -euo pipefail
VENV=$1
REQ=$2
if [ ! -x "$VENV/bin/python" ] || ! cmp -s "$REQ" "$VENV/requirements.txt"; then
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check --require-hashes -r "$REQ"
  cp "$REQ" "$VENV/requirements.txt"
fi
