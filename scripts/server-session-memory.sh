#!/usr/bin/env bash
# Private memory per live eryx-server session: starts target/release/eryx-server
# on a free local port, warms one session of the kind, then creates 20
# sessions with one execute each (`fork`: one exact session holding 10 MiB,
# then 20 forks of it) and prints how much the server's private memory grew
# per session: its RssAnon plus the system's Shmem (an exact session's
# memory past its image is a memory file: host/src/exact/region.rs).
# Usage: scripts/server-session-memory.sh [exact|plain|fork]
# (after scripts/build.sh and `cargo +1.95.0 build --release --workspace`).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODE=${1:-plain}
EXACT=false
[ "$MODE" != plain ] && EXACT=true
# shellcheck source=scripts/local-server.sh
. "$ROOT/scripts/local-server.sh"
start_local_server "${PORT:-18099}"
new_session() {
  local id
  id=$(curl -sf -H 'content-type: application/json' "$BASE/v1/sessions" -d "{\"exact\": $EXACT}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
  curl -sf -H 'content-type: application/json' "$BASE/v1/sessions/$id/execute" -d '{"code": "x = 41"}' >/dev/null
  echo "$id"
}
fork() {
  curl -sf -X POST "$BASE/v1/sessions/$1/fork" >/dev/null
}
# Shared memory is counted once, system-wide (a page of a memory file that
# two sessions map counts twice in RssShmem).
rss() {
  echo $(( $(awk '/RssAnon/ {print $2}' "/proc/$PID/status") + $(awk '/^Shmem:/ {print $2}' /proc/meminfo) ))
}
curl -sf -X DELETE "$BASE/v1/sessions/$(new_session)"
if [ "$MODE" = fork ]; then
  SRC=$(new_session)
  curl -sf -H 'content-type: application/json' "$BASE/v1/sessions/$SRC/execute" \
    -d '{"code": "buf = bytearray(b\"\\x01\") * (10 << 20)"}' >/dev/null
  fork "$SRC"
fi
sleep 1
BEFORE=$(rss)
for _ in $(seq 20); do
  if [ "$MODE" = fork ]; then fork "$SRC"; else new_session >/dev/null; fi
done
sleep 1
AFTER=$(rss)
echo "$MODE: RssAnon + Shmem ${BEFORE} kB -> ${AFTER} kB, $(( (AFTER - BEFORE) / 20 )) kB per session"
