//! The world's exports (`execute`, `snapshot-state`, `restore-state`,
//! `clear-state`), matched by name at initialisation and run against a call
//! context: parameters are popped, results pushed.

use crate::call::{CallCx, Value};
use crate::python::{self, Outcome};
use std::cell::RefCell;

/// The exports this runtime knows.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Export {
    Execute,
    SnapshotState,
    RestoreState,
    ClearState,
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
            "restore-state" => Export::RestoreState,
            "clear-state" => Export::ClearState,
            _ => Export::Unknown,
        })
        .collect();
    TABLE.with(|t| *t.borrow_mut() = table);
    if let Err(e) = python::initialize() {
        INIT_ERROR.with(|i| *i.borrow_mut() = Some(e));
    }
}

fn init_error() -> Option<String> {
    INIT_ERROR.with(|i| i.borrow().clone())
}

fn err_str(s: String) -> Result<Option<Value>, Option<Value>> {
    Err(Some(Value::Str(s)))
}

/// Run export `which`: pop its parameters from `cx`, push its result.
pub fn call(which: usize, cx: &mut CallCx) {
    let export = TABLE.with(|t| t.borrow().get(which).copied().unwrap_or(Export::Unknown));
    match export {
        Export::Execute => {
            let code = cx.pop_str();
            let r = match init_error() {
                Some(e) => err_str(e),
                None => execute(&code),
            };
            cx.push_result(r);
        }
        Export::SnapshotState => {
            let r = match init_error().map_or_else(python::snapshot, Err) {
                Ok(bytes) => Ok(Some(Value::Bytes(bytes))),
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
        Export::Unknown => {}
    }
}

/// `execute`'s result. Errors carry the traceback (stderr was already
/// streamed); `SystemExit(n)` is the single line `SystemExit: n`.
fn execute(code: &str) -> Result<Option<Value>, Option<Value>> {
    match python::execute(code) {
        Ok(Outcome::Ok(stdout)) => Ok(Some(Value::Str(stdout))),
        Ok(Outcome::Error(traceback)) => err_str(traceback),
        Ok(Outcome::Exit(code)) => err_str(format!("SystemExit: {code}")),
        Err(e) => err_str(e),
    }
}
