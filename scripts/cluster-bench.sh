#!/usr/bin/env bash
# eryx-server replicas sharing sessions through Redis, under load and a
# replica failure (server/benches/cluster.rs): 3 replicas + 1 redis-server
# on 127.0.0.1, 100 sessions round-robin for 60 s (`--short`: 10 s), one
# replica SIGKILLed at 1/3, a new one at 2/3 (first: one replica on each
# store, in-process, dir: and Redis). Prints a Markdown table;
# exits non-zero on any lost update or a failure off the killed replica.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SECS=60
if [ "${1:-}" = "--short" ]; then SECS=10; fi
command -v redis-server >/dev/null || "$ROOT/scripts/setup.sh"
ERYX_CLUSTER_SECS=$SECS cargo +1.95.0 bench -p eryx-server --bench cluster
