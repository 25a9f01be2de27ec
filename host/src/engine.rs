//! The one place that knows the wasmtime engine configuration, and the
//! compiled-code cache: a component is compiled once and its `.cwasm` is
//! stored under a key of (component content hash, engine compatibility hash,
//! wasmtime version), then memory-mapped on later runs.
//!
//! Building a component (linking, pre-initialising) may itself compile
//! code: it gets a *build engine* of the same configuration whose Cranelift
//! keeps every compiled function in memory, so compiling the final
//! (pre-initialised) component hits that cache for nearly every function
//! (measured: ~2.5 s instead of ~7 s; translation and linking remain).
use crate::cache;
use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use wasmtime::component::Component;
use wasmtime::{CacheStore, Config, Engine, OptLevel, ProfilingStrategy};

/// Which engine configuration a sandbox needs. Fuel metering changes the
/// generated code (and costs on every instruction), so it has its own
/// engine and its own compiled-code cache entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flavor {
    /// Epoch interruption only (the default).
    Default,
    /// Epoch interruption plus fuel metering.
    Fuel,
    /// No epoch checks at all: nothing can stop running guest code (no
    /// timeouts, no interrupts), in exchange for the checks' cost at every
    /// loop header and function entry (~20-25% on call-heavy code).
    Uninterruptible,
    /// Epoch interruption, and guest memory owned by the host
    /// (`exact/memory.rs`) so it can be forked and snapshotted exactly.
    /// Its component is built with the memory's data taken out into an
    /// image file each memory maps copy-on-write (`exact/image.rs`).
    Exact,
}

/// How often the per-engine ticker advances the epoch (the granularity of
/// timeouts and interrupts).
pub const TICK: Duration = Duration::from_millis(10);

/// Largest native stack wasm frames may use before a clean stack-overflow
/// trap. CPython's own guard measures only its 1 MiB shadow stack in
/// linear memory (see link.rs, docs/stacks.md); the deepest C recursion
/// measured (json decoding nested objects) needs 32-40 MiB of wasm frames
/// to reach it, so 64 MiB lets `RecursionError` come first with >= 1.6x
/// headroom.
const MAX_WASM_STACK: usize = 64 << 20;

/// The fiber stack each call runs on: wasm frames plus host frames (WASI,
/// callbacks). Reserved, not committed; see stack.rs for how its pages are
/// given back after a deep call.
const ASYNC_STACK: usize = MAX_WASM_STACK + (4 << 20);

/// The engine configuration of `flavor`.
fn config(flavor: Flavor) -> Config {
    let mut c = Config::new();
    c.wasm_component_model(true)
        .wasm_component_model_async(true)
        .concurrency_support(true)
        .cranelift_opt_level(OptLevel::Speed)
        .memory_init_cow(flavor != Flavor::Exact)
        .epoch_interruption(flavor != Flavor::Uninterruptible)
        .consume_fuel(flavor == Flavor::Fuel)
        .max_wasm_stack(MAX_WASM_STACK)
        .async_stack_size(ASYNC_STACK)
        .with_host_stack(Arc::new(crate::stack::Creator));
    if flavor == Flavor::Exact {
        c.with_host_memory(Arc::new(crate::exact::memory::Creator));
    }
    if std::env::var_os("ERYX_PERFMAP").is_some() {
        // Profiling: name JIT code for `perf` in /tmp/perf-PID.map.
        c.profiler(ProfilingStrategy::PerfMap);
    }
    c
}

/// In-memory store of Cranelift's incremental compilation cache.
#[derive(Debug, Default)]
struct FunctionCache(Mutex<HashMap<Vec<u8>, Vec<u8>>>);

impl CacheStore for FunctionCache {
    fn get(&self, key: &[u8]) -> Option<Cow<'_, [u8]>> {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.get(key).map(|v| Cow::Owned(v.clone()))
    }

    fn insert(&self, key: &[u8], value: Vec<u8>) -> bool {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.insert(key.to_vec(), value);
        true
    }
}

/// A short-lived engine for building components: the configuration of
/// `flavor` (so its code and the pre-init run match the real engine's) plus
/// an in-memory function cache. Its epoch never advances (no ticker).
fn build_engine(flavor: Flavor) -> Result<Engine, String> {
    let mut c = config(flavor);
    c.enable_incremental_compilation(Arc::new(FunctionCache::default()))
        .map_err(|e| format!("engine configuration: {e}"))?;
    Engine::new(&c).map_err(|e| format!("engine configuration: {e}"))
}

