//! The directory backend (`--session-store dir:PATH`): one server whose
//! sessions survive a restart. Each session is one file (format in
//! `file.rs`), `PATH/<tenant dir>/<id>.session`, rewritten atomically
//! after every successful request; an index in memory (built by scanning
//! the directory at start) holds each session's metadata, its lease and
//! whether a write is in flight, so only loading a snapshot reads a file.
//!
//! Names: ids are checked to be 32 hex digits before they reach this
//! module (and again here); a tenant's directory is its name reduced to
//! `[A-Za-z0-9_-]` (at most 32 characters) plus a hash of the whole name,
//! so no name can reach outside `PATH`. The tenant name is also kept in
//! each file and checked on every lookup.
//!
//! One server per directory: a lock on `PATH/.lock` (held while the
//! process lives) refuses a second one at start.
use super::backend::{now_ms, Acquired, Backend, Entry, Saved, Write};
use super::cached::valid_id;
use super::file::{self, Meta, ReadError};
use super::Fut;
use crate::api::ApiError;
use crate::sessions::Settings;
use std::collections::HashMap;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

const SUFFIX: &str = ".session";

/// One session in the index.
struct Slot {
    /// What its file says; `None`: the file is unreadable.
    meta: Option<Meta>,
    /// The lease: token and until when.
    lease: Option<(String, Instant)>,
    /// A write of its file is in flight (another one conflicts).
    writing: bool,
}

impl Slot {
    fn leased(&self, now: Instant) -> bool {
        self.lease.as_ref().is_some_and(|(_, until)| *until > now)
    }

    fn holds(&self, token: &str) -> bool {
        self.lease.as_ref().is_some_and(|(t, _)| t == token)
    }

    /// Readable, of `tenant`, and not expired at `now_ms`.
    fn alive(&self, tenant: &str, now_ms: u64) -> Option<&Meta> {
        self.meta
            .as_ref()
            .filter(|m| m.tenant == tenant && m.expires_ms > now_ms)
    }
}

/// Index key: (tenant directory name, id).
type Key = (String, String);

/// Sessions in a local directory.
pub struct Dir {
    root: Arc<PathBuf>,
    index: Arc<Mutex<HashMap<Key, Slot>>>,
    /// Held (locked) for the life of the process.
    _lock: File,
}

/// The directory of `tenant` under the root: a readable part and a hash.
fn tenant_dir(tenant: &str) -> String {
    let readable: String = tenant
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(32)
        .collect();
    format!("{readable}-{:016x}", file::fnv64(tenant.as_bytes()))
}

fn unavailable(what: &str, e: impl std::fmt::Display) -> ApiError {
    tracing::warn!(error = %e, "session directory: {what} failed");
    ApiError::store_unavailable()
}

/// Run blocking file work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| unavailable("a file task", e))
}

