//! The per-call recovery checkpoint's budget, real CPython in real
//! wasmtime: values that do not fit are left out (named once on stderr,
//! lost by a later fault, still in an explicit snapshot), the rest come
//! back after a fault; a 1 GiB value in a session without a memory cap is
//! not copied by the checkpoint (the memory the call peaked at stays near
//! the value's size, not three times it), nor is a 512 MiB numpy array
//! (its data reaches the pickle as one buffer) or a DataFrame's blocks.
mod common;
use eryx::{Error, Sandbox};
use std::time::Duration;

const MIB: usize = 1 << 20;

/// A sandbox with the default budget and a timeout of `secs`.
async fn with_timeout(secs: u64) -> Sandbox {
    Sandbox::builder()
        .timeout(Duration::from_secs(secs))
        .build()
        .await
        .unwrap()
}

#[tokio::test]
async fn values_over_the_budget_are_left_out_once_and_the_rest_survive_a_fault() {
    let mut sb = Sandbox::builder()
        .timeout(Duration::from_secs(5))
        .checkpoint_budget(8 * MIB)
        .build()
        .await
        .unwrap();
    // In namespace order: `small` and `a` fit, `b` would pass the budget
    // with them, `big` alone does.
    let r = sb
        .run("small = list(range(10))\na = b'a' * (5 << 20)\nb = b'b' * (5 << 20)\nbig = bytearray(32 << 20)")
        .await;
    assert!(r.error.is_none(), "{:?}", r.error);
    assert!(r.stderr.contains("recovery checkpoint"), "{}", r.stderr);
    assert!(
        r.stderr.contains("b (bytes: over the 8.0 MiB budget)")
            && r.stderr
                .contains("big (bytearray: over the 8.0 MiB budget)"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("small") && !r.stderr.contains(" a ("));
    // Said once: the next call that leaves out the same is quiet.
    let r = sb.run("print(len(big), len(a))").await;
    assert_eq!(r.stdout, format!("{} {}\n", 32 * MIB, 5 * MIB));
    assert_eq!(r.stderr, "");
    // An explicit snapshot has no budget.
    let snap = sb.snapshot().await.unwrap();
    assert!(snap.len() > 42 * MIB, "{}", snap.len());
    // A fault: the session comes back from the checkpoint.
    let r = sb.execute("while True: pass").await;
    assert!(matches!(r, Err(Error::Timeout)), "{r:?}");
    assert_eq!(
        sb.execute("print(small, len(a))").await.unwrap(),
        format!("[0, 1, 2, 3, 4, 5, 6, 7, 8, 9] {}\n", 5 * MIB)
    );
    for gone in ["b", "big"] {
        let r = sb.run(gone).await;
        let e = r.error.expect("left out, then lost by the fault");
        assert!(e.to_string().contains("NameError"), "{gone}: {e}");
    }
    // The snapshot from before the fault still has everything.
    sb.restore(&snap).await.unwrap();
    assert_eq!(
        sb.execute("print(len(b), len(big))").await.unwrap(),
        format!("{} {}\n", 5 * MIB, 32 * MIB)
    );
}

#[tokio::test]
async fn a_gib_in_a_session_without_a_cap_is_not_copied_by_the_checkpoint() {
    let mut sb = Sandbox::builder().build().await.unwrap();
    let r = sb.run("x = bytearray(1 << 30)").await;
    assert!(r.error.is_none(), "{:?}", r.error);
    assert!(r
        .stderr
        .contains("x (bytearray: over the 256.0 MiB budget)"));
    // Peak linear memory: the GiB and the interpreter, no pickled copy.
    assert!(
        r.peak_memory < (1 << 30) + 200 * MIB,
        "peak {} MiB",
        r.peak_memory / MIB
    );
    assert_eq!(
        sb.execute("x[5] = 7; print(len(x), x[5])").await.unwrap(),
        "1073741824 7\n"
    );
}

#[tokio::test]
async fn the_default_budget_is_a_quarter_of_the_memory_cap() {
    let mut sb = Sandbox::builder()
        .max_memory(256 * MIB)
        .build()
        .await
        .unwrap();
    let r = sb.run("x = bytes(70 << 20)").await;
    assert!(r.error.is_none(), "{:?}", r.error);
    assert!(
        r.stderr.contains("x (bytes: over the 64.0 MiB budget)"),
        "{}",
        r.stderr
    );
    let r = sb.run("y = bytes(10 << 20); del x").await;
    assert_eq!(r.stderr, "", "y fits: nothing is left out now");
}

#[tokio::test]
async fn numpy_arrays_and_dataframes_over_the_budget_are_not_copied() {
    let mut sb = Sandbox::builder()
        .package(common::wheel("numpy"))
        .checkpoint_budget(64 * MIB)
        .build()
        .await
        .unwrap();
    let r = sb
        .run("import numpy as np\nsmall = np.arange(10)\narr = np.ones(64 << 20)")
        .await;
    assert!(r.error.is_none(), "{:?}", r.error);
    assert!(
        r.stderr.contains("arr (ndarray: over the 64.0 MiB budget)"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("small"), "{}", r.stderr);
    assert!(
        r.peak_memory < 512 * MIB + 120 * MIB,
        "peak {} MiB",
        r.peak_memory / MIB
    );
    assert_eq!(
        sb.execute("print(arr.sum(), small.sum())").await.unwrap(),
        "67108864.0 45\n"
    );
}

#[tokio::test]
async fn a_checkpoint_that_traps_is_the_calls_error_and_the_state_before_it_stays() {
    let mut sb = Sandbox::builder()
        .checkpoint_budget(usize::MAX)
        .build()
        .await
        .unwrap();
    sb.execute("keep = 5\nopen('/tmp/f', 'w').write('old')")
        .await
        .unwrap();
    // 1 GiB pickled whole: its copies (the pickle, the list handed to the
    // host) do not fit in the guest's 4 GiB address space.
    let r = sb
        .run("keep = 6\nopen('/tmp/f', 'w').write('new')\nx = bytearray(1 << 30)\nprint('ran')")
        .await;
    assert_eq!(r.stdout, "ran\n");
    let e = r
        .error
        .unwrap_or_else(|| panic!("no error; stderr: {}", r.stderr));
    assert!(matches!(e, Error::State(_)), "{e:?}");
    assert!(
        e.to_string().contains("keeping its state failed")
            && e.to_string().contains("back at its state before the call"),
        "{e}"
    );
    // Namespace and files alike are as before the call.
    assert_eq!(
        sb.execute("print(keep, open('/tmp/f').read(), 'x' in dir())")
            .await
            .unwrap(),
        "5 old False\n"
    );
}

#[tokio::test]
async fn a_value_within_the_budget_reaches_the_host_without_a_copy_in_the_guest() {
    let mut sb = with_timeout(20).await;
    let r = sb.run("x = bytearray(b'\\x01') * (64 << 20)").await;
    assert!(r.error.is_none(), "{:?}", r.error);
    assert_eq!(r.stderr, "", "64 MiB fits the default budget");
    // The checkpoint streamed `x` to the host from where it lies: the
    // guest's memory holds it once (pickled into a guest buffer, it held
    // it twice or three times).
    let r = sb.run("pass").await;
    assert!(
        r.peak_memory < 64 * MIB + 40 * MIB,
        "memory {} MiB after a checkpoint of 64 MiB",
        r.peak_memory / MIB
    );
    // And the checkpoint is whole: a fault brings `x` back.
    assert!(matches!(
        sb.execute("while True: pass").await,
        Err(Error::Timeout)
    ));
    assert_eq!(
        sb.execute("print(len(x), x[:2], x[-1])").await.unwrap(),
        format!("{} bytearray(b'\\x01\\x01') 1\n", 64 * MIB)
    );
}

#[tokio::test]
async fn session_code_cannot_write_the_checkpoint() {
    let mut sb = with_timeout(5).await;
    sb.execute("kept = 41").await.unwrap();
    // Outside `checkpoint-state` the host takes no checkpoint bytes.
    let r = sb
        .execute("import eryx\ntry:\n    eryx._state_write(0, b'junk')\nexcept MemoryError as e:\n    print('refused:', e)")
        .await
        .unwrap();
    assert_eq!(r, "refused: the host refused the checkpoint's bytes\n");
    assert!(matches!(
        sb.execute("while True: pass").await,
        Err(Error::Timeout)
    ));
    assert_eq!(sb.execute("print(kept + 1)").await.unwrap(), "42\n");
}
