//! `POST /v1/sessions/{id}/fork` and exact sessions against a real server:
//! an exact session holding a half-consumed generator and an sqlite3
//! connection in the middle of a transaction is forked, both branches go
//! on identically and then diverge (embedded store, and the directory
//! store where the copy goes through `snapshot_exact` bytes); with
//! `--session-store dir:PATH` the exact state survives a restart; a
//! session that is not exact forks through its pickled snapshot and says
//! so; the tenant's session cap, a busy source and an unknown id; on
//! Redis, an exact session and its fork move between replicas whole; with
//! operator callbacks, a fork's callbacks name the fork.
mod common;
use common::{failure, scratch, stdout, Redis, Server};
use reqwest::Method;
use serde_json::{json, Value};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Alpha may hold three sessions; beta is unlimited.
const CAPPED: &str = r#"
[[tenants]]
name = "alpha"
api_keys = ["alpha-key-123"]
max_sessions = 3

[[tenants]]
name = "beta"
api_keys = ["beta-key-4567"]
"#;
const A: Option<&str> = common::ALPHA;
const B: Option<&str> = common::BETA;

/// An open sqlite3 connection with one committed row and two uncommitted
/// ones, and a generator of squares consumed twice.
const SETUP: &str = "\
import sqlite3
db = sqlite3.connect('/tmp/t.db')
db.execute('create table t (x)')
db.execute('insert into t values (1)')
db.commit()
db.execute('insert into t values (2)')
db.execute('insert into t values (3)')
def squares():
    n = 0
    while True:
        n += 1
        yield n * n
g = squares()
print(next(g), next(g))
";

/// The generator's next value, whether the transaction is open and the
/// sum the connection sees.
const PROBE: &str =
    "print(next(g), db.in_transaction, db.execute('select sum(x) from t').fetchone()[0])";

/// The generator's next value and the sum a new connection sees (the
/// committed rows of this branch's own copy of the file).
const REOPEN: &str = "\
db.close()
db = sqlite3.connect('/tmp/t.db')
print(next(g), db.execute('select sum(x) from t').fetchone()[0])
";

/// Fork `id` as `key`; the answer (any status) as (status, JSON).
async fn fork(s: &Server, key: Option<&str>, id: &str) -> (u16, Value) {
    let r = s
        .req(Method::POST, &format!("/v1/sessions/{id}/fork"), key)
        .send()
        .await
        .expect("fork request");
    let status = r.status().as_u16();
    (status, r.json().await.expect("JSON answer"))
}

/// Fork `id`, expect 201, return the new id (checking the answer).
async fn fork_ok(s: &Server, key: Option<&str>, id: &str, exact: bool) -> String {
    let (status, v) = fork(s, key, id).await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["forked_from"], id, "{v}");
    assert_eq!(v["exact"], exact, "{v}");
    let new = v["id"].as_str().expect("id").to_string();
    assert_ne!(new, id);
    new
}

