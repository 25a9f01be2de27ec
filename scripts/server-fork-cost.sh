#!/usr/bin/env bash
# What exact sessions cost over HTTP: starts target/release/eryx-server on a
# free local port (in-process store, no workers) and prints medians of 7
# curl round trips for creating a session (exact and not), forking a fresh
# session, forking it again once it holds a 10 MiB bytearray, and forking a
# session that made the bytearray before its first fork; for exact sessions
# and for sessions that are not exact (copied through the pickled snapshot).
# Usage: scripts/server-fork-cost.sh (after `cargo +1.95.0 build --release
# --workspace`).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/local-server.sh
. "$ROOT/scripts/local-server.sh"
start_local_server "${PORT:-18098}"
json() { python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])'; }
create() { curl -sf -H 'content-type: application/json' "$BASE/v1/sessions" -d "{\"exact\": $1}" | json; }
run() { curl -sf -H 'content-type: application/json' "$BASE/v1/sessions/$1/execute" -d "{\"code\": \"$2\"}" >/dev/null; }
drop() { curl -sf -X DELETE "$BASE/v1/sessions/$1" >/dev/null; }
# Median in ms of 7 timed requests; `$@` is the curl request, whose answer
# (a new session) is deleted after the clock stopped.
median() {
  local times=() out t id
  for _ in $(seq 7); do
    out=$(curl -sf -w '\n%{time_total}' -H 'content-type: application/json' "$@")
    t=$(tail -n1 <<<"$out")
    id=$(head -n1 <<<"$out" | json)
    drop "$id"
    times+=("$t")
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n 4p | awk '{printf "%.1f ms", $1 * 1000}'
}
# Warm both kinds once.
for e in true false; do S=$(create $e); run "$S" "x = 41"; drop "$S"; done
printf '%-52s %s\n' "create an exact session" "$(median "$BASE/v1/sessions" -d '{"exact": true}')"
printf '%-52s %s\n' "create a session (not exact)" "$(median "$BASE/v1/sessions" -d '{"exact": false}')"
for e in true false; do
  S=$(create $e)
  run "$S" "x = 41"
  printf '%-52s %s\n' "fork a fresh session (exact: $e)" "$(median -X POST "$BASE/v1/sessions/$S/fork")"
  # Made after those forks: an exact session's own copies, copied by each fork.
  run "$S" 'buf = bytearray(b\"a\") * (10 << 20)'
  printf '%-52s %s\n' "fork it again, now holding 10 MiB (exact: $e)" "$(median -X POST "$BASE/v1/sessions/$S/fork")"
  drop "$S"
  # Made before its first fork: shared with the forks.
  S=$(create $e)
  run "$S" 'buf = bytearray(b\"a\") * (10 << 20)'
  printf '%-52s %s\n' "fork a session holding 10 MiB (exact: $e)" "$(median -X POST "$BASE/v1/sessions/$S/fork")"
  drop "$S"
done
