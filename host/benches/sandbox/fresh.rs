//! "First sandbox in a fresh process": the `eryx -c pass` command timed
//! from spawn to exit, and this benchmark re-executed as a child process
//! (`ERYX_BENCH_CHILD`) that times its own first sandbox from `main`, so
//! both sandbox kinds pay engine setup, cache mmap, linking and instantiate.
use crate::measure::PROBE;
use crate::sides::{self, Factory, Session};
use crate::stats::{since, timed, Stats};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// Environment variable that turns this binary into a child measurement.
pub const CHILD_VAR: &str = "ERYX_BENCH_CHILD";
const CPY_WASM_VAR: &str = "ERYX_BENCH_CPY_WASM";
const CPY_KEY_VAR: &str = "ERYX_BENCH_CPY_KEY";
const CPY_STDLIB_VAR: &str = "ERYX_BENCH_CPY_STDLIB";

/// Which sandbox a child measures, with what it needs to find it.
#[derive(Clone)]
pub enum Kind {
    /// eryx's `Sandbox`.
    Eryx,
    /// The componentize-py build: its `.wasm`, cache key and stdlib dir.
    Cpy {
        /// The component file.
        wasm: PathBuf,
        /// Its compiled-code cache key.
        key: String,
        /// Host stdlib directory to mount.
        stdlib: PathBuf,
    },
}

/// Median wall time of `runs` runs of `eryx -c pass` (after one untimed
/// run that fills the caches).
pub fn cli(runs: usize) -> Result<Stats, String> {
    let exe = env!("CARGO_BIN_EXE_eryx");
    let mut times = vec![];
    for i in 0..=runs {
        let start = Instant::now();
        let out = Command::new(exe)
            .args(["-c", "pass"])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("could not start {exe}: {e}"))?;
        let t = since(start);
        if !out.status.success() {
            return Err(format!(
                "eryx -c pass failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        if i > 0 {
            times.push(t);
        }
    }
    Stats::require(&times)
}

/// In-process times reported by `runs` child processes (after one untimed
/// child): (first sandbox ready, its first execute).
pub fn children(kind: &Kind, runs: usize) -> Result<(Stats, Stats), String> {
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let (mut create, mut exec) = (vec![], vec![]);
    for i in 0..=runs {
        let mut cmd = Command::new(&exe);
        cmd.stdin(Stdio::null());
        match kind {
            Kind::Eryx => cmd.env(CHILD_VAR, "eryx"),
            Kind::Cpy { wasm, key, stdlib } => cmd
                .env(CHILD_VAR, "cpy")
                .env(CPY_WASM_VAR, wasm)
                .env(CPY_KEY_VAR, key)
                .env(CPY_STDLIB_VAR, stdlib),
        };
        let out = cmd
            .output()
            .map_err(|e| format!("could not start child: {e}"))?;
        let text = String::from_utf8_lossy(&out.stdout);
        let nums: Vec<f64> = text
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        if !out.status.success() || nums.len() != 2 {
            return Err(format!(
                "child failed: {}{}",
                text.trim(),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        if i > 0 {
            create.push(nums[0]);
            exec.push(nums[1]);
        }
    }
    Ok((Stats::require(&create)?, Stats::require(&exec)?))
}

async fn first<F: Factory>(make: impl FnOnce() -> Result<F, String>) -> Result<(f64, f64), String> {
    let start = Instant::now();
    let f = make()?;
    let mut s = f.create().await?;
    let ready = since(start);
    let (out, t) = timed(s.execute(PROBE)).await;
    if out? != "2\n" {
        return Err(format!("{PROBE} printed something else"));
    }
    Ok((ready, t))
}

/// The child's side: measure, print "<ready secs> <first execute secs>",
/// return the exit code.
pub async fn child_main(which: &str) -> i32 {
    let r = match which {
        "eryx" => first(|| Ok(sides::ERYX)).await,
        "cpy" => {
            let var = |k: &str| std::env::var(k).map_err(|_| format!("{k} not set"));
            first(|| {
                let wasm = var(CPY_WASM_VAR)?;
                sides::cpy_host(
                    Path::new(&wasm),
                    &var(CPY_KEY_VAR)?,
                    var(CPY_STDLIB_VAR)?.into(),
                    false,
                )
            })
            .await
        }
        other => Err(format!("unknown {CHILD_VAR}={other}")),
    };
    match r {
        Ok((ready, exec)) => {
            println!("{ready} {exec}");
            0
        }
        Err(e) => {
            println!("error: {e}");
            1
        }
    }
}
