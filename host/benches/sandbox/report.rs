//! Everything one run measured, and how it is printed: a header line, one
//! Markdown table (eryx | componentize-py | native python3) and notes.
use crate::measure::{Rss, Snapshot, Startup, PROBE, SNAPSHOT_SETUP};
use crate::stats::{fmt_bytes, fmt_ratio, fmt_secs, Stats};
use crate::table::Table;
use crate::{Config, SESSION_COUNTS};

/// One CPU workload's medians in the three environments.
pub struct CpuRow {
    /// Row label.
    pub label: &'static str,
    /// Native python3.
    pub native: Result<Stats, String>,
    /// eryx.
    pub eryx: Result<Stats, String>,
    /// componentize-py build.
    pub cpy: Result<Stats, String>,
    /// Pyodide in Node.
    pub pyodide: Result<Stats, String>,
    /// eryx with `interruptible(false)`.
    pub uninterruptible: Result<Stats, String>,
}

/// Everything one run measured.
pub struct Results {
    /// Repetition counts used.
    pub cfg: Config,
    /// Native interpreter (executable, version).
    pub native_python: Result<(String, String), String>,
    /// CPython version inside eryx.
    pub guest_version: Result<String, String>,
    /// Size of eryx's linked component (`eryx::link_component`).
    pub eryx_size: Result<u64, String>,
    /// Size of the componentize-py component file.
    pub cpy_size: Result<u64, String>,
    /// `eryx -c pass`, spawn to exit.
    pub cli_eryx: Result<Stats, String>,
    /// `python3 -I -c pass`, spawn to exit.
    pub cli_native: Result<Stats, String>,
    /// Child process: (first sandbox ready, first execute), eryx.
    pub fresh_eryx: Result<(Stats, Stats), String>,
    /// The same for componentize-py.
    pub fresh_cpy: Result<(Stats, Stats), String>,
    /// Warm startup, eryx.
    pub startup_eryx: Startup,
    /// Warm execute, eryx with `keep_state_on_fault(false)`.
    pub warm_eryx_no_checkpoint: Result<Stats, String>,
    /// Warm startup, componentize-py.
    pub startup_cpy: Result<Startup, String>,
    /// Snapshot/restore, eryx.
    pub snap_eryx: Result<Snapshot, String>,
    /// Snapshot/restore, componentize-py.
    pub snap_cpy: Result<Snapshot, String>,
    /// CPU workloads.
    pub cpu: Vec<CpuRow>,
    /// Memory, eryx.
    pub rss_eryx: Result<Rss, String>,
    /// Memory, componentize-py.
    pub rss_cpy: Result<Rss, String>,
    /// loadPyodide() in a fresh Node process.
    pub pyodide_startup: Result<Stats, String>,
    /// Wall time of the whole run.
    pub total_secs: f64,
}

/// Picks one measurement out of a [`Startup`].
type StartupField = fn(&Startup) -> &Result<Stats, String>;

fn time(s: &Stats) -> String {
    fmt_secs(s.median)
}

fn pick<T, U: Clone>(
    r: &Result<T, String>,
    f: impl Fn(&T) -> Result<U, String>,
) -> Result<U, String> {
    r.as_ref().map_err(Clone::clone).and_then(f)
}

