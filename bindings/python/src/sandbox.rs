//! The native `Sandbox` class (the Python package subclasses it to add the
//! asyncio methods). Every method releases the GIL while the guest runs.
//! One call at a time per sandbox: a second call from another thread (or
//! task) waits for its turn; a call from inside one of the sandbox's own
//! callbacks raises `SandboxError` instead of waiting for itself forever.
use crate::attach;
use crate::callbacks::helpers;
use crate::config::{self, type_name, Options, DEFAULT_MAX_MEMORY, DEFAULT_TIMEOUT};
use crate::errors::{sandbox_error, to_pyerr};
use crate::execution::Execution;
use crate::ops::{self, Cancel, Done, LoopSlot, Op, Shared};
use crate::runtime::{runtime, wait};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyMemoryView, PyString};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A Python sandbox: CPython 3.14 in its own WebAssembly instance with a
/// persistent namespace.
#[pyclass(subclass, module = "eryx._eryx", name = "Sandbox")]
pub struct Sandbox {
    shared: Arc<Shared>,
    /// Built with `exact=True`.
    exact: bool,
    /// Built with callbacks (those are bound to this sandbox: see `fork`).
    has_callbacks: bool,
}

/// A forked sandbox on its way to its Python object (`Sandbox(_forked=..)`,
/// see `eryx/__init__.py`'s `fork`): taken once.
#[pyclass(frozen, module = "eryx._eryx", name = "_Forked")]
pub struct Forked {
    sandbox: std::sync::Mutex<Option<eryx::Sandbox>>,
}

/// Whether a `callbacks=` argument offers any callback (one whose length
/// cannot be told counts as offering some).
fn offers_callbacks(callbacks: &Option<Bound<'_, PyAny>>) -> bool {
    match callbacks {
        Some(c) if !c.is_none() => c.len().map_or(true, |n| n > 0),
        _ => false,
    }
}

/// The code argument: a `str`.
fn code_arg(code: &Bound<'_, PyAny>) -> PyResult<String> {
    if !code.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err(format!(
            "code must be a str, not {}",
            type_name(code)
        )));
    }
    code.extract()
}

/// The state argument: bytes-like.
pub(crate) fn state_arg(data: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(b) = data.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    if let Ok(b) = data.cast::<PyByteArray>() {
        return Ok(b.to_vec());
    }
    if data.is_instance_of::<PyMemoryView>() {
        return data.call_method0("tobytes")?.extract();
    }
    Err(PyTypeError::new_err(format!(
        "state must be bytes (from Sandbox.snapshot()), not {}",
        type_name(data)
    )))
}

/// The Python value of a finished call (or its exception).
fn done_to_py(py: Python<'_>, done: Done) -> PyResult<Py<PyAny>> {
    match done {
        Done::Ran(exec) => {
            let error = exec.error.clone().filter(|_| !exec.is_ok());
            let obj = Py::new(py, Execution::new(exec))?;
            match error {
                None => Ok(obj.into_any()),
                Some(e) => Err(to_pyerr(py, &e, Some(obj))),
            }
        }
        Done::Bytes(b) => Ok(PyBytes::new(py, &b).into_any().unbind()),
        Done::Forked(sb) => Ok(Py::new(
            py,
            Forked {
                sandbox: std::sync::Mutex::new(Some(*sb)),
            },
        )?
        .into_any()),
        Done::Unit => Ok(py.None()),
        Done::Failed(e) => Err(to_pyerr(py, &e, None)),
        Done::Closed => Err(sandbox_error(py, "the sandbox is closed")),
        Done::Cancelled => Err(sandbox_error(
            py,
            "the call was cancelled before it started",
        )),
    }
}

impl Sandbox {
    /// What this sandbox shares with its calls (for `files.rs`).
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Refuse a call made from inside one of this sandbox's callbacks.
    pub(crate) fn check_reentry(&self, py: Python<'_>) -> PyResult<()> {
        let inside: bool = helpers(py)?
            .getattr("inside")?
            .call1((self.shared.key,))?
            .extract()?;
        if inside {
            return Err(sandbox_error(
                py,
                "a sandbox cannot be called from one of its own callbacks (the call in progress holds it)",
            ));
        }
        Ok(())
    }

    /// Refuse a fork this sandbox cannot make.
    fn check_fork(&self, py: Python<'_>) -> PyResult<()> {
        if self.has_callbacks {
            // The callbacks are bound to this sandbox (its event loop slot
            // and re-entry key); a direct fork would share them.
            return Err(sandbox_error(
                py,
                "a sandbox with callbacks is forked by Sandbox.fork() (through an exact \
                 snapshot into a new sandbox with its own callbacks), not by _fork()",
            ));
        }
        Ok(())
    }

    /// A key no other sandbox of this process has (for the callbacks'
    /// re-entry check).
    fn next_key() -> u64 {
        static NEXT_KEY: AtomicU64 = AtomicU64::new(1);
        NEXT_KEY.fetch_add(1, Ordering::Relaxed)
    }

