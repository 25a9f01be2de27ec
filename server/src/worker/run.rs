//! One call on a worker: take an idle worker, send the job, relay what it
//! streams (output, display items) to the request, answer its callback
//! invocations, and end it: its result; or, at the deadline of an
//! uninterruptible worker, a kill and a `timeout` result built from the
//! output it had streamed; or, when it dies, an error naming how. A client
//! that goes away interrupts the call (an uninterruptible worker is
//! killed instead).
use super::proto::{self, FromWorker, Job, ToWorker};
use super::{Pool, Worker};
use crate::api::ApiError;
use crate::callbacks::{self, Identity};
use crate::exec::Msg;
use crate::state::AppState;
use axum::http::StatusCode;
use eryx::{Error, Execution, Stream};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::{unbounded_channel, UnboundedSender};
use tokio_util::sync::CancellationToken;

/// Past its timeout, an interruptible worker's call gets this long to end
/// by itself before the worker is killed (it never should need it).
const BACKSTOP: Duration = Duration::from_secs(5);

/// How often a cancelled call is interrupted again until it ends.
const REINTERRUPT: Duration = Duration::from_millis(20);

/// What the call has streamed so far (kept up to the capture limit for a
/// result built here).
struct Streamed {
    stdout: String,
    stderr: String,
    cut: usize,
    cap: usize,
}

impl Streamed {
    fn add(&mut self, stdout: bool, text: &str) {
        let kept = self.stdout.len() + self.stderr.len();
        let room = self.cap.saturating_sub(kept);
        let mut take = text.len().min(room);
        while !text.is_char_boundary(take) {
            take -= 1;
        }
        let s = if stdout {
            &mut self.stdout
        } else {
            &mut self.stderr
        };
        s.push_str(&text[..take]);
        self.cut += text.len() - take;
    }
}

/// Run `job` for `who` on a worker of `pool`; `live`: stream to the
/// request; `token`: cancelled when the client went away.
pub async fn run(
    state: &AppState,
    pool: &Arc<Pool>,
    job: Job,
    who: Identity,
    live: Option<UnboundedSender<Msg>>,
    token: CancellationToken,
) -> Msg {
    let mut w = match pool.take().await {
        Ok(w) => w,
        Err(e) => {
            tracing::error!(error = %e, "no worker");
            return Msg::Failed(ApiError::internal("no worker process could be started"));
        }
    };
    let started = Instant::now();
    let timeout = Duration::from_millis(job.timeout_ms);
    let deadline = started
        + if pool.uninterruptible() {
            timeout
        } else {
            timeout + BACKSTOP
        };
    let mut streamed = Streamed {
        stdout: String::new(),
        stderr: String::new(),
        cut: 0,
        cap: job.capture,
    };
    if let Err(e) = proto::write_async(&mut w.stdin, &ToWorker::Run(Box::new(job))).await {
        tracing::warn!(error = %e, "sending a job failed");
        return lost(pool, w).await;
    }
    let (replies_tx, mut replies) = unbounded_channel::<ToWorker>();
    let mut cancelled = false;
    loop {
        tokio::select! {
            frame = w.frames.recv() => match frame {
                Some(FromWorker::Output { stdout, text }) => {
                    streamed.add(stdout, &text);
                    if let Some(tx) = &live {
                        let s = if stdout { Stream::Stdout } else { Stream::Stderr };
                        let _ = tx.send(Msg::Output(s, text));
                    }
                }
                Some(FromWorker::Display(item)) => {
                    if let Some(tx) = &live {
                        let _ = tx.send(Msg::Display(Box::new(item)));
                    }
                }
                Some(FromWorker::Callback { id, name, args }) => {
                    callback(state, &who, id, name, args, replies_tx.clone());
                }
                Some(FromWorker::Done { mut result, outcome, duration_s, files }) => {
                    pool.give(w);
                    let outcome = if cancelled { "cancelled" } else { outcome.as_str() };
                    state.metrics.execute(outcome, duration_s);
                    if let (Some(files), Some(obj)) = (files, result.as_object_mut()) {
                        obj.insert("files".into(), serde_json::json!(files));
                    }
                    return Msg::Done(Box::new(result));
                }
                Some(FromWorker::Failed { status, code, message }) => {
                    pool.give(w);
                    return Msg::Failed(failure(status, &code, message));
                }
                Some(FromWorker::Ready) | None => return lost(pool, w).await,
            },
            Some(reply) = replies.recv() => {
                if proto::write_async(&mut w.stdin, &reply).await.is_err() {
                    return lost(pool, w).await;
                }
            }
            _ = tokio::time::sleep_until(deadline.into()) => {
                let reason = pool.lost(w).await;
                if !pool.uninterruptible() {
                    tracing::error!(reason, "a call overran its timeout; its worker was killed");
                    return Msg::Failed(ApiError::internal("the call overran its time limit; its worker process was stopped"));
                }
                state.metrics.execute("timeout", started.elapsed().as_secs_f64());
                return Msg::Done(Box::new(timed_out(streamed, started.elapsed())));
            }
            _ = token.cancelled(), if !cancelled => {
                cancelled = true;
                if pool.uninterruptible() {
                    pool.lost(w).await;
                    state.metrics.execute("cancelled", started.elapsed().as_secs_f64());
                    return Msg::Failed(ApiError::internal("the call was cancelled"));
                }
                let _ = replies_tx.send(ToWorker::Interrupt);
                let again = replies_tx.clone();
                tokio::spawn(async move {
                    loop {
                        tokio::time::sleep(REINTERRUPT).await;
                        if again.send(ToWorker::Interrupt).is_err() {
                            break;
                        }
                    }
                });
            }
        }
    }
}

