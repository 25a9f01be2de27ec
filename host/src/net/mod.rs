//! Outbound network for the guest, under a host policy: the `net-*`
//! imports of the world (`imports.rs`), the policy (`policy.rs`: allowed
//! hosts, blocked ranges, limits), the connections (`conn.rs`: DNS on the
//! host, checked addresses, rustls TLS) and secrets (`secrets.rs`). Off by
//! default: without `allow_host` rules every connection is refused.
mod builder;
mod conn;
pub(crate) mod imports;
mod policy;
#[cfg(test)]
mod props;
mod secrets;

pub use policy::NetworkLimits;
pub(crate) use secrets::scrub;

use conn::Conn;
use policy::{Rule, Rules};
use secrets::Secret;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// Shortest secret value: its placeholder (as long as the value) must not
/// turn up by chance in what the guest sends.
const MIN_SECRET: usize = 8;

/// Resolves a host name (lower case, no trailing dot) and port to
/// addresses, in place of the system's DNS (see
/// [`SandboxBuilder::resolve_with`](crate::SandboxBuilder::resolve_with)).
pub type Resolver = Arc<dyn Fn(&str, u16) -> std::io::Result<Vec<std::net::IpAddr>> + Send + Sync>;

/// The network configuration of a sandbox (part of its settings).
#[derive(Clone, Default)]
pub(crate) struct Policy {
    rules: Rules,
    /// The embedder's resolver, if any (else the system's DNS).
    resolver: Option<Resolver>,
    secrets: Vec<Secret>,
    extra_roots: Vec<rustls::pki_types::CertificateDer<'static>>,
    /// The first configuration error (reported by `build`).
    error: Option<String>,
    tls: OnceLock<Arc<rustls::ClientConfig>>,
}

impl Policy {
    fn fail(&mut self, e: String) {
        self.error.get_or_insert(e);
    }

    /// Allow `PATTERN[:PORT]`.
    pub fn allow(&mut self, spec: &str) {
        match Rule::parse(spec) {
            Ok(r) => self.rules.rules.push(r),
            Err(e) => self.fail(e),
        }
    }

    /// Trust the certificates in `pem` (besides the webpki roots).
    pub fn add_roots(&mut self, pem: &[u8]) {
        use rustls::pki_types::pem::PemObject;
        let mut n = 0;
        for cert in rustls::pki_types::CertificateDer::pem_slice_iter(pem) {
            match cert {
                Ok(c) => {
                    self.extra_roots.push(c);
                    n += 1;
                }
                Err(e) => return self.fail(format!("invalid root certificate PEM: {e}")),
            }
        }
        if n == 0 {
            self.fail("no certificate found in the root certificate PEM".into());
        }
    }

    /// Resolve names with `resolver` instead of the system's DNS.
    pub fn set_resolver(&mut self, resolver: Resolver) {
        self.resolver = Some(resolver);
    }

    /// Replace the limits.
    pub fn set_limits(&mut self, limits: NetworkLimits) {
        self.rules.limits = limits;
    }

    /// Add a secret; returns its placeholder (the guest's environment value).
    pub fn add_secret(&mut self, name: &str, value: &str, hosts: &[&str]) -> String {
        if value.len() < MIN_SECRET {
            self.fail(format!(
                "secret {name:?} is shorter than {MIN_SECRET} bytes: too short to be replaced safely on the wire"
            ));
            return String::new();
        }
        let mut rules = Vec::new();
        for h in hosts {
            match Rule::parse(h) {
                Ok(r) => rules.push(r),
                Err(e) => self.fail(format!("secret {name:?}: {e}")),
            }
        }
        let s = Secret::new(value, rules);
        let placeholder = String::from_utf8_lossy(&s.placeholder).into_owned();
        self.secrets.push(s);
        placeholder
    }

    /// The first configuration error, if any.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// Texts output must never show: every secret value and placeholder.
    pub fn redactions(&self) -> Vec<String> {
        self.secrets
            .iter()
            .flat_map(|s| [&s.value, &s.placeholder])
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .collect()
    }

    /// The TLS client configuration (webpki roots + extra roots), built once.
    fn tls(&self) -> Result<Arc<rustls::ClientConfig>, String> {
        if let Some(c) = self.tls.get() {
            return Ok(c.clone());
        }
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        for c in &self.extra_roots {
            roots
                .add(c.clone())
                .map_err(|e| format!("tls: unusable root certificate: {e}"))?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("tls: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(self.tls.get_or_init(|| Arc::new(config)).clone())
    }
}

/// Per-store network state: the open connections and this call's usage.
pub(crate) struct NetState {
    policy: Arc<Policy>,
    conns: HashMap<u32, Conn>,
    next: u32,
    opened: u32,
    sent: u64,
    received: u64,
}

impl NetState {
    /// No connections yet.
    pub fn new(policy: Arc<Policy>) -> NetState {
        NetState {
            policy,
            conns: HashMap::new(),
            next: 1,
            opened: 0,
            sent: 0,
            received: 0,
        }
    }

    /// A new call starts: the per-call limits count from zero (open
    /// connections stay open).
    pub fn start_call(&mut self) {
        self.opened = 0;
        self.sent = 0;
        self.received = 0;
    }

    fn conn(&mut self, id: u32) -> Result<&mut Conn, String> {
        self.conns
            .get_mut(&id)
            .ok_or_else(|| "closed: no such connection (it was closed)".to_string())
    }
}
