//! Sessions in worker processes (`--isolation workers`) against the real
//! server: a session's code runs in a worker (an uninterruptible one is
//! killed at the deadline) and its state outlives every worker (all of
//! them killed while it is idle: the next call goes on from the last good
//! state); state, files and fork work as in process; two sessions driven
//! at once on two workers move between them without losing an update;
//! a session's callbacks name it; the directory store keeps a worker
//! session across a restart.
mod common;
use common::{failure, kill9, wait_workers, Server, UNINTERRUPTIBLE_WORKER};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// GET the session's state: 200 and its bytes.
async fn state_of(s: &Server, id: &str) -> Vec<u8> {
    let state = s
        .req(Method::GET, &format!("/v1/sessions/{id}/state"), None)
        .send()
        .await
        .unwrap();
    assert_eq!(state.status(), 200);
    state.bytes().await.unwrap().to_vec()
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_live_in_workers_and_outlive_them() {
    let s = Server::start("", &["--isolation", "workers", "--workers", "2"]).await;
    let pids = wait_workers(&s, 2).await;
    let id = s.session(None, json!({})).await;
    let r = s
        .run(
            None,
            &id,
            "import sqlite3\nx = 41\ndef f(): return x + 1\nopen('/tmp/a.txt', 'w').write('hi')",
        )
        .await;
    assert!(r["error"].is_null(), "{r}");
    let r = s.run(None, &id, "print(f())").await;
    assert_eq!(r["stdout"], "42\n", "{r}");
    // Files through the API.
    let path = format!("/v1/sessions/{id}/files/tmp/b.txt");
    let put = s
        .req(Method::PUT, &path, None)
        .body("uploaded")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 204);
    let r = s
        .run(
            None,
            &id,
            "print(open('/tmp/b.txt').read(), open('/tmp/a.txt').read())",
        )
        .await;
    assert_eq!(r["stdout"], "uploaded hi\n", "{r}");
    let got = s
        .req(
            Method::GET,
            &format!("/v1/sessions/{id}/files/tmp/a.txt"),
            None,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.text().await.unwrap(), "hi");
    let list = s
        .get_json(&format!("/v1/sessions/{id}/files?dir=/tmp"), None)
        .await;
    let names: Vec<&str> = (list["files"].as_array().unwrap().iter())
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a.txt", "b.txt"], "{list}");
    let missing = s
        .req(
            Method::GET,
            &format!("/v1/sessions/{id}/files/tmp/none"),
            None,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(failure(missing).await.1, "file_not_found");
    let del = s.req(Method::DELETE, &path, None).send().await.unwrap();
    assert_eq!(del.status(), 204);
    // State out, garbage refused, state back in.
    let saved = state_of(&s, &id).await;
    let bad = s
        .req(Method::PUT, &format!("/v1/sessions/{id}/state"), None)
        .body("garbage")
        .send()
        .await
        .unwrap();
    let (status, _, message) = failure(bad).await;
    assert_eq!(status, 400);
    assert!(message.contains("not a valid session state"), "{message}");
    s.run(None, &id, "x = 0").await;
    let back = s
        .req(Method::PUT, &format!("/v1/sessions/{id}/state"), None)
        .body(saved)
        .send()
        .await
        .unwrap();
    assert_eq!(back.status(), 204);
    assert_eq!(s.run(None, &id, "print(x)").await["stdout"], "41\n");
    // A fork goes on by itself.
    let fork = s
        .post_ok(&format!("/v1/sessions/{id}/fork"), None, json!({}))
        .await;
    let fid = fork["id"].as_str().unwrap().to_string();
    s.run(None, &fid, "x = 7").await;
    assert_eq!(s.run(None, &fid, "print(x)").await["stdout"], "7\n");
    assert_eq!(s.run(None, &id, "print(x)").await["stdout"], "41\n");
    // Kill every worker while the session is idle: its state is the
    // server's, so the next call goes on from it on a new worker.
    kill9(&pids);
    let r = s
        .run(
            None,
            &id,
            "x += 1\nprint(x, f(), open('/tmp/a.txt').read())",
        )
        .await;
    assert_eq!(r["stdout"], "42 43 hi\n", "{r}");
    assert_eq!(s.run(None, &fid, "print(x)").await["stdout"], "7\n");
    let now = wait_workers(&s, 2).await;
    assert!(now.iter().all(|p| !pids.contains(p)), "{pids:?} -> {now:?}");
    // Deleting it (its worker's copy is dropped when that worker is next
    // taken) leaves nothing to run on.
    let del = s
        .req(Method::DELETE, &format!("/v1/sessions/{id}"), None)
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), 204);
    assert_eq!(failure(s.exec(None, &id, "1").await).await.0, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_uninterruptible_session_times_out_and_goes_on() {
    let s = Server::start("", &UNINTERRUPTIBLE_WORKER).await;
    let before = wait_workers(&s, 1).await;
    let id = s.session(None, json!({"timeout_ms": 500})).await;
    s.run(None, &id, "x = 1").await;
    let start = Instant::now();
    let r = s
        .run(
            None,
            &id,
            "x = 2\nprint('spinning', flush=True)\nwhile True: pass",
        )
        .await;
    assert_eq!(r["error"]["kind"], "timeout", "{r}");
    assert_eq!(r["stdout"], "spinning\n", "{r}");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    // The code ran in the worker: the worker was killed for it.
    assert_eq!(
        s.metric("eryx_workers_lost_total{reason=\"killed\"}").await,
        1.0
    );
    // The session goes on from its last good state, as in process.
    let r = s.run(None, &id, "print(x)").await;
    assert_eq!(r["stdout"], "1\n", "{r}");
    assert_ne!(wait_workers(&s, 1).await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn two_sessions_at_once_on_two_workers_lose_no_update() {
    let s = Server::start("", &["--isolation", "workers", "--workers", "2"]).await;
    wait_workers(&s, 2).await;
    let a = s.session(None, json!({})).await;
    let b = s.session(None, json!({})).await;
    s.run(None, &a, "n = 0").await;
    s.run(None, &b, "n = 100").await;
    for round in 0..15 {
        // Both at once, then one alone (so each moves between workers).
        let ja = s.spawn_exec(&a, "n += 1");
        let jb = s.spawn_exec(&b, "n += 1");
        for j in [ja, jb] {
            let r = j.await.unwrap().unwrap();
            assert_eq!(r.status(), 200, "round {round}");
        }
        let lone = if round % 2 == 0 { &a } else { &b };
        s.run(None, lone, "n += 0").await;
    }
    assert_eq!(s.run(None, &a, "print(n)").await["stdout"], "15\n");
    assert_eq!(s.run(None, &b, "print(n)").await["stdout"], "115\n");
    let m = s.metrics().await;
    assert!(!m.contains("eryx_workers_lost_total{"), "{m}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_callback_names_the_session_and_a_dir_store_keeps_it() {
    use axum::routing::post;
    use axum::{Json, Router};
    let app = Router::new().route(
        "/who",
        post(|Json(b): Json<Value>| async move { Json(json!({"session": b["session"]})) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let config = format!("[[callbacks]]\nname = \"who\"\nurl = \"http://{addr}/who\"\n");
    let store = common::scratch("worker-dir-store");
    let spec = format!("dir:{}", store.display());
    let flags = [
        "--isolation",
        "workers",
        "--workers",
        "1",
        "--session-store",
        &spec,
    ];
    let mut s = Server::start(&config, &flags).await;
    let id = s.session(None, json!({})).await;
    let r = s
        .run(
            None,
            &id,
            "r = await who()\nprint(r['session'])\nkept = [1, 2]",
        )
        .await;
    assert_eq!(r["stdout"], format!("{id}\n"), "{r}");
    s.terminate();
    s.wait_exit(Duration::from_secs(30));
    let s = Server::start(&config, &flags).await;
    let r = s.run(None, &id, "print(kept)").await;
    assert_eq!(r["stdout"], "[1, 2]\n", "{r}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_exact_session_outlives_its_workers_with_every_object() {
    let s = Server::start("", &["--isolation", "workers", "--workers", "2"]).await;
    let pids = wait_workers(&s, 2).await;
    let id = s.session(None, json!({"exact": true})).await;
    let setup = "import sqlite3\ndb = sqlite3.connect('/tmp/t.db')\n\
                 db.execute('create table t (x)')\ndb.execute('insert into t values (1)')\n\
                 db.commit()\ndb.execute('insert into t values (2)')\n\
                 g = (i * i for i in range(1, 100))\nprint(next(g), next(g))";
    let r = s.run(None, &id, setup).await;
    assert_eq!(r["stdout"], "1 4\n", "{r}");
    // Every worker killed while it is idle: the exact last good state is
    // the server's, so the open transaction and the half-consumed
    // generator go on in a new worker.
    kill9(&pids);
    let probe =
        "print(next(g), db.in_transaction, db.execute('select sum(x) from t').fetchone()[0])";
    let r = s.run(None, &id, probe).await;
    assert_eq!(r["stdout"], "9 True 3\n", "{r}");
    // Its fork is exact too, and goes on by itself.
    let fork = s
        .post_ok(&format!("/v1/sessions/{id}/fork"), None, json!({}))
        .await;
    assert_eq!(fork["exact"], true, "{fork}");
    let fid = fork["id"].as_str().unwrap().to_string();
    assert_eq!(s.run(None, &fid, probe).await["stdout"], "16 True 3\n");
    assert_eq!(s.run(None, &id, probe).await["stdout"], "16 True 3\n");
    assert_eq!(s.run(None, &id, "print(next(g))").await["stdout"], "25\n");
    assert_eq!(s.run(None, &fid, "print(next(g))").await["stdout"], "25\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_value_over_the_checkpoint_budget_is_in_the_state_but_not_after_a_lost_worker() {
    let s = Server::start("", &["--isolation", "workers", "--workers", "2"]).await;
    let pids = wait_workers(&s, 2).await;
    // A 400 MiB cap: the recovery checkpoint's budget is 100 MiB.
    let id = s
        .session(None, json!({"max_memory_bytes": 400u64 << 20}))
        .await;
    let r = s
        .run(None, &id, "small = 1\nbig = b'x' * (101 << 20)")
        .await;
    assert!(r["error"].is_null(), "{r}");
    let stderr = r["stderr"].as_str().unwrap();
    assert!(
        stderr.contains("big (bytes: over the 100.0 MiB budget)"),
        "{stderr}"
    );
    // The state asked for is whole: the worker snapshots it, the server
    // does not hand out the partial checkpoint it keeps.
    let saved = state_of(&s, &id).await;
    assert!(saved.len() > 101 << 20, "{}", saved.len());
    // Every worker lost: the session goes on from its checkpoint, as after
    // a fault in process.
    kill9(&pids);
    let r = s.run(None, &id, "print(small, 'big' in dir())").await;
    assert_eq!(r["stdout"], "1 False\n", "{r}");
}
