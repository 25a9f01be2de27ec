//! A small-object allocator for CPython's `mem` and `object` domains,
//! installed with `PyMem_SetAllocator` before CPython starts (so every
//! object, including those in the pre-initialised image, comes from it).
//! The CPython-for-WASI build has no pymalloc: without this every object is
//! a libc `malloc`/`free` pair.
//!
//! Layout (pymalloc's, kept dense so the image and an idle session stay
//! small): requests up to [`SMALL`] bytes are rounded up to a multiple of 8
//! (64 size classes) and served from 16 KiB *pools* holding blocks of one
//! class; pools are carved from 256 KiB *arenas* (pool-aligned, from libc).
//! A pool is found from a block by masking its address; a bitmap over the
//! 32-bit address space says which 16 KiB slots are pools of ours, so
//! anything else (large blocks) goes back to libc. An emptied pool returns
//! to its arena; an emptied arena returns to libc (one is kept as a spare).
//! The guest is single-threaded: the state is plain statics behind one
//! `UnsafeCell`, touched only from these callbacks.
use super::sys::python as sys;
use std::cell::UnsafeCell;
use std::ffi::c_void;
use std::ptr::null_mut;

/// Largest request served from pools; larger ones go to libc.
const SMALL: usize = 512;
const GRAIN: usize = 8;
const CLASSES: usize = SMALL / GRAIN;
const POOL: usize = 16 * 1024;
const POOLS_PER_ARENA: usize = 16;
const ARENA: usize = POOL * POOLS_PER_ARENA;
/// Pool slots in a 4 GiB address space, one bit each.
const SLOTS: usize = ((1u64 << 32) / POOL as u64) as usize;

extern "C" {
    fn malloc(size: usize) -> *mut c_void;
    fn calloc(nelem: usize, elsize: usize) -> *mut c_void;
    fn realloc(ptr: *mut c_void, size: usize) -> *mut c_void;
    fn free(ptr: *mut c_void);
    fn aligned_alloc(align: usize, size: usize) -> *mut c_void;
}

/// The header at the start of every pool.
#[repr(C)]
struct Pool {
    /// Freed blocks, linked through their first word.
    free: *mut u8,
    /// The usable-pool list of its class (pools with a free block).
    next: *mut Pool,
    prev: *mut Pool,
    arena: *mut Arena,
    /// Blocks handed out and not freed.
    used: u32,
    /// Block size in bytes.
    size: u32,
    /// Offset of the first never-used block.
    bump: u32,
    /// Whether the pool is on its class's usable list.
    listed: u32,
}

const HEADER: usize = std::mem::size_of::<Pool>().next_multiple_of(GRAIN);

/// An arena's bookkeeping (allocated separately, from libc).
struct Arena {
    base: *mut u8,
    /// Pools of this arena not in use by any class.
    idle: Vec<*mut Pool>,
}

struct State {
    usable: [*mut Pool; CLASSES],
    slots: [u32; SLOTS / 32],
    /// Arenas with idle pools.
    spare: Vec<*mut Arena>,
}

struct Global(UnsafeCell<State>);

// SAFETY: the guest runs on a single thread.
unsafe impl Sync for Global {}

static STATE: Global = Global(UnsafeCell::new(State {
    usable: [null_mut(); CLASSES],
    slots: [0; SLOTS / 32],
    spare: Vec::new(),
}));

/// # Safety
/// Only from the allocator callbacks (single thread, not re-entered).
unsafe fn state() -> &'static mut State {
    &mut *STATE.0.get()
}

impl State {
    fn is_ours(&self, p: usize) -> bool {
        let slot = p / POOL;
        self.slots[slot / 32] & (1 << (slot % 32)) != 0
    }

    fn mark(&mut self, base: usize, on: bool) {
        for i in 0..POOLS_PER_ARENA {
            let slot = base / POOL + i;
            if on {
                self.slots[slot / 32] |= 1 << (slot % 32);
            } else {
                self.slots[slot / 32] &= !(1 << (slot % 32));
            }
        }
    }

