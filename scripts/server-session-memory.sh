#!/usr/bin/env bash
# Private memory per live eryx-server session: starts target/release/eryx-server
# on a free local port, warms one session of the kind, then creates 20
# sessions with one execute each and prints how much the server's RssAnon
# grew per session. Usage: scripts/server-session-memory.sh [exact|plain]
# (after scripts/build.sh and `cargo +1.95.0 build --release -p eryx-server`).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
EXACT=false
[ "${1:-plain}" = exact ] && EXACT=true
PORT=${PORT:-18099}
BASE="http://127.0.0.1:$PORT"
"$ROOT/target/release/eryx-server" --listen "127.0.0.1:$PORT" >/dev/null 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 200); do curl -sf "$BASE/readyz" >/dev/null && break; sleep 0.3; done
new_session() {
  local id
  id=$(curl -sf -H 'content-type: application/json' "$BASE/v1/sessions" -d "{\"exact\": $EXACT}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
  curl -sf -H 'content-type: application/json' "$BASE/v1/sessions/$id/execute" -d '{"code": "x = 41"}' >/dev/null
  echo "$id"
}
rss() { awk '/RssAnon/ {print $2}' "/proc/$PID/status"; }
curl -sf -X DELETE "$BASE/v1/sessions/$(new_session)"
sleep 1
BEFORE=$(rss)
for _ in $(seq 20); do new_session >/dev/null; done
sleep 1
AFTER=$(rss)
echo "exact=$EXACT: RssAnon ${BEFORE} kB -> ${AFTER} kB, $(( (AFTER - BEFORE) / 20 )) kB per session"