/// The worker died (or its pipe broke) during the call.
async fn lost(pool: &Arc<Pool>, w: Worker) -> Msg {
    let how = match pool.lost(w).await {
        "filter" => "was killed by its syscall filter",
        "killed" => "was killed",
        "exited" => "exited",
        _ => "crashed",
    };
    Msg::Failed(ApiError {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        code: "worker_lost",
        message: format!("the worker process running this call {how}; the call did not complete"),
        retry_after: None,
    })
}

/// The error a worker reported, with the codes it can send.
fn failure(status: u16, code: &str, message: String) -> ApiError {
    let code = match code {
        "file_not_found" => "file_not_found",
        "too_large" => "too_large",
        "bad_path" => "bad_path",
        "bad_request" => "bad_request",
        _ => "internal",
    };
    ApiError {
        status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        code,
        message,
        retry_after: None,
    }
}

/// The result of a call stopped at its deadline: what an interruptible
/// sandbox reports for a timeout, with the output streamed until then.
fn timed_out(s: Streamed, elapsed: Duration) -> Value {
    Execution {
        stdout: s.stdout,
        stderr: s.stderr,
        error: Some(Error::Timeout),
        duration: elapsed,
        peak_memory: 0,
        callback_invocations: 0,
        truncated_bytes: s.cut,
        outputs: Vec::new(),
    }
    .to_json()
}

/// Answer one callback invocation (the operator's HTTP callback, made by
/// the server: the worker has no network).
fn callback(
    state: &AppState,
    who: &Identity,
    id: u64,
    name: String,
    args: Value,
    replies: UnboundedSender<ToWorker>,
) {
    let cb = state
        .config
        .callbacks
        .iter()
        .find(|c| c.name == name)
        .cloned();
    let (client, who) = (state.http.clone(), who.clone());
    tokio::spawn(async move {
        let result = match cb {
            Some(cb) => callbacks::post(client, cb, who, args).await,
            None => Err(format!("callback {name} is not offered")),
        };
        let _ = replies.send(ToWorker::Callback { id, result });
    });
}