    /// The Python side of a new sandbox around `sandbox`.
    fn around(sandbox: eryx::Sandbox, exact: bool, has_callbacks: bool) -> Sandbox {
        Sandbox {
            shared: Arc::new(Shared {
                interrupt: sandbox.interrupt_handle(),
                sandbox: tokio::sync::Mutex::new(Some(sandbox)),
                caller_loop: LoopSlot::default(),
                key: Sandbox::next_key(),
            }),
            exact,
            has_callbacks,
        }
    }

    /// Run `op` to its end, blocking this thread with the GIL released.
    fn call(&self, py: Python<'_>, op: Op) -> PyResult<Py<PyAny>> {
        self.check_reentry(py)?;
        let cancel = Arc::new(Cancel::default());
        let fut = ops::run(self.shared.clone(), op, None, cancel.clone());
        match wait(py, fut, &cancel) {
            // Ctrl-C: the call was interrupted (or never started); the
            // session keeps its last good state.
            (_, Some(signal)) => Err(signal),
            (done, None) => done_to_py(py, done),
        }
    }
}

#[pymethods]
impl Sandbox {
    #[new]
    #[pyo3(signature = (
        *,
        timeout = Some(DEFAULT_TIMEOUT),
        max_memory = Some(DEFAULT_MAX_MEMORY as i64),
        mounts = None,
        packages = None,
        preimport = None,
        requirements = None,
        allow_hosts = None,
        callbacks = None,
        on_output = None,
        on_display = None,
        fuel = None,
        max_output = None,
        capture_limit = None,
        callback_timeout = None,
        max_callback_invocations = None,
        keep_state_on_fault = true,
        checkpoint_budget = None,
        progress = true,
        interruptible = true,
        exact = false,
        _forked = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new<'py>(
        py: Python<'py>,
        timeout: Option<f64>,
        max_memory: Option<i64>,
        mounts: Option<Bound<'py, PyAny>>,
        packages: Option<Bound<'py, PyAny>>,
        preimport: Option<Bound<'py, PyAny>>,
        requirements: Option<Bound<'py, PyAny>>,
        allow_hosts: Option<Bound<'py, PyAny>>,
        callbacks: Option<Bound<'py, PyAny>>,
        on_output: Option<Bound<'py, PyAny>>,
        on_display: Option<Bound<'py, PyAny>>,
        fuel: Option<i64>,
        max_output: Option<i64>,
        capture_limit: Option<i64>,
        callback_timeout: Option<f64>,
        max_callback_invocations: Option<i64>,
        keep_state_on_fault: bool,
        checkpoint_budget: Option<i64>,
        progress: bool,
        interruptible: bool,
        exact: bool,
        _forked: Option<Bound<'py, Forked>>,
    ) -> PyResult<Self> {
        if let Some(f) = _forked {
            let sb = ops::lock(&f.get().sandbox).take();
            // A fork has no callbacks (`check_fork`) and is exact.
            return sb
                .map(|sb| Sandbox::around(sb, true, false))
                .ok_or_else(|| sandbox_error(py, "this fork was already taken"));
        }
        let has_callbacks = offers_callbacks(&callbacks);
        let opts = Options {
            timeout,
            max_memory,
            mounts,
            packages,
            preimport,
            requirements,
            allow_hosts,
            callbacks,
            on_output,
            on_display,
            fuel,
            max_output,
            capture_limit,
            callback_timeout,
            max_callback_invocations,
            keep_state_on_fault,
            checkpoint_budget,
            progress,
            interruptible,
            exact,
        };
        let slot = LoopSlot::default();
        let key = Sandbox::next_key();
        let builder = config::builder(py, opts, slot.clone(), key)?;
        let cancel = Arc::new(Cancel::default());
        let c = cancel.clone();
        // On a worker, so that Ctrl-C is seen even while a first use
        // compiles the image (which does not yield); an abandoned build
        // still finishes and caches it.
        let build = runtime().spawn(builder.build());
        let fut = async move {
            tokio::select! {
                biased;
                _ = c.wait() => None,
                r = build => Some(r.unwrap_or_else(|e| Err(eryx::Error::Setup(e.to_string())))),
            }
        };
        let sandbox = match wait(py, fut, &cancel) {
            (_, Some(signal)) => return Err(signal),
            (Some(Ok(sb)), None) => sb,
            (Some(Err(e)), None) => return Err(to_pyerr(py, &e, None)),
            (None, None) => return Err(sandbox_error(py, "creating the sandbox was cancelled")),
        };
        Ok(Sandbox {
            shared: Arc::new(Shared {
                interrupt: sandbox.interrupt_handle(),
                sandbox: tokio::sync::Mutex::new(Some(sandbox)),
                caller_loop: slot,
                key,
            }),
            exact,
            has_callbacks,
        })
    }

    /// Run `code` (top-level `await` allowed). Returns an `Execution`;
    /// raises `PythonError`, `TimeoutError`, `MemoryLimitError`, ... (their
    /// `execution` attribute holds the output up to the failure).
    fn execute(&self, py: Python<'_>, code: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let code = code_arg(code)?;
        self.call(py, Op::Execute(code))
    }

    /// The session's variables, functions, classes, imports and files as
    /// bytes (pickled: portable); with `exact=True` (a sandbox built with
    /// `exact=True`) the whole guest state, every object (restores only
    /// into a sandbox of the same image and build).
    #[pyo3(signature = (*, exact = false))]
    fn snapshot(&self, py: Python<'_>, exact: bool) -> PyResult<Py<PyAny>> {
        self.call(py, Op::Snapshot(exact))
    }

    /// The native half of `fork()`: the forked sandbox, for
    /// `Sandbox(_forked=...)`.
    fn _fork(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.check_fork(py)?;
        self.call(py, Op::Fork)
    }

    /// Whether the sandbox was built with callbacks (its `fork()` then
    /// goes through an exact snapshot into a new sandbox, see `fork`).
    #[getter]
    fn _has_callbacks(&self) -> bool {
        self.has_callbacks
    }

    /// Whether the sandbox was built with `exact=True` (`fork()` and
    /// `snapshot(exact=True)` need it).
    #[getter]
    fn exact(&self) -> bool {
        self.exact
    }

    /// Replace the session's state by a snapshot, pickled or exact (the
    /// bytes say which; `StateError` for bytes that are not one, or an
    /// exact one from another image or build; the state is then unchanged).
    fn restore(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let data = state_arg(data)?;
        self.call(py, Op::Restore(data))
    }

    /// Empty the session's namespace.
    fn clear(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.call(py, Op::Clear)
    }

    /// Interrupt the running call, from any thread: it raises
    /// `InterruptError` and the session keeps its last good state.
    fn interrupt(&self) {
        self.shared.interrupt.interrupt();
    }

    /// Free the sandbox (waits for a running call). Later calls raise
    /// `SandboxError`.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let shared = self.shared.clone();
        let fut = async move {
            let sb = shared.sandbox.lock().await.take();
            drop(sb);
        };
        match wait(py, fut, &Cancel::default()) {
            (_, Some(signal)) => Err(signal),
            _ => Ok(()),
        }
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        match self.shared.sandbox.try_lock() {
            Ok(g) => g.is_none(),
            Err(_) => false,
        }
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }

    /// Start `kind` (`execute`, `snapshot`, `snapshot_exact`, `restore`,
    /// `clear`, `fork`) for the
    /// asyncio API: the answer is set on asyncio future `fut` of `event_loop`
    /// (thread-safely); async callbacks run on `event_loop` meanwhile.
    #[pyo3(signature = (kind, arg, event_loop, fut))]
    fn _start(
        &self,
        py: Python<'_>,
        kind: &str,
        arg: &Bound<'_, PyAny>,
        event_loop: Py<PyAny>,
        fut: Py<PyAny>,
    ) -> PyResult<Ticket> {
        let op = match kind {
            "execute" => Op::Execute(code_arg(arg)?),
            "snapshot" => Op::Snapshot(false),
            "snapshot_exact" => Op::Snapshot(true),
            "restore" => Op::Restore(state_arg(arg)?),
            "clear" => Op::Clear,
            "fork" => {
                self.check_fork(py)?;
                Op::Fork
            }
            _ => return Err(PyValueError::new_err(format!("unknown call {kind:?}"))),
        };
        self.check_reentry(py)?;
        let cancel = Arc::new(Cancel::default());
        let shared = self.shared.clone();
        let for_callbacks = event_loop.clone_ref(py);
        let c = cancel.clone();
        runtime().spawn(async move {
            let done = ops::run(shared, op, Some(for_callbacks), c).await;
            // Nobody is waiting once the interpreter is exiting.
            let _ = attach::from_worker(|py| {
                let (value, exc) = match done_to_py(py, done) {
                    Ok(v) => (v, None),
                    Err(e) => (py.None(), Some(e.into_value(py))),
                };
                let resolve = match helpers(py).and_then(|h| h.getattr("resolve_future")) {
                    Ok(r) => r,
                    Err(e) => return e.write_unraisable(py, None),
                };
                // A closed loop refuses the answer; nobody is waiting then.
                let _ =
                    event_loop.call_method1(py, "call_soon_threadsafe", (resolve, fut, value, exc));
            });
        });
        Ok(Ticket { cancel })
    }
}

/// A started asyncio call; `cancel()` stops it (used when the awaiting
/// task is cancelled).
#[pyclass(frozen, module = "eryx._eryx")]
pub struct Ticket {
    cancel: Arc<Cancel>,
}

#[pymethods]
impl Ticket {
    /// Stop the call: give up waiting for the sandbox, or interrupt it.
    fn cancel(&self) {
        self.cancel.request();
    }
}
