//! The network policy: which hosts and ports the guest may connect to,
//! which addresses are never reached (loopback, private, link-local and
//! metadata ranges) unless listed literally, and the per-call limits.
//! Pure decisions, no I/O: `conn.rs` asks before every connection and
//! checks the very address it then connects to.
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

/// Ports a rule without `:PORT` allows.
const DEFAULT_PORTS: [u16; 2] = [80, 443];

/// What a rule matches.
#[derive(Debug, Clone, PartialEq)]
enum Pattern {
    /// One host name (lower case, no trailing dot).
    Name(String),
    /// `*.suffix`: any name ending in `.suffix` (not `suffix` itself).
    Wildcard(String),
    /// An address listed literally (allowed even inside a blocked range).
    Ip(IpAddr),
}

/// One `allow_host` rule.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rule {
    pattern: Pattern,
    /// `None`: ports 80 and 443.
    port: Option<u16>,
    /// The rule as written (for messages).
    pub text: String,
}

/// Limits on the guest's network use.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkLimits {
    /// Connections the guest may open per call, and may have open at once
    /// (default 64).
    pub max_connections: u32,
    /// Bytes the guest may send per call (default 64 MiB).
    pub max_bytes_out: u64,
    /// Bytes the guest may receive per call (default 512 MiB).
    pub max_bytes_in: u64,
    /// Time allowed to resolve, connect and finish a TLS handshake
    /// (default 10 s).
    pub connect_timeout: Duration,
    /// Longest wait for one send or receive (default 30 s).
    pub idle_timeout: Duration,
}

impl Default for NetworkLimits {
    fn default() -> Self {
        NetworkLimits {
            max_connections: 64,
            max_bytes_out: 64 << 20,
            max_bytes_in: 512 << 20,
            connect_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
        }
    }
}

/// Normalise a host as the guest gave it: lower case, no brackets, no
/// trailing dot.
pub(crate) fn normalize(host: &str) -> String {
    let h = host.trim();
    let h = h
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(h);
    h.trim_end_matches('.').to_ascii_lowercase()
}

impl Rule {
    /// Parse `PATTERN[:PORT]`: `api.example.com`, `*.example.org:8443`,
    /// `127.0.0.1:8080`, `[::1]:8080`, `::1`.
    pub fn parse(spec: &str) -> Result<Rule, String> {
        let bad = |why: &str| format!("invalid host pattern {spec:?}: {why}");
        let s = spec.trim();
        let (host, port) = if let Some(rest) = s.strip_prefix('[') {
            let (h, after) = rest.split_once(']').ok_or_else(|| bad("missing ']'"))?;
            match after.strip_prefix(':') {
                Some(p) => (h, Some(p)),
                None if after.is_empty() => (h, None),
                None => return Err(bad("unexpected text after ']'")),
            }
        } else if s.matches(':').count() > 1 {
            (s, None) // a bare IPv6 address
        } else {
            match s.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (s, None),
            }
        };
        let port = match port {
            None => None,
            Some(p) => Some(
                p.parse::<u16>()
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or_else(|| bad("the port must be 1-65535"))?,
            ),
        };
        let host = normalize(host);
        if host.is_empty() {
            return Err(bad("empty host"));
        }
        let name_chars = |h: &str| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_')
        };
        let pattern = if let Ok(ip) = host.parse::<IpAddr>() {
            Pattern::Ip(ip)
        } else if let Some(suffix) = host.strip_prefix("*.") {
            // The suffix is a name like any other (`*. x` never matched).
            if suffix.is_empty() || !name_chars(suffix) {
                return Err(bad("a wildcard is `*.` followed by a domain"));
            }
            Pattern::Wildcard(suffix.to_string())
        } else if host.contains('*') {
            return Err(bad("`*` is only allowed as a leading `*.`"));
        } else if name_chars(&host) {
            Pattern::Name(host)
        } else {
            return Err(bad("not a host name or address"));
        };
        Ok(Rule {
            pattern,
            port,
            text: spec.trim().to_string(),
        })
    }

    fn port_ok(&self, port: u16) -> bool {
        match self.port {
            Some(p) => p == port,
            None => DEFAULT_PORTS.contains(&port),
        }
    }

    /// Does this rule allow the (normalised) name or address `host`?
    fn host_ok(&self, host: &str, ip: Option<IpAddr>) -> bool {
        match (&self.pattern, ip) {
            (Pattern::Ip(a), Some(b)) => canonical(*a) == canonical(b),
            (Pattern::Ip(_), None) => false,
            // A name pattern never matches an address.
            (_, Some(_)) => false,
            (Pattern::Name(n), None) => n == host,
            (Pattern::Wildcard(suffix), None) => host
                .strip_suffix(suffix.as_str())
                .is_some_and(|head| head.len() > 1 && head.ends_with('.')),
        }
    }

    /// Does this rule allow `host` (a normalised name or a literal address)
    /// on `port`?
    pub fn allows(&self, host: &str, port: u16) -> bool {
        self.port_ok(port) && self.host_ok(host, host.parse().ok())
    }

    /// Does this rule allow the host name pattern alone (any port)? For
    /// secrets' host lists.
    pub fn matches_host(&self, host: &str) -> bool {
        self.host_ok(host, host.parse().ok())
    }

    /// A secret's host rule: the pattern, and the port only if one is given.
    pub fn matches_secret_host(&self, host: &str, port: u16) -> bool {
        self.matches_host(host) && self.port.is_none_or(|p| p == port)
    }

    /// Is `addr` listed literally by this rule (on `port`)?
    pub fn lists_address(&self, addr: IpAddr, port: u16) -> bool {
        matches!(self.pattern, Pattern::Ip(a) if canonical(a) == canonical(addr))
            && self.port_ok(port)
    }
}

