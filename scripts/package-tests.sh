#!/usr/bin/env bash
# Native packages' own test suites inside the sandbox (issue 23, "Prove with
# their own tests"), with pytest installed by name (`--with pytest`):
#   scripts/package-tests.sh [regex|pydantic ...]   (default: both)
# regex: its test module, shipped in the WASI wheel. pydantic: the test
# modules below from the pinned sdist (scripts/requirements-package-tests.txt),
# mounted read-only at /src. The tests that cannot pass by design (they
# start threads or processes: WASI limits) are deselected by name below
# (REGEX_OUT, PYDANTIC_OUT); every other test must pass.
# Needs the WASI wheels (scripts/build-packages.sh regex pydantic-core
# rpds-py; built here if missing, a no-op when cached). Prints pytest's
# output; exits non-zero if a suite fails. Counts and the failures'
# classes: docs/native-packages.md.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ERYX="$ROOT/target/release/eryx"
[ -x "$ERYX" ] || "$ROOT/scripts/build.sh" >&2
WORK="$ROOT/target/package-tests"
SUITES=("$@")
[ ${#SUITES[@]} -gt 0 ] || SUITES=(regex pydantic)
PYDANTIC_TESTS=(test_main test_types test_validators test_fields test_edge_cases
  test_dataclasses test_json_schema test_serialize test_generics test_config
  test_type_adapter test_root_model test_aliases test_validate_call test_errors
  test_computed_fields test_networks test_datetime)
# pytest in the sandbox: no fd duplication (capture by sys, no faulthandler),
# no /dev/null (no logging plugin's file handler), a given basetemp (its
# default needs os.getuid), the read-only tree keeps no cache.
PYTEST=(-m pytest -p no:cacheprovider -p no:faulthandler -p no:logging
  --capture=sys --basetemp=/tmp/pytest -o addopts= -q --tb=short -rfE)
# Node ids are relative to pytest's rootdir (regex: its tests directory;
# pydantic: /src, where its pyproject.toml is).
REGEX_OUT=(
  # threads (a WASI limit)
  --deselect test_regex.py::RegexTests::test_shared_iterators
  # not a test: the module's own `unittest.main()` entry point
  --deselect test_regex.py::test_main
)
PYDANTIC_OUT=(
  # threads (a WASI limit)
  --deselect tests/test_main.py::test_model_rebuild_already_rebuilt_by_other_thread
  # a subprocess (a WASI limit)
  --deselect tests/test_generics.py::test_generic_model_pickle_different_module
)
status=0
for suite in "${SUITES[@]}"; do
  case "$suite" in
  regex)
    "$ROOT/scripts/build-packages.sh" regex >/dev/null
    "$ERYX" --no-preimport-with --with regex==2026.11.19 --with pytest==9.2.0 \
      "${PYTEST[@]}" "${REGEX_OUT[@]}" /site-packages/regex/tests/test_regex.py || status=1
    ;;
  pydantic)
    "$ROOT/scripts/build-packages.sh" pydantic-core rpds-py >/dev/null
    src="$WORK/pydantic-2.14.4"
    if [ ! -d "$src/tests" ]; then
      mkdir -p "$WORK"
      python3 -m pip download --quiet --no-deps --no-binary=:all: --require-hashes \
        -d "$WORK" -r "$ROOT/scripts/requirements-package-tests.txt" >&2
      tar -xzf "$WORK/pydantic-2.14.4.tar.gz" -C "$WORK"
    fi
    files=()
    for t in "${PYDANTIC_TESTS[@]}"; do files+=("/src/tests/$t.py"); done
    # Plugins must be imported by pytest itself (assertion rewriting), so
    # nothing is pre-imported into the image. The rest are the test
    # dependencies pydantic's pyproject.toml lists that these modules use
    # (pytest-run-parallel: its conftest marks tests `thread_unsafe`).
    "$ERYX" --no-preimport-with --with pydantic==2.14.4 --with pytest==9.2.0 \
      --with pytest-run-parallel==0.10.0 \
      --with dirty-equals==0.11 --with pytz==2026.6 --with pytest-mock==3.17.0 \
      --with jsonschema==4.26.0 --with email-validator==2.4.0 --with cloudpickle==3.1.3 \
      --mount "$src:/src:ro" "${PYTEST[@]}" "${PYDANTIC_OUT[@]}" "${files[@]}" \
      || status=1
    ;;
  *) echo "package-tests: unknown suite $suite (regex, pydantic)" >&2; exit 2 ;;
  esac
done
exit $status
