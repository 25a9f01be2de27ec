#!/usr/bin/env bash
# CPython's own regression suite inside the sandbox.
#
#   scripts/cpython-tests.sh [--ci] [--update] [MODULE...]
#
# Runs each module (default: every module in scripts/cpython_tests/modules.txt;
# --ci: the ones marked "ci") in its own `eryx` process, with the test tree
# (scripts/fetch-cpython-tests.sh) mounted read-only and a per-module timeout
# (ERYX_SUITE_TIMEOUT, default 600 s). /tmp is the sandbox's own in-memory
# tree (the virtual filesystem) with --ci or ERYX_SUITE_SCRATCH=vfs, else a
# fresh host scratch directory. Prints per module run / failed / errors /
# skipped / seconds; failures go to target/cpython-tests/<module>.log. Exits
# non-zero unless every outcome is the committed one
# (scripts/cpython_tests/expected.txt): no failure, no module broke the
# sandbox or ran zero tests, counts as recorded, no stale skips.py entry.
# --update records the modules' outcome in expected.txt.
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
update=()
modules=()
for a in "$@"; do
  case "$a" in
    --ci) ci=1 ;;
    --update) update=(--update) ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
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
  run=$(mktemp -d)
  tmp_mount=(--mount "$scratch:/tmp")
  if [ $ci -eq 1 ] || [ "${ERYX_SUITE_SCRATCH:-}" = vfs ]; then tmp_mount=(); fi
  start=$(date +%s.%N)
  set +e
  timeout -k 5 $((TIMEOUT + 30)) "$ERYX" \
    --mount "$DEPS/cpython-tests:/cpython-tests:ro" \
    --mount "$SUITE:/eryx-suite:ro" \
    --mount "$run:/eryx-run" \
    "${tmp_mount[@]}" \
    --timeout "$TIMEOUT" \
    -c "import sys; sys.path.insert(0, '/eryx-suite'); import runner; runner.main('$m')" \
    > "$OUT/$m.out" 2> "$OUT/$m.err"
  rc=$?
  set -e
  end=$(date +%s.%N)
  cp "$run/.current-test" "$OUT/$m.current" 2>/dev/null || rm -f "$OUT/$m.current"
  rm -rf "$scratch" "$run"
  echo "$m $rc $start $end" > "$OUT/$m.rc"
  results+=("$m")
  python3 "$SUITE/report.py" --line "$OUT" "$m" >&2
done
python3 "$SUITE/report.py" "${update[@]}" "$OUT" "${results[@]}"
