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

/// One call for a worker: everything needed to build the sandbox and run
/// the code (the worker knows no configuration of its own).
#[derive(Serialize, Deserialize, Debug)]
pub struct Job {
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

/// Server → worker.
#[derive(Serialize, Deserialize, Debug)]
pub enum ToWorker {
    /// Run this call (one at a time).
    Run(Box<Job>),
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
