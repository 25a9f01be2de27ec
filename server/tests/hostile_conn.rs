//! Hostile connections to the real server, on raw TCP sockets: huge and
//! many headers, hundreds of idle connections, slowloris clients (headers
//! a byte at a time) and slow bodies, malformed framing, pipelining. The
//! server must refuse or time them out (hyper's header read timeout,
//! `--header-read-timeout-ms`, 2 s here) and keep serving everyone else;
//! memory comes back. The cases are listed in docs/hostile-http.md.
mod common;
use common::hostile::{
    addr, assert_alive, assert_rss_back, exchange, parse, raw, request, settled_rss_kib, Witness,
};
use common::{Server, ALPHA as A, TWO_TENANTS};
use serde_json::json;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The header read timeout these servers run with.
const HEADER_TIMEOUT: Duration = Duration::from_millis(2000);
/// The server's timer may start a moment before the client's clock does.
const EARLY: Duration = Duration::from_millis(2000 - 100);
/// The body read timeout these servers run with (past the slow-body case's
/// 3 s).
const BODY_TIMEOUT: Duration = Duration::from_millis(5000);

/// An execute whose head promises 100 bytes of body, with 10 of them.
const PARTIAL_BODY: &[u8] =
    b"POST /v1/execute HTTP/1.1\r\nhost: x\r\nauthorization: Bearer alpha-key-123\r\n\
      content-type: application/json\r\ncontent-length: 100\r\n\r\n{\"code\": ";

async fn server() -> Server {
    let ms = HEADER_TIMEOUT.as_millis().to_string();
    let body_ms = BODY_TIMEOUT.as_millis().to_string();
    let flags = [
        "--header-read-timeout-ms",
        &ms,
        "--body-read-timeout-ms",
        &body_ms,
    ];
    Server::start(TWO_TENANTS, &flags).await
}

/// Serve a one-shot execute and `/healthz` within `limit` each.
async fn serves_others(s: &Server, limit: Duration) {
    let t = Instant::now();
    let r = s.client.get(s.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let v = s
        .post_ok("/v1/execute", A, json!({"code": "print(6 * 7)"}))
        .await;
    assert_eq!(v["stdout"], "42\n");
    assert!(t.elapsed() < limit * 2, "others waited {:?}", t.elapsed());
}

/// Read from `tcp` until the server closes it (or `limit` passes); when.
async fn closed_by_server(tcp: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let t = Instant::now();
    let mut buf = [0u8; 4096];
    tokio::time::timeout(limit, async {
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return t.elapsed(),
                Ok(_) => {}
            }
        }
    })
    .await
    .ok()
}

