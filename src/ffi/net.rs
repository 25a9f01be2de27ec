//! The Rust half of the `eryx` module's network calls (`eryx._net_*` in
//! `c/eryx_module.c`): each one is a blocking call of a `net-*` import of
//! the world (the host owns the sockets and TLS; see host/src/net/). The
//! imports are looked up by name, so a host without them only makes these
//! calls fail ("error: ...") instead of breaking the runtime.
use super::abi::call_sync_import;
use super::host::{give, text};
use super::meta;
use crate::call::Value;
use std::cell::Cell;

#[derive(Clone, Copy, Default)]
struct Imports {
    connect: Option<usize>,
    start_tls: Option<usize>,
    send: Option<usize>,
    recv: Option<usize>,
    close: Option<usize>,
}

thread_local! {
    static IMPORTS: Cell<Imports> = const { Cell::new(Imports {
        connect: None, start_tls: None, send: None, recv: None, close: None,
    }) };
}

/// Resolve the network imports (at initialisation; all optional).
pub fn initialize() {
    let m = meta::get();
    IMPORTS.with(|c| {
        c.set(Imports {
            connect: m.import_index("net-connect"),
            start_tls: m.import_index("net-start-tls"),
            send: m.import_index("net-send"),
            recv: m.import_index("net-recv"),
            close: m.import_index("net-close"),
        })
    });
}

fn imports() -> Imports {
    IMPORTS.with(|c| c.get())
}

const MISSING: &str = "error: this host offers no network access";

/// Call import `idx` and split its `result<T, string>`.
fn call(idx: Option<usize>, args: Vec<Value>) -> Result<Value, String> {
    let idx = idx.ok_or_else(|| MISSING.to_string())?;
    match call_sync_import(idx, args) {
        Some(Value::Case(0, Some(v))) => Ok(*v),
        Some(Value::Case(0, None)) => Ok(Value::Int(0)),
        Some(Value::Case(_, Some(e))) => match *e {
            Value::Str(s) => Err(s),
            other => Err(format!("error: unexpected error value {other:?}")),
        },
        other => Err(format!("error: unexpected result {other:?}")),
    }
}

/// Hand `r` to C: 0 with the payload in `out` (bytes) or `*num`, else -1
/// with the error text in `out`.
///
/// # Safety
/// Out-pointers must be writable.
unsafe fn report(
    r: Result<Value, String>,
    num: *mut u32,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> i32 {
    *out = std::ptr::null_mut();
    *out_len = 0;
    match r {
        Ok(Value::Int(n)) => {
            *num = n as u32;
            0
        }
        Ok(Value::Str(s)) => {
            give(s, out, out_len);
            0
        }
        Ok(Value::Bytes(b)) => {
            let b = b.into_boxed_slice();
            *out_len = b.len();
            *out = Box::into_raw(b) as *mut u8;
            0
        }
        Ok(other) => {
            give(format!("error: unexpected value {other:?}"), out, out_len);
            -1
        }
        Err(e) => {
            give(e, out, out_len);
            -1
        }
    }
}

/// `eryx._net_connect(host, port, timeout_ms)`.
///
/// # Safety
/// `host` must point to `len` bytes; out-pointers writable.
#[no_mangle]
pub unsafe extern "C" fn eryx_rt_net_connect(
    host: *const u8,
    len: usize,
    port: u32,
    timeout_ms: u32,
    conn: *mut u32,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> i32 {
    let args = vec![
        Value::Str(text(host, len).into_owned()),
        Value::Int(port as i64),
        Value::Int(timeout_ms as i64),
    ];
    report(call(imports().connect, args), conn, out, out_len)
}

/// `eryx._net_start_tls(conn, server_name, timeout_ms)`: the TLS version.
///
/// # Safety
/// `name` must point to `len` bytes; out-pointers writable.
#[no_mangle]
pub unsafe extern "C" fn eryx_rt_net_start_tls(
    conn: u32,
    name: *const u8,
    len: usize,
    timeout_ms: u32,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> i32 {
    let args = vec![
        Value::Int(conn as i64),
        Value::Str(text(name, len).into_owned()),
        Value::Int(timeout_ms as i64),
    ];
    let mut unused = 0;
    report(call(imports().start_tls, args), &mut unused, out, out_len)
}

/// `eryx._net_send(conn, data, timeout_ms)`: bytes accepted in `*sent`.
///
/// # Safety
/// `data` must point to `len` bytes (or `len` is 0); out-pointers writable.
#[no_mangle]
pub unsafe extern "C" fn eryx_rt_net_send(
    conn: u32,
    data: *const u8,
    len: usize,
    timeout_ms: u32,
    sent: *mut u32,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> i32 {
    let bytes = if len == 0 {
        Vec::new()
    } else {
        std::slice::from_raw_parts(data, len).to_vec()
    };
    let args = vec![
        Value::Int(conn as i64),
        Value::Bytes(bytes),
        Value::Int(timeout_ms as i64),
    ];
    report(call(imports().send, args), sent, out, out_len)
}

/// `eryx._net_recv(conn, max, timeout_ms)`: the bytes in `out` (empty =
/// end of stream).
///
/// # Safety
/// Out-pointers must be writable.
#[no_mangle]
pub unsafe extern "C" fn eryx_rt_net_recv(
    conn: u32,
    max: u32,
    timeout_ms: u32,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> i32 {
    let args = vec![
        Value::Int(conn as i64),
        Value::Int(max as i64),
        Value::Int(timeout_ms as i64),
    ];
    let mut unused = 0;
    report(call(imports().recv, args), &mut unused, out, out_len)
}

/// `eryx._net_close(conn)`.
#[no_mangle]
pub extern "C" fn eryx_rt_net_close(conn: u32) {
    if let Some(idx) = imports().close {
        call_sync_import(idx, vec![Value::Int(conn as i64)]);
    }
}
