#!/usr/bin/env python3
"""C/C++ compiler + linker wrapper for meson cross builds (backend `meson`,
mesonbuild.py): `wasicc.py cc ARGS...` or `wasicc.py c++ ARGS...`, called
through the small wcc/wcxx shell wrappers the backend writes. Why a wrapper:
- C: LLVM 16 only emits position-independent wasm for the Emscripten
  triple, so compile with that triple but WASI's headers and macros (the
  same trick as build.rs and toolchain.py);
- C++: clang 22 with exceptions (cxx_eh.py), on Debian's wasm32 libc++ 16
  headers (ABI namespace __2, no threads) plus our thread-less shims
  (cross/shim/);
- clang has no wasm32 shared-library link driver for this setup, so link
  steps go straight to `wasm-ld -shared --experimental-pic` (wasm-ld 22 when
  there is C++) against componentize-py's libpython3.14.so / libc.so /
  libc++.so / libc++abi.so (what the eryx component provides at run time),
  plus our stubs and, for C++, the exception runtime's objects;
- meson's sanity checks link small executables: those are linked as plain
  static WASI commands with the system wasi-libc.
Configuration comes from the environment (set by the wcc/wcxx wrappers):
ERYX_CPYTHON (componentize-py's CPython artefacts), ERYX_LIBCXX (root of the
extracted libc++ debs), ERYX_STUBS (dir with wasi_stubs.o, cxa_stubs.o and
cxx_abi.o), and as JSON lists ERYX_CXX (the C++ compiler command),
ERYX_CXX_LD (its linker), ERYX_EH_OBJECTS (the exception runtime), and for
a recipe with `setjmp = true` ERYX_CC (clang 22 with WebAssembly SjLj, for C)
and ERYX_SJLJ_OBJECTS (its runtime; such C links with wasm-ld 22 too).
"""
import json
import os
import re
import subprocess
import sys
import tempfile

BUILTINS = "/usr/lib/llvm-16/lib/clang/16/lib/wasi/libclang_rt.builtins-wasm32.a"

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cxx_eh import pybind11_module_flag as cxx_eh_flag  # noqa: E402

mode, args = sys.argv[1], sys.argv[2:]
cxx = mode == "c++"
env = os.environ
sjlj = not cxx and "ERYX_CC" in env
cpython, libcxx, stubs = env["ERYX_CPYTHON"], env["ERYX_LIBCXX"], env["ERYX_STUBS"]
if cxx:
    # clang 22 with exceptions (cxx_eh.py's command, handed over as JSON).
    clang, *base = json.loads(env["ERYX_CXX"])
    base.append("-D_GNU_SOURCE")
elif sjlj:
    clang, *base = json.loads(env["ERYX_CC"])
    base.append("-D_GNU_SOURCE")
else:
    clang = "clang-16"
    base = ["--target=wasm32-wasi", "-nostdlibinc",
            "-isystem", os.path.join(os.path.dirname(os.path.abspath(__file__)), "cross", "include"),
            "-isystem", "/usr/include/wasm32-wasi", "--target=wasm32-unknown-emscripten",
            "-U__EMSCRIPTEN__", "-D__wasi__", "-D_GNU_SOURCE", "-fPIC",
            # A call through a wrong prototype is a trap at run time in wasm: refuse it at build time.
            "-Werror=implicit-function-declaration"]

SRC = (".c", ".cpp", ".cc")
compiling = any(a in ("-c", "-E", "-S", "-M", "-MM", "--version", "-v", "-dumpversion", "-print-search-dirs")
                or a.startswith("-print") or a.startswith("-Wl,--version") for a in args)
if (cxx or sjlj) and "-Wl,--version" in args:
    # meson's linker detection: the link steps are ours (below); name the
    # same lld as the C compiler's.
    os.execvp("clang-16", ["clang-16", "--target=wasm32-wasi"] + args)
if cxx and "-c" in args and "-o" in args:
    # meson puts a target's objects in `<target>.so.p/`: one pybind11
    # internals id per extension module (cxx_eh.pybind11_module_flag).
    m = re.search(r"([^/]+)\.so\.p/", args[args.index("-o") + 1])
    if m:
        base.append(cxx_eh_flag(m.group(1)))
if compiling or not any(a.endswith((".o", ".a", ".so", ".obj") + SRC) for a in args):
    os.execvp(clang, [clang] + base + args)

# Link mode: compile any sources first (meson's link checks pass .c files).
shared = "-shared" in args
objs, rest, out = [], [], "a.out"
tmp = tempfile.mkdtemp()
cflags = [a for a in args if a.startswith(("-D", "-I", "-std", "-O", "-W", "-f"))]
for n, s in enumerate(a for a in args if a.endswith(SRC)):
    o = os.path.join(tmp, f"{n}.o")
    r = subprocess.run([clang] + base + cflags + ["-c", s, "-o", o])
    if r.returncode:
        sys.exit(r.returncode)
    objs.append(o)
i = 0
while i < len(args):
    a = args[i]
    if a == "-o":
        out = args[i + 1]
        i += 2
        continue
    if a.endswith((".o", ".obj", ".a")) or (a.endswith(".so") and os.path.exists(a)):
        objs.append(a)
    elif a.startswith("-Wl,"):
        for p in a[4:].split(","):
            if p in ("--as-needed", "--no-as-needed", "--allow-shlib-undefined", "--no-undefined",
                     "--start-group", "--end-group") or p.startswith(("-soname", "-rpath", "--version-script")):
                continue
            rest.append(p)
    elif a.startswith(("-l", "-L")):
        rest.append(a)
    i += 1
if shared:
    libs = [stubs + "/wasi_stubs.o", BUILTINS, cpython + "/libpython3.14.so", cpython + "/libc.so"]
    if cxx:
        libs += [stubs + "/cxa_stubs.o", stubs + "/cxx_abi.o", *json.loads(env["ERYX_EH_OBJECTS"]),
                 cpython + "/libc++.so", cpython + "/libc++abi.so"]
    elif sjlj:
        libs += json.loads(env["ERYX_SJLJ_OBJECTS"])
    # libm/libc/libc++ are the component's libraries (given below); libdl is
    # the component's built-in one; the thread and realtime libs are libc's.
    rest = [r for r in rest if r not in ("-lm", "-lc", "-lstdc++", "-lc++", "-ldl", "-lpthread", "-lrt")]
    # wasm-ld 22 no longer imports unresolved symbols by default in -shared
    # links as wasm-ld 16 did (e.g. `clock`, from a library of the sandbox).
    ld = json.loads(env["ERYX_CXX_LD"]) + ["--unresolved-symbols=import-dynamic"] if cxx or sjlj else ["wasm-ld-16"]
    cmd = ld + ["-shared", "--experimental-pic", "-o", out] + objs + rest + libs
else:
    cmd = ["wasm-ld-16", "-o", out, "/usr/lib/wasm32-wasi/crt1-command.o"] + objs + rest
    if cxx:
        cmd = json.loads(env["ERYX_CXX_LD"]) + cmd[1:] + ["-L" + libcxx + "/usr/lib/wasm32-wasi", "-lc++", "-lc++abi"]
    elif sjlj:
        cmd = json.loads(env["ERYX_CXX_LD"]) + cmd[1:] + json.loads(env["ERYX_SJLJ_OBJECTS"])
    cmd += ["-L/usr/lib/wasm32-wasi", "-lc", BUILTINS]
sys.exit(subprocess.run(cmd).returncode)
