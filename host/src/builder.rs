//! `SandboxBuilder`: everything a sandbox is configured with. The frozen
//! `Settings` are kept by the sandbox so it can re-create its instance
//! after a fault.
use crate::callbacks::{Callback, CallbackFuture, Callbacks, TraceEvent, TraceHandler};
use crate::engine::Flavor;
use crate::error::Error;
use crate::output::{OutputHandler, Stream};
use crate::packages::{self, Prepared};
use crate::requirements::Resolver;
use crate::sandbox::Sandbox;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// A host directory visible to the guest.
#[derive(Debug, Clone)]
pub(crate) struct Mount {
    pub host: PathBuf,
    pub guest: String,
    pub writable: bool,
}

/// Frozen configuration of a sandbox.
#[derive(Clone, Default)]
pub(crate) struct Settings {
    pub progress: bool,
    pub on_output: Option<OutputHandler>,
    pub callbacks: Arc<Callbacks>,
    pub trace: Option<TraceHandler>,
    pub timeout: Option<Duration>,
    pub max_memory: Option<usize>,
    pub fuel: Option<u64>,
    pub max_output: Option<usize>,
    pub capture_limit: Option<usize>,
    pub mounts: Vec<Mount>,
    /// The guest's `sys.argv` (WASI arguments).
    pub args: Vec<String>,
    /// Extra guest environment variables.
    pub env: Vec<(String, String)>,
    /// The guest's stdin is the host process's stdin.
    pub inherit_stdin: bool,
    pub keep_state: bool,
    /// Set by [`SandboxBuilder::checkpoint_budget`]; see
    /// [`Settings::checkpoint_budget`].
    pub checkpoint_budget: Option<usize>,
    pub interactive: bool,
    /// No epoch checks (see [`SandboxBuilder::interruptible`]).
    pub uninterruptible: bool,
    /// Host-owned memory: fork and exact snapshots (see [`SandboxBuilder::exact`]).
    pub exact: bool,
    /// Internal: the stdlib mount is writable (bytecode compilation only).
    pub stdlib_writable: bool,
    /// Internal: use this engine flavor regardless of fuel.
    pub flavor_override: Option<Flavor>,
    /// Packages, merged and checked by `build` (see [`SandboxBuilder::package`]).
    pub packages: Arc<Prepared>,
    /// Modules imported into the pre-initialised image.
    pub preimports: Vec<String>,
    /// Caps of the virtual tree (scratch files).
    pub vfs_limits: crate::vfs::Limits,
    /// Outbound network policy and secrets (see `net/`).
    pub network: Arc<crate::net::Policy>,
    /// Live display items (see [`SandboxBuilder::on_display`]).
    pub on_display: Option<crate::display::DisplayHandler>,
    /// Caps on display data (see [`SandboxBuilder::display_limits`]).
    pub display_limits: crate::display::Limits,
}

/// The per-call checkpoint's default budget: 256 MiB, or a quarter of
/// the memory cap when that is less.
const CHECKPOINT_BUDGET: usize = 256 << 20;

impl Settings {
    /// The budget of the per-call recovery checkpoint, in bytes: what was
    /// set, else [`CHECKPOINT_BUDGET`] capped at a quarter of
    /// `max_memory` (so pickling it cannot run the guest out of memory).
    pub fn checkpoint_budget(&self) -> u64 {
        let budget = self.checkpoint_budget.unwrap_or_else(|| {
            let quarter = self.max_memory.map_or(usize::MAX, |m| m / 4);
            CHECKPOINT_BUDGET.min(quarter)
        });
        budget as u64
    }

    pub fn flavor(&self) -> Flavor {
        if let Some(f) = self.flavor_override {
            f
        } else if self.exact {
            Flavor::Exact
        } else if self.fuel.is_some() {
            Flavor::Fuel
        } else if self.uninterruptible {
            Flavor::Uninterruptible
        } else {
            Flavor::Default
        }
    }
}

/// Configures and creates a [`Sandbox`].
pub struct SandboxBuilder {
    pub(crate) s: Settings,
    callbacks: Callbacks,
    packages: Vec<PathBuf>,
    requirements: Vec<String>,
    resolver: Resolver,
    preimport_requirements: bool,
}

impl Default for SandboxBuilder {
    fn default() -> Self {
        SandboxBuilder {
            s: Settings {
                keep_state: true,
                ..Settings::default()
            },
            callbacks: Callbacks::default(),
            packages: Vec::new(),
            requirements: Vec::new(),
            resolver: Resolver::new(),
            preimport_requirements: true,
        }
    }
}

impl SandboxBuilder {
    /// Report slow first-time work (compiling the component) on stderr.
    pub fn progress(mut self, on: bool) -> Self {
        self.s.progress = on;
        self
    }

