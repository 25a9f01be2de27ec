//! Host-owned linear memory for exact sandboxes: the engine of
//! [`crate::engine::Flavor::Exact`] creates every guest memory through
//! [`Creator`], so the host holds a pointer to each sandbox's memory and can
//! read and write its bytes between calls (fork, exact snapshot, restore).
//!
//! A memory is one anonymous mapping of wasmtime's reservation plus its
//! guard, inaccessible (`PROT_NONE`) except for the bytes the guest has
//! grown it to. The shared memory of an exact component starts with its
//! image (`image.rs`) mapped privately over the first bytes, so new
//! memories share the image's pages until they write them, and the page
//! map ([`Mapping::changed`]) tells which pages a sandbox wrote. The bytes
//! past the image are a memory file (`region.rs`) that a fork freezes and
//! shares instead of copying.
//! [`Mapping`] owns the mapping (unmapped when the last `Arc` goes); the
//! instance creating a memory hands it to whoever is waiting for it
//! through a task-local claim ([`claim`]), which also brings the image.
use super::format::PAGE;
use super::image::{Image, HEADER};
use super::region::{self, Region};
use std::ops::Range;
use std::os::fd::OwnedFd;
use std::os::unix::fs::FileExt;
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
    /// The image mapped over the first bytes, if any.
    image: Option<Arc<Image>>,
    /// What backs the bytes past the image (with an image only).
    region: Mutex<Option<Region>>,
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
            image: None,
            region: Mutex::new(None),
        };
        m.open_to(initial)?;
        Ok(m)
    }

    /// Map `image` privately over the first bytes (read-write, shared with
    /// the page cache until written).
    fn map_image(&mut self, image: Arc<Image>) -> Result<(), String> {
        let n = image.bytes().len();
        if base_page() != PAGE {
            // The image's offsets and the page map are in 4 KiB pages.
            return Err(format!(
                "exact sandboxes need 4 KiB memory pages; this kernel's are {} bytes",
                base_page()
            ));
        }
        if n > self.len() {
            return Err("exact memory: the image is larger than the memory".into());
        }
        if n > 0 {
            // SAFETY: replaces [base, base + n), inside our own accessible
            // range, with a private mapping of the image file's data.
            let p = unsafe {
                libc::mmap(
                    self.base.cast(),
                    n,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_FIXED,
                    image.fd(),
                    HEADER as libc::off_t,
                )
            };
            if p == libc::MAP_FAILED {
                return Err(format!(
                    "exact memory: mapping the image failed: {}",
                    std::io::Error::last_os_error()
                ));
            }
        }
        self.image = Some(image);
        // SAFETY: a new memory: nothing refers to its bytes yet.
        unsafe { self.map_region(None) }
    }

    /// First byte past the image (0 without one).
    fn split(&self) -> usize {
        self.image.as_ref().map_or(0, |i| i.bytes().len())
    }

    /// Map the bytes past the image: privately over `base` (another
    /// memory's frozen file: [`Mapping::freeze`]), or shared over a new,
    /// empty file of this memory's own. A no-op without an image.
    ///
    /// # Safety
    /// As for [`Mapping::bytes_mut`] (the bytes past the image change).
    unsafe fn map_region(&self, base: Option<Arc<OwnedFd>>) -> Result<(), String> {
        if self.image.is_none() {
            return Ok(());
        }
        let split = self.split();
        let size = self.reserved - split;
        let frozen = base.is_some();
        let fd = match base {
            Some(fd) => {
                if region::size(&fd) < size {
                    return Err("exact memory: the fork's base is smaller than the memory".into());
                }
                fd
            }
            None => region::new_file(size)?,
        };
        // SAFETY: past the image, inside our reservation; the caller
        // promises no slice is alive.
        unsafe {
            region::map(
                self.base.add(split),
                size,
                &fd,
                !frozen,
                self.len().saturating_sub(split),
            )?;
        }
        *lock(&self.region) = Some(Region { fd, frozen });
        Ok(())
    }

    /// Freeze the bytes past the image (see `region.rs`) and return the
    /// file a fork maps under its own: from now on this memory's writes
    /// there are private copies. `None` without an image.
    ///
    /// # Safety
    /// As for [`Mapping::bytes_mut`].
    pub unsafe fn freeze(&self) -> Result<Option<Arc<OwnedFd>>, String> {
        let fd = match lock(&self.region).as_ref() {
            None => return Ok(None),
            Some(r) if r.frozen => return Ok(Some(r.fd.clone())),
            Some(r) => r.fd.clone(),
        };
        // SAFETY: the same file over the same bytes, now privately (as a
        // fork's base): the contents do not change; the caller's promise
        // covers the rest.
        unsafe { self.map_region(Some(fd.clone())) }?;
        Ok(Some(fd))
    }

    /// The image mapped over the first bytes, if any.
    pub fn image(&self) -> Option<&Arc<Image>> {
        self.image.as_ref()
    }

    /// The byte ranges (whole 4 KiB pages, in order, merged) that may
    /// differ from the image (zero past its end): what [`Mapping::written`]
    /// gives plus the pages of the memory file past the image that hold
    /// data (a frozen file's are the fork's base, so they differ too).
    pub fn changed(&self) -> Vec<Range<usize>> {
        let mut runs = self.written();
        let (split, len) = (self.split(), self.len());
        if let Some(r) = lock(&self.region).as_ref() {
            let data = region::data(&r.fd, len.saturating_sub(split));
            runs.extend(data.into_iter().map(|d| d.start + split..d.end + split));
            runs = merged(runs);
        }
        runs
    }

    /// The byte ranges (whole 4 KiB pages, in order, merged) this memory
    /// holds privately, as the kernel's page map shows them: the image's
    /// pages it wrote, and past the image the pages it wrote and that are
    /// not its memory file's (all of them without a file). All of the
    /// memory when the page map is unreadable or the kernel's pages are
    /// not 4 KiB.
    pub fn written(&self) -> Vec<Range<usize>> {
        let len = self.len();
        let pages = len.div_ceil(PAGE);
        let whole = std::iter::once(0..len).collect::<Vec<_>>();
        // The page map has an entry per base page: read as 4 KiB pages,
        // it would be wrong on a kernel with larger ones.
        let Some(map) = page_map().filter(|_| base_page() == PAGE) else {
            return whole;
        };
        // Pages below `filed` are written only when no longer the file's.
        let filed = if lock(&self.region).is_some() {
            pages
        } else {
            self.split() / PAGE
        };
        let mut out: Vec<Range<usize>> = Vec::new();
        let mut buf = vec![0u8; 8 * 8192];
        let mut page = 0;
        while page < pages {
            let n = (pages - page).min(8192);
            let at = (self.base as usize / PAGE + page) as u64 * 8;
            if map.read_exact_at(&mut buf[..n * 8], at).is_err() {
                return whole;
            }
            for (k, e) in buf[..n * 8].chunks_exact(8).enumerate() {
                let e = u64::from_le_bytes(e.try_into().expect("8 bytes"));
                let (present, swapped, file) =
                    (e >> 63 & 1 == 1, e >> 62 & 1 == 1, e >> 61 & 1 == 1);
                let i = page + k;
                let written = swapped || (present && (i >= filed || !file));
                if written {
                    let r = i * PAGE..((i + 1) * PAGE).min(len);
                    match out.last_mut() {
                        Some(last) if last.end == r.start => last.end = r.end,
                        _ => out.push(r),
                    }
                }
            }
            page += n;
        }
        out
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

    /// Fault in the pages of `range` for writing in one go (much cheaper
    /// than one page fault per page when they are about to be written);
    /// a no-op where the kernel lacks `MADV_POPULATE_WRITE`.
    pub fn populate(&self, range: Range<usize>) {
        let start = range.start / PAGE * PAGE;
        let end = range.end.min(self.len());
        if start < end {
            // SAFETY: inside our mapping, which is read-write up to `len`;
            // populating does not change the content.
            unsafe {
                libc::madvise(
                    self.base.add(start).cast(),
                    end - start,
                    libc::MADV_POPULATE_WRITE,
                );
            }
        }
    }

    /// Drop every written page: the memory then reads as the image, and
    /// past it as `base` (a frozen file from another memory's
    /// [`Mapping::freeze`]) or as zero (a new file of its own).
    ///
    /// # Safety
    /// As for [`Mapping::bytes_mut`].
    pub unsafe fn reset(&self, base: Option<Arc<OwnedFd>>) -> Result<(), String> {
        // The image's bytes (all of them without an image); those past
        // the image get a new mapping below.
        let len = if self.image.is_some() {
            self.split().min(self.len())
        } else {
            self.len()
        };
        if len > 0 {
            // SAFETY: inside our mapping; what it drops reads back as the
            // mapped file's page or zero.
            unsafe {
                libc::madvise(self.base.cast(), len, libc::MADV_DONTNEED);
            }
        }
        // SAFETY: the caller's promise.
        unsafe { self.map_region(base) }
    }
}

