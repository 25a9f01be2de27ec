//! Hostile bytes outside the JSON itself, against the real server:
//! invalid UTF-8 and NUL in bodies, session ids, file paths and query
//! strings; hostile query strings and wrong methods; random bytes on every
//! route. Each is a clear JSON 4xx (never a 5xx); the server stays up and
//! the other tenant's witness session is untouched. The cases are listed
//! in docs/hostile-http.md (split from hostile_http.rs, which keeps the
//! JSON bodies).
mod common;
use common::hostile::{
    alpha_sessions, assert_alive, capped_server as server, json_endpoints, json_error, post_raw,
    put_file, Rng, Witness,
};
use common::ALPHA as A;
use reqwest::Method;
use serde_json::json;

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
        (Method::POST, format!("/v1/sessions/{bad}/fork")),
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
        (Method::GET, format!("/v1/sessions/{id}/fork"), "POST"),
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
