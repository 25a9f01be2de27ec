"""C++ exceptions that unwind and C setjmp/longjmp that jump: the compiler,
the flags and the runtime objects for extension modules (both backends use
it).

Why: componentize-py's libc++abi is built without exception support, and
clang 16 cannot emit the exception-handling encoding wasmtime runs, so a C++
`throw` could only abort (pybind11 reports every Python error by throwing).
Zig's distribution (the `ziglang` wheel on PyPI, pinned in
scripts/requirements-zig.txt) carries clang 22, which emits WebAssembly's
standard exception handling (`try_table`/`exnref`, with
`-mllvm -wasm-use-legacy-eh=false`), and LLVM's libc++abi and libunwind
sources. From those we build the C++ exception runtime: libc++abi's
exception machinery (throw, catch, the personality routine, terminate
handlers), libunwind's wasm unwinder, our shims (cross/eh_support.cpp:
exception globals, allocation, `std::exception_ptr`) and the
`__cpp_exception` tag (cross/cpp_exception_tag.S). It is linked into every
C++ module with all its symbols hidden, so nothing of it is imported or
shared: wasmtime-wizer 48 (our pre-initialiser) cannot take a module that
imports a tag, and componentize-py's libc++abi.so/libc++.so keep their
exception-less versions for whoever else calls them. An exception is
thrown and caught inside one module (as pybind11 packages do: each carries
its own pybind11); one that leaves its module is uncaught, a trap.

C++ sources compile with clang 22 against the same Debian libc++ 16
headers as before (the ABI of componentize-py's libc++.so). Modules with
C++ link with Zig's wasm-ld 22.

setjmp/longjmp ride on the same exception handling: with
`-mllvm -wasm-enable-sjlj` LLVM turns setjmp() into a catch of the
`__c_longjmp` tag and longjmp() into a throw of it; the runtime of those
calls is wasi-libc's setjmp/wasm32/rt.c from the same zig distribution,
linked hidden with a hidden tag (cross/c_longjmp_tag.S) into every module
that may jump (C++ modules, and the modules of recipes with `setjmp =
true`, whose C compiles with clang 22: `c_command`). The C libraries of
clibs.py (libpng, FreeType, libjpeg, Qhull, all of which longjmp on error
paths) always compile that way. Other C stays on clang 16.
"""
import hashlib
import os
import re
import shutil
import zipfile

from fetch import sha256_file
from steps import StepFailed

HERE = os.path.dirname(os.path.abspath(__file__))
CROSS = os.path.join(HERE, "cross")
ROOT = os.path.dirname(os.path.dirname(HERE))
ZIG_REQ = os.path.join(ROOT, "scripts", "requirements-zig.txt")

# Bumped when the library changes in a way its sources do not show.
RUNTIME_VERSION = "2"
RUNTIME_SO = "libc++eh.so"

# What clang 22 needs to compile for the sandbox: WebAssembly exception
# handling in the standard encoding, PIC, and default visibility (clang's
# WebAssembly driver hides symbols by default; clang 16's Emscripten-triple
# builds did not).
EH_FLAGS = ["--target=wasm32-wasip1", "-fPIC", "-fvisibility=default", "-fwasm-exceptions",
            "-mllvm", "-wasm-use-legacy-eh=false"]
# setjmp/longjmp as exceptions (cross/include/setjmp.h declares the real
# functions when ERYX_WASM_SJLJ is defined); for C and C++ alike.
SJLJ_FLAGS = ["-mllvm", "-wasm-enable-sjlj", "-DERYX_WASM_SJLJ=1"]
# C: the same target and encoding; -mexception-handling is -fwasm-exceptions' C half.
C_FLAGS = ["--target=wasm32-wasip1", "-fPIC", "-fvisibility=default", "-mexception-handling",
           "-mllvm", "-wasm-use-legacy-eh=false", *SJLJ_FLAGS]
SJLJ_RT = os.path.join("libc", "wasi", "libc-top-half", "musl", "src", "setjmp", "wasm32", "rt.c")

# libc++abi's files that make up exception support (the rest, type_info,
# demangler, guards, new/delete, stays in componentize-py's libc++abi.so).
ABI_SOURCES = ["cxa_exception.cpp", "cxa_personality.cpp", "cxa_handlers.cpp",
               "cxa_default_handlers.cpp", "abort_message.cpp"]


