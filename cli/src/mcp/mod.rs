//! `eryx mcp`: the sandbox as a Model Context Protocol tool server, on
//! stdio (default) or streamable HTTP (`--listen`), built on the official
//! Rust SDK (rmcp). Submodules: `options` (command line), `network` (the
//! network policy in words), `tools` (tool definitions, arguments,
//! results), `session` (the task that owns one session's sandbox), `server`
//! (the rmcp handler), `stdio` (the stdio front: parse errors, end of
//! input), `http` (streamable HTTP), `termination` (its DELETE answer),
//! `access` (who may use it: bearer token, `Origin` and `Host` allow-lists),
//! `files` (upload/download tools).
mod access;
mod files;
mod http;
mod network;
mod options;
mod outputs;
mod server;
mod session;
mod stdio;
mod termination;
mod tools;

use options::{Command, Options};
use rmcp::ServiceExt;
use server::{Server, Shared};
use session::Session;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// Learns the Python version and importable packages (see the file).
const PROBE: &str = include_str!("probe.py");

/// Run `eryx mcp` with `argv` (the arguments after `mcp`).
pub fn main(argv: Vec<String>) -> ExitCode {
    let options = match options::parse(argv, std::env::var(options::TOKEN_ENV).ok()) {
        Ok(Command::Help) => {
            println!("{}", options::USAGE);
            return ExitCode::SUCCESS;
        }
        Ok(Command::Serve(o)) => *o,
        Err(msg) => {
            eprintln!("eryx mcp: error: {msg}\n{}", options::USAGE);
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("eryx mcp: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = rt.block_on(run(Arc::new(options)));
    // A blocked read of stdin must not keep the process alive.
    rt.shutdown_timeout(Duration::from_millis(200));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("eryx mcp: {msg}");
            ExitCode::from(1)
        }
    }
}

async fn run(options: Arc<Options>) -> Result<(), String> {
    let env = probe(&options).await?;
    let shared = Arc::new(Shared::new(options.clone(), &env));
    match &options.listen {
        Some(addr) => http::serve(shared, addr, &options.access).await,
        None => serve_stdio(shared).await,
    }
}

/// What the tool descriptions should say, asked of a throw-away sandbox
/// (which also checks the sandbox flags before any client is served).
async fn probe(options: &Options) -> Result<tools::Environment, String> {
    let mut sb = options.build_sandbox().await?;
    let run = sb.run(PROBE).await;
    if let Some(e) = run.error {
        return Err(format!("probing the sandbox failed: {e}"));
    }
    serde_json::from_str(run.stdout.trim())
        .map_err(|e| format!("probing the sandbox gave unexpected output ({e})"))
}

/// One MCP connection over stdin/stdout.
async fn serve_stdio(shared: Arc<Shared>) -> Result<(), String> {
    let sandbox = shared.options.build_sandbox().await?;
    let session = Session::start(shared.options.clone(), Some(sandbox));
    let (transport, closed) = stdio::start();
    let running = match Server::new(shared, session.clone()).serve(transport).await {
        Ok(r) => r,
        Err(e) => {
            // The client left (or never spoke MCP) before initialising.
            eprintln!("eryx mcp: no MCP session: {e}");
            return Ok(());
        }
    };
    let waiting = running.waiting();
    tokio::pin!(waiting);
    tokio::select! {
        _ = &mut waiting => {}
        _ = closed => {
            // The client went away: stop its code now, then let rmcp finish.
            session.close();
            let _ = waiting.await;
        }
    }
    Ok(())
}
