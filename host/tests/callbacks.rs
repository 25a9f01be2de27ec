//! Host callbacks (`await name(...)`), their concurrency, errors and limits,
//! and line tracing.
mod common;
use common::expect_py_err;
use eryx::{Sandbox, TraceEvent};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn builder() -> eryx::SandboxBuilder {
    Sandbox::builder()
        .callback("echo", "returns its arguments", |v| async move { Ok(v) })
        .callback("add", "a + b", |v| async move {
            let a = v["a"].as_i64().ok_or("a must be an int")?;
            let b = v["b"].as_i64().ok_or("b must be an int")?;
            Ok(json!(a + b))
        })
        .callback("slow", "sleeps 100 ms", |v: Value| async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            Ok(v["i"].clone())
        })
        .callback("fail", "always fails", |_| async move {
            Err("host said no".to_string())
        })
        .callback("http.get", "dotted name", |v| async move {
            Ok(json!({"url": v["url"]}))
        })
        .callback("print", "would shadow a builtin", |_| async move {
            Ok(json!(null))
        })
}

#[tokio::test]
async fn sync_answering_callbacks() {
    let mut sb = builder().build().await.unwrap();
    let out = sb
        .execute("print(await add(a=2, b=3))\nprint(await echo(x=[1, 'two'], y=None))")
        .await
        .unwrap();
    assert_eq!(out, "5\n{'x': [1, 'two'], 'y': None}\n");
}

#[tokio::test]
async fn gathered_slow_callbacks_overlap() {
    let mut sb = builder().build().await.unwrap();
    // Warm up (imports asyncio and json) outside the timed window.
    sb.execute("import asyncio\nawait echo(i=0)").await.unwrap();
    let start = Instant::now();
    let out = sb
        .execute("print(await asyncio.gather(*(slow(i=i) for i in range(10))))")
        .await
        .unwrap();
    let took = start.elapsed();
    assert_eq!(out, "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n");
    assert!(
        took < Duration::from_millis(600),
        "10 x 100 ms took {took:?}: not concurrent"
    );
}

#[tokio::test]
async fn host_errors_raise_callback_error() {
    let mut sb = builder().build().await.unwrap();
    let tb = expect_py_err(sb.execute("await fail()").await, "eryx.CallbackError");
    assert!(tb.contains("host said no"), "{tb}");
    let out = sb
        .execute("import eryx\ntry:\n    await add(a='x', b=1)\nexcept eryx.CallbackError as e:\n    print('caught', e)")
        .await
        .unwrap();
    assert_eq!(out, "caught a must be an int\n");
    expect_py_err(
        sb.execute("await eryx.invoke('nope', '{}')").await,
        "eryx.CallbackError",
    );
}

#[tokio::test]
async fn list_dotted_names_and_builtin_shadowing() {
    let mut sb = builder().build().await.unwrap();
    let out = sb
        .execute(
            "import eryx\nprint(eryx.list_callbacks())\nprint(await http.get(url='u'))\n\
             print(print is __builtins__.print)\nprint(await eryx.invoke('print', '{}'))",
        )
        .await
        .unwrap();
    assert_eq!(
        out,
        "['add', 'echo', 'fail', 'http.get', 'print', 'slow']\n{'url': 'u'}\nTrue\nnull\n"
    );
}

#[tokio::test]
async fn calling_from_sync_code_is_a_clear_error() {
    let mut sb = builder().build().await.unwrap();
    let tb = expect_py_err(sb.execute("x = echo(a=1)").await, "RuntimeError");
    assert!(tb.contains("must be awaited"), "{tb}");
}

#[tokio::test]
async fn timeout_and_invocation_cap() {
    let mut sb = builder()
        .callback_timeout(Duration::from_millis(20))
        .max_callback_invocations(3)
        .build()
        .await
        .unwrap();
    let tb = expect_py_err(sb.execute("await slow(i=1)").await, "eryx.CallbackError");
    assert!(tb.contains("timed out"), "{tb}");
    let tb = expect_py_err(
        sb.execute("for i in range(5):\n    await echo(i=i)").await,
        "eryx.CallbackError",
    );
    assert!(tb.contains("at most 3 calls"), "{tb}");
    // The cap counts per execute.
    assert_eq!(
        sb.execute("print(await echo(i=1))").await.unwrap(),
        "{'i': 1}\n"
    );
}

#[tokio::test]
async fn callbacks_survive_snapshot_and_clear() {
    let mut sb = builder().build().await.unwrap();
    sb.execute("x = 1").await.unwrap();
    let snap = sb.snapshot().await.unwrap();
    sb.clear().await.unwrap();
    sb.restore(&snap).await.unwrap();
    assert_eq!(
        sb.execute("print(await add(a=x, b=1))").await.unwrap(),
        "2\n"
    );
}

#[tokio::test]
async fn trace_events_cover_lines_calls_and_awaits() {
    let events = Arc::new(Mutex::new(Vec::<TraceEvent>::new()));
    let e = events.clone();
    let mut sb = builder()
        .on_trace(move |ev| e.lock().unwrap().push(ev))
        .build()
        .await
        .unwrap();
    let code = "def f(n):\n    return n + 1\nx = f(1)\nawait echo(a=1)\ny = f(x)\n";
    sb.execute(code).await.unwrap();
    let evs = events.lock().unwrap().clone();
    let seen: Vec<(String, u32, String)> = evs
        .iter()
        .map(|e| (e.event.clone(), e.line, e.function.clone()))
        .collect();
    for want in [
        ("line", 3, "<module>"),
        ("call", 1, "f"),
        ("line", 2, "f"),
        ("return", 2, "f"),
        ("line", 5, "<module>"),
    ] {
        assert!(
            seen.contains(&(want.0.to_string(), want.1, want.2.to_string())),
            "missing {want:?} in {seen:?}"
        );
    }
    // Line 5 runs after the await: tracing continued.
    let after = seen.iter().position(|e| e.0 == "line" && e.1 == 5).unwrap();
    let before = seen.iter().position(|e| e.0 == "line" && e.1 == 4).unwrap();
    assert!(before < after);
}

#[tokio::test]
async fn tracing_is_off_by_default() {
    let mut sb = builder().build().await.unwrap();
    assert_eq!(
        sb.execute("import sys\nprint(sys.gettrace())")
            .await
            .unwrap(),
        "None\n"
    );
}
