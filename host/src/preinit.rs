//! Pre-initialisation: turn the linked component into one whose memory
//! already holds a started CPython with the runtime's helpers and chosen
//! modules imported, so a new sandbox skips `Py_Initialize` entirely.
//!
//! With wasmtime-wizer's component support: instrument the component (it
//! exports accessors for every memory and global), instantiate it with
//! `ERYX_PREINIT=1` in the environment, run one `execute` that imports the
//! modules, and snapshot memories and globals into a rewritten component.
//! At the end of that call the guest drops its WASI handles (they belong to
//! this store) and the first call of every instance made from the snapshot
//! reloads its environment and reseeds `random` (see src/preinit.rs).
//! Instrumenting costs one extra compile; the build engine's function cache
//! (engine.rs) reuses most of it for the final component.
//!
//! Native extensions are linked before pre-initialising (their constructors
//! run in the snapshot); the packages directory is mounted in the pre-init
//! instance only when modules are pre-imported (the image then depends on
//! its content, which its path names).
use crate::builder::Settings;
use crate::engine::Flavor;
use crate::instance::{self, HostState};
use crate::link;
use crate::packages::Prepared;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;
use wasmtime::component::{Component, ComponentType, Instance, Lift, WasmList};
use wasmtime::{Engine, Store};
use wasmtime_wizer::{ComponentInstanceState, Wizer};

/// Modules imported into every pre-initialised image on top of the helpers,
/// which import them lazily: `pickle` (the state checkpoint after every
/// call), `asyncio` (top-level `await`, callbacks; ~0.25 s to import),
/// `json` (callbacks, traces) and `traceback` (the first error).
pub const DEFAULT_MODULES: &[&str] = &["pickle", "json", "asyncio", "traceback"];

/// How the error of a failed pre-import starts (the traceback follows).
pub const PREIMPORT_FAILED: &str = "pre-importing modules failed";

/// Bump when what goes into the image changes without the guest changing.
const FORMAT: u32 = 1;

/// Whether `name` is a dotted Python module name (`a`, `a.b_c`).
pub fn valid_module_name(name: &str) -> bool {
    !name.is_empty()
        && name.split('.').all(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
                && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
        })
}

/// What to pre-initialise.
pub struct Spec<'a> {
    pub flavor: Flavor,
    /// Host directory of the stdlib.
    pub stdlib: &'a Path,
    /// Extensions to link; their site directory (mounted when `modules`
    /// is not empty).
    pub packages: &'a Arc<Prepared>,
    /// Modules to import on top of [`DEFAULT_MODULES`].
    pub modules: &'a [String],
    pub progress: bool,
}

/// The cache key of the image for `packages` with `modules` pre-imported.
pub fn content_key(packages: &Prepared, modules: &[String]) -> String {
    let base = &packages.component_key;
    let mut h = Sha256::new();
    h.update(FORMAT.to_le_bytes());
    if let (false, Some(site)) = (modules.is_empty(), &packages.site) {
        // The site directory's name holds its content hash.
        h.update(site.file_name().unwrap_or_default().as_encoded_bytes());
        h.update([0]);
    }
    for m in DEFAULT_MODULES
        .iter()
        .copied()
        .chain(modules.iter().map(String::as_str))
    {
        h.update(m.as_bytes());
        h.update([0]);
    }
    let hex: String = h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{base}-preinit-{hex}")
}

/// Link the component (with the extensions) and pre-initialise it as
/// `spec` says. Runs on its own thread (the guest is driven by a private
/// runtime), so it may be called from synchronous code inside or outside
/// tokio.
pub fn build(engine: &Engine, spec: &Spec) -> Result<Vec<u8>, String> {
    let linked = link::link(&spec.packages.load_extensions()?)?;
    std::thread::scope(|s| {
        s.spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("pre-initialisation runtime: {e}"))?;
            rt.block_on(snapshot(engine, spec, &linked))
        })
        .join()
        .unwrap_or_else(|_| Err("pre-initialisation panicked".into()))
    })
}

/// The Python source the pre-init `execute` runs.
fn import_code(modules: &[String]) -> Result<String, String> {
    let mut code = String::new();
    for m in DEFAULT_MODULES
        .iter()
        .copied()
        .chain(modules.iter().map(String::as_str))
    {
        if !valid_module_name(m) {
            return Err(format!("cannot pre-import {m:?}: not a module name"));
        }
        code.push_str(&format!("import {m}\n"));
    }
    Ok(code)
}

