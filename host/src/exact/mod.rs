//! Exact sessions: [`Sandbox::fork`] and [`Sandbox::snapshot_exact`] copy
//! a sandbox's whole guest state instead of pickling its namespace, so
//! every Python object survives (closures, half-consumed generators,
//! C-extension objects, open files of the virtual tree, sqlite3
//! connections in the middle of a transaction).
//!
//! Design (why this and not the alternatives in issue 29):
//! - **Memory.** wasmtime's public API gives no access to a component's
//!   core memories, and wasmtime-wizer's instrumentation only offers
//!   getters. Sandboxes built with `exact(true)` use an engine flavor
//!   ([`crate::engine::Flavor::Exact`]) whose memories the host creates
//!   (`memory.rs`): between calls the host reads and writes the bytes.
//!   wasmtime would copy the image's data into each such memory, so the
//!   exact component is built without it and each memory maps the image
//!   copy-on-write instead (`image.rs`); the kernel's page map then tells
//!   which pages a sandbox wrote, and a fork or a snapshot copies only
//!   those. The linked modules share one memory; a component linked with
//!   some native extensions (numpy's) has a small extra one, copied whole.
//! - **Globals and tables.** Not copied: at a call boundary the mutable
//!   globals of this image (the stack pointers, the adapter's state
//!   pointer and allocation state, GOT entries, the TLS base) hold the
//!   values the pre-initialised image gave them, and the function table
//!   never changes after start-up (no `dlopen` at run time). The tests
//!   check the consequence (a copied session runs on unchanged).
//! - **Handles.** The guest's WASI handles index the *store's* handle
//!   table, which cannot be copied. The copy therefore makes libc and the
//!   preview1 adapter forget them without dropping them (the runtime's
//!   `exact-forget` export), and `guest/_eryx_exact.py` re-opens the open
//!   regular files of the virtual tree by path at their old descriptor
//!   numbers and offsets (recorded in the source just before the copy).
//!   Each copy gets its own copy of the virtual tree. Network connections
//!   are host-side and not copied: in the copy they fail as closed.
//!
//! An exact snapshot holds the pages that differ from the image, the
//! virtual tree, and the image's identity; see `format.rs`.
pub(crate) mod format;
pub(crate) mod image;
pub(crate) mod memory;
pub(crate) mod region;

use crate::builder::Settings;
use crate::engine::{self, Flavor};
use crate::error::{trap, Error};
use crate::instance::{self, instantiate, Anchors, Live};
use crate::sandbox::Sandbox;
use crate::stack;
use crate::vfs::{self, snapshot as files};
use memory::Mapping;
use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex};

/// Python run in the source just before its memory is copied.
const RECORD: &str = "print(__import__('_eryx_exact').record(), end='')";
/// Python run in the copy once libc has forgotten the source's handles.
const REATTACH: &str = "__import__('_eryx_exact').reattach()";

/// One internal `execute` on `live` ([`Live::internal`], no deadline);
/// what it printed.
async fn run_python(live: &mut Live, code: &str) -> Result<String, Error> {
    let code_arg = code.to_string();
    let r = live
        .internal(None, |f, store| {
            Box::pin(f.execute.call_async(store, (code_arg,)))
        })
        .await;
    match r {
        Ok((Ok(out),)) => Ok(out),
        Ok((Err(tb),)) => Err(Error::State(format!("exact: {code} failed: {tb}"))),
        Err(f) => Err(f.into_trap()),
    }
}

/// Make the fresh instance `child` hold the state of another instance:
/// grow its memory to `len` bytes, drop what its instantiation wrote (it
/// then reads as the image, and past the image as `base`: the source's
/// frozen memory file, when forking), let `fill` write the pages that
/// differ, then have libc forget the other store's handles and re-open
/// the recorded files (when `reattach`: the source recorded some).
async fn adopt(
    child: &mut Live,
    len: usize,
    base: Option<Arc<OwnedFd>>,
    fill: impl FnOnce(&Mapping),
    extra: &[&[u8]],
    reattach: bool,
) -> Result<(), Error> {
    // The extra memories (see instance.rs) are copied whole; they must
    // have the sizes the image gives them (no export grows them).
    if extra.len() != child.extra_memories.len()
        || extra
            .iter()
            .zip(&child.extra_memories)
            .any(|(src, m)| src.len() != m.len())
    {
        return Err(Error::State(
            "exact: the instance's extra memories do not match the state's".into(),
        ));
    }
    let mem = child
        .memory
        .clone()
        .ok_or_else(|| Error::Setup("exact: the instance has no host memory".into()))?;
    let pages =
        u32::try_from(len / 65536).map_err(|_| Error::State("exact: memory too large".into()))?;
    let stacks = child.store.data().stacks.clone();
    let call = child.f.exact_grow.call_async(&mut child.store, (pages,));
    let (got,) = stack::owned(&stacks, call).await.map_err(trap)?;
    if (got as usize) * 65536 < len || mem.len() < len {
        return Err(Error::MemoryLimit(format!(
            "exact: the copy's memory could not grow to {len} bytes"
        )));
    }
    // SAFETY: between calls of `child`'s store, which we hold mutably; no
    // slice of its memory outlives this block.
    unsafe {
        mem.reset(base).map_err(Error::Setup)?;
        fill(&mem);
        for (src, m) in extra.iter().zip(&child.extra_memories) {
            m.bytes_mut().copy_from_slice(src);
        }
    }
    let call = child.f.exact_forget.call_async(&mut child.store, ());
    let (r,) = stack::owned(&stacks, call).await.map_err(trap)?;
    r.map_err(Error::State)?;
    if reattach {
        run_python(child, REATTACH).await?;
    }
    Ok(())
}

