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
            cx.push_result(err_str("snapshot-state: not implemented yet".into()));
        }
        Export::RestoreState => {
            let _state = cx.pop_bytes();
            cx.push_result(err_str("restore-state: not implemented yet".into()));
        }
        Export::ClearState => {
            let _ = python::clear();
        }
        Export::Unknown => {}
    }
}

fn execute(code: &str) -> Result<Option<Value>, Option<Value>> {
    match python::execute(code) {
        Ok(Outcome::Ok { stdout, .. }) => Ok(Some(Value::Str(stdout))),
        Ok(Outcome::Error { stderr, traceback, .. }) => err_str(stderr + &traceback),
        Ok(Outcome::Exit { stderr, code, .. }) => err_str(format!("{stderr}SystemExit: {code}")),
        Err(e) => err_str(e),
    }
}
