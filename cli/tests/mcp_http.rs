//! Who may use `eryx mcp --listen`, asked with real HTTP requests to the
//! real binary: a bearer token is required for a non-loopback address and,
//! when configured, of every request; a browser `Origin` must be loopback
//! or allowed with `--allow-origin`; the `Host` must be one the server
//! answers to.
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running `eryx mcp --listen` and its port.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start `eryx mcp ARGS` (with `env`) and wait for its address.
fn serve(args: &[&str], env: &[(&str, &str)]) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_eryx"))
        .arg("mcp")
        .args(args)
        .env_remove("ERYX_MCP_TOKEN")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Owned by the guard from here on, so a failed start is killed too.
    let mut server = Server { child, port: 0 };
    let mut err = BufReader::new(server.child.stderr.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        assert!(err.read_line(&mut line).unwrap() > 0, "server exited");
        if let Some(url) = line.split("http://").nth(1) {
            let port = url
                .trim_end()
                .trim_end_matches("/mcp")
                .rsplit(':')
                .next()
                .unwrap();
            server.port = port.parse().unwrap();
            std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
            return server;
        }
    }
}

/// POST an MCP `initialize` to `/mcp` with extra `headers` (a `Host`
/// given there replaces the default); returns the status code and body.
fn initialize(port: u16, headers: &[(&str, &str)]) -> (u16, String) {
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}"#;
    let mut req = "POST /mcp HTTP/1.1\r\nContent-Type: application/json\r\n\
                   Accept: application/json, text/event-stream\r\nConnection: close\r\n"
        .to_string();
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req += &format!("Host: 127.0.0.1:{port}\r\n");
    }
    for (k, v) in headers {
        req += &format!("{k}: {v}\r\n");
    }
    req += &format!("Content-Length: {}\r\n\r\n{body}", body.len());
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(req.as_bytes()).unwrap();
    let mut resp = Vec::new();
    let mut buf = [0u8; 4096];
    // Enough to see the status and the first event (an SSE stream may stay open).
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 {
            break;
        }
        resp.extend_from_slice(&buf[..n]);
        if String::from_utf8_lossy(&resp).contains("serverInfo") {
            break;
        }
    }
    let text = String::from_utf8_lossy(&resp).into_owned();
    let code = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (code, text)
}

fn ok(r: (u16, String)) {
    assert!(r.0 == 200 && r.1.contains(r#""name":"eryx""#), "{}", r.1);
}

#[test]
fn origins_and_hosts_are_checked() {
    let srv = serve(
        &[
            "--listen",
            "127.0.0.1:0",
            "--allow-origin",
            "https://app.example.com:443",
            "--server-name",
            "mcp.internal",
        ],
        &[],
    );
    let p = srv.port;
    ok(initialize(p, &[]));
    ok(initialize(p, &[("Origin", "http://localhost:3000")]));
    ok(initialize(p, &[("Origin", "http://127.0.0.1:5173")]));
    ok(initialize(p, &[("Origin", "https://app.example.com")]));
    ok(initialize(p, &[("Host", "mcp.internal")]));
    ok(initialize(p, &[("Host", "localhost")]));
    for origin in [
        "http://evil.example",
        "https://app.example.com:8443",
        "http://app.example.com",
        "null",
    ] {
        let (code, text) = initialize(p, &[("Origin", origin)]);
        assert_eq!(code, 403, "{origin}: {text}");
        assert!(!text.contains("serverInfo"), "{text}");
    }
    for host in ["evil.example", "evil.example:80", "10.0.0.1"] {
        let (code, text) = initialize(p, &[("Host", host)]);
        assert_eq!(code, 403, "{host}: {text}");
    }
}

#[test]
fn a_token_is_required_of_every_request() {
    let srv = serve(
        &["--listen", "127.0.0.1:0"],
        &[("ERYX_MCP_TOKEN", "s3cret-token")],
    );
    let p = srv.port;
    for auth in [
        None,
        Some("Bearer wrong"),
        Some("Bearer s3cret-toke"),
        Some("Bearer s3cret-token2"),
        Some("s3cret-token"),
        Some("Basic s3cret-token"),
    ] {
        let headers: Vec<(&str, &str)> = auth.map(|a| ("Authorization", a)).into_iter().collect();
        let (code, text) = initialize(p, &headers);
        assert_eq!(code, 401, "{auth:?}: {text}");
        assert!(
            text.contains("WWW-Authenticate: Bearer") || text.contains("www-authenticate: Bearer"),
            "{text}"
        );
        assert!(!text.contains("serverInfo"), "{text}");
    }
    ok(initialize(p, &[("Authorization", "Bearer s3cret-token")]));
    // The token does not lift the Origin check.
    let (code, _) = initialize(
        p,
        &[
            ("Authorization", "Bearer s3cret-token"),
            ("Origin", "http://evil.example"),
        ],
    );
    assert_eq!(code, 403);
}

#[test]
fn the_network_needs_a_token() {
    let out = Command::new(env!("CARGO_BIN_EXE_eryx"))
        .args(["mcp", "--listen", "0.0.0.0:0"])
        .env_remove("ERYX_MCP_TOKEN")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("without authentication") && err.contains("--token"),
        "{err}"
    );
    // With a token it serves, and still checks the token and the Host.
    let srv = serve(&["--listen", "0.0.0.0:0", "--token", "t0ken-for-net"], &[]);
    ok(initialize(
        srv.port,
        &[("Authorization", "Bearer t0ken-for-net")],
    ));
    assert_eq!(initialize(srv.port, &[]).0, 401);
    let (code, _) = initialize(
        srv.port,
        &[
            ("Authorization", "Bearer t0ken-for-net"),
            ("Host", "evil.example"),
        ],
    );
    assert_eq!(code, 403);
}
