//! One pip resolution (`pip install --dry-run --report`, nothing is
//! installed) for the sandbox's target, and the downloads of what it
//! pinned (`pip download --require-hashes`, one URL per pin), into the
//! content-keyed wheel cache `<cache>/wheels/`.
use super::diagnose;
use super::lock::Locked;
use super::pip::{last_error, Pip};
use super::target::PIP_TARGET_ARGS;
use crate::cache;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Resolve `requirements` under `constraints` with pip (index: pip's
/// configuration, e.g. `PIP_INDEX_URL`; plus `wheelhouse`).
pub fn resolve(
    pip: &Pip,
    requirements: &[String],
    constraints: &[String],
    wheelhouse: Option<&Path>,
) -> Result<Vec<Locked>, String> {
    let work = cache::tmp_sibling(&cache::dir().join("resolve"));
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let report = work.join("report.json");
    // pip's debug log: how an unreachable index shows when pip does not retry.
    let log = work.join("pip.log");
    let mut cmd = pip.command([
        "install",
        "--dry-run",
        "--ignore-installed",
        "--no-cache-dir",
    ]);
    cmd.args(PIP_TARGET_ARGS)
        .arg("--target")
        .arg(work.join("target"))
        .arg("--report")
        .arg(&report)
        .arg("--log")
        .arg(&log);
    if let Some(w) = wheelhouse {
        cmd.arg("--find-links").arg(w);
    }
    if !constraints.is_empty() {
        let file = work.join("constraints.txt");
        std::fs::write(&file, constraints.join("\n") + "\n").map_err(|e| e.to_string())?;
        cmd.arg("-c").arg(file);
    }
    cmd.arg("--").args(requirements);
    let out = pip.run(cmd);
    let text = std::fs::read_to_string(&report);
    let log = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&work);
    let out = out?;
    if !out.status.success() {
        // pip prints a conflict's explanation on stdout, its errors on stderr.
        let output = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
        return Err(diagnose::explain(pip, &output, &log, wheelhouse));
    }
    super::lock::from_report(&text.map_err(|e| format!("pip wrote no report: {e}"))?)
}

/// The cached wheel of `p` (named by its hash and file name).
pub fn cached_wheel(p: &Locked) -> PathBuf {
    cache::dir().join("wheels").join(format!(
        "{}-{}",
        &p.sha256[..16.min(p.sha256.len())],
        p.filename()
    ))
}

fn sha256_file(path: &Path) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Put `from` into the wheel cache as `p`'s wheel, checking its hash.
fn store(from: &Path, p: &Locked) -> Result<(), String> {
    let got = sha256_file(from)?;
    if got != p.sha256 {
        return Err(format!(
            "{}: sha256 {got} does not match the lock's {}",
            from.display(),
            p.sha256
        ));
    }
    let dest = cached_wheel(p);
    let bytes = std::fs::read(from).map_err(|e| format!("{}: {e}", from.display()))?;
    cache::write_atomic(&dest, &bytes).map_err(|e| format!("{}: {e}", dest.display()))
}

/// Make sure every pinned wheel is in the cache: wheelhouse files are
/// copied, the rest downloaded by pip (hashes required). Returns the
/// number of bytes fetched.
pub fn fetch(pip: &Pip, pkgs: &[Locked]) -> Result<u64, String> {
    let missing: Vec<&Locked> = pkgs.iter().filter(|p| !cached_wheel(p).is_file()).collect();
    let mut bytes = 0;
    let mut remote = Vec::new();
    for p in missing {
        match p.url.strip_prefix("file://") {
            Some(path) => {
                store(Path::new(path), p)?;
                bytes += std::fs::metadata(cached_wheel(p)).map_or(0, |m| m.len());
            }
            None => remote.push(p),
        }
    }
    if remote.is_empty() {
        return Ok(bytes);
    }
    let work = cache::tmp_sibling(&cache::dir().join("download"));
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let result = (|| {
        let req = work.join("requirements.txt");
        let lines: String = remote
            .iter()
            .map(|p| format!("{} @ {} --hash=sha256:{}\n", p.name, p.url, p.sha256))
            .collect();
        std::fs::write(&req, lines).map_err(|e| e.to_string())?;
        let dl = work.join("wheels");
        let mut cmd = pip.command([
            "download",
            "--no-deps",
            "--require-hashes",
            "--no-cache-dir",
        ]);
        cmd.args(PIP_TARGET_ARGS)
            .arg("-d")
            .arg(&dl)
            .arg("-r")
            .arg(&req);
        let out = pip.run(cmd)?;
        if !out.status.success() {
            return Err(format!(
                "downloading the locked wheels failed: {}",
                last_error(&String::from_utf8_lossy(&out.stderr))
            ));
        }
        for p in &remote {
            let f = dl.join(p.filename());
            store(&f, p)?;
            bytes += std::fs::metadata(&f).map_or(0, |m| m.len());
        }
        Ok(bytes)
    })();
    let _ = std::fs::remove_dir_all(&work);
    result
}
