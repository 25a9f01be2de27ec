"""Cross-build a C-extension sdist from PyPI for the eryx sandbox (wasm32-wasi).

Driven by scripts/build-extension.sh. For one pinned requirement line of
scripts/requirements-extensions.txt it:

1. downloads the sdist with pip (--no-binary :all: --require-hashes),
2. reads the sdist's setup.py with setup() replaced by a recorder (in a
   child process, with a pinned setuptools) to learn its Extension list and
   Python packages,
3. compiles every extension's C sources with clang-16 as position-independent
   wasm32 code against the CPython 3.14 headers and our pyconfig.h, links them
   with wasm-ld-16 into `<module>.cpython-314-wasm32-wasi.so` (a WASI shared
   library with a dylink.0 section, needing libpython3.14.so and libc.so),
4. copies the Python files next to them, plus a minimal .dist-info.

The result, target/extensions/<name>/, is a site-packages style directory
that `eryx::SandboxBuilder::package` (and `eryx --package`) accepts.
Rebuilds are skipped while a stamp of every input matches.
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile

# The extension-module suffix CPython-for-WASI looks for (first entry of
# importlib.machinery.EXTENSION_SUFFIXES in the guest).
EXT_SUFFIX = ".cpython-314-wasm32-wasi.so"

# LLVM 16 only emits position-independent wasm for the Emscripten triple, so
# compile with that triple but WASI's headers and predefined macros (the same
# trick as the runtime's build.rs). The object code is the plain wasm32 C ABI.
WASI_CFLAGS = [
    "--target=wasm32-wasi",
    "-nostdlibinc",
    "-isystem",
    "/usr/include/wasm32-wasi",
    "--target=wasm32-unknown-emscripten",
    "-U__EMSCRIPTEN__",
    "-D__wasi__",
    "-fPIC",
    "-O2",
    "-DNDEBUG",
]
C_SUFFIXES = (".c",)
CXX_SUFFIXES = (".cc", ".cpp", ".cxx")
# Files that are build inputs, not part of the installed package.
SKIP_SUFFIXES = (".c", ".h", ".cc", ".cpp", ".cxx", ".hpp", ".pyx", ".pxd", ".o", ".so", ".pyd", ".dylib")
# Host flags from extra_compile_args that make sense for wasm too.
PORTABLE_FLAG = re.compile(r"^(-std=.*|-D.*|-U.*|-W.*|-f(no-)?strict-aliasing|-O[0-3s])$")

# Recorder run in a child process inside the unpacked sdist: argv[1] is the
# pinned setuptools dir, argv[2] the JSON output file.
RECORDER = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
out = sys.argv[2]
import setuptools, distutils.core
seen = {}
def record(**kw):
    if not seen:
        seen.update(kw)
setuptools.setup = record
distutils.core.setup = record
sys.argv = ["setup.py", "build_ext"]
code = compile(open("setup.py", encoding="utf-8").read(), "setup.py", "exec")
exec(code, {"__name__": "__main__", "__file__": "setup.py"})
def ext(e):
    return {k: list(getattr(e, k, None) or []) for k in (
        "sources", "include_dirs", "define_macros", "undef_macros",
        "extra_compile_args", "libraries")} | {"name": e.name}
with open(out, "w") as f:
    json.dump({
        "ext_modules": [ext(e) for e in seen.get("ext_modules") or []],
        "packages": list(seen.get("packages") or []),
        "package_dir": dict(seen.get("package_dir") or {}),
        "py_modules": list(seen.get("py_modules") or []),
    }, f)
"""


def log(msg):
    print(f"build-extension: {msg}", file=sys.stderr, flush=True)


def die(msg):
    log(f"error: {msg}")
    sys.exit(1)


def run(cmd, **kw):
    res = subprocess.run(cmd, **kw)
    if res.returncode != 0:
        die(f"command failed ({res.returncode}): {' '.join(map(str, cmd))}")
    return res


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def requirement_line(requirements, name):
    """The pinned line for `name` (normalised as PEP 503 does)."""
    norm = lambda s: re.sub(r"[-_.]+", "-", s).lower()
    for line in open(requirements, encoding="utf-8"):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^([A-Za-z0-9_.-]+)==([^\s;]+)\s", line)
        if m and norm(m.group(1)) == norm(name):
            if "--hash=sha256:" not in line:
                die(f"{name}: the requirement line has no sha256 pin")
            return line, m.group(1), m.group(2)
    die(f"{name} is not pinned in {requirements}")


def ensure_setuptools(root, tools):
    if os.path.exists(os.path.join(tools, "setuptools", "__init__.py")):
        return
    log("installing the pinned setuptools (reads setup.py files)")
    req = os.path.join(root, "scripts", "requirements-extension-tools.txt")
    run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--require-hashes",
         "--target", tools, "-r", req], stdout=sys.stderr)


