"""Backend `meson`: meson-python sdists (numpy, pandas, ...) cross-built for
wasm32-wasi with meson and a cross file.

What it sets up, all cached under the build cache and keyed by content:
- the pinned build tools (cython, meson, meson-python, ninja) in a venv,
  from scripts/requirements-meson-tools.txt with --require-hashes;
- Debian bookworm's wasm32 libc++ 16 headers (apt-get download of exact
  versions, sha256-checked, unpacked with dpkg-deb -x; nothing is installed);
- per build: the compiler wrappers (wasicc.py), a host Python answering
  sysconfig as the target (target_sysconfig.py), the stubs, the cross file;
- for recipes that `requires` another recipe's wheel at build time (pandas
  needs numpy's headers and .pxd files): a build-only `numpy` directory on the
  host Python's path whose get_include() names the WASI numpy's headers
  (wasm32 is ILP32: a host numpy's _numpyconfig.h would be wrong).
Recipe table `[meson]`: `setup-args` (list), `meson` (path of a vendored
meson.py inside the sdist, default: the pinned meson), `install-tags`
(default: meson-python's "runtime,python-runtime"; "" installs everything),
`drop` (paths under site-packages left out of the wheel), `pkg-config`
(name -> {crates, version}: a .pc file answering meson's dependency(name)
with the static C libraries of those crates of `c-libraries`, clibs.py).
`subprojects` (name -> {crate, version, sha256, path, overlay}: a meson
subproject the sdist would download from a host we cannot reach, laid out
from the sources a crates.io crate vendors (`path` inside the .crate) with
the sdist's own meson overlay directory `overlay` copied over them).
pybind11's headers (the pinned pybind11) answer dependency('pybind11').
A recipe with `setjmp = true` compiles its C (subprojects included) with
clang 22 and WebAssembly SjLj (cxx_eh.c_command).
"""

import json
import os
import shutil
import subprocess
import tarfile
import zipfile

import clibs
import cxx_eh
import fetch
import target_sysconfig
from fetch import sha256_file
from steps import StepFailed

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CROSS = os.path.join(HERE, "cross")
TOOLS_REQ = os.path.join(ROOT, "scripts", "requirements-meson-tools.txt")
# Debian bookworm's wasm32 libc++ 16 (headers + static libs for meson's link checks).
DEB_VERSION = "1:16.0.6-15~deb12u1"
DEBS = {
    "libc++-16-dev-wasm32": "0065f1a076b15d9ceb393cfcd3999a2b7f517b2f148bf2ac74bd25213d40ec2e",
    "libc++abi-16-dev-wasm32": "ce9dda78d0fcf6660157bcda591596f1e93c8602097eae72f7a6649daa866878",
}
# meson cannot run target programs to detect these.
CROSS_FILE = """\
[binaries]
c = '{bin}/wcc'
cpp = '{bin}/wcxx'
ar = 'llvm-ar-16'
strip = 'true'
python = '{bin}/pywasi'
cython = '{bin}/cython'
pkg-config = '{venv}/bin/pkgconf'

[host_machine]
system = 'wasi'
cpu_family = 'wasm32'
cpu = 'wasm32'
endian = 'little'

[properties]
longdouble_format = 'IEEE_QUAD_LE'
needs_exe_wrapper = true

[built-in options]
c_args = ['-O2', '-DNDEBUG'{extra}]
cpp_args = ['-O2', '-DNDEBUG'{extra}]
"""
# What pkg-config answers for the target's `python3` (Cython's sanity check
# and any dependency('python3')): our CPython 3.14 headers, nothing to link
# (extensions import libpython's symbols at run time).
PYTHON_PC = """Name: Python
Description: CPython 3.14 for wasm32-wasi (eryx build-packages)
Version: 3.14
Cflags: -I{include}
Libs:
"""
# A C library of ours (static archives from clibs.py) for meson's dependency().
LIBRARY_PC = """Name: {name}
Description: {name} for wasm32-wasi (eryx build-packages, from {crates})
Version: {version}
Cflags: {cflags}
Libs: {libs}
"""
# The build-only stand-in for numpy on the host Python's path (see above).
NUMPY_SHIM = '''"""Build-time stand-in (eryx build-packages): the WASI numpy's headers."""
__version__ = {version!r}


def get_include():
    return {include!r}
'''


