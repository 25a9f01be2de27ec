//! Server configuration: command-line flags and environment variables
//! (clap), an optional TOML file (`--config`), and the checks that make a
//! configuration safe to serve (no keys → loopback only). Flags and env
//! override the file.
use clap::Parser;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// `eryx-server`: Python sandboxes as an HTTP/JSON service.
#[derive(Parser, Debug, Clone)]
#[command(name = "eryx-server", version, about)]
pub struct Flags {
    /// Address to listen on (`127.0.0.1:0` picks a free port).
    #[arg(long, env = "ERYX_SERVER_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// TOML configuration file (tenants, limits, packages, callbacks).
    #[arg(long, env = "ERYX_SERVER_CONFIG")]
    pub config: Option<PathBuf>,
    /// Executes that run at once (default: the number of cores).
    #[arg(long, env = "ERYX_SERVER_WORKERS")]
    pub workers: Option<usize>,
    /// Executes that may wait for a worker; past that, 429.
    #[arg(long, env = "ERYX_SERVER_QUEUE")]
    pub queue: Option<usize>,
    /// Log JSON lines instead of text.
    #[arg(long, env = "ERYX_SERVER_LOG_JSON")]
    pub log_json: bool,
    /// API keys as `KEY=TENANT,KEY=TENANT` (added to the file's tenants).
    #[arg(long, env = "ERYX_SERVER_API_KEYS", hide_env_values = true)]
    pub api_keys: Option<String>,
    /// Cap on request bodies in bytes.
    #[arg(long, env = "ERYX_SERVER_MAX_BODY_BYTES")]
    pub max_body_bytes: Option<usize>,
    /// Cap on one uploaded file (`PUT .../files/...`) and on the output
    /// files of one `/v1/execute`, in bytes (default 16 MiB).
    #[arg(long, env = "ERYX_SERVER_MAX_FILE_BYTES")]
    pub max_file_bytes: Option<usize>,
    /// Idle sessions expire after this many seconds (default for new sessions).
    #[arg(long, env = "ERYX_SERVER_SESSION_TTL")]
    pub session_ttl_s: Option<u64>,
    /// On SIGTERM, in-flight work gets this many milliseconds to finish.
    #[arg(long, env = "ERYX_SERVER_SHUTDOWN_GRACE_MS")]
    pub shutdown_grace_ms: Option<u64>,
    /// A connection must send a request's line and headers within this
    /// many milliseconds of waiting for it (also: how long an idle
    /// keep-alive connection stays open); past it, it is closed
    /// (default 30000).
    #[arg(long, env = "ERYX_SERVER_HEADER_READ_TIMEOUT_MS")]
    pub header_read_timeout_ms: Option<u64>,
    /// A request's whole body must arrive within this many milliseconds
    /// of the handler starting to read it; past it, 408 (default 60000).
    #[arg(long, env = "ERYX_SERVER_BODY_READ_TIMEOUT_MS")]
    pub body_read_timeout_ms: Option<u64>,
    /// Where sessions are kept: `memory` (the default: in this process
    /// only), `dir:PATH` (a local directory, so this one server's sessions
    /// survive a restart) or `redis://HOST:PORT[/DB]` (shared: any replica
    /// serves any session).
    #[arg(long, env = "ERYX_SERVER_SESSION_STORE")]
    pub session_store: Option<String>,
    /// Offer a package by name (repeatable): pip resolves it (and its
    /// dependencies) at startup; sessions ask for it in `packages`.
    #[arg(long = "with", value_name = "REQUIREMENT")]
    pub with: Vec<String>,
    /// With a dir or Redis store: live sandboxes kept in this process (LRU).
    #[arg(long, env = "ERYX_SERVER_LIVE_SESSIONS")]
    pub live_sessions: Option<usize>,
    /// With a dir or Redis store: a session lease lasts this long unless renewed
    /// (a dead replica's sessions are free again after it).
    #[arg(long, env = "ERYX_SERVER_LEASE_MS")]
    pub lease_ms: Option<u64>,
    /// With a dir or Redis store: a request on a busy session waits this long
    /// for it, then gets 409.
    #[arg(long, env = "ERYX_SERVER_BUSY_WAIT_MS")]
    pub busy_wait_ms: Option<u64>,
    /// Where one-shot executes run: `in-process` (the default) or
    /// `workers`: a pool of `--workers` child processes, each under a
    /// syscall filter once it has loaded the sandbox image (see
    /// docs/security.md).
    #[arg(long, env = "ERYX_SERVER_ISOLATION", value_parser = ["in-process", "workers"])]
    pub isolation: Option<String>,
    /// With `--isolation workers`: `interruptible` (the default: the
    /// sandbox enforces timeouts and interrupts) or `uninterruptible`
    /// (compiled without epoch checks, faster CPU-bound code; the server
    /// kills a worker at the deadline and starts another).
    #[arg(long, env = "ERYX_SERVER_WORKER_ENGINE", value_parser = ["interruptible", "uninterruptible"])]
    pub worker_engine: Option<String>,
    /// Internal: run as a worker process (started by the server).
    #[arg(long, hide = true)]
    pub worker: bool,
    /// Internal: a worker without epoch checks.
    #[arg(long, hide = true)]
    pub worker_uninterruptible: bool,
    /// Tests only: workers honour the `X-Eryx-Test-Hook` request header
    /// (a worker then tries what the filter must stop).
    #[arg(long, hide = true)]
    pub worker_test_hooks: bool,
}

