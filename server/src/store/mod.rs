//! The session store: where sessions are registered, listed, locked for a
//! request and where their state goes after it. One small trait, two
//! backends:
//!
//! - [`memory::MemoryStore`] (the default): sessions live in this process
//!   only; the live sandbox is the state, nothing is copied per execute.
//! - [`cached::CachedStore`] over a [`backend::Backend`]: the backend
//!   keeps, per (tenant, id), the settings, a version and the snapshot of
//!   the last successful request; this process keeps an LRU cache of live
//!   sandboxes in front of it (`--live-sessions`). Each request takes a
//!   lease (one request per session), reloads a stale or missing live
//!   copy, and writes the new snapshot compare-and-set on the version (a
//!   lost update is a 409, never an overwrite). Backends: Redis
//!   (`redis://...`, shared by replicas) and a local directory
//!   (`dir:PATH`, one server whose sessions survive a restart).
pub mod backend;
pub mod cached;
mod dir;
mod file;
pub mod memory;
mod redis;

use crate::api::{ApiError, SessionInfo};
use crate::config::{Config, StoreKind};
use crate::placed::Placed;
use crate::sessions::Session;
use crate::state::AppState;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::OwnedMutexGuard;

/// A boxed future of a store operation.
pub type Fut<'a, T> = Pin<Box<dyn Future<Output = Result<T, ApiError>> + Send + 'a>>;

/// One session locked for one request: the live session, its sandbox
/// (locked), and the fleet-wide lease if the store has leases (released
/// when this is committed or dropped).
pub struct Checkout {
    /// The live session.
    pub session: Arc<Session>,
    /// Its sandbox, locked by this request.
    pub sandbox: OwnedMutexGuard<Placed>,
    /// How long loading the state from the store took, if it was loaded
    /// for this request (a miss or a stale live copy).
    pub restored: Option<Duration>,
    pub(crate) lease: Option<backend::Lease>,
}

/// What a request did to a session's state.
pub enum Change {
    /// Nothing (it only read): unlock.
    Nothing,
    /// It ran code: the sandbox's state is the new state.
    Executed,
    /// Its state was replaced by these snapshot bytes (already restored).
    Restored(Vec<u8>),
    /// Its files changed through the files API (no code ran).
    Files,
}

/// Where sessions are kept. Every lookup is by tenant and id: another
/// tenant's id is not found.
pub trait SessionStore: Send + Sync {
    /// Register a new session (its sandbox built) unless its tenant already
    /// has `max` sessions (then 429).
    fn create(&self, session: Arc<Session>, max: usize) -> Fut<'_, SessionInfo>;
    /// The tenant's session `id`.
    fn info<'a>(&'a self, tenant: &'a str, id: &'a str) -> Fut<'a, SessionInfo>;
    /// The tenant's sessions.
    fn list<'a>(&'a self, tenant: &'a str) -> Fut<'a, Vec<SessionInfo>>;
    /// Drop the tenant's session `id` (404 if there is none).
    fn delete<'a>(&'a self, tenant: &'a str, id: &'a str) -> Fut<'a, ()>;
    /// Lock the session for one request, live and at the newest state (409
    /// while another request holds it).
    fn checkout<'a>(
        &'a self,
        state: &'a AppState,
        tenant: &'a str,
        id: &'a str,
    ) -> Fut<'a, Checkout>;
    /// After the request: keep `change` and unlock.
    fn commit(&self, checkout: Checkout, change: Change) -> Fut<'_, ()>;
    /// Whether the store answers (for `/readyz`).
    fn ping(&self) -> Fut<'_, ()>;
    /// Drop live sessions idle past their TTL at `now`; the dropped ones.
    fn expire(&self, now: Instant) -> Vec<Arc<Session>>;
    /// Live sessions in this process.
    fn live(&self) -> usize;
}

/// The store `config` names (a directory that cannot be used is an
/// error).
pub fn open(config: &Config) -> Result<Box<dyn SessionStore>, String> {
    let backend: Arc<dyn backend::Backend> = match &config.store.kind {
        StoreKind::Memory => return Ok(Box::new(memory::MemoryStore::default())),
        StoreKind::Redis(url) => Arc::new(redis::Redis::open(url)?),
        StoreKind::Dir(path) => Arc::new(dir::Dir::open(path)?),
    };
    Ok(Box::new(cached::CachedStore::new(backend, &config.store)))
}
