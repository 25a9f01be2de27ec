//! Test support: a real `eryx-server` process on 127.0.0.1 (random port),
//! started with a TOML config and flags, a reqwest client for it, and a
//! real `redis-server` (random port, temp directory, no persistence).
//! `hostile` holds what the hostile-client suites (hostile_*.rs) share.
#![allow(dead_code)]
pub mod hostile;
use reqwest::{Client, Method, RequestBuilder, Response};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A scratch directory unique to this test process and call.
pub fn scratch(tag: &str) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir =
        std::env::temp_dir().join(format!("eryx-server-test-{}-{tag}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// A running server.
pub struct Server {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    pub client: Client,
    /// Where its config and log live.
    pub dir: PathBuf,
}

impl Server {
    /// Start with `config` (TOML) and extra flags; wait until `/readyz`.
    pub async fn start(config: &str, flags: &[&str]) -> Server {
        let s = Server::spawn(config, flags);
        s.wait_ready().await;
        s
    }

    /// Start without waiting for readiness.
    pub fn spawn(config: &str, flags: &[&str]) -> Server {
        let dir = scratch("srv");
        let cfg = dir.join("config.toml");
        std::fs::write(&cfg, config).expect("write config");
        let log = std::fs::File::create(dir.join("server.log")).expect("log file");
        let mut child = Command::new(env!("CARGO_BIN_EXE_eryx-server"))
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--config")
            .arg(&cfg)
            .args(flags)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start eryx-server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read the listening line");
        let base = line
            .trim()
            .strip_prefix("eryx-server listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}; log: {}", dir.display()))
            .to_string();
        Server {
            child: Some(child),
            base,
            client: Client::new(),
            dir,
        }
    }

    /// Poll `/readyz` until 200 (the first run may compile the image).
    pub async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(600);
        loop {
            if let Ok(r) = self.client.get(self.url("/readyz")).send().await {
                if r.status() == 200 {
                    return;
                }
            }
            assert!(Instant::now() < deadline, "server never became ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A request, with `Authorization: Bearer key` if given.
    pub fn req(&self, method: Method, path: &str, key: Option<&str>) -> RequestBuilder {
        let r = self.client.request(method, self.url(path));
        match key {
            Some(k) => r.bearer_auth(k),
            None => r,
        }
    }

    /// POST a JSON body.
    pub async fn post(&self, path: &str, key: Option<&str>, body: Value) -> Response {
        self.req(Method::POST, path, key)
            .json(&body)
            .send()
            .await
            .expect("request")
    }

    /// POST a JSON body, expect 2xx, return the JSON answer.
    pub async fn post_ok(&self, path: &str, key: Option<&str>, body: Value) -> Value {
        let r = self.post(path, key, body).await;
        let status = r.status();
        let text = r.text().await.expect("body");
        assert!(status.is_success(), "{path}: {status} {text}");
        serde_json::from_str(&text).expect("JSON answer")
    }

    /// GET `path`, expect 2xx, return the JSON answer.
    pub async fn get_json(&self, path: &str, key: Option<&str>) -> Value {
        let r = self
            .req(Method::GET, path, key)
            .send()
            .await
            .expect("request");
        let status = r.status();
        let text = r.text().await.expect("body");
        assert!(status.is_success(), "{path}: {status} {text}");
        serde_json::from_str(&text).expect("JSON answer")
    }

    /// POST `{"code"}` to session `id`'s execute endpoint (any status).
    pub async fn exec(&self, key: Option<&str>, id: &str, code: &str) -> Response {
        let path = format!("/v1/sessions/{id}/execute");
        self.post(&path, key, serde_json::json!({ "code": code }))
            .await
    }

    /// Start an execute in session `id` in the background.
    pub fn spawn_exec(
        &self,
        id: &str,
        code: &str,
    ) -> tokio::task::JoinHandle<reqwest::Result<Response>> {
        let (c, u) = (
            self.client.clone(),
            self.url(&format!("/v1/sessions/{id}/execute")),
        );
        let body = serde_json::json!({ "code": code });
        tokio::spawn(async move { c.post(u).json(&body).send().await })
    }

    /// Create a session (body as given), return its id.
    pub async fn session(&self, key: Option<&str>, body: Value) -> String {
        let v = self.post_ok("/v1/sessions", key, body).await;
        v["id"].as_str().expect("id").to_string()
    }

    /// Execute in session `id`, expect 200.
    pub async fn run(&self, key: Option<&str>, id: &str, code: &str) -> Value {
        let r = self.exec(key, id, code).await;
        let status = r.status();
        let text = r.text().await.expect("body");
        assert!(status.is_success(), "execute in {id}: {status} {text}");
        serde_json::from_str(&text).expect("JSON answer")
    }

    /// The ids `GET /v1/sessions` lists.
    pub async fn ids(&self, key: Option<&str>) -> Vec<String> {
        let list = self.get_json("/v1/sessions", key).await;
        list["sessions"]
            .as_array()
            .expect("sessions")
            .iter()
            .map(|s| s["id"].as_str().expect("id").to_string())
            .collect()
    }

    /// The `/metrics` text.
    pub async fn metrics(&self) -> String {
        self.client
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics body")
    }

    /// The value of the metric line starting with `prefix`; panics when
    /// there is no such line (a missing metric must not read as 0).
    pub async fn metric(&self, prefix: &str) -> f64 {
        let text = self.metrics().await;
        let line = text
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no metric line starts with {prefix:?} in:\n{text}"));
        line.rsplit(' ')
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("metric line {line:?} has no number"))
    }

    /// The server process's id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("child").id()
    }

    /// Send SIGTERM.
    pub fn terminate(&self) {
        let pid = self.child.as_ref().expect("child").id();
        let ok = Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status()
            .expect("kill")
            .success();
        assert!(ok, "kill -TERM failed");
    }

    /// Send SIGKILL and reap the process.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Wait for the process to exit (up to `limit`); its status.
    pub fn wait_exit(&mut self, limit: Duration) -> std::process::ExitStatus {
        let child = self.child.as_mut().expect("child");
        let deadline = Instant::now() + limit;
        loop {
            if let Some(s) = child.try_wait().expect("try_wait") {
                self.child = None;
                return s;
            }
            assert!(Instant::now() < deadline, "server did not exit in time");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Two tenants, alpha and beta, for the isolation tests ([`ALPHA`] and
/// [`BETA`] are their keys); `security.rs` appends beta's session cap.
pub const TWO_TENANTS: &str = r#"
[[tenants]]
name = "alpha"
api_keys = ["alpha-key-123"]

[[tenants]]
name = "beta"
api_keys = ["beta-key-4567"]
"#;
/// Alpha's API key in [`TWO_TENANTS`].
pub const ALPHA: Option<&str> = Some("alpha-key-123");
/// Beta's API key in [`TWO_TENANTS`].
pub const BETA: Option<&str> = Some("beta-key-4567");

impl Server {
    /// Execute `code` in session `id` with `Accept: text/event-stream`;
    /// the events as [`sse_events`] parses them.
    pub async fn sse_exec(&self, key: Option<&str>, id: &str, code: &str) -> Vec<(String, Value)> {
        let body = self
            .req(Method::POST, &format!("/v1/sessions/{id}/execute"), key)
            .header("accept", "text/event-stream")
            .json(&serde_json::json!({ "code": code }))
            .send()
            .await
            .expect("SSE execute")
            .text()
            .await
            .expect("SSE body");
        sse_events(&body)
    }
}

/// Parse an SSE body into (event, data JSON) pairs.
pub fn sse_events(body: &str) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for block in body.split("\n\n") {
        let mut event = String::from("message");
        let mut data = String::new();
        for line in block.lines() {
            if let Some(e) = line.strip_prefix("event: ").or(line.strip_prefix("event:")) {
                event = e.trim().to_string();
            } else if let Some(d) = line.strip_prefix("data: ").or(line.strip_prefix("data:")) {
                data.push_str(d);
            }
        }
        if !data.is_empty() {
            out.push((
                event,
                serde_json::from_str(&data).expect("event data is JSON"),
            ));
        }
    }
    out
}

/// `(status, error code, message)` of a response expected to fail.
pub async fn failure(r: Response) -> (u16, String, String) {
    let status = r.status().as_u16();
    let v: Value = r.json().await.expect("error body is JSON");
    (
        status,
        v["error"]["code"].as_str().unwrap_or("").to_string(),
        v["error"]["message"].as_str().unwrap_or("").to_string(),
    )
}

/// The `stdout` of an execute result.
pub fn stdout(v: &Value) -> &str {
    v["stdout"].as_str().unwrap_or("")
}

/// Expect the clear `state_unreadable` error, naming none of `internals`.
pub async fn assert_unreadable(r: Response, internals: &[&str]) {
    let (status, code, message) = failure(r).await;
    assert_eq!(
        (status, code.as_str()),
        (500, "state_unreadable"),
        "{message}"
    );
    assert!(
        message.contains("session state in the store is unreadable"),
        "{message}"
    );
    for i in internals {
        assert!(!message.contains(i), "{message} shows {i}");
    }
}

/// CPU seconds (user + system) a process has used so far: `pid`, or this
/// process. From `/proc/PID/stat` (Linux; clock ticks of 1/100 s).
pub fn cpu_secs(pid: Option<u32>) -> f64 {
    let path = pid.map_or("/proc/self/stat".to_string(), |p| format!("/proc/{p}/stat"));
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let rest = text.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    // After the command name: state is field 3; utime, stime are 14, 15.
    (f.get(11).unwrap_or(&0.0) + f.get(12).unwrap_or(&0.0)) / 100.0
}

/// The child processes of `pid` (a server's worker processes).
pub fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return out;
    };
    for t in tasks.flatten() {
        let kids = std::fs::read_to_string(t.path().join("children")).unwrap_or_default();
        out.extend(
            kids.split_whitespace()
                .filter_map(|k| k.parse::<u32>().ok()),
        );
    }
    out
}

/// Wait until server `s` has `n` worker processes (a lost one is
/// replaced in the background); their pids.
pub async fn wait_workers(s: &Server, n: usize) -> Vec<u32> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let w = children(s.pid());
        if w.len() == n {
            return w;
        }
        assert!(Instant::now() < deadline, "workers: {w:?}, want {n}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// SIGKILL each of `pids` (gone ones are skipped).
pub fn kill9(pids: &[u32]) {
    for p in pids {
        let _ = Command::new("kill").arg("-9").arg(p.to_string()).status();
    }
}

/// Flags of a server whose one worker runs the uninterruptible engine.
pub const UNINTERRUPTIBLE_WORKER: [&str; 6] = [
    "--isolation",
    "workers",
    "--workers",
    "1",
    "--worker-engine",
    "uninterruptible",
];

/// A free TCP port on 127.0.0.1 (free when asked).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// A `redis-server` on 127.0.0.1 with a random port and a temp directory,
/// no persistence; killed on drop.
pub struct Redis {
    child: Option<Child>,
    pub port: u16,
    dir: PathBuf,
}

impl Redis {
    /// Start one and wait until it accepts connections.
    pub fn start() -> Redis {
        let mut r = Redis {
            child: None,
            port: free_port(),
            dir: scratch("redis"),
        };
        r.restart();
        r
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Start it (again) on the same port.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "redis-server is already running");
        let log = std::fs::File::create(self.dir.join("redis.log")).expect("log file");
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::from(log))
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server (installed by scripts/setup.sh)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kill it (the data goes with it).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// A connection for poking at the store directly.
    pub async fn conn(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.url())
            .expect("client")
            .get_multiplexed_async_connection()
            .await
            .expect("connect to redis")
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The `p` quantile (0..=1) of `v` (sorted in place); NaN when empty.
pub fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 * p) as usize).min(v.len() - 1)]
}

/// Durations as milliseconds.
pub fn ms(v: &[Duration]) -> Vec<f64> {
    v.iter().map(|d| d.as_secs_f64() * 1e3).collect()
}
