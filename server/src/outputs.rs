//! Rich results on the wire: the schema of an execute's `outputs` (display
//! items and the last expression's value, `eryx::DisplayItem::to_json`)
//! and their SSE event, `display`, streamed in order with `stdout` and
//! `stderr`.
use axum::response::sse::Event;
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// One rich result: a MIME bundle, as in a notebook's outputs.
#[derive(Serialize, ToSchema)]
pub struct DisplayOutput {
    /// `display` (`display()`, a matplotlib figure) or `result` (the value
    /// of the code's last expression when it is not None; at most one).
    #[serde(rename = "type")]
    pub kind: String,
    /// MIME type → data: `image/png`, `image/jpeg`, `image/gif` as base64
    /// text; `application/json` as a JSON value; text types
    /// (`text/plain`, `text/html`, `image/svg+xml`, `text/markdown`) as
    /// strings. `text/plain` notes what a cap cut.
    #[schema(value_type = Object)]
    pub data: BTreeMap<String, serde_json::Value>,
    /// Bytes of data cut or left out by the display caps (0: complete).
    pub truncated_bytes: u64,
}

/// The SSE `display` event of one item (its data is the item's JSON,
/// `DisplayItem::to_json`).
pub fn display_event(item: &serde_json::Value) -> Event {
    Event::default().event("display").data(item.to_string())
}
