//! The HTTP routes and their handlers (each documented for the OpenAPI
//! document at `/openapi.json`, see openapi.rs).
use crate::api::{
    body_bytes, ApiError, ApiJson, ApiPath, BodyCap, BodyTimeout, CreateSessionRequest,
    ExecuteRequest, SessionExecuteRequest, SessionInfo, SessionList,
};
use crate::exec::{self, Target};
use crate::sessions::{Session, Settings};
use crate::state::{AppState, Caller};
use crate::store::Change;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use std::sync::Arc;

type St = State<Arc<AppState>>;

/// Every route, with the body size cap.
pub fn router(state: Arc<AppState>) -> Router {
    let limit = state.config.max_body_bytes;
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .route("/v1/execute", post(execute))
        .route("/v1/sessions", post(create_session).get(list_sessions))
        .route(
            "/v1/sessions/{id}",
            get(session_info).delete(delete_session),
        )
        .route("/v1/sessions/{id}/execute", post(session_execute))
        .route("/v1/sessions/{id}/fork", post(crate::fork::fork_session))
        .route("/v1/sessions/{id}/state", get(get_state).put(put_state))
        .merge(crate::files::routes(state.config.max_file_bytes))
        // After every route (it applies to those already added).
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .fallback(|| async { ApiError::no_endpoint() })
        .layer(DefaultBodyLimit::max(limit))
        .layer(Extension(BodyCap(limit)))
        .layer(Extension(BodyTimeout(state.config.body_read_timeout)))
        .with_state(state)
}

/// Whether the client asked for Server-Sent Events.
fn wants_stream(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/event-stream"))
}

/// Liveness: the process serves HTTP.
#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "alive")))]
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// Readiness: the sandbox image is compiled, loaded and was run once, and
/// the session store (if shared) answers.
#[utoipa::path(get, path = "/readyz", responses(
    (status = 200, description = "ready"),
    (status = 503, description = "still warming up, or the session store is unreachable", body = crate::api::ErrorBody)))]
pub async fn readyz(State(state): St) -> Response {
    match state.check_serving().await {
        Ok(()) => "ready\n".into_response(),
        Err(e) => e.into_response(),
    }
}

/// Prometheus metrics (text exposition).
#[utoipa::path(get, path = "/metrics", responses((status = 200, description = "metrics")))]
pub async fn metrics(State(state): St) -> Response {
    let ct = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    ([(header::CONTENT_TYPE, ct)], state.metrics.render()).into_response()
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", responses((status = 200, description = "OpenAPI 3.1")))]
pub async fn openapi() -> Response {
    Json(crate::openapi::document()).into_response()
}

/// Run code once in a fresh sandbox. With `Accept: text/event-stream`,
/// `stdout`/`stderr` events (`{"text"}`) stream as written, then `result`.
/// `files` are written in first (a refused one is a 400); `output_files`
/// come back as the result's `files` (base64).
#[utoipa::path(post, path = "/v1/execute", request_body = ExecuteRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "the result (also for Python errors and limits)", body = crate::api::ExecutionResult),
        (status = 400, description = "bad input", body = crate::api::ErrorBody),
        (status = 401, description = "no or unknown API key", body = crate::api::ErrorBody),
        (status = 413, description = "body too large", body = crate::api::ErrorBody),
        (status = 429, description = "saturated (see Retry-After)", body = crate::api::ErrorBody)))]
pub async fn execute(
    State(state): St,
    Caller(tenant): Caller,
    headers: HeaderMap,
    ApiJson(req): ApiJson<ExecuteRequest>,
) -> Result<Response, ApiError> {
    state.check_ready()?;
    let limits = state.limits(req.timeout_ms, req.max_memory_bytes)?;
    let cap = state.config.max_file_bytes;
    let target = if state.workers.get().is_some() {
        let hook = headers
            .get("x-eryx-test-hook")
            .and_then(|v| v.to_str().ok());
        state.worker_job(
            limits,
            &tenant.tenant.name,
            req.files,
            req.output_files,
            hook,
        )?
    } else {
        let builder = Box::new(state.builder(limits, &tenant.tenant.name, None));
        match crate::files::FileJob::new(req.files, req.output_files, cap)? {
            Some(job) => Target::OneShotFiles(builder, Box::new(job)),
            None => Target::OneShot(builder),
        }
    };
    exec::execute(
        state.clone(),
        &tenant,
        target,
        req.code,
        wants_stream(&headers),
    )
    .await
}

