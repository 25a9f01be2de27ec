//! eryx: run untrusted Python (CPython 3.14 on WASI) inside a wasmtime
//! component sandbox.
//!
//! ```no_run
//! # async fn demo() -> Result<(), eryx::Error> {
//! let mut sandbox = eryx::Sandbox::builder().build().await?;
//! assert_eq!(sandbox.execute("print(1+1)").await?, "2\n");
//! # Ok(()) }
//! ```
//!
//! Modules: `embedded` (guest artefacts built into the binary), `link` (the
//! one place that knows the link order), `engine` (the one place that knows
//! the engine configuration, plus the compiled-code cache), `stdlib` (the
//! read-only stdlib mount), `preinit` (the pre-initialised image: CPython
//! started and snapshotted once), `builder` (configuration), `instance` (one
//! store + instance and the imports), `sandbox` (calls, limits, recovery),
//! `output` and `callbacks`.
#![cfg(not(target_family = "wasm"))]

mod builder;
mod cache;
mod callbacks;
mod embedded;
mod engine;
mod error;
mod instance;
mod link;
mod output;
mod preinit;
mod sandbox;
mod stdlib;

pub use callbacks::{Callback, CallbackFuture, TraceEvent};
pub use error::Error;
pub use output::{OutputHandler, Stream};
pub use builder::SandboxBuilder;
pub use sandbox::{InterruptHandle, Sandbox};

/// Build, pre-initialise and compile the default component now (it is
/// cached on disk), so that later sandboxes start quickly. `progress`
/// reports on stderr.
pub fn prepare(progress: bool) -> Result<(), Error> {
    instance::prepare(engine::Flavor::Default, &[], progress)
}