def download(line, name, version, dl_dir, work, tools):
    """Fetch the sdist for the pinned `line` (pip checks its sha256). pip
    reads the sdist's metadata with a build backend: the pinned setuptools,
    not whatever a build-isolation environment would fetch unpinned."""
    os.makedirs(dl_dir, exist_ok=True)
    req = os.path.join(work, "requirement.txt")
    with open(req, "w", encoding="utf-8") as f:
        f.write(line + "\n")
    env = dict(os.environ, PYTHONPATH=tools)
    run([sys.executable, "-m", "pip", "download", "--quiet", "--no-binary", ":all:", "--no-deps",
         "--no-build-isolation", "--require-hashes", "-r", req, "-d", dl_dir], stdout=sys.stderr, env=env)
    stem = re.sub(r"[-_.]+", "_", name).lower()
    for f in sorted(os.listdir(dl_dir)):
        low = f.lower().replace("-", "_")
        if low.startswith(f"{stem}_{version}".lower()) and f.endswith((".tar.gz", ".zip")):
            return os.path.join(dl_dir, f)
    die(f"pip did not leave an sdist for {name}=={version} in {dl_dir}")


def unpack(sdist, dest):
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(dest)
    if sdist.endswith(".zip"):
        with zipfile.ZipFile(sdist) as z:
            z.extractall(dest)
    else:
        with tarfile.open(sdist) as t:
            if hasattr(tarfile, "data_filter"):
                t.extractall(dest, filter="data")
            else:  # Pythons before the extraction filters: refuse odd members.
                for m in t.getmembers():
                    if m.name.startswith("/") or ".." in m.name.split("/") or not (m.isfile() or m.isdir()):
                        die(f"refusing to unpack suspicious member {m.name!r} of {sdist}")
                t.extractall(dest)
    entries = os.listdir(dest)
    if len(entries) != 1 or not os.path.isdir(os.path.join(dest, entries[0])):
        die(f"unexpected sdist layout in {sdist}")
    return os.path.join(dest, entries[0])


def introspect(src, tools, work):
    if not os.path.exists(os.path.join(src, "setup.py")):
        die("the sdist has no setup.py: only setuptools-style C extensions are supported "
            "(meson/cmake/other build backends are not)")
    out = os.path.join(work, "setup.json")
    env = dict(os.environ, SETUPTOOLS_USE_DISTUTILS="local", REQUIRE_SPEEDUPS="1")
    run([sys.executable, "-c", RECORDER, tools, out], cwd=src, env=env, stdout=sys.stderr)
    with open(out, encoding="utf-8") as f:
        info = json.load(f)
    if not info["ext_modules"]:
        die("setup.py declares no C extension modules")
    return info


def compile_extension(ext, src, include, cpython, obj_dir, out_dir):
    """Compile and link one extension into out_dir; returns the .so path."""
    os.makedirs(obj_dir, exist_ok=True)
    flags = list(WASI_CFLAGS) + [f"-I{include}"]
    for d in ext["include_dirs"]:
        flags.append(f"-I{os.path.join(src, d)}")
    for name, value in ext["define_macros"]:
        flags.append(f"-D{name}" if value is None else f"-D{name}={value}")
    flags += [f"-U{name}" for name in ext["undef_macros"]]
    for flag in ext["extra_compile_args"]:
        if PORTABLE_FLAG.match(flag):
            flags.append(flag)
        else:
            log(f"{ext['name']}: ignoring host compile flag {flag!r}")
    for lib in ext["libraries"]:
        if lib not in ("m", "c"):
            die(f"{ext['name']} links the native library {lib!r}, which has no WASI build here")
    objs, cxx = [], False
    for i, source in enumerate(ext["sources"]):
        path = os.path.join(src, source)
        if source.endswith(C_SUFFIXES):
            cc = "clang-16"
        elif source.endswith(CXX_SUFFIXES):
            cc, cxx = "clang++-16", True
        else:
            die(f"{ext['name']}: unsupported source file {source} (C and C++ only)")
        obj = os.path.join(obj_dir, f"{i}-{os.path.basename(source)}.o")
        run([cc, *flags, "-c", path, "-o", obj], stdout=sys.stderr)
        objs.append(obj)
    parts = ext["name"].split(".")
    so = os.path.join(out_dir, *parts[:-1], parts[-1] + EXT_SUFFIX)
    os.makedirs(os.path.dirname(so), exist_ok=True)
    libs = [os.path.join(cpython, "libpython3.14.so"), os.path.join(cpython, "libc.so")]
    if cxx:
        libs += [os.path.join(cpython, "libc++.so"), os.path.join(cpython, "libc++abi.so")]
    run(["wasm-ld-16", "-shared", "--experimental-pic", "-o", so, *objs, *libs], stdout=sys.stderr)
    return so