/// An IPv4-mapped IPv6 address as its IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// The blocked range `ip` falls in, if any (by name, for messages). An
/// IPv6 address that carries an IPv4 address a gateway or tunnel would
/// deliver to (NAT64, 6to4, Teredo, IPv4-compatible) is judged by that
/// IPv4 address, through the same table.
pub(crate) fn blocked_range(ip: IpAddr) -> Option<&'static str> {
    match canonical(ip) {
        IpAddr::V4(v4) => blocked_v4(v4),
        IpAddr::V6(v6) => blocked_v6(v6).or_else(|| {
            let (form, v4s) = embedded_v4(v6)?;
            v4s.into_iter().flatten().find_map(blocked_v4).map(|_| form)
        }),
    }
}

/// The IPv4 addresses an IPv6 address of a transition form embeds, with
/// the form's name: NAT64 well-known prefix `64:ff9b::/96` (the last 32
/// bits), 6to4 `2002::/16` (bits 16-48), Teredo `2001::/32` (the server,
/// bits 32-64, and the client, the last 32 bits inverted),
/// IPv4-compatible `::a.b.c.d`.
fn embedded_v4(ip: Ipv6Addr) -> Option<(&'static str, [Option<Ipv4Addr>; 2])> {
    let s = ip.segments();
    let v4 = |hi: u16, lo: u16| Some(Ipv4Addr::from(((hi as u32) << 16) | lo as u32));
    Some(match s {
        [0x64, 0xff9b, 0, 0, 0, 0, a, b] => {
            ("NAT64 64:ff9b::/96 to a blocked IPv4", [v4(a, b), None])
        }
        [0x2002, a, b, ..] => ("6to4 2002::/16 to a blocked IPv4", [v4(a, b), None]),
        [0x2001, 0, a, b, _, _, c, d] => {
            ("Teredo 2001::/32 to a blocked IPv4", [v4(a, b), v4(!c, !d)])
        }
        [0, 0, 0, 0, 0, 0, a, b] => (
            "IPv4-compatible ::a.b.c.d to a blocked IPv4",
            [v4(a, b), None],
        ),
        _ => return None,
    })
}

fn blocked_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    Some(match o {
        [127, ..] => "loopback 127.0.0.0/8",
        [10, ..] => "private 10.0.0.0/8",
        [172, b, ..] if (16..32).contains(&b) => "private 172.16.0.0/12",
        [192, 168, ..] => "private 192.168.0.0/16",
        [169, 254, ..] => "link-local/metadata 169.254.0.0/16",
        [0, ..] => "unspecified 0.0.0.0/8",
        [100, b, ..] if (64..128).contains(&b) => "shared 100.64.0.0/10",
        [192, 0, 0, _] => "IETF protocol assignments 192.0.0.0/24",
        [192, 0, 2, _] => "documentation 192.0.2.0/24",
        [198, 51, 100, _] => "documentation 198.51.100.0/24",
        [203, 0, 113, _] => "documentation 203.0.113.0/24",
        [198, 18 | 19, ..] => "benchmarking 198.18.0.0/15",
        [a, ..] if a >= 240 => "reserved 240.0.0.0/4",
        _ if ip.is_broadcast() || ip.is_multicast() => "broadcast/multicast",
        _ => return None,
    })
}

fn blocked_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    Some(if ip.is_loopback() {
        "loopback ::1"
    } else if ip.is_unspecified() {
        "unspecified ::"
    } else if first & 0xfe00 == 0xfc00 {
        "unique-local fc00::/7"
    } else if first & 0xffc0 == 0xfe80 {
        "link-local fe80::/10"
    } else if ip.is_multicast() {
        "multicast ff00::/8"
    } else if first == 0x64 && ip.segments()[1] == 0xff9b && ip.segments()[2] == 1 {
        "local-use NAT64 64:ff9b:1::/48"
    } else {
        return None;
    })
}

/// The whole policy: rules (empty = no network) and limits.
#[derive(Debug, Clone, Default)]
pub(crate) struct Rules {
    pub rules: Vec<Rule>,
    pub limits: NetworkLimits,
}

