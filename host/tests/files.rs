//! The files API (`Sandbox::write_file`, `read_file`, `list_files`,
//! `walk_files`, `remove_file`) with real CPython in real wasmtime: the
//! guest sees what the host put in and the other way round, the caps and
//! path rules hold (hostile paths), and files put in survive faults,
//! snapshots and a move to another sandbox.
mod common;
use eryx::{FileErrorKind as K, FileKind, Sandbox};
use std::time::Duration;

/// The shared fixtures (tests/files): the upload, the program that reads
/// it and writes /tmp/out.csv, and what it writes.
const CSV: &[u8] = include_bytes!("../../tests/files/in.csv");
const DOUBLED: &[u8] = include_bytes!("../../tests/files/out.csv");
const DOUBLE: &str = include_str!("../../tests/files/double.py");

#[tokio::test]
async fn a_csv_goes_in_and_the_result_comes_out() {
    let mut sb = common::sandbox().await;
    sb.write_file("/tmp/in.csv", CSV).unwrap();
    assert_eq!(sb.execute(DOUBLE).await.unwrap(), "2\n");
    let out = sb.read_file("/tmp/out.csv").unwrap();
    assert_eq!(out, DOUBLED);
    // Relative paths are from the home directory; parents are made there.
    sb.write_file("data/x.bin", &[0, 255, 7]).unwrap();
    let seen = sb
        .execute("print(list(open('/home/user/data/x.bin','rb').read()))")
        .await
        .unwrap();
    assert_eq!(seen, "[0, 255, 7]\n");
    let names: Vec<_> = sb
        .list_files("/tmp")
        .unwrap()
        .into_iter()
        .map(|e| (e.name, e.kind, e.size))
        .collect();
    assert_eq!(
        names,
        [
            ("in.csv".to_string(), FileKind::File, CSV.len() as u64),
            ("out.csv".to_string(), FileKind::File, 22)
        ]
    );
    let all: Vec<_> = sb
        .walk_files("/")
        .unwrap()
        .into_iter()
        .map(|e| e.path)
        .collect();
    assert_eq!(
        all,
        ["/home/user/data/x.bin", "/tmp/in.csv", "/tmp/out.csv"]
    );
    sb.remove_file("/tmp/in.csv").unwrap();
    let gone = sb
        .execute("import os; print(os.path.exists('/tmp/in.csv'))")
        .await;
    assert_eq!(gone.unwrap(), "False\n");
}

#[tokio::test]
async fn hostile_paths_are_refused_and_touch_nothing() {
    // Not under /tmp: a host path there would name the sandbox's own /tmp.
    let host = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("eryx-files-{}", std::process::id()));
    std::fs::create_dir_all(&host).unwrap();
    std::fs::write(host.join("keep.txt"), b"host").unwrap();
    let mut sb = Sandbox::builder()
        .mount(&host, "/mnt/ro", false)
        .mount(&host, "/mnt/rw", true)
        .max_file_bytes(1 << 20)
        .build()
        .await
        .unwrap();
    let before = sb.walk_files("/").unwrap();
    let host_file = host.join("keep.txt").to_str().unwrap().to_string();
    let refused = [
        ("../../etc/passwd", K::InvalidPath),
        ("/tmp/../../etc/passwd", K::InvalidPath),
        // An absolute host path names nothing in the sandbox.
        ("/etc/passwd", K::NotFound),
        (host_file.as_str(), K::NotFound),
        ("/mnt/ro/keep.txt", K::ReadOnly),
        ("/mnt/rw/new.txt", K::ReadOnly),
        ("/lib/python3.14/os.py", K::ReadOnly),
        ("", K::InvalidPath),
        ("/tmp", K::IsDirectory),
    ];
    for (path, kind) in refused {
        let e = sb.write_file(path, b"x").unwrap_err();
        assert_eq!(e.kind, kind, "{path:?}: {e}");
        assert!(!e.reason.is_empty());
    }
    assert_eq!(
        sb.read_file("/mnt/ro/keep.txt").unwrap_err().kind,
        K::ReadOnly
    );
    assert_eq!(sb.read_file("/etc/passwd").unwrap_err().kind, K::NotFound);
    assert_eq!(
        sb.remove_file("/mnt/rw/keep.txt").unwrap_err().kind,
        K::ReadOnly
    );
    // Over the cap: refused whole, the guest sees no partial file.
    let e = sb
        .write_file("/tmp/big", &vec![1; (1 << 20) + 1])
        .unwrap_err();
    assert_eq!(e.kind, K::NoSpace, "{e}");
    // An absolute link into a mount would dangle (links resolve inside the
    // tree): refused with EXDEV. A relative one is made, and it does not
    // lead the API into the mount.
    let e = sb
        .execute("import os; os.symlink('/mnt/rw', '/tmp/link')")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("Cross-device link"), "{e}");
    sb.execute("import os; os.symlink('../mnt/rw', '/tmp/link')")
        .await
        .unwrap();
    let e = sb.write_file("/tmp/link/evil.txt", b"x").unwrap_err();
    assert_eq!(e.kind, K::ReadOnly, "{e}");
    let e = sb.read_file("/tmp/link").unwrap_err();
    assert_eq!(e.kind, K::InvalidPath, "{e}");
    sb.remove_file("/tmp/link").unwrap();
    assert_eq!(sb.walk_files("/").unwrap(), before);
    let mut host_files: Vec<_> = std::fs::read_dir(&host)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    host_files.sort();
    assert_eq!(host_files, ["keep.txt"]);
    assert_eq!(std::fs::read(host.join("keep.txt")).unwrap(), b"host");
    std::fs::remove_dir_all(&host).unwrap();
}

