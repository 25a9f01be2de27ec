//! The CPU-bound workloads (real `.py` files under bench/workloads/) and the
//! driver that times them inside Python with `time.perf_counter`, so the
//! same source runs unchanged in the sandbox and in native `python3`; and
//! the rounds that interleave the three environments, so a burst of load
//! on the machine hits all of them alike.
use crate::native;
use crate::sides::{Factory, Session};
use crate::stats::Stats;

/// One workload: a label for the table and its Python source (which defines
/// `run()`; module-level code is untimed setup).
pub struct Workload {
    /// Row label.
    pub label: &'static str,
    /// The workload module's source.
    source: &'static str,
}

/// Every workload, in table order.
pub const ALL: &[Workload] = &[
    Workload {
        label: "fib(25)",
        source: include_str!("../../../bench/workloads/fib.py"),
    },
    Workload {
        label: "sum(i*i for i in range(3_000_000))",
        source: include_str!("../../../bench/workloads/sum_squares.py"),
    },
    Workload {
        label: "json dumps+loads, ~1 MB",
        source: include_str!("../../../bench/workloads/json_roundtrip.py"),
    },
    Workload {
        label: "regex text job, ~0.4 MB",
        source: include_str!("../../../bench/workloads/regex_text.py"),
    },
    Workload {
        label: "csv parse + group + sort, 50k lines",
        source: include_str!("../../../bench/workloads/csv_groupby.py"),
    },
    Workload {
        label: "build + walk 200k dataclass instances",
        source: include_str!("../../../bench/workloads/dataclass_walk.py"),
    },
];

const DRIVER: &str = include_str!("../../../bench/workloads/_driver.py");

/// The statement that times one run and prints its seconds.
pub const ONE_ROUND: &str = "_bench(1)";

impl Workload {
    /// The setup to run once per session: the workload, the driver, and
    /// one untimed warm-up run.
    pub fn setup(&self) -> String {
        format!("{}\n{DRIVER}\n_warm()\n", self.source)
    }

    /// A whole program for a fresh process: setup, then one timed round.
    pub fn one_shot(&self) -> String {
        format!("{}{ONE_ROUND}\n", self.setup())
    }
}

/// Parse the driver's output line (seconds separated by spaces).
pub fn parse_times(stdout: &str) -> Result<Vec<f64>, String> {
    let line = stdout.lines().last().unwrap_or("").trim();
    let times: Result<Vec<f64>, _> = line.split_whitespace().map(str::parse::<f64>).collect();
    match times {
        Ok(t) if !t.is_empty() => Ok(t),
        _ => Err(format!(
            "unexpected workload output: {:?}",
            truncate(stdout, 200)
        )),
    }
}

/// At most `n` characters of `s` (for error messages).
pub fn truncate(s: &str, n: usize) -> String {
    let mut out: String = s.chars().take(n).collect();
    if s.chars().count() > n {
        out.push('…');
    }
    out
}

/// A session that has run a workload's setup, ready for timed rounds; or
/// why it is not.
pub struct Prepared<S>(Result<S, String>);

impl<S: Session> Prepared<S> {
    /// Create a session of `f` and run `w`'s setup in it.
    pub async fn new<F: Factory<S = S>>(f: &F, w: &Workload) -> Prepared<S> {
        let run = async {
            let mut s = f.create().await?;
            s.execute(&w.setup()).await?;
            Ok(s)
        };
        Prepared(run.await)
    }

    /// One timed round, appended to `times` (the first error sticks).
    pub async fn round(&mut self, times: &mut Result<Vec<f64>, String>) {
        let Ok(t) = times else { return };
        let r = match &mut self.0 {
            Ok(s) => s.execute(ONE_ROUND).await.and_then(|o| parse_times(&o)),
            Err(e) => Err(e.clone()),
        };
        match r {
            Ok(mut v) => t.append(&mut v),
            Err(e) => *times = Err(e),
        }
    }
}

/// One timed round in a fresh native process, appended to `times`.
pub fn native_round(
    python: &Result<String, String>,
    w: &Workload,
    times: &mut Result<Vec<f64>, String>,
) {
    let Ok(t) = times else { return };
    let r = python
        .clone()
        .and_then(|exe| native::run(&exe, &w.one_shot()))
        .and_then(|o| parse_times(&o));
    match r {
        Ok(mut v) => t.append(&mut v),
        Err(e) => *times = Err(e),
    }
}

/// The median of what the rounds collected.
pub fn summary(times: Result<Vec<f64>, String>) -> Result<Stats, String> {
    times.and_then(|t| Stats::require(&t))
}
