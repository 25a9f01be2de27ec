//! The shared server state (configuration, tenants, session store,
//! scheduler, metrics, readiness), the caller's tenant from its bearer key,
//! and the one place that turns request limits and session settings into a
//! configured sandbox builder.
use crate::api::ApiError;
use crate::callbacks::{self, Identity};
use crate::config::Config;
use crate::metrics::Metrics;
use crate::placed::Placed;
use crate::scheduler::{Scheduler, TenantState};
use crate::sessions::Settings;
use crate::store::{self, SessionStore};
use crate::worker::remote::Remote;
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use eryx::{Sandbox, SandboxBuilder};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Everything the handlers share.
pub struct AppState {
    pub config: Config,
    /// API key → tenant (empty: no authentication, one default tenant).
    keys: BTreeMap<String, Arc<TenantState>>,
    default_tenant: Arc<TenantState>,
    pub sessions: Box<dyn SessionStore>,
    pub scheduler: Scheduler,
    pub metrics: Arc<Metrics>,
    /// Client for operator callbacks.
    pub http: reqwest::Client,
    /// The worker processes (`--isolation workers`), once started.
    pub workers: OnceLock<Arc<crate::worker::Pool>>,
    ready: AtomicBool,
}

/// Limits of one sandbox, already checked against the server maxima.
#[derive(Clone, Copy, Debug)]
pub struct SandboxLimits {
    pub timeout: Duration,
    pub max_memory: u64,
}

impl AppState {
    /// State for `config` (an invalid store URL is an error).
    pub fn new(config: Config) -> Result<Arc<AppState>, String> {
        let metrics = Arc::new(Metrics::new());
        let mut by_name: BTreeMap<String, Arc<TenantState>> = BTreeMap::new();
        let mut keys = BTreeMap::new();
        for (key, tenant) in &config.keys {
            let t = by_name
                .entry(tenant.name.clone())
                .or_insert_with(|| Arc::new(TenantState::new(tenant.clone())))
                .clone();
            keys.insert(key.clone(), t);
        }
        let sessions = store::open(&config)?;
        Ok(Arc::new(AppState {
            scheduler: Scheduler::new(config.workers, config.queue, metrics.clone()),
            default_tenant: Arc::new(TenantState::new(config.default_tenant.clone())),
            keys,
            sessions,
            metrics,
            http: reqwest::Client::new(),
            workers: OnceLock::new(),
            ready: AtomicBool::new(false),
            config,
        }))
    }

    /// Whether the sandbox image is compiled and loaded.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }

    /// Mark the server ready (after pre-warming).
    pub fn set_ready(&self) {
        self.ready.store(true, Ordering::SeqCst);
    }

    /// 503 until ready.
    pub fn check_ready(&self) -> Result<(), ApiError> {
        if self.is_ready() {
            Ok(())
        } else {
            Err(ApiError::not_ready("the server is still warming up"))
        }
    }

    /// Ready and the session store answers (for `/readyz`).
    pub async fn check_serving(&self) -> Result<(), ApiError> {
        self.check_ready()?;
        self.sessions.ping().await
    }

