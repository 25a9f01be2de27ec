//! Rich results: the display items of a call (`display()`, matplotlib
//! figures) and the value of its last expression, as MIME bundles.
//!
//! The guest sends each item as one JSON text on the `output` import's fd 3
//! ([`DISPLAY_FD`]), in Jupyter's wire form (`{"kind", "data": {mime:
//! value}}`, binary types base64). This module owns reading that text
//! (which comes from untrusted code: anything malformed is refused, never
//! trusted), capping items, and the JSON form every front end serves.
use base64::Engine as _;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// The `output` import's fd that carries display items.
pub(crate) const DISPLAY_FD: u32 = 3;

/// Default cap on one display item (bytes of all its MIME data).
pub const DEFAULT_ITEM_LIMIT: usize = 8 << 20;
/// Default cap on all display items of one call.
pub const DEFAULT_CALL_LIMIT: usize = 32 << 20;

/// What produced a display item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisplayKind {
    /// `display(obj)`, `plt.show()` or a figure left open (Jupyter's
    /// `display_data`).
    Display,
    /// The value of the code's last expression when it is not None
    /// (Jupyter's `execute_result`); at most one per call (figures left
    /// open are shown after it, as a notebook does).
    Result,
}

impl DisplayKind {
    /// `"display"` or `"result"`.
    pub fn as_str(self) -> &'static str {
        match self {
            DisplayKind::Display => "display",
            DisplayKind::Result => "result",
        }
    }
}

/// One MIME type's data.
#[derive(Debug, Clone, PartialEq)]
pub enum MimeData {
    /// Text types (`text/plain`, `text/html`, `image/svg+xml`, ...).
    Text(String),
    /// Binary types (`image/png`, `image/jpeg`, `image/gif`): the decoded bytes.
    Bytes(Vec<u8>),
    /// JSON types (`application/json`, `*+json`).
    Json(Value),
}

impl MimeData {
    /// Size in bytes as counted against the caps (JSON: its serialised text).
    pub fn len(&self) -> usize {
        match self {
            MimeData::Text(t) => t.len(),
            MimeData::Bytes(b) => b.len(),
            MimeData::Json(v) => v.to_string().len(),
        }
    }

    /// Whether the data is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One display item: a MIME bundle (in the order the guest gave it).
#[derive(Debug, Clone, PartialEq)]
pub struct DisplayItem {
    /// A `display()` or the last expression's value.
    pub kind: DisplayKind,
    /// `(MIME type, data)` pairs; `text/plain` is always there for results.
    pub data: Vec<(String, MimeData)>,
    /// Bytes of MIME data left out or cut by the caps (0: complete).
    pub truncated_bytes: usize,
}

/// A handler that receives each display item as the guest produces it, in
/// order with the output handler's stdout/stderr pieces.
pub type DisplayHandler = Arc<dyn Fn(&DisplayItem) + Send + Sync>;

fn is_binary(mime: &str) -> bool {
    matches!(mime, "image/png" | "image/jpeg" | "image/gif")
}

fn is_json(mime: &str) -> bool {
    mime == "application/json" || mime.ends_with("+json")
}

impl DisplayItem {
    /// The data of `mime`, if the bundle has it.
    pub fn get(&self, mime: &str) -> Option<&MimeData> {
        self.data.iter().find(|(m, _)| m == mime).map(|(_, d)| d)
    }

    /// The text of a text type (`text/plain`, `text/html`, ...).
    pub fn text(&self, mime: &str) -> Option<&str> {
        match self.get(mime) {
            Some(MimeData::Text(t)) => Some(t),
            _ => None,
        }
    }

    /// The bytes of a binary type (`image/png`, ...).
    pub fn bytes(&self, mime: &str) -> Option<&[u8]> {
        match self.get(mime) {
            Some(MimeData::Bytes(b)) => Some(b),
            _ => None,
        }
    }

    /// Bytes of all MIME data.
    pub fn size(&self) -> usize {
        self.data.iter().map(|(_, d)| d.len()).sum()
    }

    /// `{"type": "display"|"result", "data": {mime: value},
    /// "truncated_bytes"}`: binary data base64, JSON data as JSON, text as
    /// strings (the notebook format's MIME bundle).
    pub fn to_json(&self) -> Value {
        let mut data = Map::new();
        for (mime, d) in &self.data {
            let v = match d {
                MimeData::Text(t) => Value::String(t.clone()),
                MimeData::Bytes(b) => {
                    Value::String(base64::engine::general_purpose::STANDARD.encode(b))
                }
                MimeData::Json(v) => v.clone(),
            };
            data.insert(mime.clone(), v);
        }
        json!({
            "type": self.kind.as_str(),
            "data": data,
            "truncated_bytes": self.truncated_bytes,
        })
    }

