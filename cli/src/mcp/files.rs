//! The MCP file tools: `upload_file` puts a file into the session's
//! scratch filesystem, `download_file` gives one back (as text, or base64
//! for bytes), both through the library's files API (its path rules: no
//! `..`, never a host mount, the scratch caps). Sized for models: an
//! upload of at most [`MAX_UPLOAD`] bytes, a download of at most
//! [`MAX_DOWNLOAD`]; both say so in their descriptions. Offered when state
//! persists (a stateless server forgets files with the interpreter).
use super::session::Session;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use rmcp::model::{CallToolResult, ContentBlock, JsonObject, Tool, ToolAnnotations};
use serde_json::{json, Value};
use std::sync::Arc;

/// Name of the upload tool.
pub const UPLOAD_FILE: &str = "upload_file";
/// Name of the download tool.
pub const DOWNLOAD_FILE: &str = "download_file";
/// Largest file `upload_file` takes (decoded bytes).
pub const MAX_UPLOAD: usize = 8 << 20;
/// Largest file `download_file` returns.
pub const MAX_DOWNLOAD: usize = 1 << 20;

fn schema(v: Value) -> Arc<JsonObject> {
    match v {
        Value::Object(map) => Arc::new(map),
        _ => Arc::new(JsonObject::new()),
    }
}

/// The two tool definitions.
pub fn definitions() -> Vec<Tool> {
    let annotations = |read_only| {
        ToolAnnotations::new()
            .read_only(read_only)
            .destructive(!read_only)
            .idempotent(true)
            .open_world(false)
    };
    let up = Tool::new(
        UPLOAD_FILE,
        format!(
            "Write a file into the Python session's scratch filesystem, e.g. data the user gave you, \
             so that run_python code can open() it. Path: absolute (/tmp/data.csv) or relative to \
             /home/user; missing directories under /tmp and /home/user are created; an existing file \
             is replaced. content is the file's text (encoding \"text\", written as UTF-8) or its bytes \
             in base64 (encoding \"base64\"). At most {} MiB per file, and the scratch filesystem's \
             own cap applies. Paths with `..` and mounted host directories are refused.",
            MAX_UPLOAD >> 20
        ),
        schema(json!({
            "type": "object",
            "properties": {
                "path": {"type": "string", "description": "Where the file goes, e.g. /tmp/data.csv."},
                "content": {"type": "string", "description": "The file's text, or its base64 with encoding=base64."},
                "encoding": {"type": "string", "enum": ["text", "base64"], "description": "How content is given (default text)."}
            },
            "required": ["path", "content"],
            "additionalProperties": false
        })),
    )
    .with_title("Upload a file into the Python session")
    .with_annotations(annotations(false));
    let down = Tool::new(
        DOWNLOAD_FILE,
        format!(
            "Read a file from the Python session's scratch filesystem, e.g. a result that run_python \
             code wrote to /tmp/out.csv. Returns its text (UTF-8 files) or its bytes in base64 \
             (other files, or encoding \"base64\"). At most {} KiB per file: for bigger results, \
             summarise or split them with run_python first.",
            MAX_DOWNLOAD >> 10
        ),
        schema(json!({
            "type": "object",
            "properties": {
                "path": {"type": "string", "description": "The file to read, e.g. /tmp/out.csv."},
                "encoding": {"type": "string", "enum": ["auto", "text", "base64"],
                             "description": "auto (default): text when the file is UTF-8, else base64."}
            },
            "required": ["path"],
            "additionalProperties": false
        })),
    )
    .with_title("Download a file from the Python session")
    .with_annotations(annotations(true));
    vec![up, down]
}

fn error(msg: String) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(msg)])
}

/// The string argument `name` (`None` when absent and optional).
fn string_arg(
    tool: &str,
    args: &JsonObject,
    name: &str,
    required: bool,
) -> Result<Option<String>, String> {
    match args.get(name) {
        Some(Value::String(s)) => Ok(Some(s.clone())),
        None | Some(Value::Null) if !required => Ok(None),
        None => Err(format!("{tool}: missing required argument {name:?}")),
        Some(_) => Err(format!("{tool}: argument {name:?} must be a string")),
    }
}

