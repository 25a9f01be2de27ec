//! The files API of a sandbox for Python (`sb.files.write/read/list/remove`,
//! the class in `eryx/_files.py`): native functions on a `Sandbox` that
//! wait for its turn like every call (GIL released, Ctrl-C honoured) and
//! run the library's `write_file`, `read_file`, `list_files` /
//! `walk_files` and `remove_file`. A refused call raises `eryx.FileError`
//! (a `SandboxError`) with the library's `kind` and the path.
use crate::errors::{file_error, sandbox_error};
use crate::ops::Cancel;
use crate::runtime::wait;
use crate::sandbox::Sandbox;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

/// What a file call does on the library sandbox.
enum FileOp {
    Write(String, Vec<u8>),
    Read(String),
    List(String, bool),
    Remove(String),
}

/// How it ended.
enum FileDone {
    Unit,
    Bytes(Vec<u8>),
    Entries(Vec<eryx::FileEntry>),
}

/// Run `op` on `sb`, blocking this thread with the GIL released.
fn run(py: Python<'_>, sb: &Sandbox, op: FileOp) -> PyResult<FileDone> {
    sb.check_reentry(py)?;
    let shared = sb.shared().clone();
    let cancel = Cancel::default();
    let fut = async move {
        let mut guard = shared.sandbox.lock().await;
        let sb = guard.as_mut()?;
        Some(match op {
            FileOp::Write(p, b) => sb.write_file(&p, &b).map(|()| FileDone::Unit),
            FileOp::Read(p) => sb.read_file(&p).map(FileDone::Bytes),
            FileOp::List(p, false) => sb.list_files(&p).map(FileDone::Entries),
            FileOp::List(p, true) => sb.walk_files(&p).map(FileDone::Entries),
            FileOp::Remove(p) => sb.remove_file(&p).map(|()| FileDone::Unit),
        })
    };
    match wait(py, fut, &cancel) {
        (_, Some(signal)) => Err(signal),
        (None, None) => Err(sandbox_error(py, "the sandbox is closed")),
        (Some(Ok(done)), None) => Ok(done),
        (Some(Err(e)), None) => Err(file_error(py, &e)),
    }
}

/// The data argument: bytes-like, or `str` (written as UTF-8).
fn data_arg(data: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(s) = data.cast::<PyString>() {
        return Ok(s.to_cow()?.as_bytes().to_vec());
    }
    crate::sandbox::state_arg(data).map_err(|_| {
        PyTypeError::new_err(format!(
            "data must be bytes or str, not {}",
            crate::config::type_name(data)
        ))
    })
}

/// `Files.write`: create or replace the file at `path`.
#[pyfunction]
pub fn _files_write(
    py: Python<'_>,
    sb: PyRef<'_, Sandbox>,
    path: String,
    data: &Bound<'_, PyAny>,
) -> PyResult<()> {
    let data = data_arg(data)?;
    run(py, &sb, FileOp::Write(path, data)).map(|_| ())
}

/// `Files.read`: the file's bytes.
#[pyfunction]
pub fn _files_read(py: Python<'_>, sb: PyRef<'_, Sandbox>, path: String) -> PyResult<Py<PyAny>> {
    match run(py, &sb, FileOp::Read(path))? {
        FileDone::Bytes(b) => Ok(PyBytes::new(py, &b).into_any().unbind()),
        _ => Ok(py.None()),
    }
}

/// `Files.list`: `(name, path, kind, size)` per entry.
#[pyfunction]
pub fn _files_list(
    py: Python<'_>,
    sb: PyRef<'_, Sandbox>,
    path: String,
    recursive: bool,
) -> PyResult<Vec<(String, String, &'static str, u64)>> {
    match run(py, &sb, FileOp::List(path, recursive))? {
        FileDone::Entries(v) => Ok(v
            .into_iter()
            .map(|e| (e.name, e.path, e.kind.as_str(), e.size))
            .collect()),
        _ => Ok(Vec::new()),
    }
}

/// `Files.remove`: remove a file, symlink or empty directory.
#[pyfunction]
pub fn _files_remove(py: Python<'_>, sb: PyRef<'_, Sandbox>, path: String) -> PyResult<()> {
    run(py, &sb, FileOp::Remove(path)).map(|_| ())
}
