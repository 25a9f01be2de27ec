//! Rich results over HTTP against a real server: `outputs` in the JSON
//! result (a PNG made by pure Python, decoded back here; the last
//! expression; HTML; a 20 MiB display cut), their OpenAPI schema, and SSE
//! `display` events in order with stdout.
mod common;
#[path = "../../host/tests/common/png.rs"]
mod png;
use base64::Engine as _;
use common::Server;
use serde_json::{json, Value};

/// The pure-Python PNG maker the library tests use (a real file, sent as
/// the first part of the code since the server mounts nothing).
const PNGMAKER: &str = include_str!("../../host/tests/fixtures/display/pngmaker.py");

fn code(rest: &str) -> String {
    format!("{PNGMAKER}\nfrom eryx import display\n{rest}")
}

#[tokio::test(flavor = "multi_thread")]
async fn outputs_carry_displays_and_the_last_value() {
    let s = Server::start("", &[]).await;
    let r = s
        .post_ok(
            "/v1/execute",
            None,
            json!({"code": code("display({'image/png': png(40, 30)}, raw=True)\n1 + 1")}),
        )
        .await;
    assert_eq!(r["error"], Value::Null, "{r}");
    let outputs = r["outputs"].as_array().unwrap();
    assert_eq!(outputs.len(), 2, "{r}");
    assert_eq!(outputs[0]["type"], "display");
    let b64 = outputs[0]["data"]["image/png"].as_str().unwrap();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    assert_eq!(png::png_size(&bytes), Ok((40, 30)));
    assert_eq!(outputs[1]["type"], "result");
    assert_eq!(outputs[1]["data"]["text/plain"], "2");

    let html = "class T:\n    def _repr_html_(self):\n        return '<table/>'\nT()";
    let r = s
        .post_ok("/v1/execute", None, json!({ "code": html }))
        .await;
    assert_eq!(r["outputs"][0]["data"]["text/html"], "<table/>");

    let big = code("display({'image/png': bytes(20 << 20), 'text/plain': 'big'}, raw=True)");
    let r = s.post_ok("/v1/execute", None, json!({ "code": big })).await;
    let item = &r["outputs"][0];
    assert_eq!(item["truncated_bytes"], 20 << 20);
    assert!(item["data"].get("image/png").is_none());
    assert!(item["data"]["text/plain"]
        .as_str()
        .unwrap()
        .contains("[eryx: display cut: image/png (20971520 bytes)"));

    // The schema documents what is served.
    let doc = s.get_json("/openapi.json", None).await;
    let props = doc["components"]["schemas"]["DisplayOutput"]["properties"]
        .as_object()
        .expect("DisplayOutput schema");
    let mut documented: Vec<_> = props.keys().cloned().collect();
    let mut served: Vec<_> = item.as_object().unwrap().keys().cloned().collect();
    documented.sort();
    served.sort();
    assert_eq!(documented, served);
    assert!(doc["components"]["schemas"]["ExecutionResult"]["properties"]["outputs"].is_object());
}

#[tokio::test(flavor = "multi_thread")]
async fn sse_streams_displays_in_order_with_output() {
    let s = Server::start("", &[]).await;
    let id = s.session(None, json!({})).await;
    let events = s
        .sse_exec(
            None,
            &id,
            &code("print('one')\ndisplay({'image/png': png(2, 2)}, raw=True)\nprint('two')\n6 * 7"),
        )
        .await;
    let names: Vec<&str> = events.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(
        names,
        ["stdout", "display", "stdout", "display", "result"],
        "{events:?}"
    );
    assert_eq!(events[0].1["text"], "one\n");
    assert_eq!(events[1].1["type"], "display");
    assert!(events[1].1["data"]["image/png"].is_string());
    assert_eq!(events[2].1["text"], "two\n");
    assert_eq!(events[3].1["type"], "result");
    assert_eq!(events[3].1["data"]["text/plain"], "42");
    assert_eq!(events[4].1["outputs"].as_array().unwrap().len(), 2);
}
