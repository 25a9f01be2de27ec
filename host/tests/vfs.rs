//! Scratch files: the virtual tree seen from real CPython in real wasmtime
//! (POSIX behaviour, stdlib users, caps, persistence, hostile input).
mod common;
use common::sandbox;
use eryx::{Error, Sandbox};
use std::time::Duration;

/// A fresh host directory for a test's mount.
fn host_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("eryx-vfs-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A sandbox with `host` mounted writable at `guest`.
async fn mounted(host: &std::path::Path, guest: &str) -> Sandbox {
    Sandbox::builder()
        .mount(host, guest, true)
        .build()
        .await
        .unwrap()
}

/// Run `code` and require it to succeed; returns stdout.
async fn ok(sb: &mut Sandbox, code: &str) -> String {
    match sb.execute(code).await {
        Ok(out) => out,
        Err(e) => panic!("{code}\nfailed: {e:?}"),
    }
}

#[tokio::test]
async fn the_tried_lines_work_in_a_fresh_sandbox() {
    let mut sb = sandbox().await;
    let out = ok(
        &mut sb,
        "import os, tempfile, sqlite3\n\
         open('/tmp/x', 'w').write('hi')\n\
         print(open('/tmp/x').read())\n\
         with tempfile.NamedTemporaryFile() as f:\n\
         \x20   f.write(b'abc'); f.flush(); print(os.path.getsize(f.name), f.name.startswith('/tmp/'))\n\
         db = sqlite3.connect('/tmp/db.sqlite')\n\
         db.execute('create table t(a)'); db.execute('insert into t values (1)'); db.commit()\n\
         print(db.execute('select a from t').fetchall())\n\
         print(sorted(os.listdir('/')))\n\
         print(os.getcwd(), os.environ['HOME'], tempfile.gettempdir())",
    )
    .await;
    assert_eq!(
        out,
        "hi\n3 True\n[(1,)]\n['dev', 'home', 'lib', 'tmp']\n/home/user /home/user /tmp\n"
    );
}

#[tokio::test]
async fn posix_operations() {
    let mut sb = sandbox().await;
    ok(
        &mut sb,
        r#"
import os, errno, stat
os.mkdir('d'); os.makedirs('d/e/f')
try: os.mkdir('d')
except FileExistsError: pass
else: raise AssertionError('mkdir twice')
open('d/a', 'w').write('A'); open('d/b', 'w').write('BB')
os.rename('d/a', 'd/b')                      # over an existing file
assert open('d/b').read() == 'A' and not os.path.exists('d/a')
os.replace('d/b', 'd/e/c'); assert os.listdir('d/e') == ['c', 'f'] or sorted(os.listdir('d/e')) == ['c', 'f']
try: os.rename('d', 'd/e/inside')
except OSError as e: assert e.errno == errno.EINVAL, e
else: raise AssertionError("os.rename('d', 'd/e/inside')")
try: os.rmdir('d')
except OSError as e: assert e.errno == errno.ENOTEMPTY, e
else: raise AssertionError("os.rmdir('d')")
try: os.unlink('d/e')
except OSError as e: assert e.errno in (errno.EISDIR, errno.EPERM), e
else: raise AssertionError("os.unlink('d/e')")
os.unlink('d/e/c'); os.rmdir('d/e/f'); os.rmdir('d/e')
assert sorted(os.listdir('d')) == [] and [x.name for x in os.scandir('.')] == ['d']
# open flags
fd = os.open('f', os.O_WRONLY | os.O_CREAT | os.O_EXCL); os.write(fd, b'0123456789'); os.close(fd)
try: os.open('f', os.O_WRONLY | os.O_CREAT | os.O_EXCL)
except FileExistsError: pass
else: raise AssertionError('O_EXCL')
fd = os.open('f', os.O_WRONLY | os.O_TRUNC); os.close(fd); assert os.path.getsize('f') == 0
with open('f', 'a') as g: g.write('x')
with open('f', 'a') as g: g.write('y')
assert open('f').read() == 'xy'
# pread/pwrite/seek/truncate
fd = os.open('f', os.O_RDWR)
assert os.pwrite(fd, b'hello', 10) == 5
assert os.pread(fd, 100, 0) == b'xy' + b'\0' * 8 + b'hello'
assert os.lseek(fd, 2, os.SEEK_SET) == 2 and os.read(fd, 3) == b'\0\0\0'
assert os.lseek(fd, 0, os.SEEK_END) == 15
os.ftruncate(fd, 4); assert os.fstat(fd).st_size == 4
os.truncate('f', 6); assert open('f', 'rb').read() == b'xy\0\0\0\0'
st = os.fstat(fd); assert stat.S_ISREG(st.st_mode) and st.st_nlink == 1
os.close(fd)
# times
os.utime('f', (1000, 2000)); st = os.stat('f'); assert (st.st_atime, st.st_mtime) == (1000, 2000)
os.utime('f', ns=(5, 7_000_000_123)); assert os.stat('f').st_mtime_ns == 7_000_000_123
# symlinks and hard links
os.symlink('f', 'ln'); assert os.readlink('ln') == 'f' and os.path.islink('ln')
assert open('ln', 'rb').read() == b'xy\0\0\0\0' and os.stat('ln').st_size == 6
assert stat.S_ISLNK(os.lstat('ln').st_mode)
os.symlink('/home/user/d', 'dl'); assert os.path.isdir('dl') and os.path.realpath('dl') == '/home/user/d'
os.link('f', 'hard'); assert os.stat('f').st_nlink == 2
os.unlink('f'); assert open('hard', 'rb').read(2) == b'xy' and not os.path.exists('ln')
os.unlink('ln'); os.unlink('dl')
assert sorted(os.listdir('.')) == ['d', 'hard']
"#,
    )
    .await;
}

/// Symlink corner cases, in the scratch tree and in a host mount, each as
/// Linux answers it (checked there with the same lines).
#[tokio::test]
async fn symlinks_behave_like_linux() {
    let host = host_dir("links");
    let mut sb = mounted(&host, "/data").await;
    let out = ok(
        &mut sb,
        r#"
import os, errno, shutil
def check(base):
    os.chdir(base)
    open('t', 'w').write('x'); os.symlink('t', 'l')
    # stat() follows the link for the inode too.
    assert os.stat('l').st_ino == os.stat('t').st_ino and os.path.samefile('l', 't')
    try: shutil.copyfile('l', 't')
    except shutil.SameFileError: pass
    else: raise AssertionError('copyfile onto itself through a link')
    # open(dangling, O_CREAT) creates the target; with O_EXCL it is EEXIST.
    os.symlink('nope', 'dang')
    with open('dang', 'w') as f: f.write('c')
    assert open('nope').read() == 'c'
    os.symlink('gone', 'dang2')
    try: os.open('dang2', os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    except FileExistsError: pass
    else: raise AssertionError('O_EXCL through a dangling link')
    assert not os.path.exists('gone') and os.path.lexists('dang2')
    try: os.open('l', os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as e: assert e.errno == errno.ELOOP, e
    else: raise AssertionError("os.open('l', os.O_RDONLY | os.O_NOFOLLOW)")
    # A trailing slash names a directory: creating "new/" is EISDIR.
    try: open('missing/', 'w')
    except IsADirectoryError: pass
    else: raise AssertionError('created missing/')
    try: shutil.copyfile('t', 'missing/')
    except FileNotFoundError: pass
    else: raise AssertionError("shutil.copyfile('t', 'missing/')")
    assert not os.path.exists('missing')
    print(base, 'ok')
check('/tmp')
check('/data')
"#,
    )
    .await;
    assert_eq!(out, "/tmp ok\n/data ok\n");
    std::fs::remove_dir_all(&host).unwrap();
}

#[tokio::test]
async fn stdlib_file_users() {
    let mut sb = sandbox().await;
    let out = ok(
        &mut sb,
        r#"
import os, zipfile, tarfile, shutil, pathlib, tempfile, sqlite3, csv, json
p = pathlib.Path('proj'); (p / 'src' / 'pkg').mkdir(parents=True)
(p / 'src' / 'pkg' / 'm.py').write_text('x = 1\n'); (p / 'data.bin').write_bytes(bytes(range(256)) * 100)
with zipfile.ZipFile('p.zip', 'w', zipfile.ZIP_DEFLATED) as z:
    for f in p.rglob('*'):
        z.write(f)
with zipfile.ZipFile('p.zip') as z:
    assert z.testzip() is None; z.extractall('/tmp/unz')
assert (pathlib.Path('/tmp/unz/proj/data.bin').read_bytes() == (p / 'data.bin').read_bytes())
with tarfile.open('p.tar.gz', 'w:gz') as t: t.add('proj')
with tarfile.open('p.tar.gz') as t: t.extractall('/tmp/untar', filter='data')
assert sorted(x.name for x in pathlib.Path('/tmp/untar/proj').iterdir()) == ['data.bin', 'src']
shutil.copytree('proj', 'copy'); assert (pathlib.Path('copy/src/pkg/m.py').read_text() == 'x = 1\n')
shutil.move('copy', '/tmp/moved'); shutil.rmtree('/tmp/moved'); assert not os.path.exists('/tmp/moved')
shutil.copyfile('p.zip', 'p2.zip'); assert os.path.getsize('p2.zip') == os.path.getsize('p.zip')
with tempfile.TemporaryDirectory() as d:
    with open(os.path.join(d, 'w.csv'), 'w', newline='') as f:
        csv.writer(f).writerows([[1, 'a'], [2, 'b']])
    rows = list(csv.reader(open(os.path.join(d, 'w.csv'))))
assert rows == [['1', 'a'], ['2', 'b']] and not os.path.exists(d)
fd, name = tempfile.mkstemp(suffix='.json'); os.write(fd, json.dumps({'k': 1}).encode()); os.close(fd)
assert json.load(open(name)) == {'k': 1}
db = sqlite3.connect('j.db'); db.execute('pragma journal_mode=delete')
db.execute('create table t(a)'); db.commit()
db.execute('insert into t values (1)'); db.commit()
db.execute('insert into t values (2)'); db.rollback()
db.execute('begin'); db.executemany('insert into t values (?)', [(i,) for i in range(1000)]); db.commit()
other = sqlite3.connect('j.db')
print(other.execute('select count(*), sum(a) from t').fetchone(), sorted(os.listdir('.')))
"#,
    )
    .await;
    assert_eq!(
        out,
        "(1001, 499501) ['j.db', 'p.tar.gz', 'p.zip', 'p2.zip', 'proj']\n"
    );
}

#[tokio::test]
async fn files_persist_across_executes_and_snapshots() {
    let mut sb = sandbox().await;
    ok(&mut sb, "open('keep.txt', 'w').write('v1'); x = 1").await;
    assert_eq!(ok(&mut sb, "print(open('keep.txt').read())").await, "v1\n");
    let snap = sb.snapshot().await.unwrap();
    ok(
        &mut sb,
        "open('keep.txt', 'w').write('v2'); open('/tmp/new', 'w').close(); x = 2",
    )
    .await;
    sb.restore(&snap).await.unwrap();
    assert_eq!(
        ok(
            &mut sb,
            "import os; print(open('keep.txt').read(), os.path.exists('/tmp/new'), x)"
        )
        .await,
        "v1 False 1\n"
    );
    // Into another sandbox.
    let mut other = sandbox().await;
    other.restore(&snap).await.unwrap();
    assert_eq!(
        ok(&mut other, "print(open('/home/user/keep.txt').read(), x)").await,
        "v1 1\n"
    );
    // A namespace-only snapshot (the format before files) still restores
    // and leaves the files alone: version 2 is magic, version byte, u64
    // length, namespace, files.
    assert_eq!(&snap[..8], b"ERYXSNAP");
    let n = u64::from_le_bytes(snap[9..17].try_into().unwrap()) as usize;
    let old = snap[17..17 + n].to_vec();
    ok(&mut other, "open('keep.txt', 'w').write('v3'); x = 5").await;
    other.restore(&old).await.unwrap();
    assert_eq!(
        ok(&mut other, "print(open('keep.txt').read(), x)").await,
        "v3 1\n"
    );
    // Garbage after a valid header is refused and changes nothing.
    let mut bad = snap.clone();
    bad.truncate(bad.len() - 3);
    assert!(matches!(other.restore(&bad).await, Err(Error::State(_))));
    assert_eq!(
        ok(&mut other, "print(open('keep.txt').read(), x)").await,
        "v3 1\n"
    );
}

#[tokio::test]
async fn fault_recovery_brings_back_the_last_good_files() {
    let mut sb = Sandbox::builder()
        .timeout(Duration::from_millis(500))
        .max_memory(256 << 20)
        .build()
        .await
        .unwrap();
    ok(
        &mut sb,
        "open('/tmp/a', 'w').write('good'); f = open('/tmp/held', 'w')",
    )
    .await;
    let r = sb
        .execute(
            "open('/tmp/a', 'w').write('bad'); open('/tmp/b', 'w').write('b')\nwhile True: pass",
        )
        .await;
    assert!(matches!(r, Err(Error::Timeout)), "{r:?}");
    let check = "import os; print(open('/tmp/a').read(), os.path.exists('/tmp/b'), sorted(os.listdir('/tmp')))";
    assert_eq!(ok(&mut sb, check).await, "good False ['a', 'held']\n");
    let r = sb
        .execute("open('/tmp/a', 'w').write('bad'); open('/tmp/b', 'w').write('b')\nx = bytearray(1 << 30)")
        .await;
    assert!(matches!(r, Err(Error::MemoryLimit(_))), "{r:?}");
    assert_eq!(ok(&mut sb, check).await, "good False ['a', 'held']\n");
    let handle = sb.interrupt_handle();
    let stop = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(150)).await;
        handle.interrupt();
    });
    let r = sb
        .execute("open('/tmp/a', 'a').write('bad'); open('/tmp/b', 'w').close()\nwhile True: pass")
        .await;
    stop.await.unwrap();
    assert!(matches!(r, Err(Error::Interrupted)), "{r:?}");
    assert_eq!(ok(&mut sb, check).await, "good False ['a', 'held']\n");
    // clear() empties the namespace and the files.
    sb.clear().await.unwrap();
    assert_eq!(
        ok(
            &mut sb,
            "import os; print(os.listdir('/tmp'), sorted(os.listdir('/')), 'f' in dir())"
        )
        .await,
        "[] ['dev', 'home', 'lib', 'tmp'] False\n"
    );
}

