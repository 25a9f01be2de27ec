//! `cargo bench -p eryx --bench big_alloc`: `x = bytearray(1 << 30)` in a
//! session without a memory cap — the call's time (its recovery checkpoint
//! included), the next call's time with the GiB held, and the process's
//! peak RSS — next to native python3 doing the same, and next to the same
//! session with an unlimited checkpoint budget (what every session did
//! before the budget). Each side runs in its own fresh process (this
//! binary re-run with `ERYX_BIG_ALLOC_CHILD`), `ERYX_BENCH_ROUNDS` times
//! (default 3); medians. Issue 27's goal: ≤ 1.5× native, ≤ 1.2 GiB RSS.
use eryx::Sandbox;
use std::process::Command;

const NATIVE: &str = "import time, resource\n\
t = time.perf_counter(); x = bytearray(1 << 30); a = time.perf_counter() - t\n\
t = time.perf_counter(); x[0] = 1; b = time.perf_counter() - t\n\
print(a, b, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, 1)\n";

/// Peak resident set of this process, KiB (`VmHWM`).
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The child: one session, the two calls; prints "first next rss_kib
/// kept" (kept: 1 if the session still had `x`, else 0 and the error on
/// stderr).
async fn child(unlimited: bool) {
    let mut b = Sandbox::builder();
    if unlimited {
        b = b.checkpoint_budget(usize::MAX);
    }
    let mut sb = b.build().await.expect("sandbox");
    sb.execute("pass").await.expect("warm-up");
    let first = sb.run("x = bytearray(1 << 30)").await;
    let next = sb.run("x[0] = 1").await;
    let error = first.error.as_ref().or(next.error.as_ref());
    if let Some(e) = error {
        eprintln!("{e}");
    }
    println!(
        "{} {} {} {}",
        first.duration.as_secs_f64(),
        next.duration.as_secs_f64(),
        peak_rss_kib(),
        u8::from(error.is_none())
    );
}

/// Run one side in a fresh process; its "first next rss_kib kept" line.
fn side(cmd: &mut Command) -> [f64; 4] {
    let out = cmd.output().expect("run a side");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let v: Vec<f64> = (text.lines().last().unwrap_or(""))
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    assert_eq!(v.len(), 4, "{text}");
    if v[3] == 0.0 {
        eprintln!(
            "state lost: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    [v[0], v[1], v[2], v[3]]
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main]
async fn main() {
    if let Ok(kind) = std::env::var("ERYX_BIG_ALLOC_CHILD") {
        return child(kind == "unlimited").await;
    }
    let rounds: usize = (std::env::var("ERYX_BENCH_ROUNDS").ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let exe = std::env::current_exe().unwrap();
    let eryx = |kind: &str| {
        let mut c = Command::new(&exe);
        c.env("ERYX_BIG_ALLOC_CHILD", kind);
        c
    };
    let mut rows: Vec<(&str, Vec<[f64; 4]>)> = vec![
        ("native python3", Vec::new()),
        ("eryx session (checkpoint budget: default)", Vec::new()),
        ("eryx session (checkpoint budget: unlimited)", Vec::new()),
    ];
    for _ in 0..rounds {
        rows[0]
            .1
            .push(side(Command::new("python3").args(["-c", NATIVE])));
        rows[1].1.push(side(&mut eryx("default")));
        rows[2].1.push(side(&mut eryx("unlimited")));
    }
    let native = median(rows[0].1.iter().map(|r| r[0]).collect());
    println!(
        "{:<46} {:>12} {:>8} {:>14} {:>12} {:>10}",
        "x = bytearray(1 << 30), no memory cap",
        "call",
        "×native",
        "next call",
        "peak RSS",
        "x kept"
    );
    for (name, runs) in &rows {
        let first = median(runs.iter().map(|r| r[0]).collect());
        let next = median(runs.iter().map(|r| r[1]).collect());
        let rss = median(runs.iter().map(|r| r[2]).collect());
        let kept = runs.iter().filter(|r| r[3] == 1.0).count();
        println!(
            "{name:<46} {:>9.3} s {:>7.2}× {:>11.2} ms {:>8.2} GiB {:>6}/{}",
            first,
            first / native,
            next * 1e3,
            rss / (1u64 << 20) as f64,
            kept,
            runs.len()
        );
    }
    println!("(medians of {rounds} runs, each side in a fresh process)");
}
