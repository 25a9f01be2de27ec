//! Scheduling against a real server: 429 under saturation, 409 on a busy
//! session, client disconnect cancels the execute, graceful shutdown.
mod common;
use common::Server;
use reqwest::Method;
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread")]
async fn saturation_gives_429_with_retry_after() {
    let config =
        "[[tenants]]\nname = \"small\"\napi_keys = [\"small-key-1234\"]\nmax_concurrent = 1\n\
                  [[tenants]]\nname = \"big\"\napi_keys = [\"big-key-12345\"]\n";
    let s = Server::start(config, &["--workers", "1", "--queue", "1"]).await;
    let big = Some("big-key-12345");
    let slow = json!({"code": "import time\ntime.sleep(1)\nprint('done')"});
    // Worker 1 busy, 1 waiting, the rest refused.
    let first = {
        let (c, u) = (s.client.clone(), s.url("/v1/execute"));
        let body = slow.clone();
        tokio::spawn(async move {
            c.post(u)
                .bearer_auth("big-key-12345")
                .json(&body)
                .send()
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut handles = Vec::new();
    for _ in 0..5 {
        let (c, u, body) = (s.client.clone(), s.url("/v1/execute"), slow.clone());
        handles.push(tokio::spawn(async move {
            c.post(u)
                .bearer_auth("big-key-12345")
                .json(&body)
                .send()
                .await
        }));
    }
    let mut ok = 0;
    let mut refused = 0;
    for h in handles {
        let r = h.await.unwrap().unwrap();
        match r.status().as_u16() {
            200 => ok += 1,
            429 => {
                assert_eq!(r.headers()["retry-after"], "1");
                let v: serde_json::Value = r.json().await.unwrap();
                assert_eq!(v["error"]["code"], "saturated");
                refused += 1;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    let r = first.await.unwrap().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!((ok, refused), (1, 4));
    assert_eq!(
        s.metric("eryx_rejected_total{reason=\"queue_full\"}").await,
        4.0
    );
    // Free again.
    s.post_ok("/v1/execute", big, json!({"code": "print(1)"}))
        .await;

    // A tenant's own cap on concurrent executes.
    let small = Some("small-key-1234");
    let hold = {
        let (c, u, body) = (s.client.clone(), s.url("/v1/execute"), slow.clone());
        tokio::spawn(async move {
            c.post(u)
                .bearer_auth("small-key-1234")
                .json(&body)
                .send()
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = s
        .post("/v1/execute", small, json!({"code": "print(2)"}))
        .await;
    assert_eq!(r.status(), 429);
    assert!(r.text().await.unwrap().contains("concurrent"));
    assert_eq!(hold.await.unwrap().unwrap().status(), 200);
    s.post_ok("/v1/execute", small, json!({"code": "print(3)"}))
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_busy_session_answers_409() {
    let s = Server::start("", &[]).await;
    let id = s.session(None, json!({})).await;
    let long = s.spawn_exec(&id, "import time\ntime.sleep(1)\nv = 'first'");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = s
        .post(
            &format!("/v1/sessions/{id}/execute"),
            None,
            json!({"code": "v = 'second'"}),
        )
        .await;
    assert_eq!(r.status(), 409);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "session_busy");
    let r = s
        .req(Method::GET, &format!("/v1/sessions/{id}/state"), None)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    assert_eq!(long.await.unwrap().unwrap().status(), 200);
    let r = s.run(None, &id, "print(v)").await;
    assert_eq!(r["stdout"], "first\n");
}

/// Poll the session until an execute is accepted (not 409); how long it took.
async fn until_free(s: &Server, id: &str, code: &str) -> (Duration, serde_json::Value) {
    let t0 = Instant::now();
    loop {
        let r = s
            .post(
                &format!("/v1/sessions/{id}/execute"),
                None,
                json!({ "code": code }),
            )
            .await;
        if r.status() == 200 {
            return (t0.elapsed(), r.json().await.unwrap());
        }
        assert_eq!(r.status(), 409);
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "session never freed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn client_disconnect_cancels_the_execute() {
    let s = Server::start("", &[]).await;
    let id = s.session(None, json!({"timeout_ms": 120000})).await;
    s.run(None, &id, "kept = 'yes'").await;
    // A plain request whose client gives up.
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let r = impatient
        .post(s.url(&format!("/v1/sessions/{id}/execute")))
        .json(&json!({"code": "while True: pass"}))
        .send()
        .await;
    assert!(
        r.is_err(),
        "the request should have timed out on the client"
    );
    let (waited, r) = until_free(&s, &id, "print(kept)").await;
    assert!(waited < Duration::from_secs(5), "{waited:?}");
    assert_eq!(r["stdout"], "yes\n");
    assert_eq!(
        s.metric("eryx_executes_total{outcome=\"cancelled\"}").await,
        1.0
    );

    // A streamed request whose client goes away after the first event.
    let mut resp = s
        .req(Method::POST, &format!("/v1/sessions/{id}/execute"), None)
        .header("accept", "text/event-stream")
        .json(&json!({"code": "print('started', flush=True)\nwhile True: pass"}))
        .send()
        .await
        .unwrap();
    let mut seen = String::new();
    while !seen.contains("started") {
        let chunk = resp.chunk().await.unwrap().expect("an event");
        seen.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    drop(resp);
    let (waited, r) = until_free(&s, &id, "print(kept)").await;
    assert!(waited < Duration::from_secs(8), "{waited:?}");
    assert_eq!(r["stdout"], "yes\n");
    assert_eq!(
        s.metric("eryx_executes_total{outcome=\"cancelled\"}").await,
        2.0
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_finishes_in_flight_work_then_exits() {
    let mut s = Server::start("", &[]).await;
    let id = s.session(None, json!({})).await;
    let inflight = s.spawn_exec(&id, "import time\ntime.sleep(1.5)\nprint('finished')");
    tokio::time::sleep(Duration::from_millis(400)).await;
    s.terminate();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // No new connections.
    let fresh = reqwest::Client::new();
    assert!(fresh.get(s.url("/healthz")).send().await.is_err());
    // The in-flight request completes.
    let r = inflight.await.unwrap().expect("in-flight request answered");
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["stdout"], "finished\n");
    let status = s.wait_exit(Duration::from_secs(15));
    assert!(status.success(), "{status:?}");
    assert!(s.log().contains("shutting down"));
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_deadline_bounds_the_wait() {
    let mut s = Server::start("", &["--shutdown-grace-ms", "500"]).await;
    let stuck = {
        let (c, u) = (s.client.clone(), s.url("/v1/execute"));
        tokio::spawn(async move {
            c.post(u)
                .json(&json!({"code": "import time\ntime.sleep(60)", "timeout_ms": 120000}))
                .send()
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let t0 = Instant::now();
    s.terminate();
    let status = s.wait_exit(Duration::from_secs(15));
    assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
    assert!(status.success(), "{status:?}");
    assert!(
        stuck.await.unwrap().is_err(),
        "the stuck request was cut off"
    );
    assert!(s.log().contains("deadline passed"));
}
