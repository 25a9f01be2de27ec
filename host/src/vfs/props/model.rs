//! The reference model for the operation-sequence property (`ops.rs`): a
//! plain POSIX-like tree of numbered nodes in `BTreeMap`s, with path
//! resolution written from POSIX's rules (XBD 4.13: a component followed
//! by a slash must be a directory and a symlink there is always followed;
//! a symlink's target replaces it, its trailing slash included; `..` is the
//! physical parent) rather than from `tree.rs`.
//!
//! Where the virtual tree deliberately differs from POSIX the model follows
//! the tree's documented behaviour, each place marked "Tree:" below:
//! paths are relative to a descriptor (absolute ones are `EPERM`, as in
//! WASI), absolute symlink targets start at the tree's root, symlinks into
//! a host mount are `EXDEV`, a hard link needs room under the entry cap
//! for nodes and further names together (other operations count nodes
//! only), and where POSIX leaves the order of two errors open the model
//! checks in the order `ops.rs` documents.
use std::collections::{BTreeMap, VecDeque};
use wasmtime_wasi::p2::bindings::filesystem::types::ErrorCode as E;

/// A model node's number.
pub type Id = usize;
/// The root's number.
pub const MROOT: Id = 0;

const NAME_MAX: usize = 255;
const PATH_MAX: usize = 4096;
/// Symlinks one resolution follows before `ELOOP` (Linux's 40).
const MAX_LINKS: u32 = 40;

pub type MResult<T> = Result<T, E>;

#[derive(Clone, Debug, PartialEq)]
pub enum MKind {
    Dir(BTreeMap<String, Id>),
    File(Vec<u8>),
    Link(String),
}

#[derive(Clone, Debug)]
pub struct MNode {
    pub kind: MKind,
    /// The directory holding a directory (the root: itself).
    pub parent: Id,
    /// Names of this node.
    pub nlink: u64,
    /// Open descriptors.
    pub opens: u32,
}

/// How a model open treats the path (the fields of `ops::OpenHow`).
#[derive(Clone, Copy, Debug, Default)]
pub struct How {
    pub create: bool,
    pub exclusive: bool,
    pub truncate: bool,
    pub directory: bool,
    pub follow: bool,
    pub write: bool,
}

#[derive(Clone, Debug)]
pub struct Model {
    pub nodes: BTreeMap<Id, MNode>,
    next: Id,
    pub max_bytes: u64,
    pub max_entries: u64,
    /// Guest paths of host mounts (symlinks into them are `EXDEV`).
    pub mounts: Vec<String>,
}

/// The components of `path`, each with whether a slash follows it (given
/// `slash_after` for the last one when the path itself ends without one).
fn steps(path: &str, slash_after: bool) -> Vec<(String, bool)> {
    let names: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    let tail = slash_after || path.ends_with('/');
    let n = names.len();
    names
        .into_iter()
        .enumerate()
        .map(|(i, c)| (c.to_string(), i + 1 < n || tail))
        .collect()
}

impl Model {
    pub fn new(max_bytes: u64, max_entries: u64, mounts: &[&str]) -> Model {
        let root = MNode {
            kind: MKind::Dir(BTreeMap::new()),
            parent: MROOT,
            nlink: 1,
            opens: 0,
        };
        Model {
            nodes: BTreeMap::from([(MROOT, root)]),
            next: 1,
            max_bytes,
            max_entries,
            mounts: mounts.iter().map(|m| m.to_string()).collect(),
        }
    }

    /// Bytes held by live files (open ones no name reaches included).
    pub fn bytes(&self) -> u64 {
        self.nodes
            .values()
            .map(|n| match &n.kind {
                MKind::File(d) => d.len() as u64,
                _ => 0,
            })
            .sum()
    }

    /// Live nodes, the root excluded.
    pub fn entries(&self) -> u64 {
        self.nodes.len() as u64 - 1
    }

    pub fn kind(&self, id: Id) -> MResult<&MKind> {
        self.nodes.get(&id).map(|n| &n.kind).ok_or(E::BadDescriptor)
    }

    fn is_dir(&self, id: Id) -> bool {
        matches!(self.kind(id), Ok(MKind::Dir(_)))
    }

    fn entries_of(&self, id: Id) -> MResult<&BTreeMap<String, Id>> {
        match self.kind(id)? {
            MKind::Dir(e) => Ok(e),
            _ => Err(E::NotDirectory),
        }
    }

    fn entries_mut(&mut self, id: Id) -> &mut BTreeMap<String, Id> {
        match &mut self.nodes.get_mut(&id).expect("a live directory").kind {
            MKind::Dir(e) => e,
            _ => panic!("not a directory"),
        }
    }

