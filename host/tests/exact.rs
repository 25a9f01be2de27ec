//! Exact sessions (issue 29), real CPython in real wasmtime: a session
//! holding a closure, a half-consumed generator, an open file with its
//! offset, an open sqlite3 connection with uncommitted rows in a
//! transaction (and a numpy array when the numpy wheel is in
//! target/wheelhouse; with the pandas wheel there too, pandas from the
//! wheelhouse by name, a DataFrame with a time-zone index and a
//! half-consumed row iterator over it) is forked — both branches continue alike, then
//! diverge — and exact-snapshotted, then restored into a new sandbox and
//! into a new process (this test binary re-run with `ERYX_EXACT_SNAPSHOT`).
//! Garbage, truncated and other-image snapshots are refused and the session
//! goes on untouched.
use eryx::{Error, Sandbox};
use std::path::PathBuf;

/// Builds the state; every line of `STEP` then advances each object.
const SETUP: &str = r#"
import sqlite3
def counter():
    n = 0
    def bump(k=1):
        nonlocal n
        n += k
        return n
    return bump
bump = counter()
bump(10)
def squares():
    i = 0
    while True:
        yield i * i
        i += 1
gen = squares()
[next(gen) for _ in range(3)]
with open('/tmp/data.txt', 'w') as f:
    f.write(''.join('line %d\n' % i for i in range(50)))
fh = open('/tmp/data.txt')
[fh.readline() for _ in range(5)]
db = sqlite3.connect('/tmp/t.db')
db.execute('create table t (x integer)')
db.commit()
db.execute('begin')
db.executemany('insert into t values (?)', [(i,) for i in range(7)])
"#;

/// One step of every object: closure, generator, file offset, open
/// transaction (uncommitted rows visible on its own connection).
const STEP: &str = r#"
db.execute('insert into t values (100)')
print(bump(), next(gen), fh.readline().strip(), fh.tell(),
      db.in_transaction, db.execute('select count(*), sum(x) from t').fetchone())
"#;

const NUMPY_SETUP: &str = "import numpy as np\narr = np.arange(12.0).reshape(3, 4)\narr[1] *= 2\n";
const NUMPY_STEP: &str = "arr += 1\nprint(arr.sum(), arr[1].tolist())\n";

const PANDAS_SETUP: &str = "import pandas as pd\n\
df = pd.DataFrame({'k': list('abcab'), 'v': [1.5, 2.0, 3.5, 4.0, 5.0]},\n\
                  index=pd.date_range('2026-01-01', periods=5, freq='D', tz='UTC'))\n\
rows = df.itertuples()\nnext(rows)\n";
const PANDAS_STEP: &str = "df['v'] = df['v'] * 2\n\
print(df.groupby('k')['v'].sum().to_dict(), next(rows).v, df.index[-1].isoformat())\n";

/// Whether target/wheelhouse has pandas (then sandboxes with the data
/// stack require `pandas` by name, which brings numpy).
fn pandas_wheel() -> bool {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/wheelhouse");
    std::fs::read_dir(dir).is_ok_and(|d| {
        d.flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("pandas-"))
    })
}

fn numpy_wheel() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/wheelhouse");
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("numpy-") && n.ends_with(".whl"))
        })
}

async fn exact_sandbox(numpy: Option<&PathBuf>) -> Sandbox {
    let mut b = Sandbox::builder().exact(true);
    match numpy {
        Some(_) if pandas_wheel() => b = b.requirements(["pandas"]),
        Some(w) => b = b.package(w),
        None => {}
    }
    b.build().await.expect("exact sandbox")
}

async fn step(sb: &mut Sandbox, numpy: bool) -> String {
    let mut out = sb.execute(STEP).await.expect("step");
    if numpy {
        out += &sb.execute(NUMPY_STEP).await.expect("numpy step");
    }
    if numpy && pandas_wheel() {
        out += &sb.execute(PANDAS_STEP).await.expect("pandas step");
    }
    out
}

