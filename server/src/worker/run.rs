//! One call on a worker: take an idle worker, send the job, relay what it
//! streams (output, display items) to the request, answer its callback
//! invocations, and end it: its result; or, at the deadline of an
//! uninterruptible worker, a kill and a `timeout` result built from the
//! output it had streamed; or, when it dies, an error naming how. A client
//! that goes away interrupts the call (an uninterruptible worker is
//! killed instead). A worker lost before it took a job (it died while
//! idle, say) costs the job nothing: it is tried again on another
//! worker (`Pool::retries`). Session operations use the same exchange (`remote`).
use super::proto::{self, FromWorker, Job, ToWorker};
use super::{Pool, Worker};
use crate::api::ApiError;
use crate::callbacks::{self, Identity};
use crate::config::CallbackConfig;
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

/// What answering a worker's callback invocations needs: the operator's
/// callbacks, the HTTP client, and who is calling (a remote session keeps
/// one, so its operations need nothing else of the server).
#[derive(Clone)]
pub struct Calls {
    /// The operator's callbacks.
    pub callbacks: Arc<[CallbackConfig]>,
    /// The client that makes them.
    pub http: reqwest::Client,
    /// Sent with every callback request.
    pub who: Identity,
}

impl Calls {
    /// For `who` on this server.
    pub fn new(state: &AppState, who: Identity) -> Calls {
        Calls {
            callbacks: state.config.callbacks.clone().into(),
            http: state.http.clone(),
            who,
        }
    }
}

/// How one exchange with a worker ended.
// A value that lives for one match: the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
pub enum Ended {
    /// The worker answered (`Done`, `Failed`, `SessionDone` or
    /// `NeedState`) and is healthy: given back, or kept for a resend.
    Answer(FromWorker, Worker),
    /// The request's answer is made (a timeout result, a lost worker,
    /// a cancelled call); the worker is gone.
    Over(Msg),
    /// The worker was lost before it took this job (it never said
    /// `Started`: it died while idle, say), so the job never began: it may
    /// be tried on another worker.
    LostEarly(Msg),
}

/// Run one-shot `job` on a worker of `pool`; `live`: stream to the
/// request; `token`: cancelled when the client went away.
pub async fn run(
    pool: &Arc<Pool>,
    job: Job,
    calls: &Calls,
    live: Option<UnboundedSender<Msg>>,
    token: CancellationToken,
) -> Msg {
    let timeout = Duration::from_millis(job.setup.timeout_ms);
    let capture = job.setup.capture;
    let msg = ToWorker::Run(Box::new(job));
    let mut lost_early = 0;
    loop {
        let w = match take(pool, None).await {
            Ok(w) => w,
            Err(m) => return m,
        };
        let bounds = (timeout, capture);
        match exchange(pool, w, &msg, calls, live.as_ref(), &token, bounds).await {
            Ended::Answer(
                FromWorker::Done {
                    mut result,
                    outcome,
                    duration_s,
                    files,
                },
                w,
            ) => {
                pool.give(w);
                let outcome = if token.is_cancelled() {
                    "cancelled"
                } else {
                    outcome.as_str()
                };
                pool.metrics.execute(outcome, duration_s);
                if let (Some(files), Some(obj)) = (files, result.as_object_mut()) {
                    obj.insert("files".into(), serde_json::json!(files));
                }
                return Msg::Done(Box::new(result));
            }
            Ended::Answer(
                FromWorker::Failed {
                    status,
                    code,
                    message,
                },
                w,
            ) => {
                pool.give(w);
                return Msg::Failed(failure(status, &code, message));
            }
            Ended::Answer(other, w) => {
                tracing::error!(frame = ?other, "a worker answered a call with the wrong frame");
                return lost(pool, w).await;
            }
            Ended::LostEarly(_) if lost_early < pool.retries() => lost_early += 1,
            Ended::LostEarly(m) | Ended::Over(m) => return m,
        }
    }
}

