#!/usr/bin/env bash
# Cross-build numpy (pinned sdist, scripts/numpy/requirements-numpy.txt) for the
# eryx sandbox (CPython 3.14, wasm32-wasi) with numpy's own meson build:
#   scripts/build-numpy.sh
# Output: target/extensions/numpy/ (a site-packages style directory holding
# numpy/ with its *.cpython-314-wasm32-wasi.so modules), usable with
# `eryx --package`; its path is printed on stdout. Progress goes to stderr,
# tool output to target/numpy-build/logs/*.log. Idempotent: when the inputs
# (this script, scripts/numpy/*) are unchanged the build is skipped.
# Everything fetched is pinned and sha256-verified: the build tools (venv,
# pip --require-hashes), the numpy sdist (pip --require-hashes), and Debian's
# wasm32 libc++ 16 headers (apt-get download of exact versions, sha256
# checked, unpacked with dpkg-deb -x; nothing is installed, apt sources are
# not changed). No BLAS (lapack_lite), no threads, no SIMD dispatch; C++
# exceptions abort. JOBS=N sets ninja's parallelism (default 2), OPT the
# optimisation flag (default -O2).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEPS="$ROOT/target/eryx-deps"
CPY="$DEPS/cpython"
SUP="$ROOT/scripts/numpy"
W="$ROOT/target/numpy-build"
LOGS="$W/logs"
OUT="$ROOT/target/extensions/numpy"
JOBS=${JOBS:-2}
OPT=${OPT:--O2}
NUMPY_VERSION=2.3.5
NUMPY_SHA256=784db1dcdab56bf0517743e746dfb0f885fc68d948aba86eeec2cba234bdf1c0
# Debian bookworm's wasm32 libc++ 16 (headers + static libs for meson's link checks).
DEB_VERSION=1:16.0.6-15~deb12u1
DEBS=(
  "libc++-16-dev-wasm32 0065f1a076b15d9ceb393cfcd3999a2b7f517b2f148bf2ac74bd25213d40ec2e"
  "libc++abi-16-dev-wasm32 ce9dda78d0fcf6660157bcda591596f1e93c8602097eae72f7a6649daa866878"
)
say() { echo "build-numpy: $*" >&2; }
die() { echo "build-numpy: error: $*" >&2; exit 1; }
# run LOG CMD...: run with output to $LOGS/LOG.log; on failure show its tail.
run() {
  local log="$LOGS/$1.log"; shift
  if ! "$@" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    die "command failed (log: $log): $*"
  fi
}

[ -f "$DEPS/.setup-done-v1" ] || die "run scripts/setup.sh first"
[ -f "$DEPS/include/python3.14/Python.h" ] || die "CPython headers missing (run scripts/setup.sh)"
for tool in clang-16 clang++-16 wasm-ld-16 llvm-ar-16 dpkg-deb apt-get python3 sha256sum; do
  command -v "$tool" >/dev/null || die "$tool not found (run scripts/setup.sh)"
done

mkdir -p "$ROOT/target/extensions" "$W" "$LOGS"
exec 9>"$ROOT/target/extensions/.lock"
flock 9

# Skip when nothing changed since the last successful build.
stamp=$( (echo "$NUMPY_VERSION $NUMPY_SHA256 $OPT ${DEBS[*]}"; cat "$0";
          find "$SUP" -type f | LC_ALL=C sort | xargs sha256sum | sed "s|$SUP/||") | sha256sum | cut -d' ' -f1)
if [ -f "$OUT/.eryx-numpy-stamp" ] && [ "$(cat "$OUT/.eryx-numpy-stamp")" = "$stamp" ]; then
  say "up to date"
  echo "$OUT"
  exit 0
fi
start=$SECONDS

# 1. Build tools (pinned, hashed) in a venv.
VENV="$W/venv"
req_hash=$(sha256sum "$SUP/requirements-build.txt" | cut -d' ' -f1)
if [ "$(cat "$VENV/.eryx-req" 2>/dev/null)" != "$req_hash" ]; then
  say "creating the build-tools venv (pinned cython, meson, meson-python, ninja)"
  rm -rf "$VENV"
  run venv python3 -m venv "$VENV"
  run pip-tools "$VENV/bin/pip" install --no-deps --require-hashes -r "$SUP/requirements-build.txt"
  echo "$req_hash" > "$VENV/.eryx-req"
fi

# 2. numpy sdist (pip checks the sha256; checked again here).
SDIST="$W/dl/numpy-$NUMPY_VERSION.tar.gz"
if ! echo "$NUMPY_SHA256  $SDIST" | sha256sum -c --status 2>/dev/null; then
  say "downloading numpy==$NUMPY_VERSION sdist (pinned; pip reads its metadata, ~1-2 min)"
  rm -f "$SDIST"
  run download env PATH="$VENV/bin:$PATH" "$VENV/bin/pip" download --no-deps --no-binary :all: \
    --no-build-isolation --require-hashes -r "$SUP/requirements-numpy.txt" -d "$W/dl"
  echo "$NUMPY_SHA256  $SDIST" | sha256sum -c --status || die "sha256 mismatch for $SDIST"
fi

