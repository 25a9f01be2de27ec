//! The one result type (`eryx::Execution`): stdout and stderr kept apart,
//! duration, memory, callback count, the capture limit, and how each way of
//! ending maps to an error and an exit code — real CPython in real wasmtime.
mod common;
use eryx::{Error, Sandbox};

#[tokio::test]
async fn run_reports_both_streams_and_costs() {
    let mut sb = Sandbox::builder()
        .callback("echo", "returns its argument", |v| async move {
            Ok(v["x"].clone())
        })
        .build()
        .await
        .unwrap();
    let r = sb
        .run("import sys\nprint('out')\nprint('err', file=sys.stderr)\nprint(await echo(x=5))")
        .await;
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(r.stdout, "out\n5\n");
    assert_eq!(r.stderr, "err\n");
    assert_eq!(r.callback_invocations, 1);
    assert!(r.peak_memory > 1 << 20);
    assert!(r.duration.as_nanos() > 0);
    assert_eq!(r.exit_code(), 0);
    assert_eq!(r.to_json()["error"], serde_json::Value::Null);
}

#[tokio::test]
async fn python_error_keeps_output_written_before_it() {
    let mut sb = common::sandbox().await;
    let r = sb.run("print('before')\n{}['k']").await;
    assert_eq!(r.stdout, "before\n");
    assert_eq!(r.exit_code(), 1);
    let j = r.to_json();
    assert_eq!(j["error"]["type"], "KeyError");
    assert_eq!(j["error"]["message"], "'k'");
    assert!(j["error"]["traceback"]
        .as_str()
        .unwrap()
        .contains("Traceback"));
}

#[tokio::test]
async fn capture_limit_cuts_the_result_not_the_call() {
    let mut sb = Sandbox::builder().capture_limit(10).build().await.unwrap();
    let r = sb.run("print('é' * 30)\nx = 1").await;
    assert!(r.is_ok(), "{r:?}");
    assert!(r.stdout.len() <= 10 && r.stdout.chars().all(|c| c == 'é'));
    assert_eq!(r.truncated_bytes, 61 - r.stdout.len());
    assert!(r.truncated());
    assert_eq!(sb.execute("print(x)").await.unwrap(), "1\n");
}

#[tokio::test]
async fn os_exit_is_an_exit_status_and_the_session_survives() {
    let mut sb = common::sandbox().await;
    sb.execute("kept = 41").await.unwrap();
    let r = sb.run("import os\nprint('bye')\nos._exit(4)").await;
    assert_eq!(r.error, Some(Error::Exit(4)));
    assert_eq!(r.exit_code(), 4);
    assert_eq!(r.stdout, "bye\n");
    assert_eq!(sb.execute("print(kept + 1)").await.unwrap(), "42\n");
}

#[tokio::test]
async fn output_handler_can_be_replaced_per_call() {
    let mut sb = common::sandbox().await;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let s = seen.clone();
    sb.set_output_handler(Some(std::sync::Arc::new(move |_, t: &str| {
        s.lock().unwrap().push_str(t)
    })));
    sb.execute("print('one')").await.unwrap();
    sb.set_output_handler(None);
    sb.execute("print('two')").await.unwrap();
    assert_eq!(*seen.lock().unwrap(), "one\n");
}

#[tokio::test]
async fn uninterruptible_sandboxes_run_and_refuse_a_timeout() {
    let mut sb = Sandbox::builder()
        .interruptible(false)
        .build()
        .await
        .unwrap();
    assert_eq!(sb.execute("print(sum(range(10)))").await.unwrap(), "45\n");
    let r = sb.run("raise ValueError('still reported')").await;
    assert_eq!(r.error.as_ref().map(Error::type_name), Some("ValueError"));
    let refused = Sandbox::builder()
        .interruptible(false)
        .timeout(std::time::Duration::from_secs(1))
        .build()
        .await
        .err();
    assert!(
        matches!(&refused, Some(Error::Setup(m)) if m.contains("interruptible")),
        "{refused:?}"
    );
}
