//! Outbound HTTP(S) under the host policy: real CPython in real wasmtime
//! talking to real servers on 127.0.0.1 (tests/net_support), with the
//! stdlib's unmodified `urllib` / `http.client` / `socket` / `ssl`.
mod net_support;
use eryx::{Error, NetworkLimits, Sandbox, SandboxBuilder};
use net_support::{counting_listener, https_server, py_error, reaching, start};
use std::time::Duration;

fn allowing(ports: &[u16]) -> SandboxBuilder {
    let mut b = Sandbox::builder().timeout(Duration::from_secs(30));
    for p in ports {
        b = b.allow_host(&format!("127.0.0.1:{p}"));
    }
    b
}

#[tokio::test]
async fn urllib_and_http_client_over_http() {
    let srv = start(None).await;
    let mut sb = allowing(&[srv.port]).build().await.unwrap();
    let out = sb
        .execute(&format!(
            "import urllib.request\n\
             r = urllib.request.urlopen('http://127.0.0.1:{p}/hello', timeout=10)\n\
             print(r.status, r.read())\n\
             import http.client\n\
             c = http.client.HTTPConnection('127.0.0.1', {p})\n\
             c.request('POST', '/echo', body=b'payload=1', headers={{'X-A': 'b'}})\n\
             resp = c.getresponse()\n\
             body = resp.read()\n\
             print(resp.status, body.startswith(b'POST POST /echo'), b'X-A: b' in body, body.endswith(b'payload=1'))\n\
             c.request('GET', '/chunked/50')\n\
             resp = c.getresponse()\n\
             data = resp.read()\n\
             print(resp.status, data.count(b'chunk'), data.endswith(b'chunk 49;'))\n\
             c.request('GET', '/bytes/3000000')\n\
             data = c.getresponse().read()\n\
             print(len(data), data[:3], data[-1:])\n\
             c.close()",
            p = srv.port
        ))
        .await
        .unwrap();
    assert_eq!(
        out,
        "200 b'hello'\n200 True True True\n200 50 True\n3000000 b'abc' b'p'\n"
    );
    // The keep-alive connection served three requests.
    assert_eq!(
        srv.connections(),
        2,
        "one for urlopen, one reused by http.client"
    );
    assert_eq!(srv.requests().len(), 4);
}

#[tokio::test]
async fn urllib_over_https_with_the_embedders_ca() {
    let (ca, srv) = https_server().await;
    let mut sb = reaching(allowing(&[]), &ca, &srv).build().await.unwrap();
    let out = sb
        .execute(&format!(
            "import urllib.request, ssl\n\
             r = urllib.request.urlopen('https://127.0.0.1:{p}/hello', timeout=10)\n\
             print(r.status, r.read())\n\
             import socket\n\
             ctx = ssl.create_default_context()\n\
             with socket.create_connection(('127.0.0.1', {p})) as s:\n\
             \x20   with ctx.wrap_socket(s, server_hostname='127.0.0.1') as t:\n\
             \x20       print(t.version() in ('TLSv1.3', 'TLSv1.2'))\n\
             \x20       print(t.cipher(), t.compression(), t.selected_alpn_protocol(), t.get_verified_chain(),\
                               ctx.get_ciphers(), ctx.session_stats(), ctx.set_default_verify_paths())\n\
             \x20       print(t.get_unverified_chain() is not t.get_unverified_chain(), t.cipher.__qualname__)\n\
             \x20       t.sendall(b'GET /hello HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n')\n\
             \x20       f = t.makefile('rb')\n\
             \x20       print(f.readline())\n",
            p = srv.port
        ))
        .await
        .unwrap();
    assert_eq!(
        out,
        "200 b'hello'\nTrue\nNone None None [] [] {} None\nTrue SSLSocket.cipher\n\
         b'HTTP/1.1 200 OK\\r\\n'\n"
    );

    // Without the CA the certificate is refused, and `verify_mode` /
    // an unverified context cannot switch verification off.
    let mut sb = allowing(&[srv.port]).build().await.unwrap();
    let (ty, msg) = py_error(
        sb.execute(&format!(
            "import ssl, urllib.request\n\
             try:\n\
             \x20   urllib.request.urlopen('https://127.0.0.1:{p}/hello', context=ssl._create_unverified_context())\n\
             except urllib.error.URLError as e:\n\
             \x20   raise e.reason",
            p = srv.port
        ))
        .await,
    );
    assert_eq!(ty, "ssl.SSLCertVerificationError", "{msg}");
    assert!(msg.contains("CERTIFICATE_VERIFY_FAILED"), "{msg}");
    assert_eq!(
        srv.requests().len(),
        2,
        "only the first sandbox's two requests arrived"
    );
}

#[tokio::test]
async fn network_is_off_by_default() {
    let listener = counting_listener().await;
    let mut sb = Sandbox::builder().build().await.unwrap();
    let (ty, msg) = py_error(
        sb.execute(&format!(
            "import socket\nsocket.create_connection(('127.0.0.1', {}))",
            listener.port
        ))
        .await,
    );
    assert_eq!(ty, "PermissionError");
    assert!(msg.contains("network access is off"), "{msg}");
    assert_eq!(listener.connections(), 0);
}

