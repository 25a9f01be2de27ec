//! The cached store: a [`Backend`] holds every session (Redis, shared by
//! replicas, see `redis.rs`; or a local directory, see `dir.rs`), this
//! process an LRU cache of live sandboxes in front of it
//! (`--live-sessions`), so any replica serves any session and an evicted
//! or restarted one comes back from the backend.
//!
//! A request on a session: take the lease (another request holding it:
//! retry for up to `--busy-wait-ms`, then 409 `session_busy`); if the live
//! copy is missing or holds an older version than the store, build a fresh
//! sandbox from the stored settings and restore the stored snapshot into
//! it; run; snapshot; write compare-and-set on the version and release the
//! lease in one atomic step. A write that finds the version moved (someone
//! else wrote meanwhile, e.g. after this replica's lease expired) is a 409
//! `lost_update`, and this replica drops its live copy: the store wins.
//! An exact session's snapshot is `snapshot_exact()` (the whole guest
//! state, so a session moved between replicas keeps every object); it
//! restores only on a server of the same build and image.
use super::backend::{now_ms, Acquired, Backend, Entry, Lease, Saved, Write};
use super::{Change, Checkout, Fut, SessionStore};
use crate::api::{ApiError, SessionInfo};
use crate::config::StoreConfig;
use crate::sessions::{Live, Session};
use crate::state::AppState;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A backend plus a bounded cache of live sessions.
pub struct CachedStore {
    backend: Arc<dyn Backend>,
    live: Live,
    lease: Duration,
    busy_wait: Duration,
}