/// Copy `range` of `src` into `dst` (its pages faulted in at once when
/// the range is long).
///
/// # Safety
/// Between calls of both stores; no other slice of `dst` is alive.
unsafe fn copy_range(dst: &Mapping, src: &[u8], range: std::ops::Range<usize>) {
    if range.len() >= 16 * format::PAGE {
        dst.populate(range.clone());
    }
    // SAFETY: the caller's promise.
    unsafe { dst.bytes_mut()[range.clone()].copy_from_slice(&src[range]) };
}

/// The identity of the image exact sandboxes with `settings` run.
fn image_key(settings: &Settings) -> String {
    let content = crate::preinit::content_key(&settings.packages, &settings.preimports);
    engine::cache_key(Flavor::Exact, &content)
}

impl Sandbox {
    /// Whether `snapshot` says it is an exact snapshot (from
    /// [`Sandbox::snapshot_exact`]) rather than a pickled one: its header
    /// only, nothing is checked (that is [`Sandbox::restore`]'s job).
    pub fn is_exact_snapshot(snapshot: &[u8]) -> bool {
        format::is_exact(snapshot)
    }

    fn exact_only(&self, what: &str) -> Result<(), Error> {
        if self.settings.flavor() == Flavor::Exact {
            Ok(())
        } else {
            Err(Error::Setup(format!(
                "{what} needs a sandbox built with exact(true)"
            )))
        }
    }

    /// Record the open files in the live instance (see `_eryx_exact.py`)
    /// and return its memory, and whether any file was recorded. A trap
    /// here leaves the instance to be re-created from the last good state.
    async fn record(&mut self) -> Result<(Arc<Mapping>, bool), Error> {
        let live = self.live().await?;
        let recorded = match run_python(live, RECORD).await {
            Ok(n) => n.trim() != "0",
            Err(e) => {
                if matches!(e, Error::Trap(_)) {
                    self.live = None;
                }
                return Err(e);
            }
        };
        let live = self.live.as_ref().expect("live instance");
        let memory = live
            .memory
            .clone()
            .ok_or_else(|| Error::Setup("exact: the instance has no host memory".into()))?;
        Ok((memory, recorded))
    }

