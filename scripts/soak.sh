#!/usr/bin/env bash
# The server under a long mix of ordinary and failing work, watched for
# leaks (server/benches/soak.rs): counters, one-shots, timeouts, memory-cap
# hits, deep recursion, output floods, traps, dropped streams. Default
# 10 min; `--short`: 1 min (CI); `--secs N`; `--workers`: one-shots in
# worker processes (--isolation workers), one killed every 10 s. Prints a Markdown table of RSS,
# fds, throughput and latency over time; exits non-zero on an unexpected
# answer, a lost update, or RSS/fd growth after warm-up beyond 5 %.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SECS=600
WORKERS=0
while [ $# -gt 0 ]; do
  case "$1" in
    --short) SECS=60 ;;
    --secs) SECS=${2:?--secs needs a number}; shift ;;
    --workers) WORKERS=1 ;;
    *) echo "usage: scripts/soak.sh [--short | --secs N] [--workers]" >&2; exit 2 ;;
  esac
  shift
done
ERYX_SOAK_SECS=$SECS ERYX_SOAK_WORKERS=$WORKERS cargo +1.95.0 bench -p eryx-server --bench soak