    fn lookup(&self, dir: Id, name: &str) -> Option<Id> {
        self.entries_of(dir).ok()?.get(name).copied()
    }

    fn alloc(&mut self, kind: MKind, parent: Id) -> MResult<Id> {
        if self.entries() >= self.max_entries {
            return Err(E::InsufficientSpace);
        }
        let id = self.next;
        self.next += 1;
        let node = MNode {
            kind,
            parent,
            nlink: 1,
            opens: 0,
        };
        self.nodes.insert(id, node);
        Ok(id)
    }

    /// A name of `id` went away.
    fn unref(&mut self, id: Id) {
        let n = self.nodes.get_mut(&id).expect("a live node");
        n.nlink -= 1;
        self.collect(id);
    }

    /// Drop `id` when nothing names it and nothing has it open.
    fn collect(&mut self, id: Id) {
        if self
            .nodes
            .get(&id)
            .is_some_and(|n| n.nlink == 0 && n.opens == 0 && id != MROOT)
        {
            self.nodes.remove(&id);
        }
    }

    pub fn open_handle(&mut self, id: Id) {
        self.nodes.get_mut(&id).expect("a live node").opens += 1;
    }

    pub fn close_handle(&mut self, id: Id) {
        if let Some(n) = self.nodes.get_mut(&id) {
            n.opens = n.opens.saturating_sub(1);
        }
        self.collect(id);
    }

    /// Every descriptor is gone (a new instance) and only what names reach
    /// is kept (a checkpoint, or a snapshot restored).
    pub fn forget_opens(&mut self) {
        let ids: Vec<Id> = self.nodes.keys().copied().collect();
        for id in ids {
            self.nodes.get_mut(&id).expect("listed").opens = 0;
            self.collect(id);
        }
    }

    /// POSIX path resolution from directory `start`.
    pub fn resolve(&self, start: Id, path: &str, follow: bool) -> MResult<Id> {
        if path.len() > PATH_MAX {
            return Err(E::NameTooLong);
        }
        // Tree: WASI paths are relative to a descriptor.
        if path.starts_with('/') {
            return Err(E::NotPermitted);
        }
        // Tree: the empty path is the start directory (POSIX: `ENOENT`).
        let mut queue: VecDeque<(String, bool)> = steps(path, false).into();
        let mut at = start;
        let mut hops = 0;
        while let Some((name, slash)) = queue.pop_front() {
            let entries = self.entries_of(at)?;
            match name.as_str() {
                "." => continue,
                // The root's `..` is the root.
                ".." => {
                    at = self.nodes[&at].parent;
                    continue;
                }
                _ => {}
            }
            if name.len() > NAME_MAX {
                return Err(E::NameTooLong);
            }
            let child = *entries.get(&name).ok_or(E::NoEntry)?;
            if let MKind::Link(target) = self.kind(child)? {
                if slash || follow {
                    hops += 1;
                    if hops > MAX_LINKS {
                        return Err(E::Loop);
                    }
                    // Tree: an absolute target starts at the tree's root.
                    if target.starts_with('/') {
                        at = MROOT;
                    }
                    for s in steps(target, slash).into_iter().rev() {
                        queue.push_front(s);
                    }
                    continue;
                }
            }
            if slash && !self.is_dir(child) {
                return Err(E::NotDirectory);
            }
            at = child;
        }
        Ok(at)
    }

    /// The directory and last name of `path`, for creating, removing and
    /// renaming (Tree: trailing slashes are dropped first, then `.`, `..`
    /// and empty names are `EINVAL`; the checks in tree.rs's order).
    pub fn parent_of(&self, start: Id, path: &str) -> MResult<(Id, String)> {
        if path.len() > PATH_MAX {
            return Err(E::NameTooLong);
        }
        let trimmed = path.trim_end_matches('/');
        let (dir, name) = match trimmed.rsplit_once('/') {
            Some((d, n)) => (format!("{d}/"), n),
            None => (String::new(), trimmed),
        };
        if name.is_empty() && path.starts_with('/') {
            return Err(E::NotPermitted);
        }
        if matches!(name, "" | "." | "..") {
            return Err(E::Invalid);
        }
        if name.len() > NAME_MAX {
            return Err(E::NameTooLong);
        }
        let at = if dir.is_empty() {
            start
        } else {
            self.resolve(start, &dir, true)?
        };
        Ok((at, name.to_string()))
    }