    /// An idle pool, from a spare arena or a new one.
    unsafe fn take_pool(&mut self) -> *mut Pool {
        if self.spare.is_empty() {
            let base = aligned_alloc(POOL, ARENA) as *mut u8;
            if base.is_null() {
                return null_mut();
            }
            self.mark(base as usize, true);
            let idle = (0..POOLS_PER_ARENA)
                .rev()
                .map(|i| base.add(i * POOL) as *mut Pool)
                .collect();
            self.spare
                .push(Box::into_raw(Box::new(Arena { base, idle })));
        }
        let arena = *self.spare.last().expect("a spare arena");
        let pool = (*arena).idle.pop().expect("an idle pool");
        if (*arena).idle.is_empty() {
            self.spare.pop();
        }
        (*pool).arena = arena;
        pool
    }

    /// `pool` has no blocks in use: give it back to its arena, and the
    /// arena to libc once it is wholly idle (keeping one spare arena).
    unsafe fn release_pool(&mut self, pool: *mut Pool) {
        let arena = (*pool).arena;
        (*arena).idle.push(pool);
        let n = (*arena).idle.len();
        if n == 1 {
            self.spare.push(arena);
        }
        if n == POOLS_PER_ARENA && self.spare.len() > 1 {
            self.spare.retain(|a| *a != arena);
            self.mark((*arena).base as usize, false);
            free((*arena).base as *mut c_void);
            drop(Box::from_raw(arena));
        }
    }

    unsafe fn link(&mut self, class: usize, pool: *mut Pool) {
        let head = self.usable[class];
        (*pool).prev = null_mut();
        (*pool).next = head;
        if !head.is_null() {
            (*head).prev = pool;
        }
        self.usable[class] = pool;
        (*pool).listed = 1;
    }

    unsafe fn unlink(&mut self, class: usize, pool: *mut Pool) {
        let (prev, next) = ((*pool).prev, (*pool).next);
        if prev.is_null() {
            self.usable[class] = next;
        } else {
            (*prev).next = next;
        }
        if !next.is_null() {
            (*next).prev = prev;
        }
        (*pool).listed = 0;
    }

    /// The fast path: pop the first free block of the class's first usable
    /// pool. Invariant: a pool on a usable list has a non-empty free list
    /// (`refill` keeps it so), so this is two loads and two stores.
    #[inline(always)]
    unsafe fn alloc_small(&mut self, n: usize) -> *mut u8 {
        let class = n.saturating_sub(1) / GRAIN;
        let pool = self.usable[class];
        if pool.is_null() {
            return self.alloc_new_pool(class);
        }
        let block = (*pool).free;
        (*pool).free = *(block as *mut *mut u8);
        (*pool).used += 1;
        if (*pool).free.is_null() {
            self.refill(class, pool);
        }
        block
    }

    /// The class has no usable pool: start one (its first block is
    /// returned, the second becomes its free list).
    #[cold]
    #[inline(never)]
    unsafe fn alloc_new_pool(&mut self, class: usize) -> *mut u8 {
        let size = (class + 1) * GRAIN;
        let pool = self.take_pool();
        if pool.is_null() {
            return null_mut();
        }
        let block = (pool as *mut u8).add(HEADER);
        (*pool).used = 1;
        (*pool).size = size as u32;
        (*pool).bump = (HEADER + size) as u32;
        (*pool).free = null_mut();
        self.refill(class, pool);
        if (*pool).free.is_null() {
            return block;
        }
        self.link(class, pool);
        block
    }

    /// `pool`'s free list ran empty: extend it by one never-used block, or
    /// take the pool off the usable list when it is full.
    #[cold]
    #[inline(never)]
    unsafe fn refill(&mut self, class: usize, pool: *mut Pool) {
        let size = (*pool).size as usize;
        let bump = (*pool).bump as usize;
        if bump + size <= POOL {
            let b = (pool as *mut u8).add(bump);
            *(b as *mut *mut u8) = null_mut();
            (*pool).free = b;
            (*pool).bump = (bump + size) as u32;
        } else if (*pool).listed != 0 {
            self.unlink(class, pool);
        }
    }

