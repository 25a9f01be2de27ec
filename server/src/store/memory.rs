//! The embedded store (the default): sessions live in this process only.
//! The live sandbox is the session's state, so nothing is snapshotted per
//! request and nothing is evicted (the `--live-sessions` cap is for the
//! dir and Redis stores, whose evicted sessions stay in the backend). A second request
//! on a busy session gets 409 at once.
use super::{Change, Checkout, Fut, SessionStore};
use crate::api::{ApiError, SessionInfo};
use crate::sessions::{Live, Session};
use crate::state::AppState;
use std::sync::Arc;
use std::time::Instant;

/// Sessions in a map in this process.
pub struct MemoryStore {
    live: Live,
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore {
            live: Live::new(usize::MAX),
        }
    }
}

impl SessionStore for MemoryStore {
    fn create(&self, session: Arc<Session>, max: usize) -> Fut<'_, SessionInfo> {
        Box::pin(async move {
            let info = session.info();
            self.live
                .insert(session, max)
                .map_err(|_| ApiError::session_cap())?;
            Ok(info)
        })
    }

    fn info<'a>(&'a self, tenant: &'a str, id: &'a str) -> Fut<'a, SessionInfo> {
        Box::pin(async move {
            self.live
                .get(tenant, id)
                .map(|s| s.info())
                .ok_or_else(ApiError::no_session)
        })
    }

    fn list<'a>(&'a self, tenant: &'a str) -> Fut<'a, Vec<SessionInfo>> {
        Box::pin(async move { Ok(self.live.list(tenant).iter().map(|s| s.info()).collect()) })
    }

    fn delete<'a>(&'a self, tenant: &'a str, id: &'a str) -> Fut<'a, ()> {
        Box::pin(async move {
            self.live
                .remove(tenant, id)
                .map(drop)
                .ok_or_else(ApiError::no_session)
        })
    }

    fn checkout<'a>(
        &'a self,
        _state: &'a AppState,
        tenant: &'a str,
        id: &'a str,
    ) -> Fut<'a, Checkout> {
        Box::pin(async move {
            let session = self.live.get(tenant, id).ok_or_else(ApiError::no_session)?;
            let sandbox = session
                .sandbox
                .clone()
                .try_lock_owned()
                .map_err(|_| ApiError::busy())?;
            Ok(Checkout {
                session,
                sandbox,
                restored: None,
                lease: None,
            })
        })
    }

    fn commit(&self, checkout: Checkout, change: Change) -> Fut<'_, ()> {
        Box::pin(async move {
            match change {
                Change::Executed => checkout.session.count_execute(),
                Change::Nothing | Change::Restored(_) | Change::Files => checkout.session.touch(),
            }
            Ok(())
        })
    }

    fn ping(&self) -> Fut<'_, ()> {
        Box::pin(async { Ok(()) })
    }

    fn expire(&self, now: Instant) -> Vec<Arc<Session>> {
        self.live.expire(now)
    }

    fn live(&self) -> usize {
        self.live.count()
    }
}
