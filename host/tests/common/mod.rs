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

/// Run a repository script (one at a time in this process: the builds they
/// start share caches) and return its trimmed stdout; panic with its stderr
/// if it fails.
fn script_stdout(script: &str, args: &[&str]) -> String {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let out = Command::new("bash")
        .arg(repo_root().join("scripts").join(script))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run scripts/{script}: {e}"));
    assert!(
        out.status.success(),
        "scripts/{script} {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// target/extensions/<name>, unpacked from the WASI wheel that
/// scripts/build-packages.sh builds (or finds cached).
pub fn extension(name: &str) -> PathBuf {
    PathBuf::from(script_stdout("build-extension.sh", &[name]))
}

/// The WASI wheel of recipe `name` in target/wheelhouse, built (or found
/// cached) by scripts/build-packages.sh.
pub fn wheel(name: &str) -> PathBuf {
    PathBuf::from(script_stdout("build-packages.sh", &[name]))
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
