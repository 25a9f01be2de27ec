//! The one place that knows the wasmtime engine configuration, and the
//! compiled-code cache: a component is compiled once and its `.cwasm` is
//! stored under a key of (component content hash, engine compatibility hash,
//! wasmtime version), then memory-mapped on later runs.
use crate::cache;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::OnceLock;
use wasmtime::component::Component;
use wasmtime::{Config, Engine, OptLevel};

/// The process-wide engine.
pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut c = Config::new();
        c.wasm_component_model(true)
            .wasm_component_model_async(true)
            .concurrency_support(true)
            .cranelift_opt_level(OptLevel::Speed)
            .memory_init_cow(true);
        Engine::new(&c).expect("eryx: invalid wasmtime engine configuration")
    })
}

/// The wasmtime release this crate pins (`=` in host/Cargo.toml).
const WASMTIME_VERSION: &str = "48.0.8";

fn cache_key(content_key: &str) -> String {
    let mut h = DefaultHasher::new();
    engine().precompile_compatibility_hash().hash(&mut h);
    format!("{content_key}-{:016x}-wasmtime{}", h.finish(), WASMTIME_VERSION)
}

/// Load the compiled component for `content_key`, building (`build`) and
/// compiling it on a cache miss. `progress` reports the slow path on stderr.
pub fn load(
    content_key: &str,
    build: impl FnOnce() -> Result<Vec<u8>, String>,
    progress: bool,
) -> Result<Component, String> {
    let path = cache::dir()
        .join("components")
        .join(format!("{}.cwasm", cache_key(content_key)));
    if path.exists() {
        // SAFETY: the file was written by `Component::serialize` of this
        // engine configuration (the key includes its compatibility hash) into
        // our private cache directory; wasmtime re-checks compatibility.
        if let Ok(c) = unsafe { Component::deserialize_file(engine(), &path) } {
            return Ok(c);
        }
    }
    if progress {
        eprintln!("eryx: compiling the Python sandbox (first run only, ~10 s)...");
    }
    let start = std::time::Instant::now();
    let bytes = build()?;
    let component =
        Component::new(engine(), &bytes).map_err(|e| format!("compiling the component failed: {e}"))?;
    match component.serialize() {
        Ok(cwasm) => {
            if let Err(e) = cache::write_atomic(&path, &cwasm) {
                eprintln!("eryx: warning: could not cache compiled code at {}: {e}", path.display());
            }
        }
        Err(e) => eprintln!("eryx: warning: could not serialise compiled code: {e}"),
    }
    if progress {
        eprintln!("eryx: compiled in {:.1} s (cached)", start.elapsed().as_secs_f64());
    }
    Ok(component)
}
