//! Encoding of the virtual tree inside a sandbox snapshot, and the
//! versioned snapshot container itself.
//!
//! Container (version 2): `ERYXSNAP` magic, the version byte 2, the
//! guest's namespace bytes (u64 length first), then the tree. Anything else
//! goes to the guest as it is: version 1 is the guest's own namespace
//! format (`guest/_eryx_state.py`: the same magic, version byte 1, a
//! pickle), which is what `Sandbox::snapshot` returned before the virtual
//! tree existed.
//!
//! Tree: node records in pre-order from the root (which is record 0 and is
//! not written), each `kind u8, parent u32, name, atime, mtime, ctime`,
//! then a file's length and bytes, a symlink's target, or for a further
//! name of a file or symlink (hard link) the record number of its first
//! name. All
//! integers little-endian; strings are a u32 length and UTF-8 bytes. The
//! decoder checks everything and never trusts a length.
use super::data::FileData;
use super::tree::{Ino, Kind, Time, Tree, NAME_MAX, PATH_MAX, ROOT};
use std::collections::HashMap;
use std::sync::Arc;
use wasmtime_wasi::p2::bindings::filesystem::types::ErrorCode;

const MAGIC: &[u8; 8] = b"ERYXSNAP";
const VERSION: u8 = 2;

const DIR: u8 = 0;
const FILE: u8 = 1;
const LINK: u8 = 2;
const HARD: u8 = 3;

/// Pack the guest's namespace bytes and the tree into one snapshot.
pub fn pack(namespace: &[u8], tree: &Tree) -> Vec<u8> {
    let mut out = Vec::with_capacity(namespace.len() + tree.bytes() as usize + 64);
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    out.extend_from_slice(&(namespace.len() as u64).to_le_bytes());
    out.extend_from_slice(namespace);
    encode_tree(tree, &mut out);
    out
}

/// Split a snapshot into the namespace bytes and, when it has one (version
/// 2), the tree it holds, built into `empty` (a new tree: its caps apply).
pub fn unpack(bytes: &[u8], empty: Tree) -> Result<(&[u8], Option<Tree>), String> {
    // The guest's own namespace format shares the magic with version 1.
    let Some(rest) = bytes.strip_prefix(MAGIC) else {
        return Ok((bytes, None));
    };
    if rest.first() != Some(&VERSION) {
        return Ok((bytes, None));
    }
    let mut r = Reader(&rest[1..]);
    let n = r.u64()?;
    let namespace = r.take(n)?;
    let tree = decode_tree(&mut r, empty)?;
    if !r.0.is_empty() {
        return Err("trailing bytes after the files".into());
    }
    Ok((namespace, Some(tree)))
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_time(out: &mut Vec<u8>, t: Time) {
    out.extend_from_slice(&t.secs.to_le_bytes());
    out.extend_from_slice(&t.nanos.to_le_bytes());
}

fn encode_tree(tree: &Tree, out: &mut Vec<u8>) {
    let count_at = out.len();
    out.extend_from_slice(&0u32.to_le_bytes());
    let mut records: u32 = 0;
    let mut index: HashMap<Ino, u32> = HashMap::from([(ROOT, 0)]);
    // (directory's record number, its node), depth first.
    let mut stack: Vec<(u32, Ino)> = vec![(0, ROOT)];
    while let Some((parent, dir)) = stack.pop() {
        let Ok(entries) = tree.dir(dir) else { continue };
        for (name, &ino) in entries.iter() {
            let Ok(node) = tree.node(ino) else { continue };
            let kind = match (&node.kind, index.get(&ino)) {
                // Devices are not saved: the layout makes them again.
                (Kind::Null, _) => continue,
                (Kind::File(_) | Kind::Symlink(_), Some(_)) => HARD,
                (Kind::File(_), None) => FILE,
                (Kind::Dir(_), _) => DIR,
                (Kind::Symlink(_), None) => LINK,
            };
            records += 1;
            out.push(kind);
            out.extend_from_slice(&parent.to_le_bytes());
            put_str(out, name);
            for t in [node.atime, node.mtime, node.ctime] {
                put_time(out, t);
            }
            match &node.kind {
                _ if kind == HARD => {
                    out.extend_from_slice(&index[&ino].to_le_bytes());
                }
                Kind::File(f) => {
                    out.extend_from_slice(&f.len().to_le_bytes());
                    for c in f.chunks() {
                        out.extend_from_slice(c);
                    }
                }
                Kind::Symlink(t) => put_str(out, t),
                Kind::Null => {}
                Kind::Dir(_) => stack.push((records, ino)),
            }
            index.entry(ino).or_insert(records);
        }
    }
    out[count_at..count_at + 4].copy_from_slice(&records.to_le_bytes());
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: u64) -> Result<&'a [u8], String> {
        if n > self.0.len() as u64 {
            return Err("snapshot is truncated".into());
        }
        let (a, b) = self.0.split_at(n as usize);
        self.0 = b;
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
    fn str(&mut self, max: usize) -> Result<&'a str, String> {
        let n = self.u32()? as usize;
        if n > max {
            return Err("a name in the snapshot is too long".into());
        }
        std::str::from_utf8(self.take(n as u64)?).map_err(|_| "a name is not UTF-8".to_string())
    }
    fn time(&mut self) -> Result<Time, String> {
        Ok(Time {
            secs: self.u64()?,
            nanos: self.u32()?.min(999_999_999),
        })
    }
}

