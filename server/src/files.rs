//! Files in and out of sandboxes over HTTP: `PUT/GET/DELETE
//! /v1/sessions/{id}/files/{path}` and the listing `GET
//! /v1/sessions/{id}/files?dir=...` on a session's virtual filesystem (the
//! library's files API: same caps and path rules as the guest), and the
//! input/output files of a one-shot `/v1/execute` (base64 in JSON, output
//! by path or glob). Uploads are capped by `max_file_bytes` (the body is
//! refused with 413 past it, never buffered beyond it); a session's files
//! are counted against its file cap and saved with its state, so they
//! move with it between replicas.
use crate::api::{body_bytes, ApiError, ApiPath, ApiQuery, BodyCap};
use crate::routes::checkout;
use crate::state::{AppState, Caller};
use crate::store::Change;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use eryx::{FileError, FileErrorKind, Sandbox};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

type St = State<Arc<AppState>>;

/// The files routes, with uploads capped at `max_file_bytes`.
pub fn routes(max_file_bytes: usize) -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/sessions/{id}/files", get(list_files))
        .route(
            "/v1/sessions/{id}/files/{*path}",
            get(get_file).put(put_file).delete(delete_file),
        )
        .layer(DefaultBodyLimit::max(max_file_bytes))
        .layer(Extension(BodyCap(max_file_bytes)))
}

/// The API error for a refused files call: 404 when nothing is there,
/// 413 past the session's file cap, 400 for every other refusal.
pub fn file_error(e: &FileError) -> ApiError {
    let (status, code) = match e.kind {
        FileErrorKind::NotFound => (StatusCode::NOT_FOUND, "file_not_found"),
        FileErrorKind::NoSpace => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
        _ => (StatusCode::BAD_REQUEST, "bad_path"),
    };
    ApiError {
        status,
        code,
        message: e.to_string(),
        retry_after: None,
    }
}

/// The guest path of a `{*path}` route segment (always absolute).
fn guest_path(path: &str) -> String {
    format!("/{path}")
}

/// One entry of a directory listing.
#[derive(Serialize, ToSchema)]
pub struct FileInfo {
    /// Name in its directory.
    pub name: String,
    /// Absolute guest path.
    pub path: String,
    /// `file`, `directory` or `symlink`.
    pub kind: String,
    /// Bytes (files; 0 otherwise).
    pub size: u64,
}

impl From<eryx::FileEntry> for FileInfo {
    fn from(e: eryx::FileEntry) -> FileInfo {
        FileInfo {
            kind: e.kind.as_str().to_string(),
            name: e.name,
            path: e.path,
            size: e.size,
        }
    }
}

/// `GET /v1/sessions/{id}/files`.
#[derive(Serialize, ToSchema)]
pub struct FileList {
    /// The entries, by name (or, with `recursive`, every file by path).
    pub files: Vec<FileInfo>,
}

/// Query of the listing.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Guest directory (default `/home/user`, the working directory).
    pub dir: Option<String>,
    /// Every file below `dir` at any depth instead of its entries.
    #[serde(default)]
    pub recursive: bool,
}

/// List a directory of the session's files.
#[utoipa::path(get, path = "/v1/sessions/{id}/files", security(("bearer" = [])),
    params(("id" = String, Path, description = "session id"), ListQuery),
    responses(
        (status = 200, description = "the entries", body = FileList),
        (status = 400, description = "a path with `..`, under a host mount, or not a directory", body = crate::api::ErrorBody),
        (status = 404, description = "no such session or directory", body = crate::api::ErrorBody)))]
pub async fn list_files(
    State(state): St,
    Caller(tenant): Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<FileList>, ApiError> {
    let mut co = checkout(&state, &tenant.tenant.name, &id).await?;
    let dir = q.dir.unwrap_or_else(|| "/home/user".to_string());
    let r = co.sandbox.files(&dir, q.recursive).await;
    state.sessions.commit(co, Change::Nothing).await?;
    let files = r.map_err(refused)?;
    Ok(Json(FileList {
        files: files.into_iter().map(FileInfo::from).collect(),
    }))
}

/// Download a file of the session (its bytes).
#[utoipa::path(get, path = "/v1/sessions/{id}/files/{path}", security(("bearer" = [])),
    params(("id" = String, Path, description = "session id"),
           ("path" = String, Path, description = "guest path without the leading `/`, e.g. `tmp/out.csv`")),
    responses(
        (status = 200, description = "the file's bytes", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 400, description = "a path with `..`, under a host mount, a directory or a symlink", body = crate::api::ErrorBody),
        (status = 404, description = "no such session or file", body = crate::api::ErrorBody)))]
