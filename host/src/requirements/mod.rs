//! Requirements by name (`SandboxBuilder::requirements`, `eryx --with`):
//! pip resolves them for the sandbox's target (`target`), the result is
//! pinned with hashes in a lock (`lock`), the wheels are downloaded once
//! into a content-keyed cache (`resolve`), and they become ordinary
//! packages (`packages.rs`), with the requested distributions' top-level
//! modules (`toplevel`) pre-imported into the image. A run whose lock and
//! wheels are cached starts no pip and touches no network. `pip` finds or
//! sets up pip; `diagnose` turns its failures into one clear line.
mod diagnose;
mod lock;
mod pip;
mod resolve;
mod target;
mod toplevel;

use crate::error::Error;
use std::path::PathBuf;
use std::time::Instant;

pub use pip::PIP_VERSION;

/// One distribution a set of requirements resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedPackage {
    /// Distribution name (as its metadata spells it).
    pub name: String,
    /// Exact version pinned.
    pub version: String,
    /// Hex sha256 of its wheel.
    pub sha256: String,
    /// Named in the requirements (rather than pulled in as a dependency).
    pub requested: bool,
    /// Its importable top-level modules (for requested ones).
    pub modules: Vec<String>,
    /// The wheel in the cache.
    pub wheel: PathBuf,
}

/// Resolves requirements with pip (see the module docs). Cheap to create.
#[derive(Debug, Clone, Default)]
pub struct Resolver {
    pip: Option<PathBuf>,
    wheelhouse: Option<PathBuf>,
    constraints: Vec<String>,
    progress: bool,
}

/// Check one requirement: a name with optional extras, version specifiers
/// and markers (PEP 508), never a URL, a path or a pip option. Returns it
/// trimmed.
pub fn check_requirement(req: &str) -> Result<String, String> {
    let r = req.trim();
    let bad = |why: &str| Err(format!("requirement {req:?}: {why}"));
    if r.is_empty() {
        return bad("empty");
    }
    if r.starts_with('-') {
        return bad("pip options are not accepted, only names with version specifiers");
    }
    if r.contains("://") || r.contains('@') || r.contains('/') || r.contains('\\') {
        return bad("only package names from the index are accepted (no URL, no path)");
    }
    if r.chars().any(char::is_control) {
        return bad("control characters");
    }
    if !r.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return bad("must start with a package name");
    }
    Ok(r.to_string())
}

/// The requirements of a requirements file: one per line, `#` comments
/// and blank lines skipped (no pip options, no URLs).
pub fn parse_requirements_file(text: &str) -> Result<Vec<String>, String> {
    text.lines()
        .map(|l| l.split(" #").next().unwrap_or(l).trim())
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(check_requirement)
        .collect()
}

impl Resolver {
    /// A resolver with the default pip and wheelhouse, quiet.
    pub fn new() -> Resolver {
        Resolver::default()
    }

    /// Run this pip executable instead of `$ERYX_PIP` or eryx's own venv.
    pub fn pip(mut self, program: impl Into<PathBuf>) -> Self {
        self.pip = Some(program.into());
        self
    }

    /// Look for WASI wheels in this directory instead of
    /// `$ERYX_WHEELHOUSE` (default `<repo>/target/wheelhouse`).
    pub fn wheelhouse(mut self, dir: impl Into<PathBuf>) -> Self {
        self.wheelhouse = Some(dir.into());
        self
    }

    /// Pin versions pip may choose (pip's `-c`, e.g. `"idna==3.10"`): what
    /// a server uses to serve a subset of its resolved set with the same
    /// versions. Each is checked like a requirement.
    pub fn constraints<S: Into<String>>(mut self, pins: impl IntoIterator<Item = S>) -> Self {
        self.constraints.extend(pins.into_iter().map(Into::into));
        self
    }

    /// Report resolution and downloads on stderr.
    pub fn progress(mut self, on: bool) -> Self {
        self.progress = on;
        self
    }

    /// Resolve `requirements` (see the module docs): from the cached lock
    /// and wheels when present (no pip, no network), else with pip.
    pub fn resolve<S: AsRef<str>>(
        &self,
        requirements: &[S],
    ) -> Result<Vec<ResolvedPackage>, Error> {
        self.resolve_inner(requirements).map_err(Error::Setup)
    }

