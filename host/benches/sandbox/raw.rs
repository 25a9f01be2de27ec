//! A minimal host for any component of the eryx world, on eryx's own engine
//! (`eryx::bench_support::engine`): WASI preview 2 with read-only directory
//! mounts, stub `invoke` / `list-callbacks` / `report-trace` / `net-*`, and no-op
//! sinks (`output`). Used for the componentize-py build of the world.
//! (Not `define_unknown_imports_as_traps`: it shadows WASI's
//! semver-compatible matches, e.g. `wasi:cli/environment@0.2.9`, with traps.)
use std::path::PathBuf;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, InstancePre, Linker, ResourceTable, TypedFunc};
use wasmtime::{Store, UpdateDeadline};
use wasmtime_wasi::p2::add_to_linker_async;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

/// A host directory and the guest path it is mounted at, read-only.
pub type Mount = (PathBuf, String);

struct State {
    wasi: WasiCtx,
    table: ResourceTable,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// The world imports [`RawHost::new`] stubs by name.
const STUBBED: [&str; 8] = [
    "invoke",
    "list-callbacks",
    "report-trace",
    "net-connect",
    "net-start-tls",
    "net-send",
    "net-recv",
    "net-close",
];

/// The `net-*` imports with no network: every call fails (`net-close`
/// does nothing). Defined only when the component imports them.
fn stub_net(linker: &mut Linker<State>, component: &Component) -> Result<(), String> {
    let engine = eryx::bench_support::engine();
    let imports: Vec<String> = component
        .component_type()
        .imports(engine)
        .map(|(n, _)| n.to_string())
        .collect();
    if !imports.iter().any(|n| n == "net-connect") {
        return Ok(());
    }
    let off = || Err::<u32, String>("denied: no network in this host".into());
    let mut root = linker.root();
    root.func_wrap(
        "net-connect",
        move |_s, (_h, _p, _t): (String, u16, u32)| Ok((off(),)),
    )
    .map_err(err)?;
    root.func_wrap("net-start-tls", |_s, (_c, _n, _t): (u32, String, u32)| {
        Ok((Err::<String, String>("denied: no network".into()),))
    })
    .map_err(err)?;
    root.func_wrap("net-send", move |_s, (_c, _d, _t): (u32, Vec<u8>, u32)| {
        Ok((off(),))
    })
    .map_err(err)?;
    root.func_wrap("net-recv", |_s, (_c, _m, _t): (u32, u32, u32)| {
        Ok((Err::<Vec<u8>, String>("denied: no network".into()),))
    })
    .map_err(err)?;
    root.func_wrap("net-close", |_s, (_c,): (u32,)| Ok(()))
        .map_err(err)?;
    Ok(())
}

/// Give every other root-level, synchronous, result-less function import of
/// `component` (a sink such as `output(fd, text)`) a no-op, so the harness
/// keeps working when the world grows one. Anything else stays undefined and
/// `instantiate_pre` names it.
fn stub_sinks(linker: &mut Linker<State>, component: &Component) -> Result<(), String> {
    let engine = eryx::bench_support::engine();
    let ty = component.component_type();
    let mut root = linker.root();
    for (name, item) in ty.imports(engine) {
        if let ComponentItem::ComponentFunc(f) = item.ty {
            if !STUBBED.contains(&name) && !f.async_() && f.results().len() == 0 {
                root.func_new(name, |_store, _ty, _params, _results| Ok(()))
                    .map_err(err)?;
            }
        }
    }
    Ok(())
}

/// A linked, ready-to-instantiate component of the eryx world.
pub struct RawHost {
    pre: InstancePre<State>,
    mounts: Vec<Mount>,
}

fn err(e: impl std::fmt::Display) -> String {
    format!("{e:#}")
}

impl RawHost {
    /// Link `component` against WASI and stub world imports; each instance
    /// gets `mounts`.
    pub fn new(component: &Component, mounts: Vec<Mount>) -> Result<RawHost, String> {
        let mut linker = Linker::<State>::new(eryx::bench_support::engine());
        add_to_linker_async(&mut linker).map_err(err)?;
        let mut root = linker.root();
        root.func_wrap_concurrent("invoke", |_acc, (name, _args): (String, String)| {
            Box::pin(
                async move { Ok((Err::<String, String>(format!("no callback named {name:?}")),)) },
            )
        })
        .map_err(err)?;
        root.func_wrap("list-callbacks", |_store, (): ()| {
            Ok((Vec::<String>::new(),))
        })
        .map_err(err)?;
        root.func_wrap("report-trace", |_store, (_trace,): (String,)| Ok(()))
            .map_err(err)?;
        stub_net(&mut linker, component)?;
        stub_sinks(&mut linker, component)?;
        let pre = linker.instantiate_pre(component).map_err(err)?;
        Ok(RawHost { pre, mounts })
    }

    /// A fresh instance.
    pub async fn instantiate(&self) -> Result<RawSandbox, String> {
        let mut wasi = WasiCtxBuilder::new();
        for (host, guest) in &self.mounts {
            wasi.preopened_dir(host, guest, FsPerms::ReadOnly)
                .map_err(err)?;
        }
        let state = State {
            wasi: wasi.build(),
            table: ResourceTable::new(),
        };
        let mut store = Store::new(eryx::bench_support::engine(), state);
        // The engine interrupts on epochs; like eryx's own stores, yield at
        // every tick and carry on (no timeout here).
        store.epoch_deadline_callback(|_| Ok(UpdateDeadline::Yield(1)));
        store.set_epoch_deadline(1);
        let instance = self.pre.instantiate_async(&mut store).await.map_err(err)?;
        let execute = instance
            .get_typed_func(&mut store, "execute")
            .map_err(err)?;
        let snapshot = instance
            .get_typed_func(&mut store, "snapshot-state")
            .map_err(err)?;
        let restore = instance
            .get_typed_func(&mut store, "restore-state")
            .map_err(err)?;
        Ok(RawSandbox {
            store,
            execute,
            snapshot,
            restore,
        })
    }
}

/// One instance of a [`RawHost`] component.
pub struct RawSandbox {
    store: Store<State>,
    execute: TypedFunc<(String,), (Result<String, String>,)>,
    snapshot: TypedFunc<(), (Result<Vec<u8>, String>,)>,
    restore: TypedFunc<(Vec<u8>,), (Result<(), String>,)>,
}

impl RawSandbox {
    /// `execute(code)`: stdout, or the traceback / trap as text.
    pub async fn execute(&mut self, code: &str) -> Result<String, String> {
        let (r,) = self
            .execute
            .call_async(&mut self.store, (code.to_string(),))
            .await
            .map_err(err)?;
        r
    }

    /// `snapshot-state()`: the pickled namespace.
    pub async fn snapshot(&mut self) -> Result<Vec<u8>, String> {
        let (r,) = self
            .snapshot
            .call_async(&mut self.store, ())
            .await
            .map_err(err)?;
        r
    }

    /// `restore-state(bytes)`.
    pub async fn restore(&mut self, state: Vec<u8>) -> Result<(), String> {
        let (r,) = self
            .restore
            .call_async(&mut self.store, (state,))
            .await
            .map_err(err)?;
        r
    }
}
