//! Scratch files: a per-sandbox virtual filesystem in host memory, served
//! to the guest through `wasi:filesystem` next to wasmtime-wasi's host
//! directory preopens (stdlib, packages, mounts).
//!
//! - `data`: file contents (copy-on-write chunks);
//! - `tree`: nodes, path resolution, caps;
//! - `ops`: POSIX-like operations on the tree;
//! - `links`: which symlink targets a guest may write in a host mount;
//! - `routing`: the `wasi:filesystem/{types,preopens}` host traits, routing
//!   each descriptor to the tree or to wasmtime-wasi;
//! - `streams`: `wasi:io` streams over virtual files;
//! - `snapshot`: the tree inside a sandbox snapshot;
//! - `files`: the host's files API on the tree (`Sandbox::write_file`, ...);
//! - `props` (tests only): property tests of the snapshot decoder and of
//!   the operations against a model of a POSIX tree.
//!
//! The tree is mounted at `/` in the guest: whatever is not under a host
//! preopen is the tree. It starts with `/tmp`, the home directory
//! ([`HOME`], also the working directory) and empty directories where the
//! host preopens are, so `os.listdir('/')` shows the whole layout.
//! The tree belongs to the sandbox, not to an instance: it outlives
//! faults and is checkpointed after every good call (see sandbox.rs).
mod data;
pub(crate) mod files;
mod links;
mod ops;
#[cfg(test)]
mod props;
mod routing;
pub mod snapshot;
mod streams;
mod tree;

pub use tree::{Limits, Tree};

use std::sync::{Arc, Mutex, MutexGuard};
use wasmtime::component::Linker;

/// The guest's home and working directory.
pub const HOME: &str = "/home/user";
/// The guest's temporary directory (`TMPDIR`).
pub const TMP: &str = "/tmp";

/// Devices' directory and the null device in it (`os.devnull`).
const DEV: &str = "/dev";
const DEV_NULL: &str = "/dev/null";

/// A sandbox's virtual tree, shared by its instance (the guest's calls)
/// and the sandbox (snapshots, checkpoints).
pub type Vfs = Arc<Mutex<Tree>>;

/// Lock a tree (a panic while it was held leaves it usable).
pub fn lock(vfs: &Vfs) -> MutexGuard<'_, Tree> {
    vfs.lock().unwrap_or_else(|p| p.into_inner())
}

/// Give `tree` the standard layout: `/tmp`, [`HOME`], `/dev/null` and a directory at
/// each of `mount_points` (the host preopens' guest paths). Runs on a new
/// tree and after a restore; existing entries are kept. The layout does not
/// count against the caps.
pub fn lay_out(tree: &mut Tree, mount_points: &[&str]) {
    let limits = tree.limits;
    tree.limits.max_entries = u64::MAX;
    tree.mounts = mount_points.iter().map(|m| m.to_string()).collect();
    for path in [TMP, HOME].iter().chain(mount_points) {
        // A name the guest took for a file stays a file.
        let _ = tree.ensure_dir(path);
    }
    // The devices do not count against the entry cap.
    if let Ok(dev) = tree.ensure_dir(DEV) {
        tree.uncount(dev);
        if let Ok(null) = tree.ensure_null(DEV_NULL) {
            if matches!(tree.node(null).map(|n| &n.kind), Ok(tree::Kind::Null)) {
                tree.uncount(null);
            }
        }
    }
    tree.limits = limits;
}

/// Replace the default `wasi:filesystem/types` and `preopens` of a linker
/// that already has wasmtime-wasi's p2 interfaces with the routing ones.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> routing::Fs<'_>,
) -> wasmtime::Result<()> {
    use wasmtime_wasi::p2::bindings::filesystem::{preopens, types};
    linker.allow_shadowing(true);
    types::add_to_linker::<T, routing::VfsFs>(linker, view)?;
    preopens::add_to_linker::<T, routing::VfsFs>(linker, view)?;
    linker.allow_shadowing(false);
    Ok(())
}

pub use routing::Fs;
