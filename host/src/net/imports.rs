//! The world's `net-*` imports, defined on the host: synchronous for the
//! guest (it blocks in the call), async on the host (`func_wrap_async`:
//! the future runs on tokio). Every failure is an `Err("KIND: message")`
//! the guest turns into the matching Python exception.
use super::conn::{self, Bounds};
use super::NetState;
use crate::instance::{Fault, HostState};
use std::sync::atomic::Ordering;
use std::time::Instant;
use wasmtime::component::Linker;

impl HostState {
    fn bounds(&self) -> Bounds {
        Bounds {
            deadline: self.deadline,
            interrupt: self.interrupt.clone(),
        }
    }

    /// After a network wait: an interrupt or the call's deadline ends the
    /// call right here (as the epoch check would at the next tick), so the
    /// guest cannot catch it.
    fn stop_if_due<T>(&mut self, r: T) -> wasmtime::Result<T> {
        if self.interrupt.load(Ordering::SeqCst) {
            self.fault = Some(Fault::Interrupted);
            return Err(wasmtime::Error::msg("interrupted"));
        }
        if self.deadline.is_some_and(|t| Instant::now() >= t) {
            self.fault = Some(Fault::Timeout);
            return Err(wasmtime::Error::msg("time limit exceeded"));
        }
        Ok(r)
    }
}

async fn connect(
    net: &mut NetState,
    b: &Bounds,
    host: &str,
    port: u16,
    t: u32,
) -> Result<u32, String> {
    let limits = &net.policy.rules.limits;
    if net.opened >= limits.max_connections {
        return Err(format!(
            "limit: connection to {host}:{port} refused: at most {} connections per call",
            limits.max_connections
        ));
    }
    if net.conns.len() >= limits.max_connections as usize {
        return Err(format!(
            "limit: connection to {host}:{port} refused: at most {} connections may be open at once",
            limits.max_connections
        ));
    }
    // Counted before connecting: a refused attempt still used a connection.
    if net.policy.rules.check(&policy_host(host), port).is_ok() {
        net.opened += 1;
    }
    let policy = net.policy.clone();
    let c = conn::connect(
        &policy.rules,
        &policy.secrets,
        policy.resolver.as_ref(),
        b,
        host,
        port,
        t,
    )
    .await?;
    let id = net.next;
    net.next = net.next.wrapping_add(1).max(1);
    net.conns.insert(id, c);
    Ok(id)
}

fn policy_host(host: &str) -> String {
    super::policy::normalize(host)
}

async fn start_tls(
    net: &mut NetState,
    b: &Bounds,
    id: u32,
    name: &str,
    t: u32,
) -> Result<String, String> {
    let config = net.policy.tls()?;
    let limit = conn::limit(t, net.policy.rules.limits.connect_timeout);
    let c = net.conn(id)?;
    let r = c.start_tls(config, b, name, limit).await;
    if r.is_err() {
        // A failed handshake leaves nothing usable.
        net.conns.remove(&id);
    }
    r
}

async fn send(
    net: &mut NetState,
    b: &Bounds,
    id: u32,
    data: Vec<u8>,
    t: u32,
) -> Result<u32, String> {
    let limits = net.policy.rules.limits.clone();
    if net.sent + data.len() as u64 > limits.max_bytes_out {
        return Err(format!(
            "limit: sending refused: at most {} bytes may be sent per call",
            limits.max_bytes_out
        ));
    }
    net.sent += data.len() as u64;
    let limit = conn::limit(t, limits.idle_timeout);
    net.conn(id)?.send(b, &data, limit).await?;
    Ok(data.len() as u32)
}

async fn recv(
    net: &mut NetState,
    b: &Bounds,
    id: u32,
    max: u32,
    t: u32,
) -> Result<Vec<u8>, String> {
    let limits = net.policy.rules.limits.clone();
    if net.received >= limits.max_bytes_in {
        return Err(format!(
            "limit: receiving refused: at most {} bytes may be received per call",
            limits.max_bytes_in
        ));
    }
    let limit = conn::limit(t, limits.idle_timeout);
    let mut received = net.received;
    let c = net
        .conns
        .get_mut(&id)
        .ok_or("closed: no such connection (it was closed)")?;
    let r = c.recv(b, max as usize, limit, &mut received).await;
    net.received = received;
    r
}

/// Define `net-connect`, `net-start-tls`, `net-send`, `net-recv`, `net-close`.
pub(crate) fn define(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    let mut root = linker.root();
    root.func_wrap_async(
        "net-connect",
        |mut store, (host, port, t): (String, u16, u32)| {
            Box::new(async move {
                let d = store.data_mut();
                let b = d.bounds();
                let r = connect(&mut d.net, &b, &host, port, t).await;
                Ok((d.stop_if_due(r)?,))
            })
        },
    )?;
    root.func_wrap_async(
        "net-start-tls",
        |mut store, (id, name, t): (u32, String, u32)| {
            Box::new(async move {
                let d = store.data_mut();
                let b = d.bounds();
                let r = start_tls(&mut d.net, &b, id, &name, t).await;
                Ok((d.stop_if_due(r)?,))
            })
        },
    )?;
    root.func_wrap_async(
        "net-send",
        |mut store, (id, data, t): (u32, Vec<u8>, u32)| {
            Box::new(async move {
                let d = store.data_mut();
                let b = d.bounds();
                let r = send(&mut d.net, &b, id, data, t).await;
                Ok((d.stop_if_due(r)?,))
            })
        },
    )?;
    root.func_wrap_async("net-recv", |mut store, (id, max, t): (u32, u32, u32)| {
        Box::new(async move {
            let d = store.data_mut();
            let b = d.bounds();
            let r = recv(&mut d.net, &b, id, max, t).await;
            Ok((d.stop_if_due(r)?,))
        })
    })?;
    root.func_wrap("net-close", |mut store, (id,): (u32,)| {
        store.data_mut().net.conns.remove(&id);
        Ok(())
    })?;
    Ok(())
}
