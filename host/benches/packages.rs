//! `cargo bench -p eryx --bench packages`: what a package image costs a
//! sandbox, side by side in one run — warm creation and private memory per
//! idle session with the sympy image (`requirements(["sympy"])`,
//! pre-imported), the pandas image (our WASI numpy + pandas from
//! target/wheelhouse, `scripts/build-packages.sh pandas`), pandas with
//! matplotlib (`scripts/build-packages.sh pandas matplotlib`) and the default
//! image. Each side runs in a fresh child process (this program
//! re-executed, one after the other), so one side's heap does not shape the
//! other's. Needs PyPI (or eryx's cached lock and wheels).
use eryx::Sandbox;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

const CREATIONS: usize = 200;
const IDLE: usize = 20;
const SIDE: &str = "ERYX_BENCH_PACKAGES_SIDE";

/// (side, requirements, module it pre-imports, first-use code)
const SIDES: &[(&str, &[&str], &str, &str)] = &[
    ("default", &[], "sympy", ""),
    ("sympy", &["sympy==1.14.0"], "sympy", "import sympy; sympy.factor('x**2-1')"),
    (
        "pandas",
        &["pandas==3.1.1"],
        "pandas",
        "import pandas as pd; pd.DataFrame({'a': range(1000)}).groupby(pd.Series(range(1000)) % 7).sum()",
    ),
    (
        "pandas+matplotlib",
        &["pandas==3.1.1", "matplotlib==3.10.9"],
        "matplotlib.pyplot",
        "import matplotlib.pyplot as plt; plt.plot([1, 3, 2]); plt.savefig('/tmp/a.png'); plt.close()",
    ),
];

fn side_of(name: &str) -> (&'static [&'static str], &'static str, &'static str) {
    let (_, reqs, module, first) = SIDES.iter().find(|s| s.0 == name).expect("known side");
    (reqs, module, first)
}

fn builder(side: &str) -> eryx::SandboxBuilder {
    let (reqs, module, _) = side_of(side);
    let b = Sandbox::builder();
    if reqs.is_empty() {
        b
    } else if module.contains('.') {
        // A submodule (matplotlib.pyplot) is pre-imported when asked for.
        b.requirements(reqs.iter().copied()).preimport(&[module])
    } else {
        b.requirements(reqs.iter().copied())
    }
}

/// RssAnon of this process, in bytes.
fn private_bytes() -> i64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("RssAnon:"))
        .and_then(|r| r.split_whitespace().next()?.parse::<i64>().ok())
        .map_or(-1, |kib| kib * 1024)
}

async fn child(side: &str) -> Result<String, String> {
    let text = |e: eryx::Error| e.to_string();
    // The first build resolves, links and pre-initialises (cached on disk).
    let mut first = builder(side).build().await.map_err(text)?;
    let (_, module, first_code) = side_of(side);
    let check = first
        .execute(&format!("import sys; print({module:?} in sys.modules)"))
        .await
        .map_err(text)?;
    drop(first);
    let mut times: Vec<Duration> = Vec::with_capacity(CREATIONS);
    for _ in 0..CREATIONS {
        let t = Instant::now();
        let sb = builder(side).build().await.map_err(text)?;
        times.push(t.elapsed());
        drop(sb);
    }
    times.sort();
    let first_use = if !first_code.is_empty() {
        let mut import = builder(side).build().await.map_err(text)?;
        let t = Instant::now();
        import.execute(first_code).await.map_err(text)?;
        format!("{:.1}", t.elapsed().as_secs_f64() * 1e3)
    } else {
        "-".to_string()
    };
    let mut warm = builder(side).build().await.map_err(text)?;
    warm.execute("pass").await.map_err(text)?;
    drop(warm);
    let base = private_bytes();
    let mut idle = Vec::new();
    for _ in 0..IDLE {
        let mut s = builder(side).build().await.map_err(text)?;
        s.execute("pass").await.map_err(text)?;
        idle.push(s);
    }
    let per = (private_bytes() - base) / IDLE as i64;
    Ok(format!(
        "{}\t{:.3}\t{first_use}\t{:.2}",
        check.trim(),
        times[CREATIONS / 2].as_secs_f64() * 1e3,
        per as f64 / (1 << 20) as f64
    ))
}

fn main() -> ExitCode {
    if let Ok(side) = std::env::var(SIDE) {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        return match rt.block_on(child(&side)) {
            Ok(line) => {
                println!("{line}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("packages bench ({side}): {e}");
                ExitCode::FAILURE
            }
        };
    }
    let exe = std::env::current_exe().expect("own path");
    println!(
        "| image | its package in sys.modules | warm creation, median of {CREATIONS} (ms) | first use: sympy `factor`, pandas `groupby().sum()`, a plot saved as PNG (ms) | private memory per idle session, {IDLE} sessions (MiB) |"
    );
    println!("|---|---|---:|---:|---:|");
    for (side, ..) in SIDES {
        let out = Command::new(&exe).env(SIDE, side).output().expect("child");
        if !out.status.success() {
            eprint!("{}", String::from_utf8_lossy(&out.stderr));
            return ExitCode::FAILURE;
        }
        let line = String::from_utf8_lossy(&out.stdout);
        let cols: Vec<&str> = line.trim().split('\t').collect();
        println!("| {side} | {} |", cols.join(" | "));
    }
    ExitCode::SUCCESS
}
