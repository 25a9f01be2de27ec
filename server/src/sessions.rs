//! Sessions: one live [`eryx::Sandbox`] each, behind a tokio mutex (a
//! `Sandbox` is `Send`; the mutex makes it one request at a time per
//! session), owned by a tenant, expiring after an idle TTL. The registry is
//! a [`SessionStore`] so that another store (e.g. shared through Redis) can
//! take the place of the in-process [`MemoryStore`].
//!
//! Sharing sessions between replicas (issue 15) plugs in here: a shared
//! store keeps, per (tenant, id), the session's settings, a version and the
//! snapshot bytes of its last successful execute; this store's `Session`s
//! become a bounded LRU cache of live sandboxes in front of it. `get` then
//! turns async and, on a miss, loads the snapshot and restores it into a
//! fresh sandbox; the execute path takes a lease with expiry in the store
//! (one execute per session across the fleet) and, after a successful
//! call, writes the new snapshot compare-and-set on the version (a lost
//! update is a 409, never an overwrite). The handlers only see
//! get / insert / remove / list / expire, so they stay as they are.
use crate::api::SessionInfo;
use eryx::Sandbox;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Mutex as AsyncMutex;

/// One live session.
pub struct Session {
    /// Random id (128 bits, hex).
    pub id: String,
    /// The owning tenant's name.
    pub tenant: String,
    /// The sandbox; held for the whole of an execute or state operation.
    pub sandbox: Arc<AsyncMutex<Sandbox>>,
    /// Idle expiry.
    pub ttl: Duration,
    /// Per-execute wall-clock limit (for listing).
    pub timeout: Duration,
    /// Memory cap (for listing).
    pub max_memory: u64,
    created: Instant,
    last_used: Mutex<Instant>,
    executes: AtomicU64,
}

impl Session {
    /// A new session `id` of `tenant` around `sandbox`.
    pub fn new(
        id: &str,
        tenant: &str,
        sandbox: Sandbox,
        ttl: Duration,
        timeout: Duration,
        max_memory: u64,
    ) -> Session {
        let now = Instant::now();
        Session {
            id: id.to_string(),
            tenant: tenant.to_string(),
            sandbox: Arc::new(AsyncMutex::new(sandbox)),
            ttl,
            timeout,
            max_memory,
            created: now,
            last_used: Mutex::new(now),
            executes: AtomicU64::new(0),
        }
    }

    fn last_used(&self) -> Instant {
        *self.last_used.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Mark the session used now (after a request on it).
    pub fn touch(&self) {
        *self.last_used.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
    }

    /// Count one execute.
    pub fn count_execute(&self) {
        self.executes.fetch_add(1, Ordering::Relaxed);
        self.touch();
    }

    /// Whether a request is running on it.
    pub fn busy(&self) -> bool {
        self.sandbox.try_lock().is_err()
    }

    /// Idle past its TTL (and not busy) at `now`.
    pub fn expired(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.last_used()) > self.ttl && !self.busy()
    }

    /// What the API shows of it.
    pub fn info(&self) -> SessionInfo {
        let now = Instant::now();
        SessionInfo {
            id: self.id.clone(),
            executes: self.executes.load(Ordering::Relaxed),
            age_s: now.duration_since(self.created).as_secs_f64(),
            idle_s: now
                .saturating_duration_since(self.last_used())
                .as_secs_f64(),
            ttl_s: self.ttl.as_secs(),
            timeout_ms: self.timeout.as_millis() as u64,
            max_memory_bytes: self.max_memory,
            busy: self.busy(),
        }
    }
}

/// Where live sessions are kept. Every lookup is by tenant and id: another
/// tenant's id is simply not found.
pub trait SessionStore: Send + Sync {
    /// Add `session` unless its tenant already has `max` sessions (then
    /// `Err(count)`).
    fn insert(&self, session: Arc<Session>, max: usize) -> Result<(), usize>;
    /// The tenant's session `id` (an expired one is dropped and not found).
    fn get(&self, tenant: &str, id: &str) -> Option<Arc<Session>>;
    /// Remove and return the tenant's session `id`.
    fn remove(&self, tenant: &str, id: &str) -> Option<Arc<Session>>;
    /// The tenant's sessions.
    fn list(&self, tenant: &str) -> Vec<Arc<Session>>;
    /// Remove and return every session idle past its TTL at `now`.
    fn expire(&self, now: Instant) -> Vec<Arc<Session>>;
    /// Sessions of all tenants.
    fn count(&self) -> usize;
}

/// The in-process store: one map under a mutex (held only for map
/// operations, never across an await).
#[derive(Default)]
pub struct MemoryStore {
    map: Mutex<HashMap<String, Arc<Session>>>,
}

impl MemoryStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Session>>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl SessionStore for MemoryStore {
    fn insert(&self, session: Arc<Session>, max: usize) -> Result<(), usize> {
        let mut map = self.lock();
        let n = map.values().filter(|s| s.tenant == session.tenant).count();
        if n >= max {
            return Err(n);
        }
        map.insert(session.id.clone(), session);
        Ok(())
    }

    fn get(&self, tenant: &str, id: &str) -> Option<Arc<Session>> {
        let mut map = self.lock();
        let s = map.get(id).filter(|s| s.tenant == tenant)?.clone();
        if s.expired(Instant::now()) {
            map.remove(id);
            return None;
        }
        Some(s)
    }

    fn remove(&self, tenant: &str, id: &str) -> Option<Arc<Session>> {
        let mut map = self.lock();
        if map.get(id).is_some_and(|s| s.tenant == tenant) {
            map.remove(id)
        } else {
            None
        }
    }

    fn list(&self, tenant: &str) -> Vec<Arc<Session>> {
        let mut v: Vec<_> = self
            .lock()
            .values()
            .filter(|s| s.tenant == tenant)
            .cloned()
            .collect();
        v.sort_by_key(|s| s.created);
        v
    }

    fn expire(&self, now: Instant) -> Vec<Arc<Session>> {
        let mut map = self.lock();
        let dead: Vec<String> = map
            .values()
            .filter(|s| s.expired(now))
            .map(|s| s.id.clone())
            .collect();
        dead.iter().filter_map(|id| map.remove(id)).collect()
    }

    fn count(&self) -> usize {
        self.lock().len()
    }
}
