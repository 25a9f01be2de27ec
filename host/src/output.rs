//! Guest output: everything the guest writes to stdout/stderr, whether
//! through Python's `sys.stdout` (the `output` import) or straight to file
//! descriptors 1/2 (WASI streams), lands in one `Sink`. The sink keeps the
//! stdout of the current call and forwards every piece, live, to the
//! user's output handler. Nothing reaches the host process's own streams.
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};

/// Which guest stream a piece of output was written to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output (fd 1).
    Stdout,
    /// Standard error (fd 2).
    Stderr,
}

/// A handler that receives guest output as it is written.
pub type OutputHandler = Arc<dyn Fn(Stream, &str) + Send + Sync>;

/// Collected output of the current call plus the live handler.
#[derive(Default)]
pub(crate) struct Sink {
    state: Mutex<SinkState>,
}

#[derive(Default)]
struct SinkState {
    stdout: String,
    handler: Option<OutputHandler>,
}

impl Sink {
    /// A sink forwarding to `handler` (if any).
    pub fn new(handler: Option<OutputHandler>) -> Arc<Self> {
        Arc::new(Sink {
            state: Mutex::new(SinkState {
                stdout: String::new(),
                handler,
            }),
        })
    }

    /// Record `text` written to `stream`.
    pub fn write(&self, stream: Stream, text: &str) {
        let handler = {
            let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
            if stream == Stream::Stdout {
                s.stdout.push_str(text);
            }
            s.handler.clone()
        };
        if let Some(h) = handler {
            h(stream, text);
        }
    }

    /// Take the stdout collected since the last call.
    pub fn take_stdout(&self) -> String {
        std::mem::take(&mut self.state.lock().unwrap_or_else(|p| p.into_inner()).stdout)
    }

    /// The `output` import's fd number mapped to a stream (unknown → stderr).
    pub fn stream_of(fd: u32) -> Stream {
        if fd == 1 {
            Stream::Stdout
        } else {
            Stream::Stderr
        }
    }
}

/// A WASI stdout/stderr that writes into a [`Sink`].
pub(crate) struct SinkStream {
    pub sink: Arc<Sink>,
    pub stream: Stream,
}

impl IsTerminal for SinkStream {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for SinkStream {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(SinkWriter {
            sink: self.sink.clone(),
            stream: self.stream,
        })
    }
}

struct SinkWriter {
    sink: Arc<Sink>,
    stream: Stream,
}

impl tokio::io::AsyncWrite for SinkWriter {
    fn poll_write(self: Pin<&mut Self>, _cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        self.sink.write(self.stream, &String::from_utf8_lossy(buf));
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