/// `runs` sorted and merged (overlapping or touching ranges joined).
fn merged(mut runs: Vec<Range<usize>>) -> Vec<Range<usize>> {
    runs.sort_by_key(|r| r.start);
    let mut out: Vec<Range<usize>> = Vec::with_capacity(runs.len());
    for r in runs {
        match out.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => out.push(r),
        }
    }
    out
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The kernel's base page size.
fn base_page() -> usize {
    // SAFETY: a plain query.
    usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(0)
}

/// This process's page map, opened once (at the first fork or exact
/// snapshot) and then only read with `pread`: a process that later
/// forbids opening files (eryx-server's workers, after their warm-up)
/// keeps using it.
fn page_map() -> Option<&'static std::fs::File> {
    static MAP: std::sync::OnceLock<Option<std::fs::File>> = std::sync::OnceLock::new();
    MAP.get_or_init(|| std::fs::File::open("/proc/self/pagemap").ok())
        .as_ref()
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
        let mut m = Mapping::new(reserved, guard_size_in_bytes, minimum)?;
        let claim = CLAIM.try_with(|c| c.clone()).ok();
        let Some(mut c) = claim
            .as_ref()
            .map(|c| c.lock().unwrap_or_else(|p| p.into_inner()))
        else {
            return Ok(Box::new(Memory(Arc::new(m))));
        };
        // The memory the image was made for (the first of its size).
        if let Some(image) = c.image.take_if(|i| i.memory_min == minimum) {
            m.map_image(image)?;
        }
        let m = Arc::new(m);
        c.got.push(m.clone());
        Ok(Box::new(Memory(m)))
    }
}

