//! One call on a sandbox (execute, snapshot, restore, clear, fork), run the same
//! way for the blocking and the asyncio API: wait for the sandbox (calls on
//! one sandbox are served one at a time, in arrival order), run, and stop
//! early on request: before the call started by giving up the wait, after
//! by interrupting the guest through the sandbox's interrupt handle.
use pyo3::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

/// How often an interrupt is repeated until the interrupted call ends (the
/// guest may not have armed its limits yet when the first one lands).
const REINTERRUPT: Duration = Duration::from_millis(20);

/// A request to stop one call (Ctrl-C, a cancelled asyncio task).
#[derive(Default)]
pub struct Cancel {
    flag: AtomicBool,
    notify: Notify,
}

impl Cancel {
    /// Ask the call to stop.
    pub fn request(&self) {
        self.flag.store(true, Ordering::SeqCst);
        self.notify.notify_one();
    }

    /// Whether a stop was asked for.
    pub fn requested(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    /// Resolves once a stop was asked for.
    pub async fn wait(&self) {
        while !self.requested() {
            self.notify.notified().await;
        }
    }
}

/// The caller's asyncio loop for the call in progress (async callbacks run
/// on it); `None` for a blocking call.
pub type LoopSlot = Arc<Mutex<Option<Py<PyAny>>>>;

/// What a Python `Sandbox` shares with its running calls.
pub struct Shared {
    /// `None` once closed.
    pub sandbox: tokio::sync::Mutex<Option<eryx::Sandbox>>,
    pub interrupt: eryx::InterruptHandle,
    pub caller_loop: LoopSlot,
    /// Identifies this sandbox to the callback helpers (re-entry check).
    pub key: u64,
}

/// A call to make.
pub enum Op {
    Execute(String),
    /// `true`: the exact snapshot (`eryx::Sandbox::snapshot_exact`).
    Snapshot(bool),
    Restore(Vec<u8>),
    Clear,
    /// `eryx::Sandbox::fork`.
    Fork,
}

/// How a call ended.
pub enum Done {
    Ran(eryx::Execution),
    Bytes(Vec<u8>),
    Unit,
    /// A new sandbox (a fork).
    Forked(Box<eryx::Sandbox>),
    Failed(eryx::Error),
    /// The sandbox was closed.
    Closed,
    /// Stopped before it started.
    Cancelled,
}

/// Run `op` on the sandbox (waiting for its turn); `caller_loop` is the
/// loop async callbacks run on during the call.
pub async fn run(
    shared: Arc<Shared>,
    op: Op,
    caller_loop: Option<Py<PyAny>>,
    cancel: Arc<Cancel>,
) -> Done {
    let mut guard = tokio::select! {
        biased;
        _ = cancel.wait() => return Done::Cancelled,
        g = shared.sandbox.lock() => g,
    };
    let Some(sb) = guard.as_mut() else {
        return Done::Closed;
    };
    let old = std::mem::replace(&mut *lock(&shared.caller_loop), caller_loop);
    drop_py(old);
    let call = async move {
        match op {
            Op::Execute(code) => Done::Ran(sb.run(&code).await),
            Op::Snapshot(false) => sb.snapshot().await.map_or_else(Done::Failed, Done::Bytes),
            Op::Snapshot(true) => sb
                .snapshot_exact()
                .await
                .map_or_else(Done::Failed, Done::Bytes),
            Op::Fork => sb
                .fork()
                .await
                .map_or_else(Done::Failed, |f| Done::Forked(Box::new(f))),
            Op::Restore(data) => sb
                .restore(&data)
                .await
                .map_or_else(Done::Failed, |()| Done::Unit),
            Op::Clear => sb.clear().await.map_or_else(Done::Failed, |()| Done::Unit),
        }
    };
    tokio::pin!(call);
    let mut interrupted = false;
    let done = loop {
        tokio::select! {
            biased;
            d = &mut call => break d,
            _ = cancel.wait(), if !interrupted => {
                interrupted = true;
                shared.interrupt.interrupt();
            }
            _ = tokio::time::sleep(REINTERRUPT), if interrupted => shared.interrupt.interrupt(),
        }
    };
    let old = lock(&shared.caller_loop).take();
    drop_py(old);
    done
}

/// Lock a std mutex, ignoring poisoning (the data is a plain slot).
pub fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Release a Python reference from a thread that may not hold the GIL.
fn drop_py(obj: Option<Py<PyAny>>) {
    if let Some(obj) = obj {
        // Refused while exiting: pyo3 then queues the release.
        let _ = crate::attach::from_worker(move |_py| drop(obj));
    }
}
