//! `scripts/soak.sh [--short | --secs N]`: the server under a long mix of
//! ordinary and failing work, watched for leaks. One real `eryx-server` on
//! 127.0.0.1; `CLIENTS` client tasks, each with its own session (1 s
//! timeout, 256 MiB cap), cycle through [`JOBS`]: counter executes, one-shot
//! executes, timeouts, memory-cap hits, deep recursion, output floods, a
//! guest trap, and streamed executes the client drops mid-stream. After
//! every job the session's counter is bumped and checked, so a fault that
//! lost the session's state shows as a lost update.
//!
//! Every `secs / 12` it samples the server's RSS and open fds and the
//! interval's latency percentiles and errors (a Markdown table on stdout).
//! It fails (exit 1) on any unexpected status or result, any lost update,
//! or growth of RSS or fds after warm-up (the first quarter) beyond
//! [`GROWTH`] — measured after a short quiet pause at the end, against
//! the largest sample of the warm-up's end.
//!
//! With `ERYX_SOAK_WORKERS=1` (`scripts/soak.sh --workers`) the server
//! runs sessions and one-shots in worker processes (`--isolation
//! workers`, 2 workers): every other cycle of a client sends its jobs as
//! one-shots, the others to its session, and a worker is killed (SIGKILL)
//! every `ERYX_SOAK_KILL_SECS` (default 10). A `worker_lost` answer is
//! expected only for a request during which a worker was killed (a
//! counter increment so answered is tried again: it must not have
//! happened); the workers' RSS and fds are sampled and bounded like the
//! server's.
#[path = "../tests/common/mod.rs"]
mod common;
use common::{ms, pct, Server};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CLIENTS: usize = 6;
/// Every client may run at once.
const CONFIG: &str = "[tenant_defaults]\nmax_concurrent = 1000\n";
/// Allowed growth of RSS and open fds after warm-up.
const GROWTH: f64 = 0.05;
/// Descriptors that may come and go with the client's connection pool.
const FD_SLACK: usize = 2 * CLIENTS;

/// One kind of work and what its answer must look like.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Job {
    /// `POST /v1/execute`, a fresh sandbox.
    OneShot,
    Timeout,
    Memory,
    Recursion,
    Flood,
    Trap,
    /// A streamed execute the client drops after its first bytes.
    Disconnect,
}

/// The cycle each client runs (offset by its index), a counter execute
/// after each.
const JOBS: &[Job] = &[
    Job::OneShot,
    Job::Recursion,
    Job::OneShot,
    Job::Flood,
    Job::Memory,
    Job::OneShot,
    Job::Disconnect,
    Job::Trap,
    Job::OneShot,
    Job::Timeout,
];

fn code(job: Job) -> &'static str {
    match job {
        Job::OneShot => "print(sum(range(1000)))",
        Job::Timeout => "while True:\n    pass",
        Job::Memory => "x = bytearray(1 << 30)",
        Job::Recursion => "def f(n):\n    return f(n + 1)\nf(0)",
        Job::Flood => "import sys\nfor _ in range(300):\n    sys.stdout.write('x' * 100_000)",
        Job::Trap => "import os\nos.abort()",
        Job::Disconnect => {
            "import time\nfor i in range(40):\n    print(i, flush=True)\n    time.sleep(0.01)"
        }
    }
}

/// How the soak runs.
#[derive(Clone, Copy)]
struct Mode {
    workers: bool,
}

/// Whether `v` (a 200 answer) is what `job` must give.
fn expected(job: Job, v: &Value) -> bool {
    let (kind, ty) = (&v["error"]["kind"], &v["error"]["type"]);
    // (Disconnect has no answer: the client dropped it.)
    match job {
        Job::OneShot => v["stdout"] == "499500\n" && v["error"].is_null(),
        Job::Timeout => kind == "timeout",
        Job::Memory => kind == "memory_limit" && ty == "MemoryError",
        Job::Recursion => kind == "python" && ty == "RecursionError",
        Job::Flood => kind == "output_limit",
        Job::Trap => kind == "trap",
        Job::Disconnect => true,
    }
}

