//! Sandboxes: one wasmtime store + component instance each, created from a
//! process-wide pre-linked `InstancePre`, and the calls into the guest.
use crate::error::{setup, trap, Error};
use crate::output::{OutputHandler, Sink, SinkStream, Stream};
use crate::{embedded, engine, link, stdlib};
use std::sync::{Arc, Mutex};
use wasmtime::component::{Instance, InstancePre, Linker, ResourceTable, TypedFunc};
use wasmtime::Store;
use wasmtime_wasi::p2::add_to_linker_async;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

/// Guest path of the read-only stdlib mount (must match the guest runtime).
const STDLIB_GUEST_PATH: &str = "/lib/python3.14";

/// Per-store host state.
struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    sink: Arc<Sink>,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// What every sandbox of this process shares.
pub(crate) struct Shared {
    pre: InstancePre<HostState>,
    stdlib: std::path::PathBuf,
}

/// The process-wide compiled component and linker (built on first use).
pub(crate) fn shared(progress: bool) -> Result<Arc<Shared>, Error> {
    static SHARED: Mutex<Option<Arc<Shared>>> = Mutex::new(None);
    let mut guard = SHARED.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(s) = guard.as_ref() {
        return Ok(s.clone());
    }
    let component = engine::load(embedded::CONTENT_HASH, link::link, progress).map_err(Error::Setup)?;
    let mut linker = Linker::<HostState>::new(engine::engine());
    add_to_linker_async(&mut linker).map_err(setup)?;
    define_imports(&mut linker).map_err(setup)?;
    let pre = linker.instantiate_pre(&component).map_err(setup)?;
    let stdlib = stdlib::dir().map_err(|e| Error::Setup(format!("unpacking the stdlib: {e}")))?;
    let s = Arc::new(Shared { pre, stdlib });
    *guard = Some(s.clone());
    Ok(s)
}

/// The world's imports: host callbacks (none registered yet), their list,
/// and trace reports.
fn define_imports(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    let mut root = linker.root();
    root.func_wrap_concurrent("invoke", |_acc, (name, _args): (String, String)| {
        Box::pin(async move { Ok((Err::<String, String>(format!("no callback named {name:?}")),)) })
    })?;
    root.func_wrap("list-callbacks", |_store, (): ()| Ok((Vec::<String>::new(),)))?;
    root.func_wrap("output", |store, (fd, text): (u32, String)| {
        store.data().sink.write(Sink::stream_of(fd), &text);
        Ok(())
    })?;
    root.func_wrap("report-trace", |_store, (_trace,): (String,)| Ok(()))?;
    Ok(())
}

/// Configures and creates a [`Sandbox`].
#[derive(Default)]
pub struct SandboxBuilder {
    progress: bool,
    on_output: Option<OutputHandler>,
}

impl SandboxBuilder {
    /// Report slow first-time work (compiling the component) on stderr.
    pub fn progress(mut self, on: bool) -> Self {
        self.progress = on;
        self
    }

    /// Receive guest stdout/stderr live, as it is written (stdout is also
    /// returned by [`Sandbox::execute`]). Without a handler stderr is dropped.
    pub fn on_output(mut self, f: impl Fn(Stream, &str) + Send + Sync + 'static) -> Self {
        self.on_output = Some(Arc::new(f));
        self
    }

    /// Create the sandbox: a fresh instance with Python initialised.
    pub async fn build(self) -> Result<Sandbox, Error> {
        let shared = shared(self.progress)?;
        let sink = Sink::new(self.on_output);
        let mut wasi = WasiCtxBuilder::new();
        wasi.preopened_dir(&shared.stdlib, STDLIB_GUEST_PATH, FsPerms::ReadOnly)
            .map_err(setup)?;
        wasi.stdout(SinkStream {
            sink: sink.clone(),
            stream: Stream::Stdout,
        });
        wasi.stderr(SinkStream {
            sink: sink.clone(),
            stream: Stream::Stderr,
        });
        let state = HostState {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            sink,
        };
        let mut store = Store::new(engine::engine(), state);
        let instance = shared.pre.instantiate_async(&mut store).await.map_err(trap)?;
        let f = Funcs::new(&instance, &mut store).map_err(setup)?;
        Ok(Sandbox {
            store,
            _instance: instance,
            f,
        })
    }
}

/// The world's exports, looked up once per instance.
struct Funcs {
    execute: TypedFunc<(String,), (Result<String, String>,)>,
    snapshot: TypedFunc<(), (Result<Vec<u8>, String>,)>,
    restore: TypedFunc<(Vec<u8>,), (Result<(), String>,)>,
    clear: TypedFunc<(), ()>,
}

impl Funcs {
    fn new(i: &Instance, store: &mut Store<HostState>) -> wasmtime::Result<Funcs> {
        Ok(Funcs {
            execute: i.get_typed_func(&mut *store, "execute")?,
            snapshot: i.get_typed_func(&mut *store, "snapshot-state")?,
            restore: i.get_typed_func(&mut *store, "restore-state")?,
            clear: i.get_typed_func(&mut *store, "clear-state")?,
        })
    }
}

/// A Python sandbox: one isolated CPython with a persistent namespace (a
/// session: variables, functions and imports survive between calls).
pub struct Sandbox {
    store: Store<HostState>,
    _instance: Instance,
    f: Funcs,
}

impl Sandbox {
    /// Start configuring a sandbox.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }

    /// Run `code` (top-level `await` allowed); returns everything it wrote
    /// to stdout, including writes straight to fd 1.
    pub async fn execute(&mut self, code: &str) -> Result<String, Error> {
        self.store.data().sink.take_stdout();
        let (r,) = self
            .f
            .execute
            .call_async(&mut self.store, (code.to_string(),))
            .await
            .map_err(trap)?;
        let stdout = self.store.data().sink.take_stdout();
        r.map(|_| stdout).map_err(Error::from_guest)
    }

    /// Serialise the session's variables, functions, classes and imports.
    pub async fn snapshot(&mut self) -> Result<Vec<u8>, Error> {
        let (r,) = self.f.snapshot.call_async(&mut self.store, ()).await.map_err(trap)?;
        r.map_err(Error::State)
    }

    /// Replace the session's state by a snapshot. Invalid bytes give
    /// `Error::State` and leave the current state untouched.
    pub async fn restore(&mut self, snapshot: &[u8]) -> Result<(), Error> {
        let (r,) = self
            .f
            .restore
            .call_async(&mut self.store, (snapshot.to_vec(),))
            .await
            .map_err(trap)?;
        r.map_err(Error::State)
    }

    /// Empty the session's namespace.
    pub async fn clear(&mut self) -> Result<(), Error> {
        self.f.clear.call_async(&mut self.store, ()).await.map_err(trap)?;
        Ok(())
    }
}