def fingerprint():
    """What of this backend's inputs outside scripts/build_packages changes a build."""
    return sha256_file(TOOLS_REQ) + DEB_VERSION + " ".join(sorted(DEBS.values()))


def tools_venv(cache, log):
    """The venv with the pinned meson tools (created once per requirements hash)."""
    venv = os.path.join(cache, "meson-tools", sha256_file(TOOLS_REQ)[:16])
    if not os.path.exists(os.path.join(venv, ".done")):
        log.say("creating the meson build-tools venv (pinned cython, meson, meson-python, ninja)")
        shutil.rmtree(venv, ignore_errors=True)
        log.run("create tools venv", ["python3", "-m", "venv", venv])
        log.run("install meson tools", [os.path.join(venv, "bin", "pip"), "install", "--quiet",
                                        "--no-deps", "--require-hashes", "-r", TOOLS_REQ])
        open(os.path.join(venv, ".done"), "w").close()
    return venv


def libcxx(cache, log):
    """Root of the unpacked Debian wasm32 libc++ 16 packages."""
    key = "-".join(v[:12] for v in sorted(DEBS.values()))
    root = os.path.join(cache, "libcxx", key)
    if os.path.exists(os.path.join(root, ".done")):
        return root
    log.say(f"fetching Debian's wasm32 libc++ 16 headers ({DEB_VERSION})")
    shutil.rmtree(root, ignore_errors=True)
    dl = root + ".deb"
    shutil.rmtree(dl, ignore_errors=True)
    os.makedirs(dl)
    for name, digest in sorted(DEBS.items()):
        log.run(f"download {name}", ["apt-get", "-o", "APT::Sandbox::User=root", "download",
                                     f"{name}={DEB_VERSION}"], cwd=dl)
        debs = [f for f in os.listdir(dl) if f.startswith(name + "_")]
        if len(debs) != 1 or sha256_file(os.path.join(dl, debs[0])) != digest:
            raise StepFailed(f"step 'download {name}': sha256 mismatch or no .deb ({debs})")
        log.run(f"unpack {name}", ["dpkg-deb", "-x", os.path.join(dl, debs[0]), root])
    if not os.path.exists(os.path.join(root, "usr/lib/llvm-16/include/wasm32-wasi/c++/v1/vector")):
        raise StepFailed("step 'unpack libc++': the headers are missing from the .debs")
    shutil.rmtree(dl)
    open(os.path.join(root, ".done"), "w").close()
    return root


def write_script(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, 0o755)


def write_pc_files(r, venv, pc_dir, cache, log):
    """.pc files for pybind11 and the recipe's `[meson] pkg-config` libraries."""
    inc = subprocess.run([os.path.join(venv, "bin", "python"), "-c", "import pybind11; print(pybind11.get_include())"],
                         capture_output=True, text=True).stdout.strip()
    pcs = {"pybind11": ("3.1.0", [inc], [], "pybind11")} if inc else {}
    wanted = r.get("meson", {}).get("pkg-config", {})
    each = clibs.build_each(r["c-libraries"], cache, log) if wanted else {}
    for name, spec in wanted.items():
        missing = [c for c in spec["crates"] if c not in each]
        if missing:
            raise StepFailed(f"recipe: [meson] pkg-config {name} names {missing}, not in c-libraries")
        archives = [a for c in spec["crates"] for a in each[c][0]]
        include = [i for c in spec["crates"] for i in each[c][1]]
        pcs[name] = (spec["version"], include, archives, ", ".join(spec["crates"]))
    for name, (version, include, archives, crates) in pcs.items():
        with open(os.path.join(pc_dir, name + ".pc"), "w", encoding="utf-8") as f:
            f.write(LIBRARY_PC.format(name=name, crates=crates, version=version,
                                      cflags=" ".join(f"-I{i}" for i in include), libs=" ".join(archives)))