fn decode_tree(r: &mut Reader, mut tree: Tree) -> Result<Tree, String> {
    let limits = tree.limits;
    let records = r.u32()?;
    let full = |_: ErrorCode| "the snapshot's files exceed this sandbox's file caps".to_string();
    let mut inos: Vec<Ino> = vec![ROOT];
    // Set once every entry is in: adding one changes its directory's times.
    let mut times_of: Vec<(Ino, [Time; 3])> = Vec::new();
    for _ in 0..records {
        let kind = r.u8()?;
        let parent = *inos
            .get(r.u32()? as usize)
            .ok_or("bad parent in the snapshot")?;
        let name = r.str(NAME_MAX)?;
        if name.is_empty() || name == "." || name == ".." || name.contains('/') {
            return Err(format!("bad file name {name:?} in the snapshot"));
        }
        let times = [r.time()?, r.time()?, r.time()?];
        if tree
            .lookup(parent, name)
            .map_err(|_| "bad parent in the snapshot")?
            .is_some()
        {
            return Err(format!("duplicate name {name:?} in the snapshot"));
        }
        let ino = match kind {
            DIR => tree
                .alloc(Kind::Dir(Arc::default()), parent)
                .map_err(full)?,
            FILE => {
                let len = r.u64()?;
                if len > limits.max_bytes.saturating_sub(tree.bytes) {
                    return Err(full(ErrorCode::InsufficientSpace));
                }
                let mut data = FileData::default();
                data.write(0, r.take(len)?);
                tree.bytes += len;
                tree.alloc(Kind::File(data), parent).map_err(full)?
            }
            LINK => {
                let target = r.str(PATH_MAX)?.to_string();
                if target.is_empty() {
                    // The tree never makes one (`symlink` is `ENOENT`).
                    return Err("an empty symlink target in the snapshot".into());
                }
                tree.alloc(Kind::Symlink(target), parent).map_err(full)?
            }
            HARD => {
                let first = *inos
                    .get(r.u32()? as usize)
                    .ok_or("bad hard link in the snapshot")?;
                let node = tree.node_mut(first).map_err(|_| "bad hard link")?;
                if !matches!(node.kind, Kind::File(_) | Kind::Symlink(_)) {
                    return Err("a hard link to a directory in the snapshot".into());
                }
                node.nlink += 1;
                first
            }
            k => return Err(format!("unknown node kind {k} in the snapshot")),
        };
        if kind != HARD {
            times_of.push((ino, times));
        }
        tree.dir_mut(parent)
            .map_err(|_| "a parent in the snapshot is not a directory")?
            .insert(name.to_string(), ino);
        inos.push(ino);
    }
    for (ino, times) in times_of {
        let node = tree.node_mut(ino).map_err(|_| "node vanished")?;
        [node.atime, node.mtime, node.ctime] = times;
    }
    Ok(tree)
}

#[cfg(test)]
mod tests {
    use super::super::ops::OpenHow;
    use super::super::tree::Limits;
    use super::*;

    fn empty(limits: Limits) -> Tree {
        Tree::new(limits)
    }

    #[test]
    fn round_trip_and_garbage() {
        let mut t = Tree::new(Limits::default());
        t.mkdir(ROOT, "d").unwrap();
        let how = OpenHow {
            create: true,
            write: true,
            follow: true,
            ..OpenHow::default()
        };
        let f = t.open_path(ROOT, "d/f", how).unwrap();
        t.write(f, 0, &vec![7; 200_000]).unwrap();
        t.symlink(ROOT, "/d/f", "link").unwrap();
        t.link(ROOT, "d/f", false, ROOT, "hard").unwrap();
        let bytes = pack(b"ns", &t);
        let (ns, back) = unpack(&bytes, empty(Limits::default())).unwrap();
        let back = back.unwrap();
        assert_eq!(ns, b"ns");
        let g = back.resolve(ROOT, "link", true).unwrap();
        assert_eq!(back.read(g, 0, 300_000).unwrap(), vec![7; 200_000]);
        assert_eq!(back.resolve(ROOT, "hard", true).unwrap(), g);
        assert_eq!(back.bytes(), 200_000);
        assert_eq!(back.entries(), 3);
        // Old snapshots are namespace only.
        assert!(unpack(b"ERYXSNAP\x01old", empty(Limits::default()))
            .unwrap()
            .1
            .is_none());
        // Every truncation fails cleanly.
        for n in (9..bytes.len() - 1).step_by(97) {
            assert!(
                unpack(&bytes[..n], empty(Limits::default())).is_err(),
                "{n}"
            );
        }
        let small = Limits {
            max_bytes: 1000,
            max_entries: 10,
        };
        assert!(unpack(&bytes, empty(small)).is_err());
    }
}
