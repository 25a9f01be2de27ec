//! Python callables as eryx callbacks, and the live output and display
//! handlers.
//!
//! A callback gets its arguments as JSON and answers JSON; the Python side
//! of each call is `eryx/_callbacks.py` (decode, call, encode, turn an
//! exception into the guest's error message). Plain functions run on a
//! worker thread; `async def` functions run on the caller's event loop
//! during `execute_async` and on a private loop (`asyncio.run` on a worker
//! thread) during a blocking `execute`.
use crate::attach::from_worker;
use crate::ops::{lock, LoopSlot};
use eryx::{DisplayItem, DisplayKind, SandboxBuilder, Stream};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyModule;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// A callback's answer: JSON text of the result, or the guest's error message.
type Answer = Result<String, String>;

/// The guest's error when a callback is called while the host exits.
const EXITING: &str = "the host program is exiting";

/// `eryx._callbacks`.
pub fn helpers(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    static HELPERS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    HELPERS
        .get_or_try_init(py, || {
            Ok::<_, PyErr>(py.import("eryx._callbacks")?.unbind())
        })
        .map(|m| m.bind(py))
}

/// One Python callable offered to the guest.
pub struct PyCallback {
    pub name: String,
    pub description: String,
    pub func: Py<PyAny>,
    pub is_async: bool,
}

/// Add `cb` to `builder`. `slot` holds the caller's loop during a call;
/// `key` identifies the sandbox (so a callback cannot call back into it).
pub fn register(
    builder: SandboxBuilder,
    cb: PyCallback,
    slot: LoopSlot,
    key: u64,
) -> SandboxBuilder {
    let PyCallback {
        name,
        description,
        func,
        is_async,
    } = cb;
    let func = Arc::new(func);
    let cb_name = name.clone();
    builder.callback(&name, &description, move |args: Value| {
        let (func, slot, name) = (func.clone(), slot.clone(), cb_name.clone());
        async move {
            let args = args.to_string();
            let caller_loop = if is_async {
                from_worker(|py| lock(&slot).as_ref().map(|l| l.clone_ref(py))).flatten()
            } else {
                None
            };
            let answer = match caller_loop {
                Some(lp) => on_loop(lp, key, &name, &func, &args).await,
                None => tokio::task::spawn_blocking(move || {
                    from_worker(|py| {
                        let r = helpers(py).and_then(|h| {
                            h.getattr("call_sync")?.call1((
                                key,
                                name.as_str(),
                                func.bind(py),
                                args.as_str(),
                            ))
                        });
                        answer(py, r)
                    })
                    .unwrap_or_else(|| Err(EXITING.to_string()))
                })
                .await
                .unwrap_or_else(|e| Err(format!("callback failed: {e}"))),
            };
            let text = answer?;
            serde_json::from_str(&text).map_err(|e| format!("callback result is not JSON: {e}"))
        }
    })
}

/// Run the `async def` callback on the caller's loop and await its answer.
async fn on_loop(lp: Py<PyAny>, key: u64, name: &str, func: &Py<PyAny>, args: &str) -> Answer {
    let (tx, rx) = oneshot::channel();
    let scheduled = from_worker(|py| {
        schedule(py, &lp, key, name, func, args, tx).map_err(|e| describe(py, &e))
    });
    scheduled.unwrap_or_else(|| Err(EXITING.to_string()))?;
    rx.await
        .unwrap_or_else(|_| Err("the callback was abandoned".to_string()))
}

/// Start `call_async` on the loop `lp`; its result goes to `tx`.
fn schedule(
    py: Python<'_>,
    lp: &Py<PyAny>,
    key: u64,
    name: &str,
    func: &Py<PyAny>,
    args: &str,
    tx: oneshot::Sender<Answer>,
) -> PyResult<()> {
    let coro = helpers(py)?
        .getattr("call_async")?
        .call1((key, name, func.bind(py), args))?;
    let asyncio = py.import("asyncio")?;
    match asyncio
        .getattr("run_coroutine_threadsafe")?
        .call1((&coro, lp.bind(py)))
    {
        Ok(cf) => {
            let resolver = Resolver {
                tx: Mutex::new(Some(tx)),
            };
            cf.call_method1("add_done_callback", (resolver,))?;
            Ok(())
        }
        Err(e) => {
            let _ = coro.call_method0("close");
            Err(e)
        }
    }
}

/// A helper's `(ok, text)` reply as the guest's answer (a Python exception
/// outside the helper's own handling becomes the error message).
fn answer(py: Python<'_>, reply: PyResult<Bound<'_, PyAny>>) -> Answer {
    match reply.and_then(|r| r.extract::<(bool, String)>()) {
        Ok((true, text)) => Ok(text),
        Ok((false, text)) => Err(text),
        Err(e) => Err(describe(py, &e)),
    }
}

/// The guest-facing message for a Python exception raised outside the
/// helper's own handling (e.g. the caller's loop is closed).
fn describe(py: Python<'_>, e: &PyErr) -> String {
    let name = e
        .get_type(py)
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "Exception".into());
    format!("{name}: {}", e.value(py))
}

/// Done-callback of the `concurrent.futures.Future` an async callback runs
/// as: hands its `(ok, text)` answer to the waiting host call.
#[pyclass]
struct Resolver {
    tx: Mutex<Option<oneshot::Sender<Answer>>>,
}

#[pymethods]
impl Resolver {
    fn __call__(&self, py: Python<'_>, cf: &Bound<'_, PyAny>) {
        let answer = answer(py, cf.call_method0("result"));
        if let Some(tx) = lock(&self.tx).take() {
            let _ = tx.send(answer);
        }
    }
}

/// The live output handler calling `func(stream, text)` with `stream`
/// `"stdout"` or `"stderr"`. Its exceptions are reported as unraisable
/// (`sys.unraisablehook`), never raised into the sandbox's call.
pub fn output_handler(func: Py<PyAny>) -> impl Fn(Stream, &str) + Send + Sync + 'static {
    move |stream, text| {
        let name = match stream {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        };
        // Output after the interpreter began exiting is dropped.
        let _ = from_worker(|py| {
            if let Err(e) = func.call1(py, (name, text)) {
                e.write_unraisable(py, Some(func.bind(py)));
            }
        });
    }
}

/// `on_display(kind, bundle)`: each display item as the guest produces it
/// (`kind` "display" or "result", `bundle` as in `Execution.displays`), on
/// the thread running the guest, in order with `on_output`'s pieces.
pub fn display_handler(func: Py<PyAny>) -> impl Fn(&DisplayItem) + Send + Sync + 'static {
    move |item| {
        let kind = match item.kind {
            DisplayKind::Display => "display",
            DisplayKind::Result => "result",
        };
        let _ = from_worker(|py| {
            let called = crate::display::bundle(py, item).and_then(|b| func.call1(py, (kind, b)));
            if let Err(e) = called {
                e.write_unraisable(py, Some(func.bind(py)));
            }
        });
    }
}
