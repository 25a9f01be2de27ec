#!/usr/bin/env bash
# Idempotent setup for a fresh Debian 12 machine: toolchain components, apt
# packages, and the pinned CPython-for-WASI artefacts + headers. Everything
# downloaded lands in target/eryx-deps (gitignored) and is reused when present.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEPS="$ROOT/target/eryx-deps"
TOOLCHAIN=1.95.0
STAMP="$DEPS/.setup-done-v1"
mkdir -p "$DEPS"
say() { echo "setup: $*" >&2; }
die() { echo "setup: error: $*" >&2; exit 1; }

# 1. Rust: the pinned toolchain with rust-src (the guest builds std with -Zbuild-std).
if ! rustup run "$TOOLCHAIN" rustc --version >/dev/null 2>&1; then
  say "installing Rust $TOOLCHAIN"
  rustup toolchain install "$TOOLCHAIN" --profile minimal >&2 || die "rustup could not install $TOOLCHAIN"
fi
if [ ! -d "$(rustup run "$TOOLCHAIN" rustc --print sysroot)/lib/rustlib/src/rust/library" ]; then
  say "adding rust-src to $TOOLCHAIN"
  rustup component add rust-src --toolchain "$TOOLCHAIN" >&2 || die "rustup could not add rust-src"
fi
for comp in rustfmt clippy; do
  rustup component list --toolchain "$TOOLCHAIN" --installed 2>/dev/null | grep -q "^$comp" \
    || rustup component add "$comp" --toolchain "$TOOLCHAIN" >&2 || say "warning: could not add $comp"
done

# 2. apt packages: clang/wasm-ld 16, wasi-libc, libclang for bindgen, and
#    redis-server (the shared session store eryx-server's cluster tests start).
PKGS="clang-16 lld-16 wasi-libc libclang-rt-16-dev-wasm32 libclang-16-dev redis-server"
missing=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  say "installing apt packages:$missing"
  apt-get update >&2 || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y $missing >&2 || die "apt-get install failed for:$missing"
fi

# CPython 3.14 regression tests for scripts/cpython-tests.sh (Debian sid),
# also on machines set up before they were needed (idempotent).
"$ROOT/scripts/fetch-cpython-tests.sh" "$DEPS"
# C library sources of the builtin stdlib modules (c/natives/), from crates.io.
"$ROOT/scripts/fetch-natives.sh" "$DEPS"
# The pinned tzdata package, added to the sandbox's stdlib (zoneinfo works
# without flags); idempotent.
"$ROOT/scripts/fetch-tzdata.sh" "$DEPS"
# Pure-Python wheels of packages with optional C speedups and no pure wheel
# on PyPI (markupsafe for jinja2, pyyaml) into the wheelhouse; idempotent.
"$ROOT/scripts/build-pure-wheels.sh" >/dev/null

# The guest's sysconfig data with whole values (scripts/fix_sysconfigdata.py
# says what the build cut), also on machines set up before (idempotent).
fix_sysconfig() { python3 "$ROOT/scripts/fix_sysconfigdata.py" "$DEPS/cpython/python-stdlib.tar"; }

if [ -f "$STAMP" ]; then
  fix_sysconfig
  exit 0
fi

# 3. componentize-py wheel (pinned by version + sha256) and the zstd tool to unpack it.
mkdir -p "$DEPS/dl" "$DEPS/pytools"
if ! ls "$DEPS"/dl/componentize_py-0.25.1-*.whl >/dev/null 2>&1; then
  say "downloading componentize-py==0.25.1 (pinned)"
  python3 -m pip download --quiet --no-deps --require-hashes -r "$ROOT/scripts/requirements-setup.txt" \
    -d "$DEPS/dl" >&2 || die "could not download componentize-py==0.25.1 from PyPI"
fi
if ! PYTHONPATH="$DEPS/pytools" python3 -c 'import zstandard' 2>/dev/null; then
  say "installing zstandard (pinned) into $DEPS/pytools"
  python3 -m pip install --quiet --no-deps --require-hashes --target "$DEPS/pytools" \
    -r "$ROOT/scripts/requirements-tools.txt" >&2 || die "could not install zstandard==0.23.0"
fi
say "extracting CPython for WASI from the wheel"
PYTHONPATH="$DEPS/pytools" python3 "$ROOT/scripts/extract_cpython.py" \
  "$(ls "$DEPS"/dl/componentize_py-0.25.1-*.whl | head -1)" "$DEPS/cpython" >&2
fix_sysconfig

# 4. CPython 3.14 headers from Debian sid's libpython3.14-dev, through a private
#    apt configuration (the machine's own sources are never touched).
"$ROOT/scripts/fetch-headers.sh" "$DEPS"

touch "$STAMP"
say "done ($DEPS)"
