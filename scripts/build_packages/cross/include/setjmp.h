/* <setjmp.h> for native packages built by scripts/build_packages: the
 * wasi-libc here has none, and wasm can only unwind with the exception-
 * handling proposal, which clang 16 cannot emit in the form wasmtime runs.
 * setjmp() therefore records nothing and returns 0, so the normal path of a
 * library that sets up an error handler with it (libjpeg through Pillow)
 * runs; a longjmp() — that library's error path — names itself on stderr
 * and aborts, and the host restores the session. */
#ifndef ERYX_SETJMP_H
#define ERYX_SETJMP_H
#include <stdio.h>
#include <stdlib.h>

typedef struct { long unused; } jmp_buf[1];
typedef jmp_buf sigjmp_buf;

#define setjmp(env) ((void)(env), 0)
#define _setjmp(env) setjmp(env)
#define sigsetjmp(env, savemask) ((void)(savemask), setjmp(env))

static inline __attribute__((noreturn)) void longjmp(jmp_buf env, int val) {
    (void)env;
    (void)val;
    fputs("eryx: a native library took an error path that needs longjmp, which this "
          "WebAssembly build cannot do; the call was aborted\n", stderr);
    abort();
}
#define _longjmp(env, val) longjmp(env, val)
#define siglongjmp(env, val) longjmp(env, val)
#endif
