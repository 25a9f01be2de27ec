//! The wit-dylib interpreter ABI: every `wit_dylib_*` symbol the generated
//! bindings import. Each entry point turns the raw `cx` pointer into a
//! `&mut CallCx` and delegates; export dispatch goes to `crate::exports`.
#![allow(clippy::missing_safety_doc)]

use super::{meta, sys::wit};
use crate::call::{CallCx, Value};
use std::ffi::c_void;

extern "C" {
    fn free(ptr: *mut c_void);
}

unsafe fn cx<'a>(cx: *mut c_void) -> &'a mut CallCx {
    &mut *(cx as *mut CallCx)
}

/// Take ownership of `len` bytes allocated with `cabi_realloc`.
unsafe fn take_bytes(ptr: *mut u8, len: usize) -> Vec<u8> {
    if len == 0 {
        return Vec::new();
    }
    let v = std::slice::from_raw_parts(ptr, len).to_vec();
    free(ptr as *mut c_void);
    v
}

impl Drop for CallCx {
    fn drop(&mut self) {
        for ptr in self.deferred.drain(..) {
            // SAFETY: recorded by `wit_dylib_dealloc_bytes(defer = true)`;
            // the canonical ABI is done reading it once the cx is dropped.
            unsafe { free(ptr as *mut c_void) }
        }
    }
}

/// Deliver an async export's result: the generated `task_return` pops it
/// from `cx`.
pub fn task_return(which: usize, cx: &mut CallCx) {
    meta::get().task_return(which, cx as *mut CallCx as *mut c_void);
}

#[no_mangle]
pub unsafe extern "C" fn wit_dylib_initialize(wit: *const wit::wit_t) {
    meta::install(wit);
    super::host::initialize();
    crate::exports::initialize(&meta::get().export_names());
}

#[no_mangle]
pub unsafe extern "C" fn wit_dylib_dealloc_bytes(
    cx_ptr: *mut c_void,
    ptr: *mut c_void,
    byte_size: usize,
    _align: usize,
    defer: bool,
) {
    if byte_size == 0 || ptr.is_null() {
        return;
    }
    if defer && !cx_ptr.is_null() {
        cx(cx_ptr).deferred.push(ptr as usize);
    } else {
        free(ptr);
    }
}

#[no_mangle]
pub extern "C" fn wit_dylib_export_start(_which: usize) -> *mut c_void {
    Box::into_raw(Box::new(CallCx::new())) as *mut c_void
}

#[no_mangle]
pub unsafe extern "C" fn wit_dylib_export_call(cx_ptr: *mut c_void, which: usize) {
    crate::exports::call(which, cx(cx_ptr));
}

#[no_mangle]
pub unsafe extern "C" fn wit_dylib_export_async_call(cx_ptr: *mut c_void, which: usize) -> u32 {
    // SAFETY: `cx_ptr` came from `wit_dylib_export_start`; async exports own it.
    crate::exports::call_async(which, Box::from_raw(cx_ptr as *mut CallCx))
}

#[no_mangle]
pub extern "C" fn wit_dylib_export_async_callback(
    event: u32,
    p1: u32,
    p2: u32,
    _which: usize,
) -> u32 {
    crate::tasks::on_event(event, p1, p2)
}

#[no_mangle]
pub unsafe extern "C" fn wit_dylib_export_finish(cx_ptr: *mut c_void, _which: usize) {
    drop(Box::from_raw(cx_ptr as *mut CallCx));
}

#[no_mangle]
pub extern "C" fn wit_dylib_resource_dtor(_ty: usize, _handle: usize) {}

macro_rules! push_int {
    ($($name:ident: $t:ty),*) => {$(
        #[no_mangle]
        pub unsafe extern "C" fn $name(cx_ptr: *mut c_void, val: $t) {
            cx(cx_ptr).push(Value::Int(val as i64));
        }
    )*};
}
push_int!(
    wit_dylib_push_bool: bool, wit_dylib_push_char: u32, wit_dylib_push_u8: u8,
    wit_dylib_push_s8: i8, wit_dylib_push_u16: u16, wit_dylib_push_s16: i16,
    wit_dylib_push_u32: u32, wit_dylib_push_s32: i32, wit_dylib_push_u64: u64,
    wit_dylib_push_s64: i64
);

