//! Hostile request bodies against the real server: malformed, wrongly
//! shaped, deeply nested and oversized JSON, empty bodies, wrong content
//! types, invalid UTF-8 (in bodies, ids, file paths and query strings),
//! wrong methods, random bytes. Each is a clear JSON 4xx; the server stays
//! up, the other tenant's witness session is untouched and memory comes
//! back. The cases are listed in docs/hostile-http.md (state uploads:
//! hostile_uploads.rs; connections: hostile_conn.rs; keys, ids and paths:
//! hostile_auth.rs; streams: hostile_sse.rs).
mod common;
use common::hostile::{
    assert_alive, assert_rss_back, json_error, put_file, raw, request, settled_rss_kib, Rng,
    Witness,
};
use common::{Server, ALPHA as A, TWO_TENANTS};
use reqwest::Method;
use serde_json::json;
use std::time::{Duration, Instant};

/// The body cap these servers run with (1 MiB: oversized cases stay cheap).
const MAX_BODY: usize = 1 << 20;

async fn server() -> Server {
    Server::start(TWO_TENANTS, &["--max-body-bytes", &MAX_BODY.to_string()]).await
}

/// POST `body` with `Content-Type: application/json` as alpha.
async fn post_raw(s: &Server, path: &str, body: impl Into<Vec<u8>>) -> reqwest::Response {
    s.req(Method::POST, path, A)
        .header("content-type", "application/json")
        .body(body.into())
        .send()
        .await
        .expect("request")
}

/// Alpha's key and a JSON content type, as raw header lines.
const ALPHA_JSON: &[&str] = &[
    "authorization: Bearer alpha-key-123",
    "content-type: application/json",
];

/// The three endpoints that take a JSON body.
fn json_endpoints(id: &str) -> [String; 3] {
    [
        "/v1/execute".to_string(),
        "/v1/sessions".to_string(),
        format!("/v1/sessions/{id}/execute"),
    ]
}

/// Alpha's sessions right now.
async fn alpha_sessions(s: &Server) -> usize {
    s.ids(A).await.len()
}

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

