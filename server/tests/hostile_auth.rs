//! Hostile callers of the real server's routes: every route (enumerated
//! from the OpenAPI document and the router's source, so a new route that
//! is not covered fails here) with no, malformed and another tenant's key;
//! session-id guessing and traversal in ids (memory and directory store);
//! traversal, NUL, overlong and symlink tricks in the files API's paths.
//! The cases are listed in docs/hostile-http.md.
mod common;
use common::hostile::{assert_alive, json_error, put_file, raw, request, Rng, Witness};
use common::{scratch, Server, ALPHA as A, BETA as B, TWO_TENANTS};
use reqwest::header::HeaderValue;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// Every route this suite drives: (method, OpenAPI path). Adding a route
/// to the server without adding it here fails [`every_route_is_covered`].
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/openapi.json"),
    ("POST", "/v1/execute"),
    ("POST", "/v1/sessions"),
    ("GET", "/v1/sessions"),
    ("GET", "/v1/sessions/{id}"),
    ("DELETE", "/v1/sessions/{id}"),
    ("POST", "/v1/sessions/{id}/execute"),
    ("POST", "/v1/sessions/{id}/fork"),
    ("GET", "/v1/sessions/{id}/state"),
    ("PUT", "/v1/sessions/{id}/state"),
    ("GET", "/v1/sessions/{id}/files"),
    ("GET", "/v1/sessions/{id}/files/{path}"),
    ("PUT", "/v1/sessions/{id}/files/{path}"),
    ("DELETE", "/v1/sessions/{id}/files/{path}"),
];

/// The routes that need no key (they show nothing tenant-specific).
const OPEN: &[&str] = &["/healthz", "/readyz", "/metrics", "/openapi.json"];

/// (method, path) of every `.route(...)` in the router's source files
/// (`{*path}` written as OpenAPI's `{path}`).
fn source_routes() -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for src in [
        include_str!("../src/routes.rs"),
        include_str!("../src/files.rs"),
    ] {
        let mut rest = src;
        while let Some(i) = rest.find(".route(") {
            rest = &rest[i + ".route(".len()..];
            let q1 = rest.find('"').expect("route path");
            let q2 = q1 + 1 + rest[q1 + 1..].find('"').expect("route path end");
            let path = rest[q1 + 1..q2].replace("{*", "{");
            let mut depth = 1;
            let end = rest
                .char_indices()
                .find(|&(_, c)| {
                    depth += match c {
                        '(' => 1,
                        ')' => -1,
                        _ => 0,
                    };
                    depth == 0
                })
                .expect("end of .route(")
                .0;
            for m in ["get", "post", "put", "delete", "patch", "head", "options"] {
                if rest[q2..end].contains(&format!("{m}(")) {
                    out.insert((m.to_uppercase(), path.clone()));
                }
            }
        }
    }
    out
}

fn listed() -> BTreeSet<(String, String)> {
    ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect()
}

