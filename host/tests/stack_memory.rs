//! Native stack pages a deep call touched are given back after the call
//! (docs/stacks.md). Its own test binary: the figure is process-wide.
use eryx::Sandbox;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[tokio::test]
async fn a_deep_call_leaves_no_deep_stack_resident() {
    let mut sb = Sandbox::builder().build().await.expect("sandbox");
    sb.execute("x = 1").await.unwrap();
    let idle = eryx::bench_support::stack_resident_bytes();
    // The figure during the call, sampled from another thread: the deep call
    // must raise it (a reading stuck at 0 would pass the check below).
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut peak = 0;
            while !stop.load(Ordering::SeqCst) {
                peak = peak.max(eryx::bench_support::stack_resident_bytes());
                std::thread::sleep(std::time::Duration::from_micros(500));
            }
            peak
        })
    };
    // C recursion down to CPython's guard: several MiB of native stack.
    let deep = "l = []\nfor _ in range(10**6):\n    l = [l]\n\
                try:\n    repr(l)\nexcept RecursionError:\n    print('guarded')";
    assert_eq!(sb.execute(deep).await.unwrap(), "guarded\n");
    stop.store(true, Ordering::SeqCst);
    let peak = sampler.join().unwrap();
    assert!(
        peak >= idle + (2 << 20),
        "the deep call should have made MiBs of native stack resident: {idle} idle, peak {peak}"
    );
    let after = eryx::bench_support::stack_resident_bytes();
    assert!(
        after <= idle + (512 << 10),
        "native stack resident: {idle} idle, {after} after the deep call"
    );
    assert_eq!(sb.execute("print(x)").await.unwrap(), "1\n");
}
