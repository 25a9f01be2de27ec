//! The interpreter facade: starts CPython, loads the guest helpers (the
//! `.py` files in `guest/`) and owns the user namespace. Safe code on top of
//! `ffi::py`; every call into the helpers goes through the C API.

use crate::ffi::host;
use crate::ffi::py::{self, HeldBytes, PyErr, PyObj, PyResult};
use std::cell::RefCell;

/// Guest helper modules, in load order (later ones import earlier ones).
const MODULES: &[(&str, &str)] = &[
    ("_eryx_loop", include_str!("../guest/_eryx_loop.py")),
    (
        "_eryx_callbacks",
        include_str!("../guest/_eryx_callbacks.py"),
    ),
    ("_eryx_trace", include_str!("../guest/_eryx_trace.py")),
    ("_eryx_net", include_str!("../guest/_eryx_net.py")),
    ("_eryx_ssl", include_str!("../guest/_eryx_ssl.py")),
    ("_eryx_state", include_str!("../guest/_eryx_state.py")),
    ("_eryx_exact", include_str!("../guest/_eryx_exact.py")),
    ("_eryx_main", include_str!("../guest/_eryx_main.py")),
    ("_eryx_hooks", include_str!("../guest/_eryx_hooks.py")),
    ("_eryx_display", include_str!("../guest/_eryx_display.py")),
    ("_eryx_runtime", include_str!("../guest/_eryx_runtime.py")),
];

/// The interpreter state of this instance.
struct Runtime {
    helpers: PyObj,
    state: PyObj,
    callbacks: PyObj,
    pending: PyObj,
    namespace: PyObj,
}

/// One `execute` in progress (the helper's job object and its source).
#[derive(Clone)]
pub struct Job {
    job: PyObj,
    code: String,
}

thread_local! {
    static RUNTIME: RefCell<Option<Runtime>> = const { RefCell::new(None) };
}

/// Outcome of one `execute`.
pub enum Outcome {
    /// Ran to completion; what it printed to stdout.
    Ok(String),
    /// Raised; the traceback formatted like CPython's.
    Error(String),
    /// `SystemExit(code)`.
    Exit(i64),
}

fn new_namespace() -> PyResult<PyObj> {
    let ns = PyObj::dict()?;
    ns.set_item("__name__", &PyObj::str("__main__")?)?;
    ns.set_item("__builtins__", &PyObj::import("builtins")?)?;
    Ok(ns)
}

/// `Type: message` of an exception (for runtime-level failures).
fn describe(e: &PyErr) -> String {
    let name =
        e.0.getattr("__class__")
            .and_then(|c| c.getattr("__name__"))
            .and_then(|n| n.to_string_lossless())
            .unwrap_or_else(|_| "Exception".into());
    match e.0.str_of() {
        Ok(msg) if !msg.is_empty() => format!("{name}: {msg}"),
        _ => name,
    }
}

/// Start CPython and load the helpers.
pub fn initialize() -> Result<(), String> {
    py::initialize(crate::PREFIX_GUEST_PATH, crate::STDLIB_GUEST_PATH)?;
    let load = || -> PyResult<Runtime> {
        let mut last = None;
        for (name, source) in MODULES {
            last = Some(PyObj::module_from_source(
                name,
                &format!("/eryx/{name}.py"),
                source,
            )?);
        }
        Ok(Runtime {
            helpers: last.expect("helper modules"),
            state: PyObj::import("_eryx_state")?,
            callbacks: PyObj::import("_eryx_callbacks")?,
            pending: PyObj::import("eryx")?.getattr("_pending")?,
            namespace: new_namespace()?,
        })
    };
    let rt = load().map_err(|e| format!("loading the eryx helpers failed: {}", describe(&e)))?;
    RUNTIME.with(|r| *r.borrow_mut() = Some(rt));
    Ok(())
}

fn with_runtime<T>(f: impl FnOnce(&mut Runtime) -> Result<T, String>) -> Result<T, String> {
    RUNTIME.with(|r| match r.borrow_mut().as_mut() {
        Some(rt) => f(rt),
        None => Err("eryx runtime: Python is not initialised".into()),
    })
}

fn runtime_error(e: PyErr) -> String {
    format!("eryx runtime error: {}", describe(&e))
}

/// Compile and start `code` in the persistent user namespace.
pub fn start(code: &str) -> Result<Job, String> {
    with_runtime(|rt| {
        let job = rt
            .helpers
            .getattr("start")
            .and_then(|f| f.call(&[&PyObj::str(code)?, &rt.namespace]))
            .map_err(runtime_error)?;
        Ok(Job {
            job,
            code: code.to_string(),
        })
    })
}

/// Run the job as far as it goes: `true` when finished, `false` when it
/// waits for host calls.
pub fn drive(job: &Job) -> Result<bool, String> {
    with_runtime(|rt| {
        let done = rt
            .helpers
            .getattr("drive")
            .and_then(|f| f.call(&[&job.job, &rt.pending]))
            .map_err(runtime_error)?;
        Ok(done.is_true())
    })
}