/// Send `method path` (with `{id}` and `{path}` filled in) with a body
/// that would be accepted, and `auth` as the Authorization header value.
async fn send(
    s: &Server,
    method: &str,
    template: &str,
    id: &str,
    auth: Option<&[u8]>,
) -> reqwest::Response {
    let path = template
        .replace("{id}", id)
        .replace("{path}", "tmp/secret.txt");
    let m = Method::from_bytes(method.as_bytes()).unwrap();
    let mut r = s.req(m, &path, None);
    if let Some(a) = auth {
        r = r.header("authorization", HeaderValue::from_bytes(a).unwrap());
    }
    r = match (method, template) {
        ("POST", "/v1/execute") => r.json(&json!({"code": "print(1)"})),
        ("POST", "/v1/sessions") => r.json(&json!({})),
        ("POST", _) => r.json(&json!({"code": "secret = 'stolen'"})),
        ("PUT", t) if t.ends_with("/state") => r.body(b"ERYXSNAP\x02".to_vec()),
        ("PUT", _) => r.body(b"overwritten".to_vec()),
        _ => r,
    };
    r.send().await.expect("request")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_scheme_name_is_case_insensitive() {
    // Case auth-scheme-case: RFC 9110 makes `bearer` and `BEARER` the
    // same scheme; the key itself stays exact.
    let s = Server::start(TWO_TENANTS, &[]).await;
    for (auth, status) in [
        ("bearer alpha-key-123", 200),
        ("BEARER alpha-key-123", 200),
        ("BeArEr alpha-key-123", 200),
        ("bearer ALPHA-KEY-123", 401),
    ] {
        let r = send(&s, "GET", "/v1/sessions", "", Some(auth.as_bytes())).await;
        assert_eq!(r.status(), status, "{auth}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_route_is_covered_and_needs_its_key() {
    let s = Server::start(TWO_TENANTS, &[]).await;
    let w = Witness::new(&s).await;
    // Case routes-enumerated: the OpenAPI document, the router's source
    // and this suite's list name the same routes.
    let doc = s.get_json("/openapi.json", None).await;
    let mut documented = BTreeSet::new();
    let mut open = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().unwrap() {
            documented.insert((method.to_uppercase(), path.clone()));
            if op.get("security").is_none() {
                open.insert(path.clone());
            }
        }
    }
    assert_eq!(documented, listed(), "OpenAPI vs this suite's ROUTES");
    assert_eq!(source_routes(), listed(), "router source vs ROUTES");
    let want_open: BTreeSet<String> = OPEN.iter().map(|p| p.to_string()).collect();
    assert_eq!(open, want_open, "routes without a key");

    let id = s.session(A, json!({})).await;
    s.run(A, &id, "secret = 'mine'").await;
    put_file(&s, A, &id, "tmp/secret.txt", b"alpha's").await;
    // Case auth-missing-malformed: on every route that needs a key, no
    // key, and every malformed or unknown one, is the same JSON 401.
    let long = format!("Bearer {}", "k".repeat(8192));
    let variants: Vec<(&str, Option<&[u8]>)> = vec![
        ("none", None),
        ("empty", Some(b"")),
        ("scheme only", Some(b"Bearer")),
        ("scheme and space", Some(b"Bearer ")),
        ("basic", Some(b"Basic YWxwaGEta2V5LTEyMw==")),
        ("other scheme", Some(b"Token alpha-key-123")),
        ("no scheme", Some(b"alpha-key-123")),
        ("prefix of a key", Some(b"Bearer alpha-key-12")),
        ("key and more", Some(b"Bearer alpha-key-1234")),
        ("two keys", Some(b"Bearer alpha-key-123 beta-key-4567")),
        ("not ASCII", Some(b"Bearer alpha-key-123\xff")),
        ("8 KiB key", Some(long.as_bytes())),
        ("unknown", Some(b"Bearer wrong-key-000")),
    ];
    let mut bodies = BTreeSet::new();
    for (method, template) in ROUTES {
        for (what, auth) in &variants {
            let r = send(&s, method, template, &id, *auth).await;
            if OPEN.contains(template) {
                assert_eq!(r.status(), 200, "{what}: {method} {template}");
                continue;
            }
            let body = r.bytes().await.unwrap();
            let v: Value = serde_json::from_slice(&body).expect("JSON 401");
            assert_eq!(
                v["error"]["code"], "unauthorized",
                "{what}: {method} {template}: {v}"
            );
            bodies.insert(body.to_vec());
        }
    }
    assert_eq!(bodies.len(), 1, "the 401s differ: {bodies:?}");
    // Case auth-two-headers: a bad Authorization first, the right one
    // second: the first one counts.
    let req = request(
        "GET",
        b"/v1/sessions",
        &[
            "authorization: Bearer wrong-key-000",
            "authorization: Bearer alpha-key-123",
        ],
        b"",
    );
    raw(&s, req).await.json_error(401, "unauthorized");
    // Case auth-other-tenant: beta's key on every route of alpha's session
    // is a 404 identical to that of a session that does not exist.
    let missing = send(
        &s,
        "GET",
        "/v1/sessions/{id}",
        "0123456789abcdef0123456789abcdef",
        Some(b"Bearer alpha-key-123"),
    )
    .await
    .bytes()
    .await
    .unwrap();
    for (method, template) in ROUTES.iter().filter(|(_, t)| t.contains("{id}")) {
        let r = send(&s, method, template, &id, Some(b"Bearer beta-key-4567")).await;
        assert_eq!(r.status(), 404, "{method} {template}");
        assert_eq!(r.bytes().await.unwrap(), missing, "{method} {template}");
    }
    // Beta lists only its own (the witness), and its one-shot runs as beta.
    assert_eq!(s.ids(B).await, vec![w.id.clone()]);
    // Case open-routes-leak-nothing: what needs no key shows no key, no
    // tenant and no session id.
    for path in OPEN {
        let text = s
            .client
            .get(s.url(path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let secrets = [
            "alpha-key",
            "beta-key",
            "\"alpha\"",
            "\"beta\"",
            "=\"alpha",
            "=\"beta",
        ];
        for secret in secrets.iter().copied().chain([id.as_str(), w.id.as_str()]) {
            assert!(!text.contains(secret), "{path} shows {secret}");
        }
    }
    // Alpha's session is as it was: beta's execute, upload, restore and
    // delete never reached it.
    assert_eq!(s.run(A, &id, "print(secret)").await["stdout"], "mine\n");
    let r = s
        .req(
            Method::GET,
            &format!("/v1/sessions/{id}/files/tmp/secret.txt"),
            A,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"alpha's");
    let info = s.get_json(&format!("/v1/sessions/{id}"), A).await;
    assert_eq!(info["executes"], 2, "{info}");
    w.check(&s).await;
}

/// A 32-hex-digit id from `rng`.
fn random_id(rng: &mut Rng) -> String {
    format!("{:016x}{:016x}", rng.next(), rng.next())
}

/// `id` with its last hex digit counted up by one (wrapping).
fn next_id(id: &str) -> String {
    let (head, last) = id.split_at(id.len() - 1);
    let d = u8::from_str_radix(last, 16).unwrap();
    format!("{head}{:x}", (d + 1) % 16)
}

/// Session-id guessing and traversal against `s` (any store): alpha's
/// session `id`, beta's session `theirs`.
async fn guess_and_climb(s: &Server, id: &str, theirs: &str) {
    let mut rng = Rng(7);
    let routes: Vec<(&str, &str)> = ROUTES
        .iter()
        .copied()
        .filter(|(_, t)| t.contains("{id}"))
        .collect();
    let alpha = Some(&b"Bearer alpha-key-123"[..]);
    let missing = send(s, "GET", "/v1/sessions/{id}", &random_id(&mut rng), alpha)
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&missing).unwrap()["error"]["message"],
        "no such session"
    );
    // Case id-guessing: random, sequential and near-miss ids, and the other
    // tenant's real id: the same 404 as for nothing at all.
    let mut ids = vec![
        random_id(&mut rng),
        random_id(&mut rng),
        next_id(id),
        next_id(&next_id(id)),
        id.to_uppercase(),
        id[..31].to_string(),
        format!("{id}0"),
        theirs.to_string(),
    ];
    // Case id-traversal: ids that climb, carry encoded slashes, NUL,
    // backslashes or are very long: a 404, nothing outside the store.
    ids.extend(
        [
            "..%2F..%2Fetc%2Fpasswd",
            "%2E%2E%2F%2E%2E",
            "a%2Fb",
            "%00",
            "%5C..%5C..%5Cetc%5Cpasswd",
        ]
        .map(String::from),
    );
    ids.push(format!("{id}%00"));
    ids.push(format!("{id}%2F..%2F{theirs}"));
    ids.push(format!("{theirs}%00{id}"));
    ids.push(format!("{id}%20"));
    ids.push("a".repeat(10_000));
    ids.push("..%2F".repeat(3_000));
    for guess in &ids {
        for (method, template) in &routes {
            let r = send(s, method, template, guess, alpha).await;
            let status = r.status();
            let body = r.bytes().await.unwrap();
            assert_eq!(
                (status.as_u16(), &body),
                (404, &missing),
                "{method} {template} with id {:.80}",
                guess
            );
        }
    }
    // Literal dot segments (sent raw: reqwest would resolve them) are not
    // resolved: no route matches, or `..` is the id or a refused file
    // path; beta cannot climb from its own session to alpha's.
    for (target, status, code) in [
        (
            "/v1/sessions/../../etc/passwd".to_string(),
            404,
            "not_found",
        ),
        (format!("/v1/sessions/{theirs}/../{id}"), 404, "not_found"),
        (
            format!("/v1/sessions/{theirs}/../{id}/state"),
            404,
            "not_found",
        ),
        ("/v1/sessions/%2e%2e/state".to_string(), 404, "not_found"),
        (
            format!("/v1/sessions/{theirs}/files/../../{id}/state"),
            400,
            "bad_path",
        ),
    ] {
        let req = request(
            "GET",
            target.as_bytes(),
            &["authorization: Bearer beta-key-4567"],
            b"",
        );
        raw(s, req).await.json_error(status, code);
    }
    // Case id-overlong-uri: an id past the URI limit is hyper's 414 (no
    // body); the server goes on.
    let target = format!("/v1/sessions/{}", "a".repeat(70_000));
    let r = raw(s, request("GET", target.as_bytes(), &[], b"")).await;
    assert_eq!(r.status, 414, "{}", r.head);
    assert_alive(s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn session_ids_cannot_be_guessed_or_climbed_in_memory() {
    let s = Server::start(TWO_TENANTS, &[]).await;
    guessing_leaves_sessions_intact(&s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn session_ids_cannot_be_guessed_or_climbed_in_a_directory_store() {
    let store = scratch("hostile-store");
    let spec = format!("dir:{}", store.display());
    let s = Server::start(TWO_TENANTS, &["--session-store", &spec]).await;
    let (id, w) = guessing_leaves_sessions_intact(&s).await;
    // Only the store's own files: its lock and one file per session, each
    // named by a real id in a tenant's directory.
    let mut found = Vec::new();
    let mut stack = vec![store.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                found.push(e.path().strip_prefix(&store).unwrap().display().to_string());
            }
        }
    }
    found.sort();
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(found.contains(&".lock".to_string()), "{found:?}");
    for sid in [&id, &w.id] {
        let n = found
            .iter()
            .filter(|f| f.ends_with(&format!("/{sid}.session")) && f.matches('/').count() == 1)
            .count();
        assert_eq!(n, 1, "{sid}: {found:?}");
    }
    let _ = std::fs::remove_dir_all(&store);
}

#[tokio::test(flavor = "multi_thread")]
async fn file_paths_cannot_climb_reach_the_host_or_follow_links() {
    let s = Server::start(TWO_TENANTS, &[]).await;
    let w = Witness::new(&s).await;
    let id = s.session(A, json!({})).await;
    put_file(&s, A, &id, "tmp/x", b"x").await;
    let files = format!("/v1/sessions/{id}/files");
    let key = "authorization: Bearer alpha-key-123";
    // Case files-traversal: literal and encoded `..` (sent raw: reqwest would
    // resolve them), on reads, writes and removals.
    for (method, target) in [
        ("GET", format!("{files}/../../etc/passwd")),
        ("GET", format!("{files}/tmp/../../etc/passwd")),
        ("GET", format!("{files}/%2e%2e/%2e%2e/etc/passwd")),
        ("PUT", format!("{files}/home/user/../../../tmp/evil")),
        ("DELETE", format!("{files}/tmp/..%2F..%2Ftmp%2Fx")),
        ("GET", format!("{files}?dir=/tmp/%2E%2E/%2E%2E")),
    ] {
        let r = raw(&s, request(method, target.as_bytes(), &[key], b"evil")).await;
        let msg = r.json_error(400, "bad_path");
        assert!(msg.contains("`..`"), "{target}: {msg}");
    }
    // Case files-absolute: an absolute path (doubled slash, encoded slash)
    // is a guest path: the guest has no /etc/passwd, and the host's is
    // never read.
    for target in [
        format!("{files}//etc/passwd"),
        format!("{files}/%2Fetc%2Fpasswd"),
    ] {
        let r = raw(&s, request("GET", target.as_bytes(), &[key], b"")).await;
        r.json_error(404, "file_not_found");
        assert!(
            !String::from_utf8_lossy(&r.body).contains("root:"),
            "{target}"
        );
    }
    refused_as_mount(&s, &format!("{files}/%2Flib%2Fpython3.14%2Fos.py")).await;
    // Case files-nul: a NUL anywhere in a path.
    for path in ["tmp/a%00b", "tmp/x%00.png", "%00"] {
        for m in [Method::GET, Method::PUT, Method::DELETE] {
            let url = format!("{files}/{path}");
            let msg = refusal(&s, m.clone(), &url, Some("evil"), 400, "bad_path").await;
            assert!(msg.contains("NUL"), "{m} {path}: {msg}");
        }
    }
    // Case files-overlong: a name past 255 bytes, a path past 4096.
    for (path, why) in [
        ("tmp/".to_string() + &"n".repeat(300), "255"),
        ("tmp/".to_string() + &"a/".repeat(2100) + "f", "4096"),
    ] {
        let url = format!("{files}/{path}");
        let msg = refusal(&s, Method::PUT, &url, Some("x"), 400, "bad_path").await;
        assert!(msg.contains(why), "{msg}");
    }
    // Case files-backslash: backslashes are no separator: one odd name in
    // /tmp, nothing elsewhere.
    put_file(&s, A, &id, "tmp/..%5C..%5Cetc%5Cpasswd", b"odd").await;
    let list = s
        .get_json(&format!("{files}?dir=/&recursive=true"), A)
        .await;
    let paths: Vec<&str> = list["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["/tmp/..\\..\\etc\\passwd", "/tmp/x"]);
    // Case files-symlinks: links the guest made (to the host's /etc/passwd,
    // to the root, into the stdlib mount) are not followed out of the tree
    // nor into a host mount; a link itself is never read or written.
    let code = "import os\n\
        os.symlink('/etc/passwd', '/tmp/l_host')\n\
        os.symlink('/', '/tmp/l_root')\n\
        os.symlink('/home/user', '/tmp/l_home')\n\
        try:\n    open('/tmp/l_host').read(); print('read')\n\
        except OSError as e: print(type(e).__name__)\n";
    let r = s.run(A, &id, code).await;
    assert_eq!(r["stdout"], "FileNotFoundError\n", "{r}");
    for (m, path, status, code, needle) in [
        (Method::GET, "tmp/l_host", 400, "bad_path", "symbolic link"),
        (Method::PUT, "tmp/l_host", 400, "bad_path", "symbolic link"),
        (
            Method::GET,
            "tmp/l_root/etc/passwd",
            404,
            "file_not_found",
            "",
        ),
        (
            Method::GET,
            "tmp/l_root/lib/python3.14/os.py",
            400,
            "bad_path",
            "host mount",
        ),
        (
            Method::PUT,
            "tmp/l_root/lib/python3.14/evil.py",
            400,
            "bad_path",
            "host mount",
        ),
    ] {
        let url = format!("{files}/{path}");
        let msg = refusal(&s, m.clone(), &url, Some("evil"), status, code).await;
        assert!(msg.contains(needle), "{m} {path}: {msg}");
    }
    refused_as_mount(&s, &format!("{files}?dir=/tmp/l_root/lib/python3.14")).await;
    // Through a link to a directory of the tree: stays in the tree.
    put_file(&s, A, &id, "tmp/l_home/via_link.txt", b"in the tree").await;
    let r = s
        .run(A, &id, "print(open('/home/user/via_link.txt').read())")
        .await;
    assert_eq!(r["stdout"], "in the tree\n");
    w.check(&s).await;
}

/// `m path` as alpha (with `body`, if any) is the JSON error `status`
/// `code`; its message.
async fn refusal(
    s: &Server,
    m: Method,
    path: &str,
    body: Option<&'static str>,
    status: u16,
    code: &str,
) -> String {
    let mut r = s.req(m, path, A);
    if let Some(b) = body {
        r = r.body(b);
    }
    json_error(r.send().await.unwrap(), status, code).await
}

/// A GET of `path` as alpha is a 400 `bad_path` naming the host mount.
async fn refused_as_mount(s: &Server, path: &str) {
    let msg = refusal(s, Method::GET, path, None, 400, "bad_path").await;
    assert!(msg.contains("host mount"), "{path}: {msg}");
}

/// Guess and climb around a session of alpha's on `s`: it and beta's
/// witness keep their state; (the session's id, the witness).
async fn guessing_leaves_sessions_intact(s: &Server) -> (String, Witness) {
    let w = Witness::new(s).await;
    let id = s.session(A, json!({})).await;
    s.run(A, &id, "mine = 1").await;
    guess_and_climb(s, &id, &w.id).await;
    assert_eq!(s.run(A, &id, "print(mine)").await["stdout"], "1\n");
    w.check(s).await;
    (id, w)
}
