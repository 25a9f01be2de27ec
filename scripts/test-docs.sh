#!/usr/bin/env bash
# The docs test: run every fenced block marked `tested` in README.md and
# docs/*.md and compare the output each page shows (scripts/docs_test.py has
# the convention). Needs scripts/build.sh, eryx-server built, and for
# `python tested host` blocks the venv of scripts/test-python.sh.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
exec python3 "$ROOT/scripts/docs_test.py" "$@"
