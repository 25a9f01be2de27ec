#!/usr/bin/env bash
# Packages' own test suites in the sandbox (issue 23): sympy, networkx,
# python-dateutil, ... as pinned in scripts/package_suites/suites.py; the
# table goes to target/package-suites/report.md (and the README).
#   scripts/package-suites.sh [--ci] [SUITE...]
# --ci: the short subsets scripts/test.sh runs. Builds eryx first
# (idempotent); a first run needs PyPI, later ones reuse eryx's locks and
# wheel cache and the sdists cached under ~/.cache/eryx/suites.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
"$ROOT/scripts/build.sh" >&2
exec python3 "$ROOT/scripts/package_suites/run.py" "$@"
