//! The operation-sequence property: generated sequences of filesystem
//! operations (mkdir, rmdir, unlink, symlink, readlink, stat, hard link,
//! rename, open with every flag, whole-file writes and reads, reads,
//! writes, truncation and `room` through open descriptors, closing them,
//! a snapshot restored with descriptors kept, a fault's checkpoint
//! restore) run on the virtual tree (`Tree`, as `routing.rs` calls it) and
//! on the reference model (`model.rs`) side by side, under small caps on
//! bytes and entries. Paths come from a small alphabet with `.`, `..`,
//! doubled and trailing slashes, absolute paths, over-long names and
//! paths; symlinks point at directories, files, nothing, themselves, into
//! a host mount, and in loops. After each operation the results (value or
//! error code) and the whole trees (names, kinds, contents, link targets,
//! hard-link identity, link counts, bytes and entries held) must be equal.
use super::model::{How, Id, MKind, Model, MROOT};
use crate::props::check;
use crate::vfs::ops::OpenHow;
use crate::vfs::snapshot::{pack, unpack};
use crate::vfs::tree::{Ino, Kind, Limits, Tree, ROOT};
use proptest::prelude::*;
use std::collections::HashMap;
use wasmtime_wasi::p2::bindings::filesystem::types::ErrorCode;

/// The host mount the tree knows of (symlinks into it are `EXDEV`).
const MOUNT: &str = "/m";

#[derive(Clone, Debug)]
enum Op {
    Mkdir(String),
    Rmdir(String),
    Unlink(String),
    Symlink(String, String),
    Readlink(String),
    Stat(String, bool),
    Link(String, bool, String),
    Rename(String, String),
    /// Open; with `keep` the descriptor stays open for the `H*` ops.
    Open(String, How, bool),
    /// Python's `open(path, 'w'/'x'/'r+')` and a write at `offset`.
    WriteFile(String, bool, bool, u64, Vec<u8>),
    ReadFile(String),
    HWrite(usize, u64, Vec<u8>),
    HRead(usize, u64, usize),
    HSetSize(usize, u64),
    HRoom(usize, Option<u64>),
    HClose(usize),
    /// `Sandbox::restore` of a snapshot of the tree as it is (the instance
    /// goes on: descriptors stay, but only the root's still works).
    Restore,
    /// A fault: the tree goes back to its checkpoint, no descriptors.
    Fault,
}

/// What an operation gave back.
#[derive(Debug, PartialEq)]
enum Out {
    Unit,
    Text(String),
    Bytes(Vec<u8>),
    Num(u64),
    /// Kind letter, size, link count.
    Stat(char, u64, u64),
    /// The kind letter of what was opened.
    Opened(char),
}

type Res = Result<Out, ErrorCode>;

/// An open descriptor on both sides.
#[derive(Debug)]
struct Handle {
    ino: Ino,
    /// [`GONE`] after a restore (the tree's node is gone too).
    id: Id,
    write: bool,
}

/// The model's number for a node a restore took away: no node has it, so
/// every use is `EBADF` where the tree finds no node.
const GONE: Id = Id::MAX;

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        16 => prop::sample::select(vec!["a", "b", "c"]).prop_map(String::from),
        2 => Just(".".to_string()),
        2 => Just("..".to_string()),
        1 => Just("m".to_string()),
        1 => Just("x".repeat(256)),
    ]
}

fn path() -> impl Strategy<Value = String> {
    let len = prop_oneof![3 => Just(1usize), 2 => Just(2), 1 => Just(3)];
    let parts =
        len.prop_flat_map(|n| prop::collection::vec((name(), prop::bool::weighted(0.1)), n));
    let built = (
        parts,
        prop::bool::weighted(0.15),
        prop::bool::weighted(0.04),
    )
        .prop_map(|(parts, trailing, leading)| {
            let mut s = String::new();
            if leading {
                s.push('/');
            }
            for (i, (n, double)) in parts.iter().enumerate() {
                if i > 0 {
                    s.push_str(if *double { "//" } else { "/" });
                }
                s.push_str(n);
            }
            if trailing {
                s.push('/');
            }
            s
        });
    prop_oneof![
        60 => built,
        1 => Just(String::new()),
        1 => Just("a/".repeat(2049)),
    ]
}

fn target() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => path(),
        3 => path().prop_map(|p| format!("/{}", p.trim_start_matches('/'))),
        1 => Just(MOUNT.to_string()),
        1 => Just(format!("{MOUNT}/a")),
        1 => Just("/".to_string()),
        1 => Just(String::new()),
    ]
}

