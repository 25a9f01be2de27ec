/* Stand-in <signal.h> for compiling liblzma on WASI (found before wasi-libc's
 * through -I). xz's single-threaded mythread.h defines a sigprocmask()
 * wrapper it never calls in liblzma; WASI has no signals, so the mask is a
 * no-op. Nothing else in liblzma includes <signal.h>. */
#ifndef ERYX_LZMA_SIGNAL_H
#define ERYX_LZMA_SIGNAL_H
typedef unsigned long sigset_t;
static inline int sigprocmask(int how, const sigset_t *set, sigset_t *oset) {
    (void)how;
    (void)set;
    if (oset != 0) {
        *oset = 0;
    }
    return 0;
}
#endif
