//! Host callbacks offered to the guest (`await name(**kwargs)` in Python):
//! the registry, and the body of the `invoke` import with its per-call
//! timeout and per-execute invocation cap. Also the trace event type.
use serde_json::Value;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The future a callback handler returns.
pub type CallbackFuture = Pin<Box<dyn Future<Output = Result<Value, String>> + Send>>;

/// A callback handler: JSON arguments in, JSON result or error message out.
pub type Handler = Arc<dyn Fn(Value) -> CallbackFuture + Send + Sync>;

/// One registered callback.
#[derive(Clone)]
pub struct Callback {
    /// The name Python calls it by (dots make namespaces: `http.get`).
    pub name: String,
    /// What it does (for people reading the sandbox setup).
    pub description: String,
    pub(crate) handler: Handler,
}

/// The callbacks of one sandbox and their limits.
#[derive(Default)]
pub(crate) struct Callbacks {
    pub map: BTreeMap<String, Callback>,
    pub timeout: Option<Duration>,
    pub max_invocations: Option<u32>,
    pub used: AtomicU32,
}

impl Callbacks {
    /// Names in a stable order.
    pub fn names(&self) -> Vec<String> {
        self.map.keys().cloned().collect()
    }

    /// Start a new execute: the invocation cap counts from zero again.
    pub fn reset(&self) {
        self.used.store(0, Ordering::Relaxed);
    }

    /// Invocations since the last [`Callbacks::reset`].
    pub fn used(&self) -> u32 {
        self.used.load(Ordering::Relaxed)
    }

    /// Run callback `name` with JSON `args`; the result as JSON text, or an
    /// error message for the guest (never a host path or backtrace).
    pub async fn call(self: Arc<Self>, name: String, args: String) -> Result<String, String> {
        let cb = self
            .map
            .get(&name)
            .ok_or_else(|| format!("no callback named {name:?}"))?;
        let n = self.used.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(max) = self.max_invocations {
            if n > max {
                return Err(format!(
                    "callback limit exceeded: at most {max} calls per execute"
                ));
            }
        }
        let args: Value =
            serde_json::from_str(&args).map_err(|e| format!("invalid JSON arguments: {e}"))?;
        let fut = (cb.handler)(args);
        let result = match self.timeout {
            Some(t) => tokio::time::timeout(t, fut).await.map_err(|_| {
                format!("callback {name:?} timed out after {:.3} s", t.as_secs_f64())
            })?,
            None => fut.await,
        }?;
        Ok(result.to_string())
    }
}

/// One trace event from user code.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceEvent {
    /// `line`, `call`, `return` or `exception`.
    pub event: String,
    /// Line number in the executed code.
    pub line: u32,
    /// Name of the function (`<module>` at top level).
    pub function: String,
    /// The raw JSON event (with any extra fields, e.g. `exception`).
    pub raw: Value,
}

impl TraceEvent {
    /// Parse the guest's JSON event.
    pub(crate) fn parse(json: &str) -> Option<TraceEvent> {
        let raw: Value = serde_json::from_str(json).ok()?;
        Some(TraceEvent {
            event: raw.get("event")?.as_str()?.to_string(),
            line: raw.get("line")?.as_u64()? as u32,
            function: raw.get("function")?.as_str()?.to_string(),
            raw,
        })
    }
}

/// A handler for trace events.
pub type TraceHandler = Arc<dyn Fn(TraceEvent) + Send + Sync>;
