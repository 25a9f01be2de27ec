//! Giving freed host memory back to the system. A dropped sandbox frees
//! its store (tables, instance data, buffers) to the C allocator, and glibc
//! keeps most of that in its heap: after dropping 50 sandboxes the process
//! stayed ~23 MiB above where it started. `malloc_trim(0)` returns it, but
//! costs ~2 ms, so a drop only *asks* for it and the epoch ticker thread
//! (engine.rs) trims at its next tick, off the caller's path and at most
//! once per tick however many sandboxes were dropped.
use std::sync::atomic::{AtomicBool, Ordering};

static WANTED: AtomicBool = AtomicBool::new(false);

/// Ask for freed memory to be returned soon (cheap; from any thread).
pub fn request() {
    WANTED.store(true, Ordering::Relaxed);
}

/// Return freed memory to the system if a drop asked for it.
pub fn run_if_requested() {
    if WANTED.swap(false, Ordering::Relaxed) {
        release();
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn release() {
    extern "C" {
        fn malloc_trim(pad: usize) -> i32;
    }
    // SAFETY: glibc's malloc_trim takes its own locks and may be called
    // from any thread at any time.
    unsafe {
        malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release() {}
