/* Linked into numpy's C++ extension modules (scripts/build-numpy.sh).
 * componentize-py's libc++abi.so is built without exception support and
 * lacks __cxa_allocate_exception/__cxa_throw, and LLVM 16 has no wasm
 * exception handling we can use here: a C++ throw prints a message and
 * aborts (traps) instead of unwinding. */
#include <stdio.h>
#include <stdlib.h>
__attribute__((visibility("hidden"))) void *__cxa_allocate_exception(unsigned long n) { return malloc(n); }
__attribute__((visibility("hidden"))) void __cxa_throw(void *e, void *t, void (*d)(void *)) {
    (void)e; (void)t; (void)d;
    fputs("numpy-wasi: C++ exception thrown (no EH support), aborting\n", stderr);
    abort();
}
