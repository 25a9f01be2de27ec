//! Running one execute: tenant permit, worker slot, then the call in its
//! own task (so it is never dropped half-way), with the result returned as
//! JSON or streamed as Server-Sent Events (`stdout` / `stderr` chunks and
//! `display` items as written, then `result`). A client that goes away before the result
//! cancels the call: the task interrupts the sandbox until the call ends.
use crate::api::ApiError;
use crate::callbacks::Identity;
use crate::files::{FileJob, OutputFile};
use crate::placed::Placed;
use crate::scheduler::TenantState;
use crate::state::AppState;
use crate::store::{Change, Checkout};
use crate::worker::proto::{Job, SessionOp};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use eryx::{DisplayItem, Execution, InterruptHandle, Sandbox, SandboxBuilder, Stream};
use serde_json::json;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};
use tokio_util::sync::{CancellationToken, DropGuard};

/// Where the code runs.
pub enum Target {
    /// A fresh sandbox from this builder, dropped afterwards.
    OneShot(Box<SandboxBuilder>),
    /// The same, with files put in before and taken out after the code.
    OneShotFiles(Box<SandboxBuilder>, Box<FileJob>),
    /// A session, already locked by this request (its new state is
    /// committed to the store after the call).
    Session(Box<Checkout>),
    /// A one-shot call on a worker process (`--isolation workers`).
    Worker(Box<Job>, Identity),
}

/// What the execute task reports.
pub enum Msg {
    /// A piece of stdout or stderr.
    Output(Stream, String),
    /// A display item (`DisplayItem::to_json`).
    Display(Box<serde_json::Value>),
    /// The result JSON (`Execution::to_json`, with `files` if asked).
    Done(Box<serde_json::Value>),
    /// The request's error.
    Failed(ApiError),
}

/// Run `code` on `target` for `tenant`; `stream`: answer with SSE.
pub async fn execute(
    state: Arc<AppState>,
    tenant: &TenantState,
    target: Target,
    code: String,
    stream: bool,
) -> Result<Response, ApiError> {
    let tenant_permit = tenant.permit(&state.metrics)?;
    let slot = state.scheduler.acquire().await?;
    let token = CancellationToken::new();
    let guard = token.clone().drop_guard();
    let (tx, mut rx) = unbounded_channel();
    let st = state.clone();
    tokio::spawn(async move {
        let held = (tenant_permit, slot);
        let live = stream.then(|| tx.clone());
        let msg = run(&st, target, &code, live, token).await;
        // Free the tenant's permit and the worker before the answer goes
        // out: a client that sends its next execute as soon as it has this
        // one's answer must not find them still taken (a spurious 429).
        drop(held);
        let _ = tx.send(msg);
    });
    if stream {
        return Ok(sse(rx, guard));
    }
    loop {
        match rx.recv().await {
            Some(Msg::Done(result)) => {
                guard.disarm();
                return Ok(Json(*result).into_response());
            }
            Some(Msg::Failed(e)) => {
                guard.disarm();
                return Err(e);
            }
            Some(Msg::Output(..) | Msg::Display(_)) => {}
            None => return Err(ApiError::internal("the execute ended without a result")),
        }
    }
}