#[tokio::test(flavor = "multi_thread")]
async fn invalid_utf8_and_nul_anywhere_are_clear_errors() {
    let s = server().await;
    let w = Witness::new(&s).await;
    let id = s.session(A, json!({})).await;
    put_file(&s, A, &id, "tmp/x", b"x").await;
    // Case utf8-body: encodings and byte sequences that are not UTF-8 JSON.
    let utf16: Vec<u8> = "{\"code\": \"print(1)\"}"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let cases: Vec<(&str, Vec<u8>)> =
        vec![
        ("/v1/execute", b"\xef\xbb\xbf{\"code\": \"print(1)\"}".to_vec()),
        ("/v1/execute", utf16),
        ("/v1/execute", b"{\"code\": \"\xc0\xaf\"}".to_vec()),
        ("/v1/execute", b"{\"code\": \"\xed\xa0\x80\"}".to_vec()),
        ("/v1/execute", b"{\"code\": \"\xe2\x82\"}".to_vec()),
        ("/v1/execute", b"{\"\xff\": 1}".to_vec()),
        (
            "/v1/execute",
            b"{\"code\": \"1\", \"files\": [{\"path\": \"/tmp/\xff\", \"content_base64\": \"\"}]}"
                .to_vec(),
        ),
        ("/v1/sessions", b"{\"preimports\": [\"\xff\"]}".to_vec()),
    ];
    for (path, body) in cases {
        let msg = json_error(post_raw(&s, path, body.clone()).await, 400, "bad_request").await;
        assert!(msg.starts_with("invalid JSON body"), "{body:?}: {msg}");
    }
    // Case nul-in-code: a NUL in the code is the guest's error (a result),
    // not an HTTP one; the session goes on.
    let r = s.run(A, &id, "x = 1\u{0}").await;
    assert_eq!(r["exit_code"], 1, "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("null bytes"),
        "{r}"
    );
    assert_eq!(s.run(A, &id, "print('after')").await["stdout"], "after\n");
    // Case nul-in-names: a NUL in a pre-import or a file path is refused.
    let r = s
        .post("/v1/sessions", A, json!({"preimports": ["os\u{0}"]}))
        .await;
    assert!(json_error(r, 400, "bad_request")
        .await
        .contains("not allowed"));
    let body = json!({"code": "1", "files": [{"path": "/tmp/a\u{0}b", "content_base64": ""}]});
    json_error(s.post("/v1/execute", A, body).await, 400, "bad_path").await;
    // Case utf8-path-id: a session id that is not UTF-8 once decoded, on
    // every route with an id: a JSON 400 (after authentication).
    let bad = "%FF%FE";
    let routes = [
        (Method::GET, format!("/v1/sessions/{bad}")),
        (Method::DELETE, format!("/v1/sessions/{bad}")),
        (Method::POST, format!("/v1/sessions/{bad}/execute")),
        (Method::GET, format!("/v1/sessions/{bad}/state")),
        (Method::PUT, format!("/v1/sessions/{bad}/state")),
        (Method::GET, format!("/v1/sessions/{bad}/files")),
        (Method::GET, format!("/v1/sessions/{bad}/files/tmp/x")),
        (Method::PUT, format!("/v1/sessions/{bad}/files/tmp/x")),
        (Method::DELETE, format!("/v1/sessions/{bad}/files/tmp/x")),
        // Case utf8-path-file: the same in a file path of a real session.
        (Method::GET, format!("/v1/sessions/{id}/files/tmp/{bad}")),
        (Method::PUT, format!("/v1/sessions/{id}/files/tmp/{bad}")),
        (Method::DELETE, format!("/v1/sessions/{id}/files/tmp/{bad}")),
    ];
    for (m, path) in &routes {
        let body = if *m == Method::POST {
            b"{\"code\": \"1\"}".to_vec()
        } else {
            b"x".to_vec()
        };
        let r = s
            .req(m.clone(), path, None)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        json_error(r, 401, "unauthorized").await;
        let r = s.req(m.clone(), path, A).body(body).send().await.unwrap();
        let msg = json_error(r, 400, "bad_request").await;
        assert!(msg.contains("UTF-8"), "{m} {path}: {msg}");
    }
    // The session and its file are as they were.
    let r = s
        .req(Method::GET, &format!("/v1/sessions/{id}/files/tmp/x"), A)
        .send()
        .await
        .unwrap();
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"x");
    w.check(&s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_query_strings_and_methods_are_json_errors() {
    let s = server().await;
    let w = Witness::new(&s).await;
    let id = s.session(A, json!({})).await;
    // Case query-hostile: the listing's query with unknown keys, a wrong
    // type, a repeated key, bytes that are not UTF-8: a JSON 400.
    for q in [
        "evil=1",
        "recursive=maybe",
        "dir=/tmp&dir=/",
        "recursive=1&recursive=0",
    ] {
        let path = format!("/v1/sessions/{id}/files?{q}");
        let msg = json_error(
            s.req(Method::GET, &path, A).send().await.unwrap(),
            400,
            "bad_request",
        )
        .await;
        assert!(msg.contains("query"), "{q}: {msg}");
    }
    // Case query-paths: directories that are not one (a non-UTF-8 byte
    // decodes to U+FFFD; empty; climbing out).
    for q in ["dir=%FF", "dir=", "dir=../../..", "dir=/tmp/../../.."] {
        let path = format!("/v1/sessions/{id}/files?{q}");
        let r = s.req(Method::GET, &path, A).send().await.unwrap();
        let status = r.status().as_u16();
        assert!(status == 400 || status == 404, "{q}: {status}");
        let code = if status == 400 {
            "bad_path"
        } else {
            "file_not_found"
        };
        json_error(r, status, code).await;
    }
    // Case method-not-allowed: a known path with a method it does not
    // take is a JSON 405 with `Allow`.
    let cases = [
        (Method::PATCH, "/v1/sessions".to_string(), "GET,POST"),
        (Method::GET, "/v1/execute".to_string(), "POST"),
        (Method::POST, "/healthz".to_string(), "GET"),
        (Method::PUT, format!("/v1/sessions/{id}"), "GET,DELETE"),
        (Method::POST, format!("/v1/sessions/{id}/state"), "GET,PUT"),
        (Method::DELETE, format!("/v1/sessions/{id}/files"), "GET"),
        (
            Method::POST,
            format!("/v1/sessions/{id}/files/tmp/x"),
            "GET,PUT,DELETE",
        ),
        (
            Method::from_bytes(b"FOO").unwrap(),
            format!("/v1/sessions/{id}/execute"),
            "POST",
        ),
    ];
    for (m, path, allow) in cases {
        for key in [None, A] {
            let r = s.req(m.clone(), &path, key).send().await.unwrap();
            let got = r
                .headers()
                .get("allow")
                .map(|v| v.to_str().unwrap().replace(' ', ""));
            json_error(r, 405, "method_not_allowed").await;
            let mut got: Vec<String> = got
                .unwrap_or_default()
                .split(',')
                .map(str::to_string)
                .collect();
            let mut want: Vec<String> = allow.split(',').map(str::to_string).collect();
            got.retain(|m| m != "HEAD");
            got.sort();
            want.sort();
            assert_eq!(got, want, "{m} {path}");
        }
    }
    // Unknown paths stay a JSON 404.
    let r = s.req(Method::GET, "/v2/anything", A).send().await.unwrap();
    json_error(r, 404, "not_found").await;
    w.check(&s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn random_bytes_never_make_a_5xx() {
    let s = server().await;
    let w = Witness::new(&s).await;
    let id = s.session(A, json!({})).await;
    s.run(A, &id, "kept = 'yes'").await;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let paths = json_endpoints(&id);
    // JSON-ish token soup gets further into the parser than plain noise.
    let tokens: &[&str] = &[
        "{",
        "}",
        "[",
        "]",
        "\"",
        ":",
        ",",
        "code",
        "\"code\"",
        "1",
        "-",
        "e9",
        "null",
        "true",
        "\\u",
        "\\",
        "files",
        "\"ttl_s\"",
        " ",
        "\u{ff}",
        "\u{0}",
    ];
    let (mut by_status, mut total) = (std::collections::BTreeMap::new(), 0);
    for i in 0..300 {
        // Case fuzz-json: noise and token soup on the JSON endpoints.
        let body: Vec<u8> = if i % 2 == 0 {
            let n = 1 + (rng.next() % 2000) as usize;
            rng.bytes(n)
        } else {
            let n = 1 + (rng.next() % 60) as usize;
            (0..n)
                .map(|_| tokens[(rng.next() % tokens.len() as u64) as usize])
                .collect::<String>()
                .into_bytes()
        };
        if body.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let path = &paths[(rng.next() % 3) as usize];
        let r = post_raw(&s, path, body.clone()).await;
        let status = r.status().as_u16();
        assert!(
            status == 400 || (status == 200 && path.ends_with("execute")),
            "{path} {body:?}: {status} {}",
            r.text().await.unwrap_or_default()
        );
        *by_status.entry(status).or_insert(0) += 1;
        total += 1;
        // Case fuzz-state: noise as a state upload.
        if i % 10 == 0 {
            let n = 1 + (rng.next() % 4096) as usize;
            let r = s
                .req(Method::PUT, &format!("/v1/sessions/{id}/state"), A)
                .body(rng.bytes(n))
                .send()
                .await
                .unwrap();
            json_error(r, 400, "bad_request").await;
        }
    }
    eprintln!("fuzz: {total} bodies, statuses {by_status:?}");
    assert!(
        by_status.get(&400).copied().unwrap_or(0) > total / 2,
        "{by_status:?}"
    );
    assert_eq!(alpha_sessions(&s).await, 1);
    assert_eq!(s.run(A, &id, "print(kept)").await["stdout"], "yes\n");
    assert_alive(&s).await;
    w.check(&s).await;
}