    /// Read one item sent by the guest, with what the guest already left
    /// out for the per-item cap (`"cut": {mime: bytes}`, so a 20 MiB image
    /// is not encoded only to be dropped here). Errors say what was wrong
    /// (they are reported on the call's stderr, the item is dropped).
    pub(crate) fn parse(text: &str) -> Result<(DisplayItem, Vec<(String, usize)>), String> {
        let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let kind = match v.get("kind").and_then(Value::as_str) {
            Some("display") => DisplayKind::Display,
            Some("result") => DisplayKind::Result,
            _ => return Err("\"kind\" must be \"display\" or \"result\"".into()),
        };
        let Some(Value::Object(bundle)) = v.get("data") else {
            return Err("\"data\" must be an object of {mime: data}".into());
        };
        let mut data = Vec::with_capacity(bundle.len());
        for (mime, value) in bundle {
            if mime.is_empty() || mime.len() > 255 || !mime.contains('/') {
                return Err(format!("{mime:?} is not a MIME type"));
            }
            let d = if is_json(mime) {
                MimeData::Json(value.clone())
            } else {
                let Value::String(s) = value else {
                    return Err(format!("{mime} data must be a string"));
                };
                if is_binary(mime) {
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(s.as_bytes())
                        .map_err(|e| format!("{mime} data is not base64: {e}"))?;
                    MimeData::Bytes(bytes)
                } else {
                    MimeData::Text(s.clone())
                }
            };
            data.push((mime.clone(), d));
        }
        let mut cut = Vec::new();
        if let Some(c) = v.get("cut") {
            let Value::Object(c) = c else {
                return Err("\"cut\" must be an object of {mime: bytes}".into());
            };
            for (mime, n) in c {
                let n = n.as_u64().ok_or("\"cut\" sizes must be byte counts")?;
                cut.push((mime.chars().take(255).collect(), n as usize));
            }
        }
        let item = DisplayItem {
            kind,
            data,
            truncated_bytes: 0,
        };
        Ok((item, cut))
    }

    /// Apply the caps: keep at most `room` bytes of MIME data, smallest
    /// entries first. An entry that does not fit is cut (text, at a
    /// character boundary) or left out (binary and JSON data, which a cut
    /// would break), and `text/plain` then says so (also of what the guest
    /// left out, `precut`). Returns the bytes kept.
    pub(crate) fn cap(
        &mut self,
        room: usize,
        limit_note: &str,
        precut: &[(String, usize)],
    ) -> usize {
        let total = self.size();
        if total <= room && precut.is_empty() {
            return total;
        }
        let mut order: Vec<usize> = (0..self.data.len()).collect();
        order.sort_by_key(|&i| self.data[i].1.len());
        let mut left = room;
        let mut cut: Vec<String> = precut
            .iter()
            .map(|(mime, n)| format!("{mime} ({n} bytes)"))
            .collect();
        // Sizes the guest claims: saturating, they are not trusted.
        let claimed = precut.iter().fold(0usize, |a, (_, n)| a.saturating_add(*n));
        self.truncated_bytes = self.truncated_bytes.saturating_add(claimed);
        let mut keep = vec![true; self.data.len()];
        for i in order {
            let (mime, d) = &mut self.data[i];
            let n = d.len();
            if n <= left {
                left -= n;
                continue;
            }
            match d {
                MimeData::Text(t) if left > 0 => {
                    let mut at = left;
                    while !t.is_char_boundary(at) {
                        at -= 1;
                    }
                    t.truncate(at);
                    left -= at;
                    self.truncated_bytes = self.truncated_bytes.saturating_add(n - at);
                }
                _ => {
                    keep[i] = false;
                    self.truncated_bytes = self.truncated_bytes.saturating_add(n);
                }
            }
            cut.push(format!("{mime} ({n} bytes)"));
        }
        let mut i = 0;
        self.data.retain(|_| {
            i += 1;
            keep[i - 1]
        });
        let note = format!("[eryx: display cut: {} over {limit_note}]", cut.join(", "));
        let plain = self.data.iter().position(|(m, _)| m == "text/plain");
        match plain.map(|i| &mut self.data[i].1) {
            Some(MimeData::Text(t)) => {
                if !t.is_empty() {
                    t.push('\n');
                }
                t.push_str(&note);
            }
            _ => self.data.push(("text/plain".into(), MimeData::Text(note))),
        }
        room - left
    }

