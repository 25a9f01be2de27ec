//! Live sessions: one sandbox each ([`Placed`]: in this process or in the
//! worker processes), behind a tokio mutex (a
//! `Sandbox` is `Send`; the mutex makes it one request at a time per
//! session), with the settings it was built from and the store version of
//! the state it holds; and [`Live`], the map of them, with an optional LRU
//! cap (the cache in front of a shared store, see `store/`).
use crate::api::SessionInfo;
use crate::placed::Placed;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Mutex as AsyncMutex;

/// What a session was created with: enough to build its sandbox again on
/// any replica (kept in the shared store as JSON).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Idle expiry in seconds.
    pub ttl_s: u64,
    /// Per-execute wall-clock limit in milliseconds.
    pub timeout_ms: u64,
    /// Memory cap in bytes.
    pub max_memory_bytes: u64,
    /// Pre-imported modules (names from the allowlist).
    pub preimports: Vec<String>,
    /// Packages (names from the allowlist).
    pub packages: Vec<String>,
    /// An exact session (`eryx::SandboxBuilder::exact`): forks copy the
    /// whole guest state, and the shared stores keep exact snapshots.
    /// Absent in settings stored before it existed: `false`.
    #[serde(default)]
    pub exact: bool,
}

impl Settings {
    /// The idle TTL.
    pub fn ttl(&self) -> Duration {
        Duration::from_secs(self.ttl_s)
    }
}

/// One live session.
pub struct Session {
    /// Random id (128 bits, hex).
    pub id: String,
    /// The owning tenant's name.
    pub tenant: String,
    /// The sandbox; held for the whole of an execute or state operation.
    pub sandbox: Arc<AsyncMutex<Placed>>,
    /// What it was built with.
    pub settings: Settings,
    /// Store version of the state the sandbox holds (0: as built).
    version: AtomicU64,
    created: Instant,
    last_used: Mutex<Instant>,
    executes: AtomicU64,
}

impl Session {
    /// A live session `id` of `tenant` around `sandbox`, holding state
    /// `version` of the store.
    pub fn new(
        id: &str,
        tenant: &str,
        sandbox: Placed,
        settings: Settings,
        version: u64,
    ) -> Session {
        let now = Instant::now();
        Session {
            id: id.to_string(),
            tenant: tenant.to_string(),
            sandbox: Arc::new(AsyncMutex::new(sandbox)),
            settings,
            version: AtomicU64::new(version),
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

    /// The store version its sandbox holds.
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::SeqCst)
    }

    /// Record that the sandbox now holds store version `v`.
    pub fn set_version(&self, v: u64) {
        self.version.store(v, Ordering::SeqCst);
    }

    /// Whether a request is running on it.
    pub fn busy(&self) -> bool {
        self.sandbox.try_lock().is_err()
    }

    /// Idle past its TTL (and not busy) at `now`.
    pub fn expired(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.last_used()) > self.settings.ttl() && !self.busy()
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
            ttl_s: self.settings.ttl_s,
            timeout_ms: self.settings.timeout_ms,
            max_memory_bytes: self.settings.max_memory_bytes,
            exact: self.settings.exact,
            busy: self.busy(),
        }
    }
}

/// The live sessions of this process, by id. Every lookup is by tenant and
/// id: another tenant's id is simply not found. The mutex is held only for
/// map operations, never across an await.
pub struct Live {
    map: Mutex<HashMap<String, Arc<Session>>>,
    /// At most this many (the least recently used idle ones are dropped).
    cap: usize,
}

impl Live {
    /// An empty map holding at most `cap` sessions.
    pub fn new(cap: usize) -> Live {
        Live {
            map: Mutex::new(HashMap::new()),
            cap: cap.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Session>>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Add `session` unless its tenant already has `max` live sessions
    /// (then `Err(count)`); past the cap, drop the least recently used
    /// sessions that are not busy (returned).
    pub fn insert(&self, session: Arc<Session>, max: usize) -> Result<Vec<Arc<Session>>, usize> {
        let mut map = self.lock();
        let n = map.values().filter(|s| s.tenant == session.tenant).count();
        if n >= max {
            return Err(n);
        }
        map.insert(session.id.clone(), session);
        let mut evicted = Vec::new();
        while map.len() > self.cap {
            let oldest = map
                .values()
                .filter(|s| !s.busy())
                .min_by_key(|s| s.last_used())
                .map(|s| s.id.clone());
            match oldest.and_then(|id| map.remove(&id)) {
                Some(s) => evicted.push(s),
                None => break,
            }
        }
        Ok(evicted)
    }

    /// The tenant's session `id` (an expired one is dropped and not found).
    pub fn get(&self, tenant: &str, id: &str) -> Option<Arc<Session>> {
        let mut map = self.lock();
        let s = map.get(id).filter(|s| s.tenant == tenant)?.clone();
        if s.expired(Instant::now()) {
            map.remove(id);
            return None;
        }
        Some(s)
    }

    /// Remove and return the tenant's session `id`.
    pub fn remove(&self, tenant: &str, id: &str) -> Option<Arc<Session>> {
        let mut map = self.lock();
        if map.get(id).is_some_and(|s| s.tenant == tenant) {
            map.remove(id)
        } else {
            None
        }
    }

    /// The tenant's sessions, oldest first.
    pub fn list(&self, tenant: &str) -> Vec<Arc<Session>> {
        let mut v: Vec<_> = self
            .lock()
            .values()
            .filter(|s| s.tenant == tenant)
            .cloned()
            .collect();
        v.sort_by_key(|s| s.created);
        v
    }

    /// Remove and return every session idle past its TTL at `now`.
    pub fn expire(&self, now: Instant) -> Vec<Arc<Session>> {
        let mut map = self.lock();
        let dead: Vec<String> = map
            .values()
            .filter(|s| s.expired(now))
            .map(|s| s.id.clone())
            .collect();
        dead.iter().filter_map(|id| map.remove(id)).collect()
    }

    /// Sessions of all tenants.
    pub fn count(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::Settings;

    /// Settings stored before `exact` existed still load (as not exact);
    /// unknown fields are still refused.
    #[test]
    fn settings_without_exact_load_as_not_exact() {
        let old = r#"{"ttl_s":60,"timeout_ms":1000,"max_memory_bytes":67108864,"preimports":[],"packages":[]}"#;
        let s: Settings = serde_json::from_str(old).expect("old settings load");
        assert!(!s.exact);
        let new = old.replace("}", r#","exact":true}"#);
        assert!(serde_json::from_str::<Settings>(&new).expect("new").exact);
        let odd = old.replace("}", r#","exactly":true}"#);
        assert!(serde_json::from_str::<Settings>(&odd).is_err());
    }
}
