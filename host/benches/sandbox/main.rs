//! `cargo bench -p eryx --bench sandbox`: one run that measures, side by
//! side, eryx, the componentize-py build of the same WIT world (on the same
//! engine), and the host's native `python3`, and prints one Markdown table:
//! startup (fresh process and warm), execute, snapshot, CPU workloads with
//! ratios to native, and resident memory per idle session.
//!
//! Environment: `ERYX_BENCH_QUICK=1` (fewer repetitions, well under two
//! minutes once compiled), `ERYX_BENCH_PYTHON` (native interpreter, default
//! `python3`), `ERYX_CACHE_DIR` (compiled-code cache, as for eryx).
//! Progress goes to stderr, the table to stdout.
mod fresh;
mod measure;
mod native;
mod pyodide;
mod raw;
mod report;
mod sides;
mod stats;
mod table;
mod workloads;

use report::{CpuRow, Results};
use std::process::ExitCode;
use std::time::Instant;

/// Repetition counts.
#[derive(Clone, Copy)]
pub struct Config {
    /// Quick mode (`ERYX_BENCH_QUICK=1`).
    pub quick: bool,
    /// Fresh processes per startup row.
    pub fresh_runs: usize,
    /// Sandboxes created for the warm creation / first execute rows.
    pub creations: usize,
    /// Warm executes timed.
    pub warm_execs: usize,
    /// Timed reps of each CPU workload (after one warm-up).
    pub cpu_reps: usize,
    /// Snapshots (and restores) timed.
    pub snapshot_reps: usize,
}

/// Idle-session counts for the memory rows.
pub const SESSION_COUNTS: [usize; 2] = [10, 50];

