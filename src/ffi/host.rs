//! The Rust half of the `eryx` C module's host calls (`c/eryx_module.c`):
//! streaming output, host callbacks (`invoke`, `list-callbacks`) and trace
//! events. Text returned to C is a leaked `Box<[u8]>` that C hands back to
//! `eryx_rt_free`.
use super::abi::call_sync_import;
use super::meta;
use crate::call::Value;
use crate::tasks::{self, Invoked};
use std::cell::Cell;

#[derive(Clone, Copy, Default)]
struct Imports {
    output: Option<usize>,
    state_write: Option<usize>,
    list_callbacks: Option<usize>,
    report_trace: Option<usize>,
}

thread_local! {
    static IMPORTS: Cell<Imports> = const { Cell::new(Imports { output: None, state_write: None, list_callbacks: None, report_trace: None }) };
}

/// Resolve the imports this module calls (at initialisation).
pub fn initialize() {
    let m = meta::get();
    IMPORTS.with(|c| {
        c.set(Imports {
            output: m.import_index("output"),
            state_write: m.import_index("state-write"),
            list_callbacks: m.import_index("list-callbacks"),
            report_trace: m.import_index("report-trace"),
        })
    });
    super::net::initialize();
}

fn imports() -> Imports {
    IMPORTS.with(|c| c.get())
}

/// Stream `text` to the host on `fd` (1 = stdout, 2 = stderr).
pub fn output(fd: u32, text: &str) {
    if let Some(idx) = imports().output {
        call_sync_import(
            idx,
            vec![Value::Int(fd as i64), Value::Str(text.to_string())],
        );
    }
}

/// `eryx._state_write(at, data)`: hand `len` bytes at `data` to the host
/// as bytes `at..` of the checkpoint being made; 0 when the host refused.
///
/// # Safety
/// `data` must point to `len` bytes that stay unchanged during the call.
#[no_mangle]
pub unsafe extern "C" fn eryx_rt_state_write(at: u64, data: *const u8, len: usize) -> i32 {
    let Some(idx) = imports().state_write else {
        return 0;
    };
    let args = vec![Value::Int(at as i64), Value::Lent(data as usize, len)];
    match call_sync_import(idx, args) {
        Some(Value::Int(ok)) => (ok != 0) as i32,
        _ => 0,
    }
}

/// Names of the host's callbacks.
pub fn list_callbacks() -> Vec<String> {
    let Some(idx) = imports().list_callbacks else {
        return Vec::new();
    };
    match call_sync_import(idx, Vec::new()) {
        Some(Value::List(items)) => items
            .into_iter()
            .filter_map(|v| match v {
                Value::Str(s) => Some(s),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// # Safety
/// `ptr` must point to `len` readable bytes (or `len` is 0).
pub(super) unsafe fn text<'a>(ptr: *const u8, len: usize) -> std::borrow::Cow<'a, str> {
    if len == 0 {
        return "".into();
    }
    String::from_utf8_lossy(std::slice::from_raw_parts(ptr, len))
}

/// # Safety
/// `out` / `out_len` must be writable.
pub(super) unsafe fn give(s: String, out: *mut *mut u8, out_len: *mut usize) {
    let b = s.into_bytes().into_boxed_slice();
    *out_len = b.len();
    *out = Box::into_raw(b) as *mut u8;
}

/// `eryx._output(fd, text)`.
///
/// # Safety
/// `text` must point to `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn eryx_rt_output(fd: u32, text_ptr: *const u8, len: usize) {
    output(fd, &text(text_ptr, len));
}

/// `eryx._pending()`.
#[no_mangle]
pub extern "C" fn eryx_rt_pending() -> u32 {
    tasks::pending()
}

/// `eryx._invoke(name, args)`: 0 = ok (text), 1 = host error (text),
/// 2 = in flight (`handle`), -1 = cannot call (text is the reason).
///
/// # Safety
/// Pointers must be valid for their lengths; out-pointers writable.
#[no_mangle]
pub unsafe extern "C" fn eryx_rt_invoke(
    name: *const u8,
    name_len: usize,
    args: *const u8,
    args_len: usize,
    handle: *mut u32,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> i32 {
    match tasks::invoke(&text(name, name_len), &text(args, args_len)) {
        Ok(Invoked::Pending(h)) => {
            *handle = h;
            2
        }
        Ok(Invoked::Done(ok, t)) => {
            give(t, out, out_len);
            if ok {
                0
            } else {
                1
            }
        }
        Err(e) => {
            give(e, out, out_len);
            -1
        }
    }
}

/// `eryx._list_callbacks()`: newline-separated names.
///
/// # Safety
/// Out-pointers must be writable.
#[no_mangle]
pub unsafe extern "C" fn eryx_rt_list_callbacks(out: *mut *mut u8, out_len: *mut usize) {
    give(list_callbacks().join("\n"), out, out_len);
}

/// `eryx._trace(json)`: one event to `report-trace`.
///
/// # Safety
/// `text` must point to `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn eryx_rt_trace(text_ptr: *const u8, len: usize) {
    if let Some(idx) = imports().report_trace {
        call_sync_import(idx, vec![Value::Str(text(text_ptr, len).into_owned())]);
    }
}

/// Release text handed to C by `give`.
///
/// # Safety
/// `ptr`/`len` must come from `give` and be released once.
#[no_mangle]
pub unsafe extern "C" fn eryx_rt_free(ptr: *mut u8, len: usize) {
    if !ptr.is_null() {
        drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, len)));
    }
}
