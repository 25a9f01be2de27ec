//! The host's files API on the virtual tree (`Sandbox::write_file` and
//! friends, see `files.rs` at the crate root): path checks and whole-file
//! operations. Paths are guest paths; they are normalised here, never
//! leave the tree (`..` is refused, symlinks resolve inside the tree and a
//! symlink as the last component is refused), never reach a host mount
//! (stdlib, packages, `mount`s: refused, read or write), and every write
//! goes through the same caps as the guest's writes (`ENOSPC`).
use super::ops::OpenHow;
use super::tree::{Ino, Kind, Tree, NAME_MAX, PATH_MAX, ROOT};
use super::{HOME, TMP};
use crate::files::{FileEntry, FileError, FileErrorKind as K, FileKind};
use wasmtime_wasi::p2::bindings::filesystem::types::ErrorCode;

/// A normalised absolute guest path: `/` alone or `/a/b` (no `.`, `..`,
/// empty components or trailing slash). Relative paths are taken from the
/// home directory (the guest's working directory).
pub fn normalise(path: &str) -> Result<String, FileError> {
    let bad = |why: &str| FileError::new(K::InvalidPath, path, why);
    if path.is_empty() {
        return Err(bad("empty path"));
    }
    if path.contains('\0') {
        return Err(bad("the path contains a NUL byte"));
    }
    let full = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("{HOME}/{path}")
    };
    let mut out = String::new();
    for c in full.split('/').filter(|c| !c.is_empty() && *c != ".") {
        if c == ".." {
            return Err(bad("`..` is not allowed in a path"));
        }
        if c.len() > NAME_MAX {
            return Err(bad("a path component is longer than 255 bytes"));
        }
        out.push('/');
        out.push_str(c);
    }
    if out.len() > PATH_MAX {
        return Err(bad("the path is longer than 4096 bytes"));
    }
    if out.is_empty() {
        out.push('/');
    }
    Ok(out)
}

/// Whether normalised `path` is `dir` or lies below it.
fn under(path: &str, dir: &str) -> bool {
    path == dir || (path.starts_with(dir) && path.as_bytes().get(dir.len()) == Some(&b'/'))
}

/// A view of one tree for the files API: the tree and the guest paths of
/// the host mounts (which the API never reaches).
pub struct Files<'a> {
    pub tree: &'a mut Tree,
    pub mounts: &'a [&'a str],
}

