//! The API end to end against a real server: one-shot execute, sessions
//! (state, list, delete, TTL), limits, SSE, operations endpoints.
mod common;
use common::{sse_events, Server};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread")]
async fn one_shot_execute_reports_everything() {
    let s = Server::start("", &[]).await;
    let code = "import sys\nprint(1+1)\nsys.stderr.write('warn\\n')";
    let r = s
        .post_ok("/v1/execute", None, json!({ "code": code }))
        .await;
    assert_eq!(r["stdout"], "2\n");
    assert_eq!(r["stderr"], "warn\n");
    assert_eq!(r["error"], Value::Null);
    assert_eq!(r["exit_code"], 0);
    assert!(r["duration_ms"].as_f64().unwrap() > 0.0);
    assert!(r["peak_memory_bytes"].as_u64().unwrap() > 1 << 20);
    assert_eq!(r["truncated"], false);

    let r = s
        .post_ok(
            "/v1/execute",
            None,
            json!({"code": "def f():\n    raise KeyError('k')\nf()"}),
        )
        .await;
    assert_eq!(r["error"]["type"], "KeyError");
    assert_eq!(r["error"]["kind"], "python");
    assert_eq!(r["error"]["message"], "'k'");
    assert!(r["error"]["traceback"].as_str().unwrap().contains("in f"));
    assert_eq!(r["exit_code"], 1);

    let r = s
        .post_ok(
            "/v1/execute",
            None,
            json!({"code": "import sys; sys.exit(7)"}),
        )
        .await;
    assert_eq!(r["exit_code"], 7);
    assert_eq!(r["error"]["type"], "SystemExit");

    // One-shot means fresh: nothing survives between requests.
    s.post_ok("/v1/execute", None, json!({"code": "leak = 1"}))
        .await;
    let r = s
        .post_ok("/v1/execute", None, json!({"code": "print(leak)"}))
        .await;
    assert_eq!(r["error"]["type"], "NameError");
}

