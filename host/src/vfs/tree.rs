//! The virtual tree: inode-like nodes (files, directories, symlinks) in a
//! map, path resolution that never leaves the tree, and the caps on bytes
//! and entries. Everything the guest can do to its files goes through the
//! operations here (see `ops.rs`), which return WASI error codes.
use super::data::FileData;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use wasmtime_wasi::p2::bindings::filesystem::types::ErrorCode;

/// Result of a tree operation.
pub type VResult<T> = Result<T, ErrorCode>;

/// A node's number (like an inode number).
pub type Ino = u64;

/// The root directory's number.
pub const ROOT: Ino = 1;

/// Symlinks followed in one resolution before `ELOOP`.
const MAX_LINKS: u32 = 40;
/// Longest name of one entry (`ENAMETOOLONG`).
pub const NAME_MAX: usize = 255;
/// Longest path or symlink target.
pub const PATH_MAX: usize = 4096;

/// Seconds and nanoseconds since the Unix epoch.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Time {
    pub secs: u64,
    pub nanos: u32,
}

impl Time {
    pub fn now() -> Time {
        let d = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Time {
            secs: d.as_secs(),
            nanos: d.subsec_nanos(),
        }
    }
}

/// What a node is.
#[derive(Clone)]
pub enum Kind {
    File(FileData),
    /// Entries by name (shared with checkpoints until changed).
    Dir(Arc<BTreeMap<String, Ino>>),
    Symlink(String),
    /// The null device (`/dev/null`): reads end at once, writes vanish,
    /// nothing counts against the caps; snapshots leave it out (the
    /// layout puts it back).
    Null,
}

/// One node of the tree.
#[derive(Clone)]
pub struct Node {
    pub kind: Kind,
    /// The directory holding this one (directories only; the root is its
    /// own parent).
    pub parent: Ino,
    /// Directory entries naming this node (0: removed, alive while open).
    pub nlink: u64,
    pub atime: Time,
    pub mtime: Time,
    pub ctime: Time,
}

impl Node {
    fn new(kind: Kind, parent: Ino) -> Node {
        let now = Time::now();
        Node {
            kind,
            parent,
            nlink: 1,
            atime: now,
            mtime: now,
            ctime: now,
        }
    }

    pub fn is_dir(&self) -> bool {
        matches!(self.kind, Kind::Dir(_))
    }

    /// Bytes of file data this node holds.
    pub fn bytes(&self) -> u64 {
        match &self.kind {
            Kind::File(f) => f.len(),
            _ => 0,
        }
    }
}

/// Caps of one tree.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    /// Total bytes of file contents.
    pub max_bytes: u64,
    /// Number of nodes (files, directories, symlinks; the root excluded).
    pub max_entries: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_bytes: 64 << 20,
            max_entries: 10_000,
        }
    }
}

/// A whole virtual tree. Cloning it is cheap in bytes (file chunks and
/// directory maps are shared until written) and linear in nodes.
#[derive(Clone)]
pub struct Tree {
    pub(super) nodes: HashMap<Ino, Node>,
    next: Ino,
    pub(super) bytes: u64,
    pub limits: Limits,
    /// Open descriptors per node (not part of a checkpoint's meaning: a
    /// restored tree starts with none).
    pub(super) opens: HashMap<Ino, u32>,
    /// Bumped by every change of content (not by opening or closing).
    generation: u64,
    /// Nodes the entry cap does not count: the layout's `/dev` and its
    /// null device (see [`Tree::uncount`]).
    uncounted: std::collections::HashSet<Ino>,
    /// The guest paths of the host mounts laid out in this tree (their
    /// placeholders are empty directories here; see [`Tree::symlink`]).
    /// A property of the sandbox, not of the content: kept by
    /// [`Tree::replace_with`].
    pub(super) mounts: Vec<String>,
}

impl Tree {
    /// An empty tree (just the root).
    pub fn new(limits: Limits) -> Tree {
        let mut nodes = HashMap::new();
        nodes.insert(ROOT, Node::new(Kind::Dir(Arc::default()), ROOT));
        Tree {
            nodes,
            next: ROOT + 1,
            bytes: 0,
            limits,
            opens: HashMap::new(),
            generation: 0,
            uncounted: Default::default(),
            mounts: Vec::new(),
        }
    }

    /// Changes when the tree's content changes (a checkpoint is only taken
    /// when it did).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// A copy to go back to later: what the directory entries reach (files
    /// only open descriptors kept alive are left out), no open descriptors.
    pub fn checkpoint(&self) -> Tree {
        let mut t = self.clone();
        t.opens.clear();
        let orphans: Vec<Ino> = t
            .nodes
            .iter()
            .filter(|(i, n)| n.nlink == 0 && **i != ROOT)
            .map(|(i, _)| *i)
            .collect();
        for ino in orphans {
            t.collect(ino);
        }
        t
    }

