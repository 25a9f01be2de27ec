//! Tenants stay apart in the shared session stores, not only in memory: with
//! a real `redis-server` and with `dir:` store, another tenant's session id
//! is a 404 for every route (execute, state get/put, info, delete) and
//! never listed, both while the session is live in the process and after a
//! restart, when it only exists in the store.
mod common;
use common::{scratch, stdout, Redis, Server};
use reqwest::Method;
use serde_json::{json, Value};

const TENANTS: &str = common::TWO_TENANTS;
const A: Option<&str> = common::ALPHA;
const B: Option<&str> = common::BETA;

/// Beta cannot reach alpha's session `a` in any way, and alpha still has it.
async fn beta_cannot_reach(s: &Server, a: &str) {
    let r = s.exec(B, a, "print(secret)").await;
    assert_eq!(r.status(), 404, "execute");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "not_found", "{v}");
    for (m, path) in [
        (Method::GET, format!("/v1/sessions/{a}/state")),
        (Method::GET, format!("/v1/sessions/{a}")),
        (Method::DELETE, format!("/v1/sessions/{a}")),
    ] {
        let r = s.req(m.clone(), &path, B).send().await.unwrap();
        assert_eq!(r.status(), 404, "{m} {path}");
    }
    let r = s
        .req(Method::PUT, &format!("/v1/sessions/{a}/state"), B)
        .body(vec![1, 2, 3])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "PUT state");
    assert!(!s.ids(B).await.contains(&a.to_string()), "listed to beta");
    assert_eq!(s.ids(A).await, vec![a.to_string()]);
    assert_eq!(stdout(&s.run(A, a, "print(secret)").await), "alpha\n");
}

/// The whole check on a store given by `--session-store spec`.
async fn isolated_on(spec: &str) {
    let flags = ["--session-store", spec];
    let s = Server::start(TENANTS, &flags).await;
    let a = s.session(A, json!({})).await;
    s.run(A, &a, "secret = 'alpha'").await;
    let b = s.session(B, json!({})).await;
    s.run(B, &b, "mine = 'beta'").await;
    beta_cannot_reach(&s, &a).await;
    drop(s);
    // A new process: alpha's session now exists only in the store.
    let s = Server::start(TENANTS, &flags).await;
    let r = s.exec(B, &a, "print(secret)").await;
    assert_eq!(r.status(), 404, "execute after restart");
    assert_eq!(s.ids(B).await, vec![b.clone()]);
    let r = s.exec(A, &b, "print(mine)").await;
    assert_eq!(r.status(), 404, "alpha reaching beta's session");
    let gone = s
        .req(Method::DELETE, &format!("/v1/sessions/{a}"), B)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
    assert_eq!(stdout(&s.run(A, &a, "print(secret)").await), "alpha\n");
    assert_eq!(stdout(&s.run(B, &b, "print(mine)").await), "beta\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn tenants_are_isolated_in_redis() {
    let redis = Redis::start();
    isolated_on(&redis.url()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tenants_are_isolated_in_a_directory_store() {
    let store = scratch("tenants");
    isolated_on(&format!("dir:{}", store.display())).await;
    let _ = std::fs::remove_dir_all(&store);
}
