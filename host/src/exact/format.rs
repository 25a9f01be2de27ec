//! The exact-snapshot file format, and its defensive decoder.
//!
//! ```text
//! "ERYXEXCT"  u32 version  u32 key length  key (the image's identity)
//! u64 payload length  32-byte SHA-256 of the payload  payload
//! payload = u64 raw length  lz4 block of raw
//! raw = (
//!   u64 memory bytes  u32 page count  page count * u32 page index
//!   (strictly increasing)  page count * PAGE bytes
//!   u64 length  files blob (vfs/snapshot.rs: last pickled namespace + tree)
//!   u32 count  count * (u64 length  bytes): the instance's extra memories,
//!   whole (see instance.rs)
//! )
//! ```
//! Pages are the [`PAGE`]-byte pages of linear memory that differ from the
//! image's (or, past the image's end, are not all zero). Integers are
//! little-endian. The decoder checks the magic, version, key, length and
//! digest before inflating, inflates under a cap, and checks every count
//! against the bytes actually present before it allocates.
use sha2::{Digest, Sha256};

/// Magic of an exact snapshot (pickled ones start with `ERYXSNAP` or
/// `ERYXFILE`, see vfs/snapshot.rs).
pub const MAGIC: &[u8; 8] = b"ERYXEXCT";
/// 2: the payload is an lz4 block (inflating deflate was most of a large
/// restore's time); 1 was deflate.
const VERSION: u32 = 2;
/// Granularity of the memory diff, and of the page map that finds the
/// written pages (`memory.rs`).
pub const PAGE: usize = 4096;
/// Longest image key accepted.
const MAX_KEY: usize = 1024;

/// A decoded exact snapshot.
#[derive(Debug, PartialEq)]
pub struct Decoded {
    /// Size of linear memory in bytes.
    pub memory_len: usize,
    /// The decompressed payload, which holds the pages.
    raw: Vec<u8>,
    /// Index of each page that differs from the image, in order.
    indices: Vec<u32>,
    /// Where in `raw` the pages start (PAGE bytes each, in index order).
    pages_at: usize,
    /// The pickled namespace and the virtual tree (vfs/snapshot.rs).
    pub files: Vec<u8>,
    /// The extra memories, whole.
    pub extra: Vec<Vec<u8>>,
}

impl Decoded {
    /// (page index, PAGE bytes) of the pages that differ from the image.
    pub fn pages(&self) -> impl Iterator<Item = (u32, &[u8])> {
        let pages = &self.raw[self.pages_at..self.pages_at + self.indices.len() * PAGE];
        self.indices.iter().copied().zip(pages.chunks_exact(PAGE))
    }
}

/// Whether `bytes` claim to be an exact snapshot (the header says so).
pub fn is_exact(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

/// The pages of `memory` inside `runs` (page-aligned byte ranges, in
/// order) that differ from `image` (zero past its end): (index, bytes).
pub fn diff<'a>(
    memory: &'a [u8],
    image: &[u8],
    runs: &[std::ops::Range<usize>],
) -> Vec<(u32, &'a [u8])> {
    let mut out = Vec::new();
    for run in runs {
        let end = run.end.min(memory.len());
        let mut start = run.start / PAGE * PAGE;
        while start < end {
            let page = &memory[start..(start + PAGE).min(memory.len())];
            let same = match image.get(start..start + page.len()) {
                Some(base) => base == page,
                None if start < image.len() => {
                    let base = &image[start..];
                    base == &page[..base.len()] && page[base.len()..].iter().all(|&b| b == 0)
                }
                None => page.iter().all(|&b| b == 0),
            };
            if !same {
                out.push(((start / PAGE) as u32, page));
            }
            start += PAGE;
        }
    }
    out
}