#[tokio::test(flavor = "multi_thread")]
async fn huge_and_many_headers_are_refused_and_memory_comes_back() {
    let s = server().await;
    let w = Witness::new(&s).await;
    let big = format!("x-big: {}", "a".repeat(1 << 20));
    let many: Vec<String> = (0..10_000).map(|i| format!("x-h{i}: v")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    // Case header-huge: one 1 MiB header: hyper's 431, the connection closed.
    let r = raw(&s, request("GET", b"/healthz", &[&big], b"")).await;
    assert_eq!(r.status, 431, "{}", r.head);
    // Case header-many: 10 000 headers (hyper takes 100): 431.
    let r = raw(&s, request("GET", b"/healthz", &many, b"")).await;
    assert_eq!(r.status, 431, "{}", r.head);
    // Case header-within-limits: 90 headers, a 64 KiB one: served.
    let ninety: Vec<String> = (0..90).map(|i| format!("x-h{i}: v")).collect();
    let ninety: Vec<&str> = ninety.iter().map(String::as_str).collect();
    let pad = format!("x-pad: {}", "p".repeat(64 << 10));
    for headers in [ninety, vec![pad.as_str()]] {
        let r = raw(&s, request("GET", b"/healthz", &headers, b"")).await;
        assert_eq!(r.status, 200, "{}", r.head);
    }
    // Memory: 40 more rounds of each (44 MiB of headers offered; hyper
    // reads up to ~400 KiB of each) leave at most 8 MiB.
    let before = settled_rss_kib(s.pid()).await;
    for _ in 0..40 {
        assert_eq!(
            raw(&s, request("GET", b"/healthz", &[&big], b""))
                .await
                .status,
            431
        );
        assert_eq!(
            raw(&s, request("GET", b"/healthz", &many, b""))
                .await
                .status,
            431
        );
    }
    assert_rss_back(s.pid(), before, 8, "huge headers").await;
    serves_others(&s, Duration::from_secs(5)).await;
    w.check(&s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_connections_do_not_block_others_and_are_closed() {
    let s = server().await;
    let w = Witness::new(&s).await;
    let before = settled_rss_kib(s.pid()).await;
    // Case connections-idle: 500 connections that send nothing.
    let mut idle = Vec::new();
    for _ in 0..500 {
        let tcp = TcpStream::connect(addr(&s)).await.expect("connect");
        idle.push((tcp, Instant::now()));
    }
    // Others are served meanwhile.
    serves_others(&s, Duration::from_secs(5)).await;
    // The server closes each once the header read timeout passed (not
    // before).
    for (tcp, since) in &mut idle {
        closed_by_server(tcp, HEADER_TIMEOUT * 4)
            .await
            .expect("an idle connection stayed open past 4x the header timeout");
        assert!(since.elapsed() >= EARLY, "{:?}", since.elapsed());
    }
    drop(idle);
    assert_rss_back(s.pid(), before, 16, "500 idle connections").await;
    // Case connections-keepalive-idle: a keep-alive connection idle after a
    // request is closed the same way.
    let mut tcp = TcpStream::connect(addr(&s)).await.unwrap();
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let when = closed_by_server(&mut tcp, HEADER_TIMEOUT * 4)
        .await
        .expect("an idle keep-alive connection stayed open");
    assert!(when >= EARLY, "{when:?}");
    w.check(&s).await;
}

/// Send `head` one byte every `gap`, reading meanwhile; when the server
/// closed the connection (`None`: it did not within `limit`), and what it
/// sent.
async fn trickle(
    addr: String,
    head: Vec<u8>,
    gap: Duration,
    limit: Duration,
) -> (Option<Duration>, Vec<u8>) {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (mut rd, mut wr) = tcp.into_split();
    let t = Instant::now();
    let writer = tokio::spawn(async move {
        for b in head {
            if wr.write_all(&[b]).await.is_err() {
                return;
            }
            tokio::time::sleep(gap).await;
        }
        // Then nothing: the writer stays open.
        tokio::time::sleep(Duration::from_secs(3600)).await;
    });
    let mut got = Vec::new();
    let closed = tokio::time::timeout(limit, async {
        let mut buf = [0u8; 4096];
        loop {
            match rd.read(&mut buf).await {
                Ok(0) | Err(_) => return t.elapsed(),
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .ok();
    writer.abort();
    (closed, got)
}

#[tokio::test(flavor = "multi_thread")]
async fn slowloris_clients_are_cut_off_and_others_are_served() {
    let s = server().await;
    let w = Witness::new(&s).await;
    // Case slowloris: 20 clients sending headers a byte per 100 ms, never
    // finishing: each is closed at the header timeout, without an answer.
    let endless: Vec<u8> = b"GET /healthz HTTP/1.1\r\nhost: x\r\nx-slow: "
        .iter()
        .copied()
        .chain(std::iter::repeat_n(b'a', 1000))
        .collect();
    let slow: Vec<_> = (0..20)
        .map(|_| {
            let gap = Duration::from_millis(100);
            tokio::spawn(trickle(addr(&s), endless.clone(), gap, HEADER_TIMEOUT * 4))
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    for _ in 0..3 {
        serves_others(&s, Duration::from_secs(3)).await;
    }
    let mut cut = Vec::new();
    for h in slow {
        cut.push(h.await.unwrap());
    }
    for (when, got) in cut {
        let when = when.expect("a slowloris client was never cut off");
        assert!(
            when >= EARLY && when < HEADER_TIMEOUT + Duration::from_millis(1500),
            "cut off after {when:?}"
        );
        assert!(got.is_empty(), "{:?}", String::from_utf8_lossy(&got));
    }
    // Case slow-but-in-time: a head trickled over ~1 s (under the timeout)
    // is answered.
    let head = b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n".to_vec();
    let gap = Duration::from_millis(1000 / head.len() as u64);
    let (_, got) = trickle(addr(&s), head, gap, HEADER_TIMEOUT * 3).await;
    assert_eq!(parse(&got).map(|r| r.status), Some(200), "{got:?}");
    w.check(&s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_and_truncated_bodies_do_not_hold_the_server() {
    let s = server().await;
    let w = Witness::new(&s).await;
    // Case slow-body: the head in time, the body (an upload into alpha's
    // session) a byte per 150 ms, 3 s in all (past the header timeout,
    // which is about heads): answered once complete. Meanwhile others are
    // served and the session itself is not held (it is locked only once
    // the body is in).
    let id = s.session(A, json!({})).await;
    let body = b"slowly, slowly, byte by byte";
    let mut req = format!(
        "PUT /v1/sessions/{id}/files/tmp/slow.txt HTTP/1.1\r\nhost: x\r\n\
         connection: close\r\nauthorization: Bearer alpha-key-123\r\n\
         content-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    let head_len = req.len();
    req.extend_from_slice(body);
    let tcp = TcpStream::connect(addr(&s)).await.unwrap();
    let (mut rd, mut wr) = tcp.into_split();
    let t = Instant::now();
    let writer = tokio::spawn(async move {
        wr.write_all(&req[..head_len]).await.unwrap();
        for b in &req[head_len..] {
            tokio::time::sleep(Duration::from_millis(110)).await;
            wr.write_all(&[*b]).await.unwrap();
        }
        wr
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    serves_others(&s, Duration::from_secs(3)).await;
    assert_eq!(s.run(A, &id, "print('free')").await["stdout"], "free\n");
    let mut got = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), rd.read_to_end(&mut got))
        .await
        .expect("the slow body's answer")
        .unwrap();
    let _wr = writer.await.unwrap();
    assert!(t.elapsed() > HEADER_TIMEOUT, "{:?}", t.elapsed());
    let r = parse(&got).expect("an answer");
    assert_eq!(r.status, 204, "{}", r.head);
    let r = s.run(A, &id, "print(open('/tmp/slow.txt').read())").await;
    assert_eq!(r["stdout"], "slowly, slowly, byte by byte\n");
    // Case body-truncated: a Content-Length of 100, 10 bytes, then the
    // client closes its side: a JSON 400 (or just a close), never a 5xx.
    let mut tcp = TcpStream::connect(addr(&s)).await.unwrap();
    tcp.write_all(PARTIAL_BODY).await.unwrap();
    tcp.shutdown().await.unwrap();
    let mut got = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut got)).await;
    if let Some(r) = parse(&got) {
        let msg = r.json_error(400, "bad_request");
        assert!(msg.contains("request body"), "{msg}");
    }
    serves_others(&s, Duration::from_secs(3)).await;
    // Case body-stalled: a Content-Length of 100, 10 bytes, then nothing
    // with the connection kept open: 408 `body_timeout` at the body read
    // timeout, others served meanwhile.
    let mut tcp = TcpStream::connect(addr(&s)).await.unwrap();
    let t = Instant::now();
    tcp.write_all(PARTIAL_BODY).await.unwrap();
    serves_others(&s, Duration::from_secs(3)).await;
    let mut got = vec![0u8; 4096];
    let n = tokio::time::timeout(BODY_TIMEOUT * 3, tcp.read(&mut got))
        .await
        .expect("an answer to the stalled body")
        .unwrap();
    let when = t.elapsed();
    let r = parse(&got[..n]).expect("an answer");
    let msg = r.json_error(408, "body_timeout");
    assert!(msg.contains("did not arrive within 5000 ms"), "{msg}");
    assert!(
        when >= BODY_TIMEOUT - Duration::from_millis(100) && when < BODY_TIMEOUT * 2,
        "{when:?}"
    );
    w.check(&s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_framing_is_refused_and_pipelining_works() {
    let s = server().await;
    let w = Witness::new(&s).await;
    let key = "authorization: Bearer alpha-key-123";
    // Case framing-garbage: not HTTP at all (noise, a TLS ClientHello, an
    // HTTP/2 preface on this HTTP/1 port): a 400 or a close, nothing else.
    let client_hello = b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03".to_vec();
    for junk in [
        b"GARBAGE\r\n\r\n".to_vec(),
        b"\x00\x01\x02\x03\r\n\r\n".to_vec(),
        client_hello,
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec(),
    ] {
        let got = exchange(&s, junk.clone(), Duration::from_secs(10)).await;
        if let Some(r) = parse(&got) {
            assert_eq!(r.status, 400, "{junk:?}: {}", r.head);
        }
        assert_alive(&s).await;
    }
    // Case framing-bad-head: a request line or headers hyper refuses: 400.
    let body = br#"{"code":"print(1)"}"#;
    let heads: Vec<Vec<u8>> = vec![
        b"GET /v1/sessions/\xff\xfe HTTP/1.1\r\nhost: x\r\n\r\n".to_vec(),
        b"GET /healthz HTTP/1.1\r\nhost: x\r\nx-nul: a\x00b\r\n\r\n".to_vec(),
        b"GET /healthz HTTP/1.1\r\nhost: x\r\nno colon here\r\n\r\n".to_vec(),
        b"GET /healthz HTTP/1.1\r\nhost: x\r\nx-space : v\r\n\r\n".to_vec(),
        b"GET /healthz HTTP/9.9\r\nhost: x\r\n\r\n".to_vec(),
    ];
    for head in heads {
        let r = raw(&s, head.clone()).await;
        assert_eq!(
            r.status,
            400,
            "{:?}: {}",
            String::from_utf8_lossy(&head),
            r.head
        );
    }
    // Case framing-lengths: a negative, a non-numeric, two different
    // Content-Lengths, a Transfer-Encoding that does not end in chunked.
    for lengths in [
        vec!["content-length: -1"],
        vec!["content-length: 1x"],
        vec!["content-length: 19", "content-length: 20"],
        vec!["transfer-encoding: gzip"],
    ] {
        let mut req = b"POST /v1/execute HTTP/1.1\r\nhost: x\r\n".to_vec();
        for h in lengths
            .iter()
            .chain(&[key, "content-type: application/json"])
        {
            req.extend_from_slice(format!("{h}\r\n").as_bytes());
        }
        req.extend_from_slice(b"\r\n");
        req.extend_from_slice(body);
        let r = raw(&s, req).await;
        assert_eq!(r.status, 400, "{lengths:?}: {}", r.head);
    }
    // Case framing-bad-chunks: a good head, a broken chunked body: the
    // server's JSON 400 (the body cannot be read).
    for chunks in [
        &b"zz\r\n{}\r\n0\r\n\r\n"[..],
        b"5\r\n{\"code\":\"1\"}\r\n0\r\n\r\n",
    ] {
        let mut req = format!(
            "POST /v1/execute HTTP/1.1\r\nhost: x\r\nconnection: close\r\n{key}\r\n\
             content-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
        )
        .into_bytes();
        req.extend_from_slice(chunks);
        let got = exchange(&s, req, Duration::from_secs(10)).await;
        if let Some(r) = parse(&got) {
            let msg = r.json_error(400, "bad_request");
            assert!(msg.contains("request body"), "{msg}");
        }
    }
    // Case pipelining: 20 requests in one write (one of them an execute)
    // are answered in order on the one connection.
    let mut many = Vec::new();
    for i in 0..20 {
        if i == 10 {
            let exec = br#"{"code":"print('piped')"}"#;
            many.extend_from_slice(
                format!(
                    "POST /v1/execute HTTP/1.1\r\nhost: x\r\n{key}\r\n\
                     content-type: application/json\r\ncontent-length: {}\r\n\r\n",
                    exec.len()
                )
                .as_bytes(),
            );
            many.extend_from_slice(exec);
        } else {
            let close = if i == 19 { "connection: close\r\n" } else { "" };
            many.extend_from_slice(
                format!("GET /healthz HTTP/1.1\r\nhost: x\r\n{close}\r\n").as_bytes(),
            );
        }
    }
    let got = exchange(&s, many, Duration::from_secs(20)).await;
    let text = String::from_utf8_lossy(&got);
    assert_eq!(text.matches("HTTP/1.1 200 OK").count(), 20, "{text}");
    let piped = text.find("piped").expect("the execute's answer");
    assert_eq!(
        text[..piped].matches("HTTP/1.1 200 OK").count(),
        11,
        "{text}"
    );
    serves_others(&s, Duration::from_secs(3)).await;
    w.check(&s).await;
}

#[test]
fn the_read_timeouts_must_be_sane() {
    // Case config-header-timeout: 0 would cut every connection at once
    // (and the same for the body read timeout).
    for flag in ["--header-read-timeout-ms", "--body-read-timeout-ms"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_eryx-server"))
            .args(["--listen", "127.0.0.1:0", flag, "0"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{flag}");
        let err = String::from_utf8_lossy(&out.stderr);
        let key = flag.trim_start_matches("--").replace('-', "_");
        assert!(err.contains(&key), "{err}");
    }
}
