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

extern "C" {
    fn __errno_location() -> *mut i32;
}

/// Grow linear memory 0 to at least `pages` 64 KiB pages; the size after.
pub fn grow_memory_to(pages: usize) -> usize {
    let now = core::arch::wasm32::memory_size::<0>();
    if pages > now {
        core::arch::wasm32::memory_grow::<0>(pages - now);
    }
    core::arch::wasm32::memory_size::<0>()
}

// Offsets, from libc's `errno`, of the state `__wasilibc_reset_preopens`
// and `descriptor_table_clear` reset in the wasi-libc shipped with
// CPython-for-WASI (componentize-py 0.25.1; read off its libc.so): the
// preopen count, array, "populated" flag and capacity, the stdio flag and
// the descriptor table (entries, capacity, count). A libc update must
// re-check them (host/tests/exact.rs fails when they are wrong).
const PREOPEN_COUNT: usize = 48;
const PREOPEN_ARRAY: usize = 52;
const PREOPEN_POPULATED: usize = 56;
const PREOPEN_CAPACITY: usize = 60;
const STDIO_FLAG: usize = 64;
const TABLE: usize = 68;

/// Forget, without dropping, every WASI handle libc and the adapter hold:
/// what [`forget_handles`] does, minus the `resource.drop`s (the handles
/// are another store's; dropping them would trap or drop an unrelated
/// resource). The memory they held is leaked (a few hundred bytes per
/// descriptor); libc re-opens preopens and stdio lazily.
pub fn forget_handles_in_place() -> Result<(), String> {
    let memory = core::arch::wasm32::memory_size::<0>() * 65536;
    // SAFETY: `__errno_location` returns libc's (non-threaded) `errno`, a
    // static in libc's data; the offsets above are libc statics next to it
    // (checked for plausibility before anything is written). The guest is
    // single-threaded and no libc call is in progress.
    unsafe {
        let base = __errno_location() as *mut u8;
        let word = |off: usize| (base.add(off) as *const u32).read_unaligned() as usize;
        let (count, array, cap) = (
            word(PREOPEN_COUNT),
            word(PREOPEN_ARRAY),
            word(PREOPEN_CAPACITY),
        );
        let (entries, entries_cap, used) = (word(TABLE), word(TABLE + 4), word(TABLE + 8));
        let plausible = count < 4096
            && cap < 1 << 20
            && array < memory
            && entries < memory
            && entries_cap < 1 << 24
            && used < 1 << 20;
        if !plausible {
            return Err(format!(
                "exact: libc's descriptor state is not where expected \
                 (preopens {count}/{cap} at {array:#x}, table {used}/{entries_cap} at {entries:#x})"
            ));
        }
        for off in [
            PREOPEN_COUNT,
            PREOPEN_ARRAY,
            PREOPEN_CAPACITY,
            TABLE,
            TABLE + 4,
            TABLE + 8,
            TABLE + 12,
        ] {
            (base.add(off) as *mut u32).write_unaligned(0);
        }
        base.add(PREOPEN_POPULATED).write(0);
        base.add(STDIO_FLAG).write(0);
        reset_adapter_state();
    }
    Ok(())
}