/// A sandbox holding every kind of object, advanced once.
async fn prepared() -> (Sandbox, bool) {
    let wheel = numpy_wheel();
    if wheel.is_none() {
        eprintln!("exact: no numpy wheel in target/wheelhouse: the numpy part is skipped");
    }
    let mut sb = exact_sandbox(wheel.as_ref()).await;
    sb.execute(SETUP).await.expect("setup");
    if wheel.is_some() {
        sb.execute(NUMPY_SETUP).await.expect("numpy setup");
    }
    if wheel.is_some() && pandas_wheel() {
        sb.execute(PANDAS_SETUP).await.expect("pandas setup");
    }
    let first = step(&mut sb, wheel.is_some()).await;
    assert!(first.starts_with("11 9 line 5 42 True (8, 121)"), "{first}");
    if wheel.is_some() && pandas_wheel() {
        assert!(
            first.ends_with("{'a': 11.0, 'b': 14.0, 'c': 7.0} 2.0 2026-01-05T00:00:00+00:00\n"),
            "{first}"
        );
    }
    (sb, wheel.is_some())
}

#[tokio::test]
async fn fork_continues_alike_then_diverges() {
    let (mut a, numpy) = prepared().await;
    let mut b = a.fork().await.expect("fork");
    let sa = step(&mut a, numpy).await;
    let sb = step(&mut b, numpy).await;
    assert_eq!(sa, sb);
    assert!(sa.starts_with("12 16 line 6 49 True (9, 221)"), "{sa}");
    // Diverge: the branches change their own objects and files only.
    a.execute("bump(1000); db.rollback(); fh.close(); open('/tmp/a.txt', 'w').write('a')")
        .await
        .unwrap();
    let out = b
        .execute(
            "import os\nprint(bump(), db.in_transaction, fh.closed, os.path.exists('/tmp/a.txt'))\n\
             db.commit()",
        )
        .await
        .unwrap();
    assert_eq!(out, "13 True False False\n");
    let out = a
        .execute("print(bump(), db.execute('select count(*) from t').fetchone())")
        .await
        .unwrap();
    assert_eq!(out, "1013 (0,)\n");
    let out = b
        .execute("print(db.execute('select count(*) from t').fetchone(), fh.readline().strip())")
        .await
        .unwrap();
    assert_eq!(out, "(9,) line 7\n");
    // A fork of a fork, and the fork survives a fault of its own.
    let mut c = b.fork().await.expect("fork of a fork");
    assert_eq!(c.execute("print(bump())").await.unwrap(), "14\n");
    let r = c.execute("import os; os._exit(3)").await;
    assert!(matches!(r, Err(Error::Exit(3))), "{r:?}");
    assert_eq!(b.execute("print(bump())").await.unwrap(), "14\n");
}

/// `expr` evaluated in `sb`, printed.
async fn show(sb: &mut Sandbox, expr: &str) -> String {
    let out = sb.execute(&format!("print({expr})")).await.expect(expr);
    out.trim_end().to_string()
}

/// Memory the guest grew into (past the image) is shared by a fork, not
/// copied (host/src/exact/region.rs): after the source and its forks each
/// write their own, nobody sees another's writes, a fork of a fork sees
/// its parent's, and an exact snapshot of it carries the shared pages.
#[tokio::test]
async fn forks_share_grown_memory_and_keep_their_own_writes() {
    let mut a = exact_sandbox(None).await;
    a.execute("import hashlib\nbig = bytearray(b'a') * (8 << 20)\nbig[100] = 1")
        .await
        .unwrap();
    let digest = "hashlib.sha256(big).hexdigest()";
    let original = show(&mut a, digest).await;
    let mut b = a.fork().await.expect("fork");
    let mut c = a.fork().await.expect("second fork");
    a.execute("big[200:208] = b'AAAAAAAA'\nmore = bytearray(b'x') * (4 << 20)")
        .await
        .unwrap();
    assert_eq!(
        show(&mut b, "big[200:208], big[100]").await,
        "bytearray(b'aaaaaaaa') 1"
    );
    b.execute("big[300] = 7").await.unwrap();
    assert_eq!(
        show(&mut c, digest).await,
        original,
        "neither a's nor b's writes"
    );
    let mut d = b.fork().await.expect("fork of a fork");
    assert_eq!(
        show(&mut d, "big[300], big[200:201], len(big)").await,
        "7 bytearray(b'a') 8388608"
    );
    d.execute("big[400] = 9").await.unwrap();
    assert_eq!(show(&mut b, "big[400]").await, "97", "d's write stays d's");
    let snap = d.snapshot_exact().await.expect("exact snapshot of a fork");
    let mut e = exact_sandbox(None).await;
    e.restore(&snap).await.expect("restore");
    assert_eq!(
        show(&mut e, "big[100], big[300], big[400], big[200]").await,
        "1 7 9 97"
    );
    assert_eq!(
        show(&mut e, digest).await,
        show(&mut d, digest).await,
        "the restored buffer is the fork's, byte for byte"
    );
    assert_eq!(
        show(&mut a, "big[200:202], big[300], len(more)").await,
        "bytearray(b'AA') 97 4194304"
    );
}

