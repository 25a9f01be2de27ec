//! The Rust half of the `eryx` C module's host calls (`c/eryx_module.c`):
//! streaming output through the `output` import, and the count of host
//! calls in flight.
use super::abi::call_sync_import;
use super::meta;
use crate::call::Value;
use std::cell::Cell;

thread_local! {
    static OUTPUT_IMPORT: Cell<Option<usize>> = const { Cell::new(None) };
    static PENDING: Cell<u32> = const { Cell::new(0) };
}

/// Resolve the imports this module calls (at initialisation).
pub fn initialize() {
    OUTPUT_IMPORT.with(|c| c.set(meta::get().import_index("output")));
}

/// Stream `text` to the host on `fd` (1 = stdout, 2 = stderr).
pub fn output(fd: u32, text: &str) {
    if let Some(idx) = OUTPUT_IMPORT.with(|c| c.get()) {
        call_sync_import(idx, vec![Value::Int(fd as i64), Value::Str(text.to_string())]);
    }
}

/// Number of host calls in flight (set by the callback machinery).
pub fn pending() -> u32 {
    PENDING.with(|p| p.get())
}

/// Called from C: `eryx._output(fd, text)`.
///
/// # Safety
/// `text` must point to `len` bytes of UTF-8 (CPython's UTF-8 buffer).
#[no_mangle]
pub unsafe extern "C" fn eryx_rt_output(fd: u32, text: *const u8, len: usize) {
    let bytes = if len == 0 {
        &[][..]
    } else {
        std::slice::from_raw_parts(text, len)
    };
    output(fd, &String::from_utf8_lossy(bytes));
}

/// Called from C: `eryx._pending()`.
#[no_mangle]
pub extern "C" fn eryx_rt_pending() -> u32 {
    pending()
}