impl Files<'_> {
    /// Normalise `path` and refuse it when it is (under) a host mount.
    fn check(&self, path: &str) -> Result<String, FileError> {
        let p = normalise(path)?;
        if let Some(m) = self.mounts.iter().find(|m| under(&p, m)) {
            return Err(FileError::new(
                K::ReadOnly,
                path,
                &format!(
                    "is under the host mount {m}: the files API only reaches the \
                     sandbox's own filesystem (mounts are never written through it)"
                ),
            ));
        }
        Ok(p)
    }

    /// Refuse a directory `dir` that a symlink led into a mount's place
    /// holder in the tree.
    fn outside_mounts(&self, path: &str, dir: Ino) -> Result<(), FileError> {
        for m in self.mounts {
            let holder = self.tree.resolve(ROOT, &m[1..], false);
            if holder.is_ok_and(|h| self.tree.is_within(dir, h)) {
                return Err(FileError::new(
                    K::ReadOnly,
                    path,
                    &format!("leads under the host mount {m}"),
                ));
            }
        }
        Ok(())
    }

    /// The directory holding normalised `p` and the last name. With
    /// `create`, missing directories below `/tmp` or the home directory
    /// are made (elsewhere the directory must exist).
    fn parent(&mut self, path: &str, p: &str, create: bool) -> Result<(Ino, String), FileError> {
        let (dir, name) = p.rsplit_once('/').unwrap_or(("", p));
        if name.is_empty() {
            return Err(FileError::new(K::InvalidPath, path, "names no file"));
        }
        let scratch = under(dir, TMP) || under(dir, HOME);
        let ino = match self.tree.resolve(ROOT, dir.trim_start_matches('/'), true) {
            Err(ErrorCode::NoEntry) if create && scratch => self.tree.ensure_dir(dir),
            r => r,
        };
        let ino = ino.map_err(|e| match e {
            ErrorCode::NoEntry => FileError::new(
                K::NotFound,
                path,
                &format!("the directory {dir} does not exist in the sandbox"),
            ),
            e => from_code(path, e),
        })?;
        if !self.tree.node(ino).is_ok_and(|n| n.is_dir()) {
            return Err(FileError::new(
                K::NotDirectory,
                path,
                "its parent is not a directory",
            ));
        }
        self.outside_mounts(path, ino)?;
        Ok((ino, name.to_string()))
    }

    /// The entry `name` of `dir`, refusing symlinks (the API never follows
    /// a link in the last component).
    fn entry(&self, path: &str, dir: Ino, name: &str) -> Result<Option<Ino>, FileError> {
        let found = self
            .tree
            .lookup(dir, name)
            .map_err(|e| from_code(path, e))?;
        if let Some(ino) = found {
            if matches!(self.tree.node(ino).map(|n| &n.kind), Ok(Kind::Symlink(_))) {
                return Err(FileError::new(
                    K::InvalidPath,
                    path,
                    "is a symbolic link (the files API does not follow links)",
                ));
            }
        }
        Ok(found)
    }

    /// Create or replace the file at `path` with `bytes` (all or nothing
    /// against the byte cap).
    pub fn write(&mut self, path: &str, bytes: &[u8]) -> Result<(), FileError> {
        let p = self.check(path)?;
        let (dir, name) = self.parent(path, &p, true)?;
        let free = self.tree.limits.max_bytes.saturating_sub(self.tree.bytes());
        let len = bytes.len() as u64;
        let max = self.tree.limits.max_bytes;
        let no_space = || {
            FileError::new(
                K::NoSpace,
                path,
                &format!("{len} bytes do not fit: the sandbox's files may hold {max} bytes in all"),
            )
        };
        let ino = match self.entry(path, dir, &name)? {
            Some(ino) => {
                let node = self.tree.node(ino).map_err(|e| from_code(path, e))?;
                if node.is_dir() {
                    return Err(FileError::new(K::IsDirectory, path, "is a directory"));
                }
                if len > node.bytes() + free {
                    return Err(no_space());
                }
                ino
            }
            None if len > free => return Err(no_space()),
            None => {
                let how = OpenHow {
                    create: true,
                    write: true,
                    ..OpenHow::default()
                };
                self.tree
                    .open_path(dir, &name, how)
                    .map_err(|e| from_code(path, e))?
            }
        };
        let w = self
            .tree
            .set_size(ino, 0)
            .and_then(|_| self.tree.write(ino, 0, bytes));
        w.map(|_| ()).map_err(|e| from_code(path, e))
    }

    /// The whole content of the file at `path`.
    pub fn read(&mut self, path: &str) -> Result<Vec<u8>, FileError> {
        let p = self.check(path)?;
        let (dir, name) = self.parent(path, &p, false)?;
        let ino = self
            .entry(path, dir, &name)?
            .ok_or_else(|| not_found(path))?;
        let size = self.tree.size(ino).map_err(|e| from_code(path, e))?;
        self.tree
            .read(ino, 0, size as usize)
            .map_err(|e| from_code(path, e))
    }

    /// The entries of directory `path`, in name order.
    pub fn list(&mut self, path: &str) -> Result<Vec<FileEntry>, FileError> {
        let p = self.check(path)?;
        let ino = self
            .tree
            .resolve(ROOT, p.trim_start_matches('/'), true)
            .map_err(|e| from_code(path, e))?;
        self.outside_mounts(path, ino)?;
        let entries = self.tree.list(ino).map_err(|e| from_code(path, e))?;
        let base = if p == "/" { "" } else { p.as_str() };
        Ok(entries
            .into_iter()
            .filter_map(|(name, i)| {
                let node = self.tree.node(i).ok()?;
                let kind = match node.kind {
                    Kind::File(_) => FileKind::File,
                    Kind::Dir(_) => FileKind::Directory,
                    Kind::Symlink(_) => FileKind::Symlink,
                    // A device is not one of the sandbox's files.
                    Kind::Null => return None,
                };
                Some(FileEntry {
                    path: format!("{base}/{name}"),
                    name,
                    kind,
                    size: node.bytes(),
                })
            })
            .collect())
    }

    /// Every regular file below directory `path` (depth first, in name
    /// order; symlinks are not followed).
    pub fn walk(&mut self, path: &str) -> Result<Vec<FileEntry>, FileError> {
        let mut out = Vec::new();
        let mut todo = vec![path.to_string()];
        while let Some(dir) = todo.pop() {
            let entries = self.list(&dir)?;
            for e in entries.into_iter().rev() {
                match e.kind {
                    FileKind::Directory if !self.mounts.iter().any(|m| under(&e.path, m)) => {
                        todo.push(e.path)
                    }
                    FileKind::File => out.push(e),
                    _ => {}
                }
            }
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    /// Remove the file, symlink or empty directory at `path` (`/tmp` and
    /// the home directory stay).
    pub fn remove(&mut self, path: &str) -> Result<(), FileError> {
        let p = self.check(path)?;
        if p == "/" || p == TMP || p == HOME || p == "/home" {
            return Err(FileError::new(
                K::InvalidPath,
                path,
                "is part of the sandbox's layout and cannot be removed",
            ));
        }
        let (dir, name) = self.parent(path, &p, false)?;
        let found = self
            .tree
            .lookup(dir, &name)
            .map_err(|e| from_code(path, e))?;
        let ino = found.ok_or_else(|| not_found(path))?;
        let is_dir = self.tree.node(ino).is_ok_and(|n| n.is_dir());
        if is_dir {
            // A mount's place holder, reached through a symlink.
            self.outside_mounts(path, ino)?;
        }
        let r = if is_dir {
            self.tree.rmdir(dir, &name)
        } else {
            self.tree.unlink(dir, &name)
        };
        r.map_err(|e| from_code(path, e))
    }
}

fn not_found(path: &str) -> FileError {
    FileError::new(K::NotFound, path, "no such file in the sandbox")
}

/// The files API's error for a tree error code.
fn from_code(path: &str, e: ErrorCode) -> FileError {
    let (kind, why) = match e {
        ErrorCode::NoEntry => (K::NotFound, "no such file or directory in the sandbox"),
        ErrorCode::InsufficientSpace => (
            K::NoSpace,
            "the sandbox's files are at their cap (bytes or entries)",
        ),
        ErrorCode::IsDirectory => (K::IsDirectory, "is a directory"),
        ErrorCode::NotDirectory => (K::NotDirectory, "is not a directory"),
        ErrorCode::NotEmpty => (K::InvalidPath, "the directory is not empty"),
        ErrorCode::Exist => (K::NotDirectory, "a file is in the way of a directory"),
        ErrorCode::Loop => (K::InvalidPath, "too many levels of symbolic links"),
        ErrorCode::NameTooLong => (K::InvalidPath, "the path is too long"),
        _ => (K::InvalidPath, "cannot be used"),
    };
    FileError::new(kind, path, why)
}

#[cfg(test)]
mod tests {
    use super::super::tree::Limits;
    use super::*;

    #[test]
    fn paths_are_normalised() {
        assert_eq!(normalise("a/./b//c").unwrap(), "/home/user/a/b/c");
        assert_eq!(normalise("/tmp/x/").unwrap(), "/tmp/x");
        assert_eq!(normalise("/").unwrap(), "/");
        for bad in ["", "../etc/passwd", "/tmp/../etc", "a\0b"] {
            assert_eq!(normalise(bad).unwrap_err().kind, K::InvalidPath, "{bad:?}");
        }
        assert!(under("/mnt/data/x", "/mnt/data"));
        assert!(!under("/mnt/database", "/mnt/data"));
    }

    #[test]
    fn writes_are_capped_and_stay_in_the_tree() {
        let mut tree = Tree::new(Limits {
            max_bytes: 100,
            max_entries: 10,
        });
        super::super::lay_out(&mut tree, &["/mnt/data"]);
        let mut f = Files {
            tree: &mut tree,
            mounts: &["/mnt/data"],
        };
        f.write("in/a.csv", b"x,y\n").unwrap();
        assert_eq!(f.read("/home/user/in/a.csv").unwrap(), b"x,y\n");
        assert_eq!(f.write("/tmp/big", &[0; 101]).unwrap_err().kind, K::NoSpace);
        f.write("/tmp/a", &[1; 96]).unwrap();
        // Replacing counts the old bytes as free.
        f.write("/tmp/a", &[2; 96]).unwrap();
        assert_eq!(f.write("/mnt/data/x", b"").unwrap_err().kind, K::ReadOnly);
        assert_eq!(f.read("/mnt/data").unwrap_err().kind, K::ReadOnly);
        assert_eq!(f.write("/etc/passwd", b"").unwrap_err().kind, K::NotFound);
        // The guest cannot make this link (EXDEV, Tree::symlink), but a
        // restored snapshot may hold one.
        let mounts = std::mem::take(&mut f.tree.mounts);
        f.tree.symlink(ROOT, "/mnt/data", "tmp/m").unwrap();
        f.tree.mounts = mounts;
        assert_eq!(f.write("/tmp/m/x", b"").unwrap_err().kind, K::ReadOnly);
        // Nor is the place holder removed through a link to its parent
        // (found by the property tests: `remove` checked only the parent).
        let mounts = std::mem::take(&mut f.tree.mounts);
        f.tree.symlink(ROOT, "/mnt", "tmp/up").unwrap();
        f.tree.mounts = mounts;
        assert_eq!(f.remove("/tmp/up/data").unwrap_err().kind, K::ReadOnly);
        assert!(f.tree.resolve(ROOT, "mnt/data", false).is_ok());
        f.remove("/tmp/up").unwrap();
        assert_eq!(f.read("/tmp/m").unwrap_err().kind, K::InvalidPath);
        let names: Vec<_> = f.walk("/").unwrap().into_iter().map(|e| e.path).collect();
        assert_eq!(names, ["/home/user/in/a.csv", "/tmp/a"]);
        f.remove("/tmp/a").unwrap();
        assert_eq!(f.read("/tmp/a").unwrap_err().kind, K::NotFound);
        assert_eq!(f.remove("/tmp").unwrap_err().kind, K::InvalidPath);
    }
}
