//! `scripts/cluster-bench.sh [--short]`: sessions shared by replicas
//! through Redis, under load and replica failure. All on 127.0.0.1, real
//! processes (the test helpers' `Server` and `Redis`):
//!
//! 1. the store's cost: 1 replica with the in-process store, then with a
//!    session directory (`dir:`), then with Redis, the same client (100
//!    sessions, `n += 1; print(n)`);
//! 2. the cluster: 3 replicas + 1 Redis, 100 sessions each doing
//!    `n += 1; print(n)` round-robin across the replicas (so nearly every
//!    request restores the session from the store) for `ERYX_CLUSTER_SECS`
//!    (default 60); at 1/3 of the time one replica is SIGKILLed (and taken
//!    out of the rotation, as a load balancer would), at 2/3 a new one
//!    joins.
//!
//! With `ERYX_CLUSTER_EXACT=1` (`scripts/cluster-bench.sh --exact`) the
//! sessions are exact (`"exact": true`): the store holds their
//! `snapshot_exact()` bytes and every miss restores those; 20 sessions
//! instead of 100 by default (an exact sandbox holds its own copy of the
//! image's memory). `ERYX_CLUSTER_SESSIONS` sets the number either way.
//!
//! Lost updates (a session whose final `n` is below its count of answered
//! executes, or an answered `n` that is not above the one before) must be
//! 0, and failures only those in flight on the killed replica; the exit
//! status says so. The Markdown report goes to stdout.
#[path = "../tests/common/mod.rs"]
mod common;
use common::{ms, pct, Redis, Server};
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// Whether the sessions are exact (`ERYX_CLUSTER_EXACT=1`).
fn exact() -> bool {
    std::env::var("ERYX_CLUSTER_EXACT").is_ok_and(|v| v == "1")
}

/// How many sessions (`ERYX_CLUSTER_SESSIONS`; default 100, 20 exact).
fn session_count() -> usize {
    std::env::var("ERYX_CLUSTER_SESSIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if exact() { 20 } else { 100 })
}

const CODE: &str = "n += 1; print(n)";
/// Every session may run at once (the default tenant cap is 64).
const CONFIG: &str = "[tenant_defaults]\nmax_concurrent = 1000\n";

/// The replicas in rotation: (replica number, base URL).
type Rotation = Arc<RwLock<Vec<(usize, String)>>>;

/// What the clients saw.
#[derive(Default)]
struct Tally {
    ok: usize,
    lat: Vec<Duration>,
    /// Server-side restore times (`eryx-restore-ms`).
    restore_ms: Vec<f64>,
    busy_retries: usize,
    /// Failures of requests sent to the killed replica.
    failed_killed: usize,
    /// Any other failure: (status or error, message).
    failed_other: Vec<String>,
    order_violations: usize,
}

/// One session's client loop until `end`: (answered executes, requests
/// that died with the killed replica).
async fn session_loop(
    client: reqwest::Client,
    rotation: Rotation,
    next: Arc<AtomicUsize>,
    killed: Arc<AtomicUsize>,
    id: String,
    end: Instant,
    tally: Arc<Mutex<Tally>>,
) -> (u64, u64) {
    let (mut ok, mut died, mut last) = (0u64, 0u64, 0u64);
    while Instant::now() < end {
        let (replica, base) = {
            let r = rotation.read().unwrap();
            r[next.fetch_add(1, Ordering::Relaxed) % r.len()].clone()
        };
        let t0 = Instant::now();
        let sent = client
            .post(format!("{base}/v1/sessions/{id}/execute"))
            .json(&json!({ "code": CODE }))
            .send()
            .await;
        let lat = t0.elapsed();
        let mut t = tally.lock().unwrap();
        let r = match sent {
            Ok(r) => r,
            Err(e) => {
                if killed.load(Ordering::SeqCst) == replica {
                    t.failed_killed += 1;
                    died += 1;
                } else {
                    t.failed_other.push(format!("replica {replica}: {e}"));
                }
                continue;
            }
        };
        drop(t);
        let status = r.status().as_u16();
        let restore = r
            .headers()
            .get("eryx-restore-ms")
            .and_then(|v| v.to_str().ok()?.parse::<f64>().ok());
        let body: serde_json::Value = r.json().await.unwrap_or_default();
        let mut t = tally.lock().unwrap();
        match status {
            200 => {
                let n: u64 = body["stdout"]
                    .as_str()
                    .unwrap_or("")
                    .trim()
                    .parse()
                    .unwrap_or(0);
                if n <= last || n > last + 1 + died {
                    t.order_violations += 1;
                }
                last = n;
                ok += 1;
                t.ok += 1;
                t.lat.push(lat);
                t.restore_ms.extend(restore);
            }
            409 if body["error"]["code"] == "session_busy" => t.busy_retries += 1,
            _ if killed.load(Ordering::SeqCst) == replica => t.failed_killed += 1,
            _ => t
                .failed_other
                .push(format!("replica {replica}: {status} {body}")),
        }
    }
    (ok, died)
}

/// Sessions on `server`, each with `n = 0`.
async fn sessions(server: &Server) -> Vec<String> {
    let mut ids = Vec::new();
    for _ in 0..session_count() {
        let id = server
            .session(None, json!({"ttl_s": 600, "exact": exact()}))
            .await;
        server.run(None, &id, "n = 0").await;
        ids.push(id);
    }
    ids
}

/// Run every session's loop against `rotation` for `secs`; the tally and
/// each session's (answered, died).
async fn drive(
    rotation: Rotation,
    killed: Arc<AtomicUsize>,
    ids: &[String],
    secs: f64,
) -> (Arc<Mutex<Tally>>, Vec<tokio::task::JoinHandle<(u64, u64)>>) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let tally = Arc::new(Mutex::new(Tally::default()));
    let next = Arc::new(AtomicUsize::new(0));
    let end = Instant::now() + Duration::from_secs_f64(secs);
    let tasks = ids
        .iter()
        .map(|id| {
            let args = (
                client.clone(),
                rotation.clone(),
                next.clone(),
                killed.clone(),
            );
            tokio::spawn(session_loop(
                args.0,
                args.1,
                args.2,
                args.3,
                id.clone(),
                end,
                tally.clone(),
            ))
        })
        .collect();
    (tally, tasks)
}

