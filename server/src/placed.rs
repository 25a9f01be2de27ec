//! A session's sandbox wherever it runs: in this process ([`Placed::Local`])
//! or in the worker processes ([`Placed::Remote`], with `--isolation
//! workers`): one surface for the routes, the files API, forks and the
//! stores. Executes branch in `exec.rs` (a remote one streams through the
//! worker's relay).
use crate::api::ApiError;
use crate::exec::Msg;
use crate::files::file_error;
use crate::worker::proto::{SessionError, SessionOp, SessionValue};
use crate::worker::remote::{self, Refused, Remote};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use eryx::{FileEntry, FileError, Sandbox};
use std::fmt;

/// Where a session's sandbox is.
// One per session, behind its mutex: the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
pub enum Placed {
    /// In this process.
    Local(Sandbox),
    /// In the worker processes.
    Remote(Box<Remote>),
}

/// Why an operation on a session's sandbox failed (its state is as it
/// was).
#[derive(Debug)]
pub enum Failed {
    /// The sandbox refused it (e.g. snapshot bytes that do not restore).
    Refused(String),
    /// The files API refused it.
    File(FileError),
    /// The request's error is made (a lost worker, say).
    Api(ApiError),
}

impl Failed {
    /// As the request's error; `refused` makes the one for a refusal of
    /// the sandbox.
    pub fn into_api(self, refused: impl FnOnce(String) -> ApiError) -> ApiError {
        match self {
            Failed::Refused(m) => refused(m),
            Failed::File(e) => file_error(&e),
            Failed::Api(e) => e,
        }
    }
}

impl fmt::Display for Failed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failed::Refused(m) => f.write_str(m),
            Failed::File(e) => write!(f, "{e}"),
            Failed::Api(e) => f.write_str(&e.message),
        }
    }
}

impl From<eryx::Error> for Failed {
    fn from(e: eryx::Error) -> Failed {
        Failed::Refused(e.message())
    }
}

impl From<Refused> for Failed {
    fn from(r: Refused) -> Failed {
        match r {
            Refused::Op(SessionError::File(e)) => Failed::File(e),
            Refused::Op(SessionError::State(m)) => Failed::Refused(m),
            r => Failed::Api(r.into_api(|_| ApiError::state_unreadable())),
        }
    }
}

impl Placed {
    /// Its snapshot: pickled, or (`exact`) the whole guest state.
    pub async fn snapshot(&mut self, exact: bool) -> Result<Vec<u8>, Failed> {
        match self {
            Placed::Local(sb) if exact => Ok(sb.snapshot_exact().await?),
            Placed::Local(sb) => Ok(sb.snapshot().await?),
            Placed::Remote(r) => Ok(r.snapshot(exact).await?),
        }
    }

    /// Replace its state by snapshot `bytes` (refused: the state is as it
    /// was).
    pub async fn restore(&mut self, bytes: &[u8]) -> Result<(), Failed> {
        match self {
            Placed::Local(sb) => Ok(sb.restore(bytes).await?),
            Placed::Remote(r) => {
                let op = SessionOp::Restore(B64.encode(bytes));
                r.op(op, None, None).await?;
                Ok(())
            }
        }
    }

    /// Start a new sandbox from stored `bytes` (a stored session's or a
    /// fork's): restored at once in this process; a remote one restores
    /// them in a worker at its first operation.
    pub async fn load(&mut self, bytes: Vec<u8>) -> Result<(), Failed> {
        match self {
            Placed::Local(sb) => Ok(sb.restore(&bytes).await?),
            Placed::Remote(r) => {
                r.seed(bytes);
                Ok(())
            }
        }
    }

    /// A file's bytes.
    pub async fn read_file(&mut self, path: &str) -> Result<Vec<u8>, Failed> {
        match self {
            Placed::Local(sb) => sb.read_file(path).map_err(Failed::File),
            Placed::Remote(r) => match r.op(SessionOp::Read(path.into()), None, None).await? {
                SessionValue::Bytes(b64) => Ok(remote::decode(&b64)?),
                _ => Err(malformed()),
            },
        }
    }

    /// Create or replace a file.
    pub async fn write_file(&mut self, path: &str, bytes: &[u8]) -> Result<(), Failed> {
        match self {
            Placed::Local(sb) => sb.write_file(path, bytes).map_err(Failed::File),
            Placed::Remote(r) => {
                let op = SessionOp::Write(path.into(), B64.encode(bytes));
                r.op(op, None, None).await?;
                Ok(())
            }
        }
    }

    /// Remove a file (or symlink, or empty directory).
    pub async fn remove_file(&mut self, path: &str) -> Result<(), Failed> {
        match self {
            Placed::Local(sb) => sb.remove_file(path).map_err(Failed::File),
            Placed::Remote(r) => {
                r.op(SessionOp::Remove(path.into()), None, None).await?;
                Ok(())
            }
        }
    }

    /// A directory's entries (`recursive`: the whole tree below it).
    pub async fn files(&mut self, dir: &str, recursive: bool) -> Result<Vec<FileEntry>, Failed> {
        match self {
            Placed::Local(sb) if recursive => sb.walk_files(dir).map_err(Failed::File),
            Placed::Local(sb) => sb.list_files(dir).map_err(Failed::File),
            Placed::Remote(r) => match r
                .op(SessionOp::List(dir.into(), recursive), None, None)
                .await?
            {
                SessionValue::Entries(e) => Ok(e),
                _ => Err(malformed()),
            },
        }
    }
}

fn malformed() -> Failed {
    Failed::Api(ApiError::internal(
        "a worker process gave a malformed answer",
    ))
}

/// The answer of a remote execute: the result, or the request's error.
pub fn ran(
    r: Result<SessionValue, Refused>,
    cancelled: bool,
    metrics: &crate::metrics::Metrics,
) -> Msg {
    match r {
        Ok(SessionValue::Ran {
            result,
            outcome,
            duration_s,
        }) => {
            let outcome = if cancelled {
                "cancelled"
            } else {
                outcome.as_str()
            };
            metrics.execute(outcome, duration_s);
            Msg::Done(Box::new(result))
        }
        Ok(_) => Msg::Failed(ApiError::internal(
            "a worker process gave a malformed answer",
        )),
        Err(Refused::Msg(m)) => m,
        Err(r) => Msg::Failed(Failed::from(r).into_api(ApiError::bad_request)),
    }
}