/// Render the results: header, table, notes.
pub fn render(r: &Results) -> String {
    let c = &r.cfg;
    let mut t = Table::new(&[
        "measure",
        "eryx",
        "componentize-py",
        "native python3",
        "Pyodide (Node)",
        "eryx, interruptible(false)",
    ]);
    let na = String::from("—");

    t.section("startup");
    let cli = t.cell(&r.cli_eryx, time);
    let cli_native = t.cell(&r.cli_native, time);
    t.row(
        format!(
            "fresh process: `-c pass`, spawn to exit (median of {})",
            c.fresh_runs
        ),
        vec![cli, na.clone(), cli_native],
    );
    let pyo = t.cell(&r.pyodide_startup, time);
    t.row(
        "fresh process: interpreter ready (Pyodide: loadPyodide() in Node)",
        vec![na.clone(), na.clone(), na.clone(), pyo],
    );
    let fe = [
        pick(&r.fresh_eryx, |p| Ok(p.0)),
        pick(&r.fresh_eryx, |p| Ok(p.1)),
    ];
    let fc = [
        pick(&r.fresh_cpy, |p| Ok(p.0)),
        pick(&r.fresh_cpy, |p| Ok(p.1)),
    ];
    for (i, label) in ["first sandbox ready (timed from main)", "its first execute"]
        .iter()
        .enumerate()
    {
        let (e, p) = (t.cell(&fe[i], time), t.cell(&fc[i], time));
        t.row(format!("fresh process: {label}"), vec![e, p, na.clone()]);
    }
    let se = &r.startup_eryx;
    let rows: [(String, StartupField); 4] = [
        (
            format!("warm process: create sandbox (median of {})", c.creations),
            |s| &s.create,
        ),
        (format!("warm process: its first execute `{PROBE}`"), |s| {
            &s.first_exec
        }),
        ("warm process: create + first execute".into(), |s| {
            &s.create_and_first
        }),
        (
            format!("warm execute `{PROBE}` (median of {})", c.warm_execs),
            |s| &s.warm_exec,
        ),
    ];
    for (label, get) in rows {
        let e = t.cell(get(se), time);
        let p = t.cell(&pick(&r.startup_cpy, |s| get(s).clone()), time);
        t.row(label, vec![e, p, na.clone()]);
    }
    let e = t.cell(&r.warm_eryx_no_checkpoint, time);
    t.row(
        "warm execute, eryx with keep_state_on_fault(false)",
        vec![e, na.clone(), na.clone()],
    );

    t.section("snapshot");
    let snaps = [&r.snap_eryx, &r.snap_cpy];
    let cells: Vec<String> = snaps
        .iter()
        .map(|s| t.cell(&pick(s, |s| s.snapshot.clone()), time))
        .collect();
    t.row(
        format!(
            "snapshot-state of `{SNAPSHOT_SETUP}` (median of {})",
            c.snapshot_reps
        ),
        cells,
    );
    let cells: Vec<String> = snaps
        .iter()
        .map(|s| t.cell(&pick(s, |s| s.restore.clone()), time))
        .collect();
    t.row("restore-state of that snapshot", cells);
    let cells: Vec<String> = snaps
        .iter()
        .map(|s| {
            t.cell(
                &pick(s, |s| s.bytes.ok_or_else(|| "no snapshot".to_string())),
                |b| fmt_bytes(*b as i64, false),
            )
        })
        .collect();
    t.row("snapshot size", cells);

    t.section(&format!(
        "CPU, seconds inside Python (median of {} rounds), ratio to native",
        c.cpu_reps
    ));
    for row in &r.cpu {
        let ratio = |s: &Stats| match &row.native {
            Ok(n) => format!("{} ({})", time(s), fmt_ratio(s.median / n.median)),
            Err(_) => time(s),
        };
        let e = t.cell(&row.eryx, ratio);
        let p = t.cell(&row.cpy, ratio);
        let n = t.cell(&row.native, time);
        let y = t.cell(&row.pyodide, ratio);
        let u = t.cell(&row.uninterruptible, ratio);
        t.row(row.label, vec![e, p, n, y, u]);
    }

    t.section("memory (VmRSS of a fresh child process per column)");
    let both = [&r.rss_eryx, &r.rss_cpy];
    for (i, n) in SESSION_COUNTS.iter().enumerate() {
        let per = both.map(|x| t.cell(x, |m| fmt_bytes(m.per_session[i], false)));
        t.row(format!("{n} idle sessions: RSS per session"), per.to_vec());
        let private = both.map(|x| t.cell(x, |m| fmt_bytes(m.private_per_session[i], false)));
        t.row(
            format!("{n} idle sessions: private (RssAnon) per session"),
            private.to_vec(),
        );
    }
    let last = SESSION_COUNTS[SESSION_COUNTS.len() - 1];
    let drop = both.map(|x| t.cell(x, |m| fmt_bytes(m.after_drop, true)));
    t.row(
        format!("after dropping all {last}: RSS vs before them"),
        drop.to_vec(),
    );
    let drop = both.map(|x| t.cell(x, |m| fmt_bytes(m.private_after_drop, true)));
    t.row(
        format!("after dropping all {last}: private (RssAnon) vs before them"),
        drop.to_vec(),
    );
    let base = both.map(|x| t.cell(x, |m| fmt_bytes(m.baseline, false)));
    t.row(
        "child RSS before them (after one session, dropped)",
        base.to_vec(),
    );

    t.section("size");
    let ours = t.cell(&r.eryx_size, |b| fmt_bytes(*b as i64, false));
    let size = t.cell(&r.cpy_size, |b| fmt_bytes(*b as i64, false));
    t.row(
        "component (eryx: as linked, no extensions)",
        vec![ours, size],
    );

    let mut out = String::from("# eryx sandbox benchmark\n\n");
    let native = match &r.native_python {
        Ok((exe, v)) => format!("{exe} {v}"),
        Err(e) => format!("unavailable ({e})"),
    };
    let guest = r
        .guest_version
        .clone()
        .unwrap_or_else(|e| format!("unknown ({e})"));
    out += &format!(
        "mode: {} · cores: {} · native: {native} · guest: CPython {guest} (eryx and componentize-py 0.25.1) · run took {:.0} s\n\n",
        if c.quick { "quick (ERYX_BENCH_QUICK)" } else { "full" },
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        r.total_secs,
    );
    out += &t.render();
    out += "\nNotes: both sandboxes run on eryx's engine (host/src/engine.rs) from its compiled-code cache. \
CPU times are measured inside Python with time.perf_counter after one warm-up run (process start and setup excluded), \
in rounds that run native, eryx, componentize-py and Pyodide in turn (native and Pyodide: a fresh process per round, \
Pyodide 314.0.7 from npm on this machine's Node); \
ratio = sandbox median / native median. \"Fresh process\" rows: `eryx -c pass` timed by the parent; the others by a \
re-executed child from its main (engine, cache mmap, linking, instantiate). Idle session = created + `pass` executed; sessions are added up to 10, then 50, then all dropped. \
componentize-py finds its stdlib at guest `/python` (mounted read-only, the same files eryx mounts).\n";
    if let (Ok((_, native_v)), Ok(guest_v)) = (&r.native_python, &r.guest_version) {
        if native_v != guest_v {
            out += &format!(
                "Caveat: native is CPython {native_v}, the guest {guest_v}; set ERYX_BENCH_PYTHON to compare like with like.\n"
            );
        }
    }
    out
}
