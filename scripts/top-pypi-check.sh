#!/usr/bin/env bash
# The top-150 import check (issue 23): scripts/top_pypi/check.py over
# scripts/top_pypi/top150.tsv, or over the projects named. Builds eryx first
# (idempotent). Needs the package index (PyPI) on a first run; later runs
# reuse eryx's locks and wheel cache.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
"$ROOT/scripts/build.sh" >&2
exec python3 "$ROOT/scripts/top_pypi/check.py" "$@"
