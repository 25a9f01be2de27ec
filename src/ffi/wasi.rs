//! WASI state held inside the guest, for pre-initialisation (see
//! `crate::preinit`). wasi-libc (built for WASI 0.2) keeps component resource
//! handles in its descriptor table (preopened directories, lazily opened
//! stdio streams) and caches the environment; the preview1 adapter (used by
//! Rust's std) keeps its own descriptors. Handles belong to the store that
//! created them, so before a snapshot all of them are dropped, and an
//! instance made from the snapshot reloads what it needs from its own store.

#[link(wasm_import_module = "wasi_snapshot_preview1")]
extern "C" {
    /// Exported by the preview1 adapter: forget every cached descriptor.
    fn reset_adapter_state();
}

extern "C" {
    fn __wasilibc_reset_preopens();
    fn __wasilibc_deinitialize_environ();
    fn __wasilibc_initialize_environ();
}

/// Drop every WASI handle the guest holds so that a memory snapshot taken
/// now refers to none. Call nothing that touches WASI after it.
///
/// In the wasi-libc shipped with CPython-for-WASI (componentize-py 0.25.1)
/// `__wasilibc_reset_preopens` closes the preopened directories and then
/// clears the whole descriptor table, stdio included; libc re-creates stdio
/// and re-reads the preopens lazily (from the then current store). Note
/// that `close()` would re-populate the preopens first: do not call it here.
pub fn forget_handles() {
    // SAFETY: plain wasi-libc / adapter entry points; nothing else runs
    // concurrently (the guest is single-threaded).
    unsafe {
        __wasilibc_reset_preopens();
        reset_adapter_state();
    }
}

/// Re-read the environment from the current store (libc caches it at
/// start-up); `std::env` then sees this instance's variables.
pub fn reload_environ() {
    // SAFETY: single-threaded; no pointer into the old environment is kept
    // by the runtime (CPython copied it into `os.environ`).
    unsafe {
        __wasilibc_deinitialize_environ();
        __wasilibc_initialize_environ();
    }
}
