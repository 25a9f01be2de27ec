//! Host-owned linear memory for exact sandboxes: the engine of
//! [`crate::engine::Flavor::Exact`] creates every guest memory through
//! [`Creator`], so the host holds a pointer to each sandbox's memory and can
//! read and write its bytes between calls (fork, exact snapshot, restore).
//!
//! A memory is one anonymous mapping of wasmtime's reservation plus its
//! guard, inaccessible (`PROT_NONE`) except for the bytes the guest has
//! grown it to. [`Mapping`] owns the mapping (unmapped when the last `Arc`
//! goes); the instance creating a memory hands it to whoever is waiting
//! for it through a task-local claim ([`claim`]).
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use wasmtime::{LinearMemory, MemoryCreator, MemoryType};

/// One guest linear memory: `reserved + guard` bytes of address space of
/// which the first `len` are readable and writable.
pub(crate) struct Mapping {
    base: *mut u8,
    /// Whole mapping (reservation + guard), for `munmap`.
    total: usize,
    /// Largest size the memory may reach (the reservation).
    reserved: usize,
    /// Current size in bytes (what the guest grew it to).
    len: AtomicUsize,
}

// SAFETY: the mapping is plain memory; who may touch which bytes when is
// the users' contract (wasmtime while the guest runs, the host between
// calls, never both: see `bytes`).
unsafe impl Send for Mapping {}
unsafe impl Sync for Mapping {}

impl Mapping {
    fn new(reserved: usize, guard: usize, initial: usize) -> Result<Mapping, String> {
        let total = reserved
            .checked_add(guard)
            .ok_or("exact memory: reservation overflows")?;
        // SAFETY: a fresh anonymous reservation; nothing else refers to it.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                total,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(format!(
                "exact memory: reserving {total} bytes failed: {}",
                std::io::Error::last_os_error()
            ));
        }
        let m = Mapping {
            base: base.cast(),
            total,
            reserved,
            len: AtomicUsize::new(0),
        };
        m.open_to(initial)?;
        Ok(m)
    }

    /// Make the first `size` bytes accessible (they are zero when new).
    fn open_to(&self, size: usize) -> Result<(), String> {
        let now = self.len.load(Ordering::Acquire);
        if size > self.reserved {
            return Err(format!("exact memory: {size} bytes exceed the reservation"));
        }
        if size > now {
            // SAFETY: [now, size) lies inside our own reservation.
            let r = unsafe {
                libc::mprotect(
                    self.base.add(now).cast(),
                    size - now,
                    libc::PROT_READ | libc::PROT_WRITE,
                )
            };
            if r != 0 {
                return Err(format!(
                    "exact memory: growing to {size} bytes failed: {}",
                    std::io::Error::last_os_error()
                ));
            }
            self.len.store(size, Ordering::Release);
        }
        Ok(())
    }

    /// Current size in bytes.
    pub fn len(&self) -> usize {
        self.len.load(Ordering::Acquire)
    }

    /// The memory's bytes.
    ///
    /// # Safety
    /// Only between calls into the guest of the store owning this memory
    /// (the caller holds that store mutably, so no guest code runs), and
    /// not across a call (the memory may grow).
    pub unsafe fn bytes(&self) -> &[u8] {
        // SAFETY: [base, base + len) is mapped read-write (see `open_to`).
        unsafe { std::slice::from_raw_parts(self.base, self.len()) }
    }

    /// The memory's bytes, writable; as [`Mapping::bytes`].
    ///
    /// # Safety
    /// As for [`Mapping::bytes`]; in addition no other slice of this memory
    /// may be alive.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn bytes_mut(&self) -> &mut [u8] {
        // SAFETY: as in `bytes`; exclusivity is the caller's promise.
        unsafe { std::slice::from_raw_parts_mut(self.base, self.len()) }
    }

    /// Fault in the first `n` bytes for writing in one go (much cheaper
    /// than one page fault per page when they are about to be written);
    /// a no-op where the kernel lacks `MADV_POPULATE_WRITE`.
    pub fn populate(&self, n: usize) {
        let n = n.min(self.len());
        if n > 0 {
            // SAFETY: inside our mapping, which is read-write up to `len`;
            // populating does not change the content.
            unsafe {
                libc::madvise(self.base.cast(), n, libc::MADV_POPULATE_WRITE);
            }
        }
    }

    /// Give the pages of `[from, len)` back to the system (they read as
    /// zero afterwards); `from` is rounded up to a page.
    ///
    /// # Safety
    /// As for [`Mapping::bytes_mut`].
    pub unsafe fn zero_from(&self, from: usize) {
        let page = 4096;
        let from = from.div_ceil(page) * page;
        let len = self.len();
        if from < len {
            // SAFETY: inside our mapping; MADV_DONTNEED on a private
            // anonymous mapping makes the range read as zero.
            unsafe {
                libc::madvise(self.base.add(from).cast(), len - from, libc::MADV_DONTNEED);
            }
        }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: our own mapping; no slice outlives the last `Arc`.
        unsafe {
            libc::munmap(self.base.cast(), self.total);
        }
    }
}

/// wasmtime's side of a [`Mapping`].
struct Memory(Arc<Mapping>);

// SAFETY: `as_ptr` is stable (never moves: the whole reservation is mapped
// up front), `byte_size` bytes are always accessible, and the guard region
// after the reservation stays inaccessible.
unsafe impl LinearMemory for Memory {
    fn byte_size(&self) -> usize {
        self.0.len()
    }

    fn byte_capacity(&self) -> usize {
        self.0.reserved
    }

    fn grow_to(&mut self, new_size: usize) -> wasmtime::Result<()> {
        self.0.open_to(new_size).map_err(wasmtime::Error::msg)
    }

    fn as_ptr(&self) -> *mut u8 {
        self.0.base
    }
}

/// The memory creator of the exact engine.
pub(crate) struct Creator;

/// Default reservation when wasmtime asks for none (it always does today).
const RESERVE: usize = 4 << 30;

// SAFETY: every memory is a fresh zero-filled mapping of the requested
// reservation with the guard after it, as the trait requires.
unsafe impl MemoryCreator for Creator {
    fn new_memory(
        &self,
        _ty: MemoryType,
        minimum: usize,
        _maximum: Option<usize>,
        reserved_size_in_bytes: Option<usize>,
        guard_size_in_bytes: usize,
    ) -> Result<Box<dyn LinearMemory>, String> {
        let reserved = reserved_size_in_bytes.unwrap_or(RESERVE).max(minimum);
        let m = Arc::new(Mapping::new(reserved, guard_size_in_bytes, minimum)?);
        let _ = CLAIM.try_with(|c| c.lock().unwrap_or_else(|p| p.into_inner()).push(m.clone()));
        Ok(Box::new(Memory(m)))
    }
}

type Claimed = Arc<Mutex<Vec<Arc<Mapping>>>>;

tokio::task_local! {
    static CLAIM: Claimed;
}

/// Run `fut` (an instantiation) and return, with its output, the memories
/// created while it ran.
pub(crate) async fn claim<F: std::future::Future>(fut: F) -> (F::Output, Vec<Arc<Mapping>>) {
    let cell: Claimed = Arc::default();
    let out = CLAIM.scope(cell.clone(), fut).await;
    let got = std::mem::take(&mut *cell.lock().unwrap_or_else(|p| p.into_inner()));
    (out, got)
}
