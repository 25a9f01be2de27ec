//! The sessions a worker process holds: the sandboxes of the sessions it
//! ran recently, each at the generation of the state it left them in (at
//! most [`CAP`]; the least recently used is dropped). A session operation
//! takes its sandbox from here (the server said [`Given::Held`]), builds a
//! new one (a new session) or restores the state the server sent, runs
//! the operation, and, when the state changed, sends the new state back:
//! the server keeps every session's last good state, so a worker that is
//! killed (a deadline, a crash, its filter) loses nothing but the call it
//! was running.
use super::child::{self, Shared};
use super::proto::{FromWorker, Given, SessionError, SessionJob, SessionOp, SessionValue};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use eryx::Sandbox;
use std::collections::HashMap;

/// Sessions kept per worker (each is a live sandbox: its memory).
pub const CAP: usize = 16;

/// One held session.
struct Copy {
    gen: u64,
    sandbox: Sandbox,
    used: u64,
}

/// The worker's sessions, by id.
#[derive(Default)]
pub struct Held {
    map: HashMap<String, Copy>,
    tick: u64,
}

impl Held {
    /// Drop the copies of `ids`.
    pub fn forget(&mut self, ids: &[String]) {
        for id in ids {
            self.map.remove(id);
        }
    }

    /// Run one session operation.
    pub async fn run(
        &mut self,
        shared: &Shared,
        job: SessionJob,
        uninterruptible: bool,
    ) -> FromWorker {
        let SessionJob {
            id,
            gen,
            setup,
            exact,
            state,
            op,
        } = job;
        let fail = |e: String| FromWorker::SessionDone {
            value: Err(SessionError::Setup(e)),
            state: None,
            partial: false,
        };
        let mut sb = match state {
            Given::Held => match self.map.remove(&id) {
                Some(c) if c.gen == gen => c.sandbox,
                _ => return FromWorker::NeedState,
            },
            Given::Fresh | Given::Bytes(_) => {
                let b = child::builder(&setup, uninterruptible, shared).exact(exact);
                let mut sb = match b.build().await {
                    Ok(sb) => sb,
                    Err(e) => return fail(format!("creating the sandbox failed: {e}")),
                };
                if let Given::Bytes(b64) = state {
                    let restored = match B64.decode(b64.as_bytes()) {
                        Ok(bytes) => sb.restore(&bytes).await.map_err(|e| e.message()),
                        Err(e) => Err(format!("bad base64: {e}")),
                    };
                    if let Err(e) = restored {
                        return fail(format!("the session's state does not restore: {e}"));
                    }
                }
                sb
            }
        };
        let changes = op.changes();
        let value = perform(&mut sb, shared, op).await;
        let changed = changes && value.is_ok();
        let (state, partial) = if changed {
            // A plain session ships the recovery checkpoint the call just
            // made (no second pickling); before there is one (a file
            // written first), a snapshot.
            let recovery = (!exact).then(|| sb.recovery_snapshot()).flatten();
            let (snap, partial) = match recovery {
                Some(bytes) => (Ok(bytes), !sb.recovery_is_complete()),
                None if exact => (sb.snapshot_exact().await, false),
                None => (sb.snapshot().await, false),
            };
            match snap {
                Ok(bytes) => (Some(B64.encode(bytes)), partial),
                Err(e) => {
                    tracing::warn!(session = %id, error = %e, "snapshot after a change failed");
                    (None, false)
                }
            }
        } else {
            (None, false)
        };
        self.keep(id, gen + u64::from(changed), sb);
        FromWorker::SessionDone {
            value,
            state,
            partial,
        }
    }

    fn keep(&mut self, id: String, gen: u64, sandbox: Sandbox) {
        self.tick += 1;
        let used = self.tick;
        self.map.insert(id, Copy { gen, sandbox, used });
        while self.map.len() > CAP {
            let oldest = (self.map.iter())
                .min_by_key(|(_, c)| c.used)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => self.map.remove(&k),
                None => break,
            };
        }
    }
}

/// Do `op` on `sb`.
async fn perform(
    sb: &mut Sandbox,
    shared: &Shared,
    op: SessionOp,
) -> Result<SessionValue, SessionError> {
    let file = SessionError::File;
    let decode = |b64: &str| {
        B64.decode(b64.as_bytes())
            .map_err(|e| SessionError::State(format!("bad base64: {e}")))
    };
    match op {
        SessionOp::Run { code } => {
            let exec = child::run_in(sb, shared, &code).await;
            Ok(SessionValue::Ran {
                result: exec.to_json(),
                outcome: child::outcome(&exec).to_string(),
                duration_s: exec.duration.as_secs_f64(),
            })
        }
        SessionOp::Snapshot { exact } => {
            let snap = if exact {
                sb.snapshot_exact().await
            } else {
                sb.snapshot().await
            };
            snap.map(|b| SessionValue::Bytes(B64.encode(b)))
                .map_err(|e| SessionError::State(e.message()))
        }
        SessionOp::Restore(b64) => {
            let bytes = decode(&b64)?;
            (sb.restore(&bytes).await)
                .map(|()| SessionValue::Unit)
                .map_err(|e| SessionError::State(e.message()))
        }
        SessionOp::Read(path) => (sb.read_file(&path))
            .map(|b| SessionValue::Bytes(B64.encode(b)))
            .map_err(file),
        SessionOp::Write(path, b64) => {
            let bytes = decode(&b64)?;
            (sb.write_file(&path, &bytes))
                .map(|()| SessionValue::Unit)
                .map_err(file)
        }
        SessionOp::Remove(path) => (sb.remove_file(&path))
            .map(|()| SessionValue::Unit)
            .map_err(file),
        SessionOp::List(dir, recursive) => {
            let r = if recursive {
                sb.walk_files(&dir)
            } else {
                sb.list_files(&dir)
            };
            r.map(SessionValue::Entries).map_err(file)
        }
    }
}