/// The configuration file (every field optional).
#[derive(Deserialize, Debug, Clone, Default)]
#[serde(deny_unknown_fields, default)]
pub struct FileConfig {
    pub listen: Option<SocketAddr>,
    pub workers: Option<usize>,
    pub queue: Option<usize>,
    pub log_json: Option<bool>,
    pub max_body_bytes: Option<usize>,
    pub max_file_bytes: Option<usize>,
    pub shutdown_grace_ms: Option<u64>,
    pub header_read_timeout_ms: Option<u64>,
    pub body_read_timeout_ms: Option<u64>,
    pub session_store: Option<String>,
    pub live_sessions: Option<usize>,
    pub lease_ms: Option<u64>,
    pub busy_wait_ms: Option<u64>,
    pub limits: Limits,
    pub tenant_defaults: TenantCaps,
    pub tenants: Vec<TenantConfig>,
    /// Packages sessions may ask for by name: name → path (a directory,
    /// wheel, `.py` or WASI `.so`, as `SandboxBuilder::package` takes).
    pub packages: BTreeMap<String, PathBuf>,
    /// Modules sessions may ask to have pre-imported.
    pub allowed_preimports: Vec<String>,
    /// Requirements offered by name (as `--with`).
    pub with: Vec<String>,
    pub callbacks: Vec<CallbackConfig>,
}

/// Defaults and maxima of per-request limits.
#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    pub default_timeout_ms: u64,
    pub max_timeout_ms: u64,
    pub default_memory_bytes: u64,
    pub max_memory_bytes: u64,
    /// Output a call may write (past it: `output_limit` error).
    pub max_output_bytes: usize,
    /// Output kept in the result per stream (the rest is streamed only).
    pub capture_bytes: usize,
    pub session_ttl_s: u64,
    pub max_session_ttl_s: u64,
    pub max_callback_invocations: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            default_timeout_ms: 10_000,
            max_timeout_ms: 300_000,
            default_memory_bytes: 256 << 20,
            max_memory_bytes: 2 << 30,
            max_output_bytes: 16 << 20,
            capture_bytes: 1 << 20,
            session_ttl_s: 600,
            max_session_ttl_s: 86_400,
            max_callback_invocations: 1000,
        }
    }
}

/// Per-tenant caps.
#[derive(Deserialize, Debug, Clone, Copy)]
#[serde(deny_unknown_fields, default)]
pub struct TenantCaps {
    pub max_sessions: usize,
    pub max_concurrent: usize,
}

impl Default for TenantCaps {
    fn default() -> Self {
        TenantCaps {
            max_sessions: 1000,
            max_concurrent: 64,
        }
    }
}

/// One tenant: a name, its API keys and optional caps.
#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    pub name: String,
    pub api_keys: Vec<String>,
    pub max_sessions: Option<usize>,
    pub max_concurrent: Option<usize>,
}

/// An operator-declared callback: guest `await name(**kw)` POSTs to `url`.
#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct CallbackConfig {
    pub name: String,
    pub url: String,
    #[serde(default = "default_callback_timeout")]
    pub timeout_ms: u64,
    #[serde(default)]
    pub description: String,
}

fn default_callback_timeout() -> u64 {
    5_000
}

/// A tenant as the server uses it.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub name: String,
    pub caps: TenantCaps,
}

