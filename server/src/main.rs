//! `eryx-server`: eryx Python sandboxes as an HTTP/JSON service (see
//! docs/server.md). Modules: `config` (flags, env, file),
//! `api` (wire types, errors, body extraction), `state` (shared state,
//! tenants, sandbox builders), `sessions` (live sessions, LRU), `fork`
//! (forking a session), `store`
//! (the session store: in-process, a local directory, or shared through
//! Redis), `scheduler`
//! (worker slots, queue, tenant caps), `exec` (one execute, SSE,
//! cancellation), `callbacks` (operator HTTP callbacks), `metrics`,
//! `routes`, `openapi`, `server` (serve, pre-warm, expiry, shutdown),
//! `worker` (worker processes under a syscall filter; the same binary
//! with `--worker` is one).
mod api;
mod callbacks;
mod config;
mod exec;
mod files;
mod fork;
mod metrics;
mod offered;
mod openapi;
mod outputs;
mod placed;
mod routes;
mod scheduler;
mod server;
mod sessions;
mod state;
mod store;
mod worker;

use clap::Parser;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let flags = config::Flags::parse();
    if flags.worker {
        return worker::child::main(worker::child::Options {
            uninterruptible: flags.worker_uninterruptible,
            test_hooks: flags.worker_test_hooks,
        });
    }
    let config = match config::Config::load(flags) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("eryx-server: {e}");
            return ExitCode::from(2);
        }
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if config.log_json {
        logs.json().init();
    } else {
        logs.init();
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.workers.max(cores))
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("eryx-server: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(server::serve(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(server::Failure::Config(e)) => {
            eprintln!("eryx-server: {e}");
            ExitCode::from(2)
        }
        Err(server::Failure::Other(e)) => {
            eprintln!("eryx-server: {e}");
            ExitCode::FAILURE
        }
    }
}
