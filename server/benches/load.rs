//! `cargo bench -p eryx-server --bench load`: the load benchmark. Starts a
//! real `eryx-server` on 127.0.0.1 and, in the same run, does the same work
//! on `eryx::Sandbox` in this process:
//!
//! - C concurrent clients (1, 16, 64), each on its own session, for
//!   `ERYX_BENCH_SECS` seconds (default 30) per cell: `print(1+1)` and a
//!   ~10 ms CPU job (calibrated at start); throughput and p50/p99 latency,
//!   server next to in-process (ratio);
//! - throughput with 1 vs 2 worker slots (16 clients);
//! - a new session + its first execute over HTTP (median, p99) next to a
//!   new sandbox + first execute in-process.
//!
//! Env: `ERYX_BENCH_SECS` (seconds per cell), `ERYX_BENCH_CLIENTS`
//! (e.g. `1,16`). Progress on stderr, the Markdown table on stdout.
#[path = "../tests/common/mod.rs"]
mod common;
use common::cpu_secs;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What one cell measured.
#[derive(Default, Clone)]
struct Cell {
    ops: usize,
    secs: f64,
    lat: Vec<Duration>,
    failed: usize,
    rejected: usize,
    /// CPU seconds used (server + client processes, or this process).
    cpu: f64,
}

impl Cell {
    fn throughput(&self) -> f64 {
        self.ops as f64 / self.secs
    }
    fn pct(&self, p: f64) -> f64 {
        if self.lat.is_empty() {
            return f64::NAN;
        }
        let mut v = self.lat.clone();
        v.sort();
        let i = ((v.len() as f64 * p) as usize).min(v.len() - 1);
        v[i].as_secs_f64() * 1e3
    }
    /// CPU microseconds per successful op.
    fn cpu_per_op(&self) -> f64 {
        self.cpu * 1e6 / self.ops.max(1) as f64
    }
    fn merge(&mut self, o: Cell) {
        self.cpu += o.cpu;
        self.ops += o.ops;
        self.lat.extend(o.lat);
        self.failed += o.failed;
        self.rejected += o.rejected;
    }
}

/// A server child process.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(workers: usize) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_eryx-server"))
            .args(["--listen", "127.0.0.1:0", "--queue", "4096"])
            .args(["--workers", &workers.to_string()])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start eryx-server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("listening line");
        let base = line
            .trim()
            .strip_prefix("eryx-server listening on ")
            .expect("listening line")
            .to_string();
        Server { child, base }
    }

    async fn ready(&self, client: &reqwest::Client) {
        loop {
            if let Ok(r) = client.get(format!("{}/readyz", self.base)).send().await {
                if r.status() == 200 {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// C sessions on the server (one per client); their execute URLs.
async fn server_sessions(client: &reqwest::Client, base: &str, clients: usize) -> Vec<String> {
    let mut urls = Vec::new();
    for _ in 0..clients {
        let v: Value = client
            .post(format!("{base}/v1/sessions"))
            .json(&json!({}))
            .send()
            .await
            .expect("create session")
            .json()
            .await
            .expect("session JSON");
        let id = v["id"].as_str().expect("id");
        urls.push(format!("{base}/v1/sessions/{id}/execute"));
    }
    urls
}

/// Each client runs `code` on its own session in a loop for `secs`.
async fn server_slice(client: &reqwest::Client, urls: &[String], code: &str, secs: f64) -> Cell {
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(secs);
    let body = Arc::new(serde_json::to_vec(&json!({ "code": code })).expect("body"));
    let mut tasks = Vec::new();
    for url in urls {
        let (client, body, url) = (client.clone(), body.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let mut cell = Cell::default();
            while Instant::now() < deadline {
                let t0 = Instant::now();
                let r = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body.as_ref().clone())
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status() == 200 => {
                        let ok = r.json::<Value>().await.is_ok_and(|v| v["error"].is_null());
                        if ok {
                            cell.ops += 1;
                            cell.lat.push(t0.elapsed());
                        } else {
                            cell.failed += 1;
                        }
                    }
                    Ok(r) if r.status() == 429 => cell.rejected += 1,
                    _ => cell.failed += 1,
                }
            }
            cell
        }));
    }
    let mut total = Cell::default();
    for t in tasks {
        total.merge(t.await.expect("client task"));
    }
    total.secs = start.elapsed().as_secs_f64();
    total
}

/// Length of one slice: a cell alternates server and in-process slices so
/// that both see the same background load.
fn slices(secs: f64) -> (usize, f64) {
    let n = (secs / 5.0).ceil().max(1.0) as usize;
    (n, secs / n as f64)
}