fn how() -> impl Strategy<Value = How> {
    prop::array::uniform6(prop::bool::weighted(0.35)).prop_map(|f| How {
        create: f[0],
        exclusive: f[1],
        truncate: f[2],
        directory: f[3],
        follow: !f[4],
        write: f[5],
    })
}

/// Offsets and lengths: small ones, the caps' edges, and lengths near
/// 2^64 (which must never be added to what is held).
fn offset() -> impl Strategy<Value = u64> {
    prop_oneof![
        4 => prop::sample::select(vec![0, 0, 1, 3, 7, 20, 39, 40, 64, 65]),
        1 => prop::sample::select(vec![1 << 40, u64::MAX - 20, u64::MAX - 2, u64::MAX]),
    ]
}

fn data() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(b"xyz\0".to_vec()), 0..12)
}

fn op() -> impl Strategy<Value = Op> {
    let h = || 0usize..4;
    prop_oneof![
        4 => path().prop_map(Op::Mkdir),
        2 => path().prop_map(Op::Rmdir),
        2 => path().prop_map(Op::Unlink),
        3 => (target(), path()).prop_map(|(t, p)| Op::Symlink(t, p)),
        1 => path().prop_map(Op::Readlink),
        2 => (path(), any::<bool>()).prop_map(|(p, f)| Op::Stat(p, f)),
        2 => (path(), any::<bool>(), path()).prop_map(|(a, f, b)| Op::Link(a, f, b)),
        3 => (path(), path()).prop_map(|(a, b)| Op::Rename(a, b)),
        2 => (path(), how(), any::<bool>()).prop_map(|(p, h, k)| Op::Open(p, h, k)),
        4 => (path(), prop::bool::weighted(0.2), any::<bool>(), offset(), data())
            .prop_map(|(p, x, t, o, d)| Op::WriteFile(p, x, t, o, d)),
        2 => path().prop_map(Op::ReadFile),
        2 => (h(), offset(), data()).prop_map(|(h, o, d)| Op::HWrite(h, o, d)),
        1 => (h(), offset(), prop::sample::select(vec![0usize, 1, 5, 100]))
            .prop_map(|(h, o, n)| Op::HRead(h, o, n)),
        1 => (h(), offset()).prop_map(|(h, n)| Op::HSetSize(h, n)),
        1 => (h(), prop::option::of(offset())).prop_map(|(h, at)| Op::HRoom(h, at)),
        1 => h().prop_map(Op::HClose),
        1 => Just(Op::Restore),
        1 => Just(Op::Fault),
    ]
}

fn limits() -> impl Strategy<Value = Limits> {
    (
        prop_oneof![1 => Just(0u64), 2 => Just(10), 3 => Just(40), 2 => Just(64), 4 => Just(1 << 20)],
        prop_oneof![1 => Just(0u64), 1 => Just(2), 2 => Just(5), 3 => Just(10), 4 => Just(10_000)],
    )
        .prop_map(|(max_bytes, max_entries)| Limits {
            max_bytes,
            max_entries,
        })
}

fn open_how(h: How) -> OpenHow {
    OpenHow {
        create: h.create,
        exclusive: h.exclusive,
        truncate: h.truncate,
        directory: h.directory,
        follow: h.follow,
        write: h.write,
    }
}

fn tree_letter(k: &Kind) -> char {
    match k {
        Kind::File(_) => 'f',
        Kind::Dir(_) => 'd',
        Kind::Symlink(_) => 'l',
        Kind::Null => 'n',
    }
}

fn model_letter(k: &MKind) -> char {
    match k {
        MKind::File(_) => 'f',
        MKind::Dir(_) => 'd',
        MKind::Link(_) => 'l',
    }
}

/// The tree as lines: each name with its kind, content or target and link
/// count; a further name of a node shows the first one's path.
fn dump_tree(t: &Tree) -> Vec<String> {
    let mut out = vec![format!("bytes {} entries {}", t.bytes(), t.entries())];
    super::each_name(t, &mut |p, node| {
        let n = match node {
            Err(first) => return out.push(format!("{p} = {first}")),
            Ok(n) => n,
        };
        out.push(match &n.kind {
            Kind::Dir(_) => format!("{p}/"),
            Kind::File(f) => format!("{p} {}x {:?}", n.nlink, f.read(0, usize::MAX)),
            Kind::Symlink(s) => format!("{p} {}x -> {s}", n.nlink),
            Kind::Null => format!("{p} null"),
        });
    });
    out
}

