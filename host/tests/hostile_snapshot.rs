//! A hostile but well-formed snapshot: valid container, valid pickle, whose
//! loading runs code that loops or allocates without end. Restoring it is
//! bounded by the sandbox's own limits (time, memory) like any call, fails
//! with that limit's error, and leaves the session as it was.
use eryx::{Error, Sandbox};
use std::time::{Duration, Instant};

/// A version-1 snapshot (the guest's namespace format) whose pickle calls
/// `exec(code)` while it is loaded.
fn hostile(code: &str) -> Vec<u8> {
    let mut b = b"ERYXSNAP\x01".to_vec();
    // protocol 0: GLOBAL builtins.exec, MARK, UNICODE code, TUPLE, REDUCE, STOP
    b.extend_from_slice(b"cbuiltins\nexec\n(V");
    b.extend_from_slice(code.replace('\n', "\\u000a").as_bytes());
    b.extend_from_slice(b"\ntR.");
    b
}

#[tokio::test]
async fn a_looping_or_allocating_pickle_is_bounded_by_the_limits() {
    let mut sb = Sandbox::builder()
        .timeout(Duration::from_secs(2))
        .max_memory(256 << 20)
        .build()
        .await
        .unwrap();
    sb.execute("keep = 'alive'").await.unwrap();
    let t = Instant::now();
    let r = sb.restore(&hostile("while True: pass")).await;
    let took = t.elapsed();
    assert!(matches!(r, Err(Error::Timeout)), "{r:?}");
    assert!(took < Duration::from_secs(6), "{took:?}");
    assert_eq!(sb.execute("print(keep)").await.unwrap(), "alive\n");

    let r = sb
        .restore(&hostile("l = []\nwhile True: l.append(bytearray(1 << 20))"))
        .await;
    // The memory cap refuses the growth, so the load ends in the guest's
    // own MemoryError (reported as a failed restore) or in the cap itself.
    assert!(
        matches!(&r, Err(Error::MemoryLimit(_)))
            || matches!(&r, Err(Error::State(m)) if m.contains("MemoryError")),
        "{r:?}"
    );
    assert_eq!(sb.execute("print(keep)").await.unwrap(), "alive\n");
    // The same container with a harmless payload is read to its end (the
    // pickle ran; it just holds no variable table): the two above failed by
    // their limits alone.
    let r = sb.restore(&hostile("x = 1")).await;
    assert!(
        matches!(&r, Err(Error::State(m)) if m.contains("no variable table")),
        "{r:?}"
    );
    assert_eq!(sb.execute("print(keep)").await.unwrap(), "alive\n");
}
