"""The cross toolchain for CPython 3.14 on wasm32-wasi: flags, libraries to
link against, and a fingerprint of it all for the build cache key.

LLVM 16 only emits position-independent wasm for the Emscripten triple, so C
is compiled with that triple but WASI's headers and predefined macros (the
same trick as the runtime's build.rs); the object code is the plain wasm32 C
ABI. Extensions are linked with wasm-ld-16 into WASI shared libraries
(dylink.0) that need libpython3.14.so and libc.so.
"""

import hashlib
import os
import subprocess

import cxx_eh
import mesonbuild
from fetch import sha256_file

# The extension-module suffix CPython-for-WASI looks for (first entry of
# importlib.machinery.EXTENSION_SUFFIXES in the guest).
EXT_SUFFIX = ".cpython-314-wasm32-wasi.so"
# The wheel tag: pip matches it with --platform wasi_0_0_0_wasm32.
WHEEL_TAG = "cp314-cp314-wasi_0_0_0_wasm32"
RUST_TOOLCHAIN = "1.95.0"

# Our headers for what wasi-libc lacks (setjmp.h), searched before WASI's.
CROSS_INCLUDE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cross", "include")
WASI_CFLAGS = [
    "--target=wasm32-wasi", "-nostdlibinc", "-isystem", CROSS_INCLUDE, "-isystem", "/usr/include/wasm32-wasi",
    "--target=wasm32-unknown-emscripten", "-U__EMSCRIPTEN__", "-D__wasi__",
    "-fPIC", "-O2", "-DNDEBUG",
    # A call through a wrong prototype is a trap at run time in wasm: refuse it at build time.
    "-Werror=implicit-function-declaration",
]


# How every wasm32-wasip1 cargo build of the pipeline runs (a PIC std rebuilt
# with -Zbuild-std; see the module doc).
CARGO_BUILD = ["--release", "--locked", "--target", "wasm32-wasip1", "-Zbuild-std=panic_abort,std"]


def wasm_cargo_env(target):
    """Environment for a PIC wasm32-wasip1 cargo build into `target`; cc-rs
    compiles C with our flags (clang-16, the Emscripten-triple PIC trick)."""
    os.makedirs(target, exist_ok=True)
    env = dict(os.environ, RUSTC_BOOTSTRAP="1",
               CARGO_PROFILE_RELEASE_PANIC="abort", CARGO_PROFILE_RELEASE_STRIP="false",
               CARGO_TARGET_WASM32_WASIP1_RUSTFLAGS="-C relocation-model=pic",
               CFLAGS_wasm32_wasip1=" ".join(WASI_CFLAGS), CC_wasm32_wasip1="clang-16",
               AR_wasm32_wasip1="llvm-ar-16",
               # Downloaded crates stay in the shared cargo home (~/.cargo).
               CARGO_TARGET_DIR=target)
    for key in ("RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_BUILD_TARGET"):
        env.pop(key, None)
    return env


class Toolchain:
    """Paths of the CPython-for-WASI artefacts in target/eryx-deps."""

    def __init__(self, root):
        deps = os.path.join(root, "target", "eryx-deps")
        self.include = os.path.join(deps, "include", "python3.14")
        self.cpython = os.path.join(deps, "cpython")
        if not os.path.exists(os.path.join(self.include, "Python.h")):
            raise SystemExit("build-packages: CPython headers missing: run scripts/setup.sh first")

    def libs(self, cxx=False):
        names = ["libpython3.14.so", "libc.so"] + (["libc++.so", "libc++abi.so"] if cxx else [])
        return [os.path.join(self.cpython, n) for n in names]

    def fingerprint(self, backend):
        """Everything of the toolchain that can change a build's output."""
        h = hashlib.sha256()
        # The flags without this checkout's path (its cross/include): the key
        # is the same for every clone of the same sources.
        flags = [f.replace(CROSS_INCLUDE, "cross/include") for f in WASI_CFLAGS]
        h.update(" ".join(flags + [EXT_SUFFIX, WHEEL_TAG]).encode())
        for f in [os.path.join(self.include, "pyconfig.h")] + self.libs(cxx=True):
            h.update(sha256_file(f).encode())
        tools = [["clang-16", "--version"], ["wasm-ld-16", "--version"]]
        if backend == "cargo-pyo3":
            tools.append(["rustc", f"+{RUST_TOOLCHAIN}", "-vV"])
        if backend == "meson":
            h.update(mesonbuild.fingerprint().encode())
            h.update(sha256_file(os.path.join(self.cpython, "python-stdlib.tar")).encode())
        for cmd in tools:
            h.update(subprocess.run(cmd, capture_output=True, check=True).stdout)
        # The pinned clang 22 of C++ sources (cxx_eh.py).
        h.update(sha256_file(cxx_eh.ZIG_REQ).encode())
        return h.hexdigest()