/// Both branches answer `PROBE` alike, then diverge: `a` commits, `b`
/// rolls back, and each sees only its own choice (own copy of the file).
async fn continue_then_diverge(s: &Server, key: Option<&str>, a: &str, b: &str) {
    let pa = stdout(&s.run(key, a, PROBE).await).to_string();
    let pb = stdout(&s.run(key, b, PROBE).await).to_string();
    assert_eq!(pa, "9 True 6\n");
    assert_eq!(pa, pb);
    s.run(key, a, "db.commit()").await;
    s.run(key, b, "db.rollback()\nnext(g)").await;
    assert_eq!(stdout(&s.run(key, a, REOPEN).await), "16 6\n");
    assert_eq!(stdout(&s.run(key, b, REOPEN).await), "25 1\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_exact_fork_continues_alike_then_diverges() {
    let s = Server::start(CAPPED, &[]).await;
    let src = s.session(A, json!({"exact": true})).await;
    let info = s.get_json(&format!("/v1/sessions/{src}"), A).await;
    assert_eq!(info["exact"], true, "{info}");
    assert_eq!(stdout(&s.run(A, &src, SETUP).await), "1 4\n");
    let child = fork_ok(&s, A, &src, true).await;
    let info = s.get_json(&format!("/v1/sessions/{child}"), A).await;
    assert_eq!(info["exact"], true, "{info}");
    assert_eq!(
        info["timeout_ms"],
        s.get_json(&format!("/v1/sessions/{src}"), A).await["timeout_ms"]
    );
    continue_then_diverge(&s, A, &src, &child).await;
    // Another tenant's id is not found; nor is an id that does not exist.
    let (status, v) = fork(&s, B, &src).await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    let (status, _) = fork(&s, A, "0123456789abcdef0123456789abcdef").await;
    assert_eq!(status, 404);
    // The fork counts against the cap: a third session, then 429.
    let third = fork_ok(&s, A, &child, true).await;
    let (status, v) = fork(&s, A, &src).await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (429, Some("saturated")),
        "{v}"
    );
    assert_eq!(s.ids(A).await.len(), 3);
    assert_eq!(stdout(&s.run(A, &third, "print(next(g))").await), "36\n");
    // A busy source: 409, and the running execute is not disturbed.
    let url = s.url(&format!("/v1/sessions/{src}/execute"));
    let (client, key) = (s.client.clone(), A.unwrap());
    let long = tokio::spawn(async move {
        let body = json!({"code": "import time\ntime.sleep(1)\nv = 'slept'"});
        client.post(url).bearer_auth(key).json(&body).send().await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    s.req(Method::DELETE, &format!("/v1/sessions/{third}"), A)
        .send()
        .await
        .unwrap();
    let (status, v) = fork(&s, A, &src).await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (409, Some("session_busy")),
        "{v}"
    );
    assert_eq!(long.await.unwrap().unwrap().status(), 200);
    assert_eq!(
        stdout(&s.run(A, &src, "print(v, next(g))").await),
        "slept 25\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_that_is_not_exact_forks_through_its_pickled_snapshot() {
    let s = Server::start("", &[]).await;
    let src = s.session(None, json!({})).await;
    let info = s.get_json(&format!("/v1/sessions/{src}"), None).await;
    assert_eq!(info["exact"], false, "{info}");
    s.run(
        None,
        &src,
        "x = 41\ng = (i for i in range(3))\nnext(g)\nopen('/tmp/f', 'w').write('kept')",
    )
    .await;
    let (status, answer) = fork(&s, None, &src).await;
    assert_eq!(status, 201, "{answer}");
    // The answer is what the OpenAPI document says: SessionInfo's fields
    // and `forked_from`.
    let doc = s.get_json("/openapi.json", None).await;
    let op = &doc["paths"]["/v1/sessions/{id}/fork"]["post"];
    let schema = op["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].clone();
    assert_eq!(schema, "#/components/schemas/ForkedSession");
    let info = &doc["components"]["schemas"]["SessionInfo"]["required"];
    let mut documented: Vec<String> = info
        .as_array()
        .expect("SessionInfo required")
        .iter()
        .map(|k| k.as_str().unwrap().to_string())
        .chain(["forked_from".to_string()])
        .collect();
    let mut served: Vec<String> = answer.as_object().unwrap().keys().cloned().collect();
    documented.sort();
    served.sort();
    assert_eq!(documented, served);
    assert!(documented.contains(&"exact".to_string()));
    s.req(
        Method::DELETE,
        &format!("/v1/sessions/{}", answer["id"].as_str().unwrap()),
        None,
    )
    .send()
    .await
    .unwrap();
    let child = fork_ok(&s, None, &src, false).await;
    // What pickles is there, the generator is not (it does not pickle).
    let code = "print(x + 1, 'g' in globals(), open('/tmp/f').read())";
    assert_eq!(stdout(&s.run(None, &child, code).await), "42 False kept\n");
    assert_eq!(stdout(&s.run(None, &src, "print(next(g))").await), "1\n");
    // The two go on independently.
    s.run(None, &child, "x = 0").await;
    assert_eq!(stdout(&s.run(None, &src, "print(x)").await), "41\n");
    // Concurrent forks of one session: each is a new session or a 409
    // (the source is busy with another fork), nothing else, and every 201
    // is a session that works.
    let before = s.ids(None).await.len();
    let (a, b, c) = tokio::join!(
        fork(&s, None, &src),
        fork(&s, None, &src),
        fork(&s, None, &src)
    );
    let made: Vec<String> = [a, b, c]
        .into_iter()
        .filter_map(|(status, v)| {
            assert!(status == 201 || status == 409, "{status} {v}");
            (status == 201).then(|| v["id"].as_str().unwrap().to_string())
        })
        .collect();
    assert!(!made.is_empty());
    assert_eq!(s.ids(None).await.len(), before + made.len());
    for id in &made {
        assert_eq!(stdout(&s.run(None, id, "print(x)").await), "41\n");
    }
}

/// The file of session `id` under the store directory `dir`.
fn stored(dir: &Path, id: &str) -> std::path::PathBuf {
    let name = format!("{id}.session");
    std::fs::read_dir(dir)
        .expect("store dir")
        .flatten()
        .filter(|e| e.path().is_dir())
        .flat_map(|d| std::fs::read_dir(d.path()).expect("tenant dir").flatten())
        .map(|e| e.path())
        .find(|p| p.file_name().is_some_and(|n| n == name.as_str()))
        .expect("the session's file")
}

/// A server on the store directory `dir`.
async fn on_dir(dir: &Path, config: &str) -> Server {
    let spec = format!("dir:{}", dir.display());
    Server::start(config, &["--session-store", spec.as_str()]).await
}

#[tokio::test(flavor = "multi_thread")]
async fn with_the_dir_store_exact_state_and_forks_survive_a_restart() {
    let store = scratch("store");
    let mut a = on_dir(&store, CAPPED).await;
    let src = a.session(A, json!({"exact": true, "ttl_s": 300})).await;
    assert_eq!(stdout(&a.run(A, &src, SETUP).await), "1 4\n");
    // Forked through `snapshot_exact` bytes (a store with a backend).
    let child = fork_ok(&a, A, &src, true).await;
    // Killed without warning: what the store holds is all there is.
    a.kill();
    let b = on_dir(&store, CAPPED).await;
    let r = b.exec(A, &src, PROBE).await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers().contains_key("eryx-restore-ms"),
        "not reloaded from the store"
    );
    let v: Value = r.json().await.unwrap();
    assert_eq!(stdout(&v), "9 True 6\n", "{v}");
    // The fork was stored with its own state, and diverges from there.
    let v = b.run(A, &child, PROBE).await;
    assert_eq!(stdout(&v), "9 True 6\n", "{v}");
    b.run(A, &src, "db.commit()").await;
    b.run(A, &child, "db.rollback()").await;
    drop(b);
    let c = on_dir(&store, CAPPED).await;
    assert_eq!(stdout(&c.run(A, &src, REOPEN).await), "16 6\n");
    assert_eq!(stdout(&c.run(A, &child, REOPEN).await), "16 1\n");
    let info = c.get_json(&format!("/v1/sessions/{child}"), A).await;
    assert_eq!(info["exact"], true, "{info}");
    // The stored bytes are an exact snapshot: PUT into another exact
    // session they carry everything; into a session that is not exact
    // they are a clear 400 that leaves it as it was.
    let file = std::fs::read(stored(&store, &src)).expect("session file");
    let at = file
        .windows(8)
        .position(|w| w == b"ERYXEXCT")
        .expect("an exact snapshot in the session file");
    let exact = file[at..].to_vec();
    let plain = c.session(A, json!({})).await;
    c.run(A, &plain, "kept = 1").await;
    let put = |id: &str, body: Vec<u8>| {
        c.req(Method::PUT, &format!("/v1/sessions/{id}/state"), A)
            .body(body)
            .send()
    };
    let (status, code, msg) = failure(put(&plain, exact.clone()).await.unwrap()).await;
    assert_eq!((status, code.as_str()), (400, "bad_request"), "{msg}");
    assert!(msg.contains("\"exact\": true"), "{msg}");
    assert_eq!(stdout(&c.run(A, &plain, "print(kept)").await), "1\n");
    c.req(Method::DELETE, &format!("/v1/sessions/{plain}"), A)
        .send()
        .await
        .unwrap();
    let other = c.session(A, json!({"exact": true})).await;
    assert_eq!(put(&other, exact).await.unwrap().status(), 204);
    assert_eq!(stdout(&c.run(A, &other, REOPEN).await), "25 6\n");
    // Another tenant cannot fork it here either.
    let (status, code, msg) = failure(
        c.req(Method::POST, &format!("/v1/sessions/{src}/fork"), B)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, code.as_str()), (404, "not_found"), "{msg}");
    drop(c);
    let _ = std::fs::remove_dir_all(&store);
}

#[tokio::test(flavor = "multi_thread")]
async fn on_redis_an_exact_session_and_its_fork_move_between_replicas() {
    let redis = Redis::start();
    let url = redis.url();
    let flags = ["--session-store", url.as_str()];
    let a = Server::start("", &flags).await;
    let b = Server::start("", &flags).await;
    let src = a.session(None, json!({"exact": true})).await;
    assert_eq!(stdout(&a.run(None, &src, SETUP).await), "1 4\n");
    let child = fork_ok(&a, None, &src, true).await;
    // B has seen neither: both come from the store, generator and open
    // transaction included.
    for id in [&src, &child] {
        let r = b.exec(None, id, PROBE).await;
        let (status, restored) = (r.status(), r.headers().contains_key("eryx-restore-ms"));
        let v: Value = r.json().await.unwrap();
        assert_eq!(status, 200, "{v}");
        assert!(restored, "{v}");
        assert_eq!(stdout(&v), "9 True 6\n", "{v}");
    }
    // Back on A (its live copies are stale now): diverge.
    a.run(None, &src, "db.commit()").await;
    a.run(None, &child, "db.rollback()").await;
    assert_eq!(stdout(&b.run(None, &src, REOPEN).await), "16 6\n");
    assert_eq!(stdout(&b.run(None, &child, REOPEN).await), "16 1\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn with_operator_callbacks_a_fork_calls_back_as_itself() {
    // An operator endpoint that records the session each call names.
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen2 = seen.clone();
    let app = axum::Router::new().route(
        "/who",
        axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
            let seen = seen2.clone();
            async move {
                let who = body["session"].as_str().unwrap_or("").to_string();
                seen.lock().unwrap().push(who.clone());
                axum::Json(json!({ "session": who }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let config = format!("[[callbacks]]\nname = \"who\"\nurl = \"http://{addr}/who\"\n");
    let s = Server::start(&config, &[]).await;
    let src = s.session(None, json!({"exact": true})).await;
    s.run(
        None,
        &src,
        "g = (i for i in range(9)); next(g)\nfirst = await who()",
    )
    .await;
    let child = fork_ok(&s, None, &src, true).await;
    let code = "print(next(g), first['session'] == (await who())['session'])";
    // The fork's state is the source's (`first` names the source), its
    // callbacks name the fork.
    assert_eq!(stdout(&s.run(None, &child, code).await), "1 False\n");
    assert_eq!(stdout(&s.run(None, &src, code).await), "1 True\n");
    assert_eq!(
        *seen.lock().unwrap(),
        [src.clone(), child.clone(), src.clone()]
    );
}
