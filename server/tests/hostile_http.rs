//! Hostile request bodies against the real server: malformed, wrongly
//! shaped, deeply nested and oversized JSON, empty bodies, wrong content
//! types. Each is a clear JSON 4xx; the server stays up, the other
//! tenant's witness session is untouched and memory comes back. The cases
//! are listed in docs/hostile-http.md (invalid UTF-8, queries, methods and
//! random bytes: hostile_input.rs; state uploads: hostile_uploads.rs;
//! connections: hostile_conn.rs; keys, ids and paths: hostile_auth.rs;
//! streams: hostile_sse.rs).
mod common;
use common::hostile::{
    alpha_sessions, assert_rss_back, capped_server as server, json_endpoints, json_error, post_raw,
    raw, request, settled_rss_kib, Witness, ALPHA_JSON, MAX_BODY,
};
use common::ALPHA as A;
use reqwest::Method;
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread")]
async fn malformed_and_wrongly_typed_json_is_a_400_on_every_json_endpoint() {
    let s = server().await;
    let w = Witness::new(&s).await;
    let id = s.session(A, json!({})).await;
    s.run(A, &id, "kept = 'yes'").await;
    // Case json-syntax: not JSON at all, on every JSON endpoint.
    let syntax: &[&[u8]] = &[
        b"{\"code\": ",
        b"{\"code\": \"print(1)\"} trailing",
        b"{code: \"print(1)\"}",
        b"{'code': 'print(1)'}",
        b"{\"code\": \"print(1)\",}",
        b"{\"code\": \"print(1)\" /* comment */}",
        b"{\"code\": NaN}",
        b"{\"code\": \"unterminated}",
        b"{\"code\": \"\\x41\"}",
        b"{\"code\": \"\\u12\"}",
        b"\0",
        b"}{",
    ];
    for path in json_endpoints(&id) {
        for body in syntax {
            let msg = json_error(post_raw(&s, &path, *body).await, 400, "bad_request").await;
            assert!(
                msg.starts_with("invalid JSON body"),
                "{path} {body:?}: {msg}"
            );
        }
    }
    // Case json-shape: JSON, but not an object.
    for path in json_endpoints(&id) {
        for body in [
            "null",
            "\"print(1)\"",
            "42",
            "true",
            "[]",
            "[{\"code\": \"1\"}]",
        ] {
            let msg = json_error(post_raw(&s, &path, body).await, 400, "bad_request").await;
            assert!(msg.starts_with("invalid JSON body"), "{path} {body}: {msg}");
        }
    }
    // Case json-types: an object whose fields have the wrong types or
    // values no integer type holds.
    let execute_bodies = [
        json!({"code": ["print(1)"]}),
        json!({"code": null}),
        json!({"code": {}}),
        json!({"code": "1", "timeout_ms": "5"}),
        json!({"code": "1", "timeout_ms": 1.5}),
        json!({"code": "1", "files": {}}),
        json!({"code": "1", "files": [{"path": 1, "content_base64": ""}]}),
        json!({"code": "1", "files": [{"path": "/tmp/x"}]}),
        json!({"code": "1", "output_files": "x"}),
        json!({"code": "1", "output_files": [1]}),
    ];
    for body in &execute_bodies {
        for path in [
            "/v1/execute".to_string(),
            format!("/v1/sessions/{id}/execute"),
        ] {
            let r = s.post(&path, A, body.clone()).await;
            let msg = json_error(r, 400, "bad_request").await;
            assert!(msg.starts_with("invalid JSON body"), "{path} {body}: {msg}");
        }
    }
    for body in [
        &b"{\"code\": \"1\", \"timeout_ms\": 1e400}"[..],
        b"{\"code\": \"1\", \"timeout_ms\": 18446744073709551616}",
    ] {
        let msg = json_error(post_raw(&s, "/v1/execute", body).await, 400, "bad_request").await;
        assert!(msg.starts_with("invalid JSON body"), "{msg}");
    }
    for body in [
        json!({"ttl_s": true}),
        json!({"ttl_s": -1}),
        json!({"preimports": "os"}),
        json!({"packages": [null]}),
        json!({"max_memory_bytes": "1"}),
        json!({"timeout_ms": [1]}),
    ] {
        let msg = json_error(
            s.post("/v1/sessions", A, body.clone()).await,
            400,
            "bad_request",
        )
        .await;
        assert!(msg.starts_with("invalid JSON body"), "{body}: {msg}");
    }
    // Case json-duplicate-keys: a key given twice is refused, not "last wins".
    for (path, body) in [
        (
            "/v1/execute",
            &b"{\"code\": \"print(1)\", \"code\": \"print(2)\"}"[..],
        ),
        ("/v1/sessions", b"{\"ttl_s\": 5, \"ttl_s\": 6}"),
    ] {
        let msg = json_error(post_raw(&s, path, body).await, 400, "bad_request").await;
        assert!(msg.contains("duplicate field"), "{path}: {msg}");
    }
    // Nothing was created or run by any of it.
    assert_eq!(alpha_sessions(&s).await, 1);
    let info = s.get_json(&format!("/v1/sessions/{id}"), A).await;
    assert_eq!(info["executes"], 1, "{info}");
    assert_eq!(s.run(A, &id, "print(kept)").await["stdout"], "yes\n");
    w.check(&s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn deeply_nested_json_is_a_400_and_memory_comes_back() {
    let s = server().await;
    let w = Witness::new(&s).await;
    let id = s.session(A, json!({})).await;
    // Case json-deep: 100 000 `[` (whole body, in `code`, in `files`),
    // balanced or not, and 50 000 nested objects.
    let deep = "[".repeat(100_000);
    let bodies: Vec<(String, Vec<u8>)> = vec![
        ("/v1/execute".into(), deep.clone().into_bytes()),
        (
            "/v1/execute".into(),
            format!("{{\"code\": {deep}").into_bytes(),
        ),
        (
            "/v1/execute".into(),
            format!("{{\"code\": \"1\", \"files\": {deep}").into_bytes(),
        ),
        (
            format!("/v1/sessions/{id}/execute"),
            format!("{deep}{}", "]".repeat(100_000)).into_bytes(),
        ),
        (
            "/v1/sessions".into(),
            format!("{{\"preimports\": {}", "{\"a\": ".repeat(50_000)).into_bytes(),
        ),
    ];
    // Once to warm up, then the memory baseline, then twenty more rounds.
    let mut before = 0;
    for round in 0..21 {
        if round == 1 {
            before = settled_rss_kib(s.pid()).await;
        }
        for (path, body) in &bodies {
            let msg = json_error(post_raw(&s, path, body.clone()).await, 400, "bad_request").await;
            // The typed fields refuse the first `[` where a string or a
            // struct belongs: the parser never descends further.
            assert!(
                msg.starts_with("invalid JSON body: invalid type"),
                "{path}: {msg}"
            );
            assert!(msg.contains("line 1 column"), "{path}: {msg}");
        }
    }
    // 100 bodies of 100-200 kB (15 MB) went through the parser.
    assert_rss_back(s.pid(), before, 8, "deep JSON").await;
    assert_eq!(alpha_sessions(&s).await, 1);
    w.check(&s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_bodies_are_a_413_without_being_read() {
    let s = server().await;
    let w = Witness::new(&s).await;
    let id = s.session(A, json!({})).await;
    let big = json!({ "code": "#".repeat(2 * MAX_BODY) }).to_string();
    // Case body-too-large: past --max-body-bytes on every JSON endpoint
    // (Content-Length known).
    for path in json_endpoints(&id) {
        // (Raw: the answer comes before the body is read, and the server
        // then closes; reqwest may report the broken upload instead.)
        let r = raw(
            &s,
            request("POST", path.as_bytes(), ALPHA_JSON, big.as_bytes()),
        )
        .await;
        assert_eq!(r.json_error(413, "too_large"), "request body too large");
    }
    // Case body-too-large-chunked: the same without a Content-Length (the
    // cap counts what arrives).
    let mut chunked = b"POST /v1/execute HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\
        authorization: Bearer alpha-key-123\r\ncontent-type: application/json\r\n\
        transfer-encoding: chunked\r\n\r\n"
        .to_vec();
    for piece in big.as_bytes().chunks(64 << 10) {
        chunked.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        chunked.extend_from_slice(piece);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    raw(&s, chunked.clone()).await.json_error(413, "too_large");
    // Case body-length-lie: a Content-Length of 10 GiB with a few bytes
    // behind it is refused at once, not waited for.
    let t = Instant::now();
    let lie = b"POST /v1/execute HTTP/1.1\r\nhost: x\r\nauthorization: Bearer alpha-key-123\r\n\
        content-type: application/json\r\ncontent-length: 10737418240\r\n\r\n{\"code\":"
        .to_vec();
    raw(&s, lie).await.json_error(413, "too_large");
    // Case expect-continue-too-large: `Expect: 100-continue` with too large
    // a length gets the 413 instead of a 100 (the body is never asked for).
    let expect = b"POST /v1/execute HTTP/1.1\r\nhost: x\r\nauthorization: Bearer alpha-key-123\r\n\
        content-type: application/json\r\nexpect: 100-continue\r\ncontent-length: 2097152\r\n\r\n"
        .to_vec();
    let r = raw(&s, expect).await;
    assert!(!r.head.contains("100 Continue"), "{}", r.head);
    r.json_error(413, "too_large");
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    // Memory: 30 more 2 MiB bodies (60 MiB offered, up to 1 MiB of each
    // read) leave at most 8 MiB.
    let before = settled_rss_kib(s.pid()).await;
    for i in 0..30 {
        if i % 2 == 0 {
            let req = request("POST", b"/v1/execute", ALPHA_JSON, big.as_bytes());
            raw(&s, req).await.json_error(413, "too_large");
        } else {
            raw(&s, chunked.clone()).await.json_error(413, "too_large");
        }
    }
    assert_rss_back(s.pid(), before, 8, "oversized bodies").await;
    assert_eq!(alpha_sessions(&s).await, 1);
    w.check(&s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn empty_bodies_and_content_types() {
    let s = server().await;
    let w = Witness::new(&s).await;
    let id = s.session(A, json!({})).await;
    let exec = format!("/v1/sessions/{id}/execute");
    // Case empty-body: an empty (or all-whitespace) body is `{}`: a 400
    // naming the missing `code` where one is needed, a session with the
    // defaults where none is.
    for body in ["", " \r\n\t "] {
        for path in ["/v1/execute", exec.as_str()] {
            let msg = json_error(post_raw(&s, path, body).await, 400, "bad_request").await;
            assert!(msg.contains("missing field `code`"), "{path}: {msg}");
        }
        let r = post_raw(&s, "/v1/sessions", body).await;
        assert_eq!(r.status(), 201);
        let v: serde_json::Value = r.json().await.unwrap();
        let del = s
            .req(
                Method::DELETE,
                &format!("/v1/sessions/{}", v["id"].as_str().unwrap()),
                A,
            )
            .send()
            .await
            .unwrap();
        assert_eq!(del.status(), 204);
    }
    // Case wrong-content-type: a valid body under any other media type is
    // refused (text/plain and multipart are what a cross-site form or
    // `fetch` can send without a CORS preflight).
    let body = b"{\"code\": \"print(1)\"}";
    for ct in [
        "text/plain",
        "text/plain;charset=UTF-8",
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded",
        "application/json-seq",
        "application/jsonx",
        "text/json",
        "",
    ] {
        for path in ["/v1/execute", exec.as_str(), "/v1/sessions"] {
            let r = s
                .req(Method::POST, path, A)
                .header("content-type", ct)
                .body(body.to_vec())
                .send()
                .await
                .unwrap();
            let msg = json_error(r, 400, "bad_request").await;
            assert!(
                msg.contains("Content-Type: application/json"),
                "{ct:?}: {msg}"
            );
        }
    }
    // Case content-type-bytes: a Content-Type that is not even text, and a
    // second Content-Type behind a bad first one.
    let key = "authorization: Bearer alpha-key-123";
    for ct in [
        &b"application/json\xff"[..],
        b"text/plain\r\ncontent-type: application/json",
    ] {
        let mut header = b"content-type: ".to_vec();
        header.extend_from_slice(ct);
        let mut req = b"POST /v1/execute HTTP/1.1\r\nhost: x\r\nconnection: close\r\n".to_vec();
        req.extend_from_slice(format!("{key}\r\n").as_bytes());
        req.extend_from_slice(&header);
        req.extend_from_slice(format!("\r\ncontent-length: {}\r\n\r\n", body.len()).as_bytes());
        req.extend_from_slice(body);
        let msg = raw(&s, req).await.json_error(400, "bad_request");
        assert!(msg.contains("Content-Type"), "{msg}");
    }
    // Case content-type-accepted: the media type is case-insensitive and
    // may carry parameters; without a Content-Type the body is read as
    // JSON (documented in api.rs).
    for ct in [
        Some("APPLICATION/JSON; charset=utf-8"),
        Some("application/json;x=y"),
        None,
    ] {
        let mut r = s.req(Method::POST, "/v1/execute", A).body(body.to_vec());
        if let Some(ct) = ct {
            r = r.header("content-type", ct);
        }
        let r = r.send().await.unwrap();
        assert_eq!(r.status(), 200, "{ct:?}");
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(v["stdout"], "1\n", "{ct:?}");
    }
    // Case content-type-absent-from-a-page: a web page's `fetch` of a
    // typeless `Blob` needs no CORS preflight but carries `Origin`: without
    // a Content-Type that is not taken as JSON (a keyless server on
    // loopback would otherwise run any site's code).
    let r = s
        .req(Method::POST, "/v1/execute", A)
        .header("origin", "https://evil.example")
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(alpha_sessions(&s).await, 1);
    w.check(&s).await;
}
