//! `cargo bench -p eryx --bench display`: what the display hook (the
//! last-expression capture and the end-of-call figure check) costs a warm
//! `print(1+1)` execute. Both sides run in one process, interleaved call
//! by call so machine load hits them alike: a sandbox with the hook (the
//! default) and one built with `display_hook(false).open_figures(false)`.
//! A second table times the guest-side steps alone, inside the sandbox.
use eryx::{Error, Sandbox};
use std::time::{Duration, Instant};

const ROUNDS: usize = 3000;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

async fn sandbox(hook: bool) -> Result<Sandbox, Error> {
    Sandbox::builder()
        .keep_state_on_fault(false)
        .display_hook(hook)
        .open_figures(hook)
        .build()
        .await
}

/// The guest-side steps, timed with `time.perf_counter` over many runs.
const IN_GUEST: &str = r#"
import time, _eryx_display as d, _eryx_runtime as r
n = 20000
c = compile("print(1+1)", "<string>", "exec", flags=0x2000, dont_inherit=True)
def per(f):
    t = time.perf_counter()
    for _ in range(n):
        f()
    return (time.perf_counter() - t) / n * 1e6
base = per(lambda: None)
cap = per(lambda: d.capture_last(c)) - base
_, how = d.capture_last(c)
def take():
    d.take_last(None, "print(1+1)", how)
    d.flush_figures()
tk = per(take) - base
print("%.2f %.2f" % (cap, tk))
"#;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    eryx::prepare(true)?;
    let mut on = sandbox(true).await?;
    let mut off = sandbox(false).await?;
    for sb in [&mut on, &mut off] {
        for _ in 0..50 {
            sb.execute("print(1+1)").await?;
        }
    }
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let t = Instant::now();
        on.execute("print(1+1)").await?;
        a.push(t.elapsed());
        let t = Instant::now();
        off.execute("print(1+1)").await?;
        b.push(t.elapsed());
    }
    let (a, b) = (median(a), median(b));
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!("warm execute('print(1+1)'), median of {ROUNDS} interleaved calls");
    println!("  {:<44} {:>9.1} us", "display hook on (default)", us(a));
    println!(
        "  {:<44} {:>9.1} us",
        "display_hook(false).open_figures(false)",
        us(b)
    );
    println!("  {:<44} {:>9.1} us", "difference", us(a) - us(b));
    let out = on.execute(IN_GUEST).await?;
    let mut parts = out.split_whitespace();
    let (cap, take) = (parts.next().unwrap_or("?"), parts.next().unwrap_or("?"));
    println!("guest-side steps per call (perf_counter over 20000 runs, loop cost removed)");
    println!("  {:<44} {:>9} us", "capture_last(code of print(1+1))", cap);
    println!(
        "  {:<44} {:>9} us",
        "take_last (value None) + figure check", take
    );
    Ok(())
}