pub async fn get_file(
    State(state): St,
    Caller(tenant): Caller,
    ApiPath((id, path)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    let mut co = checkout(&state, &tenant.tenant.name, &id).await?;
    let r = co.sandbox.read_file(&guest_path(&path)).await;
    state.sessions.commit(co, Change::Nothing).await?;
    let bytes = r.map_err(refused)?;
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response())
}

/// Upload a file into the session (the body is its bytes; missing
/// directories are made below `/tmp` and `/home/user`). Saved with the
/// session's state.
#[utoipa::path(put, path = "/v1/sessions/{id}/files/{path}", security(("bearer" = [])),
    params(("id" = String, Path, description = "session id"),
           ("path" = String, Path, description = "guest path without the leading `/`, e.g. `tmp/in.csv`")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses(
        (status = 204, description = "written"),
        (status = 400, description = "a path with `..`, under a host mount, a directory or a symlink", body = crate::api::ErrorBody),
        (status = 404, description = "no such session, or the directory does not exist", body = crate::api::ErrorBody),
        (status = 409, description = "the session is busy", body = crate::api::ErrorBody),
        (status = 413, description = "over max_file_bytes or the session's file cap", body = crate::api::ErrorBody)))]
pub async fn put_file(
    State(state): St,
    Caller(tenant): Caller,
    ApiPath((id, path)): ApiPath<(String, String)>,
    req: Request,
) -> Result<StatusCode, ApiError> {
    let bytes = body_bytes(req).await?;
    let path = guest_path(&path);
    change(&state, &tenant.tenant.name, &id, Edit::Write(&path, &bytes)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove a file (or symlink, or empty directory) of the session.
#[utoipa::path(delete, path = "/v1/sessions/{id}/files/{path}", security(("bearer" = [])),
    params(("id" = String, Path, description = "session id"),
           ("path" = String, Path, description = "guest path without the leading `/`")),
    responses(
        (status = 204, description = "removed"),
        (status = 400, description = "a bad path, or a directory that is not empty", body = crate::api::ErrorBody),
        (status = 404, description = "no such session or file", body = crate::api::ErrorBody)))]
