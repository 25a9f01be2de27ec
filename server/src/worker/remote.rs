//! The server's side of a session placed in worker processes: its settings
//! as a worker [`Setup`], its last good state (the bytes the worker sent
//! after the last change; `None`: as built), the generation of that state,
//! and the worker that holds a live copy of it (its home). An operation
//! goes to the home worker when it is idle (the state stays there), else
//! to any worker with the state; a worker lost during an operation costs
//! that operation only: the next one starts from the last good state on
//! another worker.
use super::proto::{
    FromWorker, Given, SessionError, SessionJob, SessionOp, SessionValue, Setup, ToWorker,
};
use super::run::{self, Calls, Ended};
use super::Pool;
use crate::api::ApiError;
use crate::exec::Msg;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

/// A session whose sandbox lives in worker processes.
pub struct Remote {
    pool: Arc<Pool>,
    id: String,
    setup: Setup,
    exact: bool,
    calls: Calls,
    /// The last good state (`None`: the sandbox as built).
    state: Option<Vec<u8>>,
    /// `state` is not the whole live state: its last change could not be
    /// snapshotted (it is older), or it is a recovery checkpoint that left
    /// values out for its budget; a snapshot is asked of the home worker.
    stale: bool,
    gen: u64,
    home: Option<u32>,
}

/// Why an operation on a remote session did not give its value.
pub enum Refused {
    /// The sandbox refused it (the state is as it was).
    Op(SessionError),
    /// The request's answer is already made (a timeout result, a lost
    /// worker, a cancelled call).
    Msg(Msg),
}

impl Refused {
    /// As the request's error (`op`: for a refusal of the sandbox).
    pub fn into_api(self, op: impl FnOnce(SessionError) -> ApiError) -> ApiError {
        match self {
            Refused::Op(e) => op(e),
            Refused::Msg(Msg::Failed(e)) => e,
            Refused::Msg(_) => ApiError::internal("the operation overran its time limit"),
        }
    }
}

impl Remote {
    /// Session `id` in the workers of `pool`, as built.
    pub fn new(pool: Arc<Pool>, id: &str, setup: Setup, exact: bool, calls: Calls) -> Remote {
        Remote {
            pool,
            id: id.to_string(),
            setup,
            exact,
            calls,
            state: None,
            stale: false,
            gen: 0,
            home: None,
        }
    }

    /// Start from `bytes` (a stored state, or a fork's): the next
    /// operation restores them in a worker (bytes that do not restore
    /// make it fail with [`SessionError::Setup`]).
    pub fn seed(&mut self, bytes: Vec<u8>) {
        self.state = Some(bytes);
        self.stale = false;
        self.gen += 1;
        self.leave_home();
    }

    /// Its snapshot (`exact`: the exact kind): the last good state when it
    /// is of that kind, else asked of a worker.
    pub async fn snapshot(&mut self, exact: bool) -> Result<Vec<u8>, Refused> {
        if exact == self.exact && !self.stale {
            if let Some(b) = &self.state {
                return Ok(b.clone());
            }
        }
        match self.op(SessionOp::Snapshot { exact }, None, None).await? {
            SessionValue::Bytes(b64) => decode(&b64),
            _ => Err(wrong()),
        }
    }

    /// One operation (`live`, `token`: of an execute).
    pub async fn op(
        &mut self,
        op: SessionOp,
        live: Option<UnboundedSender<Msg>>,
        token: Option<CancellationToken>,
    ) -> Result<SessionValue, Refused> {
        let token = token.unwrap_or_default();
        let changes = op.changes();
        let bounds = (
            Duration::from_millis(self.setup.timeout_ms),
            self.setup.capture,
        );
        let mut job = SessionJob {
            id: self.id.clone(),
            gen: self.gen,
            setup: self.setup.clone(),
            exact: self.exact,
            state: Given::Fresh,
            op,
        };
        let mut lost_early = 0;
        let mut w = run::take(&self.pool, self.home)
            .await
            .map_err(Refused::Msg)?;
        loop {
            job.state = if Some(w.pid) == self.home {
                Given::Held
            } else {
                self.given()
            };
            let msg = ToWorker::Session(Box::new(job));
            let ended = run::exchange(
                &self.pool,
                w,
                &msg,
                &self.calls,
                live.as_ref(),
                &token,
                bounds,
            )
            .await;
            let ToWorker::Session(back) = msg else {
                unreachable!("built as a session job above")
            };
            job = *back;
            match ended {
                Ended::Answer(FromWorker::NeedState, again) => {
                    // Its copy is gone (dropped from its cache): send the
                    // state to the same worker.
                    self.home = None;
                    w = again;
                }
                Ended::Answer(
                    FromWorker::SessionDone {
                        value,
                        state,
                        partial,
                    },
                    done,
                ) => {
                    let pid = done.pid;
                    self.pool.give(done);
                    return self.done(pid, changes, value, (state, partial));
                }
                Ended::Answer(other, bad) => {
                    tracing::error!(frame = ?other, "a worker answered a session job with the wrong frame");
                    self.home = None;
                    return Err(Refused::Msg(run::lost(&self.pool, bad).await));
                }
                Ended::LostEarly(_) if lost_early < self.pool.retries() => {
                    lost_early += 1;
                    self.home = None;
                    w = run::take(&self.pool, None).await.map_err(Refused::Msg)?;
                }
                Ended::LostEarly(m) | Ended::Over(m) => {
                    // The worker is gone with its copy; the last good
                    // state is what the next operation starts from.
                    self.home = None;
                    return Err(Refused::Msg(m));
                }
            }
        }
    }

    /// The state a worker without a copy starts from.
    fn given(&self) -> Given {
        match &self.state {
            Some(b) => Given::Bytes(B64.encode(b)),
            None => Given::Fresh,
        }
    }

    /// After worker `pid` answered (`state`: its new state, and whether
    /// that is a partial recovery checkpoint).
    fn done(
        &mut self,
        pid: u32,
        changes: bool,
        value: Result<SessionValue, SessionError>,
        (state, partial): (Option<String>, bool),
    ) -> Result<SessionValue, Refused> {
        if let Err(SessionError::Setup(e)) = &value {
            // It could not build the session or restore its state: it
            // holds no copy.
            tracing::error!(session = %self.id, error = %e, "a worker could not set up a session");
            return Err(Refused::Msg(Msg::Failed(ApiError::state_unreadable())));
        }
        if self.home != Some(pid) {
            self.leave_home();
            self.home = Some(pid);
        }
        if changes && value.is_ok() {
            self.gen += 1;
            match state.map(|b| B64.decode(b.as_bytes())) {
                Some(Ok(bytes)) => {
                    // A partial checkpoint is what a lost worker's session
                    // comes back from, but a snapshot asks the worker.
                    self.state = Some(bytes);
                    self.stale = partial;
                }
                _ => self.stale = true,
            }
        }
        value.map_err(Refused::Op)
    }

    /// The home worker (if any) may drop its copy.
    fn leave_home(&mut self) {
        if let Some(pid) = self.home.take() {
            self.pool.forget(pid, &self.id);
        }
    }
}

impl Drop for Remote {
    fn drop(&mut self) {
        self.leave_home();
    }
}

/// Bytes of a worker's answer.
pub fn decode(b64: &str) -> Result<Vec<u8>, Refused> {
    B64.decode(b64.as_bytes()).map_err(|_| wrong())
}

fn wrong() -> Refused {
    Refused::Msg(Msg::Failed(ApiError::internal(
        "a worker process gave a malformed answer",
    )))
}