    /// Replace secrets in text data (see `net::scrub`).
    pub(crate) fn scrub(&mut self, redact: &[String]) {
        for (_, d) in &mut self.data {
            match d {
                MimeData::Text(t) => *t = crate::net::scrub(t, redact),
                MimeData::Json(v) => scrub_json(v, redact),
                MimeData::Bytes(_) => {}
            }
        }
    }
}

fn scrub_json(v: &mut Value, redact: &[String]) {
    match v {
        Value::String(s) => *s = crate::net::scrub(s, redact),
        Value::Array(items) => items.iter_mut().for_each(|i| scrub_json(i, redact)),
        Value::Object(map) => map.values_mut().for_each(|i| scrub_json(i, redact)),
        _ => {}
    }
}

/// Caps on display data (see [`crate::SandboxBuilder::display_limits`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    pub item: usize,
    pub call: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            item: DEFAULT_ITEM_LIMIT,
            call: DEFAULT_CALL_LIMIT,
        }
    }
}

impl crate::SandboxBuilder {
    /// Receive display items live, as the guest produces them (they are
    /// also in [`crate::Execution::outputs`]), in order with
    /// [`Self::on_output`]'s pieces.
    pub fn on_display(mut self, f: impl Fn(&DisplayItem) + Send + Sync + 'static) -> Self {
        self.s.on_display = Some(Arc::new(f));
        self
    }

    /// Caps on display data: `per_item` bytes of one item's MIME data and
    /// `per_call` bytes of all items of one call (defaults
    /// [`DEFAULT_ITEM_LIMIT`], [`DEFAULT_CALL_LIMIT`]). Data over a cap is
    /// cut (text) or left out (binary, JSON) and `text/plain` says so; a
    /// cap never fails the call.
    pub fn display_limits(mut self, per_item: usize, per_call: usize) -> Self {
        self.s.display_limits = Limits {
            item: per_item,
            call: per_call,
        };
        self
    }

    /// Whether the value of a call's last expression is reported as a
    /// [`DisplayKind::Result`] (default on; off, code runs exactly as
    /// compiled).
    pub fn display_hook(mut self, on: bool) -> Self {
        self.set_switch("ERYX_DISPLAY_HOOK", on);
        self
    }

    /// Whether matplotlib figures still open when a call ends become PNG
    /// displays and are closed, as in a notebook (default on).
    /// `plt.show()` always displays them.
    pub fn open_figures(mut self, on: bool) -> Self {
        self.set_switch("ERYX_OPEN_FIGURES", on);
        self
    }

    fn set_switch(&mut self, key: &str, on: bool) {
        self.s.env.retain(|(k, _)| k != key);
        if !on {
            self.s.env.push((key.into(), "0".into()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_wire_form() {
        let item = DisplayItem::parse(
            r#"{"kind":"display","data":{"image/png":"iVBO","text/plain":"x","application/json":{"a":1}}}"#,
        )
        .unwrap()
        .0;
        assert_eq!(item.bytes("image/png"), Some(&[0x89, 0x50, 0x4e][..]));
        assert_eq!(item.text("text/plain"), Some("x"));
        assert_eq!(
            item.get("application/json"),
            Some(&MimeData::Json(json!({"a": 1})))
        );
        let back = item.to_json();
        assert_eq!(back["type"], "display");
        assert_eq!(back["data"]["image/png"], "iVBO");
    }

    #[test]
    fn refuses_bad_items() {
        for bad in [
            "nope",
            r#"{"kind":"x","data":{}}"#,
            r#"{"kind":"display","data":[]}"#,
            r#"{"kind":"display","data":{"image/png":"!!"}}"#,
            r#"{"kind":"display","data":{"text/html":3}}"#,
            r#"{"kind":"display","data":{"nomime":"a"}}"#,
            r#"{"kind":"display","data":{},"cut":{"image/png":-1}}"#,
        ] {
            assert!(DisplayItem::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn caps_cut_text_and_drop_binary() {
        let mut item = DisplayItem {
            kind: DisplayKind::Display,
            data: vec![
                ("image/png".into(), MimeData::Bytes(vec![0; 100])),
                ("text/plain".into(), MimeData::Text("abc".into())),
                ("text/html".into(), MimeData::Text("é".repeat(20))),
            ],
            truncated_bytes: 0,
        };
        let kept = item.cap(20, "the 20-byte limit", &[]);
        assert!(kept <= 20);
        assert!(item.get("image/png").is_none());
        assert_eq!(item.text("text/html").unwrap().len(), 16);
        assert_eq!(item.truncated_bytes, 100 + 24);
        assert!(item
            .text("text/plain")
            .unwrap()
            .contains("[eryx: display cut: "));
    }
}
