//! The wire between the server and a worker process: frames on the
//! worker's stdin (server → worker) and stdout (worker → server), each a
//! little-endian `u32` length and that many bytes of JSON. Both sides read
//! with a cap on the frame size, so a confused or hostile peer gets an
//! error, never a huge allocation.
use crate::files::{InputFile, OutputFile};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::io::{self, Read, Write};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Largest frame either side accepts (a job with its input files, or a
/// result with its output files and rich outputs).
pub const MAX_FRAME: usize = 256 << 20;

/// What every sandbox a worker builds is made with (the worker knows no
/// configuration of its own).
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct Setup {
    /// Wall-clock limit (enforced by the sandbox when the worker's engine
    /// is interruptible, else by the server killing the worker).
    pub timeout_ms: u64,
    /// Memory cap in bytes.
    pub max_memory: u64,
    /// Output cap (bytes of stdout+stderr before `output_limit`).
    pub max_output: usize,
    /// Bytes of output kept in the result.
    pub capture: usize,
    /// Cap on callback invocations.
    pub max_callback_invocations: u32,
    /// The operator's callbacks offered to the guest (name, description);
    /// an invocation comes back to the server as [`FromWorker::Callback`].
    pub callbacks: Vec<(String, String)>,
}

/// One one-shot call for a worker: a fresh sandbox, the code, files in and
/// out.
#[derive(Serialize, Deserialize, Debug)]
pub struct Job {
    /// The sandbox.
    pub setup: Setup,
    /// Input files (validated by the server already).
    pub files: Vec<InputFile>,
    /// Output file paths or globs.
    pub output_files: Vec<String>,
    /// Cap on the bytes of all output files.
    pub files_cap: usize,
    /// The code.
    pub code: String,
    /// A test-only misbehaviour (honoured only by a worker started with
    /// test hooks; see `child::hook`).
    pub hook: Option<String>,
}

/// One operation on a session. The server keeps every session's last good
/// state; a worker keeps the sessions it ran recently (at the generation
/// it left them), so the state crosses the pipe only when the session
/// moves to another worker or its worker was lost.
#[derive(Serialize, Deserialize, Debug)]
pub struct SessionJob {
    /// The session id (the worker's key for the copy it holds).
    pub id: String,
    /// The generation of the state the operation starts from; a state
    /// change makes it `gen + 1`.
    pub gen: u64,
    /// The session's sandbox.
    pub setup: Setup,
    /// An exact session: its state is an exact snapshot.
    pub exact: bool,
    /// Where the state comes from.
    pub state: Given,
    /// What to do.
    pub op: SessionOp,
}

/// The state a [`SessionJob`] starts from.
#[derive(Serialize, Deserialize, Debug)]
pub enum Given {
    /// The copy the worker holds at `gen` (else it answers
    /// [`FromWorker::NeedState`]).
    Held,
    /// A new session: the sandbox as built.
    Fresh,
    /// These snapshot bytes (base64).
    Bytes(String),
}

/// An operation on a session.
#[derive(Serialize, Deserialize, Debug)]
pub enum SessionOp {
    /// Run code (streams like a one-shot; changes the state).
    Run { code: String },
    /// Its snapshot, pickled or exact (no change).
    Snapshot { exact: bool },
    /// Replace its state by these snapshot bytes (base64).
    Restore(String),
    /// A file's bytes (no change).
    Read(String),
    /// Write a file: path, bytes (base64).
    Write(String, String),
    /// Remove a file.
    Remove(String),
    /// List a directory (recursively when `true`).
    List(String, bool),
}

impl SessionOp {
    /// Whether a success changes the session's state.
    pub fn changes(&self) -> bool {
        matches!(
            self,
            SessionOp::Run { .. }
                | SessionOp::Restore(_)
                | SessionOp::Write(..)
                | SessionOp::Remove(_)
        )
    }
}

/// What a session operation gave.
#[derive(Serialize, Deserialize, Debug)]
pub enum SessionValue {
    /// Code ran: the result JSON, the outcome for the metrics, duration.
    Ran {
        result: Value,
        outcome: String,
        duration_s: f64,
    },
    /// Bytes (a snapshot or a file), base64.
    Bytes(String),
    /// Directory entries.
    Entries(Vec<eryx::FileEntry>),
    /// Done.
    Unit,
}

/// Why a session operation was refused (the state is as it was).
#[derive(Serialize, Deserialize, Debug)]
pub enum SessionError {
    /// The files API refused it.
    File(eryx::FileError),
    /// Snapshot or restore failed.
    State(String),
    /// The sandbox could not be built or its given state restored.
    Setup(String),
}

/// Server → worker.
#[derive(Serialize, Deserialize, Debug)]
pub enum ToWorker {
    /// Run this call (one at a time).
    Run(Box<Job>),
    /// Run this session operation (one at a time, like calls).
    Session(Box<SessionJob>),
    /// Drop the copies of these sessions (deleted, or moved elsewhere).
    Forget(Vec<String>),
    /// The answer to callback invocation `id`.
    Callback {
        id: u64,
        result: Result<Value, String>,
    },
    /// Interrupt the running call (the client went away).
    Interrupt,
}

/// Worker → server.
#[derive(Serialize, Deserialize, Debug)]
pub enum FromWorker {
    /// Started, pre-warmed and filtered: ready for jobs.
    Ready,
    /// It took the job just sent (a worker lost before this never began
    /// it, so the job may go to another worker).
    Started,
    /// A piece of stdout (`true`) or stderr as the guest wrote it.
    Output { stdout: bool, text: String },
    /// A display item as it was produced (`DisplayItem::to_json`).
    Display(Value),
    /// The guest invoked operator callback `name`.
    Callback { id: u64, name: String, args: Value },
    /// The call ended: the result JSON (`Execution::to_json`), the outcome
    /// for the metrics (`ok` or the error kind), its duration, and the
    /// output files when the job asked for some.
    Done {
        result: Value,
        outcome: String,
        duration_s: f64,
        files: Option<Vec<OutputFile>>,
    },
    /// The session operation ended: its value or error, and the session's
    /// new state (base64) when it changed and could be snapshotted;
    /// `partial`: that state is a recovery checkpoint that left values out
    /// for its budget (an explicit snapshot must be asked for).
    SessionDone {
        value: Result<SessionValue, SessionError>,
        state: Option<String>,
        #[serde(default)]
        partial: bool,
    },
    /// A [`Given::Held`] job for a session this worker does not hold at
    /// that generation: send it again with the state.
    NeedState,
    /// The call could not run (bad input files, the sandbox not built):
    /// the request's error.
    Failed {
        status: u16,
        code: String,
        message: String,
    },
}

/// Write `msg` as one frame.
pub fn write<T: Serialize>(out: &mut impl Write, msg: &T) -> io::Result<()> {
    let bytes = serde_json::to_vec(msg).map_err(io::Error::other)?;
    let len = u32::try_from(bytes.len())
        .ok()
        .filter(|&n| n as usize <= MAX_FRAME)
        .ok_or_else(|| io::Error::other("frame too large"))?;
    out.write_all(&len.to_le_bytes())?;
    out.write_all(&bytes)?;
    out.flush()
}

/// Read one frame (`Ok(None)`: the peer closed the stream).
pub fn read<T: DeserializeOwned>(input: &mut impl Read) -> io::Result<Option<T>> {
    let mut len = [0u8; 4];
    match input.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_le_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(io::Error::other(format!("frame of {len} bytes refused")));
    }
    let mut buf = vec![0u8; len];
    input.read_exact(&mut buf)?;
    serde_json::from_slice(&buf)
        .map(Some)
        .map_err(|e| io::Error::other(format!("bad frame: {e}")))
}

