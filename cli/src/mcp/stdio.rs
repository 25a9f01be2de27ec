//! The stdio transport's front: stdin and stdout are bridged to rmcp
//! through in-memory pipes so that this module sees every line first.
//! A line that is not JSON gets the JSON-RPC 2.0 parse error (-32700,
//! `id: null`) — rmcp itself drops such lines silently — JSON that is not a
//! client message gets -32600 with its id, and an oversized line (over
//! [`MAX_LINE`]) is discarded with -32600.
//! Everything else goes to rmcp unchanged. The end of stdin (the client went
//! away) is reported at once, so the running code can be interrupted
//! without waiting for rmcp's shutdown.
use rmcp::model::ClientJsonRpcMessage;
use serde_json::{json, Value};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWriteExt, DuplexStream};
use tokio::sync::{mpsc, oneshot};

/// The longest message accepted (a whole program fits comfortably).
pub const MAX_LINE: usize = 16 << 20;
/// Size of each in-memory pipe's buffer.
const PIPE: usize = 1 << 16;

/// rmcp's ends of the pipes: read requests from the first, write responses
/// to the second.
pub type Transport = (DuplexStream, DuplexStream);

/// How reading one line ended.
#[derive(Debug, PartialEq)]
pub enum Line {
    /// A whole line is in the buffer (without its `\n`).
    Full,
    /// The line was longer than the limit and has been skipped.
    Oversized,
    /// End of input (a partial last line is in the buffer).
    Eof,
}