/// Encode a snapshot of `memory_len` bytes of memory with `pages` differing
/// from image `key`, plus the files blob.
pub fn encode(
    key: &str,
    memory_len: usize,
    pages: &[(u32, &[u8])],
    files: &[u8],
    extra: &[&[u8]],
) -> Vec<u8> {
    let mut raw = Vec::with_capacity(pages.len() * (PAGE + 4) + files.len() + 32);
    raw.extend_from_slice(&(memory_len as u64).to_le_bytes());
    raw.extend_from_slice(&(pages.len() as u32).to_le_bytes());
    for (i, _) in pages {
        raw.extend_from_slice(&i.to_le_bytes());
    }
    for (_, p) in pages {
        raw.extend_from_slice(p);
        // The last page of memory is whole (memory is whole wasm pages).
        raw.resize(raw.len() + (PAGE - p.len()), 0);
    }
    raw.extend_from_slice(&(files.len() as u64).to_le_bytes());
    raw.extend_from_slice(files);
    raw.extend_from_slice(&(extra.len() as u32).to_le_bytes());
    for m in extra {
        raw.extend_from_slice(&(m.len() as u64).to_le_bytes());
        raw.extend_from_slice(m);
    }
    let mut payload = (raw.len() as u64).to_le_bytes().to_vec();
    payload.extend_from_slice(&lz4_flex::block::compress(&raw));
    let mut out = Vec::with_capacity(payload.len() + key.len() + 64);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(key.len() as u32).to_le_bytes());
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&Sha256::digest(&payload));
    out.extend_from_slice(&payload);
    out
}

/// A cursor that refuses to read past its end.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if n > self.0.len() {
            return Err("truncated".into());
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().unwrap()))
    }
    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().unwrap()))
    }
    /// A length that must fit in what is left.
    fn len(&mut self) -> Result<usize, String> {
        let n = self.u64()?;
        usize::try_from(n)
            .ok()
            .filter(|&n| n <= self.0.len())
            .ok_or_else(|| "truncated".to_string())
    }
}