    /// Receive guest stdout/stderr live, as it is written (stdout is also
    /// returned by [`Sandbox::execute`]). Without a handler stderr is dropped.
    pub fn on_output(mut self, f: impl Fn(Stream, &str) + Send + Sync + 'static) -> Self {
        self.s.on_output = Some(Arc::new(f));
        self
    }

    /// Offer an async host function to Python as `await name(**kwargs)`.
    /// Arguments arrive as a JSON object; the result is returned as JSON,
    /// an `Err(message)` raises `eryx.CallbackError(message)` in Python.
    pub fn callback<F, Fut>(mut self, name: &str, description: &str, handler: F) -> Self
    where
        F: Fn(serde_json::Value) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<serde_json::Value, String>> + Send + 'static,
    {
        let handler = Arc::new(move |v| Box::pin(handler(v)) as CallbackFuture);
        let cb = Callback {
            name: name.to_string(),
            description: description.to_string(),
            handler,
        };
        self.callbacks.map.insert(name.to_string(), cb);
        self
    }

    /// Fail any single callback invocation that takes longer than `t`.
    pub fn callback_timeout(mut self, t: Duration) -> Self {
        self.callbacks.timeout = Some(t);
        self
    }

    /// Allow at most `n` callback invocations per `execute`.
    pub fn max_callback_invocations(mut self, n: u32) -> Self {
        self.callbacks.max_invocations = Some(n);
        self
    }

    /// Receive one event per line / call / return / exception of user code.
    /// Without a handler, tracing is off and costs nothing.
    pub fn on_trace(mut self, f: impl Fn(TraceEvent) + Send + Sync + 'static) -> Self {
        self.s.trace = Some(Arc::new(f));
        self
    }

    /// Wall-clock limit for each call into the sandbox ([`Error::Timeout`]).
    pub fn timeout(mut self, t: Duration) -> Self {
        self.s.timeout = Some(t);
        self
    }

    /// Cap on the guest's linear memory in bytes. Python sees `MemoryError`
    /// where it can; the call then fails with [`Error::MemoryLimit`].
    pub fn max_memory(mut self, bytes: usize) -> Self {
        self.s.max_memory = Some(bytes);
        self
    }

    /// Instruction budget per call ([`Error::FuelExhausted`]). Off by
    /// default: metering slows every instruction.
    pub fn fuel(mut self, units: u64) -> Self {
        self.s.fuel = Some(units);
        self
    }

    /// Cap on the bytes of output per call ([`Error::OutputLimit`]).
    pub fn max_output(mut self, bytes: usize) -> Self {
        self.s.max_output = Some(bytes);
        self
    }

    /// Keep at most `bytes` of each of stdout and stderr in an
    /// [`crate::Execution`]; the rest is still streamed to the output
    /// handler but cut from the result (`Execution::truncated_bytes` says
    /// how much). Unlike [`Self::max_output`] this never fails the call.
    pub fn capture_limit(mut self, bytes: usize) -> Self {
        self.s.capture_limit = Some(bytes);
        self
    }

    /// Make host directory `host` visible at guest path `guest`, read-only
    /// unless `writable`. Paths outside it (`..`, symlinks) stay refused.
    pub fn mount(mut self, host: impl Into<PathBuf>, guest: &str, writable: bool) -> Self {
        self.s.mounts.push(Mount {
            host: host.into(),
            guest: guest.to_string(),
            writable,
        });
        self
    }

    /// The guest's `sys.argv` (empty: `['']`, like an embedded CPython).
    pub fn args<S: Into<String>>(mut self, argv: impl IntoIterator<Item = S>) -> Self {
        self.s.args = argv.into_iter().map(Into::into).collect();
        self
    }