/// The model in the same lines.
fn dump_model(m: &Model) -> Vec<String> {
    fn walk(m: &Model, dir: Id, at: &str, seen: &mut HashMap<Id, String>, out: &mut Vec<String>) {
        let MKind::Dir(entries) = &m.nodes[&dir].kind else {
            panic!("not a directory")
        };
        for (name, &id) in entries {
            let p = format!("{at}/{name}");
            if let Some(first) = seen.get(&id) {
                out.push(format!("{p} = {first}"));
                continue;
            }
            seen.insert(id, p.clone());
            let n = &m.nodes[&id];
            match &n.kind {
                MKind::Dir(_) => {
                    out.push(format!("{p}/"));
                    walk(m, id, &p, seen, out);
                }
                MKind::File(d) => out.push(format!("{p} {}x {:?}", n.nlink, d)),
                MKind::Link(s) => out.push(format!("{p} {}x -> {s}", n.nlink)),
            }
        }
    }
    let mut out = vec![format!("bytes {} entries {}", m.bytes(), m.entries())];
    walk(m, MROOT, "", &mut HashMap::new(), &mut out);
    out
}

/// Both sides and the open descriptors.
struct Pair {
    tree: Tree,
    model: Model,
    handles: Vec<Handle>,
}

impl Pair {
    fn new(limits: Limits) -> Pair {
        let mut tree = Tree::new(limits);
        tree.mounts = vec![MOUNT.to_string()];
        let model = Model::new(limits.max_bytes, limits.max_entries, &[MOUNT]);
        Pair {
            tree,
            model,
            handles: Vec::new(),
        }
    }

    fn tree_stat(&self, path: &str, follow: bool) -> Res {
        let ino = self.tree.resolve(ROOT, path, follow)?;
        let n = self.tree.node(ino)?;
        let size = match &n.kind {
            Kind::Symlink(t) => t.len() as u64,
            Kind::Dir(d) => d.len() as u64,
            _ => n.bytes(),
        };
        Ok(Out::Stat(tree_letter(&n.kind), size, n.nlink))
    }

    fn model_stat(&self, path: &str, follow: bool) -> Res {
        let id = self.model.resolve(MROOT, path, follow)?;
        let n = &self.model.nodes[&id];
        let size = match &n.kind {
            MKind::Link(t) => t.len() as u64,
            MKind::Dir(d) => d.len() as u64,
            MKind::File(d) => d.len() as u64,
        };
        Ok(Out::Stat(model_letter(&n.kind), size, n.nlink))
    }

    /// The descriptor `h` picks (among the writable ones with `write`).
    fn handle(&self, h: usize, write: bool) -> Option<usize> {
        let fit: Vec<usize> = (0..self.handles.len())
            .filter(|&i| !write || self.handles[i].write)
            .collect();
        (!fit.is_empty()).then(|| fit[h % fit.len()])
    }

    /// A model operation on descriptor `i`.
    fn on_model<T>(
        &mut self,
        i: usize,
        f: impl FnOnce(&mut Model, Id) -> Result<T, ErrorCode>,
    ) -> Result<T, ErrorCode> {
        f(&mut self.model, self.handles[i].id)
    }

