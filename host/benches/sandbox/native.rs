//! The host's native CPython (`python3`, or `$ERYX_BENCH_PYTHON`), running
//! the same workload sources as the sandbox in a fresh process each.
use crate::workloads::truncate;
use std::process::{Command, Stdio};

/// The interpreter to compare against.
pub fn python() -> String {
    std::env::var("ERYX_BENCH_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

/// Run `source` with `python` (`-I`: isolated, no user site, no PYTHON*
/// variables); its stdout, or why it failed.
pub fn run(python: &str, source: &str) -> Result<String, String> {
    let out = Command::new(python)
        .arg("-I")
        .arg("-c")
        .arg(source)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("could not start {python}: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!("{python} failed: {}", truncate(err.trim(), 300)));
    }
    String::from_utf8(out.stdout).map_err(|_| format!("{python} printed non-UTF-8"))
}

/// The interpreter's real executable and version (`python3` may be a shim
/// script, which would add its own start-up cost to `-c pass`).
pub fn resolve(python: &str) -> Result<(String, String), String> {
    let out = run(
        python,
        "import sys; print(sys.executable); print(sys.version.split()[0])",
    )?;
    let mut lines = out.lines();
    match (lines.next(), lines.next()) {
        (Some(exe), Some(ver)) if !exe.is_empty() => Ok((exe.to_string(), ver.to_string())),
        _ => Err(format!("{python} did not report its executable")),
    }
}

/// Median wall time of `runs` runs of `python -I -c pass` (after one
/// untimed run), spawn to exit.
pub fn pass_wall(python: &str, runs: usize) -> Result<crate::stats::Stats, String> {
    let mut times = vec![];
    for i in 0..=runs {
        let start = std::time::Instant::now();
        run(python, "pass")?;
        if i > 0 {
            times.push(crate::stats::since(start));
        }
    }
    crate::stats::Stats::require(&times)
}
