//! Shared helpers for the integration tests.
#![allow(dead_code)]
use eryx::{Error, Sandbox, Stream};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

/// A fresh sandbox.
pub async fn sandbox() -> Sandbox {
    Sandbox::builder().build().await.expect("sandbox")
}

/// A sandbox whose output is also recorded as (stream, text) pieces.
pub async fn recording_sandbox() -> (Sandbox, Arc<Mutex<Vec<(Stream, String)>>>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let l = log.clone();
    let sb = Sandbox::builder()
        .on_output(move |s, t| l.lock().unwrap().push((s, t.to_string())))
        .build()
        .await
        .expect("sandbox");
    (sb, log)
}

/// Everything recorded on `stream`.
pub fn text_of(log: &Arc<Mutex<Vec<(Stream, String)>>>, stream: Stream) -> String {
    log.lock()
        .unwrap()
        .iter()
        .filter(|(s, _)| *s == stream)
        .map(|(_, t)| t.as_str())
        .collect()
}

/// Assert `r` is a Python exception of type `ty`; return its traceback.
pub fn expect_py_err<T: std::fmt::Debug>(r: Result<T, Error>, ty: &str) -> String {
    match r {
        Err(Error::Python {
            type_name,
            traceback,
            ..
        }) => {
            assert_eq!(type_name, ty, "traceback: {traceback}");
            traceback
        }
        other => panic!("expected a Python {ty}, got {other:?}"),
    }
}

/// The repository's root directory.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// target/extensions/<name>, built (or found up to date) by
/// scripts/build-extension.sh (one build at a time in this process).
pub fn extension(name: &str) -> PathBuf {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let out = Command::new("bash")
        .arg(repo_root().join("scripts/build-extension.sh"))
        .arg(name)
        .output()
        .expect("run scripts/build-extension.sh");
    assert!(
        out.status.success(),
        "scripts/build-extension.sh {name} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// Run the host's native `python3` the same way, to compare behaviours.
pub fn native_python(args: &[&str], stdin: &[u8]) -> Output {
    run_piped("python3", args, stdin)
}

/// Run `program` with `args`, feeding `stdin`, to completion.
pub fn run_piped(program: &str, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {program}: {e}"));
    let mut input = child.stdin.take().unwrap();
    // The program may exit without reading all of it.
    let _ = input.write_all(stdin);
    drop(input);
    child.wait_with_output().unwrap()
}
