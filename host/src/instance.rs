//! One live guest instance: the per-store host state (WASI, output sink,
//! callbacks, limits), the world's imports, and the process-wide linked,
//! pre-initialised component (`InstancePre`) each instance is created from.
use crate::builder::Settings;
use crate::callbacks::{Callbacks, TraceEvent, TraceHandler};
use crate::engine::{self, Flavor};
use crate::error::{setup, trap, Error};
use crate::output::{Sink, SinkStream, Stream};
use crate::stack::Stacks;
use crate::vfs::{self, Vfs};
use crate::{packages, preinit, stdlib};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use wasmtime::component::{InstancePre, Linker, ResourceTable, TypedFunc};
use wasmtime::{Engine, ResourceLimiter, Store, UpdateDeadline};
use wasmtime_wasi::p2::add_to_linker_async;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

/// Guest path of the read-only stdlib mount (must match the guest runtime).
const STDLIB_GUEST_PATH: &str = "/lib/python3.14";

/// Why the current call was stopped by the host.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Fault {
    Timeout,
    Interrupted,
    OutputLimit,
}

/// Memory cap on the guest's linear memory.
pub(crate) struct Limiter {
    max_memory: Option<usize>,
    /// Set when a growth was refused during the current call.
    pub hit: bool,
    /// Current size of the guest's linear memory in bytes.
    pub size: usize,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if self.max_memory.is_some_and(|m| desired > m) {
            self.hit = true;
            return Ok(false);
        }
        self.size = self.size.max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        _desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(true)
    }
}

/// Per-store host state.
pub(crate) struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub sink: Arc<Sink>,
    pub callbacks: Arc<Callbacks>,
    trace: Option<TraceHandler>,
    pub limiter: Limiter,
    /// Deadline of the current call (timeout).
    pub deadline: Option<Instant>,
    /// Set by an [`crate::InterruptHandle`] to stop the current call.
    pub interrupt: Arc<AtomicBool>,
    /// Set from the store's creation until the first call is armed
    /// (instantiation, and bringing the last good state back after a
    /// fault): an interrupt then was meant for the call that failed (an
    /// embedder may keep interrupting until that call returns), so it is
    /// not taken; the timeout still bounds the state's restore.
    pub recovering: bool,
    pub fault: Option<Fault>,
    /// The status the guest passed to `os._exit` in the current call.
    pub exit_status: Option<i64>,
    /// The sandbox's virtual tree (scratch files).
    vfs: Vfs,
    /// Open network connections and this call's network usage.
    pub(crate) net: crate::net::NetState,
    /// The native stacks this store's calls ran on.
    pub stacks: Arc<Stacks>,
    /// The recovery checkpoint `checkpoint-state` streams (`state-write`).
    pub checkpoint: Vec<u8>,
    /// Most bytes `state-write` may hold: 0 outside `checkpoint-state`.
    pub checkpoint_cap: usize,
}

