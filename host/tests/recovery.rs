//! Bringing a session back after a fault: the last good state is loaded
//! into a fresh instance. Interrupts meant for the failed call (an embedder
//! such as eryx-server keeps interrupting until the call returns) must not
//! stop that load and leave a poisoned instance behind, and a state whose
//! own objects cannot be loaded (a `__reduce__` that loops) must end in a
//! clear error and an empty, working session, never a hang.
use eryx::{Error, Sandbox};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread")]
async fn interrupts_that_outlast_the_call_do_not_poison_the_session() {
    let mut sb = Sandbox::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .await
        .unwrap();
    // A state big enough that loading it takes a while (many interrupts
    // land in it).
    sb.execute("n = 0\nbig = [str(i) * 5 for i in range(200_000)]")
        .await
        .unwrap();
    for round in 1..=5 {
        let handle = sb.interrupt_handle();
        let stop = Arc::new(AtomicBool::new(false));
        let storm = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(50));
                while !stop.load(Ordering::SeqCst) {
                    handle.interrupt();
                    std::thread::sleep(Duration::from_micros(200));
                }
            })
        };
        let r = sb
            .execute("import time\nwhile True: time.sleep(0.001)")
            .await;
        stop.store(true, Ordering::SeqCst);
        storm.join().unwrap();
        assert!(matches!(r, Err(Error::Interrupted)), "round {round}: {r:?}");
        // The next call runs in the recovered instance, state intact.
        let out = sb.execute("n += 1; print(n, len(big))").await;
        assert_eq!(out.unwrap(), format!("{round} 200000\n"), "round {round}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_state_that_cannot_be_loaded_is_a_clear_error_not_a_hang() {
    let mut sb = Sandbox::builder()
        .timeout(Duration::from_secs(1))
        .build()
        .await
        .unwrap();
    // Pickled fine after this call; loading it runs the loop.
    sb.execute(concat!(
        "class Evil:\n",
        "    def __reduce__(self):\n",
        "        return (exec, ('while True: pass',))\n",
        "evil = Evil()\n",
        "kept = 1\n",
    ))
    .await
    .unwrap();
    let t = Instant::now();
    let r = sb.execute("while True: pass").await;
    let took = t.elapsed();
    match &r {
        Err(Error::State(m)) => {
            assert!(m.contains("could not be restored"), "{m}");
            assert!(m.contains("starts empty"), "{m}");
            assert!(!m.contains("wasm"), "engine internals in {m}");
        }
        other => panic!("expected a state error, got {other:?}"),
    }
    // The call's own second, then at most the load's second (and slack).
    assert!(took < Duration::from_secs(6), "{took:?}");
    // The session goes on, empty.
    assert_eq!(
        sb.execute("print('kept' in globals())").await.unwrap(),
        "False\n"
    );
}