/// Refuse arguments other than `known`.
fn only(tool: &str, args: &JsonObject, known: &[&str]) -> Result<(), String> {
    match args.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(format!(
            "{tool}: unknown argument {k:?} (arguments: {})",
            known.join(", ")
        )),
        None => Ok(()),
    }
}

/// `upload_file`.
pub async fn upload(session: &Session, args: Option<&JsonObject>) -> CallToolResult {
    let empty = JsonObject::new();
    let args = args.unwrap_or(&empty);
    let checked = (|| {
        only(UPLOAD_FILE, args, &["path", "content", "encoding"])?;
        let path = string_arg(UPLOAD_FILE, args, "path", true)?.unwrap_or_default();
        let content = string_arg(UPLOAD_FILE, args, "content", true)?.unwrap_or_default();
        let bytes = match string_arg(UPLOAD_FILE, args, "encoding", false)?.as_deref() {
            None | Some("text") => content.into_bytes(),
            Some("base64") => B64
                .decode(content.trim().as_bytes())
                .map_err(|e| format!("{UPLOAD_FILE}: content is not valid base64: {e}"))?,
            Some(other) => {
                return Err(format!(
                    "{UPLOAD_FILE}: encoding must be \"text\" or \"base64\", got {other:?}"
                ))
            }
        };
        if bytes.len() > MAX_UPLOAD {
            return Err(format!(
                "{UPLOAD_FILE}: {} bytes is over the {} MiB limit per file",
                bytes.len(),
                MAX_UPLOAD >> 20
            ));
        }
        Ok((path, bytes))
    })();
    let (path, bytes) = match checked {
        Ok(v) => v,
        Err(msg) => return error(msg),
    };
    let n = bytes.len();
    let p = path.clone();
    let r = session.files(move |sb| sb.write_file(&p, &bytes)).await;
    match r {
        Ok(Ok(_)) => CallToolResult::success(vec![ContentBlock::text(format!(
            "Wrote {n} bytes to {path}; run_python code can open() it now."
        ))]),
        Ok(Err(e)) => error(format!("{UPLOAD_FILE}: {e}")),
        Err(msg) => error(msg),
    }
}

/// `download_file`.
pub async fn download(session: &Session, args: Option<&JsonObject>) -> CallToolResult {
    let empty = JsonObject::new();
    let args = args.unwrap_or(&empty);
    let checked = (|| {
        only(DOWNLOAD_FILE, args, &["path", "encoding"])?;
        let path = string_arg(DOWNLOAD_FILE, args, "path", true)?.unwrap_or_default();
        let encoding = string_arg(DOWNLOAD_FILE, args, "encoding", false)?;
        match encoding.as_deref() {
            None | Some("auto" | "text" | "base64") => Ok((path, encoding)),
            Some(other) => Err(format!(
                "{DOWNLOAD_FILE}: encoding must be \"auto\", \"text\" or \"base64\", got {other:?}"
            )),
        }
    })();
    let (path, encoding) = match checked {
        Ok(v) => v,
        Err(msg) => return error(msg),
    };
    let p = path.clone();
    let bytes = match session.files(move |sb| sb.read_file(&p)).await {
        Ok(Ok(b)) => b,
        Ok(Err(e)) => return error(format!("{DOWNLOAD_FILE}: {e}")),
        Err(msg) => return error(msg),
    };
    if bytes.len() > MAX_DOWNLOAD {
        return error(format!(
            "{DOWNLOAD_FILE}: {path} has {} bytes, over the {} KiB limit; summarise or split it \
             with run_python first",
            bytes.len(),
            MAX_DOWNLOAD >> 10
        ));
    }
    let n = bytes.len();
    let (body, how) = match (encoding.as_deref(), String::from_utf8(bytes)) {
        (Some("base64"), Ok(s)) => (B64.encode(s.as_bytes()), "base64"),
        (_, Ok(s)) => (s, "text"),
        (Some("text"), Err(_)) => {
            return error(format!(
                "{DOWNLOAD_FILE}: {path} is not UTF-8 text; ask for encoding \"base64\""
            ))
        }
        (_, Err(e)) => (B64.encode(e.as_bytes()), "base64"),
    };
    CallToolResult::success(vec![
        ContentBlock::text(body),
        ContentBlock::text(format!("[{path}: {n} bytes, as {how}]")),
    ])
}