impl Config {
    fn from_env() -> Config {
        let quick = std::env::var("ERYX_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
        if quick {
            Config {
                quick,
                fresh_runs: 3,
                creations: 5,
                warm_execs: 200,
                cpu_reps: 3,
                snapshot_reps: 5,
            }
        } else {
            Config {
                quick,
                fresh_runs: 20,
                creations: 50,
                warm_execs: 2000,
                cpu_reps: 9,
                snapshot_reps: 20,
            }
        }
    }
}

fn say(msg: &str) {
    eprintln!("bench: {msg}");
}

/// Everything about the componentize-py side that later steps need.
struct Cpy {
    host: raw::RawHost,
    kind: fresh::Kind,
}

fn prepare_cpy() -> Result<(Cpy, u64), String> {
    let wasm = sides::build_cpy()?;
    let size = std::fs::metadata(&wasm).map_err(|e| e.to_string())?.len();
    let key = sides::cpy_key(&wasm)?;
    let stdlib = sides::stdlib_dir()?;
    let host = sides::cpy_host(&wasm, &key, stdlib.clone(), true)?;
    let kind = fresh::Kind::Cpy { wasm, key, stdlib };
    Ok((Cpy { host, kind }, size))
}

async fn guest_version() -> Result<String, String> {
    use sides::{Factory, Session};
    let mut s = sides::ERYX.create().await?;
    Session::execute(&mut s, "import sys; print(sys.version.split()[0])")
        .await
        .map(|v| v.trim().to_string())
}

async fn run(cfg: Config) -> Results {
    let start = Instant::now();
    say("preparing the componentize-py build (first run: componentize-py ~1 min, compile ~10 s)");
    let cpy = prepare_cpy();
    let python = native::python();
    let native_py = native::resolve(&python);
    let native_exe = native_py.clone().map(|(exe, _)| exe);
    let cpy_err = |c: &Result<(Cpy, u64), String>| c.as_ref().err().cloned().unwrap_or_default();

    say("fresh processes");
    let cli_eryx = fresh::cli(cfg.fresh_runs);
    let cli_native = native_exe
        .clone()
        .and_then(|e| native::pass_wall(&e, cfg.fresh_runs));
    let fresh_eryx = fresh::children(&fresh::Kind::Eryx, cfg.fresh_runs);
    let fresh_cpy = match &cpy {
        Ok((c, _)) => fresh::children(&c.kind, cfg.fresh_runs),
        Err(_) => Err(cpy_err(&cpy)),
    };

    say("warm startup and execute");
    let startup_eryx = measure::startup(&sides::ERYX, cfg.creations, cfg.warm_execs).await;
    let warm_eryx_no_checkpoint =
        measure::warm_exec(&sides::ERYX_NO_CHECKPOINT, cfg.warm_execs).await;
    let startup_cpy = match &cpy {
        Ok((c, _)) => Ok(measure::startup(&c.host, cfg.creations, cfg.warm_execs).await),
        Err(_) => Err(cpy_err(&cpy)),
    };

    say("snapshot / restore");
    let snap_eryx = Ok(measure::snapshot(&sides::ERYX, cfg.snapshot_reps).await);
    let snap_cpy = match &cpy {
        Ok((c, _)) => Ok(measure::snapshot(&c.host, cfg.snapshot_reps).await),
        Err(_) => Err(cpy_err(&cpy)),
    };

    say("Pyodide (npm package, Node)");
    let pyodide_pkg = pyodide::prepare();
    let pyodide_startup =
        pyodide::startup(&pyodide_pkg, cfg.cpu_reps.min(3)).and_then(|t| stats::Stats::require(&t));

    let mut cpu = vec![];
    for w in workloads::ALL {
        say(&format!("CPU: {}", w.label));
        let mut eryx_s = workloads::Prepared::new(&sides::ERYX, w).await;
        let mut fast_s = workloads::Prepared::new(&sides::ERYX_UNINTERRUPTIBLE, w).await;
        let mut cpy_s = match &cpy {
            Ok((c, _)) => Some(workloads::Prepared::new(&c.host, w).await),
            Err(_) => None,
        };
        let (mut native, mut eryx, mut pyodide_t) = (Ok(vec![]), Ok(vec![]), Ok(vec![]));
        let mut fast = Ok(vec![]);
        let mut cpy_t = cpy.as_ref().map(|_| vec![]).map_err(|e| e.clone());
        for _ in 0..cfg.cpu_reps {
            workloads::native_round(&native_exe, w, &mut native);
            eryx_s.round(&mut eryx).await;
            fast_s.round(&mut fast).await;
            if let Some(s) = cpy_s.as_mut() {
                s.round(&mut cpy_t).await;
            }
            pyodide::round(&pyodide_pkg, w, &mut pyodide_t);
        }
        let (native, eryx, cpy_stats) = (
            workloads::summary(native),
            workloads::summary(eryx),
            workloads::summary(cpy_t),
        );
        cpu.push(CpuRow {
            label: w.label,
            native,
            eryx,
            cpy: cpy_stats,
            pyodide: workloads::summary(pyodide_t),
            uninterruptible: workloads::summary(fast),
        });
    }

    say(&format!(
        "memory: {SESSION_COUNTS:?} idle sessions, in child processes"
    ));
    let rss_eryx = fresh::rss(&fresh::Kind::Eryx);
    let rss_cpy = match &cpy {
        Ok((c, _)) => fresh::rss(&c.kind),
        Err(_) => Err(cpy_err(&cpy)),
    };

    Results {
        cfg,
        native_python: native_py,
        guest_version: guest_version().await,
        eryx_size: eryx::link_component(&[])
            .map(|b| b.len() as u64)
            .map_err(|e| e.to_string()),
        cpy_size: cpy.as_ref().map(|(_, s)| *s).map_err(|e| e.clone()),
        cli_eryx,
        cli_native,
        fresh_eryx,
        fresh_cpy,
        startup_eryx,
        warm_eryx_no_checkpoint,
        startup_cpy,
        snap_eryx,
        snap_cpy,
        cpu,
        rss_eryx,
        rss_cpy,
        pyodide_startup,
        total_secs: stats::since(start),
    }
}

fn main() -> ExitCode {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("bench: tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Ok(which) = std::env::var(fresh::CHILD_VAR) {
        return ExitCode::from(rt.block_on(fresh::child_main(&which)) as u8);
    }
    // `cargo bench` passes --bench; `cargo test --benches` does not: there,
    // only check that the benchmark starts, without measuring anything.
    if !std::env::args().any(|a| a == "--bench") {
        println!("bench: not measuring (run it with `cargo bench -p eryx --bench sandbox`)");
        return ExitCode::SUCCESS;
    }
    let cfg = Config::from_env();
    say("preparing eryx (the first run compiles the component, ~10 s; cached after)");
    if let Err(e) = eryx::prepare(true) {
        eprintln!("bench: eryx is not usable, nothing to measure: {e}");
        return ExitCode::FAILURE;
    }
    let results = rt.block_on(run(cfg));
    print!("{}", report::render(&results));
    ExitCode::SUCCESS
}
