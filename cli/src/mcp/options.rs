//! `eryx mcp` command line: the MCP flags (`--stateless`, `--listen`,
//! `--max-output-bytes`) are taken out, everything else is a sandbox flag of
//! `eryx` and goes to `args::parse` / `sandbox::builder`, so every
//! session's sandbox is built exactly as `eryx` builds one.
use super::network::Network;
use crate::{args, sandbox};
use eryx::Sandbox;
use std::time::Duration;

/// The help text of `eryx mcp`.
pub const USAGE: &str = "\
usage: eryx mcp [--stateless] [--listen ADDR] [--max-output-bytes N] [sandbox options]

Serve the sandbox as a Model Context Protocol server: over stdin/stdout
(what MCP clients launch), or over streamable HTTP at http://ADDR/mcp with
--listen. Tools: run_python(code, timeout_seconds?), reset_session(), and
(unless --stateless) upload_file(path, content, encoding?) and
download_file(path, encoding?) for files in the session's scratch filesystem.

  --stateless           every run_python call gets a fresh interpreter
                        (default: state persists within one MCP session)
  --listen ADDR         serve streamable HTTP on ADDR (e.g. 127.0.0.1:8765)
                        instead of stdio; each MCP session has its own sandbox
  --max-output-bytes N  keep at most N bytes of each of stdout and stderr per
                        call (default 65536); the rest is cut and the result
                        says how many bytes were cut
  -h, --help            show this help

Sandbox options are those of `eryx --help`: --timeout SECS (the most one call
may take; default 30 here, timeout_seconds can only lower it), --max-memory MB
(default 512 here), --fuel N, --mount SRC:DST[:ro], --package PATH,
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

/// Parse the arguments after `eryx mcp`.
pub fn parse(argv: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut stateless = false;
    let mut listen = None;
    let mut max_output = DEFAULT_MAX_OUTPUT;
    let mut rest = Vec::new();
    let mut it = argv.into_iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--stateless" => stateless = true,
            "--listen" => listen = Some(value(&mut it, "--listen")?),
            "--max-output-bytes" => max_output = bytes(&value(&mut it, "--max-output-bytes")?)?,
            s if s.starts_with("--listen=") => listen = Some(s[9..].to_string()),
            s if s.starts_with("--max-output-bytes=") => max_output = bytes(&s[19..])?,
            _ => rest.push(a),
        }
    }
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
        parse(v.iter().map(|s| s.to_string()))
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
}
