//! `eryx --package`: C extensions cross-built from pinned sdists load, and a
//! native ELF one is a clear error naming the file.
mod common;
use common::extension;
use std::path::PathBuf;
use std::process::Command;

/// A fresh scratch directory for a test.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("eryx-cli-pkg-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn cli_package_flag_loads_extensions_and_reports_native_ones() {
    let eryx = env!("CARGO_BIN_EXE_eryx");
    let (ms, sj) = (extension("markupsafe"), extension("simplejson"));
    let out = Command::new(eryx)
        .arg("--package")
        .arg(&ms)
        .arg(format!("--package={}", sj.display()))
        .args([
            "-c",
            "import markupsafe, simplejson\nprint(markupsafe.escape('<'), simplejson.dumps([1]))",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {err}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "&lt; [1]\n");

    let dir = scratch("cli-elf");
    let so = dir.join("native.so");
    std::fs::write(&so, b"\x7fELF\x02\x01\x01\0").unwrap();
    let out = Command::new(eryx)
        .args(["--package", so.to_str().unwrap(), "-c", "print(1)"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {err}");
    assert!(
        err.contains("native.so") && err.contains("native ELF"),
        "{err}"
    );
    let out = Command::new(eryx).args(["--package"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).unwrap();
}
