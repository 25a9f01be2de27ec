//! State uploads (`PUT /v1/sessions/{id}/state`) that are no valid
//! snapshot, against the real server: truncated, claiming another
//! container version, lying about a length, naming files `..` or with
//! slashes, oversized. Each is a clear JSON 4xx and the session keeps its
//! variables and files; a real snapshot is still accepted after. Also a saved
//! namespace whose restore loops: the fault's answer says the state could
//! not be brought back, and the session goes on empty. The cases are listed in
//! docs/hostile-http.md.
mod common;
use common::hostile::{
    capped_server, json_error, put_file, raw, request, Witness, ALPHA_JSON, MAX_BODY,
};
use common::{Server, ALPHA as A};
use reqwest::Method;
use serde_json::json;
use std::time::Duration;

/// `PUT` `bytes` as alpha's session state.
async fn put_state(s: &Server, id: &str, bytes: Vec<u8>) -> reqwest::Response {
    s.req(Method::PUT, &format!("/v1/sessions/{id}/state"), A)
        .header("content-type", "application/octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap()
}

/// `bytes` with the one occurrence of `from` replaced by `to` (same length).
fn replace_once(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let at: Vec<usize> = (0..=bytes.len() - from.len())
        .filter(|&i| &bytes[i..i + from.len()] == from)
        .collect();
    assert_eq!(at.len(), 1, "{from:?} occurs {} times", at.len());
    let mut out = bytes.to_vec();
    out[at[0]..at[0] + to.len()].copy_from_slice(to);
    out
}

/// Alpha's session still has its variable and its two files.
async fn untouched(s: &Server, id: &str) {
    let r = s.run(A, id, "print(keep)").await;
    assert_eq!(r["stdout"], "precious\n", "{r}");
    for (path, want) in [
        ("tmp/QQ", &b"two"[..]),
        ("tmp/QQQQQQQQQQQQQQQQ", b"sixteen"),
    ] {
        let r = s
            .req(Method::GET, &format!("/v1/sessions/{id}/files/{path}"), A)
            .send()
            .await
            .unwrap();
        assert_eq!(r.bytes().await.unwrap().as_ref(), want, "{path}");
    }
}

/// A state upload refused with a 400 (`why` names the case); the message.
async fn refused(s: &Server, id: &str, why: &str, bytes: Vec<u8>) -> String {
    let msg = json_error(put_state(s, id, bytes).await, 400, "bad_request").await;
    assert!(msg.starts_with("not a valid session state"), "{why}: {msg}");
    msg
}

#[tokio::test(flavor = "multi_thread")]
async fn state_uploads_that_are_no_valid_snapshot_leave_the_session_untouched() {
    let s = capped_server().await;
    let w = Witness::new(&s).await;
    let id = s.session(A, json!({})).await;
    s.run(A, &id, "keep = 'precious'").await;
    put_file(&s, A, &id, "tmp/QQ", b"two").await;
    put_file(&s, A, &id, "tmp/QQQQQQQQQQQQQQQQ", b"sixteen").await;
    let good = s
        .req(Method::GET, &format!("/v1/sessions/{id}/state"), A)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .to_vec();
    assert_eq!(&good[..9], b"ERYXSNAP\x02");
    // Case state-truncated: a real snapshot cut anywhere.
    for n in [good.len() - 1, good.len() / 2, 17, 9, 8, 1] {
        refused(&s, &id, "truncated", good[..n].to_vec()).await;
    }
    untouched(&s, &id).await;
    // Case state-version: the same bytes claiming another container version.
    for v in [0u8, 1, 3, 9, 255] {
        let mut b = good.clone();
        b[8] = v;
        let msg = refused(&s, &id, "version", b).await;
        if v > 2 {
            assert!(msg.contains(&format!("version {v}")), "{v}: {msg}");
        }
    }
    untouched(&s, &id).await;
    // Case state-length-lie: a namespace length far past the end.
    let mut lie = b"ERYXSNAP\x02".to_vec();
    lie.extend_from_slice(&u64::MAX.to_le_bytes());
    lie.extend_from_slice(b"x");
    refused(&s, &id, "length lie", lie).await;
    // Case state-bad-names: a file in the snapshot's tree renamed to `..`
    // or to a name with slashes (a decoder that trusted names would make a
    // tree whose paths climb out of their directory).
    refused(
        &s,
        &id,
        "dot-dot name",
        replace_once(&good, b"\x02\0\0\0QQ", b"\x02\0\0\0.."),
    )
    .await;
    refused(
        &s,
        &id,
        "slash name",
        replace_once(
            &good,
            b"\x10\0\0\0QQQQQQQQQQQQQQQQ",
            b"\x10\0\0\0../../etc/passwd",
        ),
    )
    .await;
    refused(
        &s,
        &id,
        "trailing bytes",
        [good.clone(), b"x".to_vec()].concat(),
    )
    .await;
    untouched(&s, &id).await;
    // Case state-oversized: past --max-body-bytes, with and without a
    // Content-Length.
    let mut huge = b"ERYXSNAP\x02".to_vec();
    huge.resize(MAX_BODY + 1, 0);
    let target = format!("/v1/sessions/{id}/state");
    let req = request("PUT", target.as_bytes(), ALPHA_JSON, &huge);
    raw(&s, req).await.json_error(413, "too_large");
    let mut chunked = format!(
        "PUT /v1/sessions/{id}/state HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\
         authorization: Bearer alpha-key-123\r\ntransfer-encoding: chunked\r\n\r\n"
    )
    .into_bytes();
    for piece in huge.chunks(100_000) {
        chunked.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        chunked.extend_from_slice(piece);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    raw(&s, chunked).await.json_error(413, "too_large");
    untouched(&s, &id).await;
    // The real snapshot is still accepted: the refusals were about the bytes.
    assert_eq!(put_state(&s, &id, good).await.status(), 204);
    untouched(&s, &id).await;
    w.check(&s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_namespace_that_loops_when_restored_does_not_hold_the_session() {
    let s = capped_server().await;
    let id = s.session(A, json!({"timeout_ms": 2000})).await;
    // Case open-restore-loop: an object whose unpickling loops forever is
    // saved with the session's state; the next fault (a timeout) restores
    // that state into a fresh instance.
    let code = "class X:\n    def __reduce__(self):\n        return (exec, ('while True: pass',))\nx = X()";
    s.run(A, &id, code).await;
    let slow = s
        .req(Method::POST, &format!("/v1/sessions/{id}/execute"), A)
        .timeout(Duration::from_secs(15))
        .json(&json!({"code": "while True: pass"}))
        .send()
        .await;
    let r = slow.expect("the timed-out execute is answered (not held forever)");
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    let msg = v["error"]["message"].as_str().unwrap_or_default();
    assert!(msg.contains("could not be restored"), "{v}");
    let v = s.run(A, &id, "print('x' in globals())").await;
    assert_eq!(v["stdout"], "False\n");
}