    /// Run `op` on both; `None` when it does not apply (no descriptor).
    fn apply(&mut self, op: &Op) -> Option<(Res, Res)> {
        let unit = |r: Result<(), ErrorCode>| r.map(|_| Out::Unit);
        let (t, m) = (&mut self.tree, &mut self.model);
        Some(match op {
            Op::Mkdir(p) => (unit(t.mkdir(ROOT, p)), unit(m.mkdir(p))),
            Op::Rmdir(p) => (unit(t.rmdir(ROOT, p)), unit(m.rmdir(p))),
            Op::Unlink(p) => (unit(t.unlink(ROOT, p)), unit(m.unlink(p))),
            Op::Symlink(target, p) => {
                (unit(t.symlink(ROOT, target, p)), unit(m.symlink(target, p)))
            }
            Op::Readlink(p) => (
                t.readlink(ROOT, p).map(Out::Text),
                m.readlink(p).map(Out::Text),
            ),
            Op::Stat(p, follow) => (self.tree_stat(p, *follow), self.model_stat(p, *follow)),
            Op::Link(a, follow, b) => (
                unit(t.link(ROOT, a, *follow, ROOT, b)),
                unit(m.link(a, *follow, b)),
            ),
            Op::Rename(a, b) => (unit(t.rename(ROOT, a, ROOT, b)), unit(m.rename(a, b))),
            Op::Open(p, how, keep) => {
                let ti = t.open_path(ROOT, p, open_how(*how));
                let mi = m.open(MROOT, p, *how);
                let tr = ti.and_then(|i| Ok(Out::Opened(tree_letter(&t.node(i)?.kind))));
                let mr = mi.and_then(|i| Ok(Out::Opened(model_letter(m.kind(i)?))));
                if let (true, Ok(ino), Ok(id)) = (*keep, ti, mi) {
                    t.open(ino);
                    m.open_handle(id);
                    self.handles.push(Handle {
                        ino,
                        id,
                        write: how.write,
                    });
                }
                (tr, mr)
            }
            Op::WriteFile(p, exclusive, truncate, offset, data) => {
                let how = How {
                    create: true,
                    exclusive: *exclusive,
                    truncate: *truncate,
                    follow: true,
                    write: true,
                    ..How::default()
                };
                let tr = t
                    .open_path(ROOT, p, open_how(how))
                    .and_then(|i| t.write(i, *offset, data));
                let mr = m
                    .open(MROOT, p, how)
                    .and_then(|i| m.write(i, *offset, data));
                (tr.map(Out::Num), mr.map(Out::Num))
            }
            Op::ReadFile(p) => {
                let how = How {
                    follow: true,
                    ..How::default()
                };
                let tr = t
                    .open_path(ROOT, p, open_how(how))
                    .and_then(|i| t.read(i, 0, 1 << 20));
                let mr = m.open(MROOT, p, how).and_then(|i| m.read(i, 0, 1 << 20));
                (tr.map(Out::Bytes), mr.map(Out::Bytes))
            }
            Op::HWrite(h, offset, data) => {
                let i = self.handle(*h, true)?;
                let tr = self.tree.write(self.handles[i].ino, *offset, data);
                let mr = self.on_model(i, |m, id| m.write(id, *offset, data));
                (tr.map(Out::Num), mr.map(Out::Num))
            }
            Op::HRead(h, offset, len) => {
                let i = self.handle(*h, false)?;
                let tr = self.tree.read(self.handles[i].ino, *offset, *len);
                let mr = self.on_model(i, |m, id| m.read(id, *offset, *len));
                (tr.map(Out::Bytes), mr.map(Out::Bytes))
            }
            Op::HSetSize(h, len) => {
                let i = self.handle(*h, true)?;
                let tr = self.tree.set_size(self.handles[i].ino, *len);
                let mr = self.on_model(i, |m, id| m.set_size(id, *len));
                (unit(tr), unit(mr))
            }
            Op::HRoom(h, at) => {
                let i = self.handle(*h, false)?;
                let tr = self.tree.room(self.handles[i].ino, *at);
                let mr = self.on_model(i, |m, id| m.room(id, *at));
                (tr.map(Out::Num), mr.map(Out::Num))
            }
            Op::HClose(h) => {
                let i = self.handle(*h, false)?;
                let h = self.handles.remove(i);
                self.tree.close(h.ino);
                self.model.close_handle(h.id);
                (Ok(Out::Unit), Ok(Out::Unit))
            }
            Op::Restore => {
                let bytes = pack(b"ns", &self.tree);
                let empty = self.tree.numbered_after(self.tree.limits);
                let back = match unpack(&bytes, empty) {
                    Ok((b"ns", Some(back))) => Ok(back),
                    Ok(_) => Err("the snapshot lost its namespace or files".to_string()),
                    Err(e) => Err(e),
                };
                let restored = back.map(|b| self.tree.replace_with(b, true));
                self.model.forget_opens();
                for h in &mut self.handles {
                    if h.id != MROOT {
                        h.id = GONE;
                    }
                }
                match restored {
                    Ok(()) => (Ok(Out::Unit), Ok(Out::Unit)),
                    Err(e) => (Ok(Out::Text(e)), Ok(Out::Unit)),
                }
            }
            Op::Fault => {
                let back = self.tree.checkpoint();
                self.tree.replace_with(back, false);
                self.model.forget_opens();
                self.handles.clear();
                (Ok(Out::Unit), Ok(Out::Unit))
            }
        })
    }
}

#[test]
fn operations_match_the_model() {
    let case = (limits(), prop::collection::vec(op(), 1..60));
    check("operations_match_the_model", case, |(limits, ops)| {
        let mut pair = Pair::new(limits);
        for (i, op) in ops.iter().enumerate() {
            let Some((got, want)) = pair.apply(op) else {
                continue;
            };
            prop_assert_eq!(got, want, "op {} {:?}: results differ", i, op);
            let (t, m) = (dump_tree(&pair.tree), dump_model(&pair.model));
            prop_assert_eq!(t, m, "op {} {:?}: trees differ", i, op);
        }
        Ok(())
    });
}