    /// Replace this tree by `other` (a checkpoint or a restored snapshot).
    /// Node numbers are never reused. With `keep_opens` (the instance goes
    /// on) the open descriptors stay counted: those of nodes `other` lacks
    /// get `EBADF`, the root stays the root; without (a fresh instance)
    /// there are none.
    pub fn replace_with(&mut self, mut other: Tree, keep_opens: bool) {
        other.next = other.next.max(self.next);
        other.opens = if keep_opens {
            std::mem::take(&mut self.opens)
        } else {
            HashMap::new()
        };
        other.generation = self.generation + 1;
        other.mounts = std::mem::take(&mut self.mounts);
        *self = other;
    }

    /// The same tree with node numbers starting after `self`'s.
    pub fn numbered_after(&self, limits: Limits) -> Tree {
        let mut t = Tree::new(limits);
        t.next = self.next;
        t.mounts = self.mounts.clone();
        t
    }

    /// Bytes of file contents held.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Nodes held, the root and the uncounted ones excluded.
    pub fn entries(&self) -> u64 {
        (self.nodes.len() - 1 - self.uncounted.len()) as u64
    }

    /// Counted nodes plus the further names (hard links) of counted
    /// non-directory nodes: what a new hard link is checked against.
    pub fn names(&self) -> u64 {
        let further: u64 = self
            .nodes
            .iter()
            .filter(|(i, n)| !n.is_dir() && !self.uncounted.contains(i))
            .map(|(_, n)| n.nlink.saturating_sub(1))
            .sum();
        self.entries() + further
    }

    /// Leave node `ino` out of the entry cap (until it is removed).
    pub fn uncount(&mut self, ino: Ino) {
        if self.nodes.contains_key(&ino) {
            self.uncounted.insert(ino);
        }
    }

    pub fn node(&self, ino: Ino) -> VResult<&Node> {
        self.nodes.get(&ino).ok_or(ErrorCode::BadDescriptor)
    }

    pub(super) fn node_mut(&mut self, ino: Ino) -> VResult<&mut Node> {
        self.generation += 1;
        self.nodes.get_mut(&ino).ok_or(ErrorCode::BadDescriptor)
    }

    /// The entries of directory `ino`.
    pub fn dir(&self, ino: Ino) -> VResult<&Arc<BTreeMap<String, Ino>>> {
        match &self.node(ino)?.kind {
            Kind::Dir(d) => Ok(d),
            _ => Err(ErrorCode::NotDirectory),
        }
    }

    pub(super) fn dir_mut(&mut self, ino: Ino) -> VResult<&mut BTreeMap<String, Ino>> {
        let node = self.node_mut(ino)?;
        node.mtime = Time::now();
        node.ctime = node.mtime;
        match &mut node.kind {
            Kind::Dir(d) => Ok(Arc::make_mut(d)),
            _ => Err(ErrorCode::NotDirectory),
        }
    }

    /// Add a node (counted against the entry cap).
    pub(super) fn alloc(&mut self, kind: Kind, parent: Ino) -> VResult<Ino> {
        if self.entries() >= self.limits.max_entries {
            return Err(ErrorCode::InsufficientSpace);
        }
        let ino = self.next;
        self.next += 1;
        self.generation += 1;
        self.nodes.insert(ino, Node::new(kind, parent));
        Ok(ino)
    }

    /// Drop one directory entry's reference to `ino`; the node goes when
    /// nothing names it and no descriptor has it open.
    pub(super) fn unref(&mut self, ino: Ino) {
        self.generation += 1;
        if let Some(n) = self.nodes.get_mut(&ino) {
            n.nlink = n.nlink.saturating_sub(1);
            n.ctime = Time::now();
        }
        self.collect(ino);
    }

    fn collect(&mut self, ino: Ino) {
        let dead = self
            .nodes
            .get(&ino)
            .is_some_and(|n| n.nlink == 0 && !self.opens.contains_key(&ino));
        if dead && ino != ROOT {
            self.uncounted.remove(&ino);
            if let Some(n) = self.nodes.remove(&ino) {
                self.bytes -= n.bytes();
            }
        }
    }

    /// A descriptor opened `ino`.
    pub fn open(&mut self, ino: Ino) {
        *self.opens.entry(ino).or_default() += 1;
    }

    /// A descriptor of `ino` was dropped.
    pub fn close(&mut self, ino: Ino) {
        if let Some(n) = self.opens.get_mut(&ino) {
            *n -= 1;
            if *n == 0 {
                self.opens.remove(&ino);
                self.collect(ino);
            }
        }
    }

