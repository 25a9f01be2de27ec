//! Guest output: everything the guest writes to stdout/stderr, whether
//! through Python's `sys.stdout` (the `output` import) or straight to file
//! descriptors 1/2 (WASI streams), lands in one `Sink`. The sink keeps the
//! stdout of the current call and forwards every piece, live, to the
//! user's output handler. Nothing reaches the host process's own streams.
//! Display items (fd 3 of the `output` import, see `display`) go through
//! the same sink, so they keep their order with stdout and stderr.
use crate::display::{DisplayHandler, DisplayItem, Limits};
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
    stderr: String,
    /// Per-stream cap on what `stdout`/`stderr` keep for the result.
    capture: Option<usize>,
    /// Bytes not kept because of `capture` in the current call.
    dropped: usize,
    handler: Option<OutputHandler>,
    /// Bytes written in the current call, and the cap.
    written: usize,
    max: Option<usize>,
    /// Drop everything (while the host takes internal snapshots).
    muted: bool,
    /// Texts replaced by `[REDACTED]` (secrets and their placeholders).
    redact: Vec<String>,
    /// Display items of the current call, their live handler, the bytes
    /// they hold and the caps.
    displays: Vec<DisplayItem>,
    display_handler: Option<DisplayHandler>,
    display_used: usize,
    display_limits: Limits,
}

impl Sink {
    /// A sink forwarding to `handler` (if any), capped at `max` bytes per call.
    /// `capture` caps what each stream keeps for the call's result.
    pub fn new(
        handler: Option<OutputHandler>,
        max: Option<usize>,
        capture: Option<usize>,
    ) -> Arc<Self> {
        Arc::new(Sink {
            state: Mutex::new(SinkState {
                handler,
                max,
                capture,
                ..SinkState::default()
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SinkState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Record `text` written to `stream`; `false` once the cap is passed
    /// (the text is then dropped).
    pub fn write(&self, stream: Stream, text: &str) -> bool {
        let scrubbed;
        let mut text = text;
        let handler = {
            let mut s = self.lock();
            if !s.redact.is_empty() {
                scrubbed = crate::net::scrub(text, &s.redact);
                text = &scrubbed;
            }
            if s.muted {
                return true;
            }
            s.written += text.len();
            if s.max.is_some_and(|m| s.written > m) {
                return false;
            }
            let cap = s.capture.unwrap_or(usize::MAX);
            let kept = match stream {
                Stream::Stdout => &mut s.stdout,
                Stream::Stderr => &mut s.stderr,
            };
            let room = cap.saturating_sub(kept.len());
            let take = floor_char_boundary(text, room.min(text.len()));
            kept.push_str(&text[..take]);
            s.dropped += text.len() - take;
            s.handler.clone()
        };
        if let Some(h) = handler {
            h(stream, text);
        }
        true
    }

    /// A new call starts: reset the per-call counters.
    pub fn start_call(&self) {
        let mut s = self.lock();
        s.written = 0;
        s.dropped = 0;
        s.stdout.clear();
        s.stderr.clear();
        s.displays.clear();
        s.display_used = 0;
    }

    /// Record one display item sent by the guest (its JSON wire text):
    /// checked, capped (per item and per call) and passed to the display
    /// handler. A malformed item is dropped with a note on stderr.
    pub fn display(&self, text: &str) {
        let parsed = DisplayItem::parse(text);
        let (item, handler) = {
            let mut s = self.lock();
            if s.muted {
                return;
            }
            let (mut item, precut) = match parsed {
                Ok(p) => p,
                Err(why) => {
                    drop(s);
                    let note = format!("eryx: display item dropped: {why}\n");
                    self.write(Stream::Stderr, &note);
                    return;
                }
            };
            if !s.redact.is_empty() {
                item.scrub(&s.redact);
            }
            let Limits {
                item: per_item,
                call,
            } = s.display_limits;
            let left = call.saturating_sub(s.display_used);
            let note = if left < per_item {
                format!("the limit of {call} bytes of display data per call")
            } else {
                format!("the limit of {per_item} bytes per display item")
            };
            s.display_used += item.cap(left.min(per_item), &note, &precut);
            s.displays.push(item.clone());
            (item, s.display_handler.clone())
        };
        if let Some(h) = handler {
            h(&item);
        }
    }

    /// Take the display items collected since the call started.
    pub fn take_displays(&self) -> Vec<DisplayItem> {
        std::mem::take(&mut self.lock().displays)
    }

    /// Replace the live display handler (`None`: items are only collected).
    pub fn set_display_handler(&self, handler: Option<DisplayHandler>) {
        self.lock().display_handler = handler;
    }

    /// Set the caps on display data.
    pub fn set_display_limits(&self, limits: Limits) {
        self.lock().display_limits = limits;
    }

    /// Replace the live output handler (`None`: output is only collected).
    pub fn set_handler(&self, handler: Option<OutputHandler>) {
        self.lock().handler = handler;
    }

    /// Replace these texts by `[REDACTED]` in everything written.
    pub fn set_redactions(&self, texts: Vec<String>) {
        self.lock().redact = texts;
    }

    /// `text` with the redacted texts replaced.
    pub fn scrub(&self, text: &str) -> String {
        let s = self.lock();
        if s.redact.is_empty() {
            return text.to_string();
        }
        crate::net::scrub(text, &s.redact)
    }

    /// Drop all output until unmuted.
    pub fn set_muted(&self, muted: bool) {
        self.lock().muted = muted;
    }

    /// Take (stdout, stderr, bytes cut at the capture limit) collected
    /// since the call started.
    pub fn take(&self) -> (String, String, usize) {
        let mut s = self.lock();
        let out = std::mem::take(&mut s.stdout);
        let err = std::mem::take(&mut s.stderr);
        (out, err, std::mem::take(&mut s.dropped))
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

/// The largest index `<= i` that starts a UTF-8 character of `s`.
fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
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
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        if self.sink.write(self.stream, &String::from_utf8_lossy(buf)) {
            Poll::Ready(Ok(buf.len()))
        } else {
            Poll::Ready(Err(std::io::Error::other("output limit exceeded")))
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
