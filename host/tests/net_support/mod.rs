//! Real HTTP/1.1 and HTTPS servers on 127.0.0.1 for the network tests and
//! the network benchmark: a test CA made with rcgen, a small keep-alive
//! HTTP server (tokio + tokio-rustls) with a few routes, every request
//! recorded and every accepted connection counted.
#![allow(dead_code)]
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// The Python exception type and message of a failed run.
pub fn py_error(r: Result<String, eryx::Error>) -> (String, String) {
    match r {
        Err(eryx::Error::Python {
            type_name, message, ..
        }) => (type_name, message),
        other => panic!("expected a Python exception, got {other:?}"),
    }
}

/// A test CA and a server certificate it signed for `localhost` and
/// `127.0.0.1`.
pub struct TestCa {
    /// The CA certificate (what the sandbox must trust).
    pub ca_pem: String,
    server: Arc<rustls::ServerConfig>,
}

impl TestCa {
    pub fn new() -> TestCa {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
        let ca_key = KeyPair::generate().unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "eryx test CA");
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca, ca_key);
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .unwrap()
            .signed_by(&leaf_key, &issuer)
            .unwrap();
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let server = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![leaf.der().clone(), ca_cert.der().clone()], key)
            .unwrap();
        TestCa {
            ca_pem: ca_cert.pem(),
            server: Arc::new(server),
        }
    }
}

/// One request as the server saw it (after the sandbox's host rewrote it).
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// The request line and headers, as received.
    pub head: String,
    pub body: Vec<u8>,
}

/// A running server.
pub struct Server {
    pub port: u16,
    pub connections: Arc<AtomicUsize>,
    pub requests: Arc<Mutex<Vec<Request>>>,
}

impl Server {
    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Requests served so far.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

/// A local HTTPS server with a fresh test CA.
pub async fn https_server() -> (TestCa, Server) {
    let ca = TestCa::new();
    let srv = start(Some(&ca)).await;
    (ca, srv)
}

/// `b`, allowed to reach `srv` and trusting `ca`.
pub fn reaching(b: eryx::SandboxBuilder, ca: &TestCa, srv: &Server) -> eryx::SandboxBuilder {
    b.allow_host(&format!("127.0.0.1:{}", srv.port))
        .add_root_certificate(ca.ca_pem.as_bytes())
}

/// Start a server (HTTPS with `ca`'s certificate, else HTTP).
pub async fn start(ca: Option<&TestCa>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(Mutex::new(Vec::new()));
    let tls = ca.map(|c| tokio_rustls::TlsAcceptor::from(c.server.clone()));
    let (conns, reqs) = (connections.clone(), requests.clone());
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            conns.fetch_add(1, Ordering::SeqCst);
            let _ = tcp.set_nodelay(true);
            let (tls, reqs) = (tls.clone(), reqs.clone());
            tokio::spawn(async move {
                match tls {
                    Some(acceptor) => {
                        if let Ok(s) = acceptor.accept(tcp).await {
                            serve(s, reqs, port).await;
                        }
                    }
                    None => serve(tcp, reqs, port).await,
                }
            });
        }
    });
    Server {
        port,
        connections,
        requests,
    }
}

/// A listener that only counts the connections it accepts (and closes
/// them): proof that the host never connected where it must not.
pub async fn counting_listener() -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    let c = connections.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            c.fetch_add(1, Ordering::SeqCst);
            drop(tcp);
        }
    });
    Server {
        port,
        connections,
        requests: Arc::default(),
    }
}

async fn serve<S>(stream: S, reqs: Arc<Mutex<Vec<Request>>>, port: u16)
where
    S: tokio::io::AsyncRead + AsyncWrite + Unpin,
{
    let mut r = BufReader::new(stream);
    loop {
        let mut head = String::new();
        loop {
            let mut line = String::new();
            match r.read_line(&mut line).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            head.push_str(&line);
            if line == "\r\n" || line == "\n" {
                break;
            }
        }
        let first = head.lines().next().unwrap_or("").to_string();
        let mut parts = first.split(' ');
        let method = parts.next().unwrap_or("").to_string();
        let path = parts.next().unwrap_or("").to_string();
        let header = |name: &str| {
            head.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
            })
        };
        let len: usize = header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0u8; len];
        if r.read_exact(&mut body).await.is_err() {
            return;
        }
        let close = header("connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
        reqs.lock().unwrap().push(Request {
            method: method.clone(),
            path: path.clone(),
            head: head.clone(),
            body: body.clone(),
        });
        if respond(r.get_mut(), &method, &path, &head, &body, port)
            .await
            .is_err()
            || close
        {
            return;
        }
    }
}

async fn send<W: AsyncWrite + Unpin>(
    w: &mut W,
    status: &str,
    headers: &str,
    body: &[u8],
) -> std::io::Result<()> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\n{headers}\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    w.write_all(&out).await?;
    w.flush().await
}

/// The routes: `/hello`, `/echo` (request head + body back), `/bytes/N`,
/// `/chunked/N` (N chunks), `/redirect?to=URL`, `/slow` (10 s before
/// answering), `/drip` (headers, then one byte a second).
async fn respond<W: AsyncWrite + Unpin>(
    w: &mut W,
    method: &str,
    path: &str,
    head: &str,
    body: &[u8],
    _port: u16,
) -> std::io::Result<()> {
    if path == "/hello" {
        return send(w, "200 OK", "Content-Type: text/plain\r\n", b"hello").await;
    }
    if path == "/echo" {
        let mut out = format!("{method} {head}").into_bytes();
        out.extend_from_slice(body);
        return send(w, "200 OK", "Content-Type: text/plain\r\n", &out).await;
    }
    if let Some(n) = path.strip_prefix("/bytes/") {
        let n: usize = n.parse().unwrap_or(0);
        let data: Vec<u8> = (0..n).map(|i| b'a' + (i % 26) as u8).collect();
        return send(
            w,
            "200 OK",
            "Content-Type: application/octet-stream\r\n",
            &data,
        )
        .await;
    }
    if let Some(n) = path.strip_prefix("/chunked/") {
        let n: usize = n.parse().unwrap_or(0);
        w.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            .await?;
        for i in 0..n {
            let piece = format!("chunk {i};");
            w.write_all(format!("{:x}\r\n{piece}\r\n", piece.len()).as_bytes())
                .await?;
            w.flush().await?;
        }
        w.write_all(b"0\r\n\r\n").await?;
        return w.flush().await;
    }
    if let Some(to) = path.strip_prefix("/redirect?to=") {
        let loc = format!("Location: {to}\r\n");
        return send(w, "302 Found", &loc, b"").await;
    }
    if path == "/slow" {
        tokio::time::sleep(Duration::from_secs(10)).await;
        return send(w, "200 OK", "", b"late").await;
    }
    if path == "/drip" {
        w.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
            .await?;
        for _ in 0..100 {
            w.write_all(b"x").await?;
            w.flush().await?;
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        return Ok(());
    }
    send(w, "404 Not Found", "", b"not found").await
}
