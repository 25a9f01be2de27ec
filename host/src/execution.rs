//! `Execution`: the one result type of running code in a sandbox. Every
//! front end (the CLI, `eryx-server`, `eryx mcp`, the Python bindings)
//! reports an execute through it, and renders it to JSON through
//! [`Execution::to_json`] so they all say the same thing the same way.
use crate::display::{DisplayItem, DisplayKind};
use crate::error::Error;
use serde_json::{json, Value};
use std::time::Duration;

/// Everything one `execute` produced: its output, how it ended and what it
/// cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Execution {
    /// What the code wrote to stdout (`print`, `sys.stdout`, fd 1), up to the
    /// capture limit ([`crate::SandboxBuilder::capture_limit`]).
    pub stdout: String,
    /// What the code wrote to stderr (warnings, `sys.stderr`, fd 2), up to the
    /// capture limit. The traceback of an uncaught exception is in `error`,
    /// not here.
    pub stderr: String,
    /// `None` when the code ran to its end (or called `sys.exit(0)`).
    pub error: Option<Error>,
    /// Wall-clock time of the call, including recovery after a fault.
    pub duration: Duration,
    /// Size of the guest's linear memory after the call, in bytes (linear
    /// memory never shrinks, so this is also its peak).
    pub peak_memory: usize,
    /// How many host callbacks the code invoked.
    pub callback_invocations: u32,
    /// Bytes of stdout and stderr written past the capture limit and so not
    /// kept in `stdout`/`stderr` (0: nothing was cut).
    pub truncated_bytes: usize,
    /// Rich results in the order they were produced: `display()` items
    /// (MIME bundles) and, last, the value of the code's final expression
    /// when it is not None ([`DisplayKind::Result`]).
    pub outputs: Vec<DisplayItem>,
}

impl Execution {
    /// Whether the code ran without an error (`sys.exit(0)` counts as ok).
    pub fn is_ok(&self) -> bool {
        matches!(self.error, None | Some(Error::Exit(0)))
    }

    /// The process exit status a `python`-like front end reports: 0 ok, 1
    /// uncaught exception or sandbox failure, `n` for `SystemExit(n)` /
    /// `os._exit(n)` (low 8 bits, as a shell sees it), 3 a resource limit,
    /// 130 interrupted (also an uncaught `KeyboardInterrupt`).
    pub fn exit_code(&self) -> i32 {
        match &self.error {
            None => 0,
            Some(e) => e.exit_code(),
        }
    }

    /// The display items (`display()`, figures), without the last value.
    pub fn displays(&self) -> impl Iterator<Item = &DisplayItem> {
        self.outputs
            .iter()
            .filter(|o| o.kind == DisplayKind::Display)
    }

    /// The value of the code's last expression, if it was not None.
    pub fn result(&self) -> Option<&DisplayItem> {
        self.outputs.iter().find(|o| o.kind == DisplayKind::Result)
    }

    /// Whether some output was cut at the capture limit.
    pub fn truncated(&self) -> bool {
        self.truncated_bytes > 0
    }

    /// The result in the shape of [`crate::Sandbox::execute`]: stdout on
    /// success, the error otherwise (`sys.exit(0)` stays `Err(Exit(0))`
    /// there, as `execute` has always reported it).
    pub fn into_result(self) -> Result<String, Error> {
        match self.error {
            None => Ok(self.stdout),
            Some(e) => Err(e),
        }
    }

    /// The canonical JSON form every front end serves:
    /// `{"stdout", "stderr", "error": null | {"type", "kind", "message",
    /// "traceback"}, "exit_code", "duration_ms", "peak_memory_bytes",
    /// "callback_invocations", "truncated", "truncated_bytes", "outputs":
    /// [{"type": "display"|"result", "data": {mime: value},
    /// "truncated_bytes"}]}` (see [`DisplayItem::to_json`]: binary data is
    /// base64).
    pub fn to_json(&self) -> Value {
        json!({
            "stdout": self.stdout,
            "stderr": self.stderr,
            "error": self.error.as_ref().filter(|_| !self.is_ok()).map(Error::to_json),
            "exit_code": self.exit_code(),
            "duration_ms": self.duration.as_secs_f64() * 1000.0,
            "peak_memory_bytes": self.peak_memory,
            "callback_invocations": self.callback_invocations,
            "truncated": self.truncated(),
            "truncated_bytes": self.truncated_bytes,
            "outputs": self.outputs.iter().map(DisplayItem::to_json).collect::<Vec<_>>(),
        })
    }
}

