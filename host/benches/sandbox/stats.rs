//! Timing samples and their summary (the median), plus the
//! human-readable formatting of seconds and bytes used by the table.
use std::future::Future;
use std::time::Instant;

/// A summary of timing samples, in seconds.
#[derive(Clone, Copy, Debug)]
pub struct Stats {
    /// The median sample.
    pub median: f64,
}

impl Stats {
    /// Summarise `samples`; `None` when there are none.
    pub fn of(samples: &[f64]) -> Option<Stats> {
        if samples.is_empty() {
            return None;
        }
        let mut v = samples.to_vec();
        v.sort_by(f64::total_cmp);
        let mid = v.len() / 2;
        let median = if v.len() % 2 == 1 {
            v[mid]
        } else {
            (v[mid - 1] + v[mid]) / 2.0
        };
        Some(Stats { median })
    }

    /// Summarise `samples`, or explain that there were none.
    pub fn require(samples: &[f64]) -> Result<Stats, String> {
        Stats::of(samples).ok_or_else(|| "no samples".to_string())
    }
}

/// Seconds since `start`.
pub fn since(start: Instant) -> f64 {
    start.elapsed().as_secs_f64()
}

/// Time one future; returns its output and the seconds it took.
pub async fn timed<T>(fut: impl Future<Output = T>) -> (T, f64) {
    let start = Instant::now();
    let out = fut.await;
    (out, since(start))
}

/// `12.3 µs`, `4.56 ms`, `1.23 s`: three significant digits.
pub fn fmt_secs(s: f64) -> String {
    let (v, unit) = if s < 1e-3 {
        (s * 1e6, "µs")
    } else if s < 1.0 {
        (s * 1e3, "ms")
    } else {
        (s, "s")
    };
    format!("{} {unit}", sig3(v))
}

/// `7.70 MiB`, `512 KiB`, with a sign when `signed`.
pub fn fmt_bytes(b: i64, signed: bool) -> String {
    let sign = if b < 0 {
        "-"
    } else if signed {
        "+"
    } else {
        ""
    };
    let a = b.unsigned_abs() as f64;
    let (v, unit) = if a >= 1024.0 * 1024.0 {
        (a / (1024.0 * 1024.0), "MiB")
    } else {
        (a / 1024.0, "KiB")
    };
    format!("{sign}{} {unit}", sig3(v))
}

/// A ratio such as `1.23×`.
pub fn fmt_ratio(r: f64) -> String {
    format!("{}×", sig3(r))
}

fn sig3(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}
