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
//! `execution` (the one result type of a call), `display` (its rich
//! results: display items and the last value), `output` and `callbacks`; `net` (outbound network under a host policy, secrets); `packages` (user packages: the merged site
//! directory and the native extensions to link), `extension` (is a `.so` a
//! WASI shared library?), `wheel` (reading `.whl` archives); `requirements`
//! (packages by name, resolved by pip, locked and cached); `cache` (the
//! on-disk cache, its size cap and LRU eviction, what `eryx cache` shows).
#![cfg(not(target_family = "wasm"))]

mod builder;
pub mod cache;
mod callbacks;
mod display;
mod embedded;
mod engine;
mod error;
mod exact;
mod execution;
mod extension;
mod files;
mod instance;
mod link;
mod net;
mod output;
mod packages;
mod preinit;
#[cfg(test)]
mod props;
pub mod requirements;
mod sandbox;
mod stack;
mod stdlib;
mod trim;
mod vfs;
mod wheel;

pub use builder::SandboxBuilder;
pub use callbacks::{Callback, CallbackFuture, TraceEvent};
pub use display::{
    DisplayHandler, DisplayItem, DisplayKind, MimeData, DEFAULT_CALL_LIMIT, DEFAULT_ITEM_LIMIT,
};
pub use error::Error;
pub use execution::Execution;
pub use files::{FileEntry, FileError, FileErrorKind, FileKind};
pub use net::NetworkLimits;
pub use output::{OutputHandler, Stream};
pub use requirements::{ResolvedPackage, Resolver};
pub use sandbox::{InterruptHandle, Sandbox};

/// Build, pre-initialise and compile the default component now (it is
/// cached on disk), so that later sandboxes start quickly. `progress`
/// reports on stderr.
pub fn prepare(progress: bool) -> Result<(), Error> {
    instance::prepare(engine::Flavor::Default, &[], progress)
}

/// Link (without compiling) the sandbox component as it would be for these
/// packages (see [`SandboxBuilder::package`]): the component's bytes, with
/// every WASI extension module linked in. For inspection and measurement.
pub fn link_component(packages: &[std::path::PathBuf]) -> Result<Vec<u8>, Error> {
    let pkgs = packages::prepare(packages).map_err(Error::Setup)?;
    link::link(&pkgs.load_extensions().map_err(Error::Setup)?).map_err(Error::Setup)
}

// --- bench support (for host/benches/sandbox; keep this block small) ---
/// What the benchmark (`cargo bench -p eryx --bench sandbox`) needs to run
/// another component (the componentize-py build of the world) on the very
/// same engine and compiled-code cache as the default sandbox. Not a stable
/// API.
#[doc(hidden)]
pub mod bench_support {
    use crate::engine::{self, Flavor};

    /// The engine default sandboxes run on. It has epoch interruption on:
    /// a store needs an epoch deadline (or it traps at the first check).
    pub fn engine() -> &'static wasmtime::Engine {
        engine::engine(Flavor::Default)
    }

    /// [`engine`]'s compiled-code cache: the component for `key`, compiled
    /// from `build()` on a miss.
    pub fn load(
        key: &str,
        build: impl FnOnce() -> Result<Vec<u8>, String>,
        progress: bool,
    ) -> Result<wasmtime::component::Component, String> {
        engine::load(Flavor::Default, key, |_| build(), progress)
    }

    /// Bytes of all sandboxes' native (fiber) stacks resident now.
    pub fn stack_resident_bytes() -> usize {
        crate::stack::resident_bytes()
    }

    /// The host directory of the stdlib eryx mounts (unpacked on first use).
    pub fn stdlib_dir() -> std::io::Result<std::path::PathBuf> {
        crate::stdlib::dir()
    }
}
