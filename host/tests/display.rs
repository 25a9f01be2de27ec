//! Rich results in the library: `display()` items, the last expression's
//! value, the matplotlib integration (against the stand-in package in
//! tests/fixtures/display, mounted read-only), caps, order with output.
mod common;
#[path = "common/png.rs"]
mod png;
use eryx::{DisplayKind, Execution, MimeData, Sandbox, SandboxBuilder};
use png::png_size;
use std::sync::{Arc, Mutex};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/display");
const SETUP: &str = "import sys\nsys.path.insert(0, '/fixtures')\nfrom pngmaker import png";

fn builder() -> SandboxBuilder {
    Sandbox::builder().mount(FIXTURES, "/fixtures", false)
}

async fn sandbox() -> Sandbox {
    let mut sb = builder().build().await.expect("sandbox");
    let setup = sb.run(SETUP).await;
    assert!(setup.is_ok(), "{:?}", setup.error);
    sb
}

fn result_text(run: &Execution) -> Option<&str> {
    run.result().and_then(|r| r.text("text/plain"))
}

#[tokio::test]
async fn a_png_passed_to_display_arrives_as_one_image() {
    let mut sb = sandbox().await;
    for code in [
        "from IPython.display import display, Image\ndisplay(Image(png(40, 30)))",
        "from eryx import display\ndisplay({'image/png': png(40, 30)}, raw=True)",
    ] {
        let run = sb.run(code).await;
        assert!(run.is_ok(), "{code}: {:?}", run.error);
        assert_eq!(run.outputs.len(), 1, "{code}: {:?}", run.outputs);
        let item = &run.outputs[0];
        assert_eq!(item.kind, DisplayKind::Display);
        let bytes = item.bytes("image/png").expect("image/png bytes");
        assert_eq!(png_size(bytes), Ok((40, 30)));
        assert_eq!(item.truncated_bytes, 0);
        let json = run.to_json();
        assert_eq!(json["outputs"][0]["type"], "display");
        assert!(json["outputs"][0]["data"]["image/png"]
            .as_str()
            .unwrap()
            .starts_with("iVBORw0KGgo"));
    }
}

#[tokio::test]
async fn the_last_expression_is_the_result() {
    let mut sb = sandbox().await;
    let run = sb.run("1 + 1").await;
    assert_eq!(result_text(&run), Some("2"));
    assert_eq!(run.to_json()["outputs"][0]["type"], "result");
    assert_eq!(run.to_json()["outputs"][0]["data"]["text/plain"], "2");
    assert_eq!(run.stdout, "", "a result is not printed");
    let run = sb.run("x = [1]\nx.append(2)\nx").await;
    assert_eq!(result_text(&run), Some("[1, 2]"));
    let run = sb
        .run("import asyncio\nawait asyncio.sleep(0, result='done')")
        .await;
    assert_eq!(result_text(&run), Some("'done'"));
    let run = sb.run("y = 7 if x else 0\ny * 6").await;
    assert_eq!(result_text(&run), Some("42"));
    // A constant last line after a call (the compiler drops `1 + 1`; the
    // print's POP_TOP is then the one before the return).
    let run = sb.run("print(6 * 7)\n1 + 1").await;
    assert_eq!(
        (run.stdout.as_str(), result_text(&run)),
        ("42\n", Some("2"))
    );
    let run = sb.run("if x:\n    print('a')\n'b'").await;
    assert_eq!(
        (run.stdout.as_str(), result_text(&run)),
        ("a\n", Some("'b'"))
    );
    // Nothing: None, a print, a statement, an expression not last.
    for code in [
        "None",
        "print(1 + 1)",
        "z = 3",
        "if True:\n    5",
        "x\nz = 1",
        "for i in x: i",
    ] {
        let run = sb.run(code).await;
        assert!(run.is_ok(), "{code}: {:?}", run.error);
        assert!(run.outputs.is_empty(), "{code}: {:?}", run.outputs);
    }
    // The capture leaves nothing behind in the namespace.
    let run = sb.run("'__eryx_last__' in globals()").await;
    assert_eq!(result_text(&run), Some("False"));
}

