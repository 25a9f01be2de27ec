//! What the cached store (`cached.rs`) needs from where the sessions'
//! state is kept: [`Backend`], implemented by Redis (`redis.rs`, shared by
//! replicas) and by a local directory (`dir.rs`, one server). A backend
//! keeps, per (tenant, id), the settings, a version, the snapshot of the
//! last successful request, timestamps and the execute count; it hands
//! out leases (one request per session at a time, expiring unless
//! renewed) and writes compare-and-set on the version.
//!
//! Also here: the wire-neutral answers ([`Acquired`], [`Saved`],
//! [`Entry`]) and [`Lease`], a held lease renewed in the background.
use super::Fut;
use crate::sessions::Settings;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::task::JoinHandle;

/// What taking a lease found.
pub enum Acquired {
    /// Taken; the session's state is at this version.
    Version(u64),
    /// Another request holds it.
    Held,
    /// No such session (never, deleted, or expired).
    Gone,
    /// The entry is not one this server wrote.
    Unreadable,
}

/// What a compare-and-set write found.
pub enum Saved {
    /// Written: the new version.
    Version(u64),
    /// The version moved on: someone else wrote first.
    Conflict,
    /// The session is gone.
    Gone,
}

/// A session's entry as listed.
pub struct Entry {
    /// The session id.
    pub id: String,
    /// What it was created with.
    pub settings: Settings,
    /// Created, Unix ms.
    pub created_ms: u64,
    /// Last written, Unix ms.
    pub used_ms: u64,
    /// Successful executes so far.
    pub executes: u64,
    /// Whether a lease on it is held.
    pub busy: bool,
}

/// One compare-and-set write: the new state `snap` of session `id` of
/// `tenant` as the version after `expected`, by the holder of `token`'s
/// lease (released by the write, whatever it finds).
pub struct Write<'a> {
    pub tenant: &'a str,
    pub id: &'a str,
    pub token: &'a str,
    pub expected: u64,
    pub snap: &'a [u8],
    /// The session's idle TTL (it expires this long after the write).
    pub ttl: Duration,
    /// Count one execute.
    pub executed: bool,
}

/// Where sessions' state is kept. Every call is bounded in time; a backend
/// that cannot answer says [`crate::api::ApiError::store_unavailable`].
pub trait Backend: Send + Sync + 'static {
    /// Whether the backend answers.
    fn ping(&self) -> Fut<'_, ()>;
    /// Register a session at version 0 (no snapshot) unless its tenant has
    /// `max` unexpired sessions (then `false`).
    fn create<'a>(
        &'a self,
        tenant: &'a str,
        id: &'a str,
        settings: &'a Settings,
        max: usize,
    ) -> Fut<'a, bool>;
    /// Take the lease of a session for `lease`, marked with `token`.
    fn acquire<'a>(
        &'a self,
        tenant: &'a str,
        id: &'a str,
        token: &'a str,
        lease: Duration,
    ) -> Fut<'a, Acquired>;
    /// Extend the lease if it is still `token`'s; whether it was.
    fn renew<'a>(
        &'a self,
        tenant: &'a str,
        id: &'a str,
        token: &'a str,
        lease: Duration,
    ) -> Fut<'a, bool>;
    /// Give the lease back if it is still `token`'s.
    fn release<'a>(&'a self, tenant: &'a str, id: &'a str, token: &'a str) -> Fut<'a, ()>;
    /// The settings (`None`: unreadable) and snapshot (`None`: the state as
    /// built) of a session; `Ok(None)`: gone.
    #[allow(clippy::type_complexity)]
    fn load<'a>(
        &'a self,
        tenant: &'a str,
        id: &'a str,
    ) -> Fut<'a, Option<(Option<Settings>, Option<Vec<u8>>)>>;
    /// Write new state compare-and-set on the version, releasing the lease.
    fn save<'a>(&'a self, w: Write<'a>) -> Fut<'a, Saved>;
    /// Delete a session; whether it existed.
    fn delete<'a>(&'a self, tenant: &'a str, id: &'a str) -> Fut<'a, bool>;
    /// One session's entry (`Ok(None)`: gone; an unreadable one is
    /// [`crate::api::ApiError::state_unreadable`]).
    fn entry<'a>(&'a self, tenant: &'a str, id: &'a str) -> Fut<'a, Option<Entry>>;
    /// The ids of the tenant's sessions that have not expired.
    fn ids<'a>(&'a self, tenant: &'a str) -> Fut<'a, Vec<String>>;
    /// Drop what expired by now (for backends that do not expire by
    /// themselves); called every half second.
    fn sweep(&self) {}
}

/// Now in Unix milliseconds.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A held lease: renewed in the background while the request runs, given
/// back when dropped (unless a save already released it).
pub struct Lease {
    backend: Arc<dyn Backend>,
    /// (tenant, id).
    who: Arc<(String, String)>,
    /// Random, so only the holder can release or renew it.
    pub token: String,
    /// The state version the holder started from.
    pub version: u64,
    renew: JoinHandle<()>,
    released: bool,
}

impl Lease {
    /// Wrap a lease just taken, and start renewing it every third of `ttl`.
    pub fn held(
        backend: &Arc<dyn Backend>,
        tenant: &str,
        id: &str,
        token: String,
        version: u64,
        ttl: Duration,
    ) -> Lease {
        let who = Arc::new((tenant.to_string(), id.to_string()));
        let (b, t, w) = (backend.clone(), token.clone(), who.clone());
        let renew = tokio::spawn(async move {
            loop {
                tokio::time::sleep(ttl / 3).await;
                if !matches!(b.renew(&w.0, &w.1, &t, ttl).await, Ok(true)) {
                    tracing::warn!(tenant = %w.0, session = %w.1, "lost a session lease");
                    return;
                }
            }
        });
        Lease {
            backend: backend.clone(),
            who,
            token,
            version,
            renew,
            released: false,
        }
    }

    /// The lease was given back by a save.
    pub fn mark_released(&mut self) {
        self.released = true;
        self.renew.abort();
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.renew.abort();
        if self.released {
            return;
        }
        let (b, who, token) = (self.backend.clone(), self.who.clone(), self.token.clone());
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                let _ = b.release(&who.0, &who.1, &token).await;
            });
        }
    }
}
