//! `--display-dir DIR`: the display items of a run (`display()`,
//! `plt.show()`, figures left open) written as numbered files
//! (`display-001.png`, `display-002.html`, ...) with one note line each on
//! stderr. Python prints nothing for them, so without the flag they are
//! dropped, and stdout stays exactly python's. A script has no "last
//! expression" value (python has none), so results are not written.
use eryx::{DisplayItem, DisplayKind, MimeData};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The MIME types a file is written for, best first, with their extension.
const PREFERRED: &[(&str, &str)] = &[
    ("image/png", "png"),
    ("image/jpeg", "jpg"),
    ("image/gif", "gif"),
    ("image/svg+xml", "svg"),
    ("text/html", "html"),
    ("application/json", "json"),
    ("text/markdown", "md"),
    ("text/latex", "tex"),
    ("text/plain", "txt"),
];

/// The richest representation of `item` as (MIME type, extension, bytes).
fn best(item: &DisplayItem) -> Option<(&'static str, &'static str, Vec<u8>)> {
    PREFERRED.iter().find_map(|&(mime, ext)| {
        let bytes = match item.get(mime)? {
            MimeData::Bytes(b) => b.clone(),
            MimeData::Text(t) => t.clone().into_bytes(),
            MimeData::Json(v) => serde_json::to_vec_pretty(v).ok()?,
        };
        Some((mime, ext, bytes))
    })
}

/// A display handler writing into `dir` (created if missing).
pub fn writer(dir: &str) -> Result<impl Fn(&DisplayItem) + Send + Sync + 'static, String> {
    let dir = PathBuf::from(dir);
    std::fs::create_dir_all(&dir)
        .map_err(|e| format!("can't create --display-dir '{}': {e}", dir.display()))?;
    let count = AtomicUsize::new(0);
    Ok(move |item: &DisplayItem| {
        if item.kind == DisplayKind::Result {
            return;
        }
        let Some((mime, ext, bytes)) = best(item) else {
            return;
        };
        let n = count.fetch_add(1, Ordering::Relaxed) + 1;
        let path = dir.join(format!("display-{n:03}.{ext}"));
        eprintln!("{}", write(&path, mime, &bytes));
    })
}

fn write(path: &Path, mime: &str, bytes: &[u8]) -> String {
    match std::fs::write(path, bytes) {
        Ok(()) => format!(
            "eryx: display: {mime}, {} bytes -> {}",
            bytes.len(),
            path.display()
        ),
        Err(e) => format!("eryx: display: can't write {}: {e}", path.display()),
    }
}