/// Which session store (`--session-store`).
#[derive(Debug, Clone, PartialEq)]
pub enum StoreKind {
    /// `memory`: in this process only.
    Memory,
    /// `dir:PATH`: snapshots in a local directory (one server).
    Dir(PathBuf),
    /// `redis://...`: shared by replicas.
    Redis(String),
}

impl StoreKind {
    /// Parse a `--session-store` value (absent or empty: memory).
    pub fn parse(spec: Option<&str>) -> Result<StoreKind, String> {
        match spec.map(str::trim) {
            None | Some("") | Some("memory") => Ok(StoreKind::Memory),
            Some(s) if s.starts_with("redis://") => Ok(StoreKind::Redis(s.to_string())),
            Some(s) => match s.strip_prefix("dir:") {
                Some("") => Err("--session-store dir:PATH needs a directory".into()),
                Some(path) => Ok(StoreKind::Dir(PathBuf::from(path))),
                // The value may be a URL with a password: not echoed.
                None => Err("--session-store: expected memory, dir:PATH or                      redis://HOST:PORT[/DB]"
                    .into()),
            },
        }
    }
}

/// Where sessions are kept.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// Which store.
    pub kind: StoreKind,
    /// LRU cap on live sandboxes (dir and Redis stores).
    pub live_sessions: usize,
    /// Lease time of a session's lock (dir and Redis stores).
    pub lease: Duration,
    /// How long a request waits for a busy session before 409.
    pub busy_wait: Duration,
}

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub workers: usize,
    pub queue: usize,
    pub log_json: bool,
    pub max_body_bytes: usize,
    /// Cap on one uploaded file and on one execute's output files.
    pub max_file_bytes: usize,
    pub shutdown_grace: Duration,
    /// Time a connection has to send a request head (and idle keep-alive).
    pub header_read_timeout: Duration,
    /// Time a request has to send its whole body.
    pub body_read_timeout: Duration,
    pub limits: Limits,
    /// API key → tenant. Empty: one default tenant, no authentication.
    pub keys: BTreeMap<String, Tenant>,
    pub default_tenant: Tenant,
    pub packages: BTreeMap<String, PathBuf>,
    pub allowed_preimports: Vec<String>,
    /// Packages by name (`--with`), resolved: canonical name → offer.
    pub offered: BTreeMap<String, crate::offered::Offer>,
    pub callbacks: Vec<CallbackConfig>,
    pub store: StoreConfig,
    /// Worker processes for one-shot executes (`--isolation workers`);
    /// `None`: in this process.
    pub workers_pool: Option<crate::worker::WorkerConfig>,
}

/// Name of the tenant served when no API keys are configured.
pub const DEFAULT_TENANT: &str = "default";

