//! Tenants, authentication, bad input, allowlists and operator callbacks,
//! against a real server.
mod common;
use axum::routing::post;
use axum::{Json, Router};
use common::{failure, scratch, Server};
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

/// The shared two tenants, beta capped at two sessions.
fn tenants() -> String {
    format!("{}max_sessions = 2\n", common::TWO_TENANTS)
}
const A: Option<&str> = common::ALPHA;
const B: Option<&str> = common::BETA;

#[tokio::test(flavor = "multi_thread")]
async fn tenants_see_only_their_own_sessions() {
    let s = Server::start(&tenants(), &[]).await;
    let a = s.session(A, json!({})).await;
    s.run(A, &a, "secret = 'alpha'").await;
    // Beta cannot reach alpha's session in any way.
    let r = s
        .post(
            &format!("/v1/sessions/{a}/execute"),
            B,
            json!({"code": "print(secret)"}),
        )
        .await;
    assert_eq!(r.status(), 404);
    for (m, path) in [
        (Method::GET, format!("/v1/sessions/{a}/state")),
        (Method::GET, format!("/v1/sessions/{a}")),
        (Method::DELETE, format!("/v1/sessions/{a}")),
    ] {
        let r = s.req(m, &path, B).send().await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
    }
    let r = s
        .req(Method::PUT, &format!("/v1/sessions/{a}/state"), B)
        .body(vec![1, 2, 3])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let list: Value = s.get_json("/v1/sessions", B).await;
    assert_eq!(list["sessions"], json!([]));
    // Alpha still has it, untouched.
    let r = s.run(A, &a, "print(secret)").await;
    assert_eq!(r["stdout"], "alpha\n");

    // No key, a wrong key, a malformed header: 401.
    for key in [None, Some("wrong-key-000")] {
        let r = s.post("/v1/execute", key, json!({"code": "1"})).await;
        assert_eq!(r.status(), 401);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthorized");
    }
    let r = s
        .req(Method::GET, "/v1/sessions", None)
        .header("authorization", "Basic YWxwaGEta2V5LTEyMw==")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // Beta's session cap is 2: the third is 429 with Retry-After.
    s.session(B, json!({})).await;
    s.session(B, json!({})).await;
    let r = s.post("/v1/sessions", B, json!({})).await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "1");
    // Alpha is not affected by beta's cap.
    s.session(A, json!({})).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn api_keys_from_the_environment() {
    // Flags/env keys work without a config file entry.
    let s = Server::start("", &["--api-keys", "env-key-abcdef=gamma"]).await;
    let r = s.post("/v1/execute", None, json!({"code": "1"})).await;
    assert_eq!(r.status(), 401);
    let r = s
        .post_ok(
            "/v1/execute",
            Some("env-key-abcdef"),
            json!({"code": "print(3)"}),
        )
        .await;
    assert_eq!(r["stdout"], "3\n");
}

