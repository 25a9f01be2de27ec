//! The network policy of `eryx mcp`'s sandboxes, in words for the model:
//! off unless `--allow-host` is given; then which hosts and ports may be
//! reached and, for each `--secret`, which environment variable holds a
//! placeholder and where the real value is sent. Secret values never
//! appear in the text.

/// What the sandbox flags allow on the network.
#[derive(Debug, Default, PartialEq)]
pub struct Network {
    /// `--allow-host PATTERN[:PORT]` as given.
    pub allow_hosts: Vec<String>,
    /// `--secret`s: (environment variable name, hosts that receive the value).
    pub secrets: Vec<(String, Vec<String>)>,
}

/// `PATTERN[:PORT]` split into the host pattern and its port, if one is
/// given (`[::1]:8080`, `127.0.0.1:8080`; a bare IPv6 address has none).
fn split_port(rule: &str) -> (&str, Option<&str>) {
    let port_ok = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    if let Some(rest) = rule.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((host, tail)) => match tail.strip_prefix(':') {
                Some(p) if port_ok(p) => (host, Some(p)),
                _ => (host, None),
            },
            None => (rule, None),
        };
    }
    match rule.split_once(':') {
        Some((host, p)) if port_ok(p) && !p.contains(':') => (host, Some(p)),
        _ => (rule, None),
    }
}

/// One allowed-host rule in words: `api.example.com (ports 80 and 443)`.
fn rule_text(rule: &str) -> String {
    match split_port(rule) {
        (host, Some(port)) => format!("{host} (port {port})"),
        (host, None) => format!("{host} (ports 80 and 443)"),
    }
}

impl Network {
    /// The network paragraph of the `run_python` description.
    pub fn text(&self) -> String {
        if self.allow_hosts.is_empty() {
            return "No network access (sockets fail), no subprocesses, no threads.".to_string();
        }
        let rules: Vec<String> = self.allow_hosts.iter().map(|r| rule_text(r)).collect();
        let mut s = format!(
            "Network: outgoing TCP/TLS connections only to {} (`*.domain` means its subdomains); \
             any other host or port fails with PermissionError. Use urllib.request, http.client \
             or socket + ssl (or requests, if importable). No servers, no UDP, no subprocesses, \
             no threads.",
            rules.join(", ")
        );
        for (name, hosts) in &self.secrets {
            s.push_str(&format!(
                " Secret: os.environ[{name:?}] is a placeholder, not the real value; send it \
                 unchanged (e.g. in a header) and the real value replaces it only in bytes sent \
                 to {}; output shows it as [REDACTED].",
                hosts.join(", ")
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_split_off_rules() {
        assert_eq!(split_port("api.example.com"), ("api.example.com", None));
        assert_eq!(
            split_port("*.example.org:8443"),
            ("*.example.org", Some("8443"))
        );
        assert_eq!(split_port("127.0.0.1:8080"), ("127.0.0.1", Some("8080")));
        assert_eq!(split_port("[::1]:8080"), ("::1", Some("8080")));
        assert_eq!(split_port("[::1]"), ("::1", None));
        assert_eq!(split_port("::1"), ("::1", None));
        assert_eq!(split_port("fe80::1:2"), ("fe80::1:2", None));
    }

    #[test]
    fn text_states_the_policy() {
        let off = Network::default().text();
        assert!(off.starts_with("No network access"), "{off}");
        let on = Network {
            allow_hosts: vec!["api.example.com".into(), "127.0.0.1:8080".into()],
            secrets: vec![("API_TOKEN".into(), vec!["api.example.com".into()])],
        }
        .text();
        assert!(!on.contains("No network"), "{on}");
        assert!(
            on.contains("only to api.example.com (ports 80 and 443), 127.0.0.1 (port 8080)"),
            "{on}"
        );
        assert!(
            on.contains("os.environ[\"API_TOKEN\"] is a placeholder")
                && on.contains("only in bytes sent to api.example.com"),
            "{on}"
        );
    }
}
