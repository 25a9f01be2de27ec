//! What the hostile-client suites (hostile_http.rs, hostile_input.rs,
//! hostile_auth.rs, hostile_conn.rs, hostile_uploads.rs) share: the
//! body-capped server, raw HTTP/1.1 over a TCP socket (for what reqwest
//! will not send: bad bytes, `..` segments, lying lengths), the server
//! process's resident memory and liveness, a witness session of the other
//! tenant that must come through untouched, and the checks of a JSON error.
use super::{Server, ALPHA, BETA, TWO_TENANTS};
use reqwest::Response;
use serde_json::Value;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The body cap the body suites' servers run with (1 MiB: oversized cases
/// stay cheap).
pub const MAX_BODY: usize = 1 << 20;

/// Alpha's key and a JSON content type, as raw header lines.
pub const ALPHA_JSON: &[&str] = &[
    "authorization: Bearer alpha-key-123",
    "content-type: application/json",
];

/// The two tenants' server with the body cap [`MAX_BODY`].
pub async fn capped_server() -> Server {
    Server::start(TWO_TENANTS, &["--max-body-bytes", &MAX_BODY.to_string()]).await
}

/// POST `body` with `Content-Type: application/json` as alpha.
pub async fn post_raw(s: &Server, path: &str, body: impl Into<Vec<u8>>) -> Response {
    s.req(reqwest::Method::POST, path, ALPHA)
        .header("content-type", "application/json")
        .body(body.into())
        .send()
        .await
        .expect("request")
}

/// The three endpoints that take a JSON body.
pub fn json_endpoints(id: &str) -> [String; 3] {
    [
        "/v1/execute".to_string(),
        "/v1/sessions".to_string(),
        format!("/v1/sessions/{id}/execute"),
    ]
}

/// Alpha's sessions right now.
pub async fn alpha_sessions(s: &Server) -> usize {
    s.ids(ALPHA).await.len()
}

/// `127.0.0.1:PORT` of the server.
pub fn addr(s: &Server) -> String {
    s.base.trim_start_matches("http://").to_string()
}

/// A response read off a raw socket.
#[derive(Debug)]
pub struct Raw {
    pub status: u16,
    /// The status line and headers, as sent.
    pub head: String,
    pub body: Vec<u8>,
}

impl Raw {
    /// A header's value (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    }

    /// Expect a JSON error `{"error": {"code", "message"}}` with `status`
    /// and `code`; its message.
    pub fn json_error(&self, status: u16, code: &str) -> String {
        assert_eq!(
            self.status,
            status,
            "{}\n{}",
            self.head,
            String::from_utf8_lossy(&self.body)
        );
        let ct = self.header("content-type").unwrap_or_default();
        assert!(ct.starts_with("application/json"), "{}", self.head);
        let v: Value = serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body))
        });
        assert_eq!(v["error"]["code"], code, "{v}");
        let msg = v["error"]["message"].as_str().expect("message").to_string();
        assert!(!msg.is_empty(), "{v}");
        msg
    }
}

/// Parse what a server sent on a socket (`None`: nothing, or no status line).
pub fn parse(bytes: &[u8]) -> Option<Raw> {
    let end = bytes.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&bytes[..end]).to_string();
    let status = head.split(' ').nth(1)?.parse().ok()?;
    let mut raw = Raw {
        status,
        head,
        body: bytes[end + 4..].to_vec(),
    };
    if let Some(n) = raw.header("content-length").and_then(|v| v.parse().ok()) {
        raw.body.truncate(n);
    }
    Some(raw)
}

