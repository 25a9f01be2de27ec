//! Packages by name in the library (`eryx::Resolver`,
//! `SandboxBuilder::requirements`), with real pip against real PyPI plus a
//! local wheelhouse: pins carry the wheel's real sha256 and its top-level
//! modules, constraints pin versions, wheelhouse files are used, and a
//! package that cannot import at start still gets a sandbox (it fails at
//! `import` with Python's own exception, and the failure is remembered).
mod common;
use common::expect_py_err;
use eryx::{Resolver, Sandbox};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/requirements")
        .join(name)
}

fn sha256_hex(path: &Path) -> String {
    Sha256::digest(std::fs::read(path).unwrap())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn pins_carry_real_hashes_modules_and_honour_constraints() {
    let got = Resolver::new()
        .constraints(["tabulate==0.9.0"])
        .resolve(&["tabulate"])
        .expect("resolve tabulate");
    assert_eq!(got.len(), 1, "{got:?}");
    let t = &got[0];
    assert_eq!((t.name.as_str(), t.version.as_str()), ("tabulate", "0.9.0"));
    assert!(t.requested);
    assert_eq!(t.modules, ["tabulate"]);
    assert_eq!(sha256_hex(&t.wheel), t.sha256, "{}", t.wheel.display());
    // Same inputs: the same pins, from the lock.
    let again = Resolver::new()
        .constraints(["tabulate==0.9.0"])
        .pip("/nonexistent/pip")
        .resolve(&["tabulate"])
        .expect("from the lock, without pip");
    assert_eq!(again, got);
}

#[test]
fn dependencies_are_pinned_but_not_requested() {
    let got = Resolver::new()
        .resolve(&["requests"])
        .expect("resolve requests");
    let names: Vec<&str> = got.iter().map(|p| p.name.as_str()).collect();
    for dep in ["idna", "urllib3", "certifi"] {
        assert!(names.contains(&dep), "{names:?}");
    }
    for p in &got {
        assert_eq!(p.requested, p.name == "requests", "{p:?}");
        assert!(p.wheel.is_file());
        assert!(p.wheel.to_string_lossy().ends_with(".whl"));
    }
}

#[tokio::test]
async fn a_package_failing_at_start_still_gets_a_sandbox() {
    let house = std::env::temp_dir().join(format!("eryx-req-house-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&house);
    std::fs::create_dir_all(&house).unwrap();
    let made = Command::new("python3")
        .arg(fixture("make_wheel.py"))
        .arg(&house)
        .args(["eryx-test-needs-missing", "1.0"])
        .arg(fixture("needs_missing.py"))
        .status()
        .expect("python3 makes the test wheel");
    assert!(made.success());
    let build = || {
        Sandbox::builder()
            .wheelhouse(&house)
            .requirements(["eryx-test-needs-missing"])
            .build()
    };
    let mut sb = build().await.expect("a sandbox without the pre-import");
    let tb = expect_py_err(
        sb.execute("import eryx_test_needs_missing").await,
        "ModuleNotFoundError",
    );
    assert!(tb.contains("_eryx_test_no_such_module"), "{tb}");
    // The failure is remembered: the next build goes straight to an image
    // without the pre-import, and works the same.
    let marked = std::fs::read_dir(eryx::cache::dir().join("locks"))
        .unwrap()
        .flatten()
        .any(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.starts_with("preimport-failed-")
                && std::fs::read_to_string(e.path())
                    .is_ok_and(|t| t.contains("_eryx_test_no_such_module"))
        });
    assert!(marked, "no pre-import failure marker");
    let mut sb = build().await.expect("second sandbox");
    expect_py_err(
        sb.execute("import eryx_test_needs_missing").await,
        "ModuleNotFoundError",
    );
    std::fs::remove_dir_all(&house).unwrap();
}