/// What an instantiation in a [`claim`] scope brings and takes.
struct Claim {
    /// The image to map into the memory of its size.
    image: Option<Arc<Image>>,
    /// The memories created.
    got: Vec<Arc<Mapping>>,
}

tokio::task_local! {
    static CLAIM: Arc<Mutex<Claim>>;
}

/// Run `fut` (an instantiation), mapping `image` into the memory it was
/// made for, and return, with its output, the memories created while it
/// ran.
pub(crate) async fn claim<F: std::future::Future>(
    image: Option<Arc<Image>>,
    fut: F,
) -> (F::Output, Vec<Arc<Mapping>>) {
    let cell = Arc::new(Mutex::new(Claim {
        image,
        got: Vec::new(),
    }));
    let out = CLAIM.scope(cell.clone(), fut).await;
    let got = std::mem::take(&mut cell.lock().unwrap_or_else(|p| p.into_inner()).got);
    (out, got)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A memory of 4 wasm pages with a 3-page image mapped over it.
    fn mapped(dir: &std::path::Path) -> (Mapping, Vec<u8>) {
        let data: Vec<u8> = (0..3 * PAGE).map(|i| (i / PAGE + 1) as u8).collect();
        let path = dir.join("m.image");
        super::super::image::write(&path, &data, 4 * 65536).unwrap();
        let image = Arc::new(Image::open(&path).expect("the image opens"));
        let mut m = Mapping::new(1 << 20, 0, 4 * 65536).unwrap();
        m.map_image(image).unwrap();
        (m, data)
    }

    #[test]
    fn the_page_map_shows_written_pages_and_reset_brings_the_image_back() {
        let dir = std::env::temp_dir().join(format!("eryx-mem-{}", std::process::id()));
        let (m, data) = mapped(&dir);
        // SAFETY: no guest runs on this memory; one slice at a time.
        unsafe {
            assert_eq!(&m.bytes()[..3 * PAGE], &data[..], "the image shows through");
            assert!(m.changed().is_empty(), "reading writes nothing");
            m.bytes_mut()[PAGE + 7] = 0xaa;
            m.bytes_mut()[20 * PAGE] = 0xbb;
            m.bytes_mut()[21 * PAGE] = 0xcc;
            assert_eq!(
                m.changed(),
                vec![PAGE..2 * PAGE, 20 * PAGE..22 * PAGE],
                "one image page, two merged pages past it"
            );
            m.reset(None).unwrap();
            assert!(m.changed().is_empty());
            assert_eq!(&m.bytes()[..3 * PAGE], &data[..]);
            // Reading past the image maps the zero page, which counts as
            // "may differ" (harmless: zeros are copied); the image's pages
            // never do.
            assert!(m.bytes()[3 * PAGE..].iter().all(|&b| b == 0));
            assert!(m.changed().iter().all(|r| r.start >= 3 * PAGE));
        }
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_frozen_memory_file_is_shared_and_each_side_writes_its_own_copy() {
        let dir = std::env::temp_dir().join(format!("eryx-mem-fork-{}", std::process::id()));
        let (src, _) = mapped(&dir);
        let (dst, _) = mapped(&dir);
        // SAFETY: no guest runs on these memories; one slice at a time.
        unsafe {
            src.bytes_mut()[PAGE] = 1;
            src.bytes_mut()[10 * PAGE] = 2;
            src.bytes_mut()[30 * PAGE + 5] = 3;
            assert_eq!(
                src.written(),
                vec![PAGE..2 * PAGE],
                "past the image, writes land in the memory file"
            );
            let changed = vec![PAGE..2 * PAGE, 10 * PAGE..11 * PAGE, 30 * PAGE..31 * PAGE];
            assert_eq!(src.changed(), changed, "the file's pages differ too");
            let base = src.freeze().unwrap().expect("an image memory has a file");
            assert_eq!(
                src.written(),
                vec![PAGE..2 * PAGE],
                "freezing copies nothing"
            );
            assert_eq!(src.changed(), changed);
            dst.reset(Some(base)).unwrap();
            assert_eq!(
                dst.bytes()[10 * PAGE],
                2,
                "the fork reads the source's pages"
            );
            assert_eq!(dst.bytes()[30 * PAGE + 5], 3);
            assert!(dst.written().is_empty(), "reading copies nothing");
            dst.bytes_mut()[10 * PAGE] = 20;
            src.bytes_mut()[30 * PAGE + 5] = 30;
            assert_eq!(src.bytes()[10 * PAGE], 2, "the fork's write stays its own");
            assert_eq!(
                dst.bytes()[30 * PAGE + 5],
                3,
                "the source's write stays its own"
            );
            assert_eq!(dst.written(), vec![10 * PAGE..11 * PAGE]);
            assert_eq!(src.written(), vec![PAGE..2 * PAGE, 30 * PAGE..31 * PAGE]);
            // A second freeze keeps the same file; a reset drops the base.
            let again = src.freeze().unwrap().unwrap();
            assert_eq!(src.bytes()[30 * PAGE + 5], 30);
            dst.reset(None).unwrap();
            assert!(dst.changed().is_empty());
            assert_eq!(
                dst.bytes()[10 * PAGE],
                0,
                "a reset memory reads zero past the image"
            );
            drop(again);
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}
