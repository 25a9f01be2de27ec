//! Unmodified `requests` (+ urllib3 2.x, idna, charset-normalizer,
//! certifi: pinned pure-Python wheels from scripts/fetch-net-wheels.sh,
//! passed as packages) against local HTTPS servers.
mod net_support;
use eryx::Sandbox;
use net_support::{counting_listener, https_server, reaching, Server, TestCa};
use std::path::PathBuf;
use std::time::Duration;

/// The pinned wheels (downloaded once by the script).
pub fn wheels() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = std::process::Command::new(root.join("scripts/fetch-net-wheels.sh"))
        .output()
        .expect("running scripts/fetch-net-wheels.sh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    let mut w: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "whl"))
        .collect();
    w.sort();
    assert_eq!(w.len(), 5, "{w:?}");
    w
}

/// A sandbox with `requests` installed that may reach `srv` (and `more`).
async fn requests_sandbox(ca: &TestCa, srv: &Server, more: &[&str]) -> Sandbox {
    let mut b = Sandbox::builder().timeout(Duration::from_secs(60));
    for w in wheels() {
        b = b.package(w);
    }
    for h in more {
        b = b.allow_host(h);
    }
    reaching(b, ca, srv).build().await.unwrap()
}

#[tokio::test]
async fn requests_get_post_chunked_large_and_keep_alive_over_https() {
    let (ca, srv) = https_server().await;
    let p = srv.port;
    let mut sb = requests_sandbox(&ca, &srv, &[]).await;
    let out = sb
        .execute(&format!(
            "import requests, warnings\n\
             base = 'https://127.0.0.1:{p}'\n\
             r = requests.get(base + '/hello', timeout=10)\n\
             print(r.status_code, r.text)\n\
             r = requests.post(base + '/echo', json={{'a': 1}}, timeout=10)\n\
             print(r.status_code, r.text.startswith('POST POST /echo'), r.text.endswith('{{\"a\": 1}}'))\n\
             with requests.Session() as s:\n\
             \x20   r = s.get(base + '/chunked/200')\n\
             \x20   print(r.text.count('chunk'), r.headers.get('transfer-encoding'))\n\
             \x20   big = s.get(base + '/bytes/1048576').content\n\
             \x20   print(len(big), big[:4])\n\
             \x20   print([s.get(base + '/hello').text for _ in range(5)] == ['hello'] * 5)\n\
             r = requests.get(base + '/redirect?to=/hello')\n\
             print(r.status_code, r.text, len(r.history))"
        ))
        .await
        .unwrap();
    assert_eq!(
        out,
        "200 hello\n200 True True\n200 chunked\n1048576 b'abcd'\nTrue\n200 hello 1\n"
    );
    // get, post, one keep-alive session (7 requests), get + redirect
    // (kept alive too: same pool).
    assert_eq!(srv.requests().len(), 11);
    assert!(srv.connections() <= 4, "{} connections", srv.connections());
}

#[tokio::test]
async fn requests_denials_are_clear() {
    let (ca, srv) = https_server().await;
    let other = counting_listener().await;
    let p = srv.port;
    let mut sb = requests_sandbox(&ca, &srv, &["*.example.org"]).await;
    let out = sb
        .execute(&format!(
            "import requests\n\
             def why(url):\n\
             \x20   try:\n\
             \x20       requests.get(url, timeout=5)\n\
             \x20   except requests.exceptions.RequestException as e:\n\
             \x20       return type(e).__name__ + ': ' + str(e)\n\
             print(why('https://evil.example.com/'))\n\
             print(why('http://127.0.0.1:{o}/'))\n\
             print(why('https://127.0.0.1:{p}/redirect?to=http://127.0.0.1:{o}/x'))\n\
             print(why('https://127.0.0.1:{p}/redirect?to=https://evil.example.com/'))\n\
             print(why('https://localhost:{p}/'))",
            o = other.port
        ))
        .await
        .unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5, "{out}");
    let expect = [
        "evil.example.com:443: no allowed-host rule",
        &format!("127.0.0.1:{o}: port {o} is not allowed", o = other.port),
        &format!("127.0.0.1:{o}: port {o} is not allowed", o = other.port),
        "evil.example.com:443: no allowed-host rule",
        &format!("localhost:{p}: no allowed-host rule"),
    ];
    for (line, want) in lines.iter().zip(expect) {
        assert!(line.starts_with("ConnectionError: "), "{line}");
        assert!(
            line.contains("Failed to establish a new connection"),
            "{line}"
        );
        assert!(line.contains(want), "{line} should contain {want}");
    }
    assert_eq!(other.connections(), 0);
}
