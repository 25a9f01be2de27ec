//! The error type of the eryx host API.
use std::fmt;

/// Everything that can go wrong running Python in a sandbox.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// User code raised an uncaught exception; the formatted traceback
    /// (preceded by anything the code wrote to stderr).
    Python(String),
    /// Building, compiling or instantiating the sandbox failed.
    Setup(String),
    /// The guest trapped or the engine failed during a call.
    Trap(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Python(tb) => write!(f, "{tb}"),
            Error::Setup(m) => write!(f, "sandbox setup failed: {m}"),
            Error::Trap(m) => write!(f, "sandbox failed: {m}"),
        }
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