impl Dir {
    /// Use `path` (created if missing), lock it, and index what is there:
    /// expired sessions and leftover temp files are removed, unreadable
    /// files are indexed as such.
    pub fn open(path: &Path) -> Result<Dir, String> {
        let err = |what: &str, e: std::io::Error| {
            format!("--session-store dir:{}: {what}: {e}", path.display())
        };
        fs::create_dir_all(path).map_err(|e| err("cannot create it", e))?;
        let root = fs::canonicalize(path).map_err(|e| err("cannot resolve it", e))?;
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(root.join(".lock"))
            .map_err(|e| err("cannot write in it", e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(format!(
                    "--session-store dir:{}: another eryx-server uses this directory \
                     (one server per directory)",
                    path.display()
                ))
            }
            Err(TryLockError::Error(e)) => return Err(err("cannot lock it", e)),
        }
        let index = scan(&root).map_err(|e| err("cannot read it", e))?;
        tracing::info!(dir = %root.display(), sessions = index.len(), "session directory opened");
        Ok(Dir {
            root: Arc::new(root),
            index: Arc::new(Mutex::new(index)),
            _lock: lock,
        })
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Key, Slot>> {
        self.index.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The index key of a session, or `None` for an id that cannot exist.
    fn key(tenant: &str, id: &str) -> Option<Key> {
        valid_id(id).then(|| (tenant_dir(tenant), id.to_string()))
    }

    fn path(&self, key: &Key) -> PathBuf {
        self.root.join(&key.0).join(format!("{}{SUFFIX}", key.1))
    }

    /// Remove files in the background (best effort, logged; for expiry).
    fn remove_files(&self, paths: Vec<PathBuf>) {
        if paths.is_empty() {
            return;
        }
        let go = move || {
            for p in paths {
                if let Err(e) = fs::remove_file(&p) {
                    if e.kind() != std::io::ErrorKind::NotFound {
                        tracing::warn!(error = %e, file = %p.display(), "cannot remove a session file");
                    }
                }
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => drop(rt.spawn_blocking(go)),
            Err(_) => go(),
        }
    }

    /// Write `meta` (and `snap`) as the file of `key`; then, under the
    /// index lock, `done` decides with the slot (if it still exists) what
    /// the write means. A slot deleted meanwhile gets its file removed.
    async fn write<T>(
        &self,
        key: Key,
        meta: Meta,
        snap: Option<Vec<u8>>,
        done: impl FnOnce(Option<&mut Slot>, bool) -> T,
    ) -> Result<T, ApiError> {
        let (dir, name) = (self.root.join(&key.0), format!("{}{SUFFIX}", key.1));
        let root = self.root.clone();
        let m = meta.clone();
        let written = blocking(move || {
            if !dir.is_dir() {
                // A new tenant directory: make its entry durable too.
                fs::create_dir_all(&dir)?;
                File::open(&*root)?.sync_all()?;
            }
            file::write_atomic(&dir, &name, &file::encode(&m, snap.as_deref()))
        })
        .await?;
        let mut index = self.lock();
        let slot = index.get_mut(&key);
        let gone = slot.is_none();
        let ok = written.is_ok();
        let out = match slot {
            Some(s) => {
                s.writing = false;
                if ok {
                    s.meta = Some(meta);
                }
                done(Some(s), ok)
            }
            None => done(None, ok),
        };
        drop(index);
        if gone && ok {
            self.remove_files(vec![self.path(&key)]);
        }
        match written {
            Ok(()) => Ok(out),
            Err(e) => Err(unavailable("writing a session file", e)),
        }
    }
}

/// Index the root: `<tenant dir>/<id>.session` files.
fn scan(root: &Path) -> std::io::Result<HashMap<Key, Slot>> {
    let mut index = HashMap::new();
    let now = now_ms();
    for t in fs::read_dir(root)? {
        let t = t?;
        if !t.file_type()?.is_dir() {
            continue;
        }
        let tname = t.file_name().to_string_lossy().into_owned();
        for f in fs::read_dir(t.path())? {
            let f = f?;
            let name = f.file_name().to_string_lossy().into_owned();
            let path = f.path();
            if name.starts_with('.') && name.ends_with(".tmp") {
                // Left by a crash mid-write: the old file is intact.
                let _ = fs::remove_file(&path);
                continue;
            }
            let Some(id) = name.strip_suffix(SUFFIX).filter(|id| valid_id(id)) else {
                continue;
            };
            let meta = match file::read_meta(&path) {
                Ok(m) if m.id == id && tenant_dir(&m.tenant) == tname => Some(m),
                Ok(_) | Err(ReadError::Unreadable(_)) => {
                    tracing::warn!(file = %path.display(), "unreadable session file");
                    None
                }
                // One file this process cannot read does not stop the start.
                Err(ReadError::Io(e)) => {
                    tracing::warn!(file = %path.display(), error = %e, "cannot read a session file");
                    None
                }
            };
            if meta.as_ref().is_some_and(|m| m.expires_ms <= now) {
                let _ = fs::remove_file(&path);
                continue;
            }
            let slot = Slot {
                meta,
                lease: None,
                writing: false,
            };
            index.insert((tname.clone(), id.to_string()), slot);
        }
    }
    Ok(index)
}

impl Backend for Dir {
    fn ping(&self) -> Fut<'_, ()> {
        Box::pin(async { Ok(()) })
    }

    fn create<'a>(
        &'a self,
        tenant: &'a str,
        id: &'a str,
        settings: &'a Settings,
        max: usize,
    ) -> Fut<'a, bool> {
        Box::pin(async move {
            let key = Dir::key(tenant, id).ok_or_else(ApiError::no_session)?;
            let now = now_ms();
            let meta = Meta {
                tenant: tenant.to_string(),
                id: id.to_string(),
                settings: settings.clone(),
                version: 0,
                created_ms: now,
                used_ms: now,
                executes: 0,
                expires_ms: now.saturating_add(settings.ttl_s.saturating_mul(1000)),
            };
            {
                let mut index = self.lock();
                let n = index
                    .iter()
                    .filter(|(k, s)| {
                        k.0 == key.0
                            && (s.alive(tenant, now).is_some() || (s.writing && s.meta.is_none()))
                    })
                    .count();
                if n >= max {
                    return Ok(false);
                }
                let slot = Slot {
                    meta: None,
                    lease: None,
                    writing: true,
                };
                index.insert(key.clone(), slot);
            }
            let r = self.write(key.clone(), meta, None, |_, _| ()).await;
            if r.is_err() {
                self.lock().remove(&key);
            }
            r.map(|()| true)
        })
    }

