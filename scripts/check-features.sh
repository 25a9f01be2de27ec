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

features() { # selection... -> "name version features" lines, sorted
  cargo +1.95.0 tree "$@" -e normal,build --prefix none -f '{p} {f}' |
    sed 's/ (\*)$//; s/ (proc-macro)//' | sort -u
}

# The library's own closure: these are the crates whose features matter.
features -p eryx | grep -v '^eryx ' >"$TMP/lib"
status=0
for sel in "-p eryx-cli" "-p eryx-server" "-p eryx-python" "--workspace" "--workspace -e dev"; do
  # shellcheck disable=SC2086 # the selection is several words on purpose
  if [ "$sel" = "--workspace -e dev" ]; then
    cargo +1.95.0 tree --workspace -e normal,build,dev --prefix none -f '{p} {f}' |
      sed 's/ (\*)$//; s/ (proc-macro)//' | sort -u >"$TMP/sel"
  else
    features $sel >"$TMP/sel"
  fi
  missing=$(comm -23 "$TMP/lib" "$TMP/sel")
  if [ -n "$missing" ]; then
    echo "check-features: '$sel' builds these library dependencies with other features than '-p eryx':" >&2
    echo "$missing" | sed 's/^/  -p eryx: /' >&2
    for crate in $(echo "$missing" | awk '{print $1"@"$2}' | sed 's/@v/ /' | awk '{print $1}'); do
      grep "^$crate " "$TMP/sel" | sed "s/^/  $sel: /" >&2
    done
    status=1
  fi
done
if [ "$status" -ne 0 ]; then
  echo "check-features: ask for the union in host/Cargo.toml (see the comment there)" >&2
fi
exit "$status"