impl Config {
    /// Resolve flags (and the file they name) into a checked configuration.
    pub fn load(flags: Flags) -> Result<Config, String> {
        let file = match &flags.config {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .map_err(|e| format!("cannot read {}: {e}", p.display()))?;
                toml::from_str::<FileConfig>(&text)
                    .map_err(|e| format!("invalid config {}: {e}", p.display()))?
            }
            None => FileConfig::default(),
        };
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let workers = flags.workers.or(file.workers).unwrap_or(cores);
        let mut limits = file.limits.clone();
        if let Some(ttl) = flags.session_ttl_s {
            limits.session_ttl_s = ttl;
        }
        let defaults = file.tenant_defaults;
        let mut keys = BTreeMap::new();
        for t in &file.tenants {
            let tenant = Tenant {
                name: t.name.clone(),
                caps: TenantCaps {
                    max_sessions: t.max_sessions.unwrap_or(defaults.max_sessions),
                    max_concurrent: t.max_concurrent.unwrap_or(defaults.max_concurrent),
                },
            };
            for k in &t.api_keys {
                add_key(&mut keys, k, tenant.clone())?;
            }
        }
        if let Some(spec) = &flags.api_keys {
            for pair in spec.split(',').filter(|p| !p.trim().is_empty()) {
                let (key, name) = pair
                    .split_once('=')
                    .ok_or_else(|| "ERYX_SERVER_API_KEYS: expected KEY=TENANT,...".to_string())?;
                let tenant = Tenant {
                    name: name.trim().to_string(),
                    caps: defaults,
                };
                add_key(&mut keys, key.trim(), tenant)?;
            }
        }
        let workers_pool = Config::load_workers(&flags, workers);
        let config = Config {
            workers_pool,
            listen: flags
                .listen
                .or(file.listen)
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))),
            workers,
            queue: flags.queue.or(file.queue).unwrap_or(workers * 64),
            log_json: flags.log_json || file.log_json.unwrap_or(false),
            max_body_bytes: flags
                .max_body_bytes
                .or(file.max_body_bytes)
                .unwrap_or(4 << 20),
            max_file_bytes: flags
                .max_file_bytes
                .or(file.max_file_bytes)
                .unwrap_or(16 << 20),
            shutdown_grace: Duration::from_millis(
                flags
                    .shutdown_grace_ms
                    .or(file.shutdown_grace_ms)
                    .unwrap_or(10_000),
            ),
            header_read_timeout: Duration::from_millis(
                flags
                    .header_read_timeout_ms
                    .or(file.header_read_timeout_ms)
                    .unwrap_or(30_000),
            ),
            body_read_timeout: Duration::from_millis(
                flags
                    .body_read_timeout_ms
                    .or(file.body_read_timeout_ms)
                    .unwrap_or(60_000),
            ),
            limits,
            keys,
            default_tenant: Tenant {
                name: DEFAULT_TENANT.to_string(),
                caps: defaults,
            },
            packages: file.packages,
            allowed_preimports: file.allowed_preimports,
            offered: crate::offered::resolve(&[file.with, flags.with].concat())?,
            callbacks: file.callbacks,
            store: StoreConfig {
                kind: StoreKind::parse(flags.session_store.or(file.session_store).as_deref())?,
                live_sessions: flags.live_sessions.or(file.live_sessions).unwrap_or(1000),
                lease: Duration::from_millis(flags.lease_ms.or(file.lease_ms).unwrap_or(5000)),
                busy_wait: Duration::from_millis(
                    flags.busy_wait_ms.or(file.busy_wait_ms).unwrap_or(1000),
                ),
            },
        };
        config.check()?;
        Ok(config)
    }

    fn load_workers(flags: &Flags, size: usize) -> Option<crate::worker::WorkerConfig> {
        (flags.isolation.as_deref() == Some("workers")).then(|| crate::worker::WorkerConfig {
            size,
            uninterruptible: flags.worker_engine.as_deref() == Some("uninterruptible"),
            test_hooks: flags.worker_test_hooks,
        })
    }

    fn check(&self) -> Result<(), String> {
        if self.keys.is_empty() && !self.listen.ip().is_loopback() {
            return Err(format!(
                "refusing to listen on {} without API keys: configure tenants \
                 (config file or ERYX_SERVER_API_KEYS) or listen on a loopback address",
                self.listen
            ));
        }
        if self.header_read_timeout < Duration::from_millis(100) {
            return Err("header_read_timeout_ms must be at least 100".into());
        }
        if self.body_read_timeout < Duration::from_millis(100) {
            return Err("body_read_timeout_ms must be at least 100".into());
        }
        if self.workers == 0 {
            return Err("workers must be at least 1".into());
        }
        let l = &self.limits;
        if l.default_timeout_ms == 0 || l.default_timeout_ms > l.max_timeout_ms {
            return Err("limits: need 0 < default_timeout_ms <= max_timeout_ms".into());
        }
        if l.default_memory_bytes == 0 || l.default_memory_bytes > l.max_memory_bytes {
            return Err("limits: need 0 < default_memory_bytes <= max_memory_bytes".into());
        }
        if l.session_ttl_s == 0 || l.session_ttl_s > l.max_session_ttl_s {
            return Err("limits: need 0 < session_ttl_s <= max_session_ttl_s".into());
        }
        let st = &self.store;
        if st.live_sessions == 0 {
            return Err("--live-sessions must be at least 1".into());
        }
        if st.lease < Duration::from_millis(100) {
            return Err("--lease-ms must be at least 100".into());
        }
        for c in &self.callbacks {
            if !c.url.starts_with("http://") && !c.url.starts_with("https://") {
                return Err(format!("callback {}: url must be http(s)", c.name));
            }
        }
        Ok(())
    }
}

fn add_key(keys: &mut BTreeMap<String, Tenant>, key: &str, tenant: Tenant) -> Result<(), String> {
    if key.len() < 8 {
        return Err(format!(
            "API key of tenant {} is too short (at least 8 characters)",
            tenant.name
        ));
    }
    if keys.insert(key.to_string(), tenant).is_some() {
        return Err("the same API key is configured twice".into());
    }
    Ok(())
}