/// Read one `\n`-terminated line into `buf` (cleared first), never keeping
/// more than `max` bytes of it.
pub async fn read_line(
    r: &mut (impl AsyncBufRead + Unpin),
    buf: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<Line> {
    buf.clear();
    let mut oversized = false;
    loop {
        let chunk = r.fill_buf().await?;
        if chunk.is_empty() {
            return Ok(if oversized {
                Line::Oversized
            } else {
                Line::Eof
            });
        }
        let (take, done) = match chunk.iter().position(|b| *b == b'\n') {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        if !oversized {
            if buf.len() + take > max + 1 {
                oversized = true;
                buf.clear();
            } else {
                buf.extend_from_slice(&chunk[..take]);
            }
        }
        r.consume(take);
        if done {
            if oversized {
                return Ok(Line::Oversized);
            }
            buf.pop();
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
            return Ok(Line::Full);
        }
    }
}

/// The answer to a line that is not a message, if it needs one: -32700 for
/// what is not JSON, -32600 (with the request's id when it has a usable one)
/// for JSON that is no JSON-RPC message of a client. Notifications are left
/// to rmcp, which ignores those it does not know (as the spec allows).
pub fn reject(line: &[u8]) -> Option<Vec<u8>> {
    let text = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
    if text.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    let value = match serde_json::from_slice::<Value>(text) {
        Ok(v) => v,
        Err(e) => {
            return Some(error_line(
                -32700,
                &format!("Parse error: {e}"),
                Value::Null,
            ))
        }
    };
    let notification = value.get("method").is_some() && value.get("id").is_none();
    if notification {
        return None;
    }
    match serde_json::from_value::<ClientJsonRpcMessage>(value.clone()) {
        Ok(_) => None,
        Err(e) => {
            let id = match value.get("id") {
                Some(id @ (Value::String(_) | Value::Number(_))) => id.clone(),
                _ => Value::Null,
            };
            Some(error_line(-32600, &format!("Invalid Request: {e}"), id))
        }
    }
}

fn error_line(code: i32, message: &str, id: Value) -> Vec<u8> {
    let mut v = json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
        .to_string()
        .into_bytes();
    v.push(b'\n');
    v
}

/// Start bridging stdin/stdout. Returns rmcp's transport and a signal that
/// fires when stdin ends (or stdout breaks).
pub fn start() -> (Transport, oneshot::Receiver<()>) {
    let (to_rmcp, rmcp_in) = tokio::io::duplex(PIPE);
    let (rmcp_out, from_rmcp) = tokio::io::duplex(PIPE);
    let (lines, mut outgoing) = mpsc::channel::<Vec<u8>>(64);
    let (closed_tx, closed) = oneshot::channel();
    let (broken_tx, broken) = oneshot::channel::<()>();

    // stdout: one writer, so rmcp's messages and ours never interleave.
    tokio::spawn(async move {
        let mut stdout = tokio::io::stdout();
        while let Some(line) = outgoing.recv().await {
            if stdout.write_all(&line).await.is_err() || stdout.flush().await.is_err() {
                let _ = broken_tx.send(());
                return;
            }
        }
    });
    // rmcp's output, line by line, to the writer.
    let rmcp_lines = lines.clone();
    tokio::spawn(async move {
        let mut r = tokio::io::BufReader::new(from_rmcp);
        let mut buf = Vec::new();
        while let Ok(Line::Full) = read_line(&mut r, &mut buf, usize::MAX - 1).await {
            buf.push(b'\n');
            if rmcp_lines.send(std::mem::take(&mut buf)).await.is_err() {
                return;
            }
        }
    });
    // stdin, checked line by line, to rmcp.
    tokio::spawn(async move {
        let mut to_rmcp = to_rmcp;
        let mut stdin = tokio::io::BufReader::new(tokio::io::stdin());
        let mut buf = Vec::new();
        let mut broken = broken;
        loop {
            let line = tokio::select! {
                l = read_line(&mut stdin, &mut buf, MAX_LINE) => l,
                _ = &mut broken => break,
            };
            match line {
                Ok(Line::Full) => {}
                Ok(Line::Oversized) => {
                    eprintln!("eryx mcp: discarded a message over {MAX_LINE} bytes");
                    let msg = format!("Invalid Request: message larger than {MAX_LINE} bytes");
                    let _ = lines.send(error_line(-32600, &msg, Value::Null)).await;
                    continue;
                }
                Ok(Line::Eof) | Err(_) => break,
            }
            if let Some(answer) = reject(&buf) {
                let _ = lines.send(answer).await;
                continue;
            }
            buf.push(b'\n');
            if to_rmcp.write_all(&buf).await.is_err() {
                break;
            }
        }
        let _ = to_rmcp.shutdown().await;
        let _ = closed_tx.send(());
    });
    ((rmcp_in, rmcp_out), closed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lines_are_bounded() {
        let input = b"abc\r\nlong line here\nlast".to_vec();
        let mut r = tokio::io::BufReader::with_capacity(4, &input[..]);
        let mut buf = Vec::new();
        assert_eq!(read_line(&mut r, &mut buf, 8).await.unwrap(), Line::Full);
        assert_eq!(buf, b"abc");
        assert_eq!(
            read_line(&mut r, &mut buf, 8).await.unwrap(),
            Line::Oversized
        );
        assert_eq!(read_line(&mut r, &mut buf, 8).await.unwrap(), Line::Eof);
        assert_eq!(buf, b"last");
    }

    #[test]
    fn only_non_json_is_rejected() {
        assert!(reject(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}").is_none());
        assert!(reject(b"  ").is_none());
        let e: serde_json::Value = serde_json::from_slice(&reject(b"{nope").unwrap()).unwrap();
        assert_eq!(e["error"]["code"], -32700);
        assert_eq!(e["id"], serde_json::Value::Null);
        assert!(reject(b"\xff\xfe garbage").is_some());
        let e: serde_json::Value =
            serde_json::from_slice(&reject(b"{\"foo\":1}").unwrap()).unwrap();
        assert_eq!(
            (e["error"]["code"].as_i64(), &e["id"]),
            (Some(-32600), &Value::Null)
        );
        let bad = br#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":5}"#;
        let e: serde_json::Value = serde_json::from_slice(&reject(bad).unwrap()).unwrap();
        assert_eq!(
            (e["error"]["code"].as_i64(), &e["id"]),
            (Some(-32600), &json!(7))
        );
        // Unknown methods are rmcp's to answer (-32601); notifications pass.
        assert!(reject(br#"{"jsonrpc":"2.0","id":8,"method":"no/such"}"#).is_none());
        assert!(reject(br#"{"jsonrpc":"2.0","method":"notifications/whatever"}"#).is_none());
    }
}