#[tokio::test]
async fn rich_reprs_give_their_mime_types() {
    let mut sb = sandbox().await;
    let code = "class T:\n    def _repr_html_(self):\n        return '<b>t</b>'\n    def __repr__(self):\n        return 'T()'\nT()";
    let run = sb.run(code).await;
    let item = run.result().expect("result");
    assert_eq!(item.text("text/html"), Some("<b>t</b>"));
    assert_eq!(item.text("text/plain"), Some("T()"));
    let code = "class P:\n    def _repr_png_(self):\n        return png(3, 2)\n    def _repr_mimebundle_(self, include=None, exclude=None):\n        return {'application/json': {'a': [1, 2]}, 'image/svg+xml': '<svg/>'}\nP()";
    let item = sb.run(code).await.outputs.pop().expect("result");
    assert_eq!(png_size(item.bytes("image/png").unwrap()), Ok((3, 2)));
    assert_eq!(
        item.get("application/json"),
        Some(&MimeData::Json(serde_json::json!({"a": [1, 2]})))
    );
    assert_eq!(item.text("image/svg+xml"), Some("<svg/>"));
    let code = "from IPython.display import HTML, Markdown, JSON, display\ndisplay(HTML('<i>h</i>'), Markdown('# m'), JSON({'k': 1}))";
    let run = sb.run(code).await;
    let mimes: Vec<_> = run.outputs.iter().map(|o| o.data[0].0.as_str()).collect();
    assert_eq!(mimes, ["text/html", "text/markdown", "application/json"]);
}

