//! One session as a file of the directory store (`dir.rs`): the format,
//! reading it back with every check, and writing it atomically.
//!
//! Layout (integers little-endian):
//!
//! | bytes | what |
//! | --- | --- |
//! | 8 | magic `ERYXSESS` |
//! | 4 | format version (1) |
//! | 4 | length of the metadata (JSON, at most 64 KiB) |
//! | 8 | length of the snapshot (0: none, the state as built) |
//! | 8 | FNV-1a 64 of the metadata |
//! | 8 | FNV-1a 64 of the snapshot |
//! | … | metadata: [`Meta`] as JSON |
//! | … | snapshot: `eryx::Sandbox::snapshot()` bytes (`snapshot_exact()` for an exact session) |
//!
//! Anything else (short, long, wrong magic or sums, unknown fields) is
//! [`Unreadable`]. A write goes to a temp file in the same directory,
//! is fsynced, then renamed over the old file (and the directory fsynced),
//! so a reader sees the old file or the new one, never a torn one.
use crate::sessions::Settings;
use serde::{Deserialize, Serialize};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::Path;

const MAGIC: &[u8; 8] = b"ERYXSESS";
const FORMAT: u32 = 1;
const HEADER: usize = 40;
const MAX_META: usize = 64 << 10;

/// What a session file says about its session besides the snapshot.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    /// The owning tenant's name (checked on every lookup).
    pub tenant: String,
    /// The session id (the file's name says it too).
    pub id: String,
    /// What it was created with.
    pub settings: Settings,
    /// The state version (0: as built, no snapshot).
    pub version: u64,
    /// Unix ms.
    pub created_ms: u64,
    /// Unix ms of the last write.
    pub used_ms: u64,
    /// Successful executes so far.
    pub executes: u64,
    /// Unix ms after which the session is gone.
    pub expires_ms: u64,
}

/// The file is not one this server wrote (or it was damaged).
#[derive(Debug)]
pub struct Unreadable(pub String);

/// Reading failed: the file is unreadable, or the I/O itself failed
/// (`NotFound` among them).
#[derive(Debug)]
pub enum ReadError {
    /// Corrupt or foreign bytes.
    Unreadable(Unreadable),
    /// The file could not be read.
    Io(io::Error),
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        ReadError::Io(e)
    }
}

fn bad(why: &str) -> ReadError {
    ReadError::Unreadable(Unreadable(why.to_string()))
}

/// FNV-1a, 64 bits: detects damage, not tampering.
pub fn fnv64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

struct Header {
    meta_len: usize,
    snap_len: u64,
    meta_sum: u64,
    snap_sum: u64,
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

fn header(b: &[u8; HEADER], file_len: u64) -> Result<Header, ReadError> {
    if &b[..8] != MAGIC {
        return Err(bad("not a session file"));
    }
    if u32_at(b, 8) != FORMAT {
        return Err(bad("unknown format version"));
    }
    let h = Header {
        meta_len: u32_at(b, 12) as usize,
        snap_len: u64_at(b, 16),
        meta_sum: u64_at(b, 24),
        snap_sum: u64_at(b, 32),
    };
    if h.meta_len > MAX_META {
        return Err(bad("metadata too long"));
    }
    let want = (HEADER as u64 + h.meta_len as u64).checked_add(h.snap_len);
    if want != Some(file_len) {
        return Err(bad("wrong length"));
    }
    Ok(h)
}

fn meta(bytes: &[u8], sum: u64) -> Result<Meta, ReadError> {
    if fnv64(bytes) != sum {
        return Err(bad("metadata checksum"));
    }
    serde_json::from_slice(bytes).map_err(|_| bad("metadata is not valid"))
}

/// Open `path` and read its header and metadata (not the snapshot).
fn open(path: &Path) -> Result<(File, Header, Meta), ReadError> {
    let mut f = File::open(path)?;
    let len = f.metadata()?.len();
    let mut h = [0u8; HEADER];
    f.read_exact(&mut h).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => bad("too short"),
        _ => ReadError::Io(e),
    })?;
    let h = header(&h, len)?;
    let mut m = vec![0u8; h.meta_len];
    f.read_exact(&mut m)?;
    let meta = meta(&m, h.meta_sum)?;
    Ok((f, h, meta))
}

