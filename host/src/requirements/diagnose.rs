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

/// The requirement pip could not satisfy, from its stderr: the one it
/// names (`No matching distribution found for X`), or, when a dependency
/// of every candidate is missing (`ResolutionImpossible`), the first pin
/// of that dependency pip lists (`pydantic 2.12.5 depends on
/// pydantic-core==2.41.5`, newest first), with the dependent.
fn unsatisfied(stderr: &str) -> Option<(String, Option<String>)> {
    if let Some(r) = stderr.lines().find_map(|l| {
        l.split_once("No matching distribution found for ")
            .map(|(_, r)| requirement(r))
    }) {
        return Some((r, None));
    }
    let mut lines = stderr.lines();
    lines.find(|l| l.contains("have no matching distributions available"))?;
    let missing = requirement(lines.next()?);
    let norm = |s: &str| s.to_ascii_lowercase().replace('_', "-");
    stderr
        .lines()
        .find_map(|l| {
            let (parent, dep) = l.trim().split_once(" depends on ")?;
            let dep = requirement(dep);
            norm(&dep)
                .starts_with(&norm(&missing))
                .then(|| (dep, Some(parent.trim().to_string())))
        })
        .or(Some((missing, None)))
}

/// A requirement as pip prints it, back in requirement syntax (pip writes
/// a range as `x<51 and >=49`).
fn requirement(printed: &str) -> String {
    printed.trim().replace(" and ", ",")
}

/// Whether pip failed to reach an index: its stderr shows this only while
/// it retries, its debug log (`--log`) always (`Could not fetch URL ...:
/// connection error`). Returns the line that says so.
fn unreachable(text: &str) -> Option<String> {
    // Only connection failures: a 404 (no such project) is not one.
    let fetch = |l: &&str| l.contains("Could not fetch URL") && l.contains("connection error");
    if let Some(l) = text.lines().find(fetch) {
        let l = l.trim();
        // The log's lines start with a timestamp.
        let l = l.split_once(" Could not").map_or(l, |(_, r)| r);
        let l = l.trim_start_matches("Could not").trim();
        return Some(format!("could not {}", l.trim_end_matches(" - skipping")));
    }
    [
        "NewConnectionError",
        "Connection refused",
        "Failed to establish a new connection",
        "Name or service not known",
        "Temporary failure in name resolution",
        "ConnectTimeoutError",
    ]
    .iter()
    .any(|s| text.contains(s))
    .then(|| last_error(text))
}

/// The versions pip would pick for `reqs` (each alone, no dependencies)
/// on native platforms: (name, version) in pip's order.
fn native_versions(pip: &Pip, reqs: &[&str]) -> Vec<(String, String)> {
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
    cmd.arg("--target").arg(&tmp).arg("--").args(reqs);
    let out = pip.run(cmd).ok();
    let _ = std::fs::remove_dir_all(&tmp);
    let Some(out) = out else { return Vec::new() };
    super::lock::from_report(&String::from_utf8_lossy(&out.stdout))
        .map(|pins| pins.into_iter().map(|p| (p.name, p.version)).collect())
        .unwrap_or_default()
}

/// The version pip would pick for `req` on native platforms, if any.
fn native_version(pip: &Pip, req: &str) -> Option<String> {
    native_versions(pip, &[req])
        .into_iter()
        .next()
        .map(|(_, v)| v)
}

/// Notes for requested packages pip resolved to an older release than the
/// newest (which it would pick on a native platform): the newer releases
/// need a package that has no WASI build. Only bare names are compared (a
/// requirement with a version range chose its range).
pub fn older_releases(pip: &Pip, reqs: &[String], pins: &[super::lock::Locked]) -> Vec<String> {
    let norm = |s: &str| s.to_ascii_lowercase().replace(['_', '.'], "-");
    let bare: Vec<&str> = reqs
        .iter()
        .map(String::as_str)
        .filter(|r| {
            r.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        })
        .collect();
    if bare.is_empty() {
        return Vec::new();
    }
    native_versions(pip, &bare)
        .into_iter()
        .filter_map(|(name, newest)| {
            let pin = pins.iter().find(|p| norm(&p.name) == norm(&name))?;
            (pin.version != newest).then(|| {
                format!(
                    "pip chose {} {}, not the newest release {newest}: a dependency of the newer \
                     releases has no WASI build (`--with '{}=={newest}'` names it)",
                    pin.name, pin.version, pin.name
                )
            })
        })
        .collect()
}

/// One line explaining why pip could not resolve, from its output and its
/// debug log.
pub fn explain(pip: &Pip, output: &str, log: &str, wheelhouse: Option<&Path>) -> String {
    if let Some(why) = unreachable(log).or_else(|| unreachable(output)) {
        return format!(
            "pip could not reach the package index ({why}); a second run with the same \
             requirements needs no network"
        );
    }
    let Some((req, parent)) = unsatisfied(output) else {
        return format!(
            "pip could not resolve the requirements: {}",
            last_error(output)
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
    let needed = parent.map_or(String::new(), |p| format!(" (needed by {p})"));
    match native_version(pip, &req) {
        Some(v) => format!(
            "{name} {v}{needed} has only CPython-native wheels (no pure-Python py3-none-any wheel) and \
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
        assert_eq!(unsatisfied(e), Some(("pandas".into(), None)));
        let range = "ERROR: No matching distribution found for cryptography<51 and >=49.0.0\n";
        assert_eq!(
            unsatisfied(range),
            Some(("cryptography<51,>=49.0.0".into(), None))
        );
        let conflict = "The conflict is caused by:\n    pydantic 2.12.5 depends on \
                        pydantic-core==2.41.5\n    pydantic 2.0 depends on pydantic-core==2.0.1\n\n\
                        Additionally, some packages in these conflicts have no matching \
                        distributions available for your environment:\n    pydantic-core\n";
        assert_eq!(
            unsatisfied(conflict),
            Some((
                "pydantic-core==2.41.5".into(),
                Some("pydantic 2.12.5".into())
            ))
        );
        assert!(unreachable(e).is_none());
        assert!(unreachable("WARNING: Retrying ... NewConnectionError(...)").is_some());
        let log = "2026-12-02T21:41:48,591 Could not fetch URL http://127.0.0.1:9/six/: \
                   connection error: [Errno 111] Connection refused - skipping\n";
        let missing = "2026-12-02T21:41:48,591 Could not fetch URL https://pypi.org/simple/x/: \
                       404 Client Error: Not Found for url: https://pypi.org/simple/x/ - skipping\n";
        assert!(unreachable(missing).is_none());
        assert_eq!(
            unreachable(log).as_deref(),
            Some(
                "could not fetch URL http://127.0.0.1:9/six/: connection error: \
                 [Errno 111] Connection refused"
            )
        );
    }
}