#[tokio::test]
async fn the_caps_are_the_guests_caps() {
    let mut sb = Sandbox::builder()
        .max_file_bytes(1000)
        .max_files(8)
        .build()
        .await
        .unwrap();
    sb.write_file("/tmp/a", &[1; 600]).unwrap();
    // Replacing a file counts its old bytes as free.
    sb.write_file("/tmp/a", &[2; 900]).unwrap();
    assert_eq!(
        sb.write_file("/tmp/b", &[3; 101]).unwrap_err().kind,
        K::NoSpace
    );
    // The guest meets the same cap: 100 bytes fit, then ENOSPC.
    let code = "try:\n with open('/tmp/c','wb') as f: f.write(b'x' * 200)\n\
                except OSError as e: print(e.errno == errno.ENOSPC, os.path.getsize('/tmp/c'))";
    let guest = sb
        .execute(&format!("import errno, os\n{code}"))
        .await
        .unwrap();
    assert_eq!(guest, "True 100\n");
    let mut n = 0;
    let e = loop {
        match sb.write_file(&format!("/tmp/n{n}"), b"") {
            Ok(()) => n += 1,
            Err(e) => break e,
        }
    };
    assert_eq!(e.kind, K::NoSpace, "{e}");
    assert!(n < 8);
}

#[tokio::test]
async fn files_put_in_survive_faults_snapshots_and_moves() {
    let mut sb = Sandbox::builder()
        .timeout(Duration::from_millis(500))
        .build()
        .await
        .unwrap();
    sb.write_file("/tmp/in.csv", CSV).unwrap();
    // A fault rolls back to the last good state, which has the upload.
    let e = sb.execute("while True: pass").await.unwrap_err();
    assert!(e.is_limit(), "{e:?}");
    assert_eq!(sb.read_file("/tmp/in.csv").unwrap(), CSV);
    sb.execute(DOUBLE).await.unwrap();
    sb.write_file("/home/user/note.txt", b"api").unwrap();
    let snap = sb.snapshot().await.unwrap();
    let mut other = common::sandbox().await;
    other.restore(&snap).await.unwrap();
    assert_eq!(other.read_file("/tmp/in.csv").unwrap(), CSV);
    assert_eq!(other.read_file("note.txt").unwrap(), b"api");
    let out = other
        .execute("print(open('/tmp/out.csv').read(), end='')")
        .await;
    assert_eq!(out.unwrap().as_bytes(), DOUBLED);
}
