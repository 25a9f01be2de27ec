//! One MCP session's Python: a task that owns the [`Sandbox`] and runs the
//! session's tool calls one after another. Handlers talk to it through a
//! channel, so a handler that is dropped (client gone) never leaves the
//! sandbox half-way through a call: the call finishes (interrupted) in the
//! task and the sandbox stays usable. Cancelling a job interrupts its code.
use super::options::Options;
use eryx::{Error, Execution, InterruptHandle, Sandbox};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

/// What a session is asked to do.
enum Request {
    /// Run code with this wall-clock limit.
    Run(String, Duration),
    /// Replace the interpreter by a fresh one.
    Reset,
    /// A files API call on the sandbox (it sends its own answer).
    Files(Box<dyn FnOnce(&mut Sandbox) + Send>),
}

/// A request, its cancellation and where the answer goes.
struct Job {
    request: Request,
    cancel: CancellationToken,
    /// `Some` for a run, `None` for a reset.
    reply: oneshot::Sender<Result<Option<Execution>, String>>,
}

/// A handle on one session's Python (cheap to clone; the task ends when
/// the last handle is dropped).
#[derive(Clone)]
pub struct Session {
    jobs: mpsc::Sender<Job>,
    /// Cancelled when the connection is gone: every job is then cancelled.
    closed: CancellationToken,
}

impl Session {
    /// Start a session on `sandbox` (built from `options`), or with `None`
    /// on a sandbox built when the first job arrives (a session that is
    /// never used costs no sandbox).
    pub fn start(options: Arc<Options>, sandbox: Option<Sandbox>) -> Session {
        let (jobs, rx) = mpsc::channel(16);
        let closed = CancellationToken::new();
        tokio::spawn(serve(options, sandbox, rx, closed.clone()));
        Session { jobs, closed }
    }

    /// Run `code` with at most `timeout`. `cancel` interrupts it (the
    /// client cancelled the request or went away).
    pub async fn run(
        &self,
        code: String,
        timeout: Duration,
        cancel: CancellationToken,
    ) -> Result<Execution, String> {
        self.submit(Request::Run(code, timeout), cancel)
            .await?
            .ok_or_else(|| "the Python session gave no result".to_string())
    }

    /// Start over with a fresh interpreter (all state is lost).
    pub async fn reset(&self) -> Result<(), String> {
        self.submit(Request::Reset, CancellationToken::new())
            .await
            .map(|_| ())
    }

    /// Run `f` on the session's sandbox, in turn with the tool calls (no
    /// code runs; see `files.rs`).
    pub async fn files<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Sandbox) -> T + Send + 'static,
    ) -> Result<T, String> {
        let (tx, rx) = oneshot::channel();
        let call = move |sb: &mut Sandbox| {
            let _ = tx.send(f(sb));
        };
        self.submit(Request::Files(Box::new(call)), CancellationToken::new())
            .await?;
        rx.await
            .map_err(|_| "the Python session has ended".to_string())
    }

    /// The connection is gone: interrupt the code running now and skip
    /// every job still queued.
    pub fn close(&self) {
        self.closed.cancel();
    }

    async fn submit(
        &self,
        request: Request,
        cancel: CancellationToken,
    ) -> Result<Option<Execution>, String> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            request,
            cancel,
            reply,
        };
        self.jobs
            .send(job)
            .await
            .map_err(|_| "the Python session has ended".to_string())?;
        answer
            .await
            .map_err(|_| "the Python session has ended".to_string())?
    }
}

/// An execution that never started because its request was cancelled first.
fn cancelled() -> Execution {
    Execution {
        stdout: String::new(),
        stderr: String::new(),
        error: Some(Error::Interrupted),
        duration: Duration::ZERO,
        peak_memory: 0,
        callback_invocations: 0,
        truncated_bytes: 0,
        outputs: Vec::new(),
    }
}

/// The session task: one job at a time, in arrival order.
async fn serve(
    options: Arc<Options>,
    sandbox: Option<Sandbox>,
    mut jobs: mpsc::Receiver<Job>,
    closed: CancellationToken,
) {
    let mut sandbox = match sandbox {
        Some(sb) => sb,
        None => loop {
            let Some(job) = jobs.recv().await else { return };
            match options.build_sandbox().await {
                Ok(sb) => break run_job(&options, sb, job, &closed).await,
                Err(e) => {
                    let _ = job
                        .reply
                        .send(Err(format!("cannot start the sandbox: {e}")));
                }
            }
        },
    };
    while let Some(job) = jobs.recv().await {
        sandbox = run_job(&options, sandbox, job, &closed).await;
    }
}

/// Do one job on `sandbox`; returns the sandbox to use next.
async fn run_job(
    options: &Options,
    mut sandbox: Sandbox,
    job: Job,
    closed: &CancellationToken,
) -> Sandbox {
    match job.request {
        Request::Run(_, _) if job.cancel.is_cancelled() || closed.is_cancelled() => {
            let _ = job.reply.send(Ok(Some(cancelled())));
        }
        Request::Run(code, timeout) => {
            let watcher = tokio::spawn(interrupt_on_cancel(
                sandbox.interrupt_handle(),
                job.cancel.clone(),
                closed.clone(),
            ));
            sandbox.set_timeout(Some(timeout));
            let execution = sandbox.run(&code).await;
            watcher.abort();
            let _ = job.reply.send(Ok(Some(execution)));
            if options.stateless {
                // The next call gets a fresh interpreter (built now, so
                // it is ready before the next request arrives).
                sandbox = fresh(options, sandbox).await;
            }
        }
        Request::Files(call) => {
            call(&mut sandbox);
            let _ = job.reply.send(Ok(None));
        }
        Request::Reset => {
            let answer = match options.build_sandbox().await {
                Ok(new) => {
                    sandbox = new;
                    Ok(None)
                }
                Err(e) => match sandbox.clear().await {
                    Ok(()) => Ok(None),
                    Err(_) => Err(format!("cannot start a fresh interpreter: {e}")),
                },
            };
            let _ = job.reply.send(answer);
        }
    }
    sandbox
}

/// Once the job or the connection is cancelled, interrupt the running call
/// (once: the flag would otherwise also stop the sandbox's own recovery
/// work after the call).
async fn interrupt_on_cancel(
    handle: InterruptHandle,
    cancel: CancellationToken,
    closed: CancellationToken,
) {
    tokio::select! {
        _ = cancel.cancelled() => {}
        _ = closed.cancelled() => {}
    }
    handle.interrupt();
}

/// A new sandbox, or (if one cannot be built) the old one emptied: a call
/// never sees an earlier call's variables.
async fn fresh(options: &Options, mut old: Sandbox) -> Sandbox {
    match options.build_sandbox().await {
        Ok(new) => new,
        Err(e) => {
            eprintln!("eryx mcp: cannot start a fresh sandbox ({e}); clearing the old one");
            let _ = old.clear().await;
            old
        }
    }
}