/// [`write`] on an async stream (the server's side of a worker's stdin).
pub async fn write_async<T: Serialize>(
    out: &mut (impl AsyncWrite + Unpin),
    msg: &T,
) -> io::Result<()> {
    let mut buf = Vec::new();
    write(&mut buf, msg)?;
    out.write_all(&buf).await?;
    out.flush().await
}

/// [`read`] on an async stream (the server's side of a worker's stdout).
pub async fn read_async<T: DeserializeOwned>(
    input: &mut (impl AsyncRead + Unpin),
) -> io::Result<Option<T>> {
    let mut len = [0u8; 4];
    match input.read_exact(&mut len).await {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let n = u32::from_le_bytes(len) as usize;
    if n > MAX_FRAME {
        return Err(io::Error::other(format!("frame of {n} bytes refused")));
    }
    let mut buf = len.to_vec();
    buf.resize(4 + n, 0);
    input.read_exact(&mut buf[4..]).await?;
    read(&mut buf.as_slice())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_refuse_garbage() {
        let mut buf = Vec::new();
        write(&mut buf, &ToWorker::Interrupt).unwrap();
        let back: Option<ToWorker> = read(&mut buf.as_slice()).unwrap();
        assert!(matches!(back, Some(ToWorker::Interrupt)));
        let none: Option<ToWorker> = read(&mut [].as_slice()).unwrap();
        assert!(none.is_none());
        let huge = (u32::MAX).to_le_bytes();
        assert!(read::<ToWorker>(&mut huge.as_slice()).is_err());
        let mut bad = 3u32.to_le_bytes().to_vec();
        bad.extend_from_slice(b"{x}");
        assert!(read::<ToWorker>(&mut bad.as_slice()).is_err());
    }
}