def zig(cache, log):
    """(zig executable, zig's lib directory), installed once from the pinned wheel."""
    d = os.path.join(cache, "zig", sha256_file(ZIG_REQ)[:16])
    if not os.path.exists(os.path.join(d, ".done")):
        log.say("fetching clang 22 (the pinned ziglang wheel, ~100 MB, once)")
        shutil.rmtree(d, ignore_errors=True)
        dl = d + ".dl"
        shutil.rmtree(dl, ignore_errors=True)
        log.run("download ziglang", ["python3", "-m", "pip", "download", "--quiet", "--no-deps",
                                     "--only-binary", ":all:", "--require-hashes", "-r", ZIG_REQ, "-d", dl])
        wheels = [f for f in os.listdir(dl) if f.endswith(".whl")]
        if len(wheels) != 1:
            raise StepFailed(f"step 'download ziglang': expected one wheel, got {wheels}")
        with zipfile.ZipFile(os.path.join(dl, wheels[0])) as z:
            z.extractall(d)
        os.chmod(os.path.join(d, "ziglang", "zig"), 0o755)
        shutil.rmtree(dl)
        open(os.path.join(d, ".done"), "w").close()
    return os.path.join(d, "ziglang", "zig"), os.path.join(d, "ziglang", "lib")


def fingerprint(cache, log):
    """What of the C++ toolchain changes a build: the pinned zig, our sources here."""
    h = hashlib.sha256(sha256_file(ZIG_REQ).encode())
    for f in sorted(os.listdir(CROSS)):
        if f.startswith(("eh_support", "cpp_exception_tag", "c_longjmp_tag")):
            h.update(sha256_file(os.path.join(CROSS, f)).encode())
    h.update(sha256_file(os.path.join(CROSS, "include", "setjmp.h")).encode())
    h.update(" ".join(EH_FLAGS + C_FLAGS + ABI_SOURCES + [RUNTIME_VERSION]).encode())
    return h.hexdigest()


def cxx_command(cache, log, libcxx_include, shim):
    """The C++ compiler command (before the sources' own flags): clang 22
    with exceptions, Debian's libc++ 16 headers, clang 22's builtin headers,
    our cross headers and WASI's libc headers."""
    exe, lib = zig(cache, log)
    return [exe, "clang", "--driver-mode=g++", *EH_FLAGS, *SJLJ_FLAGS, "-nostdlibinc",
            "-isystem", shim, "-isystem", libcxx_include, "-isystem", os.path.join(lib, "include"),
            "-isystem", os.path.join(CROSS, "include"), "-isystem", "/usr/include/wasm32-wasi",
            "-O2", "-DNDEBUG", "-Drestrict=__restrict"]


def c_command(cache, log):
    """The C compiler command for C that may longjmp (before the sources'
    own flags): clang 22 with WebAssembly SjLj, our cross headers first."""
    exe, lib = zig(cache, log)
    return [exe, "clang", *C_FLAGS, "-nostdlibinc", "-isystem", os.path.join(CROSS, "include"),
            "-isystem", os.path.join(lib, "include"), "-isystem", "/usr/include/wasm32-wasi",
            "-O2", "-DNDEBUG",
            # A call through a wrong prototype is a trap at run time in wasm: refuse it at build time.
            "-Werror=implicit-function-declaration"]


def c_compiler_script(cache, log):
    """A one-word C compiler (a script running zig's clang) for cc-rs, which
    takes CC as one program; returns (script, flags)."""
    exe, _ = zig(cache, log)
    script = os.path.join(os.path.dirname(exe), "eryx-cc")
    if not os.path.exists(script):
        with open(script + ".tmp", "w") as f:
            f.write(f'#!/bin/sh\nexec "{exe}" clang "$@"\n')
        os.chmod(script + ".tmp", 0o755)
        os.replace(script + ".tmp", script)
    return script, c_command(cache, log)[2:]


def sjlj_runtime(cache, log):
    """setjmp/longjmp's runtime objects (wasi-libc's rt.c and the hidden
    `__c_longjmp` tag), built once per fingerprint."""
    d = os.path.join(cache, "sjlj-runtime", fingerprint(cache, log)[:16])
    objs = [os.path.join(d, "rt.o"), os.path.join(d, "c_longjmp_tag.o")]
    if os.path.exists(os.path.join(d, ".done")):
        return objs
    exe, lib = zig(cache, log)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    log.run("compile wasi-libc setjmp/wasm32/rt.c",
            [exe, "clang", *C_FLAGS, "-fvisibility=hidden", "-O2", "-nostdlibinc",
             "-isystem", os.path.join(lib, "include"), "-isystem", "/usr/include/wasm32-wasi",
             "-c", os.path.join(lib, SJLJ_RT), "-o", objs[0]])
    log.run("assemble c_longjmp_tag.S",
            [exe, "clang", "--target=wasm32-wasip1", "-c", os.path.join(CROSS, "c_longjmp_tag.S"),
             "-o", objs[1]])
    open(os.path.join(d, ".done"), "w").close()
    return objs