#[tokio::test]
async fn denials_name_the_host_and_the_rule_and_never_connect() {
    let listener = counting_listener().await;
    let p = listener.port;
    let mut sb = Sandbox::builder()
        .allow_host("*.example.org")
        .allow_host(&format!("localhost:{p}"))
        .build()
        .await
        .unwrap();
    let cases = [
        // a host not in the list
        (
            format!("('evil.example.com', {p})"),
            "no allowed-host rule matches",
            "evil.example.com",
        ),
        // a private address not listed (and a wildcard never matches an address)
        (
            format!("('127.0.0.1', {p})"),
            "no allowed-host rule matches",
            "127.0.0.1",
        ),
        (
            "('10.0.0.1', 443)".to_string(),
            "no allowed-host rule matches",
            "10.0.0.1",
        ),
        // an allowed name that resolves to a blocked address
        (
            format!("('localhost', {p})"),
            "blocked range loopback",
            "localhost",
        ),
        // an allowed pattern on a port it does not allow
        (
            "('a.example.org', 8080)".to_string(),
            "port 8080 is not allowed",
            "a.example.org",
        ),
    ];
    for (addr, why, host) in cases {
        let (ty, msg) = py_error(
            sb.execute(&format!(
                "import socket\nsocket.create_connection({addr}, timeout=5)"
            ))
            .await,
        );
        assert_eq!(ty, "PermissionError", "{addr}: {msg}");
        assert!(msg.contains(why) && msg.contains(host), "{addr}: {msg}");
    }
    // urllib reports the same denial inside its URLError.
    let out = sb
        .execute(&format!(
            "import urllib.request\n\
             try:\n\
             \x20   urllib.request.urlopen('http://localhost:{p}/')\n\
             except urllib.error.URLError as e:\n\
             \x20   print(type(e.reason).__name__, 'localhost' in str(e.reason))"
        ))
        .await
        .unwrap();
    assert_eq!(out, "PermissionError True\n");
    assert_eq!(
        listener.connections(),
        0,
        "the host connected to a denied address"
    );
    // A literally listed address inside a blocked range is reachable.
    let mut sb = allowing(&[p]).build().await.unwrap();
    let r = sb
        .execute(&format!(
            "import socket\ns = socket.create_connection(('127.0.0.1', {p}), timeout=5)\ns.close()"
        ))
        .await;
    assert!(r.is_ok(), "{r:?}");
    for _ in 0..100 {
        if listener.connections() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(listener.connections(), 1);
}

#[tokio::test]
async fn redirects_to_a_host_outside_the_policy_are_refused() {
    let srv = start(None).await;
    let other = counting_listener().await;
    let mut sb = allowing(&[srv.port]).build().await.unwrap();
    let out = sb
        .execute(&format!(
            "import urllib.request\n\
             for to in ['http://127.0.0.1:{o}/', 'http://evil.example.com/']:\n\
             \x20   try:\n\
             \x20       urllib.request.urlopen('http://127.0.0.1:{p}/redirect?to=' + to, timeout=5)\n\
             \x20   except urllib.error.URLError as e:\n\
             \x20       print(type(e.reason).__name__, str(e.reason))",
            p = srv.port,
            o = other.port
        ))
        .await
        .unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with("PermissionError")
            && lines[0].contains(&format!("127.0.0.1:{}", other.port)),
        "{out}"
    );
    assert!(
        lines[1].starts_with("PermissionError") && lines[1].contains("evil.example.com"),
        "{out}"
    );
    assert_eq!(other.connections(), 0);
    // A redirect within the policy is followed.
    let out = sb
        .execute(&format!(
            "print(urllib.request.urlopen('http://127.0.0.1:{p}/redirect?to=/hello').read())",
            p = srv.port
        ))
        .await
        .unwrap();
    assert_eq!(out, "b'hello'\n");
}

#[tokio::test]
async fn connection_and_byte_caps_per_call() {
    let srv = start(None).await;
    let mut sb = allowing(&[srv.port])
        .network_limits(NetworkLimits {
            max_connections: 3,
            max_bytes_in: 100_000,
            ..NetworkLimits::default()
        })
        .build()
        .await
        .unwrap();
    let code = format!(
        "import socket\n\
         n = 0\n\
         try:\n\
         \x20   for i in range(10):\n\
         \x20       socket.create_connection(('127.0.0.1', {p})).close()\n\
         \x20       n += 1\n\
         except PermissionError as e:\n\
         \x20   print(n, 'at most 3 connections' in str(e))",
        p = srv.port
    );
    assert_eq!(sb.execute(&code).await.unwrap(), "3 True\n");
    // The count starts again with each call.
    assert_eq!(sb.execute(&code).await.unwrap(), "3 True\n");
    // Connections kept open across calls count against the same cap.
    let keep = format!(
        "import socket\nkept = [socket.create_connection(('127.0.0.1', {p})) for _ in range(3)]",
        p = srv.port
    );
    sb.execute(&keep).await.unwrap();
    let (ty, msg) = py_error(sb.execute(&keep).await);
    assert!(
        ty == "PermissionError" && msg.contains("open at once"),
        "{ty}: {msg}"
    );
    sb.execute("for s in kept: s.close()").await.unwrap();
    assert_eq!(sb.execute(&code).await.unwrap(), "3 True\n");
    let (ty, msg) = py_error(
        sb.execute(&format!(
            "import urllib.request\nurllib.request.urlopen('http://127.0.0.1:{p}/bytes/1000000').read()",
            p = srv.port
        ))
        .await,
    );
    assert!(
        ty == "PermissionError" && msg.contains("received per call"),
        "{ty}: {msg}"
    );
}