def lay_out_subprojects(r, src, cache, log):
    """The recipe's `[meson] subprojects`, from crates' vendored sources
    (before the recipe's patches are applied, so they can patch these too)."""
    for name, sp in r.get("meson", {}).get("subprojects", {}).items():
        path = fetch.crate(cache, sp["crate"], sp["version"], sp["sha256"], log)
        tmp = os.path.join(src, "subprojects", name + ".crate")
        shutil.rmtree(tmp, ignore_errors=True)
        with tarfile.open(path) as t:
            t.extractall(tmp, filter="data")
        inner = os.path.join(tmp, f"{sp['crate']}-{sp['version']}", sp["path"])
        if not os.path.isdir(inner):
            raise StepFailed(f"recipe: [meson] subprojects {name}: no {sp['path']} in the crate")
        dest = os.path.join(src, "subprojects", name)
        shutil.rmtree(dest, ignore_errors=True)
        shutil.move(inner, dest)
        shutil.rmtree(tmp)
        shutil.copytree(os.path.join(src, sp["overlay"]), dest, dirs_exist_ok=True)
        log.note(f"subproject {name}: {sp['crate']} {sp['version']}'s {sp['path']} + {sp['overlay']}")


def cross_tools(tc, venv, cxx_root, work, host_path, log, cache, cflags=(), sjlj=False):
    """The bin/ directory with wcc, wcxx, pywasi, cython and the stubs; returns it.
    sjlj: C compiles with clang 22 and WebAssembly SjLj."""
    bin_dir = os.path.join(work, "bin")
    os.makedirs(bin_dir)
    sysconfig_dir = os.path.join(work, "sysconfig")
    target_sysconfig.write(os.path.join(tc.cpython, "python-stdlib.tar"), tc.include, sysconfig_dir)
    headers = os.path.join(cxx_root, "usr/lib/llvm-16/include/wasm32-wasi/c++/v1")
    cxx = {"ERYX_CXX": cxx_eh.cxx_command(cache, log, headers, os.path.join(CROSS, "shim")),
           "ERYX_CXX_LD": cxx_eh.linker(cache, log), "ERYX_EH_OBJECTS": cxx_eh.runtime(cache, log, headers)}
    if sjlj:
        cxx["ERYX_CC"] = cxx_eh.c_command(cache, log)
        cxx["ERYX_SJLJ_OBJECTS"] = cxx_eh.sjlj_runtime(cache, log)
    env = (f"export ERYX_CPYTHON='{tc.cpython}' ERYX_LIBCXX='{cxx_root}' ERYX_STUBS='{bin_dir}' "
           + " ".join(f"{k}='{json.dumps(v)}'" for k, v in cxx.items()) + "\n")
    for name, mode in (("wcc", "cc"), ("wcxx", "c++")):
        write_script(os.path.join(bin_dir, name),
                     f"#!/bin/sh\n{env}exec python3 '{HERE}/wasicc.py' {mode} \"$@\"\n")
    path = os.pathsep.join([sysconfig_dir] + host_path)
    write_script(os.path.join(bin_dir, "pywasi"),
                 "#!/bin/sh\n# Host Python answering sysconfig queries as the wasm32-wasi target.\n"
                 f"export _PYTHON_SYSCONFIGDATA_NAME={target_sysconfig.NAME} PYTHONPATH='{path}'\n"
                 f"exec '{venv}/bin/python' \"$@\"\n")
    write_script(os.path.join(bin_dir, "cython"),
                 f"#!/bin/sh\nexport PYTHONPATH='{os.pathsep.join(host_path)}'\n"
                 f"exec '{venv}/bin/cython' \"$@\"\n")
    wcc = os.path.join(bin_dir, "wcc")
    log.run("compile cxa_stubs.c", [wcc, "-O2", "-c", os.path.join(CROSS, "cxa_stubs.c"),
                                    "-o", os.path.join(bin_dir, "cxa_stubs.o")])
    log.run("compile wasi_stubs.c", [wcc, "-O2", "-fno-builtin", "-c", os.path.join(CROSS, "wasi_stubs.c"),
                                     "-o", os.path.join(bin_dir, "wasi_stubs.o")])
    log.run("compile cxx_abi.cpp", [os.path.join(bin_dir, "wcxx"), "-O2", "-std=c++17", "-Wno-deprecated-declarations",
                                    "-c", os.path.join(CROSS, "cxx_abi.cpp"), "-o", os.path.join(bin_dir, "cxx_abi.o")])
    with open(os.path.join(work, "cross.ini"), "w", encoding="utf-8") as f:
        f.write(CROSS_FILE.format(bin=bin_dir, venv=venv, extra="".join(f", {a!r}" for a in cflags)))
    pc_dir = os.path.join(work, "pkgconfig")
    os.makedirs(pc_dir)
    for name in ("python3", "python-3.14"):
        with open(os.path.join(pc_dir, name + ".pc"), "w", encoding="utf-8") as f:
            f.write(PYTHON_PC.format(include=tc.include))
    return bin_dir


