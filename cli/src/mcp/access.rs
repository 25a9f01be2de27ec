//! Who may use `eryx mcp --listen`: a request must carry the bearer token
//! when one is configured (compared in constant time), come from an allowed
//! browser `Origin` if it names one (loopback origins, plus
//! `--allow-origin`), and name an allowed `Host` (loopback names, the
//! listen address, plus `--server-name`; DNS-rebinding protection). The
//! `Origin` and `Host` checks are rmcp's (configured here); the token is an
//! axum layer in front of the MCP service.
use super::options::Access;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::transport::streamable_http_server::StreamableHttpServerConfig;
use std::net::SocketAddr;
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// Origins a browser page served from this machine sends.
const LOOPBACK_ORIGINS: [&str; 6] = [
    "http://localhost:*",
    "http://127.0.0.1:*",
    "http://[::1]:*",
    "https://localhost:*",
    "https://127.0.0.1:*",
    "https://[::1]:*",
];

/// `config` with the `Origin` and `Host` allow-lists for a server bound to
/// `local`.
pub fn restrict(
    config: StreamableHttpServerConfig,
    access: &Access,
    local: SocketAddr,
) -> StreamableHttpServerConfig {
    let origins = LOOPBACK_ORIGINS
        .iter()
        .map(|o| o.to_string())
        .chain(access.origins.iter().cloned());
    let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "::1"].map(String::from).into();
    if !local.ip().is_unspecified() {
        hosts.push(local.ip().to_string());
    }
    hosts.extend(access.server_names.iter().cloned());
    config
        .with_allowed_origins(origins)
        .enforce_origin_validation()
        .with_allowed_hosts(hosts)
}

/// The axum layer's state: the token's bytes.
pub type Token = Arc<Vec<u8>>;

/// Pass the request on only if it carries `Authorization: Bearer TOKEN`.
pub async fn require_token(State(token): State<Token>, req: Request, next: Next) -> Response {
    let ok = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "))
        .is_some_and(|given| bool::from(given.ct_eq(token.as_slice())));
    if ok {
        return next.run(req).await;
    }
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer")],
        "Unauthorized: this eryx mcp server needs `Authorization: Bearer <token>`",
    )
        .into_response()
}
