//! eryx errors as Python exceptions. The classes live in `eryx/_errors.py`
//! (so `eryx.TimeoutError` can also be a builtin `TimeoutError`); this
//! module picks the class for each `eryx::Error` and fills in its fields.
use crate::execution::Execution;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyType};

const MODULE: &str = "eryx._errors";

/// The exception class `name` of `eryx._errors`.
fn class<'py>(py: Python<'py>, name: &'static str) -> PyResult<Bound<'py, PyType>> {
    static CLASSES: PyOnceLock<Py<PyDict>> = PyOnceLock::new();
    let cache = CLASSES
        .get_or_init(py, || PyDict::new(py).unbind())
        .bind(py);
    if let Some(c) = cache.get_item(name)? {
        return Ok(c.cast_into()?);
    }
    let c: Bound<'py, PyType> = py.import(MODULE)?.getattr(name)?.cast_into()?;
    cache.set_item(name, &c)?;
    Ok(c)
}

/// Instantiate `eryx._errors.<name>(*args, kind=..., execution=...)`.
fn make<'py, A: pyo3::call::PyCallArgs<'py>>(
    py: Python<'py>,
    name: &'static str,
    args: A,
    kind: &str,
    execution: Option<Py<Execution>>,
) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let kw = PyDict::new(py);
        kw.set_item("kind", kind)?;
        kw.set_item("execution", execution)?;
        let exc = class(py, name)?.call(args, Some(&kw))?;
        Ok(PyErr::from_value(exc))
    };
    build().unwrap_or_else(|e| e)
}

/// The Python exception for `e`; `execution` is the result of the call that
/// failed (its output up to the failure), when there was one.
pub fn to_pyerr(py: Python<'_>, e: &eryx::Error, execution: Option<Py<Execution>>) -> PyErr {
    use eryx::Error as E;
    let kind = e.kind();
    match e {
        E::Python {
            type_name,
            message,
            traceback,
        } => make(
            py,
            "PythonError",
            (type_name.as_str(), message.as_str(), traceback.as_str()),
            kind,
            execution,
        ),
        E::Exit(code) => make(
            py,
            "PythonError",
            (
                "SystemExit",
                code.to_string(),
                format!("SystemExit: {code}\n"),
            ),
            kind,
            execution,
        ),
        E::Timeout | E::FuelExhausted => {
            make(py, "TimeoutError", (e.to_string(),), kind, execution)
        }
        E::MemoryLimit(_) => make(
            py,
            "MemoryLimitError",
            ("memory limit exceeded: the guest needed more than max_memory",),
            kind,
            execution,
        ),
        E::OutputLimit => make(py, "OutputLimitError", (e.to_string(),), kind, execution),
        E::Interrupted => make(
            py,
            "InterruptError",
            ("the call was interrupted",),
            kind,
            execution,
        ),
        E::State(m) => make(py, "StateError", (m.as_str(),), kind, execution),
        E::Setup(_) => make(py, "SetupError", (e.to_string(),), kind, execution),
        E::Trap(_) => make(py, "SandboxError", (e.to_string(),), kind, execution),
    }
}

/// A plain `eryx.SandboxError(message)`.
pub fn sandbox_error(py: Python<'_>, message: &str) -> PyErr {
    make(py, "SandboxError", (message,), "sandbox", None)
}

/// `eryx.FileError(message, path=..., reason=..., kind=...)` for a refused
/// files API call (`kind`: `invalid_path`, `not_found`, `read_only`,
/// `no_space`, `is_directory`, `not_directory`).
pub fn file_error(py: Python<'_>, e: &eryx::FileError) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let kw = PyDict::new(py);
        kw.set_item("kind", e.kind.as_str())?;
        kw.set_item("path", &e.path)?;
        kw.set_item("reason", &e.reason)?;
        let exc = class(py, "FileError")?.call((e.to_string(),), Some(&kw))?;
        Ok(PyErr::from_value(exc))
    };
    build().unwrap_or_else(|e| e)
}
