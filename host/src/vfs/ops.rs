//! POSIX-like operations on the virtual tree (open/create, read/write,
//! truncate, mkdir/rmdir, unlink, rename, symlinks, hard links, times,
//! readdir), with the caps enforced: a write or create past them is
//! `ENOSPC` and changes nothing.
use super::data::FileData;
use super::tree::{Ino, Kind, Node, Time, Tree, VResult, PATH_MAX, ROOT};
use std::sync::Arc;
use wasmtime_wasi::p2::bindings::filesystem::types::ErrorCode;

/// How `open` treats the path.
#[derive(Clone, Copy, Default)]
pub struct OpenHow {
    pub create: bool,
    pub exclusive: bool,
    pub truncate: bool,
    pub directory: bool,
    pub follow: bool,
    pub write: bool,
}

/// A new timestamp for `set_times`.
#[derive(Clone, Copy)]
pub enum SetTime {
    Keep,
    Now,
    At(Time),
}

impl Tree {
    /// Open (or create) `path` below `start`; returns the node.
    pub fn open_path(&mut self, start: Ino, path: &str, how: OpenHow) -> VResult<Ino> {
        let ino = if how.create {
            let (dir, name) = self.parent_of(start, path)?;
            match self.lookup(dir, &name)? {
                Some(_) if how.exclusive => return Err(ErrorCode::Exist),
                Some(link) => match self.resolve(start, path, how.follow) {
                    // `open(dangling, O_CREAT)` creates the link's target.
                    Err(ErrorCode::NoEntry) if how.follow => {
                        let Kind::Symlink(target) = &self.node(link)?.kind else {
                            return Err(ErrorCode::NoEntry);
                        };
                        let (from, mut target) = match target.strip_prefix('/') {
                            Some(t) => (ROOT, t.to_string()),
                            None => (dir, target.clone()),
                        };
                        // The path's trailing slash goes with it:
                        // `open("dangling/", O_CREAT)` makes no file.
                        if path.ends_with('/') {
                            target.push('/');
                        }
                        return self.open_path(from, &target, how);
                    }
                    r => r?,
                },
                None => {
                    if how.directory {
                        return Err(ErrorCode::NoEntry);
                    }
                    if path.ends_with('/') {
                        // `open("new/", O_CREAT)`: only a directory may end
                        // in a slash, and open does not make directories.
                        return Err(ErrorCode::IsDirectory);
                    }
                    let ino = self.alloc(Kind::File(FileData::default()), dir)?;
                    self.dir_mut(dir)?.insert(name, ino);
                    ino
                }
            }
        } else {
            self.resolve(start, path, how.follow)?
        };
        let node = self.node(ino)?;
        match &node.kind {
            Kind::Symlink(_) => return Err(ErrorCode::Loop),
            Kind::Dir(_) if how.write || how.truncate => return Err(ErrorCode::IsDirectory),
            Kind::File(_) | Kind::Null if how.directory => return Err(ErrorCode::NotDirectory),
            _ => {}
        }
        if how.truncate {
            self.set_size(ino, 0)?;
        }
        Ok(ino)
    }

    /// Read up to `len` bytes of file `ino` at `offset`.
    pub fn read(&self, ino: Ino, offset: u64, len: usize) -> VResult<Vec<u8>> {
        match &self.node(ino)?.kind {
            Kind::File(f) => Ok(f.read(offset, len)),
            Kind::Null => Ok(Vec::new()),
            Kind::Dir(_) => Err(ErrorCode::IsDirectory),
            Kind::Symlink(_) => Err(ErrorCode::BadDescriptor),
        }
    }

    /// Size of file `ino`.
    pub fn size(&self, ino: Ino) -> VResult<u64> {
        Ok(self.node(ino)?.bytes())
    }

    /// Write `bytes` at `offset` of file `ino` (all or nothing).
    pub fn write(&mut self, ino: Ino, offset: u64, bytes: &[u8]) -> VResult<u64> {
        let end = offset
            .checked_add(bytes.len() as u64)
            .ok_or(ErrorCode::FileTooLarge)?;
        let old = self.size(ino)?;
        match self.node(ino)?.kind {
            Kind::Null => return Ok(bytes.len() as u64),
            // POSIX: writing nothing changes nothing, past the end too.
            Kind::File(_) if bytes.is_empty() => return Ok(0),
            _ => {}
        }
        self.grow_check(old, end)?;
        let node = self.node_mut(ino)?;
        let Kind::File(f) = &mut node.kind else {
            return Err(ErrorCode::IsDirectory);
        };
        f.write(offset, bytes);
        node.mtime = Time::now();
        node.ctime = node.mtime;
        let new = f.len();
        self.bytes = self.bytes + new - old;
        Ok(bytes.len() as u64)
    }

