//! Symlinks the guest writes into a writable host mount: only links that
//! point down into their own directory reach the host; one that could lead
//! out of the mount (absolute, or with `..`) is refused with `EPERM`, when
//! created and when renamed into place. Real CPython in real wasmtime, a
//! real host directory.
use eryx::Sandbox;
use std::path::{Path, PathBuf};

/// A fresh host directory with a writable mount `rw/` and a secret beside it.
fn layout(name: &str) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("eryx-links-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let rw = dir.join("rw");
    std::fs::create_dir_all(rw.join("sub")).unwrap();
    std::fs::write(dir.join("secret.txt"), "host secret").unwrap();
    std::fs::write(rw.join("in.txt"), "inside").unwrap();
    (dir, rw)
}

async fn sandbox(rw: &Path) -> Sandbox {
    Sandbox::builder()
        .mount(rw, "/out", true)
        .build()
        .await
        .unwrap()
}

/// Every way out is `EPERM` and leaves nothing on the host.
#[tokio::test]
async fn links_out_of_a_mount_are_refused() {
    let (dir, rw) = layout("out");
    let mut sb = sandbox(&rw).await;
    let out = sb
        .execute(
            r#"
import os, errno
for target, path in [('../../../../etc/passwd', '/out/y'), ('../secret.txt', '/out/s'),
                     ('/etc/passwd', '/out/abs'), ('..', '/out/up'), ('../in.txt', '/out/sub/z'),
                     ('sub/../../secret.txt', '/out/w')]:
    try: os.symlink(target, path)
    except PermissionError as e: assert e.errno == errno.EPERM, (target, e)
    else: raise AssertionError(f'{path} -> {target} was created')
print(sorted(os.listdir('/out')), os.listdir('/out/sub'))
"#,
        )
        .await
        .unwrap();
    assert_eq!(out, "['in.txt', 'sub'] []\n");
    for name in ["y", "s", "abs", "up", "w", "sub/z"] {
        assert!(
            std::fs::symlink_metadata(rw.join(name)).is_err(),
            "{name} exists on the host"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Links down into the mount work as on Linux, on the host too.
#[tokio::test]
async fn links_down_into_a_mount_work() {
    let (dir, rw) = layout("down");
    std::fs::write(rw.join("sub/deep.txt"), "deep").unwrap();
    let mut sb = sandbox(&rw).await;
    let out = sb
        .execute(
            r#"
import os
os.symlink('in.txt', '/out/ln'); os.symlink('sub/deep.txt', '/out/deep'); os.symlink('sub', '/out/d')
os.rename('/out/ln', '/out/ln2')
print(open('/out/ln2').read(), open('/out/deep').read(), os.listdir('/out/d'), os.readlink('/out/ln2'))
"#,
        )
        .await
        .unwrap();
    assert_eq!(out, "inside deep ['deep.txt'] in.txt\n");
    assert_eq!(
        std::fs::read_link(rw.join("ln2")).unwrap(),
        Path::new("in.txt")
    );
    assert_eq!(std::fs::read_to_string(rw.join("deep")).unwrap(), "deep");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A link that leads out (planted by someone else) cannot be renamed into
/// place by the guest: it stays where it was.
#[tokio::test]
async fn renaming_a_link_out_into_place_is_refused() {
    let (dir, rw) = layout("rename");
    std::os::unix::fs::symlink("../secret.txt", rw.join("planted")).unwrap();
    let mut sb = sandbox(&rw).await;
    let out = sb
        .execute(
            r#"
import os, errno
try: os.rename('/out/planted', '/out/sub/report.txt')
except PermissionError as e: print(e.errno == errno.EPERM)
else: print('renamed')
"#,
        )
        .await
        .unwrap();
    assert_eq!(out, "True\n");
    assert!(std::fs::symlink_metadata(rw.join("planted")).is_ok());
    assert!(std::fs::symlink_metadata(rw.join("sub/report.txt")).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}
