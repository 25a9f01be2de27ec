/* Linked into C++ extension modules of the meson backend (mesonbuild.py).
 * componentize-py's libc++abi.so is built without exception support and
 * lacks __cxa_allocate_exception/__cxa_throw, and LLVM 16 has no wasm
 * exception handling we can use here: a C++ throw cannot unwind. It names
 * the exception's type on stderr (demangled by libc++abi's __cxa_demangle)
 * and aborts; the host reports the abort and restores the session. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

/* The start of an Itanium C++ ABI std::type_info: vtable, mangled name. */
struct type_info_head {
    const void *vtable;
    const char *name;
};

/* C++ reads wasi-libc's `extern thread_local int errno` through a wrapper
 * that calls the variable's TLS init function `_ZTH5errno` if it is defined
 * (a weak reference). errno has no dynamic initialiser, so a hidden no-op
 * resolves it inside each module; left undefined, every C++ module imports
 * it, and wit-component 0.263's Linker then emits one stub export per
 * importer ("duplicate export name `_ZTH5errno`"). */
__attribute__((visibility("hidden"))) void _ZTH5errno(void) {}

__attribute__((visibility("hidden"))) void *__cxa_allocate_exception(unsigned long n) { return malloc(n); }

__attribute__((visibility("hidden"))) void __cxa_throw(void *e, void *t, void (*d)(void *)) {
    (void)e; (void)d;
    const char *mangled = t ? ((const struct type_info_head *)t)->name : NULL;
    int status = -1;
    char *name = mangled ? __cxa_demangle(mangled, NULL, NULL, &status) : NULL;
    fprintf(stderr,
            "eryx: a native extension threw a C++ exception (%s); C++ exceptions cannot unwind "
            "in this WebAssembly build, so the call was aborted\n",
            status == 0 && name ? name : mangled ? mangled : "unknown type");
    abort();
}
