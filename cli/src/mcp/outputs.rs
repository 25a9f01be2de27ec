//! Rich results of `run_python` for the model: display images as MCP
//! `ImageContent`, HTML / SVG / JSON / Markdown as embedded text resources
//! with their MIME type, and the value of the last expression (and the
//! text of displays without an image) in the text block.
use eryx::{DisplayItem, DisplayKind, Execution, MimeData};
use rmcp::model::{ContentBlock, ResourceContents};
use serde_json::{json, Value};

/// Image types sent as `ImageContent` (base64, as the JSON form has them).
const IMAGES: &[&str] = &["image/png", "image/jpeg", "image/gif"];
/// Text types sent as embedded resources.
const DOCUMENTS: &[&str] = &[
    "text/html",
    "image/svg+xml",
    "application/json",
    "text/markdown",
    "text/latex",
];

/// What the text block says about the outputs: the last value (as
/// `[last expression]` and its repr) and each display without an image.
pub fn text(run: &Execution) -> String {
    let mut out = String::new();
    for (i, item) in run.outputs.iter().enumerate() {
        let plain = item.text("text/plain").unwrap_or("");
        match item.kind {
            DisplayKind::Result => out.push_str(&format!("[last expression]\n{plain}\n")),
            DisplayKind::Display if !IMAGES.iter().any(|m| item.get(m).is_some()) => {
                out.push_str(&format!("[display {}]\n{plain}\n", i + 1));
            }
            DisplayKind::Display => {
                out.push_str(&format!("[display {}: image below] {plain}\n", i + 1));
            }
        }
    }
    out
}

/// The content blocks after the text block, one or more per item.
pub fn blocks(run: &Execution) -> Vec<ContentBlock> {
    let mut blocks = Vec::new();
    for (i, item) in run.outputs.iter().enumerate() {
        let wire = item.to_json();
        if let Some((mime, data)) = IMAGES
            .iter()
            .find_map(|m| Some((*m, wire["data"][*m].as_str()?)))
        {
            blocks.push(ContentBlock::image(data, mime));
        }
        for mime in DOCUMENTS {
            if let Some(text) = document(item, mime) {
                blocks.push(ContentBlock::resource(
                    ResourceContents::TextResourceContents {
                        uri: format!("eryx://display/{}/{}", i + 1, mime.replace('/', "-")),
                        mime_type: Some(mime.to_string()),
                        text,
                        meta: None,
                    },
                ));
            }
        }
    }
    blocks
}

fn document(item: &DisplayItem, mime: &str) -> Option<String> {
    match item.get(mime)? {
        MimeData::Text(t) => Some(t.clone()),
        MimeData::Json(v) => serde_json::to_string_pretty(v).ok(),
        MimeData::Bytes(_) => None,
    }
}

/// The JSON Schema of one entry of `outputs` in the structured content.
pub fn schema() -> Value {
    json!({
        "type": "array",
        "description": "rich results in order: display items, then the last expression's value",
        "items": {
            "type": "object",
            "properties": {
                "type": {"type": "string", "enum": ["display", "result"]},
                "data": {
                    "type": "object",
                    "description": "MIME type -> data: images base64, application/json a JSON value, text types strings"
                },
                "truncated_bytes": {"type": "integer"}
            },
            "required": ["type", "data", "truncated_bytes"]
        }
    })
}
