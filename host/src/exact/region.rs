//! The part of an exact memory past its image (`memory.rs`): a memory file
//! (`memfd`), so a fork can share the pages a session wrote there instead
//! of copying them.
//!
//! A new memory maps its own file shared: what the guest writes past the
//! image lands in the file. The first fork *freezes* it: the source maps
//! the same file privately over the same bytes (nothing is copied, the
//! contents are the file's) and the fork maps it privately too. From then
//! on nobody writes the file; each side's writes are private copies of the
//! pages it writes, and a later fork of either copies only those (the page
//! map shows them as no longer the file's) on top of the same frozen file.
//! The file lives as long as a memory maps it.
use std::ops::Range;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Arc;

/// What backs the bytes past the image.
pub(crate) struct Region {
    /// The memory file (offset 0 = the first byte past the image).
    pub fd: Arc<OwnedFd>,
    /// Mapped privately over a file that nobody writes any more (a fork's
    /// base), rather than shared over this memory's own file.
    pub frozen: bool,
}

/// A new, empty memory file of `size` bytes (sparse: it takes memory only
/// for the pages written).
pub(crate) fn new_file(size: usize) -> Result<Arc<OwnedFd>, String> {
    let fail = |what: &str| format!("exact memory: {what}: {}", std::io::Error::last_os_error());
    // SAFETY: a plain syscall with a NUL-terminated name.
    let raw = unsafe { libc::memfd_create(c"eryx-exact".as_ptr(), libc::MFD_CLOEXEC) };
    if raw < 0 {
        return Err(fail("creating the memory file"));
    }
    // SAFETY: `raw` is a new descriptor nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let size = libc::off_t::try_from(size).map_err(|_| "exact memory: region too large")?;
    // SAFETY: sizing our own memory file.
    if unsafe { libc::ftruncate(fd.as_raw_fd(), size) } != 0 {
        return Err(fail("sizing the memory file"));
    }
    Ok(Arc::new(fd))
}

/// The size of memory file `fd` in bytes (0 if unknown).
pub(crate) fn size(fd: &OwnedFd) -> usize {
    // SAFETY: `st` is plain data the call fills.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: our own descriptor and a valid out-pointer.
    if unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } != 0 {
        return 0;
    }
    usize::try_from(st.st_size).unwrap_or(0)
}

/// Map `fd` over `[at, at + size)`, shared or private, inaccessible except
/// for its first `open` bytes (read-write).
///
/// # Safety
/// `[at, at + size)` is part of a reservation the caller owns, and no
/// slice of it is alive (its bytes may change).
pub(crate) unsafe fn map(
    at: *mut u8,
    size: usize,
    fd: &OwnedFd,
    shared: bool,
    open: usize,
) -> Result<(), String> {
    let fail = |what: &str| format!("exact memory: {what}: {}", std::io::Error::last_os_error());
    let kind = if shared {
        libc::MAP_SHARED
    } else {
        libc::MAP_PRIVATE
    };
    // SAFETY: replaces part of the caller's own reservation.
    let p = unsafe {
        libc::mmap(
            at.cast(),
            size,
            libc::PROT_NONE,
            kind | libc::MAP_FIXED | libc::MAP_NORESERVE,
            fd.as_raw_fd(),
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(fail("mapping the memory file"));
    }
    let open = open.min(size);
    // SAFETY: inside the mapping just made.
    if open > 0
        && unsafe { libc::mprotect(at.cast(), open, libc::PROT_READ | libc::PROT_WRITE) } != 0
    {
        return Err(fail("opening the memory file's pages"));
    }
    Ok(())
}

/// The byte ranges of `fd`'s first `len` bytes that hold data (the pages
/// ever written; holes read as zero), in order; from where the file cannot
/// be asked, the rest of it.
pub(crate) fn data(fd: &OwnedFd, len: usize) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos < len {
        // SAFETY: plain syscalls on our own descriptor.
        let start = unsafe { libc::lseek(fd.as_raw_fd(), pos as libc::off_t, libc::SEEK_DATA) };
        if start < 0 {
            if std::io::Error::last_os_error().raw_os_error() == Some(libc::ENXIO) {
                break; // no data after `pos`
            }
            // Unknown: say all of the rest may hold data (a snapshot then
            // compares those pages rather than missing some).
            out.push(pos..len);
            break;
        }
        let end = unsafe { libc::lseek(fd.as_raw_fd(), start, libc::SEEK_HOLE) };
        let start = start as usize;
        // No hole found (it cannot fail after SEEK_DATA did): data to the end.
        let end = usize::try_from(end).unwrap_or(len).min(len);
        if start >= len {
            break;
        }
        if end > start {
            out.push(start..end);
        }
        pos = end.max(start + 1);
    }
    out
}
