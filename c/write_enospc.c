/* liberyx_write.so: `write()` for libpython and native extensions, so that a
 * write the scratch filesystem refuses for want of space is `ENOSPC`, as on
 * Linux, and not `EIO`.
 *
 * Where the code is lost: the WASI 0.2 libc we link (componentize-py's
 * wasi-libc) implements `write()` on a file as `check-write` + `write` +
 * `blocking-flush` of the descriptor's cached `wasi:io` output stream, and
 * on any `last-operation-failed` stream error it drops the `wasi:io/error`
 * without asking `wasi:filesystem/types.filesystem-error-code` and sets
 * `errno = EIO` (`wasip2_handle_write_error`, also in current wasi-libc).
 * The host answers `filesystem-error-code` with `insufficient-space`, but
 * nobody asks. `pwrite()` goes through `descriptor.write`, whose error code
 * the libc does translate.
 *
 * So: when a write to a regular file fails with EIO, it is retried once as
 * `pwrite()` at the stream's position (the file's end in append mode). A
 * refused stream write wrote nothing, so the retry is the same write; when
 * the cause was the cap it fails again, with the code the host gave
 * (ENOSPC), and changes nothing. Any other descriptor keeps libc's answer.
 *
 * This library is linked before libc.so (host/src/link.rs): wit-component's
 * linker resolves an imported symbol to its first exporter in link order, so
 * every library that imports `write` gets this one. libc's own internal
 * calls are direct and keep libc's `write`; this file calls `writev`, which
 * libc implements without importing `write`. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

__attribute__((visibility("default"))) ssize_t write(int fd, const void *buf, size_t nbyte) {
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = nbyte};
    ssize_t n = writev(fd, &iov, 1);
    if (n >= 0 || errno != EIO || nbyte == 0)
        return n;
    struct stat st;
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        errno = EIO;
        return -1;
    }
    off_t at = (flags & O_APPEND) ? st.st_size : lseek(fd, 0, SEEK_CUR);
    if (at < 0) {
        errno = EIO;
        return -1;
    }
    n = pwrite(fd, buf, nbyte, at);
    if (n < 0)
        return -1; /* errno as the host gave it (ENOSPC at the cap) */
    if (!(flags & O_APPEND) && lseek(fd, at + n, SEEK_SET) < 0)
        return -1;
    return n;
}