    fn resolve_inner<S: AsRef<str>>(
        &self,
        requirements: &[S],
    ) -> Result<Vec<ResolvedPackage>, String> {
        let mut reqs = requirements
            .iter()
            .map(|r| check_requirement(r.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        reqs.sort();
        reqs.dedup();
        if reqs.is_empty() {
            return Ok(Vec::new());
        }
        let mut cons = self
            .constraints
            .iter()
            .map(String::as_str)
            .map(check_requirement)
            .collect::<Result<Vec<_>, _>>()?;
        cons.sort();
        let house = target::wheelhouse(self.wheelhouse.as_ref());
        let key = lock::key(&reqs, &cons, house.as_deref());
        let cached = lock::load(&key);
        if let Some(pins) = &cached {
            if pins.iter().all(|p| resolve::cached_wheel(p).is_file()) {
                crate::cache::touch(&lock::path(&key));
                return Ok(finish(pins.clone()));
            }
        }
        let t0 = Instant::now();
        let pip = pip::Pip::find(self.pip.as_deref(), self.progress)?;
        let resolved = cached.is_some();
        let mut pins = match cached {
            Some(p) => p,
            None => {
                if self.progress {
                    eprintln!(
                        "eryx: resolving {} with pip {PIP_VERSION}...",
                        reqs.join(", ")
                    );
                }
                let pins = resolve::resolve(&pip, &reqs, &cons, house.as_deref())?;
                if self.progress {
                    for note in diagnose::older_releases(&pip, &reqs, &pins) {
                        eprintln!("eryx: note: {note}");
                    }
                }
                pins
            }
        };
        let bytes = resolve::fetch(&pip, &pins)?;
        for p in pins
            .iter_mut()
            .filter(|p| p.requested && p.modules.is_empty())
        {
            p.modules = toplevel::of_wheel(&resolve::cached_wheel(p))?;
        }
        lock::save(&key, &reqs, &pins)?;
        if self.progress {
            let list: Vec<String> = pins
                .iter()
                .map(|p| format!("{} {}", p.name, p.version))
                .collect();
            eprintln!(
                "eryx: {} {} package(s) in {:.1} s, {:.1} MB downloaded: {}",
                if resolved { "fetched" } else { "resolved" },
                pins.len(),
                t0.elapsed().as_secs_f64(),
                bytes as f64 / 1e6,
                list.join(", ")
            );
        }
        let done = finish(pins);
        crate::cache::enforce_cap();
        Ok(done)
    }
}

/// Where a failure to pre-import `resolved`'s modules is remembered (so
/// that later builds skip straight to an image without them). Keyed by the
/// wheels' hashes and the guest runtime.
pub(crate) fn preimport_failure_marker(resolved: &[ResolvedPackage]) -> PathBuf {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(crate::embedded::CONTENT_HASH.as_bytes());
    for p in resolved {
        h.update(p.sha256.as_bytes());
        h.update([u8::from(p.requested)]);
    }
    let hex: String = h.finalize()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    crate::cache::dir()
        .join("locks")
        .join(format!("preimport-failed-{hex}.txt"))
}

/// The resolved packages of `pins`, their wheels marked used (so that LRU
/// eviction takes them last, and never while this process reads them).
fn finish(pins: Vec<lock::Locked>) -> Vec<ResolvedPackage> {
    for p in &pins {
        crate::cache::use_entry(&resolve::cached_wheel(p));
    }
    pins.into_iter()
        .map(|p| ResolvedPackage {
            wheel: resolve::cached_wheel(&p),
            name: p.name,
            version: p.version,
            sha256: p.sha256,
            requested: p.requested,
            modules: p.modules,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirements_are_names_not_urls() {
        assert_eq!(check_requirement(" rich>=13 ").unwrap(), "rich>=13");
        assert!(check_requirement("requests[socks]==2.32; python_version>'3'").is_ok());
        for bad in [
            "",
            "-r x.txt",
            "pkg @ https://x/y.whl",
            "./local",
            "/abs.whl",
            "http://x",
        ] {
            assert!(check_requirement(bad).is_err(), "{bad:?}");
        }
        let file = "# comment\nrich  # why\n\ntabulate==0.9.0\n";
        assert_eq!(
            parse_requirements_file(file).unwrap(),
            ["rich", "tabulate==0.9.0"]
        );
        assert!(parse_requirements_file("--index-url http://x\n").is_err());
    }
}