/// One cell: `clients` on the server and in-process, interleaved.
async fn cell(
    client: &reqwest::Client,
    server: &Server,
    clients: usize,
    code: &str,
    secs: f64,
) -> (Cell, Cell) {
    let urls = server_sessions(client, &server.base, clients).await;
    let pid = Some(server.child.id());
    let mut boxes = Vec::new();
    for _ in 0..clients {
        boxes.push(builder().build().await.expect("sandbox"));
    }
    let (n, slice) = slices(secs);
    let (mut srv, mut inp) = (Cell::default(), Cell::default());
    for _ in 0..n {
        let before = cpu_secs(pid) + cpu_secs(None);
        let mut run_srv = server_slice(client, &urls, code, slice).await;
        run_srv.cpu = cpu_secs(pid) + cpu_secs(None) - before;
        let before = cpu_secs(None);
        let (b, mut run_inp) = inproc_slice(boxes, code, slice).await;
        run_inp.cpu = cpu_secs(None) - before;
        boxes = b;
        srv.secs += std::mem::take(&mut run_srv.secs);
        inp.secs += std::mem::take(&mut run_inp.secs);
        srv.merge(run_srv);
        inp.merge(run_inp);
    }
    for url in &urls {
        let _ = client.delete(url.trim_end_matches("/execute")).send().await;
    }
    (srv, inp)
}

/// The server alone for `secs` (worker-slot comparison).
async fn server_cell(
    client: &reqwest::Client,
    base: &str,
    clients: usize,
    code: &str,
    secs: f64,
) -> Cell {
    let urls = server_sessions(client, base, clients).await;
    server_slice(client, &urls, code, secs).await
}

/// The sandbox the server builds for a session with default limits.
fn builder() -> eryx::SandboxBuilder {
    eryx::Sandbox::builder()
        .timeout(Duration::from_secs(10))
        .max_memory(256 << 20)
        .max_output(16 << 20)
        .capture_limit(1 << 20)
        .max_callback_invocations(1000)
}

/// The same work in-process: each task loops on its own sandbox (and
/// yields between calls, as a server's tasks do at their socket).
async fn inproc_slice(
    boxes: Vec<eryx::Sandbox>,
    code: &str,
    secs: f64,
) -> (Vec<eryx::Sandbox>, Cell) {
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(secs);
    let mut tasks = Vec::new();
    for mut sb in boxes {
        let code = code.to_string();
        tasks.push(tokio::spawn(async move {
            let mut cell = Cell::default();
            while Instant::now() < deadline {
                let t0 = Instant::now();
                if sb.run(&code).await.is_ok() {
                    cell.ops += 1;
                    cell.lat.push(t0.elapsed());
                } else {
                    cell.failed += 1;
                }
                tokio::task::yield_now().await;
            }
            (sb, cell)
        }));
    }
    let mut total = Cell::default();
    let mut back = Vec::new();
    for t in tasks {
        let (sb, c) = t.await.expect("task");
        back.push(sb);
        total.merge(c);
    }
    total.secs = start.elapsed().as_secs_f64();
    (back, total)
}

/// New session + first execute over HTTP, `n` times (sequential).
async fn http_first_execute(base: &str, n: usize) -> Cell {
    let client = reqwest::Client::new();
    let mut cell = Cell::default();
    let start = Instant::now();
    for _ in 0..n {
        let t0 = Instant::now();
        let v: Value = client
            .post(format!("{base}/v1/sessions"))
            .json(&json!({}))
            .send()
            .await
            .expect("create")
            .json()
            .await
            .expect("json");
        let id = v["id"].as_str().expect("id").to_string();
        let r: Value = client
            .post(format!("{base}/v1/sessions/{id}/execute"))
            .json(&json!({"code": "print(1+1)"}))
            .send()
            .await
            .expect("execute")
            .json()
            .await
            .expect("json");
        let took = t0.elapsed();
        if r["stdout"] == "2\n" {
            cell.ops += 1;
            cell.lat.push(took);
        } else {
            cell.failed += 1;
        }
        let _ = client
            .delete(format!("{base}/v1/sessions/{id}"))
            .send()
            .await;
    }
    cell.secs = start.elapsed().as_secs_f64();
    cell
}

/// New sandbox + first execute in-process, `n` times.
async fn inproc_first_execute(n: usize) -> Cell {
    let mut cell = Cell::default();
    let start = Instant::now();
    for _ in 0..n {
        let t0 = Instant::now();
        let mut sb = builder().build().await.expect("sandbox");
        let ok = sb.run("print(1+1)").await.stdout == "2\n";
        let took = t0.elapsed();
        drop(sb);
        if ok {
            cell.ops += 1;
            cell.lat.push(took);
        } else {
            cell.failed += 1;
        }
    }
    cell.secs = start.elapsed().as_secs_f64();
    cell
}