/// Send `request` on a fresh connection (written while the answer is read,
/// so a server that answers before reading everything is seen) and read
/// until the server closes it or `limit` passes; the bytes received.
pub async fn exchange(s: &Server, request: Vec<u8>, limit: Duration) -> Vec<u8> {
    let tcp = TcpStream::connect(addr(s)).await.expect("connect");
    let (mut rd, mut wr) = tcp.into_split();
    let writer = tokio::spawn(async move {
        let _ = wr.write_all(&request).await;
        // Keep the write half open: a half-close is not a hostile client.
        tokio::time::sleep(Duration::from_secs(3600)).await;
        drop(wr);
    });
    let mut got = Vec::new();
    let _ = tokio::time::timeout(limit, async {
        let mut buf = vec![0u8; 64 << 10];
        loop {
            match rd.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    writer.abort();
    got
}

/// One raw request with `Connection: close` semantics left to the caller;
/// the parsed answer (panics if there is none within 20 s).
pub async fn raw(s: &Server, request: impl Into<Vec<u8>>) -> Raw {
    let bytes = exchange(s, request.into(), Duration::from_secs(20)).await;
    parse(&bytes).unwrap_or_else(|| {
        panic!(
            "no HTTP response, got {:?}",
            String::from_utf8_lossy(&bytes[..bytes.len().min(300)])
        )
    })
}

/// `METHOD target HTTP/1.1` with Host, `Connection: close`, the extra
/// header lines and `body` (with its Content-Length).
pub fn request(method: &str, target: &[u8], headers: &[&str], body: &[u8]) -> Vec<u8> {
    let mut r = format!("{method} ").into_bytes();
    r.extend_from_slice(target);
    r.extend_from_slice(b" HTTP/1.1\r\nhost: x\r\nconnection: close\r\n");
    for h in headers {
        r.extend_from_slice(h.as_bytes());
        r.extend_from_slice(b"\r\n");
    }
    r.extend_from_slice(format!("content-length: {}\r\n\r\n", body.len()).as_bytes());
    r.extend_from_slice(body);
    r
}

/// Resident memory of process `pid` in KiB (`VmRSS` of /proc/PID/status).
pub fn rss_kib(pid: u32) -> u64 {
    try_rss_kib(pid).expect("VmRSS")
}

/// [`rss_kib`], `None` when the process is gone or a zombie.
pub fn try_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The server process still exists (not a zombie) and answers `/healthz`.
pub async fn assert_alive(s: &Server) {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", s.pid()))
        .expect("the server process is gone");
    let state = stat.rsplit(')').next().unwrap_or("").trim_start();
    assert!(!state.starts_with('Z'), "the server exited: {stat}");
    let r = tokio::time::timeout(
        Duration::from_secs(10),
        s.client.get(s.url("/healthz")).send(),
    )
    .await
    .expect("/healthz did not answer in 10 s")
    .expect("/healthz");
    assert_eq!(r.status(), 200);
    assert!(
        !s.log().contains("panicked"),
        "the server log shows a panic:\n{}",
        s.log()
    );
}

/// Expect a JSON error with `status` and `code`; its message.
pub async fn json_error(r: Response, status: u16, code: &str) -> String {
    let got = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let text = r.text().await.expect("body");
    assert_eq!(got, status, "{text}");
    assert!(ct.starts_with("application/json"), "{ct}: {text}");
    let v: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text:?}"));
    assert_eq!(v["error"]["code"], code, "{v}");
    let msg = v["error"]["message"].as_str().expect("message").to_string();
    assert!(!msg.is_empty(), "{v}");
    msg
}

/// `PUT` `body` as session `id`'s file `path`; expect 204.
pub async fn put_file(s: &Server, key: Option<&str>, id: &str, path: &str, body: &[u8]) {
    let r = s
        .req(
            reqwest::Method::PUT,
            &format!("/v1/sessions/{id}/files/{path}"),
            key,
        )
        .body(body.to_vec())
        .send()
        .await
        .expect("PUT file");
    let status = r.status();
    assert_eq!(
        status,
        204,
        "{path}: {}",
        r.text().await.unwrap_or_default()
    );
}

/// A session of the other tenant (beta) with a value in it: whatever alpha's
/// hostile requests do, it must keep its value and keep working.
pub struct Witness {
    pub id: String,
}

impl Witness {
    pub async fn new(s: &Server) -> Witness {
        let id = s.session(BETA, serde_json::json!({})).await;
        s.run(BETA, &id, "witness = 'untouched'").await;
        Witness { id }
    }

    /// The server is alive and the witness still has its value.
    pub async fn check(&self, s: &Server) {
        assert_alive(s).await;
        let r = s.run(BETA, &self.id, "print(witness)").await;
        assert_eq!(r["stdout"], "untouched\n", "{r}");
    }
}

/// Wait (up to 15 s) until no execute is running; how long it took.
pub async fn settle_running(s: &Server) -> Duration {
    let t = Instant::now();
    loop {
        if s.metric("eryx_running_executes").await == 0.0 {
            return t.elapsed();
        }
        assert!(
            t.elapsed() < Duration::from_secs(15),
            "executes still running after 15 s:\n{}",
            s.metrics().await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Resident memory after the process had a moment to hand back what it
/// freed (the smallest of a few samples), in KiB.
pub async fn settled_rss_kib(pid: u32) -> u64 {
    let mut best = u64::MAX;
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        best = best.min(rss_kib(pid));
    }
    best
}

/// Assert the server's memory grew by at most `bound_mib` since `before`
/// (KiB, from [`settled_rss_kib`]); `what` names the case.
pub async fn assert_rss_back(pid: u32, before: u64, bound_mib: u64, what: &str) {
    let after = settled_rss_kib(pid).await;
    let grown = after.saturating_sub(before) / 1024;
    eprintln!("{what}: RSS {} -> {} MiB", before / 1024, after / 1024);
    assert!(
        grown <= bound_mib,
        "{what}: RSS grew by {grown} MiB (from {} to {} MiB), bound {bound_mib} MiB",
        before / 1024,
        after / 1024
    );
}

/// A small deterministic PRNG (xorshift64*) for the fuzzing cases.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}