#[tokio::test]
async fn a_slow_server_times_out_without_hanging() {
    let srv = start(None).await;
    let mut sb = allowing(&[srv.port])
        .network_limits(NetworkLimits {
            idle_timeout: Duration::from_secs(1),
            ..NetworkLimits::default()
        })
        .build()
        .await
        .unwrap();
    let t = std::time::Instant::now();
    let out = sb
        .execute(&format!(
            "import urllib.request, socket\n\
             try:\n\
             \x20   urllib.request.urlopen('http://127.0.0.1:{p}/slow')\n\
             except Exception as e:\n\
             \x20   print(type(e).__name__, 'timed out' in str(e))\n\
             s = socket.create_connection(('127.0.0.1', {p}))\n\
             s.settimeout(0.3)\n\
             s.sendall(b'GET /slow HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n')\n\
             try:\n\
             \x20   s.recv(10)\n\
             except socket.timeout as e:\n\
             \x20   print('socket.timeout', type(e).__name__)",
            p = srv.port
        ))
        .await
        .unwrap();
    assert_eq!(out, "TimeoutError True\nsocket.timeout TimeoutError\n");
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());

    // The call's own timeout bounds a wait the guest asked to be long.
    let mut sb = allowing(&[srv.port])
        .timeout(Duration::from_secs(2))
        .build()
        .await
        .unwrap();
    let t = std::time::Instant::now();
    let r = sb
        .execute(&format!(
            "import urllib.request\nurllib.request.urlopen('http://127.0.0.1:{p}/slow', timeout=60)",
            p = srv.port
        ))
        .await;
    assert!(matches!(r, Err(Error::Timeout)), "{r:?}");
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
    assert_eq!(sb.execute("print('alive')").await.unwrap(), "alive\n");
}

#[tokio::test]
async fn unsupported_socket_uses_fail_clearly() {
    let mut sb = allowing(&[])
        .allow_host("example.com")
        .build()
        .await
        .unwrap();
    let out = sb
        .execute(
            "import socket\n\
             for f in [lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM),\n\
             \x20         lambda: socket.socket().bind(('0.0.0.0', 0)),\n\
             \x20         lambda: socket.socket().listen()]:\n\
             \x20   try:\n\
             \x20       f()\n\
             \x20   except OSError as e:\n\
             \x20       print(type(e).__name__, 'sandbox' in str(e))\n\
             print(socket.getaddrinfo('example.com', 443)[0][4])",
        )
        .await
        .unwrap();
    assert_eq!(
        out,
        "OSError True\nOSError True\nOSError True\n('example.com', 443)\n"
    );
}

#[tokio::test]
async fn invalid_policies_fail_the_build() {
    for bad in ["*", "a*.b", "host:0", "host:99999", ""] {
        let r = Sandbox::builder().allow_host(bad).build().await;
        assert!(matches!(r, Err(Error::Setup(_))), "{bad:?}");
    }
    let r = Sandbox::builder()
        .add_root_certificate(b"not a pem")
        .build()
        .await;
    assert!(matches!(r, Err(Error::Setup(_))));
    let r = Sandbox::builder()
        .secret("SHORT", "abc", &["example.com"])
        .build()
        .await;
    assert!(matches!(r, Err(Error::Setup(m)) if m.contains("shorter than 8 bytes")));
}

#[tokio::test]
async fn an_interrupt_ends_a_network_wait() {
    let srv = start(None).await;
    let mut sb = allowing(&[srv.port]).build().await.unwrap();
    let handle = sb.interrupt_handle();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        handle.interrupt();
    });
    let t = std::time::Instant::now();
    let r = sb
        .execute(&format!(
            "import urllib.request\n\
             try:\n\
             \x20   urllib.request.urlopen('http://127.0.0.1:{p}/slow', timeout=60)\n\
             except BaseException:\n\
             \x20   print('caught')",
            p = srv.port
        ))
        .await;
    assert!(matches!(r, Err(Error::Interrupted)), "{r:?}");
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    assert_eq!(sb.execute("print('alive')").await.unwrap(), "alive\n");
}
