//! Reading wheels (`.whl`, zip archives) into memory: just enough of the zip
//! format for what pip and build backends write — stored and deflated
//! entries with CRC-32 checks; no zip64, no encryption, no multi-disk.
use std::collections::BTreeMap;

/// A file from an archive: its path inside the archive and its contents.
pub struct Entry {
    /// `/`-separated relative path, checked to stay inside the archive.
    pub name: String,
    /// Uncompressed contents.
    pub data: Vec<u8>,
}

const EOCD_SIG: u32 = 0x0605_4b50;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const LOCAL_SIG: u32 = 0x0403_4b50;

fn u16_at(b: &[u8], at: usize) -> Result<u16, String> {
    b.get(at..at + 2)
        .map(|s| u16::from_le_bytes([s[0], s[1]]))
        .ok_or_else(|| "truncated zip archive".to_string())
}

fn u32_at(b: &[u8], at: usize) -> Result<u32, String> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or_else(|| "truncated zip archive".to_string())
}

/// CRC-32 (IEEE), as zip stores it.
fn crc32(data: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t = [0u32; 256];
        for (i, slot) in t.iter_mut().enumerate() {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
            *slot = c;
        }
        t
    });
    !data.iter().fold(!0u32, |c, &b| {
        table[((c ^ b as u32) & 0xff) as usize] ^ (c >> 8)
    })
}

/// Locate the end-of-central-directory record (it may be followed by a
/// comment of up to 64 KiB).
fn find_eocd(b: &[u8]) -> Result<usize, String> {
    if b.len() < 22 {
        return Err("not a zip archive (too short)".into());
    }
    let lowest = b.len().saturating_sub(22 + 0xffff);
    (lowest..=b.len() - 22)
        .rev()
        .find(|&i| u32_at(b, i) == Ok(EOCD_SIG))
        .ok_or_else(|| "not a zip archive (no end-of-central-directory record)".to_string())
}

/// Whether an archive path is a safe relative path.
fn safe_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('/')
        && !name.contains('\\')
        && !name.contains('\0')
        && name.split('/').all(|p| p != ".." && p != ".")
}

/// Every file in the zip archive `bytes` (directories are skipped).
pub fn read(bytes: &[u8]) -> Result<Vec<Entry>, String> {
    let eocd = find_eocd(bytes)?;
    let count = u16_at(bytes, eocd + 10)? as usize;
    let cd_offset = u32_at(bytes, eocd + 16)?;
    if count == 0xffff || cd_offset == 0xffff_ffff {
        return Err("zip64 archives are not supported".into());
    }
    let mut entries = BTreeMap::new();
    let mut at = cd_offset as usize;
    for _ in 0..count {
        if u32_at(bytes, at)? != CENTRAL_SIG {
            return Err("corrupt zip central directory".into());
        }
        let flags = u16_at(bytes, at + 8)?;
        let method = u16_at(bytes, at + 10)?;
        let crc = u32_at(bytes, at + 16)?;
        let packed = u32_at(bytes, at + 20)? as usize;
        let size = u32_at(bytes, at + 24)? as usize;
        let name_len = u16_at(bytes, at + 28)? as usize;
        let extra_len = u16_at(bytes, at + 30)? as usize;
        let comment_len = u16_at(bytes, at + 32)? as usize;
        let local = u32_at(bytes, at + 42)? as usize;
        let name = bytes
            .get(at + 46..at + 46 + name_len)
            .ok_or("truncated zip central directory")?;
        let name =
            String::from_utf8(name.to_vec()).map_err(|_| "non-UTF-8 file name in zip archive")?;
        at += 46 + name_len + extra_len + comment_len;
        if name.ends_with('/') {
            continue;
        }
        if !safe_name(&name) {
            return Err(format!("unsafe path {name:?} in zip archive"));
        }
        if flags & 1 != 0 {
            return Err(format!("{name}: encrypted zip entries are not supported"));
        }
        if u32_at(bytes, local)? != LOCAL_SIG {
            return Err(format!("{name}: corrupt zip local header"));
        }
        let start =
            local + 30 + u16_at(bytes, local + 26)? as usize + u16_at(bytes, local + 28)? as usize;
        let raw = bytes
            .get(start..start + packed)
            .ok_or_else(|| format!("{name}: truncated zip entry"))?;
        let data = match method {
            0 => raw.to_vec(),
            8 => miniz_oxide::inflate::decompress_to_vec_with_limit(raw, size)
                .map_err(|e| format!("{name}: bad deflate data ({:?})", e.status))?,
            m => return Err(format!("{name}: unsupported zip compression method {m}")),
        };
        if data.len() != size || crc32(&data) != crc {
            return Err(format!("{name}: size or CRC-32 mismatch in zip archive"));
        }
        entries.insert(name.clone(), Entry { name, data });
    }
    Ok(entries.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn rejects_garbage_and_unsafe_names() {
        assert!(read(b"definitely not a zip file at all").is_err());
        assert!(!safe_name("../evil.py"));
        assert!(!safe_name("/abs.py"));
        assert!(!safe_name("a/./b.py"));
        assert!(safe_name("pkg/mod.py"));
    }
}
