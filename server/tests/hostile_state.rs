//! A hostile but well-formed session state (a valid snapshot whose pickle
//! loops or allocates while it loads) PUT to a real server: the restore is
//! bounded by the session's own limits, answered with a 400, and the
//! session keeps its state.
mod common;
use common::{stdout, Server};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// A version-1 snapshot whose pickle calls `exec(code)` while it is loaded.
fn hostile(code: &str) -> Vec<u8> {
    let mut b = b"ERYXSNAP\x01cbuiltins\nexec\n(V".to_vec();
    b.extend_from_slice(code.replace('\n', "\\u000a").as_bytes());
    b.extend_from_slice(b"\ntR.");
    b
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hostile_state_is_bounded_by_the_sessions_limits() {
    let s = Server::start("", &[]).await;
    let id = s
        .session(
            None,
            json!({"timeout_ms": 1500, "max_memory_bytes": 256u64 << 20}),
        )
        .await;
    s.run(None, &id, "keep = 'alive'").await;
    for (code, why) in [
        ("while True: pass", "time limit"),
        ("l = []\nwhile True: l.append(bytearray(1 << 20))", "memory"),
    ] {
        let t = Instant::now();
        let r = s
            .req(Method::PUT, &format!("/v1/sessions/{id}/state"), None)
            .body(hostile(code))
            .send()
            .await
            .unwrap();
        let took = t.elapsed();
        assert_eq!(r.status(), 400, "{code}");
        let v: Value = r.json().await.unwrap();
        let msg = v["error"]["message"].as_str().unwrap_or_default();
        assert!(
            msg.contains("not a valid session state") && msg.to_lowercase().contains(why),
            "{code}: {v}"
        );
        assert!(took < Duration::from_secs(8), "{code}: {took:?}");
        assert_eq!(stdout(&s.run(None, &id, "print(keep)").await), "alive\n");
    }
}