/// A CPU job of about 10 ms of CPU in the sandbox: the loop bound,
/// calibrated by this process's CPU time (not wall time, which a loaded
/// machine inflates); returns the code and its CPU ms per run.
async fn calibrate() -> (String, f64) {
    let job = |n: u64| format!("s = 0\nfor i in range({n}):\n    s += i * i\n");
    let mut sb = builder().build().await.expect("sandbox");
    // CPU ms per run of `code`, over `reps` runs (ticks are 10 ms).
    let mut measure = async |code: &str, reps: usize| {
        let before = cpu_secs(None);
        for _ in 0..reps {
            sb.run(code).await;
        }
        (cpu_secs(None) - before) * 1e3 / reps as f64
    };
    let probe = 20_000u64;
    let probe_ms = measure(&job(probe), 40).await;
    let n = (probe as f64 * 10.0 / probe_ms.max(0.1)).round() as u64;
    let code = job(n);
    let ms = measure(&code, 20).await;
    (code, ms)
}

fn row(out: &mut String, what: &str, c: usize, srv: &Cell, inp: &Cell) {
    out.push_str(&format!(
        "| {what} | {c} | {:.0} | {:.0} | {:.0} % | {:.0} | {:.0} | {:.0} % | {:.2} / {:.2} | {:.2} / {:.2} | {} | {} |\n",
        srv.throughput(),
        inp.throughput(),
        100.0 * srv.throughput() / inp.throughput(),
        srv.cpu_per_op(),
        inp.cpu_per_op(),
        100.0 * inp.cpu_per_op() / srv.cpu_per_op(),
        srv.pct(0.5),
        srv.pct(0.99),
        inp.pct(0.5),
        inp.pct(0.99),
        srv.failed,
        srv.rejected,
    ));
}

fn main() {
    let secs: f64 = std::env::var("ERYX_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30.0);
    let clients: Vec<usize> = std::env::var("ERYX_BENCH_CLIENTS")
        .ok()
        .map(|s| s.split(',').filter_map(|c| c.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 16, 64]);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        eryx::prepare(true).expect("prepare");
        let (cpu, cpu_ms) = calibrate().await;
        eprintln!("bench: CPU job = {cpu_ms:.1} ms of CPU in-process ({})", cpu.lines().nth(1).unwrap_or(""));
        let client = reqwest::Client::new();
        let server = Server::start(cores);
        server.ready(&client).await;
        let mut out = String::new();
        let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        let load = load.split(' ').next().unwrap_or("?");
        out.push_str(&format!(
            "{secs} s per cell per side (server and in-process interleaved in {:.1} s slices), \
             {cores} cores, server workers = {cores}; CPU job ≈ {cpu_ms:.1} ms of CPU; load average at start {load}\n\n",
            slices(secs).1
        ));
        out.push_str("| job | clients | server ops/s | in-process ops/s | ratio | server CPU µs/op (server+client) | in-process CPU µs/op | ratio by CPU | server p50 / p99 ms | in-process p50 / p99 ms | failed | 429 |\n");
        out.push_str("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (name, code) in [("print(1+1)", "print(1+1)"), ("CPU ~10 ms", cpu.as_str())] {
            for &c in &clients {
                eprintln!("bench: {name}, {c} clients (server and in-process, interleaved)...");
                let (srv, inp) = cell(&client, &server, c, code, secs).await;
                row(&mut out, name, c, &srv, &inp);
            }
        }
        eprintln!("bench: new session + first execute...");
        let n = 300;
        let http = http_first_execute(&server.base, n).await;
        let inp = inproc_first_execute(n).await;
        out.push_str(&format!(
            "\nNew session + first execute ({n} sequential): HTTP median {:.2} ms, p99 {:.2} ms \
             (failed {}); in-process new sandbox + first execute median {:.2} ms, p99 {:.2} ms\n",
            http.pct(0.5),
            http.pct(0.99),
            http.failed,
            inp.pct(0.5),
            inp.pct(0.99)
        ));
        drop(server);
        out.push_str("\nWorker slots (16 clients, server):\n\n| job | 1 worker ops/s | 2 workers ops/s | speed-up |\n|---|---|---|---|\n");
        let mut by_workers = Vec::new();
        for w in [1, 2] {
            let server = Server::start(w);
            server.ready(&client).await;
            let mut cells = Vec::new();
            for code in ["print(1+1)", cpu.as_str()] {
                eprintln!("bench: {w} worker(s), 16 clients...");
                cells.push(server_cell(&client, &server.base, 16, code, secs).await);
            }
            by_workers.push(cells);
        }
        for (i, name) in ["print(1+1)", "CPU ~10 ms"].iter().enumerate() {
            let (one, two) = (&by_workers[0][i], &by_workers[1][i]);
            out.push_str(&format!(
                "| {name} | {:.0} | {:.0} | {:.2}× |\n",
                one.throughput(),
                two.throughput(),
                two.throughput() / one.throughput()
            ));
        }
        print!("{out}");
    });
}
