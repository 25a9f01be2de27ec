//! `cargo bench -p eryx --bench exact`: exact sessions (issue 29) in one
//! run — creation of an exact sandbox next to an ordinary one; fork of a
//! session that touched 10 MiB and 100 MiB of heap; exact snapshot (size,
//! time) next to the pickled snapshot of the same session; restore of the
//! exact snapshot into a new sandbox; and, when the pandas wheel is in
//! target/wheelhouse (`ERYX_BENCH_PANDAS=0` skips it), the exact snapshot
//! of a session after `import pandas`. Prints a table.
use eryx::{Error, Sandbox};
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:>9.2} ms", d.as_secs_f64() * 1e3)
}

fn mb(n: usize) -> String {
    format!("{:>9.2} MB", n as f64 / 1e6)
}

fn row(what: &str, value: String) {
    println!("{what:<62} {value}");
}

/// Drop what a timed run returned (after the clock stopped).
fn discard<T>(_: T) {}

/// Median of `n` timed runs of the awaited expression `$e`.
macro_rules! time_n {
    ($n:expr, $e:expr) => {{
        let mut v = Vec::with_capacity($n);
        for _ in 0..$n {
            let t = Instant::now();
            let r = $e;
            v.push(t.elapsed());
            discard(r);
        }
        median(v)
    }};
}

async fn exact() -> Result<Sandbox, Error> {
    Sandbox::builder().exact(true).build().await
}

/// Fork, snapshots and restore of a session that touched `mib` MiB.
async fn touched(mib: usize) -> Result<(), Error> {
    let mut sb = exact().await?;
    sb.execute(&format!(
        "buf = bytearray(b'\\x01') * ({mib} << 20)\nbuf[::4096] = bytes(range(256)) * (len(buf[::4096]) // 256) + bytes(len(buf[::4096]) % 256)"
    ))
    .await?;
    let n = if mib >= 100 { 5 } else { 15 };
    let fork = time_n!(n, sb.fork().await?);
    row(&format!("fork, {mib} MiB touched"), ms(fork));
    let mut snap = Vec::new();
    let t_exact = time_n!(n, {
        snap = sb.snapshot_exact().await?;
    });
    let mut pickled = Vec::new();
    let t_pickled = time_n!(n, {
        pickled = sb.snapshot().await?;
    });
    row(
        &format!("exact snapshot, {mib} MiB touched: time"),
        ms(t_exact),
    );
    row(
        &format!("exact snapshot, {mib} MiB touched: size"),
        mb(snap.len()),
    );
    row("pickled snapshot, same session: time", ms(t_pickled));
    row("pickled snapshot, same session: size", mb(pickled.len()));
    let mut target = exact().await?;
    let t_restore = time_n!(n, target.restore(&snap).await?);
    row(
        &format!("exact restore into an existing sandbox, {mib} MiB"),
        ms(t_restore),
    );
    let t_new = time_n!(n, {
        let mut fresh = exact().await?;
        fresh.restore(&snap).await?;
        fresh
    });
    row(
        &format!("new exact sandbox + exact restore, {mib} MiB"),
        ms(t_new),
    );
    let check = target.execute("print(len(buf), buf[4096])").await?;
    assert_eq!(
        check.split_whitespace().next(),
        Some(&*((mib << 20).to_string()))
    );
    Ok(())
}

fn pandas_wanted() -> bool {
    if std::env::var("ERYX_BENCH_PANDAS").as_deref() == Ok("0") {
        return false;
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/wheelhouse");
    std::fs::read_dir(dir).is_ok_and(|d| {
        d.flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("pandas-"))
    })
}

async fn pandas() -> Result<(), Error> {
    let build = || {
        Sandbox::builder()
            .exact(true)
            .requirements(["pandas"])
            .progress(true)
            .build()
    };
    let mut sb = build().await?;
    sb.execute("import pandas as pd\ndf = pd.DataFrame({'a': range(1000), 'b': [i * 0.5 for i in range(1000)]})\nprint(df.b.sum())")
        .await?;
    let mut snap = Vec::new();
    let t = time_n!(7, {
        snap = sb.snapshot_exact().await?;
    });
    row(
        "exact snapshot after `import pandas` + a DataFrame: time",
        ms(t),
    );
    row(
        "exact snapshot after `import pandas` + a DataFrame: size",
        mb(snap.len()),
    );
    let pickled = sb.snapshot().await?;
    row(
        "pickled snapshot of the same session: size",
        mb(pickled.len()),
    );
    let fork = time_n!(7, sb.fork().await?);
    row("fork of the pandas session", ms(fork));
    let mut target = build().await?;
    let t = time_n!(7, target.restore(&snap).await?);
    row("exact restore of it into an existing sandbox", ms(t));
    let t = time_n!(7, {
        let mut fresh = build().await?;
        fresh.restore(&snap).await?;
        fresh
    });
    row("new exact sandbox + exact restore of it", ms(t));
    let out = target.execute("print(df.b.sum())").await?;
    assert_eq!(out.trim(), "249750.0");
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    eryx::prepare(true)?;
    drop(exact().await?); // first run: compile the exact flavor
    drop(Sandbox::builder().build().await?);
    let plain = time_n!(30, Sandbox::builder().build().await?);
    row("ordinary sandbox creation", ms(plain));
    let ex = time_n!(30, exact().await?);
    row("exact sandbox creation", ms(ex));
    let mut sb = exact().await?;
    sb.execute("x = 1").await?;
    let fork = time_n!(30, sb.fork().await?);
    row("fork of a fresh session", ms(fork));
    touched(10).await?;
    touched(100).await?;
    if pandas_wanted() {
        pandas().await?;
    } else {
        row(
            "pandas (no wheel in target/wheelhouse, or ERYX_BENCH_PANDAS=0)",
            "skipped".into(),
        );
    }
    Ok(())
}