/// One replica started with `flags` (its store): p50/p99 ms and
/// executes/s.
async fn single(flags: &[&str], secs: f64) -> (f64, f64, f64) {
    let server = Server::start(CONFIG, flags).await;
    let ids = sessions(&server).await;
    let rotation = Arc::new(RwLock::new(vec![(0, server.base.clone())]));
    let (tally, tasks) = drive(rotation, Arc::new(AtomicUsize::new(usize::MAX)), &ids, secs).await;
    for t in tasks {
        t.await.unwrap();
    }
    let t = tally.lock().unwrap();
    let mut l = ms(&t.lat);
    (pct(&mut l, 0.5), pct(&mut l, 0.99), t.ok as f64 / secs)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let secs: f64 = std::env::var("ERYX_CLUSTER_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60.0);
    let flags = ["--lease-ms", "1000", "--busy-wait-ms", "1500"];
    eprintln!("cluster-bench: store cost, {:.0} s per store", secs / 4.0);
    let mem = single(&[], secs / 4.0).await;
    let store = common::scratch("bench-dir");
    let spec = format!("dir:{}", store.display());
    let dir = single(&["--session-store", &spec], secs / 4.0).await;
    let _ = std::fs::remove_dir_all(&store);
    let redis = Redis::start();
    let red = single(&["--session-store", &redis.url()], secs / 4.0).await;
    let redis = Redis::start();
    let url = redis.url();
    let mut args = vec!["--session-store", url.as_str()];
    args.extend_from_slice(&flags);
    let mut replicas = Vec::new();
    for _ in 0..3 {
        replicas.push(Some(Server::start(CONFIG, &args).await));
    }
    let ids = sessions(replicas[0].as_ref().unwrap()).await;
    let rotation: Rotation = Arc::new(RwLock::new(
        replicas
            .iter()
            .enumerate()
            .map(|(i, s)| (i, s.as_ref().unwrap().base.clone()))
            .collect(),
    ));
    let killed = Arc::new(AtomicUsize::new(usize::MAX));
    let n = session_count();
    let kind = if exact() { "exact" } else { "pickled" };
    eprintln!("cluster-bench: 3 replicas, {n} {kind} sessions, {secs:.0} s");
    let t0 = Instant::now();
    let (tally, tasks) = drive(rotation.clone(), killed.clone(), &ids, secs).await;
    tokio::time::sleep(Duration::from_secs_f64(secs / 3.0)).await;
    // Out of the rotation first (the load balancer), then SIGKILL.
    rotation.write().unwrap().retain(|(i, _)| *i != 1);
    killed.store(1, Ordering::SeqCst);
    replicas[1].take().unwrap().kill();
    eprintln!(
        "cluster-bench: killed replica 1 at {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    tokio::time::sleep(Duration::from_secs_f64(secs / 3.0)).await;
    let joined = Server::start(CONFIG, &args).await;
    rotation.write().unwrap().push((3, joined.base.clone()));
    eprintln!(
        "cluster-bench: replica 3 joined at {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    let mut answered = Vec::new();
    for t in tasks {
        answered.push(t.await.unwrap());
    }
    let elapsed = t0.elapsed().as_secs_f64();
    // Each session's final n, from the new replica.
    let (mut lost, mut phantom, mut unreadable) = (0u64, 0u64, 0usize);
    for (id, (ok, died)) in ids.iter().zip(&answered) {
        let r = joined.exec(None, id, "print(n)").await;
        let v: serde_json::Value = r.json().await.unwrap_or_default();
        match v["stdout"]
            .as_str()
            .and_then(|s| s.trim().parse::<u64>().ok())
        {
            Some(n) => {
                lost += ok.saturating_sub(n);
                phantom += n.saturating_sub(ok + died);
            }
            None => unreadable += 1,
        }
    }
    let t = tally.lock().unwrap();
    let requests = t.ok + t.failed_killed + t.failed_other.len();
    let mut lat = ms(&t.lat);
    let mut restore = t.restore_ms.clone();
    println!("### Cluster bench ({secs:.0} s; 3 replicas + Redis on 127.0.0.1, {n} {kind} sessions round-robin)\n");
    println!("| measure | value |\n|---|---|");
    println!(
        "| requests | {requests} (+{} busy retries) |",
        t.busy_retries
    );
    println!("| answered (200) | {} |", t.ok);
    println!(
        "| failures on the killed replica (in flight when killed) | {} |",
        t.failed_killed
    );
    println!("| failures elsewhere | {} |", t.failed_other.len());
    println!("| lost updates (final n < answered executes) | {lost} |");
    println!("| answered n out of order | {} |", t.order_violations);
    println!("| applied but unanswered (killed in flight) | {phantom} |");
    println!("| sessions unreadable at the end | {unreadable} |");
    println!("| throughput | {:.0} executes/s |", t.ok as f64 / elapsed);
    println!(
        "| latency p50 / p99 (cluster, nearly every request a restore) | {:.2} / {:.2} ms |",
        pct(&mut lat, 0.5),
        pct(&mut lat, 0.99)
    );
    println!(
        "| restore-on-miss (server side) p50 / p99 | {:.2} / {:.2} ms ({} restores) |",
        pct(&mut restore, 0.5),
        pct(&mut restore, 0.99),
        restore.len()
    );
    println!(
        "\nThe store's cost (1 replica, same client, {:.0} s each):\n",
        secs / 4.0
    );
    println!("| store | executes/s | p50 ms | p99 ms |\n|---|---|---|---|");
    println!(
        "| in-process | {:.0} | {:.2} | {:.2} |",
        mem.2, mem.0, mem.1
    );
    println!(
        "| directory (`dir:`) | {:.0} | {:.2} | {:.2} |",
        dir.2, dir.0, dir.1
    );
    println!("| Redis | {:.0} | {:.2} | {:.2} |", red.2, red.0, red.1);
    for f in t.failed_other.iter().take(10) {
        eprintln!("cluster-bench: failure: {f}");
    }
    let bad = lost > 0
        || t.order_violations > 0
        || !t.failed_other.is_empty()
        || unreadable > 0
        || phantom > t.failed_killed as u64;
    if bad {
        eprintln!("cluster-bench: FAILED (lost updates, out-of-order answers or failures off the killed replica)");
        std::process::exit(1);
    }
    eprintln!("cluster-bench: ok");
}
