//! Turning a failed pip resolution into one line a user can act on: a
//! package with only CPython-native wheels names its version and what is
//! needed (a WASI build in the wheelhouse); an unreachable index says so.
//! pip's own traceback or log is never shown.
use super::pip::{last_error, Pip};
use std::path::Path;

/// Native platforms probed to tell "has only native wheels" from "has no
/// wheel at all".
const NATIVE_PLATFORMS: &[&str] = &[
    "manylinux_2_28_x86_64",
    "manylinux_2_17_x86_64",
    "manylinux2014_x86_64",
    "musllinux_1_2_x86_64",
    "macosx_11_0_arm64",
    "win_amd64",
];

/// The requirement pip could not satisfy, from its stderr.
fn unsatisfied(stderr: &str) -> Option<String> {
    stderr.lines().find_map(|l| {
        l.split_once("No matching distribution found for ")
            .map(|(_, r)| r.trim().to_string())
    })
}

fn unreachable(stderr: &str) -> bool {
    [
        "NewConnectionError",
        "Connection refused",
        "Failed to establish a new connection",
        "Name or service not known",
        "Temporary failure in name resolution",
        "ConnectTimeoutError",
    ]
    .iter()
    .any(|s| stderr.contains(s))
}

/// The version pip would pick for `req` on native platforms, if any.
fn native_version(pip: &Pip, req: &str) -> Option<String> {
    let mut cmd = pip.command([
        "install",
        "--dry-run",
        "--ignore-installed",
        "--no-deps",
        "--no-cache-dir",
        "--quiet",
        "--only-binary=:all:",
        "--python-version",
        "3.14",
        "--report",
        "-",
    ]);
    for p in NATIVE_PLATFORMS {
        cmd.args(["--platform", p]);
    }
    let tmp = crate::cache::tmp_sibling(&std::env::temp_dir().join("eryx-probe"));
    cmd.arg("--target").arg(&tmp).arg("--").arg(req);
    let out = pip.run(cmd).ok()?;
    let _ = std::fs::remove_dir_all(&tmp);
    let pins = super::lock::from_report(&String::from_utf8_lossy(&out.stdout)).ok()?;
    pins.into_iter().next().map(|p| p.version)
}

/// One line explaining why pip could not resolve.
pub fn explain(pip: &Pip, stderr: &str, wheelhouse: Option<&Path>) -> String {
    if unreachable(stderr) {
        return format!(
            "pip could not reach the package index ({}); a second run with the same \
             requirements needs no network",
            last_error(stderr)
        );
    }
    let Some(req) = unsatisfied(stderr) else {
        return format!(
            "pip could not resolve the requirements: {}",
            last_error(stderr)
        );
    };
    let name = req
        .split(|c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c)))
        .next()
        .unwrap_or(&req)
        .to_string();
    let house = match wheelhouse {
        Some(d) => format!("no WASI build of it in the wheelhouse {}", d.display()),
        None => "no wheelhouse of WASI builds (set ERYX_WHEELHOUSE)".to_string(),
    };
    match native_version(pip, &req) {
        Some(v) => format!(
            "{name} {v} has only CPython-native wheels (no pure-Python py3-none-any wheel) and \
             {house}; it needs a wasm32 WASI build (a cp314-cp314-wasi_0_0_0_wasm32 wheel) \
             in the wheelhouse — see docs/packages-by-name.md"
        ),
        None => format!(
            "no wheel of {req} for CPython 3.14 on the package index (no such package, or \
             it publishes only a source distribution; eryx installs wheels only)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_unsatisfied_requirement() {
        let e = "ERROR: Could not find a version that satisfies the requirement pandas (from \
                 versions: none)\nERROR: No matching distribution found for pandas\n";
        assert_eq!(unsatisfied(e).as_deref(), Some("pandas"));
        assert!(!unreachable(e));
        assert!(unreachable("WARNING: Retrying ... NewConnectionError(...)"));
    }
}