/// What the clients saw (the interval's part is taken by each sample).
#[derive(Default)]
struct Tally {
    lat: Vec<Duration>,
    requests: usize,
    errors: Vec<String>,
    lost: usize,
    busy: usize,
    jobs: usize,
    /// Answers per job and error kind/type, for the report.
    seen: BTreeMap<String, usize>,
    /// When the soak killed a worker.
    kills: Vec<Instant>,
    /// Counter increments answered `worker_lost` (a kill overlapped them)
    /// and tried again.
    killed_retries: usize,
}

impl Tally {
    /// Whether a worker was killed since `t0`.
    fn killed_since(&self, t0: Instant) -> bool {
        self.kills.iter().any(|k| *k >= t0)
    }
}

/// POST `body` to `path`; (status, JSON answer).
async fn post(c: &reqwest::Client, url: &str, body: Value) -> Result<(u16, Value), String> {
    let r = c
        .post(url)
        .json(&body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = r.status().as_u16();
    Ok((status, r.json().await.unwrap_or_default()))
}

/// A streamed execute dropped after its first chunk of events.
async fn disconnect(c: &reqwest::Client, url: &str) -> Result<(), String> {
    let mut r = c
        .post(url)
        .header("accept", "text/event-stream")
        .json(&json!({ "code": code(Job::Disconnect) }))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if r.status() != 200 {
        return Err(format!("stream: {}", r.status()));
    }
    r.chunk().await.map_err(|e| e.to_string())?;
    Ok(())
}

/// One client until `end`.
async fn client_loop(
    base: String,
    index: usize,
    end: Instant,
    tally: Arc<Mutex<Tally>>,
    mode: Mode,
) {
    let c = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let fail = |t: &Arc<Mutex<Tally>>, m: String| t.lock().unwrap().errors.push(m);
    let limits = json!({"timeout_ms": 1000, "max_memory_bytes": 256u64 << 20});
    let session = json!({"timeout_ms": 1000, "max_memory_bytes": 256u64 << 20, "ttl_s": 3600});
    let one_shot_url = format!("{base}/v1/execute");
    let id = match post(&c, &format!("{base}/v1/sessions"), session).await {
        Ok((201 | 200, v)) => v["id"].as_str().unwrap_or_default().to_string(),
        other => return fail(&tally, format!("create: {other:?}")),
    };
    let exec = format!("{base}/v1/sessions/{id}/execute");
    let (mut n, mut k) = (0u64, index);
    let _ = post(&c, &exec, json!({"code": "n = 0"})).await;
    while Instant::now() < end {
        let job = JOBS[k % JOBS.len()];
        // With workers, every other cycle sends its jobs as one-shots.
        let one_shot = job == Job::OneShot || (mode.workers && (k / JOBS.len()) % 2 == 1);
        k += 1;
        let url = if one_shot { &one_shot_url } else { &exec };
        let mut body = if one_shot { limits.clone() } else { json!({}) };
        body["code"] = json!(code(job));
        let t0 = Instant::now();
        let got = match job {
            Job::Disconnect => disconnect(&c, url).await.map(|_| (200, Value::Null)),
            _ => post(&c, url, body).await,
        };
        {
            let mut t = tally.lock().unwrap();
            t.requests += 1;
            t.jobs += 1;
            t.lat.push(t0.elapsed());
            if let Ok((status, v)) = &got {
                let key = format!(
                    "{job:?}: {status} {} {}",
                    v["error"]["kind"], v["error"]["type"]
                );
                *t.seen.entry(key).or_default() += 1;
            }
            match &got {
                Ok((200, v)) if expected(job, v) => {}
                Ok((500, v)) if v["error"]["code"] == "worker_lost" && t.killed_since(t0) => {}
                Err(e) if job == Job::Disconnect && e.contains("500") && t.killed_since(t0) => {}
                other => t.errors.push(format!("{job:?}: {other:?}")),
            }
        }
        // The counter: the session's state survived the job.
        loop {
            let t0 = Instant::now();
            let got = post(&c, &exec, json!({"code": "n += 1; print(n)"})).await;
            if matches!(got, Ok((409, _))) {
                // Still busy with the dropped stream's code.
                {
                    let mut t = tally.lock().unwrap();
                    t.requests += 1;
                    t.busy += 1;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
            let mut t = tally.lock().unwrap();
            if let Ok((500, v)) = &got {
                if v["error"]["code"] == "worker_lost" && t.killed_since(t0) {
                    // The session's worker was killed under this call:
                    // it did not happen (the state is the last good
                    // one), which the next try proves.
                    t.requests += 1;
                    t.killed_retries += 1;
                    continue;
                }
            }
            t.requests += 1;
            match got {
                Ok((200, v)) => {
                    t.lat.push(t0.elapsed());
                    match v["stdout"]
                        .as_str()
                        .and_then(|s| s.trim().parse::<u64>().ok())
                    {
                        Some(m) if m == n + 1 => n = m,
                        Some(m) => {
                            t.lost += 1;
                            t.errors
                                .push(format!("after {job:?}: n = {m}, expected {}", n + 1));
                            n = m;
                        }
                        None => t.errors.push(format!("after {job:?}: counter answer {v}")),
                    }
                }
                other => t.errors.push(format!("after {job:?}: counter {other:?}")),
            }
            break;
        }
    }
}

/// (RSS bytes, open fds) of process `pid`.
fn usage(pid: u32) -> (u64, usize) {
    try_usage(pid).expect("the server process is gone")
}

/// [`usage`], `None` when the process is gone (or a zombie).
fn try_usage(pid: u32) -> Option<(u64, usize)> {
    let kib = common::hostile::try_rss_kib(pid)?;
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count());
    Some((kib * 1024, fds))
}

fn secs_from_env() -> f64 {
    std::env::var("ERYX_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600.0)
}

/// RSS bytes and open fds of all worker processes of `pid` together.
fn workers_usage(pid: u32) -> (u64, usize) {
    // A worker just killed may be gone (or a zombie) by now.
    common::children(pid)
        .into_iter()
        .filter_map(try_usage)
        .fold((0, 0), |(r, f), (r2, f2)| (r + r2, f + f2))
}

/// Kill one worker of the server `pid` every `every` until `end`.
async fn killer(pid: u32, every: Duration, end: Instant, tally: Arc<Mutex<Tally>>) {
    let mut n = 0usize;
    loop {
        tokio::time::sleep(every).await;
        if Instant::now() + every / 2 > end {
            return;
        }
        let kids = common::children(pid);
        let Some(&victim) = kids.get(n % kids.len().max(1)) else {
            continue;
        };
        n += 1;
        tally.lock().unwrap().kills.push(Instant::now());
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &victim.to_string()])
            .status();
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let secs = secs_from_env();
    let mode = Mode {
        workers: std::env::var("ERYX_SOAK_WORKERS").is_ok_and(|v| v == "1"),
    };
    let kill_every = std::env::var("ERYX_SOAK_KILL_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or(Duration::from_secs(10), Duration::from_secs_f64);
    let flags: &[&str] = if mode.workers {
        &["--isolation", "workers", "--workers", "2"]
    } else {
        &[]
    };
    let server = Server::start(CONFIG, flags).await;
    let pid = server.pid();
    eprintln!(
        "soak: {CLIENTS} clients, {secs:.0} s, server pid {pid}{}",
        if mode.workers {
            ", worker processes, one killed every interval"
        } else {
            ""
        }
    );
    let tally = Arc::new(Mutex::new(Tally::default()));
    let t0 = Instant::now();
    let end = t0 + Duration::from_secs_f64(secs);
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|i| {
            tokio::spawn(client_loop(
                server.base.clone(),
                i,
                end,
                tally.clone(),
                mode,
            ))
        })
        .collect();
    if mode.workers {
        tokio::spawn(killer(pid, kill_every, end, tally.clone()));
    }
    let every = Duration::from_secs_f64((secs / 12.0).max(5.0));
    let warmup = secs / 4.0;
    let (mut baseline, mut wbase) = ((0u64, 0usize), (0u64, 0usize));
    println!("### Soak ({secs:.0} s, {CLIENTS} clients; RSS and fds of the server process and of its workers together)\n");
    println!("| t (s) | RSS MiB | fds | workers RSS MiB | workers fds | requests/s | p50 ms | p99 ms | errors | workers killed |\n|---|---|---|---|---|---|---|---|---|---|");
    let mut last = Instant::now();
    while Instant::now() < end {
        tokio::time::sleep(every.min(end.saturating_duration_since(Instant::now()))).await;
        let (rss, fds) = usage(pid);
        let (wrss, wfds) = workers_usage(pid);
        let (mut lat, requests, errors, kills) = {
            let mut t = tally.lock().unwrap();
            let lat = ms(&std::mem::take(&mut t.lat));
            (
                lat,
                std::mem::take(&mut t.requests),
                t.errors.len(),
                t.kills.len(),
            )
        };
        let at = t0.elapsed().as_secs_f64();
        if at <= warmup + every.as_secs_f64() / 2.0 {
            baseline = (baseline.0.max(rss), baseline.1.max(fds));
            wbase = (wbase.0.max(wrss), wbase.1.max(wfds));
        }
        println!(
            "| {at:.0} | {:.1} | {fds} | {:.1} | {wfds} | {:.1} | {:.1} | {:.1} | {errors} | {kills} |",
            rss as f64 / (1 << 20) as f64,
            wrss as f64 / (1 << 20) as f64,
            requests as f64 / last.elapsed().as_secs_f64(),
            pct(&mut lat, 0.5),
            pct(&mut lat, 0.99),
        );
        last = Instant::now();
    }
    for t in tasks {
        t.await.unwrap();
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (rss, fds) = usage(pid);
    let (wrss, wfds) = workers_usage(pid);
    let t = tally.lock().unwrap();
    let growth = |now: u64, base: u64| now as f64 / base.max(1) as f64 - 1.0;
    let (rss_growth, wrss_growth) = (growth(rss, baseline.0), growth(wrss, wbase.0));
    println!(
        "\n{} jobs, {} busy retries, {} counter retries after a kill, {} errors, {} lost updates, {} workers killed; after a 2 s pause: RSS {:.1} MiB ({:+.1} % against warm-up's {:.1}), fds {fds} (warm-up {}); workers RSS {:.1} MiB ({:+.1} %), fds {wfds} (warm-up {})",
        t.jobs,
        t.busy,
        t.killed_retries,
        t.errors.len(),
        t.lost,
        t.kills.len(),
        rss as f64 / (1 << 20) as f64,
        rss_growth * 100.0,
        baseline.0 as f64 / (1 << 20) as f64,
        baseline.1,
        wrss as f64 / (1 << 20) as f64,
        wrss_growth * 100.0,
        wbase.1,
    );
    println!("\n| job: status, error kind, type | answers |\n|---|---|");
    for (k, n) in &t.seen {
        println!("| {k} | {n} |");
    }
    for e in t.errors.iter().take(10) {
        eprintln!("soak: error: {e}");
    }
    let fd_bound = |base: usize| (base as f64 * (1.0 + GROWTH)) as usize + FD_SLACK;
    let grew = rss_growth > GROWTH
        || fds > fd_bound(baseline.1)
        || (mode.workers && (wrss_growth > GROWTH || wfds > fd_bound(wbase.1)));
    if !t.errors.is_empty() || t.lost > 0 || grew {
        eprintln!(
            "soak: FAILED (errors, lost updates, or RSS/fd growth beyond {:.0} %)",
            GROWTH * 100.0
        );
        std::process::exit(1);
    }
    eprintln!("soak: ok");
}
