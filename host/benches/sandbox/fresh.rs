//! Fresh-process measurements: the `eryx -c pass` command timed from spawn
//! to exit, and this benchmark re-executed as a child process
//! (`ERYX_BENCH_CHILD`) that either times its own first sandbox from `main`
//! (so both sandbox kinds pay engine setup, cache mmap, linking and
//! instantiate) or measures resident memory per idle session.
use crate::measure::{self, Rss, PROBE};
use crate::raw::RawHost;
use crate::sides::{self, Factory, Session};
use crate::stats::{since, timed, Stats};
use crate::SESSION_COUNTS;
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

/// The `eryx` binary (crate cli/, built by scripts/build.sh): `$ERYX_BIN`,
/// or target/release/eryx of this workspace.
fn cli_binary() -> Result<String, String> {
    let exe = std::env::var("ERYX_BIN").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../target/release/eryx").to_string()
    });
    if std::path::Path::new(&exe).is_file() {
        Ok(exe)
    } else {
        Err(format!(
            "no eryx binary at {exe}: run scripts/build.sh first"
        ))
    }
}

/// Median wall time of `runs` runs of `eryx -c pass` (after one untimed
/// run that fills the caches).
pub fn cli(runs: usize) -> Result<Stats, String> {
    let exe = cli_binary()?;
    let exe = exe.as_str();
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

/// Run this benchmark as a child doing `task` for `kind`; the numbers it
/// printed on stdout.
fn child(kind: &Kind, task: &str) -> Result<Vec<f64>, String> {
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let mut cmd = Command::new(&exe);
    cmd.stdin(Stdio::null());
    match kind {
        Kind::Eryx => cmd.env(CHILD_VAR, format!("eryx:{task}")),
        Kind::Cpy { wasm, key, stdlib } => cmd
            .env(CHILD_VAR, format!("cpy:{task}"))
            .env(CPY_WASM_VAR, wasm)
            .env(CPY_KEY_VAR, key)
            .env(CPY_STDLIB_VAR, stdlib),
    };
    let out = cmd
        .output()
        .map_err(|e| format!("could not start child: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let nums: Result<Vec<f64>, _> = text.split_whitespace().map(str::parse).collect();
    match nums {
        Ok(n) if out.status.success() && !n.is_empty() => Ok(n),
        _ => Err(format!(
            "child failed: {} {}",
            text.trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        )),
    }
}

/// In-process times reported by `runs` child processes (after one untimed
/// child): (first sandbox ready, its first execute).
pub fn children(kind: &Kind, runs: usize) -> Result<(Stats, Stats), String> {
    let (mut create, mut exec) = (vec![], vec![]);
    for i in 0..=runs {
        let n = child(kind, "first")?;
        if n.len() != 2 {
            return Err(format!("child printed {n:?}"));
        }
        if i > 0 {
            create.push(n[0]);
            exec.push(n[1]);
        }
    }
    Ok((Stats::require(&create)?, Stats::require(&exec)?))
}

/// [`Rss`] measured in a fresh child process, so neither compiling nor
/// the other measurements of this process shape its heap.
pub fn rss(kind: &Kind) -> Result<Rss, String> {
    let n = child(kind, "rss")?;
    let k = SESSION_COUNTS.len();
    if n.len() != 3 + 2 * k {
        return Err(format!("child printed {n:?}"));
    }
    let ints = |v: &[f64]| v.iter().map(|&v| v as i64).collect();
    Ok(Rss {
        baseline: n[0] as i64,
        after_drop: n[1] as i64,
        private_after_drop: n[2] as i64,
        per_session: ints(&n[3..3 + k]),
        private_per_session: ints(&n[3 + k..]),
    })
}

async fn first<F: Factory>(f: Result<F, String>, start: Instant) -> Result<Vec<f64>, String> {
    let mut s = f?.create().await?;
    let ready = since(start);
    let (out, t) = timed(s.execute(PROBE)).await;
    if out? != "2\n" {
        return Err(format!("{PROBE} printed something else"));
    }
    Ok(vec![ready, t])
}

async fn rss_child<F: Factory>(f: Result<F, String>) -> Result<Vec<f64>, String> {
    let m = measure::rss(&f?, &SESSION_COUNTS).await?;
    let head = [m.baseline, m.after_drop, m.private_after_drop].into_iter();
    Ok(head
        .chain(m.per_session)
        .chain(m.private_per_session)
        .map(|v| v as f64)
        .collect())
}

fn cpy_from_env() -> Result<RawHost, String> {
    let var = |k: &str| std::env::var(k).map_err(|_| format!("{k} not set"));
    let wasm = var(CPY_WASM_VAR)?;
    sides::cpy_host(
        Path::new(&wasm),
        &var(CPY_KEY_VAR)?,
        var(CPY_STDLIB_VAR)?.into(),
        false,
    )
}

/// The child's side of `ERYX_BENCH_CHILD=<eryx|cpy>:<first|rss>`: measure,
/// print the numbers on one line, return the exit code.
pub async fn child_main(which: &str) -> i32 {
    let start = Instant::now();
    let eryx = || {
        eryx::prepare(false)
            .map(|_| sides::ERYX)
            .map_err(|e| e.to_string())
    };
    let r = match which {
        "eryx:first" => first(Ok(sides::ERYX), start).await,
        "cpy:first" => first(cpy_from_env(), start).await,
        "eryx:rss" => rss_child(eryx()).await,
        "cpy:rss" => rss_child(cpy_from_env()).await,
        other => Err(format!("unknown {CHILD_VAR}={other}")),
    };
    match r {
        Ok(nums) => {
            let words: Vec<String> = nums.iter().map(f64::to_string).collect();
            println!("{}", words.join(" "));
            0
        }
        Err(e) => {
            println!("error: {e}");
            1
        }
    }
}