/// Session ids are 32 lowercase hex digits (anything else is not found,
/// without asking the store).
pub fn valid_id(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn check_id(id: &str) -> Result<(), ApiError> {
    if valid_id(id) {
        Ok(())
    } else {
        Err(ApiError::no_session())
    }
}

fn info(e: Entry) -> SessionInfo {
    let now = now_ms();
    SessionInfo {
        id: e.id,
        executes: e.executes,
        age_s: now.saturating_sub(e.created_ms) as f64 / 1e3,
        idle_s: now.saturating_sub(e.used_ms) as f64 / 1e3,
        ttl_s: e.settings.ttl_s,
        timeout_ms: e.settings.timeout_ms,
        max_memory_bytes: e.settings.max_memory_bytes,
        exact: e.settings.exact,
        busy: e.busy,
    }
}

impl CachedStore {
    /// `backend` with the cache and lease settings of `config`.
    pub fn new(backend: Arc<dyn Backend>, config: &StoreConfig) -> CachedStore {
        CachedStore {
            backend,
            live: Live::new(config.live_sessions),
            lease: config.lease,
            busy_wait: config.busy_wait,
        }
    }

    /// Take the session's lease, waiting up to `busy_wait` while another
    /// request holds it.
    async fn lease(&self, tenant: &str, id: &str) -> Result<Lease, ApiError> {
        let token = uuid::Uuid::new_v4().simple().to_string();
        let deadline = Instant::now() + self.busy_wait;
        loop {
            match self.backend.acquire(tenant, id, &token, self.lease).await? {
                Acquired::Version(v) => {
                    return Ok(Lease::held(&self.backend, tenant, id, token, v, self.lease))
                }
                Acquired::Gone => {
                    self.live.remove(tenant, id);
                    return Err(ApiError::no_session());
                }
                Acquired::Unreadable => return Err(ApiError::state_unreadable()),
                Acquired::Held if Instant::now() >= deadline => return Err(ApiError::busy()),
                Acquired::Held => tokio::time::sleep(Duration::from_millis(15)).await,
            }
        }
    }

    /// A live session at state `version`, from the store.
    async fn load(
        &self,
        state: &AppState,
        tenant: &str,
        id: &str,
        version: u64,
    ) -> Result<Arc<Session>, ApiError> {
        let (settings, snap) = self
            .backend
            .load(tenant, id)
            .await?
            .ok_or_else(ApiError::no_session)?;
        let settings = settings.ok_or_else(ApiError::state_unreadable)?;
        let mut sandbox = state
            .session_placed(&settings, tenant, id)
            .await
            .map_err(|e| {
                if e.status.is_client_error() {
                    tracing::warn!(tenant, session = id, error = %e.message,
                        "stored session settings are not valid here");
                    ApiError::state_unreadable()
                } else {
                    e
                }
            })?;
        if let Some(bytes) = snap {
            sandbox.load(bytes).await.map_err(|e| {
                tracing::warn!(tenant, session = id, error = %e, "stored session state does not restore");
                ApiError::state_unreadable()
            })?;
        }
        Ok(Arc::new(Session::new(
            id, tenant, sandbox, settings, version,
        )))
    }

    /// Cache a live session, dropping the least recently used past the cap.
    fn keep(&self, session: Arc<Session>) {
        if let Ok(evicted) = self.live.insert(session, usize::MAX) {
            for s in evicted {
                tracing::debug!(tenant = %s.tenant, session = %s.id, "evicted from the live cache");
            }
        }
    }
}

impl SessionStore for CachedStore {
    fn create(&self, session: Arc<Session>, max: usize) -> Fut<'_, SessionInfo> {
        Box::pin(async move {
            let (t, id) = (&session.tenant, &session.id);
            if !self.backend.create(t, id, &session.settings, max).await? {
                return Err(ApiError::session_cap());
            }
            let info = session.info();
            self.keep(session);
            Ok(info)
        })
    }

    fn info<'a>(&'a self, tenant: &'a str, id: &'a str) -> Fut<'a, SessionInfo> {
        Box::pin(async move {
            check_id(id)?;
            let entry = self.backend.entry(tenant, id).await?;
            entry.map(info).ok_or_else(ApiError::no_session)
        })
    }

    fn list<'a>(&'a self, tenant: &'a str) -> Fut<'a, Vec<SessionInfo>> {
        Box::pin(async move {
            let mut out = Vec::new();
            for id in self.backend.ids(tenant).await? {
                match self.backend.entry(tenant, &id).await {
                    Ok(Some(e)) => out.push(info(e)),
                    Ok(None) => {}
                    // One unreadable entry does not hide the others.
                    Err(e) if e.code == "state_unreadable" => {}
                    Err(e) => return Err(e),
                }
            }
            out.sort_by(|a, b| b.age_s.total_cmp(&a.age_s));
            Ok(out)
        })
    }

    fn delete<'a>(&'a self, tenant: &'a str, id: &'a str) -> Fut<'a, ()> {
        Box::pin(async move {
            check_id(id)?;
            let existed = self.backend.delete(tenant, id).await?;
            self.live.remove(tenant, id);
            if existed {
                Ok(())
            } else {
                Err(ApiError::no_session())
            }
        })
    }

    fn checkout<'a>(
        &'a self,
        state: &'a AppState,
        tenant: &'a str,
        id: &'a str,
    ) -> Fut<'a, Checkout> {
        Box::pin(async move {
            check_id(id)?;
            let lease = self.lease(tenant, id).await?;
            let version = lease.version;
            let (session, restored) = match self.live.get(tenant, id) {
                Some(s) if s.version() == version => (s, None),
                _ => {
                    let t0 = Instant::now();
                    let s = self.load(state, tenant, id, version).await?;
                    state.metrics.restore(t0.elapsed().as_secs_f64());
                    self.keep(s.clone());
                    (s, Some(t0.elapsed()))
                }
            };
            // The lease is ours, so only a request that lost its lease can
            // still hold the sandbox: wait for it, boundedly.
            let sandbox =
                tokio::time::timeout(self.busy_wait, session.sandbox.clone().lock_owned())
                    .await
                    .map_err(|_| ApiError::busy())?;
            Ok(Checkout {
                session,
                sandbox,
                restored,
                lease: Some(lease),
            })
        })
    }

    fn commit(&self, checkout: Checkout, change: Change) -> Fut<'_, ()> {
        Box::pin(async move {
            let Checkout {
                session,
                mut sandbox,
                lease,
                ..
            } = checkout;
            let Some(mut lease) = lease else {
                return Ok(());
            };
            let (tenant, id) = (session.tenant.as_str(), session.id.as_str());
            let ran = matches!(change, Change::Executed);
            let (bytes, executed) = match change {
                Change::Nothing => {
                    session.touch();
                    return Ok(());
                }
                // An exact session keeps its whole guest state (every
                // object, not only what pickles) in the store.
                Change::Executed | Change::Files => {
                    match sandbox.snapshot(session.settings.exact).await {
                        Ok(b) => (b, ran),
                        Err(e) => {
                            tracing::error!(tenant, session = id, error = %e, "snapshot after execute failed");
                            self.live.remove(tenant, id);
                            return Err(ApiError::internal(
                                "the session's new state could not be saved",
                            ));
                        }
                    }
                }
                Change::Restored(b) => (b, false),
            };
            drop(sandbox);
            let saved = self
                .backend
                .save(Write {
                    tenant,
                    id,
                    token: &lease.token,
                    expected: lease.version,
                    snap: &bytes,
                    ttl: session.settings.ttl(),
                    executed,
                })
                .await;
            let result = match saved {
                Ok(Saved::Version(v)) => {
                    lease.mark_released();
                    session.set_version(v);
                    if executed {
                        session.count_execute();
                    } else {
                        session.touch();
                    }
                    return Ok(());
                }
                Ok(Saved::Conflict) => {
                    lease.mark_released();
                    ApiError::lost_update()
                }
                Ok(Saved::Gone) => {
                    lease.mark_released();
                    ApiError::no_session()
                }
                Err(e) => e,
            };
            // Not written: this live copy is ahead of the store; drop it.
            self.live.remove(tenant, id);
            Err(result)
        })
    }

    fn ping(&self) -> Fut<'_, ()> {
        Box::pin(self.backend.ping())
    }

    fn expire(&self, now: Instant) -> Vec<Arc<Session>> {
        self.backend.sweep();
        self.live.expire(now)
    }

    fn live(&self) -> usize {
        self.live.count()
    }
}
