#!/usr/bin/env bash
# CPython's own regression suite inside the sandbox.
#
#   scripts/cpython-tests.sh [--ci] [MODULE...]
#
# Runs each module (default: every module in scripts/cpython_tests/modules.txt;
# --ci: the ones marked "ci") in its own `eryx` process, with the test tree
# (scripts/fetch-cpython-tests.sh) mounted read-only, a fresh writable scratch
# directory at /tmp and a per-module timeout (ERYX_SUITE_TIMEOUT, default
# 600 s). With ERYX_SUITE_SCRATCH=vfs the tests use the sandbox's own
# in-memory /tmp (the virtual filesystem) instead of a host scratch directory
# (a crash is then not attributed to its test). Prints per module run / failed / errors / skipped / seconds and a
# total; failures go to target/cpython-tests/<module>.log. Exits non-zero if
# a module broke the sandbox (trap, timeout, no report) or fewer than 99 % of
# the tests that ran passed.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEPS="$ROOT/target/eryx-deps"
SUITE="$ROOT/scripts/cpython_tests"
OUT="$ROOT/target/cpython-tests"
ERYX="$ROOT/target/release/eryx"
TIMEOUT=${ERYX_SUITE_TIMEOUT:-600}
"$ROOT/scripts/fetch-cpython-tests.sh" "$DEPS"
[ -x "$ERYX" ] || "$ROOT/scripts/build.sh" >&2
ci=0
modules=()
for a in "$@"; do
  case "$a" in
    --ci) ci=1 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) modules+=("$a") ;;
  esac
done
if [ ${#modules[@]} -eq 0 ]; then
  while read -r name mark; do
    case "$name" in ''|'#'*) continue ;; esac
    if [ $ci -eq 0 ] || [ "$mark" = ci ]; then modules+=("$name"); fi
  done < "$SUITE/modules.txt"
fi
mkdir -p "$OUT"
results=()
for m in "${modules[@]}"; do
  scratch=$(mktemp -d)
  tmp_mount=(--mount "$scratch:/tmp")
  [ "${ERYX_SUITE_SCRATCH:-}" = vfs ] && tmp_mount=()
  start=$(date +%s.%N)
  set +e
  timeout -k 5 $((TIMEOUT + 30)) "$ERYX" \
    --mount "$DEPS/cpython-tests:/cpython-tests:ro" \
    --mount "$SUITE:/eryx-suite:ro" \
    "${tmp_mount[@]}" \
    --timeout "$TIMEOUT" \
    -c "import sys; sys.path.insert(0, '/eryx-suite'); import runner; runner.main('$m')" \
    > "$OUT/$m.out" 2> "$OUT/$m.err"
  rc=$?
  set -e
  end=$(date +%s.%N)
  cp "$scratch/.current-test" "$OUT/$m.current" 2>/dev/null || rm -f "$OUT/$m.current"
  rm -rf "$scratch"
  echo "$m $rc $start $end" > "$OUT/$m.rc"
  results+=("$m")
  python3 "$SUITE/report.py" --line "$OUT" "$m" >&2
done
python3 "$SUITE/report.py" "$OUT" "${results[@]}"