macro_rules! push_typed_int {
    ($($name:ident),*) => {$(
        #[no_mangle]
        pub unsafe extern "C" fn $name(cx_ptr: *mut c_void, _ty: usize, val: u32) {
            cx(cx_ptr).push(Value::Int(val as i64));
        }
    )*};
}
push_typed_int!(
    wit_dylib_push_flags,
    wit_dylib_push_enum,
    wit_dylib_push_borrow,
    wit_dylib_push_own,
    wit_dylib_push_future,
    wit_dylib_push_stream
);

#[no_mangle]
pub unsafe extern "C" fn wit_dylib_push_f32(cx_ptr: *mut c_void, val: f32) {
    cx(cx_ptr).push(Value::Float(val as f64));
}

#[no_mangle]
pub unsafe extern "C" fn wit_dylib_push_f64(cx_ptr: *mut c_void, val: f64) {
    cx(cx_ptr).push(Value::Float(val));
}

#[no_mangle]
pub unsafe extern "C" fn wit_dylib_push_string(cx_ptr: *mut c_void, bytes: *mut u8, len: usize) {
    let raw = take_bytes(bytes, len);
    let s = String::from_utf8(raw).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into());
    cx(cx_ptr).push(Value::Str(s));
}

#[no_mangle]
pub unsafe extern "C" fn wit_dylib_push_record(cx_ptr: *mut c_void, ty: usize) {
    let c = cx(cx_ptr);
    let fields = c.pop_n(meta::get().record_len(ty));
    c.push(Value::List(fields));
}

#[no_mangle]
pub unsafe extern "C" fn wit_dylib_push_tuple(cx_ptr: *mut c_void, ty: usize) {
    let c = cx(cx_ptr);
    let fields = c.pop_n(meta::get().tuple_len(ty));
    c.push(Value::List(fields));
}

unsafe fn push_case(cx_ptr: *mut c_void, discr: u32, has_payload: bool) {
    let c = cx(cx_ptr);
    let payload = has_payload.then(|| Box::new(c.pop()));
    c.push(Value::Case(discr, payload));
}

#[no_mangle]
pub unsafe extern "C" fn wit_dylib_push_option(cx_ptr: *mut c_void, _ty: usize, discr: u32) {
    push_case(cx_ptr, discr, discr == 1);
}

#[no_mangle]
pub unsafe extern "C" fn wit_dylib_push_result(cx_ptr: *mut c_void, ty: usize, discr: u32) {
    push_case(cx_ptr, discr, meta::get().result_has_payload(ty, discr));
}

#[no_mangle]
pub unsafe extern "C" fn wit_dylib_push_variant(cx_ptr: *mut c_void, ty: usize, discr: u32) {
    push_case(cx_ptr, discr, meta::get().variant_has_payload(ty, discr));
}

#[no_mangle]
pub unsafe extern "C" fn wit_dylib_push_list(
    cx_ptr: *mut c_void,
    ty: usize,
    bytes: *mut u8,
    len: usize,
) -> bool {
    if meta::get().list_is_bytes(ty) {
        let v = take_bytes(bytes, len);
        cx(cx_ptr).push(Value::Bytes(v));
        true
    } else {
        cx(cx_ptr).push(Value::List(Vec::with_capacity(len)));
        false
    }
}

unsafe fn append_to_top(cx_ptr: *mut c_void, item: Value) {
    match cx(cx_ptr).top_mut() {
        Value::List(items) => items.push(item),
        other => panic!("eryx runtime: append to a non-list {other:?}"),
    }
}

