//! Host-side connections: resolve, check, connect, TLS (rustls), send and
//! receive under the policy's limits and the call's deadline. One
//! [`Conn`] per guest handle; secrets are swapped in and out here.
use super::policy::{normalize, Rules};
use super::secrets::{Rewriter, Secret};
use super::Resolver;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// Largest piece one receive hands to the guest.
const MAX_CHUNK: usize = 1 << 20;
/// How long a receive waits for the rest of a possible secret before it
/// passes on what it holds.
const HOLD_WAIT: Duration = Duration::from_millis(200);

/// What bounds one operation besides its own timeout: the call's deadline
/// and the sandbox's interrupt flag.
pub(crate) struct Bounds {
    pub deadline: Option<Instant>,
    pub interrupt: Arc<AtomicBool>,
}

impl Bounds {
    /// Run `fut` for at most `limit` (and never past the call's deadline);
    /// `what` names the operation in the timeout message.
    pub async fn run<T>(
        &self,
        limit: Duration,
        what: &str,
        fut: impl Future<Output = std::io::Result<T>>,
    ) -> Result<std::io::Result<T>, String> {
        let mut until = Instant::now() + limit;
        let mut by_call = false;
        if let Some(d) = self.deadline {
            if d < until {
                until = d;
                by_call = true;
            }
        }
        let interrupt = self.interrupt.clone();
        let watch = async move {
            loop {
                if interrupt.load(Ordering::SeqCst) {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        tokio::select! {
            biased;
            r = fut => Ok(r),
            _ = tokio::time::sleep_until(until.into()) => Err(if by_call {
                format!("timeout: {what}: the call's time limit was reached")
            } else {
                format!("timeout: {what} timed out after {:.1} s", limit.as_secs_f64())
            }),
            _ = watch => Err(format!("error: {what}: interrupted")),
        }
    }
}

/// The guest's timeout in ms (`u32::MAX`: none) capped by `default`.
pub(crate) fn limit(timeout_ms: u32, default: Duration) -> Duration {
    if timeout_ms == u32::MAX {
        default
    } else {
        Duration::from_millis(timeout_ms as u64).min(default)
    }
}

enum Io {
    Tcp(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    Gone,
}

/// One open connection.
pub(crate) struct Conn {
    /// The host as the guest asked for it (normalised) and the port.
    pub host: String,
    pub port: u16,
    io: Io,
    /// Placeholder -> value for the secrets this host may receive.
    out: Rewriter,
    /// Value -> placeholder for every secret.
    inp: Rewriter,
    eof: bool,
}

fn io_kind(e: &std::io::Error) -> &'static str {
    use std::io::ErrorKind::*;
    match e.kind() {
        ConnectionRefused => "refused",
        ConnectionReset | ConnectionAborted | BrokenPipe => "reset",
        TimedOut => "timeout",
        _ => "error",
    }
}

/// Resolve and connect to `host:port` under `rules`; every address is
/// checked before it is connected to, and only checked addresses are.
pub(crate) async fn connect(
    rules: &Rules,
    secrets: &[Secret],
    resolver: Option<&Resolver>,
    bounds: &Bounds,
    host: &str,
    port: u16,
    timeout_ms: u32,
) -> Result<Conn, String> {
    let host = normalize(host);
    rules.check(&host, port)?;
    let limit = limit(timeout_ms, rules.limits.connect_timeout);
    let what = format!("connecting to {host}:{port}");
    let addrs: Vec<SocketAddr> = match (host.parse::<IpAddr>(), resolver) {
        (Ok(ip), _) => vec![SocketAddr::new(ip, port)],
        (Err(_), Some(resolve)) => resolve(host.as_str(), port)
            .map_err(|e| format!("dns: cannot resolve {host}: {e}"))?
            .into_iter()
            .map(|ip| SocketAddr::new(ip, port))
            .collect(),
        (Err(_), None) => bounds
            .run(limit, &what, tokio::net::lookup_host((host.as_str(), port)))
            .await?
            .map_err(|e| format!("dns: cannot resolve {host}: {e}"))?
            .collect(),
    };
    let mut denied = None;
    let mut last = None;
    for addr in addrs {
        if let Err(e) = rules.check_address(&host, addr.ip(), port) {
            denied.get_or_insert(e);
            continue;
        }
        match bounds.run(limit, &what, TcpStream::connect(addr)).await? {
            Ok(tcp) => {
                let _ = tcp.set_nodelay(true);
                let out = secrets
                    .iter()
                    .filter(|s| s.allowed_for(&host, port))
                    .map(|s| (s.placeholder.clone(), s.value.clone()))
                    .collect();
                let inp = secrets
                    .iter()
                    .map(|s| (s.value.clone(), s.placeholder.clone()))
                    .collect();
                return Ok(Conn {
                    host,
                    port,
                    io: Io::Tcp(tcp),
                    out: Rewriter::new(out),
                    inp: Rewriter::new(inp),
                    eof: false,
                });
            }
            Err(e) => last = Some(format!("{}: {what} ({addr}): {e}", io_kind(&e))),
        }
    }
    Err(last
        .or(denied)
        .unwrap_or_else(|| format!("dns: {host} has no address")))
}

impl Conn {
    /// Start TLS as `server_name` (must be the host connected to),
    /// verified with `config`'s roots. Returns the protocol version.
    pub async fn start_tls(
        &mut self,
        config: Arc<rustls::ClientConfig>,
        bounds: &Bounds,
        server_name: &str,
        limit: Duration,
    ) -> Result<String, String> {
        let name = normalize(server_name);
        if name != self.host {
            return Err(format!(
                "denied: TLS server name {name:?} differs from the host connected to ({})",
                self.host
            ));
        }
        let sni = rustls::pki_types::ServerName::try_from(name.clone())
            .map_err(|e| format!("tls: invalid server name {name:?}: {e}"))?;
        let tcp = match std::mem::replace(&mut self.io, Io::Gone) {
            Io::Tcp(t) => t,
            other => {
                self.io = other;
                return Err("error: TLS is already active (or the connection is closed)".into());
            }
        };
        let what = format!("TLS handshake with {}:{}", self.host, self.port);
        let connector = tokio_rustls::TlsConnector::from(config);
        let tls = bounds
            .run(limit, &what, connector.connect(sni, tcp))
            .await?
            .map_err(|e| {
                format!("tls: {what}: certificate verify failed or handshake error: {e}")
            })?;
        let version = match tls.get_ref().1.protocol_version() {
            Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3",
            Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2",
            _ => "TLS",
        };
        self.io = Io::Tls(Box::new(tls));
        Ok(version.to_string())
    }

    async fn write(&mut self, bounds: &Bounds, data: &[u8], limit: Duration) -> Result<(), String> {
        if data.is_empty() {
            return Ok(());
        }
        let what = format!("sending to {}:{}", self.host, self.port);
        let r = match &mut self.io {
            Io::Tcp(t) => bounds.run(limit, &what, t.write_all(data)).await?,
            Io::Tls(t) => {
                bounds
                    .run(limit, &what, async {
                        t.write_all(data).await?;
                        t.flush().await
                    })
                    .await?
            }
            Io::Gone => return Err("closed: the connection is closed".into()),
        };
        r.map_err(|e| format!("{}: {what}: {e}", io_kind(&e)))
    }

    /// Send `data` (secret placeholders swapped for this host).
    pub async fn send(
        &mut self,
        bounds: &Bounds,
        data: &[u8],
        limit: Duration,
    ) -> Result<(), String> {
        let bytes = self.out.feed(data);
        self.write(bounds, &bytes, limit).await
    }

    /// Everything held back for a possible placeholder goes out now.
    async fn flush_out(&mut self, bounds: &Bounds, limit: Duration) -> Result<(), String> {
        if self.out.holding() {
            let rest = self.out.flush();
            self.write(bounds, &rest, limit).await?;
        }
        Ok(())
    }

    async fn read_raw(
        &mut self,
        bounds: &Bounds,
        buf: &mut [u8],
        limit: Duration,
    ) -> Result<usize, String> {
        let what = format!("receiving from {}:{}", self.host, self.port);
        let r = match &mut self.io {
            Io::Tcp(t) => bounds.run(limit, &what, t.read(buf)).await?,
            Io::Tls(t) => bounds.run(limit, &what, t.read(buf)).await?,
            Io::Gone => return Err("closed: the connection is closed".into()),
        };
        match r {
            Ok(n) => Ok(n),
            // A peer that closes without TLS close_notify: end of stream
            // (as Python's `suppress_ragged_eofs`).
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(0),
            Err(e) => Err(format!("{}: {what}: {e}", io_kind(&e))),
        }
    }

    /// Receive up to `max` bytes (empty: end of stream); counts raw bytes
    /// in `received`. `limit` zero only takes what already arrived.
    pub async fn recv(
        &mut self,
        bounds: &Bounds,
        max: usize,
        limit: Duration,
        received: &mut u64,
    ) -> Result<Vec<u8>, String> {
        self.flush_out(bounds, limit.max(Duration::from_secs(1)))
            .await?;
        if self.eof {
            return Ok(self.inp.flush());
        }
        let mut buf = vec![0u8; max.clamp(1, MAX_CHUNK)];
        let mut wait = limit;
        loop {
            let n = match self.read_raw(bounds, &mut buf, wait).await {
                Ok(n) => n,
                Err(e) if self.inp.holding() && e.starts_with("timeout") => {
                    return Ok(self.inp.flush());
                }
                Err(e) => return Err(e),
            };
            *received += n as u64;
            if n == 0 {
                self.eof = true;
                return Ok(self.inp.flush());
            }
            let out = self.inp.feed(&buf[..n]);
            if !out.is_empty() {
                return Ok(out);
            }
            // Everything is held: a secret may be arriving in pieces.
            wait = HOLD_WAIT;
        }
    }
}
