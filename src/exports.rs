//! The world's exports (`execute`, `snapshot-state`, `checkpoint-state`,
//! `restore-state`, `clear-state`, and the exact-session helpers `exact-grow` and
//! `exact-forget`), matched by name at initialisation and run against a call
//! context: parameters are popped, results pushed.

use crate::call::{CallCx, Value};
use crate::ffi::abi::task_return;
use crate::python::{self, Outcome};
use std::cell::RefCell;

/// The exports this runtime knows.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Export {
    Execute,
    SnapshotState,
    CheckpointState,
    RestoreState,
    ClearState,
    ExactGrow,
    ExactForget,
    Unknown,
}

thread_local! {
    static TABLE: RefCell<Vec<Export>> = const { RefCell::new(Vec::new()) };
    static INIT_ERROR: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Map export indices to handlers by name and start Python.
pub fn initialize(names: &[&str]) {
    let table = names
        .iter()
        .map(|n| match *n {
            "execute" => Export::Execute,
            "snapshot-state" => Export::SnapshotState,
            "checkpoint-state" => Export::CheckpointState,
            "restore-state" => Export::RestoreState,
            "clear-state" => Export::ClearState,
            "exact-grow" => Export::ExactGrow,
            "exact-forget" => Export::ExactForget,
            _ => Export::Unknown,
        })
        .collect();
    TABLE.with(|t| *t.borrow_mut() = table);
    crate::preinit::detect();
    if let Err(e) = python::initialize() {
        set_init_error(e);
    }
}

fn set_init_error(e: String) {
    INIT_ERROR.with(|i| *i.borrow_mut() = Some(e));
}

/// Per-instance set-up of an instance made from the pre-initialised image.
fn before_call() {
    if let Err(e) = crate::preinit::before_call() {
        set_init_error(e);
    }
}

fn init_error() -> Option<String> {
    INIT_ERROR.with(|i| i.borrow().clone())
}

fn err_str(s: String) -> Result<Option<Value>, Option<Value>> {
    Err(Some(Value::Str(s)))
}

fn export_of(which: usize) -> Export {
    TABLE.with(|t| t.borrow().get(which).copied().unwrap_or(Export::Unknown))
}

/// Start async export `which` (owning its call context); returns the
/// callback code. `execute` may suspend on host calls (see `tasks`); the
/// others complete at once.
pub fn call_async(which: usize, mut cx: Box<CallCx>) -> u32 {
    if matches!(export_of(which), Export::ExactGrow | Export::ExactForget) {
        // No per-instance set-up: these run on a memory that is about to
        // be replaced, or that was just replaced by another instance's.
        exact(export_of(which), &mut cx);
        task_return(which, &mut cx);
        return crate::ffi::async_abi::EXIT;
    }
    before_call();
    if export_of(which) == Export::Execute && init_error().is_none() {
        let code = cx.pop_str();
        let status = crate::tasks::start_execute(which, cx, &code);
        if status == crate::ffi::async_abi::EXIT {
            // The pre-init instance's one call is done: ready the snapshot.
            if let Err(e) = crate::preinit::after_call() {
                set_init_error(e);
            }
        }
        return status;
    }
    call(which, &mut cx);
    task_return(which, &mut cx);
    crate::ffi::async_abi::EXIT
}

/// Run export `which`: pop its parameters from `cx`, push its result.
pub fn call(which: usize, cx: &mut CallCx) {
    before_call();
    let export = export_of(which);
    match export {
        Export::Execute => {
            // Only reachable if a host lowers `execute` synchronously: run it
            // to completion without host callbacks in flight.
            let code = cx.pop_str();
            let r = match init_error() {
                Some(e) => err_str(e),
                None => execute_result(python::start(&code).and_then(|job| {
                    while !python::drive(&job)? {}
                    python::finish(&job)
                })),
            };
            cx.push_result(r);
        }
        Export::SnapshotState => {
            let r = match init_error().map_or_else(python::snapshot, Err) {
                Ok(bytes) => Ok(Some(Value::PyBytes(bytes))),
                Err(e) => err_str(e),
            };
            cx.push_result(r);
        }
        Export::CheckpointState => {
            // A u64 arrives widened to i64: past i64::MAX means no budget.
            let budget = u64::try_from(cx.pop().as_int()).unwrap_or(u64::MAX);
            let r = match init_error().map_or_else(|| python::checkpoint(budget), Err) {
                Ok((bytes, left_out)) => Ok(Some(Value::List(vec![
                    Value::PyBytes(bytes),
                    Value::Str(left_out),
                ]))),
                Err(e) => err_str(e),
            };
            cx.push_result(r);
        }
        Export::RestoreState => {
            let state = cx.pop_bytes();
            let r = match init_error().map_or_else(|| python::restore(&state), Err) {
                Ok(()) => Ok(None),
                Err(e) => err_str(e),
            };
            cx.push_result(r);
        }
        Export::ClearState => {
            let _ = python::clear();
        }
        Export::ExactGrow | Export::ExactForget => exact(export, cx),
        Export::Unknown => {}
    }
}

/// The exact-session helpers (see the world's doc comments).
fn exact(export: Export, cx: &mut CallCx) {
    match export {
        Export::ExactGrow => {
            let pages = cx.pop().as_int() as usize;
            let now = crate::ffi::wasi::grow_memory_to(pages);
            cx.push(Value::Int(now as i64));
        }
        Export::ExactForget => {
            let r = match crate::ffi::wasi::forget_handles_in_place() {
                Ok(()) => Ok(None),
                Err(e) => err_str(e),
            };
            cx.push_result(r);
        }
        _ => {}
    }
}

/// `execute`'s result. Errors carry the traceback (stderr was already
/// streamed); `SystemExit(n)` is the single line `SystemExit: n`.
pub fn execute_result(outcome: Result<Outcome, String>) -> Result<Option<Value>, Option<Value>> {
    match outcome {
        Ok(Outcome::Ok(stdout)) => Ok(Some(Value::Str(stdout))),
        Ok(Outcome::Error(traceback)) => err_str(traceback),
        Ok(Outcome::Exit(code)) => err_str(format!("SystemExit: {code}")),
        Err(e) => err_str(e),
    }
}
