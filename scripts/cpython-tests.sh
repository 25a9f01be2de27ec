#!/usr/bin/env bash
# CPython's own regression suite inside the sandbox.
#
#   scripts/cpython-tests.sh [--ci] [--update] [MODULE...]
#   scripts/cpython-tests.sh --one TEST_ID...
#
# Runs each module (default: every module in scripts/cpython_tests/modules.txt;
# --ci: the ones marked "ci") in its own `eryx` process, with the test tree
# (scripts/fetch-cpython-tests.sh) mounted read-only and a per-module timeout
# (ERYX_SUITE_TIMEOUT, default 600 s). /tmp is ERYX_SUITE_SCRATCH: `vfs`, the
# sandbox's own in-memory tree (the default with --ci), or `host`, a fresh
# host scratch directory mounted there (the default otherwise). Prints per
# module run / failed / errors / skipped / seconds; failures go to
# target/cpython-tests/<module>.log. Exits non-zero unless every outcome is
# the committed one (scripts/cpython_tests/expected.txt, per module and
# scratch): no failure, no module broke the sandbox or ran zero tests, tests
# run and skipped as recorded, no stale skips.py entry. --update records the
# modules' outcome in expected.txt. --one runs single tests (ids without
# `test.`) verbosely, skips.py NOT applied: how a listed skip is re-checked.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEPS="$ROOT/target/eryx-deps"
SUITE="$ROOT/scripts/cpython_tests"
OUT="$ROOT/target/cpython-tests"
ERYX="$ROOT/target/release/eryx"
TIMEOUT=${ERYX_SUITE_TIMEOUT:-600}
ci=0
one=0
update=()
modules=()
for a in "$@"; do
  case "$a" in
    --ci) ci=1 ;;
    --one) one=1 ;;
    --update) update=(--update) ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) modules+=("$a") ;;
  esac
done
scratch_mode=${ERYX_SUITE_SCRATCH:-}
if [ -z "$scratch_mode" ]; then
  if [ $ci -eq 1 ]; then scratch_mode=vfs; else scratch_mode=host; fi
fi
case "$scratch_mode" in
  vfs|host) ;;
  *) echo "cpython-tests: ERYX_SUITE_SCRATCH must be vfs or host, not '$scratch_mode'" >&2; exit 2 ;;
esac
"$ROOT/scripts/fetch-cpython-tests.sh" "$DEPS"
[ -x "$ERYX" ] || "$ROOT/scripts/build.sh" >&2

# One eryx process: the test tree, this directory, a host directory for the
# running test's name (it survives a crash also when /tmp is virtual) and,
# with host scratch, $scratch at /tmp. Runs the Python in $code.
sandbox() {
  local code=$1 tmp_mount=()
  [ "$scratch_mode" = host ] && tmp_mount=(--mount "$scratch:/tmp")
  timeout -k 5 $((TIMEOUT + 30)) "$ERYX" \
    --mount "$DEPS/cpython-tests:/cpython-tests:ro" \
    --mount "$SUITE:/eryx-suite:ro" \
    --mount "$run:/eryx-run" \
    "${tmp_mount[@]}" \
    --timeout "$TIMEOUT" \
    -c "import sys; sys.path.insert(0, '/eryx-suite'); import runner; $code"
}

if [ $one -eq 1 ]; then
  [ ${#modules[@]} -gt 0 ] || { echo "cpython-tests: --one needs test ids" >&2; exit 2; }
  scratch=$(mktemp -d)
  run=$(mktemp -d)
  ids=$(printf "'%s'," "${modules[@]}")
  set +e
  sandbox "runner.one([$ids])"
  rc=$?
  set -e
  rm -rf "$scratch" "$run"
  echo "cpython-tests: --one ($scratch_mode /tmp): eryx exit status $rc" >&2
  exit $rc
fi

if [ ${#modules[@]} -eq 0 ]; then
  while read -r name mark; do
    case "$name" in ''|'#'*) continue ;; esac
    if [ $ci -eq 0 ] || [ "$mark" = ci ]; then modules+=("$name"); fi
  done < "$SUITE/modules.txt"
fi
echo "cpython-tests: ${#modules[@]} modules, /tmp: $scratch_mode" >&2
mkdir -p "$OUT"
results=()
for m in "${modules[@]}"; do
  scratch=$(mktemp -d)
  run=$(mktemp -d)
  start=$(date +%s.%N)
  set +e
  sandbox "runner.main('$m')" > "$OUT/$m.out" 2> "$OUT/$m.err"
  rc=$?
  set -e
  end=$(date +%s.%N)
  cp "$run/.current-test" "$OUT/$m.current" 2>/dev/null || rm -f "$OUT/$m.current"
  rm -rf "$scratch" "$run"
  echo "$m $rc $start $end" > "$OUT/$m.rc"
  results+=("$m")
  python3 "$SUITE/report.py" --line "$OUT" "$m" >&2
done
python3 "$SUITE/report.py" "${update[@]}" --scratch "$scratch_mode" "$OUT" "${results[@]}"
