//! The error type of the eryx host API.
use std::fmt;

/// Everything that can go wrong running Python in a sandbox.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// User code raised an uncaught exception.
    Python {
        /// The exception's type name, e.g. `ValueError`.
        type_name: String,
        /// The exception's message (may be empty).
        message: String,
        /// The whole traceback, formatted like CPython's.
        traceback: String,
    },
    /// User code raised `SystemExit(code)` (`sys.exit`). Not a sandbox
    /// failure: the session stays usable; code 0 means success.
    Exit(i64),
    /// The call ran past its wall-clock limit (the session was restored to
    /// its last good state).
    Timeout,
    /// The guest needed more memory than its cap; the traceback or trap.
    MemoryLimit(String),
    /// The call used up its fuel budget.
    FuelExhausted,
    /// The call wrote more output than allowed.
    OutputLimit,
    /// The call was interrupted through an [`crate::InterruptHandle`].
    Interrupted,
    /// Saving or restoring state failed (e.g. garbage snapshot bytes); the
    /// session's state is unchanged.
    State(String),
    /// Building, compiling or instantiating the sandbox failed.
    Setup(String),
    /// The guest trapped or the engine failed during a call.
    Trap(String),
}

impl Error {
    /// Classify the text of `execute`'s `Err`: `SystemExit: n` or a traceback.
    pub(crate) fn from_guest(text: String) -> Error {
        if let Some(code) = text
            .strip_prefix("SystemExit: ")
            .and_then(|c| c.trim().parse().ok())
        {
            return Error::Exit(code);
        }
        let last = text
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        let (type_name, message) = match last.split_once(": ") {
            Some((t, m)) if !t.contains(' ') => (t.to_string(), m.to_string()),
            _ => (last.trim().to_string(), String::new()),
        };
        Error::Python {
            type_name,
            message,
            traceback: text,
        }
    }
}

impl Error {
    /// The same error with `f` applied to every text the guest produced
    /// (secrets are scrubbed this way).
    pub(crate) fn redact(self, f: impl Fn(&str) -> String) -> Error {
        match self {
            Error::Python {
                type_name,
                message,
                traceback,
            } => Error::Python {
                type_name,
                message: f(&message),
                traceback: f(&traceback),
            },
            Error::MemoryLimit(t) => Error::MemoryLimit(f(&t)),
            Error::Trap(t) => Error::Trap(f(&t)),
            Error::State(t) => Error::State(f(&t)),
            other => other,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Python { traceback, .. } => write!(f, "{traceback}"),
            Error::Exit(code) => write!(f, "SystemExit: {code}"),
            Error::Timeout => write!(f, "timeout: the call ran past its time limit"),
            Error::MemoryLimit(_) => write!(f, "memory limit exceeded"),
            Error::FuelExhausted => write!(
                f,
                "fuel exhausted: the call ran past its instruction budget"
            ),
            Error::OutputLimit => write!(f, "output limit exceeded"),
            Error::Interrupted => write!(f, "KeyboardInterrupt"),
            Error::State(m) => write!(f, "{m}"),
            Error::Setup(m) => write!(f, "sandbox setup failed: {m}"),
            Error::Trap(m) => write!(f, "sandbox failed: {m}"),
        }
    }
}

impl Error {
    /// Whether this is a resource limit (timeout, memory, fuel, output).
    pub fn is_limit(&self) -> bool {
        matches!(
            self,
            Error::Timeout | Error::MemoryLimit(_) | Error::FuelExhausted | Error::OutputLimit
        )
    }
}

impl std::error::Error for Error {}

/// Shorthand for mapping any displayable error into `Error::Setup`.
pub(crate) fn setup(e: impl fmt::Display) -> Error {
    Error::Setup(format!("{e:#}"))
}

/// Shorthand for mapping a wasmtime call error into `Error::Trap`, without
/// host backtraces.
pub(crate) fn trap(e: wasmtime::Error) -> Error {
    Error::Trap(format!("{e}"))
}