impl Error {
    /// A stable machine-readable name of the error's kind: `python`, `exit`,
    /// `timeout`, `memory_limit`, `fuel_exhausted`, `output_limit`,
    /// `interrupted`, `state`, `setup` or `trap`.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Python { .. } => "python",
            Error::Exit(_) => "exit",
            Error::Timeout => "timeout",
            Error::MemoryLimit(_) => "memory_limit",
            Error::FuelExhausted => "fuel_exhausted",
            Error::OutputLimit => "output_limit",
            Error::Interrupted => "interrupted",
            Error::State(_) => "state",
            Error::Setup(_) => "setup",
            Error::Trap(_) => "trap",
        }
    }

    /// The exception type a Python user would name for this error
    /// (`ValueError`, `SystemExit`, `TimeoutError`, `MemoryError`,
    /// `KeyboardInterrupt`, ...).
    pub fn type_name(&self) -> &str {
        match self {
            Error::Python { type_name, .. } => type_name,
            Error::Exit(_) => "SystemExit",
            Error::Timeout | Error::FuelExhausted => "TimeoutError",
            Error::MemoryLimit(_) => "MemoryError",
            Error::OutputLimit => "OutputLimitError",
            Error::Interrupted => "KeyboardInterrupt",
            Error::State(_) => "StateError",
            Error::Setup(_) => "SetupError",
            Error::Trap(_) => "SandboxError",
        }
    }

    /// The one-line message (for a Python exception, its `str()`).
    pub fn message(&self) -> String {
        match self {
            Error::Python { message, .. } => message.clone(),
            e => e.to_string(),
        }
    }

    /// The formatted traceback (empty for errors that are not exceptions
    /// of user code).
    pub fn traceback(&self) -> &str {
        match self {
            Error::Python { traceback, .. } => traceback,
            _ => "",
        }
    }

    /// The process exit status for this error (see [`Execution::exit_code`]).
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Exit(c) => (*c & 0xff) as i32,
            Error::Interrupted => 130,
            Error::Python { type_name, .. } if type_name == "KeyboardInterrupt" => 130,
            e if e.is_limit() => 3,
            _ => 1,
        }
    }

    /// `{"type", "kind", "message", "traceback"}`.
    pub fn to_json(&self) -> Value {
        json!({
            "type": self.type_name(),
            "kind": self.kind(),
            "message": self.message(),
            "traceback": self.traceback(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(error: Option<Error>) -> Execution {
        Execution {
            stdout: "out\n".into(),
            stderr: String::new(),
            error,
            duration: Duration::from_millis(2),
            peak_memory: 1 << 20,
            callback_invocations: 0,
            truncated_bytes: 0,
            outputs: Vec::new(),
        }
    }

    #[test]
    fn exit_codes_follow_python() {
        assert_eq!(run(None).exit_code(), 0);
        assert_eq!(run(Some(Error::Exit(0))).exit_code(), 0);
        assert!(run(Some(Error::Exit(0))).is_ok());
        assert_eq!(run(Some(Error::Exit(260))).exit_code(), 4);
        assert_eq!(run(Some(Error::Timeout)).exit_code(), 3);
        assert_eq!(run(Some(Error::Interrupted)).exit_code(), 130);
        let py = Error::from_guest("Traceback...\nValueError: bad\n".into());
        assert_eq!(run(Some(py)).exit_code(), 1);
    }

    #[test]
    fn json_shape() {
        let ok = run(None).to_json();
        assert_eq!(ok["error"], Value::Null);
        assert_eq!(ok["stdout"], "out\n");
        assert_eq!(ok["exit_code"], 0);
        let e = run(Some(Error::from_guest("T\nKeyError: 'x'\n".into()))).to_json();
        assert_eq!(e["error"]["type"], "KeyError");
        assert_eq!(e["error"]["kind"], "python");
        assert_eq!(e["error"]["message"], "'x'");
        assert_eq!(
            run(Some(Error::Timeout)).to_json()["error"]["type"],
            "TimeoutError"
        );
    }
}