/// Decode `bytes`, made for image `key`; `max_memory` caps the memory size
/// it may describe (and so what inflating may produce).
pub fn decode(bytes: &[u8], key: &str, max_memory: usize) -> Result<Decoded, String> {
    let mut r = Reader(bytes);
    if r.take(MAGIC.len()).ok() != Some(&MAGIC[..]) {
        return Err("not an exact snapshot".into());
    }
    let version = r.u32().map_err(|_| "truncated header")?;
    if version != VERSION {
        return Err(format!(
            "exact snapshot format {version} is not supported (this build reads {VERSION})"
        ));
    }
    let klen = r.u32().map_err(|_| "truncated header")? as usize;
    if klen > MAX_KEY {
        return Err("corrupt header (image key too long)".into());
    }
    let theirs = r.take(klen).map_err(|_| "truncated header")?;
    if theirs != key.as_bytes() {
        return Err(format!(
            "made from another image or build ({}); this sandbox runs {key}: \
             exact snapshots only restore into the same image (use a pickled snapshot to move between builds)",
            String::from_utf8_lossy(theirs)
        ));
    }
    let plen = r
        .len()
        .map_err(|_| "truncated (payload shorter than its header says)")?;
    let digest = r.take(32).map_err(|_| "truncated header")?;
    if r.0.len() != plen {
        return Err("truncated or has trailing bytes (payload length mismatch)".into());
    }
    let payload = r.0;
    if Sha256::digest(payload)[..] != digest[..] {
        return Err("corrupt (checksum mismatch)".into());
    }
    // Memory, its page indices and the files blob (under the tree caps,
    // checked again when the tree is built) bound what inflating may give.
    let cap = max_memory
        .saturating_add(max_memory / PAGE * 4)
        .saturating_add(1 << 30);
    let mut p = Reader(payload);
    let raw_len = usize::try_from(p.u64().map_err(|_| "truncated payload")?)
        .ok()
        .filter(|&n| n <= cap)
        .ok_or("corrupt (payload larger than this sandbox's memory)")?;
    let mut raw = vec![0u8; raw_len];
    let got = lz4_flex::block::decompress_into(p.0, &mut raw)
        .map_err(|e| format!("corrupt (decompressing failed: {e})"))?;
    if got != raw_len {
        return Err("corrupt (payload shorter than its header says)".into());
    }
    let mut r = Reader(&raw);
    let memory_len = usize::try_from(r.u64()?).map_err(|_| "corrupt memory size")?;
    if memory_len > max_memory || memory_len % 65536 != 0 {
        return Err(format!(
            "describes {memory_len} bytes of memory (this sandbox allows {max_memory})"
        ));
    }
    let n = r.u32()? as usize;
    let max_pages = memory_len / PAGE;
    if n > max_pages || n.saturating_mul(4 + PAGE) > r.0.len() {
        return Err("corrupt (page count)".into());
    }
    let mut indices = Vec::with_capacity(n);
    let mut last: Option<u32> = None;
    for _ in 0..n {
        let i = r.u32()?;
        if i as usize >= max_pages || last.is_some_and(|l| i <= l) {
            return Err("corrupt (page index)".into());
        }
        last = Some(i);
        indices.push(i);
    }
    let pages_at = raw.len() - r.0.len();
    r.take(n * PAGE)?;
    let flen = r.len()?;
    let files = r.take(flen)?.to_vec();
    let count = r.u32()? as usize;
    if count.saturating_mul(8) > r.0.len() {
        return Err("corrupt (memory count)".into());
    }
    let mut extra = Vec::with_capacity(count);
    for _ in 0..count {
        let n = r.len()?;
        extra.push(r.take(n)?.to_vec());
    }
    if !r.0.is_empty() {
        return Err("corrupt (trailing bytes)".into());
    }
    Ok(Decoded {
        memory_len,
        raw,
        indices,
        pages_at,
        files,
        extra,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> (Vec<u8>, Vec<u8>) {
        let image = vec![7u8; 3 * PAGE];
        let mut memory = vec![0u8; 65536];
        memory[..3 * PAGE].copy_from_slice(&image);
        memory[PAGE + 5] = 1;
        memory[10 * PAGE] = 9;
        (image, memory)
    }

    #[test]
    fn round_trip() {
        let (image, memory) = sample();
        let pages = diff(&memory, &image, std::slice::from_ref(&(0..memory.len())));
        assert_eq!(pages.iter().map(|p| p.0).collect::<Vec<_>>(), vec![1, 10]);
        let bytes = encode("k1", memory.len(), &pages, b"files", &[b"xy"]);
        let d = decode(&bytes, "k1", 1 << 20).unwrap();
        assert_eq!(d.memory_len, memory.len());
        let got: Vec<_> = d.pages().collect();
        assert_eq!(got[1], (10, &memory[10 * PAGE..11 * PAGE]));
        assert_eq!(d.files, b"files");
        assert_eq!(d.extra, vec![b"xy".to_vec()]);
    }

    #[test]
    fn refuses_bad_input() {
        let (image, memory) = sample();
        let bytes = encode(
            "k1",
            memory.len(),
            &diff(&memory, &image, std::slice::from_ref(&(0..memory.len()))),
            b"f",
            &[],
        );
        assert!(decode(&bytes, "k2", 1 << 20)
            .unwrap_err()
            .contains("another image"));
        for cut in [0, 7, 12, 20, bytes.len() - 1] {
            assert!(decode(&bytes[..cut], "k1", 1 << 20).is_err(), "cut {cut}");
        }
        let mut flipped = bytes.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(decode(&flipped, "k1", 1 << 20)
            .unwrap_err()
            .contains("checksum"));
        // Memory larger than allowed.
        assert!(decode(&bytes, "k1", 4096).is_err());
        // Garbage of every small length and a pseudo-random stream.
        let mut x = 1u64;
        let junk: Vec<u8> = (0..5000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        for n in 0..200 {
            let mut j = MAGIC.to_vec();
            j.extend_from_slice(&junk[..n]);
            assert!(decode(&j, "k1", 1 << 20).is_err());
            assert!(decode(&junk[..n * 25], "k1", 1 << 20).is_err());
        }
    }
}
