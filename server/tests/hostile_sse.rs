//! Hostile streaming clients against the real server: SSE clients that
//! disconnect mid-stream (with output flowing, during silent CPU work, on
//! one-shot executes, twenty times in a row) and one that stops reading.
//! Each time the execute is cancelled (metric outcome `cancelled`), no
//! task or permit leaks (`eryx_running_executes` back to 0, the tenant's
//! one concurrent execute free again), the session stays usable with its
//! last good state, and memory comes back. The cases are listed in
//! docs/hostile-http.md.
mod common;
use common::hostile::{
    addr, assert_rss_back, json_error, settle_running, settled_rss_kib, Witness,
};
use common::{Server, ALPHA as A};
use serde_json::json;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Alpha may run one execute at a time (so a leaked permit shows as 429).
const TENANTS: &str = r#"
[[tenants]]
name = "alpha"
api_keys = ["alpha-key-123"]
max_concurrent = 1

[[tenants]]
name = "beta"
api_keys = ["beta-key-4567"]
"#;

/// Start an SSE execute of `code` at `path` as alpha on a raw socket and
/// read until `needle` arrived; the open connection.
async fn sse_until(s: &Server, path: &str, code: &str, needle: &str) -> TcpStream {
    let body = json!({ "code": code }).to_string();
    let req = format!(
        "POST {path} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer alpha-key-123\r\n\
         accept: text/event-stream\r\ncontent-type: application/json\r\n\
         content-length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut tcp = TcpStream::connect(addr(s)).await.unwrap();
    tcp.write_all(req.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    tokio::time::timeout(Duration::from_secs(20), async {
        while !String::from_utf8_lossy(&got).contains(needle) {
            let n = tcp.read(&mut buf).await.unwrap();
            assert!(
                n > 0,
                "closed before {needle:?}: {:?}",
                String::from_utf8_lossy(&got)
            );
            got.extend_from_slice(&buf[..n]);
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {needle:?} in: {:?}", String::from_utf8_lossy(&got)));
    assert!(
        got.starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&got)
    );
    tcp
}

/// `eryx_executes_total{outcome="cancelled"}` (0 before the first).
async fn cancelled(s: &Server) -> f64 {
    let m = s.metrics().await;
    m.lines()
        .find(|l| l.starts_with("eryx_executes_total{outcome=\"cancelled\"}"))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap_or(0.0)
}

/// Prints forever (30 s), a line every 50 ms; `state` is never reached.
const TICKING: &str = "import time\nfor i in range(600):\n    print('tick', i, flush=True)\n    \
                       time.sleep(0.05)\nstate = 'overwritten'";

#[tokio::test(flavor = "multi_thread")]
async fn sse_clients_that_disconnect_cancel_and_leak_nothing() {
    let s = Server::start(TENANTS, &[]).await;
    let w = Witness::new(&s).await;
    let id = s.session(A, json!({"timeout_ms": 60_000})).await;
    s.run(A, &id, "state = 'kept'").await;
    let exec = format!("/v1/sessions/{id}/execute");
    // Case sse-disconnect-output: gone after the first output event.
    let tcp = sse_until(&s, &exec, TICKING, "event: stdout").await;
    // While it runs, alpha's one concurrent execute is taken.
    let r = s.post("/v1/execute", A, json!({"code": "1"})).await;
    json_error(r, 429, "saturated").await;
    drop(tcp);
    let took = settle_running(&s).await;
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert_eq!(cancelled(&s).await, 1.0);
    // The session kept its last good state and takes the next execute.
    // (The cancelled call's own effects, `i`, are gone with it.)
    let r = s.run(A, &id, "print(state, 'i' in dir())").await;
    assert_eq!(r["stdout"], "kept False\n", "{r}");
    // Case sse-disconnect-silent: gone during CPU work that writes nothing
    // (noticed through the keep-alive comments, one a second).
    let tcp = sse_until(&s, &exec, "while True: pass", "\r\n\r\n").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(tcp);
    let t = Instant::now();
    settle_running(&s).await;
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    assert_eq!(cancelled(&s).await, 2.0);
    assert_eq!(s.run(A, &id, "print(state)").await["stdout"], "kept\n");
    // Case sse-disconnect-one-shot: a one-shot stream dropped frees the
    // tenant's one concurrent execute.
    let tcp = sse_until(&s, "/v1/execute", TICKING, "event: stdout").await;
    drop(tcp);
    settle_running(&s).await;
    assert_eq!(cancelled(&s).await, 3.0);
    let v = s
        .post_ok("/v1/execute", A, json!({"code": "print('free')"}))
        .await;
    assert_eq!(v["stdout"], "free\n");
    // Case sse-disconnect-repeated: twenty more, then memory is back.
    let before = settled_rss_kib(s.pid()).await;
    for _ in 0..20 {
        let tcp = sse_until(&s, &exec, TICKING, "event: stdout").await;
        drop(tcp);
        settle_running(&s).await;
    }
    assert_eq!(cancelled(&s).await, 23.0);
    assert_rss_back(s.pid(), before, 24, "20 dropped streams").await;
    assert_eq!(s.run(A, &id, "print(state)").await["stdout"], "kept\n");
    assert_eq!(s.metric("eryx_queue_depth").await, 0.0);
    w.check(&s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_sse_client_that_stops_reading_holds_neither_session_nor_worker() {
    let s = Server::start(TENANTS, &[]).await;
    let w = Witness::new(&s).await;
    let id = s.session(A, json!({})).await;
    let code = "for i in range(8192):\n    print('x' * 1023, flush=True)\nstate = 'done'";
    // The memory baseline is taken after the same code ran twice without
    // streaming: what running it costs the process (the guest's memory,
    // the allocator's arenas) is not counted against the stalled streams.
    for _ in 0..2 {
        s.run(A, &id, code).await;
    }
    let before = settled_rss_kib(s.pid()).await;
    // Case sse-stalled-reader: 8 MiB of output for a client that read the
    // first bytes and then nothing: the execute still ends, the session
    // and the worker are free for the next request; dropping the client
    // frees what was queued for it (six rounds: 48 MiB queued in all).
    for round in 0..6 {
        s.run(A, &id, "state = 'kept'").await;
        let path = format!("/v1/sessions/{id}/execute");
        let tcp = sse_until(&s, &path, code, "event: stdout").await;
        settle_running(&s).await;
        let r = s.exec(A, &id, "print(state)").await;
        assert_eq!(r.status(), 200, "round {round}");
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(v["stdout"], "done\n", "round {round}: {v}");
        drop(tcp);
        settle_running(&s).await;
    }
    assert_rss_back(s.pid(), before, 24, "6 stalled SSE readers").await;
    w.check(&s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn back_to_back_executes_at_the_tenant_cap_are_never_refused() {
    let s = Server::start(TENANTS, &[]).await;
    let id = s.session(A, json!({})).await;
    // Case permit-released-with-the-answer: alpha may run one execute at a
    // time; one after the other, each answered before the next is sent,
    // they must all run (the permit is free once the answer is out).
    for i in 0..200 {
        let r = s.exec(A, &id, "pass").await;
        let status = r.status();
        assert_eq!(status, 200, "execute {i}: {}", r.text().await.unwrap());
        assert_eq!(s.metric("eryx_running_executes").await, 0.0, "after {i}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dropped_stream_never_breaks_the_next_request() {
    let s = Server::start(TENANTS, &[]).await;
    let id = s.session(A, json!({"timeout_ms": 60_000})).await;
    // A namespace that takes a while to restore (tens of ms): the window in
    // which the sandbox brings its last good state back after the
    // cancelled call.
    s.run(A, &id, "state = 'kept'\nblob = list(range(300_000))")
        .await;
    let exec = format!("/v1/sessions/{id}/execute");
    // Case sse-disconnect-recovery: after each dropped stream the next
    // request on the session runs normally (no crash reported to it).
    for round in 0..10 {
        let tcp = sse_until(&s, &exec, TICKING, "event: stdout").await;
        drop(tcp);
        settle_running(&s).await;
        let r = s.run(A, &id, "print(state, len(blob))").await;
        assert_eq!(r["error"], serde_json::Value::Null, "round {round}: {r}");
        assert_eq!(r["stdout"], "kept 300000\n", "round {round}: {r}");
    }
    assert!(!s.metrics().await.contains("outcome=\"trap\""));
}
