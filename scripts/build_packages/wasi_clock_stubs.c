/* Two libc constants that Rust's std for wasm32-wasip1 references but that
 * the libc.so shipped with CPython-for-WASI does not export (they are plain
 * constants in wasi-libc's static build). Hidden: each extension keeps its
 * own copy, so nothing clashes with the runtime's (c/stubs.c). */
struct __clockid { int id; };
__attribute__((visibility("hidden"))) const struct __clockid _CLOCK_PROCESS_CPUTIME_ID = { 2 };
__attribute__((visibility("hidden"))) const struct __clockid _CLOCK_THREAD_CPUTIME_ID = { 3 };