/// The outcome of a finished job.
pub fn finish(job: &Job) -> Result<Outcome, String> {
    with_runtime(|rt| {
        let run = || -> PyResult<Outcome> {
            let h = &rt.helpers;
            let res = h.getattr("finish")?.call(&[&job.job])?;
            let stdout = res.tuple_item(0)?.to_string_lossless()?;
            let exc = res.tuple_item(1)?;
            if exc.is_none() {
                return Ok(Outcome::Ok(stdout));
            }
            if PyErr(exc.clone()).is_system_exit() {
                let pair = h.getattr("exit_code")?.call(&[&exc])?;
                let message = pair.tuple_item(1)?.to_string_lossless()?;
                if !message.is_empty() {
                    host::output(2, &message);
                }
                return Ok(Outcome::Exit(pair.tuple_item(0)?.to_i64()?));
            }
            let tb = h
                .getattr("format_exception")?
                .call(&[&exc, &PyObj::str(&job.code)?])?
                .to_string_lossless()?;
            Ok(Outcome::Error(tb))
        };
        run().map_err(runtime_error)
    })
}

/// Hand a host call's answer to the future awaiting it.
pub fn resolve(handle: u32, ok: bool, text: &str) {
    let _ = with_runtime(|rt| {
        rt.callbacks
            .getattr("resolve")
            .and_then(|f| {
                f.call(&[
                    &PyObj::int(handle as i64)?,
                    &PyObj::bool(ok),
                    &PyObj::str(text)?,
                ])
            })
            .map(|_| ())
            .map_err(runtime_error)
    });
}

/// Serialise the user namespace (see `guest/_eryx_state.py`).
pub fn snapshot() -> Result<HeldBytes, String> {
    let (bytes, skipped) = state_bytes("snapshot", None)?;
    if !skipped.is_empty() {
        host::output(
            2,
            &format!("eryx: warning: snapshot skipped values that cannot be saved: {skipped}\n"),
        );
    }
    Ok(bytes)
}

/// The per-call recovery checkpoint: the namespace serialised within
/// `budget` bytes, and the values left out for the budget (see
/// `checkpoint` in `guest/_eryx_state.py`; the host says so).
pub fn checkpoint(budget: u64) -> Result<(HeldBytes, String), String> {
    state_bytes("checkpoint", Some(budget))
}

/// `_eryx_state.<func>(namespace[, budget])`, which answers `(bytes, text)`.
fn state_bytes(func: &str, budget: Option<u64>) -> Result<(HeldBytes, String), String> {
    with_runtime(|rt| {
        let res = (|| {
            let f = rt.state.getattr(func)?;
            match budget {
                None => f.call(&[&rt.namespace]),
                Some(b) => f.call(&[&rt.namespace, &PyObj::int(b.min(i64::MAX as u64) as i64)?]),
            }
        })()
        .map_err(|e| format!("snapshot-state failed: {}", describe(&e)))?;
        let text = res
            .tuple_item(1)
            .and_then(|s| s.str_of())
            .map_err(runtime_error)?;
        let bytes = res
            .tuple_item(0)
            .and_then(PyObj::into_held_bytes)
            .map_err(runtime_error)?;
        Ok((bytes, text))
    })
}

/// Replace the user namespace by a snapshot; on error nothing changes.
pub fn restore(data: &[u8]) -> Result<(), String> {
    with_runtime(|rt| {
        let loaded = new_namespace()
            .and_then(|base| {
                rt.state
                    .getattr("restore")?
                    .call(&[&PyObj::bytes(data)?, &base])
            })
            .map_err(|e| format!("restore-state failed: {}", describe(&e)))?;
        rt.namespace = loaded;
        Ok(())
    })
}

/// In an instance made from the pre-initialisation snapshot: adopt this
/// instance's environment and arguments (`sys.argv`) and reseed `random`
/// (see `after_restore` in `guest/_eryx_runtime.py`).
pub fn after_restore(env: &[(String, String)], argv: &[String]) -> Result<(), String> {
    with_runtime(|rt| {
        let run = || -> PyResult<()> {
            let dict = PyObj::dict()?;
            for (k, v) in env {
                dict.set_item(k, &PyObj::str(v)?)?;
            }
            let args = PyObj::str_list(argv)?;
            rt.helpers.getattr("after_restore")?.call(&[&dict, &args])?;
            Ok(())
        };
        run().map_err(|e| {
            format!(
                "eryx runtime: refreshing a pre-initialised instance failed: {}",
                describe(&e)
            )
        })
    })
}

/// In the pre-init instance, just before the snapshot: empty the user
/// namespace and reset the helpers' per-instance caches (see
/// `before_snapshot` in `guest/_eryx_runtime.py`).
pub fn before_snapshot() -> Result<(), String> {
    clear()?;
    with_runtime(|rt| {
        rt.helpers
            .getattr("before_snapshot")
            .and_then(|f| f.call(&[]))
            .map(|_| ())
            .map_err(|e| {
                format!(
                    "eryx runtime: preparing the snapshot failed: {}",
                    describe(&e)
                )
            })
    })
}

/// Empty the user namespace (a fresh `__main__` dict).
pub fn clear() -> Result<(), String> {
    with_runtime(|rt| {
        rt.namespace = new_namespace().map_err(runtime_error)?;
        Ok(())
    })
}
