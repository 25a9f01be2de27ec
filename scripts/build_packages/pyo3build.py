"""Backend `cargo-pyo3`: a Rust/PyO3 extension crate (maturin-style sdist)
built for wasm32-wasip1 and linked as a WASI shared library.

Rust's prebuilt wasm32-wasip1 std is not position-independent, so std is
rebuilt with `-Zbuild-std` (RUSTC_BOOTSTRAP=1 on the pinned stable, as
scripts/build-guest.sh does) and everything is compiled with
`-C relocation-model=pic`, `panic=abort`. The crate is built as a staticlib
(`cargo rustc --crate-type staticlib`) and linked by wasm-ld-16 like our own
runtime: `-shared --experimental-pic --whole-archive lib.a` against
libpython3.14.so and libc.so. PyO3 reads PYO3_CONFIG_FILE (CPython 3.14,
32-bit, shared) with `suppress_build_script_link_lines=true`, so no libpython
archive is linked in. Two symbols stable's std wants from wasi-libc are given
by a small C stub (wasi_clock_stubs.c).
"""

import glob
import os

from cbuild import copy_tree
from steps import StepFailed
from toolchain import CARGO_BUILD, EXT_SUFFIX, RUST_TOOLCHAIN, WASI_CFLAGS, wasm_cargo_env

HERE = os.path.dirname(os.path.abspath(__file__))
PYO3_CONFIG = """implementation=CPython
version=3.14
shared=true
abi3=false
lib_name=python3.14
pointer_width=32
suppress_build_script_link_lines=true
"""


def cargo_env(r, cache):
    prof = {"lto": "off", "codegen-units": "16", "opt-level": "3"} | r.get("cargo", {}).get("profile", {})
    env = wasm_cargo_env(os.path.join(cache, "cargo-target", r["name"]))
    # A stable path: PyO3's build script reruns when it changes.
    cfg = os.path.join(env["CARGO_TARGET_DIR"], "pyo3-wasi.cfg")
    with open(cfg, "w", encoding="utf-8") as f:
        f.write(PYO3_CONFIG)
    env["PYO3_CONFIG_FILE"] = cfg
    for key, value in prof.items():
        env[f"CARGO_PROFILE_RELEASE_{key.upper().replace('-', '_')}"] = str(value)
    return env


def build(r, src, tc, tools, work, staged, log, cache, deps=()):
    """Build the crate's extension and copy the Python source into `staged`."""
    cargo = r.get("cargo", {})
    module = cargo.get("module")
    if not module:
        raise StepFailed("recipe: [cargo] module (e.g. pkg._native) is required")
    env = cargo_env(r, cache)
    log.say("cargo build (wasm32-wasip1, PIC std, panic=abort); a cold build takes minutes")
    log.run("cargo build", ["cargo", f"+{RUST_TOOLCHAIN}", "rustc", *CARGO_BUILD, "--lib",
                            "--crate-type", "staticlib"], cwd=src, env=env)
    libs = glob.glob(os.path.join(env["CARGO_TARGET_DIR"], "wasm32-wasip1", "release", "*.a"))
    if len(libs) != 1:
        raise StepFailed(f"step 'cargo build': expected one staticlib, found {libs}")
    stub = os.path.join(work, "wasi_clock_stubs.o")
    log.run("compile wasi_clock_stubs.c", ["clang-16", *WASI_CFLAGS, "-c",
                                            os.path.join(HERE, "wasi_clock_stubs.c"), "-o", stub])
    pysrc = os.path.join(src, cargo.get("python-source", "."))
    top = module.split(".")[0]
    if os.path.isdir(os.path.join(pysrc, top)):
        copy_tree(os.path.join(pysrc, top), os.path.join(staged, top), skip=(".pyi", ".so", ".pyc"))
    parts = module.split(".")
    so = os.path.join(staged, *parts[:-1], parts[-1] + EXT_SUFFIX)
    os.makedirs(os.path.dirname(so), exist_ok=True)
    log.run(f"link {module}", ["wasm-ld-16", "-shared", "--experimental-pic", "-o", so,
                               "--whole-archive", libs[0], "--no-whole-archive", stub, *tc.libs()])
    log.say(f"built {os.path.relpath(so, staged)} ({os.path.getsize(so)} bytes)")
