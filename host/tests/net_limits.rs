//! The network policy's edges with real servers on 127.0.0.1 and real
//! CPython: names resolved by the embedder's resolver (DNS answers without
//! a DNS server) are checked like DNS answers, IPv6 forms that embed a
//! blocked IPv4 are refused, and the limits nothing else exercises
//! (`max_bytes_out`, `connect_timeout`, a slow drip against the call's
//! deadline) end the operation with a clear error.
mod net_support;
use eryx::{Error, NetworkLimits, Sandbox, SandboxBuilder};
use net_support::{counting_listener, py_error, start};
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// A sandbox whose resolver answers every name with `answers`.
fn resolving(answers: &[&str]) -> SandboxBuilder {
    let answers: Vec<IpAddr> = answers.iter().map(|a| a.parse().unwrap()).collect();
    Sandbox::builder()
        .timeout(Duration::from_secs(30))
        .resolve_with(move |_, _| Ok(answers.clone()))
}

/// A name rule whose answer is a NAT64/6to4/Teredo/IPv4-compatible form of
/// a metadata or private address is refused, before any connection.
#[tokio::test]
async fn embedded_ipv4_answers_are_refused() {
    for (answer, form) in [
        ("64:ff9b::a9fe:a9fe", "NAT64"),
        ("64:ff9b:1::a9fe:a9fe", "local-use NAT64"),
        ("2002:a9fe:a9fe::1", "6to4"),
        ("2001:0:a9fe:a9fe::1", "Teredo"),
        ("::169.254.169.254", "IPv4-compatible"),
        ("198.18.0.1", "benchmarking"),
        ("203.0.113.9", "documentation"),
        ("240.0.0.1", "reserved"),
    ] {
        let mut sb = resolving(&[answer])
            .allow_host("metadata.test")
            .build()
            .await
            .unwrap();
        let (ty, msg) = py_error(
            sb.execute("import socket\nsocket.create_connection(('metadata.test', 80), timeout=5)")
                .await,
        );
        assert_eq!(ty, "PermissionError", "{answer}: {msg}");
        assert!(
            msg.contains("blocked range") && msg.contains(form) && msg.contains("metadata.test"),
            "{answer}: {msg}"
        );
    }
}

/// The resolver's answer is what the host connects to: a name with no DNS
/// entry reaches the test server, but only because its address is listed
/// literally; without that rule the same answer is refused as loopback.
#[tokio::test]
async fn the_resolver_answers_are_checked_like_dns() {
    let listener = counting_listener().await;
    let p = listener.port;
    let connect =
        format!("import socket\nsocket.create_connection(('svc.test', {p}), timeout=5).close()");
    let mut sb = resolving(&["127.0.0.1"])
        .allow_host(&format!("svc.test:{p}"))
        .build()
        .await
        .unwrap();
    let (ty, msg) = py_error(sb.execute(&connect).await);
    assert!(
        ty == "PermissionError" && msg.contains("blocked range loopback"),
        "{ty}: {msg}"
    );
    assert_eq!(listener.connections(), 0);
    let mut sb = resolving(&["127.0.0.1"])
        .allow_host(&format!("svc.test:{p}"))
        .allow_host(&format!("127.0.0.1:{p}"))
        .build()
        .await
        .unwrap();
    sb.execute(&connect).await.unwrap();
    let t = Instant::now();
    while listener.connections() == 0 && t.elapsed() < Duration::from_secs(2) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(listener.connections(), 1);
    // A resolver error is a DNS error, not a crash.
    let mut sb = Sandbox::builder()
        .allow_host("svc.test")
        .resolve_with(|name, _| Err(std::io::Error::other(format!("no answer for {name}"))))
        .build()
        .await
        .unwrap();
    let (_, msg) = py_error(
        sb.execute("import socket\nsocket.create_connection(('svc.test', 80))")
            .await,
    );
    assert!(
        msg.contains("cannot resolve svc.test") && msg.contains("no answer for svc.test"),
        "{msg}"
    );
}

/// `max_bytes_out` refuses the send that would pass it, and counts again
/// from zero in the next call.
#[tokio::test]
async fn max_bytes_out_is_enforced_per_call() {
    let srv = start(None).await;
    let p = srv.port;
    let mut sb = Sandbox::builder()
        .allow_host(&format!("127.0.0.1:{p}"))
        .network_limits(NetworkLimits {
            max_bytes_out: 10_000,
            ..NetworkLimits::default()
        })
        .build()
        .await
        .unwrap();
    let code = format!(
        "import socket\ns = socket.create_connection(('127.0.0.1', {p}), timeout=5)\n\
         s.sendall(b'x' * 9000)\n\
         try:\n    s.sendall(b'y' * 2000)\n\
         except PermissionError as e:\n    print('refused', 'at most 10000 bytes may be sent per call' in str(e))\n\
         else:\n    print('sent')\ns.close()"
    );
    assert_eq!(sb.execute(&code).await.unwrap(), "refused True\n");
    assert_eq!(sb.execute(&code).await.unwrap(), "refused True\n");
}

/// `connect_timeout` bounds a TLS handshake with a server that never
/// answers.
#[tokio::test]
async fn connect_timeout_ends_a_silent_handshake() {
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let p = silent.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((tcp, _)) = silent.accept().await {
            held.push(tcp); // accepted, never read or answered
        }
    });
    let mut sb = Sandbox::builder()
        .allow_host(&format!("127.0.0.1:{p}"))
        .network_limits(NetworkLimits {
            connect_timeout: Duration::from_millis(800),
            ..NetworkLimits::default()
        })
        .build()
        .await
        .unwrap();
    let t = Instant::now();
    let out = sb
        .execute(&format!(
            "import socket, ssl\ns = socket.create_connection(('127.0.0.1', {p}))\n\
             try:\n    ssl.create_default_context().wrap_socket(s, server_hostname='127.0.0.1')\n\
             except OSError as e:\n    print(type(e).__name__, 'timed out after 0.8 s' in str(e))"
        ))
        .await
        .unwrap();
    assert_eq!(out, "TimeoutError True\n");
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(700) && took < Duration::from_secs(5),
        "{took:?}"
    );
}

/// A response that drips one byte a second never trips the idle timeout,
/// but the call's own deadline ends it.
#[tokio::test]
async fn a_slow_drip_hits_the_calls_deadline() {
    let srv = start(None).await;
    let mut sb = Sandbox::builder()
        .allow_host(&format!("127.0.0.1:{}", srv.port))
        .timeout(Duration::from_secs(3))
        .network_limits(NetworkLimits {
            idle_timeout: Duration::from_secs(2),
            ..NetworkLimits::default()
        })
        .build()
        .await
        .unwrap();
    sb.execute("keep = 'alive'").await.unwrap();
    let t = Instant::now();
    let r = sb
        .execute(&format!(
            "import urllib.request\nurllib.request.urlopen('http://127.0.0.1:{}/drip').read()",
            srv.port
        ))
        .await;
    let took = t.elapsed();
    assert!(matches!(r, Err(Error::Timeout)), "{r:?}");
    assert!(
        took >= Duration::from_millis(2900) && took < Duration::from_secs(6),
        "{took:?}"
    );
    assert_eq!(sb.execute("print(keep)").await.unwrap(), "alive\n");
}
