//! `eryx mcp` command line: the MCP flags (`--stateless`, `--listen`,
//! `--token`, `--allow-origin`, `--server-name`, `--max-output-bytes`) are
//! taken out, everything else is a sandbox flag of
//! `eryx` and goes to `args::parse` / `sandbox::builder`, so every
//! session's sandbox is built exactly as `eryx` builds one.
use super::network::Network;
use crate::{args, sandbox};
use eryx::Sandbox;
use std::time::Duration;

/// The help text of `eryx mcp`.
pub const USAGE: &str = "\
usage: eryx mcp [--stateless] [--listen ADDR [--token TOKEN] [--allow-origin ORIGIN]
                [--server-name NAME]] [--max-output-bytes N] [sandbox options]

Serve the sandbox as a Model Context Protocol server: over stdin/stdout
(what MCP clients launch), or over streamable HTTP at http://ADDR/mcp with
--listen. Tools: run_python(code, timeout_seconds?), reset_session(), and
(unless --stateless) upload_file(path, content, encoding?) and
download_file(path, encoding?) for files in the session's scratch filesystem.

  --stateless           every run_python call gets a fresh interpreter
                        (default: state persists within one MCP session)
  --listen ADDR         serve streamable HTTP on ADDR (e.g. 127.0.0.1:8765)
                        instead of stdio; each MCP session has its own sandbox.
                        An address other than loopback needs a token
  --token TOKEN         require `Authorization: Bearer TOKEN` on every HTTP
                        request (default: $ERYX_MCP_TOKEN, if set)
  --allow-origin ORIGIN also accept requests a browser sends from ORIGIN
                        (e.g. https://app.example.com:443; repeatable). A
                        request with any other Origin than loopback ones is
                        refused (403)
  --server-name NAME    also accept `Host: NAME` (a name or NAME:PORT the
                        clients use; repeatable). Loopback names and the
                        listen address itself are accepted
  --max-output-bytes N  keep at most N bytes of each of stdout and stderr per
                        call (default 65536); the rest is cut and the result
                        says how many bytes were cut
  -h, --help            show this help

Sandbox options are those of `eryx --help`: --timeout SECS (the most one call
may take; default 30 here, timeout_seconds can only lower it), --max-memory MB
(default 512 here), --fuel N, --mount SRC:DST[:ro], --package PATH,
--with REQUIREMENT, --with-requirements FILE (packages by name; the description
then lists them with their versions),
--preimport MODULE, --callback NAME=COMMAND, --trace[=FILE], --load-state FILE
(every new session starts from this snapshot).";

/// Default cap on each output stream kept per call.
const DEFAULT_MAX_OUTPUT: usize = 64 << 10;
/// Default longest call, in seconds (when `--timeout` is not given).
const DEFAULT_TIMEOUT: &str = "30";
/// Default memory cap in MiB (when `--max-memory` is not given).
const DEFAULT_MAX_MEMORY: &str = "512";

/// What `eryx mcp ARGS` asks for.
#[derive(Debug)]
pub enum Command {
    /// `--help`.
    Help,
    /// Serve (boxed: the options are large, `Help` is nothing).
    Serve(Box<Options>),
}

/// Parsed `eryx mcp` options.
#[derive(Debug)]
pub struct Options {
    /// A fresh interpreter per call.
    pub stateless: bool,
    /// `--listen ADDR`: streamable HTTP instead of stdio.
    pub listen: Option<String>,
    /// Who may use the HTTP transport (token, origins, host names).
    pub access: Access,
    /// Bytes of each of stdout/stderr kept per call.
    pub max_output: usize,
    /// The longest a call may run (`--timeout`).
    pub timeout: Duration,
    /// The memory cap in MiB (`--max-memory`).
    pub max_memory_mb: u64,
    /// The sandbox flags, given to `args::parse` for every sandbox.
    pub sandbox_argv: Vec<String>,
    /// Guest paths of the mounts: (path, writable).
    pub mounts: Vec<(String, bool)>,
    /// Caps of the scratch filesystem: (MiB, entries).
    pub scratch: (u64, u64),
    /// `--callback` names, offered to Python as `await NAME(**kwargs)`.
    pub callbacks: Vec<String>,
    /// `--allow-host` rules and `--secret` names, for the description.
    pub network: Network,
    /// `--load-state FILE`'s bytes: every new sandbox starts from them.
    pub initial_state: Option<Vec<u8>>,
}

fn value(it: &mut impl Iterator<Item = String>, flag: &str) -> Result<String, String> {
    it.next()
        .ok_or_else(|| format!("argument {flag} expects a value"))
}

fn bytes(v: &str) -> Result<usize, String> {
    match v.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!(
            "argument --max-output-bytes: expected a positive number, got {v:?}"
        )),
    }
}

/// Who may use `--listen`'s HTTP transport.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Access {
    /// The bearer token every request must carry (`--token`, else
    /// `$ERYX_MCP_TOKEN`).
    pub token: Option<String>,
    /// `--allow-origin`s, besides the loopback origins.
    pub origins: Vec<String>,
    /// `--server-name`s: further `Host` values accepted.
    pub server_names: Vec<String>,
}