def package_dirs(info, src):
    """(package name, source dir, recursive) for every Python package to ship."""
    pdir = info["package_dir"]

    def where(pkg):
        if pkg in pdir:
            return os.path.join(src, pdir[pkg])
        parts = pkg.split(".")
        for i in range(len(parts) - 1, 0, -1):
            parent = ".".join(parts[:i])
            if parent in pdir:
                return os.path.join(src, pdir[parent], *parts[i:])
        return os.path.join(src, pdir.get("", ""), *parts)

    if info["packages"]:
        return [(p, where(p), False) for p in info["packages"]]
    # Packages configured in pyproject.toml/setup.cfg: ship the whole tree of
    # each extension's top-level package (src/ layout or flat layout).
    found = []
    for top in sorted({e["name"].split(".")[0] for e in info["ext_modules"] if "." in e["name"]}):
        for cand in (os.path.join(src, "src", top), os.path.join(src, top)):
            if os.path.exists(os.path.join(cand, "__init__.py")):
                found.append((top, cand, True))
                break
        else:
            die(f"cannot find the Python package {top!r} in the sdist")
    return found


def copy_python(info, src, out_dir):
    for pkg, pdir, recursive in package_dirs(info, src):
        dest = os.path.join(out_dir, *pkg.split("."))
        for base, dirs, files in os.walk(pdir):
            dirs[:] = [d for d in dirs if d != "__pycache__"] if recursive else []
            rel = os.path.relpath(base, pdir)
            for f in files:
                if f.endswith(SKIP_SUFFIXES) or f.endswith(".pyc"):
                    continue
                os.makedirs(os.path.join(dest, rel), exist_ok=True)
                shutil.copy2(os.path.join(base, f), os.path.join(dest, rel, f))
    for mod in info["py_modules"]:
        shutil.copy2(os.path.join(src, info["package_dir"].get("", ""), mod + ".py"), out_dir)


def write_dist_info(src, name, version, out_dir):
    info = os.path.join(out_dir, f"{re.sub(r'[-_.]+', '_', name)}-{version}.dist-info")
    os.makedirs(info, exist_ok=True)
    shutil.copy2(os.path.join(src, "PKG-INFO"), os.path.join(info, "METADATA"))
    with open(os.path.join(info, "INSTALLER"), "w", encoding="utf-8") as f:
        f.write("eryx-build-extension\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", required=True, help="repository root")
    ap.add_argument("name", help="package name pinned in scripts/requirements-extensions.txt")
    args = ap.parse_args()
    root = os.path.abspath(args.root)
    deps = os.path.join(root, "target", "eryx-deps")
    include = os.path.join(deps, "include", "python3.14")
    cpython = os.path.join(deps, "cpython")
    if not os.path.exists(os.path.join(include, "Python.h")):
        die("CPython headers missing: run scripts/setup.sh first")
    base = os.path.join(root, "target", "extensions")
    requirements = os.path.join(root, "scripts", "requirements-extensions.txt")
    line, name, version = requirement_line(requirements, args.name)
    key_name = re.sub(r"[-_.]+", "-", name).lower()
    out_dir = os.path.join(base, key_name)
    stamp_path = os.path.join(base, f".{key_name}.stamp")
    stamp = hashlib.sha256()
    for part in (line, " ".join(WASI_CFLAGS), EXT_SUFFIX):
        stamp.update(part.encode() + b"\0")
    for f in (__file__, os.path.join(include, "pyconfig.h"), os.path.join(cpython, "libpython3.14.so")):
        stamp.update(sha256_file(f).encode())
    stamp = stamp.hexdigest()
    if os.path.isdir(out_dir) and os.path.exists(stamp_path):
        if open(stamp_path, encoding="utf-8").read().strip() == stamp:
            print(out_dir)
            return
    work = os.path.join(base, "build", key_name)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    tools = os.path.join(base, "tools")
    ensure_setuptools(root, tools)
    log(f"downloading {name}=={version} (sdist, sha256-pinned)")
    sdist = download(line, name, version, os.path.join(base, "dl"), work, tools)
    src = unpack(sdist, os.path.join(work, "src"))
    info = introspect(src, tools, work)
    staged = out_dir + ".tmp"
    shutil.rmtree(staged, ignore_errors=True)
    os.makedirs(staged)
    copy_python(info, src, staged)
    for ext in info["ext_modules"]:
        so = compile_extension(ext, src, include, cpython, os.path.join(work, "obj", ext["name"]), staged)
        log(f"built {os.path.relpath(so, staged)} ({os.path.getsize(so)} bytes)")
    write_dist_info(src, name, version, staged)
    shutil.rmtree(out_dir, ignore_errors=True)
    os.rename(staged, out_dir)
    with open(stamp_path, "w", encoding="utf-8") as f:
        f.write(stamp + "\n")
    print(out_dir)


if __name__ == "__main__":
    main()