    /// A new, independent sandbox whose guest state is this one's, as
    /// after the last call: every Python object, the virtual tree (a copy),
    /// the open files of the tree (own descriptors at the same numbers and
    /// offsets). Settings, limits and policy are inherited; network
    /// connections are not carried (they fail as closed in the fork). The
    /// two then diverge. Needs [`crate::SandboxBuilder::exact`].
    pub async fn fork(&mut self) -> Result<Sandbox, Error> {
        self.exact_only("fork")?;
        let (src, recorded) = self.record().await?;
        let tree = vfs::lock(&self.anchors.vfs).checkpoint();
        let mut anchors = Anchors::new(&self.settings);
        anchors.vfs = Arc::new(Mutex::new(tree));
        let mut child = instantiate(&self.settings, &anchors).await?;
        let len = src.len();
        let extra = self.extra_bytes();
        // What differs from the image; all of it if the two memories do
        // not start from one image (they always do: same settings).
        let same_image = match (src.image(), child.memory.as_ref().and_then(|m| m.image())) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        };
        // The source's memory file becomes the base both map (nothing
        // past the image is copied); what is copied is what the source
        // holds privately.
        let (base, runs) = if same_image {
            // SAFETY: between calls of the source's store (held through
            // `&mut self`); no slice of its memory is alive.
            let base = unsafe { src.freeze() }.map_err(Error::Setup)?;
            (base, src.written())
        } else {
            (None, std::iter::once(0..len).collect())
        };
        adopt(
            &mut child,
            len,
            base,
            |dst| {
                // SAFETY: between calls of both stores (we hold both).
                let from = unsafe { src.bytes() };
                for r in runs {
                    unsafe { copy_range(dst, from, r) };
                }
            },
            &extra,
            recorded,
        )
        .await?;
        let last_good_files = self.settings.keep_state.then(|| {
            let t = vfs::lock(&anchors.vfs);
            (t.checkpoint(), t.generation())
        });
        Ok(Sandbox {
            settings: self.settings.clone(),
            live: Some(child),
            last_good: self.last_good.clone(),
            last_good_files,
            left_out: self.left_out.clone(),
            anchors,
        })
    }

    /// The bytes of the live instance's extra memories (native
    /// extensions' own small ones).
    fn extra_bytes(&self) -> Vec<&[u8]> {
        let live = self.live.as_ref().expect("live instance");
        // SAFETY: the store is held through the `&self` borrow (callers
        // hold `&mut self`), so it runs nothing while the slices live.
        live.extra_memories
            .iter()
            .map(|m| unsafe { m.bytes() })
            .collect()
    }

    /// Serialise the whole guest state: the pages of linear memory that
    /// differ from the image's, the virtual tree and the image's identity
    /// (compressed; format in `exact/format.rs`). [`Sandbox::restore`]
    /// takes it back in a sandbox of the same image and build only (in
    /// this or another process); the pickled [`Sandbox::snapshot`] is the
    /// portable, inspectable one. Needs [`crate::SandboxBuilder::exact`].
    pub async fn snapshot_exact(&mut self) -> Result<Vec<u8>, Error> {
        self.exact_only("snapshot_exact")?;
        let (src, _) = self.record().await?;
        let image = src
            .image()
            .ok_or_else(|| Error::Setup("exact: the instance's memory has no image".into()))?;
        let tree = files::pack(&[], &vfs::lock(&self.anchors.vfs));
        // SAFETY: between calls; `&mut self` keeps the store idle.
        let memory = unsafe { src.bytes() };
        let pages = format::diff(memory, image.bytes(), &src.changed());
        let extra = self.extra_bytes();
        Ok(format::encode(
            &image_key(&self.settings),
            memory.len(),
            &pages,
            &tree,
            &extra,
        ))
    }

    /// Restore an exact snapshot (see [`Sandbox::restore`]): checked
    /// completely before anything changes; on any error the session is
    /// left as it was.
    pub(crate) async fn restore_exact(&mut self, snapshot: &[u8]) -> Result<(), Error> {
        let refuse = |e: String| Error::State(format!("restore-state failed: exact snapshot {e}"));
        self.exact_only("restoring an exact snapshot")?;
        let max = self.settings.max_memory.unwrap_or(4 << 30);
        let d = format::decode(snapshot, &image_key(&self.settings), max).map_err(refuse)?;
        let empty = vfs::lock(&self.anchors.vfs).numbered_after(self.settings.vfs_limits);
        let (_, tree) =
            files::unpack(&d.files, empty).map_err(|e| refuse(format!("files: {e}")))?;
        let mut tree = tree.ok_or_else(|| refuse("has no files section".into()))?;
        instance::lay_out(&self.settings, &mut tree);
        let mut anchors = self.anchors.clone();
        anchors.vfs = Arc::new(Mutex::new(tree));
        let mut child = instantiate(&self.settings, &anchors).await?;
        let image_min = child
            .memory
            .as_ref()
            .and_then(|m| m.image())
            .map(|i| i.memory_min)
            .ok_or_else(|| Error::Setup("exact: the instance's memory has no image".into()))?;
        if d.memory_len < image_min {
            return Err(refuse("is smaller than the image's memory".into()));
        }
        let extra: Vec<&[u8]> = d.extra.iter().map(Vec::as_slice).collect();
        adopt(
            &mut child,
            d.memory_len,
            None,
            |dst| {
                for (i, page) in d.pages() {
                    let at = i as usize * format::PAGE;
                    // SAFETY: between calls of the new store (we hold
                    // it); the decoder checked the page lies in memory.
                    unsafe { dst.bytes_mut()[at..at + format::PAGE].copy_from_slice(page) };
                }
            },
            &extra,
            true,
        )
        .await?;
        self.live = Some(child);
        self.anchors = anchors;
        self.last_good = None;
        self.last_good_files = None;
        // The pickled state a later fault falls back to.
        self.checkpoint().await?;
        if self.last_good_files.is_none() && self.settings.keep_state {
            let t = vfs::lock(&self.anchors.vfs);
            self.last_good_files = Some((t.checkpoint(), t.generation()));
        }
        Ok(())
    }
}
