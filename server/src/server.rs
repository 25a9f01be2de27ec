//! Serving: bind, accept HTTP/1 connections (each with hyper's header read
//! timeout), pre-warm (compile and load the sandbox image, run one
//! sandbox; `/readyz` turns 200 after), expire idle sessions, and shut down
//! gracefully on SIGTERM / Ctrl-C (stop accepting, let in-flight requests
//! finish up to the grace deadline).
use crate::config::Config;
use crate::routes;
use crate::state::AppState;
use axum::serve::{Listener, ListenerExt};
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Why the server stopped with an error.
pub enum Failure {
    /// The configuration cannot be served (e.g. a session directory in use
    /// by another server): the process exits with 2, like a bad flag.
    Config(String),
    /// Anything else (exit 1).
    Other(String),
}

/// Run the server until it is shut down.
pub async fn serve(config: Config) -> Result<(), Failure> {
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|e| Failure::Other(format!("cannot listen on {}: {e}", config.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Failure::Other(e.to_string()))?;
    let grace = config.shutdown_grace;
    let state = AppState::new(config).map_err(Failure::Config)?;
    // One line on stdout for whoever started us (tests, scripts).
    println!("eryx-server listening on http://{addr}");
    let _ = std::io::stdout().flush();
    tracing::info!(%addr, workers = state.config.workers, queue = state.config.queue,
        tenants = if state.config.keys.is_empty() { "default only" } else { "by API key" },
        "listening");
    tokio::spawn(prewarm(state.clone()));
    tokio::spawn(expire_sessions(state.clone()));
    let (stop_tx, mut stop_rx) = watch::channel(false);
    let app = routes::router(state.clone());
    // Small JSON answers go out at once (no Nagle delay).
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let header_timeout = state.config.header_read_timeout;
    let server = serve_http1(listener, app, header_timeout, async move {
        shutdown_signal().await;
        tracing::info!("shutting down: no new connections, finishing in-flight requests");
        let _ = stop_tx.send(true);
    });
    let deadline = async move {
        let _ = stop_rx.wait_for(|stop| *stop).await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        () = server => {},
        () = deadline => tracing::warn!(grace_ms = grace.as_millis() as u64,
            "shutdown deadline passed with requests still in flight"),
    }
    tracing::info!("stopped");
    Ok(())
}

/// Serve `app` on every connection `listener` accepts until `signal`, then
/// wait for the open connections to finish their requests. What
/// `axum::serve` does, plus hyper's header read timeout (`axum::serve`
/// gives hyper no timer, so it never fires): a client that sends its
/// request head slower than `header_timeout` (slowloris), or keeps a
/// connection idle longer, is disconnected instead of holding it forever.
async fn serve_http1<L>(
    mut listener: L,
    app: Router,
    header_timeout: Duration,
    signal: impl Future<Output = ()>,
) where
    L: Listener<Io = tokio::net::TcpStream>,
{
    let graceful = GracefulShutdown::new();
    let mut signal = std::pin::pin!(signal);
    loop {
        // `accept` retries failed accepts itself (e.g. out of descriptors).
        let (io, _peer) = tokio::select! {
            conn = listener.accept() => conn,
            () = &mut signal => break,
        };
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(header_timeout)
            .serve_connection(TokioIo::new(io), TowerToHyperService::new(app.clone()));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection closed with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// Compile (or load from the cache) the sandbox image and run one sandbox,
/// then mark the server ready.
async fn prewarm(state: Arc<AppState>) {
    let start = Instant::now();
    match tokio::task::spawn_blocking(|| eryx::prepare(false)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return tracing::error!(error = %e, "preparing the sandbox image failed"),
        Err(e) => return tracing::error!(error = %e, "preparing the sandbox image panicked"),
    }
    let limits = match state.limits(None, None) {
        Ok(l) => l,
        Err(e) => return tracing::error!(error = %e.message, "default limits"),
    };
    let builder = state.builder(limits, "prewarm", None);
    let ok = match builder.build().await {
        Ok(mut sandbox) => sandbox.run("pass").await.is_ok(),
        Err(e) => {
            tracing::error!(error = %e, "creating the first sandbox failed");
            false
        }
    };
    let ok = ok && start_workers(&state).await;
    if ok {
        state.set_ready();
        tracing::info!(ms = start.elapsed().as_millis() as u64, "ready");
    } else {
        tracing::error!("the pre-warm sandbox failed; staying not ready");
    }
}

/// Start the worker pool if the configuration asks for one (after the
/// image is compiled and cached, so each worker only loads it).
async fn start_workers(state: &Arc<AppState>) -> bool {
    let Some(cfg) = state.config.workers_pool.clone() else {
        return true;
    };
    let start = Instant::now();
    let (size, uninterruptible) = (cfg.size, cfg.uninterruptible);
    // Workers only read the cache: compile their flavors' images here
    // (uninterruptible; or interruptible and exact, for exact sessions).
    let flavor = if uninterruptible {
        eryx::Sandbox::builder().interruptible(false)
    } else {
        eryx::Sandbox::builder().exact(true)
    };
    if let Err(e) = flavor.build().await {
        tracing::error!(error = %e, "compiling the workers' image failed");
        return false;
    }
    match crate::worker::Pool::start(cfg, state.metrics.clone()).await {
        Ok(pool) => {
            let _ = state.workers.set(pool);
            tracing::info!(
                size,
                uninterruptible,
                ms = start.elapsed().as_millis() as u64,
                "worker processes ready"
            );
            true
        }
        Err(e) => {
            tracing::error!(error = %e, "starting the worker processes failed");
            false
        }
    }
}

/// Drop sessions idle past their TTL (also checked on every lookup).
async fn expire_sessions(state: Arc<AppState>) {
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tick.tick().await;
        let gone = state.sessions.expire(Instant::now());
        if !gone.is_empty() {
            for s in &gone {
                tracing::info!(tenant = %s.tenant, session = %s.id, "session expired");
            }
            state.metrics.sessions.set(state.sessions.live() as i64);
        }
    }
}
