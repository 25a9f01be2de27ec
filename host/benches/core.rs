//! `cargo bench -p eryx --bench core`: the figures issues 2-5 ask for,
//! measured in-process on real CPython in real wasmtime. Prints a table.
//! (Process-level figures — cold first run, warm `eryx -c` — are timed by
//! running target/release/eryx; see docs/benchmarks.md.)
use eryx::{Error, Sandbox};
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn row(what: &str, d: Duration) {
    println!("{what:<58} {:>10.3} ms", d.as_secs_f64() * 1e3);
}

/// Median time of `$n` runs of the expression `$e` (awaited).
macro_rules! time_n {
    ($n:expr, $e:expr) => {{
        let mut v = Vec::with_capacity($n);
        for _ in 0..$n {
            let t = Instant::now();
            $e;
            v.push(t.elapsed());
        }
        median(v)
    }};
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    eryx::prepare(true)?;
    let t = Instant::now();
    let mut sb = Sandbox::builder().build().await?;
    row("sandbox creation (compiled code cached)", t.elapsed());
    let t = Instant::now();
    sb.execute("print(1+1)").await?;
    row("first execute('print(1+1)')", t.elapsed());
    let warm = time_n!(200, sb.execute("print(1+1)").await.map(drop).unwrap());
    row("warm execute('print(1+1)'), state kept for recovery", warm);
    let mut fast = Sandbox::builder()
        .keep_state_on_fault(false)
        .build()
        .await?;
    let warm = time_n!(200, fast.execute("print(1+1)").await.map(drop).unwrap());
    row(
        "warm execute('print(1+1)'), keep_state_on_fault(false)",
        warm,
    );

    // Issue 3: snapshot / restore of a 10k-int dict.
    fast.execute("d = {i: i for i in range(10_000)}").await?;
    let mut snap = Vec::new();
    let s = time_n!(20, snap = fast.snapshot().await.unwrap());
    row("snapshot of d = {i: i for i in range(10_000)}", s);
    let r = time_n!(20, fast.restore(&snap).await.unwrap());
    row("restore of the same snapshot", r);

    // Issue 4: callback round trip and tracing cost.
    let mut cb = Sandbox::builder()
        .keep_state_on_fault(false)
        .callback("echo", "echo", |v| async move { Ok(v) })
        .build()
        .await?;
    cb.execute("await echo(i=0)").await?;
    let t = Instant::now();
    cb.execute("for i in range(1000):\n    await echo(i=i)")
        .await?;
    let per = t.elapsed() / 1000;
    println!(
        "{:<58} {:>10.3} µs",
        "callback round trip (1000 sequential await echo(i=i))",
        per.as_secs_f64() * 1e6
    );
    let fib = "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\nfib(25)";
    let off = time_n!(5, fast.execute(fib).await.map(drop).unwrap());
    row("fib(25), tracing off (no handler)", off);
    let mut traced = Sandbox::builder()
        .keep_state_on_fault(false)
        .on_trace(|_| {})
        .build()
        .await?;
    let on = time_n!(3, traced.execute(fib).await.map(drop).unwrap());
    row("fib(25), tracing on (every event to a no-op handler)", on);

    // Issue 5: time from the timeout deadline to control returned.
    let limit = Duration::from_millis(200);
    let mut lim = Sandbox::builder().timeout(limit).build().await?;
    lim.execute("keep = 1").await?;
    let t = Instant::now();
    let r = lim.execute("while True:\n    pass").await;
    assert_eq!(r, Err(Error::Timeout));
    row(
        "timeout: deadline to control returned (incl. recovery)",
        t.elapsed() - limit,
    );
    let t = Instant::now();
    let r = lim.execute("import time\ntime.sleep(10)").await;
    assert_eq!(r, Err(Error::Timeout));
    row(
        "timeout in a blocking sleep: deadline to control returned",
        t.elapsed() - limit,
    );
    Ok(())
}