#[tokio::test(flavor = "multi_thread")]
async fn result_json_matches_the_openapi_schema() {
    let s = Server::start("", &[]).await;
    let doc = s.get_json("/openapi.json", None).await;
    for p in [
        "/v1/execute",
        "/v1/sessions",
        "/v1/sessions/{id}",
        "/v1/sessions/{id}/execute",
        "/v1/sessions/{id}/state",
        "/healthz",
        "/readyz",
        "/metrics",
    ] {
        assert!(
            doc["paths"][p].is_object(),
            "{p} missing from the OpenAPI document"
        );
    }
    let schema = &doc["components"]["schemas"]["ExecutionResult"];
    let props = schema["properties"]
        .as_object()
        .expect("ExecutionResult schema");
    let r = s.post_ok("/v1/execute", None, json!({"code": "1/0"})).await;
    // Served: exactly the required properties (`files` is optional: only
    // for a one-shot execute that asks for output files).
    let mut required: Vec<String> = schema["required"]
        .as_array()
        .expect("required list")
        .iter()
        .map(|k| k.as_str().unwrap().to_string())
        .collect();
    let mut served: Vec<_> = r.as_object().unwrap().keys().cloned().collect();
    required.sort();
    served.sort();
    assert_eq!(required, served);
    let optional: Vec<_> = props.keys().filter(|k| !required.contains(k)).collect();
    assert_eq!(optional, ["files"]);
    let err_props = doc["components"]["schemas"]["ExecutionError"]["properties"]
        .as_object()
        .unwrap();
    let mut documented: Vec<_> = err_props.keys().cloned().collect();
    let mut served: Vec<_> = r["error"].as_object().unwrap().keys().cloned().collect();
    documented.sort();
    served.sort();
    assert_eq!(documented, served);
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_keep_state_and_can_be_listed_moved_and_deleted() {
    let s = Server::start("", &[]).await;
    let a = s.session(None, json!({})).await;
    s.run(None, &a, "x = 41\ndef inc(v):\n    return v + 1")
        .await;
    let r = s.run(None, &a, "print(inc(x))").await;
    assert_eq!(r["stdout"], "42\n");

    let list: Value = s.get_json("/v1/sessions", None).await;
    let ids: Vec<_> = list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, vec![a.clone()]);
    assert_eq!(list["sessions"][0]["executes"], 2);

    // State out of one session and into another.
    let state = s
        .req(Method::GET, &format!("/v1/sessions/{a}/state"), None)
        .send()
        .await
        .unwrap();
    assert_eq!(state.status(), 200);
    assert_eq!(state.headers()["content-type"], "application/octet-stream");
    let bytes = state.bytes().await.unwrap();
    assert!(!bytes.is_empty());
    let b = s.session(None, json!({})).await;
    let put = s
        .req(Method::PUT, &format!("/v1/sessions/{b}/state"), None)
        .header("content-type", "application/octet-stream")
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 204);
    let r = s.run(None, &b, "print(inc(x) + 1)").await;
    assert_eq!(r["stdout"], "43\n");

    let info: Value = s.get_json(&format!("/v1/sessions/{b}"), None).await;
    assert_eq!(info["id"], b.as_str());

    let del = s
        .req(Method::DELETE, &format!("/v1/sessions/{a}"), None)
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), 204);
    let r = s
        .post(
            &format!("/v1/sessions/{a}/execute"),
            None,
            json!({"code": "1"}),
        )
        .await;
    assert_eq!(r.status(), 404);
    let del = s
        .req(Method::DELETE, &format!("/v1/sessions/{a}"), None)
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), 404);
    assert_eq!(s.metric("eryx_live_sessions").await, 1.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_sessions_expire() {
    let s = Server::start("", &[]).await;
    let short = s.session(None, json!({"ttl_s": 1})).await;
    let long = s.session(None, json!({"ttl_s": 60})).await;
    s.run(None, &short, "y = 1").await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let r = s
        .post(
            &format!("/v1/sessions/{short}/execute"),
            None,
            json!({"code": "print(y)"}),
        )
        .await;
    assert_eq!(r.status(), 404);
    s.run(None, &long, "print('alive')").await;
    let list: Value = s.get_json("/v1/sessions", None).await;
    assert_eq!(list["sessions"].as_array().unwrap().len(), 1);
    assert!(s.log().contains("session expired"));
}

#[tokio::test(flavor = "multi_thread")]
async fn timeouts_and_memory_limits_through_the_api() {
    let s = Server::start("", &[]).await;
    let t0 = Instant::now();
    let r = s
        .post_ok(
            "/v1/execute",
            None,
            json!({"code": "while True: pass", "timeout_ms": 300}),
        )
        .await;
    assert_eq!(r["error"]["kind"], "timeout");
    assert_eq!(r["error"]["type"], "TimeoutError");
    assert_eq!(r["exit_code"], 3);
    assert!(t0.elapsed() < Duration::from_secs(5));

    // A session with a memory cap: the execute fails, the session lives on
    // with its state.
    let id = s
        .session(
            None,
            json!({"max_memory_bytes": 96 << 20, "timeout_ms": 5000}),
        )
        .await;
    s.run(None, &id, "keep = 'kept'").await;
    let r = s.run(None, &id, "x = bytearray(400 * 1024 * 1024)").await;
    assert_eq!(r["error"]["kind"], "memory_limit", "{r}");
    assert_eq!(r["error"]["type"], "MemoryError");
    let r = s.run(None, &id, "print(keep)").await;
    assert_eq!(r["stdout"], "kept\n");

    // A session timeout, then the session still works.
    let id = s.session(None, json!({"timeout_ms": 300})).await;
    s.run(None, &id, "n = 5").await;
    let r = s.run(None, &id, "while True: pass").await;
    assert_eq!(r["error"]["kind"], "timeout");
    let r = s.run(None, &id, "print(n)").await;
    assert_eq!(r["stdout"], "5\n");
    let m = s.metrics().await;
    assert!(
        m.contains("eryx_executes_total{outcome=\"timeout\"} 2"),
        "{m}"
    );
    assert!(
        m.contains("eryx_executes_total{outcome=\"memory_limit\"} 1"),
        "{m}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sse_streams_output_in_order_as_it_is_written() {
    let s = Server::start("", &[]).await;
    let code = "import sys, time\nprint('one', flush=True)\nsys.stderr.write('two\\n')\n\
                time.sleep(0.6)\nprint('three')\nraise ValueError('four')";
    let t0 = Instant::now();
    let resp = s
        .req(Method::POST, "/v1/execute", None)
        .header("accept", "text/event-stream")
        .json(&json!({ "code": code }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    // Read chunk by chunk, noting when the first output arrived.
    let mut body = String::new();
    let mut first_at = None;
    let mut resp = resp;
    while let Some(chunk) = resp.chunk().await.unwrap() {
        body.push_str(std::str::from_utf8(&chunk).unwrap());
        if first_at.is_none() && body.contains("one") {
            first_at = Some(t0.elapsed());
        }
    }
    let total = t0.elapsed();
    let events = sse_events(&body);
    let names: Vec<&str> = events.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(names, ["stdout", "stderr", "stdout", "result"], "{body}");
    assert_eq!(events[0].1["text"], "one\n");
    assert_eq!(events[1].1["text"], "two\n");
    assert_eq!(events[2].1["text"], "three\n");
    let result = &events[3].1;
    assert_eq!(result["stdout"], "one\nthree\n");
    assert_eq!(result["stderr"], "two\n");
    assert_eq!(result["error"]["type"], "ValueError");
    // 'one' was on the wire well before the end.
    let first_at = first_at.expect("saw 'one'");
    assert!(
        total - first_at >= Duration::from_millis(400),
        "first output at {first_at:?}, end at {total:?}"
    );

    // Sessions stream too, and a later plain request is not streamed.
    let id = s.session(None, json!({})).await;
    let events = s.sse_exec(None, &id, "for i in range(3): print(i)").await;
    let out: String = events
        .iter()
        .filter(|(e, _)| e == "stdout")
        .map(|(_, d)| d["text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(out, "0\n1\n2\n");
    assert_eq!(events.last().unwrap().0, "result");
    let r = s.run(None, &id, "print('plain')").await;
    assert_eq!(r["stdout"], "plain\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn health_readiness_and_metrics() {
    let s = Server::start("", &[]).await;
    let h = s.client.get(s.url("/healthz")).send().await.unwrap();
    assert_eq!(h.status(), 200);
    let r = s.client.get(s.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    s.post_ok("/v1/execute", None, json!({"code": "print(1)"}))
        .await;
    s.post_ok("/v1/execute", None, json!({"code": "1/0"})).await;
    s.session(None, json!({})).await;
    let m = s.metrics().await;
    for needle in [
        "eryx_executes_total{outcome=\"ok\"} 1",
        "eryx_executes_total{outcome=\"python\"} 1",
        "eryx_execute_duration_seconds_count 2",
        "eryx_queue_depth 0",
        "eryx_running_executes 0",
        "eryx_live_sessions 1",
        "eryx_process_resident_memory_bytes ",
    ] {
        assert!(m.contains(needle), "{needle} not in\n{m}");
    }
    assert!(s.metric("eryx_process_resident_memory_bytes").await > 1e6);
}

#[tokio::test(flavor = "multi_thread")]
async fn json_logs_on_request() {
    let s = Server::start("", &["--log-json"]).await;
    s.session(None, json!({})).await;
    let log = s.log();
    let line = log
        .lines()
        .find(|l| l.contains("session created"))
        .expect("a log line for the new session");
    let v: Value = serde_json::from_str(line).expect("JSON log line");
    assert_eq!(v["level"], "INFO");
}