/// Create a session (limits, TTL, pre-imports and packages from the
/// server's allowlists).
#[utoipa::path(post, path = "/v1/sessions", request_body = CreateSessionRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "created", body = SessionInfo),
        (status = 400, description = "bad input", body = crate::api::ErrorBody),
        (status = 429, description = "the tenant's session cap is reached", body = crate::api::ErrorBody)))]
pub async fn create_session(
    State(state): St,
    Caller(tenant): Caller,
    ApiJson(req): ApiJson<CreateSessionRequest>,
) -> Result<Response, ApiError> {
    state.check_ready()?;
    let l = &state.config.limits;
    let settings = Settings {
        ttl_s: req.ttl_s.unwrap_or(l.session_ttl_s),
        timeout_ms: req.timeout_ms.unwrap_or(l.default_timeout_ms),
        max_memory_bytes: req.max_memory_bytes.unwrap_or(l.default_memory_bytes),
        preimports: req.preimports,
        packages: req.packages,
        exact: req.exact,
    };
    state.check_settings(&settings)?;
    // The id is only known once the session exists; callbacks carry it, so
    // it is made first and the sandbox built with it.
    let id = uuid::Uuid::new_v4().simple().to_string();
    let name = &tenant.tenant.name;
    let sandbox = state.session_placed(&settings, name, &id).await?;
    let session = Arc::new(Session::new(&id, name, sandbox, settings, 0));
    let info = register(&state, session, tenant.tenant.caps.max_sessions).await?;
    state.metrics.sessions.set(state.sessions.live() as i64);
    tracing::info!(tenant = %name, session = %info.id, "session created");
    Ok((StatusCode::CREATED, Json(info)).into_response())
}

/// Register a new session unless its tenant already has `max` (a 429,
/// counted as a `tenant_sessions` rejection).
pub async fn register(
    state: &AppState,
    session: Arc<Session>,
    max: usize,
) -> Result<SessionInfo, ApiError> {
    state.sessions.create(session, max).await.inspect_err(|e| {
        if e.status == StatusCode::TOO_MANY_REQUESTS {
            state.metrics.reject("tenant_sessions");
        }
    })
}

/// The caller's sessions.
#[utoipa::path(get, path = "/v1/sessions", security(("bearer" = [])),
    responses((status = 200, description = "the caller's sessions", body = SessionList)))]
pub async fn list_sessions(
    State(state): St,
    Caller(tenant): Caller,
) -> Result<Json<SessionList>, ApiError> {
    let sessions = state.sessions.list(&tenant.tenant.name).await?;
    Ok(Json(SessionList { sessions }))
}

/// Lock a session for one request (409 while another one runs on it).
pub(crate) async fn checkout(
    state: &AppState,
    tenant: &str,
    id: &str,
) -> Result<crate::store::Checkout, ApiError> {
    state
        .sessions
        .checkout(state, tenant, id)
        .await
        .inspect_err(|e| {
            if e.code == "session_busy" {
                state.metrics.reject("session_busy");
            }
        })
}

/// One session.
#[utoipa::path(get, path = "/v1/sessions/{id}", security(("bearer" = [])),
    params(("id" = String, Path, description = "session id")),
    responses((status = 200, description = "the session", body = SessionInfo),
              (status = 404, description = "no such session", body = crate::api::ErrorBody)))]
pub async fn session_info(
    State(state): St,
    Caller(tenant): Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<SessionInfo>, ApiError> {
    Ok(Json(state.sessions.info(&tenant.tenant.name, &id).await?))
}

/// Run code in a session. One request at a time per session: a second
/// concurrent one gets 409 (at once; with a shared store after waiting up
/// to `--busy-wait-ms`). SSE as for `/v1/execute`.
#[utoipa::path(post, path = "/v1/sessions/{id}/execute", request_body = SessionExecuteRequest,
    security(("bearer" = [])),
    params(("id" = String, Path, description = "session id")),
    responses(
        (status = 200, description = "the result", body = crate::api::ExecutionResult),
        (status = 400, description = "bad input", body = crate::api::ErrorBody),
        (status = 404, description = "no such session", body = crate::api::ErrorBody),
        (status = 409, description = "the session is busy, or changed elsewhere meanwhile (lost_update)", body = crate::api::ErrorBody),
        (status = 429, description = "saturated (see Retry-After)", body = crate::api::ErrorBody),
        (status = 500, description = "the session's stored state is unreadable", body = crate::api::ErrorBody),
        (status = 503, description = "the session store is unavailable", body = crate::api::ErrorBody)))]
