//! Shared helpers for the integration tests.
#![allow(dead_code)]
use eryx::{Error, Sandbox, Stream};
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
