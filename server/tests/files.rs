//! Files in and out over HTTP against a real server: session uploads,
//! downloads, listings and removals, one-shot executes with input and
//! output files, hostile paths, the size caps and tenant isolation.
mod common;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use common::{failure, stdout, Server};
use reqwest::Method;
use serde_json::{json, Value};

const TENANTS: &str = common::TWO_TENANTS;
const A: Option<&str> = common::ALPHA;
const B: Option<&str> = common::BETA;

/// The shared fixtures (tests/files): the upload, the program that reads
/// it and writes /tmp/out.csv, and what it writes.
const CSV: &[u8] = include_bytes!("../../tests/files/in.csv");
const DOUBLED: &[u8] = include_bytes!("../../tests/files/out.csv");
const DOUBLE: &str = include_str!("../../tests/files/double.py");

/// `PUT` bytes to a session file.
async fn put(
    s: &Server,
    key: Option<&str>,
    id: &str,
    path: &str,
    body: &[u8],
) -> reqwest::Response {
    s.req(Method::PUT, &format!("/v1/sessions/{id}/files/{path}"), key)
        .body(body.to_vec())
        .send()
        .await
        .unwrap()
}

/// `GET` a session file (any status).
async fn get(s: &Server, key: Option<&str>, id: &str, path: &str) -> reqwest::Response {
    s.req(Method::GET, &format!("/v1/sessions/{id}/files/{path}"), key)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_csv_goes_into_a_session_and_the_result_comes_out() {
    let s = Server::start(TENANTS, &[]).await;
    let id = s.session(A, json!({})).await;
    assert_eq!(put(&s, A, &id, "tmp/in.csv", CSV).await.status(), 204);
    assert_eq!(stdout(&s.run(A, &id, DOUBLE).await), "2\n");
    let r = get(&s, A, &id, "tmp/out.csv").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/octet-stream");
    assert_eq!(r.bytes().await.unwrap().as_ref(), DOUBLED);
    let list = s
        .get_json(&format!("/v1/sessions/{id}/files?dir=/tmp"), A)
        .await;
    assert_eq!(list["files"][0]["name"], "in.csv");
    assert_eq!(list["files"][1]["path"], "/tmp/out.csv");
    assert_eq!(list["files"][1]["kind"], "file");
    assert_eq!(list["files"][1]["size"], DOUBLED.len());
    assert_eq!(
        put(&s, A, &id, "home/user/deep/er/x.txt", b"x")
            .await
            .status(),
        204
    );
    let all = s
        .get_json(&format!("/v1/sessions/{id}/files?dir=/&recursive=true"), A)
        .await;
    let paths: Vec<&str> = all["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        ["/home/user/deep/er/x.txt", "/tmp/in.csv", "/tmp/out.csv"]
    );
    let del = s
        .req(
            Method::DELETE,
            &format!("/v1/sessions/{id}/files/tmp/in.csv"),
            A,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), 204);
    let (status, code, _) = failure(get(&s, A, &id, "tmp/in.csv").await).await;
    assert_eq!((status, code.as_str()), (404, "file_not_found"));
    // Another tenant does not see the session, nor its files.
    assert_eq!(get(&s, B, &id, "tmp/out.csv").await.status(), 404);
    assert_eq!(put(&s, B, &id, "tmp/x", b"x").await.status(), 404);
    let (status, _, msg) = failure(get(&s, A, "nonexistent", "tmp/out.csv").await).await;
    assert_eq!((status, msg.as_str()), (404, "no such session"));
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_paths_and_sizes_are_refused() {
    let s = Server::start("", &["--max-file-bytes", "4096"]).await;
    let id = s.session(None, json!({})).await;
    let refused = [
        // An encoded `/` keeps the URL parser from resolving the `..` itself.
        ("tmp/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", 400, "bad_path"),
        ("etc/passwd", 404, "file_not_found"),
        ("lib/python3.14/os.py", 400, "bad_path"),
        ("tmp", 400, "bad_path"),
    ];
    for (path, status, code) in refused {
        let (st, c, msg) = failure(put(&s, None, &id, path, b"x").await).await;
        assert_eq!((st, c.as_str()), (status, code), "{path}: {msg}");
        assert!(!msg.contains("ErrorCode"), "{msg}");
    }
    let (st, c, msg) = failure(get(&s, None, &id, "lib/python3.14/os.py").await).await;
    assert_eq!((st, c.as_str()), (400, "bad_path"), "{msg}");
    assert!(msg.contains("host mount"), "{msg}");
    // Over the upload cap: 413 before the body is kept.
    let (st, c, _) = failure(put(&s, None, &id, "tmp/big", &[0; 4097]).await).await;
    assert_eq!((st, c.as_str()), (413, "too_large"));
    // Nothing of it was written.
    let all = s
        .get_json(
            &format!("/v1/sessions/{id}/files?dir=/&recursive=true"),
            None,
        )
        .await;
    assert_eq!(all["files"], json!([]));
    // The session goes on.
    assert_eq!(stdout(&s.run(None, &id, "print(1)").await), "1\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_file_cap_is_a_413_and_the_guest_cap() {
    // 3 MiB uploads into a session whose files may hold 64 MiB: the 22nd
    // does not fit.
    let s = Server::start("", &["--max-file-bytes", "4000000"]).await;
    let id = s.session(None, json!({})).await;
    let chunk = vec![7u8; 3 << 20];
    let mut n = 0;
    let last = loop {
        let r = put(&s, None, &id, &format!("tmp/f{n}"), &chunk).await;
        if r.status() != 204 {
            break r;
        }
        n += 1;
    };
    assert_eq!(n, 21);
    let (st, c, msg) = failure(last).await;
    assert_eq!((st, c.as_str()), (413, "too_large"), "{msg}");
    let r = s
        .run(None, &id, "import os; print(len(os.listdir('/tmp')))")
        .await;
    assert_eq!(stdout(&r), "21\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_one_shot_execute_takes_and_returns_files() {
    let s = Server::start("", &[]).await;
    let v = s
        .post_ok(
            "/v1/execute",
            None,
            json!({
                "code": format!("{DOUBLE}\nopen('/tmp/b.csv','w').write('b')\nraise ValueError('after')"),
                "files": [{"path": "/tmp/in.csv", "content_base64": B64.encode(CSV)}],
                "output_files": ["/tmp/out.csv", "/tmp/*.csv", "/tmp/missing.txt"],
            }),
        )
        .await;
    assert_eq!(v["error"]["type"], "ValueError", "{v}");
    let files = v["files"].as_array().unwrap();
    let by_path = |p: &str| -> &Value { files.iter().find(|f| f["path"] == p).unwrap() };
    let out = by_path("/tmp/out.csv")["content_base64"].as_str().unwrap();
    assert_eq!(B64.decode(out).unwrap(), DOUBLED);
    assert_eq!(
        B64.decode(by_path("/tmp/b.csv")["content_base64"].as_str().unwrap())
            .unwrap(),
        b"b"
    );
    assert!(by_path("/tmp/in.csv")["content_base64"].is_string());
    assert!(by_path("/tmp/missing.txt")["error"].is_string());
    // Each path once, in the order asked for.
    let paths: Vec<_> = files.iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(
        paths,
        [
            "/tmp/out.csv",
            "/tmp/b.csv",
            "/tmp/in.csv",
            "/tmp/missing.txt"
        ]
    );
    for (body, want) in [
        (
            json!({"code": "1", "files": [{"path": "/tmp/x", "content_base64": "%%%"}]}),
            "base64",
        ),
        (
            json!({"code": "1", "files": [{"path": "../x", "content_base64": ""}]}),
            "..",
        ),
        (json!({"code": "1", "output_files": ["/tmp/[z"]}), "glob"),
    ] {
        let (st, _, msg) = failure(s.post("/v1/execute", None, body).await).await;
        assert_eq!(st, 400, "{msg}");
        assert!(msg.contains(want), "{msg}");
    }
}
