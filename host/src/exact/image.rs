//! The memory image of exact sandboxes, mapped copy-on-write.
//!
//! wasmtime copies a module's data segments into every memory the host
//! creates (it maps them copy-on-write only into its own memories), which
//! made a new exact instance cost ~10 ms and every fork copy the whole
//! memory. So the exact flavor's component is built without them:
//! [`split`] takes the data segments of the module that defines the
//! shared memory out of the pre-initialised component (each becomes an
//! empty segment, so indices stay valid) and lays them out as the memory's
//! initial bytes. Those bytes are cached next to the compiled component
//! ([`write`]) and each new exact memory maps the file privately
//! (`memory.rs`): pages are shared with the page cache until written, and
//! the pages a sandbox wrote are the ones the kernel's page map shows as
//! no longer the file's, which is what fork and exact snapshots copy.
//!
//! File layout: one 4096-byte header page (magic, version, the memory's
//! initial size, the data length), then the data, a whole number of pages.
use crate::engine::{self, Flavor};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::os::unix::io::AsRawFd;
use std::path::Path;
use std::sync::Arc;
use wasmparser::{BinaryReader, DataKind, DataSectionReader, Operator};

/// Header magic of an image file.
const MAGIC: &[u8; 16] = b"eryx-exact-img\0\x01";
/// Size of the header, and the granule of the data.
pub(crate) const HEADER: usize = 4096;

/// The memory image of one exact component, open and mapped read-only.
pub(crate) struct Image {
    file: File,
    /// Read-only view of the data (for comparing pages).
    view: *const u8,
    /// Bytes of data (a multiple of [`HEADER`]); the memory is zero after.
    len: usize,
    /// The memory's initial size in bytes (how `memory.rs` recognises it).
    pub memory_min: usize,
}

// SAFETY: the view is a read-only mapping of a file nobody writes (cache
// files are replaced by rename, never written in place).
unsafe impl Send for Image {}
unsafe impl Sync for Image {}

impl Image {
    /// Open the image at `path`; `None` when it is missing or not whole.
    pub fn open(path: &Path) -> Option<Image> {
        let file = File::open(path).ok()?;
        let mut head = [0u8; 32];
        file.read_exact_at(&mut head, 0).ok()?;
        if &head[..16] != MAGIC {
            return None;
        }
        let memory_min = usize::try_from(u64::from_le_bytes(head[16..24].try_into().ok()?)).ok()?;
        let len = usize::try_from(u64::from_le_bytes(head[24..32].try_into().ok()?)).ok()?;
        let size = usize::try_from(file.metadata().ok()?.len()).ok()?;
        if len % HEADER != 0 || size != HEADER.checked_add(len)? || len > memory_min {
            return None;
        }
        let view = if len == 0 {
            std::ptr::NonNull::<u8>::dangling().as_ptr().cast_const()
        } else {
            // SAFETY: a fresh read-only private mapping of `len` bytes of
            // our open file, at a page-aligned offset inside it.
            let p = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    len,
                    libc::PROT_READ,
                    libc::MAP_PRIVATE,
                    file.as_raw_fd(),
                    HEADER as libc::off_t,
                )
            };
            if p == libc::MAP_FAILED {
                return None;
            }
            p.cast_const().cast()
        };
        Some(Image {
            file,
            view,
            len,
            memory_min,
        })
    }

    /// The image's bytes (the memory's first bytes; zero after them).
    pub fn bytes(&self) -> &[u8] {
        // SAFETY: `view` maps `len` readable bytes for as long as `self`.
        unsafe { std::slice::from_raw_parts(self.view, self.len) }
    }

    /// The open file (mapped by `memory.rs` at offset [`HEADER`]).
    pub fn fd(&self) -> libc::c_int {
        self.file.as_raw_fd()
    }
}

impl Drop for Image {
    fn drop(&mut self) {
        if self.len > 0 {
            // SAFETY: our own mapping; no slice of it outlives `self`.
            unsafe {
                libc::munmap(self.view.cast_mut().cast(), self.len);
            }
        }
    }
}

/// Write the image `data` of a memory of `memory_min` bytes to `path`.
pub(crate) fn write(path: &Path, data: &[u8], memory_min: usize) -> std::io::Result<()> {
    let padded = data.len().div_ceil(HEADER) * HEADER;
    let mut out = Vec::with_capacity(HEADER + padded);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(memory_min as u64).to_le_bytes());
    out.extend_from_slice(&(padded as u64).to_le_bytes());
    out.resize(HEADER, 0);
    out.extend_from_slice(data);
    out.resize(HEADER + padded, 0);
    crate::cache::write_atomic(path, &out)
}

