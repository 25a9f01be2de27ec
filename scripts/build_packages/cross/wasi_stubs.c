/* Linked into every extension module the pipeline builds: libc symbols
 * that clang emits calls to but componentize-py's wasi-libc libc.so does not
 * export. With the Emscripten triple (toolchain.py) LLVM turns printf-family
 * calls without floating-point conversions into newlib's integer-only
 * iprintf/fiprintf/siprintf. Hidden, so each module keeps its own copy;
 * compiled with -fno-builtin so these v*printf calls are not turned back. */
#include <stdarg.h>
#include <stdio.h>

__attribute__((visibility("hidden"))) int iprintf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int r = vprintf(fmt, ap);
    va_end(ap);
    return r;
}

__attribute__((visibility("hidden"))) int fiprintf(FILE *f, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int r = vfprintf(f, fmt, ap);
    va_end(ap);
    return r;
}

__attribute__((visibility("hidden"))) int siprintf(char *s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int r = vsprintf(s, fmt, ap);
    va_end(ap);
    return r;
}