/// The environment variable a token may come from.
pub const TOKEN_ENV: &str = "ERYX_MCP_TOKEN";

/// Is `addr` (as given to `--listen`) a loopback address? A name other
/// than `localhost` counts as not loopback.
fn is_loopback(addr: &str) -> bool {
    let host = match addr.parse::<std::net::SocketAddr>() {
        Ok(a) => return a.ip().is_loopback(),
        Err(_) => addr.rsplit_once(':').map_or(addr, |(h, _)| h),
    };
    host.eq_ignore_ascii_case("localhost")
}

/// Check the HTTP access flags against `listen` and the environment's
/// token (`env_token`).
fn access(
    listen: Option<&str>,
    mut a: Access,
    env_token: Option<String>,
) -> Result<Access, String> {
    let Some(addr) = listen else {
        if a.token.is_some() || !a.origins.is_empty() || !a.server_names.is_empty() {
            return Err("--token, --allow-origin and --server-name apply to --listen".into());
        }
        return Ok(a);
    };
    if a.token.is_none() {
        a.token = env_token.filter(|t| !t.is_empty());
    }
    if a.token.as_deref() == Some("") {
        return Err("argument --token: the token must not be empty".into());
    }
    if a.token.is_none() && !is_loopback(addr) {
        return Err(format!(
            "--listen {addr} would serve the network without authentication: \
             give a bearer token (--token TOKEN or ${TOKEN_ENV}) or listen on a loopback address"
        ));
    }
    for o in &a.origins {
        if !(o.starts_with("http://") || o.starts_with("https://")) && o != "null" {
            return Err(format!(
                "argument --allow-origin: {o:?} is not an origin (scheme://host[:port])"
            ));
        }
    }
    Ok(a)
}

/// Parse the arguments after `eryx mcp`; `env_token` is `$ERYX_MCP_TOKEN`.
pub fn parse(
    argv: impl IntoIterator<Item = String>,
    env_token: Option<String>,
) -> Result<Command, String> {
    let mut stateless = false;
    let mut listen = None;
    let mut acc = Access::default();
    let mut max_output = DEFAULT_MAX_OUTPUT;
    let mut rest = Vec::new();
    let mut it = argv.into_iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--stateless" => stateless = true,
            "--listen" => listen = Some(value(&mut it, "--listen")?),
            "--token" => acc.token = Some(value(&mut it, "--token")?),
            "--allow-origin" => acc.origins.push(value(&mut it, "--allow-origin")?),
            "--server-name" => acc.server_names.push(value(&mut it, "--server-name")?),
            s if s.starts_with("--token=") => acc.token = Some(s[8..].to_string()),
            s if s.starts_with("--allow-origin=") => acc.origins.push(s[15..].to_string()),
            s if s.starts_with("--server-name=") => acc.server_names.push(s[14..].to_string()),
            "--max-output-bytes" => max_output = bytes(&value(&mut it, "--max-output-bytes")?)?,
            s if s.starts_with("--listen=") => listen = Some(s[9..].to_string()),
            s if s.starts_with("--max-output-bytes=") => max_output = bytes(&s[19..])?,
            _ => rest.push(a),
        }
    }
    let acc = access(listen.as_deref(), acc, env_token)?;
    let parsed = args::parse(rest.clone())?;
    if parsed.help {
        return Ok(Command::Help);
    }
    if parsed.program != args::Program::None {
        return Err("eryx mcp runs no program: code comes from run_python calls".into());
    }
    if parsed.save_state.is_some() {
        return Err("--save-state does not apply to eryx mcp".into());
    }
    if parsed.timeout.is_none() {
        rest.extend(["--timeout".to_string(), DEFAULT_TIMEOUT.to_string()]);
    }
    if parsed.max_memory_mb.is_none() {
        rest.extend(["--max-memory".to_string(), DEFAULT_MAX_MEMORY.to_string()]);
    }
    let parsed = args::parse(rest.clone())?;
    let initial_state = match &parsed.load_state {
        Some(path) => {
            Some(std::fs::read(path).map_err(|e| format!("can't read state '{path}': {e}"))?)
        }
        None => None,
    };
    let mut callbacks = Vec::new();
    for spec in &parsed.callbacks {
        callbacks.push(crate::callbacks::parse_spec(spec)?.0);
    }
    let mut network = Network {
        allow_hosts: parsed.allow_hosts.clone(),
        secrets: Vec::new(),
    };
    for spec in &parsed.secrets {
        let (name, _value, hosts) = sandbox::parse_secret(spec)?;
        network.secrets.push((name, hosts));
    }
    Ok(Command::Serve(Box::new(Options {
        stateless,
        listen,
        access: acc,
        max_output,
        timeout: Duration::from_secs_f64(parsed.timeout.unwrap_or(30.0).max(0.001)),
        max_memory_mb: parsed.max_memory_mb.unwrap_or(512),
        scratch: (
            parsed.vfs_max_mb.unwrap_or(64),
            parsed.vfs_max_entries.unwrap_or(10_000),
        ),
        mounts: parsed
            .mounts
            .iter()
            .map(|(_, dst, w)| (dst.clone(), *w))
            .collect(),
        callbacks,
        network,
        sandbox_argv: rest,
        initial_state,
    })))
}

