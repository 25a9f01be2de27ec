//! `--upload` / `--download` through the `eryx` command: a CSV in, a
//! result out (bytes equal), downloads after a failing program, and the
//! hostile cases (`..`, a host path, a mount, a file past the cap).
mod common;
use common::eryx_cli;
use std::path::PathBuf;

/// The shared fixtures (tests/files): the upload, the program that reads
/// it and writes /tmp/out.csv, and what it writes.
const CSV: &[u8] = include_bytes!("../../tests/files/in.csv");
const DOUBLED: &[u8] = include_bytes!("../../tests/files/out.csv");
const DOUBLE: &str = include_str!("../../tests/files/double.py");

/// A fresh host directory for one test.
fn scratch(tag: &str) -> PathBuf {
    // Not under /tmp: a host path there would name the sandbox's own /tmp.
    let d = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("eryx-files-cli-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn a_csv_goes_in_and_the_result_comes_out() {
    let d = scratch("csv");
    let (input, output) = (d.join("in.csv"), d.join("out.csv"));
    std::fs::write(&input, CSV).unwrap();
    let up = format!("{}:/tmp/in.csv", input.display());
    let down = format!("/tmp/out.csv:{}", output.display());
    let o = eryx_cli(&["--upload", &up, "--download", &down, "-c", DOUBLE], b"");
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), "2\n");
    assert_eq!(std::fs::read(&output).unwrap(), DOUBLED);
    // After a failing program the download still happens; the status is
    // the program's.
    std::fs::remove_file(&output).unwrap();
    let code = "open('/tmp/out.csv', 'w').write('partial'); raise ValueError('late')";
    let o = eryx_cli(&["--download", &down, "-c", code], b"");
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("ValueError: late"));
    assert_eq!(std::fs::read(&output).unwrap(), b"partial");
    // And after a time limit too: like a python process killed by a
    // timeout, the program's files are as it left them (a one-shot run
    // keeps no last good state to roll back to; the REPL does).
    let (first, second) = (
        "open('/tmp/out.csv', 'w').write('before')",
        "open('/tmp/out.csv', 'w').write('lost')\nwhile True: pass",
    );
    let args: [&str; 8] = [
        "--timeout",
        "1",
        "--download",
        &down,
        "-c",
        first,
        "-c",
        second,
    ];
    let o = eryx_cli(&args, b"");
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    assert_eq!(std::fs::read(&output).unwrap(), b"lost");
    // A missing file: reported, status 1.
    let missing = format!("/tmp/none.txt:{}", d.join("none.txt").display());
    let o = eryx_cli(&["--download", &missing, "-c", "pass"], b"");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("--download /tmp/none.txt"),
        "{}",
        text(&o.stderr)
    );
    assert!(!d.join("none.txt").exists());
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn hostile_uploads_are_refused() {
    let d = scratch("hostile");
    let f = d.join("f.txt");
    std::fs::write(&f, b"x").unwrap();
    let mnt = d.join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let fs = f.display().to_string();
    let mount = format!("{}:/mnt/data", mnt.display());
    let cases = [
        (format!("{fs}:../../etc/passwd"), "`..`"),
        (format!("{fs}:/etc/passwd"), "does not exist in the sandbox"),
        (
            format!("{fs}:{}", d.join("copy.txt").display()),
            "does not exist in the sandbox",
        ),
        (format!("{fs}:/mnt/data/f.txt"), "host mount"),
    ];
    for (spec, want) in cases {
        let o = eryx_cli(
            &["--mount", &mount, "--upload", &spec, "-c", "print('ran')"],
            b"",
        );
        assert_eq!(o.status.code(), Some(2), "{spec}");
        assert!(
            text(&o.stderr).contains(want),
            "{spec}: {}",
            text(&o.stderr)
        );
        assert!(o.stdout.is_empty(), "the program must not run");
    }
    let big = d.join("big.bin");
    std::fs::write(&big, vec![0u8; (1 << 20) + 1]).unwrap();
    let spec = format!("{}:/tmp/big.bin", big.display());
    let o = eryx_cli(&["--vfs-max-mb", "1", "--upload", &spec, "-c", "pass"], b"");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("do not fit"),
        "{}",
        text(&o.stderr)
    );
    let o = eryx_cli(&["--upload", "nocolon", "-c", "pass"], b"");
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("HOST:GUEST"));
    // Nothing was written on the host side.
    let mut names: Vec<_> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["big.bin", "f.txt", "mnt"]);
    assert_eq!(std::fs::read_dir(&mnt).unwrap().count(), 0);
    std::fs::remove_dir_all(&d).unwrap();
}
