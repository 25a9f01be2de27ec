//! A depth-counting trashcan for the builtin containers' deallocators.
//!
//! CPython 3.14 defers deep deallocation chains ("trashcan") when the C
//! stack pointer comes near its limit. On WASI that pointer is the *shadow*
//! stack in linear memory, which a dealloc chain (`list_dealloc` →
//! `Py_DECREF` → `list_dealloc` …) barely moves, while every level costs
//! frames on the engine's native wasm stack: `del` of a 10^6-deep nested
//! list overflowed the native stack long before CPython's guard noticed.
//!
//! So the `tp_dealloc` slots of `list`, `tuple`, `dict`, `set`,
//! `frozenset`, tracebacks and frames (a 10^6-deep recursion leaves a
//! chain of 10^6 of each) are wrapped: the wrapper counts nested deallocations and,
//! past [`LIMIT`] levels, parks an object of exactly that type (untracked
//! by the GC, as CPython's own trashcan does) instead of freeing it; the
//! outermost deallocation then frees the parked objects one by one. The
//! native stack a chain of these containers needs is thus bounded
//! (~LIMIT levels), whatever its depth. See docs/stacks.md.
use super::sys::python as sys;
use std::cell::{Cell, RefCell};

/// Nested container deallocations allowed before objects are parked
/// (measured ~0.3 KiB of native stack per level: ~300 KiB).
const LIMIT: u32 = 1000;

type Dealloc = unsafe extern "C" fn(*mut sys::PyObject);

/// The wrapped types, by index (the const parameter of [`guarded`]).
const TYPES: usize = 7;

thread_local! {
    /// The original deallocators, filled by [`install`] (kept in linear
    /// memory, so the pre-initialised image carries them).
    static ORIGINAL: Cell<[Option<Dealloc>; TYPES]> = const { Cell::new([None; TYPES]) };
    /// How many wrapped deallocations are running right now.
    static DEPTH: Cell<u32> = const { Cell::new(0) };
    /// Objects (refcount 0, untracked) waiting to be freed, with their
    /// type index.
    static PARKED: RefCell<Vec<(*mut sys::PyObject, usize)>> = const { RefCell::new(Vec::new()) };
}

/// The type object of index `i`.
fn type_of(i: usize) -> *mut sys::PyTypeObject {
    // Taking the address of CPython's static type objects (no access).
    match i {
        0 => &raw mut sys::PyList_Type,
        1 => &raw mut sys::PyTuple_Type,
        2 => &raw mut sys::PyDict_Type,
        3 => &raw mut sys::PySet_Type,
        4 => &raw mut sys::PyFrozenSet_Type,
        5 => &raw mut sys::PyTraceBack_Type,
        _ => &raw mut sys::PyFrame_Type,
    }
}

fn original(i: usize) -> Option<Dealloc> {
    ORIGINAL.with(|o| o.get()[i])
}

/// The deallocator installed for type index `I`.
unsafe extern "C" fn guarded<const I: usize>(op: *mut sys::PyObject) {
    let Some(dealloc) = original(I) else { return };
    let depth = DEPTH.with(Cell::get);
    // SAFETY: `op` is a live object whose refcount just dropped to zero
    // (CPython calls tp_dealloc only then); we read its type.
    let exact = unsafe { (*op).ob_type } == type_of(I);
    if depth >= LIMIT && exact {
        // SAFETY: a parked object must not be seen by the collector, nor
        // reached (resurrected) through a weak reference: clear those now,
        // as the deallocator would first thing (sets and frozensets).
        unsafe {
            sys::PyObject_GC_UnTrack(op.cast());
            if (*type_of(I)).tp_weaklistoffset != 0 {
                sys::PyObject_ClearWeakRefs(op);
            }
        }
        PARKED.with(|p| p.borrow_mut().push((op, I)));
        return;
    }
    DEPTH.with(|d| d.set(depth + 1));
    // SAFETY: the type's own deallocator, called as CPython would.
    unsafe { dealloc(op) };
    DEPTH.with(|d| d.set(depth));
    if depth == 0 && PARKED.with(|p| !p.borrow().is_empty()) {
        drain();
    }
}

/// Free the parked objects (at depth 0: each may park more, at most one
/// chain of [`LIMIT`] levels deep at a time).
fn drain() {
    while let Some((op, i)) = PARKED.with(|p| p.borrow_mut().pop()) {
        let Some(dealloc) = original(i) else { continue };
        DEPTH.with(|d| d.set(1));
        // SAFETY: a parked object is exactly of type `i`, refcount 0, and
        // was not freed; its own deallocator untracks (idempotent) and
        // frees it.
        unsafe { dealloc(op) };
        DEPTH.with(|d| d.set(0));
    }
    // Give back the buffer of a large burst.
    PARKED.with(|p| {
        let mut p = p.borrow_mut();
        if p.capacity() > 1024 {
            *p = Vec::new();
        }
    });
}

/// Wrap the containers' deallocators (after `Py_Initialize`; idempotent).
pub fn install() {
    let wrappers: [Dealloc; TYPES] = [
        guarded::<0>,
        guarded::<1>,
        guarded::<2>,
        guarded::<3>,
        guarded::<4>,
        guarded::<5>,
        guarded::<6>,
    ];
    if original(0).is_some() {
        return;
    }
    let mut saved = [None; TYPES];
    for (i, wrapper) in wrappers.into_iter().enumerate() {
        // SAFETY: single-threaded interpreter; static type objects live for
        // the whole process and their slot is read at each deallocation.
        unsafe {
            let ty = type_of(i);
            saved[i] = (*ty).tp_dealloc;
            (*ty).tp_dealloc = Some(wrapper);
        }
    }
    ORIGINAL.with(|o| o.set(saved));
}
