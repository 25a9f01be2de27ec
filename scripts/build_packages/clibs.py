"""C libraries that native packages link statically (Pillow: zlib, libjpeg).

Their sources come from crates.io crates that vendor them (libz-sys,
mozjpeg-sys, ...): scripts/packages/clibs/ is a cargo project depending on
those crates, pinned by its Cargo.lock (cargo checks every crate's
checksum; --locked). Building it for wasm32-wasip1 runs the crates' build
scripts, which compile the vendored C with cc-rs and our flags (PIC, WASI
headers: toolchain.wasm_cargo_env, with clang 22 and WebAssembly SjLj
instead of clang 16: libpng, FreeType, libjpeg and Qhull longjmp on their
error paths, see cxx_eh.py); the Rust side is not used. A recipe
names the crates in `c-libraries`; this module returns their static
archives and include directories as the build scripts report them
(`cargo:rustc-link-lib=static=...`, `cargo:rustc-link-search=...`,
`cargo:include=...`). Built once per cache key of the recipe (the project's
files are part of it), under the build cache.
"""

import json
import os
import subprocess

import cxx_eh
from steps import StepFailed
from toolchain import CARGO_BUILD, CROSS_INCLUDE, RUST_TOOLCHAIN, wasm_cargo_env

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.join(os.path.dirname(HERE), "packages", "clibs")
# Header directories (relative to the crate's source) of crates whose build
# scripts do not report them.
HEADERS = {"freetype-sys": ["freetype2/include"], "qhull-sys": ["qhull/src"]}
# Crates whose headers the C of other crates includes: freetype-sys' libpng
# includes zlib.h and expects the zlib sources next to it.
SHARED_HEADERS = {"libz-sys": "src/zlib"}


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


def crate_dirs():
    """crate name -> its source directory, from cargo (downloading what is missing)."""
    out = subprocess.run(["cargo", f"+{RUST_TOOLCHAIN}", "metadata", "--locked", "--format-version", "1",
                          "--manifest-path", os.path.join(PROJECT, "Cargo.toml")],
                         capture_output=True, text=True)
    if out.returncode:
        raise StepFailed(f"step 'C libraries': cargo metadata failed: {out.stderr.strip()[-500:]}")
    return {p["name"]: os.path.dirname(p["manifest_path"]) for p in json.loads(out.stdout)["packages"]}


def build(crates, cache, log):
    """(archives, include dirs) of the named crates' C libraries, built if needed."""
    archives, include = [], []
    for a, i in build_each(crates, cache, log).values():
        archives += a
        include += i
    return archives, include


def build_each(crates, cache, log):
    """crate -> (archives, include dirs) of the named crates, built if needed."""
    if not crates:
        return {}
    dirs = crate_dirs()
    env = wasm_cargo_env(os.path.join(cache, "clibs-target"))
    shared = [os.path.join(dirs[c], d) for c, d in SHARED_HEADERS.items() if c in dirs]
    cc, cflags = cxx_eh.c_compiler_script(cache, log)
    env["CC_wasm32_wasip1"] = cc
    env["CFLAGS_wasm32_wasip1"] = " ".join(cflags) + "".join(f" -I{d}" for d in shared)
    # bindgen (qhull-sys) parses the headers for the target: WASI's, and ours.
    env["LIBCLANG_PATH"] = "/usr/lib/llvm-16/lib"
    env["BINDGEN_EXTRA_CLANG_ARGS_wasm32_wasip1"] = (
        f"--target=wasm32-wasi -nostdlibinc -isystem {CROSS_INCLUDE} -isystem /usr/include/wasm32-wasi")
    log.say(f"C libraries from crates ({', '.join(crates)}): cargo build for wasm32-wasip1")
    log.run("build C libraries", ["cargo", f"+{RUST_TOOLCHAIN}", "build", *CARGO_BUILD,
                                  "--manifest-path", os.path.join(PROJECT, "Cargo.toml")], env=env)
    outputs = build_outputs(env["CARGO_TARGET_DIR"])
    each = {}
    for crate in crates:
        if crate not in outputs:
            raise StepFailed(f"step 'C libraries': crate {crate!r} is not a dependency of "
                             f"{os.path.relpath(PROJECT, os.path.dirname(os.path.dirname(HERE)))}/Cargo.toml")
        a, i = parse(outputs[crate])
        i += [os.path.join(dirs[crate], d) for d in HEADERS.get(crate, [])]
        if not a:
            raise StepFailed(f"step 'C libraries': {crate}'s build script reported no static library")
        each[crate] = (a, i)
    return each