pub async fn session_execute(
    State(state): St,
    Caller(tenant): Caller,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<SessionExecuteRequest>,
) -> Result<Response, ApiError> {
    let co = checkout(&state, &tenant.tenant.name, &id).await?;
    let restored = co.restored;
    let target = Target::Session(Box::new(co));
    let mut resp = exec::execute(
        state.clone(),
        &tenant,
        target,
        req.code,
        wants_stream(&headers),
    )
    .await?;
    if let Some(d) = restored {
        // How long loading it from the store took (a miss on this replica).
        let ms = format!("{:.3}", d.as_secs_f64() * 1e3);
        if let Ok(v) = header::HeaderValue::from_str(&ms) {
            resp.headers_mut().insert("eryx-restore-ms", v);
        }
    }
    Ok(resp)
}

/// The session's state (variables, functions, classes, imports) as bytes.
#[utoipa::path(get, path = "/v1/sessions/{id}/state", security(("bearer" = [])),
    params(("id" = String, Path, description = "session id")),
    responses(
        (status = 200, description = "snapshot bytes", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 404, description = "no such session", body = crate::api::ErrorBody),
        (status = 409, description = "the session is busy", body = crate::api::ErrorBody)))]
pub async fn get_state(
    State(state): St,
    Caller(tenant): Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let mut co = checkout(&state, &tenant.tenant.name, &id).await?;
    let _slot = state.scheduler.acquire().await?;
    let bytes = co.sandbox.snapshot(false).await.map_err(|e| {
        e.into_api(|m| ApiError::bad_request(format!("cannot snapshot the session: {m}")))
    })?;
    state.sessions.commit(co, Change::Nothing).await?;
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response())
}

/// Replace the session's state by snapshot bytes (from `GET .../state`;
/// an exact session also takes exact snapshot bytes of the same build).
/// Invalid bytes are a 400 and leave the session as it was.
#[utoipa::path(put, path = "/v1/sessions/{id}/state", security(("bearer" = [])),
    params(("id" = String, Path, description = "session id")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses(
        (status = 204, description = "restored"),
        (status = 400, description = "not a valid snapshot", body = crate::api::ErrorBody),
        (status = 404, description = "no such session", body = crate::api::ErrorBody),
        (status = 409, description = "the session is busy", body = crate::api::ErrorBody)))]
pub async fn put_state(
    State(state): St,
    Caller(tenant): Caller,
    ApiPath(id): ApiPath<String>,
    req: Request,
) -> Result<StatusCode, ApiError> {
    let bytes = body_bytes(req).await?;
    let mut co = checkout(&state, &tenant.tenant.name, &id).await?;
    let _slot = state.scheduler.acquire().await?;
    if !co.session.settings.exact && eryx::Sandbox::is_exact_snapshot(&bytes) {
        return Err(ApiError::bad_request(
            "not a valid session state here: these are exact snapshot bytes, which restore \
             only into a session created with \"exact\": true",
        ));
    }
    co.sandbox.restore(&bytes).await.map_err(|e| {
        e.into_api(|m| ApiError::bad_request(format!("not a valid session state: {m}")))
    })?;
    state
        .sessions
        .commit(co, Change::Restored(bytes.to_vec()))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Drop a session.
#[utoipa::path(delete, path = "/v1/sessions/{id}", security(("bearer" = [])),
    params(("id" = String, Path, description = "session id")),
    responses((status = 204, description = "deleted"),
              (status = 404, description = "no such session", body = crate::api::ErrorBody)))]
pub async fn delete_session(
    State(state): St,
    Caller(tenant): Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    state.sessions.delete(&tenant.tenant.name, &id).await?;
    state.metrics.sessions.set(state.sessions.live() as i64);
    Ok(StatusCode::NO_CONTENT)
}