/// The compiled exact component for `content_key` and its image, from the
/// cache or built by `build` (the pre-initialised component's bytes),
/// split and cached. A compiled component whose image is gone (evicted)
/// is built again: the two come from one build.
pub(crate) fn load(
    content_key: &str,
    build: impl FnOnce(&wasmtime::Engine) -> Result<Vec<u8>, String>,
    progress: bool,
) -> Result<(wasmtime::component::Component, Arc<Image>), String> {
    let path = engine::cached_path(Flavor::Exact, content_key, "image");
    if Image::open(&path).is_none() {
        let _ = std::fs::remove_file(engine::cached_path(Flavor::Exact, content_key, "cwasm"));
    }
    let split_build = |b: &wasmtime::Engine| -> Result<Vec<u8>, String> {
        let s = split(&build(b)?).map_err(|e| format!("exact image: {e}"))?;
        write(&path, &s.data, s.memory_min)
            .map_err(|e| format!("exact image: writing {} failed: {e}", path.display()))?;
        Ok(s.component)
    };
    let component = engine::load(Flavor::Exact, content_key, split_build, progress)?;
    let image = Image::open(&path)
        .ok_or_else(|| format!("exact image: {} is missing or damaged", path.display()))?;
    crate::cache::use_entry(&path);
    Ok((component, Arc::new(image)))
}

/// A component without the shared memory's data, and that data.
pub(crate) struct Split {
    /// The component, its memory-defining module's data segments emptied.
    pub component: Vec<u8>,
    /// The memory's initial bytes (trailing zeros cut).
    pub data: Vec<u8>,
    /// The memory's initial size in bytes.
    pub memory_min: usize,
}

/// One section: its id and the byte ranges of the whole and its contents.
struct Section {
    id: u8,
    whole: std::ops::Range<usize>,
    contents: std::ops::Range<usize>,
}

/// The sections after the 8-byte preamble of a module or component.
fn sections(bytes: &[u8]) -> Result<Vec<Section>, String> {
    let mut out = Vec::new();
    let mut r = BinaryReader::new(bytes, 0);
    r.read_bytes(8).map_err(|e| e.to_string())?;
    while !r.eof() {
        let start = r.original_position() as usize;
        let id = r.read_u8().map_err(|e| e.to_string())?;
        let size = r.read_var_u32().map_err(|e| e.to_string())? as usize;
        let at = r.original_position() as usize;
        r.read_bytes(size).map_err(|e| e.to_string())?;
        out.push(Section {
            id,
            whole: start..at + size,
            contents: at..at + size,
        });
    }
    Ok(out)
}

/// Append section `id` with `contents`.
fn push_section(out: &mut Vec<u8>, id: u8, contents: &[u8]) {
    out.push(id);
    leb(out, contents.len() as u32);
    out.extend_from_slice(contents);
}

/// The initial size in bytes of the memory `module` defines, if it defines
/// exactly one and imports none.
fn defined_memory(module: &[u8], secs: &[Section]) -> Result<Option<usize>, String> {
    let mut defined = None;
    for s in secs {
        let reader = BinaryReader::new(&module[s.contents.clone()], s.contents.start as _);
        match s.id {
            2 => {
                let imports = wasmparser::ImportSectionReader::new(reader)
                    .map_err(|e| e.to_string())?
                    .into_imports();
                for imp in imports {
                    let imp = imp.map_err(|e| e.to_string())?;
                    if matches!(imp.ty, wasmparser::TypeRef::Memory(_)) {
                        return Ok(None);
                    }
                }
            }
            5 => {
                let mems: Vec<_> = wasmparser::MemorySectionReader::new(reader)
                    .map_err(|e| e.to_string())?
                    .into_iter()
                    .collect::<Result<_, _>>()
                    .map_err(|e| e.to_string())?;
                if mems.len() != 1
                    || mems[0].memory64
                    || mems[0].shared
                    || mems[0].page_size_log2.is_some()
                {
                    return Ok(None);
                }
                defined = Some(mems[0].initial as usize * 65536);
            }
            _ => {}
        }
    }
    Ok(defined)
}

/// Take the data of the largest memory a top-level module of `component`
/// defines out of it (see the module comment).
pub(crate) fn split(component: &[u8]) -> Result<Split, String> {
    let secs = sections(component)?;
    let mut best: Option<(usize, usize)> = None; // (section index, memory_min)
    for (i, s) in secs.iter().enumerate().filter(|(_, s)| s.id == 1) {
        let module = &component[s.contents.clone()];
        if let Some(min) = defined_memory(module, &sections(module)?)? {
            if best.is_none_or(|(_, m)| min > m) {
                best = Some((i, min));
            }
        }
    }
    let (at, memory_min) = best.ok_or("no module defines the component's memory")?;
    let module = &component[secs[at].contents.clone()];
    let (stripped, data) = strip_module(module, memory_min)?;
    let mut out = Vec::with_capacity(component.len());
    out.extend_from_slice(&component[..8]);
    for (i, s) in secs.iter().enumerate() {
        if i == at {
            push_section(&mut out, 1, &stripped);
        } else {
            out.extend_from_slice(&component[s.whole.clone()]);
        }
    }
    Ok(Split {
        component: out,
        data,
        memory_min,
    })
}

