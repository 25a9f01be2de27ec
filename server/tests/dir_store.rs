//! The directory store (`--session-store dir:PATH`) with real
//! `eryx-server` processes and real files: sessions survive a restart
//! (even SIGKILL), LRU eviction reloads from the files, a corrupt file
//! fails only its session, expiry deletes files, ids and tenant names
//! cannot reach outside the directory, and bad store flags stop the
//! server at start with exit 2.
mod common;
use common::{assert_unreadable, scratch, stdout, Server};
use reqwest::Method;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A server on the store directory `dir`, with a config and extra flags.
async fn on_dir(dir: &Path, config: &str, flags: &[&str]) -> Server {
    let spec = format!("dir:{}", dir.display());
    let mut all = vec!["--session-store", spec.as_str()];
    all.extend_from_slice(flags);
    Server::start(config, &all).await
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// The file of session `id` under `dir`, if there is one.
fn session_file(dir: &Path, id: &str) -> Option<PathBuf> {
    let name = format!("{id}.session");
    files(dir)
        .into_iter()
        .find(|p| p.file_name().is_some_and(|n| n == name.as_str()))
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_survive_a_restart_even_after_sigkill() {
    let store = scratch("store");
    let mut a = on_dir(&store, "", &[]).await;
    let id = a.session(None, json!({"ttl_s": 300})).await;
    a.run(
        None,
        &id,
        "n = 41\nopen('/tmp/notes.txt', 'w').write('kept')",
    )
    .await;
    assert!(session_file(&store, &id).is_some());
    // Killed without warning: the last successful execute was on disk
    // before its answer went out.
    a.kill();
    let b = on_dir(&store, "", &[]).await;
    let r = b
        .exec(None, &id, "n += 1\nprint(n, open('/tmp/notes.txt').read())")
        .await;
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("eryx-restore-ms"));
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(stdout(&v), "42 kept\n", "{v}");
    let list = b.get_json("/v1/sessions", None).await;
    assert_eq!(list["sessions"][0]["id"], id.as_str());
    assert_eq!(list["sessions"][0]["executes"], 2);
    assert_eq!(list["sessions"][0]["ttl_s"], 300);
    // A state replaced through the API is kept too.
    let st = b
        .req(Method::GET, &format!("/v1/sessions/{id}/state"), None)
        .send()
        .await
        .unwrap();
    let bytes = st.bytes().await.unwrap();
    let other = b.session(None, json!({})).await;
    let put = b
        .req(Method::PUT, &format!("/v1/sessions/{other}/state"), None)
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 204);
    drop(b);
    let c = on_dir(&store, "", &[]).await;
    assert_eq!(stdout(&c.run(None, &other, "print(n)").await), "42\n");
    // Deleting removes the file.
    let del = c
        .req(Method::DELETE, &format!("/v1/sessions/{id}"), None)
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), 204);
    assert!(session_file(&store, &id).is_none());
    assert_eq!(c.exec(None, &id, "1").await.status(), 404);
    let leftovers: Vec<_> = files(&store)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    drop(c);
    let _ = std::fs::remove_dir_all(&store);
}

#[tokio::test(flavor = "multi_thread")]
async fn eviction_with_one_live_session_keeps_both_states() {
    let store = scratch("store");
    let s = on_dir(&store, "", &["--live-sessions", "1"]).await;
    let (a, b) = (
        s.session(None, json!({})).await,
        s.session(None, json!({})).await,
    );
    s.run(None, &a, "n = 0").await;
    s.run(None, &b, "m = 100").await;
    for i in 1..=3 {
        let r = s.exec(None, &a, "n += 1; print(n)").await;
        // B was the live one: A comes back from its file.
        assert!(r.headers().contains_key("eryx-restore-ms"));
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(stdout(&v), format!("{i}\n"));
        assert_eq!(
            stdout(&s.run(None, &b, "m += 1; print(m)").await),
            format!("{}\n", 100 + i)
        );
    }
    assert_eq!(s.metric("eryx_live_sessions ").await, 1.0);
    let list = s.get_json("/v1/sessions", None).await;
    assert_eq!(list["sessions"].as_array().unwrap().len(), 2, "{list}");
    drop(s);
    let _ = std::fs::remove_dir_all(&store);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_corrupt_session_file_fails_that_session_only() {
    let store = scratch("store");
    let mut s = on_dir(&store, "", &[]).await;
    let (garbage, flipped, good) = (
        s.session(None, json!({})).await,
        s.session(None, json!({})).await,
        s.session(None, json!({})).await,
    );
    for id in [&garbage, &flipped, &good] {
        s.run(None, id, "v = 'fine'").await;
    }
    s.kill();
    std::fs::write(session_file(&store, &garbage).unwrap(), b"\x80\x04garbage").unwrap();
    // One bit of the snapshot (the end of the file): found only on load.
    let path = session_file(&store, &flipped).unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    *bytes.last_mut().unwrap() ^= 0x01;
    std::fs::write(&path, bytes).unwrap();
    let s = on_dir(&store, "", &[]).await;
    for id in [&garbage, &flipped] {
        for _ in 0..2 {
            let dir = store.to_string_lossy();
            assert_unreadable(s.exec(None, id, "print(v)").await, &[".session", &dir]).await;
        }
    }
    assert_eq!(stdout(&s.run(None, &good, "print(v)").await), "fine\n");
    let ids = s.ids(None).await;
    assert!(ids.contains(&good) && !ids.contains(&garbage), "{ids:?}");
    // Deleting an unreadable session cleans it up.
    for id in [&garbage, &flipped] {
        let del = s
            .req(Method::DELETE, &format!("/v1/sessions/{id}"), None)
            .send()
            .await
            .unwrap();
        assert_eq!(del.status(), 204);
        assert!(session_file(&store, id).is_none());
    }
    assert!(!s.log().contains("panicked"));
    drop(s);
    let _ = std::fs::remove_dir_all(&store);
}

#[tokio::test(flavor = "multi_thread")]
async fn ids_and_tenant_names_cannot_reach_outside_the_directory() {
    let root = scratch("outside");
    let store = root.join("store");
    let config = "[[tenants]]\nname = \"../../evil/x\"\napi_keys = [\"evil-key-1234\"]\n";
    let s = on_dir(&store, config, &[]).await;
    let key = Some("evil-key-1234");
    let id = s.session(key, json!({})).await;
    s.run(key, &id, "z = 1").await;
    // The tenant's file is inside the store directory, nothing outside.
    let f = session_file(&store, &id).expect("session file");
    assert!(f.starts_with(&store), "{}", f.display());
    let outside: Vec<_> = files(&root)
        .into_iter()
        .filter(|p| !p.starts_with(&store))
        .collect();
    assert!(outside.is_empty(), "{outside:?}");
    let name = f.parent().unwrap().file_name().unwrap().to_string_lossy();
    assert!(!name.contains('.') && !name.contains('/'), "{name}");
    let upper = id.to_uppercase();
    let long = format!("{id}0");
    let traversal = format!("..%2F..%2F{}", &id[6..]);
    for bad in [
        "..%2F..%2Fetc%2Fpasswd",
        // (A bare `%2e%2e` segment is resolved by the client as `..`.)
        "%2E%2E%2F%2E%2E",
        "....",
        traversal.as_str(),
        upper.as_str(),
        long.as_str(),
        "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
    ] {
        let r = s.exec(key, bad, "print(1)").await;
        assert_eq!(r.status(), 404, "execute {bad}");
        for m in [Method::GET, Method::DELETE] {
            let r = s
                .req(m.clone(), &format!("/v1/sessions/{bad}"), key)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 404, "{m} {bad}");
        }
        let r = s
            .req(Method::PUT, &format!("/v1/sessions/{bad}/state"), key)
            .body("x")
            .send()
            .await
            .unwrap();
        assert!([400, 404].contains(&r.status().as_u16()), "PUT {bad}");
    }
    assert_eq!(stdout(&s.run(key, &id, "print(z)").await), "1\n");
    drop(s);
    let _ = std::fs::remove_dir_all(&root);
}

