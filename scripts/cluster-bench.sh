#!/usr/bin/env bash
# eryx-server replicas sharing sessions through Redis, under load and a
# replica failure (server/benches/cluster.rs): 3 replicas + 1 redis-server
# on 127.0.0.1, 100 sessions round-robin for 60 s (`--short`: 10 s), one
# replica SIGKILLed at 1/3, a new one at 2/3 (first: one replica on each
# store, in-process, dir: and Redis). `--exact`: the sessions are exact
# (the store holds snapshot_exact() bytes; 20 sessions). Prints a Markdown
# table; exits non-zero on any lost update or a failure off the killed
# replica.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SECS=60
EXACT=0
for a in "$@"; do
  case "$a" in
    --short) SECS=10 ;;
    --exact) EXACT=1 ;;
    *) echo "usage: $0 [--short] [--exact]" >&2; exit 2 ;;
  esac
done
command -v redis-server >/dev/null || "$ROOT/scripts/setup.sh"
ERYX_CLUSTER_SECS=$SECS ERYX_CLUSTER_EXACT=$EXACT cargo +1.95.0 bench -p eryx-server --bench cluster