/// The process-wide engine of `flavor` (with its epoch ticker thread).
pub fn engine(flavor: Flavor) -> &'static Engine {
    static DEFAULT: OnceLock<Engine> = OnceLock::new();
    static FUEL: OnceLock<Engine> = OnceLock::new();
    static UNINTERRUPTIBLE: OnceLock<Engine> = OnceLock::new();
    static EXACT: OnceLock<Engine> = OnceLock::new();
    let cell = match flavor {
        Flavor::Default => &DEFAULT,
        Flavor::Fuel => &FUEL,
        Flavor::Uninterruptible => &UNINTERRUPTIBLE,
        Flavor::Exact => &EXACT,
    };
    cell.get_or_init(|| {
        let engine =
            Engine::new(&config(flavor)).expect("eryx: invalid wasmtime engine configuration");
        let weak = engine.weak();
        std::thread::Builder::new()
            .name("eryx-epoch".into())
            .spawn(move || {
                while let Some(e) = weak.upgrade() {
                    e.increment_epoch();
                    drop(e);
                    crate::trim::run_if_requested();
                    std::thread::sleep(TICK);
                }
            })
            .expect("eryx: could not start the epoch ticker");
        engine
    })
}

/// The wasmtime release this crate pins (`=` in host/Cargo.toml).
const WASMTIME_VERSION: &str = "48.0.8";

pub(crate) fn cache_key(flavor: Flavor, content_key: &str) -> String {
    let mut h = DefaultHasher::new();
    engine(flavor).precompile_compatibility_hash().hash(&mut h);
    // The exact flavor's component has its memory's data in a separate
    // image (exact/image.rs); bump when that split changes.
    let split = if flavor == Flavor::Exact { "-img1" } else { "" };
    format!(
        "{content_key}{split}-{:016x}-wasmtime{}",
        h.finish(),
        WASMTIME_VERSION
    )
}

/// Where the cache keeps the `ext` file of the component for `content_key`
/// (`cwasm`: compiled code; `image`: an exact component's memory image).
pub(crate) fn cached_path(flavor: Flavor, content_key: &str, ext: &str) -> std::path::PathBuf {
    cache::dir()
        .join("components")
        .join(format!("{}.{ext}", cache_key(flavor, content_key)))
}

/// Load the compiled component for `content_key`, building it on a cache
/// miss: `build` gets the build engine (to run code, e.g. pre-initialise)
/// and returns the component's bytes, which are then compiled, cached and
/// loaded. `progress` reports the slow path on stderr.
pub fn load(
    flavor: Flavor,
    content_key: &str,
    build: impl FnOnce(&Engine) -> Result<Vec<u8>, String>,
    progress: bool,
) -> Result<Component, String> {
    let path = cached_path(flavor, content_key, "cwasm");
    if path.exists() {
        // SAFETY: the file was written by `Component::serialize` of this
        // engine configuration (the key includes its compatibility hash) into
        // our private cache directory; wasmtime re-checks compatibility.
        if let Ok(c) = unsafe { Component::deserialize_file(engine(flavor), &path) } {
            cache::use_entry(&path);
            return Ok(c);
        }
    }
    if progress {
        eprintln!("eryx: preparing the Python sandbox (first run only, ~15 s)...");
    }
    let start = std::time::Instant::now();
    let builder = build_engine(flavor)?;
    let bytes = build(&builder)?;
    let compiled = Component::new(&builder, &bytes)
        .map_err(|e| format!("compiling the component failed: {e}"))?;
    let cwasm = compiled
        .serialize()
        .map_err(|e| format!("serialising compiled code failed: {e}"))?;
    drop((compiled, builder));
    let component = match cache::write_atomic(&path, &cwasm) {
        // SAFETY: as above; we just wrote this file.
        Ok(()) => unsafe { Component::deserialize_file(engine(flavor), &path) },
        Err(e) => {
            eprintln!(
                "eryx: warning: could not cache compiled code at {}: {e}",
                path.display()
            );
            // SAFETY: produced by `serialize` just now with this configuration.
            unsafe { Component::deserialize(engine(flavor), &cwasm) }
        }
    }
    .map_err(|e| format!("loading compiled code failed: {e}"))?;
    cache::use_entry(&path);
    cache::enforce_cap();
    if progress {
        eprintln!(
            "eryx: ready in {:.1} s (image {:.1} MB, cached)",
            start.elapsed().as_secs_f64(),
            cwasm.len() as f64 / 1e6
        );
    }
    Ok(component)
}
