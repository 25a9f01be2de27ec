//! The Python standard library the guest mounts read-only: the embedded tar
//! is unpacked once into the cache (keyed by content hash) and reused.
use crate::{cache, embedded};
use std::path::PathBuf;

/// Directory holding the unpacked stdlib, unpacking it on first use.
pub fn dir() -> std::io::Result<PathBuf> {
    let dest = cache::dir().join(format!("stdlib-{}", &embedded::CONTENT_HASH[..16]));
    if dest.join(".complete").exists() {
        return Ok(dest);
    }
    std::fs::create_dir_all(dest.parent().unwrap())?;
    let tmp = cache::tmp_sibling(&dest);
    tar::Archive::new(embedded::STDLIB_TAR).unpack(&tmp)?;
    std::fs::write(tmp.join(".complete"), b"")?;
    match std::fs::rename(&tmp, &dest) {
        Ok(()) => Ok(dest),
        // Another process won the race: use its copy.
        Err(_) if dest.join(".complete").exists() => {
            let _ = std::fs::remove_dir_all(&tmp);
            Ok(dest)
        }
        Err(e) => Err(e),
    }
}
