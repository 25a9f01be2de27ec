//! Sessions shared between real `eryx-server` replicas through a real
//! `redis-server` (both on 127.0.0.1, random ports): moving between
//! replicas, concurrent executes, Redis going away and coming back,
//! corrupt store entries, and a replica killed mid-execute.
mod common;
use common::{assert_unreadable, failure, stdout, Redis, Server};
use redis::AsyncCommands;
use serde_json::json;
use std::time::{Duration, Instant};

/// A replica on `redis` with extra `flags`.
async fn replica(redis: &Redis, flags: &[&str]) -> Server {
    let url = redis.url();
    let mut all = vec!["--session-store", url.as_str()];
    all.extend_from_slice(flags);
    Server::start("", &all).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_created_on_one_replica_continues_on_another() {
    let redis = Redis::start();
    let a = replica(&redis, &[]).await;
    let b = replica(&redis, &["--live-sessions", "1"]).await;
    let id = a.session(None, json!({"ttl_s": 120})).await;
    a.run(
        None,
        &id,
        "n = 1\nopen('/tmp/notes.txt', 'w').write('kept')",
    )
    .await;
    // B has never seen it: it restores it from the store.
    let r = b
        .exec(None, &id, "n += 1\nprint(n, open('/tmp/notes.txt').read())")
        .await;
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("eryx-restore-ms"));
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(stdout(&v), "2 kept\n", "{v}");
    // A's live copy is stale now: it reloads before executing.
    assert_eq!(stdout(&a.run(None, &id, "n += 1; print(n)").await), "3\n");
    // Both list it, with the executes counted in the store.
    for s in [&a, &b] {
        let list = s.get_json("/v1/sessions", None).await;
        assert_eq!(list["sessions"][0]["id"], id.as_str());
        assert_eq!(list["sessions"][0]["executes"], 3);
        assert_eq!(list["sessions"][0]["ttl_s"], 120);
    }
    // B keeps one live sandbox: two sessions alternating both survive.
    let other = b.session(None, json!({})).await;
    b.run(None, &other, "m = 10").await;
    for i in 0..3 {
        assert_eq!(
            stdout(&b.run(None, &id, "n += 1; print(n)").await),
            format!("{}\n", 4 + i)
        );
        assert_eq!(
            stdout(&b.run(None, &other, "m += 1; print(m)").await),
            format!("{}\n", 11 + i)
        );
    }
    // Deleted on B: gone on A too.
    let del = b
        .req(reqwest::Method::DELETE, &format!("/v1/sessions/{id}"), None)
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), 204);
    assert_eq!(a.exec(None, &id, "print(n)").await.status(), 404);
    let list = a.get_json("/v1/sessions", None).await;
    assert_eq!(list["sessions"].as_array().unwrap().len(), 1);
    // Ids that cannot exist are simply not found.
    assert_eq!(a.exec(None, "../../etc", "1").await.status(), 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_executes_from_two_replicas_are_never_both_applied() {
    let redis = Redis::start();
    let a = replica(&redis, &["--busy-wait-ms", "300"]).await;
    let b = replica(&redis, &["--busy-wait-ms", "300"]).await;
    let id = a.session(None, json!({})).await;
    a.run(None, &id, "n = 0").await;
    let code = "import time\nn += 1\ntime.sleep(0.05)\nprint(n)";
    let mut tasks = Vec::new();
    for i in 0..16 {
        let (client, url) = {
            let s = if i % 2 == 0 { &a } else { &b };
            (
                s.client.clone(),
                s.url(&format!("/v1/sessions/{id}/execute")),
            )
        };
        tasks.push(tokio::spawn(async move {
            let r = client
                .post(url)
                .json(&json!({ "code": code }))
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.json::<serde_json::Value>().await.unwrap())
        }));
    }
    let mut seen = Vec::new();
    let mut busy = 0;
    for t in tasks {
        let (status, v) = t.await.unwrap();
        match status {
            200 => seen.push(stdout(&v).trim().parse::<u64>().unwrap()),
            409 => {
                assert!(
                    ["session_busy", "lost_update"].contains(&v["error"]["code"].as_str().unwrap()),
                    "{v}"
                );
                busy += 1;
            }
            other => panic!("unexpected {other}: {v}"),
        }
    }
    assert!(
        busy > 0,
        "16 concurrent 50 ms executes with a 300 ms wait: some must be refused"
    );
    // Work happened: several executes were accepted (an all-409 run
    // would show nothing about lost updates).
    assert!(
        seen.len() >= 2,
        "only {} executes were accepted",
        seen.len()
    );
    seen.sort();
    let expect: Vec<u64> = (1..=seen.len() as u64).collect();
    assert_eq!(seen, expect, "each accepted execute saw the one before it");
    let r = b.run(None, &id, "print(n)").await;
    assert_eq!(stdout(&r), format!("{}\n", seen.len()));
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_down_is_a_fast_503_and_service_recovers() {
    let mut redis = Redis::start();
    let a = replica(&redis, &[]).await;
    let id = a.session(None, json!({})).await;
    a.run(None, &id, "x = 1").await;
    redis.stop();
    for _ in 0..3 {
        let t0 = Instant::now();
        let (status, code, message) = failure(a.exec(None, &id, "x += 1").await).await;
        assert!(
            t0.elapsed() < Duration::from_millis(1500),
            "{:?}",
            t0.elapsed()
        );
        assert_eq!(
            (status, code.as_str()),
            (503, "store_unavailable"),
            "{message}"
        );
        assert!(message.contains("session store is unavailable"));
    }
    let t0 = Instant::now();
    let r = a.post("/v1/sessions", None, json!({})).await;
    assert_eq!(r.status(), 503);
    assert!(t0.elapsed() < Duration::from_millis(1500));
    let ready = a.client.get(a.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    // One-shot executes do not need the store.
    a.post_ok("/v1/execute", None, json!({"code": "print(1)"}))
        .await;
    // Redis is back (empty: it kept nothing): sessions work again.
    redis.restart();
    let deadline = Instant::now() + Duration::from_secs(10);
    while a
        .client
        .get(a.url("/readyz"))
        .send()
        .await
        .unwrap()
        .status()
        != 200
    {
        assert!(Instant::now() < deadline, "never ready again");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(a.exec(None, &id, "print(x)").await.status(), 404);
    let id = a.session(None, json!({})).await;
    assert_eq!(stdout(&a.run(None, &id, "print('back')").await), "back\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_corrupt_store_entry_fails_that_session_only() {
    let redis = Redis::start();
    let a = replica(&redis, &[]).await;
    let b = replica(&redis, &[]).await;
    let (bad, odd, good) = (
        a.session(None, json!({})).await,
        a.session(None, json!({})).await,
        a.session(None, json!({})).await,
    );
    for id in [&bad, &odd, &good] {
        a.run(None, id, "v = 'fine'").await;
    }
    let mut conn = redis.conn().await;
    let key = |id: &str| format!("eryx:s:default:{id}");
    // Foreign snapshot bytes, and a version bump so A's copy is stale.
    let _: () = conn
        .hset(key(&bad), "snap", b"\x80\x04garbage".to_vec())
        .await
        .unwrap();
    let _: () = conn.hincr(key(&bad), "version", 1).await.unwrap();
    // Settings that are not JSON (and newer than A's copy).
    let _: () = conn.hset(key(&odd), "settings", "{not json").await.unwrap();
    let _: () = conn.hincr(key(&odd), "version", 1).await.unwrap();
    for s in [&a, &b] {
        for id in [&bad, &odd] {
            assert_unreadable(s.exec(None, id, "print(v)").await, &["redis", "eryx:"]).await;
        }
        assert_eq!(stdout(&s.run(None, &good, "print(v)").await), "fine\n");
    }
    // Listing skips what it cannot read; the rest is there.
    let ids = b.ids(None).await;
    assert!(ids.contains(&good) && !ids.contains(&odd), "{ids:?}");
    // A corrupt version is unreadable too, and deleting cleans it up.
    let _: () = conn.hset(key(&good), "version", "seven").await.unwrap();
    let (status, code, _) = failure(a.exec(None, &good, "1").await).await;
    assert_eq!((status, code.as_str()), (500, "state_unreadable"));
    let del = a
        .req(
            reqwest::Method::DELETE,
            &format!("/v1/sessions/{bad}"),
            None,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), 204);
    assert!(!a.log().contains("panicked"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replica_killed_mid_execute_loses_only_that_execute() {
    let redis = Redis::start();
    let mut a = replica(&redis, &["--lease-ms", "800"]).await;
    let b = replica(&redis, &["--lease-ms", "800", "--busy-wait-ms", "100"]).await;
    let id = a.session(None, json!({})).await;
    a.run(None, &id, "n = 1").await;
    let slow = a.spawn_exec(&id, "import time\nn += 100\ntime.sleep(5)");
    tokio::time::sleep(Duration::from_millis(400)).await;
    a.kill();
    assert!(
        slow.await.unwrap().is_err(),
        "the in-flight request died with A"
    );
    // B: busy until the dead replica's lease expires, then the last good state.
    let t0 = Instant::now();
    let v = loop {
        let r = b.exec(None, &id, "n += 1; print(n)").await;
        match r.status().as_u16() {
            200 => break r.json::<serde_json::Value>().await.unwrap(),
            409 => {}
            other => panic!("unexpected {other}: {}", r.text().await.unwrap()),
        }
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "the lease never expired"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(stdout(&v), "2\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_abandoned_tenants_set_expires_and_listing_prunes_it() {
    let redis = Redis::start();
    let a = replica(&redis, &[]).await;
    let mut conn = redis.conn().await;
    let set = "eryx:t:default";
    let short = a.session(None, json!({"ttl_s": 1})).await;
    a.run(None, &short, "x = 1").await;
    let ttl: i64 = redis::cmd("PTTL")
        .arg(set)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(
        ttl > 0 && ttl <= 1000,
        "the set expires with its last member: {ttl}"
    );
    // A longer-lived member moves the set's expiry out; listing after the
    // short one expired prunes it.
    let long = a.session(None, json!({"ttl_s": 60})).await;
    let ttl: i64 = redis::cmd("PTTL")
        .arg(set)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(ttl > 50_000, "{ttl}");
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let list = a.get_json("/v1/sessions", None).await;
    assert_eq!(list["sessions"].as_array().unwrap().len(), 1, "{list}");
    let members: Vec<String> = conn.zrange(set, 0, -1).await.unwrap();
    assert_eq!(members, vec![long.clone()]);
    // Nothing left once every member is gone.
    let del = a
        .req(
            reqwest::Method::DELETE,
            &format!("/v1/sessions/{long}"),
            None,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), 204);
    let exists: bool = conn.exists(set).await.unwrap();
    assert!(!exists);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_uploaded_on_one_replica_is_read_on_another() {
    let redis = Redis::start();
    let a = replica(&redis, &[]).await;
    let b = replica(&redis, &["--live-sessions", "1"]).await;
    let id = a.session(None, json!({})).await;
    let put = a
        .req(
            reqwest::Method::PUT,
            &format!("/v1/sessions/{id}/files/tmp/in.csv"),
            None,
        )
        .body(b"x\n1\n2\n".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 204);
    // B restores the session from the store: the upload is in it.
    let r = b
        .run(None, &id, "t = open('/tmp/in.csv').read()\nopen('/tmp/out.txt', 'w').write(t.upper() + 'b')\nprint(len(t))")
        .await;
    assert_eq!(stdout(&r), "6\n", "{r}");
    // A's copy is stale: it reloads and serves what B's code wrote.
    let got = a
        .req(
            reqwest::Method::GET,
            &format!("/v1/sessions/{id}/files/tmp/out.txt"),
            None,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().await.unwrap().as_ref(), b"X\n1\n2\nb");
    // An upload does not count as an execute.
    let list = b.get_json("/v1/sessions", None).await;
    assert_eq!(list["sessions"][0]["executes"], 1);
}
