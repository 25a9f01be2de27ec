//! The figures of docs/stacks.md, in one process:
//! `cargo run --release -p eryx --example stacks` (after one run of `eryx`
//! has built the cached image).
//!
//! Prints, for N idle sandboxes: private memory (RssAnon) per session after
//! one ordinary call, then after each one ran C-recursion-deep code (a
//! `repr` of a 10^6-deep list, which goes to CPython's `RecursionError`);
//! sandbox creation time; and the time to raise and format a 10^6-deep
//! Python `RecursionError`.
use std::time::Instant;

const N: usize = 20;

const DEEP: &str = "l = []\nfor _ in range(10**6): l = [l]\n\
try:\n    repr(l)\nexcept RecursionError:\n    pass\ndel l";

const RECURSION: &str = "import sys\nsys.setrecursionlimit(10**6 + 50)\n\
def f(n): return f(n + 1)\nf(0)";

fn rss_anon() -> i64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("RssAnon:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<i64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn stack_kib() -> f64 {
    eryx::bench_support::stack_resident_bytes() as f64 / 1024.0
}

fn mib(bytes: i64) -> f64 {
    bytes as f64 / (1 << 20) as f64
}

#[tokio::main]
async fn main() -> Result<(), eryx::Error> {
    let mut warm = eryx::Sandbox::builder().progress(true).build().await?;
    warm.execute("pass").await?;

    let base = rss_anon();
    let mut sessions = Vec::new();
    let mut creation = Vec::new();
    for _ in 0..N {
        let t = Instant::now();
        let sb = eryx::Sandbox::builder().build().await?;
        creation.push(t.elapsed());
        sessions.push(sb);
    }
    for sb in &mut sessions {
        sb.execute("x = 1").await?;
    }
    let idle = rss_anon();
    println!(
        "idle private memory per session ({N} sessions, one call each): {:.2} MiB \
         (of which native stack {:.0} KiB)",
        mib((idle - base) / N as i64),
        stack_kib() / (N + 1) as f64
    );
    creation.sort();
    println!(
        "sandbox creation (median of {N}): {:.3} ms",
        creation[N / 2].as_secs_f64() * 1e3
    );
    for sb in &mut sessions {
        sb.execute(DEEP).await?;
    }
    let deep = rss_anon();
    println!(
        "after a deep C recursion (repr of a 10^6-deep list) in each: private memory per \
         session {:.2} MiB (linear memory grew to hold the list), native stack resident \
         per session {:.0} KiB",
        mib((deep - base) / N as i64),
        stack_kib() / (N + 1) as f64
    );
    drop(sessions);

    let mut sb = eryx::Sandbox::builder().build().await?;
    let t = Instant::now();
    let err = sb.execute(RECURSION).await.unwrap_err();
    let took = t.elapsed();
    let traceback = err.traceback();
    let repeated = traceback
        .lines()
        .find(|l| l.contains("Previous line repeated"))
        .unwrap_or("(no repetition line)");
    println!(
        "10^6-deep RecursionError raised + formatted: {:.0} ms ({} lines, {})",
        took.as_secs_f64() * 1e3,
        traceback.lines().count(),
        repeated.trim()
    );
    Ok(())
}