    /// How many bytes may be written at `at` (`None`: the end) of file `ino`
    /// before the byte cap: what overwrites the file plus the free space.
    pub fn room(&self, ino: Ino, at: Option<u64>) -> VResult<u64> {
        let size = self.size(ino)?;
        if matches!(self.node(ino)?.kind, Kind::Null) {
            return Ok(u64::MAX);
        }
        let free = self.limits.max_bytes.saturating_sub(self.bytes);
        Ok((size + free).saturating_sub(at.unwrap_or(size)))
    }

    /// Whether a file of `old` bytes may become `new` bytes long. `new`
    /// comes from the guest (up to 2^64 - 1): the growth is compared with
    /// the free bytes, never added to what is held (which could wrap).
    fn grow_check(&self, old: u64, new: u64) -> VResult<()> {
        if new > old && new - old > self.limits.max_bytes.saturating_sub(self.bytes) {
            return Err(ErrorCode::InsufficientSpace);
        }
        Ok(())
    }

    /// Truncate or extend file `ino`.
    pub fn set_size(&mut self, ino: Ino, len: u64) -> VResult<()> {
        let old = self.size(ino)?;
        if matches!(self.node(ino)?.kind, Kind::Null) {
            return Ok(());
        }
        self.grow_check(old, len)?;
        let node = self.node_mut(ino)?;
        let Kind::File(f) = &mut node.kind else {
            return Err(ErrorCode::IsDirectory);
        };
        f.set_len(len);
        node.mtime = Time::now();
        node.ctime = node.mtime;
        self.bytes = self.bytes + len - old;
        Ok(())
    }

    /// Set the access and modification times of `ino`.
    pub fn set_times(&mut self, ino: Ino, atime: SetTime, mtime: SetTime) -> VResult<()> {
        let node = self.node_mut(ino)?;
        let now = Time::now();
        let pick = |t: SetTime, old: Time| match t {
            SetTime::Keep => old,
            SetTime::Now => now,
            SetTime::At(t) => t,
        };
        node.atime = pick(atime, node.atime);
        node.mtime = pick(mtime, node.mtime);
        node.ctime = now;
        Ok(())
    }

    /// `mkdir`.
    pub fn mkdir(&mut self, start: Ino, path: &str) -> VResult<()> {
        let (dir, name) = self.parent_of(start, path).map_err(|e| match e {
            ErrorCode::Invalid => ErrorCode::Exist,
            e => e,
        })?;
        if self.lookup(dir, &name)?.is_some() {
            return Err(ErrorCode::Exist);
        }
        let ino = self.alloc(Kind::Dir(Arc::default()), dir)?;
        self.dir_mut(dir)?.insert(name, ino);
        Ok(())
    }

    /// `rmdir`: only empty directories, never the root.
    pub fn rmdir(&mut self, start: Ino, path: &str) -> VResult<()> {
        let (dir, name) = self.parent_of(start, path)?;
        let ino = self.lookup(dir, &name)?.ok_or(ErrorCode::NoEntry)?;
        let node = self.node(ino)?;
        match &node.kind {
            Kind::Dir(d) if !d.is_empty() => return Err(ErrorCode::NotEmpty),
            Kind::Dir(_) => {}
            _ => return Err(ErrorCode::NotDirectory),
        }
        if ino == ROOT {
            return Err(ErrorCode::Busy);
        }
        self.dir_mut(dir)?.remove(&name);
        self.unref(ino);
        Ok(())
    }

    /// `unlink` of a file or symlink.
    pub fn unlink(&mut self, start: Ino, path: &str) -> VResult<()> {
        if path.ends_with('/') {
            // `unlink("file/")`: a trailing slash means a directory.
            self.resolve(start, path, true)?;
            return Err(ErrorCode::IsDirectory);
        }
        let (dir, name) = self.parent_of(start, path)?;
        let ino = self.lookup(dir, &name)?.ok_or(ErrorCode::NoEntry)?;
        if self.node(ino)?.is_dir() {
            return Err(ErrorCode::IsDirectory);
        }
        self.dir_mut(dir)?.remove(&name);
        self.unref(ino);
        Ok(())
    }

