//! The files API: put files into a sandbox and take them out without a
//! host mount (`Sandbox::write_file`, `read_file`, `list_files`,
//! `walk_files`, `remove_file`), and its error type. The files live in the
//! sandbox's virtual filesystem (see `vfs/files.rs` for the path rules), so
//! they are in snapshots and move with a session like the guest's own.
//! The types serialise (serde), so a host that runs sandboxes in other
//! processes can carry them across.
use crate::sandbox::Sandbox;
use std::fmt;

/// Why a files API call was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum FileErrorKind {
    /// The path is malformed, contains `..`, is a symlink, or names
    /// something that cannot be used that way.
    InvalidPath,
    /// Nothing is at the path (or its directory does not exist).
    NotFound,
    /// The path is under a host mount (stdlib, packages, a `mount`): the
    /// files API never reads or writes host directories.
    ReadOnly,
    /// The file would take the sandbox's files past their byte or entry
    /// cap (the guest's writes get `ENOSPC` at the same point).
    NoSpace,
    /// The path is a directory where a file was expected.
    IsDirectory,
    /// A component of the path is not a directory.
    NotDirectory,
}

impl FileErrorKind {
    /// A stable name: `invalid_path`, `not_found`, `read_only`,
    /// `no_space`, `is_directory`, `not_directory`.
    pub fn as_str(&self) -> &'static str {
        match self {
            FileErrorKind::InvalidPath => "invalid_path",
            FileErrorKind::NotFound => "not_found",
            FileErrorKind::ReadOnly => "read_only",
            FileErrorKind::NoSpace => "no_space",
            FileErrorKind::IsDirectory => "is_directory",
            FileErrorKind::NotDirectory => "not_directory",
        }
    }
}

/// A refused files API call: what kind, the path as given, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FileError {
    /// What went wrong.
    pub kind: FileErrorKind,
    /// The path as the caller gave it.
    pub path: String,
    /// Why, for people.
    pub reason: String,
}

impl FileError {
    pub(crate) fn new(kind: FileErrorKind, path: &str, reason: &str) -> FileError {
        FileError {
            kind,
            path: path.to_string(),
            reason: reason.to_string(),
        }
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.path, self.reason)
    }
}

impl std::error::Error for FileError {}

/// What a directory entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum FileKind {
    /// A regular file.
    File,
    /// A directory.
    Directory,
    /// A symbolic link (never followed by the files API).
    Symlink,
}

impl FileKind {
    /// `file`, `directory` or `symlink`.
    pub fn as_str(&self) -> &'static str {
        match self {
            FileKind::File => "file",
            FileKind::Directory => "directory",
            FileKind::Symlink => "symlink",
        }
    }
}

/// One entry of [`Sandbox::list_files`] / [`Sandbox::walk_files`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FileEntry {
    /// The entry's name in its directory.
    pub name: String,
    /// Its normalised absolute guest path.
    pub path: String,
    /// File, directory or symlink.
    pub kind: FileKind,
    /// Bytes (files; 0 otherwise).
    pub size: u64,
}

impl Sandbox {
    /// Create or replace the file at guest `path` with `bytes`. Relative
    /// paths are from the home directory (the guest's working directory);
    /// missing directories are made below `/tmp` and the home directory
    /// only. Refused (and nothing changed): `..`, a path under a host
    /// mount, a symlink, and a file past the sandbox's file caps.
    pub fn write_file(&mut self, path: &str, bytes: &[u8]) -> Result<(), FileError> {
        self.with_files(|f| f.write(path, bytes))
    }

    /// The whole content of the file at guest `path` (see
    /// [`Sandbox::write_file`] for the path rules).
    pub fn read_file(&mut self, path: &str) -> Result<Vec<u8>, FileError> {
        self.with_files(|f| f.read(path))
    }

    /// The entries of guest directory `dir`, in name order.
    pub fn list_files(&mut self, dir: &str) -> Result<Vec<FileEntry>, FileError> {
        self.with_files(|f| f.list(dir))
    }

    /// Every regular file below guest directory `dir`, at any depth, by
    /// path (symlinks and host mounts are not entered).
    pub fn walk_files(&mut self, dir: &str) -> Result<Vec<FileEntry>, FileError> {
        self.with_files(|f| f.walk(dir))
    }

    /// Remove the file, symlink or empty directory at guest `path`.
    pub fn remove_file(&mut self, path: &str) -> Result<(), FileError> {
        self.with_files(|f| f.remove(path))
    }
}
