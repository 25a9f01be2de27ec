/* Linked into every extension module of the meson backend (mesonbuild.py): libc
 * symbols that clang emits calls to (fiprintf, newlib-style, from optimised
 * fprintf calls) but componentize-py's wasi-libc libc.so does not export.
 * Compiled with -fno-builtin so this vfprintf call is not turned back. */
#include <stdarg.h>
#include <stdio.h>
__attribute__((visibility("hidden"))) int fiprintf(FILE *f, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int r = vfprintf(f, fmt, ap);
    va_end(ap);
    return r;
}
