//! `POST /v1/sessions/{id}/fork`: a new session of the same tenant with
//! the same settings and a copy of the source session's state.
//!
//! - An exact session (`"exact": true` at creation) is copied whole (every
//!   Python object: open sqlite3 connections, half-consumed generators,
//!   open files): with the embedded store and no operator callbacks by
//!   `eryx::Sandbox::fork`; otherwise through `snapshot_exact()` bytes
//!   restored into a sandbox built for the new id (so callbacks name the
//!   new session, and a shared store gets the new session's state).
//! - Any other session is copied through its pickled snapshot (what
//!   `GET .../state` returns: variables, functions, classes, imports,
//!   files); the answer says so with `"exact": false`.
//!
//! The source is locked for the copy like for any request (409 while
//! busy); the new session counts against the tenant's session cap (429).
use crate::api::{ApiError, ApiPath, SessionInfo};
use crate::config::StoreKind;
use crate::placed::{Failed, Placed};
use crate::routes::checkout;
use crate::sessions::Session;
use crate::state::{AppState, Caller};
use crate::store::Change;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use std::sync::Arc;
use utoipa::ToSchema;

/// The answer of a fork: the new session, and where it came from.
#[derive(Serialize, ToSchema, Debug)]
pub struct ForkedSession {
    /// The new session (its `exact` says how it was copied: `true`, every
    /// object; `false`, what the pickled snapshot carries).
    #[serde(flatten)]
    pub session: SessionInfo,
    /// The id of the session it was forked from.
    pub forked_from: String,
}

/// Fork a session: a new session (same tenant, same settings, its own id)
/// holding a copy of this one's state; the two then go on independently.
/// An exact session is copied whole (every object, e.g. open sqlite3
/// connections and half-consumed generators); any other one through its
/// pickled snapshot (`"exact": false` in the answer).
#[utoipa::path(post, path = "/v1/sessions/{id}/fork", security(("bearer" = [])),
    params(("id" = String, Path, description = "session id")),
    responses(
        (status = 201, description = "the new session", body = ForkedSession),
        (status = 400, description = "the session's state cannot be copied", body = crate::api::ErrorBody),
        (status = 404, description = "no such session", body = crate::api::ErrorBody),
        (status = 409, description = "the session is busy", body = crate::api::ErrorBody),
        (status = 429, description = "the tenant's session cap is reached, or saturated", body = crate::api::ErrorBody),
        (status = 500, description = "the session's stored state is unreadable", body = crate::api::ErrorBody),
        (status = 503, description = "the session store is unavailable", body = crate::api::ErrorBody)))]
pub async fn fork_session(
    State(state): State<Arc<AppState>>,
    Caller(tenant): Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    state.check_ready()?;
    let name = &tenant.tenant.name;
    let mut co = checkout(&state, name, &id).await?;
    let slot = state.scheduler.acquire().await?;
    let settings = co.session.settings.clone();
    let new_id = uuid::Uuid::new_v4().simple().to_string();
    // `Sandbox::fork` keeps the source's callbacks (which name the source
    // session) and gives no bytes for a shared store: only then direct.
    let direct = settings.exact
        && matches!(state.config.store.kind, StoreKind::Memory)
        && state.config.callbacks.is_empty();
    let copied = match &mut *co.sandbox {
        Placed::Local(sb) if direct => (sb.fork().await)
            .map(|s| Copied::Sandbox(Box::new(Placed::Local(s))))
            .map_err(Failed::from),
        placed => placed.snapshot(settings.exact).await.map(Copied::Bytes),
    };
    // The source is released before the new sandbox is built.
    state.sessions.commit(co, Change::Nothing).await?;
    let copied = copied.map_err(|e| {
        tracing::warn!(tenant = %name, session = %id, error = %e, "fork failed");
        e.into_api(|m| ApiError::bad_request(format!("cannot fork the session: {m}")))
    })?;
    let (sandbox, bytes) = match copied {
        Copied::Sandbox(s) => (*s, None),
        Copied::Bytes(b) => {
            let mut s = state.session_placed(&settings, name, &new_id).await?;
            s.load(b.clone()).await.map_err(|e| {
                tracing::error!(tenant = %name, session = %id, error = %e, "restoring a fork failed");
                ApiError::internal("the fork's state could not be restored")
            })?;
            (s, Some(b))
        }
    };
    drop(slot);
    let session = Arc::new(Session::new(&new_id, name, sandbox, settings, 0));
    let info = crate::routes::register(&state, session, tenant.tenant.caps.max_sessions).await?;
    if let Some(b) = bytes {
        // A shared store holds the new session's state from the start (the
        // embedded store only marks it used); a fork it could not take is
        // not left behind empty.
        let saved = match checkout(&state, name, &new_id).await {
            Ok(co) => state.sessions.commit(co, Change::Restored(b)).await,
            Err(e) => Err(e),
        };
        if let Err(e) = saved {
            let _ = state.sessions.delete(name, &new_id).await;
            state.metrics.sessions.set(state.sessions.live() as i64);
            return Err(e);
        }
    }
    state.metrics.sessions.set(state.sessions.live() as i64);
    tracing::info!(tenant = %name, session = %new_id, from = %id, exact = info.exact, "session forked");
    let body = ForkedSession {
        session: info,
        forked_from: id,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// What the source's state was copied as.
enum Copied {
    /// A forked sandbox, ready.
    Sandbox(Box<Placed>),
    /// Snapshot bytes (exact or pickled) to restore into a new sandbox.
    Bytes(Vec<u8>),
}
