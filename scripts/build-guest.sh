#!/usr/bin/env bash
# Build the guest runtime (Rust staticlib + C, for wasm32-wasip1 with a
# PIC-rebuilt std) and link it into target/eryx-artifacts/liberyx_runtime.so,
# next to the CPython-for-WASI libraries the host embeds.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEPS="$ROOT/target/eryx-deps"
ART="$ROOT/target/eryx-artifacts"
TOOLCHAIN=1.95.0
[ -f "$DEPS/.setup-done-v1" ] || { echo "build-guest: run scripts/setup.sh first" >&2; exit 1; }
export LIBCLANG_PATH=${LIBCLANG_PATH:-/usr/lib/llvm-16/lib}
# Stable toolchain + unstable -Zbuild-std (Rust's prebuilt wasm std is not PIC).
export RUSTC_BOOTSTRAP=1
# Clear flags a parent cargo (e.g. the host build) may have set.
unset CARGO_ENCODED_RUSTFLAGS RUSTFLAGS CARGO_TARGET_DIR CARGO_BUILD_TARGET
cd "$ROOT"
# panic=abort here only (wasm has no unwinding; the host profile unwinds).
cargo +"$TOOLCHAIN" build --release --target wasm32-wasip1 -p eryx-wasm-runtime \
  --config 'profile.release.panic="abort"' -Zbuild-std=panic_abort,std --target-dir "$ROOT/target/guest" >&2
mkdir -p "$ART"
LIB="$ROOT/target/guest/wasm32-wasip1/release/liberyx_wasm_runtime.a"
C="$DEPS/cpython"
wasm-ld-16 -shared --experimental-pic -o "$ART/liberyx_runtime.so.tmp" \
  --whole-archive "$LIB" --no-whole-archive \
  "$C/libpython3.14.so" "$C/libc.so"
mv "$ART/liberyx_runtime.so.tmp" "$ART/liberyx_runtime.so"
# liberyx_write.so: write() that reports ENOSPC (c/write_enospc.c says why),
# linked before libc.so. C is compiled as build.rs does: LLVM 16 only emits
# PIC wasm for the Emscripten triple, with WASI's headers and macros.
OBJ="$ROOT/target/guest/write_enospc.o"
clang-16 --target=wasm32-unknown-emscripten -U__EMSCRIPTEN__ -D__wasi__ -nostdlibinc \
  -isystem /usr/include/wasm32-wasi -fPIC -O2 -Wall -Werror -c "$ROOT/c/write_enospc.c" -o "$OBJ"
wasm-ld-16 -shared --experimental-pic --export=write -o "$ART/liberyx_write.so.tmp" "$OBJ" "$C/libc.so"
mv "$ART/liberyx_write.so.tmp" "$ART/liberyx_write.so"
for f in libpython3.14.so libc.so libc++.so libc++abi.so libwasi-emulated-mman.so \
         libwasi-emulated-process-clocks.so libwasi-emulated-getpid.so \
         libwasi-emulated-signal.so wasi_snapshot_preview1.reactor.wasm; do
  cmp -s "$C/$f" "$ART/$f" 2>/dev/null || cp "$C/$f" "$ART/$f"
done
# The stdlib, plus the pure-Python stdlib modules eryx adds (guest/stdlib/)
# and the pinned tzdata package (scripts/fetch-tzdata.sh) so that zoneinfo
# works in every sandbox.
"$ROOT/scripts/fetch-tzdata.sh" "$DEPS"
python3 "$ROOT/scripts/stdlib_tar.py" "$C/python-stdlib.tar" "$ROOT/guest/stdlib" \
  "$ART/python-stdlib.tar" "$DEPS/tzdata/site/tzdata"
echo "build-guest: $(du -h "$ART/liberyx_runtime.so" | cut -f1) $ART/liberyx_runtime.so" >&2
