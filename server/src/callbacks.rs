//! Operator-declared HTTP callbacks: the guest's `await name(**kw)` becomes
//! a POST of `{"callback", "tenant", "session", "arguments"}` to the URL the
//! server configuration gives for `name`. Clients never supply URLs.
use crate::config::CallbackConfig;
use eryx::SandboxBuilder;
use serde_json::{json, Value};
use std::time::Duration;

/// Largest callback response body accepted.
const MAX_RESPONSE: usize = 4 << 20;

/// Who is calling (sent with every callback request).
#[derive(Clone)]
pub struct Identity {
    pub tenant: String,
    pub session: Option<String>,
}

/// Offer every configured callback to the sandbox being built.
pub fn register(
    mut builder: SandboxBuilder,
    callbacks: &[CallbackConfig],
    client: &reqwest::Client,
    who: &Identity,
) -> SandboxBuilder {
    for cb in callbacks {
        let (client, who, cb2) = (client.clone(), who.clone(), cb.clone());
        builder = builder.callback(&cb.name, &cb.description, move |args| {
            post(client.clone(), cb2.clone(), who.clone(), args)
        });
    }
    builder
}

/// One callback invocation. The message of a failure is for the guest: it
/// names the callback, never the URL.
pub async fn post(
    client: reqwest::Client,
    cb: CallbackConfig,
    who: Identity,
    args: Value,
) -> Result<Value, String> {
    let name = &cb.name;
    let body = json!({
        "callback": name,
        "tenant": who.tenant,
        "session": who.session,
        "arguments": args,
    });
    let resp = client
        .post(&cb.url)
        .timeout(Duration::from_millis(cb.timeout_ms))
        .json(&body)
        .send()
        .await
        .map_err(|e| {
            if e.is_timeout() {
                format!("callback {name} timed out")
            } else {
                format!("callback {name} is unreachable")
            }
        })?;
    let status = resp.status();
    let bytes = resp
        .bytes()
        .await
        .map_err(|_| format!("callback {name}: reading the response failed"))?;
    if !status.is_success() {
        return Err(format!("callback {name} failed: HTTP {}", status.as_u16()));
    }
    if bytes.len() > MAX_RESPONSE {
        return Err(format!("callback {name}: response too large"));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(&bytes).map_err(|_| format!("callback {name}: response is not JSON"))
}
