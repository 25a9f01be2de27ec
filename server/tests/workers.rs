//! Worker processes (`--isolation workers`) against the real server: the
//! syscall filter kills a worker that opens a file by path, execs or makes
//! a socket (test hooks) and the server answers with an error and keeps
//! serving; one-shots in workers behave as in-process ones (output,
//! errors, files, rich outputs, limits, callbacks); an uninterruptible
//! worker is killed at the deadline and the call reports a timeout; a
//! worker killed from outside is an error for its call only.
mod common;
use common::{failure, kill9, wait_workers, Server, UNINTERRUPTIBLE_WORKER};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// `Seccomp:` of `/proc/PID/status` (2: a filter is in force).
fn seccomp_mode(pid: u32) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Seccomp:"))
        .map(|v| v.trim().to_string())
        .unwrap_or_default()
}

async fn one_shot(s: &Server, body: Value) -> Value {
    s.post_ok("/v1/execute", None, body).await
}

async fn with_hook(s: &Server, hook: &str) -> reqwest::Response {
    s.req(Method::POST, "/v1/execute", None)
        .header("x-eryx-test-hook", hook)
        .json(&json!({"code": "print('not reached')"}))
        .send()
        .await
        .expect("request")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_filter_kills_a_worker_that_opens_execs_or_makes_a_socket() {
    let s = Server::start(
        "",
        &[
            "--isolation",
            "workers",
            "--workers",
            "1",
            "--worker-test-hooks",
        ],
    )
    .await;
    let first = wait_workers(&s, 1).await;
    assert_eq!(
        seccomp_mode(first[0]),
        "2",
        "the worker runs under a filter"
    );
    for hook in ["open", "execve", "socket"] {
        let (status, code, message) = failure(with_hook(&s, hook).await).await;
        assert_eq!(
            (status, code.as_str()),
            (500, "worker_lost"),
            "{hook}: {message}"
        );
        assert!(
            message.contains("killed by its syscall filter"),
            "{hook}: {message}"
        );
        // The server keeps serving, on a new worker.
        let r = one_shot(&s, json!({"code": "print(6 * 7)"})).await;
        assert_eq!(r["stdout"], "42\n", "{hook}: {r}");
    }
    let lost = s.metric("eryx_workers_lost_total{reason=\"filter\"}").await;
    assert_eq!(lost, 3.0);
    let now = wait_workers(&s, 1).await;
    assert_ne!(now, first, "the worker was replaced");
    // Without --worker-test-hooks the header is ignored.
    let plain = Server::start("", &["--isolation", "workers", "--workers", "1"]).await;
    let r = with_hook(&plain, "open").await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["stdout"], "not reached\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn one_shots_in_workers_behave_as_in_process() {
    let s = Server::start("", &["--isolation", "workers", "--workers", "2"]).await;
    for w in wait_workers(&s, 2).await {
        assert_eq!(seccomp_mode(w), "2");
    }
    let r = one_shot(
        &s,
        json!({"code": "import json, sqlite3, zoneinfo\nprint(json.dumps([1]))\n40 + 2"}),
    )
    .await;
    assert_eq!(r["stdout"], "[1]\n", "{r}");
    assert_eq!(r["outputs"][0]["data"]["text/plain"], "42");
    let r = one_shot(&s, json!({"code": "1/0"})).await;
    assert_eq!(r["error"]["type"], "ZeroDivisionError", "{r}");
    // The guest's view of the host is the same: no /etc/passwd.
    let r = one_shot(&s, json!({"code": "open('/etc/passwd')"})).await;
    assert_eq!(r["error"]["type"], "FileNotFoundError", "{r}");
    // Files in and out.
    let body = json!({
        "code": "data = open('in.txt').read()\nopen('out.txt', 'w').write(data.upper())",
        "files": [{"path": "in.txt", "content_base64": "aGVsbG8="}],
        "output_files": ["out.txt", "*.nothing"],
    });
    let r = one_shot(&s, body).await;
    assert_eq!(r["files"][0]["content_base64"], "SEVMTE8=", "{r}");
    let r = s
        .post(
            "/v1/execute",
            None,
            json!({"code": "1", "files": [{"path": "x", "content_base64": "!!"}]}),
        )
        .await;
    assert_eq!(r.status(), 400);
    // Limits.
    let r = one_shot(&s, json!({"code": "while True: pass", "timeout_ms": 300})).await;
    assert_eq!(r["error"]["kind"], "timeout", "{r}");
    let r = one_shot(
        &s,
        json!({"code": "x = bytearray(300 << 20)", "max_memory_bytes": 128 << 20}),
    )
    .await;
    assert_eq!(r["error"]["kind"], "memory_limit", "{r}");
    // Streamed output and display items, in order.
    let body = s
        .req(Method::POST, "/v1/execute", None)
        .header("accept", "text/event-stream")
        .json(&json!({"code": "from eryx import display\nprint('a')\ndisplay({'text/html': '<b>x</b>'}, raw=True)\nprint('b')"}))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let events: Vec<String> = common::sse_events(&body)
        .into_iter()
        .map(|(e, _)| e)
        .collect();
    assert_eq!(events, ["stdout", "display", "stdout", "result"], "{body}");
    let m = s.metrics().await;
    assert!(
        !m.contains("eryx_workers_lost_total{"),
        "no worker was lost:\n{m}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn callbacks_of_a_worker_are_made_by_the_server() {
    use axum::routing::post;
    use axum::{Json, Router};
    let app = Router::new().route(
        "/add",
        post(|Json(b): Json<Value>| async move {
            let a = &b["arguments"];
            Json(json!({"sum": a["a"].as_i64().unwrap_or(0) + a["b"].as_i64().unwrap_or(0), "tenant": b["tenant"]}))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let config = format!("[[callbacks]]\nname = \"add\"\nurl = \"http://{addr}/add\"\n");
    let s = Server::start(&config, &["--isolation", "workers", "--workers", "1"]).await;
    let code = "import asyncio\nr = await asyncio.gather(add(a=2, b=3), add(a=1, b=1))\nprint([x['sum'] for x in r], r[0]['tenant'])";
    let r = one_shot(&s, json!({"code": code})).await;
    assert_eq!(r["stdout"], "[5, 2] default\n", "{r}");
    assert_eq!(r["callback_invocations"], 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_uninterruptible_worker_is_killed_at_the_deadline() {
    let s = Server::start("", &UNINTERRUPTIBLE_WORKER).await;
    let before = wait_workers(&s, 1).await;
    let start = Instant::now();
    let r = one_shot(
        &s,
        json!({"code": "print('started', flush=True)\nwhile True: pass", "timeout_ms": 500}),
    )
    .await;
    let took = start.elapsed();
    assert_eq!(r["error"]["kind"], "timeout", "{r}");
    assert_eq!(r["error"]["type"], "TimeoutError");
    assert_eq!(r["stdout"], "started\n", "{r}");
    assert!(
        took >= Duration::from_millis(500) && took < Duration::from_secs(5),
        "{took:?}"
    );
    assert_eq!(
        s.metric("eryx_workers_lost_total{reason=\"killed\"}").await,
        1.0
    );
    let r = one_shot(&s, json!({"code": "print(sum(range(10)))"})).await;
    assert_eq!(r["stdout"], "45\n");
    assert_ne!(wait_workers(&s, 1).await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_killed_from_outside_fails_only_its_call() {
    let s = Server::start("", &["--isolation", "workers", "--workers", "2"]).await;
    let pids = wait_workers(&s, 2).await;
    let slow = {
        let (client, url) = (s.client.clone(), s.url("/v1/execute"));
        tokio::spawn(async move {
            let body = json!({"code": "import time\ntime.sleep(20)", "timeout_ms": 30000});
            client.post(url).json(&body).send().await.expect("request")
        })
    };
    // The busy worker is the one whose CPU time moves, but any kill must
    // be survived: kill both, then check the slow call failed cleanly.
    tokio::time::sleep(Duration::from_millis(500)).await;
    kill9(&pids);
    let (status, code, message) = failure(slow.await.unwrap()).await;
    assert_eq!((status, code.as_str()), (500, "worker_lost"), "{message}");
    assert!(message.contains("was killed"), "{message}");
    // At once: the other worker was killed while idle, maybe an instant
    // ago, and a call given it before it is seen dead is tried again on
    // a new one (it never began there).
    let r = one_shot(&s, json!({"code": "print('still here')"})).await;
    assert_eq!(r["stdout"], "still here\n");
    // (A killed idle worker stays a zombie until the pool next looks at
    // it; both are looked at by calls that find them dead.)
    for _ in 0..3 {
        let r = one_shot(&s, json!({"code": "print('again')"})).await;
        assert_eq!(r["stdout"], "again\n");
    }
}