def build_time_packages(deps, work, log):
    """Unpack the wheels of `requires` for the build; returns host path entries."""
    site = os.path.join(work, "build-site")
    shim = os.path.join(work, "host-shim")
    for whl in deps:
        with zipfile.ZipFile(whl) as z:
            z.extractall(site)
        log.note(f"build-time wheel {os.path.basename(whl)}")
    np = os.path.join(site, "numpy")
    if os.path.isdir(np):
        # .pxd files for Cython, headers for C, and no wasm code run on the host.
        dest = os.path.join(shim, "numpy")
        shutil.copytree(np, dest, ignore=shutil.ignore_patterns("*.so", "*.py", "tests"))
        version = next(f for f in os.listdir(site) if f.startswith("numpy-")).split("-")[1].removesuffix(".dist-info")
        with open(os.path.join(dest, "__init__.py"), "w", encoding="utf-8") as f:
            f.write(NUMPY_SHIM.format(version=version, include=os.path.join(np, "_core", "include")))
    return [shim] if os.path.isdir(shim) else []


def build(r, src, tc, tools, work, staged, log, cache, deps=()):
    """Configure, build and install the recipe's meson project into `staged`."""
    opts = r.get("meson", {})
    venv = tools_venv(cache, log)
    cxx_root = libcxx(cache, log)
    host_path = build_time_packages(deps, work, log)
    bin_dir = cross_tools(tc, venv, cxx_root, work, host_path, log, cache, r["cflags"], r["setjmp"])
    write_pc_files(r, venv, os.path.join(work, "pkgconfig"), cache, log)
    # bin_dir first: meson runs Cython as a build-machine tool found on PATH.
    env = dict(os.environ, PATH=os.pathsep.join([bin_dir, os.path.join(venv, "bin"), os.environ["PATH"]]),
               PKG_CONFIG_LIBDIR=os.path.join(work, "pkgconfig"), PKG_CONFIG_PATH="")
    meson = [os.path.join(venv, "bin", "python"), os.path.join(src, opts["meson"])] if "meson" in opts \
        else [os.path.join(venv, "bin", "meson")]
    build_dir, inst = os.path.join(work, "build"), os.path.join(work, "inst")
    log.say("configuring (meson)")
    log.run("meson setup", [*meson, "setup", build_dir, "--cross-file", os.path.join(work, "cross.ini"),
                            "--buildtype=release", "-Db_ndebug=if-release", *opts.get("setup-args", [])],
            cwd=src, env=env)
    jobs = os.environ.get("ERYX_BUILD_JOBS") or str(os.cpu_count() or 2)
    log.say(f"compiling (ninja -j{jobs})")
    log.run("ninja", [os.path.join(venv, "bin", "ninja"), "-C", build_dir, f"-j{jobs}"], env=env)
    tags = opts.get("install-tags", "runtime,python-runtime")
    log.run("meson install", [*meson, "install", "-C", build_dir, "--destdir", inst, "--quiet"]
            + (["--tags", tags] if tags else []), cwd=src, env=env)
    sites = [d for d, _, _ in os.walk(inst) if os.path.basename(d) in ("site-packages", "dist-packages")]
    if len(sites) != 1:
        raise StepFailed(f"step 'meson install': expected one site-packages under {inst}, found {sites}")
    for entry in os.listdir(sites[0]):
        s = os.path.join(sites[0], entry)
        (shutil.copytree if os.path.isdir(s) else shutil.copy2)(s, os.path.join(staged, entry))
    for rel in opts.get("drop", []):
        shutil.rmtree(os.path.join(staged, rel), ignore_errors=True)
    for base, dirs, _ in os.walk(staged):
        if "__pycache__" in dirs:
            shutil.rmtree(os.path.join(base, "__pycache__"))
            dirs.remove("__pycache__")
    n = sum(f.endswith(".so") for _, _, fs in os.walk(staged) for f in fs)
    if not n:
        raise StepFailed("step 'meson install': no extension modules were installed")
    log.say(f"built {n} extension modules")