/// An idle worker (`prefer`: this one if it is idle), the request's error
/// if none could be started.
pub async fn take(pool: &Arc<Pool>, prefer: Option<u32>) -> Result<Worker, Msg> {
    pool.take(prefer).await.map_err(|e| {
        tracing::error!(error = %e, "no worker");
        Msg::Failed(ApiError::internal("no worker process could be started"))
    })
}

/// Send `msg` to `w` and relay what comes back until its answer; `bounds`:
/// the call's timeout and how much output a result built here keeps.
pub async fn exchange(
    pool: &Arc<Pool>,
    mut w: Worker,
    msg: &ToWorker,
    calls: &Calls,
    live: Option<&UnboundedSender<Msg>>,
    token: &CancellationToken,
    bounds: (Duration, usize),
) -> Ended {
    let (timeout, capture) = bounds;
    let started = Instant::now();
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
        cap: capture,
    };
    if let Err(e) = proto::write_async(&mut w.stdin, msg).await {
        tracing::warn!(error = %e, "sending a job failed");
        return Ended::LostEarly(lost(pool, w).await);
    }
    let (replies_tx, mut replies) = unbounded_channel::<ToWorker>();
    let mut cancelled = false;
    let mut taken = false;
    loop {
        tokio::select! {
            frame = w.frames.recv() => match frame {
                Some(FromWorker::Started) => taken = true,
                Some(FromWorker::Output { stdout, text }) => {
                    streamed.add(stdout, &text);
                    if let Some(tx) = live {
                        let s = if stdout { Stream::Stdout } else { Stream::Stderr };
                        let _ = tx.send(Msg::Output(s, text));
                    }
                }
                Some(FromWorker::Display(item)) => {
                    if let Some(tx) = live {
                        let _ = tx.send(Msg::Display(Box::new(item)));
                    }
                }
                Some(FromWorker::Callback { id, name, args }) => {
                    callback(calls, id, name, args, replies_tx.clone());
                }
                Some(FromWorker::Ready) | None => {
                    let m = lost(pool, w).await;
                    return if taken { Ended::Over(m) } else { Ended::LostEarly(m) };
                }
                Some(answer) => return Ended::Answer(answer, w),
            },
            Some(reply) = replies.recv() => {
                if proto::write_async(&mut w.stdin, &reply).await.is_err() {
                    return Ended::Over(lost(pool, w).await);
                }
            }
            _ = tokio::time::sleep_until(deadline.into()) => {
                let reason = pool.lost(w).await;
                if !pool.uninterruptible() {
                    tracing::error!(reason, "a call overran its timeout; its worker was killed");
                    return Ended::Over(Msg::Failed(ApiError::internal("the call overran its time limit; its worker process was stopped")));
                }
                pool.metrics.execute("timeout", started.elapsed().as_secs_f64());
                return Ended::Over(Msg::Done(Box::new(timed_out(streamed, started.elapsed()))));
            }
            _ = token.cancelled(), if !cancelled => {
                cancelled = true;
                if pool.uninterruptible() {
                    pool.lost(w).await;
                    pool.metrics.execute("cancelled", started.elapsed().as_secs_f64());
                    return Ended::Over(Msg::Failed(ApiError::internal("the call was cancelled")));
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
pub async fn lost(pool: &Arc<Pool>, w: Worker) -> Msg {
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
fn callback(calls: &Calls, id: u64, name: String, args: Value, replies: UnboundedSender<ToWorker>) {
    let cb = calls.callbacks.iter().find(|c| c.name == name).cloned();
    let (client, who) = (calls.http.clone(), calls.who.clone());
    tokio::spawn(async move {
        let result = match cb {
            Some(cb) => callbacks::post(client, cb, who, args).await,
            None => Err(format!("callback {name} is not offered")),
        };
        let _ = replies.send(ToWorker::Callback { id, result });
    });
}
