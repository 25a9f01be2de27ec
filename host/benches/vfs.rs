//! `cargo bench -p eryx --bench vfs`: the scratch-file rows. Virtual tree
//! vs a host-directory mount measured side by side in one run (rounds
//! alternate, medians reported): write + read back 10 MiB, create + stat +
//! delete 10 000 small files; snapshot / restore of a session holding
//! 10 MiB of files; private memory of an idle sandbox with an empty tree.
//! Prints one Markdown table on stdout, progress on stderr.
use eryx::Sandbox;
use std::time::Instant;

const ROUNDS: usize = 7;

/// Guest code: write 10 MiB in 1 MiB writes, read it back; prints seconds.
const WRITE_READ: &str = "\
import os, time
p = os.path.join(DIR, 'big.bin')
data = os.urandom(1 << 20)
t = time.perf_counter()
with open(p, 'wb') as f:
    for _ in range(10):
        f.write(data)
n = 0
with open(p, 'rb') as f:
    while b := f.read(1 << 20):
        n += len(b)
dt = time.perf_counter() - t
assert n == 10 << 20
os.unlink(p)
print(dt)";

/// Guest code: create, stat and delete 10 000 small files; prints seconds.
const MANY: &str = "\
import os, time
d = os.path.join(DIR, 'many')
os.mkdir(d)
t = time.perf_counter()
for i in range(10_000):
    with open(f'{d}/f{i}', 'wb') as f:
        f.write(b'x' * 100)
for i in range(10_000):
    assert os.stat(f'{d}/f{i}').st_size == 100
for i in range(10_000):
    os.unlink(f'{d}/f{i}')
dt = time.perf_counter() - t
os.rmdir(d)
print(dt)";

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// A `kB` field of `/proc/self/status`, in bytes.
fn status_bytes(field: &str) -> i64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|r| r.split_whitespace().next()?.parse::<i64>().ok())
        .unwrap_or(0)
        * 1024
}

async fn secs(sb: &mut Sandbox, dir: &str, code: &str) -> f64 {
    let out = sb
        .execute(&format!("DIR = {dir:?}\n{code}"))
        .await
        .expect("bench code");
    out.trim().parse().expect("seconds")
}

fn ms(s: f64) -> String {
    format!("{:.1} ms", s * 1e3)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let host = std::env::temp_dir().join(format!("eryx-vfs-bench-{}", std::process::id()));
    std::fs::create_dir_all(&host).expect("temp dir");
    let builder = || {
        Sandbox::builder()
            .progress(true)
            .max_files(20_000)
            .mount(&host, "/mnt", true)
    };

    // Memory first, before the other rows shape the heap.
    eprintln!("vfs bench: idle memory...");
    let mut warm = builder().build().await.expect("sandbox");
    warm.execute("pass").await.expect("pass");
    drop(warm);
    let base = status_bytes("RssAnon");
    let mut idle = Vec::new();
    for _ in 0..20 {
        let mut s = builder().build().await.expect("sandbox");
        s.execute("pass").await.expect("pass");
        idle.push(s);
    }
    let private = (status_bytes("RssAnon") - base) / idle.len() as i64;
    drop(idle);

    let mut sb = builder().build().await.expect("sandbox");
    let mut rows: Vec<(String, String, String, String)> = Vec::new();
    for (name, code) in [
        ("write + read back 10 MiB", WRITE_READ),
        ("create + stat + delete 10 000 files", MANY),
    ] {
        eprintln!("vfs bench: {name}...");
        let (mut v, mut h) = (Vec::new(), Vec::new());
        secs(&mut sb, "/tmp", code).await;
        for _ in 0..ROUNDS {
            v.push(secs(&mut sb, "/tmp", code).await);
            h.push(secs(&mut sb, "/mnt", code).await);
        }
        let (v, h) = (median(v), median(h));
        rows.push((name.into(), ms(v), ms(h), format!("{:.2}×", v / h)));
    }

    eprintln!("vfs bench: snapshot / restore...");
    sb.execute(
        "import os\nos.mkdir('/tmp/snap')\n\
         for i in range(10):\n    open(f'/tmp/snap/{i}', 'wb').write(os.urandom(1 << 20))",
    )
    .await
    .expect("files");
    let (mut snap_t, mut restore_t) = (Vec::new(), Vec::new());
    let mut size = 0;
    for _ in 0..ROUNDS {
        let t = Instant::now();
        let snap = sb.snapshot().await.expect("snapshot");
        snap_t.push(t.elapsed().as_secs_f64());
        size = snap.len();
        let t = Instant::now();
        sb.restore(&snap).await.expect("restore");
        restore_t.push(t.elapsed().as_secs_f64());
    }
    let check = sb
        .execute("import os; print(sum(os.path.getsize(f'/tmp/snap/{i}') for i in range(10)))")
        .await
        .expect("check");
    assert_eq!(check.trim(), (10 << 20).to_string());
    std::fs::remove_dir_all(&host).ok();

    println!("| row | virtual tree | host-dir mount | ratio |");
    println!("|---|---|---|---|");
    for (name, v, h, r) in rows {
        println!("| {name} (median of {ROUNDS}) | {v} | {h} | {r} |");
    }
    println!(
        "| snapshot of a session with 10 MiB of files ({:.1} MB) | {} | | |",
        size as f64 / 1e6,
        ms(median(snap_t))
    );
    println!(
        "| restore of that snapshot | {} | | |",
        ms(median(restore_t))
    );
    println!(
        "| private memory (RssAnon) per idle sandbox, empty tree, 20 live | {:.2} MiB | | |",
        private as f64 / (1 << 20) as f64
    );
}