impl HostState {
    /// WASI resources the guest still holds a handle to.
    pub(crate) fn open_handles(&mut self) -> usize {
        self.table.iter_mut().count()
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// What outlives one instance of a sandbox: its interrupt flag (with the
/// wake-up for a call blocked in a host call, where no epoch check runs)
/// and its output sink (so output written before a fault is still reported).
#[derive(Clone)]
pub(crate) struct Anchors {
    pub interrupt: Arc<AtomicBool>,
    pub interrupt_wake: Arc<tokio::sync::Notify>,
    pub sink: Arc<Sink>,
    /// The virtual tree: it belongs to the sandbox, not to one instance.
    pub vfs: Vfs,
}

impl Anchors {
    /// Fresh anchors for a sandbox configured by `settings`.
    pub fn new(settings: &Settings) -> Anchors {
        let sink = Sink::new(
            settings.on_output.clone(),
            settings.max_output,
            settings.capture_limit,
        );
        sink.set_redactions(settings.network.redactions());
        sink.set_display_handler(settings.on_display.clone());
        sink.set_display_limits(settings.display_limits);
        Anchors {
            interrupt: Arc::new(AtomicBool::new(false)),
            interrupt_wake: Arc::new(tokio::sync::Notify::new()),
            sink,
            vfs: Arc::new(Mutex::new(new_tree(settings))),
        }
    }
}

/// Guest paths of the host preopens `settings` ask for.
pub(crate) fn mount_points(settings: &Settings) -> Vec<&str> {
    let mut points = vec![STDLIB_GUEST_PATH];
    if settings.packages.site.is_some() {
        points.push(packages::GUEST_PATH);
    }
    points.extend(settings.mounts.iter().map(|m| m.guest.as_str()));
    points
}

/// A fresh virtual tree with the standard layout for `settings`.
pub(crate) fn new_tree(settings: &Settings) -> vfs::Tree {
    let mut tree = vfs::Tree::new(settings.vfs_limits);
    lay_out(settings, &mut tree);
    tree
}

/// Give `tree` the standard layout (`/tmp`, home, mount points).
pub(crate) fn lay_out(settings: &Settings, tree: &mut vfs::Tree) {
    vfs::lay_out(tree, &mount_points(settings));
}

/// The linked, pre-initialised, compiled component shared by every sandbox
/// of a flavor, set of native extensions and list of pre-imported modules.
struct Shared {
    pre: InstancePre<HostState>,
    stdlib: PathBuf,
    /// The exact flavor's memory image (exact/image.rs).
    image: Option<Arc<crate::exact::image::Image>>,
}

fn shared(
    flavor: Flavor,
    progress: bool,
    pkgs: &Arc<packages::Prepared>,
    modules: &[String],
) -> Result<Arc<Shared>, Error> {
    type Key = (Flavor, String, Vec<String>);
    static SHARED: Mutex<Option<HashMap<Key, Arc<Shared>>>> = Mutex::new(None);
    let mut guard = SHARED.lock().unwrap_or_else(|p| p.into_inner());
    let map = guard.get_or_insert_with(HashMap::new);
    let key = (flavor, pkgs.component_key.clone(), modules.to_vec());
    if let Some(s) = map.get(&key) {
        return Ok(s.clone());
    }
    let stdlib = stdlib::dir().map_err(|e| Error::Setup(format!("unpacking the stdlib: {e}")))?;
    let content_key = preinit::content_key(pkgs, modules);
    let spec = preinit::Spec {
        flavor,
        stdlib: &stdlib,
        packages: pkgs,
        modules,
        progress,
    };
    let (component, image) = if flavor == Flavor::Exact {
        let (c, i) =
            crate::exact::image::load(&content_key, |b| preinit::build(b, &spec), progress)
                .map_err(Error::Setup)?;
        (c, Some(i))
    } else {
        let build = |builder: &Engine| preinit::build(builder, &spec);
        let c = engine::load(flavor, &content_key, build, progress).map_err(Error::Setup)?;
        (c, None)
    };
    let pre = linker(engine::engine(flavor))
        .and_then(|l| l.instantiate_pre(&component))
        .map_err(setup)?;
    let s = Arc::new(Shared { pre, stdlib, image });
    map.insert(key, s.clone());
    Ok(s)
}

/// Build (or load from cache) the component for `flavor` with `modules`
/// pre-imported now.
pub(crate) fn prepare(flavor: Flavor, modules: &[String], progress: bool) -> Result<(), Error> {
    let none = Arc::new(packages::Prepared::none());
    shared(flavor, progress, &none, modules).map(|_| ())
}

/// A linker with WASI and the world's imports.
pub(crate) fn linker(engine: &Engine) -> wasmtime::Result<Linker<HostState>> {
    let mut linker = Linker::<HostState>::new(engine);
    add_to_linker_async(&mut linker)?;
    // The filesystem is ours: host preopens and the virtual tree.
    vfs::add_to_linker(&mut linker, |s: &mut HostState| vfs::Fs {
        ctx: s.wasi.filesystem(),
        table: &mut s.table,
        vfs: &s.vfs,
    })?;
    define_imports(&mut linker)?;
    crate::net::imports::define(&mut linker)?;
    Ok(linker)
}

/// The world's imports: host callbacks, their list, output and traces.
fn define_imports(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    let mut root = linker.root();
    root.func_wrap_concurrent("invoke", |acc, (name, args): (String, String)| {
        let callbacks = acc.with(|mut a| a.get().callbacks.clone());
        Box::pin(async move { Ok((callbacks.call(name, args).await,)) })
    })?;
    root.func_wrap("list-callbacks", |store, (): ()| {
        Ok((store.data().callbacks.names(),))
    })?;
    root.func_wrap("output", |mut store, (fd, text): (u32, String)| {
        let data = store.data_mut();
        if fd == crate::display::DISPLAY_FD {
            data.sink.display(&text);
            return Ok(());
        }
        if !data.sink.write(Sink::stream_of(fd), &text) {
            data.fault = Some(Fault::OutputLimit);
            return Err(wasmtime::Error::msg("output limit exceeded"));
        }
        Ok(())
    })?;
    root.func_wrap("state-write", |mut store, (at, data): (u64, Vec<u8>)| {
        let d = store.data_mut();
        let at = usize::try_from(at).unwrap_or(usize::MAX);
        let fits = at
            .checked_add(data.len())
            .is_some_and(|end| end <= d.checkpoint_cap);
        if !fits || at > d.checkpoint.len() {
            return Ok((false,));
        }
        if at == 0 {
            d.checkpoint = data;
        } else {
            d.checkpoint.truncate(at);
            d.checkpoint.extend_from_slice(&data);
        }
        Ok((true,))
    })?;
    root.func_wrap("report-trace", |mut store, (trace,): (String,)| {
        let trace = store.data().sink.scrub(&trace);
        let Some(event) = TraceEvent::parse(&trace) else {
            return Ok(());
        };
        if event.event == "exit" {
            // `os._exit(n)` is about to end the guest (see _eryx_runtime.py).
            store.data_mut().exit_status = event.raw["status"].as_i64();
        }
        if let Some(handler) = &store.data().trace {
            handler(event);
        }
        Ok(())
    })?;
    Ok(())
}

/// What `checkpoint-state` answers: the state and the values it left
/// out for the budget, or why it failed.
pub(crate) type Checkpointed = Result<(Vec<u8>, String), String>;

/// The world's exports, looked up once per instance.
pub(crate) struct Funcs {
    pub execute: TypedFunc<(String,), (Result<String, String>,)>,
    pub snapshot: TypedFunc<(), (Result<Vec<u8>, String>,)>,
    /// The per-call checkpoint within a budget (bytes).
    pub checkpoint: TypedFunc<(u64,), (Checkpointed,)>,
    pub restore: TypedFunc<(Vec<u8>,), (Result<(), String>,)>,
    pub clear: TypedFunc<(), ()>,
    /// Exact sessions (see exact/): grow memory to n pages.
    pub exact_grow: TypedFunc<(u32,), (u32,)>,
    /// Exact sessions: forget the other store's WASI handles.
    pub exact_forget: TypedFunc<(), (Result<(), String>,)>,
}

/// A live instance and its store.
pub(crate) struct Live {
    pub store: Store<HostState>,
    pub f: Funcs,
    /// The guest's linear memory, for sandboxes of the exact flavor.
    pub memory: Option<Arc<crate::exact::memory::Mapping>>,
    /// Any other memories of the exact flavor's instance, in creation order.
    pub extra_memories: Vec<Arc<crate::exact::memory::Mapping>>,
}

impl Drop for Live {
    /// The store is freed right after this: have that memory given back
    /// to the system soon (see trim.rs).
    fn drop(&mut self) {
        crate::trim::request();
    }
}

/// The guest's WASI context. `preinit` marks the instance whose memory
/// becomes the pre-initialised image (see preinit.rs).
fn wasi_ctx(
    settings: &Settings,
    stdlib: &Path,
    sink: &Arc<Sink>,
    preinit: bool,
) -> Result<WasiCtx, Error> {
    let mut wasi = WasiCtxBuilder::new();
    let stdlib_perms = if settings.stdlib_writable {
        FsPerms::ReadWrite
    } else {
        FsPerms::ReadOnly
    };
    wasi.preopened_dir(stdlib, STDLIB_GUEST_PATH, stdlib_perms)
        .map_err(setup)?;
    if let Some(site) = &settings.packages.site {
        wasi.preopened_dir(site, packages::GUEST_PATH, FsPerms::ReadOnly)
            .map_err(setup)?;
    }
    for m in &settings.mounts {
        let perms = if m.writable {
            FsPerms::ReadWrite
        } else {
            FsPerms::ReadOnly
        };
        wasi.preopened_dir(&m.host, &m.guest, perms)
            .map_err(|e| Error::Setup(format!("cannot mount {}: {e}", m.host.display())))?;
    }
    for stream in [Stream::Stdout, Stream::Stderr] {
        let s = SinkStream {
            sink: sink.clone(),
            stream,
        };
        match stream {
            Stream::Stdout => wasi.stdout(s),
            Stream::Stderr => wasi.stderr(s),
        };
    }
    wasi.args(&settings.args);
    for (k, v) in &settings.env {
        wasi.env(k, v);
    }
    if settings.inherit_stdin && !preinit {
        wasi.inherit_stdin();
    }
    if settings.trace.is_some() {
        wasi.env("ERYX_TRACE", "1");
    }
    if settings.interactive {
        wasi.env("ERYX_INTERACTIVE", "1");
    }
    // Binary display data over this is left out in the guest already.
    wasi.env(
        "ERYX_DISPLAY_ITEM_LIMIT",
        settings.display_limits.item.to_string(),
    );
    if preinit {
        wasi.env("ERYX_PREINIT", "1");
    } else {
        // The virtual tree's home (also the working directory, see
        // guest/_eryx_runtime.py) and temporary directory.
        wasi.env("HOME", vfs::HOME);
        wasi.env("TMPDIR", vfs::TMP);
    }
    Ok(wasi.build())
}

/// Code run once, with the stdlib mounted writable, to compile it to `.pyc`.
const COMPILE_STDLIB: &str = "import compileall\n\
ok = compileall.compile_dir('/lib/python3.14', quiet=2, workers=1)\n\
print('ok' if ok else 'partial')";

/// Compile the unpacked stdlib to bytecode with the guest's own CPython
/// (once per stdlib; later instances import from `.pyc`).
async fn compile_stdlib(settings: &Settings, shared: &Shared) -> Result<(), Error> {
    if !stdlib::needs_bytecode(&shared.stdlib) {
        return Ok(());
    }
    if settings.progress {
        eprintln!("eryx: compiling the Python standard library to bytecode (first run only)...");
    }
    let job = Settings {
        stdlib_writable: true,
        flavor_override: Some(settings.flavor()),
        // The same component as the sandbox (no second compile when it has
        // native extensions).
        packages: settings.packages.clone(),
        ..Settings::default()
    };
    let mut live = Box::pin(instantiate(&job, &Anchors::new(&job))).await?;
    let (r,) = live
        .f
        .execute
        .call_async(&mut live.store, (COMPILE_STDLIB.to_string(),))
        .await
        .map_err(trap)?;
    // Whatever compiled is used; a partial result is still correct (the
    // rest imports from source), so only a failed run is reported.
    r.map_err(|e| Error::Setup(format!("compiling the stdlib to bytecode failed: {e}")))?;
    stdlib::mark_bytecode(&shared.stdlib).map_err(setup)
}

/// A store of `engine` for one instance configured by `settings`.
pub(crate) fn new_store(
    engine: &Engine,
    settings: &Settings,
    stdlib: &Path,
    anchors: &Anchors,
    preinit: bool,
) -> Result<Store<HostState>, Error> {
    let sink = anchors.sink.clone();
    let state = HostState {
        wasi: wasi_ctx(settings, stdlib, &sink, preinit)?,
        table: ResourceTable::new(),
        sink,
        callbacks: settings.callbacks.clone(),
        trace: settings.trace.clone(),
        limiter: Limiter {
            max_memory: settings.max_memory,
            hit: false,
            size: 0,
        },
        deadline: None,
        interrupt: anchors.interrupt.clone(),
        recovering: true,
        fault: None,
        exit_status: None,
        vfs: anchors.vfs.clone(),
        net: crate::net::NetState::new(settings.network.clone()),
        stacks: Arc::default(),
        checkpoint: Vec::new(),
        checkpoint_cap: 0,
    };
    let mut store = Store::new(engine, state);
    store.limiter(|s| &mut s.limiter);
    store.epoch_deadline_callback(|mut ctx| {
        let d = ctx.data_mut();
        if !d.recovering && d.interrupt.swap(false, Ordering::SeqCst) {
            d.fault = Some(Fault::Interrupted);
            return Ok(UpdateDeadline::Interrupt);
        }
        if d.deadline.is_some_and(|t| Instant::now() >= t) {
            d.fault = Some(Fault::Timeout);
            return Ok(UpdateDeadline::Interrupt);
        }
        Ok(UpdateDeadline::Yield(1))
    });
    store.set_epoch_deadline(1);
    if settings.flavor() == Flavor::Fuel {
        // Budgets are armed per call; start-up itself is not metered.
        store.set_fuel(u64::MAX).map_err(setup)?;
    }
    Ok(store)
}

/// Create a fresh instance (from the pre-initialised image).
pub(crate) async fn instantiate(settings: &Settings, anchors: &Anchors) -> Result<Live, Error> {
    let flavor = settings.flavor();
    let shared = shared(
        flavor,
        settings.progress,
        &settings.packages,
        &settings.preimports,
    )?;
    if !settings.stdlib_writable {
        Box::pin(compile_stdlib(settings, &shared)).await?;
    }
    let mut store = new_store(
        engine::engine(flavor),
        settings,
        &shared.stdlib,
        anchors,
        false,
    )?;
    // Instantiation runs on the fiber stack the store then keeps for its
    // calls: register it with the store's stack set.
    let stacks = store.data().stacks.clone();
    let instantiating = crate::stack::owned(&stacks, shared.pre.instantiate_async(&mut store));
    let (instance, mut memories) =
        crate::exact::memory::claim(shared.image.clone(), instantiating).await;
    let instance = instance.map_err(trap)?;
    // The linked component's modules share one memory (the one its image
    // was mapped into: exact/image.rs); components linked with some native
    // extensions have small extra ones.
    let (memory, extra_memories) = if flavor == Flavor::Exact {
        let main = memories
            .iter()
            .position(|m| m.image().is_some())
            .ok_or_else(|| Error::Setup("exact sandbox: no memory took the image".into()))?;
        let m = memories.remove(main);
        (Some(m), memories)
    } else {
        (None, Vec::new())
    };
    let f = (|| -> wasmtime::Result<Funcs> {
        Ok(Funcs {
            execute: instance.get_typed_func(&mut store, "execute")?,
            snapshot: instance.get_typed_func(&mut store, "snapshot-state")?,
            checkpoint: instance.get_typed_func(&mut store, "checkpoint-state")?,
            restore: instance.get_typed_func(&mut store, "restore-state")?,
            clear: instance.get_typed_func(&mut store, "clear-state")?,
            exact_grow: instance.get_typed_func(&mut store, "exact-grow")?,
            exact_forget: instance.get_typed_func(&mut store, "exact-forget")?,
        })
    })()
    .map_err(setup)?;
    Ok(Live {
        store,
        f,
        memory,
        extra_memories,
    })
}