    /// Set an environment variable in the guest (`os.environ`); the guest
    /// starts with an empty environment otherwise.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.s.env.push((key.to_string(), value.to_string()));
        self
    }

    /// Connect the guest's stdin (fd 0, `sys.stdin`, `input()`) to this
    /// process's stdin, streamed as the guest reads it. Off by default: the
    /// guest's stdin is empty (reads see end of file).
    pub fn inherit_stdin(mut self, on: bool) -> Self {
        self.s.inherit_stdin = on;
        self
    }

    /// Make a package importable (repeatable): a site-packages style
    /// directory, a package directory (holding `__init__.py`), a wheel
    /// (`.whl`), a `.py` module or a WASI `.so`. Python files are mounted
    /// read-only at `/site-packages` (on `sys.path`); WASI extension modules
    /// (`*.so` built for wasm32-wasi, e.g. by `scripts/build-extension.sh`)
    /// are linked into the component, which is compiled once per set of
    /// extensions and cached by content hash. A `.so` that is not a WASI
    /// shared library (e.g. from a manylinux wheel) makes `build` fail with
    /// an error naming the file.
    pub fn package(mut self, path: impl Into<PathBuf>) -> Self {
        self.packages.push(path.into());
        self
    }

    /// Make packages importable by name (repeatable): requirements such as
    /// `"rich"` or `"jinja2>=3,<4"` (PEP 508 names, extras, version
    /// specifiers and markers; never URLs or paths). pip resolves them for
    /// the sandbox (CPython 3.14, pure-Python wheels plus the WASI
    /// wheelhouse), the result is locked with hashes and cached, and the
    /// wheels become packages as with [`Self::package`]; a later build with
    /// the same requirements runs no pip and needs no network. The
    /// requested packages' top-level modules are pre-imported into the
    /// image unless [`Self::preimport_requirements`] is off. See
    /// [`crate::requirements`] and docs/packages-by-name.md.
    pub fn requirements<S: Into<String>>(mut self, reqs: impl IntoIterator<Item = S>) -> Self {
        self.requirements.extend(reqs.into_iter().map(Into::into));
        self
    }

    /// Whether the requested packages' top-level modules (e.g. `yaml` for
    /// `pyyaml`) are imported into the pre-initialised image (default
    /// `true`): then importing them in a new sandbox costs nothing.
    pub fn preimport_requirements(mut self, on: bool) -> Self {
        self.preimport_requirements = on;
        self
    }

    /// Run this pip executable to resolve [`Self::requirements`] (default:
    /// `$ERYX_PIP`, else eryx's own venv in the cache, set up on first use).
    pub fn pip(mut self, program: impl Into<PathBuf>) -> Self {
        self.resolver = self.resolver.pip(program);
        self
    }

    /// Look for WASI wheels in `dir` when resolving (default:
    /// `$ERYX_WHEELHOUSE`, else `<repo>/target/wheelhouse` if present).
    pub fn wheelhouse(mut self, dir: impl Into<PathBuf>) -> Self {
        self.resolver = self.resolver.wheelhouse(dir);
        self
    }

    /// Keep a snapshot of the state after every successful call so the
    /// session survives a fault (on by default; costs one snapshot per call).
    pub fn keep_state_on_fault(mut self, on: bool) -> Self {
        self.s.keep_state = on;
        self
    }

    /// The most the per-call recovery checkpoint may hold, in bytes
    /// (default: 256 MiB, or a quarter of [`Self::max_memory`] when that is
    /// less). Variables are kept in the order they were defined while the
    /// checkpoint fits; the rest are named once on stderr, and a fault
    /// would lose them (an explicit [`crate::Sandbox::snapshot`] has no
    /// budget). A large buffer (bytes, bytearray, a numpy array's data) is
    /// measured before it is copied, so a 1 GiB value left out costs
    /// nothing.
    pub fn checkpoint_budget(mut self, bytes: usize) -> Self {
        self.s.checkpoint_budget = Some(bytes);
        self
    }

    /// REPL mode: the value of a final expression statement is echoed
    /// like Python's interactive prompt does.
    pub fn interactive(mut self, on: bool) -> Self {
        self.s.interactive = on;
        self
    }

    /// `false`: compile the guest without interruption checks, which makes
    /// call-heavy Python ~20-25% faster, but then nothing can stop running
    /// code: no [`Self::timeout`] (`build` refuses one), no
    /// [`crate::InterruptHandle`], no fault recovery from them. For runs
    /// whose end is enforced from outside (a one-shot process that can be
    /// killed). Fuel ([`Self::fuel`]) still works. Default `true`.
    pub fn interruptible(mut self, on: bool) -> Self {
        self.s.uninterruptible = !on;
        self
    }

    /// Cap on the bytes of file contents in the sandbox's virtual tree
    /// (`/tmp`, the home directory, anything outside the mounts); default
    /// 64 MiB. A `write()` that would pass it writes what fits (a short
    /// count, like a full disk); writing on fails with `OSError` (`ENOSPC`;
    /// `EIO` on an already open stream, the guest libc's mapping) and the
    /// session goes on. Virtual files are host memory outside
    /// [`Self::max_memory`] (see docs/files-and-limits.md).
    pub fn max_file_bytes(mut self, bytes: u64) -> Self {
        self.s.vfs_limits.max_bytes = bytes;
        self
    }

    /// Cap on the number of files, directories and symlinks in the virtual
    /// tree (default 10 000, the few directories of the layout included);
    /// creating one more fails with `OSError(ENOSPC)`.
    pub fn max_files(mut self, entries: u64) -> Self {
        self.s.vfs_limits.max_entries = entries;
        self
    }

    /// Import these modules (e.g. `["json", "xml.etree.ElementTree"]`)
    /// into the pre-initialised image, so that importing them in the
    /// sandbox costs nothing. Each distinct list is its own image, built and
    /// cached on first use like the default one.
    pub fn preimport(mut self, modules: &[&str]) -> Self {
        self.s
            .preimports
            .extend(modules.iter().map(|m| m.to_string()));
        self
    }

    /// Resolve the requirements into wheels; returns the modules to
    /// pre-import for them and where a failure to pre-import them is
    /// remembered.
    fn add_requirements(&mut self) -> Result<(Vec<String>, Option<PathBuf>), Error> {
        if self.requirements.is_empty() {
            return Ok((Vec::new(), None));
        }
        let resolved = self
            .resolver
            .clone()
            .progress(self.s.progress)
            .resolve(&self.requirements)?;
        self.packages
            .extend(resolved.iter().map(|p| p.wheel.clone()));
        if !self.preimport_requirements {
            return Ok((Vec::new(), None));
        }
        let marker = crate::requirements::preimport_failure_marker(&resolved);
        if marker.exists() {
            return Ok((Vec::new(), None)); // known not to import at start
        }
        let modules = resolved
            .iter()
            .filter(|p| p.requested)
            .flat_map(|p| p.modules.iter().cloned())
            .filter(|m| !self.s.preimports.contains(m))
            .collect();
        Ok((modules, Some(marker)))
    }

    /// Make this an *exact* sandbox: its memory is owned by the host, so
    /// [`Sandbox::fork`] and [`Sandbox::snapshot_exact`] can copy the whole
    /// guest state (every Python object, open files of the virtual tree)
    /// instead of pickling it. Costs more per creation than an ordinary
    /// sandbox (the image is copied into its memory rather than mapped
    /// copy-on-write); not combinable with [`Self::fuel`] or
    /// `interruptible(false)` yet. See docs/rust.md.
    pub fn exact(mut self, on: bool) -> Self {
        self.s.exact = on;
        self
    }

    /// Create the sandbox: a fresh instance with Python initialised.
    pub async fn build(mut self) -> Result<Sandbox, Error> {
        if self.s.exact && (self.s.fuel.is_some() || self.s.uninterruptible) {
            return Err(Error::Setup(
                "exact(true) cannot be combined with fuel or interruptible(false) yet".into(),
            ));
        }
        if self.s.uninterruptible && self.s.timeout.is_some() {
            return Err(Error::Setup(
                "a timeout needs an interruptible sandbox (interruptible(false) was set)".into(),
            ));
        }
        if let Some(bad) = self
            .s
            .preimports
            .iter()
            .find(|m| !crate::preinit::valid_module_name(m))
        {
            return Err(Error::Setup(format!(
                "cannot pre-import {bad:?}: not a module name"
            )));
        }
        for m in &self.s.mounts {
            if !m.host.is_dir() {
                return Err(Error::Setup(format!(
                    "mount source {} is not a directory",
                    m.host.display()
                )));
            }
        }
        if !self.packages.is_empty() {
            if let Some(m) = self
                .s
                .mounts
                .iter()
                .find(|m| m.guest == packages::GUEST_PATH)
            {
                return Err(Error::Setup(format!(
                    "mount {} at {} collides with the packages directory",
                    m.host.display(),
                    m.guest
                )));
            }
        }
        if let Some(e) = self.s.network.error() {
            return Err(Error::Setup(e.to_string()));
        }
        let (auto, marker) = self.add_requirements()?;
        self.s.packages = Arc::new(packages::prepare(&self.packages).map_err(Error::Setup)?);
        self.s.callbacks = Arc::new(self.callbacks);
        if auto.is_empty() {
            return Sandbox::start(self.s).await;
        }
        let mut with = self.s.clone();
        with.preimports.extend(auto.iter().cloned());
        match Sandbox::start(with).await {
            // A package that fails to import at start (it needs something
            // the sandbox lacks) still gets a sandbox: it fails at import,
            // with Python's own exception, and is not tried again.
            Err(Error::Setup(m)) if m.starts_with(crate::preinit::PREIMPORT_FAILED) => {
                if self.s.progress {
                    let why = m.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("");
                    eprintln!(
                        "eryx: warning: pre-importing {} failed ({}); building the image without",
                        auto.join(", "),
                        why.trim()
                    );
                }
                if let Some(marker) = marker {
                    let _ = crate::cache::write_atomic(&marker, m.as_bytes());
                }
                Sandbox::start(self.s).await
            }
            r => r,
        }
    }
}