#[test]
fn no_keys_means_loopback_only() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_eryx-server"))
        .args(["--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("without API keys"), "{err}");
    // A broken config file is refused with its error, too.
    let dir = scratch("badcfg");
    let cfg = dir.join("c.toml");
    std::fs::write(&cfg, "workers = \"many\"\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_eryx-server"))
        .arg("--config")
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid config"));
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_a_clear_400_and_loses_nothing() {
    let s = Server::start("", &["--max-body-bytes", "65536"]).await;
    let id = s.session(None, json!({})).await;
    s.run(None, &id, "important = [1, 2, 3]").await;
    let exec = format!("/v1/sessions/{id}/execute");
    let raw = |path: &str, body: Vec<u8>, ct: &str| {
        s.req(Method::POST, path, None)
            .header("content-type", ct)
            .body(body)
            .send()
    };
    let json_ct = "application/json";
    let cases: Vec<(&str, reqwest::Response, &str)> = vec![
        (
            "invalid JSON",
            raw(&exec, b"{\"code\": ".to_vec(), json_ct).await.unwrap(),
            "invalid JSON",
        ),
        (
            "not an object",
            raw(&exec, b"[1,2]".to_vec(), json_ct).await.unwrap(),
            "invalid JSON",
        ),
        (
            "unknown field",
            s.post(&exec, None, json!({"code": "1", "evil": true}))
                .await,
            "unknown field `evil`",
        ),
        (
            "missing code",
            s.post(&exec, None, json!({})).await,
            "missing field `code`",
        ),
        (
            "wrong type",
            s.post(&exec, None, json!({"code": 5})).await,
            "invalid type",
        ),
        (
            "non-UTF-8 code",
            raw(&exec, b"{\"code\": \"print(\xff\xfe)\"}".to_vec(), json_ct)
                .await
                .unwrap(),
            "invalid JSON",
        ),
        (
            "lone surrogate",
            raw(&exec, br#"{"code": "\udc80"}"#.to_vec(), json_ct)
                .await
                .unwrap(),
            "invalid JSON",
        ),
        (
            "not JSON content",
            raw(
                &exec,
                b"code=1".to_vec(),
                "application/x-www-form-urlencoded",
            )
            .await
            .unwrap(),
            "Content-Type",
        ),
        (
            "absurd timeout",
            s.post(
                "/v1/execute",
                None,
                json!({"code": "1", "timeout_ms": 1u64 << 50}),
            )
            .await,
            "timeout_ms",
        ),
        (
            "zero timeout",
            s.post("/v1/execute", None, json!({"code": "1", "timeout_ms": 0}))
                .await,
            "timeout_ms",
        ),
        (
            "negative timeout",
            s.post("/v1/execute", None, json!({"code": "1", "timeout_ms": -5}))
                .await,
            "invalid value",
        ),
        (
            "absurd memory",
            s.post("/v1/sessions", None, json!({"max_memory_bytes": u64::MAX}))
                .await,
            "max_memory_bytes",
        ),
        (
            "tiny memory",
            s.post("/v1/sessions", None, json!({"max_memory_bytes": 1}))
                .await,
            "max_memory_bytes",
        ),
        (
            "absurd ttl",
            s.post("/v1/sessions", None, json!({"ttl_s": 1u64 << 40}))
                .await,
            "ttl_s",
        ),
        (
            "unknown package",
            s.post("/v1/sessions", None, json!({"packages": ["requests"]}))
                .await,
            "not offered",
        ),
        (
            "preimport not allowed",
            s.post("/v1/sessions", None, json!({"preimports": ["os"]}))
                .await,
            "not allowed",
        ),
        (
            "client-supplied callback",
            s.post(
                "/v1/sessions",
                None,
                json!({"callbacks": [{"name": "x", "url": "http://169.254.169.254/"}]}),
            )
            .await,
            "unknown field",
        ),
    ];
    for (what, resp, needle) in cases {
        let (status, code, message) = failure(resp).await;
        assert_eq!(status, 400, "{what}: {message}");
        assert_eq!(code, "bad_request", "{what}");
        assert!(
            message.contains(needle),
            "{what}: {message:?} lacks {needle:?}"
        );
        assert!(
            !message.contains("wasm") && !message.contains("/root"),
            "{what}: {message}"
        );
    }

    let (status, code, _) = failure(s.post("/v1/nothing", None, json!({})).await).await;
    assert_eq!((status, code.as_str()), (404, "not_found"));

    // Garbage state bytes: 400, the session keeps its state.
    for garbage in [
        b"garbage".to_vec(),
        vec![0x80, 0x04, 0x95, 0xff, 0xff],
        Vec::new(),
    ] {
        let r = s
            .req(Method::PUT, &format!("/v1/sessions/{id}/state"), None)
            .header("content-type", "application/octet-stream")
            .body(garbage)
            .send()
            .await
            .unwrap();
        let (status, code, message) = failure(r).await;
        assert_eq!((status, code.as_str()), (400, "bad_request"), "{message}");
        assert!(message.contains("not a valid session state"), "{message}");
    }

    // Too large a body: 413.
    // The unread rest of the body ends the connection, and the answer
    // says so: a pooling client's next request (below) takes a new one.
    let big = "x = 1\n".repeat(20_000);
    let r = s.post(&exec, None, json!({ "code": big })).await;
    assert_eq!(r.headers()["connection"], "close");
    let (status, code, _) = failure(r).await;
    assert_eq!((status, code.as_str()), (413, "too_large"));

    // Hostile but valid code is a result, not an HTTP error.
    let r = s.run(None, &id, "import os\nos._exit(9)").await;
    assert_eq!(r["exit_code"], 9);
    let r = s.run(None, &id, "print('\\x00 nul')").await;
    assert_eq!(r["stdout"], "\u{0} nul\n");

    // Nothing was lost, nothing crashed.
    let r = s.run(None, &id, "print(important)").await;
    assert_eq!(r["stdout"], "[1, 2, 3]\n");
    assert!(!s.metrics().await.contains("outcome=\"trap\""));
}

#[tokio::test(flavor = "multi_thread")]
async fn packages_and_preimports_from_the_allowlist() {
    let dir = scratch("pkgs");
    let site = dir.join("site");
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(
        site.join("greet.py"),
        "def hi(who):\n    return 'hi ' + who\n",
    )
    .unwrap();
    let config = format!(
        "allowed_preimports = [\"fractions\"]\n[packages]\ngreet = {:?}\n",
        site.display().to_string()
    );
    let s = Server::start(&config, &[]).await;
    let id = s.session(None, json!({"packages": ["greet"]})).await;
    let r = s
        .run(None, &id, "import greet\nprint(greet.hi('there'))")
        .await;
    assert_eq!(r["stdout"], "hi there\n", "{r}");
    // A session without the package cannot import it.
    let other = s.session(None, json!({})).await;
    let r = s.run(None, &other, "import greet").await;
    assert_eq!(r["error"]["type"], "ModuleNotFoundError");
    let id = s.session(None, json!({"preimports": ["fractions"]})).await;
    let r = s
        .run(None, &id, "import sys\nprint('fractions' in sys.modules)")
        .await;
    assert_eq!(r["stdout"], "True\n");
}

/// A callback endpoint on 127.0.0.1: records what it receives.
async fn callback_server(seen: Arc<Mutex<Vec<Value>>>) -> String {
    let seen2 = seen.clone();
    let app = Router::new()
        .route(
            "/add",
            post(move |Json(body): Json<Value>| {
                let seen = seen2.clone();
                async move {
                    let a = &body["arguments"];
                    let sum = a["a"].as_i64().unwrap_or(0) + a["b"].as_i64().unwrap_or(0);
                    seen.lock().unwrap().push(body);
                    Json(json!({ "sum": sum }))
                }
            }),
        )
        .route(
            "/fail",
            post(|| async { (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "boom") }),
        )
        .route(
            "/slow",
            post(|| async {
                tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                Json(json!(1))
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread")]
async fn operator_callbacks_are_http_posts_with_identity() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let base = callback_server(seen.clone()).await;
    let config = format!(
        "{}\n[[callbacks]]\nname = \"add\"\nurl = \"{base}/add\"\n\
         [[callbacks]]\nname = \"fail\"\nurl = \"{base}/fail\"\n\
         [[callbacks]]\nname = \"slow\"\nurl = \"{base}/slow\"\ntimeout_ms = 300\n",
        tenants()
    );
    let s = Server::start(&config, &[]).await;
    let id = s.session(A, json!({})).await;
    let code = "import asyncio\nr = await asyncio.gather(add(a=2, b=3), add(a=10, b=-1))\n\
                print([x['sum'] for x in r])";
    let r = s.run(A, &id, code).await;
    assert_eq!(r["stdout"], "[5, 9]\n", "{r}");
    assert_eq!(r["callback_invocations"], 2);
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 2);
        for body in seen.iter() {
            assert_eq!(body["callback"], "add");
            assert_eq!(body["tenant"], "alpha");
            assert_eq!(body["session"], id.as_str());
        }
    }
    // One-shot executes carry no session.
    let r = s
        .post_ok(
            "/v1/execute",
            B,
            json!({"code": "print((await add(a=1, b=1))['sum'])"}),
        )
        .await;
    assert_eq!(r["stdout"], "2\n");
    assert_eq!(seen.lock().unwrap()[2]["session"], Value::Null);
    assert_eq!(seen.lock().unwrap()[2]["tenant"], "beta");

    // Failures reach Python as CallbackError, without the URL.
    let code = "import eryx\ntry:\n    await fail()\nexcept eryx.CallbackError as e:\n    print('caught', e)";
    let r = s.run(A, &id, code).await;
    let out = r["stdout"].as_str().unwrap();
    assert!(out.starts_with("caught") && out.contains("HTTP 500"), "{r}");
    assert!(!out.contains("127.0.0.1"), "{out}");
    let code = "import eryx\ntry:\n    await slow()\nexcept eryx.CallbackError as e:\n    print('caught', e)";
    let r = s.run(A, &id, code).await;
    assert!(r["stdout"].as_str().unwrap().contains("timed out"), "{r}");
    // Names that are not configured do not exist in the guest.
    let r = s
        .run(A, &id, "await steal(url='http://169.254.169.254/')")
        .await;
    assert_eq!(r["error"]["type"], "NameError");
}
