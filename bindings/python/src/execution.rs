//! `eryx.Execution`: the result of `Sandbox.execute`, a read-only view of
//! the library's one result type `eryx::Execution` (its JSON form included).
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use serde_json::Value;

/// What one `execute` produced: output, how it ended and what it cost.
#[pyclass(frozen, module = "eryx", name = "Execution")]
pub struct Execution {
    inner: eryx::Execution,
}

impl Execution {
    pub fn new(inner: eryx::Execution) -> Self {
        Execution { inner }
    }
}

#[pymethods]
impl Execution {
    /// Everything the code wrote to stdout (up to the capture limit).
    #[getter]
    fn stdout(&self) -> &str {
        &self.inner.stdout
    }

    /// Everything the code wrote to stderr (up to the capture limit).
    #[getter]
    fn stderr(&self) -> &str {
        &self.inner.stderr
    }

    /// Wall-clock seconds of the call.
    #[getter]
    fn duration(&self) -> f64 {
        self.inner.duration.as_secs_f64()
    }

    /// Guest linear memory after the call in bytes (also its peak).
    #[getter]
    fn peak_memory(&self) -> usize {
        self.inner.peak_memory
    }

    /// How many host callbacks the code invoked.
    #[getter]
    fn callback_invocations(&self) -> u32 {
        self.inner.callback_invocations
    }

    /// Bytes of output cut at the capture limit (0: nothing was cut).
    #[getter]
    fn truncated_bytes(&self) -> usize {
        self.inner.truncated_bytes
    }

    /// Whether some output was cut at the capture limit.
    #[getter]
    fn truncated(&self) -> bool {
        self.inner.truncated()
    }

    /// The exit status a `python` process would report (0 ok).
    #[getter]
    fn exit_code(&self) -> i32 {
        self.inner.exit_code()
    }

    /// Whether the code ran to its end (or called `sys.exit(0)`).
    #[getter]
    fn ok(&self) -> bool {
        self.inner.is_ok()
    }

    /// `None`, or `{"type", "kind", "message", "traceback"}`.
    #[getter]
    fn error<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, &self.inner.to_json()["error"])
    }

    /// The display items (`display()`, matplotlib figures) in order, each a
    /// dict `{mime: data}` (images as bytes).
    #[getter]
    fn displays<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        crate::display::displays(py, &self.inner)
    }

    /// The value of the code's last expression as `{mime: data}`
    /// (`text/plain` is its repr), or None when it ended otherwise.
    #[getter]
    fn result<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        crate::display::result(py, &self.inner)
    }

    /// The canonical result object every eryx front end serves, as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, &self.inner.to_json())
    }

    /// The canonical result object as JSON text.
    fn to_json(&self) -> String {
        self.inner.to_json().to_string()
    }

    fn __repr__(&self) -> String {
        format!(
            "Execution(stdout={:?}, stderr={:?}, exit_code={}, duration={:.6})",
            self.inner.stdout,
            self.inner.stderr,
            self.inner.exit_code(),
            self.inner.duration.as_secs_f64()
        )
    }
}

/// A JSON value as the Python object `json.loads` would give.
pub fn json_to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.into_pyobject(py)?.into_any(),
            (None, Some(u)) => u.into_pyobject(py)?.into_any(),
            _ => n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any(),
        },
        Value::String(s) => s.into_pyobject(py)?.into_any(),
        Value::Array(a) => {
            let list = PyList::empty(py);
            for item in a {
                list.append(json_to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(o) => {
            let dict = PyDict::new(py);
            for (k, item) in o {
                dict.set_item(k, json_to_py(py, item)?)?;
            }
            dict.into_any()
        }
    })
}