    pub fn mkdir(&mut self, path: &str) -> MResult<()> {
        // Tree: `mkdir("x/.")` is `EEXIST` whether or not `x` exists.
        let (dir, name) = self.parent_of(MROOT, path).map_err(|e| match e {
            E::Invalid => E::Exist,
            e => e,
        })?;
        if self.lookup(dir, &name).is_some() {
            return Err(E::Exist);
        }
        let id = self.alloc(MKind::Dir(BTreeMap::new()), dir)?;
        self.entries_mut(dir).insert(name, id);
        Ok(())
    }

    pub fn rmdir(&mut self, path: &str) -> MResult<()> {
        let (dir, name) = self.parent_of(MROOT, path)?;
        let id = self.lookup(dir, &name).ok_or(E::NoEntry)?;
        match self.kind(id)? {
            MKind::Dir(e) if !e.is_empty() => return Err(E::NotEmpty),
            MKind::Dir(_) => {}
            _ => return Err(E::NotDirectory),
        }
        self.entries_mut(dir).remove(&name);
        self.unref(id);
        Ok(())
    }

    pub fn unlink(&mut self, path: &str) -> MResult<()> {
        if path.ends_with('/') {
            // Only a directory may be named with a trailing slash.
            self.resolve(MROOT, path, true)?;
            return Err(E::IsDirectory);
        }
        let (dir, name) = self.parent_of(MROOT, path)?;
        let id = self.lookup(dir, &name).ok_or(E::NoEntry)?;
        if self.is_dir(id) {
            return Err(E::IsDirectory);
        }
        self.entries_mut(dir).remove(&name);
        self.unref(id);
        Ok(())
    }

    pub fn symlink(&mut self, target: &str, path: &str) -> MResult<()> {
        if target.len() > PATH_MAX {
            return Err(E::NameTooLong);
        }
        if target.is_empty() {
            return Err(E::NoEntry);
        }
        // Tree: a link into a host mount would dangle in the tree.
        let into = |m: &String| target == m || target.starts_with(&format!("{m}/"));
        if self.mounts.iter().any(into) {
            return Err(E::CrossDevice);
        }
        let (dir, name) = self.parent_of(MROOT, path)?;
        if self.lookup(dir, &name).is_some() {
            return Err(E::Exist);
        }
        let id = self.alloc(MKind::Link(target.to_string()), dir)?;
        self.entries_mut(dir).insert(name, id);
        Ok(())
    }

    pub fn readlink(&self, path: &str) -> MResult<String> {
        match self.kind(self.resolve(MROOT, path, false)?)? {
            MKind::Link(t) => Ok(t.clone()),
            _ => Err(E::Invalid),
        }
    }

    /// Tree: a further name costs no entry (only nodes count).
    pub fn link(&mut self, old: &str, follow: bool, new: &str) -> MResult<()> {
        let id = self.resolve(MROOT, old, follow)?;
        if self.is_dir(id) {
            return Err(E::NotPermitted);
        }
        let (dir, name) = self.parent_of(MROOT, new)?;
        if self.lookup(dir, &name).is_some() {
            return Err(E::Exist);
        }
        let further: u64 = self
            .nodes
            .iter()
            .filter(|(&i, _)| !self.is_dir(i))
            .map(|(_, n)| n.nlink.saturating_sub(1))
            .sum();
        if self.entries() + further >= self.max_entries {
            return Err(E::InsufficientSpace);
        }
        self.entries_mut(dir).insert(name, id);
        self.nodes.get_mut(&id).expect("live").nlink += 1;
        Ok(())
    }

    fn within(&self, mut dir: Id, ancestor: Id) -> bool {
        loop {
            if dir == ancestor {
                return true;
            }
            if dir == MROOT {
                return false;
            }
            dir = self.nodes[&dir].parent;
        }
    }

    pub fn rename(&mut self, old: &str, new: &str) -> MResult<()> {
        let (odir, oname) = self.parent_of(MROOT, old)?;
        let src = self.lookup(odir, &oname).ok_or(E::NoEntry)?;
        let (ndir, nname) = self.parent_of(MROOT, new)?;
        let src_dir = self.is_dir(src);
        if !src_dir && (old.ends_with('/') || new.ends_with('/')) {
            return Err(E::NotDirectory);
        }
        let dst = self.lookup(ndir, &nname);
        // Two names of one file: POSIX says nothing happens.
        if dst == Some(src) {
            return Ok(());
        }
        if src_dir && self.within(ndir, src) {
            return Err(E::Invalid);
        }
        if let Some(d) = dst {
            match (self.kind(d)?, src_dir) {
                (MKind::Dir(e), true) if !e.is_empty() => return Err(E::NotEmpty),
                (MKind::Dir(_), true) => {}
                (MKind::Dir(_), false) => return Err(E::IsDirectory),
                (_, true) => return Err(E::NotDirectory),
                _ => {}
            }
        }
        self.entries_mut(odir).remove(&oname);
        if let Some(d) = self.entries_mut(ndir).insert(nname, src) {
            self.unref(d);
        }
        if src_dir {
            self.nodes.get_mut(&src).expect("live").parent = ndir;
        }
        Ok(())
    }

