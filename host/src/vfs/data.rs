//! File contents of the virtual tree: a list of copy-on-write chunks, so a
//! checkpoint of the tree shares every byte with the live tree and a later
//! write copies only the chunks it touches.
use std::sync::Arc;

/// Bytes per chunk (every chunk but the last is full).
pub const CHUNK: usize = 64 << 10;

/// The bytes of one regular file.
#[derive(Clone, Default)]
pub struct FileData {
    chunks: Vec<Arc<Vec<u8>>>,
    len: u64,
}

impl FileData {
    /// Size in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Up to `max` bytes from `offset` (empty at or past the end).
    pub fn read(&self, offset: u64, max: usize) -> Vec<u8> {
        if offset >= self.len {
            return Vec::new();
        }
        let end = self.len.min(offset.saturating_add(max as u64));
        let mut out = Vec::with_capacity((end - offset) as usize);
        let mut pos = offset;
        while pos < end {
            let chunk = &self.chunks[(pos / CHUNK as u64) as usize];
            let at = (pos % CHUNK as u64) as usize;
            let take = (chunk.len() - at).min((end - pos) as usize);
            out.extend_from_slice(&chunk[at..at + take]);
            pos += take as u64;
        }
        out
    }

    /// Change the size: cut, or extend with zeros.
    pub fn set_len(&mut self, len: u64) {
        if len < self.len {
            let keep = len.div_ceil(CHUNK as u64) as usize;
            self.chunks.truncate(keep);
            if let Some(last) = self.chunks.last_mut() {
                let tail = (len - (keep as u64 - 1) * CHUNK as u64) as usize;
                Arc::make_mut(last).truncate(tail);
            }
            self.len = len;
            return;
        }
        while self.len < len {
            let room = self.last_room();
            if room == 0 {
                self.chunks.push(Arc::new(Vec::new()));
                continue;
            }
            let add = room.min((len - self.len) as usize);
            let last = Arc::make_mut(self.chunks.last_mut().expect("a chunk"));
            last.resize(last.len() + add, 0);
            self.len += add as u64;
        }
    }

    /// Free bytes in the last chunk (0 when there is none).
    fn last_room(&self) -> usize {
        self.chunks.last().map_or(0, |c| CHUNK - c.len())
    }

    /// Write `bytes` at `offset`; the caller has made sure the file may grow
    /// to `offset + bytes.len()` (see `Tree::write`).
    pub fn write(&mut self, offset: u64, bytes: &[u8]) {
        let end = offset + bytes.len() as u64;
        if offset > self.len {
            self.set_len(offset);
        }
        // Overwrite the part that already exists.
        let mut pos = offset;
        let mut src = bytes;
        while pos < self.len.min(end) {
            let chunk = Arc::make_mut(&mut self.chunks[(pos / CHUNK as u64) as usize]);
            let at = (pos % CHUNK as u64) as usize;
            let take = (chunk.len() - at).min(src.len());
            chunk[at..at + take].copy_from_slice(&src[..take]);
            src = &src[take..];
            pos += take as u64;
        }
        // Append the rest.
        while !src.is_empty() {
            if self.last_room() == 0 {
                let first = src.len().min(CHUNK);
                self.chunks.push(Arc::new(Vec::with_capacity(first)));
            }
            let room = self.last_room();
            let take = room.min(src.len());
            let last = Arc::make_mut(self.chunks.last_mut().expect("a chunk"));
            if last.capacity() < last.len() + take {
                // Grow geometrically, but never past one chunk.
                let want = (last.len() * 2).max(last.len() + take).min(CHUNK);
                last.reserve_exact(want - last.len());
            }
            last.extend_from_slice(&src[..take]);
            src = &src[take..];
            self.len += take as u64;
        }
    }

    /// The chunks, for the snapshot encoder.
    pub fn chunks(&self) -> impl Iterator<Item = &[u8]> {
        self.chunks.iter().map(|c| c.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_read_truncate() {
        let mut f = FileData::default();
        f.write(0, b"hello");
        f.write(CHUNK as u64 * 2 + 3, b"xyz");
        assert_eq!(f.len(), CHUNK as u64 * 2 + 6);
        assert_eq!(f.read(0, 5), b"hello");
        assert_eq!(f.read(5, 3), vec![0; 3]);
        assert_eq!(f.read(CHUNK as u64 * 2 + 3, 100), b"xyz");
        let shared = f.clone();
        f.write(1, b"E");
        assert_eq!(shared.read(0, 5), b"hello");
        assert_eq!(f.read(0, 5), b"hEllo");
        f.set_len(3);
        assert_eq!(f.read(0, 100), b"hEl");
        f.set_len(CHUNK as u64 + 1);
        assert_eq!(f.read(CHUNK as u64 - 1, 10), vec![0, 0]);
        let big: Vec<u8> = (0..CHUNK * 3 + 7).map(|i| i as u8).collect();
        let mut g = FileData::default();
        g.write(0, &big);
        assert_eq!(g.read(0, big.len() + 10), big);
        g.write(CHUNK as u64 - 2, &[9; 5]);
        assert_eq!(
            g.read(CHUNK as u64 - 3, 7),
            [big[CHUNK - 3], 9, 9, 9, 9, 9, big[CHUNK + 3]]
        );
    }
}
