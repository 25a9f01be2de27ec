//! The Python standard library the guest mounts read-only: the embedded tar
//! is unpacked once into the cache (keyed by content hash) and reused. Once
//! unpacked, the guest's own CPython compiles it to bytecode (`.pyc`, see
//! `instance::compile_stdlib`) so imports do not re-compile source in every
//! fresh instance.
use crate::{cache, embedded};
use std::path::PathBuf;

/// Directory holding the unpacked stdlib, unpacking it on first use.
pub fn dir() -> std::io::Result<PathBuf> {
    let dest = cache::dir().join(format!("stdlib-{}", &embedded::CONTENT_HASH[..16]));
    if dest.join(".complete").exists() {
        cache::use_entry(&dest);
        return Ok(dest);
    }
    std::fs::create_dir_all(dest.parent().unwrap())?;
    let tmp = cache::tmp_sibling(&dest);
    tar::Archive::new(embedded::STDLIB_TAR).unpack(&tmp)?;
    std::fs::write(tmp.join(".complete"), b"")?;
    match std::fs::rename(&tmp, &dest) {
        Ok(()) => {}
        // Another process won the race: use its copy.
        Err(_) if dest.join(".complete").exists() => {
            let _ = std::fs::remove_dir_all(&tmp);
        }
        Err(e) => return Err(e),
    }
    cache::use_entry(&dest);
    Ok(dest)
}

const BYTECODE_MARK: &str = ".bytecode-complete";

/// Whether the stdlib at `dir` still needs compiling to bytecode.
pub fn needs_bytecode(dir: &std::path::Path) -> bool {
    !dir.join(BYTECODE_MARK).exists()
}

/// Record that the stdlib at `dir` has been compiled.
pub fn mark_bytecode(dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::write(dir.join(BYTECODE_MARK), b"")
}