#[tokio::test]
async fn caps_give_enospc_and_the_session_goes_on() {
    let mut sb = Sandbox::builder()
        .max_file_bytes(1 << 20)
        .max_files(50)
        .build()
        .await
        .unwrap();
    let out = ok(
        &mut sb,
        r#"
import os, errno
keep = 'still here'
n = 0
try:
    while True:
        open(f'/tmp/f{n}', 'w').close(); n += 1
except OSError as e:
    assert e.errno == errno.ENOSPC, e
try: os.mkdir('/tmp/more')
except OSError as e: assert e.errno == errno.ENOSPC, e
else: raise AssertionError("os.mkdir('/tmp/more')")
for i in range(n): os.unlink(f'/tmp/f{i}')
fd = os.open('/tmp/big', os.O_RDWR | os.O_CREAT)
for off in (1 << 20, 1 << 40, 2**62):
    try: os.pwrite(fd, b'x', off)
    except OSError as e: assert e.errno == errno.ENOSPC, (off, e)
    else: raise AssertionError('pwrite past the cap')
try: os.ftruncate(fd, (1 << 20) + 1)
except OSError as e: assert e.errno == errno.ENOSPC, e
else: raise AssertionError('os.ftruncate(fd, (1 << 20) + 1)')
os.ftruncate(fd, 1 << 20)
os.ftruncate(fd, 0)
# Plain write()s go on up to the cap: the one that passes it writes what
# fits and returns that short count, like a full disk; the next one fails
# with ENOSPC, as on Linux (wasi-libc alone would say EIO: c/write_enospc.c).
counts = []
try:
    while True: counts.append(os.write(fd, b'y' * 300_000))
except OSError as e: assert e.errno == errno.ENOSPC, e
assert counts == [300_000] * 3 + [(1 << 20) - 900_000], counts
assert os.fstat(fd).st_size == 1 << 20
# Overwriting inside the file needs no room; past its end there is none.
os.lseek(fd, 100, 0)
assert os.write(fd, b'o' * 10) == 10
assert os.pread(fd, 12, 99) == b'y' + b'o' * 10 + b'y'
# Buffered files too: what fits lands, then OSError; the rest stays in the
# buffer and lands once there is room.
os.ftruncate(fd, (1 << 20) - 5)
b = open('/tmp/buf', 'wb')
try: b.write(b'b' * 20); b.flush()
except OSError as e: assert e.errno == errno.ENOSPC, e
else: raise AssertionError('buffered write past the cap')
assert os.path.getsize('/tmp/buf') == 5
os.ftruncate(fd, 0)
b.close()
assert os.path.getsize('/tmp/buf') == 20
os.unlink('/tmp/buf')
# With the cap reached exactly, opening a file and writing to it is ENOSPC.
os.pwrite(fd, b'y', (1 << 20) - 1)
other = os.open('/tmp/other', os.O_WRONLY | os.O_CREAT)
try: os.write(other, b'w')
except OSError as e: assert e.errno == errno.ENOSPC, e
else: raise AssertionError('write at the cap')
os.close(other)
os.ftruncate(fd, 0); os.lseek(fd, 0, 0)
os.write(fd, b'z' * 1000); os.close(fd)
print(n > 30, os.path.getsize('/tmp/big'))
"#,
    )
    .await;
    assert_eq!(out, "True 1000\n");
    assert_eq!(ok(&mut sb, "print(keep)").await, "still here\n");
}