    /// `open` from `start` (Tree: the checks in `Tree::open_path`'s order).
    pub fn open(&mut self, start: Id, path: &str, how: How) -> MResult<Id> {
        let id = if how.create {
            let (dir, name) = self.parent_of(start, path)?;
            match self.lookup(dir, &name) {
                Some(_) if how.exclusive => return Err(E::Exist),
                Some(entry) => match self.resolve(start, path, how.follow) {
                    // `O_CREAT` through a dangling link creates its target;
                    // the path's trailing slash goes with it.
                    Err(E::NoEntry) if how.follow => {
                        let MKind::Link(target) = self.kind(entry)? else {
                            return Err(E::NoEntry);
                        };
                        let mut target = target.clone();
                        if path.ends_with('/') {
                            target.push('/');
                        }
                        return match target.strip_prefix('/') {
                            Some(t) => self.open(MROOT, t, how),
                            None => self.open(dir, &target, how),
                        };
                    }
                    r => r?,
                },
                None => {
                    if how.directory {
                        return Err(E::NoEntry);
                    }
                    if path.ends_with('/') {
                        return Err(E::IsDirectory);
                    }
                    let id = self.alloc(MKind::File(Vec::new()), dir)?;
                    self.entries_mut(dir).insert(name, id);
                    id
                }
            }
        } else {
            self.resolve(start, path, how.follow)?
        };
        match self.kind(id)? {
            MKind::Link(_) => return Err(E::Loop),
            MKind::Dir(_) if how.write || how.truncate => return Err(E::IsDirectory),
            MKind::File(_) if how.directory => return Err(E::NotDirectory),
            _ => {}
        }
        if how.truncate {
            self.set_size(id, 0)?;
        }
        Ok(id)
    }

    fn size(&self, id: Id) -> MResult<u64> {
        Ok(match self.kind(id)? {
            MKind::File(d) => d.len() as u64,
            _ => 0,
        })
    }

    /// May a file of `old` bytes become `new` bytes long?
    fn fits(&self, old: u64, new: u64) -> MResult<()> {
        if new > old && self.bytes() as u128 + (new - old) as u128 > self.max_bytes as u128 {
            return Err(E::InsufficientSpace);
        }
        Ok(())
    }

    pub fn write(&mut self, id: Id, offset: u64, data: &[u8]) -> MResult<u64> {
        let end = offset
            .checked_add(data.len() as u64)
            .ok_or(E::FileTooLarge)?;
        let size = self.size(id)?;
        // POSIX: writing nothing changes nothing, past the end too.
        if data.is_empty() && matches!(self.kind(id)?, MKind::File(_)) {
            return Ok(0);
        }
        self.fits(size, end)?;
        let MKind::File(d) = &mut self.nodes.get_mut(&id).expect("live").kind else {
            return Err(E::IsDirectory);
        };
        let (start, end) = (offset as usize, end as usize);
        if d.len() < end {
            d.resize(end, 0);
        }
        d[start..end].copy_from_slice(data);
        Ok(data.len() as u64)
    }

    pub fn read(&self, id: Id, offset: u64, len: usize) -> MResult<Vec<u8>> {
        match self.kind(id)? {
            MKind::File(d) => {
                let from = (offset.min(d.len() as u64)) as usize;
                let to = d.len().min(from.saturating_add(len));
                Ok(d[from..to].to_vec())
            }
            MKind::Dir(_) => Err(E::IsDirectory),
            MKind::Link(_) => Err(E::BadDescriptor),
        }
    }

    pub fn set_size(&mut self, id: Id, len: u64) -> MResult<()> {
        self.fits(self.size(id)?, len)?;
        let MKind::File(d) = &mut self.nodes.get_mut(&id).expect("live").kind else {
            return Err(E::IsDirectory);
        };
        d.resize(len as usize, 0);
        Ok(())
    }

    /// Bytes that may be written at `at` (`None`: the end).
    pub fn room(&self, id: Id, at: Option<u64>) -> MResult<u64> {
        let size = self.size(id)?;
        let free = self.max_bytes.saturating_sub(self.bytes());
        Ok((size + free).saturating_sub(at.unwrap_or(size)))
    }
}
