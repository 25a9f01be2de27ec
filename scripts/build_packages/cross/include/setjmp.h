/* <setjmp.h> for native packages built by scripts/build_packages (the
 * wasi-libc here has none).
 *
 * Compiled by clang 22 with WebAssembly SjLj (cxx_eh.py defines
 * ERYX_WASM_SJLJ): the real thing. LLVM rewrites setjmp() into a call of
 * __wasm_setjmp() and a catch of the `__c_longjmp` tag, and longjmp() into
 * __wasm_longjmp(), which throws it; that runtime (zig's wasi-libc
 * setjmp/wasm32/rt.c) and the tag are linked, hidden, into every module
 * that needs them. jmp_buf is large enough for the runtime's state.
 *
 * Compiled by clang 16 (no exception handling in a form wasmtime runs):
 * setjmp() records nothing and returns 0, so the normal path of a library
 * that sets up an error handler with it runs; a longjmp() — that library's
 * error path — names itself on stderr and aborts, and the host restores the
 * session. Packages whose C needs longjmp set `setjmp = true` in their
 * recipe to get the first kind. */
#ifndef ERYX_SETJMP_H
#define ERYX_SETJMP_H

#ifdef ERYX_WASM_SJLJ

typedef struct { void *__words[8]; } jmp_buf[1];
#ifdef __cplusplus
extern "C" {
#endif
int setjmp(jmp_buf env) __attribute__((returns_twice));
__attribute__((noreturn)) void longjmp(jmp_buf env, int val);
#ifdef __cplusplus
}
#endif

#else

#include <stdio.h>
#include <stdlib.h>

typedef struct { long unused; } jmp_buf[1];

#define setjmp(env) ((void)(env), 0)

static inline __attribute__((noreturn)) void longjmp(jmp_buf env, int val) {
    (void)env;
    (void)val;
    fputs("eryx: a native library took an error path that needs longjmp, which this "
          "WebAssembly build cannot do; the call was aborted\n", stderr);
    abort();
}

#endif

/* The variants that differ only in the signal mask, which WASI has none of. */
typedef jmp_buf sigjmp_buf;
#define _setjmp(env) setjmp(env)
#define sigsetjmp(env, savemask) ((void)(savemask), setjmp(env))
#define _longjmp(env, val) longjmp(env, val)
#define siglongjmp(env, val) longjmp(env, val)
#endif
