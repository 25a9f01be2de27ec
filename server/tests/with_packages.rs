//! Packages by name on the server (`eryx-server --with REQ`, `with = [...]`
//! in the file): resolved by pip at startup (real PyPI, cached like
//! `eryx --with`); a session asks for a subset by distribution name (any
//! spelling PEP 503 equates), gets those and their dependencies
//! pre-imported, and nothing else; names not offered and URLs are refused.
mod common;
use common::{failure, stdout, Server};
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn sessions_get_the_offered_packages_they_name() {
    let s = Server::start("with = [\"requests\"]\n", &["--with", "tabulate>=0.9"]).await;

    let id = s.session(None, json!({"packages": ["tabulate"]})).await;
    let r = s
        .run(
            None,
            &id,
            "import sys\nprint('tabulate' in sys.modules)\n\
             import tabulate\nprint(tabulate.tabulate([[1, 2]], tablefmt='plain'))",
        )
        .await;
    assert_eq!(stdout(&r), "True\n1  2\n", "{r}");
    // Only what the session named: requests is offered but not asked for.
    let r = s.run(None, &id, "import requests").await;
    assert_eq!(r["error"]["type"], "ModuleNotFoundError", "{r}");

    // Another spelling of the same name; its dependencies come along.
    let id = s.session(None, json!({"packages": ["Requests"]})).await;
    let r = s
        .run(
            None,
            &id,
            "import idna, urllib3, requests\n\
             print(requests.Request('GET', 'https://example.org', params={'q': 1}).prepare().url)",
        )
        .await;
    assert_eq!(stdout(&r), "https://example.org/?q=1\n", "{r}");

    for bad in ["rich", "https://example.org/p.whl"] {
        let (status, _, msg) = failure(
            s.post("/v1/sessions", None, json!({"packages": [bad]}))
                .await,
        )
        .await;
        assert_eq!(status, 400, "{bad}: {msg}");
        assert!(
            msg.contains("not offered") && msg.contains("tabulate 0."),
            "{bad}: {msg}"
        );
    }
}