impl Rules {
    /// The rule allowing `host:port` (`host` normalised), or why not.
    pub fn check(&self, host: &str, port: u16) -> Result<&Rule, String> {
        if self.rules.is_empty() {
            return Err(format!(
                "denied: network access is off in this sandbox ({host}:{port}; the host allows no hosts)"
            ));
        }
        self.rules.iter().find(|r| r.allows(host, port)).ok_or_else(|| {
            let other_port = self.rules.iter().any(|r| r.matches_host(host));
            if other_port {
                format!("denied: {host}:{port}: port {port} is not allowed for this host by the network policy")
            } else {
                format!("denied: {host}:{port}: no allowed-host rule matches this host")
            }
        })
    }

    /// May the guest, having asked for `host:port`, connect to `addr`?
    /// Addresses in blocked ranges only when some rule lists them literally.
    pub fn check_address(&self, host: &str, addr: IpAddr, port: u16) -> Result<(), String> {
        match blocked_range(addr) {
            None => Ok(()),
            Some(_) if self.rules.iter().any(|r| r.lists_address(addr, port)) => Ok(()),
            Some(range) => Err(format!(
                "denied: {host}:{port} resolves to {addr}, which is in the blocked range {range} \
                 (only an address allowed literally, e.g. {}, may be reached there)",
                std::net::SocketAddr::new(addr, port)
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(specs: &[&str]) -> Rules {
        Rules {
            rules: specs.iter().map(|s| Rule::parse(s).unwrap()).collect(),
            limits: NetworkLimits::default(),
        }
    }

    #[test]
    fn patterns_and_ports() {
        let r = rules(&[
            "api.example.com",
            "*.example.org:8443",
            "127.0.0.1:8080",
            "[::1]:81",
        ]);
        assert!(r.check("api.example.com", 443).is_ok());
        assert!(r.check("api.example.com", 80).is_ok());
        assert!(r
            .check("api.example.com", 8080)
            .unwrap_err()
            .contains("port 8080"));
        assert!(r.check("x.api.example.com", 443).is_err());
        assert!(r.check("a.example.org", 8443).is_ok());
        assert!(r.check("a.b.example.org", 8443).is_ok());
        assert!(r.check("example.org", 8443).is_err());
        assert!(r.check("badexample.org", 8443).is_err());
        assert!(r.check("127.0.0.1", 8080).is_ok());
        assert!(r.check("127.0.0.1", 80).is_err());
        assert!(r.check("::1", 81).is_ok());
        assert!(r
            .check("evil.com", 443)
            .unwrap_err()
            .contains("no allowed-host rule"));
    }

    #[test]
    fn wildcard_never_matches_an_address() {
        let r = rules(&["*.0.0.1", "*.1"]);
        assert!(r.check("127.0.0.1", 443).is_err());
        assert!(Rule::parse("*").is_err());
        // A wildcard's suffix is checked as a name (the property tests found
        // `*. x` accepted, a rule that could never match).
        assert!(Rule::parse("*. x").is_err());
        assert!(Rule::parse("*.a b.com:443").is_err());
        assert!(Rule::parse("*.*.com").is_err());
        assert!(Rule::parse("a*.b").is_err());
        assert!(Rule::parse("host:0").is_err());
        assert!(Rule::parse("host:x").is_err());
    }

    #[test]
    fn blocked_ranges_unless_literal() {
        let r = rules(&["example.com", "10.1.2.3:443"]);
        for ip in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            // IPv4 ranges reserved for documentation, benchmarks, the future
            "192.0.0.8",
            "192.0.2.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "240.0.0.1",
            "255.255.255.254",
            // IPv6 forms that embed a blocked IPv4 (169.254.169.254, 10.0.0.1, 127.0.0.1)
            "64:ff9b::a9fe:a9fe",
            "64:ff9b::10.0.0.1",
            "64:ff9b:1::a9fe:a9fe",
            "64:ff9b:1:abcd::1",
            "2002:a9fe:a9fe::1",
            "2002:7f00:1::",
            "2001:0:a9fe:a9fe::1",
            "2001:0:4136:e378:8000:63bf:5601:56fe", // client ~ = 169.254.169.1
            "::169.254.169.254",
            "::127.0.0.1",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(r.check_address("example.com", ip, 443).is_err(), "{ip}");
        }
        assert!(r
            .check_address("example.com", "93.184.216.34".parse().unwrap(), 443)
            .is_ok());
        // Transition forms reaching a public IPv4 address stay allowed.
        for ip in [
            "64:ff9b::5db8:d822",
            "2002:5db8:d822::1",
            "2001:0:5db8:d822::a247:27dd",
            "::93.184.216.34",
            "2001:db9::1",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(r.check_address("example.com", ip, 443).is_ok(), "{ip}");
        }
        assert!(r
            .check_address("x", "10.1.2.3".parse().unwrap(), 443)
            .is_ok());
        assert!(r
            .check_address("x", "10.1.2.3".parse().unwrap(), 80)
            .is_err());
        assert!(r
            .check_address("x", "172.32.0.1".parse().unwrap(), 443)
            .is_ok());
    }

    #[test]
    fn no_rules_means_off() {
        assert!(Rules::default()
            .check("example.com", 443)
            .unwrap_err()
            .contains("off"));
    }
}
