//! The interpreter facade: starts CPython, loads the guest helpers
//! (`python/_eryx_runtime.py`) and owns the user namespace. Safe code on top
//! of `ffi::py`.

use crate::ffi::py::{self, PyErr, PyObj, PyResult};
use std::cell::RefCell;

const HELPERS_SOURCE: &str = include_str!("../python/_eryx_runtime.py");
const HELPERS_FILE: &str = "/eryx/_eryx_runtime.py";

/// The interpreter state of this instance.
struct Runtime {
    helpers: PyObj,
    namespace: PyObj,
}

thread_local! {
    static RUNTIME: RefCell<Option<Runtime>> = const { RefCell::new(None) };
}

/// Outcome of one `execute`.
pub enum Outcome {
    /// Ran to completion.
    Ok { stdout: String, stderr: String },
    /// Raised; `traceback` is formatted like CPython's.
    Error { stdout: String, stderr: String, traceback: String },
    /// `SystemExit(code)`.
    Exit { stdout: String, stderr: String, code: i64 },
}

fn new_namespace() -> PyResult<PyObj> {
    let ns = PyObj::dict()?;
    ns.set_item("__name__", &PyObj::str("__main__")?)?;
    ns.set_item("__builtins__", &PyObj::import("builtins")?)?;
    Ok(ns)
}

fn describe(e: PyErr) -> String {
    // Last resort when even the helpers fail: the exception's repr via str().
    match e.0.getattr("__class__").and_then(|c| c.getattr("__name__")) {
        Ok(n) => n.to_string_lossless().unwrap_or_default(),
        Err(_) => "unknown error".into(),
    }
}

/// Start CPython and load the helpers. Errors are reported on first use.
pub fn initialize() -> Result<(), String> {
    py::initialize(crate::STDLIB_GUEST_PATH)?;
    let helpers = PyObj::module_from_source("_eryx_runtime", HELPERS_FILE, HELPERS_SOURCE)
        .map_err(|e| format!("loading eryx helpers failed: {}", describe(e)))?;
    let namespace = new_namespace().map_err(describe)?;
    RUNTIME.with(|r| *r.borrow_mut() = Some(Runtime { helpers, namespace }));
    Ok(())
}

fn with_runtime<T>(f: impl FnOnce(&Runtime) -> Result<T, String>) -> Result<T, String> {
    RUNTIME.with(|r| match r.borrow().as_ref() {
        Some(rt) => f(rt),
        None => Err("eryx runtime: Python is not initialised".into()),
    })
}

/// Run `code` in the persistent user namespace.
pub fn execute(code: &str) -> Result<Outcome, String> {
    with_runtime(|rt| {
        let run = || -> PyResult<Outcome> {
            let res = rt
                .helpers
                .getattr("execute")?
                .call(&[&PyObj::str(code)?, &rt.namespace])?;
            let stdout = res.tuple_item(0)?.to_string_lossless()?;
            let mut stderr = res.tuple_item(1)?.to_string_lossless()?;
            let exc = res.tuple_item(2)?;
            if exc.is_none() {
                return Ok(Outcome::Ok { stdout, stderr });
            }
            if PyErr(exc.clone()).is_system_exit() {
                let pair = rt.helpers.getattr("exit_code")?.call(&[&exc])?;
                let code = pair.tuple_item(0)?.to_i64()?;
                stderr.push_str(&pair.tuple_item(1)?.to_string_lossless()?);
                return Ok(Outcome::Exit { stdout, stderr, code });
            }
            let traceback = rt
                .helpers
                .getattr("format_exception")?
                .call(&[&exc, &PyObj::str(code)?])?
                .to_string_lossless()?;
            Ok(Outcome::Error { stdout, stderr, traceback })
        };
        run().map_err(|e| format!("eryx runtime error: {}", describe(e)))
    })
}

/// Empty the user namespace (a fresh `__main__` dict).
pub fn clear() -> Result<(), String> {
    let ns = new_namespace().map_err(describe)?;
    RUNTIME.with(|r| {
        if let Some(rt) = r.borrow_mut().as_mut() {
            rt.namespace = ns;
        }
    });
    Ok(())
}
