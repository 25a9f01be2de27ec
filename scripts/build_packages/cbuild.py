"""Backend `setuptools-c`: C extensions declared in an sdist's setup.py.

The sdist's setup.py runs with setup() replaced by a recorder
(setup_recorder.py, in a child process with the pinned setuptools) to learn
its Extension list and Python packages; every extension's C sources are
compiled as PIC wasm32 (C with clang-16, or clang 22 with SjLj for a recipe
with `setjmp = true`; C++ with clang 22 and exceptions: cxx_eh.py) and linked with wasm-ld into `<module>.cpython-314-wasm32-wasi.so`;
the Python files are copied next to them.
"""

import json
import os
import re
import shutil
import tomllib

import clibs
import cxx_eh
import mesonbuild
from steps import StepFailed
from toolchain import EXT_SUFFIX, WASI_CFLAGS

C_SUFFIXES = (".c",)
CXX_SUFFIXES = (".cc", ".cpp", ".cxx")
# Files that are build inputs, not part of the installed package.
SKIP_SUFFIXES = (".c", ".h", ".cc", ".cpp", ".cxx", ".hpp", ".pyx", ".pxd", ".o", ".so", ".pyd",
                 ".dylib", ".pyc")
# Host flags from extra_compile_args that make sense for wasm too.
PORTABLE_FLAG = re.compile(r"^(-std=.*|-D.*|-U.*|-W.*|-f(no-)?strict-aliasing|-O[0-3s])$")
RECORDER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "setup_recorder.py")
CROSS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cross")


def introspect(src, tools, work, log):
    if not os.path.exists(os.path.join(src, "setup.py")):
        raise StepFailed("step 'read setup.py': the sdist has no setup.py (backend setuptools-c "
                         "needs one; meson/cmake sdists need another backend)")
    out = os.path.join(work, "setup.json")
    env = dict(os.environ, SETUPTOOLS_USE_DISTUTILS="local", REQUIRE_SPEEDUPS="1")
    log.run("read setup.py", ["python3", RECORDER, tools, out], cwd=src, env=env)
    with open(out, encoding="utf-8") as f:
        info = json.load(f)
    if not info["ext_modules"]:
        raise StepFailed("step 'read setup.py': setup.py declares no C extension modules")
    return info


def compile_objects(ext, src, tc, extra, obj_dir, log, include=(), cxx_cmd=(), c_cmd=()):
    """Compile one extension's (or build_clib library's) sources; returns
    (object paths, whether any is C++). cxx_cmd: the C++ compiler command
    (clang 22 with exceptions and libc++'s headers, from cxx_support);
    c_cmd: the C compiler command if not clang 16's (cxx_eh.c_command)."""
    os.makedirs(obj_dir, exist_ok=True)
    flags = [f"-I{tc.include}"] + [f"-I{d}" for d in include] + list(extra)
    flags += [f"-I{os.path.join(src, d)}" for d in ext["include_dirs"]]
    for name, value in ext["define_macros"]:
        flags.append(f"-D{name}" if value is None else f"-D{name}={value}")
    flags += [f"-U{name}" for name in ext["undef_macros"]]
    for flag in ext["extra_compile_args"]:
        if PORTABLE_FLAG.match(flag):
            flags.append(flag)
        else:
            log.note(f"{ext['name']}: ignoring host compile flag {flag!r}")
    for lib in ext["libraries"]:
        if lib not in ("m", "c"):
            raise StepFailed(f"step 'link {ext['name']}': needs the native library {lib!r}, "
                             "which has no WASI build here")
    objs, cxx = [], False
    for i, source in enumerate(ext["sources"]):
        if source.endswith(C_SUFFIXES):
            cc = list(c_cmd) or ["clang-16", *WASI_CFLAGS]
        elif source.endswith(CXX_SUFFIXES):
            cc, cxx = [*cxx_cmd, cxx_eh.pybind11_module_flag(ext["name"])], True
            if not cxx_cmd:
                raise StepFailed(f"step 'compile {source}': C++ without a C++ compiler (internal)")
        else:
            raise StepFailed(f"step 'compile {source}': unsupported source type (C and C++ only)")
        obj = os.path.join(obj_dir, f"{i}-{os.path.basename(source)}.o")
        log.run(f"compile {source}", [*cc, *flags, "-c", os.path.join(src, source), "-o", obj])
        objs.append(obj)
    return objs, cxx


def cxx_support(work, cache, log, tc):
    """(compile command, link objects) for C++ sources:
    clang 22 with exceptions (cxx_eh.py) on Debian's wasm32 libc++ headers
    and our thread-less shims (as the meson backend uses), and the C++
    objects every module links (cross/cxa_stubs.c, cross/cxx_abi.cpp, the
    exception runtime)."""
    headers = os.path.join(mesonbuild.libcxx(cache, log), "usr/lib/llvm-16/include/wasm32-wasi/c++/v1")
    cmd = cxx_eh.cxx_command(cache, log, headers, os.path.join(CROSS, "shim"))
    stub, abi = os.path.join(work, "cxa_stubs.o"), os.path.join(work, "cxx_abi.o")
    log.run("compile cxa_stubs.c", ["clang-16", *WASI_CFLAGS, "-c", os.path.join(CROSS, "cxa_stubs.c"), "-o", stub])
    log.run("compile cxx_abi.cpp", [*cmd, "-std=c++17", "-Wno-deprecated-declarations",
                                    "-c", os.path.join(CROSS, "cxx_abi.cpp"), "-o", abi])
    return cmd, [stub, abi] + cxx_eh.runtime(cache, log, headers)


