# Sourced by the server measuring scripts: start target/release/eryx-server
# on 127.0.0.1:$1 in the background (stopped when the caller exits) and
# wait until it answers /readyz. Sets BASE (its URL) and PID.
start_local_server() {
  local root
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  BASE="http://127.0.0.1:$1"
  "$root/target/release/eryx-server" --listen "127.0.0.1:$1" >/dev/null 2>&1 &
  PID=$!
  trap 'kill $PID 2>/dev/null || true' EXIT
  for _ in $(seq 200); do curl -sf "$BASE/readyz" >/dev/null && return 0; sleep 0.3; done
  echo "eryx-server did not become ready on port $1" >&2
  return 1
}