/// The body of the execute task.
async fn run(
    state: &AppState,
    target: Target,
    code: &str,
    live: Option<UnboundedSender<Msg>>,
    token: CancellationToken,
) -> Msg {
    let target = match (target, state.workers.get()) {
        (Target::Worker(mut job, who), Some(pool)) => {
            job.code = code.to_string();
            let calls = crate::worker::run::Calls::new(state, who);
            return crate::worker::run::run(pool, *job, &calls, live, token).await;
        }
        (Target::Worker(..), None) => {
            return Msg::Failed(ApiError::internal("this server has no worker processes"))
        }
        (t, _) => t,
    };
    let mut own;
    let mut checkout: Option<Checkout> = None;
    let (target, job) = match target {
        Target::OneShotFiles(builder, job) => (Target::OneShot(builder), Some(job)),
        t => (t, None),
    };
    let sandbox: &mut Sandbox = match target {
        Target::OneShot(builder) | Target::OneShotFiles(builder, _) => {
            match (*builder).build().await {
                Ok(s) => {
                    own = s;
                    &mut own
                }
                Err(e) => {
                    tracing::error!(error = %e, "building a sandbox failed");
                    return Msg::Failed(ApiError::internal("creating the sandbox failed"));
                }
            }
        }
        Target::Session(co) => match &mut *checkout.insert(*co).sandbox {
            Placed::Local(sb) => sb,
            Placed::Remote(r) => {
                let op = SessionOp::Run { code: code.into() };
                let r = r.op(op, live, Some(token.clone())).await;
                let msg = crate::placed::ran(r, token.is_cancelled(), &state.metrics);
                return commit(state, checkout, msg).await;
            }
        },
        Target::Worker(..) => {
            return Msg::Failed(ApiError::internal(
                "a worker call reached the in-process path",
            ))
        }
    };
    if let Some(job) = &job {
        if let Err(e) = job.put_inputs(sandbox) {
            return Msg::Failed(e);
        }
    }
    if let Some(tx) = &live {
        let out = tx.clone();
        sandbox.set_output_handler(Some(Arc::new(move |s, text: &str| {
            let _ = out.send(Msg::Output(s, text.to_string()));
        })));
        let tx = tx.clone();
        sandbox.set_display_handler(Some(Arc::new(move |item: &DisplayItem| {
            let _ = tx.send(Msg::Display(Box::new(item.to_json())));
        })));
    }
    let handle = sandbox.interrupt_handle();
    let exec = tokio::select! {
        exec = sandbox.run(code) => exec,
        never = interrupt_when_cancelled(token.clone(), handle) => match never {},
    };
    if live.is_some() {
        sandbox.set_output_handler(None);
        sandbox.set_display_handler(None);
    }
    let files = job.map(|j| j.outputs(sandbox));
    let outcome = match &exec.error {
        _ if token.is_cancelled() => "cancelled",
        _ if exec.is_ok() => "ok",
        Some(e) => e.kind(),
        None => "ok",
    };
    state.metrics.execute(outcome, exec.duration.as_secs_f64());
    tracing::debug!(outcome, ms = exec.duration.as_secs_f64() * 1e3, "execute");
    commit(
        state,
        checkout,
        Msg::Done(Box::new(result_json(&exec, files))),
    )
    .await
}

/// After an execute on a session: keep its new state (unless the call
/// could not run), then answer `msg`.
async fn commit(state: &AppState, checkout: Option<Checkout>, msg: Msg) -> Msg {
    let Some(co) = checkout else {
        return msg;
    };
    let change = match &msg {
        Msg::Done(_) => Change::Executed,
        _ => Change::Nothing,
    };
    match state.sessions.commit(co, change).await {
        Ok(()) => msg,
        Err(e) => Msg::Failed(e),
    }
}

/// The result as JSON: `Execution::to_json()`, plus `files` when the
/// request asked for output files.
fn result_json(exec: &Execution, files: Option<Vec<OutputFile>>) -> serde_json::Value {
    let mut v = exec.to_json();
    if let (Some(files), Some(obj)) = (files, v.as_object_mut()) {
        obj.insert("files".into(), json!(files));
    }
    v
}

/// Once `token` is cancelled, interrupt the sandbox's call, again and again
/// (an interrupt that lands between calls is reset by the next call) until
/// the call ends and this future is dropped.
async fn interrupt_when_cancelled(token: CancellationToken, handle: InterruptHandle) -> Infallible {
    token.cancelled().await;
    loop {
        handle.interrupt();
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The SSE response: output events as they come, then `result` (or
/// `error`). Dropping the stream (client gone) cancels the execute.
fn sse(rx: UnboundedReceiver<Msg>, guard: DropGuard) -> Response {
    let events = futures_util::stream::unfold((rx, Some(guard)), |(mut rx, guard)| async move {
        let guard = guard?;
        let (event, guard) = match rx.recv().await? {
            Msg::Output(stream, text) => {
                let name = match stream {
                    Stream::Stdout => "stdout",
                    Stream::Stderr => "stderr",
                };
                let data = json!({ "text": text }).to_string();
                (Event::default().event(name).data(data), Some(guard))
            }
            Msg::Display(item) => (crate::outputs::display_event(&item), Some(guard)),
            Msg::Done(result) => {
                guard.disarm();
                (
                    Event::default().event("result").data(result.to_string()),
                    None,
                )
            }
            Msg::Failed(e) => {
                guard.disarm();
                let data = json!({"error": {"code": e.code, "message": e.message}}).to_string();
                (Event::default().event("error").data(data), None)
            }
        };
        Some((Ok::<_, Infallible>(event), (rx, guard)))
    });
    Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(1)))
        .into_response()
}