def compile_extension(ext, src, tc, extra, obj_dir, out_dir, log, clib=((), ()), cxx=None, cache=None,
                      sjlj=None):
    """Compile and link one extension into out_dir; returns the .so path.
    clib: (static archives and objects to link, include dirs) from clibs.build;
    cxx: (compile command, link objects) from cxx_support, for C++ sources
    (linked with wasm-ld 22); sjlj: (C compile command, link objects) for C
    that may longjmp (linked with wasm-ld 22 too)."""
    archives, include = clib
    objs, is_cxx = compile_objects(ext, src, tc, extra, obj_dir, log, include, cxx[0] if cxx else (),
                                   sjlj[0] if sjlj else ())
    ld, libs = ["wasm-ld-16"], tc.libs(is_cxx)
    if is_cxx or sjlj:
        # The C++ runtime carries the SjLj runtime too.
        objs += cxx[1] if is_cxx else sjlj[1]
        # As wasm-ld 16 did in -shared links (wasm-ld 22 reports them).
        ld = cxx_eh.linker(cache, log) + ["--unresolved-symbols=import-dynamic"]
    parts = ext["name"].split(".")
    so = os.path.join(out_dir, *parts[:-1], parts[-1] + EXT_SUFFIX)
    os.makedirs(os.path.dirname(so), exist_ok=True)
    log.run(f"link {ext['name']}", [*ld, "-shared", "--experimental-pic", "-o", so, *objs, *archives, *libs])
    return so


def find_where(src):
    """pyproject.toml's [tool.setuptools.packages.find] `where` directories."""
    path = os.path.join(src, "pyproject.toml")
    if not os.path.exists(path):
        return []
    with open(path, "rb") as f:
        tool = tomllib.load(f).get("tool", {}).get("setuptools", {})
    found = tool.get("packages", {})
    return list(found.get("find", {}).get("where", [])) if isinstance(found, dict) else []


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
        for cand in [os.path.join(src, w, top) for w in find_where(src)] + [
                os.path.join(src, "src", top), os.path.join(src, top)]:
            if os.path.exists(os.path.join(cand, "__init__.py")):
                found.append((top, cand, True))
                break
        else:
            raise StepFailed(f"step 'copy Python files': no Python package {top!r} in the sdist")
    return found


def copy_tree(pdir, dest, recursive=True, skip=SKIP_SUFFIXES):
    """Copy a package's files (not build inputs, not caches) from pdir to dest."""
    for base, dirs, files in os.walk(pdir):
        dirs[:] = [d for d in dirs if d != "__pycache__"] if recursive else []
        rel = os.path.relpath(base, pdir)
        for f in files:
            if f.endswith(skip):
                continue
            os.makedirs(os.path.join(dest, rel), exist_ok=True)
            shutil.copy2(os.path.join(base, f), os.path.join(dest, rel, f))


def build(r, src, tc, tools, work, staged, log, cache, deps=()):
    """Build the recipe's extensions and Python files into `staged`."""
    info = introspect(src, tools, work, log)
    for pkg, pdir, recursive in package_dirs(info, src):
        copy_tree(pdir, os.path.join(staged, *pkg.split(".")), recursive)
    for mod in info["py_modules"]:
        shutil.copy2(os.path.join(src, info["package_dir"].get("", ""), mod + ".py"), staged)
    opts = r.get("setuptools", {})
    exts = info["ext_modules"]
    if "extensions" in opts:
        unknown = set(opts["extensions"]) - {e["name"] for e in exts}
        if unknown:
            raise StepFailed(f"recipe: [setuptools] extensions {sorted(unknown)} are not in setup.py")
        exts = [e for e in exts if e["name"] in opts["extensions"]]
    archives, include = clibs.build(r["c-libraries"], cache, log)
    # The C libraries are built to longjmp (clibs.py): their modules link the SjLj runtime.
    sjlj = (cxx_eh.c_command(cache, log), cxx_eh.sjlj_runtime(cache, log)) if (
        r["setjmp"] or r["c-libraries"]) else None
    # setup(libraries=...) (build_clib): compiled once, linked into every extension.
    for name, lib in info.get("libraries", []):
        spec = {"name": name, "sources": lib["sources"], "include_dirs": lib["include_dirs"],
                "define_macros": lib["macros"], "undef_macros": [], "extra_compile_args": [],
                "libraries": []}
        archives = compile_objects(spec, src, tc, r["cflags"], os.path.join(work, "obj", name), log,
                                   include, c_cmd=sjlj[0] if sjlj else ())[0] + archives
    stub = os.path.join(work, "wasi_stubs.o")
    log.run("compile wasi_stubs.c", ["clang-16", *WASI_CFLAGS, "-fno-builtin", "-c",
                                     os.path.join(CROSS, "wasi_stubs.c"), "-o", stub])
    clib = (archives + [stub], include)
    cxx = cxx_support(work, cache, log, tc) if any(
        f.endswith(CXX_SUFFIXES) for e in exts for f in e["sources"]) else None
    # Headers of build tools that a setup.py's own build_ext would add (cppy).
    tool_includes = [f"-I{os.path.join(tools, p)}" for p in opts.get("tool-includes", [])]
    for ext in exts:
        defines = tool_includes + [f"-D{d}" for d in opts.get("defines", {}).get(ext["name"], [])]
        so = compile_extension(ext, src, tc, r["cflags"] + defines, os.path.join(work, "obj", ext["name"]),
                               staged, log, clib, cxx, cache, sjlj)
        log.say(f"built {os.path.relpath(so, staged)} ({os.path.getsize(so)} bytes)")