pub async fn delete_file(
    State(state): St,
    Caller(tenant): Caller,
    ApiPath((id, path)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let path = guest_path(&path);
    change(&state, &tenant.tenant.name, &id, Edit::Remove(&path)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A change to a session's files.
enum Edit<'a> {
    Write(&'a str, &'a [u8]),
    Remove(&'a str),
}

/// Apply `edit` to the session's sandbox and save the new state (nothing
/// is saved when it was refused).
async fn change(state: &AppState, tenant: &str, id: &str, edit: Edit<'_>) -> Result<(), ApiError> {
    let mut co = checkout(state, tenant, id).await?;
    let _slot = state.scheduler.acquire().await?;
    let r = match edit {
        Edit::Write(path, bytes) => co.sandbox.write_file(path, bytes).await,
        Edit::Remove(path) => co.sandbox.remove_file(path).await,
    };
    match r {
        Ok(()) => state.sessions.commit(co, Change::Files).await,
        Err(e) => {
            state.sessions.commit(co, Change::Nothing).await?;
            Err(refused(e))
        }
    }
}

/// The request's error for a failed files operation.
fn refused(e: crate::placed::Failed) -> ApiError {
    e.into_api(ApiError::bad_request)
}

/// An input file of a one-shot execute.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct InputFile {
    /// Guest path (relative: from `/home/user`).
    pub path: String,
    /// The bytes, base64 (standard alphabet, padded).
    pub content_base64: String,
}

/// An output file of a one-shot execute.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct OutputFile {
    /// Absolute guest path.
    pub path: String,
    /// Bytes.
    pub size: u64,
    /// The bytes, base64; absent when `error` says why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_base64: Option<String>,
    /// Why the file is not returned (missing, or over the response cap).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What a one-shot execute puts in before and takes out after the code.
pub struct FileJob {
    input: Vec<(String, Vec<u8>)>,
    /// Exact paths, or globs with their walk root.
    output: Vec<Wanted>,
    /// Cap on the bytes of all output files together.
    cap: usize,
}

enum Wanted {
    Path(String),
    Glob {
        pattern: String,
        root: String,
        matcher: globset::GlobMatcher,
    },
}

/// Whether `s` has glob syntax.
fn is_glob(s: &str) -> bool {
    s.contains(['*', '?', '[', '{'])
}

impl FileJob {
    /// The job a request asks for (`None`: no files either way). Bad
    /// base64 or a bad glob is a 400 before anything runs.
    pub fn new(
        input: Vec<InputFile>,
        output: Vec<String>,
        cap: usize,
    ) -> Result<Option<FileJob>, ApiError> {
        if input.is_empty() && output.is_empty() {
            return Ok(None);
        }
        let input = input
            .into_iter()
            .map(|f| match B64.decode(f.content_base64.as_bytes()) {
                Ok(b) => Ok((f.path, b)),
                Err(e) => Err(ApiError::bad_request(format!(
                    "files: {:?} is not valid base64: {e}",
                    f.path
                ))),
            })
            .collect::<Result<_, _>>()?;
        let output = output.into_iter().map(wanted).collect::<Result<_, _>>()?;
        Ok(Some(FileJob { input, output, cap }))
    }

    /// Write the input files (a refused one is the request's 400).
    pub fn put_inputs(&self, sandbox: &mut Sandbox) -> Result<(), ApiError> {
        for (path, bytes) in &self.input {
            sandbox.write_file(path, bytes).map_err(|e| {
                let mut err = file_error(&e);
                err.message = format!("files: {}", err.message);
                err
            })?;
        }
        Ok(())
    }

    /// The output files after the code ran (also when it failed).
    pub fn outputs(&self, sandbox: &mut Sandbox) -> Vec<OutputFile> {
        let mut paths: Vec<String> = Vec::new();
        let mut missing = Vec::new();
        for w in &self.output {
            match w {
                Wanted::Path(p) => paths.push(p.clone()),
                Wanted::Glob {
                    pattern,
                    root,
                    matcher,
                } => match sandbox.walk_files(root) {
                    Ok(found) => paths.extend(
                        found
                            .into_iter()
                            .filter(|e| matcher.is_match(&e.path))
                            .map(|e| e.path),
                    ),
                    Err(_) => missing.push(pattern.clone()),
                },
            }
        }
        let mut seen = std::collections::HashSet::new();
        paths.retain(|p| seen.insert(p.clone()));
        let mut left = self.cap as u64;
        let mut out: Vec<OutputFile> = paths
            .into_iter()
            .map(|path| match sandbox.read_file(&path) {
                Ok(b) if (b.len() as u64) <= left => {
                    left -= b.len() as u64;
                    OutputFile {
                        path,
                        size: b.len() as u64,
                        content_base64: Some(B64.encode(&b)),
                        error: None,
                    }
                }
                Ok(b) => OutputFile {
                    path,
                    size: b.len() as u64,
                    content_base64: None,
                    error: Some(format!(
                        "not returned: the output files of one execute are capped at {} bytes",
                        self.cap
                    )),
                },
                Err(e) => OutputFile {
                    path,
                    size: 0,
                    content_base64: None,
                    error: Some(e.reason),
                },
            })
            .collect();
        out.extend(missing.into_iter().map(|path| OutputFile {
            path,
            size: 0,
            content_base64: None,
            error: Some("the glob's directory does not exist".to_string()),
        }));
        out
    }
}

/// An output spec: an exact path, or a glob (`*` within one name, `**`
/// across directories) matched against absolute paths.
fn wanted(spec: String) -> Result<Wanted, ApiError> {
    if !is_glob(&spec) {
        return Ok(Wanted::Path(spec));
    }
    let full = if spec.starts_with('/') {
        spec.clone()
    } else {
        format!("/home/user/{spec}")
    };
    let fixed: Vec<&str> = full
        .split('/')
        .take_while(|c| !is_glob(c))
        .filter(|c| !c.is_empty())
        .collect();
    let root = format!("/{}", fixed.join("/"));
    let matcher = globset::GlobBuilder::new(&full)
        .literal_separator(true)
        .build()
        .map_err(|e| ApiError::bad_request(format!("output_files: bad glob {spec:?}: {e}")))?
        .compile_matcher();
    Ok(Wanted::Glob {
        pattern: spec,
        root,
        matcher,
    })
}
