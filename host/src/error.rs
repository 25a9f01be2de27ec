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
        // The exception line: the last `Type: message` (or bare `Type`)
        // line; notes (PEP 678, e.g. json's "when serializing list item 0")
        // may follow it.
        let header = text.lines().rev().find_map(exception_line);
        let (type_name, message) = header.unwrap_or_else(|| {
            let last = text.lines().rev().find(|l| !l.trim().is_empty());
            (last.unwrap_or("").trim().to_string(), String::new())
        });
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

/// `(type, message)` if `line` is a traceback's exception line: an
/// unindented (dotted) identifier, alone or followed by `: message`.
fn exception_line(line: &str) -> Option<(String, String)> {
    let (name, message) = line.split_once(": ").unwrap_or((line.trim_end(), ""));
    let identifier = |part: &str| {
        part.chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_')
            && part.chars().all(|c| c.is_alphanumeric() || c == '_')
    };
    (!name.is_empty() && name.split('.').all(identifier))
        .then(|| (name.to_string(), message.to_string()))
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

/// Shorthand for mapping a wasmtime call error into `Error::Trap` (in
/// user terms, see [`fault_message`]).
pub(crate) fn trap(e: wasmtime::Error) -> Error {
    Error::Trap(fault_message(&e))
}

/// What a failed guest call means, in the user's terms. The engine's own
/// report (wasm backtrace, function names, internal paths) goes to the
/// `tracing` debug log (target `eryx::engine`; the CLI shows it with
/// `ERYX_LOG=debug`), never into a user-facing error.
pub(crate) fn fault_message(e: &wasmtime::Error) -> String {
    tracing::debug!(target: "eryx::engine", "guest call failed: {e:?}");
    use wasmtime::Trap;
    let what = match e.downcast_ref::<Trap>() {
        Some(Trap::StackOverflow) => {
            "Python's stack overflowed (recursion too deep in C code); the session was restored"
        }
        Some(Trap::MemoryOutOfBounds | Trap::HeapMisaligned | Trap::TableOutOfBounds) => {
            "the Python interpreter crashed (invalid memory access in native code); the session was restored"
        }
        Some(Trap::UnreachableCodeReached) => {
            "the Python interpreter aborted (a fatal error in CPython or a native extension); the session was restored"
        }
        Some(
            Trap::IntegerDivisionByZero | Trap::IntegerOverflow | Trap::BadConversionToInteger,
        ) => "the Python interpreter crashed (arithmetic fault in native code); the session was restored",
        Some(_) => "the Python interpreter crashed; the session was restored",
        // A C++ exception no `catch` of its module took (each C++ module
        // has its own exception tag: scripts/build_packages/cxx_eh.py).
        None if e.is::<wasmtime::ThrownException>() => {
            "a native extension's C++ exception or longjmp was not caught (it left the module that \
             threw it); the session was restored"
        }
        None => "the sandbox failed (internal error; ERYX_LOG=debug shows details)",
    };
    what.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(text: &str) -> (String, String) {
        match Error::from_guest(text.to_string()) {
            Error::Python {
                type_name, message, ..
            } => (type_name, message),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_exception_line_is_found_before_notes() {
        let tb = "Traceback (most recent call last):\n  File \"<string>\", line 1, in <module>\n\
                  RecursionError: Stack overflow (used 1008 kB) while encoding a JSON object\n\
                  when serializing list item 0\nwhen serializing list item 0\n";
        assert_eq!(
            kind(tb),
            (
                "RecursionError".into(),
                "Stack overflow (used 1008 kB) while encoding a JSON object".into()
            )
        );
        assert_eq!(
            kind("KeyboardInterrupt\n"),
            ("KeyboardInterrupt".into(), String::new())
        );
        assert_eq!(
            kind(
                "Traceback (most recent call last):\njson.decoder.JSONDecodeError: Expecting value"
            ),
            (
                "json.decoder.JSONDecodeError".into(),
                "Expecting value".into()
            )
        );
    }
}
