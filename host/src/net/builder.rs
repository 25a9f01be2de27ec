//! The network methods of [`SandboxBuilder`]: allowed hosts, extra trust
//! roots, limits and secrets.
use crate::builder::SandboxBuilder;
use crate::net::NetworkLimits;
use std::net::IpAddr;
use std::sync::Arc;

impl SandboxBuilder {
    /// Let the guest connect to hosts matching `pattern` (repeatable):
    /// `api.example.com`, `*.example.org` (subdomains only), an address
    /// (`203.0.113.7`, `[2001:db8::1]`), each optionally with `:PORT`
    /// (default: ports 80 and 443). Names are resolved on the host and
    /// every address is checked before it is connected to: loopback,
    /// private, link-local/metadata, unique-local and reserved ranges
    /// (and IPv6 forms carrying such an IPv4 address: NAT64, 6to4, Teredo,
    /// IPv4-compatible) are refused unless the address itself is allowed
    /// literally (a name or a wildcard never unlocks them). Without any
    /// rule the network is off. An invalid pattern makes `build` fail.
    pub fn allow_host(mut self, pattern: &str) -> Self {
        Arc::make_mut(&mut self.s.network).allow(pattern);
        self
    }

    /// Trust the PEM certificate(s) in `pem` as TLS roots, besides the
    /// built-in webpki roots (e.g. a company CA or a test CA). Invalid PEM
    /// makes `build` fail.
    pub fn add_root_certificate(mut self, pem: &[u8]) -> Self {
        Arc::make_mut(&mut self.s.network).add_roots(pem);
        self
    }

    /// Resolve host names with `resolve(name, port)` instead of the
    /// system's DNS: for tests (DNS answers without a DNS server) and for
    /// embedders with their own resolver. It changes only where a name
    /// points: the name must still be allowed by [`Self::allow_host`], and
    /// every address it returns is checked like a DNS answer (a blocked
    /// range stays blocked unless the address is allowed literally). An
    /// error it returns is the guest's `socket.gaierror`-like DNS failure.
    pub fn resolve_with(
        mut self,
        resolve: impl Fn(&str, u16) -> std::io::Result<Vec<IpAddr>> + Send + Sync + 'static,
    ) -> Self {
        Arc::make_mut(&mut self.s.network).set_resolver(Arc::new(resolve));
        self
    }

    /// Caps on connections, bytes and waits (see [`NetworkLimits`]); all of
    /// them also end with the call's own timeout.
    pub fn network_limits(mut self, limits: NetworkLimits) -> Self {
        Arc::make_mut(&mut self.s.network).set_limits(limits);
        self
    }

    /// A secret the guest can use but never read: `os.environ[name]` holds
    /// an opaque random placeholder of the same length (values of 16 bytes
    /// or more: `ERYX_` + random letters and digits); in bytes sent to hosts matching one of
    /// `allowed_hosts` (patterns as [`Self::allow_host`]; any port unless
    /// one is given)
    /// the host replaces the placeholder by `value`; in bytes received it
    /// replaces `value` by the placeholder; stdout, stderr, errors and
    /// trace events show both as `[REDACTED]`. The hosts must also be
    /// allowed by [`Self::allow_host`] to be reached at all. A value shorter
    /// than 8 bytes makes `build` fail.
    pub fn secret(mut self, name: &str, value: &str, allowed_hosts: &[&str]) -> Self {
        let placeholder = Arc::make_mut(&mut self.s.network).add_secret(name, value, allowed_hosts);
        self.env(name, &placeholder)
    }
}