/// The metadata of the session file at `path` (for the start-up scan).
pub fn read_meta(path: &Path) -> Result<Meta, ReadError> {
    open(path).map(|(_, _, m)| m)
}

/// The metadata and snapshot (`None`: none) of the file at `path`.
pub fn read(path: &Path) -> Result<(Meta, Option<Vec<u8>>), ReadError> {
    let (mut f, h, meta) = open(path)?;
    if h.snap_len == 0 {
        return Ok((meta, None));
    }
    let len = usize::try_from(h.snap_len).map_err(|_| bad("snapshot too long"))?;
    let mut snap = vec![0u8; len];
    f.read_exact(&mut snap)?;
    if fnv64(&snap) != h.snap_sum {
        return Err(bad("snapshot checksum"));
    }
    Ok((meta, Some(snap)))
}

/// The bytes of a session file.
pub fn encode(meta: &Meta, snap: Option<&[u8]>) -> Vec<u8> {
    // Serializing plain strings and numbers cannot fail.
    let m = serde_json::to_vec(meta).unwrap_or_default();
    let s = snap.unwrap_or_default();
    let mut out = Vec::with_capacity(HEADER + m.len() + s.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT.to_le_bytes());
    out.extend_from_slice(&(m.len() as u32).to_le_bytes());
    out.extend_from_slice(&(s.len() as u64).to_le_bytes());
    out.extend_from_slice(&fnv64(&m).to_le_bytes());
    out.extend_from_slice(&fnv64(s).to_le_bytes());
    out.extend_from_slice(&m);
    out.extend_from_slice(s);
    out
}

/// Write `bytes` as `dir/name`, atomically: a temp file beside it, fsync,
/// rename over, fsync the directory. The temp file never survives a
/// failure here (one left by a crash is removed by the next start).
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let tmp = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let written = (|| {
        let mut f = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        f.write_all(bytes)?;
        // Data and length (all a reader needs); the rename is made durable
        // by the directory fsync below.
        f.sync_data()?;
        fs::rename(&tmp, dir.join(name))
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
        return written;
    }
    // The rename is done; a failed directory fsync only weakens durability
    // against a power cut, so it is logged, not failed.
    if let Err(e) = File::open(dir).and_then(|d| d.sync_all()) {
        tracing::warn!(error = %e, dir = %dir.display(), "fsync of the session directory failed");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> Meta {
        Meta {
            tenant: "t".into(),
            id: "0".repeat(32),
            settings: Settings {
                ttl_s: 60,
                timeout_ms: 1000,
                max_memory_bytes: 64 << 20,
                preimports: vec![],
                packages: vec![],
                exact: true,
            },
            version: 3,
            created_ms: 1,
            used_ms: 2,
            executes: 3,
            expires_ms: 4,
        }
    }

    #[test]
    fn round_trip_and_damage_is_detected() {
        let dir = std::env::temp_dir().join(format!("eryx-file-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let bytes = encode(&meta(), Some(b"snapshot"));
        write_atomic(&dir, "a.session", &bytes).unwrap();
        let (m, s) = read(&dir.join("a.session")).unwrap();
        assert_eq!((m, s.as_deref()), (meta(), Some(&b"snapshot"[..])));
        assert_eq!(read_meta(&dir.join("a.session")).unwrap(), meta());
        // One flipped bit in the snapshot, a truncation, foreign bytes.
        let mut flipped = bytes.clone();
        *flipped.last_mut().unwrap() ^= 1;
        for b in [flipped, bytes[..bytes.len() - 1].to_vec(), b"{}".to_vec()] {
            fs::write(dir.join("b.session"), b).unwrap();
            assert!(matches!(
                read(&dir.join("b.session")),
                Err(ReadError::Unreadable(_))
            ));
        }
        let none = encode(&meta(), None);
        fs::write(dir.join("c.session"), none).unwrap();
        assert_eq!(read(&dir.join("c.session")).unwrap().1, None);
        // No temp files left behind.
        let left: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(left.is_empty());
        fs::remove_dir_all(&dir).unwrap();
    }
}