    /// The tenant an `Authorization` header value names.
    fn tenant_for(&self, auth: Option<&str>) -> Result<Arc<TenantState>, ApiError> {
        if self.keys.is_empty() {
            return Ok(self.default_tenant.clone());
        }
        // The scheme name is case-insensitive (RFC 9110 §11.1).
        let key = auth
            .and_then(|a| a.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, key)| key.trim())
            .ok_or_else(ApiError::unauthorized)?;
        self.keys
            .get(key)
            .cloned()
            .ok_or_else(ApiError::unauthorized)
    }

    /// Check requested limits against the server's (absent: defaults).
    pub fn limits(
        &self,
        timeout_ms: Option<u64>,
        max_memory: Option<u64>,
    ) -> Result<SandboxLimits, ApiError> {
        let l = &self.config.limits;
        let timeout = timeout_ms.unwrap_or(l.default_timeout_ms);
        if timeout == 0 || timeout > l.max_timeout_ms {
            return Err(ApiError::bad_request(format!(
                "timeout_ms must be between 1 and {}",
                l.max_timeout_ms
            )));
        }
        let memory = max_memory.unwrap_or(l.default_memory_bytes);
        // Below ~32 MiB the interpreter itself does not fit.
        let min_memory = 32 << 20;
        if memory < min_memory || memory > l.max_memory_bytes {
            return Err(ApiError::bad_request(format!(
                "max_memory_bytes must be between {min_memory} and {}",
                l.max_memory_bytes
            )));
        }
        Ok(SandboxLimits {
            timeout: Duration::from_millis(timeout),
            max_memory: memory,
        })
    }

    /// Package paths for `names`, every one from the allowlist (the
    /// `[packages]` table or the `--with` set), and the modules to
    /// pre-import for the `--with` ones.
    pub fn packages(&self, names: &[String]) -> Result<(Vec<PathBuf>, Vec<String>), ApiError> {
        let (mut paths, mut modules) = (Vec::new(), Vec::new());
        for n in names {
            if let Some(p) = self.config.packages.get(n) {
                paths.push(p.clone());
            } else if let Some(o) = self.config.offered.get(&crate::offered::canonical(n)) {
                paths.extend(
                    o.wheels
                        .iter()
                        .filter(|w| !paths.contains(w))
                        .cloned()
                        .collect::<Vec<_>>(),
                );
                modules.extend(o.modules.iter().cloned());
            } else {
                let offered: Vec<String> = self
                    .config
                    .packages
                    .keys()
                    .cloned()
                    .chain(
                        self.config
                            .offered
                            .iter()
                            .map(|(k, o)| format!("{k} {}", o.version)),
                    )
                    .collect();
                return Err(ApiError::bad_request(format!(
                    "package {n:?} is not offered by this server (offered: {offered:?})"
                )));
            }
        }
        Ok((paths, modules))
    }

    /// Check pre-imports against the allowlist.
    pub fn check_preimports(&self, modules: &[String]) -> Result<(), ApiError> {
        match modules
            .iter()
            .find(|m| !self.config.allowed_preimports.contains(m))
        {
            Some(m) => Err(ApiError::bad_request(format!(
                "pre-import {m:?} is not allowed by this server (allowed: {:?})",
                self.config.allowed_preimports
            ))),
            None => Ok(()),
        }
    }

    /// A builder for a sandbox of `tenant` (and `session`) with `limits`.
    pub fn builder(
        &self,
        limits: SandboxLimits,
        tenant: &str,
        session: Option<&str>,
    ) -> SandboxBuilder {
        let l = &self.config.limits;
        let builder = Sandbox::builder()
            .timeout(limits.timeout)
            .max_memory(usize::try_from(limits.max_memory).unwrap_or(usize::MAX))
            .max_output(l.max_output_bytes)
            .capture_limit(l.capture_bytes)
            .max_callback_invocations(l.max_callback_invocations);
        let who = Identity {
            tenant: tenant.to_string(),
            session: session.map(str::to_string),
        };
        callbacks::register(builder, &self.config.callbacks, &self.http, &who)
    }
}

impl AppState {
    /// A one-shot execute for a worker process (`--isolation workers`):
    /// the same limits and callbacks as [`Self::builder`] gives, the files
    /// checked here (a 400 before anything runs); the code is added when
    /// it runs. `hook`: a test-only misbehaviour, kept only when the
    /// server was started with `--worker-test-hooks`.
    pub fn worker_job(
        &self,
        limits: SandboxLimits,
        tenant: &str,
        files: Vec<crate::files::InputFile>,
        output_files: Vec<String>,
        hook: Option<&str>,
    ) -> Result<crate::exec::Target, ApiError> {
        let cap = self.config.max_file_bytes;
        crate::files::FileJob::new(files.clone(), output_files.clone(), cap)?;
        let test_hooks = self
            .config
            .workers_pool
            .as_ref()
            .is_some_and(|w| w.test_hooks);
        let job = crate::worker::proto::Job {
            setup: self.worker_setup(limits),
            files,
            output_files,
            files_cap: cap,
            code: String::new(),
            hook: hook.filter(|_| test_hooks).map(str::to_string),
        };
        let who = Identity {
            tenant: tenant.to_string(),
            session: None,
        };
        Ok(crate::exec::Target::Worker(Box::new(job), who))
    }