#[tokio::test]
async fn exact_snapshot_restores_into_a_new_sandbox() {
    let (mut a, numpy) = prepared().await;
    let snap = a.snapshot_exact().await.expect("exact snapshot");
    let expected = step(&mut a, numpy).await;
    let wheel = numpy_wheel().filter(|_| numpy);
    let mut fresh = exact_sandbox(wheel.as_ref()).await;
    fresh.restore(&snap).await.expect("restore");
    assert_eq!(step(&mut fresh, numpy).await, expected);
    // Restoring again goes back to the snapshot's moment.
    fresh.restore(&snap).await.expect("restore again");
    assert_eq!(step(&mut fresh, numpy).await, expected);
}

/// The child half of `exact_snapshot_restores_in_a_new_process`.
#[tokio::test]
async fn exact_child_process() {
    let Ok(path) = std::env::var("ERYX_EXACT_SNAPSHOT") else {
        return; // only meaningful when re-run by the test below
    };
    let numpy = std::env::var("ERYX_EXACT_NUMPY").is_ok();
    let snap = std::fs::read(&path).unwrap();
    let wheel = numpy_wheel().filter(|_| numpy);
    let mut sb = exact_sandbox(wheel.as_ref()).await;
    sb.restore(&snap).await.expect("restore in the child");
    let out = step(&mut sb, numpy).await;
    std::fs::write(format!("{path}.out"), out).unwrap();
}

#[tokio::test]
async fn exact_snapshot_restores_in_a_new_process() {
    let (mut a, numpy) = prepared().await;
    let snap = a.snapshot_exact().await.expect("exact snapshot");
    let expected = step(&mut a, numpy).await;
    let dir = std::env::temp_dir().join(format!("eryx-exact-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("snap.bin");
    std::fs::write(&path, &snap).unwrap();
    let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", "exact_child_process", "--nocapture"])
        .env("ERYX_EXACT_SNAPSHOT", &path);
    if numpy {
        cmd.env("ERYX_EXACT_NUMPY", "1");
    }
    let status = cmd.status().expect("re-run the test binary");
    assert!(status.success());
    let out = std::fs::read_to_string(dir.join("snap.bin.out")).expect("child's output");
    assert_eq!(out, expected);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn bad_snapshots_are_refused_and_the_session_goes_on() {
    let mut sb = exact_sandbox(None).await;
    sb.execute("x = [1, 2]\ng = iter(range(10)); next(g)")
        .await
        .unwrap();
    let snap = sb.snapshot_exact().await.unwrap();
    let mut other_image = snap.clone();
    // The image key follows the 16-byte header; change one of its bytes.
    other_image[16] ^= 0x20;
    let mut flipped = snap.clone();
    let n = flipped.len();
    flipped[n - 10] ^= 0xff;
    let mut garbage = b"ERYXEXCT".to_vec();
    garbage.extend(std::iter::repeat_n(0xA5u8, 4096));
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("other image", other_image, "another image"),
        ("flipped byte", flipped, "corrupt"),
        ("truncated", snap[..snap.len() / 2].to_vec(), "truncated"),
        ("header only", snap[..12].to_vec(), "truncated"),
        ("garbage", garbage, "not supported"),
    ];
    for (what, bytes, says) in cases {
        let e = sb.restore(&bytes).await.expect_err(what);
        let msg = e.to_string();
        assert!(matches!(e, Error::State(_)), "{what}: {e:?}");
        assert!(msg.contains(says), "{what}: {msg}");
        let out = sb.execute("print(x, next(g))").await.unwrap();
        assert!(out.starts_with("[1, 2] "), "{what}: {out}");
    }
    // An ordinary sandbox cannot make or take exact snapshots.
    let mut plain = Sandbox::builder().build().await.unwrap();
    assert!(matches!(plain.snapshot_exact().await, Err(Error::Setup(_))));
    assert!(matches!(plain.fork().await, Err(Error::Setup(_))));
    assert!(plain.restore(&snap).await.is_err());
    assert_eq!(plain.execute("print(1)").await.unwrap(), "1\n");
}
