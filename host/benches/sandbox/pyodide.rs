//! The Pyodide column: CPython 3.14 on Emscripten in Node's V8 (the npm
//! package `pyodide`, pinned, installed by scripts/setup-pyodide.sh), running
//! the same workload sources and driver as the other columns, a fresh Node
//! process per round (like native).
use crate::workloads::{parse_times, truncate, Workload};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// The installed package directory, or why there is none.
pub fn prepare() -> Result<String, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/setup-pyodide.sh");
    let out = Command::new("bash")
        .arg(script)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("could not run setup-pyodide.sh: {e}"))?;
    if !out.status.success() {
        return Err("scripts/setup-pyodide.sh failed (Node.js or the pyodide npm package)".into());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Run `source` in a fresh Pyodide: (seconds loadPyodide took, stdout after it).
pub fn run(pkg: &str, source: &str) -> Result<(f64, String), String> {
    let runner = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/pyodide/run.mjs");
    let mut child = Command::new("node")
        .arg(runner)
        .arg(pkg)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start node: {e}"))?;
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(source.as_bytes())
        .map_err(|e| format!("writing to node: {e}"))?;
    let out = child.wait_with_output().map_err(|e| format!("node: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!("pyodide failed: {}", truncate(err.trim(), 300)));
    }
    let (first, rest) = stdout.split_once('\n').unwrap_or((&stdout, ""));
    let loaded = first
        .strip_prefix("loaded ")
        .and_then(|s| s.trim().parse().ok())
        .ok_or_else(|| format!("unexpected pyodide output: {}", truncate(&stdout, 200)))?;
    Ok((loaded, rest.to_string()))
}

/// One timed round of `w` in a fresh Pyodide, appended to `times`.
pub fn round(pkg: &Result<String, String>, w: &Workload, times: &mut Result<Vec<f64>, String>) {
    let Ok(t) = times else { return };
    let r = pkg
        .clone()
        .and_then(|p| run(&p, &w.one_shot()))
        .and_then(|(_, o)| parse_times(&o));
    match r {
        Ok(mut v) => t.append(&mut v),
        Err(e) => *times = Err(e),
    }
}

/// loadPyodide() in a fresh Node process, `runs` times (seconds each).
pub fn startup(pkg: &Result<String, String>, runs: usize) -> Result<Vec<f64>, String> {
    let pkg = pkg.clone()?;
    (0..runs)
        .map(|_| run(&pkg, "pass").map(|(t, _)| t))
        .collect()
}
