//! Where eryx keeps its on-disk cache (compiled images, the extracted
//! stdlib, merged package directories, wheels, locks) and how files land
//! there atomically; `evict` keeps it under its size cap
//! (`ERYX_CACHE_MAX`) and is what `eryx cache` drives.
mod evict;

pub use evict::{clear, entries, info, max_bytes, parse_size, prune, CacheEntry, CacheInfo};
pub(crate) use evict::{enforce_cap, touch, use_entry};
use std::path::{Path, PathBuf};

/// The cache root: `$ERYX_CACHE_DIR`, else `$XDG_CACHE_HOME/eryx`, else
/// `~/.cache/eryx`, else a directory under the system temp dir.
pub fn dir() -> PathBuf {
    if let Some(d) = std::env::var_os("ERYX_CACHE_DIR") {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(d).join("eryx");
    }
    if let Some(h) = std::env::var_os("HOME") {
        return PathBuf::from(h).join(".cache/eryx");
    }
    std::env::temp_dir().join("eryx-cache")
}

/// A unique temporary sibling of `path` (same filesystem, for rename).
pub(crate) fn tmp_sibling(path: &Path) -> PathBuf {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp-{}-{n}", std::process::id()));
    path.with_file_name(name)
}

/// Write `bytes` to `path` atomically (temp file + rename).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p)?;
    }
    let tmp = tmp_sibling(path);
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}