impl Options {
    /// A new sandbox configured by the sandbox flags (and started from
    /// `--load-state`, if given).
    pub async fn build_sandbox(&self) -> Result<Sandbox, String> {
        let parsed = args::parse(self.sandbox_argv.iter().cloned())?;
        let mut sb = sandbox::builder(&parsed, true)?
            .capture_limit(self.max_output)
            .build()
            .await
            .map_err(|e| e.to_string())?;
        if let Some(state) = &self.initial_state {
            sb.restore(state)
                .await
                .map_err(|e| format!("can't load the --load-state snapshot: {e}"))?;
        }
        Ok(sb)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(v: &[&str]) -> Result<Command, String> {
        parse(v.iter().map(|s| s.to_string()), None)
    }

    fn serve(v: &[&str]) -> Options {
        match p(v) {
            Ok(Command::Serve(o)) => *o,
            other => panic!("{v:?} gave {other:?}"),
        }
    }

    #[test]
    fn mcp_flags_are_split_from_sandbox_flags() {
        let o = serve(&[
            "--stateless",
            "--timeout",
            "5",
            "--max-output-bytes=100",
            "--mount",
            "/tmp:/data",
            "--listen",
            "127.0.0.1:0",
        ]);
        assert!(o.stateless);
        assert_eq!(o.listen.as_deref(), Some("127.0.0.1:0"));
        assert_eq!(o.max_output, 100);
        assert_eq!(o.timeout, Duration::from_secs(5));
        assert_eq!(o.mounts, vec![("/data".to_string(), true)]);
        assert_eq!(o.network, Network::default());
        assert_eq!(
            o.sandbox_argv,
            [
                "--timeout",
                "5",
                "--mount",
                "/tmp:/data",
                "--max-memory",
                "512"
            ]
        );
    }

    #[test]
    fn network_flags_are_kept_for_the_description() {
        let o = serve(&[
            "--allow-host",
            "api.example.com",
            "--secret",
            "TOKEN=s3cret@api.example.com,b.example.com",
        ]);
        assert_eq!(o.network.allow_hosts, ["api.example.com"]);
        assert_eq!(
            o.network.secrets,
            [(
                "TOKEN".to_string(),
                vec!["api.example.com".to_string(), "b.example.com".to_string()]
            )]
        );
        assert!(p(&["--secret", "NOPE"]).is_err());
    }

    #[test]
    fn defaults_and_errors() {
        let o = serve(&[]);
        assert!(!o.stateless && o.listen.is_none());
        assert_eq!(
            (o.max_output, o.timeout, o.max_memory_mb),
            (DEFAULT_MAX_OUTPUT, Duration::from_secs(30), 512)
        );
        assert!(matches!(p(&["--help"]), Ok(Command::Help)));
        assert!(p(&["prog.py"]).is_err());
        assert!(p(&["-c", "print(1)"]).is_err());
        assert!(p(&["--save-state", "x"]).is_err());
        assert!(p(&["--max-output-bytes", "0"]).is_err());
        assert!(p(&["--listen"]).is_err());
        assert!(p(&["--nope"]).is_err());
    }

    #[test]
    fn the_network_needs_a_token() {
        for addr in ["0.0.0.0:8765", "192.168.1.5:80", "[::]:1", "example.com:80"] {
            let e = p(&["--listen", addr]).unwrap_err();
            assert!(
                e.contains("without authentication") && e.contains(TOKEN_ENV),
                "{e}"
            );
            let o = serve(&["--listen", addr, "--token", "t0ken"]);
            assert_eq!(o.access.token.as_deref(), Some("t0ken"));
            let env = parse(
                ["--listen".to_string(), addr.to_string()],
                Some("from-env".to_string()),
            );
            match env {
                Ok(Command::Serve(o)) => assert_eq!(o.access.token.as_deref(), Some("from-env")),
                other => panic!("{other:?}"),
            }
        }
        for addr in ["127.0.0.1:0", "[::1]:8765", "localhost:8765", "127.1.2.3:9"] {
            assert_eq!(
                serve(&["--listen", addr]).access,
                Access::default(),
                "{addr}"
            );
        }
        let o = serve(&[
            "--listen=127.0.0.1:0",
            "--allow-origin",
            "https://app.example.com:443",
            "--server-name=mcp.internal",
        ]);
        assert_eq!(o.access.origins, ["https://app.example.com:443"]);
        assert_eq!(o.access.server_names, ["mcp.internal"]);
        assert!(p(&["--token", "x"])
            .unwrap_err()
            .contains("apply to --listen"));
        assert!(p(&["--listen", "0.0.0.0:1", "--token", ""]).is_err());
        assert!(p(&["--listen", "127.0.0.1:1", "--allow-origin", "evil"]).is_err());
    }
}
