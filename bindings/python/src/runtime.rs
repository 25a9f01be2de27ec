//! The process-wide tokio runtime every sandbox runs on, and `wait`: run a
//! future to its end with the GIL released, checking for Ctrl-C (Python's
//! pending signals) while it runs.
use crate::ops::Cancel;
use pyo3::prelude::*;
use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;
use tokio::runtime::Runtime;

/// How often a waiting call looks at Python's pending signals.
const SIGNAL_POLL: Duration = Duration::from_millis(50);

/// The runtime (multi-threaded; started on first use).
pub fn runtime() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .thread_name("eryx-worker")
            .enable_all()
            .build()
            .expect("eryx: could not start the tokio runtime")
    })
}

/// Run `fut` to completion with the GIL released. If a signal handler
/// raises meanwhile (Ctrl-C: `KeyboardInterrupt`), `cancel` is requested
/// once (the future is expected to notice and end soon) and the exception
/// is returned next to the output, to be raised once the call is over.
pub fn wait<F>(py: Python<'_>, fut: F, cancel: &Cancel) -> (F::Output, Option<PyErr>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    py.detach(|| {
        if tokio::runtime::Handle::try_current().is_ok() {
            // Called from a thread of the runtime itself (e.g. a callback
            // using another sandbox): `block_on` is not allowed here, so the
            // future runs as a task and this thread waits for its answer.
            return wait_from_runtime_thread(fut, cancel);
        }
        runtime().block_on(async {
            tokio::pin!(fut);
            let mut signal: Option<PyErr> = None;
            loop {
                tokio::select! {
                    biased;
                    out = &mut fut => return (out, signal),
                    _ = tokio::time::sleep(SIGNAL_POLL), if signal.is_none() => {
                        if let Err(e) = Python::attach(|py| py.check_signals()) {
                            signal = Some(e);
                            cancel.request();
                        }
                    }
                }
            }
        })
    })
}

fn wait_from_runtime_thread<F>(fut: F, cancel: &Cancel) -> (F::Output, Option<PyErr>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (tx, rx) = std::sync::mpsc::channel();
    runtime().spawn(async move {
        let _ = tx.send(fut.await);
    });
    let mut signal: Option<PyErr> = None;
    loop {
        match rx.recv_timeout(SIGNAL_POLL) {
            Ok(out) => return (out, signal),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                if signal.is_none() {
                    if let Err(e) = Python::attach(|py| py.check_signals()) {
                        signal = Some(e);
                        cancel.request();
                    }
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                panic!("eryx: a sandbox task ended without an answer")
            }
        }
    }
}
