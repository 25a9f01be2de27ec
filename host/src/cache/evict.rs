//! The cache's size cap and least-recently-used eviction. An entry is a
//! compiled image (`components/*.cwasm`), a merged package directory
//! (`packages/*`), a wheel (`wheels/*`), a lock (`locks/*`) or an unpacked
//! stdlib (`stdlib-*`); its last use is its mtime, bumped on every use.
//! A process keeps a shared `flock` on every entry it uses (the image it
//! mapped, the directories it mounts) until it exits; eviction takes an
//! exclusive lock without waiting and skips what it cannot lock, so an
//! entry in use is never removed. eryx's pip venv (`pip-*`) counts towards
//! the size but only `clear` removes it.
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

/// Default cap: 2 GiB.
const DEFAULT_MAX: u64 = 2 << 30;

/// One cache entry.
#[derive(Debug, Clone)]
pub struct CacheEntry {
    /// `image`, `packages`, `wheel`, `lock`, `stdlib` or `tool`.
    pub kind: &'static str,
    /// Its path.
    pub path: PathBuf,
    /// Bytes on disk (a directory: all its files).
    pub bytes: u64,
    /// Last use.
    pub used: SystemTime,
}

/// The cache as a whole.
#[derive(Debug, Clone)]
pub struct CacheInfo {
    /// The cache directory.
    pub dir: PathBuf,
    /// Total bytes of its entries.
    pub bytes: u64,
    /// Number of entries.
    pub entries: usize,
    /// The cap (`ERYX_CACHE_MAX`, default 2 GiB).
    pub max: u64,
}

/// Parse a size: bytes, or a number with K/M/G/T (powers of 1024;
/// `KB`, `KiB`... are the same).
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().ok()?;
    let mult = match unit
        .trim()
        .to_ascii_lowercase()
        .trim_end_matches("ib")
        .trim_end_matches('b')
    {
        "" => 1u64,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        "t" => 1 << 40,
        _ => return None,
    };
    Some((n * mult as f64) as u64)
}

/// The cap in force: `$ERYX_CACHE_MAX` or 2 GiB.
pub fn max_bytes() -> u64 {
    std::env::var("ERYX_CACHE_MAX")
        .ok()
        .and_then(|v| parse_size(&v))
        .unwrap_or(DEFAULT_MAX)
}

/// Mark `path` used now (its mtime).
pub fn touch(path: &Path) {
    if let Ok(f) = File::open(path) {
        let _ = f.set_modified(SystemTime::now());
    }
}

/// Mark `path` used and hold a shared lock on it until this process
/// exits, so that no eviction removes it while it is mapped or mounted.
pub fn use_entry(path: &Path) {
    static HELD: Mutex<Vec<(PathBuf, File)>> = Mutex::new(Vec::new());
    let mut held = HELD.lock().unwrap_or_else(|p| p.into_inner());
    if held.iter().any(|(p, _)| p == path) {
        return;
    }
    if let Ok(f) = File::open(path) {
        let _ = f.set_modified(SystemTime::now());
        if f.lock_shared().is_ok() {
            held.push((path.to_path_buf(), f));
        }
    }
}

fn size_of(path: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if !meta.is_dir() {
        return meta.len();
    }
    std::fs::read_dir(path)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| size_of(&e.path()))
        .sum()
}

fn children(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| !p.to_string_lossy().contains(".tmp-"))
        .collect();
    v.sort();
    v
}

/// Every entry of the cache, least recently used first.
pub fn entries() -> Vec<CacheEntry> {
    let root = super::dir();
    let mut out = Vec::new();
    let mut push = |kind: &'static str, path: PathBuf| {
        let used = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let bytes = size_of(&path);
        out.push(CacheEntry {
            kind,
            path,
            bytes,
            used,
        });
    };
    for (sub, kind) in [
        ("components", "image"),
        ("packages", "packages"),
        ("wheels", "wheel"),
        ("locks", "lock"),
    ] {
        for p in children(&root.join(sub)) {
            push(kind, p);
        }
    }
    for p in children(&root) {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with("stdlib-") {
            push("stdlib", p);
        } else if name.starts_with("pip-") {
            push("tool", p);
        }
    }
    out.sort_by_key(|e| e.used);
    out
}

/// Size, entry count and cap of the cache.
pub fn info() -> CacheInfo {
    let e = entries();
    CacheInfo {
        dir: super::dir(),
        bytes: e.iter().map(|e| e.bytes).sum(),
        entries: e.len(),
        max: max_bytes(),
    }
}

/// Remove `e` unless a process holds it; whether it was removed.
fn remove(e: &CacheEntry) -> bool {
    let Ok(f) = File::open(&e.path) else {
        return false;
    };
    if f.try_lock().is_err() {
        return false; // in use by a running process
    }
    let gone = if e.path.is_dir() {
        // Rename first so that no reader sees a half-removed directory.
        let doomed = super::tmp_sibling(&e.path);
        std::fs::rename(&e.path, &doomed).is_ok() && {
            let _ = std::fs::remove_dir_all(&doomed);
            true
        }
    } else {
        std::fs::remove_file(&e.path).is_ok()
    };
    drop(f);
    gone
}

/// Evict least recently used entries (never tools, never entries in use)
/// until the cache holds at most `max` bytes. Returns the entries removed.
pub fn prune(max: u64) -> Vec<CacheEntry> {
    let all = entries();
    let mut total: u64 = all.iter().map(|e| e.bytes).sum();
    let mut removed = Vec::new();
    for e in all {
        if total <= max {
            break;
        }
        if e.kind != "tool" && remove(&e) {
            total = total.saturating_sub(e.bytes);
            removed.push(e);
        }
    }
    removed
}

/// Remove every entry not in use (the pip venv too). Returns those removed
/// and those kept because a running process uses them.
pub fn clear() -> (Vec<CacheEntry>, Vec<CacheEntry>) {
    entries().into_iter().partition(remove)
}

/// Keep the cache under its cap (after something was added to it).
pub fn enforce_cap() {
    let removed = prune(max_bytes());
    if !removed.is_empty() {
        tracing::debug!("cache: evicted {} entries", removed.len());
    }
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("2G"), Some(2 << 30));
        assert_eq!(parse_size("100MiB"), Some(100 << 20));
        assert_eq!(parse_size("512 kb"), Some(512 << 10));
        assert_eq!(parse_size("1234"), Some(1234));
        assert_eq!(parse_size("lots"), None);
    }
}