#[tokio::test]
async fn a_failing_repr_is_the_error_and_a_failing_rich_repr_is_skipped() {
    let mut sb = sandbox().await;
    let code = "class A:\n    def __repr__(self):\n        raise ValueError('no repr')\nA()";
    let run = sb.run(code).await;
    assert_eq!(
        run.error.as_ref().map(|e| e.type_name()),
        Some("ValueError")
    );
    let code = "class B:\n    def _repr_html_(self):\n        raise KeyError('k')\n    def __repr__(self):\n        return 'B'\nB()";
    let run = sb.run(code).await;
    assert_eq!(result_text(&run), Some("B"));
    assert!(run.result().unwrap().get("text/html").is_none());
    assert!(
        run.stderr
            .contains("_repr_html_ of B object failed: KeyError"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn pyplot_show_and_open_figures_become_pngs() {
    let mut sb = sandbox().await;
    let run = sb
        .run("import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.show()")
        .await;
    assert!(run.is_ok(), "{:?}", run.error);
    assert_eq!(run.outputs.len(), 1, "{:?}", run.outputs);
    assert_eq!(
        png_size(run.outputs[0].bytes("image/png").unwrap()),
        Ok((30, 20))
    );
    let run = sb.run("import matplotlib\nmatplotlib.backend").await;
    assert_eq!(result_text(&run), Some("'agg'"));
    // Left open at the end of the call: shown (after the result) and closed.
    let run = sb
        .run("plt.figure()\nplt.plot([1, 2])\nplt.get_fignums()")
        .await;
    assert_eq!(result_text(&run), Some("[1]"));
    assert_eq!(run.outputs.len(), 2);
    assert_eq!(
        png_size(run.outputs[1].bytes("image/png").unwrap()),
        Ok((20, 20))
    );
    assert_eq!(result_text(&sb.run("plt.get_fignums()").await), Some("[]"));

    let mut off = builder().open_figures(false).build().await.unwrap();
    let run = off
        .run(&format!(
            "{SETUP}\nimport matplotlib.pyplot as plt\nplt.plot([1])"
        ))
        .await;
    assert!(run.outputs.is_empty(), "{:?}", run.outputs);
    assert_eq!(
        result_text(&off.run("plt.get_fignums()").await),
        Some("[1]")
    );
}

#[tokio::test]
async fn nothing_is_imported_for_display_unless_used() {
    let mut sb = sandbox().await;
    let run = sb
        .run("import sys\nsorted(m for m in ('matplotlib', 'IPython', 'PIL') if m in sys.modules)")
        .await;
    assert_eq!(result_text(&run), Some("[]"));
}

#[tokio::test]
async fn a_20_mib_display_is_cut_with_a_marker() {
    let mut sb = sandbox().await;
    let run = sb
        .run("from eryx import display\nbig = png(8, 8) + bytes(20 << 20)\ndisplay({'image/png': big, 'text/plain': 'big'}, raw=True)")
        .await;
    assert!(run.is_ok(), "{:?}", run.error);
    let item = &run.outputs[0];
    assert!(item.get("image/png").is_none(), "a cut image is left out");
    assert!(item.truncated_bytes > 20 << 20);
    let text = item.text("text/plain").unwrap();
    assert!(
        text.starts_with("big\n[eryx: display cut: image/png ("),
        "{text}"
    );
    // Text is cut at the limit, keeping what fits.
    let run = sb
        .run("display({'text/html': 'x' * (20 << 20)}, raw=True)")
        .await;
    let item = &run.outputs[0];
    assert_eq!(
        item.text("text/html").unwrap().len(),
        eryx::DEFAULT_ITEM_LIMIT
    );
    assert!(item
        .text("text/plain")
        .unwrap()
        .contains("display cut: text/html"));
    // Per call: later items get what is left.
    let mut small = builder().display_limits(1000, 1500).build().await.unwrap();
    let run = small
        .run("from eryx import display\nfor i in range(3):\n    display({'text/plain': 'y' * 800}, raw=True)")
        .await;
    let sizes: Vec<usize> = run.outputs.iter().map(|o| o.truncated_bytes).collect();
    assert_eq!(sizes, [0, 100, 800]);
    assert!(run.outputs[2]
        .text("text/plain")
        .unwrap()
        .contains("per call"));
}

#[tokio::test]
async fn displays_stream_in_order_with_output() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let (a, b) = (log.clone(), log.clone());
    let mut sb = builder()
        .on_output(move |s, t| a.lock().unwrap().push(format!("{s:?}:{t}")))
        .on_display(move |d| {
            b.lock()
                .unwrap()
                .push(format!("{:?}:{}", d.kind, d.data[0].0))
        })
        .build()
        .await
        .unwrap();
    let run = sb
        .run("from eryx import display\nprint('a', end='')\ndisplay({'text/html': '<p>'}, raw=True)\nprint('b')\n6 * 7")
        .await;
    assert!(run.is_ok(), "{:?}", run.error);
    assert_eq!(
        *log.lock().unwrap(),
        [
            "Stdout:a",
            "Display:text/html",
            "Stdout:b\n",
            "Result:text/plain"
        ]
    );
}

#[tokio::test]
async fn bad_items_from_the_guest_are_dropped_with_a_note() {
    let mut sb = sandbox().await;
    let run = sb
        .run("import eryx\neryx._output(3, 'not json')\neryx._output(3, '{\"kind\": \"display\", \"data\": {\"image/png\": \"%%%\"}}')\nprint('still here')")
        .await;
    assert!(run.is_ok(), "{:?}", run.error);
    assert!(run.outputs.is_empty());
    assert_eq!(run.stdout, "still here\n");
    assert!(
        run.stderr.contains("eryx: display item dropped: not JSON"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("image/png data is not base64"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn the_display_hook_can_be_switched_off() {
    let mut sb = builder().display_hook(false).build().await.unwrap();
    let run = sb.run("1 + 1\nx = 2\nx").await;
    assert!(run.outputs.is_empty(), "{:?}", run.outputs);
    let run = sb
        .run("from eryx import display\ndisplay('still works')")
        .await;
    assert_eq!(run.outputs[0].text("text/plain"), Some("'still works'"));
}