    fn acquire<'a>(
        &'a self,
        tenant: &'a str,
        id: &'a str,
        token: &'a str,
        lease: Duration,
    ) -> Fut<'a, Acquired> {
        Box::pin(async move {
            let Some(key) = Dir::key(tenant, id) else {
                return Ok(Acquired::Gone);
            };
            let mut index = self.lock();
            let Some(slot) = index.get_mut(&key) else {
                return Ok(Acquired::Gone);
            };
            let now = Instant::now();
            if slot.writing || slot.leased(now) {
                return Ok(Acquired::Held);
            }
            let Some(meta) = &slot.meta else {
                return Ok(Acquired::Unreadable);
            };
            if slot.alive(tenant, now_ms()).is_none() {
                return Ok(Acquired::Gone);
            }
            let version = meta.version;
            slot.lease = Some((token.to_string(), now + lease));
            Ok(Acquired::Version(version))
        })
    }

    fn renew<'a>(
        &'a self,
        tenant: &'a str,
        id: &'a str,
        token: &'a str,
        lease: Duration,
    ) -> Fut<'a, bool> {
        Box::pin(async move {
            let Some(key) = Dir::key(tenant, id) else {
                return Ok(false);
            };
            let mut index = self.lock();
            match index.get_mut(&key) {
                Some(s) if s.holds(token) => {
                    s.lease = Some((token.to_string(), Instant::now() + lease));
                    Ok(true)
                }
                _ => Ok(false),
            }
        })
    }

    fn release<'a>(&'a self, tenant: &'a str, id: &'a str, token: &'a str) -> Fut<'a, ()> {
        Box::pin(async move {
            if let Some(key) = Dir::key(tenant, id) {
                if let Some(s) = self.lock().get_mut(&key).filter(|s| s.holds(token)) {
                    s.lease = None;
                }
            }
            Ok(())
        })
    }

    fn load<'a>(
        &'a self,
        tenant: &'a str,
        id: &'a str,
    ) -> Fut<'a, Option<(Option<Settings>, Option<Vec<u8>>)>> {
        Box::pin(async move {
            let Some(key) = Dir::key(tenant, id) else {
                return Ok(None);
            };
            let version = match self.lock().get(&key) {
                None => return Ok(None),
                Some(s) => match &s.meta {
                    None => return Err(ApiError::state_unreadable()),
                    Some(m) if m.tenant != tenant => return Ok(None),
                    Some(m) => m.version,
                },
            };
            let path = self.path(&key);
            let (meta, snap) = match blocking(move || file::read(&path)).await? {
                Ok(r) => r,
                Err(ReadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                    self.lock().remove(&key);
                    return Ok(None);
                }
                Err(ReadError::Io(e)) => return Err(unavailable("reading a session file", e)),
                Err(ReadError::Unreadable(u)) => {
                    tracing::warn!(tenant, session = id, why = %u.0, "unreadable session file");
                    if let Some(s) = self.lock().get_mut(&key) {
                        s.meta = None;
                    }
                    return Err(ApiError::state_unreadable());
                }
            };
            // The index is the file's metadata as last written here: a
            // file that says otherwise was changed behind this server.
            if meta.id != id || meta.tenant != tenant || meta.version != version {
                tracing::warn!(
                    tenant,
                    session = id,
                    "session file changed behind the server"
                );
                if let Some(s) = self.lock().get_mut(&key) {
                    s.meta = None;
                }
                return Err(ApiError::state_unreadable());
            }
            Ok(Some((Some(meta.settings), snap)))
        })
    }

    fn save<'a>(&'a self, w: Write<'a>) -> Fut<'a, Saved> {
        Box::pin(async move {
            let Some(key) = Dir::key(w.tenant, w.id) else {
                return Ok(Saved::Gone);
            };
            let meta = {
                let mut index = self.lock();
                let Some(slot) = index.get_mut(&key) else {
                    return Ok(Saved::Gone);
                };
                let current = slot.alive(w.tenant, now_ms()).cloned();
                if slot.holds(w.token) {
                    slot.lease = None;
                }
                let Some(mut meta) = current else {
                    return Ok(Saved::Gone);
                };
                // Compare-and-set: only on the version the writer started
                // from, and not while another write is in flight.
                if meta.version != w.expected || slot.writing {
                    return Ok(Saved::Conflict);
                }
                slot.writing = true;
                let now = now_ms();
                meta.version += 1;
                meta.used_ms = now;
                meta.executes += u64::from(w.executed);
                meta.expires_ms = now.saturating_add(w.ttl.as_millis() as u64);
                meta
            };
            let v = meta.version;
            let snap = Some(w.snap.to_vec());
            self.write(key, meta, snap, |slot, ok| match (slot, ok) {
                (Some(_), true) => Saved::Version(v),
                (Some(_), false) => Saved::Conflict,
                (None, _) => Saved::Gone,
            })
            .await
        })
    }

    fn delete<'a>(&'a self, tenant: &'a str, id: &'a str) -> Fut<'a, bool> {
        Box::pin(async move {
            let Some(key) = Dir::key(tenant, id) else {
                return Ok(false);
            };
            let removed = {
                let mut index = self.lock();
                let foreign = index
                    .get(&key)
                    .and_then(|s| s.meta.as_ref())
                    .is_some_and(|m| m.tenant != tenant);
                if foreign {
                    return Ok(false);
                }
                index.remove(&key)
            };
            let Some(slot) = removed else {
                return Ok(false);
            };
            let path = self.path(&key);
            match blocking(move || fs::remove_file(path)).await? {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(unavailable("removing a session file", e))
                }
                _ => {}
            }
            // An expired one was already gone as far as callers could see.
            Ok(slot.meta.is_none_or(|m| m.expires_ms > now_ms()))
        })
    }

    fn entry<'a>(&'a self, tenant: &'a str, id: &'a str) -> Fut<'a, Option<Entry>> {
        Box::pin(async move {
            let Some(key) = Dir::key(tenant, id) else {
                return Ok(None);
            };
            let index = self.lock();
            let Some(slot) = index.get(&key) else {
                return Ok(None);
            };
            if slot.meta.is_none() && !slot.writing {
                return Err(ApiError::state_unreadable());
            }
            Ok(slot.alive(tenant, now_ms()).map(|m| Entry {
                id: m.id.clone(),
                settings: m.settings.clone(),
                created_ms: m.created_ms,
                used_ms: m.used_ms,
                executes: m.executes,
                busy: slot.leased(Instant::now()),
            }))
        })
    }

    fn ids<'a>(&'a self, tenant: &'a str) -> Fut<'a, Vec<String>> {
        Box::pin(async move {
            let dir = tenant_dir(tenant);
            let now = now_ms();
            Ok(self
                .lock()
                .iter()
                .filter(|(k, s)| k.0 == dir && s.alive(tenant, now).is_some())
                .map(|(k, _)| k.1.clone())
                .collect())
        })
    }

    fn sweep(&self) {
        let now = now_ms();
        let dead: Vec<PathBuf> = {
            let mut index = self.lock();
            let keys: Vec<Key> = index
                .iter()
                .filter(|(_, s)| !s.writing && s.meta.as_ref().is_some_and(|m| m.expires_ms <= now))
                .map(|(k, _)| k.clone())
                .collect();
            for k in &keys {
                index.remove(k);
            }
            keys.iter().map(|k| self.path(k)).collect()
        };
        self.remove_files(dead);
    }
}

#[cfg(test)]
mod tests {
    use super::tenant_dir;

    #[test]
    fn tenant_directories_stay_inside_the_root() {
        for t in ["../../etc", "/abs", "a/b", ".", "..", "", "x\0y", "ünï"] {
            let d = tenant_dir(t);
            assert!(!d.contains('/') && !d.contains('\0') && d != "." && d != "..");
            assert!(!d.starts_with('.'), "{d}");
        }
        assert_ne!(tenant_dir("a/b"), tenant_dir("ab"));
        assert_eq!(tenant_dir("acme"), tenant_dir("acme"));
    }
}
