//! Async export tasks. An `execute` whose code awaits host callbacks does
//! not finish in one go: each call to the `invoke` import becomes a subtask
//! joined to the task's waitable set, the export returns WAIT to the host,
//! and `on_event` resumes the Python event loop when a subtask returns.
//! State is per task (keyed by the id kept in the task's context slot), so
//! several exports can be in flight.

use crate::call::{CallCx, Value};
use crate::ffi::abi::task_return;
use crate::ffi::async_abi::{self as aa, PendingCall, Started};
use crate::ffi::meta;
use crate::python::{self, Job};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;

struct Task {
    which: usize,
    cx: Option<Box<CallCx>>,
    job: Job,
    set: Option<u32>,
    calls: HashMap<u32, PendingCall>,
}

thread_local! {
    static TASKS: RefCell<HashMap<usize, Task>> = RefCell::new(HashMap::new());
    static NEXT_ID: Cell<usize> = const { Cell::new(1) };
    static CURRENT: Cell<Option<usize>> = const { Cell::new(None) };
}

/// What `invoke` gave back.
pub enum Invoked {
    /// The host answered at once: (ok, text).
    Done(bool, String),
    /// In flight as this subtask handle.
    Pending(u32),
}

fn with_task<T>(id: usize, f: impl FnOnce(&mut Task) -> T) -> Option<T> {
    TASKS.with(|t| t.borrow_mut().get_mut(&id).map(f))
}

/// Run `f` with `id` as the task whose Python code is running.
fn as_current<T>(id: usize, f: impl FnOnce() -> T) -> T {
    let prev = CURRENT.with(|c| c.replace(Some(id)));
    let r = f();
    CURRENT.with(|c| c.set(prev));
    r
}

/// Start an async `execute` task for `code`; returns the callback code.
pub fn start_execute(which: usize, mut cx: Box<CallCx>, code: &str) -> u32 {
    let id = NEXT_ID.with(|n| n.replace(n.get() + 1));
    aa::set_task_context(id);
    match as_current(id, || python::start(code)) {
        Ok(job) => {
            let task = Task {
                which,
                cx: Some(cx),
                job,
                set: None,
                calls: HashMap::new(),
            };
            TASKS.with(|t| t.borrow_mut().insert(id, task));
            step(id)
        }
        Err(e) => {
            cx.push_result(Err(Some(Value::Str(e))));
            task_return(which, &mut cx);
            aa::EXIT
        }
    }
}

/// Drive task `id`'s Python code; return to the host when it must wait.
fn step(id: usize) -> u32 {
    let Some(job) = with_task(id, |t| t.job.clone()) else {
        return aa::EXIT;
    };
    let result = match as_current(id, || python::drive(&job)) {
        Ok(false) => {
            if let Some(Some(set)) = with_task(id, |t| t.set) {
                return aa::wait_on(set);
            }
            Err("eryx runtime: task waits without host calls".to_string())
        }
        Ok(true) => python::finish(&job),
        Err(e) => Err(e),
    };
    let r = crate::exports::execute_result(result);
    let (which, cx) = with_task(id, |t| (t.which, t.cx.take())).unwrap_or((0, None));
    if let Some(mut cx) = cx {
        cx.push_result(r);
        task_return(which, &mut cx);
    }
    settle(id)
}

/// After task.return: keep waiting for calls still in flight, then clean up.
fn settle(id: usize) -> u32 {
    match with_task(id, |t| (t.calls.is_empty(), t.set)) {
        Some((false, Some(set))) => aa::wait_on(set),
        _ => {
            if let Some(task) = TASKS.with(|t| t.borrow_mut().remove(&id)) {
                if let Some(set) = task.set {
                    aa::drop_waitable_set(set);
                }
            }
            aa::EXIT
        }
    }
}

/// An event for the current task (from the export's callback).
pub fn on_event(event: u32, handle: u32, state: u32) -> u32 {
    let id = aa::task_context();
    if event == aa::EVENT_SUBTASK && state == aa::SUBTASK_RETURNED {
        if let Some(Some(call)) = with_task(id, |t| t.calls.remove(&handle)) {
            let (ok, text) = result_parts(aa::finish(call));
            aa::drop_subtask(handle);
            let running = with_task(id, |t| t.cx.is_some()).unwrap_or(false);
            if running {
                python::resolve(handle, ok, &text);
            }
        }
    }
    match with_task(id, |t| t.cx.is_some()) {
        Some(true) => step(id),
        _ => settle(id),
    }
}

fn result_parts(v: Value) -> (bool, String) {
    match v {
        Value::Case(d, Some(p)) => match *p {
            Value::Str(s) => (d == 0, s),
            other => (
                false,
                format!("eryx runtime: unexpected invoke payload {other:?}"),
            ),
        },
        other => (
            false,
            format!("eryx runtime: unexpected invoke result {other:?}"),
        ),
    }
}

/// Call the host's `invoke(name, args)` from the running task.
pub fn invoke(name: &str, args: &str) -> Result<Invoked, String> {
    let id = CURRENT
        .with(|c| c.get())
        .ok_or("host callbacks can only be awaited while code is executing")?;
    let import = meta::get()
        .import_index("invoke")
        .ok_or("this sandbox has no invoke import")?;
    let set = with_task(id, |t| *t.set.get_or_insert_with(aa::new_waitable_set))
        .ok_or("eryx runtime: no task for this call")?;
    let args = vec![Value::Str(name.to_string()), Value::Str(args.to_string())];
    Ok(match aa::start_async_import(import, args, set) {
        Started::Done(v) => {
            let (ok, text) = result_parts(v);
            Invoked::Done(ok, text)
        }
        Started::Pending(handle, call) => {
            with_task(id, |t| t.calls.insert(handle, call));
            Invoked::Pending(handle)
        }
    })
}

/// Host calls in flight for the running task.
pub fn pending() -> u32 {
    CURRENT
        .with(|c| c.get())
        .and_then(|id| with_task(id, |t| t.calls.len() as u32))
        .unwrap_or(0)
}