/// `module` with its active data segments emptied, and the bytes they
/// would have written into its memory of `memory_min` bytes.
fn strip_module(module: &[u8], memory_min: usize) -> Result<(Vec<u8>, Vec<u8>), String> {
    let mut data = Vec::new();
    let mut out = Vec::with_capacity(module.len());
    out.extend_from_slice(&module[..8]);
    for s in sections(module)? {
        if s.id != 11 {
            out.extend_from_slice(&module[s.whole.clone()]);
            continue;
        }
        let reader = BinaryReader::new(&module[s.contents.clone()], s.contents.start as _);
        let segments = DataSectionReader::new(reader).map_err(|e| e.to_string())?;
        let mut contents = Vec::new();
        let count = segments.count();
        leb(&mut contents, count);
        for seg in segments {
            let seg = seg.map_err(|e| e.to_string())?;
            match seg.kind {
                DataKind::Passive => contents
                    .extend_from_slice(&module[seg.range.start as usize..seg.range.end as usize]),
                DataKind::Active {
                    memory_index,
                    offset_expr,
                } => {
                    if memory_index != 0 {
                        return Err(format!("a data segment for memory {memory_index}"));
                    }
                    let mut ops = offset_expr.get_operators_reader();
                    let offset = match ops.read().map_err(|e| e.to_string())? {
                        Operator::I32Const { value } => value as u32 as usize,
                        op => return Err(format!("a data segment at a computed offset ({op:?})")),
                    };
                    let end = offset
                        .checked_add(seg.data.len())
                        .filter(|&e| e <= memory_min)
                        .ok_or("a data segment past the memory's initial size")?;
                    if data.len() < end {
                        data.resize(end, 0);
                    }
                    data[offset..end].copy_from_slice(seg.data);
                    // flags 0 (active, memory 0), offset i32.const 0, no bytes
                    contents.extend_from_slice(&[0x00, 0x41, 0x00, 0x0b, 0x00]);
                }
            }
        }
        push_section(&mut out, 11, &contents);
    }
    let used = data.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    data.truncate(used);
    Ok((out, data))
}

/// Append `n` as unsigned LEB128.
fn leb(out: &mut Vec<u8>, mut n: u32) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module defining one memory of `pages` pages with active segments.
    fn module(pages: u8, segments: &[(u8, &[u8])]) -> Vec<u8> {
        let mut m = b"\0asm\x01\0\0\0".to_vec();
        push_section(&mut m, 5, &[1, 0, pages]);
        let mut data = vec![segments.len() as u8];
        for (off, bytes) in segments {
            data.extend_from_slice(&[0, 0x41, *off, 0x0b, bytes.len() as u8]);
            data.extend_from_slice(bytes);
        }
        push_section(&mut m, 11, &data);
        m
    }

    #[test]
    fn the_data_moves_out_and_the_module_stays_valid() {
        let mut comp = b"\0asm\x0d\0\x01\0".to_vec();
        push_section(&mut comp, 1, &module(1, &[(8, b"abc"), (16, b"\0\0z")]));
        let s = split(&comp).unwrap();
        assert_eq!(s.memory_min, 65536);
        assert_eq!(&s.data[8..11], b"abc");
        assert_eq!(s.data.len(), 19, "trailing zeros cut, inner ones kept");
        let secs = sections(&s.component).unwrap();
        let m = &s.component[secs[0].contents.clone()];
        wasmparser::Validator::new().validate_all(m).unwrap();
        assert!(!m.windows(3).any(|w| w == b"abc"), "the data is gone");
    }

    #[test]
    fn an_image_file_opens_only_whole() {
        let dir = std::env::temp_dir().join(format!("eryx-img-{}", std::process::id()));
        let path = dir.join("x.image");
        write(&path, b"hello", 65536).unwrap();
        let img = Image::open(&path).expect("opens");
        assert_eq!(img.memory_min, 65536);
        assert_eq!(img.bytes().len(), HEADER, "padded to a page");
        assert_eq!(&img.bytes()[..5], b"hello");
        let whole = std::fs::read(&path).unwrap();
        std::fs::write(&path, &whole[..whole.len() - 1]).unwrap();
        assert!(Image::open(&path).is_none(), "truncated");
        let mut bad = whole.clone();
        bad[0] ^= 1;
        std::fs::write(&path, &bad).unwrap();
        assert!(Image::open(&path).is_none(), "wrong magic");
        write(&path, &[1; 2 * HEADER], HEADER).unwrap();
        assert!(Image::open(&path).is_none(), "larger than its memory");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_segment_past_the_memory_is_refused() {
        let mut comp = b"\0asm\x0d\0\x01\0".to_vec();
        push_section(&mut comp, 1, &module(0, &[(8, b"abc")]));
        assert!(split(&comp).is_err());
    }
}