#[no_mangle]
pub unsafe extern "C" fn wit_dylib_list_append(cx_ptr: *mut c_void, _ty: usize) {
    let item = cx(cx_ptr).pop();
    append_to_top(cx_ptr, item);
}

#[no_mangle]
pub unsafe extern "C" fn wit_dylib_push_map(cx_ptr: *mut c_void, _ty: usize, len: usize) {
    cx(cx_ptr).push(Value::List(Vec::with_capacity(len)));
}

#[no_mangle]
pub unsafe extern "C" fn wit_dylib_map_append(cx_ptr: *mut c_void, _ty: usize) {
    let entry = cx(cx_ptr).pop_n(2);
    append_to_top(cx_ptr, Value::List(entry));
}

macro_rules! pop_int {
    ($($name:ident -> $t:ty),*) => {$(
        #[no_mangle]
        pub unsafe extern "C" fn $name(cx_ptr: *mut c_void) -> $t {
            cx(cx_ptr).pop().as_int() as $t
        }
    )*};
}
pop_int!(
    wit_dylib_pop_u8 -> u8, wit_dylib_pop_u16 -> u16, wit_dylib_pop_u32 -> u32,
    wit_dylib_pop_u64 -> u64, wit_dylib_pop_s8 -> i8, wit_dylib_pop_s16 -> i16,
    wit_dylib_pop_s32 -> i32, wit_dylib_pop_s64 -> i64, wit_dylib_pop_char -> u32
);

#[no_mangle]
pub unsafe extern "C" fn wit_dylib_pop_bool(cx_ptr: *mut c_void) -> bool {
    cx(cx_ptr).pop().as_int() != 0
}

macro_rules! pop_typed_int {
    ($($name:ident),*) => {$(
        #[no_mangle]
        pub unsafe extern "C" fn $name(cx_ptr: *mut c_void, _ty: usize) -> u32 {
            cx(cx_ptr).pop().as_int() as u32
        }
    )*};
}
pop_typed_int!(
    wit_dylib_pop_borrow,
    wit_dylib_pop_own,
    wit_dylib_pop_enum,
    wit_dylib_pop_flags,
    wit_dylib_pop_future,
    wit_dylib_pop_stream
);

unsafe fn pop_float(cx_ptr: *mut c_void) -> f64 {
    match cx(cx_ptr).pop() {
        Value::Float(f) => f,
        other => panic!("eryx runtime: expected a float, found {other:?}"),
    }
}

#[no_mangle]
pub unsafe extern "C" fn wit_dylib_pop_f32(cx_ptr: *mut c_void) -> f32 {
    pop_float(cx_ptr) as f32
}

#[no_mangle]
pub unsafe extern "C" fn wit_dylib_pop_f64(cx_ptr: *mut c_void) -> f64 {
    pop_float(cx_ptr)
}

#[no_mangle]
pub unsafe extern "C" fn wit_dylib_pop_string(cx_ptr: *mut c_void, ptr: *mut *const u8) -> usize {
    let c = cx(cx_ptr);
    let v = c.pop();
    match c.lend(v) {
        Value::Str(s) => {
            *ptr = s.as_ptr();
            s.len()
        }
        other => panic!("eryx runtime: expected a string, found {other:?}"),
    }
}

/// Pop a variant-like value, leave its payload on top, return the case.
unsafe fn pop_case(cx_ptr: *mut c_void) -> u32 {
    let c = cx(cx_ptr);
    match c.pop() {
        Value::Case(d, payload) => {
            if let Some(p) = payload {
                c.push(*p);
            }
            d
        }
        other => panic!("eryx runtime: expected a variant, found {other:?}"),
    }
}

#[no_mangle]
pub unsafe extern "C" fn wit_dylib_pop_option(cx_ptr: *mut c_void, _ty: usize) -> u32 {
    pop_case(cx_ptr)
}

#[no_mangle]
pub unsafe extern "C" fn wit_dylib_pop_result(cx_ptr: *mut c_void, _ty: usize) -> u32 {
    pop_case(cx_ptr)
}