# 3. wasm32 libc++ 16 headers from Debian: downloaded (exact version), hashed, unpacked.
LIBCXX="$W/libcxx"
deb_key="$DEB_VERSION ${DEBS[*]}"
if [ "$(cat "$LIBCXX/.eryx-debs" 2>/dev/null)" != "$deb_key" ]; then
  say "fetching Debian wasm32 libc++ 16 headers ($DEB_VERSION)"
  rm -rf "$W/deb" "$LIBCXX" && mkdir -p "$W/deb" "$LIBCXX"
  for entry in "${DEBS[@]}"; do
    set -- $entry
    (cd "$W/deb" && run apt-download apt-get -o APT::Sandbox::User=root download "$1=$DEB_VERSION")
    deb=$(ls "$W"/deb/"$1"_*.deb)
    echo "$2  $deb" | sha256sum -c --status || die "sha256 mismatch for $deb"
    dpkg-deb -x "$deb" "$LIBCXX"
  done
  test -f "$LIBCXX/usr/lib/llvm-16/include/wasm32-wasi/c++/v1/vector" || die "libc++ headers missing from the debs"
  echo "$deb_key" > "$LIBCXX/.eryx-debs"
fi

# 4. Cross tools: compiler wrappers, target python, stubs, cross file.
BIN="$W/bin"
rm -rf "$BIN" && mkdir -p "$BIN"
python3 "$SUP/target-sysconfig.py" "$CPY/python-stdlib.tar" "$DEPS/include/python3.14" "$W/sysconfig"
for pair in "wcc cc" "wcxx c++"; do
  set -- $pair
  cat > "$BIN/$1" <<WRAP
#!/bin/sh
export ERYX_CPYTHON='$CPY' ERYX_LIBCXX='$LIBCXX' ERYX_NUMPY_SHIM='$SUP/shim' ERYX_NUMPY_STUBS='$BIN'
exec python3 '$SUP/wasi-cc.py' $2 "\$@"
WRAP
done
cat > "$BIN/pywasi" <<WRAP
#!/bin/sh
# Host Python answering sysconfig queries as the wasm32-wasi target.
export _PYTHON_SYSCONFIGDATA_NAME=_sysconfigdata__wasi_wasm32-wasi PYTHONPATH='$W/sysconfig'
exec '$VENV/bin/python' "\$@"
WRAP
ln -s "$VENV/bin/cython" "$BIN/cython"
chmod +x "$BIN/wcc" "$BIN/wcxx" "$BIN/pywasi"
"$BIN/wcc" -O2 -c "$SUP/cxa_stubs.c" -o "$BIN/cxa_stubs.o"
"$BIN/wcc" -O2 -fno-builtin -c "$SUP/wasi_stubs.c" -o "$BIN/wasi_stubs.o"
sed -e "s|@BIN@|$BIN|g" -e "s|@OPT@|$OPT|g" "$SUP/cross.ini.in" > "$W/cross.ini"

# 5. Fresh source tree + the one-line fix: treat wasm like Emscripten in
#    npy_cpu.h (otherwise "Unknown CPU" stops the build).
say "unpacking numpy $NUMPY_VERSION"
rm -rf "$W/src" && mkdir -p "$W/src"
tar xzf "$SDIST" -C "$W/src"
SRC="$W/src/numpy-$NUMPY_VERSION"
H="$SRC/numpy/_core/include/numpy/npy_cpu.h"
grep -qx '#elif defined(__EMSCRIPTEN__)' "$H" || die "npy_cpu.h: the __EMSCRIPTEN__ line to patch was not found"
sed -i 's/^#elif defined(__EMSCRIPTEN__)$/#elif defined(__EMSCRIPTEN__) || defined(__wasm__)/' "$H"
grep -qx '#elif defined(__EMSCRIPTEN__) || defined(__wasm__)' "$H" || die "npy_cpu.h: patch did not apply"

# 6. Configure (numpy's vendored meson), build, install into a staging dir.
say "configuring (meson, $OPT)"
rm -rf "$W/build" "$W/inst"
MESON=("$VENV/bin/python" "$SRC/vendored-meson/meson/meson.py")
(cd "$SRC" && run configure env PATH="$VENV/bin:$PATH" "${MESON[@]}" setup "$W/build" \
  --cross-file "$W/cross.ini" --buildtype=release -Db_ndebug=if-release \
  -Dallow-noblas=true -Dblas=none -Dlapack=none -Dcpu-baseline=none -Dcpu-dispatch=none \
  -Ddisable-threading=true -Ddisable-highway=true -Ddisable-svml=true -Ddisable-intel-sort=true)
say "building (ninja -j$JOBS, log: $LOGS/build.log)"
run build env PATH="$VENV/bin:$PATH" ninja -C "$W/build" -j"$JOBS"
run install env PATH="$VENV/bin:$PATH" "${MESON[@]}" install -C "$W/build" --destdir "$W/inst" \
  --tags runtime,python-runtime

# 7. The package directory: numpy/ without bytecode and numpy.distutils.
pkg=$(find "$W/inst" -type d -name numpy -path '*-packages/numpy' | head -1)
[ -n "$pkg" ] && [ -f "$pkg/__init__.py" ] || die "no installed numpy package under $W/inst"
rm -rf "$OUT" && mkdir -p "$OUT"
cp -r "$pkg" "$OUT/numpy"
rm -rf "$OUT/numpy/distutils"
find "$OUT" -name __pycache__ -type d -prune -exec rm -rf {} +
n=$(find "$OUT" -name '*.cpython-314-wasm32-wasi.so' | wc -l)
[ "$n" -gt 0 ] || die "no wasm32-wasi extension modules were built"
echo "$stamp" > "$OUT/.eryx-numpy-stamp"
say "built $n extension modules in $((SECONDS - start)) s"
echo "$OUT"