#[tokio::test]
async fn hostile_input() {
    let mut sb = Sandbox::builder()
        .max_files(200_000)
        .timeout(Duration::from_secs(120))
        .build()
        .await
        .unwrap();
    let out = ok(
        &mut sb,
        r#"
import os, errno, sys
# '..' never leaves a preopen: the virtual root is its own parent, and the
# stdlib mount refuses to be left.
assert sorted(os.listdir('/tmp/../../..')) == ['dev', 'home', 'lib', 'tmp']
for p in ['/lib/python3.14/../../etc/passwd', '/lib/python3.14/../python3.14/os.py']:
    try: open(p)
    except OSError as e: assert e.errno in (errno.EPERM, errno.EACCES, errno.ENOENT), (p, e)
    else: raise AssertionError(p)
# symlinks resolve inside the tree only; loops are ELOOP
os.symlink('/etc/passwd', 'host'); os.symlink('../../../../../../etc', 'up')
for p in ['host', 'up/passwd']:
    try: open(p)
    except FileNotFoundError as e: assert sys._stdlib_dir not in str(e) and '.cache' not in str(e)
    else: raise AssertionError(p)
try: os.symlink('/lib/python3.14/os.py', 'stdlib')   # into a mount: it would dangle
except OSError as e: assert e.errno == errno.EXDEV, e
else: raise AssertionError("os.symlink('/lib/python3.14/os.py', 'stdlib')")
os.symlink('../' * 8 + 'lib/python3.14/os.py', 'stdlib')   # the tree's own /lib, not the mount
try: open('stdlib')
except FileNotFoundError: pass
else: raise AssertionError("open('stdlib')")
os.symlink('l2', 'l1'); os.symlink('l1', 'l2'); os.symlink('self', 'self')
for p in ['l1', 'self', 'self/x']:
    try: os.stat(p)
    except OSError as e: assert e.errno == errno.ELOOP, (p, e)
    else: raise AssertionError(p)
# deep nesting
d = '/tmp/' + '/'.join(['d'] * 900); os.makedirs(d); open(d + '/leaf', 'w').write('deep')
assert open(d + '/leaf').read() == 'deep'
try: os.mkdir('/tmp/' + 'e/' * 3000)
except OSError as e: assert e.errno == errno.ENAMETOOLONG, e
else: raise AssertionError("os.mkdir('/tmp/' + 'e/' * 3000)")
import shutil; shutil.rmtree('/tmp/d')
# 10^5 tiny files
for i in range(100_000): open(f'/tmp/t{i}', 'wb').write(b'x')
assert len(os.listdir('/tmp')) >= 100_000
for i in range(100_000): os.unlink(f'/tmp/t{i}')
# one huge write: refused, nothing kept
f = open('/tmp/huge', 'wb', buffering=0)
try: f.write(b'x' * (200 << 20))
except OSError: pass
f.close(); assert os.path.getsize('/tmp/huge') < (64 << 20) + 1
os.unlink('/tmp/huge')
# sparse seek far past the cap
fd = os.open('/tmp/sparse', os.O_WRONLY | os.O_CREAT); os.lseek(fd, 1 << 50, 0)
try: os.write(fd, b'x')
except OSError: pass
else: raise AssertionError("os.write(fd, b'x')")
os.close(fd); assert os.path.getsize('/tmp/sparse') == 0
# concurrent handles to a deleted file
a = open('/tmp/gone', 'w+'); b = open('/tmp/gone', 'r')
a.write('shared'); a.flush(); os.unlink('/tmp/gone')
assert not os.path.exists('/tmp/gone') and b.read() == 'shared'
a.seek(0); a.write('SH'); a.flush(); b.seek(0); assert b.read() == 'SHared'
a.close(); b.close()
# names: too long, bad
try: open('/tmp/' + 'n' * 300, 'w')
except OSError as e: assert e.errno == errno.ENAMETOOLONG, e
else: raise AssertionError("open('/tmp/' + 'n' * 300, 'w')")
print('ok')
"#,
    )
    .await;
    assert_eq!(out, "ok\n");
    assert_eq!(ok(&mut sb, "print(2 + 2)").await, "4\n");
}

