#!/usr/bin/env python3
"""C/C++ compiler + linker wrapper for meson cross builds (backend `meson`,
mesonbuild.py): `wasicc.py cc ARGS...` or `wasicc.py c++ ARGS...`, called
through the small wcc/wcxx shell wrappers the backend writes. Why a wrapper:
- LLVM 16 only emits position-independent wasm for the Emscripten triple, so
  compile with that triple but WASI's headers and macros (the same trick as
  build.rs and toolchain.py);
- C++ needs Debian's wasm32 libc++ 16 headers (ABI namespace __2, no
  threads) plus our no-op <mutex>/<shared_mutex> shim (cross/shim/);
- clang has no wasm32 shared-library link driver for this setup, so link
  steps go straight to `wasm-ld-16 -shared --experimental-pic` against
  componentize-py's libpython3.14.so / libc.so / libc++.so / libc++abi.so
  (what the eryx component provides at run time), plus our stubs;
- meson's sanity checks link small executables: those are linked as plain
  static WASI commands with the system wasi-libc.
Configuration comes from the environment (set by the wcc/wcxx wrappers):
ERYX_CPYTHON (componentize-py's CPython artefacts), ERYX_LIBCXX (root of the
extracted libc++ debs), ERYX_SHIM (shim headers), ERYX_STUBS (dir with
wasi_stubs.o and cxa_stubs.o).
"""
import os
import subprocess
import sys
import tempfile

BUILTINS = "/usr/lib/llvm-16/lib/clang/16/lib/wasi/libclang_rt.builtins-wasm32.a"

mode, args = sys.argv[1], sys.argv[2:]
cxx = mode == "c++"
env = os.environ
cpython, libcxx = env["ERYX_CPYTHON"], env["ERYX_LIBCXX"]
shim, stubs = env["ERYX_SHIM"], env["ERYX_STUBS"]
clang = "clang++-16" if cxx else "clang-16"

base = ["--target=wasm32-wasi", "-nostdlibinc"]
if cxx:
    base += ["-isystem", shim, "-isystem", libcxx + "/usr/lib/llvm-16/include/wasm32-wasi/c++/v1",
             "-fexceptions", "-Drestrict=__restrict"]
base += ["-isystem", os.path.join(os.path.dirname(os.path.abspath(__file__)), "cross", "include"),
         "-isystem", "/usr/include/wasm32-wasi", "--target=wasm32-unknown-emscripten",
         "-U__EMSCRIPTEN__", "-D__wasi__", "-D_GNU_SOURCE", "-fPIC"]
if not cxx:
    # A call through a wrong prototype is a trap at run time in wasm: refuse it at build time.
    base.append("-Werror=implicit-function-declaration")

SRC = (".c", ".cpp", ".cc")
compiling = any(a in ("-c", "-E", "-S", "-M", "-MM", "--version", "-v", "-dumpversion", "-print-search-dirs")
                or a.startswith("-print") or a.startswith("-Wl,--version") for a in args)
if compiling or not any(a.endswith((".o", ".a", ".so", ".obj") + SRC) for a in args):
    os.execvp(clang, ["clang"] + base + args)

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
        libs += [stubs + "/cxa_stubs.o", stubs + "/cxx_abi.o", cpython + "/libc++.so", cpython + "/libc++abi.so"]
    # libm/libc/libc++ are the component's libraries (given below); libdl is
    # the component's built-in one; the thread and realtime libs are libc's.
    rest = [r for r in rest if r not in ("-lm", "-lc", "-lstdc++", "-lc++", "-ldl", "-lpthread", "-lrt")]
    cmd = ["wasm-ld-16", "-shared", "--experimental-pic", "-o", out] + objs + rest + libs
else:
    cmd = ["wasm-ld-16", "-o", out, "/usr/lib/wasm32-wasi/crt1-command.o"] + objs + rest
    if cxx:
        cmd += ["-L" + libcxx + "/usr/lib/wasm32-wasi", "-lc++", "-lc++abi"]
    cmd += ["-L/usr/lib/wasm32-wasi", "-lc", BUILTINS]
sys.exit(subprocess.run(cmd).returncode)
