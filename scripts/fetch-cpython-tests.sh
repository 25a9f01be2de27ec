#!/usr/bin/env bash
# Fetch CPython 3.14's regression tests for scripts/cpython-tests.sh: Debian
# sid's libpython3.14-testsuite (the test modules) and libpython3.14-stdlib
# (test/__init__.py, test.support, test.libregrtest), the same way as the
# headers (scripts/fetch-headers.sh): a private apt sources list and lists
# dir, `apt-get download`, `dpkg-deb -x`; the machine's sources are not
# touched. Result: $DEPS/cpython-tests/test (idempotent).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEPS=${1:-"$ROOT/target/eryx-deps"}
APT="$DEPS/apt"
OUT="$DEPS/cpython-tests"
[ -f "$OUT/test/support/__init__.py" ] && [ -d "$OUT/test/test_json" ] && exit 0
mkdir -p "$APT/tests-deb"
. "$ROOT/scripts/private-apt.sh"
private_apt fetch-cpython-tests
(cd "$APT/tests-deb" && rm -f ./*.deb \
  && apt-get "${opts[@]}" download libpython3.14-testsuite libpython3.14-stdlib >&2) \
  || { echo "fetch-cpython-tests: could not download the 3.14 test suite from sid" >&2; exit 1; }
rm -rf "$APT/tests-x" "$OUT.partial" && mkdir -p "$APT/tests-x" "$OUT.partial"
for deb in "$APT"/tests-deb/libpython3.14-testsuite_3.14.*.deb "$APT"/tests-deb/libpython3.14-stdlib_3.14.*.deb; do
  echo "fetch-cpython-tests: using $(basename "$deb")" >&2
  dpkg-deb -x "$deb" "$APT/tests-x"
done
cp -r "$APT/tests-x/usr/lib/python3.14/test" "$OUT.partial/test"
rm -rf "$APT/tests-x"
test -f "$OUT.partial/test/support/__init__.py" || { echo "fetch-cpython-tests: test.support missing" >&2; exit 1; }
rm -rf "$OUT" && mv "$OUT.partial" "$OUT"
echo "fetch-cpython-tests: $(find "$OUT/test" -name 'test_*.py' | wc -l) test files in $OUT/test" >&2