async fn snapshot(engine: &Engine, spec: &Spec<'_>, wasm: &[u8]) -> Result<Vec<u8>, String> {
    let err = |what: &str| {
        let what = what.to_string();
        move |e: wasmtime::Error| format!("pre-initialisation: {what}: {e:#}")
    };
    let t0 = Instant::now();
    let code = import_code(spec.modules)?;
    let wizer = Wizer::new();
    let (cx, instrumented) = wizer
        .instrument_component(wasm)
        .map_err(err("instrumenting"))?;
    let component = Component::new(engine, &instrumented).map_err(err("compiling"))?;
    let t1 = Instant::now();
    let mut settings = Settings {
        flavor_override: Some(spec.flavor),
        ..Settings::default()
    };
    if !spec.modules.is_empty() {
        settings.packages = spec.packages.clone();
    }
    let mut store = instance::new_store(
        engine,
        &settings,
        spec.stdlib,
        &instance::Anchors::new(&settings),
        true,
    )
    .map_err(|e| format!("pre-initialisation: {e}"))?;
    let linker = instance::linker(engine).map_err(err("linking imports"))?;
    let inst = linker
        .instantiate_async(&mut store, &component)
        .await
        .map_err(err("instantiating"))?;
    let execute = inst
        .get_typed_func::<(String,), (Result<String, String>,)>(&mut store, "execute")
        .map_err(err("finding execute"))?;
    let (result,) = execute
        .call_async(&mut store, (code,))
        .await
        .map_err(err("running"))?;
    result.map_err(|tb| format!("{PREIMPORT_FAILED}:\n{tb}"))?;
    // The guest dropped its WASI handles at the end of that call; one left
    // would be a dangling handle in every instance made from the snapshot.
    let open = store.data_mut().open_handles();
    if open != 0 {
        return Err(format!(
            "pre-initialisation: the guest still holds {open} WASI handle(s)"
        ));
    }
    let t2 = Instant::now();
    let mut access = Access {
        store: &mut store,
        instance: inst,
        error: None,
    };
    let image = wizer
        .snapshot_component(&cx, &mut access)
        .await
        .map_err(err("snapshot"))?;
    if let Some(e) = access.error {
        return Err(format!(
            "pre-initialisation: reading the instance state: {e}"
        ));
    }
    if spec.progress {
        let secs = |a: Instant, b: Instant| (b - a).as_secs_f64();
        let mb = |n: usize| n as f64 / 1e6;
        eprintln!(
            "eryx: pre-initialised in {:.1} s (compile {:.1} s, start + imports {:.2} s, snapshot {:.2} s; \
             component {:.1} MB -> {:.1} MB)",
            t0.elapsed().as_secs_f64(),
            secs(t0, t1),
            secs(t1, t2),
            secs(t2, Instant::now()),
            mb(wasm.len()),
            mb(image.len())
        );
    }
    Ok(image)
}

/// Wizer's view of the instrumented instance: calls its state accessors.
/// Failures are kept (the trait's methods cannot fail) and checked after.
struct Access<'a> {
    store: &'a mut Store<HostState>,
    instance: Instance,
    error: Option<String>,
}

impl Access<'_> {
    async fn call<R>(&mut self, instance: &str, func: &str) -> Option<R>
    where
        R: ComponentType + Lift + Send + Sync + 'static,
    {
        let result = async {
            let missing = || wasmtime::Error::msg(format!("no export {instance}#{func}"));
            let (_, outer) = self
                .instance
                .get_export(&mut *self.store, None, instance)
                .ok_or_else(missing)?;
            let (_, index) = self
                .instance
                .get_export(&mut *self.store, Some(&outer), func)
                .ok_or_else(missing)?;
            let f = self
                .instance
                .get_typed_func::<(), (R,)>(&mut *self.store, index)?;
            Ok::<R, wasmtime::Error>(f.call_async(&mut *self.store, ()).await?.0)
        }
        .await;
        match result {
            Ok(r) => Some(r),
            Err(e) => {
                self.error.get_or_insert_with(|| format!("{e:#}"));
                None
            }
        }
    }
}

impl ComponentInstanceState for Access<'_> {
    async fn call_func_ret_list_u8(
        &mut self,
        instance: &str,
        func: &str,
        contents: impl FnOnce(&[u8]) + Send,
    ) {
        match self.call::<WasmList<u8>>(instance, func).await {
            Some(list) => contents(list.as_le_slice(&*self.store)),
            None => contents(&[]),
        }
    }

    async fn call_func_ret_s32(&mut self, instance: &str, func: &str) -> i32 {
        self.call(instance, func).await.unwrap_or_default()
    }

    async fn call_func_ret_s64(&mut self, instance: &str, func: &str) -> i64 {
        self.call(instance, func).await.unwrap_or_default()
    }

    async fn call_func_ret_f32(&mut self, instance: &str, func: &str) -> u32 {
        self.call::<f32>(instance, func)
            .await
            .unwrap_or_default()
            .to_bits()
    }

    async fn call_func_ret_f64(&mut self, instance: &str, func: &str) -> u64 {
        self.call::<f64>(instance, func)
            .await
            .unwrap_or_default()
            .to_bits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names() {
        assert!(valid_module_name("json"));
        assert!(valid_module_name("xml.etree.ElementTree"));
        assert!(valid_module_name("_private1"));
        for bad in ["", "1abc", "a..b", "a.", "os; import sys", "a b", "é"] {
            assert!(!valid_module_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn key_depends_on_modules_and_site() {
        let none = Prepared::none();
        let a = content_key(&none, &[]);
        assert_eq!(a, content_key(&none, &[]));
        let json = ["json".to_string()];
        assert_ne!(a, content_key(&none, &json));
        let with_site = |name: &str| Prepared {
            site: Some(std::path::PathBuf::from("/cache").join(name)),
            ..Prepared::none()
        };
        // The site's content only matters when something is pre-imported.
        assert_eq!(a, content_key(&with_site("site-1"), &[]));
        assert_ne!(
            content_key(&with_site("site-1"), &json),
            content_key(&with_site("site-2"), &json)
        );
    }
}
