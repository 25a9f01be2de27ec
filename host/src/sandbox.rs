//! Sandboxes: one wasmtime store + component instance each, created from a
//! process-wide pre-linked `InstancePre`, and the calls into the guest.
use crate::callbacks::{Callback, CallbackFuture, Callbacks, TraceEvent, TraceHandler};
use crate::error::{setup, trap, Error};
use crate::output::{OutputHandler, Sink, SinkStream, Stream};
use crate::{embedded, engine, link, stdlib};
use std::sync::{Arc, Mutex};
use std::time::Duration;
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
    callbacks: Arc<Callbacks>,
    trace: Option<TraceHandler>,
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

/// The world's imports: host callbacks, their list, output and traces.
fn define_imports(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    let mut root = linker.root();
    root.func_wrap_concurrent("invoke", |acc, (name, args): (String, String)| {
        let callbacks = acc.with(|mut a| a.get().callbacks.clone());
        Box::pin(async move { Ok((callbacks.call(name, args).await,)) })
    })?;
    root.func_wrap("list-callbacks", |store, (): ()| Ok((store.data().callbacks.names(),)))?;
    root.func_wrap("output", |store, (fd, text): (u32, String)| {
        store.data().sink.write(Sink::stream_of(fd), &text);
        Ok(())
    })?;
    root.func_wrap("report-trace", |store, (trace,): (String,)| {
        if let (Some(handler), Some(event)) = (&store.data().trace, TraceEvent::parse(&trace)) {
            handler(event);
        }
        Ok(())
    })?;
    Ok(())
}

/// Configures and creates a [`Sandbox`].
#[derive(Default)]
pub struct SandboxBuilder {
    progress: bool,
    on_output: Option<OutputHandler>,
    callbacks: Callbacks,
    trace: Option<TraceHandler>,
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

    /// Offer an async host function to Python as `await name(**kwargs)`.
    /// Arguments arrive as a JSON object; the result is returned as JSON,
    /// an `Err(message)` raises `eryx.CallbackError(message)` in Python.
    pub fn callback<F, Fut>(mut self, name: &str, description: &str, handler: F) -> Self
    where
        F: Fn(serde_json::Value) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<serde_json::Value, String>> + Send + 'static,
    {
        let handler = Arc::new(move |v| Box::pin(handler(v)) as CallbackFuture);
        self.callbacks.map.insert(
            name.to_string(),
            Callback {
                name: name.to_string(),
                description: description.to_string(),
                handler,
            },
        );
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
        self.trace = Some(Arc::new(f));
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
        if self.trace.is_some() {
            wasi.env("ERYX_TRACE", "1");
        }
        let state = HostState {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            sink,
            callbacks: Arc::new(self.callbacks),
            trace: self.trace,
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
        self.store.data().callbacks.reset();
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
