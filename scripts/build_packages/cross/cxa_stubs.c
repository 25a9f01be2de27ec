/* Linked into every C++ extension module (both backends).
 *
 * C++ reads wasi-libc's `extern thread_local int errno` through a wrapper
 * that calls the variable's TLS init function `_ZTH5errno` if it is defined
 * (a weak reference). errno has no dynamic initialiser, so a hidden no-op
 * resolves it inside each module; left undefined, every C++ module imports
 * it, and wit-component 0.263's Linker then emits one stub export per
 * importer ("duplicate export name `_ZTH5errno`").
 *
 * (Exceptions themselves are the C++ runtime library's: cxx_eh.py.) */
__attribute__((visibility("hidden"))) void _ZTH5errno(void) {}
