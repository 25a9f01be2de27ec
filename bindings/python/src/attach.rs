//! Entering Python from the runtime's worker threads, and the exit barrier
//! that keeps them out of a finalizing interpreter.
//!
//! A worker that enters Python (resolving an asyncio future, running a
//! callback, calling the output handler) may be blocked waiting for the GIL
//! when the main thread reaches `Py_FinalizeEx`. CPython ≤ 3.13 then ends the
//! waiting thread with `pthread_exit`, whose forced unwind cannot pass the
//! Rust frames below it: the process aborts (SIGABRT) after the program has
//! finished. [`from_worker`] counts the workers inside Python; an `atexit`
//! hook ([`quiesce`], registered when the module loads) refuses new entries
//! and waits, with the GIL released, until those inside have left. atexit
//! hooks run before the interpreter starts finalizing, so no worker is left
//! waiting for the GIL then.
use pyo3::prelude::*;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The longest the exit hook waits for workers still inside Python (a
/// callback that never returns must not keep the process from exiting).
const EXIT_WAIT: Duration = Duration::from_secs(5);

struct Gate {
    /// Workers inside Python now.
    inside: usize,
    /// The interpreter is exiting: no new entries.
    closed: bool,
}

static GATE: Mutex<Gate> = Mutex::new(Gate {
    inside: 0,
    closed: false,
});
static LEFT: Condvar = Condvar::new();

fn gate() -> MutexGuard<'static, Gate> {
    GATE.lock().unwrap_or_else(|p| p.into_inner())
}

/// Run `f` with the GIL from a thread Python did not start (a tokio worker
/// or blocking-pool thread). `None` once the interpreter is exiting: the
/// caller drops what it would have handed to Python.
pub fn from_worker<R>(f: impl FnOnce(Python<'_>) -> R) -> Option<R> {
    {
        let mut g = gate();
        if g.closed {
            return None;
        }
        g.inside += 1;
    }
    /// Leaves the gate even if `f` panics.
    struct Leave;
    impl Drop for Leave {
        fn drop(&mut self) {
            let mut g = gate();
            g.inside -= 1;
            if g.inside == 0 {
                LEFT.notify_all();
            }
        }
    }
    let _leave = Leave;
    Some(Python::attach(f))
}

/// The `atexit` hook: close the gate and wait (GIL released, at most
/// [`EXIT_WAIT`]) for the workers inside Python to leave.
#[pyfunction]
pub fn _quiesce(py: Python<'_>) {
    py.detach(|| {
        let deadline = Instant::now() + EXIT_WAIT;
        let mut g = gate();
        g.closed = true;
        while g.inside > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            g = LEFT
                .wait_timeout(g, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    })
}

/// Register [`_quiesce`] with `atexit` (called once, when `eryx._eryx` loads).
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let hook = wrap_pyfunction!(_quiesce, m)?;
    m.py()
        .import("atexit")?
        .getattr("register")?
        .call1((hook,))?;
    Ok(())
}
