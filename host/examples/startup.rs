//! Startup timings of the pre-initialised sandbox, in one process:
//! `cargo run --release -p eryx --example startup` (after one run of `eryx`
//! has built the cached image; ERYX_CACHE_DIR is honoured).
//!
//! Prints the first sandbox of the process (loads the compiled image from
//! the cache), then the median of N sandbox creations + first `execute`
//! (without and with the per-call state checkpoint), and of N warm
//! `execute('print(1+1)')` calls.
use std::time::{Duration, Instant};

const N: usize = 50;

fn median(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64() * 1e3
}

#[tokio::main]
async fn main() -> Result<(), eryx::Error> {
    let t = Instant::now();
    let mut first = eryx::Sandbox::builder().progress(true).build().await?;
    let created = t.elapsed();
    first.execute("print(1+1)").await?;
    println!(
        "first sandbox in process: build {:.2} ms, + first execute {:.2} ms",
        created.as_secs_f64() * 1e3,
        t.elapsed().as_secs_f64() * 1e3
    );

    for checkpoint in [false, true] {
        let (mut build, mut both) = (Vec::new(), Vec::new());
        for _ in 0..N {
            let t = Instant::now();
            let mut sb = eryx::Sandbox::builder()
                .keep_state_on_fault(checkpoint)
                .build()
                .await?;
            build.push(t.elapsed());
            sb.execute("print(1+1)").await?;
            both.push(t.elapsed());
        }
        println!(
            "sandbox build (median of {N}): {:.3} ms; build + first execute: {:.3} ms ({})",
            median(build),
            median(both),
            if checkpoint {
                "default: state checkpoint after the call"
            } else {
                "keep_state_on_fault(false)"
            }
        );
    }

    let mut sb = eryx::Sandbox::builder()
        .keep_state_on_fault(false)
        .build()
        .await?;
    sb.execute("pass").await?;
    let mut warm = Vec::new();
    for _ in 0..N * 4 {
        let t = Instant::now();
        sb.execute("print(1+1)").await?;
        warm.push(t.elapsed());
    }
    println!(
        "warm execute('print(1+1)') (median of {}): {:.3} ms",
        N * 4,
        median(warm)
    );
    Ok(())
}
