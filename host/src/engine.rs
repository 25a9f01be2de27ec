//! The one place that knows the wasmtime engine configuration, and the
//! compiled-code cache: a component is compiled once and its `.cwasm` is
//! stored under a key of (component content hash, engine compatibility hash,
//! wasmtime version), then memory-mapped on later runs.
use crate::cache;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::OnceLock;
use std::time::Duration;
use wasmtime::component::Component;
use wasmtime::{Config, Engine, OptLevel};

/// Which engine configuration a sandbox needs. Fuel metering changes the
/// generated code (and costs on every instruction), so it has its own
/// engine and its own compiled-code cache entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flavor {
    /// Epoch interruption only (the default).
    Default,
    /// Epoch interruption plus fuel metering.
    Fuel,
}

/// How often the per-engine ticker advances the epoch (the granularity of
/// timeouts and interrupts).
pub const TICK: Duration = Duration::from_millis(10);

/// Largest wasm stack the guest may use before a clean stack-overflow trap.
const MAX_WASM_STACK: usize = 4 << 20;

/// The process-wide engine of `flavor` (with its epoch ticker thread).
pub fn engine(flavor: Flavor) -> &'static Engine {
    static DEFAULT: OnceLock<Engine> = OnceLock::new();
    static FUEL: OnceLock<Engine> = OnceLock::new();
    let cell = match flavor {
        Flavor::Default => &DEFAULT,
        Flavor::Fuel => &FUEL,
    };
    cell.get_or_init(|| {
        let mut c = Config::new();
        c.wasm_component_model(true)
            .wasm_component_model_async(true)
            .concurrency_support(true)
            .cranelift_opt_level(OptLevel::Speed)
            .memory_init_cow(true)
            .epoch_interruption(true)
            .consume_fuel(flavor == Flavor::Fuel)
            .max_wasm_stack(MAX_WASM_STACK)
            // Host frames (WASI, callbacks) run on the same fiber stack.
            .async_stack_size(MAX_WASM_STACK + (4 << 20));
        let engine = Engine::new(&c).expect("eryx: invalid wasmtime engine configuration");
        let weak = engine.weak();
        std::thread::Builder::new()
            .name("eryx-epoch".into())
            .spawn(move || {
                while let Some(e) = weak.upgrade() {
                    e.increment_epoch();
                    drop(e);
                    std::thread::sleep(TICK);
                }
            })
            .expect("eryx: could not start the epoch ticker");
        engine
    })
}

/// The wasmtime release this crate pins (`=` in host/Cargo.toml).
const WASMTIME_VERSION: &str = "48.0.8";

fn cache_key(flavor: Flavor, content_key: &str) -> String {
    let mut h = DefaultHasher::new();
    engine(flavor).precompile_compatibility_hash().hash(&mut h);
    format!(
        "{content_key}-{:016x}-wasmtime{}",
        h.finish(),
        WASMTIME_VERSION
    )
}

/// Load the compiled component for `content_key`, building (`build`) and
/// compiling it on a cache miss. `progress` reports the slow path on stderr.
pub fn load(
    flavor: Flavor,
    content_key: &str,
    build: impl FnOnce() -> Result<Vec<u8>, String>,
    progress: bool,
) -> Result<Component, String> {
    let path = cache::dir()
        .join("components")
        .join(format!("{}.cwasm", cache_key(flavor, content_key)));
    if path.exists() {
        // SAFETY: the file was written by `Component::serialize` of this
        // engine configuration (the key includes its compatibility hash) into
        // our private cache directory; wasmtime re-checks compatibility.
        if let Ok(c) = unsafe { Component::deserialize_file(engine(flavor), &path) } {
            return Ok(c);
        }
    }
    if progress {
        eprintln!("eryx: compiling the Python sandbox (first run only, ~10 s)...");
    }
    let start = std::time::Instant::now();
    let bytes = build()?;
    let component = Component::new(engine(flavor), &bytes)
        .map_err(|e| format!("compiling the component failed: {e}"))?;
    match component.serialize() {
        Ok(cwasm) => {
            if let Err(e) = cache::write_atomic(&path, &cwasm) {
                eprintln!(
                    "eryx: warning: could not cache compiled code at {}: {e}",
                    path.display()
                );
            }
        }
        Err(e) => eprintln!("eryx: warning: could not serialise compiled code: {e}"),
    }
    if progress {
        eprintln!(
            "eryx: compiled in {:.1} s (cached)",
            start.elapsed().as_secs_f64()
        );
    }
    Ok(component)
}