    #[inline(always)]
    unsafe fn free_small(&mut self, p: *mut u8) {
        let pool = (p as usize & !(POOL - 1)) as *mut Pool;
        let was_full = (*pool).free.is_null();
        *(p as *mut *mut u8) = (*pool).free;
        (*pool).free = p;
        (*pool).used -= 1;
        if was_full || (*pool).used == 0 {
            self.free_slow(pool, was_full);
        }
    }

    /// A block went back to a pool that was full (relist it) or that is
    /// now empty (give it back, unless it is its class's only usable pool:
    /// keeping that one avoids re-taking a pool on every alloc/free pair).
    #[cold]
    #[inline(never)]
    unsafe fn free_slow(&mut self, pool: *mut Pool, was_full: bool) {
        let class = (*pool).size as usize / GRAIN - 1;
        if (*pool).used == 0 {
            let only = self.usable[class] == pool && (*pool).next.is_null();
            if only || (was_full && self.usable[class].is_null()) {
                if was_full {
                    self.link(class, pool);
                }
                return;
            }
            if (*pool).listed != 0 {
                self.unlink(class, pool);
            }
            self.release_pool(pool);
        } else {
            self.link(class, pool);
        }
    }
}

unsafe extern "C" fn obj_malloc(_: *mut c_void, n: usize) -> *mut c_void {
    if n > SMALL {
        return malloc(n);
    }
    state().alloc_small(n) as *mut c_void
}

unsafe extern "C" fn obj_calloc(_: *mut c_void, nelem: usize, elsize: usize) -> *mut c_void {
    match nelem.checked_mul(elsize) {
        Some(n) if n <= SMALL => {
            let p = state().alloc_small(n);
            if !p.is_null() {
                std::ptr::write_bytes(p, 0, n);
            }
            p as *mut c_void
        }
        _ => calloc(nelem, elsize),
    }
}

unsafe extern "C" fn obj_free(_: *mut c_void, p: *mut c_void) {
    if p.is_null() {
        return;
    }
    let s = state();
    if s.is_ours(p as usize) {
        s.free_small(p as *mut u8);
    } else {
        free(p);
    }
}

unsafe extern "C" fn obj_realloc(ctx: *mut c_void, p: *mut c_void, n: usize) -> *mut c_void {
    if p.is_null() {
        return obj_malloc(ctx, n);
    }
    let s = state();
    if !s.is_ours(p as usize) {
        return realloc(p, n.max(1));
    }
    let pool = (p as usize & !(POOL - 1)) as *mut Pool;
    let size = (*pool).size as usize;
    // Shrinking by less than a quarter keeps the block (as pymalloc does).
    if n <= size && 4 * n > 3 * size {
        return p;
    }
    let q = obj_malloc(ctx, n);
    if !q.is_null() {
        std::ptr::copy_nonoverlapping(p as *const u8, q as *mut u8, size.min(n));
        s.free_small(p as *mut u8);
    }
    q
}

/// Install the allocator for the `mem` and `object` domains. Must run
/// before CPython allocates anything (before `Py_InitializeFromConfig`).
pub fn install() {
    let mut a = sys::PyMemAllocatorEx {
        ctx: null_mut(),
        malloc: Some(obj_malloc),
        calloc: Some(obj_calloc),
        realloc: Some(obj_realloc),
        free: Some(obj_free),
    };
    // SAFETY: called once at start-up, before the interpreter exists;
    // CPython copies the struct.
    unsafe {
        sys::PyMem_SetAllocator(sys::PyMemAllocatorDomain_PYMEM_DOMAIN_MEM, &mut a);
        sys::PyMem_SetAllocator(sys::PyMemAllocatorDomain_PYMEM_DOMAIN_OBJ, &mut a);
    }
}
