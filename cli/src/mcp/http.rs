//! `eryx mcp --listen ADDR`: the streamable-HTTP transport (rmcp's
//! `StreamableHttpService`, served by axum at `/mcp`). Each MCP session
//! gets its own handler and so its own Python session; its sandbox is built
//! on its first tool call. Requests on the session-less protocol revision
//! (2026-07-28) get a handler each, so for them every call is stateless.
//! Who may connect is `access`'s business.
use super::access;
use super::options::Access;
use super::server::{Server, Shared};
use super::session::Session;
use rmcp::transport::streamable_http_server::{
    session::local::LocalSessionManager, StreamableHttpServerConfig, StreamableHttpService,
};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Serve until Ctrl-C.
pub async fn serve(shared: Arc<Shared>, addr: &str, access: &Access) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    let stop = CancellationToken::new();
    let config = StreamableHttpServerConfig::default().with_cancellation_token(stop.child_token());
    let config = access::restrict(config, access, local);
    let factory = {
        let shared = shared.clone();
        move || {
            let session = Session::start(shared.options.clone(), None);
            Ok(Server::new(shared.clone(), session))
        }
    };
    let service: StreamableHttpService<Server, LocalSessionManager> =
        StreamableHttpService::new(factory, Arc::new(LocalSessionManager::default()), config);
    let mut app =
        axum::Router::new()
            .nest_service("/mcp", service)
            .layer(axum::middleware::from_fn(
                super::termination::session_deleted_is_ok,
            ));
    if let Some(token) = &access.token {
        let token: access::Token = Arc::new(token.as_bytes().to_vec());
        app = app.layer(axum::middleware::from_fn_with_state(
            token,
            access::require_token,
        ));
    }
    eprintln!("eryx mcp: serving MCP (streamable HTTP) at http://{local}/mcp");
    let shutdown = stop.clone();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        shutdown.cancel();
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { stop.cancelled_owned().await })
        .await
        .map_err(|e| format!("HTTP server failed: {e}"))
}
