"""C libraries that native packages link statically (Pillow: zlib, libjpeg).

Their sources come from crates.io crates that vendor them (libz-sys,
mozjpeg-sys, ...): scripts/packages/clibs/ is a cargo project depending on
those crates, pinned by its Cargo.lock (cargo checks every crate's
checksum; --locked). Building it for wasm32-wasip1 runs the crates' build
scripts, which compile the vendored C with cc-rs and our flags (PIC, WASI
headers: toolchain.wasm_cargo_env); the Rust side is not used. A recipe
names the crates in `c-libraries`; this module returns their static
archives and include directories as the build scripts report them
(`cargo:rustc-link-lib=static=...`, `cargo:rustc-link-search=...`,
`cargo:include=...`). Built once per cache key of the recipe (the project's
files are part of it), under the build cache.
"""

import os

from steps import StepFailed
from toolchain import CARGO_BUILD, RUST_TOOLCHAIN, wasm_cargo_env

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.join(os.path.dirname(HERE), "packages", "clibs")


def project_files():
    """The cargo project's files (part of every cache key that uses them)."""
    return [os.path.join(PROJECT, f) for f in ("Cargo.toml", "Cargo.lock", "lib.rs")]


def build_outputs(target):
    """crate name -> the newest build-script output lines of that crate."""
    found = {}
    build = os.path.join(target, "wasm32-wasip1", "release", "build")
    for d in os.listdir(build) if os.path.isdir(build) else []:
        out = os.path.join(build, d, "output")
        if not os.path.exists(out):
            continue
        crate = d.rsplit("-", 1)[0]
        mtime = os.path.getmtime(out)
        if crate not in found or mtime > found[crate][0]:
            with open(out, encoding="utf-8", errors="replace") as f:
                found[crate] = (mtime, f.read().splitlines())
    return {k: v[1] for k, v in found.items()}


def parse(lines):
    """(archives, include dirs) from one build script's output."""
    libs, search, include = [], [], []
    for line in lines:
        key, _, value = line.partition("=")
        key = key.replace("cargo::", "cargo:")
        if key == "cargo:rustc-link-lib" and value.startswith("static="):
            libs.append(value[len("static="):])
        elif key == "cargo:rustc-link-search":
            search.append(value.split("=", 1)[-1])
        elif key == "cargo:include":
            include += value.split(os.pathsep)
        elif key == "cargo:metadata" and value.startswith("include="):
            include += value[len("include="):].split(os.pathsep)
    archives = []
    for lib in libs:
        hits = [os.path.join(d, f"lib{lib}.a") for d in search if os.path.exists(os.path.join(d, f"lib{lib}.a"))]
        if not hits:
            raise StepFailed(f"step 'C libraries': lib{lib}.a not found in {search}")
        archives.append(hits[0])
    return archives, include


def build(crates, cache, log):
    """(archives, include dirs) of the named crates' C libraries, built if needed."""
    if not crates:
        return [], []
    env = wasm_cargo_env(os.path.join(cache, "clibs-target"))
    log.say(f"C libraries from crates ({', '.join(crates)}): cargo build for wasm32-wasip1")
    log.run("build C libraries", ["cargo", f"+{RUST_TOOLCHAIN}", "build", *CARGO_BUILD,
                                  "--manifest-path", os.path.join(PROJECT, "Cargo.toml")], env=env)
    outputs = build_outputs(env["CARGO_TARGET_DIR"])
    archives, include = [], []
    for crate in crates:
        if crate not in outputs:
            raise StepFailed(f"step 'C libraries': crate {crate!r} is not a dependency of "
                             f"{os.path.relpath(PROJECT, os.path.dirname(os.path.dirname(HERE)))}/Cargo.toml")
        a, i = parse(outputs[crate])
        if not a:
            raise StepFailed(f"step 'C libraries': {crate}'s build script reported no static library")
        archives += a
        include += i
    return archives, include