    /// `symlink(target, path)`: the target is stored as written. An
    /// absolute target inside a host mount (`/site-packages/...`) is
    /// refused with `EXDEV`: links here resolve inside this tree, where a
    /// mount is an empty placeholder, so it would dangle. Callers that
    /// fall back to copying on an `OSError` then copy (matplotlib's tests
    /// link their baseline images that way).
    pub fn symlink(&mut self, start: Ino, target: &str, path: &str) -> VResult<()> {
        if target.len() > PATH_MAX {
            return Err(ErrorCode::NameTooLong);
        }
        if target.is_empty() {
            return Err(ErrorCode::NoEntry);
        }
        let into_mount = |m: &String| {
            target
                .strip_prefix(m.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        };
        if target.starts_with('/') && self.mounts.iter().any(into_mount) {
            return Err(ErrorCode::CrossDevice);
        }
        let (dir, name) = self.parent_of(start, path)?;
        if self.lookup(dir, &name)?.is_some() {
            return Err(ErrorCode::Exist);
        }
        let ino = self.alloc(Kind::Symlink(target.to_string()), dir)?;
        self.dir_mut(dir)?.insert(name, ino);
        Ok(())
    }

    /// `readlink`.
    pub fn readlink(&self, start: Ino, path: &str) -> VResult<String> {
        let ino = self.resolve(start, path, false)?;
        match &self.node(ino)?.kind {
            Kind::Symlink(t) => Ok(t.clone()),
            _ => Err(ErrorCode::Invalid),
        }
    }

    /// `link(old, new)`: a second name for a file.
    pub fn link(
        &mut self,
        start: Ino,
        old: &str,
        follow: bool,
        nstart: Ino,
        new: &str,
    ) -> VResult<()> {
        let ino = self.resolve(start, old, follow)?;
        if self.node(ino)?.is_dir() {
            return Err(ErrorCode::NotPermitted);
        }
        let (dir, name) = self.parent_of(nstart, new)?;
        if self.lookup(dir, &name)?.is_some() {
            return Err(ErrorCode::Exist);
        }
        // A further name is host memory too: nodes and further names
        // together stay under the entry cap.
        if self.names() >= self.limits.max_entries {
            return Err(ErrorCode::InsufficientSpace);
        }
        self.dir_mut(dir)?.insert(name, ino);
        let node = self.node_mut(ino)?;
        node.nlink += 1;
        node.ctime = Time::now();
        Ok(())
    }

    /// `rename(old, new)`, replacing `new` when POSIX allows it.
    pub fn rename(&mut self, start: Ino, old: &str, nstart: Ino, new: &str) -> VResult<()> {
        let (odir, oname) = self.parent_of(start, old)?;
        let src = self.lookup(odir, &oname)?.ok_or(ErrorCode::NoEntry)?;
        let (ndir, nname) = self.parent_of(nstart, new)?;
        let src_is_dir = self.node(src)?.is_dir();
        if !src_is_dir && (old.ends_with('/') || new.ends_with('/')) {
            return Err(ErrorCode::NotDirectory);
        }
        let dst = self.lookup(ndir, &nname)?;
        if dst == Some(src) {
            return Ok(());
        }
        if src_is_dir && self.is_within(ndir, src) {
            // Into itself or below.
            return Err(ErrorCode::Invalid);
        }
        if let Some(d) = dst {
            match (&self.node(d)?.kind, src_is_dir) {
                (Kind::Dir(e), true) if !e.is_empty() => return Err(ErrorCode::NotEmpty),
                (Kind::Dir(_), true) => {}
                (Kind::Dir(_), false) => return Err(ErrorCode::IsDirectory),
                (_, true) => return Err(ErrorCode::NotDirectory),
                _ => {}
            }
        }
        self.dir_mut(odir)?.remove(&oname);
        if let Some(d) = self.dir_mut(ndir)?.insert(nname, src) {
            self.unref(d);
        }
        let node: &mut Node = self.node_mut(src)?;
        node.ctime = Time::now();
        if src_is_dir {
            node.parent = ndir;
        }
        Ok(())
    }

    /// The entries of directory `ino` (name, node), in name order.
    pub fn list(&self, ino: Ino) -> VResult<Vec<(String, Ino)>> {
        Ok(self
            .dir(ino)?
            .iter()
            .map(|(n, i)| (n.clone(), *i))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tree::Limits;
    use super::*;

    fn tree() -> Tree {
        Tree::new(Limits {
            max_bytes: 1000,
            max_entries: 20,
        })
    }

    fn create(t: &mut Tree, p: &str) -> Ino {
        let how = OpenHow {
            create: true,
            follow: true,
            write: true,
            ..OpenHow::default()
        };
        t.open_path(ROOT, p, how).unwrap()
    }

    #[test]
    fn hard_links_count_against_the_entry_cap() {
        // Names are host memory outside `max_memory`: without this, one
        // file could get any number of 255-byte names.
        let mut t = tree();
        create(&mut t, "f");
        let mut made = 1;
        while t.link(ROOT, "f", false, ROOT, &format!("l{made}")).is_ok() {
            made += 1;
            assert!(made <= 20, "more names than the cap of 20");
        }
        assert_eq!(made, 20);
        assert_eq!(
            t.link(ROOT, "f", false, ROOT, "one-more"),
            Err(ErrorCode::InsufficientSpace)
        );
        // A name removed makes room for another.
        t.unlink(ROOT, "l1").unwrap();
        t.link(ROOT, "f", false, ROOT, "again").unwrap();
    }

    #[test]
    fn links_into_a_host_mount_are_refused_not_left_dangling() {
        let mut t = tree();
        crate::vfs::lay_out(&mut t, &["/site-packages"]);
        assert_eq!(
            t.symlink(ROOT, "/site-packages/m/a.png", "tmp/a.png"),
            Err(ErrorCode::CrossDevice)
        );
        assert_eq!(
            t.symlink(ROOT, "/site-packages", "tmp/sp"),
            Err(ErrorCode::CrossDevice)
        );
        // A name that only starts like the mount is the tree's own.
        t.symlink(ROOT, "/site-packages-old/x", "tmp/b").unwrap();
        t.symlink(ROOT, "../site-packages/x", "tmp/rel").unwrap();
    }

    #[test]
    fn paths_and_links() {
        let mut t = tree();
        t.mkdir(ROOT, "a").unwrap();
        let f = create(&mut t, "a/f");
        t.write(f, 0, b"hi").unwrap();
        assert_eq!(t.resolve(ROOT, "a/../a/./f", true).unwrap(), f);
        assert_eq!(t.resolve(ROOT, "../../a/f", true).unwrap(), f);
        t.symlink(ROOT, "/etc/passwd", "a/host").unwrap();
        assert_eq!(t.resolve(ROOT, "a/host", true), Err(ErrorCode::NoEntry));
        t.symlink(ROOT, "/a/f", "abs").unwrap();
        assert_eq!(t.resolve(ROOT, "abs", true).unwrap(), f);
        // Found by the property tests: through a dangling link, a
        // trailing slash made a regular file (Linux: `EISDIR`).
        let how = OpenHow {
            create: true,
            follow: true,
            ..OpenHow::default()
        };
        t.symlink(ROOT, "new", "dangling").unwrap();
        assert_eq!(
            t.open_path(ROOT, "dangling/", how),
            Err(ErrorCode::IsDirectory)
        );
        assert_eq!(t.resolve(ROOT, "new", false), Err(ErrorCode::NoEntry));
        // A target ending in a slash names a directory (found by the
        // property tests: it resolved to the file).
        t.symlink(ROOT, "a/f/", "fslash").unwrap();
        assert_eq!(
            t.resolve(ROOT, "fslash", true),
            Err(ErrorCode::NotDirectory)
        );
        t.symlink(ROOT, "a/", "aslash").unwrap();
        assert_eq!(t.resolve(ROOT, "aslash/f", true).unwrap(), f);
        t.symlink(ROOT, "loop2", "loop1").unwrap();
        t.symlink(ROOT, "loop1", "loop2").unwrap();
        assert_eq!(t.resolve(ROOT, "loop1", true), Err(ErrorCode::Loop));
        assert_eq!(t.readlink(ROOT, "loop1").unwrap(), "loop2");
        assert_eq!(t.resolve(ROOT, "a/f/x", true), Err(ErrorCode::NotDirectory));
        assert_eq!(t.resolve(ROOT, "/a", true), Err(ErrorCode::NotPermitted));
    }

    #[test]
    fn caps() {
        let mut t = tree();
        let f = create(&mut t, "f");
        assert_eq!(t.write(f, 0, &[1; 1001]), Err(ErrorCode::InsufficientSpace));
        assert_eq!(t.write(f, 5000, b"x"), Err(ErrorCode::InsufficientSpace));
        assert_eq!(t.size(f).unwrap(), 0);
        // Room: what overwrites the file plus the free bytes, from `at` on.
        assert_eq!(t.room(f, None).unwrap(), 1000);
        assert_eq!(t.room(f, Some(400)).unwrap(), 600);
        assert_eq!(t.room(f, Some(5000)).unwrap(), 0);
        t.write(f, 0, &[1; 1000]).unwrap();
        assert_eq!(t.room(f, None).unwrap(), 0);
        assert_eq!(t.room(f, Some(300)).unwrap(), 700);
        assert_eq!(t.set_size(f, 1001), Err(ErrorCode::InsufficientSpace));
        t.set_size(f, 10).unwrap();
        assert_eq!(t.bytes(), 10);
        for i in 0..19 {
            create(&mut t, &format!("n{i}"));
        }
        assert_eq!(t.mkdir(ROOT, "more"), Err(ErrorCode::InsufficientSpace));
        t.unlink(ROOT, "n0").unwrap();
        t.mkdir(ROOT, "more").unwrap();
    }

    /// Found by the property tests (vfs/props/ops.rs): with bytes held,
    /// `held + (new - old)` wrapped for a length near 2^64 and the cap let
    /// the file grow until the host ran out of memory.
    #[test]
    fn lengths_near_2_64_are_refused() {
        let mut t = tree();
        let f = create(&mut t, "f");
        t.write(f, 0, b"0123456789").unwrap();
        let g = create(&mut t, "g");
        assert_eq!(
            t.set_size(g, u64::MAX - 2),
            Err(ErrorCode::InsufficientSpace)
        );
        assert_eq!(
            t.write(g, u64::MAX - 5, b"xyz"),
            Err(ErrorCode::InsufficientSpace)
        );
        assert_eq!(
            t.write(g, u64::MAX - 1, b"xyz"),
            Err(ErrorCode::FileTooLarge)
        );
        // Writing nothing past the end changes nothing (POSIX), as the
        // model found: it used to extend the file.
        assert_eq!(t.write(g, 500, b""), Ok(0));
        assert_eq!(t.size(g).unwrap(), 0);
        assert_eq!(t.bytes(), 10);
    }

    #[test]
    fn rename_and_unlink_open() {
        let mut t = tree();
        let a = create(&mut t, "a");
        let b = create(&mut t, "b");
        t.write(a, 0, b"A").unwrap();
        t.write(b, 0, b"BB").unwrap();
        t.open(b);
        t.rename(ROOT, "a", ROOT, "b").unwrap();
        assert_eq!(t.resolve(ROOT, "b", true).unwrap(), a);
        // b is gone from the tree but still open: still readable.
        assert_eq!(t.read(b, 0, 10).unwrap(), b"BB");
        assert_eq!(t.bytes(), 3);
        t.close(b);
        assert_eq!(t.bytes(), 1);
        t.mkdir(ROOT, "d").unwrap();
        t.mkdir(ROOT, "d/e").unwrap();
        assert_eq!(t.rename(ROOT, "d", ROOT, "d/e/x"), Err(ErrorCode::Invalid));
        assert_eq!(t.rmdir(ROOT, "d"), Err(ErrorCode::NotEmpty));
        assert_eq!(t.rename(ROOT, "b", ROOT, "d"), Err(ErrorCode::IsDirectory));
        t.rename(ROOT, "d/e", ROOT, "e").unwrap();
        assert_eq!(t.resolve(ROOT, "e/..", true).unwrap(), ROOT);
        t.rmdir(ROOT, "d").unwrap();
    }

    #[test]
    fn null_device_swallows_writes_outside_the_caps() {
        let mut t = tree();
        super::super::lay_out(&mut t, &[]);
        let how = OpenHow {
            follow: true,
            write: true,
            truncate: true,
            ..OpenHow::default()
        };
        let null = t.open_path(ROOT, "dev/null", how).unwrap();
        assert!(matches!(t.node(null).unwrap().kind, Kind::Null));
        // More than the byte cap, and nothing of it stays.
        assert_eq!(t.write(null, 0, &[7; 5000]).unwrap(), 5000);
        assert_eq!(t.size(null).unwrap(), 0);
        assert!(t.read(null, 0, 100).unwrap().is_empty());
        assert_eq!(t.bytes(), 0);
        assert!(t.open_path(ROOT, "dev/null/x", how).is_err());
        // Removed by the guest, it comes back with the layout.
        t.unlink(ROOT, "dev/null").unwrap();
        super::super::lay_out(&mut t, &[]);
        let again = t.resolve(ROOT, "dev/null", true).unwrap();
        assert!(matches!(t.node(again).unwrap().kind, Kind::Null));
    }
}
