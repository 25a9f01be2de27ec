#!/usr/bin/env bash
# Checks that every cargo selection the scripts build resolves the library's
# dependencies with the same features. Cargo unifies features per selection;
# when, say, `-p eryx-cli` switches on a feature of a crate below wasmtime
# that `--workspace` does not (or the reverse), each selection rebuilds
# wasmtime and cranelift (~10 min on 2 cores, several times per CI run).
# host/Cargo.toml asks for the union; this script fails, naming the crate,
# when a change to any Cargo.toml breaks that.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

features() { # edge kinds, selection... -> "name version features" lines, sorted
  local edges=$1
  shift
  cargo +1.95.0 tree "$@" -e "$edges" --prefix none -f '{p} {f}' |
    sed 's/ (\*)$//; s/ (proc-macro)//' | sort -u
}

# The library's own closure: these are the crates whose features matter.
features normal,build -p eryx | grep -v '^eryx ' >"$TMP/lib"
status=0
# Each entry: the edge kinds, then the selection (`cargo test` adds dev).
for sel in "normal,build -p eryx-cli" "normal,build -p eryx-server" "normal,build -p eryx-python" \
  "normal,build --workspace" "normal,build,dev --workspace"; do
  # shellcheck disable=SC2086 # the entry is several words on purpose
  features $sel >"$TMP/sel"
  missing=$(comm -23 "$TMP/lib" "$TMP/sel")
  if [ -n "$missing" ]; then
    echo "check-features: '$sel' builds these library dependencies with other features than '-p eryx':" >&2
    echo "$missing" | sed 's/^/  -p eryx: /' >&2
    for crate in $(echo "$missing" | awk '{print $1}'); do
      grep "^$crate " "$TMP/sel" | sed "s/^/  $sel: /" >&2
    done
    status=1
  fi
done
if [ "$status" -ne 0 ]; then
  echo "check-features: ask for the union in host/Cargo.toml (see the comment there)" >&2
fi
exit "$status"
