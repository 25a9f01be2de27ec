//! `cargo bench -p eryx-server --bench workers`: the cost of the worker
//! boundary, side by side in one run. Three real servers on 127.0.0.1,
//! one execute slot each: in-process (the default), `--isolation workers`
//! (interruptible engine in the workers), and `--isolation workers
//! --worker-engine uninterruptible` (no epoch checks; the server kills a
//! worker at the deadline). One client sends one-shot executes to each in
//! turn (rounds interleaved, so the machine's noise hits all three alike):
//!
//! - warm `print(1+1)`: latency p50/p99 and CPU per request of the server
//!   and its workers together;
//! - a CPU-bound job (sum of squares, ~0.5 s): the sandbox's own duration
//!   and the request's wall time, median;
//! - warm `print(1+1)` in a session (with workers, the session lives in
//!   them: each call also sends its new state back to the server), in a
//!   session holding nothing and in one holding a 10 000-entry dict.
//!
//! Env: `ERYX_BENCH_ROUNDS` (default 10; 20 small requests per server per
//! round, one CPU job). The Markdown table on stdout.
#[path = "../tests/common/mod.rs"]
mod common;
use common::{cpu_secs, ms, pct, Server};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const SMALL: &str = "print(1+1)";
const CPU: &str = "print(sum(i * i for i in range(4_000_000)))";

/// CPU seconds of a server and its workers.
fn tree_cpu(pid: u32) -> f64 {
    let kids = common::children(pid).into_iter().map(|k| cpu_secs(Some(k)));
    cpu_secs(Some(pid)) + kids.sum::<f64>()
}

/// What one server measured.
#[derive(Default)]
struct Tally {
    small: Vec<Duration>,
    small_cpu: f64,
    cpu_wall: Vec<Duration>,
    cpu_inside: Vec<Duration>,
    /// Session calls: an empty session, one holding a 10k dict.
    session: [Vec<Duration>; 2],
    session_cpu: [f64; 2],
}

async fn one_shot(s: &Server, code: &str) -> Value {
    let v = s
        .post_ok(
            "/v1/execute",
            None,
            json!({"code": code, "timeout_ms": 60_000}),
        )
        .await;
    assert!(v["error"].is_null(), "{v}");
    v
}

async fn round(s: &Server, t: &mut Tally, sessions: &[String; 2]) {
    for (i, id) in sessions.iter().enumerate() {
        let c0 = tree_cpu(s.pid());
        for _ in 0..20 {
            let t0 = Instant::now();
            let v = s.run(None, id, SMALL).await;
            assert!(v["error"].is_null(), "{v}");
            t.session[i].push(t0.elapsed());
        }
        t.session_cpu[i] += tree_cpu(s.pid()) - c0;
    }
    let c0 = tree_cpu(s.pid());
    for _ in 0..20 {
        let t0 = Instant::now();
        one_shot(s, SMALL).await;
        t.small.push(t0.elapsed());
    }
    t.small_cpu += tree_cpu(s.pid()) - c0;
    let t0 = Instant::now();
    let v = one_shot(s, CPU).await;
    t.cpu_wall.push(t0.elapsed());
    let inside = v["duration_ms"].as_f64().unwrap_or(0.0);
    t.cpu_inside.push(Duration::from_secs_f64(inside / 1e3));
}

fn median(v: &[Duration]) -> f64 {
    pct(&mut ms(v), 0.5)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let rounds: usize = std::env::var("ERYX_BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let kinds: [(&str, &[&str]); 3] = [
        ("in-process, interruptible", &["--workers", "1"]),
        (
            "worker, interruptible",
            &["--workers", "1", "--isolation", "workers"],
        ),
        (
            "worker, uninterruptible",
            &[
                "--workers",
                "1",
                "--isolation",
                "workers",
                "--worker-engine",
                "uninterruptible",
            ],
        ),
    ];
    let mut servers = Vec::new();
    for (name, flags) in kinds {
        eprintln!("workers bench: starting {name}");
        let s = Server::start("", flags).await;
        // Warm: the first calls compile nothing, but fill caches.
        for _ in 0..5 {
            one_shot(&s, SMALL).await;
        }
        let empty = s.session(None, json!({"timeout_ms": 60_000})).await;
        let dict = s.session(None, json!({"timeout_ms": 60_000})).await;
        s.run(None, &dict, "d = {i: i for i in range(10_000)}")
            .await;
        servers.push((name, s, Tally::default(), [empty, dict]));
    }
    for r in 0..rounds {
        eprintln!("workers bench: round {}/{rounds}", r + 1);
        for (_, s, t, ids) in servers.iter_mut() {
            round(s, t, ids).await;
        }
    }
    println!(
        "### The worker boundary (one-shot executes, 1 client, {rounds} rounds interleaved)\n"
    );
    println!("| server | `print(1+1)` p50 ms | p99 ms | CPU µs per request (server + workers) | CPU job in the sandbox, median ms | CPU job request, median ms |");
    println!("|---|---|---|---|---|---|");
    for (name, _, t, _) in servers.iter_mut() {
        let n = t.small.len().max(1) as f64;
        println!(
            "| {name} | {:.2} | {:.2} | {:.0} | {:.0} | {:.0} |",
            median(&t.small),
            pct(&mut ms(&t.small), 0.99),
            t.small_cpu * 1e6 / n,
            median(&t.cpu_inside),
            median(&t.cpu_wall),
        );
    }
    println!("\n| server | session `print(1+1)` p50 ms | p99 ms | CPU µs per call | with a 10k dict: p50 ms | p99 ms | CPU µs per call |");
    println!("|---|---|---|---|---|---|---|");
    for (name, _, t, _) in servers.iter_mut() {
        let [a, b] = &t.session;
        let (na, nb) = (a.len().max(1) as f64, b.len().max(1) as f64);
        println!(
            "| {name} | {:.2} | {:.2} | {:.0} | {:.2} | {:.2} | {:.0} |",
            median(a),
            pct(&mut ms(a), 0.99),
            t.session_cpu[0] * 1e6 / na,
            median(b),
            pct(&mut ms(b), 0.99),
            t.session_cpu[1] * 1e6 / nb,
        );
    }
}
