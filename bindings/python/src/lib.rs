//! The native module `eryx._eryx` behind the Python package `eryx`: the
//! `Sandbox` and `Execution` classes, `prepare()` and a benchmark hook. The
//! pure-Python side (`python/eryx/`) defines the exception classes, the
//! `callback` decorator, `execute_async` and the helpers that call the
//! user's callables.
//!
//! Modules: `attach` (entering Python from worker threads; the exit
//! barrier), `runtime` (the process-wide tokio runtime and waiting with
//! Ctrl-C checks), `ops` (one call on a sandbox, cancellable), `config`
//! (constructor arguments -> `eryx::SandboxBuilder`), `callbacks` (Python
//! callables as eryx callbacks, the output handler), `errors` (eryx errors ->
//! Python exceptions), `execution` (the result class), `sandbox` (the class),
//! `files` (the files API behind `sb.files`).
use pyo3::prelude::*;

mod attach;
mod callbacks;
mod config;
mod display;
mod errors;
mod execution;
mod files;
mod ops;
mod runtime;
mod sandbox;

/// Build, pre-initialise and compile the default sandbox image now (cached
/// on disk), so the first `Sandbox()` is fast. Reports progress on stderr.
#[pyfunction]
#[pyo3(signature = (progress = true))]
fn prepare(py: Python<'_>, progress: bool) -> PyResult<()> {
    let cancel = std::sync::Arc::new(ops::Cancel::default());
    let c = cancel.clone();
    let fut = async move {
        tokio::select! {
            biased;
            _ = c.wait() => None,
            r = tokio::task::spawn_blocking(move || eryx::prepare(progress)) => Some(r),
        }
    };
    match runtime::wait(py, fut, &cancel) {
        (_, Some(interrupt)) => Err(interrupt),
        (Some(Ok(Ok(()))), None) => Ok(()),
        (Some(Ok(Err(e))), None) => Err(errors::to_pyerr(py, &e, None)),
        (Some(Err(e)), None) => Err(errors::sandbox_error(py, &format!("prepare failed: {e}"))),
        (None, None) => Err(errors::sandbox_error(py, "prepare was cancelled")),
    }
}

/// Benchmark hook: the same warm `execute(code)` as `Sandbox.execute`, but
/// driven from Rust through the library alone (no Python per call), in this
/// process: `n` calls after one warm-up, each call's seconds.
#[pyfunction]
fn _rust_warm_execute(py: Python<'_>, code: String, n: usize) -> PyResult<Vec<f64>> {
    let fut = async move {
        let mut sb = config::defaults(eryx::Sandbox::builder()).build().await?;
        sb.run(&code).await.into_result()?;
        let mut times = Vec::with_capacity(n);
        for _ in 0..n {
            let t = std::time::Instant::now();
            let r = sb.run(&code).await;
            times.push(t.elapsed().as_secs_f64());
            r.into_result()?;
        }
        Ok::<_, eryx::Error>(times)
    };
    let cancel = ops::Cancel::default();
    match runtime::wait(py, fut, &cancel) {
        (_, Some(interrupt)) => Err(interrupt),
        (Ok(t), None) => Ok(t),
        (Err(e), None) => Err(errors::to_pyerr(py, &e, None)),
    }
}

#[pymodule]
fn _eryx(m: &Bound<'_, PyModule>) -> PyResult<()> {
    attach::register(m)?;
    m.add_class::<sandbox::Sandbox>()?;
    m.add_class::<sandbox::Ticket>()?;
    m.add_class::<sandbox::Forked>()?;
    m.add_class::<execution::Execution>()?;
    m.add_function(wrap_pyfunction!(prepare, m)?)?;
    m.add_function(wrap_pyfunction!(_rust_warm_execute, m)?)?;
    m.add_function(wrap_pyfunction!(files::_files_write, m)?)?;
    m.add_function(wrap_pyfunction!(files::_files_read, m)?)?;
    m.add_function(wrap_pyfunction!(files::_files_list, m)?)?;
    m.add_function(wrap_pyfunction!(files::_files_remove, m)?)?;
    m.add("DEFAULT_TIMEOUT", config::DEFAULT_TIMEOUT)?;
    m.add("DEFAULT_MAX_MEMORY", config::DEFAULT_MAX_MEMORY)?;
    Ok(())
}