def pybind11_module_flag(module):
    """The define that gives one extension module pybind11 internals of its
    own. pybind11 modules built alike share one set (a capsule keyed by this
    id) and with it their exception translators; one module's translator
    then rethrows another module's exception under its own tag, which the
    other module's `catch` cannot see (each module has its own tag, above),
    and the exception escapes as a trap. Separate internals keep every
    exception inside the module that threw it; what is lost is passing one
    module's pybind11 classes to another module's functions."""
    return f'-DPYBIND11_COMPILER_TYPE="_eryx_{re.sub(r"[^A-Za-z0-9_]", "_", module)}"'


def linker(cache, log):
    """wasm-ld 22 (objects with exception handling need it)."""
    exe, _ = zig(cache, log)
    return [exe, "wasm-ld"]


def runtime(cache, log, libcxx_include):
    """The C++ exception runtime's object files (linked into every C++
    module, all symbols hidden), built once per fingerprint, with
    setjmp/longjmp's (sjlj_runtime)."""
    key = fingerprint(cache, log)[:16]
    d = os.path.join(cache, "cxx-runtime", key)
    objs = [os.path.join(d, n + ".o") for n in ABI_SOURCES + ["eh_support.cpp", "Unwind-wasm.c",
                                                              "cpp_exception_tag.S"]]
    if os.path.exists(os.path.join(d, ".done")):
        return objs + sjlj_runtime(cache, log)
    exe, lib = zig(cache, log)
    log.say("building the C++ exception runtime (libc++abi's exception code, libunwind's wasm unwinder)")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    common = [exe, "clang", *EH_FLAGS, "-fvisibility=hidden", "-nostdlibinc", "-O2", "-DNDEBUG",
              "-isystem", libcxx_include, "-isystem", os.path.join(lib, "include"),
              "-isystem", "/usr/include/wasm32-wasi"]
    # libc++abi's sources with libc++ 16's headers: no threads, the
    # pre-C++17 unexpected-handler API they still declare, no exports.
    abi = [*common, "--driver-mode=g++", "-std=c++20", "-D_LIBCXXABI_BUILDING_LIBRARY",
           "-D_LIBCXXABI_HAS_NO_THREADS", "-D_LIBCXXABI_DISABLE_VISIBILITY_ANNOTATIONS",
           # Hidden definitions of what libc++'s headers declare visible
           # (std::terminate, std::exception_ptr, ...): otherwise wasm-ld
           # makes them preemptible and the sandbox's linker binds the
           # module's calls to libc++.so's exception-less versions.
           "-D_LIBCPP_DISABLE_VISIBILITY_ANNOTATIONS",
           "-D_LIBCPP_ENABLE_CXX17_REMOVED_UNEXPECTED_FUNCTIONS",
           "-I", os.path.join(lib, "libcxxabi", "include"), "-I", os.path.join(lib, "libcxx", "src")]
    sources = [os.path.join(lib, "libcxxabi", "src", n) for n in ABI_SOURCES]
    for src, o in zip(sources + [os.path.join(CROSS, "eh_support.cpp")], objs):
        log.run(f"compile {os.path.basename(src)}", [*abi, "-c", src, "-o", o])
    log.run("compile libunwind Unwind-wasm.c",
            [*common, "-std=c11", "-D_LIBUNWIND_HIDE_SYMBOLS", "-I", os.path.join(lib, "libunwind", "include"),
             "-c", os.path.join(lib, "libunwind", "src", "Unwind-wasm.c"), "-o", objs[-2]])
    log.run("assemble cpp_exception_tag.S",
            [exe, "clang", "--target=wasm32-wasip1", "-c", os.path.join(CROSS, "cpp_exception_tag.S"),
             "-o", objs[-1]])
    open(os.path.join(d, ".done"), "w").close()
    return objs + sjlj_runtime(cache, log)
