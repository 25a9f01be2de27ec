//! The wire types of the HTTP API (with their OpenAPI schemas), the error
//! response (`ApiError` → status + `{"error": {"code", "message"}}`), and
//! the extractors of a JSON body, path parameters and a query string that
//! turn every malformed one into a JSON 400.
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /v1/execute`: run code once in a fresh sandbox.
#[derive(Deserialize, ToSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct ExecuteRequest {
    /// Python source (top-level `await` allowed).
    pub code: String,
    /// Wall-clock limit in milliseconds (capped by the server maximum).
    pub timeout_ms: Option<u64>,
    /// Cap on guest memory in bytes (capped by the server maximum).
    pub max_memory_bytes: Option<u64>,
    /// Files written into the sandbox before the code runs.
    #[serde(default)]
    pub files: Vec<crate::files::InputFile>,
    /// Files to return after the code ran (also when it failed): guest
    /// paths or globs (`/tmp/*.csv`, `/tmp/**/*.png`), as `files` of the
    /// result.
    #[serde(default)]
    pub output_files: Vec<String>,
}

/// `POST /v1/sessions/{id}/execute`: run code in the session.
#[derive(Deserialize, ToSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct SessionExecuteRequest {
    /// Python source (top-level `await` allowed).
    pub code: String,
}

/// `POST /v1/sessions`: create a session.
#[derive(Deserialize, ToSchema, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct CreateSessionRequest {
    /// Wall-clock limit of each execute, in milliseconds.
    pub timeout_ms: Option<u64>,
    /// Cap on guest memory in bytes.
    pub max_memory_bytes: Option<u64>,
    /// Idle time after which the session is dropped, in seconds.
    pub ttl_s: Option<u64>,
    /// Modules imported into the session's image (from the server's allowlist).
    #[serde(default)]
    pub preimports: Vec<String>,
    /// Packages by name (from the server's allowlist).
    #[serde(default)]
    pub packages: Vec<String>,
    /// An exact session: `POST /v1/sessions/{id}/fork` copies every
    /// object (open sqlite3 connections, generators, open files), and a
    /// shared store (`dir:`/Redis) keeps its whole state, not only what
    /// pickles. Sandboxes of exact sessions cost more to create.
    #[serde(default)]
    pub exact: bool,
}

/// A session as listed and returned on creation.
#[derive(Serialize, ToSchema, Debug, Clone)]
pub struct SessionInfo {
    /// The session id (use it in `/v1/sessions/{id}/...`).
    pub id: String,
    /// Executes run so far.
    pub executes: u64,
    /// Seconds since the session was created.
    pub age_s: f64,
    /// Seconds since it was last used.
    pub idle_s: f64,
    /// Idle expiry in seconds.
    pub ttl_s: u64,
    /// Limit of each execute in milliseconds.
    pub timeout_ms: u64,
    /// Memory cap in bytes.
    pub max_memory_bytes: u64,
    /// Whether it is an exact session (see `exact` of the creation).
    pub exact: bool,
    /// Whether an execute is running right now.
    pub busy: bool,
}

/// `GET /v1/sessions`.
#[derive(Serialize, ToSchema, Debug)]
pub struct SessionList {
    /// The caller's sessions.
    pub sessions: Vec<SessionInfo>,
}

/// An error of the code (`null` in a result when it ran to its end).
#[derive(Serialize, ToSchema)]
pub struct ExecutionError {
    /// Python exception type (`ValueError`, `TimeoutError`, `MemoryError`, ...).
    #[serde(rename = "type")]
    pub type_name: String,
    /// `python`, `exit`, `timeout`, `memory_limit`, `fuel_exhausted`,
    /// `output_limit`, `interrupted`, `state`, `setup` or `trap`.
    pub kind: String,
    /// One-line message.
    pub message: String,
    /// Formatted traceback (empty when not a Python exception).
    pub traceback: String,
}

/// The result of an execute: `eryx::Execution::to_json()`.
#[derive(Serialize, ToSchema)]
pub struct ExecutionResult {
    /// Everything written to stdout (up to the capture limit).
    pub stdout: String,
    /// Everything written to stderr (up to the capture limit).
    pub stderr: String,
    /// `null` on success (always present).
    #[schema(required = true)]
    pub error: Option<ExecutionError>,
    /// 0 ok, 1 exception, n for `SystemExit(n)`, 3 a limit, 130 interrupted.
    pub exit_code: i32,
    /// Wall-clock time of the call.
    pub duration_ms: f64,
    /// Guest linear memory after the call.
    pub peak_memory_bytes: u64,
    /// Host callbacks the code invoked.
    pub callback_invocations: u32,
    /// Whether output was cut at the capture limit.
    pub truncated: bool,
    /// Bytes cut at the capture limit.
    pub truncated_bytes: u64,
    /// Rich results in order: display items, then the last value.
    pub outputs: Vec<crate::outputs::DisplayOutput>,
    /// Only with `output_files` (`POST /v1/execute`): the files asked for,
    /// each path once, in the order asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files: Option<Vec<crate::files::OutputFile>>,
}

/// Body of every error response.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// `{"code", "message"}` of an error response.
#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Machine-readable: `bad_request`, `unauthorized`, `not_found`,
    /// `method_not_allowed`,
    /// `session_busy`, `lost_update`, `too_large`, `saturated`, `not_ready`,
    /// `bad_path`, `file_not_found`,
    /// `store_unavailable`, `state_unreadable`, `internal`.
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
}

/// An error response.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds for `Retry-After` (429/503).
    pub retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// 400: the request is malformed or asks for something not allowed.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 401: no or an unknown API key.
    pub fn unauthorized() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing or unknown API key (Authorization: Bearer KEY)",
        )
    }

    /// 404: no such session for this tenant.
    pub fn no_session() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such session")
    }

    /// 404: no such route.
    pub fn no_endpoint() -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such endpoint (see /openapi.json)",
        )
    }

    /// 405: the path exists, the method does not (`Allow` lists those that do).
    pub fn method_not_allowed() -> ApiError {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this endpoint does not take that method (see Allow and /openapi.json)",
        )
    }

    /// 409: the session is running another request.
    pub fn busy() -> ApiError {
        ApiError::new(
            StatusCode::CONFLICT,
            "session_busy",
            "the session is running another request (one at a time per session)",
        )
    }

    /// 409: the session's state moved on elsewhere while this request ran
    /// (its effects are discarded; the next request sees the newer state).
    pub fn lost_update() -> ApiError {
        ApiError::new(
            StatusCode::CONFLICT,
            "lost_update",
            "the session was changed by another request meanwhile; this request's \
             changes were not saved (retry on the newer state)",
        )
    }

    /// 429: the tenant's session cap is reached.
    pub fn session_cap() -> ApiError {
        ApiError::saturated("the tenant already has its maximum number of sessions")
    }

    /// 503 with `Retry-After`: the shared session store does not answer.
    pub fn store_unavailable() -> ApiError {
        ApiError {
            retry_after: Some(1),
            ..ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "store_unavailable",
                "the session store is unavailable; retry later",
            )
        }
    }

    /// 500: the session's entry in the store is corrupt or foreign bytes.
    pub fn state_unreadable() -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "state_unreadable",
            "the session state in the store is unreadable (corrupt or not written by \
             this server); delete the session",
        )
    }

    /// 429 with `Retry-After`.
    pub fn saturated(message: impl Into<String>) -> ApiError {
        ApiError {
            retry_after: Some(1),
            ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, "saturated", message)
        }
    }

    /// 503 with `Retry-After`: still warming up or shutting down.
    pub fn not_ready(message: impl Into<String>) -> ApiError {
        ApiError {
            retry_after: Some(1),
            ..ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "not_ready", message)
        }
    }

    /// 500: a failure of the server itself (never for bad input).
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: self.message,
            },
        };
        let mut resp = (self.status, axum::Json(body)).into_response();
        if let Some(s) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        // A body refused before it was read (too large, too slow) leaves
        // the rest of it on the connection, so hyper closes it after this
        // answer; saying so keeps a pooling client from sending its next
        // request down a connection that is about to go.
        if matches!(
            self.status,
            StatusCode::PAYLOAD_TOO_LARGE | StatusCode::REQUEST_TIMEOUT
        ) {
            resp.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        resp
    }
}

/// Whether a request's content type is JSON (or not given).
fn is_json(req: &Request) -> bool {
    match req.headers().get(header::CONTENT_TYPE) {
        // No type is JSON only from a client that is not a web page: a
        // browser's `fetch` with a typeless `Blob` body needs no preflight
        // but always carries `Origin`.
        None => !req.headers().contains_key(header::ORIGIN),
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|s| s.split(';').next())
            .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json")),
    }
}

/// The body cap of a route (set with [`DefaultBodyLimit`] by the router),
/// kept where [`body_bytes`] can see it: a declared `Content-Length` past
/// it is refused before any of the body is read.
///
/// [`DefaultBodyLimit`]: axum::extract::DefaultBodyLimit
#[derive(Clone, Copy, Debug)]
pub struct BodyCap(pub usize);

/// The time a request's body has to arrive (`--body-read-timeout-ms`), as
/// a request extension.
#[derive(Clone, Copy)]
pub struct BodyTimeout(pub std::time::Duration);

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        "request body too large",
    )
}

/// The raw body, with the size cap answered as 413: at once when the
/// declared length is past it (no `100 Continue`, no wait for a body that
/// may never come), else as soon as more than the cap arrived.
pub async fn body_bytes(req: Request) -> Result<Bytes, ApiError> {
    let limit = req.extensions().get::<BodyTimeout>().map(|t| t.0);
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let (Some(BodyCap(cap)), Some(len)) = (req.extensions().get::<BodyCap>(), declared) {
        if len > *cap as u64 {
            return Err(too_large());
        }
    }
    let read = Bytes::from_request(req, &());
    let read = match limit {
        Some(limit) => tokio::time::timeout(limit, read)
            .await
            .map_err(|_| ApiError {
                status: StatusCode::REQUEST_TIMEOUT,
                code: "body_timeout",
                message: format!(
                    "the request body did not arrive within {} ms",
                    limit.as_millis()
                ),
                retry_after: None,
            })?,
        None => read.await,
    };
    read.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            ApiError::bad_request(format!("cannot read the request body: {e}"))
        }
    })
}

/// A JSON body: every way it can be wrong (syntax, unknown or missing
/// fields, wrong types, invalid UTF-8) is a 400 naming the problem. The
/// content type must be JSON (or absent, from a client that sends no
/// `Origin`): a browser cannot send that cross-origin without a CORS
/// preflight, which this server never grants.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        if !is_json(&req) {
            return Err(ApiError::bad_request(
                "expected a JSON body (Content-Type: application/json)",
            ));
        }
        let bytes = body_bytes(req).await?;
        // An empty body is an empty object (all defaults, where allowed).
        let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &bytes
        };
        serde_json::from_slice(bytes)
            .map(ApiJson)
            .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
    }
}

/// Path parameters (`{id}`, `{*path}`): a segment that is not UTF-8 once
/// percent-decoded is a JSON 400 like every other bad input (axum's own
/// rejection is plain text).
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(ApiPath(v)),
            Err(e) if e.status().is_client_error() => Err(ApiError::bad_request(e.body_text())),
            Err(e) => Err(ApiError::internal(e.body_text())),
        }
    }
}

/// A query string: unknown keys, wrong types and repeated keys are a JSON
/// 400 (axum's own rejection is plain text).
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| ApiQuery(v))
            .map_err(|e| ApiError::bad_request(e.body_text()))
    }
}
