//! `--callback NAME=COMMAND`: a host callback that runs COMMAND with
//! `sh -c`, JSON arguments on stdin; its stdout (JSON, or else a plain
//! string) is the result and a non-zero exit is an error carrying stderr.
use serde_json::Value;
use std::process::Stdio;
use tokio::io::AsyncWriteExt;

/// Parse `NAME=COMMAND`.
pub fn parse_spec(spec: &str) -> Result<(String, String), String> {
    match spec.split_once('=') {
        Some((name, cmd)) if !name.is_empty() && !cmd.is_empty() => {
            Ok((name.to_string(), cmd.to_string()))
        }
        _ => Err(format!("--callback expects NAME=COMMAND, got {spec:?}")),
    }
}

/// Run `command` for one invocation.
pub async fn run_command(command: String, args: Value) -> Result<Value, String> {
    let mut child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(&command)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("could not start callback command: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(args.to_string().as_bytes()).await;
    }
    let out = child
        .wait_with_output()
        .await
        .map_err(|e| format!("callback command failed: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
        let code = out
            .status
            .code()
            .map_or("a signal".to_string(), |c| format!("status {c}"));
        return Err(if err.is_empty() {
            format!("callback command exited with {code}")
        } else {
            err
        });
    }
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Ok(serde_json::from_str(&text).unwrap_or(Value::String(text)))
}
