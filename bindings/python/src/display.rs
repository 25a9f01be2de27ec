//! Rich results in Python: `Execution.displays` and `Execution.result` as
//! MIME-bundle dicts (`{"image/png": bytes, "text/plain": str, ...}`;
//! `application/json` data is the decoded JSON value).
use crate::execution::json_to_py;
use eryx::{DisplayItem, MimeData};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

/// One item's bundle as a dict.
pub fn bundle<'py>(py: Python<'py>, item: &DisplayItem) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (mime, data) in &item.data {
        match data {
            MimeData::Text(t) => dict.set_item(mime, t)?,
            MimeData::Bytes(b) => dict.set_item(mime, PyBytes::new(py, b))?,
            MimeData::Json(v) => dict.set_item(mime, json_to_py(py, v)?)?,
        }
    }
    Ok(dict)
}

/// The display items of `run` (without the last value), in order.
pub fn displays<'py>(py: Python<'py>, run: &eryx::Execution) -> PyResult<Vec<Bound<'py, PyDict>>> {
    run.displays().map(|item| bundle(py, item)).collect()
}

/// The last expression's bundle, or None.
pub fn result<'py>(py: Python<'py>, run: &eryx::Execution) -> PyResult<Option<Bound<'py, PyDict>>> {
    run.result().map(|item| bundle(py, item)).transpose()
}
