//! The CPU-bound workloads (real `.py` files under bench/workloads/) and the
//! driver that times them inside Python with `time.perf_counter`, so the
//! same source runs unchanged in the sandbox and in native `python3`.

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
];

const DRIVER: &str = include_str!("../../../bench/workloads/_driver.py");

impl Workload {
    /// The program to run: the workload, the driver, and the call that
    /// prints the seconds of `reps` timed runs (after one warm-up run).
    pub fn program(&self, reps: usize) -> String {
        format!("{}\n{DRIVER}\n_bench({reps})\n", self.source)
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
