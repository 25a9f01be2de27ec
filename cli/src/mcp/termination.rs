//! `DELETE /mcp` (a client ending its session) answers `200 OK`, as the
//! MCP SDKs expect: rmcp 3.11 answers `202 Accepted`, which the official
//! Python SDK logs as "Session termination failed: 202". Only the status of
//! a DELETE that rmcp accepted changes; every other answer passes through.
use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

/// axum middleware (`from_fn`) around the MCP service.
pub async fn session_deleted_is_ok(request: Request, next: Next) -> Response {
    let delete = request.method() == Method::DELETE;
    let mut response = next.run(request).await;
    if delete && response.status() == StatusCode::ACCEPTED {
        *response.status_mut() = StatusCode::OK;
    }
    response
}
