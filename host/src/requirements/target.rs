//! What pip resolves for: the sandbox's interpreter and platform, as pip's
//! own options (pip does the tag matching), and the local wheelhouse of
//! WASI builds it also looks in.
use std::path::PathBuf;

/// pip options naming the sandbox's target: CPython 3.14 on wasm32 WASI,
/// wheels only. pip adds the `py3-none-any` family to these tags itself.
pub const PIP_TARGET_ARGS: &[&str] = &[
    "--only-binary=:all:",
    "--python-version",
    "3.14",
    "--implementation",
    "cp",
    "--abi",
    "cp314",
    "--abi",
    "abi3",
    "--abi",
    "none",
    "--platform",
    "wasi_0_0_0_wasm32",
    "--platform",
    "wasm32_wasi",
    "--platform",
    "any",
];

/// The wheelhouse of WASI builds: `explicit` (the builder's), else
/// `$ERYX_WHEELHOUSE`, else `<repo>/target/wheelhouse` when it exists.
pub fn wheelhouse(explicit: Option<&PathBuf>) -> Option<PathBuf> {
    if let Some(d) = explicit {
        return Some(d.clone());
    }
    if let Some(d) = std::env::var_os("ERYX_WHEELHOUSE") {
        return Some(PathBuf::from(d));
    }
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/wheelhouse");
    d.canonicalize().ok().filter(|d| d.is_dir())
}

/// The wheelhouse's wheels as (file name, size, mtime in ns), sorted: part
/// of the lock's key, so adding or rebuilding a wheel there re-resolves.
pub fn wheelhouse_listing(dir: &std::path::Path) -> Vec<(String, u64, u128)> {
    let mut out: Vec<(String, u64, u128)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_string();
            let meta = e.metadata().ok()?;
            let mtime = meta
                .modified()
                .ok()?
                .duration_since(std::time::UNIX_EPOCH)
                .ok()?
                .as_nanos();
            name.ends_with(".whl").then_some((name, meta.len(), mtime))
        })
        .collect();
    out.sort();
    out
}
