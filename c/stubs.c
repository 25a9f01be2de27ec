/* libc symbols that Rust's std for wasm32-wasip1 references but that the
 * libc.so shipped with CPython-for-WASI does not export (they are plain
 * constants in wasi-libc's static build). */
#include <time.h>

struct __clockid { int id; };
const struct __clockid _CLOCK_PROCESS_CPUTIME_ID = { 2 };
const struct __clockid _CLOCK_THREAD_CPUTIME_ID = { 3 };
