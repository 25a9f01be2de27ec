//! The native stacks guest code runs on. wasmtime runs every call on a
//! fiber stack of `engine::ASYNC_STACK` bytes (wasm frames, capped at
//! `max_wasm_stack`, plus host frames); the stacks are created here so
//! that their memory is ours to give back.
//!
//! A stack is reserved virtual memory (no cost until touched) with a guard
//! page below it. A store keeps its last stack for the next call, so the
//! pages a deep call touched would stay resident while the sandbox idles:
//! after each call the sandbox calls [`Stacks::trim`], which returns every
//! page below the top [`KEEP`] bytes to the system (`madvise`) when the
//! call went that deep. Stacks are capped separately from `max_memory`
//! (see docs/stacks.md).
use std::cell::RefCell;
use std::future::Future;
use std::ops::Range;
use std::sync::{Arc, Mutex, Weak};
use wasmtime::{StackCreator, StackMemory};

/// Bytes at the top of a stack that stay resident between calls (what an
/// ordinary call touches; deeper pages are given back).
const KEEP: usize = 256 << 10;

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(p).ok().filter(|&p| p > 0).unwrap_or(4096)
}

/// One mapping: a guard page, then the stack (growing down from the end).
struct Region {
    base: usize,
    len: usize,
    guard: usize,
}

impl Region {
    fn new(size: usize) -> Result<Region, String> {
        let page = page_size();
        let size = size.div_ceil(page) * page;
        let len = size + page;
        // SAFETY: a fresh anonymous private mapping, inaccessible at first.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(format!("could not reserve a {len}-byte stack"));
        }
        let region = Region {
            base: base as usize,
            len,
            guard: page,
        };
        // SAFETY: the range lies inside the mapping just made.
        let rc = unsafe {
            libc::mprotect(
                (region.base + page) as *mut libc::c_void,
                size,
                libc::PROT_READ | libc::PROT_WRITE,
            )
        };
        if rc != 0 {
            return Err("could not make a stack writable".into());
        }
        Ok(region)
    }

    fn top(&self) -> usize {
        self.base + self.len
    }

    /// Give back the pages below the top [`KEEP`] bytes if the last call
    /// touched them. Only called while no call runs on this stack.
    fn trim(&self) {
        let page = page_size();
        let start = self.base + self.guard;
        let Some(end) = self.top().checked_sub(KEEP).filter(|&e| e > start) else {
            return;
        };
        // A stack is used contiguously from the top: if the page just below
        // the kept part is not resident, nothing deeper is.
        let mut resident = 0u8;
        // SAFETY: one page of our own mapping; `resident` holds its flag.
        let rc = unsafe { libc::mincore((end - page) as *mut libc::c_void, page, &mut resident) };
        if rc == 0 && resident & 1 == 0 {
            return;
        }
        // SAFETY: the range lies inside our mapping and no code runs on it
        // now; the pages read back as zeros when touched again.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED);
        }
    }
}

impl Region {
    /// Bytes of this stack resident in memory now.
    fn resident(&self) -> usize {
        let page = page_size();
        let start = self.base + self.guard;
        let mut flags = vec![0u8; (self.top() - start) / page];
        // SAFETY: the range is our mapping; `flags` has one byte per page.
        let rc = unsafe {
            libc::mincore(
                start as *mut libc::c_void,
                self.top() - start,
                flags.as_mut_ptr(),
            )
        };
        if rc != 0 {
            return 0;
        }
        flags.iter().filter(|f| *f & 1 != 0).count() * page
    }
}

/// Every live stack of the process (for [`resident_bytes`]).
static ALL: Mutex<Vec<Weak<Region>>> = Mutex::new(Vec::new());

/// Bytes of all sandboxes' native stacks resident in memory now (for the
/// benchmark and docs/stacks.md's figures).
pub(crate) fn resident_bytes() -> usize {
    let mut all = ALL.lock().unwrap_or_else(|p| p.into_inner());
    all.retain(|w| w.strong_count() > 0);
    all.iter()
        .filter_map(Weak::upgrade)
        .map(|r| r.resident())
        .sum()
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: our mapping, no longer used by anyone.
        unsafe { libc::munmap(self.base as *mut libc::c_void, self.len) };
    }
}

/// A stack handed to wasmtime.
struct Stack(Arc<Region>);

// SAFETY: the range and guard describe a live mapping owned by the Arc.
unsafe impl StackMemory for Stack {
    fn top(&self) -> *mut u8 {
        self.0.top() as *mut u8
    }

    fn range(&self) -> Range<usize> {
        self.0.base + self.0.guard..self.0.top()
    }

    fn guard_range(&self) -> Range<*mut u8> {
        self.0.base as *mut u8..(self.0.base + self.0.guard) as *mut u8
    }
}

/// The stacks one store's calls ran on.
#[derive(Default)]
pub(crate) struct Stacks(Mutex<Vec<Weak<Region>>>);

impl Stacks {
    /// After a call: give back what a deep call left resident.
    pub fn trim(&self) {
        let mut list = self.0.lock().unwrap_or_else(|p| p.into_inner());
        list.retain(|w| w.strong_count() > 0);
        for region in list.iter().filter_map(Weak::upgrade) {
            region.trim();
        }
    }
}

thread_local! {
    /// The stack set of the store whose call is being polled on this thread.
    static OWNER: RefCell<Option<Arc<Stacks>>> = const { RefCell::new(None) };
}

/// Poll `fut` (a call into `stacks`' store) so that stacks it creates are
/// registered with `stacks`.
pub(crate) async fn owned<F: Future>(stacks: &Arc<Stacks>, fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    std::future::poll_fn(|cx| {
        let previous = OWNER.with(|o| o.replace(Some(stacks.clone())));
        let r = fut.as_mut().poll(cx);
        OWNER.with(|o| *o.borrow_mut() = previous);
        r
    })
    .await
}

/// The engine's stack creator.
pub(crate) struct Creator;

// SAFETY: stacks are page-aligned, writable, zero-filled fresh mappings
// with a guard page below.
unsafe impl StackCreator for Creator {
    fn new_stack(&self, size: usize, _zeroed: bool) -> wasmtime::Result<Box<dyn StackMemory>> {
        let region = Arc::new(Region::new(size).map_err(wasmtime::Error::msg)?);
        {
            let mut all = ALL.lock().unwrap_or_else(|p| p.into_inner());
            all.retain(|w| w.strong_count() > 0);
            all.push(Arc::downgrade(&region));
        }
        OWNER.with(|o| {
            if let Some(stacks) = o.borrow().as_ref() {
                let mut list = stacks.0.lock().unwrap_or_else(|p| p.into_inner());
                list.push(Arc::downgrade(&region));
            }
        });
        Ok(Box::new(Stack(region)))
    }
}
