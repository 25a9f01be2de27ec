//! `wasi:io` streams over virtual files (wasmtime-wasi's stream resource
//! types, our implementations): `read-via-stream`, `write-via-stream` and
//! `append-via-stream` of a virtual descriptor. A stream keeps its node
//! alive like an open descriptor does. Failures carry the WASI error code
//! (`VfsIoError`) so `filesystem-error-code` can report it (`ENOSPC`).
use super::tree::Ino;
use super::{lock, Vfs};
use bytes::Bytes;
use std::future::Future;
use std::pin::Pin;
use wasmtime_wasi::p2::bindings::filesystem::types::ErrorCode;
use wasmtime_wasi::p2::{InputStream, OutputStream, Pollable, StreamError, StreamResult};

/// Largest write a stream accepts at once (`check-write`).
const WRITE_BUDGET: usize = 1 << 20;

/// A failed stream operation on a virtual file.
#[derive(Debug)]
pub struct VfsIoError(pub ErrorCode);

impl std::fmt::Display for VfsIoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "virtual file: {:?}", self.0)
    }
}

impl std::error::Error for VfsIoError {}

fn failed(code: ErrorCode) -> StreamError {
    StreamError::LastOperationFailed(wasmtime::Error::new(VfsIoError(code)))
}

/// Keeps a node open for the lifetime of a stream.
struct Hold {
    vfs: Vfs,
    ino: Ino,
}

impl Hold {
    fn new(vfs: &Vfs, ino: Ino) -> Hold {
        lock(vfs).open(ino);
        Hold {
            vfs: vfs.clone(),
            ino,
        }
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        lock(&self.vfs).close(self.ino);
    }
}

/// Reads a virtual file from a position on.
pub struct FileReader {
    hold: Hold,
    pos: u64,
}

impl FileReader {
    pub fn new(vfs: &Vfs, ino: Ino, pos: u64) -> FileReader {
        FileReader {
            hold: Hold::new(vfs, ino),
            pos,
        }
    }
}

/// Writes a virtual file from a position on, or at its end (`append`).
pub struct FileWriter {
    hold: Hold,
    /// `None`: append.
    pos: Option<u64>,
}

impl FileWriter {
    pub fn new(vfs: &Vfs, ino: Ino, pos: Option<u64>) -> FileWriter {
        FileWriter {
            hold: Hold::new(vfs, ino),
            pos,
        }
    }
}

/// Virtual files are always ready.
fn ready_now<'a>() -> Pin<Box<dyn Future<Output = ()> + Send + 'a>> {
    Box::pin(std::future::ready(()))
}

impl Pollable for FileReader {
    fn ready<'a, 'b>(&'a mut self) -> Pin<Box<dyn Future<Output = ()> + Send + 'b>>
    where
        'a: 'b,
        Self: 'b,
    {
        ready_now()
    }
}

impl Pollable for FileWriter {
    fn ready<'a, 'b>(&'a mut self) -> Pin<Box<dyn Future<Output = ()> + Send + 'b>>
    where
        'a: 'b,
        Self: 'b,
    {
        ready_now()
    }
}

impl InputStream for FileReader {
    fn read(&mut self, size: usize) -> StreamResult<Bytes> {
        let bytes = lock(&self.hold.vfs)
            .read(self.hold.ino, self.pos, size.min(WRITE_BUDGET))
            .map_err(failed)?;
        if bytes.is_empty() && size > 0 {
            return Err(StreamError::Closed);
        }
        self.pos += bytes.len() as u64;
        Ok(Bytes::from(bytes))
    }
}

impl OutputStream for FileWriter {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        let mut tree = lock(&self.hold.vfs);
        let ino = self.hold.ino;
        let at = match self.pos {
            Some(p) => p,
            None => tree.size(ino).map_err(failed)?,
        };
        let n = tree.write(ino, at, &bytes).map_err(failed)?;
        if let Some(p) = &mut self.pos {
            *p += n;
        }
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    /// At most what fits under the byte cap, so that a `write()` that
    /// would pass it writes as many bytes as fit and returns that count
    /// (wasi-libc writes `min(check-write, len)`), as a full disk does.
    /// With no room left, an error carrying `ENOSPC`. The guest's libc
    /// turns every stream error into `EIO` without asking
    /// `filesystem-error-code`; the guest's `write()` (`c/write_enospc.c`)
    /// then retries as `pwrite`, whose `ENOSPC` the libc does report.
    fn check_write(&mut self) -> StreamResult<usize> {
        let room = self.room()?;
        if room == 0 {
            return Err(failed(ErrorCode::InsufficientSpace));
        }
        Ok(room)
    }

    /// A virtual file never waits, and a full one is still ready: the
    /// `blocking-flush` after the write that filled the cap succeeds (only
    /// writing more fails). wasmtime's default would wait for a non-zero
    /// `check_write`, which never comes.
    fn write_ready<'a, 'b>(
        &'a mut self,
    ) -> Pin<Box<dyn Future<Output = StreamResult<usize>> + Send + 'b>>
    where
        'a: 'b,
        Self: 'b,
    {
        let ready = self.room().map(|n| n.max(1));
        Box::pin(std::future::ready(ready))
    }
}

impl FileWriter {
    /// Bytes a write at the stream's position may take now (at most
    /// [`WRITE_BUDGET`]).
    fn room(&self) -> StreamResult<usize> {
        let room = lock(&self.hold.vfs)
            .room(self.hold.ino, self.pos)
            .map_err(failed)?;
        Ok(usize::try_from(room)
            .unwrap_or(usize::MAX)
            .min(WRITE_BUDGET))
    }
}
