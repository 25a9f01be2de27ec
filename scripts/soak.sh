#!/usr/bin/env bash
# The server under a long mix of ordinary and failing work, watched for
# leaks (server/benches/soak.rs): counters, one-shots, timeouts, memory-cap
# hits, deep recursion, output floods, traps, dropped streams. Default
# 10 min; `--short`: 1 min (CI); `--secs N`. Prints a Markdown table of RSS,
# fds, throughput and latency over time; exits non-zero on an unexpected
# answer, a lost update, or RSS/fd growth after warm-up beyond 5 %.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SECS=600
case "${1:-}" in
  --short) SECS=60 ;;
  --secs) SECS=${2:?--secs needs a number} ;;
  "") ;;
  *) echo "usage: scripts/soak.sh [--short | --secs N]" >&2; exit 2 ;;
esac
ERYX_SOAK_SECS=$SECS cargo +1.95.0 bench -p eryx-server --bench soak
