//! The sandbox a command line asks for: maps the parsed flags ([`Args`])
//! onto an [`eryx::SandboxBuilder`]. Shared by every `eryx` front end (the
//! program runner, the prompt, `eryx mcp`).
use super::args::Args;
use eryx::{Sandbox, SandboxBuilder};
use std::io::Write;

/// Where `--trace` events go.
fn trace_sink(target: &Option<String>) -> Result<Box<dyn Write + Send>, String> {
    Ok(match target {
        None => Box::new(std::io::stderr()),
        Some(path) => Box::new(
            std::fs::File::create(path)
                .map_err(|e| format!("can't open trace file '{path}': {e}"))?,
        ),
    })
}

/// `--secret NAME=VALUE@HOST[,HOST...]` (or `NAME@HOST...`: the value
/// comes from this process's environment variable NAME) as
/// (name, value, hosts).
pub fn parse_secret(spec: &str) -> Result<(String, String, Vec<String>), String> {
    let bad = || format!("--secret expects NAME=VALUE@HOST[,HOST...], got {spec:?}");
    let (left, hosts) = spec.rsplit_once('@').ok_or_else(bad)?;
    let (name, value) = match left.split_once('=') {
        Some((n, v)) => (n.to_string(), v.to_string()),
        None => {
            let v = std::env::var(left).map_err(|_| {
                format!("--secret {left}@...: the environment variable {left} is not set")
            })?;
            (left.to_string(), v)
        }
    };
    let hosts: Vec<String> = hosts
        .split(',')
        .filter(|h| !h.is_empty())
        .map(str::to_string)
        .collect();
    if name.is_empty() || value.is_empty() || hosts.is_empty() {
        return Err(bad());
    }
    Ok((name, value, hosts))
}

/// `--with` requirements followed by those of each `--with-requirements` file.
pub fn requirements(args: &Args) -> Result<Vec<String>, String> {
    let mut reqs = args.with.clone();
    for f in &args.with_files {
        let text = std::fs::read_to_string(f)
            .map_err(|e| format!("can't read requirements file '{f}': {e}"))?;
        reqs.extend(
            eryx::requirements::parse_requirements_file(&text).map_err(|e| format!("{f}: {e}"))?,
        );
    }
    Ok(reqs)
}

/// The network flags: `--allow-host`, `--ca-cert`, `--secret`.
fn network(mut builder: SandboxBuilder, args: &Args) -> Result<SandboxBuilder, String> {
    for h in &args.allow_hosts {
        builder = builder.allow_host(h);
    }
    for f in &args.ca_certs {
        let pem =
            std::fs::read(f).map_err(|e| format!("can't read CA certificate file '{f}': {e}"))?;
        builder = builder.add_root_certificate(&pem);
    }
    for s in &args.secrets {
        let (name, value, hosts) = parse_secret(s)?;
        let hosts: Vec<&str> = hosts.iter().map(String::as_str).collect();
        builder = builder.secret(&name, &value, &hosts);
    }
    Ok(builder)
}

/// With `ERYX_LOG=debug` (or `trace`, `info`, ...), show the library's
/// `tracing` log on stderr: engine detail of faults (wasm backtraces) that
/// user-facing errors leave out. Once per process.
fn init_log() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let Some(level) = std::env::var("ERYX_LOG")
            .ok()
            .and_then(|v| v.parse::<tracing_subscriber::filter::LevelFilter>().ok())
        else {
            return;
        };
        let _ = tracing_subscriber::fmt()
            .with_max_level(level)
            .with_writer(std::io::stderr)
            .try_init();
    });
}

/// A builder configured by every sandbox flag of the command line
/// (limits, mounts, packages, pre-imports, callbacks, tracing). Front ends
/// add their own output handling and mode. `--timeout` is applied inside
/// the sandbox only when `timed` (a one-shot run enforces it from outside,
/// see watchdog.rs).
pub fn builder(args: &Args, timed: bool) -> Result<SandboxBuilder, String> {
    init_log();
    let mut builder = Sandbox::builder().progress(true);
    if let Some(t) = args.time_limit().filter(|_| timed) {
        builder = builder.timeout(t);
    }
    if let Some(mb) = args.max_memory_mb {
        builder = builder.max_memory((mb as usize).saturating_mul(1 << 20));
    }
    if let Some(f) = args.fuel {
        builder = builder.fuel(f);
    }
    if let Some(mb) = args.vfs_max_mb {
        builder = builder.max_file_bytes(mb.saturating_mul(1 << 20));
    }
    if let Some(n) = args.vfs_max_entries {
        builder = builder.max_files(n);
    }
    for (src, dst, writable) in &args.mounts {
        builder = builder.mount(src, dst, *writable);
    }
    for path in &args.packages {
        builder = builder.package(path);
    }
    builder = builder
        .requirements(requirements(args)?)
        .preimport_requirements(!args.no_preimport_with);
    let preimports: Vec<&str> = args.preimports.iter().map(String::as_str).collect();
    builder = builder.preimport(&preimports);
    for spec in &args.callbacks {
        let (name, command) = super::callbacks::parse_spec(spec)?;
        builder = builder.callback(&name, &format!("runs `{command}`"), move |v| {
            super::callbacks::run_command(command.clone(), v)
        });
    }
    builder = network(builder, args)?;
    if let Some(dir) = &args.display_dir {
        builder = builder.on_display(super::display_dir::writer(dir)?);
    }
    // Python's own options (see guest/_eryx_runtime.py `after_restore`).
    if args.optimize > 0 {
        builder = builder.env("ERYX_OPTIMIZE", &args.optimize.to_string());
    }
    if !args.warnoptions.is_empty() {
        builder = builder.env(
            "ERYX_WARNOPTIONS",
            &serde_json::json!(args.warnoptions).to_string(),
        );
    }
    if !args.xoptions.is_empty() {
        builder = builder.env(
            "ERYX_XOPTIONS",
            &serde_json::json!(args.xoptions).to_string(),
        );
    }
    if args.unbuffered {
        builder = builder.env("ERYX_UNBUFFERED", "1");
    }
    if let Some(target) = &args.trace {
        let sink = std::sync::Mutex::new(trace_sink(target)?);
        builder = builder.on_trace(move |ev| {
            let mut w = sink.lock().unwrap_or_else(|p| p.into_inner());
            let _ = writeln!(w, "{}", ev.raw);
        });
    }
    Ok(builder)
}
