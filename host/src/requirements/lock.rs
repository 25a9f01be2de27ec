//! The lock: what pip resolved for one set of requirements, pinned by
//! sha256. It is pip's `--report` JSON reduced to what eryx needs and kept
//! at `<cache>/locks/<key>.json`, where the key hashes the requirements,
//! the target, the pip version and the wheelhouse listing; a later run with
//! the same inputs reads it and runs no resolver.
use super::{pip::PIP_VERSION, target};
use crate::cache;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Bump when the lock's layout changes.
const FORMAT: u32 = 1;

/// One pinned distribution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locked {
    /// Distribution name, as its metadata spells it.
    pub name: String,
    /// Exact version.
    pub version: String,
    /// Where the wheel comes from (`https://...` or `file://...`).
    pub url: String,
    /// Hex sha256 of the wheel.
    pub sha256: String,
    /// Named in the requirements (not only a dependency).
    pub requested: bool,
    /// Its importable top-level modules (filled in once downloaded).
    pub modules: Vec<String>,
}

impl Locked {
    /// The wheel's file name (the last part of its URL).
    pub fn filename(&self) -> &str {
        self.url.rsplit('/').next().unwrap_or(&self.url)
    }
}

/// The lock key of `requirements` and `constraints` (already checked and
/// sorted) with `wheelhouse`.
pub fn key(requirements: &[String], constraints: &[String], wheelhouse: Option<&Path>) -> String {
    let mut h = Sha256::new();
    h.update(FORMAT.to_le_bytes());
    h.update(PIP_VERSION.as_bytes());
    for a in target::PIP_TARGET_ARGS {
        h.update(a.as_bytes());
        h.update([0]);
    }
    h.update([1]);
    for r in requirements {
        h.update(r.as_bytes());
        h.update([0]);
    }
    h.update([2]);
    for c in constraints {
        h.update(c.as_bytes());
        h.update([0]);
    }
    if let Some(dir) = wheelhouse {
        h.update(dir.as_os_str().as_encoded_bytes());
        for (name, size, mtime) in target::wheelhouse_listing(dir) {
            h.update(format!("\0{name}\0{size}\0{mtime}").as_bytes());
        }
    }
    h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Where the lock of `key` is kept.
pub fn path(key: &str) -> PathBuf {
    cache::dir().join("locks").join(format!("{key}.json"))
}

/// The pinned set from pip's `--report` JSON.
pub fn from_report(report: &str) -> Result<Vec<Locked>, String> {
    let v: Value =
        serde_json::from_str(report).map_err(|e| format!("pip's report is not JSON: {e}"))?;
    let items = v["install"]
        .as_array()
        .ok_or("pip's report has no \"install\" list")?;
    items
        .iter()
        .map(|i| {
            let s = |v: &Value| v.as_str().map(str::to_string);
            let name = s(&i["metadata"]["name"]).ok_or("pip's report: an entry has no name")?;
            let version = s(&i["metadata"]["version"]).unwrap_or_default();
            let url = s(&i["download_info"]["url"])
                .ok_or_else(|| format!("pip's report: {name} has no URL"))?;
            let sha256 = s(&i["download_info"]["archive_info"]["hashes"]["sha256"])
                .ok_or_else(|| format!("pip's report: {name} {version} has no sha256"))?;
            if !url.ends_with(".whl") {
                return Err(format!("{name} {version}: pip chose a non-wheel ({url})"));
            }
            Ok(Locked {
                name,
                version,
                url,
                sha256,
                requested: i["requested"].as_bool().unwrap_or(false),
                modules: Vec::new(),
            })
        })
        .collect()
}

/// Write the lock of `requirements` atomically.
pub fn save(key: &str, requirements: &[String], pkgs: &[Locked]) -> Result<(), String> {
    let packages: Vec<Value> = pkgs
        .iter()
        .map(|p| {
            json!({
                "name": p.name, "version": p.version, "url": p.url,
                "sha256": p.sha256, "requested": p.requested, "modules": p.modules,
            })
        })
        .collect();
    let doc = json!({
        "eryx_lock": FORMAT, "pip": PIP_VERSION, "target": target::PIP_TARGET_ARGS,
        "requirements": requirements, "packages": packages,
    });
    let text = serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?;
    let p = path(key);
    cache::write_atomic(&p, text.as_bytes()).map_err(|e| format!("{}: {e}", p.display()))
}

/// The lock of `key`, if there is a readable one.
pub fn load(key: &str) -> Option<Vec<Locked>> {
    let text = std::fs::read_to_string(path(key)).ok()?;
    let v: Value = serde_json::from_str(&text).ok()?;
    if v["eryx_lock"].as_u64() != Some(FORMAT as u64) {
        return None;
    }
    v["packages"]
        .as_array()?
        .iter()
        .map(|p| {
            let s = |k: &str| p[k].as_str().map(str::to_string);
            Some(Locked {
                name: s("name")?,
                version: s("version")?,
                url: s("url")?,
                sha256: s("sha256")?,
                requested: p["requested"].as_bool()?,
                modules: p["modules"]
                    .as_array()?
                    .iter()
                    .filter_map(|m| m.as_str().map(str::to_string))
                    .collect(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_becomes_pins() {
        let report = r#"{"install": [{"metadata": {"name": "six", "version": "1.17.0"},
            "download_info": {"url": "https://x/six-1.17.0-py2.py3-none-any.whl",
            "archive_info": {"hashes": {"sha256": "ab"}}}, "requested": true}]}"#;
        let p = from_report(report).unwrap();
        assert_eq!(p[0].name, "six");
        assert_eq!(p[0].filename(), "six-1.17.0-py2.py3-none-any.whl");
        assert!(p[0].requested);
        assert!(from_report("{}").is_err());
    }

    #[test]
    fn key_depends_on_requirements() {
        let a = key(&["six".into()], &[], None);
        assert_eq!(a, key(&["six".into()], &[], None));
        assert_ne!(a, key(&["six==1.16.0".into()], &[], None));
        assert_ne!(a, key(&["six".into()], &["six==1.16.0".into()], None));
    }
}