#[tokio::test]
async fn mounts_and_the_tree_side_by_side() {
    let host = host_dir("mount");
    std::fs::write(host.join("in.txt"), "from host").unwrap();
    let mut sb = mounted(&host, "/data/host").await;
    let out = ok(
        &mut sb,
        r#"
import os, errno
print(sorted(os.listdir('/')), os.listdir('/data'), open('/data/host/in.txt').read())
open('/data/host/out.txt', 'w').write('to host')
open('/tmp/v', 'w').write('v')
try: os.rename('/tmp/v', '/data/host/v')
except OSError as e: print(e.errno == errno.EXDEV)
else: raise AssertionError("os.rename('/tmp/v', '/data/host/v')")
"#,
    )
    .await;
    assert_eq!(
        out,
        "['data', 'dev', 'home', 'lib', 'tmp'] ['host'] from host\nTrue\n"
    );
    assert_eq!(
        std::fs::read_to_string(host.join("out.txt")).unwrap(),
        "to host"
    );
    assert!(!host.join("v").exists());
    std::fs::remove_dir_all(&host).unwrap();
}

#[tokio::test]
async fn dev_null_is_a_null_device_through_snapshots() {
    let mut sb = Sandbox::builder()
        .max_file_bytes(1 << 20)
        .build()
        .await
        .unwrap();
    let check = "import os, stat\n\
                 st = os.stat(os.devnull)\n\
                 with open(os.devnull, 'w') as f: n = f.write('x' * 3_000_000)\n\
                 print(os.devnull, stat.S_ISCHR(st.st_mode), n, open(os.devnull, 'rb').read(), os.stat(os.devnull).st_size)";
    // 3 MB written, more than the 1 MB byte cap of this sandbox.
    assert_eq!(ok(&mut sb, check).await, "/dev/null True 3000000 b'' 0\n");
    let snap = sb.snapshot().await.unwrap();
    ok(&mut sb, "import os; os.remove(os.devnull)").await;
    sb.restore(&snap).await.unwrap();
    assert_eq!(ok(&mut sb, check).await, "/dev/null True 3000000 b'' 0\n");
}