#[no_mangle]
pub unsafe extern "C" fn wit_dylib_pop_variant(cx_ptr: *mut c_void, _ty: usize) -> u32 {
    pop_case(cx_ptr)
}

/// Replace a record/tuple on top by its fields, first field on top.
unsafe fn spread(cx_ptr: *mut c_void) {
    let c = cx(cx_ptr);
    match c.pop() {
        Value::List(fields) => fields.into_iter().rev().for_each(|f| c.push(f)),
        other => panic!("eryx runtime: expected a record, found {other:?}"),
    }
}

#[no_mangle]
pub unsafe extern "C" fn wit_dylib_pop_record(cx_ptr: *mut c_void, _ty: usize) {
    spread(cx_ptr)
}

#[no_mangle]
pub unsafe extern "C" fn wit_dylib_pop_tuple(cx_ptr: *mut c_void, _ty: usize) {
    spread(cx_ptr)
}

#[no_mangle]
pub unsafe extern "C" fn wit_dylib_pop_list(
    cx_ptr: *mut c_void,
    _ty: usize,
    ptr: *mut *const u8,
) -> usize {
    let c = cx(cx_ptr);
    match c.pop() {
        Value::Bytes(b) => {
            let Value::Bytes(b) = c.lend(Value::Bytes(b)) else {
                unreachable!()
            };
            *ptr = b.as_ptr();
            b.len()
        }
        Value::PyBytes(b) => {
            let Value::PyBytes(b) = c.lend(Value::PyBytes(b)) else {
                unreachable!()
            };
            *ptr = b.as_slice().as_ptr();
            b.as_slice().len()
        }
        Value::Lent(at, len) => {
            *ptr = at as *const u8;
            len
        }
        Value::List(items) => {
            *ptr = std::ptr::null();
            let n = items.len();
            c.push(Value::Iter(items.into()));
            n
        }
        other => panic!("eryx runtime: expected a list, found {other:?}"),
    }
}

unsafe fn iter_next(cx_ptr: *mut c_void) {
    let c = cx(cx_ptr);
    let next = match c.top_mut() {
        Value::Iter(items) => items.pop_front(),
        other => panic!("eryx runtime: expected a list iterator, found {other:?}"),
    };
    c.push(next.expect("eryx runtime: list iterator exhausted"));
}

#[no_mangle]
pub unsafe extern "C" fn wit_dylib_pop_list_iter_next(cx_ptr: *mut c_void, _ty: usize) {
    iter_next(cx_ptr)
}

#[no_mangle]
pub unsafe extern "C" fn wit_dylib_pop_list_iter(cx_ptr: *mut c_void, _ty: usize) {
    cx(cx_ptr).pop();
}

#[no_mangle]
pub unsafe extern "C" fn wit_dylib_pop_map(cx_ptr: *mut c_void, ty: usize) -> u32 {
    let mut p = std::ptr::null();
    wit_dylib_pop_list(cx_ptr, ty, &mut p) as u32
}

#[no_mangle]
pub unsafe extern "C" fn wit_dylib_pop_map_iter_next(cx_ptr: *mut c_void, _ty: usize) {
    iter_next(cx_ptr);
    spread(cx_ptr);
}

#[no_mangle]
pub unsafe extern "C" fn wit_dylib_pop_map_iter(cx_ptr: *mut c_void, _ty: usize) {
    cx(cx_ptr).pop();
}

/// Call the sync import `idx` with `args` (first argument first) and return
/// whatever it pushed as its result.
pub fn call_sync_import(idx: usize, args: Vec<Value>) -> Option<Value> {
    let f = meta::get().import_impl(idx)?;
    let mut c = CallCx::new();
    for a in args.into_iter().rev() {
        c.push(a);
    }
    // SAFETY: `f` is the generated lowering for this import; it pops the
    // arguments from `c` and pushes the result.
    unsafe { f(&mut c as *mut CallCx as *mut c_void) };
    (c.len() > 0).then(|| c.pop())
}