#[tokio::test(flavor = "multi_thread")]
async fn expiry_deletes_the_file() {
    let store = scratch("store");
    let s = on_dir(&store, "", &[]).await;
    let id = s.session(None, json!({"ttl_s": 1})).await;
    s.run(None, &id, "x = 1").await;
    assert!(session_file(&store, &id).is_some());
    let deadline = Instant::now() + Duration::from_secs(10);
    while session_file(&store, &id).is_some() {
        assert!(Instant::now() < deadline, "the expired file stayed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(s.exec(None, &id, "print(x)").await.status(), 404);
    drop(s);
    let _ = std::fs::remove_dir_all(&store);
}

/// Run the server with `flags` expecting it to refuse to start: (exit
/// code, stderr).
fn refused(flags: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_eryx-server"))
        .args(["--listen", "127.0.0.1:0"])
        .args(flags)
        .stdin(Stdio::null())
        .output()
        .expect("run eryx-server");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_store_flags_stop_the_server_at_start() {
    for spec in ["ftp://host/x", "file:///tmp/x", "dir:", "redis"] {
        let (code, err) = refused(&["--session-store", spec]);
        assert_eq!(code, Some(2), "{spec}: {err}");
        assert!(err.contains("--session-store"), "{spec}: {err}");
    }
    let (_, err) = refused(&["--session-store", "ftp://user:secret@host"]);
    assert!(!err.contains("secret"), "{err}");
    // One server per directory.
    let store = scratch("store");
    let s = on_dir(&store, "", &[]).await;
    let spec = format!("dir:{}", store.display());
    let (code, err) = refused(&["--session-store", &spec]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("another eryx-server uses this directory"),
        "{err}"
    );
    // A path that cannot be a directory.
    let file = store.join("plain-file");
    std::fs::write(&file, "x").unwrap();
    let (code, err) = refused(&["--session-store", &format!("dir:{}", file.display())]);
    assert_eq!(code, Some(2), "{err}");
    drop(s);
    let _ = std::fs::remove_dir_all(&store);
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_executes_on_one_session_are_applied_in_order() {
    let store = scratch("store");
    let s = on_dir(&store, "", &["--busy-wait-ms", "200"]).await;
    let id = s.session(None, json!({})).await;
    s.run(None, &id, "n = 0").await;
    let code = "import time\nn += 1\ntime.sleep(0.05)\nprint(n)";
    let tasks: Vec<_> = (0..10).map(|_| s.spawn_exec(&id, code)).collect();
    let mut seen = Vec::new();
    for t in tasks {
        let r = t.await.unwrap().unwrap();
        let status = r.status().as_u16();
        let v: serde_json::Value = r.json().await.unwrap();
        match status {
            200 => seen.push(stdout(&v).trim().parse::<u64>().unwrap()),
            409 => assert_eq!(v["error"]["code"], "session_busy", "{v}"),
            other => panic!("unexpected {other}: {v}"),
        }
    }
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
    drop(s);
    // What the last accepted execute left is what a restart finds.
    let s = on_dir(&store, "", &[]).await;
    let v = s.run(None, &id, "print(n)").await;
    assert_eq!(stdout(&v), format!("{}\n", seen.len()));
    drop(s);
    let _ = std::fs::remove_dir_all(&store);
}