    /// The sandbox a worker builds for `limits`: the same limits and
    /// callbacks as [`Self::builder`] gives.
    pub fn worker_setup(&self, limits: SandboxLimits) -> crate::worker::proto::Setup {
        let l = &self.config.limits;
        crate::worker::proto::Setup {
            timeout_ms: limits.timeout.as_millis() as u64,
            max_memory: limits.max_memory,
            max_output: l.max_output_bytes,
            capture: l.capture_bytes,
            max_callback_invocations: l.max_callback_invocations,
            callbacks: (self.config.callbacks.iter())
                .map(|c| (c.name.clone(), c.description.clone()))
                .collect(),
        }
    }

    /// Check a new session's settings against this server's limits and
    /// allowlists.
    pub fn check_settings(&self, s: &Settings) -> Result<SandboxLimits, ApiError> {
        let limits = self.limits(Some(s.timeout_ms), Some(s.max_memory_bytes))?;
        let l = &self.config.limits;
        if s.ttl_s == 0 || s.ttl_s > l.max_session_ttl_s {
            return Err(ApiError::bad_request(format!(
                "ttl_s must be between 1 and {}",
                l.max_session_ttl_s
            )));
        }
        self.check_preimports(&s.preimports)?;
        self.packages(&s.packages)?;
        Ok(limits)
    }

    /// The sandbox of session `id` of `tenant` with `settings` (a 400 if
    /// they are not valid on this server). With worker processes, a
    /// session of the base image (no packages, no pre-imports) is placed
    /// in them (nothing is built until its first operation); one with
    /// packages or pre-imports needs an image the workers have not mapped
    /// before their filter, and an exact one cannot run on uninterruptible
    /// workers, so those stay in this process.
    pub async fn session_placed(
        &self,
        settings: &Settings,
        tenant: &str,
        id: &str,
    ) -> Result<Placed, ApiError> {
        let base = settings.packages.is_empty() && settings.preimports.is_empty();
        // Exact sandboxes need epoch interruption (`eryx::SandboxBuilder::exact`).
        let fits = |p: &&Arc<crate::worker::Pool>| base && !(settings.exact && p.uninterruptible());
        match self.workers.get().filter(fits) {
            Some(pool) => {
                let limits = self.check_settings(settings)?;
                let who = Identity {
                    tenant: tenant.to_string(),
                    session: Some(id.to_string()),
                };
                let calls = crate::worker::run::Calls::new(self, who);
                let setup = self.worker_setup(limits);
                let remote = Remote::new(pool.clone(), id, setup, settings.exact, calls);
                Ok(Placed::Remote(Box::new(remote)))
            }
            None => Ok(Placed::Local(
                self.session_sandbox(settings, tenant, id).await?,
            )),
        }
    }

    /// Build the sandbox of session `id` of `tenant` with `settings` in
    /// this process.
    async fn session_sandbox(
        &self,
        settings: &Settings,
        tenant: &str,
        id: &str,
    ) -> Result<Sandbox, ApiError> {
        let limits = self.check_settings(settings)?;
        let mut builder = self.builder(limits, tenant, Some(id));
        let heavy = !settings.packages.is_empty() || !settings.preimports.is_empty();
        let (paths, mut modules) = self.packages(&settings.packages)?;
        builder = builder.exact(settings.exact);
        for p in paths {
            builder = builder.package(p);
        }
        modules.extend(settings.preimports.iter().cloned());
        let modules: Vec<&str> = modules.iter().map(String::as_str).collect();
        build(builder.preimport(&modules), heavy).await
    }
}

/// Build a sandbox. A build that may compile a new image (packages or
/// pre-imports not seen yet: seconds of CPU) runs with `block_in_place`, so
/// the runtime moves other work off this thread meanwhile.
pub async fn build(builder: SandboxBuilder, heavy: bool) -> Result<Sandbox, ApiError> {
    let r = if heavy {
        tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(builder.build()))
    } else {
        builder.build().await
    };
    r.map_err(|e| {
        tracing::error!(error = %e, "building a sandbox failed");
        ApiError::internal("creating the sandbox failed")
    })
}

/// The calling tenant (from `Authorization: Bearer KEY`).
pub struct Caller(pub Arc<TenantState>);

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, ApiError> {
        let auth = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        state.tenant_for(auth).map(Caller)
    }
}