    /// Resolve `path` from directory `start`. Absolute symlink targets
    /// start again at the root of this tree; `..` at the root stays there.
    /// `follow` says whether a symlink in the last component is followed.
    pub fn resolve(&self, start: Ino, path: &str, follow: bool) -> VResult<Ino> {
        if path.len() > PATH_MAX {
            return Err(ErrorCode::NameTooLong);
        }
        if path.starts_with('/') {
            return Err(ErrorCode::NotPermitted);
        }
        let must_be_dir = path.ends_with('/');
        let mut todo: Vec<String> = components(path).rev().map(str::to_string).collect();
        let mut cur = start;
        let mut links = 0;
        self.dir(cur)?;
        while let Some(name) = todo.pop() {
            let node = self.node(cur)?;
            let Kind::Dir(entries) = &node.kind else {
                return Err(ErrorCode::NotDirectory);
            };
            match name.as_str() {
                "." => continue,
                ".." => {
                    cur = node.parent;
                    continue;
                }
                _ => {}
            }
            if name.len() > NAME_MAX {
                return Err(ErrorCode::NameTooLong);
            }
            let child = *entries.get(&name).ok_or(ErrorCode::NoEntry)?;
            let last = todo.is_empty();
            if let Kind::Symlink(target) = &self.node(child)?.kind {
                if !last || follow || must_be_dir {
                    links += 1;
                    if links > MAX_LINKS {
                        return Err(ErrorCode::Loop);
                    }
                    if target.starts_with('/') {
                        cur = ROOT;
                    }
                    // A target's trailing slash says "a directory", as a
                    // path's does: `.` after it checks that.
                    if target.ends_with('/') {
                        todo.push(".".to_string());
                    }
                    todo.extend(components(target).rev().map(str::to_string));
                    continue;
                }
            }
            if !last && !self.node(child)?.is_dir() {
                return Err(ErrorCode::NotDirectory);
            }
            cur = child;
        }
        if must_be_dir && !self.node(cur)?.is_dir() {
            return Err(ErrorCode::NotDirectory);
        }
        Ok(cur)
    }

    /// The directory and final name `path` refers to (for creating,
    /// removing and renaming). The name is never `.`, `..` or empty.
    pub fn parent_of(&self, start: Ino, path: &str) -> VResult<(Ino, String)> {
        if path.len() > PATH_MAX {
            return Err(ErrorCode::NameTooLong);
        }
        let trimmed = path.trim_end_matches('/');
        let (dir_part, name) = match trimmed.rfind('/') {
            Some(i) => (&trimmed[..i + 1], &trimmed[i + 1..]),
            None => ("", trimmed),
        };
        if name.is_empty() && path.starts_with('/') {
            return Err(ErrorCode::NotPermitted);
        }
        if name.is_empty() || name == "." || name == ".." {
            return Err(ErrorCode::Invalid);
        }
        if name.len() > NAME_MAX {
            return Err(ErrorCode::NameTooLong);
        }
        let dir = if dir_part.is_empty() {
            start
        } else {
            self.resolve(start, dir_part, true)?
        };
        let node = self.node(dir)?;
        if !node.is_dir() {
            return Err(ErrorCode::NotDirectory);
        }
        if node.nlink == 0 {
            // A removed directory still open: nothing can be created in it.
            return Err(ErrorCode::NoEntry);
        }
        Ok((dir, name.to_string()))
    }

    /// The entry `name` of directory `dir`, if any.
    pub fn lookup(&self, dir: Ino, name: &str) -> VResult<Option<Ino>> {
        Ok(self.dir(dir)?.get(name).copied())
    }

    /// Whether `dir` is `ancestor` or lies below it.
    pub(super) fn is_within(&self, mut dir: Ino, ancestor: Ino) -> bool {
        loop {
            if dir == ancestor {
                return true;
            }
            match self.nodes.get(&dir) {
                Some(n) if n.parent != dir => dir = n.parent,
                _ => return false,
            }
        }
    }

    /// Make sure `path` (absolute; its directory exists) names a node, a
    /// null device if it was missing.
    pub fn ensure_null(&mut self, path: &str) -> VResult<Ino> {
        let (dir, name) = self.parent_of(ROOT, path.trim_start_matches('/'))?;
        if let Some(ino) = self.lookup(dir, &name)? {
            return Ok(ino);
        }
        let ino = self.alloc(Kind::Null, dir)?;
        self.dir_mut(dir)?.insert(name, ino);
        Ok(ino)
    }

    /// Make sure directory `path` (absolute, `/`-separated) exists, creating
    /// what is missing (for `/tmp`, the home directory, mount points).
    pub fn ensure_dir(&mut self, path: &str) -> VResult<Ino> {
        let mut cur = ROOT;
        for name in components(path).filter(|c| *c != "." && *c != "..") {
            cur = match self.lookup(cur, name)? {
                Some(i) if self.node(i)?.is_dir() => i,
                Some(_) => return Err(ErrorCode::Exist),
                None => {
                    let ino = self.alloc(Kind::Dir(Arc::default()), cur)?;
                    self.dir_mut(cur)?.insert(name.to_string(), ino);
                    ino
                }
            };
        }
        Ok(cur)
    }
}

/// The non-empty components of a `/`-separated path.
fn components(path: &str) -> impl DoubleEndedIterator<Item = &str> {
    path.split('/').filter(|c| !c.is_empty())
}
